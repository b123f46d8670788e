import { describe, expect, it } from 'vitest'
import { onShadowEdge, referenceBlockers, referenceSees } from '../../bench/coverage.bench'
import {
  blindSpotOutline,
  buildCoverageGrid,
  buildWallSet,
  cellCentre,
  cellIndexAt,
  computeCoverage,
  countDemand,
  Demand,
  DoriBand,
  doriBandAt,
  findBlindSpots,
  freeSpaceLossAt1mDb,
  inReach,
  radioMap,
  ViewshedCaster,
  viewerFor,
  type Viewer,
} from '../../shared/domain/site/coverage'
import {
  cameraReachM,
  defaultDoriThresholds,
  distanceForPixelDensity,
  findPart,
  validateCatalogue,
  validateSite,
  type CameraPart,
  type Catalogue,
  type Obstruction,
  type SiteModel,
} from '../../shared/domain/site/model'
import { createLocalProjection, meridionalRadiusM } from '../../shared/domain/site/projection'
import { sampleCatalogue, syntheticSite } from '../../shared/domain/site/synthetic-site'
import { seededRandom } from '../../shared/domain/seeded-random'
import { shadowDepth } from '../../shared/domain/site/walls'

const square = (size: number) => [
  { x: 0, y: 0 },
  { x: size, y: 0 },
  { x: size, y: size },
  { x: 0, y: size },
]

function emptySite(overrides: Partial<SiteModel> = {}): SiteModel {
  return { name: 'test', origin: { lat: 48.2, lon: 16.37 }, boundary: square(40), zones: [], obstructions: [], mountingPoints: [], devices: [], ...overrides }
}

function wall(id: string, ax: number, ay: number, bx: number, by: number, heightM = 3, extra: Partial<Obstruction> = {}): Obstruction {
  return { id, shape: { kind: 'segment', a: { x: ax, y: ay }, b: { x: bx, y: by } }, material: 'concrete', heightM, blocksSight: true, attenuationDb: 15, ...extra }
}

const viewer = (over: Partial<Viewer>): Viewer => ({ x: 0, y: 0, eyeHeightM: 4, targetHeightM: 1, rangeM: 30, fovDeg: 360, orientationDeg: 0, ...over })

describe('local projection', () => {
  const origins = [
    { lat: 0, lon: 0 },
    { lat: 51.4545, lon: -2.5879 },
    { lat: 69.65, lon: 18.96 },
    { lat: -33.87, lon: 151.21 },
    { lat: 64.1, lon: 179.999 },
  ]

  it('round-trips metres → lat/lon → metres within a micrometre over 5 km, across the antimeridian too', () => {
    for (const origin of origins) {
      const projection = createLocalProjection(origin)
      for (const [x, y] of [[0, 0], [5000, 0], [0, -5000], [-3535, 3535], [1234.5, -4321.25], [0.001, 0.002]] as const) {
        const back = projection.toLocal(projection.toLatLon({ x, y }))
        expect(Math.abs(back.x - x)).toBeLessThan(1e-6)
        expect(Math.abs(back.y - y)).toBeLessThan(1e-6)
      }
      const position = { lat: origin.lat + 0.01, lon: origin.lon + 0.01 }
      const round = projection.toLatLon(projection.toLocal(position))
      expect(round.lat).toBeCloseTo(position.lat, 10)
      expect(((round.lon - position.lon + 540) % 360) - 180).toBeCloseTo(0, 10)
    }
  })

  it('measures ground distances as the ellipsoid does: a metre is a metre on site', () => {
    // 0.01° of longitude on the equator is a·Δλ; 0.01° of latitude at 45° is the meridional radius times Δφ.
    expect(createLocalProjection({ lat: 0, lon: 10 }).toLocal({ lat: 0, lon: 10.01 }).x).toBeCloseTo((6378137 * 0.01 * Math.PI) / 180, 2)
    const north = createLocalProjection({ lat: 44.995, lon: 7 }).toLocal({ lat: 45.005, lon: 7 })
    expect(north.y).toBeCloseTo((meridionalRadiusM(45) * 0.01 * Math.PI) / 180, 2)
    expect(Math.abs(north.x)).toBeLessThan(1e-6)
    // A point east of the origin at 60° N: half the equatorial scale, and on the plane, not sheared north.
    const east = createLocalProjection({ lat: 60, lon: 0 }).toLocal({ lat: 60, lon: 0.02 })
    expect(east.x).toBeGreaterThan(1110)
    expect(east.x).toBeLessThan(1120)
    // A parallel is a small circle bending towards the pole, so on the tangent plane it runs north of the
    // east axis by d²·tan(φ)/2N: 17 cm at 1.1 km here. True geometry, not a shear of the projection.
    expect(east.y).toBeCloseTo((east.x * east.x * Math.tan(Math.PI / 3)) / (2 * 6394209), 3)
  })
})

