// The site plan on screen: edits apply at once to the local history and are saved one after another naming
// the revision they start from; a plan changed elsewhere is reloaded and said so; coverage and placement run
// on the saved plan; a placement's proposal becomes devices in one step of undo; exports arrive as downloads.

import { afterEach, describe, expect, it, vi } from 'vitest'
import { createStore, type StateCreator } from 'zustand'
import type { CatalogueView, SiteCoverageView, SiteOutputs, SitePlacementView, SitePlanView } from '../../../shared/contract'
import { parseCatalogue, type SiteModel } from '../../../shared/domain/site/model'
import { BridgeError, type Bridge } from '../../../renderer/src/bridge'
import { createPlanSlice, type SitePlanSlice } from '../../../renderer/src/features/site/plan-slice'
import builtInParts from '../../../resources/catalogue/parts.json'
import { fakeBridge } from './fake-bridge'

const parsed = parseCatalogue(builtInParts)
if (!parsed.ok) throw new Error(parsed.problems.join('\n'))
const builtIn: CatalogueView = { parts: parsed.catalogue, source: 'built-in', editedAt: null }

const model: SiteModel = {
  name: 'Depot Nord',
  origin: { lat: 48.137154, lon: 11.576124 },
  boundary: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 60 }, { x: 0, y: 60 }],
  zones: [{ id: 'yard', name: 'Yard', polygon: [{ x: 5, y: 5 }, { x: 60, y: 5 }, { x: 60, y: 55 }, { x: 5, y: 55 }], kind: 'required' }],
  obstructions: [],
  mountingPoints: [
    { id: 'pole-1', x: 30, y: 45, heightM: 6, allowedKinds: ['camera', 'sensor', 'gateway', 'node'] },
    { id: 'pole-2', x: 50, y: 10, heightM: 6, allowedKinds: ['camera', 'sensor'] },
    { id: 'jbox-1', x: 65, y: 20, heightM: 1.5, allowedKinds: ['node'] },
  ],
  devices: [
    { id: 'cam-1', partNumber: 'CAM-T28-2M-028', mountingPointId: 'pole-1', orientationDeg: 180 },
    { id: 'cam-3', partNumber: 'CAM-T28-2M-028', mountingPointId: 'pole-1', orientationDeg: 0 },
  ],
}

const view = (revision: number, site: SiteModel = model, label = 'Imported from depot.kml'): SitePlanView => ({
  revision,
  savedAt: 1_700_000_000_000 + revision,
  operator: 'ana',
  label,
  sourceVersion: 1,
  model: site,
  report: null,
  problems: [],
})

const outputs = (devices: number): SiteOutputs =>
  ({ siteName: 'Depot Nord', devices: Array.from({ length: devices }, (_, i) => ({ id: `d${i}` })), bom: [], totalPriceEur: 0, problems: [] }) as unknown as SiteOutputs

const coverageOf = (revision: number, share: number): SiteCoverageView => ({
  revision,
  grid: { cols: 100, rows: 60, cellSizeM: 2, originX: 0, originY: 0, corners: [[0, 1], [1, 1], [1, 0], [0, 0]] },
  cells: '',
  radio: null,
  summary: { requiredCells: 100, requiredSeen: share * 100, requiredShare: share, optionalCells: 0, optionalSeen: 0, doriCells: [0, 0, 0, 0, 0], radioShare: null, blindSpotAreaM2: 40 },
  blindSpots: [{ id: 1, areaM2: 40, cells: 10, centre: [11.57, 48.13], outline: [] }],
  problems: [],
  computeMs: 12,
})

const placementOf = (revision: number): SitePlacementView => ({
  revision,
  proposal: [
    { partNumber: 'CAM-B28-4M-040', mountingPointId: 'pole-2', orientationDeg: 90, kind: 'camera' },
    { partNumber: 'PIR-12-090', mountingPointId: 'pole-2', orientationDeg: 270, kind: 'sensor' },
    { partNumber: 'CAM-B28-4M-040', mountingPointId: 'pole-1', orientationDeg: 45, kind: 'camera' },
  ],
  curve: [
    { nodes: 0, coveredShare: 0.4, costEur: 0 },
    { nodes: 3, coveredShare: 1, costEur: 395 },
  ],
  reachedTarget: true,
  objective: 'devices',
  lowerBound: 3,
  exact: { status: 'optimal', nodes: 3, solveMs: 40 },
  skipped: [],
  computeMs: 80,
})

