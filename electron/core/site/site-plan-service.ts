import type { CatalogueView, SiteCoverageView, SiteExportFile, SiteExportKind, SitePlacementView, SitePlanView, SiteVersion } from '../../../shared/contract'
import { bomCsv } from '../../../shared/domain/site/bill-of-materials'
import { coverageSvg } from '../../../shared/domain/site/coverage-svg'
import { parseCatalogue, validateSite, type Catalogue, type SiteModel } from '../../../shared/domain/site/model'
import { decodeSiteFile, encodeSiteFile, readSiteModel } from '../../../shared/domain/site/site-file'
import { siteFromFeatures, slug, type SiteModelReport } from '../../../shared/domain/site/site-from-features'
import { siteOutputs, type SiteOutputs } from '../../../shared/domain/site/site-outputs'
import { topologySvg } from '../../../shared/domain/site/topology-svg'
import builtInParts from '../../../resources/catalogue/parts.json'
import { ContractFailure } from '../failure'
import { product } from '../product'
import type { OpenStore } from '../store/store'
import { commissioningReportPdf } from './commissioning-report'
import { fittingCellSizeM, gridCellCount } from './coverage-view'
import type { SiteService } from './site-service'
import type { PlacementRequest } from './site-worker'
import type { SiteWorkerClient } from './site-worker-client'

export interface SitePlanServiceOptions {
  store: OpenStore
  /** The imports a plan is built from. */
  imports: Pick<SiteService, 'current'>
  now: () => number
  /** Where coverage and placement are computed, off the core's thread. */
  worker: Pick<SiteWorkerClient, 'run'>
}

interface PlanRow {
  revision: number
  saved_at: number
  operator: string
  label: string
  source_version: number | null
  model: string
  report: string | null
}

interface CatalogueRow {
  parts: string
  edited_at: number
  operator: string
}

/**
 * Coverage and placement run on the site worker, and the raster travels to the screen as one byte per cell
 * (twice with radio): 4 million cells is 2 km × 2 km at 1 m, a few hundred milliseconds and a few megabytes.
 * Larger sites are asked for coarser cells.
 */
export const maxCoverageCells = 4_000_000

/** Refusals list this many catalogue problems; a file of the wrong shape would otherwise list hundreds. */
const listedCatalogueProblems = 12

let builtIn: Catalogue | null = null

/** resources/catalogue/parts.json, checked once: test/unit/site-catalogue.test.ts keeps it passing. */
function builtInCatalogue(): Catalogue {
  if (!builtIn) {
    const parsed = parseCatalogue(builtInParts)
    if (!parsed.ok) throw new Error(`The built-in catalogue (resources/catalogue/parts.json) is broken: ${parsed.problems.join(' ')}`)
    builtIn = parsed.catalogue
  }
  return builtIn
}

/**
 * The site plan: revisions of the model built from the imports and edited on the map, the catalogue its
 * parts come from, and everything computed from the latest revision (coverage, placement, outputs and the
 * files handed to installers). Every save is a new revision naming the one it started from, so two screens
 * editing at once cannot overwrite each other unseen.
 */
export class SitePlanService {
  constructor(private readonly options: SitePlanServiceOptions) {
    this.adoptLatestImport()
  }

  plan(): SitePlanView | null {
    const row = this.options.store.db.prepare('SELECT * FROM site_plans ORDER BY revision DESC LIMIT 1').get() as PlanRow | undefined
    return row ? this.view(row) : null
  }

  /** Every import becomes a revision of its own, built from its features as though the plan started there. */
  addImport(version: SiteVersion): SitePlanView {
    const built = siteFromFeatures(version.collection, { name: fileStem(version.fileName), importReport: version.report, catalogue: this.parts() })
    return this.insert({ savedAt: version.importedAt, operator: version.operator, label: `Imported from ${version.fileName}`, sourceVersion: version.version, model: built.site, report: built.report })
  }

  savePlan(baseRevision: number, label: string, model: unknown, operator: string): SitePlanView {
    const read = readSiteModel(model, 'model')
    if (!read.ok) throw new ContractFailure('INVALID_PARAMS', `The site plan was not saved: ${read.error}`)
    return this.options.store.writer.now(() => {
      this.refuseStale(baseRevision)
      return this.insert({ savedAt: this.options.now(), operator, label, sourceVersion: null, model: read.site, report: null })
    })
  }

