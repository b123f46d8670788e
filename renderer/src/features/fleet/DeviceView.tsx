import { useEffect, useRef, useState } from 'react'
import type { FleetRow, MetricView } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { ConfirmDialog } from './ConfirmDialog'
import { BirthCertificate, ProtocolErrors } from './DeviceFacts'
import { DemoFaults } from './DemoFaults'
import { commandSentence, commandVerb, formatAgo, formatRssi, formatTime } from './fleet-format'
import { nodeKeyOf } from './fleet-model'
import type { CommandOutcome } from './fleet-slice'
import { LifecycleTimeline } from './LifecycleTimeline'
import { MetricChart } from './MetricChart'
import { MetricsTable } from './MetricsTable'
import { StateBadge } from './StateBadge'
import { useInterval, useNow } from './use-now'

interface PendingCommand {
  title: string
  sentence: string
  confirmLabel: string
  send(): Promise<CommandOutcome>
  settle(sent: boolean): void
}

/** One edge node or device: live state, metrics, chart, story, and the commands it accepts. */
export function DeviceView(props: { onBack(): void }) {
  const key = useConsole((state) => state.fleetDevice?.key ?? '')
  const detail = useConsole((state) => state.fleetDevice?.detail ?? null)
  const error = useConsole((state) => state.fleetDevice?.error ?? null)
  const liveRow = useConsole((state) => state.fleetRows[key])
  const refresh = useConsole((state) => state.refreshFleetDevice)
  const requestRebirth = useConsole((state) => state.requestRebirth)
  const writeMetric = useConsole((state) => state.writeMetric)
  const charted = useConsole((state) => state.fleetSeries?.metric ?? null)
  const showSeries = useConsole((state) => state.showFleetSeries)
  const range = useConsole((state) => state.fleetSeries?.range ?? '1h')
  const demoOn = useConsole((state) => state.settings?.demoFleet === true)
  const now = useNow(1000)
  const [pending, setPending] = useState<PendingCommand | null>(null)
  const [outcome, setOutcome] = useState<CommandOutcome | null>(null)
  const outcomeLine = useRef<HTMLParagraphElement>(null)
  const chartPanel = useRef<HTMLElement>(null)
  const row = liveRow ?? detail?.row ?? null

  useInterval(() => void refresh(), 2000)

  // A change that matters (state, firmware, a reboot, an error) is fetched at once, not in 2 s.
  // lastSeen and RSSI move with every message and are left to the timer.
  const signature = row ? `${row.state}|${row.firmware}|${row.reboots24h}|${row.protocolErrors}` : ''
  const seenSignature = useRef(false)
  useEffect(() => {
    if (seenSignature.current) void refresh()
    seenSignature.current = true
  }, [signature, refresh])

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // An open dialog (this view's or the shell's) owns Escape; an editor that used it says so.
      if (event.key !== 'Escape' || event.defaultPrevented || document.querySelector('dialog[open]')) return
      event.preventDefault()
      props.onBack()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [props])

  const ask = (command: Omit<PendingCommand, 'settle'>) => new Promise<boolean>((settle) => setPending({ ...command, settle }))

  const confirm = async () => {
    if (!pending) return
    const result = await pending.send()
    setOutcome(result)
    setPending(null)
    pending.settle(result.ok)
  }

  // The outcome is what the operator needs next, and the button that asked may be gone (a closed
  // editor): focus goes to the outcome, after the dialog has handed focus back on closing.
  useEffect(() => {
    if (outcome) outcomeLine.current?.focus()
  }, [outcome])

  const cancel = () => {
    pending?.settle(false)
    setPending(null)
  }

  const rebirth = (target: FleetRow) => {
    const nodeKey = nodeKeyOf(target)
    void ask({
      title: 'Request a rebirth',
      sentence: commandSentence({ verb: 'NCMD', metric: 'Node Control/Rebirth', value: true, target: nodeKey }),
      confirmLabel: 'Send rebirth',
      send: () => requestRebirth(nodeKey),
    })
  }

  const write = (target: FleetRow) => (metric: MetricView, value: number | boolean | string) =>
    ask({
      title: `Write ${metric.name}`,
      sentence: commandSentence({ verb: commandVerb(target), metric: metric.name, value, target: target.key }),
      confirmLabel: 'Send',
      send: () => writeMetric(target.key, metric.name, value),
    })

  return (
    <section className="device-view" aria-labelledby="device-title" data-testid="device-view" data-key={key}>
      <header className="device-header">
        <button type="button" className="back" onClick={props.onBack} title="Back to the fleet (Escape)">
          ← Fleet
        </button>
        <h2 id="device-title">
          <span className="device-kind">{row?.kind === 'node' ? 'Edge node' : 'Device'}</span> {key}
        </h2>
        {row && <StateBadge state={row.state} testId="device-state" />}
        {row && (
          <button type="button" className="rebirth" onClick={() => rebirth(row)} data-testid="rebirth-button" title="Ask the edge node to publish its births again">
            {row.kind === 'node' ? 'Rebirth' : `Rebirth node ${nodeKeyOf(row)}`}
          </button>
        )}
      </header>

      {error && (
        <p className="banner error" role="alert">
          {detail ? `Could not refresh: ${error}` : error}
        </p>
      )}
      {!liveRow && detail && <p className="banner warn">This device is no longer in the fleet list; what is shown is the last the console knew.</p>}
      <p ref={outcomeLine} tabIndex={-1} className={`command-outcome ${outcome ? (outcome.ok ? 'ok' : 'error') : ''}`} role="status" data-testid="command-outcome">
        {outcome?.text}
      </p>

      {row && <RowFacts row={row} now={now} />}
      {!detail && !error && <p>Loading {key}…</p>}

      {detail && (
        <div className="device-panels">
          <section className="panel wide" aria-labelledby="device-metrics">
            <h3 id="device-metrics">Metrics</h3>
            <MetricsTable metrics={detail.metrics} now={now} charted={charted} onChart={(name) => {
                void showSeries(name, range)
                chartPanel.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' })
              }} onWrite={write(row ?? detail.row)} />
          </section>
          <section ref={chartPanel} className="panel wide" aria-labelledby="device-chart">
            <h3 id="device-chart">Chart</h3>
            <MetricChart metrics={detail.metrics} />
          </section>
          <section className="panel" aria-labelledby="device-lifecycle">
            <h3 id="device-lifecycle">Lifecycle</h3>
            <LifecycleTimeline entries={detail.lifecycle} deviceKey={key} now={now} />
          </section>
          <div className="device-side">
            {demoOn && row && row.group === 'Demo' && <DemoFaults nodeKey={nodeKeyOf(row)} onOutcome={setOutcome} />}
            <section className="panel" aria-labelledby="device-birth">
              <h3 id="device-birth">Birth certificate</h3>
              <BirthCertificate birth={detail.birth} now={now} />
            </section>
            <section className="panel" aria-labelledby="device-errors">
              <h3 id="device-errors">Protocol errors</h3>
              <ProtocolErrors errors={detail.protocolErrors} now={now} />
            </section>
          </div>
        </div>
      )}

      {pending && <ConfirmDialog title={pending.title} sentence={pending.sentence} confirmLabel={pending.confirmLabel} onConfirm={confirm} onCancel={cancel} />}
    </section>
  )
}

function RowFacts(props: { row: FleetRow; now: number }) {
  const { row } = props
  return (
    <dl className="facts device-facts">
      <div>
        <dt>Firmware</dt>
        <dd>{row.firmware || '—'}</dd>
      </div>
      <div>
        <dt>RSSI</dt>
        <dd>{formatRssi(row.rssi)}</dd>
      </div>
      <div>
        <dt>Last seen</dt>
        <dd title={formatTime(row.lastSeen)}>{formatAgo(row.lastSeen, props.now)}</dd>
      </div>
      <div>
        <dt>Reboots 24 h</dt>
        <dd>{row.reboots24h}</dd>
      </div>
      <div>
        <dt>Protocol errors</dt>
        <dd>{row.protocolErrors}</dd>
      </div>
    </dl>
  )
}