describe('site model checks', () => {
  it('accepts the sample catalogue and a synthetic yard', () => {
    expect(validateCatalogue(sampleCatalogue)).toEqual([])
    expect(validateSite(syntheticSite(seededRandom(3), { widthM: 200, heightM: 100, walls: 20, mountingPoints: 10, devices: 5, gateways: 1 }), sampleCatalogue)).toEqual([])
  })

  it('says what is wrong, in words that name the thing', () => {
    const problems = validateSite(
      emptySite({
        origin: { lat: 91, lon: 0 },
        boundary: [{ x: 0, y: 0 }, { x: 10, y: 10 }, { x: 10, y: 0 }, { x: 0, y: 10 }],
        obstructions: [wall('w1', 0, 0, 0, 0.001), wall('w1', 1, 1, 5, 1, 0)],
        mountingPoints: [{ id: 'pole-1', x: 5, y: 2, heightM: 4, allowedKinds: ['node'] }],
        devices: [
          { id: 'cam-1', partNumber: 'CAM-4MP-28', mountingPointId: 'pole-1', orientationDeg: 0 },
          { id: 'cam-2', partNumber: 'NO-SUCH-PART', mountingPointId: 'pole-9', orientationDeg: 0 },
        ],
      }),
      sampleCatalogue,
    )
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('latitude 91'),
        expect.stringContaining('The site boundary crosses itself'),
        'Two obstructions share the id "w1".',
        expect.stringContaining('shorter than a centimetre'),
        expect.stringContaining('needs a height'),
        'Device cam-1 is a camera, but mounting point pole-1 takes only node.',
        'Device cam-2 is a NO-SUCH-PART, which is not in the catalogue.',
        'Device cam-2 is on mounting point pole-9, which does not exist.',
      ]),
    )
    const camera = findPart(sampleCatalogue, 'CAM-8MP-60') as CameraPart
    const wrongLens: Catalogue = [{ ...camera, hfovDeg: 110 }, { ...camera, partNumber: 'X', dori: { ...defaultDoriThresholds, recognitionPxPerM: 50 } }]
    expect(validateCatalogue(wrongLens)).toEqual([
      expect.stringMatching(/^Part CAM-8MP-60: a 1\/2\.8" sensor \(5\.6 mm\) behind a 6 mm lens sees about 50°, not the 110° stated/),
      expect.stringContaining('DORI thresholds must rise'),
    ])
  })
})

