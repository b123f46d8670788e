import { describe, expect, it } from 'vitest'
import type { Feature } from '../../../shared/domain/site/import-report'
import { parseCatalogue, type Catalogue, type SiteModel } from '../../../shared/domain/site/model'
import { defaultLinkMarginDb } from '../../../shared/domain/site/network'
import { createLocalProjection } from '../../../shared/domain/site/projection'
import { siteOutputs } from '../../../shared/domain/site/site-outputs'
import parts from '../../../resources/catalogue/parts.json'
import {
  areaLabel,
  blindSpotCollection,
  draftCollection,
  frameBounds,
  itemKey,
  linkQuality,
  planCollections,
  planOfOtherImport,
  selectionOfKey,
  vertexOfHandle,
  vertexPosition,
} from '../../../renderer/src/features/site/map-plan-features'
import type { LonLatBounds } from '../../../renderer/src/features/site/site-model'

function builtInCatalogue(): Catalogue {
  const parsed = parseCatalogue(parts)
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'))
  return parsed.catalogue
}

const origin = { lat: 48.7705, lon: 21.0012 }
const projection = createLocalProjection(origin)

/** A 100 × 60 m yard: a gate zone, a concrete wall and a container, a gateway, a radio node and a camera. */
const yard: SiteModel = {
  name: 'Yard',
  origin,
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
        { x: 0, y: 0 },
        { x: 20, y: 0 },
        { x: 20, y: 10 },
      ],
    },
  ],
  obstructions: [
    { id: 'wall-1', shape: { kind: 'segment', a: { x: 50, y: 0 }, b: { x: 50, y: 30 } }, material: 'concrete', heightM: 2.5, blocksSight: true, attenuationDb: 15 },
    {
      id: 'box',
      shape: {
        kind: 'polygon',
        points: [
          { x: 70, y: 40 },
          { x: 80, y: 40 },
          { x: 80, y: 45 },
        ],
      },
      material: 'metal',
      heightM: 2.6,
      blocksSight: true,
      attenuationDb: 26,
    },
  ],
  mountingPoints: [
    { id: 'mp-1', x: 10, y: 10, heightM: 3, allowedKinds: ['gateway', 'camera'] },
    { id: 'mp-2', x: 30, y: 10, heightM: 2, allowedKinds: ['node'] },
    { id: 'mp-3', x: 90, y: 50, heightM: 4, allowedKinds: ['camera'] },
    { id: 'mp-4', x: 60, y: 50, heightM: 3, allowedKinds: ['camera'] },
  ],
  devices: [
    { id: 'gw-1', partNumber: 'GW-LR868-IN', mountingPointId: 'mp-1', orientationDeg: 0 },
    { id: 'node-1', partNumber: 'NODE-E32-LR-BAT', mountingPointId: 'mp-2', orientationDeg: 0 },
    { id: 'cam-1', partNumber: 'CAM-B28-4M-040', mountingPointId: 'mp-3', orientationDeg: 225 },
  ],
}

const catalogue = builtInCatalogue()

/** Back to local metres, to compare positions with the model at the millimetre. */
const metres = (position: number[]) => projection.toLocal({ lon: position[0]!, lat: position[1]! })
const byId = (features: Feature[], id: string) => features.find((f) => f.properties?.id === id)!
const coordinates = (feature: Feature) => (feature.geometry as { coordinates: unknown }).coordinates

