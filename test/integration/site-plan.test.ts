// The site plan through the contract, against a real SQLite file: a surveyor's KML becomes revision 1, edits
// are saved as revisions that cannot overwrite each other, and coverage, placement and the exported files
// are computed from the latest revision with the site's catalogue.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import { SitePlanService } from '../../electron/core/site/site-plan-service'
import { SiteService } from '../../electron/core/site/site-service'
import { SiteWorkerClient } from '../../electron/core/site/site-worker-client'
import { openStore } from '../../electron/core/store/store'
import { CoverageCell, type CatalogueView, type SiteCoverageView, type SiteExportFile, type SitePlacementView, type SitePlanView, type SiteChange } from '../../shared/contract'
import type { CataloguePart, SiteModel } from '../../shared/domain/site/model'
import { createLocalProjection } from '../../shared/domain/site/projection'
import { decodeSiteFile } from '../../shared/domain/site/site-file'

const operator = { actor: 'ada', via: 'local' } as const
const colleague = { actor: 'grace', via: 'session' } as const
let dir: string
let core: Core

const start = () => createCore({ dataDir: dir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0, now: () => Date.UTC(2025, 2, 14, 9, 30) })

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'site-plan-'))
  core = start()
})

afterEach(async () => {
  await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

// ---- A depot yard as a surveyor's KML: 60 m × 40 m, a required yard, two walls, four poles facing in ----

const survey = createLocalProjection({ lat: 48.137154, lon: 11.576124 })
const coordinates = (points: [number, number][]) =>
  points.map(([x, y]) => survey.toLatLon({ x, y })).map((p) => `${p.lon.toFixed(8)},${p.lat.toFixed(8)},0`).join(' ')
const polygon = (points: [number, number][]) => `<Polygon><outerBoundaryIs><LinearRing><coordinates>${coordinates([...points, points[0]!])}</coordinates></LinearRing></outerBoundaryIs></Polygon>`
const line = (points: [number, number][]) => `<LineString><coordinates>${coordinates(points)}</coordinates></LineString>`
const point = (x: number, y: number) => `<Point><coordinates>${coordinates([[x, y]])}</coordinates></Point>`
const data = (fields: Record<string, string>) => `<ExtendedData>${Object.entries(fields).map(([k, v]) => `<Data name="${k}"><value>${v}</value></Data>`).join('')}</ExtendedData>`
const placemark = (name: string, geometry: string, fields: Record<string, string> = {}) => `<Placemark><name>${name}</name>${data(fields)}${geometry}</Placemark>`
const folder = (name: string, ...content: string[]) => `<Folder><name>${name}</name>${content.join('')}</Folder>`

const depotKml = `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Depot</name>
${placemark('Site boundary', polygon([[0, 0], [60, 0], [60, 40], [0, 40]]))}
${placemark('Yard zone (required)', polygon([[2, 2], [58, 2], [58, 38], [2, 38]]))}
${folder('Walls', placemark('Wall 1', line([[20, 0], [20, 25]]), { material: 'concrete', height: '3' }), placemark('Wall 2', line([[40, 40], [40, 15]]), { material: 'brick', height: '3' }))}
${folder(
  'Mounting points',
  placemark('MP 1', point(1, 1), { orientation: '45' }),
  placemark('MP 2', point(59, 1), { orientation: '315' }),
  placemark('MP 3', point(59, 39), { orientation: '225' }),
  placemark('MP 4', point(1, 39), { orientation: '135' }),
)}
</Document></kml>
`

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')

async function ok<T>(outcome: Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }>): Promise<T> {
  const result = await outcome
  if (!result.ok) throw new Error(`expected success, got ${result.error?.code}: ${result.error?.message}`)
  return result.value as T
}

async function refused(outcome: Promise<{ ok: boolean; error?: { code: string; message: string } }>): Promise<{ code: string; message: string }> {
  const result = await outcome
  if (result.ok) throw new Error('expected a refusal')
  return result.error!
}

async function importDepot(): Promise<SitePlanView> {
  await ok(core.dispatch('site.import', { fileName: 'depot.kml', data: base64(depotKml) }, operator))
  return ok<SitePlanView>(core.dispatch('site.plan', {}, operator))
}

/** The imported plan with a camera on MP 1 and a 2.4 GHz access point on MP 3. */
function equipped(model: SiteModel): SiteModel {
  const [mp1, , mp3] = model.mountingPoints
  return {
    ...model,
    devices: [
      { id: 'cam-1', partNumber: 'CAM-T28-2M-028', mountingPointId: mp1!.id, orientationDeg: 45 },
      { id: 'ap-1', partNumber: 'GW-AP24-OUT', mountingPointId: mp3!.id, orientationDeg: 0 },
    ],
  }
}

describe('the site plan', () => {
  it('is built from each import as a new revision, with the report of what each feature became', async () => {
    expect(await core.dispatch('site.plan', {}, operator)).toEqual({ ok: true, value: null })
    const plan = await importDepot()
    expect(plan).toMatchObject({ revision: 1, operator: 'ada', label: 'Imported from depot.kml', sourceVersion: 1, problems: [] })
    expect(plan.model.name).toBe('depot')
    expect(plan.model.zones.map((zone) => zone.kind)).toEqual(['required'])
    expect(plan.model.obstructions.map((o) => o.material)).toEqual(['concrete', 'brick'])
    expect(plan.model.mountingPoints.map((m) => m.orientationsDeg)).toEqual([[45], [315], [225], [135]])
    expect(plan.report!.summary).toBe('1 zone, 2 obstructions and 4 mounting points from 8 features.')

    await ok(core.dispatch('site.import', { fileName: 'depot-v2.kml', data: base64(depotKml) }, operator))
    expect(await core.dispatch('site.plan', {}, operator)).toMatchObject({ ok: true, value: { revision: 2, label: 'Imported from depot-v2.kml', sourceVersion: 2 } })
  })

  it('refuses a save that started from an older revision, saying who saved what since, and keeps nothing of it', async () => {
    const first = await importDepot()
    const saved = await ok<SitePlanView>(core.dispatch('site.savePlan', { baseRevision: 1, label: 'add camera and access point', model: equipped(first.model) }, colleague))
    expect(saved).toMatchObject({ revision: 2, operator: 'grace', label: 'add camera and access point', sourceVersion: null, report: null, problems: [] })

    const stale = { ...first.model, name: 'Depot (renamed)' }
    const error = await refused(core.dispatch('site.savePlan', { baseRevision: 1, label: 'rename', model: stale }, operator))
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toBe('The site plan was not saved: another revision was saved since revision 1 (revision 2, "add camera and access point", by grace at 2025-03-14 09:30 UTC). Reload the plan to see it, then make your change again.')
    const latest = await ok<SitePlanView>(core.dispatch('site.plan', {}, operator))
    expect(latest).toMatchObject({ revision: 2, model: { name: 'depot', devices: [{ id: 'cam-1' }, { id: 'ap-1' }] } })
    expect(await core.dispatch('audit.list', { limit: 1 }, operator)).toMatchObject({ ok: true, value: [{ action: 'save site plan', actor: 'grace', target: 'revision 2' }] })
  })

  it('tells every screen when the plan or the catalogue changed, and not when a save was refused', async () => {
    const changes: SiteChange[] = []
    core.events.subscribe((event, payload) => {
      if (event === 'site.changed') changes.push(payload as SiteChange)
    })
    const first = await importDepot()
    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'add camera and access point', model: equipped(first.model) }, colleague))
    await refused(core.dispatch('site.savePlan', { baseRevision: 1, label: 'rename', model: first.model }, operator))
    await ok(core.dispatch('site.resetCatalogue', {}, operator))
    expect(changes).toEqual([
      { revision: 1, what: 'plan', operator: 'ada', label: 'Imported from depot.kml' },
      { revision: 2, what: 'plan', operator: 'grace', label: 'add camera and access point' },
      { revision: 2, what: 'catalogue', operator: 'ada', label: 'reset catalogue' },
    ])
  })

  it('refuses a damaged model naming the field, and lists what validateSite finds in one it keeps', async () => {
    const { model } = await importDepot()
    const damaged = JSON.parse(JSON.stringify(model)) as { zones: { polygon: { x: unknown }[] }[] }
    damaged.zones[0]!.polygon[1]!.x = 'abc'
    expect(await refused(core.dispatch('site.savePlan', { baseRevision: 1, label: 'typo', model: damaged }, operator))).toEqual({
      code: 'INVALID_PARAMS',
      message: 'The site plan was not saved: model.zones[0].polygon[1].x must be a finite number, not "abc".',
    })
    const unknownPart = { ...model, devices: [{ id: 'cam-9', partNumber: 'CAM-NOPE', mountingPointId: model.mountingPoints[0]!.id, orientationDeg: 0 }] }
    const kept = await ok<SitePlanView>(core.dispatch('site.savePlan', { baseRevision: 1, label: 'camera of a part we do not have', model: unknownPart }, operator))
    expect(kept.problems).toEqual(['Device cam-9 is a CAM-NOPE, which is not in the catalogue.'])
  })

  it('opens a saved site file as a new revision, and refuses a damaged one with the decoder\'s reason', async () => {
    const { model } = await importDepot()
    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'equip', model: equipped(model) }, operator))
    const file = await ok<SiteExportFile>(core.dispatch('site.export', { kind: 'site-file' }, operator))
    expect(file).toMatchObject({ fileName: 'depot.site.json', mime: 'application/json' })
    const opened = await ok<SitePlanView>(core.dispatch('site.openPlan', { fileName: file.fileName, data: file.data }, operator))
    expect(opened).toMatchObject({ revision: 3, label: 'Opened depot.site.json', sourceVersion: null, model: equipped(model) })

    const damaged = Buffer.from(file.data, 'base64').toString('utf8').replace('"version": 1', '"version": 7')
    expect(await refused(core.dispatch('site.openPlan', { fileName: 'newer.site.json', data: base64(damaged) }, operator))).toEqual({
      code: 'INVALID_PARAMS',
      message: 'The site file cannot be opened: version is 7: the file was saved by a newer console, and this one reads version 1; update the console to open it.',
    })
    expect(await core.dispatch('site.plan', {}, operator)).toMatchObject({ ok: true, value: { revision: 3 } })
  })

  it('keeps every revision and the edited catalogue across a restart', async () => {
    const { model } = await importDepot()
    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'equip', model: equipped(model) }, operator))
    const { parts } = await ok<CatalogueView>(core.dispatch('site.catalogue', {}, operator))
    const cheaper = parts.map((part) => (part.partNumber === 'CAM-T28-2M-028' ? { ...part, priceEur: 99 } : part))
    await ok(core.dispatch('site.saveCatalogue', { parts: cheaper }, operator))

    await core.dispose()
    core = start()
    expect(await ok<SitePlanView>(core.dispatch('site.plan', {}, operator))).toMatchObject({ revision: 2, label: 'equip', model: equipped(model) })
    const catalogue = await ok<CatalogueView>(core.dispatch('site.catalogue', {}, operator))
    expect(catalogue).toMatchObject({ source: 'edited', editedAt: Date.UTC(2025, 2, 14, 9, 30) })
    expect(catalogue.parts.find((part) => part.partNumber === 'CAM-T28-2M-028')!.priceEur).toBe(99)
  })

  it('gives a database that has imports but no plan yet its first revision from the latest import', async () => {
    await core.dispose()
    const store = openStore({ dataDir: dir, log: silentLogger })
    const worker = new SiteWorkerClient({ log: silentLogger })
    try {
      const imports = new SiteService(store.open!, () => 1000, worker)
      imports.keep(await imports.read('depot.kml', new TextEncoder().encode(depotKml)), 'ada')
      const plans = new SitePlanService({ store: store.open!, imports, now: () => 2000, worker })
      expect(plans.plan()).toMatchObject({ revision: 1, savedAt: 1000, operator: 'ada', label: 'Imported from depot.kml', sourceVersion: 1 })
      expect(new SitePlanService({ store: store.open!, imports, now: () => 3000, worker }).plan()!.revision).toBe(1)
    } finally {
      await worker.dispose()
      store.close()
    }
  })
})

