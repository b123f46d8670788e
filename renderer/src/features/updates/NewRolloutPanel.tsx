import { useId, useMemo, useState } from 'react'
import type { FleetRow } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatBytes } from '../bench/bench-model'
import { StateBadge } from '../fleet/StateBadge'
import { draftToRequest, matchingNodes, phaseLabel, requestKey, targetChoices, unknownPicks, type PhaseDraft, type SoakUnit, type TargetDraft } from './rollout-draft'
import { artifactLabel, formatDuration, shortSha } from './updates-model'

/** Image, devices and phases; Preview asks the console for the exact plan, and Start runs that plan. */
export function NewRolloutPanel() {
  return (
    <section className="updates-panel updates-new" aria-labelledby="updates-new-title">
      <h3 id="updates-new-title">New rollout</h3>
      <ImagePicker />
      <TargetsPicker />
      <PhasesEditor />
      <PlanActions />
      <PlanPreview />
    </section>
  )
}

function ImagePicker() {
  const artifacts = useConsole((state) => state.updatesArtifacts)
  const chosen = useConsole((state) => state.updatesDraft.artifact)
  const choose = useConsole((state) => state.chooseArtifact)
  const id = useId()
  if (artifacts.length === 0) {
    return (
      <fieldset className="updates-fieldset">
        <legend>Image</legend>
        <p className="muted">Import an image under Images first: a rollout carries one checked, signed image.</p>
      </fieldset>
    )
  }
  return (
    <fieldset className="updates-fieldset">
      <legend>Image</legend>
      <label className="updates-field" htmlFor={id}>
        Image to roll out
      </label>
      <select id={id} value={chosen ?? ''} onChange={(event) => choose(event.target.value || null)} data-testid="rollout-artifact">
        <option value="">Choose an image…</option>
        {artifacts.map((artifact) => (
          <option key={artifact.sha256} value={artifact.sha256}>
            {artifactLabel(artifact)} · {shortSha(artifact.sha256)}
          </option>
        ))}
      </select>
    </fieldset>
  )
}

function TargetsPicker() {
  const fleetRows = useConsole((state) => state.fleetRows)
  const targets = useConsole((state) => state.updatesDraft.targets)
  const setTargets = useConsole((state) => state.setTargets)
  const toggleGroup = useConsole((state) => state.toggleTargetGroup)
  const toggleVersion = useConsole((state) => state.toggleTargetVersion)
  const choices = useMemo(() => targetChoices(fleetRows), [fleetRows])
  const matched = useMemo(() => matchingNodes(choices.nodes, targets), [choices, targets])
  const name = useId()

  return (
    <fieldset className="updates-fieldset updates-targets" data-testid="rollout-targets">
      <legend>Devices</legend>
      <p className="hint">An update is of an edge node&apos;s own application: rollouts pick edge nodes, and their Sparkplug devices go with them.</p>
      <div className="updates-radio-row" role="radiogroup" aria-label="Pick devices">
        <label className="updates-inline">
          <input type="radio" name={name} checked={targets.mode === 'filter'} onChange={() => setTargets({ mode: 'filter' })} data-testid="rollout-targets-filter" /> By group and version
        </label>
        <label className="updates-inline">
          <input type="radio" name={name} checked={targets.mode === 'hand'} onChange={() => setTargets({ mode: 'hand' })} data-testid="rollout-targets-hand" /> By hand
        </label>
        <label className="updates-inline">
          <input type="checkbox" checked={targets.onlineOnly} onChange={(event) => setTargets({ onlineOnly: event.target.checked })} data-testid="rollout-online-only" /> Online only
        </label>
      </div>
      {choices.nodes.length === 0 ? (
        <p className="muted">No edge nodes in the fleet yet. They appear on the Fleet screen when they are born; Settings → Demo fleet starts virtual ones to try a rollout on.</p>
      ) : targets.mode === 'filter' ? (
        <div className="updates-filter-columns">
          <CheckList title="Groups" hint="none ticked: every group" items={choices.groups} ticked={targets.groups} onToggle={toggleGroup} testId="rollout-group" />
          <CheckList title="Running version" hint="none ticked: any version" items={choices.versions} ticked={targets.versions} onToggle={toggleVersion} testId="rollout-version" />
        </div>
      ) : (
        <HandPicker nodes={choices.nodes} targets={targets} />
      )}
      <p className="updates-match" aria-live="polite" data-testid="rollout-match">
        {matched.length} of {choices.nodes.length} edge {choices.nodes.length === 1 ? 'node' : 'nodes'} picked as the fleet stands now. The preview says which of them the image can go to, and why any are left out.
      </p>
    </fieldset>
  )
}

