import { z } from 'zod'
import type { FeatureCollection, ImportReport, OverlayCorners } from '../domain/site/import-report'

/** A site image placed on the map: embedded images travel as data URLs, so both hosts can show them. */
export interface SiteOverlayView {
  index: number
  name: string | null
  /** Null for an image the KML only links to (never fetched: the console works offline). */
  image: { dataUrl: string; width: number; height: number } | null
  href: string | null
  /** Null for an image that still has to be placed. */
  corners: OverlayCorners | null
}

/** One imported version of the site: what the map shows and the report of what was kept and why not. */
export interface SiteVersion {
  version: number
  fileName: string
  importedAt: number
  operator: string
  report: ImportReport
  collection: FeatureCollection
  overlays: SiteOverlayView[]
}

export const siteParams = {
  import: z
    .object({
      fileName: z.string().trim().min(1).max(200),
      /** The file's bytes, base64. */
      data: z.string().max(30 * 1024 * 1024, 'Site files over about 22 MB cannot be sent from a browser; import them in the desktop console.'),
    })
    .strict(),
}