describe('coverage grid', () => {
  it('refuses cells under half a metre and rasterises the boundary by cell centres', () => {
    expect(() => buildCoverageGrid(emptySite(), { cellSizeM: 0.4 })).toThrow(/0\.4 m is below the 0\.5 m/)
    const triangle = [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 0, y: 60 }]
    const grid = buildCoverageGrid(emptySite({ boundary: triangle }), { cellSizeM: 0.5 })
    expect(grid.cols).toBe(200)
    expect(grid.rows).toBe(120)
    const area = countDemand(grid, Demand.required) * 0.25
    expect(Math.abs(area - 3000)).toBeLessThan(0.5 * (100 + 60 + 117)) // within half a cell along the perimeter
    expect(grid.demand[cellIndexAt(grid, { x: 10, y: 10 })]).toBe(Demand.required)
    expect(grid.demand[cellIndexAt(grid, { x: 90, y: 50 })]).toBe(Demand.none)
    expect(cellCentre(grid, cellIndexAt(grid, { x: 10.1, y: 10.4 }))).toEqual({ x: 10.25, y: 10.25 })
  })

  it('paints zones with excluded over required over optional, and leaves building footprints out', () => {
    const site = emptySite({
      zones: [
        { id: 'z1', name: 'car park', kind: 'optional', polygon: [{ x: 0, y: 0 }, { x: 20, y: 0 }, { x: 20, y: 40 }, { x: 0, y: 40 }] },
        { id: 'z2', name: 'gate', kind: 'required', polygon: [{ x: 10, y: 0 }, { x: 30, y: 0 }, { x: 30, y: 10 }, { x: 10, y: 10 }] },
        { id: 'z3', name: 'pond', kind: 'excluded', polygon: [{ x: 15, y: 5 }, { x: 25, y: 5 }, { x: 25, y: 15 }, { x: 15, y: 15 }] },
      ],
      obstructions: [{ id: 'b1', shape: { kind: 'polygon', points: [{ x: 30, y: 30 }, { x: 38, y: 30 }, { x: 38, y: 38 }, { x: 30, y: 38 }] }, material: 'brick', heightM: 6, blocksSight: true, attenuationDb: 8 }],
    })
    const grid = buildCoverageGrid(site, { cellSizeM: 1, defaultDemand: 'required' })
    const at = (x: number, y: number) => grid.demand[cellIndexAt(grid, { x, y })]
    expect(at(5, 30)).toBe(Demand.optional)
    expect(at(12, 2)).toBe(Demand.required)
    expect(at(20, 8)).toBe(Demand.none)
    expect(at(34, 34)).toBe(Demand.none)
    expect(at(35, 20)).toBe(Demand.required)
    expect(buildCoverageGrid(site, { cellSizeM: 1, defaultDemand: 'optional' }).demand[cellIndexAt(grid, { x: 35, y: 20 })]).toBe(Demand.optional)
  })
})

