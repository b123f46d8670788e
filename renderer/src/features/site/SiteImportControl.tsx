import { useRef } from 'react'
import { useConsole } from '../../state/store'
import { formatBytes } from '../bench/bench-model'
import { siteFileAccept } from './site-model'

/** One file in, as a new version of the site; what is happening to it, and the refusal in full. */
export function SiteImportControl() {
  const importing = useConsole((state) => state.siteImport)
  const site = useConsole((state) => state.site)
  const importSite = useConsole((state) => state.importSite)
  const input = useRef<HTMLInputElement>(null)
  const busy = importing?.state === 'reading' || importing?.state === 'sending'

  const onFiles = async (files: FileList | null) => {
    const file = files?.[0]
    if (!file) return
    try {
      await importSite(file)
    } finally {
      // Picking the same file again (after fixing it) must fire a change.
      if (input.current) input.current.value = ''
    }
  }

  return (
    <div className="site-import">
      <label className="site-import-field">
        <span className="site-import-label">Import site file</span>
        <span className="hint" id="site-import-hint">
          KML or KMZ from your survey tool, GeoJSON, or a site image (PNG, JPEG, WebP). Each import becomes a new version.
        </span>
        <input
          ref={input}
          type="file"
          accept={siteFileAccept}
          aria-describedby="site-import-hint"
          disabled={busy}
          onChange={(event) => void onFiles(event.target.files)}
          data-testid="site-import"
        />
      </label>
      <div className="site-import-status" aria-live="polite" aria-busy={busy}>
        {importing?.state === 'reading' && (
          <p className="muted" data-testid="site-import-progress">
            Reading {importing.fileName} ({formatBytes(importing.size)})…
          </p>
        )}
        {importing?.state === 'sending' && (
          <p className="muted" data-testid="site-import-progress">
            Sending {importing.fileName} to the console; it reads every feature and reports what it kept…
          </p>
        )}
        {importing?.state === 'kept' && (
          <p className="ok" data-testid="site-import-done">
            Imported {importing.fileName} as version {importing.version}.
          </p>
        )}
      </div>
      {importing?.state === 'refused' && (
        <div className="site-import-error" role="alert" data-testid="site-import-error">
          <strong>{importing.fileName} was not imported.</strong> <span className="site-import-reason">{importing.error}</span>
          {site && <p className="hint">The site on screen is unchanged: version {site.version}, from {site.fileName}.</p>}
        </div>
      )}
    </div>
  )
}
