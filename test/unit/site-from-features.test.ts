// From a survey file to the planning model: a site KML written the way surveyors write them (folders, names,
// ExtendedData), togeojson's own test files (shared/fixtures/kml/togeojson-v7), and GeoJSON with explicit
// properties, each read by importSiteFile exactly as the console reads a dropped file.

import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importSiteFile } from '../../electron/core/site/kml-import'
import type { SiteImportResult } from '../../shared/domain/site/import-report'
import { ringSignedArea, validateSite, type LatLon, type PointM, type SiteModel } from '../../shared/domain/site/model'
import { createLocalProjection } from '../../shared/domain/site/projection'
import { siteFromFeatures, type SiteFeatureOutcome, type SiteFromFeaturesOptions } from '../../shared/domain/site/site-from-features'

const fixtures = join(import.meta.dirname, '../../../shared/fixtures/kml/togeojson-v7')
const encode = (text: string): Uint8Array => new TextEncoder().encode(text)

function imported(result: SiteImportResult): Extract<SiteImportResult, { ok: true }> {
  if (!result.ok) throw new Error(`import failed: ${result.error.message}`)
  return result
}

/** The path a user takes: a file, the import, then the model built with the import's report (folders). */
function siteFromFile(fileName: string, bytes: Uint8Array, options: SiteFromFeaturesOptions = {}) {
  const result = imported(importSiteFile(fileName, bytes))
  return siteFromFeatures(result.collection, { importReport: result.report, ...options })
}

function fixture(name: string) {
  return siteFromFile(name, new Uint8Array(readFileSync(join(fixtures, name))))
}

function outcome(features: readonly SiteFeatureOutcome[], name: string): SiteFeatureOutcome {
  const found = features.find((f) => f.name === name)
  if (!found) throw new Error(`no report line for ${name}`)
  return found
}

// ---- A site KML as a surveyor's tool writes it ----

/** Where the survey was drawn: its corners are written from metres east and north of here. */
const surveyOrigin: LatLon = { lat: 48.137154, lon: 11.576124 }
const surveyPlane = createLocalProjection(surveyOrigin)

/** Eight decimals of a degree, as Google Earth writes them: about a millimetre. */
function written(x: number, y: number): LatLon {
  const p = surveyPlane.toLatLon({ x, y })
  return { lat: Number(p.lat.toFixed(8)), lon: Number(p.lon.toFixed(8)) }
}

const coordinates = (points: [number, number][]): string =>
  points.map(([x, y]) => written(x, y)).map((p) => `${p.lon},${p.lat},0`).join(' ')

const polygon = (points: [number, number][]): string =>
  `<Polygon><outerBoundaryIs><LinearRing><coordinates>${coordinates([...points, points[0]!])}</coordinates></LinearRing></outerBoundaryIs></Polygon>`
const line = (points: [number, number][]): string => `<LineString><coordinates>${coordinates(points)}</coordinates></LineString>`
const point = (x: number, y: number): string => `<Point><coordinates>${coordinates([[x, y]])}</coordinates></Point>`

function placemark(name: string, geometry: string, data: Record<string, string> = {}, styleUrl?: string): string {
  const extended = Object.entries(data).map(([key, value]) => `<Data name="${key}"><value>${value}</value></Data>`).join('')
  return `<Placemark><name>${name}</name>${styleUrl ? `<styleUrl>${styleUrl}</styleUrl>` : ''}${extended ? `<ExtendedData>${extended}</ExtendedData>` : ''}${geometry}</Placemark>`
}

const folder = (name: string, ...content: string[]): string => `<Folder><name>${name}</name>${content.join('\n')}</Folder>`

function kml(...content: string[]): Uint8Array {
  return encode(`<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Depot survey</name>\n${content.join('\n')}\n</Document></kml>\n`)
}

const wallConcrete: [number, number][] = [[-55, -35], [-55, 35], [-20, 35], [-20, 20]]