describe('sight', () => {
  it('shadows a wall lower than the eye only up to where the sight line clears its top', () => {
    // Eye 4 m, target 1 m, wall 2.5 m at 10 m: blocked from 10 m to 10·(4−1)/(4−2.5) = 20 m.
    expect(shadowDepth(4, 1, 2.5)).toEqual([1, 2])
    expect(shadowDepth(4, 1, 5)).toEqual([1, Infinity])
    expect(shadowDepth(4, 1, 0.5)).toBeNull()
    expect(shadowDepth(1, 3, 2)).toEqual([2, Infinity]) // low eye, tall target: seen again close behind the wall
    const site = emptySite({ boundary: square(60), obstructions: [wall('w', 30, 20, 30, 40, 2.5)] })
    const grid = buildCoverageGrid(site, { cellSizeM: 0.5 })
    const caster = new ViewshedCaster(grid, buildWallSet(site.obstructions))
    const seen = new Set(caster.cast(viewer({ x: 20, y: 30, rangeM: 35 })))
    const sees = (x: number, y: number) => seen.has(cellIndexAt(grid, { x, y }))
    expect(sees(29.8, 30.1)).toBe(true)
    expect(sees(30.3, 30.1)).toBe(false)
    expect(sees(39.8, 30.1)).toBe(false)
    expect(sees(40.3, 30.1)).toBe(true)
    expect(sees(54.8, 30.1)).toBe(true)
    expect(sees(55.3, 30.1)).toBe(false) // out of range
    const tall = new ViewshedCaster(grid, buildWallSet([wall('w', 30, 20, 30, 40, 6)]))
    expect(new Set(tall.cast(viewer({ x: 20, y: 30, rangeM: 35 }))).has(cellIndexAt(grid, { x: 50, y: 30.1 }))).toBe(false)
  })

  it('faces by compass bearing and keeps to its angle', () => {
    const grid = buildCoverageGrid(emptySite(), { cellSizeM: 1 })
    const caster = new ViewshedCaster(grid, buildWallSet([]))
    const east = new Set(caster.cast(viewer({ x: 20, y: 20, rangeM: 15, fovDeg: 90, orientationDeg: 90 })))
    expect(east.has(cellIndexAt(grid, { x: 30, y: 20 }))).toBe(true)
    expect(east.has(cellIndexAt(grid, { x: 20, y: 30 }))).toBe(false)
    expect(east.has(cellIndexAt(grid, { x: 10, y: 20 }))).toBe(false)
    expect(east.has(cellIndexAt(grid, { x: 28, y: 26 }))).toBe(true)
  })

  it('agrees with a per-cell line-of-sight reference (turf) on every in-reach cell of random yards', () => {
    let pairs = 0
    let disagree = 0
    let offEdge = 0
    for (const seed of [11, 12, 13]) {
      const site = syntheticSite(seededRandom(seed), { widthM: 90, heightM: 60, walls: 25, wallLengthM: [3, 25], mountingPoints: 10, devices: 6 })
      const grid = buildCoverageGrid(site, { cellSizeM: 0.5 })
      const walls = buildWallSet(site.obstructions)
      const caster = new ViewshedCaster(grid, walls)
      for (const device of site.devices) {
        const mount = site.mountingPoints.find((m) => m.id === device.mountingPointId)!
        const v = viewerFor(findPart(sampleCatalogue, device.partNumber)!, mount, device.orientationDeg, 1)!
        const seen = new Set(caster.cast(v))
        const blockers = referenceBlockers(walls, v)
        for (let cell = 0; cell < grid.demand.length; cell++) {
          const { x, y } = cellCentre(grid, cell)
          if (!grid.demand[cell] || !inReach(v, x, y)) {
            expect(seen.has(cell)).toBe(false)
            continue
          }
          pairs++
          if (seen.has(cell) !== referenceSees(grid, v, cell, blockers)) {
            disagree++
            if (!onShadowEdge(grid, v, cell, walls)) offEdge++
          }
        }
      }
    }
    console.log(`viewshed vs turf reference: ${pairs} in-reach pairs, ${disagree} disagree (${((disagree / pairs) * 100).toFixed(4)} %), ${offEdge} away from a shadow edge`)
    expect(pairs).toBeGreaterThan(20_000)
    expect(disagree / pairs).toBeLessThan(1e-3)
    expect(offEdge).toBe(0)
  }, 60_000)
})

describe('DORI', () => {
  const camera = findPart(sampleCatalogue, 'CAM-4MP-28') as CameraPart

  it('bands pixel density at distance against the EN 62676-4 thresholds', () => {
    // 2688 px across 98°: 2688 / (2·d·tan 49°) px/m.
    const at = (d: number) => doriBandAt(camera, d)
    expect(at(2)).toBe(DoriBand.identification)
    expect(at(5)).toBe(DoriBand.recognition)
    expect(at(10)).toBe(DoriBand.observation)
    expect(at(20)).toBe(DoriBand.detection)
    expect(at(50)).toBe(DoriBand.none)
    expect(distanceForPixelDensity(2688, 98, 25)).toBeCloseTo(46.72, 1)
    expect(cameraReachM(camera)).toBe(40) // the illuminator, nearer than the pixels' 46.7 m
    const strict = { ...camera, dori: { ...defaultDoriThresholds, detectionPxPerM: 100 } }
    expect(doriBandAt(strict, 20)).toBe(DoriBand.none)
  })

  it('gives each cell the best band of the cameras that see it', () => {
    const site = emptySite({
      boundary: square(80),
      mountingPoints: [{ id: 'pole', x: 40, y: 40, heightM: 1, allowedKinds: ['camera'] }],
      devices: [{ id: 'cam', partNumber: 'CAM-4MP-28', mountingPointId: 'pole', orientationDeg: 90 }],
    })
    const grid = buildCoverageGrid(site, { cellSizeM: 1 })
    const result = computeCoverage(site, sampleCatalogue, grid, { targetHeightM: 1 })
    const band = (x: number) => result.dori[cellIndexAt(grid, { x: 40 + x, y: 40.2 })]
    // Limits for this camera: identification to 4.7 m, recognition 9.3 m, observation 18.8 m, detection 40 m (illuminator).
    expect(band(1.5)).toBe(DoriBand.identification)
    expect(band(6.5)).toBe(DoriBand.recognition)
    expect(band(12.5)).toBe(DoriBand.observation)
    expect(band(25.5)).toBe(DoriBand.detection)
    expect(band(38.5)).toBe(DoriBand.detection)
    expect(result.dori[cellIndexAt(grid, { x: 30, y: 40 })]).toBe(DoriBand.none) // behind it
    expect(result.summary.doriCells.reduce((a, b) => a + b)).toBe(result.summary.requiredCells)
  })
})