describe('the catalogue', () => {
  it('starts built-in, refuses a broken part listing the problem, and goes back to built-in on reset', async () => {
    const builtIn = await ok<CatalogueView>(core.dispatch('site.catalogue', {}, operator))
    expect(builtIn).toMatchObject({ source: 'built-in', editedAt: null })
    expect(builtIn.parts.length).toBeGreaterThan(10)

    const broken = builtIn.parts.map((part): CataloguePart => (part.kind === 'sensor' && part.partNumber === 'PIR-12-090' ? { ...part, angleDeg: 400 } : part))
    expect(await refused(core.dispatch('site.saveCatalogue', { parts: broken }, operator))).toEqual({
      code: 'INVALID_PARAMS',
      message: 'The catalogue was not saved: Part PIR-12-090: detection angle must be between 0° and 360°, not 400°.',
    })
    expect(await refused(core.dispatch('site.saveCatalogue', { parts: [{ kind: 'camera', partNumber: 'X' }] }, operator))).toMatchObject({ message: expect.stringContaining('Part X: "name" is missing.') })

    const edited = await ok<CatalogueView>(core.dispatch('site.saveCatalogue', { parts: builtIn.parts.slice(0, 3) }, operator))
    expect(edited).toMatchObject({ source: 'edited', parts: builtIn.parts.slice(0, 3) })
    expect(await ok<CatalogueView>(core.dispatch('site.resetCatalogue', {}, operator))).toEqual(builtIn)
    expect(await core.dispatch('audit.list', { limit: 2 }, operator)).toMatchObject({ ok: true, value: [{ action: 'reset catalogue' }, { action: 'save catalogue', detail: '3 parts' }] })
  })
})

