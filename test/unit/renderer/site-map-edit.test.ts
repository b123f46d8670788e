import { describe, expect, it } from 'vitest'
import type { SiteModel } from '../../../shared/domain/site/model'
import { applySiteEdit } from '../../../shared/domain/site/site-edits'
import {
  dragAnchor,
  dragEdit,
  dragPosition,
  freshId,
  isOutlineTool,
  metresPerPixel,
  newMountingPoint,
  newWall,
  outlineEdit,
  outlineProblem,
  snapGridM,
  snapOnMap,
  snapSite,
  snapToleranceM,
  startDrag,
} from '../../../renderer/src/features/site/map-edit'

const site: SiteModel = {
  name: 'Yard',
  origin: { lat: 60, lon: 10 },
  boundary: [
    { x: 0, y: 0 },
    { x: 100, y: 0 },
    { x: 100, y: 60 },
    { x: 0, y: 60 },
  ],
  zones: [
    {
      id: 'gate',
      name: 'Gate',
      kind: 'required',
      polygon: [
        { x: 10, y: 10 },
        { x: 30, y: 10 },
        { x: 30, y: 20 },
        { x: 10, y: 20 },
      ],
    },
  ],
  obstructions: [{ id: 'wall-2', shape: { kind: 'segment', a: { x: 50, y: 0 }, b: { x: 50, y: 30 } }, material: 'brick', heightM: 2, blocksSight: true, attenuationDb: 8 }],
  mountingPoints: [
    { id: 'mp-1', x: 40, y: 40, heightM: 3, allowedKinds: ['camera'] },
    { id: 'mp-7', x: 70, y: 40, heightM: 3, allowedKinds: ['camera'] },
  ],
  devices: [],
}

/** Zoom at which a pixel spans about 5 cm at the site's latitude: tolerance ≈ 0.5 m. */
const zoom = Math.log2((40_075_016.686 * Math.cos((60 * Math.PI) / 180)) / (512 * 0.05))

describe('screen pixels in metres', () => {
  it('follows Web Mercator: halves with each zoom step and shrinks with the cosine of latitude', () => {
    expect(metresPerPixel(0, 0)).toBeCloseTo(78_271.52, 1)
    expect(metresPerPixel(1, 0)).toBeCloseTo(metresPerPixel(0, 0) / 2, 6)
    expect(metresPerPixel(18, 60)).toBeCloseTo(metresPerPixel(18, 0) / 2, 6)
    expect(metresPerPixel(zoom, 60)).toBeCloseTo(0.05, 9)
    expect(snapToleranceM(zoom, 60)).toBeCloseTo(0.5, 9)
    expect(snapToleranceM(zoom, 60, 4)).toBeCloseTo(0.2, 9)
  })

  it('picks a round grid step no smaller than a pixel', () => {
    expect(snapGridM(0.05)).toBeCloseTo(0.05, 12)
    expect(snapGridM(0.03)).toBeCloseTo(0.05, 12)
    expect(snapGridM(0.12)).toBeCloseTo(0.2, 12)
    expect(snapGridM(0.6)).toBeCloseTo(1, 12)
    expect(snapGridM(7)).toBeCloseTo(10, 12)
    expect(snapGridM(0.0001)).toBe(0.001)
    expect(snapGridM(Number.NaN)).toBe(0.001)
  })
})

describe('snapping on the map', () => {
  it('catches a corner within ten pixels, an edge next, and else lands on round figures', () => {
    expect(snapOnMap({ x: 30.3, y: 19.7 }, site, zoom)).toMatchObject({ kind: 'vertex', point: { x: 30, y: 20 }, anchor: { on: 'zone', id: 'gate', index: 2 } })
    expect(snapOnMap({ x: 49.6, y: 15 }, site, zoom)).toMatchObject({ kind: 'edge', point: { x: 50, y: 15 } })
    const free = snapOnMap({ x: 75.123, y: 33.371 }, site, zoom)
    expect(free).toMatchObject({ kind: 'grid', point: { x: 75.1, y: 33.35 } })
    // Zoomed out five steps, the same half metre is well within reach of the corner.
    expect(snapOnMap({ x: 31.5, y: 21.5 }, site, zoom - 5).kind).toBe('vertex')
    expect(snapOnMap({ x: 31.5, y: 21.5 }, site, zoom).kind).toBe('grid')
  })
})