function CheckList(props: { title: string; hint: string; items: { name: string; nodes: number }[]; ticked: readonly string[]; onToggle(name: string, on: boolean): void; testId: string }) {
  return (
    <fieldset className="updates-checklist">
      <legend>
        {props.title} <span className="hint">({props.hint})</span>
      </legend>
      {props.items.length === 0 ? (
        <p className="muted">None reported.</p>
      ) : (
        props.items.map((item) => (
          <label key={item.name} className="updates-inline">
            <input type="checkbox" checked={props.ticked.includes(item.name)} onChange={(event) => props.onToggle(item.name, event.target.checked)} data-testid={props.testId} data-value={item.name} /> {item.name}{' '}
            <span className="muted">
              ({item.nodes} {item.nodes === 1 ? 'node' : 'nodes'})
            </span>
          </label>
        ))
      )}
    </fieldset>
  )
}

function HandPicker(props: { nodes: readonly FleetRow[]; targets: TargetDraft }) {
  const toggle = useConsole((state) => state.toggleTargetDevice)
  const setTargets = useConsole((state) => state.setTargets)
  const [text, setText] = useState('')
  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase()
    return needle ? props.nodes.filter((node) => node.key.toLowerCase().includes(needle) || node.firmware.toLowerCase().includes(needle)) : props.nodes
  }, [props.nodes, text])
  const missing = unknownPicks(props.nodes, props.targets.deviceIds)
  return (
    <div className="updates-hand">
      <div className="updates-hand-tools">
        <input type="search" value={text} onChange={(event) => setText(event.target.value)} placeholder="Filter by name or version" aria-label="Filter edge nodes" />
        <button type="button" onClick={() => setTargets({ deviceIds: [...new Set([...props.targets.deviceIds, ...shown.map((n) => n.key)])].sort() })}>
          Tick all shown
        </button>
        <button type="button" onClick={() => setTargets({ deviceIds: [] })} disabled={props.targets.deviceIds.length === 0}>
          Clear
        </button>
        <span className="muted">{props.targets.deviceIds.length} ticked</span>
      </div>
      <ul className="updates-hand-list" aria-label="Edge nodes">
        {shown.map((node) => (
          <li key={node.key}>
            <label className="updates-inline">
              <input type="checkbox" checked={props.targets.deviceIds.includes(node.key)} onChange={(event) => toggle(node.key, event.target.checked)} data-testid="rollout-device" data-key={node.key} />{' '}
              <span className="mono">{node.key}</span> <span className="muted">{node.firmware || 'version unknown'}</span> <StateBadge state={node.state} />
            </label>
          </li>
        ))}
      </ul>
      {missing.length > 0 && <p className="attention">Ticked but not in the fleet on screen: {missing.join(', ')}. The console refuses ids it does not know.</p>}
    </div>
  )
}

function PhasesEditor() {
  const phases = useConsole((state) => state.updatesDraft.phases)
  const add = useConsole((state) => state.addRolloutPhase)
  const reset = useConsole((state) => state.resetRolloutPhases)
  const [advanced, setAdvanced] = useState(false)
  const tableId = useId()
  return (
    <fieldset className="updates-fieldset updates-phases">
      <legend>Phases</legend>
      <p className="hint">
        Each phase starts its devices, waits for them to finish, soaks, then its health gate decides: too many failed or rolled back, too few ran, devices went silent, or reboots and crashes rose against their own last day, and the rollout pauses.
      </p>
      <div className="updates-table-wrap">
        <table id={tableId} className="updates-table updates-phase-table">
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col" title="A canary counts devices; a percentage is the share of the devices after the canary reached by the end of the phase">
                Size
              </th>
              <th scope="col">Soak</th>
              <th scope="col" title="The gate fails when more than this share of the devices that ran failed or rolled back">
                Gate: most failed
              </th>
              <th scope="col" title="Devices that must have run the update to its end before the gate can pass (at most the phase's size)">
                Gate: fewest ran
              </th>
              <th scope="col">
                <span className="visually-hidden">Remove</span>
              </th>
            </tr>
          </thead>
          {phases.map((phase, index) => (
            <PhaseRow key={phase.key} phase={phase} index={index} advanced={advanced} removable={phases.length > 1} />
          ))}
        </table>
      </div>
      <p className="hint updates-phase-note">
        A canary counts devices; each percentage is the share of the devices after the canary that has the update by the end of that phase, so the last one is 100%. The gate&apos;s fewest ran is at most the phase&apos;s size.
      </p>
      <div className="button-row updates-phase-actions">
        <button type="button" onClick={add} data-testid="rollout-add-phase">
          Add phase
        </button>
        <button type="button" onClick={reset} data-testid="rollout-default-phases">
          Defaults: canary 3 → 5% → 25% → 100%
        </button>
        <button type="button" aria-expanded={advanced} aria-controls={tableId} onClick={() => setAdvanced(!advanced)} data-testid="rollout-advanced">
          {advanced ? 'Hide start rates' : 'Start rates (advanced)…'}
        </button>
      </div>
    </fieldset>
  )
}

