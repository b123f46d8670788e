import { useEffect, useMemo } from 'react'
import { useConsole } from '../../state/store'
import { isJobActive } from './bench-model'
import { FirmwarePanel } from './FirmwarePanel'
import { FlashPanel } from './FlashPanel'
import { JobLog } from './JobLog'
import { JobsPanel } from './JobsPanel'
import { PlannedNodesPanel } from './PlannedNodesPanel'
import { PortsPanel } from './PortsPanel'
import { RecipePanel } from './RecipePanel'

/**
 * The commissioning bench: boards on USB serial, each flashed with a recipe, verified and given its
 * own identity. What changes by the minute (ports, the Flash button, one row per board) on one side;
 * what is set up once (firmware, recipe) on the other; the log of every job below.
 */
export function BenchSection() {
  const loadBench = useConsole((state) => state.loadBench)
  const loadPlan = useConsole((state) => state.loadPlan)
  // Files, recipes and the site plan may have changed from another screen or another operator since the last visit.
  useEffect(() => {
    void loadBench()
    void loadPlan()
  }, [loadBench, loadPlan])

  return (
    <section className="bench" aria-labelledby="bench-title">
      <header className="bench-header">
        <h2 id="bench-title">Bench</h2>
        <BenchSummary />
      </header>
      <div className="bench-columns">
        <div className="bench-column">
          <PortsPanel />
          <FlashPanel />
          <JobsPanel />
        </div>
        <div className="bench-column">
          <PlannedNodesPanel />
          <FirmwarePanel />
          <RecipePanel />
        </div>
      </div>
      <JobLog />
    </section>
  )
}

function BenchSummary() {
  const ports = useConsole((state) => state.benchPorts)
  const jobs = useConsole((state) => state.benchJobs)
  const running = useMemo(() => Object.values(jobs).filter((job) => isJobActive(job.state)).length, [jobs])
  const portCount = Object.keys(ports).length
  return (
    <p className="bench-summary" aria-live="polite">
      {portCount} {portCount === 1 ? 'port' : 'ports'} · {running} {running === 1 ? 'board' : 'boards'} flashing
    </p>
  )
}