type SaveParams = { baseRevision: number; label: string; model: SiteModel }

/** A core that keeps revisions as site.savePlan does: a save naming an older revision is a conflict. */
function planCore(options: { hold?: boolean } = {}) {
  const revisions = [view(1)]
  const held: (() => void)[] = []
  let catalogue = builtIn
  const latest = () => revisions[revisions.length - 1]!
  const fake = fakeBridge({
    'site.plan': () => latest(),
    'site.catalogue': () => catalogue,
    'site.outputs': () => outputs(latest().model.devices.length),
    'site.savePlan': async (params) => {
      const { baseRevision, label, model: saved } = params as SaveParams
      if (options.hold) await new Promise<void>((release) => held.push(release))
      if (baseRevision !== latest().revision) throw new BridgeError({ code: 'CONFLICT', message: `Revision ${latest().revision} was saved since revision ${baseRevision}.` })
      revisions.push(view(latest().revision + 1, saved, label))
      return latest()
    },
    'site.coverage': () => coverageOf(latest().revision, latest().model.devices.length > 2 ? 0.95 : 0.6),
    'site.placement': () => placementOf(latest().revision),
    'site.saveCatalogue': (params) => {
      const parts = (params as { parts: unknown }).parts
      const checked = parseCatalogue(parts)
      if (!checked.ok) throw new BridgeError({ code: 'INVALID_PARAMS', message: 'The catalogue was not saved.', issues: checked.problems.map((message, i) => ({ path: `parts[${i}]`, message })) })
      catalogue = { parts: checked.catalogue, source: 'edited', editedAt: 5 }
      return catalogue
    },
    'site.resetCatalogue': () => (catalogue = builtIn),
  })
  return {
    ...fake,
    revisions,
    latest,
    /** Another screen saves a revision. */
    saveElsewhere: (label: string) => revisions.push(view(latest().revision + 1, { ...latest().model, name: 'Depot Nord (edited)' }, label)),
    /** Lets the held saves answer, one at a time in order. */
    releaseOne: async () => {
      await vi.waitFor(() => expect(held.length).toBeGreaterThan(0))
      held.shift()!()
    },
    saves: () => fake.calls.filter((call) => call.method === 'site.savePlan').map((call) => call.params as SaveParams),
    count: (method: string) => fake.calls.filter((call) => call.method === method).length,
  }
}

function planStore(bridge: Bridge) {
  return createStore<SitePlanSlice>()(createPlanSlice(bridge) as unknown as StateCreator<SitePlanSlice>)
}

async function loaded(core: { bridge: Bridge }) {
  const store = planStore(core.bridge)
  await store.getState().loadPlan()
  return store
}

const idle = (store: ReturnType<typeof planStore>) => vi.waitFor(() => expect(store.getState().planSaving).toBe(false))

