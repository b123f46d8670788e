import { memo, useMemo } from 'react'
import type { FlashJobRow, PortRow } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { activeJobOf, describeUsb, formatFlashSize, freePortPaths, isPortBusy, jobStateLabels, percentOf, sortedPorts } from './bench-model'

/** Every serial port a board could be behind, live: tick the ones to flash. */
export function PortsPanel() {
  const ports = useConsole((state) => state.benchPorts)
  const jobs = useConsole((state) => state.benchJobs)
  const known = useConsole((state) => state.benchPortsKnown)
  const selected = useConsole((state) => state.benchSelected)
  const include = useConsole((state) => state.includePort)
  const selectFree = useConsole((state) => state.selectFreePorts)
  const clear = useConsole((state) => state.clearPortSelection)
  const rows = useMemo(() => sortedPorts(ports), [ports])
  const free = useMemo(() => freePortPaths(ports, jobs), [ports, jobs])
  const ticked = useMemo(() => new Set(selected), [selected])

  return (
    <section className="bench-panel bench-ports" aria-labelledby="bench-ports-title">
      <div className="bench-panel-head">
        <h3 id="bench-ports-title">Ports</h3>
        <span className="bench-count" aria-live="polite">
          {rows.length === 0 ? 'none' : `${selected.length} of ${rows.length} ticked · ${free.length} free`}
        </span>
        <div className="button-row bench-panel-actions">
          <button type="button" onClick={selectFree} disabled={free.length === 0} data-testid="bench-select-free">
            Select all free ports
          </button>
          <button type="button" onClick={clear} disabled={selected.length === 0}>
            Clear
          </button>
        </div>
      </div>
      {rows.length === 0 ? (
        <div className="bench-empty" role="status" data-testid="bench-no-ports">
          {known ? (
            <>
              <p>
                <strong>No serial ports.</strong> Plug in a board; if none appears, check the cable carries data and, on Linux, that you are in the dialout group.
              </p>
              <p className="hint">Boards appear here by themselves within a second or two of being plugged in.</p>
            </>
          ) : (
            <p>Waiting for the console host to list the serial ports…</p>
          )}
        </div>
      ) : (
        <div className="bench-table-wrap">
          <table className="bench-table bench-port-table">
            {/* Fixed widths: a job starting on a port must not push the other columns around. */}
            <colgroup>
              <col className="bench-check-col" />
              <col className="bench-port-col" />
              <col className="bench-adapter-col" />
              <col className="bench-board-col" />
              <col className="bench-job-col" />
            </colgroup>
            <thead>
              <tr>
                <th scope="col" className="bench-check-col">
                  <span className="visually-hidden">Include</span>
                </th>
                <th scope="col">Port</th>
                <th scope="col">Adapter</th>
                <th scope="col">Board</th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((port) => (
                <PortRowView key={port.path} port={port} job={activeJobOf(port, jobs)} busy={isPortBusy(port, jobs)} ticked={ticked.has(port.path)} onInclude={include} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

const PortRowView = memo(function PortRowView(props: { port: PortRow; job: FlashJobRow | null; busy: boolean; ticked: boolean; onInclude(path: string, included: boolean): void }) {
  const { port, job } = props
  const id = `bench-port-${port.path.replace(/[^A-Za-z0-9_-]/g, '_')}`
  return (
    <tr data-testid="bench-port" data-path={port.path} className={props.ticked ? 'ticked' : undefined}>
      <td className="bench-check-col">
        <input
          id={id}
          type="checkbox"
          checked={props.ticked}
          disabled={props.busy && !props.ticked}
          onChange={(event) => props.onInclude(port.path, event.target.checked)}
          title={props.busy ? 'A job is using this port' : undefined}
          data-testid="bench-port-select"
        />
      </td>
      <th scope="row">
        <label htmlFor={id} className="bench-path">
          {port.path}
        </label>
      </th>
      <td title={port.syncHint || undefined}>
        <div>{port.name}</div>
        <div className="hint">{describeUsb(port.usb)}</div>
      </td>
      <td>
        {port.probed ? (
          <>
            <div>{port.probed.chip}</div>
            <div className="hint mono">
              {port.probed.mac} · {formatFlashSize(port.probed.flashSize)}
            </div>
          </>
        ) : (
          <span className="muted">not probed yet</span>
        )}
      </td>
      <td>
        {job ? (
          <>
            <div>
              {job.serial}: {jobStateLabels[job.state].toLowerCase()} {job.total > 0 ? `${percentOf(job)} %` : ''}
            </div>
            <div className="hint bench-ellipsis" title={job.phase}>
              {job.phase}
            </div>
          </>
        ) : props.busy ? (
          <span className="muted">in use</span>
        ) : (
          <span className="muted">free</span>
        )}
      </td>
    </tr>
  )
})
