import type { SiteOverlayView, SiteVersion } from '../../../shared/contract'
import type { SiteOverlay } from '../../../shared/domain/site/import-report'
import { ContractFailure } from '../failure'
import type { OpenStore } from '../store/store'
import type { SiteWorkerClient } from './site-worker-client'

interface VersionRow {
  version: number
  file_name: string
  imported_at: number
  operator: string
  report: string
  collection: string
  overlays: string
}

/** A site file read and found usable, not kept yet. */
export type ReadSiteFile = Pick<SiteVersion, 'fileName' | 'report' | 'collection' | 'overlays'>

/**
 * The site as imported from survey files, one version per import, kept in SQLite. A file that cannot
 * be read leaves the current version as it was: nothing is half-imported.
 */
export class SiteService {
  constructor(
    private readonly store: OpenStore,
    private readonly now: () => number,
    /** Files of up to 50 MB are read there, off the core's thread. */
    private readonly worker: Pick<SiteWorkerClient, 'run'>,
  ) {}

  /** Reads the file on the site worker and refuses one that cannot be used; nothing is kept yet. */
  async read(fileName: string, bytes: Uint8Array): Promise<ReadSiteFile> {
    const result = await this.worker.run('import', { fileName, bytes })
    // The importer's message already says where in the file, and that nothing was imported.
    if (!result.ok) throw new ContractFailure('INVALID_PARAMS', result.error.message)
    if (result.collection.features.length === 0 && result.overlays.length === 0) {
      throw new ContractFailure('INVALID_PARAMS', `Nothing in ${fileName} could be used: ${result.report.skipped.map((skip) => skip.reason).join(' ') || 'it holds no features.'}`)
    }
    return { fileName, report: result.report, collection: result.collection, overlays: result.overlays.map(overlayView) }
  }

  /** Keeps a file `read` accepted as the next version; called in the caller's transaction, with whatever else the import changes. */
  keep(file: ReadSiteFile, operator: string): SiteVersion {
    const { fileName, report, collection, overlays } = file
    const importedAt = this.now()
    const version = this.store.writer.now(() =>
      Number(
        this.store.db
          .prepare('INSERT INTO site_versions (file_name, imported_at, operator, report, collection, overlays) VALUES (?, ?, ?, ?, ?, ?)')
          .run(fileName, importedAt, operator, JSON.stringify(report), JSON.stringify(collection), JSON.stringify(overlays)).lastInsertRowid,
      ),
    )
    return { version, fileName, importedAt, operator, report, collection, overlays }
  }

  current(): SiteVersion | null {
    const row = this.store.db.prepare('SELECT * FROM site_versions ORDER BY version DESC LIMIT 1').get() as VersionRow | undefined
    if (!row) return null
    return {
      version: row.version,
      fileName: row.file_name,
      importedAt: row.imported_at,
      operator: row.operator,
      report: JSON.parse(row.report) as SiteVersion['report'],
      collection: JSON.parse(row.collection) as SiteVersion['collection'],
      overlays: JSON.parse(row.overlays) as SiteOverlayView[],
    }
  }
}

function overlayView(overlay: SiteOverlay): SiteOverlayView {
  const image = overlay.image.kind === 'embedded' ? { dataUrl: `data:${overlay.image.mime};base64,${Buffer.from(overlay.image.bytes).toString('base64')}`, width: overlay.image.width, height: overlay.image.height } : null
  return { index: overlay.index, name: overlay.name, image, href: overlay.image.kind === 'linked' ? overlay.image.href : null, corners: overlay.corners }
}
