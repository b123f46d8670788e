// Editing a site plan: what the planner does on the map (add, move, reshape, delete), undone and redone in
// order, refused with a reason when it would leave a device without a mounting point, and snapping the
// pointer to the corners and edges already drawn.

import { describe, expect, it } from 'vitest'
import type { Catalogue, SiteModel } from '../../shared/domain/site/model'
import { decodeSiteFile, encodeSiteFile } from '../../shared/domain/site/site-file'
import { EditHistory, applySiteEdit, defaultUndoDepth, snapPoint, type SiteEdit } from '../../shared/domain/site/site-edits'

const catalogue: Catalogue = [
  {
    kind: 'camera',
    partNumber: 'CAM-4MP-28',
    name: '4 MP bullet, 2.8 mm',
    powerW: 6,
    priceEur: 180,
    sensor: { format: '1/2.8"', widthMm: 5.6, widthPx: 2560, heightPx: 1440 },
    lens: { focalLengthMm: 2.8 },
    hfovDeg: 100,
  },
  { kind: 'node', partNumber: 'NODE-C6', name: 'ESP32-C6 node', powerW: 0.5, priceEur: 25, frequencyMHz: 2442, txPowerDbm: 20, antennaGainDbi: 2, sensitivityDbm: -97 },
]

const site: SiteModel = {
  name: 'Depot Nord',
  origin: { lat: 48.137154, lon: 11.576124 },
  boundary: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 60 }, { x: 0, y: 60 }],
  zones: [{ id: 'yard', name: 'Yard', polygon: [{ x: 5, y: 5 }, { x: 60, y: 5 }, { x: 60, y: 55 }, { x: 5, y: 55 }], kind: 'required' }],
  obstructions: [
    { id: 'wall', shape: { kind: 'segment', a: { x: 10, y: 30 }, b: { x: 50, y: 30 } }, material: 'brick', heightM: 2.5, blocksSight: true, attenuationDb: 8 },
    { id: 'hall', shape: { kind: 'polygon', points: [{ x: 70, y: 10 }, { x: 95, y: 10 }, { x: 95, y: 40 }, { x: 70, y: 40 }] }, material: 'metal', heightM: 8, blocksSight: true, attenuationDb: 26 },
  ],
  mountingPoints: [
    { id: 'pole-1', x: 30, y: 45, heightM: 6, allowedKinds: ['camera', 'sensor', 'gateway', 'node'] },
    { id: 'jbox-1', x: 65, y: 20, heightM: 1.5, allowedKinds: ['node'] },
  ],
  devices: [{ id: 'cam-1', partNumber: 'CAM-4MP-28', mountingPointId: 'pole-1', orientationDeg: 180 }],
}

function applied(history: EditHistory, edit: SiteEdit): EditHistory {
  const result = history.apply(edit)
  if (!result.ok) throw new Error(result.error)
  return result.history
}

function refusal(history: EditHistory, edit: SiteEdit): string {
  const result = history.apply(edit)
  if (result.ok) throw new Error('expected the edit to be refused')
  expect(result.history).toBe(history)
  return result.error
}

