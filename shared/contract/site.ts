import { z } from 'zod'
import type { CoverageSummary } from '../domain/site/coverage'
import { maximumCellSizeM, minimumCellSizeM } from '../domain/site/grid'
import { CoverageCell } from '../domain/site/coverage-palette'
import type { FeatureCollection, ImportReport, OverlayCorners } from '../domain/site/import-report'
import type { Catalogue, SiteModel } from '../domain/site/model'
import type { CurvePoint } from '../domain/site/placement'
import type { SiteModelReport } from '../domain/site/site-from-features'
import type { BomLine, PlannedDeviceRow, SiteOutputs } from '../domain/site/site-outputs'

export type { BomLine, PlannedDeviceRow, SiteOutputs }

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

// ---- The site plan: the model built from the imports, edited on the map, and every output drawn from it ----

/**
 * One saved revision of the site plan. The screen edits a copy (with its own undo and redo) and saves the
 * whole model back naming the revision it started from, so two screens cannot overwrite each other unseen.
 */
export interface SitePlanView {
  revision: number
  savedAt: number
  operator: string
  /** What this revision changed, in words ("Imported from depot.kml", "move mounting point pole-3"). */
  label: string
  /** The import version the plan was first built from; null for a plan opened from a site file. */
  sourceVersion: number | null
  model: SiteModel
  /** How the import's features became the model; null for revisions that are edits or opened files. */
  report: SiteModelReport | null
  /** validateSite's findings: what to fix before coverage and placement can be trusted. */
  problems: string[]
}

/** What changed in the site plan, and who changed it: a screen that did not make the change reloads. */
export interface SiteChange {
  /** The plan's latest revision after the change (unchanged by a catalogue edit). */
  revision: number
  what: 'plan' | 'catalogue'
  operator: string
  label: string
}

/** The parts the planner chooses from: the built-in catalogue of resources/, or the site's edited copy. */
export interface CatalogueView {
  parts: Catalogue
  source: 'built-in' | 'edited'
  editedAt: number | null
}

/** Per cell of the coverage raster (`SiteCoverageView.cells`): the domain's classes, which the map and the exports paint alike. */
export { CoverageCell }

export interface CoverageGridView {
  cols: number
  rows: number
  cellSizeM: number
  /** South-west corner of cell 0 in local metres; rows run north. */
  originX: number
  originY: number
  /** The raster's corners as [lon, lat], clockwise from the north-west: a maplibre image source's `coordinates`. */
  corners: OverlayCorners
}

export interface SiteCoverageView {
  revision: number
  grid: CoverageGridView
  /** One CoverageCell per cell, row by row from the south, base64. */
  cells: string
  /** Strongest gateway level per cell: 0 = none, else dBm + 140 clamped to 1…140, base64; null without gateways. */
  radio: string | null
  summary: CoverageSummary
  blindSpots: { id: number; areaM2: number; cells: number; centre: [number, number]; outline: [number, number][][] }[]
  problems: string[]
  computeMs: number
}

export interface SitePlacementView {
  revision: number
  /** The greedy cover's choice, ready to add as devices. */
  proposal: PlacementProposal[]
  /** Coverage against node count along the greedy order. */
  curve: CurvePoint[]
  reachedTarget: boolean
  /** What the cover minimised: the number of devices, or their price. */
  objective: 'devices' | 'price'
  /** No cover of every closable cell needs fewer devices (or, minimising price, costs less) than this; null when not proved. */
  lowerBound: number | null
  /** The integer program's answer, for sites small enough; null when not asked or too large. */
  exact: { status: 'optimal' | 'time-limit' | 'infeasible' | 'failed'; nodes: number; solveMs: number } | null
  skipped: string[]
  computeMs: number
}

export interface PlacementProposal {
  partNumber: string
  mountingPointId: string
  orientationDeg: number
  kind: 'camera' | 'sensor'
}

export type SiteExportKind = 'bom-csv' | 'topology-svg' | 'coverage-svg' | 'report-pdf' | 'site-file'

export interface SiteExportFile {
  fileName: string
  mime: string
  /** base64 */
  data: string
}

const cellSize = z
  .number()
  .min(minimumCellSizeM, `Cells smaller than ${minimumCellSizeM} m are finer than any survey; choose ${minimumCellSizeM} m or more.`)
  .max(maximumCellSizeM)
const base64File = z.string().max(30 * 1024 * 1024, 'Site files over about 22 MB cannot be sent from a browser; open them in the desktop console.')

export const sitePlanParams = {
  savePlan: z
    .object({
      baseRevision: z.number().int().nonnegative(),
      label: z.string().trim().min(1).max(200),
      /** The whole model, checked by the site file's reader before it is kept. */
      model: z.unknown(),
    })
    .strict(),
  openPlan: z.object({ fileName: z.string().trim().min(1).max(200), data: base64File }).strict(),
  saveCatalogue: z.object({ parts: z.unknown() }).strict(),
  coverage: z.object({ cellSizeM: cellSize.default(1), targetHeightM: z.number().min(0).max(20).optional() }).strict(),
  placement: z
    .object({
      cellSizeM: cellSize.default(1),
      /** Share of the closable gap to close. */
      targetShare: z.number().gt(0).max(1).default(1),
      kinds: z.array(z.enum(['camera', 'sensor'])).min(1).default(['camera', 'sensor']),
      minimiseCost: z.boolean().default(false),
      /** Also solve the integer program when the instance is small enough. */
      exact: z.boolean().default(true),
    })
    .strict(),
  export: z.object({ kind: z.enum(['bom-csv', 'topology-svg', 'coverage-svg', 'report-pdf', 'site-file']), cellSizeM: cellSize.default(1) }).strict(),
}