describe('the plan as map layers', () => {
  const outputs = siteOutputs(yard, catalogue)
  const drawn = planCollections(yard, { catalogue, outputs, selection: null })

  it('puts every item where the model has it, in lon/lat, rings closed', () => {
    const gate = coordinates(drawn.zones.features[0]!) as number[][][]
    expect(gate[0]).toHaveLength(4)
    expect(gate[0]![3]).toEqual(gate[0]![0])
    expect(metres(gate[0]![1]!).x).toBeCloseTo(20, 3)
    expect(drawn.zones.features[0]!.properties).toMatchObject({ key: 'zones:gate', kind: 'required', name: 'Gate' })

    const boundary = coordinates(drawn.boundary.features[0]!) as number[][]
    expect(boundary).toHaveLength(5)
    expect(metres(boundary[2]!).x).toBeCloseTo(100, 3)
    expect(metres(boundary[2]!).y).toBeCloseTo(60, 3)

    const wall = byId(drawn.obstructions.features, 'wall-1')
    expect(wall.geometry?.type).toBe('LineString')
    expect(metres((coordinates(wall) as number[][])[1]!).y).toBeCloseTo(30, 3)
    expect(wall.properties).toMatchObject({ material: 'concrete', blocksSight: true, attenuationDb: 15 })
    expect(byId(drawn.obstructions.features, 'box').geometry?.type).toBe('Polygon')
  })

  it('tells free mounting points from occupied ones', () => {
    expect(drawn.mountingPoints.features.map((f) => [f.properties?.id, f.properties?.occupied])).toEqual([
      ['mp-1', true],
      ['mp-2', true],
      ['mp-3', true],
      ['mp-4', false],
    ])
  })

  it('draws each device on its mounting point with its kind, and a facing only where it has one', () => {
    const camera = byId(drawn.devices.features, 'cam-1')
    expect(metres(coordinates(camera) as number[])).toMatchObject({ x: expect.closeTo(90, 3), y: expect.closeTo(50, 3) })
    expect(camera.properties).toMatchObject({ key: 'devices:cam-1', kind: 'camera', label: 'cam-1', orientationDeg: 225, faces: true })
    expect(byId(drawn.devices.features, 'gw-1').properties).toMatchObject({ kind: 'gateway', faces: false })
    expect(byId(drawn.devices.features, 'node-1').properties).toMatchObject({ kind: 'node', faces: false })
  })

  it('draws a device whose part the catalogue lacks as unknown, and none on a missing mounting point', () => {
    const site: SiteModel = {
      ...yard,
      devices: [...yard.devices, { id: 'odd-1', partNumber: 'NOT-IN-CATALOGUE', mountingPointId: 'mp-4', orientationDeg: 0 }, { id: 'lost-1', partNumber: 'CAM-B28-4M-040', mountingPointId: 'gone', orientationDeg: 0 }],
    }
    const devices = planCollections(site, { catalogue, outputs: null, selection: null }).devices.features
    expect(devices.map((f) => f.properties?.id)).toEqual(['gw-1', 'node-1', 'cam-1', 'odd-1'])
    expect(byId(devices, 'odd-1').properties?.kind).toBe('unknown')
    // Without a catalogue yet, the outputs still lend the kinds they know.
    expect(byId(planCollections(yard, { catalogue: null, outputs, selection: null }).devices.features, 'gw-1').properties?.kind).toBe('gateway')
  })

  it('draws the network links between the devices as they stand now, coloured by margin', () => {
    expect(outputs.network.links.map((l) => [l.nodeId, l.gatewayId])).toEqual([['node-1', 'gw-1']])
    const link = drawn.links.features[0]!
    const [node, gateway] = coordinates(link) as number[][]
    expect(metres(node!).x).toBeCloseTo(30, 3)
    expect(metres(gateway!).x).toBeCloseTo(10, 3)
    expect(link.properties).toMatchObject({ nodeId: 'node-1', gatewayId: 'gw-1', quality: linkQuality(outputs.network.links[0]!.marginDb) })

    // The node's pole dragged since the outputs were computed: the line follows the model.
    const moved: SiteModel = { ...yard, mountingPoints: yard.mountingPoints.map((m) => (m.id === 'mp-2' ? { ...m, x: 40 } : m)) }
    expect(metres((coordinates(planCollections(moved, { catalogue, outputs, selection: null }).links.features[0]!) as number[][])[0]!).x).toBeCloseTo(40, 3)
    // The node deleted since: no line to nowhere.
    const without: SiteModel = { ...yard, devices: yard.devices.filter((d) => d.id !== 'node-1') }
    expect(planCollections(without, { catalogue, outputs, selection: null }).links.features).toEqual([])
  })

  it('calls a link weak under the required margin and thin just over it', () => {
    expect(linkQuality(defaultLinkMarginDb - 0.1)).toBe('weak')
    expect(linkQuality(defaultLinkMarginDb)).toBe('thin')
    expect(linkQuality(defaultLinkMarginDb + 30)).toBe('good')
  })
})