describe('computed from the latest revision', () => {
  it('answers NOT_FOUND before there is any plan', async () => {
    expect(await refused(core.dispatch('site.coverage', {}, operator))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('import a survey file') })
  })

  it('covers the yard: a raster of cols × rows cells, blind spots with their area, the radio level, corners on the map', async () => {
    const { model } = await importDepot()
    const bare = await ok<SiteCoverageView>(core.dispatch('site.coverage', { cellSizeM: 1 }, operator))
    expect(bare).toMatchObject({ revision: 1, grid: { cols: 60, rows: 40, cellSizeM: 1 }, radio: null })
    const bareCells = Buffer.from(bare.cells, 'base64')
    expect(bareCells).toHaveLength(60 * 40)
    // Nothing is placed yet: every cell of the site is a required gap (the boundary's own cells too).
    expect(bareCells.filter((c) => c === CoverageCell.blind).length).toBe(bare.summary.requiredCells)
    expect(bare.blindSpots).toHaveLength(1)
    expect(bare.blindSpots[0]).toMatchObject({ areaM2: 2400, cells: 2400 })

    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'equip', model: equipped(model) }, operator))
    const seen = await ok<SiteCoverageView>(core.dispatch('site.coverage', { cellSizeM: 1 }, operator))
    const cells = Buffer.from(seen.cells, 'base64')
    expect(seen.revision).toBe(2)
    expect(seen.summary.requiredSeen).toBeGreaterThan(300)
    expect(cells.filter((c) => c >= CoverageCell.detection).length).toBeGreaterThan(0)
    expect(cells.filter((c) => c === CoverageCell.blind).length).toBe(seen.summary.requiredCells - seen.summary.requiredSeen)
    const spotArea = seen.blindSpots.reduce((sum, spot) => sum + spot.areaM2, 0)
    expect(spotArea).toBe(seen.summary.blindSpotAreaM2)
    expect(spotArea).toBeLessThan(2400 - 300)
    expect(seen.blindSpots.every((spot) => spot.outline[0]!.length >= 4)).toBe(true)
    const radio = Buffer.from(seen.radio!, 'base64')
    expect(radio).toHaveLength(60 * 40)
    expect(radio.every((level) => level >= 1 && level <= 140)).toBe(true)

    const [nw, ne, se, sw] = seen.grid.corners
    expect(nw![1]).toBeGreaterThan(sw![1]!)
    expect(ne![0]).toBeGreaterThan(nw![0]!)
    expect(se![1]).toBeCloseTo(sw![1]!, 6)
    const site = createLocalProjection(model.origin)
    const corner = site.toLatLon({ x: seen.grid.originX, y: seen.grid.originY })
    expect(sw).toEqual([corner.lon, corner.lat])
  })

  it('refuses a grid too large to compute, saying which cell size fits', async () => {
    const { model } = await importDepot()
    const huge = { ...model, boundary: [{ x: -100, y: -100 }, { x: 4900, y: -100 }, { x: 4900, y: 4900 }, { x: -100, y: 4900 }] }
    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'whole estate', model: huge }, operator))
    expect(await refused(core.dispatch('site.coverage', { cellSizeM: 1 }, operator))).toEqual({
      code: 'INVALID_PARAMS',
      message: 'At 1 m cells this site is 25,000,000 cells, more than the 4,000,000 the console computes at once; choose cells of 2.5 m or larger.',
    })
  })

  it('keeps the core answering while a 4-million-cell coverage runs on the site worker', async () => {
    const { model } = await importDepot()
    // A 2 km × 2 km estate at 1 m cells, with access points on poles across it: about a second of work.
    const poles = Array.from({ length: 9 }, (_, i) => ({ id: `pole-${i}`, x: 333 + (i % 3) * 667, y: 333 + Math.floor(i / 3) * 667, heightM: 6, allowedKinds: ['gateway' as const] }))
    const estate: SiteModel = {
      ...equipped(model),
      boundary: [{ x: 0, y: 0 }, { x: 2000, y: 0 }, { x: 2000, y: 2000 }, { x: 0, y: 2000 }],
      mountingPoints: [...model.mountingPoints, ...poles],
      devices: [...equipped(model).devices, ...poles.map((pole) => ({ id: `ap-${pole.id}`, partNumber: 'GW-AP24-OUT', mountingPointId: pole.id, orientationDeg: 0 }))],
    }
    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'whole estate', model: estate }, operator))

    let last = performance.now()
    let longestGapMs = 0
    const ticker = setInterval(() => {
      const now = performance.now()
      longestGapMs = Math.max(longestGapMs, now - last)
      last = now
    }, 20)
    try {
      const coverage = await ok<SiteCoverageView>(core.dispatch('site.coverage', { cellSizeM: 1 }, operator))
      expect(coverage.grid).toMatchObject({ cols: 2000, rows: 2000 })
      expect(Buffer.from(coverage.radio!, 'base64')).toHaveLength(4_000_000)
      // On the core's thread the timer would have waited out the whole computation.
      expect(longestGapMs).toBeLessThan(Math.min(150, coverage.computeMs / 3))
    } finally {
      clearInterval(ticker)
    }
  })

  it('proposes placements on the free mounting points with the coverage curve, and proves the optimum for a small yard', async () => {
    const { model } = await importDepot()
    const placement = await ok<SitePlacementView>(core.dispatch('site.placement', {}, operator))
    expect(placement.proposal.length).toBeGreaterThan(0)
    expect(placement.reachedTarget).toBe(true)
    expect(placement.curve[0]).toMatchObject({ nodes: 0, coveredShare: 0 })
    expect(placement.curve.at(-1)!.coveredShare).toBeGreaterThan(0.9)
    expect(placement.exact).toMatchObject({ status: 'optimal' })
    expect(placement.exact!.nodes).toBeLessThanOrEqual(placement.proposal.length)
    expect(placement.lowerBound!).toBeLessThanOrEqual(placement.exact!.nodes)
    expect(placement.objective).toBe('devices')
    // Minimising price, the bound is a price too, and the screen must say so.
    const cheapest = await ok<SitePlacementView>(core.dispatch('site.placement', { minimiseCost: true, exact: false }, operator))
    expect(cheapest.objective).toBe('price')

    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'equip', model: equipped(model) }, operator))
    const around = await ok<SitePlacementView>(core.dispatch('site.placement', { kinds: ['sensor'], exact: false }, operator))
    const taken = new Set(['mp-1', 'mp-3'])
    expect(around.skipped).toEqual(['Mounting point mp-1 already carries device cam-1.', 'Mounting point mp-3 already carries device ap-1.'])
    expect(around.proposal.every((p) => p.kind === 'sensor' && !taken.has(p.mountingPointId))).toBe(true)
    expect(around.curve[0]!.coveredShare).toBeGreaterThan(0)
    expect(around.exact).toBeNull()
  })

  it('exports the bill of materials, the diagrams, the report and the site file from one set of outputs', async () => {
    const { model } = await importDepot()
    await ok(core.dispatch('site.savePlan', { baseRevision: 1, label: 'equip', model: equipped(model) }, operator))
    const outputs = await ok<{ devices: { id: string }[] }>(core.dispatch('site.outputs', {}, operator))
    expect(outputs.devices.map((d) => d.id).sort()).toEqual(['ap-1', 'cam-1'])
    const expected: [string, string, string, (bytes: Buffer) => boolean][] = [
      ['bom-csv', 'depot-bom.csv', 'text/csv', (b) => b.toString('utf8').includes('CAM-T28-2M-028')],
      ['topology-svg', 'depot-topology.svg', 'image/svg+xml', (b) => b.toString('utf8').includes('<svg')],
      ['coverage-svg', 'depot-coverage.svg', 'image/svg+xml', (b) => b.toString('utf8').includes('data:image/png;base64,')],
      ['report-pdf', 'depot-report.pdf', 'application/pdf', (b) => b.subarray(0, 5).toString('latin1') === '%PDF-'],
      ['site-file', 'depot.site.json', 'application/json', (b) => decodeSiteFile(b.toString('utf8')).ok],
    ]
    for (const [kind, fileName, mime, looksRight] of expected) {
      const file = await ok<SiteExportFile>(core.dispatch('site.export', { kind }, operator))
      expect(file, kind).toMatchObject({ fileName, mime })
      expect(looksRight(Buffer.from(file.data, 'base64')), kind).toBe(true)
    }
  }, 30_000)
})