  openPlan(fileName: string, bytes: Uint8Array, operator: string): SitePlanView {
    const decoded = decodeSiteFile(Buffer.from(bytes).toString('utf8'))
    if (!decoded.ok) throw new ContractFailure('INVALID_PARAMS', decoded.error)
    return this.insert({ savedAt: this.options.now(), operator, label: `Opened ${fileName}`, sourceVersion: null, model: decoded.site, report: null })
  }

  catalogue(): CatalogueView {
    const row = this.options.store.db.prepare('SELECT * FROM site_catalogue WHERE id = 1').get() as CatalogueRow | undefined
    if (!row) return { parts: builtInCatalogue(), source: 'built-in', editedAt: null }
    return { parts: JSON.parse(row.parts) as Catalogue, source: 'edited', editedAt: row.edited_at }
  }

  saveCatalogue(parts: unknown, operator: string): CatalogueView {
    const parsed = parseCatalogue(parts)
    if (!parsed.ok) {
      const more = parsed.problems.length - listedCatalogueProblems
      const listed = parsed.problems.slice(0, listedCatalogueProblems).join(' ')
      throw new ContractFailure('INVALID_PARAMS', `The catalogue was not saved: ${listed}${more > 0 ? ` And ${more} more problem${more === 1 ? '' : 's'}.` : ''}`)
    }
    const editedAt = this.options.now()
    this.options.store.writer.now(() =>
      this.options.store.db
        .prepare('INSERT INTO site_catalogue (id, parts, edited_at, operator) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET parts = excluded.parts, edited_at = excluded.edited_at, operator = excluded.operator')
        .run(JSON.stringify(parsed.catalogue), editedAt, operator),
    )
    return { parts: parsed.catalogue, source: 'edited', editedAt }
  }

  resetCatalogue(): CatalogueView {
    this.options.store.writer.now(() => this.options.store.db.prepare('DELETE FROM site_catalogue').run())
    return this.catalogue()
  }

  async coverage(cellSizeM: number, targetHeightM?: number): Promise<SiteCoverageView> {
    const { revision, model } = this.latest()
    this.checkGrid(model, cellSizeM)
    return this.options.worker.run('coverage', { site: model, catalogue: this.parts(), cellSizeM, revision, ...(targetHeightM === undefined ? {} : { targetHeightM }) })
  }

  /** Greedy cover over the mounting points still free, and for small sites the proved optimum beside it. */
  async placement(request: PlacementRequest): Promise<SitePlacementView> {
    const { revision, model } = this.latest()
    this.checkGrid(model, request.cellSizeM)
    return this.options.worker.run('placement', { site: model, catalogue: this.parts(), revision, ...request })
  }

  outputs(): SiteOutputs {
    return siteOutputs(this.latest().model, this.parts())
  }

  async export(kind: SiteExportKind, cellSizeM: number, operator: string): Promise<SiteExportFile> {
    const { model } = this.latest()
    const name = slug(model.name) || 'site'
    const text = (fileName: string, mime: string, content: string): SiteExportFile => ({ fileName, mime, data: Buffer.from(content, 'utf8').toString('base64') })
    if (kind === 'site-file') {
      const generatedAt = new Date(this.options.now()).toISOString()
      return text(`${name}.site.json`, 'application/json', encodeSiteFile(model, { savedAt: generatedAt, generator: `${product.name} ${product.version}` }))
    }
    const catalogue = this.parts()
    const outputs = siteOutputs(model, catalogue)
    if (kind === 'bom-csv') return text(`${name}-bom.csv`, 'text/csv', bomCsv(outputs))
    if (kind === 'topology-svg') return text(`${name}-topology.svg`, 'image/svg+xml', topologySvg(outputs))
    this.checkGrid(model, cellSizeM)
    const { coverage, png } = await this.options.worker.run('coverage-export', { site: model, catalogue, cellSizeM })
    if (kind === 'coverage-svg') {
      const pngDataUrl = `data:image/png;base64,${Buffer.from(png).toString('base64')}`
      return text(`${name}-coverage.svg`, 'image/svg+xml', coverageSvg(model, coverage, outputs, { pngDataUrl }))
    }
    const pdf = await commissioningReportPdf({ site: model, outputs, coverage, coveragePng: png, generatedAt: this.options.now(), operator })
    return { fileName: `${name}-report.pdf`, mime: 'application/pdf', data: Buffer.from(pdf).toString('base64') }
  }

  /** The catalogue plans are checked and computed against: the site's edited copy, or the built-in one. */
  private parts(): Catalogue {
    return this.catalogue().parts
  }

