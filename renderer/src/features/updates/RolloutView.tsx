import { memo, useEffect, useMemo, useRef, useState } from 'react'
import type { RolloutDetail, RolloutDeviceRow, RolloutLogEntry, RolloutPhaseView, RolloutSummary } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatWhen } from '../bench/bench-model'
import { ConfirmDialog } from '../fleet/ConfirmDialog'
import { useNow } from '../fleet/use-now'
import { ExcludedTable } from './NewRolloutPanel'
import { RolloutStatusBadge } from './RolloutStatusBadge'
import type { UpdatesOutcome } from './updates-slice'
import {
  deviceStateLabels,
  formatDuration,
  gateReasonLabels,
  gateSummary,
  inFlightStates,
  isRolloutLive,
  phaseStateLabels,
  rolloutControls,
  shortSha,
  soakLeft,
  stoppingGate,
  tally,
  tallyShares,
  tallyText,
  versionChange,
} from './updates-model'

/** How often the devices and the log of a rollout that still moves are fetched again. */
const refreshMs = 1000

/** One rollout: its status and why, its phases and gates, every device, and its log. */
export function RolloutView(props: { id: string }) {
  const { id } = props
  const streamed = useConsole((state) => state.updatesRollouts[id])
  const view = useConsole((state) => (state.updatesDetail?.id === id ? state.updatesDetail : null))
  const refresh = useConsole((state) => state.refreshRollout)
  const selectRollout = useConsole((state) => state.selectRollout)
  // The stream brings summaries a few times a second; the detail brings devices and log once a second.
  const detailSummary = view?.detail?.summary
  const summary = streamed && (!detailSummary || streamed.updatedAt >= detailSummary.updatedAt) ? streamed : detailSummary
  const live = summary ? isRolloutLive(summary.status) : true
  const status = summary?.status

  // Opened from elsewhere (a reload with a remembered id): make sure the detail is asked for.
  useEffect(() => {
    if (!view) selectRollout(id)
  }, [id, view, selectRollout])

  useEffect(() => {
    if (!live) return
    const timer = setInterval(() => void refresh(), refreshMs)
    return () => clearInterval(timer)
  }, [id, live, refresh])

  // Once more when the status changes, so a rollout that just ended shows its last devices and log.
  const seenStatus = useRef(status)
  useEffect(() => {
    if (seenStatus.current === status) return
    seenStatus.current = status
    if (status) void refresh()
  }, [status, refresh])

  if (!summary) {
    return (
      <section className="updates-panel updates-rollout" aria-labelledby="updates-rollout-title" data-testid="rollout-view" data-id={id}>
        <h3 id="updates-rollout-title">Rollout {id}</h3>
        {view?.error ? (
          <p className="error updates-message" role="alert">
            The rollout could not be read: {view.error}
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
    )
  }

  return (
    <section className="updates-panel updates-rollout" aria-labelledby="updates-rollout-title" data-testid="rollout-view" data-id={id} data-status={summary.status} data-paused-by={summary.pausedBy ?? ''}>
      <RolloutHead summary={summary} />
      {view?.error && (
        <p className="error updates-message" role="alert">
          The devices and log could not be refreshed: {view.error}
        </p>
      )}
      <GateStop summary={summary} />
      <PhasesView summary={summary} />
      {view?.detail ? <DevicesAndLog detail={view.detail} summary={summary} /> : <p className="muted">Loading the devices…</p>}
    </section>
  )
}

function RolloutHead(props: { summary: RolloutSummary }) {
  const { summary } = props
  const counts = tally(summary.counts, summary.devices)
  return (
    <header className="updates-rollout-head">
      <div className="updates-rollout-title-line">
        <h3 id="updates-rollout-title">
          {summary.version} <span className="muted">· rollout {summary.id}</span>
        </h3>
        <RolloutStatusBadge summary={summary} testId="rollout-status" />
      </div>
      <p className="updates-rollout-detail" data-testid="rollout-detail">
        {summary.detail}
      </p>
      <p className="hint">
        {summary.fileName} · {shortSha(summary.artifact)} · started by {summary.operator} on {formatWhen(summary.createdAt)} · last change {formatWhen(summary.updatedAt)}
        {summary.status === 'running' ? ` · starting up to ${Math.round(summary.startRate * 10) / 10} devices a minute` : ''}
      </p>
      <p className="updates-rollout-counts" data-testid="rollout-counts">
        {summary.devices} {summary.devices === 1 ? 'device' : 'devices'}: {tallyText(counts)}
      </p>
      <RolloutControlsView summary={summary} />
    </header>
  )
}

function RolloutControlsView(props: { summary: RolloutSummary }) {
  const { summary } = props
  const pause = useConsole((state) => state.pauseRollout)
  const resume = useConsole((state) => state.resumeRollout)
  const abort = useConsole((state) => state.abortRollout)
  const connected = useConsole((state) => state.connection === 'open')
  const [outcome, setOutcome] = useState<UpdatesOutcome | null>(null)
  const [asking, setAsking] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const controls = rolloutControls(summary)

  const run = async (action: () => Promise<UpdatesOutcome>) => {
    setAsking(true)
    setOutcome(null)
    try {
      setOutcome(await action())
    } finally {
      setAsking(false)
    }
  }

  const gateResume = controls.resume && summary.pausedBy === 'health-gate'
  return (
    <div className="updates-controls">
      <div className="button-row">
        <button type="button" onClick={() => void run(() => pause(summary.id))} disabled={!controls.pause || asking || !connected} title="Nothing new starts and nothing more is installed; downloads under way stop at downloaded" data-testid="rollout-pause">
          Pause
        </button>
        <button
          type="button"
          className={gateResume ? 'updates-override' : undefined}
          onClick={() => void run(() => resume(summary.id))}
          disabled={!controls.resume || asking || !connected}
          title={gateResume ? 'Override the failed health gate: the phase is recorded as passed by override and the rollout moves on' : 'Carry on where it was paused'}
          data-testid="rollout-resume"
        >
          {controls.resumeLabel}
        </button>
        <button type="button" className="updates-danger" onClick={() => setConfirming(true)} disabled={!controls.abort || asking || !connected} title="Nothing new starts, downloads are cancelled, and no device installs the image afterwards" data-testid="rollout-abort">
          Abort…
        </button>
      </div>
      {outcome && (
        <p className={`updates-message ${outcome.ok ? 'updates-ok' : 'error'}`} role={outcome.ok ? 'status' : 'alert'} data-testid="rollout-outcome">
          {outcome.text}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Abort rollout ${summary.id}?`}
          sentence={`Abort the rollout of ${summary.version} to ${summary.devices} devices: nothing new starts, downloads under way are cancelled, devices already installing are followed to their end, and no device installs this image from this rollout again. It cannot be resumed.`}
          confirmLabel="Abort rollout"
          onCancel={() => setConfirming(false)}
          onConfirm={async () => {
            const result = await abort(summary.id)
            setOutcome(result)
            setConfirming(false)
          }}
        />
      )}
    </div>
  )
}

/** Why a health gate stopped the rollout, in the gate's own words, and what the operator may do now. */
function GateStop(props: { summary: RolloutSummary }) {
  const { summary } = props
  const stop = stoppingGate(summary)
  if (!stop || stop.phase.overridden) return null
  const halted = summary.status === 'paused' && summary.pausedBy === 'health-gate'
  return (
    <div className={`updates-gate-stop${halted ? ' halted' : ''}`} role={halted ? 'alert' : undefined} data-testid="rollout-gate-stop" data-phase={stop.phase.name}>
      <h4>
        {halted ? 'Paused: ' : ''}the {stop.phase.name} phase&apos;s health gate failed{stop.gate.early ? ' early' : ''} at {formatWhen(stop.gate.at)}
      </h4>
      <ul className="updates-findings">
        {stop.gate.findings.map((finding, index) => (
          <li key={index} data-testid="gate-finding" data-reason={finding.reason}>
            <strong>{gateReasonLabels[finding.reason]}:</strong> {finding.detail}
            {finding.deviceIds.length > 0 && <span className="mono updates-finding-devices"> ({finding.deviceIds.join(', ')})</span>}
          </li>
        ))}
      </ul>
      <p className="hint">
        Measured: {stop.gate.executed} ran to the end, {stop.gate.succeeded} succeeded, {stop.gate.failed} failed, {stop.gate.rolledBack} rolled back.
        {halted
          ? ' Devices that rolled back run their previous image again. Abort ends the rollout here; Resume over failed gate overrides the gate (recorded in the audit log) and carries on with the next phase.'
          : ''}
      </p>
    </div>
  )
}

function PhasesView(props: { summary: RolloutSummary }) {
  const { summary } = props
  const now = useNow(1000)
  return (
    <section className="updates-phase-list" aria-labelledby="updates-phases-title">
      <h4 id="updates-phases-title">Phases</h4>
      <ol>
        {summary.phases.map((phase) => (
          <PhaseView key={phase.index} phase={phase} current={phase.index === summary.currentPhase} now={now} />
        ))}
      </ol>
    </section>
  )
}

function PhaseView(props: { phase: RolloutPhaseView; current: boolean; now: number }) {
  const { phase } = props
  const counts = tally(phase.counts, phase.devices)
  const gate = gateSummary(phase)
  const left = soakLeft(phase, props.now)
  const text = tallyText(counts)
  return (
    <li className={`updates-phase phase-${phase.state}${props.current ? ' current' : ''}`} data-testid="rollout-phase-view" data-name={phase.name} data-state={phase.state} aria-current={props.current ? 'step' : undefined}>
      <div className="updates-phase-head">
        <strong>{phase.name}</strong>
        <span className={`updates-phase-state phase-state-${phase.state}`}>{phaseStateLabels[phase.state]}</span>
        <span className="muted">
          {phase.devices} {phase.devices === 1 ? 'device' : 'devices'} · soak {formatDuration(phase.soakSeconds)}
          {left !== null ? ` · ${formatDuration(left)} of soak left` : ''}
        </span>
      </div>
      <div className="updates-bar" role="img" aria-label={`${phase.name}: ${text}`} data-testid="phase-progress">
        {tallyShares(counts).map((share) => (
          <span key={share.kind} className={`updates-bar-part updates-bar-${share.kind}`} style={{ width: `${share.percent}%` }} />
        ))}
      </div>
      <p className="updates-phase-counts" data-testid="phase-counts">
        {text}
      </p>
      <p className={`updates-gate gate-${gate.state}`} data-testid="phase-gate" data-state={gate.state}>
        <span className="updates-gate-label">Health gate:</span> {gate.text}
      </p>
    </li>
  )
}

type DeviceFilter = 'all' | 'in-flight' | 'failed' | 'succeeded' | 'queued'
const deviceFilters: Record<DeviceFilter, { label: string; keep(row: RolloutDeviceRow): boolean }> = {
  all: { label: 'All', keep: () => true },
  'in-flight': { label: 'In flight', keep: (row) => inFlightStates.has(row.state) },
  failed: { label: 'Failed or rolled back', keep: (row) => row.state === 'failed' || row.state === 'rolled-back' },
  succeeded: { label: 'Succeeded', keep: (row) => row.state === 'succeeded' },
  queued: { label: 'Queued', keep: (row) => row.state === 'queued' },
}
/** Rows drawn at once: a rollout of thousands is read through the filter, not scrolled through. */
const deviceRowLimit = 300

function DevicesAndLog(props: { detail: RolloutDetail; summary: RolloutSummary }) {
  const { detail, summary } = props
  const [filter, setFilter] = useState<DeviceFilter>('all')
  const rows = useMemo(() => detail.devices.filter(deviceFilters[filter].keep), [detail.devices, filter])
  const phaseNames = summary.phases.map((phase) => phase.name)
  return (
    <>
      <section className="updates-devices" aria-labelledby="updates-devices-title">
        <div className="updates-panel-head">
          <h4 id="updates-devices-title">Devices</h4>
          <label className="updates-inline">
            Show
            <select value={filter} onChange={(event) => setFilter(event.target.value as DeviceFilter)} data-testid="rollout-device-filter">
              {(Object.keys(deviceFilters) as DeviceFilter[]).map((key) => (
                <option key={key} value={key}>
                  {deviceFilters[key].label}
                </option>
              ))}
            </select>
          </label>
          <span className="muted">
            {rows.length > deviceRowLimit ? `first ${deviceRowLimit} of ${rows.length}` : `${rows.length} of ${detail.devices.length}`}
          </span>
        </div>
        <div className="updates-table-wrap">
          <table className="updates-table updates-device-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Phase</th>
                <th scope="col">State</th>
                <th scope="col" className="numeric">
                  Progress
                </th>
                <th scope="col" className="numeric">
                  Attempt
                </th>
                <th scope="col">From → now</th>
                <th scope="col">Online</th>
              </tr>
            </thead>
            {rows.slice(0, deviceRowLimit).map((row) => (
              <DeviceRowView key={row.id} row={row} phase={phaseNames[row.phase] ?? String(row.phase + 1)} />
            ))}
          </table>
        </div>
      </section>
      {detail.excluded.length > 0 && (
        <section className="updates-excluded" aria-labelledby="updates-excluded-title">
          <h4 id="updates-excluded-title">Left out ({detail.excluded.length})</h4>
          <ExcludedTable excluded={detail.excluded} />
        </section>
      )}
      <RolloutLog log={detail.log} />
    </>
  )
}

/** Its detail repeats the reason's code at its start ("boot-failed: …"); say it once. */
function reasonText(row: Pick<RolloutDeviceRow, 'reason' | 'detail'>): string {
  if (row.reason && row.detail) return row.detail.startsWith(row.reason) ? row.detail : `${row.reason}: ${row.detail}`
  return row.detail ?? row.reason ?? ''
}

/**
 * One device: its own <tbody>, so the reason (often a sentence) gets a full-width line under the
 * device's facts instead of squeezing them off the screen, and both stay one group.
 */
const DeviceRowView = memo(function DeviceRowView(props: { row: RolloutDeviceRow; phase: string }) {
  const { row } = props
  const reason = reasonText(row)
  return (
    <tbody className={`updates-device device-${row.state}${reason ? ' with-reason' : ''}`} data-testid="rollout-device-row" data-id={row.id} data-state={row.state} data-phase={props.phase}>
      <tr>
        <th scope="row" className="mono">
          {row.id}
        </th>
        <td>{props.phase}</td>
        <td>
          <span className={`updates-device-state state-${row.state}`}>{deviceStateLabels[row.state]}</span>
        </td>
        <td className="numeric">
          {row.progress === null ? (
            '—'
          ) : (
            <span className="updates-device-progress">
              <progress value={row.progress} max={100} aria-label={`${row.id} download`} /> {Math.round(row.progress)}%
            </span>
          )}
        </td>
        <td className="numeric">{row.attempt}</td>
        <td className="mono updates-versions">{versionChange(row)}</td>
        <td>{row.online ? 'online' : <span className="attention">offline</span>}</td>
      </tr>
      {reason && (
        <tr className="updates-reason-row">
          <td colSpan={7} className="updates-reason" data-testid="device-reason">
            <span className="visually-hidden">Reason for {row.id}: </span>
            {reason}
          </td>
        </tr>
      )}
    </tbody>
  )
})

function RolloutLog(props: { log: readonly RolloutLogEntry[] }) {
  return (
    <section className="updates-log" aria-labelledby="updates-log-title">
      <h4 id="updates-log-title">Log</h4>
      {props.log.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="updates-log-list" aria-label="Rollout log, newest first" tabIndex={0}>
          {props.log.map((entry, index) => (
            <li key={`${entry.at}-${index}`} className={`updates-log-entry log-${entry.kind}`} data-testid="rollout-log-entry" data-kind={entry.kind}>
              <time dateTime={new Date(entry.at).toISOString()}>{new Date(entry.at).toLocaleTimeString()}</time>
              <span className="updates-log-kind">{entry.kind}</span>
              <span>
                {entry.deviceId && <span className="mono">{entry.deviceId} </span>}
                {entry.detail}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
