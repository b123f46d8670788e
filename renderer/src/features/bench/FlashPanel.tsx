import { useMemo, useState } from 'react'
import { useConsole } from '../../state/store'
import { flashBlocker, portsToFlash } from './bench-model'
import { draftMatches, identitiesFor } from './recipe-draft'
import { BenchMessage } from './BenchMessage'
import { nextPlannedIds, plannedNodes, plannedSummary } from '../site/planned-nodes'

/** The one button that starts a batch, and what it will do: which board gets which identity. */
export function FlashPanel() {
  const connected = useConsole((state) => state.connection === 'open')
  const recipeName = useConsole((state) => state.benchRecipe)
  const recipes = useConsole((state) => state.benchRecipes)
  const draft = useConsole((state) => state.benchDraft)
  const selected = useConsole((state) => state.benchSelected)
  const ports = useConsole((state) => state.benchPorts)
  const jobs = useConsole((state) => state.benchJobs)
  const firstSeq = useConsole((state) => state.benchFirstSeq)
  const setFirstSeq = useConsole((state) => state.setFirstSeq)
  const flashing = useConsole((state) => state.benchFlashing)
  const error = useConsole((state) => state.benchFlashError)
  const note = useConsole((state) => state.benchFlashNote)
  const flash = useConsole((state) => state.flash)
  const namesFromPlan = useConsole((state) => state.benchNamesFromPlan)
  const setNamesFromPlan = useConsole((state) => state.setNamesFromPlan)
  const outputs = useConsole((state) => state.outputs)
  const fleetRows = useConsole((state) => state.fleetRows)
  // The text while it is being typed: an emptied field must not snap back to a number mid-edit.
  const [typing, setTyping] = useState<string | null>(null)

  const recipe = recipes.find((item) => item.name === recipeName)
  const targets = useMemo(() => portsToFlash(selected, ports, jobs), [selected, ports, jobs])
  const planned = useMemo(() => plannedNodes(outputs, fleetRows, jobs), [outputs, fleetRows, jobs])
  const identities = useMemo(() => {
    if (!namesFromPlan) return recipe ? identitiesFor(targets, recipe.serialPattern, firstSeq) : []
    const names = nextPlannedIds(planned, targets.length)
    return targets.map((port, index) => ({ port, serial: names[index] ?? null }))
  }, [namesFromPlan, planned, recipe, targets, firstSeq])
  const blocker = flashBlocker({
    connected,
    recipe: recipeName,
    recipeSaved: recipe !== undefined,
    unsavedChanges: recipe !== undefined && !draftMatches(draft, recipe),
    ports: targets.length,
    starting: flashing,
  })
  const count = targets.length

  return (
    <section className="bench-panel bench-flash" aria-labelledby="bench-flash-title">
      <h3 id="bench-flash-title">Flash</h3>
      <div className="bench-flash-row">
        {planned.length > 0 && (
          <label className="bench-check">
            <input type="checkbox" checked={namesFromPlan} onChange={(event) => setNamesFromPlan(event.target.checked)} data-testid="flash-names-from-plan" />
            Name the boards after the site plan's nodes <span className="hint">{plannedSummary(planned)}</span>
          </label>
        )}
        <label className="bench-field" hidden={namesFromPlan}>
          Number of the first board <span className="hint">{'{seq}'} in the serial-number pattern; the next boards count up</span>
          <input
            type="number"
            min={0}
            max={99_999_999}
            step={1}
            value={typing ?? String(firstSeq)}
            onChange={(event) => {
              setTyping(event.target.value)
              if (/^\d{1,8}$/.test(event.target.value)) setFirstSeq(Number(event.target.value))
            }}
            onBlur={() => setTyping(null)}
            data-testid="flash-first-seq"
          />
        </label>
        <div className="bench-flash-go">
          <button type="button" className="primary bench-flash-button" disabled={blocker !== null} aria-describedby="bench-flash-reason" onClick={() => void flash()} data-testid="bench-flash">
            {flashing ? 'Starting…' : count === 0 ? 'Flash boards' : `Flash ${count} ${count === 1 ? 'board' : 'boards'}`}
          </button>
          <p id="bench-flash-reason" className="hint bench-reason">
            {blocker ?? `Writes "${recipeName}" at ${recipe ? recipe.baud.toLocaleString() : ''} baud, verifies every region by MD5, then resets each board.`}
          </p>
        </div>
      </div>
      {identities.length > 0 && (
        <ol className="bench-identities" aria-label="Which board gets which identity">
          {identities.map(({ port, serial }) => (
            <li key={port}>
              <span className="mono">{port}</span> → {serial === null ? <span className="error">{namesFromPlan ? 'no planned node left to flash' : 'no identity: fix the serial-number pattern'}</span> : <strong>{serial}</strong>}
            </li>
          ))}
        </ol>
      )}
      <BenchMessage error={error} note={note} errorTestId="bench-flash-error" />
    </section>
  )
}