const surveyKml = kml(
  folder('Site', placemark('Site boundary', polygon([[-60, -40], [60, -40], [60, 40], [-60, 40]]))),
  folder(
    'Zones',
    placemark('Zone A (required)', polygon([[-50, -30], [0, -30], [0, 30], [-50, 30]])),
    placemark('Exclusion – pond', polygon([[20, 10], [40, 10], [40, 30], [20, 30]])),
  ),
  folder(
    'Walls',
    placemark('Wall – concrete', line(wallConcrete)),
    placemark('W2', line([[5, -10], [5, 10]]), { material: 'brick', height: '2.2' }),
    placemark('Chain-link fence', line([[10, -38], [50, -38]])),
  ),
  folder('Buildings', placemark('Warehouse', polygon([[10, -30], [50, -30], [50, 0], [10, 0]]), { material: 'steel cladding', height: '8 m' })),
  folder(
    'Mounts',
    placemark('Pole 1', point(-30, 0)),
    placemark('Pole 2', point(55, 35)),
    placemark('Junction box 4', point(5, 15)),
    placemark('Camera pole 5', point(-10, -35)),
    placemark('Pole 9 (neighbour)', point(80, 0)),
  ),
  placemark('Cable route', line([[-40, -20], [40, -20]])),
  placemark('Building zone', polygon([[-5, -5], [0, -5], [0, 0], [-5, 0]])),
)

function expectNear(actual: PointM, expected: PointM, toleranceM = 0.01): void {
  expect(Math.hypot(actual.x - expected.x, actual.y - expected.y), `${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`).toBeLessThan(toleranceM)
}

