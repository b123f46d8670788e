import { useEffect, useMemo } from 'react'
import { useConsole } from '../../state/store'
import { ArtifactsPanel } from './ArtifactsPanel'
import { NewRolloutPanel } from './NewRolloutPanel'
import { RolloutHistory } from './RolloutHistory'
import { RolloutView } from './RolloutView'
import { activeCount } from './updates-model'

/**
 * Staged updates: signed images and the rollouts that carry them out. What is kept (images) and what
 * happened (every rollout, newest first) on one side; on the other, the form of a new rollout or the
 * live view of the rollout picked in the history.
 */
export function UpdatesSection() {
  const loadUpdates = useConsole((state) => state.loadUpdates)
  const selected = useConsole((state) => state.updatesSelected)
  // Images and rollouts may have changed from another screen or another operator since the last visit.
  useEffect(() => {
    void loadUpdates()
  }, [loadUpdates])

  return (
    <section className="updates" aria-labelledby="updates-title">
      <header className="updates-header">
        <h2 id="updates-title">Updates</h2>
        <UpdatesSummary />
      </header>
      <UpdatesStart />
      <div className="updates-columns">
        <div className="updates-column updates-side">
          <RolloutHistory />
          <ArtifactsPanel />
        </div>
        <div className="updates-column updates-work">{selected === null ? <NewRolloutPanel /> : <RolloutView key={selected} id={selected} />}</div>
      </div>
    </section>
  )
}

function UpdatesSummary() {
  const artifacts = useConsole((state) => state.updatesArtifacts.length)
  const rollouts = useConsole((state) => state.updatesRollouts)
  const total = useMemo(() => Object.keys(rollouts).length, [rollouts])
  const active = useMemo(() => activeCount(rollouts), [rollouts])
  return (
    <p className="updates-summary" aria-live="polite">
      {artifacts} {artifacts === 1 ? 'image' : 'images'} · {total} {total === 1 ? 'rollout' : 'rollouts'} · {active} under way
    </p>
  )
}

/** A console that has never updated anything says how to begin, and whether there is a fleet to update. */
function UpdatesStart() {
  const fresh = useConsole((state) => state.updatesArtifactsKnown && state.updatesArtifacts.length === 0 && state.updatesRolloutsKnown && Object.keys(state.updatesRollouts).length === 0)
  const fleetRows = useConsole((state) => state.fleetRows)
  const nodes = useMemo(() => Object.values(fleetRows).filter((row) => row.kind === 'node').length, [fleetRows])
  if (!fresh) return null
  return (
    <div className="updates-start" data-testid="updates-start">
      <h3>How to start</h3>
      <ol>
        <li>Import the application image of a build under Images (build/&lt;project&gt;.bin, picked or dropped). The console checks it and signs its manifest with the site&apos;s release key.</li>
        <li>Under New rollout, pick the image and the devices, keep or change the phases, and press Preview: the plan lists every phase with the devices it will touch.</li>
        <li>Start runs exactly that plan. Each phase&apos;s health gate pauses the rollout when its devices fail, roll back, go silent or crash more than before.</li>
      </ol>
      <p className="badge" role="note">
        {nodes > 0 ? `${nodes} edge ${nodes === 1 ? 'node' : 'nodes'} in the fleet can be updated.` : 'No edge nodes in the fleet yet: Settings → Demo fleet starts virtual ones to try a rollout on.'}
      </p>
    </div>
  )
}
