import { useEffect } from 'react'
import { useConsole } from '../../state/store'
import { formatWhen } from '../bench/bench-model'
import { plural } from './site-model'

/** Typing in a field keeps the field's own undo: Ctrl+Z there takes back letters, not edits of the plan. */
function isTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range', 'color'].includes(target.type)
}

/**
 * The revision on screen and its history: what Undo and Redo would take back or put back, from the buttons
 * or with Ctrl+Z and Ctrl+Shift+Z (or Ctrl+Y). Every step is saved at once, so this also says when a save
 * is under way and why the last edit or save was refused.
 */
export function PlanToolbar() {
  const plan = useConsole((state) => state.plan)
  const undoLabel = useConsole((state) => state.planHistory?.undoLabel ?? null)
  const redoLabel = useConsole((state) => state.planHistory?.redoLabel ?? null)
  const saving = useConsole((state) => state.planSaving)
  const error = useConsole((state) => state.planError)
  const undo = useConsole((state) => state.undoPlan)
  const redo = useConsole((state) => state.redoPlan)

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.defaultPrevented || isTextField(event.target)) return
      const key = event.key.toLowerCase()
      if (key === 'z' && !event.shiftKey) undo()
      else if ((key === 'z' && event.shiftKey) || (key === 'y' && !event.shiftKey)) redo()
      else return
      event.preventDefault()
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [undo, redo])

  if (!plan) return null
  return (
    <div className="site-plan-toolbar">
      <p className="site-plan-revision" aria-live="polite">
        <strong>
          Plan revision <span data-testid="site-plan-revision">{plan.revision}</span>
        </strong>{' '}
        <span className="muted">
          {plan.label} · {plan.operator || 'an unnamed operator'} · {formatWhen(plan.savedAt)}
        </span>
        {saving && <span className="site-plan-saving"> · saving…</span>}
      </p>
      <div className="site-plan-history" role="group" aria-label="Undo and redo">
        <button type="button" onClick={undo} disabled={!undoLabel} aria-keyshortcuts="Control+Z" title="Ctrl+Z" data-testid="site-plan-undo">
          Undo{undoLabel && <span className="site-plan-step">: {undoLabel}</span>}
        </button>
        <button type="button" onClick={redo} disabled={!redoLabel} aria-keyshortcuts="Control+Shift+Z Control+Y" title="Ctrl+Shift+Z or Ctrl+Y" data-testid="site-plan-redo">
          Redo{redoLabel && <span className="site-plan-step">: {redoLabel}</span>}
        </button>
      </div>
      {error && (
        <p className="error site-plan-error" role="alert" data-testid="site-plan-error">
          {error}
        </p>
      )}
      {plan.problems.length > 0 && (
        <details className="site-plan-problems" data-testid="site-plan-problems">
          <summary className="attention">{plural(plan.problems.length, 'thing', 'things')} to fix before coverage can be trusted</summary>
          <ul>
            {plan.problems.map((problem, n) => (
              <li key={n}>{problem}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  )
}