describe('a surveyed site KML becomes a planning model', () => {
  const { site, report } = siteFromFile('depot.kml', surveyKml)
  const plane = createLocalProjection(site.origin)
  /** Where the projection puts a corner the file wrote, in the site's own frame. */
  const expected = (x: number, y: number): PointM => plane.toLocal(written(x, y))

  it('has the boundary, both zones, every wall segment, the warehouse and the poles inside the boundary', () => {
    expect(site.boundary).toHaveLength(4)
    expect(site.zones.map((z) => [z.name, z.kind])).toEqual([
      ['Zone A (required)', 'required'],
      ['Exclusion – pond', 'excluded'],
    ])
    expect(site.obstructions).toHaveLength(3 + 1 + 1 + 1)
    expect(site.mountingPoints.map((m) => m.id)).toEqual(['pole-1', 'pole-2', 'junction-box-4', 'camera-pole-5'])
    expect(site.devices).toEqual([])
    expect(report.summary).toBe('2 zones, 6 obstructions and 4 mounting points from 14 features; 3 skipped.')
  })

  it('centres the site on the boundary, so its corners sit at ±60 m east and ±40 m north', () => {
    for (const [corner, x, y] of [[0, -60, -40], [1, 60, -40], [2, 60, 40], [3, -60, 40]] as const) expectNear(site.boundary[corner]!, { x, y })
    expect(site.origin.lat).toBeCloseTo(surveyOrigin.lat, 7)
    expect(site.origin.lon).toBeCloseTo(surveyOrigin.lon, 7)
  })

  it('puts every corner within a centimetre of where the local projection puts the lat/lon in the file', () => {
    const concrete = site.obstructions.filter((o) => o.material === 'concrete')
    concrete.forEach((o, i) => {
      if (o.shape.kind !== 'segment') throw new Error('a wall is a segment')
      expectNear(o.shape.a, expected(...wallConcrete[i]!))
      expectNear(o.shape.b, expected(...wallConcrete[i + 1]!))
    })
    const warehouse = site.obstructions.find((o) => o.shape.kind === 'polygon')!
    if (warehouse.shape.kind !== 'polygon') throw new Error('the warehouse is a footprint')
    const corners: [number, number][] = [[10, -30], [50, -30], [50, 0], [10, 0]]
    warehouse.shape.points.forEach((p, i) => expectNear(p, expected(...corners[i]!)))
    expectNear(site.mountingPoints.find((m) => m.id === 'pole-1')!, expected(-30, 0))
    expectNear(site.zones[1]!.polygon[2]!, expected(40, 30))
  })

  it('gives each wall its material loss: concrete 15 dB, brick 8 dB, a chain-link fence 2 dB and see-through', () => {
    const byMaterial = (material: string) => site.obstructions.filter((o) => o.material === material)
    expect(byMaterial('concrete').map((o) => [o.shape.kind, o.attenuationDb, o.heightM, o.blocksSight])).toEqual(Array(3).fill(['segment', 15, 2.5, true]))
    expect(byMaterial('brick').map((o) => [o.id, o.attenuationDb, o.heightM])).toEqual([['w2', 8, 2.2]])
    expect(byMaterial('fence').map((o) => [o.attenuationDb, o.heightM, o.blocksSight])).toEqual([[2, 2, false]])
    expect(byMaterial('metal').map((o) => [o.id, o.shape.kind, o.attenuationDb, o.heightM])).toEqual([['warehouse', 'polygon', 26, 8]])
  })

  it('lets a pole take any device and a junction box only a node; a camera pole takes cameras', () => {
    const mount = (id: string) => site.mountingPoints.find((m) => m.id === id)!
    expect(mount('pole-1')).toMatchObject({ heightM: 6, allowedKinds: ['camera', 'sensor', 'gateway', 'node'] })
    expect(mount('junction-box-4')).toMatchObject({ heightM: 1.5, allowedKinds: ['node'] })
    expect(mount('camera-pole-5')).toMatchObject({ heightM: 6, allowedKinds: ['camera'] })
    expect(mount('pole-1').orientationsDeg).toBeUndefined()
  })

  it('says in a sentence what each feature became, and what was assumed', () => {
    expect(outcome(report.features, 'Site boundary').message).toBe('"Site boundary" became the site boundary (4 corners).')
    expect(outcome(report.features, 'Wall – concrete')).toMatchObject({
      status: 'used',
      became: ['obstruction'],
      ids: ['wall-concrete-1', 'wall-concrete-2', 'wall-concrete-3'],
      message: '"Wall – concrete" became 3 concrete wall segments (15 dB each, 2.5 m high). Assumed, as the file does not say: 2.5 m high and 15 dB (typical for concrete).',
    })
    expect(outcome(report.features, 'W2').message).toBe('"W2" became a brick wall segment (8 dB, 2.2 m high). Assumed, as the file does not say: 8 dB (typical for brick).')
    expect(outcome(report.features, 'Pole 1').message).toBe('"Pole 1" became a mounting point (pole) 6 m up for camera, sensor, gateway and node. Assumed, as the file does not say: 6 m up.')
  })

  it('skips, with the reason, a pole beyond the boundary, a line that says nothing, and a name with two meanings', () => {
    const skipped = report.features.filter((f) => f.status === 'skipped').map((f) => f.message)
    expect(skipped).toEqual([
      '"Pole 9 (neighbour)" was skipped: it lies outside the site boundary.',
      '"Cable route" was skipped: nothing in its name, folder, style or properties says what it is (a wall, a fence, a hedge…), and a line is not guessed at; name it or set its kind property.',
      '"Building zone" was skipped: its name names both "building" (a building) and "zone" (a zone), so it is unclear which it is; set its kind property or rename it.',
    ])
  })

  it('accounts for every feature once, in file order, and leaves nothing for validateSite to object to', () => {
    expect(report.features.map((f) => f.index)).toEqual([...Array(14).keys()])
    expect(report.problems).toEqual([])
    expect(validateSite(site, [])).toEqual([])
    expect(report.notes).toEqual([`Origin ${Number(site.origin.lat.toFixed(7))}, ${Number(site.origin.lon.toFixed(7))}: the centre of the boundary.`])
  })

  it('gives the same ids when the same file is imported again', () => {
    const again = siteFromFile('depot.kml', surveyKml).site
    const ids = (s: SiteModel) => [...s.zones, ...s.obstructions, ...s.mountingPoints].map((x) => x.id)
    expect(ids(again)).toEqual(ids(site))
    expect(new Set(ids(site)).size).toBe(ids(site).length)
  })
})