describe('site plan slice', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.restoreAllMocks()
  })

  it('loads the plan, its catalogue and outputs; the history starts from the saved model', async () => {
    const core = planCore()
    const store = await loaded(core)
    const state = store.getState()
    expect(state.plan?.revision).toBe(1)
    expect(state.catalogue?.source).toBe('built-in')
    expect(state.outputs?.devices).toHaveLength(2)
    expect(state.planHistory?.site).toBe(state.plan!.model)
    expect(state.planHistory?.canUndo).toBe(false)
  })

  it('a host without site planning says so; nothing throws', async () => {
    const store = planStore(fakeBridge({}).bridge)
    await store.getState().loadPlan()
    expect(store.getState().planError).toMatch(/^The site plan could not be loaded: This console host does not offer site planning/)
    store.getState().editPlan({ op: 'delete', collection: 'zones', id: 'yard' })
    expect(store.getState().planError).toMatch(/no site plan to edit yet/)
  })

  it('saves each edit at once, naming the revision it starts from; outputs follow', async () => {
    const core = planCore()
    const store = await loaded(core)
    store.getState().editPlan({ op: 'move', collection: 'mountingPoints', id: 'pole-2', by: { x: 5, y: 0 } })
    // On screen at once, before the core answers.
    expect(store.getState().planHistory!.site.mountingPoints[1]!.x).toBe(55)
    expect(store.getState().planSaving).toBe(true)
    await idle(store)
    expect(core.saves()).toEqual([{ baseRevision: 1, label: 'move mounting point pole-2', model: store.getState().planHistory!.site }])
    expect(store.getState().plan?.revision).toBe(2)
    expect(store.getState().planHistory?.undoLabel).toBe('move mounting point pole-2')
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    await idle(store)
    await vi.waitFor(() => expect(store.getState().outputs?.devices).toHaveLength(1))
  })

  it('a refused edit changes nothing, sends nothing and says why; the next good one clears it', async () => {
    const core = planCore()
    const store = await loaded(core)
    store.getState().editPlan({ op: 'delete', collection: 'mountingPoints', id: 'pole-1' })
    expect(store.getState().planError).toBe('Mounting point pole-1 carries devices cam-1, cam-3; move or delete them first.')
    expect(store.getState().planHistory!.site).toBe(model)
    // The catalogue checks kinds: a camera cannot go on a junction box.
    store.getState().editPlan({ op: 'move', collection: 'devices', id: 'cam-1', toMountingPointId: 'jbox-1' })
    expect(store.getState().planError).toBe('Device cam-1 is a camera, but mounting point jbox-1 takes only node.')
    expect(core.saves()).toEqual([])
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    expect(store.getState().planError).toBeNull()
  })

  it('two quick edits do not race: the second save waits and names the revision the first made', async () => {
    const core = planCore({ hold: true })
    const store = await loaded(core)
    store.getState().editPlan({ op: 'move', collection: 'mountingPoints', id: 'pole-2', by: { x: 1, y: 0 } })
    store.getState().editPlan({ op: 'move', collection: 'mountingPoints', id: 'pole-2', by: { x: 1, y: 0 } })
    await core.releaseOne()
    await core.releaseOne()
    await idle(store)
    expect(core.saves().map((save) => save.baseRevision)).toEqual([1, 2])
    expect(core.saves()[1]!.model.mountingPoints[1]!.x).toBe(52)
    expect(store.getState().plan?.revision).toBe(3)
    expect(store.getState().planError).toBeNull()
    // The outputs are asked for once the queue is empty, not after every save.
    expect(core.count('site.outputs')).toBe(2)
  })

  it('a plan saved from another screen meanwhile: reloaded, and the screen says so', async () => {
    const core = planCore({ hold: true })
    const store = await loaded(core)
    store.getState().editPlan({ op: 'move', collection: 'mountingPoints', id: 'pole-2', by: { x: 1, y: 0 } })
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    core.saveElsewhere('move mounting point jbox-1')
    await core.releaseOne()
    await idle(store)
    const state = store.getState()
    expect(state.plan?.revision).toBe(2)
    expect(state.plan?.model.name).toBe('Depot Nord (edited)')
    expect(state.planHistory?.site).toBe(state.plan?.model)
    expect(state.planHistory?.canUndo).toBe(false)
    expect(state.planError).toBe(
      '"move mounting point pole-2" was not saved: revision 2 ("move mounting point jbox-1", by ana) was saved from another screen meanwhile. The plan on screen is now that revision; make the change again if it is still needed.',
    )
    // The second edit was for the plan that went: it is not written over the other screen's revision.
    expect(core.saves()).toHaveLength(1)
    expect(core.revisions).toHaveLength(2)
  })

  it('a change announced by the core reloads a screen that is behind, and not one that made it', async () => {
    const core = planCore()
    const store = await loaded(core)
    const plans = () => core.count('site.plan')
    const before = plans()
    // This screen's own save is announced too: nothing to reload.
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    await idle(store)
    store.getState().receiveSiteChange({ revision: 2, what: 'plan', operator: 'ana', label: 'delete device cam-3' })
    expect(plans()).toBe(before)
    // Another operator's revision: the plan on screen becomes theirs.
    core.saveElsewhere('move mounting point pole-2')
    store.getState().receiveSiteChange({ revision: 3, what: 'plan', operator: 'ben', label: 'move mounting point pole-2' })
    await vi.waitFor(() => expect(store.getState().plan?.revision).toBe(3))
    expect(store.getState().planHistory?.site.name).toBe('Depot Nord (edited)')
    // A catalogue edited elsewhere: reloaded whatever the revision.
    store.getState().receiveSiteChange({ revision: 3, what: 'catalogue', operator: 'ben', label: 'save catalogue' })
    await vi.waitFor(() => expect(core.count('site.catalogue')).toBeGreaterThan(2))
  })

  it('a save the core refuses otherwise: the screen goes back to the saved revision and says why', async () => {
    const store = planStore(
      fakeBridge({
        'site.plan': () => view(1),
        'site.catalogue': () => builtIn,
        'site.outputs': () => outputs(2),
        'site.savePlan': () => {
          throw new BridgeError({ code: 'INVALID_PARAMS', message: 'The plan was not saved.', issues: [{ path: 'model.devices[1].orientationDeg', message: 'must be a finite number' }] })
        },
      }).bridge,
    )
    await store.getState().loadPlan()
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    await idle(store)
    expect(store.getState().planHistory?.site).toBe(model)
    expect(store.getState().planError).toBe(
      '"delete device cam-3" was not saved: The plan was not saved. model.devices[1].orientationDeg: must be a finite number. The plan on screen is revision 1 as saved.',
    )
  })

  it('undo and redo are saved as revisions too, each saying what it took back', async () => {
    const core = planCore()
    const store = await loaded(core)
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    store.getState().undoPlan()
    expect(store.getState().planHistory?.site.devices).toHaveLength(2)
    expect(store.getState().planHistory?.redoLabel).toBe('delete device cam-3')
    store.getState().redoPlan()
    await idle(store)
    expect(core.saves().map((save) => [save.baseRevision, save.label, save.model.devices.length])).toEqual([
      [1, 'delete device cam-3', 1],
      [2, 'undo delete device cam-3', 2],
      [3, 'redo delete device cam-3', 1],
    ])
    // Nothing to undo or redo: nothing is saved.
    store.getState().redoPlan()
    expect(core.saves()).toHaveLength(3)
  })

  it('reloading the same revision keeps the undo history; a newer one from elsewhere starts it again', async () => {
    const core = planCore()
    const store = await loaded(core)
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-3' })
    await store.getState().loadPlan()
    expect(store.getState().planHistory?.canUndo).toBe(true)
    core.saveElsewhere('rename')
    await store.getState().loadPlan()
    expect(store.getState().plan?.revision).toBe(3)
    expect(store.getState().planHistory?.canUndo).toBe(false)
  })

  it('coverage runs on the saved plan: it waits for a save under way, shows running, and is stale after an edit', async () => {
    const core = planCore({ hold: true })
    const store = await loaded(core)
    store.getState().editPlan({ op: 'add', collection: 'devices', item: { id: 'cam-4', partNumber: 'CAM-T28-2M-028', mountingPointId: 'pole-2', orientationDeg: 0 } })
    const running = store.getState().runCoverage(2)
    expect(store.getState().coverageRunning).toBe(true)
    expect(core.count('site.coverage')).toBe(0)
    await core.releaseOne()
    await running
    expect(core.calls.find((call) => call.method === 'site.coverage')?.params).toEqual({ cellSizeM: 2 })
    expect(store.getState()).toMatchObject({ coverageRunning: false, coverageError: null })
    expect(store.getState().coverage).toMatchObject({ revision: 2, summary: { requiredShare: 0.95 } })
    store.getState().focusBlindSpot(1)
    expect(store.getState().siteBlindSpotFocus).toMatchObject({ id: 1 })
    store.getState().focusBlindSpot(7)
    expect(store.getState().siteBlindSpotFocus).toMatchObject({ id: 1 })
    store.getState().editPlan({ op: 'delete', collection: 'devices', id: 'cam-4' })
    await core.releaseOne()
    await idle(store)
    expect(store.getState().coverage!.revision).toBeLessThan(store.getState().plan!.revision)
  })

  it('a failed coverage or placement keeps the reason for its panel', async () => {
    const store = planStore(
      fakeBridge({
        'site.coverage': () => {
          throw new BridgeError({ code: 'INVALID_PARAMS', message: 'The site has no boundary; draw one first.' })
        },
      }).bridge,
    )
    await store.getState().runCoverage()
    await store.getState().runPlacement()
    expect(store.getState()).toMatchObject({ coverageRunning: false, coverageError: 'The site has no boundary; draw one first.', placementRunning: false })
    expect(store.getState().placementError).toMatch(/does not offer site planning/)
  })

  it('adds a placement as devices numbered on from the plan, in one step of undo, and not twice', async () => {
    const core = planCore()
    const store = await loaded(core)
    await store.getState().runPlacement({ targetShare: 0.9, kinds: ['camera', 'sensor'], minimiseCost: true })
    expect(core.calls.find((call) => call.method === 'site.placement')?.params).toEqual({ targetShare: 0.9, kinds: ['camera', 'sensor'], minimiseCost: true })
    store.getState().applyPlacement()
    const added = store.getState().planHistory!.site.devices.slice(2)
    // cam-1 and cam-3 are taken: the new cameras go on from cam-4.
    expect(added).toEqual([
      { id: 'cam-4', partNumber: 'CAM-B28-4M-040', mountingPointId: 'pole-2', orientationDeg: 90 },
      { id: 'sensor-1', partNumber: 'PIR-12-090', mountingPointId: 'pole-2', orientationDeg: 270 },
      { id: 'cam-5', partNumber: 'CAM-B28-4M-040', mountingPointId: 'pole-1', orientationDeg: 45 },
    ])
    expect(store.getState().planHistory?.undoLabel).toBe('add 3 devices from placement')
    await idle(store)
    expect(core.saves().map((save) => save.label)).toEqual(['add 3 devices from placement'])
    // The proposal was for revision 1: pressing again would place the same devices twice.
    store.getState().applyPlacement()
    expect(store.getState().planError).toMatch(/^The placement was worked out for revision 1, and the plan has changed since/)
    expect(store.getState().planHistory?.site.devices).toHaveLength(5)
    store.getState().undoPlan()
    expect(store.getState().planHistory?.site.devices).toHaveLength(2)
  })

  it('exports: the file the core made is downloaded under its name', async () => {
    const made: Blob[] = []
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => `blob:test/${made.push(blob as Blob)}`)
    const clicked: { href: string; download: string }[] = []
    const body = { append: () => {} }
    vi.stubGlobal('document', {
      body,
      createElement: () => {
        const link = { href: '', download: '', rel: '', click: () => clicked.push({ href: link.href, download: link.download }), remove: () => {} }
        return link
      },
    })
    const csv = 'part_number,quantity\nCAM-B28-4M-040,2\n'
    let answer: (value: unknown) => void = () => {}
    const { bridge, calls } = fakeBridge({
      'site.export': () => new Promise((resolve) => (answer = resolve)),
    })
    const store = planStore(bridge)
    const exporting = store.getState().exportSite('bom-csv')
    expect(store.getState().siteExporting).toBe('bom-csv')
    // One export at a time: a second press while the first is made does nothing.
    await store.getState().exportSite('report-pdf')
    await vi.waitFor(() => expect(calls).toHaveLength(1))
    answer({ fileName: 'depot-nord-bom.csv', mime: 'text/csv', data: btoa(csv) })
    await exporting
    expect(calls[0]!.params).toEqual({ kind: 'bom-csv' })
    expect(store.getState().siteExporting).toBeNull()
    expect(clicked).toHaveLength(1)
    expect(clicked[0]).toEqual({ href: 'blob:test/1', download: 'depot-nord-bom.csv' })
    expect(made[0]!.type).toBe('text/csv')
    expect(await made[0]!.text()).toBe(csv)
  })

  it('an export the core cannot make says which and why', async () => {
    const store = planStore(
      fakeBridge({
        'site.export': () => {
          throw new BridgeError({ code: 'INVALID_PARAMS', message: 'There is no plan yet.' })
        },
      }).bridge,
    )
    await store.getState().exportSite('report-pdf')
    expect(store.getState()).toMatchObject({ siteExporting: null, siteExportError: 'Commissioning report (PDF): not made. There is no plan yet.' })
  })

  it('opens a site file: sent as base64, and the revision it became replaces the plan and its history', async () => {
    const opened = view(9, { ...model, name: 'Opened' }, 'Opened depot.site.json')
    const text = JSON.stringify({ format: 'esp-fleet-console/site' })
    const { bridge, calls } = fakeBridge({ 'site.plan': () => view(1), 'site.catalogue': () => builtIn, 'site.openPlan': () => opened, 'site.outputs': () => outputs(2) })
    const store = planStore(bridge)
    await store.getState().loadPlan()
    await store.getState().openPlanFile(new File([text], 'depot.site.json'))
    const sent = calls.find((call) => call.method === 'site.openPlan')!.params as { fileName: string; data: string }
    expect(sent.fileName).toBe('depot.site.json')
    expect(atob(sent.data)).toBe(text)
    expect(store.getState().plan?.revision).toBe(9)
    expect(store.getState().planHistory?.site).toBe(opened.model)
    expect(store.getState().outputs?.devices).toHaveLength(2)
  })

  it('a damaged site file is refused with the field at fault; an empty one is not sent', async () => {
    const { bridge, calls } = fakeBridge({
      'site.openPlan': () => {
        throw new BridgeError({ code: 'INVALID_PARAMS', message: 'site.zones[2].polygon[5].x must be a finite number, not "abc".' })
      },
    })
    const store = planStore(bridge)
    await store.getState().openPlanFile(new File(['{}'], 'broken.json'))
    expect(store.getState().planError).toBe('broken.json was not opened: site.zones[2].polygon[5].x must be a finite number, not "abc".')
    await store.getState().openPlanFile(new File([], 'empty.json'))
    expect(store.getState().planError).toBe('empty.json was not opened: empty.json is empty.')
    expect(calls).toHaveLength(1)
  })

  it('the catalogue: bad JSON is a clear message and sends nothing; every refused part is listed; a good one replaces it', async () => {
    const core = planCore()
    const store = await loaded(core)
    await store.getState().runCoverage()
    await store.getState().saveCatalogue('[{"kind": "camera",]')
    expect(store.getState().catalogueProblems).toHaveLength(1)
    expect(store.getState().catalogueProblems[0]).toMatch(/^The catalogue is not valid JSON, so nothing was saved: .+\.$/)
    expect(core.count('site.saveCatalogue')).toBe(0)

    await store.getState().saveCatalogue('[{"kind": "camera", "partNumber": "X"}, {"kind": "blimp"}]')
    const problems = store.getState().catalogueProblems
    expect(problems[0]).toBe('The catalogue was not saved.')
    expect(problems.length).toBeGreaterThan(2)
    expect(problems.slice(1).every((line) => /^parts\[\d+\]: /.test(line))).toBe(true)
    expect(store.getState()).toMatchObject({ catalogueSaving: false, catalogue: { source: 'built-in' } })

    // Without the 2 MP turret, the plan's cameras are parts the catalogue lacks: edits say so from now on.
    const without = builtIn.parts.filter((part) => part.partNumber !== 'CAM-T28-2M-028')
    await store.getState().saveCatalogue(JSON.stringify(without))
    expect(store.getState()).toMatchObject({ catalogueProblems: [], catalogue: { source: 'edited' }, coverage: null, placement: null })
    store.getState().editPlan({ op: 'move', collection: 'devices', id: 'cam-1', toMountingPointId: 'pole-2' })
    expect(store.getState().planError).toBe('Device cam-1 is a CAM-T28-2M-028, which is not in the catalogue.')

    await store.getState().resetCatalogue()
    expect(store.getState().catalogue?.source).toBe('built-in')
    store.getState().editPlan({ op: 'move', collection: 'devices', id: 'cam-1', toMountingPointId: 'pole-2' })
    expect(store.getState().planError).toBeNull()
  })

  it('layers, selection and tool are the map’s to switch', () => {
    const store = planStore(fakeBridge({}).bridge)
    expect(store.getState().siteLayers.radio).toBe(false)
    store.getState().toggleSiteLayer('radio')
    store.getState().toggleSiteLayer('coverage')
    expect(store.getState().siteLayers).toMatchObject({ radio: true, coverage: false, zones: true })
    store.getState().selectSiteItem({ collection: 'devices', id: 'cam-1' })
    store.getState().setSiteTool('add-wall')
    expect(store.getState()).toMatchObject({ siteSelection: { collection: 'devices', id: 'cam-1' }, siteTool: 'add-wall' })
  })
})