describe('radio', () => {
  it('is log-distance path loss less each wall crossed, as a per-cell count of crossings says', () => {
    const walls = [wall('a', 30, 10, 30, 50, 3, { attenuationDb: 12 }), wall('b', 45, 0, 45, 60, 1, { attenuationDb: 3, blocksSight: false }), wall('c', 10, 45, 60, 45, 2, { attenuationDb: 7 })]
    const site = emptySite({ boundary: square(60), obstructions: walls })
    const grid = buildCoverageGrid(site, { cellSizeM: 0.5 })
    // Off the cell lattice, so no cell centre sits exactly on a ray through a wall's end (a tie either way).
    const source = { x: 12.13, y: 20.37, eirpDbm: 25, referenceLossDb: freeSpaceLossAt1mDb(2440) }
    const model = { exponent: 2.8, receiverGainDbi: 2, floorDbm: -130 }
    const map = radioMap(grid, buildWallSet(walls), [source], model)
    expect(freeSpaceLossAt1mDb(2400)).toBeCloseTo(40.05, 2)
    let worst = 0
    for (let cell = 0; cell < map.length; cell++) {
      const { x, y } = cellCentre(grid, cell)
      const d = Math.max(1, Math.hypot(x - source.x, y - source.y))
      let expected = source.eirpDbm + model.receiverGainDbi - source.referenceLossDb - 10 * model.exponent * Math.log10(d)
      for (const w of walls) {
        if (w.shape.kind === 'segment' && crosses(source, { x, y }, w.shape.a, w.shape.b)) expected -= w.attenuationDb
      }
      worst = Math.max(worst, Math.abs(map[cell]! - expected))
    }
    expect(worst).toBeLessThan(1e-3)
  })

  it('takes the strongest gateway per cell and reports where nodes would link', () => {
    const site = emptySite({
      boundary: square(400),
      obstructions: [wall('w', 200, 0, 200, 400, 4, { attenuationDb: 26 })],
      mountingPoints: [{ id: 'g', x: 20, y: 200, heightM: 5, allowedKinds: ['gateway'] }],
      devices: [{ id: 'gw', partNumber: 'GW-24-OUT', mountingPointId: 'g', orientationDeg: 0 }],
    })
    const grid = buildCoverageGrid(site, { cellSizeM: 2 })
    const result = computeCoverage(site, sampleCatalogue, grid, { pathLoss: { exponent: 3 } })
    const rssi = result.rssiDbm!
    const near = rssi[cellIndexAt(grid, { x: 190, y: 200 })]!
    const far = rssi[cellIndexAt(grid, { x: 212, y: 200 })]!
    expect(near - far).toBeGreaterThan(26)
    expect(result.summary.radioShare).toBeGreaterThan(0)
    expect(result.summary.radioShare).toBeLessThan(1)
  })
})