describe('how features are recognised', () => {
  const boundary = placemark('Boundary', polygon([[-50, -50], [50, -50], [50, 50], [-50, 50]]))

  it('reads the folder when the name says nothing, and the style when neither does', () => {
    const { site, report } = siteFromFile('f.kml', kml(boundary, folder('Hedges', placemark('H1', line([[0, 0], [10, 0]]))), placemark('F1', line([[0, 5], [10, 5]]), {}, '#chainLinkFence')))
    expect(site.obstructions.map((o) => [o.id, o.material, o.attenuationDb])).toEqual([['h1', 'vegetation', 4], ['f1', 'fence', 2]])
    expect(outcome(report.features, 'H1').message).toMatch(/^"H1" became a hedge segment \(4 dB, 1\.8 m high\)/)
  })

  it('prefers an explicit kind property over the name, and a named material over the one a fence implies', () => {
    const { site } = siteFromFile('k.kml', kml(boundary, placemark('Pole row', line([[0, 0], [20, 0]]), { kind: 'fence', material: 'timber' })))
    expect(site.obstructions.map((o) => [o.material, o.attenuationDb, o.blocksSight])).toEqual([['wood', 4, true]])
  })

  it('makes a "Perimeter fence" both the boundary and a fence along each of its edges', () => {
    const { site, report } = siteFromFile('p.kml', kml(placemark('Perimeter fence', polygon([[-30, -20], [30, -20], [30, 20], [-30, 20]]))))
    expect(site.boundary).toHaveLength(4)
    expect(site.obstructions.map((o) => o.material)).toEqual(['fence', 'fence', 'fence', 'fence'])
    expect(report.features[0]).toMatchObject({ became: ['boundary', 'obstruction'] })
    expect(report.features[0]!.message).toMatch(/^"Perimeter fence" became the site boundary \(4 corners\) and 4 fence segments along it \(2 dB each, 2 m high, see-through\)/)
  })

  it('refuses a shape that cannot be what its name says, and a second boundary', () => {
    const { report } = siteFromFile('m.kml', kml(boundary, placemark('Building 7', point(0, 0)), placemark('Boundary (old)', polygon([[-10, -10], [10, -10], [10, 10], [-10, 10]]))))
    expect(report.features.slice(1).map((f) => f.message)).toEqual([
      '"Building 7" was skipped: its name says "building", a building, but it is drawn as a single point; that needs a closed outline (a polygon, or a line that ends where it starts).',
      '"Boundary (old)" was skipped: the site already has a boundary, "Boundary", and a site has one outline; call it a zone if it is one.',
    ])
  })

  it('takes zones without a stated kind as required, and says so', () => {
    const { site, report } = siteFromFile('z.kml', kml(boundary, placemark('Loading area', polygon([[0, 0], [10, 0], [10, 10], [0, 10]]))))
    expect(site.zones.map((z) => z.kind)).toEqual(['required'])
    expect(outcome(report.features, 'Loading area').message).toContain('Its kind is not stated, so it is taken as required')
  })

  it('keeps an existing origin when asked, so a re-import lines up with the plan', () => {
    const origin = written(100, 0)
    const { site, report } = siteFromFile('o.kml', kml(boundary), { origin })
    expect(site.origin).toEqual(origin)
    expectNear(site.boundary[0]!, createLocalProjection(origin).toLocal(written(-50, -50)))
    expect(site.boundary[0]!.x).toBeCloseTo(-150, 1)
    expect(report.notes.at(-1)).toMatch(/kept from the existing plan\.$/)
  })

  it('deduplicates ids of features with the same name', () => {
    const { site } = siteFromFile('d.kml', kml(boundary, placemark('Pole', point(0, 0)), placemark('Pole', point(5, 0)), placemark('Pole', point(10, 0))))
    expect(site.mountingPoints.map((m) => m.id)).toEqual(['pole', 'pole-2', 'pole-3'])
  })
})