describe('editing with undo and redo', () => {
  const start = EditHistory.start(site, { catalogue })

  it('adds a zone, takes it back, and puts it back', () => {
    const pond = { id: 'pond', name: 'Pond', polygon: [{ x: 70, y: 45 }, { x: 90, y: 45 }, { x: 80, y: 58 }], kind: 'excluded' as const }
    const added = applied(start, { op: 'add', collection: 'zones', item: pond })
    expect(added.site.zones.map((z) => z.id)).toEqual(['yard', 'pond'])
    expect(added.undoLabel).toBe('add zone pond')
    const undone = added.undo()
    expect(undone.site).toBe(site)
    expect(undone.canUndo).toBe(false)
    expect(undone.redoLabel).toBe('add zone pond')
    expect(undone.redo().site).toBe(added.site)
  })

  it('never changes the plan it was given, nor an earlier history', () => {
    const before = structuredClone(site)
    const moved = applied(start, { op: 'move-vertex', vertex: { on: 'zone', id: 'yard', index: 2 }, to: { x: 62, y: 57 } })
    applied(moved, { op: 'move', collection: 'obstructions', id: 'hall', by: { x: -2, y: 0 } })
    expect(site).toEqual(before)
    expect(start.site).toBe(site)
    expect(moved.site.zones[0]!.polygon[2]).toEqual({ x: 62, y: 57 })
  })

  it('moves a pole with its camera: the device stays on it', () => {
    const moved = applied(start, { op: 'move', collection: 'mountingPoints', id: 'pole-1', by: { x: 5, y: -3 } })
    expect(moved.site.mountingPoints[0]).toMatchObject({ id: 'pole-1', x: 35, y: 42 })
    expect(moved.site.devices).toEqual(site.devices)
    expect(moved.undoLabel).toBe('move mounting point pole-1')
  })

  it('moves a whole building and one end of a wall', () => {
    const hall = applied(start, { op: 'move', collection: 'obstructions', id: 'hall', by: { x: -5, y: 2 } }).site.obstructions[1]!.shape
    expect(hall).toEqual({ kind: 'polygon', points: [{ x: 65, y: 12 }, { x: 90, y: 12 }, { x: 90, y: 42 }, { x: 65, y: 42 }] })
    const wall = applied(start, { op: 'move-vertex', vertex: { on: 'obstruction', id: 'wall', index: 1 }, to: { x: 55, y: 32 } }).site.obstructions[0]!.shape
    expect(wall).toEqual({ kind: 'segment', a: { x: 10, y: 30 }, b: { x: 55, y: 32 } })
    const boundary = applied(start, { op: 'move-vertex', vertex: { on: 'boundary', index: 2 }, to: { x: 110, y: 65 } })
    expect(boundary.site.boundary[2]).toEqual({ x: 110, y: 65 })
    expect(boundary.undoLabel).toBe('move corner 3 of the boundary')
  })

  it('changes a wall to concrete and back with undo', () => {
    const concrete = applied(start, { op: 'update', collection: 'obstructions', id: 'wall', changes: { material: 'concrete', attenuationDb: 15 } })
    expect(concrete.site.obstructions[0]).toMatchObject({ id: 'wall', material: 'concrete', attenuationDb: 15, heightM: 2.5 })
    expect(concrete.undo().site.obstructions[0]!.material).toBe('brick')
  })

  it('moves the camera to another pole, and clears redo once something new is done', () => {
    const second = applied(start, { op: 'add', collection: 'mountingPoints', item: { id: 'pole-2', x: 80, y: 50, heightM: 6, allowedKinds: ['camera'] } })
    const moved = applied(second, { op: 'move', collection: 'devices', id: 'cam-1', toMountingPointId: 'pole-2' })
    expect(moved.site.devices[0]!.mountingPointId).toBe('pole-2')
    expect(moved.undoLabel).toBe('move device cam-1 to pole-2')
    const branched = applied(moved.undo(), { op: 'delete', collection: 'zones', id: 'yard' })
    expect(branched.canRedo).toBe(false)
    expect(branched.undo().undo().site).toBe(site)
  })

  it(`keeps the last ${defaultUndoDepth} edits and lets the oldest go`, () => {
    let history = start
    for (let i = 0; i < 250; i++) history = applied(history, { op: 'move', collection: 'mountingPoints', id: 'jbox-1', by: { x: 0, y: 0.1 } })
    let undos = 0
    while (history.canUndo) {
      history = history.undo()
      undos++
    }
    expect(undos).toBe(defaultUndoDepth)
    expect(history.site.mountingPoints[1]!.y).toBeCloseTo(20 + 50 * 0.1, 9)
    expect(EditHistory.start(site, { maxDepth: 3 }).canUndo).toBe(false)
  })

  it('leaves a plan that saves and opens again after any of these edits', () => {
    let history = start
    history = applied(history, { op: 'add', collection: 'devices', item: { id: 'node-1', partNumber: 'NODE-C6', mountingPointId: 'jbox-1', orientationDeg: 0 } })
    history = applied(history, { op: 'update', collection: 'mountingPoints', id: 'pole-1', changes: { orientationsDeg: [90, 180] } })
    history = applied(history, { op: 'delete', collection: 'obstructions', id: 'hall' })
    const text = encodeSiteFile(history.site, { savedAt: '2025-03-14T09:30:00Z' })
    expect(decodeSiteFile(text)).toMatchObject({ ok: true, site: history.site })
  })
})