describe('blind spots', () => {
  it('are the connected unseen patches, with area, bounds and an outline that encloses the same area', () => {
    const site = emptySite({
      boundary: [{ x: 0, y: 0 }, { x: 30, y: 0 }, { x: 30, y: 10 }, { x: 0, y: 10 }],
      mountingPoints: [{ id: 'm', x: 15, y: 5, heightM: 3, allowedKinds: ['sensor'] }],
      devices: [{ id: 'lidar', partNumber: 'LID-50-360', mountingPointId: 'm', orientationDeg: 0 }],
    })
    const catalogue: Catalogue = [{ kind: 'sensor', partNumber: 'LID-50-360', technology: 'lidar', name: 'short lidar', rangeM: 5.2, angleDeg: 360, powerW: 1, priceEur: 1 }]
    const grid = buildCoverageGrid(site, { cellSizeM: 0.5 })
    const result = computeCoverage(site, catalogue, grid)
    expect(result.blindSpots).toHaveLength(2)
    const [left, right] = [...result.blindSpots].sort((a, b) => a.centroid.x - b.centroid.x)
    expect(left!.areaM2).toBe(right!.areaM2)
    expect(left!.bounds.minX).toBe(0)
    expect(right!.bounds.maxX).toBe(30)
    expect(left!.areaM2 + right!.areaM2 + result.summary.requiredSeen * 0.25).toBe(300)
    for (const spot of result.blindSpots) {
      const rings = blindSpotOutline(grid, result.blindSpotLabels, spot)
      expect(rings.length).toBe(1)
      expect(shoelace(rings[0]!)).toBeCloseTo(spot.areaM2, 9)
    }
    // A seen island inside a spot is a hole: the outline has it, and outer minus holes is the area.
    const holed = new Uint16Array(grid.cols * grid.rows)
    holed[cellIndexAt(grid, { x: 5.2, y: 5.2 })] = 1
    holed[cellIndexAt(grid, { x: 5.7, y: 5.2 })] = 1
    const { spots, labels } = findBlindSpots(grid, holed)
    expect(spots).toHaveLength(1)
    const rings = blindSpotOutline(grid, labels, spots[0]!)
    expect(rings).toHaveLength(2)
    expect(shoelace(rings[0]!) + shoelace(rings[1]!)).toBeCloseTo(spots[0]!.areaM2, 9)
    expect(findBlindSpots(grid, holed, { minAreaM2: 400 }).spots).toHaveLength(0)
  })

  it('keeps cells that touch only at a corner apart', () => {
    const grid = buildCoverageGrid(emptySite({ boundary: square(2) }), { cellSizeM: 1 })
    const seen = Uint16Array.from([0, 1, 1, 0]) // a chequerboard: two unseen cells meeting at a corner
    const { spots, labels } = findBlindSpots(grid, seen)
    expect(spots.map((s) => s.areaM2)).toEqual([1, 1])
    for (const spot of spots) expect(blindSpotOutline(grid, labels, spot).map(shoelace)).toEqual([1])
  })
})

describe('coverage of a yard', () => {
  it('counts what is seen and lists who could not be placed', () => {
    const site = syntheticSite(seededRandom(5), { widthM: 300, heightM: 200, walls: 60, mountingPoints: 40, devices: 25, gateways: 2 })
    const broken = { ...site, devices: [...site.devices, { id: 'ghost', partNumber: 'CAM-4MP-28', mountingPointId: 'nowhere', orientationDeg: 0 }] }
    const grid = buildCoverageGrid(site, { cellSizeM: 1 })
    const result = computeCoverage(broken, sampleCatalogue, grid)
    expect(result.problems).toEqual(['Device ghost is left out: mounting point nowhere does not exist.'])
    const seenCells = Array.from(result.seenBy).filter((n, i) => n > 0 && grid.demand[i] === Demand.required).length
    expect(result.summary.requiredSeen).toBe(seenCells)
    expect(result.summary.requiredShare).toBeGreaterThan(0)
    expect(result.summary.blindSpotAreaM2).toBe(result.summary.requiredCells - result.summary.requiredSeen)
    expect(result.blindSpots[0]!.areaM2).toBeGreaterThanOrEqual(result.blindSpots.at(-1)!.areaM2)
  })
})

function crosses(p: { x: number; y: number }, q: { x: number; y: number }, a: { x: number; y: number }, b: { x: number; y: number }): boolean {
  const o = (u: { x: number; y: number }, v: { x: number; y: number }, w: { x: number; y: number }) => (v.x - u.x) * (w.y - u.y) - (v.y - u.y) * (w.x - u.x)
  return o(a, b, p) * o(a, b, q) < 0 && o(p, q, a) * o(p, q, b) < 0
}

function shoelace(ring: readonly { x: number; y: number }[]): number {
  let sum = 0
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!
    const b = ring[(i + 1) % ring.length]!
    sum += a.x * b.y - b.x * a.y
  }
  return sum / 2
}