describe('GeoJSON with the properties a GIS export carries', () => {
  const near = (x: number, y: number): number[] => {
    const p = written(x, y)
    return [p.lon, p.lat]
  }
  const feature = (properties: Record<string, unknown>, geometry: object) => ({ type: 'Feature', properties, geometry })
  const collection = {
    type: 'FeatureCollection',
    features: [
      feature({ type: 'boundary' }, { type: 'Polygon', coordinates: [[near(-40, -40), near(40, -40), near(40, 40), near(-40, 40), near(-40, -40)]] }),
      feature({ kind: 'pole', Allowed_Kinds: 'camera; sensor', Orientation: '90, 270', Height: '12 ft' }, { type: 'Point', coordinates: near(0, 0) }),
      feature({ layer: 'WALLS', material: 'adobe', attenuation_dB: '12 dB', blocks_sight: 'no' }, { type: 'LineString', coordinates: [near(-10, 5), near(10, 5)] }),
      feature({ category: 'building', height: 'tall' }, { type: 'MultiPolygon', coordinates: [[[near(-30, -30), near(-20, -30), near(-20, -20), near(-30, -30)]], [[near(20, 20), near(30, 20), near(30, 30), near(20, 20)]]] }),
    ],
  }
  const { site, report } = siteFromFile('site.geojson', encode(JSON.stringify(collection)))

  it('reads allowed kinds, bearings and a height in feet from any spelling of the key', () => {
    expect(site.mountingPoints).toEqual([{ id: 'pole-2', x: expect.any(Number), y: expect.any(Number), heightM: 3.658, allowedKinds: ['camera', 'sensor'], orientationsDeg: [90, 270] }])
    expect(report.features[1]!.message).toBe('Feature 2 (no name) became a mounting point (pole) 3.658 m up for camera and sensor, facing 90° or 270°.')
  })

  it('uses a stated attenuation and sight over the defaults, and says when a material or height is not understood', () => {
    expect(site.obstructions[0]).toMatchObject({ material: 'other', attenuationDb: 12, blocksSight: false, heightM: 2.5 })
    expect(report.features[2]!.message).toContain('Its material "adobe" is not one the console knows (concrete, brick, block, drywall, wood, glass, metal, fence, vegetation, other), so it was taken as other.')
    expect(report.features[3]).toMatchObject({ status: 'used', ids: ['building-4-1', 'building-4-2'] })
    expect(report.features[3]!.message).toContain('Its height "tall" is not a height in metres, so 6 m high was taken.')
  })
})