/** One phase: its own <tbody>, so its start rate (advanced) sits on a line of its own under it. */
function PhaseRow(props: { phase: PhaseDraft; index: number; advanced: boolean; removable: boolean }) {
  const { phase, index } = props
  const edit = useConsole((state) => state.editRolloutPhase)
  const remove = useConsole((state) => state.removeRolloutPhase)
  const label = phaseLabel(phase, index)
  const field = (key: keyof Omit<PhaseDraft, 'key' | 'kind' | 'soakUnit'>, aria: string, unit?: string) => (
    <span className="updates-number">
      <input inputMode="decimal" value={phase[key]} onChange={(event) => edit(phase.key, { [key]: event.target.value })} aria-label={`${label}: ${aria}`} data-testid={`phase-${key}`} />
      {unit && <span className="muted">{unit}</span>}
    </span>
  )
  return (
    <tbody className="updates-phase-row" data-testid="rollout-phase" data-index={index} data-kind={phase.kind}>
      <tr>
        <th scope="row">
          {index === 0 ? (
            <select value={phase.kind} onChange={(event) => edit(phase.key, { kind: event.target.value as PhaseDraft['kind'] })} aria-label="Kind of the first phase" data-testid="phase-kind">
              <option value="canary">Canary</option>
              <option value="percentage">Percent</option>
            </select>
          ) : (
            <span>Phase {index + 1}</span>
          )}
        </th>
        <td>{phase.kind === 'canary' ? field('size', 'devices in the canary', 'devices') : field('size', 'percent of the devices after the canary, reached by the end of this phase', '%')}</td>
        <td>
          <span className="updates-number">
            <input inputMode="decimal" value={phase.soak} onChange={(event) => edit(phase.key, { soak: event.target.value })} aria-label={`${label}: soak time`} data-testid="phase-soak" />
            <select value={phase.soakUnit} onChange={(event) => edit(phase.key, { soakUnit: event.target.value as SoakUnit })} aria-label={`${label}: soak unit`} data-testid="phase-soak-unit">
              <option value="s">s</option>
              <option value="min">min</option>
              <option value="h">h</option>
            </select>
          </span>
        </td>
        <td>{field('maxFailurePercent', 'health gate, most failed or rolled back, percent of those that ran', '%')}</td>
        <td>{field('minExecuted', 'health gate, fewest devices that ran to the end')}</td>
        <td>
          <button type="button" onClick={() => remove(phase.key)} disabled={!props.removable} aria-label={`Remove ${label}`} title={`Remove ${label}`} data-testid="phase-remove">
            Remove
          </button>
        </td>
      </tr>
      {props.advanced && (
        <tr className="updates-rate-row">
          <td colSpan={6}>
            <span className="updates-rate-fields">
              <span className="muted">Start rate:</span>
              <label className="updates-inline" title="Devices started per minute at first; it doubles with every 10 that succeed">
                {field('perMinute', 'starts per minute at first')} a minute at first,
              </label>
              <label className="updates-inline" title="The start rate never grows past this">
                up to {field('maxPerMinute', 'most starts per minute')} a minute,
              </label>
              <label className="updates-inline" title="Each start waits a further random 0 to this many seconds, so devices do not hit the file server in lockstep">
                each after a random wait of up to {field('jitterSeconds', 'start jitter in seconds', 's')}
              </label>
            </span>
          </td>
        </tr>
      )}
    </tbody>
  )
}