  /** The latest revision's number, 0 before the first: without reading and checking its model. */
  latestRevision(): number {
    return (this.options.store.db.prepare('SELECT MAX(revision) AS revision FROM site_plans').get() as { revision: number | null }).revision ?? 0
  }

  private latest(): SitePlanView {
    const plan = this.plan()
    if (!plan) throw new ContractFailure('NOT_FOUND', 'There is no site plan yet: import a survey file or open a saved site plan first.')
    return plan
  }

  /** Refused here rather than in the worker, so the operator is told which cell size fits before any memory is spent. */
  private checkGrid(model: SiteModel, cellSizeM: number): void {
    if (model.boundary.length < 3) throw new ContractFailure('INVALID_PARAMS', `The site boundary has ${model.boundary.length} corners; draw a boundary of at least three before computing coverage.`)
    const cells = gridCellCount(model.boundary, cellSizeM)
    if (cells > maxCoverageCells) {
      throw new ContractFailure(
        'INVALID_PARAMS',
        `At ${cellSizeM} m cells this site is ${cells.toLocaleString('en')} cells, more than the ${maxCoverageCells.toLocaleString('en')} the console computes at once; choose cells of ${fittingCellSizeM(model.boundary, maxCoverageCells)} m or larger.`,
      )
    }
  }

  /** Called in the transaction that saves, so no other revision can land between the check and the save. */
  private refuseStale(baseRevision: number): void {
    const newer = this.options.store.db.prepare('SELECT revision, saved_at, operator, label FROM site_plans WHERE revision > ? ORDER BY revision DESC').all(baseRevision) as Pick<PlanRow, 'revision' | 'saved_at' | 'operator' | 'label'>[]
    if (newer.length === 0) {
      const latest = this.latestRevision()
      if (baseRevision === latest) return
      throw new ContractFailure('CONFLICT', `The site plan was not saved: it starts from revision ${baseRevision}, which the console does not have (the latest is ${latest}). Reload the plan, then make your change again.`)
    }
    const shown = newer.slice(0, 3).map((row) => `revision ${row.revision}, "${row.label}", by ${row.operator} at ${formatUtc(row.saved_at)}`)
    const more = newer.length - shown.length
    const saved = newer.length === 1 ? 'another revision was' : `${newer.length} revisions were`
    throw new ContractFailure(
      'CONFLICT',
      `The site plan was not saved: ${saved} saved since revision ${baseRevision} (${shown.join('; ')}${more > 0 ? `; and ${more} earlier` : ''}). Reload the plan to see ${newer.length === 1 ? 'it' : 'them'}, then make your change again.`,
    )
  }

  private insert(revision: { savedAt: number; operator: string; label: string; sourceVersion: number | null; model: SiteModel; report: SiteModelReport | null }): SitePlanView {
    const { db, writer } = this.options.store
    const number = writer.now(() =>
      Number(
        db
          .prepare('INSERT INTO site_plans (saved_at, operator, label, source_version, model, report) VALUES (?, ?, ?, ?, ?, ?)')
          .run(revision.savedAt, revision.operator, revision.label, revision.sourceVersion, JSON.stringify(revision.model), revision.report === null ? null : JSON.stringify(revision.report)).lastInsertRowid,
      ),
    )
    const { model, report, label, operator, savedAt, sourceVersion } = revision
    return { revision: number, savedAt, operator, label, sourceVersion, model, report, problems: validateSite(model, this.parts()) }
  }

  /** A database from before plans were kept gets its first revision from the latest import, as if the import had made it. */
  private adoptLatestImport(): void {
    if (this.options.store.db.prepare('SELECT 1 FROM site_plans LIMIT 1').get()) return
    const version = this.options.imports.current()
    if (version) this.addImport(version)
  }

  private view(row: PlanRow): SitePlanView {
    const model = JSON.parse(row.model) as SiteModel
    return {
      revision: row.revision,
      savedAt: row.saved_at,
      operator: row.operator,
      label: row.label,
      sourceVersion: row.source_version,
      model,
      report: row.report === null ? null : (JSON.parse(row.report) as SiteModelReport),
      problems: validateSite(model, this.parts()),
    }
  }
}

/** "depot-north.kml" → "depot-north": the imported site is named after its file until the planner renames it. */
function fileStem(fileName: string): string {
  return fileName.replace(/\.[^.]+$/, '') || fileName
}

function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
