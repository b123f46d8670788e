import { lazy, Suspense, useEffect } from 'react'
import { useConsole } from '../../state/store'
import { PlanPanel } from './PlanPanel'
import { PlanToolbar } from './PlanToolbar'
import { SiteImportControl } from './SiteImportControl'
import { siteSummary } from './site-slice'

// MapLibre is most of the renderer's weight: load it when there is a site to draw, not for every screen.
const SiteMap = lazy(() => import('./SiteMap').then((module) => ({ default: module.SiteMap })))

/**
 * The site plan: the map on one side; on the other, what the import kept and skipped (and why) and all
 * that is worked out from the plan (coverage, placement, network, power, bill of materials, exports). The
 * import control and the plan's revision with undo and redo above both.
 */
export function SiteSection() {
  const site = useConsole((state) => state.site)
  const known = useConsole((state) => state.siteKnown)
  const loadError = useConsole((state) => state.siteLoadError)
  const loadSite = useConsole((state) => state.loadSite)
  const loadPlan = useConsole((state) => state.loadPlan)
  const siteVersion = site?.version ?? null
  // Another operator may have imported a new version since this screen was last open.
  useEffect(() => {
    void loadSite()
  }, [loadSite])
  // Each import makes a new revision of the plan: the one on screen follows the version on screen.
  useEffect(() => {
    if (siteVersion !== null) void loadPlan()
  }, [siteVersion, loadPlan])

  return (
    <section className="site" aria-labelledby="site-title">
      <header className="site-header">
        <div className="site-heading">
          <h2 id="site-title">Site</h2>
          {site && (
            <p className="site-summary" aria-live="polite">
              {siteSummary(site)}
            </p>
          )}
        </div>
        <SiteImportControl />
      </header>
      {loadError && (
        <p className="error site-message" role="alert">
          The site could not be loaded: {loadError}
        </p>
      )}
      {site ? (
        <>
          <PlanToolbar />
          <div className="site-columns site-plan-columns">
            <Suspense fallback={<div className="site-map-frame" aria-busy="true" />}>
              <SiteMap />
            </Suspense>
            <PlanPanel site={site} />
          </div>
        </>
      ) : known ? (
        <SiteEmpty />
      ) : (
        !loadError && <p className="muted site-message">Loading the site…</p>
      )}
    </section>
  )
}

function SiteEmpty() {
  return (
    <div className="site-empty" data-testid="site-empty">
      <p className="holds">
        The site plan: its areas, walls, cable routes and mounting points from your survey, on a map that works offline, with a report of
        everything the console imported and everything it skipped, and why.
      </p>
      <p className="badge" role="note">
        No site imported yet.
      </p>
      <div className="start">
        <h3>How to start</h3>
        <p>
          Choose <strong>Import site file</strong> above and pick a KML or KMZ exported from your survey tool (Google Earth, QGIS, a GNSS rover's
          software), a GeoJSON file, or a PNG, JPEG or WebP image of the site.
        </p>
        <p className="hint">
          The map draws only what is in your file; no background map is fetched from the internet. Every import is kept as a new version.
        </p>
      </div>
    </div>
  )
}