describe('several edits as one step', () => {
  const start = EditHistory.start(site, { catalogue })
  const pole2 = { id: 'pole-2', x: 80, y: 50, heightM: 6, allowedKinds: ['camera' as const] }
  const cam = (id: string, mountingPointId: string) => ({ op: 'add' as const, collection: 'devices' as const, item: { id, partNumber: 'CAM-4MP-28', mountingPointId, orientationDeg: 90 } })

  it('adds a pole and two cameras on it, and one undo takes all three back under one label', () => {
    const batch = start.applyAll('add 2 devices from placement', [{ op: 'add', collection: 'mountingPoints', item: pole2 }, cam('cam-2', 'pole-2'), cam('cam-3', 'pole-1')])
    if (!batch.ok) throw new Error(batch.error)
    const added = batch.history
    expect(added.site.devices.map((d) => d.id)).toEqual(['cam-1', 'cam-2', 'cam-3'])
    expect(added.undoLabel).toBe('add 2 devices from placement')
    const undone = added.undo()
    expect(undone.site).toBe(site)
    expect(undone.canUndo).toBe(false)
    expect(undone.redoLabel).toBe('add 2 devices from placement')
    expect(undone.redo().site).toBe(added.site)
  })

  it('a later edit may rely on an earlier one of the same batch', () => {
    // The camera stands on the pole the batch adds first; the other way round it has nothing to stand on.
    expect(start.applyAll('pole and camera', [{ op: 'add', collection: 'mountingPoints', item: pole2 }, cam('cam-2', 'pole-2')]).ok).toBe(true)
    expect(start.applyAll('camera and pole', [cam('cam-2', 'pole-2'), { op: 'add', collection: 'mountingPoints', item: pole2 }]).ok).toBe(false)
  })

  it('is all or nothing: one refused edit refuses the batch, naming which edit and why', () => {
    const result = start.applyAll('add 3 devices from placement', [cam('cam-2', 'pole-1'), cam('cam-3', 'jbox-1'), cam('cam-4', 'pole-1')])
    expect(result).toEqual({
      ok: false,
      error: 'Nothing was changed: edit 2 of 3 (add device cam-3) is refused. Device cam-3 is a camera, but mounting point jbox-1 takes only node.',
      history: start,
    })
    expect(start.site.devices.map((d) => d.id)).toEqual(['cam-1'])
    // Two devices with one id: the second is refused, and the first does not stay behind.
    const twice = start.applyAll('twice', [cam('cam-2', 'pole-1'), cam('cam-2', 'pole-1')])
    expect(twice.ok).toBe(false)
    expect(!twice.ok && twice.error).toBe('Nothing was changed: edit 2 of 2 (add device cam-2) is refused. A device with the id "cam-2" already exists; give the new one another id.')
  })

  it('clears redo like any edit; an empty batch adds no step', () => {
    const moved = applied(start, { op: 'move', collection: 'mountingPoints', id: 'jbox-1', by: { x: 1, y: 0 } }).undo()
    expect(moved.canRedo).toBe(true)
    const batch = moved.applyAll('one camera', [cam('cam-2', 'pole-1')])
    expect(batch.ok && batch.history.canRedo).toBe(false)
    expect(start.applyAll('nothing', [])).toEqual({ ok: true, history: start })
  })

  it('labels a batch by its edits when given no label', () => {
    const batch = start.applyAll('  ', [cam('cam-2', 'pole-1'), { op: 'delete', collection: 'zones', id: 'yard' }])
    expect(batch.ok && batch.history.undoLabel).toBe('add device cam-2, delete zone yard')
  })
})

