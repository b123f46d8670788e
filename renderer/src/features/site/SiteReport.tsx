import { useEffect, useRef } from 'react'
import type { SiteVersion } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import { formatWhen } from '../bench/bench-model'
import { formatLabels, kindLabels, overlayStatus, plural } from './site-model'

/**
 * What the import kept and what it did not, and why: the map shows the first half, this panel says both.
 * Names live here rather than on the map, which draws offline without fonts.
 */
export function SiteReport({ site }: { site: SiteVersion }) {
  const { report } = site
  const focus = useConsole((state) => state.siteFocus)
  const focusSiteFeature = useConsole((state) => state.focusSiteFeature)
  const features = useRef<HTMLUListElement>(null)
  // A feature picked on the map: its row comes into view, so its name and folder can be read.
  useEffect(() => {
    if (focus) features.current?.querySelector('li.current')?.scrollIntoView({ block: 'nearest' })
  }, [focus])

  return (
    <aside className="site-report" aria-labelledby="site-report-title">
      <section className="site-report-part">
        <h3 id="site-report-title">Import report</h3>
        <dl className="site-facts" data-testid="site-facts">
          <div>
            <dt>File</dt>
            <dd className="site-file-name">{site.fileName}</dd>
          </div>
          <div>
            <dt>Format</dt>
            <dd>{formatLabels[report.format] ?? report.format}</dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd data-testid="site-version">{site.version}</dd>
          </div>
          <div>
            <dt>Imported</dt>
            <dd>
              {formatWhen(site.importedAt)} by {site.operator || 'an unnamed operator'}
            </dd>
          </div>
        </dl>
      </section>

      {report.warnings.length > 0 && (
        <section className="site-report-part" aria-labelledby="site-warnings-title">
          <h4 id="site-warnings-title">{plural(report.warnings.length, 'warning')}</h4>
          <ul className="site-warnings">
            {report.warnings.map((warning, n) => (
              <li key={n} data-testid="site-warning">
                {warning}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section className="site-report-part" aria-labelledby="site-imported-title">
        <h4 id="site-imported-title">Imported {plural(report.imported.length, 'feature')}</h4>
        {report.imported.length === 0 ? (
          <p className="muted">No features: the file held only images.</p>
        ) : (
          <>
            <p className="hint">Choose one to show it on the map.</p>
            <ul className="site-features" ref={features}>
              {report.imported.map((feature, position) => {
                const current = focus?.feature === position
                return (
                  <li key={`${feature.index}-${position}`} data-testid="site-imported" data-kind={feature.kind} className={current ? 'current' : undefined}>
                    <button type="button" className="site-feature-button" onClick={() => focusSiteFeature(position)} aria-current={current ? 'true' : undefined}>
                      <span className={`site-swatch site-swatch-${feature.kind}`} aria-hidden="true" />
                      <span className="site-feature-name">{feature.name ?? <span className="muted">unnamed</span>}</span>
                      <span className="site-feature-kind">{kindLabels[feature.kind] ?? feature.kind}</span>
                    </button>
                    {feature.folder && <span className="hint site-feature-folder">in {feature.folder}</span>}
                  </li>
                )
              })}
            </ul>
          </>
        )}
      </section>

      {report.skipped.length > 0 && (
        <section className="site-report-part" aria-labelledby="site-skipped-title">
          <h4 id="site-skipped-title" className="attention">
            Skipped {report.skipped.length}
          </h4>
          <p className="hint">Not on the map. Fix them in the survey tool and import the file again.</p>
          <ul className="site-skipped">
            {report.skipped.map((skipped) => (
              <li key={skipped.index} data-testid="site-skipped">
                <div>
                  <strong>{skipped.name ?? 'unnamed'}</strong>
                  {(skipped.folder || skipped.line !== null) && (
                    <span className="hint">
                      {' '}
                      {[skipped.folder && `in ${skipped.folder}`, skipped.line !== null && `line ${skipped.line}`].filter(Boolean).join(', ')}
                    </span>
                  )}
                </div>
                <div className="site-skip-reason">{skipped.reason}</div>
              </li>
            ))}
          </ul>
        </section>
      )}

      {site.overlays.length > 0 && (
        <section className="site-report-part" aria-labelledby="site-overlays-title">
          <h4 id="site-overlays-title">{plural(site.overlays.length, 'image')}</h4>
          <ul className="site-overlays">
            {site.overlays.map((overlay, n) => (
              <li key={n} data-testid="site-overlay" data-shown={overlay.image !== null && overlay.corners !== null}>
                <strong>{overlay.name ?? 'unnamed image'}</strong> <span className="hint">{overlayStatus(overlay)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </aside>
  )
}
