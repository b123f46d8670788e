import { useMemo } from 'react'
import { useConsole } from '../../state/store'
import { countByState, deviceStates } from './fleet-model'
import { stateLabels, stateMeanings } from './fleet-format'

/** The fleet at a glance: how many devices are in each state, each count a filter. */
export function StateChips() {
  const rows = useConsole((state) => state.fleetRows)
  const filter = useConsole((state) => state.fleetQuery.state)
  const setFilter = useConsole((state) => state.setFleetStateFilter)
  const counts = useMemo(() => countByState(rows), [rows])
  const total = deviceStates.reduce((sum, state) => sum + counts[state], 0)

  return (
    <div className="state-chips" role="group" aria-label="Filter by state">
      <button type="button" className="chip state-all" aria-pressed={filter === 'all'} onClick={() => setFilter('all')} data-testid="fleet-count-all" data-count={total}>
        All <strong>{total}</strong>
      </button>
      {deviceStates.map((state) => (
        <button
          key={state}
          type="button"
          className={`chip state-${state}`}
          aria-pressed={filter === state}
          title={stateMeanings[state]}
          // A second click on the active chip shows every state again.
          onClick={() => setFilter(filter === state ? 'all' : state)}
          data-testid={`fleet-count-${state}`}
          data-count={counts[state]}
        >
          <span className="mark" aria-hidden="true" />
          {stateLabels[state]} <strong>{counts[state]}</strong>
        </button>
      ))}
    </div>
  )
}