describe('corner handles', () => {
  it('offers the boundary corners always, and the corners of the selected zone or wall', () => {
    const none = planCollections(yard, { catalogue, outputs: null, selection: null }).handles.features
    expect(none.map((f) => f.properties?.on)).toEqual(['boundary', 'boundary', 'boundary', 'boundary'])

    const zone = planCollections(yard, { catalogue, outputs: null, selection: { collection: 'zones', id: 'gate' } }).handles.features.filter((f) => f.properties?.selected)
    expect(zone.map((f) => vertexOfHandle(f.properties))).toEqual([0, 1, 2].map((index) => ({ on: 'zone', id: 'gate', index })))

    const wall = planCollections(yard, { catalogue, outputs: null, selection: { collection: 'obstructions', id: 'wall-1' } }).handles.features.filter((f) => f.properties?.selected)
    const ends = wall.map((f) => vertexOfHandle(f.properties)!)
    expect(ends.map((vertex) => vertexPosition(yard, vertex))).toEqual([
      { x: 50, y: 0 },
      { x: 50, y: 30 },
    ])
    // A selected mounting point has no corners.
    expect(planCollections(yard, { catalogue, outputs: null, selection: { collection: 'mountingPoints', id: 'mp-1' } }).handles.features).toHaveLength(4)
  })

  it('reads nothing but a corner back from a handle', () => {
    expect(vertexOfHandle({ on: 'boundary', index: 2 })).toEqual({ on: 'boundary', index: 2 })
    expect(vertexOfHandle({ on: 'zone', index: 1 })).toBeNull()
    expect(vertexOfHandle({ on: 'boundary', index: -1 })).toBeNull()
    expect(vertexOfHandle({ on: 'device', id: 'x', index: 0 })).toBeNull()
    expect(vertexOfHandle(null)).toBeNull()
    expect(vertexPosition(yard, { on: 'zone', id: 'gone', index: 0 })).toBeNull()
  })
})

describe('item keys', () => {
  it('name an item of the model both ways, ids with colons included', () => {
    for (const selection of [
      { collection: 'zones', id: 'gate' },
      { collection: 'mountingPoints', id: 'pole:3' },
      { collection: 'devices', id: 'cam-1' },
      { collection: 'obstructions', id: 'wall-1' },
    ] as const) {
      expect(selectionOfKey(itemKey(selection))).toEqual(selection)
    }
    expect(selectionOfKey('boundary:0')).toBeNull()
    expect(selectionOfKey('zones:')).toBeNull()
    expect(selectionOfKey(7)).toBeNull()
  })
})

describe('blind spots', () => {
  const outline = [
    [21.0, 48.77],
    [21.001, 48.77],
    [21.001, 48.771],
    [21.0, 48.771],
  ] as [number, number][]

  it('closes the rings, keeps holes, and labels each spot with its area at its centre', () => {
    const hole = [
      [21.0004, 48.7704],
      [21.0004, 48.7706],
      [21.0006, 48.7706],
    ] as [number, number][]
    const drawn = blindSpotCollection({ blindSpots: [{ id: 3, areaM2: 1234.4, cells: 1234, centre: [21.0005, 48.7705], outline: [outline, hole] }] })
    const [polygon, label] = drawn.features
    const rings = coordinates(polygon!) as number[][][]
    expect(rings).toHaveLength(2)
    expect(rings[0]).toHaveLength(5)
    expect(rings[0]![4]).toEqual(rings[0]![0])
    expect(rings[1]![3]).toEqual(rings[1]![0])
    expect(label!.geometry).toEqual({ type: 'Point', coordinates: [21.0005, 48.7705] })
    expect(label!.properties).toMatchObject({ id: 3, label: '1234 m²' })
  })

  it('leaves a ring the core closed as it is, and skips a spot without a ring', () => {
    const closed = [...outline, outline[0]!]
    const drawn = blindSpotCollection({
      blindSpots: [
        { id: 1, areaM2: 4, cells: 4, centre: [21, 48.77], outline: [closed] },
        { id: 2, areaM2: 1, cells: 1, centre: [21, 48.77], outline: [] },
      ],
    })
    expect(drawn.features).toHaveLength(2)
    expect((coordinates(drawn.features[0]!) as number[][][])[0]).toHaveLength(5)
  })

  it('says areas as a planner reads them', () => {
    expect(areaLabel(2.25)).toBe('2.3 m²')
    expect(areaLabel(4)).toBe('4 m²')
    expect(areaLabel(123.6)).toBe('124 m²')
    expect(areaLabel(25_000)).toBe('2.5 ha')
  })
})

