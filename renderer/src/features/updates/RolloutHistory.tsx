import { memo, useMemo, useRef, type KeyboardEvent } from 'react'
import type { RolloutSummary } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatWhen } from '../bench/bench-model'
import { RolloutStatusBadge } from './RolloutStatusBadge'
import { sortedRollouts, tally, tallyText } from './updates-model'

/** Every rollout the core keeps, newest first, live from its stream; picking one shows it. */
export function RolloutHistory() {
  const rows = useConsole((state) => state.updatesRollouts)
  const known = useConsole((state) => state.updatesRolloutsKnown)
  const error = useConsole((state) => state.updatesRolloutsError)
  const selected = useConsole((state) => state.updatesSelected)
  const selectRollout = useConsole((state) => state.selectRollout)
  const newRollout = useConsole((state) => state.newRollout)
  const rollouts = useMemo(() => sortedRollouts(rows), [rows])
  const list = useRef<HTMLOListElement>(null)

  // Up and down move between rollouts, as in a list box; Enter or Space opens the one focused.
  const onKeyDown = (event: KeyboardEvent<HTMLOListElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return
    const buttons = [...(list.current?.querySelectorAll<HTMLButtonElement>('button.updates-history-item') ?? [])]
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement)
    const next = buttons[Math.min(buttons.length - 1, Math.max(0, at + (event.key === 'ArrowDown' ? 1 : -1)))]
    if (next) {
      event.preventDefault()
      next.focus()
    }
  }

  return (
    <section className="updates-panel updates-history" aria-labelledby="updates-history-title">
      <div className="updates-panel-head">
        <h3 id="updates-history-title">Rollouts</h3>
        <button type="button" className={selected === null ? 'primary' : undefined} aria-pressed={selected === null} onClick={() => newRollout()} data-testid="rollout-new">
          New rollout
        </button>
      </div>
      {error && (
        <p className="error updates-message" role="alert">
          The rollouts could not be listed: {error}
        </p>
      )}
      {rollouts.length === 0 ? (
        known && <p className="muted">None yet. A rollout starts from New rollout: pick an image and the devices, preview the plan, then start it.</p>
      ) : (
        <ol ref={list} className="updates-history-list" aria-label="Rollouts, newest first" onKeyDown={onKeyDown}>
          {rollouts.map((rollout) => (
            <HistoryItem key={rollout.id} rollout={rollout} selected={rollout.id === selected} onSelect={selectRollout} />
          ))}
        </ol>
      )}
    </section>
  )
}

const HistoryItem = memo(function HistoryItem(props: { rollout: RolloutSummary; selected: boolean; onSelect(id: string): void }) {
  const { rollout } = props
  const counts = tally(rollout.counts, rollout.devices)
  return (
    <li>
      <button
        type="button"
        className={`updates-history-item${props.selected ? ' selected' : ''}`}
        aria-current={props.selected ? 'true' : undefined}
        onClick={() => props.onSelect(rollout.id)}
        data-testid="rollout-row"
        data-id={rollout.id}
        data-status={rollout.status}
        data-version={rollout.version}
      >
        <span className="updates-history-line">
          <strong>{rollout.version}</strong>
          <RolloutStatusBadge summary={rollout} />
        </span>
        <span className="updates-history-counts">
          {counts.succeeded}/{rollout.devices} succeeded{counts.failed + counts.rolledBack > 0 ? ` · ${counts.failed + counts.rolledBack} failed or rolled back` : ''}
        </span>
        <span className="hint updates-history-when" title={tallyText(counts)}>
          {rollout.id} · {formatWhen(rollout.createdAt)} · {rollout.operator}
        </span>
      </button>
    </li>
  )
})