function PlanActions() {
  const draft = useConsole((state) => state.updatesDraft)
  const shown = useConsole((state) => state.updatesPreview)
  const problems = useConsole((state) => state.updatesDraftProblems)
  const planError = useConsole((state) => state.updatesPlanError)
  const previewing = useConsole((state) => state.updatesPreviewing)
  const starting = useConsole((state) => state.updatesStarting)
  const connected = useConsole((state) => state.connection === 'open')
  const preview = useConsole((state) => state.previewRollout)
  const start = useConsole((state) => state.startRollout)
  const current = useMemo(() => {
    const checked = draftToRequest(draft)
    return checked.ok ? requestKey(checked.request) : null
  }, [draft])
  const fresh = shown !== null && shown.key === current
  const startBlocker = !connected ? 'Not connected to the console.' : shown === null ? 'Preview the plan first: Start runs exactly the plan shown.' : !fresh ? 'The form changed since the preview: preview again.' : null

  return (
    <div className="updates-plan-actions">
      <div className="button-row">
        <button type="button" onClick={() => void preview()} disabled={previewing || !connected} data-testid="rollout-preview">
          {previewing ? 'Planning…' : 'Preview'}
        </button>
        <button type="button" className="primary" onClick={() => void start()} disabled={startBlocker !== null || starting} title={startBlocker ?? undefined} data-testid="rollout-start">
          {starting ? 'Starting…' : fresh ? `Start rollout to ${shown.preview.targets} ${shown.preview.targets === 1 ? 'device' : 'devices'}` : 'Start rollout'}
        </button>
      </div>
      {startBlocker && shown !== null && !fresh && <p className="attention">{startBlocker}</p>}
      {problems.length > 0 && (
        <div className="error updates-message" role="alert" data-testid="rollout-draft-problems">
          <p>Fix these first:</p>
          <ul>
            {problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      )}
      {planError && (
        <p className="error updates-message" role="alert" data-testid="rollout-plan-error">
          {planError}
        </p>
      )}
    </div>
  )
}

function PlanPreview() {
  const shown = useConsole((state) => state.updatesPreview)
  const draft = useConsole((state) => state.updatesDraft)
  const artifacts = useConsole((state) => state.updatesArtifacts)
  const current = useMemo(() => {
    const checked = draftToRequest(draft)
    return checked.ok ? requestKey(checked.request) : null
  }, [draft])
  if (!shown) return null
  const { preview } = shown
  const artifact = artifacts.find((a) => a.sha256 === preview.image.sha256)
  const stale = shown.key !== current
  return (
    <section className={`updates-preview${stale ? ' stale' : ''}`} aria-labelledby="updates-preview-title" data-testid="rollout-preview-plan" data-stale={stale}>
      <h4 id="updates-preview-title">Plan{stale ? ' (of the form as it was: preview again)' : ''}</h4>
      <p>
        <strong>{preview.targets}</strong> {preview.targets === 1 ? 'device gets' : 'devices get'} <strong>{preview.image.version}</strong> ({artifact?.fileName ?? shortSha(preview.image.sha256)}, {preview.image.chip},{' '}
        {formatBytes(preview.image.size)}) in {preview.phases.length} {preview.phases.length === 1 ? 'phase' : 'phases'}, in this order. <span className="hint">Plan seed {preview.seed}.</span>
      </p>
      <ol className="updates-preview-phases">
        {preview.phases.map((phase) => (
          <li key={phase.name} data-testid="preview-phase" data-name={phase.name} data-devices={phase.deviceIds.length}>
            <div className="updates-preview-phase-head">
              <strong>{phase.name}</strong> · {phase.deviceIds.length} {phase.deviceIds.length === 1 ? 'device' : 'devices'} · soak {formatDuration(phase.soakSeconds)} · gate: at most {phase.gate.maxFailurePercent}% failed, at least {Math.min(phase.gate.minExecuted, phase.deviceIds.length)} ran, at most {phase.gate.maxSilentPercent}% silent
            </div>
            <div className="hint">
              {Object.entries(phase.byGroup)
                .map(([group, n]) => `${group}: ${n}`)
                .join(', ')}{' '}
              · from{' '}
              {Object.entries(phase.byFromVersion)
                .map(([version, n]) => `${version}: ${n}`)
                .join(', ')}
            </div>
            <ul className="updates-id-list" aria-label={`Devices of ${phase.name}`}>
              {phase.deviceIds.map((id) => (
                <li key={id} className="mono" data-testid="preview-device">
                  {id}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
      {preview.excluded.length === 0 ? (
        <p className="muted">No device the selection matched is left out.</p>
      ) : (
        <>
          <h5>Left out ({preview.excluded.length})</h5>
          <ExcludedTable excluded={preview.excluded} />
        </>
      )}
    </section>
  )
}

export function ExcludedTable(props: { excluded: readonly { deviceId: string; reason: string; detail: string }[] }) {
  return (
    <div className="updates-table-wrap">
      <table className="updates-table">
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Why</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {props.excluded.map((e) => (
            <tr key={e.deviceId} data-testid="excluded-device" data-reason={e.reason}>
              <th scope="row" className="mono">
                {e.deviceId}
              </th>
              <td>{e.reason.replace(/-/g, ' ')}</td>
              <td>{e.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