describe('dragging', () => {
  it('moves a mounting point by where it lands, keeping where the pointer took hold of it', () => {
    // Taken 0.2 m east of its centre, dropped with the pointer near the wall's top end.
    const target = startDrag({ kind: 'mountingPoint', id: 'mp-1' }, site.mountingPoints[0]!, { x: 40.2, y: 40 })
    const landing = snapOnMap(dragPosition(target, { x: 50.3, y: 30.1 }), site, zoom, dragAnchor(target))
    expect(landing).toMatchObject({ kind: 'vertex', point: { x: 50, y: 30 } })
    const edit = dragEdit(target, landing.point)
    expect(edit).toEqual({ op: 'move', collection: 'mountingPoints', id: 'mp-1', by: { x: 10, y: -10 } })
    const result = applySiteEdit(site, edit)
    expect(result.ok && result.site.mountingPoints[0]).toMatchObject({ id: 'mp-1', x: 50, y: 30 })
  })

  it('never snaps a dragged mounting point to itself', () => {
    const target = startDrag({ kind: 'mountingPoint', id: 'mp-7' }, site.mountingPoints[1]!, { x: 70, y: 40 })
    expect(snapOnMap(dragPosition(target, { x: 70.2, y: 40.1 }), site, zoom, dragAnchor(target)).kind).toBe('grid')
    // Without the anchor it would stay caught where it was.
    expect(snapOnMap({ x: 70.2, y: 40.1 }, site, zoom).kind).toBe('vertex')
  })

  it('puts a dragged corner on the corner it is dropped near, and not on its own edges', () => {
    const vertex = { on: 'zone', id: 'gate', index: 1 } as const
    const target = startDrag({ kind: 'vertex', vertex }, { x: 30, y: 10 }, { x: 30, y: 10 })
    // Pulled right along its own bottom edge: that edge must not hold it.
    expect(snapOnMap(dragPosition(target, { x: 35, y: 10.1 }), site, zoom, dragAnchor(target))).toMatchObject({ kind: 'grid', point: { x: 35, y: 10.1 } })
    const landing = snapOnMap(dragPosition(target, { x: 49.8, y: 0.3 }), site, zoom, dragAnchor(target))
    expect(landing).toMatchObject({ kind: 'vertex', point: { x: 50, y: 0 } })
    const edit = dragEdit(target, landing.point)
    expect(edit).toEqual({ op: 'move-vertex', vertex, to: { x: 50, y: 0 } })
    const result = applySiteEdit(site, edit)
    expect(result.ok && result.site.zones[0]!.polygon[1]).toEqual({ x: 50, y: 0 })
  })
})

describe('dragging a whole zone or wall', () => {
  it('moves the item by where its grabbed point lands once snapped, as one move edit', () => {
    // The wall taken a third of the way up, dropped with that point near mounting point mp-1.
    const target = startDrag({ kind: 'item', collection: 'obstructions', id: 'wall-2' }, { x: 50, y: 10 }, { x: 50, y: 10 })
    const landing = snapOnMap(dragPosition(target, { x: 40.3, y: 39.8 }), snapSite(site, target), zoom, dragAnchor(target))
    expect(landing).toMatchObject({ kind: 'vertex', point: { x: 40, y: 40 }, anchor: { on: 'mountingPoint', id: 'mp-1' } })
    const edit = dragEdit(target, landing.point)
    expect(edit).toEqual({ op: 'move', collection: 'obstructions', id: 'wall-2', by: { x: -10, y: 30 } })
    const result = applySiteEdit(site, edit)
    expect(result.ok && result.site.obstructions[0]!.shape).toEqual({ kind: 'segment', a: { x: 40, y: 30 }, b: { x: 40, y: 60 } })
  })

  it('never catches a moving zone on its own corners and edges where it was', () => {
    const target = startDrag({ kind: 'item', collection: 'zones', id: 'gate' }, { x: 20, y: 15 }, { x: 20, y: 15 })
    // Dropped with the grabbed point 0.3 m from the zone's own corner (30, 20) where it was: the grid decides.
    const nudged = snapOnMap(dragPosition(target, { x: 30.3, y: 19.7 }), snapSite(site, target), zoom, dragAnchor(target))
    expect(nudged).toMatchObject({ kind: 'grid', point: { x: 30.3, y: 19.7 } })
    expect(snapOnMap({ x: 30.3, y: 19.7 }, site, zoom).kind).toBe('vertex')
    const result = applySiteEdit(site, dragEdit(target, nudged.point))
    expect(result.ok && result.site.zones[0]!.polygon[0]).toEqual({ x: 20.3, y: 14.7 })
    // The site snapped against keeps everything else, and the model itself is untouched.
    expect(snapSite(site, target).zones).toEqual([])
    expect(snapSite(site, target).obstructions).toBe(site.obstructions)
    expect(site.zones).toHaveLength(1)
  })
})