describe('togeojson test files (shared/fixtures/kml/togeojson-v7)', () => {
  const names = readdirSync(fixtures).filter((f) => f.endsWith('.kml')).sort()

  it('accounts for every imported feature of all 35 files with one sentence each, and unique ids', () => {
    expect(names).toHaveLength(35)
    for (const name of names) {
      const result = imported(importSiteFile(name, new Uint8Array(readFileSync(join(fixtures, name)))))
      const { site, report } = siteFromFeatures(result.collection, { importReport: result.report })
      expect(report.features.map((f) => f.index), name).toEqual(result.collection.features.map((_, i) => i))
      for (const line of report.features) expect(line.message, name).toMatch(/^("[^"]+"|Feature \d+ \(no name\)) (became|was skipped: ).+\.$/)
      const ids = [...site.zones, ...site.obstructions, ...site.mountingPoints].map((x) => x.id)
      expect(new Set(ids).size, name).toBe(ids.length)
    }
  })

  it('style_url.kml: "Building 41" is a footprint, inside a boundary drawn 5 m around it', () => {
    const { site, report } = fixture('style_url.kml')
    expect(site.obstructions).toHaveLength(1)
    expect(site.obstructions[0]).toMatchObject({ id: 'building-41', material: 'other', attenuationDb: 6, heightM: 6, shape: { kind: 'polygon' } })
    const footprint = site.obstructions[0]!.shape
    if (footprint.kind !== 'polygon') throw new Error('a footprint')
    const xs = footprint.points.map((p) => p.x)
    expect(Math.min(...site.boundary.map((p) => p.x))).toBeCloseTo(Math.min(...xs) - 5, 2)
    expect(report.notes[0]).toMatch(/^No feature is named as the site boundary and none is an outline, so the boundary is the rectangle around everything imported, 5 m out/)
    expect(report.problems).toEqual([])
  })

  it('polygon.kml: the only outline becomes the boundary, its hole is ignored, and the report says both', () => {
    const { site, report } = fixture('polygon.kml')
    expect(site.boundary).toHaveLength(4)
    expect(report.features[0]!.message).toBe(
      '"hollow box" became the site boundary (4 corners). No feature was named as the boundary, and it is the largest outline. Its 1 hole was ignored: the site boundary is one outline; draw excluded zones for the holes.',
    )
    expect(report.notes[0]).toBe('No feature is named as the site boundary, so the largest unnamed outline, "hollow box", became the boundary; name a feature "Boundary" to choose another.')
    // About 110 m by 115 m of harbour: the area survives the projection within a square metre.
    expect(Math.abs(ringSignedArea(site.boundary))).toBeGreaterThan(7000)
  })

  it('styles.kml: a placemark north of the drawn outline is left out as outside the boundary', () => {
    const { site, report } = fixture('styles.kml')
    expect(site.mountingPoints).toEqual([])
    expect(report.features[0]!.message).toBe('"Untitled Placemark" was skipped: it lies outside the site boundary.')
  })

  it('linear_ring.kml: the "AOI" ring is the boundary, and a 5800 km site is called out', () => {
    const { site, report } = fixture('linear_ring.kml')
    expect(report.features[0]).toMatchObject({ status: 'used', became: ['boundary'] })
    expect(site.origin.lat).toBeCloseTo(37, 6)
    expect(site.origin.lon).toBeCloseTo(-96, 6)
    expect(report.notes.at(-1)).toMatch(/^The site spans 58\d\d km; the console plans sites of a few kilometres/)
  })

  it('ground_overlay.kml and multigeometry_discrete.kml: an image footprint and a point-and-line mix are skipped with the reason', () => {
    const overlay = fixture('ground_overlay.kml')
    expect(overlay.report.features[0]!.message).toMatch(/was skipped: it is the footprint of an image overlay/)
    expect(overlay.site.boundary).toEqual([])
    expect(overlay.report.problems).toContain('The site boundary needs at least three corners; it has 0.')
    expect(overlay.site.origin.lat).toBeCloseTo(37.69, 2)
    expect(fixture('multigeometry_discrete.kml').report.features[0]!.message).toBe(
      '"SF Marina Harbor Master" was skipped: it mixes points, lines and polygons in one feature; split them into separate features.',
    )
  })

  it('addresses.kml: GPS tracks are not guessed to be walls; its places are offered as mounting points', () => {
    const { site, report } = fixture('addresses.kml')
    expect(site.obstructions).toEqual([])
    expect(site.mountingPoints).toHaveLength(5)
    expect(report.features.filter((f) => f.status === 'skipped').map((f) => f.name)).toEqual(['Moving', 'Driving'])
    expect(outcome(report.features, 'Bang Kapi').message).toContain('Nothing in the file says what it is, so it is offered as a mounting point for any device.')
  })
})