describe('edits that would break the plan are refused, with the reason', () => {
  const start = EditHistory.start(site, { catalogue })

  it('will not delete a pole that still carries a camera; the camera has to go first', () => {
    expect(refusal(start, { op: 'delete', collection: 'mountingPoints', id: 'pole-1' })).toBe('Mounting point pole-1 carries device cam-1; move or delete it first.')
    const withoutCamera = applied(start, { op: 'delete', collection: 'devices', id: 'cam-1' })
    expect(applied(withoutCamera, { op: 'delete', collection: 'mountingPoints', id: 'pole-1' }).site.mountingPoints.map((m) => m.id)).toEqual(['jbox-1'])
  })

  it('will not put a camera on a junction box that takes only nodes, nor narrow a pole under its camera', () => {
    expect(refusal(start, { op: 'move', collection: 'devices', id: 'cam-1', toMountingPointId: 'jbox-1' })).toBe('Device cam-1 is a camera, but mounting point jbox-1 takes only node.')
    expect(refusal(start, { op: 'update', collection: 'mountingPoints', id: 'pole-1', changes: { allowedKinds: ['node'] } })).toBe(
      'Device cam-1 is a camera, but mounting point pole-1 takes only node.',
    )
    // Without a catalogue the kind of a part is unknown, so only the mounting point's existence is checked.
    expect(EditHistory.start(site).apply({ op: 'move', collection: 'devices', id: 'cam-1', toMountingPointId: 'jbox-1' }).ok).toBe(true)
  })

  it('will not place a device on a mounting point that does not exist, or a part the catalogue lacks', () => {
    expect(refusal(start, { op: 'add', collection: 'devices', item: { id: 'cam-2', partNumber: 'CAM-4MP-28', mountingPointId: 'pole-9', orientationDeg: 0 } })).toBe(
      'Device cam-2 would stand on mounting point "pole-9", which is not in the site.',
    )
    expect(refusal(start, { op: 'add', collection: 'devices', item: { id: 'cam-2', partNumber: 'CAM-X', mountingPointId: 'pole-1', orientationDeg: 0 } })).toBe(
      'Device cam-2 is a CAM-X, which is not in the catalogue.',
    )
  })

  it('keeps ids unique and unchanging', () => {
    expect(refusal(start, { op: 'add', collection: 'zones', item: { ...site.zones[0]!, name: 'Second yard' } })).toBe('A zone with the id "yard" already exists; give the new one another id.')
    expect(refusal(start, { op: 'update', collection: 'mountingPoints', id: 'pole-1', changes: { id: 'pole-7' } as object })).toBe(
      'The id of mounting point pole-1 cannot be changed; add a new one and delete this one instead.',
    )
    expect(refusal(start, { op: 'delete', collection: 'zones', id: 'car-park' })).toBe('There is no zone "car-park" in the site.')
  })

  it('refuses values the site file could not hold, naming the field', () => {
    expect(refusal(start, { op: 'update', collection: 'zones', id: 'yard', changes: { kind: 'maybe' as 'required' } })).toBe(
      'That change would make zone yard invalid: zone.kind must be one of required, optional, excluded, not "maybe".',
    )
    expect(refusal(start, { op: 'add', collection: 'mountingPoints', item: { id: 'p', x: Number.NaN, y: 1, heightM: 3, allowedKinds: ['camera'] } })).toBe(
      'The new mounting point is not valid: mounting point.x must be a finite number, not NaN.',
    )
    expect(refusal(start, { op: 'move-vertex', vertex: { on: 'zone', id: 'yard', index: 8 }, to: { x: 1, y: 1 } })).toBe('Corner 9 of zone yard does not exist; it has 4 corners.')
    expect(refusal(start, { op: 'move', collection: 'zones', id: 'yard', by: { x: Number.POSITIVE_INFINITY, y: 0 } })).toBe('A move needs a distance east and north in metres.')
  })

  it('allows poor geometry mid-edit, which validateSite reports, rather than fighting the drag', () => {
    const crossed = applySiteEdit(site, { op: 'move-vertex', vertex: { on: 'zone', id: 'yard', index: 1 }, to: { x: 5, y: 60 } })
    expect(crossed.ok).toBe(true)
  })
})