describe('a shape being drawn', () => {
  const corners = [
    { x: 0, y: 0 },
    { x: 20, y: 0 },
    { x: 20, y: 10 },
  ]
  const geometryTypes = (drawn: { features: Feature[] }) => drawn.features.map((f) => f.geometry?.type)

  it('shows a wall from its first end to the pointer', () => {
    const drawn = draftCollection(origin, corners.slice(0, 1), { x: 5, y: 5 }, { outline: false, closing: false })
    expect(geometryTypes(drawn)).toEqual(['LineString', 'Point'])
    const [a, b] = coordinates(drawn.features[0]!) as number[][]
    expect(metres(a!)).toMatchObject({ x: expect.closeTo(0, 3), y: expect.closeTo(0, 3) })
    expect(metres(b!)).toMatchObject({ x: expect.closeTo(5, 3), y: expect.closeTo(5, 3) })
  })

  it('shows an outline with the area it would close, its corners, and the first one marked', () => {
    const drawn = draftCollection(origin, corners, { x: 0, y: 10 }, { outline: true, closing: false })
    expect(geometryTypes(drawn)).toEqual(['Polygon', 'LineString', 'Point', 'Point', 'Point'])
    // Through the pointer and back to the first corner.
    const ring = (coordinates(drawn.features[0]!) as number[][][])[0]!
    expect(ring).toHaveLength(5)
    expect(ring[4]).toEqual(ring[0])
    expect(metres(ring[3]!).y).toBeCloseTo(10, 3)
    // The line stays open at the pointer: the closing edge is not drawn until it closes.
    expect(coordinates(drawn.features[1]!) as number[][]).toHaveLength(4)
    expect(drawn.features.slice(2).map((f) => f.properties)).toEqual([
      { first: true, closing: false },
      { first: false, closing: false },
      { first: false, closing: false },
    ])
  })

  it('shows the outline closed, without the pointer, while the pointer is on the first corner', () => {
    const drawn = draftCollection(origin, corners, { x: 0.1, y: 0.1 }, { outline: true, closing: true })
    const line = coordinates(drawn.features[1]!) as number[][]
    expect(line).toHaveLength(4)
    expect(line[3]).toEqual(line[0])
    expect(drawn.features[2]!.properties).toEqual({ first: true, closing: true })
  })

  it('shows only a corner for the first click, before the pointer has moved', () => {
    expect(geometryTypes(draftCollection(origin, corners.slice(0, 1), null, { outline: true, closing: false }))).toEqual(['Point'])
  })
})

describe('framing the site', () => {
  const box = (west: number, south: number, east: number, north: number): LonLatBounds => [
    [west, south],
    [east, north],
  ]
  // A survey with a point north of the yard, and the plan made from it: the yard alone.
  const survey = box(20.995, 48.7635, 21.0051, 48.7726)
  const yardPlan = box(20.995, 48.7635, 21.0051, 48.7708)

  it('frames the import and its plan together, whichever arrives first', () => {
    const both = frameBounds({ imported: { version: 2, bounds: survey }, plan: { sourceVersion: 2, bounds: yardPlan } })
    expect(both).toEqual(survey)
    expect(frameBounds({ imported: { version: 2, bounds: survey }, plan: null })).toEqual(survey)
    // Edited since (no source version any more), a plan grown past the survey widens the frame.
    expect(frameBounds({ imported: { version: 2, bounds: survey }, plan: { sourceVersion: null, bounds: box(21.0, 48.77, 21.01, 48.78) } })).toEqual(box(20.995, 48.7635, 21.01, 48.78))
  })

  it('leaves out the plan of the import before while the plan of the new one is on its way', () => {
    const site = { imported: { version: 3, bounds: survey }, plan: { sourceVersion: 2, bounds: box(10, 50, 10.01, 50.01) } }
    expect(planOfOtherImport(site)).toBe(true)
    expect(frameBounds(site)).toEqual(survey)
    // Edited since, it is the plan being worked on: nothing says it is of another import.
    expect(planOfOtherImport({ imported: { version: 3 }, plan: { sourceVersion: null } })).toBe(false)
    expect(planOfOtherImport({ imported: { version: 3 }, plan: { sourceVersion: 3 } })).toBe(false)
    expect(planOfOtherImport({ imported: null, plan: { sourceVersion: 2 } })).toBe(false)
  })

  it('frames a plan lying apart from the import alone, and either alone without the other', () => {
    const elsewhere = box(10, 50, 10.01, 50.01)
    expect(frameBounds({ imported: { version: 2, bounds: survey }, plan: { sourceVersion: null, bounds: elsewhere } })).toEqual(elsewhere)
    expect(frameBounds({ imported: null, plan: { sourceVersion: null, bounds: elsewhere } })).toEqual(elsewhere)
    expect(frameBounds({ imported: { version: 1, bounds: null }, plan: null })).toBeNull()
  })
})
