import type { RolloutSummary } from '../../../../shared/contract'
import { statusLabel } from './updates-model'

/** A rollout's status as a coloured mark and its words: colour is never the only sign. */
export function RolloutStatusBadge(props: { summary: Pick<RolloutSummary, 'status' | 'pausedBy'>; testId?: string }) {
  const { status, pausedBy } = props.summary
  const tone = status === 'paused' && pausedBy === 'health-gate' ? 'gate' : status
  return (
    <span className={`updates-status updates-status-${tone}`} data-status={status} data-paused-by={pausedBy ?? ''} data-testid={props.testId}>
      <span className="updates-status-mark" aria-hidden="true" />
      {statusLabel(props.summary)}
    </span>
  )
}
