import { useState } from 'react'
import type { CatalogueView } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatWhen } from '../bench/bench-model'
import { plural } from './site-model'

/**
 * The parts the planner places, as JSON to edit: figures from a datasheet, prices from a quote. Saving
 * checks every part; Reset goes back to the catalogue the console ships with.
 */
export function PlanCatalogue() {
  const catalogue = useConsole((state) => state.catalogue)
  return (
    <section className="site-plan-section" aria-labelledby="site-plan-catalogue-title">
      <h3 id="site-plan-catalogue-title">Catalogue</h3>
      {catalogue ? (
        // A new catalogue from the core (saved, reset, or from another screen) replaces the text being edited.
        <CatalogueEditor key={`${catalogue.source}-${catalogue.editedAt}`} catalogue={catalogue} />
      ) : (
        <p className="muted">Loaded with the plan.</p>
      )}
    </section>
  )
}

function CatalogueEditor({ catalogue }: { catalogue: CatalogueView }) {
  const saving = useConsole((state) => state.catalogueSaving)
  const problems = useConsole((state) => state.catalogueProblems)
  const saveCatalogue = useConsole((state) => state.saveCatalogue)
  const resetCatalogue = useConsole((state) => state.resetCatalogue)
  const [text, setText] = useState(() => JSON.stringify(catalogue.parts, null, 2))

  return (
    <>
      <p className="hint" data-testid="site-plan-catalogue-source">
        {catalogue.source === 'built-in' ? 'The built-in catalogue' : `Edited ${formatWhen(catalogue.editedAt)}`} · {plural(catalogue.parts.length, 'part')}
      </p>
      <label className="site-plan-catalogue-field">
        <span>Parts (JSON)</span>
        <textarea value={text} onChange={(event) => setText(event.target.value)} spellCheck={false} rows={18} aria-invalid={problems.length > 0} aria-describedby={problems.length > 0 ? 'site-plan-catalogue-problems' : undefined} data-testid="site-plan-catalogue-text" />
      </label>
      <div className="site-plan-actions">
        <button type="button" className="primary" onClick={() => void saveCatalogue(text)} disabled={saving} aria-busy={saving} data-testid="site-plan-catalogue-save">
          Save catalogue
        </button>
        <button type="button" onClick={() => void resetCatalogue()} disabled={saving || catalogue.source === 'built-in'} data-testid="site-plan-catalogue-reset">
          Reset to built-in
        </button>
      </div>
      {problems.length > 0 && (
        <div className="site-plan-catalogue-problems" role="alert" id="site-plan-catalogue-problems" data-testid="site-plan-catalogue-problems">
          <ul>
            {problems.map((problem, n) => (
              <li key={n}>{problem}</li>
            ))}
          </ul>
        </div>
      )}
    </>
  )
}
