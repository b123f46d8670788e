import { useRef } from 'react'
import type { SiteExportKind } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { exportLabels } from './plan-model'

const exports: readonly { kind: SiteExportKind; hint: string }[] = [
  { kind: 'bom-csv', hint: 'Every part with its quantity, price and the devices that are it, for purchasing.' },
  { kind: 'topology-svg', hint: 'Gateways, switches and the devices linked to each.' },
  { kind: 'coverage-svg', hint: 'The site with what each place is seen by, at the coverage cell size on screen.' },
  { kind: 'report-pdf', hint: 'The plan, its coverage, devices, network and power budget, for sign-off.' },
  { kind: 'site-file', hint: 'The whole plan as a file to mail, keep or open in another console.' },
]

/** Files drawn from the latest saved plan, downloaded by the browser; and a saved plan file opened as a new revision. */
export function PlanExports() {
  const exporting = useConsole((state) => state.siteExporting)
  const error = useConsole((state) => state.siteExportError)
  const hasPlan = useConsole((state) => state.plan !== null)
  const exportSite = useConsole((state) => state.exportSite)
  const openPlanFile = useConsole((state) => state.openPlanFile)
  const input = useRef<HTMLInputElement>(null)

  const onFiles = async (files: FileList | null) => {
    const file = files?.[0]
    if (!file) return
    try {
      await openPlanFile(file)
    } finally {
      // Picking the same file again (after fixing it) must fire a change.
      if (input.current) input.current.value = ''
    }
  }

  return (
    <section className="site-plan-section" aria-labelledby="site-plan-exports-title">
      <h3 id="site-plan-exports-title">Exports</h3>
      <ul className="site-plan-exports">
        {exports.map(({ kind, hint }) => (
          <li key={kind}>
            <button type="button" onClick={() => void exportSite(kind)} disabled={!hasPlan || exporting !== null} aria-busy={exporting === kind} aria-describedby={`site-plan-export-${kind}-hint`} data-testid={`site-plan-export-${kind}`}>
              {exporting === kind ? `${exportLabels[kind]}: preparing…` : exportLabels[kind]}
            </button>
            <span className="hint" id={`site-plan-export-${kind}-hint`}>
              {hint}
            </span>
          </li>
        ))}
      </ul>
      {error && (
        <p className="error" role="alert" data-testid="site-plan-export-error">
          {error}
        </p>
      )}
      <label className="site-plan-open">
        <span className="site-plan-open-label">Open site file</span>
        <span className="hint" id="site-plan-open-hint">
          A plan saved from this or another console. It becomes the next revision; the current one stays in the history.
        </span>
        <input ref={input} type="file" accept=".json,application/json" aria-describedby="site-plan-open-hint" onChange={(event) => void onFiles(event.target.files)} data-testid="site-plan-open" />
      </label>
    </section>
  )
}
