import { useMemo } from 'react'
import { useConsole } from '../../state/store'
import { plannedNodes, plannedSummary, type PlannedNodeStatus } from '../site/planned-nodes'

/**
 * What the site plan says to flash: each planned node, where it is mounted, and how far it has got
 * (to flash, on the bench, in the fleet). Flash can name boards after these instead of a pattern.
 */
export function PlannedNodesPanel() {
  const outputs = useConsole((state) => state.outputs)
  const fleetRows = useConsole((state) => state.fleetRows)
  const jobs = useConsole((state) => state.benchJobs)
  const nodes = useMemo(() => plannedNodes(outputs, fleetRows, jobs), [outputs, fleetRows, jobs])
  if (nodes.length === 0) return null
  return (
    <section className="bench-panel bench-planned" aria-labelledby="bench-planned-title" data-testid="bench-planned">
      <h3 id="bench-planned-title">From the site plan</h3>
      <p className="hint">{plannedSummary(nodes)}</p>
      <table className="bench-planned-table">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Part</th>
            <th scope="col">Mounted at</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map(({ row, status }) => (
            <tr key={row.id} data-testid="bench-planned-row" data-id={row.id} data-status={status.kind}>
              <td className="mono">{row.id}</td>
              <td title={row.partName}>{row.partNumber}</td>
              <td>
                {row.mountingPointId}
                {row.zoneIds.length > 0 && <span className="hint"> in {row.zoneIds.join(', ')}</span>}
              </td>
              <td>{statusText(status)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function statusText(status: PlannedNodeStatus): string {
  switch (status.kind) {
    case 'to-flash':
      return 'To flash'
    case 'flashing':
      return `On the bench (job ${status.jobId})`
    case 'in-fleet':
      return status.state === 'expected' ? 'Flashed, expected online' : `In the fleet: ${status.state}`
  }
}