describe('snapping the pointer', () => {
  const tolerance = { toleranceM: 0.5 }

  it('lands on a corner within reach, naming whose corner it is', () => {
    expect(snapPoint({ x: 60.3, y: 54.8 }, site, tolerance)).toEqual({ kind: 'vertex', point: { x: 60, y: 55 }, distanceM: expect.closeTo(Math.hypot(0.3, 0.2), 9), anchor: { on: 'zone', id: 'yard', index: 2 } })
    expect(snapPoint({ x: 65.2, y: 20.1 }, site, tolerance)).toMatchObject({ kind: 'vertex', point: { x: 65, y: 20 }, anchor: { on: 'mountingPoint', id: 'jbox-1' } })
  })

  it('prefers a corner to an edge that is nearer, because a corner is what a planner aims at', () => {
    // 0.1 m from the wall's line, 0.4 m from its end.
    expect(snapPoint({ x: 49.6, y: 30.1 }, site, tolerance)).toMatchObject({ kind: 'vertex', point: { x: 50, y: 30 }, anchor: { on: 'obstruction', id: 'wall', index: 1 } })
  })

  it('lands on the nearest point of an edge when no corner is within reach', () => {
    expect(snapPoint({ x: 30, y: 30.3 }, site, tolerance)).toEqual({ kind: 'edge', point: { x: 30, y: 30 }, distanceM: expect.closeTo(0.3, 9), edge: { on: 'obstruction', id: 'wall', index: 0 } })
    // The hall's closing edge runs from its last corner back to the first.
    expect(snapPoint({ x: 69.7, y: 25 }, site, tolerance)).toMatchObject({ kind: 'edge', point: { x: 70, y: 25 }, edge: { on: 'obstruction', id: 'hall', index: 3 } })
  })

  it('falls to the grid in whole millimetres when nothing is near, and stays put without a grid', () => {
    expect(snapPoint({ x: 12.34, y: 7.77 }, site, { toleranceM: 0.5, gridM: 0.1 })).toEqual({ kind: 'grid', point: { x: 12.3, y: 7.8 }, distanceM: expect.closeTo(Math.hypot(0.04, 0.03), 9) })
    expect(snapPoint({ x: 12.34, y: 7.77 }, site, tolerance)).toEqual({ kind: 'none', point: { x: 12.34, y: 7.77 } })
  })

  it('does not let a dragged corner catch itself or its own edges', () => {
    const dragged = { on: 'zone', id: 'yard', index: 1 } as const
    expect(snapPoint({ x: 60.1, y: 5.1 }, site, { toleranceM: 0.5, gridM: 1, ignore: dragged })).toEqual({ kind: 'grid', point: { x: 60, y: 5 }, distanceM: expect.any(Number) })
    // The same corner, dragged onto the wall, catches the wall.
    expect(snapPoint({ x: 40, y: 30.2 }, site, { toleranceM: 0.5, ignore: dragged })).toMatchObject({ kind: 'edge', edge: { on: 'obstruction', id: 'wall' } })
  })

  it('snaps a dragged corner and moves it there in one undoable edit', () => {
    const snap = snapPoint({ x: 49.8, y: 30.3 }, site, { toleranceM: 0.5, ignore: { on: 'zone', id: 'yard', index: 2 } })
    const history = applied(EditHistory.start(site), { op: 'move-vertex', vertex: { on: 'zone', id: 'yard', index: 2 }, to: snap.point })
    expect(history.site.zones[0]!.polygon[2]).toEqual({ x: 50, y: 30 })
  })
})
