import { useEffect, useMemo } from 'react'
import { useConsole } from '../../state/store'
import { plannedNodes, plannedSummary } from '../site/planned-nodes'

/**
 * What the site plan says to expect: a line with how many planned nodes are flashed and online, and the
 * ones not seen yet by name, so a missing node is noticed before anyone walks the site looking for it.
 */
export function PlannedStrip() {
  const outputs = useConsole((state) => state.outputs)
  const loadPlan = useConsole((state) => state.loadPlan)
  const fleetRows = useConsole((state) => state.fleetRows)
  const jobs = useConsole((state) => state.benchJobs)
  useEffect(() => {
    void loadPlan()
  }, [loadPlan])
  const nodes = useMemo(() => plannedNodes(outputs, fleetRows, jobs), [outputs, fleetRows, jobs])
  if (nodes.length === 0) return null
  const missing = nodes.filter((node) => node.status.kind !== 'in-fleet' || node.status.state !== 'online')
  return (
    <details className="fleet-planned" data-testid="fleet-planned">
      <summary>
        Site plan: {plannedSummary(nodes)}
        {missing.length === 0 && ' — every planned node is online.'}
      </summary>
      {missing.length > 0 && (
        <ul className="fleet-planned-list">
          {missing.map(({ row, status }) => (
            <li key={row.id} data-id={row.id}>
              <span className="mono">{row.id}</span> at {row.mountingPointId}: {status.kind === 'to-flash' ? 'not flashed yet' : status.kind === 'flashing' ? 'on the bench' : status.state}
            </li>
          ))}
        </ul>
      )}
    </details>
  )
}
