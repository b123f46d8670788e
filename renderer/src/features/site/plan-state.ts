import type { CatalogueView, SiteChange, SiteCoverageView, SiteExportKind, SiteOutputs, SitePlacementView, SitePlanView } from '../../../../shared/contract'
import type { EditHistory, SiteEdit } from '../../../../shared/domain/site/site-edits'

/** Layers of the site map the operator can switch on and off. */
export type SiteLayerName = 'overlay' | 'zones' | 'obstructions' | 'mountingPoints' | 'devices' | 'links' | 'coverage' | 'radio' | 'blindSpots'

/** What the map has selected: one item of the model, by its collection and id. */
export interface SiteSelection {
  collection: 'zones' | 'obstructions' | 'mountingPoints' | 'devices'
  id: string
}

/** The map's editing tool: select/drag, or draw a new mounting point, wall, zone or obstruction outline. */
export type SiteTool = 'select' | 'add-mounting-point' | 'add-wall' | 'add-zone' | 'add-obstruction'

export interface PlacementRequest {
  cellSizeM?: number
  targetShare?: number
  kinds?: ('camera' | 'sensor')[]
  minimiseCost?: boolean
}

/**
 * The site plan on screen: the core's latest revision, the local undo history over it (every applied
 * edit is saved at once as a new revision, so nothing is lost on a crash), and the results computed from it.
 */
export interface SitePlanSlice {
  plan: SitePlanView | null
  /** Undo/redo over `plan.model`; `planHistory.site` is the model the map draws. Null until the plan loads. */
  planHistory: EditHistory | null
  planSaving: boolean
  /** The last refused edit or failed save, in words; cleared by the next good one. */
  planError: string | null
  catalogue: CatalogueView | null
  coverage: SiteCoverageView | null
  coverageRunning: boolean
  coverageError: string | null
  placement: SitePlacementView | null
  placementRunning: boolean
  placementError: string | null
  outputs: SiteOutputs | null
  /** Why the outputs (BOM, network, power) could not be drawn from the latest plan; null when they were. */
  outputsError: string | null
  siteLayers: Record<SiteLayerName, boolean>
  siteSelection: SiteSelection | null
  siteTool: SiteTool
  /** The export being prepared, for its button's busy state. */
  siteExporting: SiteExportKind | null
  siteExportError: string | null
  catalogueSaving: boolean
  /** Why the last catalogue save or reset was refused: every problem, one per line; empty after a good one. */
  catalogueProblems: string[]
  /** A blind spot to show on the map (an id of `coverage.blindSpots`); `seq` makes a second click fly again. */
  siteBlindSpotFocus: { id: number; seq: number } | null

  loadPlan(): Promise<void>
  /** Another screen or operator changed the plan or the catalogue: reload unless this screen is up to date. */
  receiveSiteChange(change: SiteChange): void
  /** Applies the edit locally (a refusal sets planError and changes nothing) and saves the new model. */
  editPlan(edit: SiteEdit): void
  /** Several edits as one step of undo (e.g. adding a placement's proposal). */
  editPlanBatch(label: string, edits: SiteEdit[]): void
  undoPlan(): void
  redoPlan(): void
  runCoverage(cellSizeM?: number): Promise<void>
  runPlacement(request?: PlacementRequest): Promise<void>
  /** Adds the placement's proposal to the plan as devices, one undo step. */
  applyPlacement(): void
  toggleSiteLayer(name: SiteLayerName): void
  selectSiteItem(selection: SiteSelection | null): void
  focusBlindSpot(id: number): void
  setSiteTool(tool: SiteTool): void
  exportSite(kind: SiteExportKind): Promise<void>
  openPlanFile(file: File): Promise<void>
  saveCatalogue(partsJson: string): Promise<void>
  resetCatalogue(): Promise<void>
}