describe('drawing tools', () => {
  it('numbers new items on from the highest id of their kind', () => {
    expect(freshId('mp', [])).toBe('mp-1')
    expect(freshId('mp', ['mp-1', 'mp-7', 'pole-9', 'mp-x', 'mmp-20'])).toBe('mp-8')
    expect(freshId('wall', site.obstructions.map((o) => o.id))).toBe('wall-3')
  })

  it('adds a mounting point that takes every kind but a switch, as the site file accepts it', () => {
    const item = newMountingPoint(site, { x: 20, y: 30 })
    expect(item).toMatchObject({ id: 'mp-8', x: 20, y: 30, allowedKinds: ['camera', 'sensor', 'gateway', 'node'] })
    expect(item.heightM).toBeGreaterThan(0)
    const result = applySiteEdit(site, { op: 'add', collection: 'mountingPoints', item })
    expect(result.ok && result.site.mountingPoints.map((m) => m.id)).toEqual(['mp-1', 'mp-7', 'mp-8'])
  })

  it('adds a wall as a concrete segment that blocks sight, with concrete loss', () => {
    const item = newWall(site, { x: 0, y: 30 }, { x: 20, y: 30 })
    expect(item).toMatchObject({ id: 'wall-3', shape: { kind: 'segment', a: { x: 0, y: 30 }, b: { x: 20, y: 30 } }, material: 'concrete', blocksSight: true, attenuationDb: 15 })
    const result = applySiteEdit(site, { op: 'add', collection: 'obstructions', item })
    expect(result.ok && result.site.obstructions.map((o) => o.id)).toEqual(['wall-2', 'wall-3'])
  })

  it('knows the tools that draw an outline corner by corner', () => {
    expect(['select', 'add-mounting-point', 'add-wall', 'add-zone', 'add-obstruction'].filter((tool) => isOutlineTool(tool as never))).toEqual(['add-zone', 'add-obstruction'])
  })
})

describe('closing an outline', () => {
  const square = [
    { x: 60, y: 10 },
    { x: 80, y: 10 },
    { x: 80, y: 25 },
    { x: 60, y: 25 },
  ]

  it('makes a required zone, numbered on from the zones drawn before, and selects it', () => {
    const result = outlineEdit(site, 'add-zone', square)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.edit).toEqual({ op: 'add', collection: 'zones', item: { id: 'zone-1', name: 'Zone 1', kind: 'required', polygon: square } })
    expect(result.selection).toEqual({ collection: 'zones', id: 'zone-1' })
    const applied = applySiteEdit(site, result.edit)
    expect(applied.ok && applied.site.zones.map((z) => z.id)).toEqual(['gate', 'zone-1'])
    const next = applied.ok && outlineEdit(applied.site, 'add-zone', square)
    expect(next && next.ok && next.selection.id).toBe('zone-2')
  })

  it('makes an obstruction a concrete footprint that blocks sight, with concrete loss', () => {
    const result = outlineEdit(site, 'add-obstruction', square)
    expect(result.ok && result.edit).toMatchObject({
      op: 'add',
      collection: 'obstructions',
      item: { id: 'building-1', shape: { kind: 'polygon', points: square }, material: 'concrete', blocksSight: true, attenuationDb: 15 },
    })
    const applied = result.ok && applySiteEdit(site, result.edit)
    expect(applied && applied.ok && applied.site.obstructions.map((o) => o.id)).toEqual(['wall-2', 'building-1'])
  })

  it('refuses an outline that crosses itself, naming the edges that meet', () => {
    // The last two corners swapped: a figure of eight.
    const bowTie = [square[0]!, square[1]!, square[3]!, square[2]!]
    const problem = outlineProblem('add-zone', bowTie)
    expect(problem).toMatch(/^This zone outline crosses itself: the edges from corner 2 and from corner 4 meet\./)
    expect(problem).toContain('Backspace takes the last corner back')
    expect(outlineEdit(site, 'add-obstruction', bowTie)).toEqual({ ok: false, problem: expect.stringMatching(/^This obstruction outline crosses itself/) })
    // A corner put back on an earlier one is refused too: the outline would pinch to a point there.
    expect(outlineProblem('add-zone', [...square, { x: 70, y: 17 }, { x: 80, y: 25 }])).toMatch(/touches itself|doubles back|runs back/)
  })

  it('refuses too few corners, corners on one line, and a speck', () => {
    expect(outlineProblem('add-zone', square.slice(0, 2))).toBe('A zone needs at least three corners; it has 2. Click where the next one goes.')
    expect(outlineProblem('add-obstruction', [{ x: 0, y: 0 }, { x: 5, y: 5 }, { x: 10, y: 10 }])).toMatch(/^These corners lie on one line, so the obstruction would have no area\./)
    expect(outlineProblem('add-zone', [{ x: 0, y: 0 }, { x: 0.05, y: 0 }, { x: 0, y: 0.05 }])).toMatch(/smaller than 10 × 10 cm/)
    expect(outlineProblem('add-zone', square)).toBeNull()
  })
})
