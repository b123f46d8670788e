import { findBlindSpots, type BlindSpot } from './blind-spots'
import { Demand, type CoverageGrid } from './grid'
import {
  cameraReachM,
  defaultDoriThresholds,
  findPart,
  type CameraPart,
  type Catalogue,
  type CataloguePart,
  type DoriThresholds,
  type MountingPoint,
  type SiteModel,
} from './model'
import { buildWallSet, forEachShadowCell, shadowDepth, type WallSet } from './walls'

export { buildCoverageGrid, cellCentre, cellIndexAt, countDemand, Demand, forEachSpan, minimumCellSizeM, type CoverageGrid, type DemandValue, type GridOptions } from './grid'
export { buildWallSet, type WallSet } from './walls'
export { blindSpotOutline, findBlindSpots, type BlindSpot, type BlindSpotOptions } from './blind-spots'

/**
 * Coverage on the grid: which cells each camera and motion sensor sees, how well a camera sees them
 * (DORI), how strong the gateways' radio is there, and where the blind spots are.
 *
 * Sight: a sensor sees a cell when the cell's centre is within range and angle and the straight line
 * from the sensor's eye to a target standing there passes above every opaque wall it crosses in plan.
 * Rather than testing each cell's line against each wall (cells × walls), each wall near the sensor
 * paints its shadow: the cells whose line crosses it form a trapezoid behind it (the wall scaled about
 * the sensor, from where the line dips below its top to where it clears it again), filled by a scanline
 * over cell centres. That decides the same per-cell question exactly, at the cost of the shadowed area
 * rather than cells × walls, and wall heights come for free: they only move the trapezoid's near and far
 * edges. A ray march over a rasterised wall grid (DDA/Bresenham) would be as fast but decides crossings
 * by cell, so it leaks through diagonal walls and misses or invents crossings near wall ends by up to a
 * cell; an angular sweep needs sorted events per sensor and still the heights folded in per wall.
 *
 * Radio: log-distance path loss from each gateway, minus every wall crossed in plan, painted the same
 * way with subtraction instead of a mark.
 */

/** A sensor's or camera's view: where its eye is, how far and how wide it sees, which way it faces. */
export interface Viewer {
  x: number
  y: number
  /** Height of the sensor's eye above ground. */
  eyeHeightM: number
  /** Height of what it must see: a person's torso for motion sensors and DORI. */
  targetHeightM: number
  /** Horizontal reach. */
  rangeM: number
  /** Horizontal angle of view; 360 or more sees all round. */
  fovDeg: number
  /** Compass bearing of the centre of view: 0 = north, 90 = east. */
  orientationDeg: number
}

/** The facing vector and half-angle cosine of a viewer, computed the one way every test uses. */
export function viewerFacing(viewer: Viewer): { ux: number; uy: number; cosHalf: number; allRound: boolean } {
  const bearing = (viewer.orientationDeg * Math.PI) / 180
  return {
    ux: Math.sin(bearing),
    uy: Math.cos(bearing),
    cosHalf: Math.cos((viewer.fovDeg * Math.PI) / 360),
    allRound: viewer.fovDeg >= 360,
  }
}

/** Within range and angle of the viewer (occlusion aside): the same arithmetic as the caster's. */
export function inReach(viewer: Viewer, x: number, y: number): boolean {
  const { ux, uy, cosHalf, allRound } = viewerFacing(viewer)
  const dx = x - viewer.x
  const dy = y - viewer.y
  const d2 = dx * dx + dy * dy
  if (d2 > viewer.rangeM * viewer.rangeM) return false
  return allRound || dx * ux + dy * uy >= cosHalf * Math.sqrt(d2)
}

/**
 * Casts viewsheds on one grid. Keeps a shadow layer stamped per cast, so nothing grid-sized is cleared
 * or allocated between the hundreds of casts placement makes.
 */
export class ViewshedCaster {
  private readonly shadow: Uint32Array
  private stamp = 0
  private out = new Int32Array(1024)

  constructor(
    readonly grid: CoverageGrid,
    readonly walls: WallSet,
    /** Cells of lower demand are skipped: `Demand.optional` sees all in-problem cells, `required` only gaps that count. */
    private readonly minDemand: number = Demand.optional,
  ) {
    this.shadow = new Uint32Array(grid.cols * grid.rows)
  }

  /**
   * Indices of the cells the viewer sees, in row order. The array is a view into a buffer the next cast
   * overwrites: copy it (`slice()`) to keep it.
   */
  cast(viewer: Viewer): Int32Array {
    const { grid, walls, shadow } = this
    const { cellSizeM: cs, cols, demand } = grid
    const R = viewer.rangeM
    const vx = viewer.x
    const vy = viewer.y
    const window = {
      colFrom: Math.max(0, Math.ceil((vx - R - grid.originX) / cs - 0.5)),
      colTo: Math.min(cols - 1, Math.floor((vx + R - grid.originX) / cs - 0.5)),
      rowFrom: Math.max(0, Math.ceil((vy - R - grid.originY) / cs - 0.5)),
      rowTo: Math.min(grid.rows - 1, Math.floor((vy + R - grid.originY) / cs - 0.5)),
    }
    if (!(R > 0) || window.colFrom > window.colTo || window.rowFrom > window.rowTo) return this.out.subarray(0, 0)
    if (++this.stamp === 0xffffffff) {
      shadow.fill(0)
      this.stamp = 1
    }
    const stamp = this.stamp
    const paint = (row: number, colFrom: number, colTo: number) => shadow.fill(stamp, row * cols + colFrom, row * cols + colTo + 1)
    for (let w = 0; w < walls.count; w++) {
      if (!walls.blocksSight[w]) continue
      // Cheap box test first: most walls of a large site are nowhere near this viewer.
      const minX = Math.min(walls.ax[w]!, walls.bx[w]!)
      const maxX = Math.max(walls.ax[w]!, walls.bx[w]!)
      const minY = Math.min(walls.ay[w]!, walls.by[w]!)
      const maxY = Math.max(walls.ay[w]!, walls.by[w]!)
      if (minX > vx + R || maxX < vx - R || minY > vy + R || maxY < vy - R) continue
      const depth = shadowDepth(viewer.eyeHeightM, viewer.targetHeightM, walls.heightM[w]!)
      if (depth) forEachShadowCell(grid, walls, w, vx, vy, depth[0], depth[1], R, window, paint)
    }

    const capacity = (window.colTo - window.colFrom + 1) * (window.rowTo - window.rowFrom + 1)
    if (this.out.length < capacity) this.out = new Int32Array(Math.max(capacity, this.out.length * 2))
    const out = this.out
    const { ux, uy, cosHalf, allRound } = viewerFacing(viewer)
    const R2 = R * R
    let n = 0
    for (let row = window.rowFrom; row <= window.rowTo; row++) {
      const dy = grid.originY + (row + 0.5) * cs - vy
      const rest = R2 - dy * dy
      if (rest < 0) continue
      const half = Math.sqrt(rest)
      const colFrom = Math.max(window.colFrom, Math.ceil((vx - half - grid.originX) / cs - 0.5))
      const colTo = Math.min(window.colTo, Math.floor((vx + half - grid.originX) / cs - 0.5))
      const rowStart = row * cols
      for (let col = colFrom; col <= colTo; col++) {
        const index = rowStart + col
        if (demand[index]! < this.minDemand || shadow[index] === stamp) continue
        const dx = grid.originX + (col + 0.5) * cs - vx
        const d2 = dx * dx + dy * dy
        if (d2 > R2) continue
        if (!allRound && dx * ux + dy * uy < cosHalf * Math.sqrt(d2)) continue
        out[n++] = index
      }
    }
    return out.subarray(0, n)
  }
}

/** DORI bands, in rising order of detail; 0 where no camera detects. */
export const DoriBand = { none: 0, detection: 1, observation: 2, recognition: 3, identification: 4 } as const
export type DoriBandValue = (typeof DoriBand)[keyof typeof DoriBand]

/** The band a camera reaches at `distanceM` (eye to target, slant): pixel density against the thresholds. */
export function doriBandAt(camera: Pick<CameraPart, 'sensor' | 'hfovDeg' | 'dori'>, distanceM: number): DoriBandValue {
  const dori: DoriThresholds = camera.dori ?? defaultDoriThresholds
  const pxPerM = camera.sensor.widthPx / (2 * Math.max(distanceM, 1e-6) * Math.tan((camera.hfovDeg * Math.PI) / 360))
  if (pxPerM >= dori.identificationPxPerM) return DoriBand.identification
  if (pxPerM >= dori.recognitionPxPerM) return DoriBand.recognition
  if (pxPerM >= dori.observationPxPerM) return DoriBand.observation
  if (pxPerM >= dori.detectionPxPerM) return DoriBand.detection
  return DoriBand.none
}

/**
 * How a catalogue part sees from a mounting point. A camera reaches as far as its pixels allow for
 * detection (or its illuminator), measured along the slant from its eye to the target, so a camera high
 * on a mast reaches a little less far across the ground. Radios see nothing: null.
 */
export function viewerFor(part: CataloguePart, mount: Pick<MountingPoint, 'x' | 'y' | 'heightM'>, orientationDeg: number, targetHeightM: number): Viewer | null {
  if (part.kind === 'sensor') {
    return { x: mount.x, y: mount.y, eyeHeightM: mount.heightM, targetHeightM, rangeM: part.rangeM, fovDeg: part.angleDeg, orientationDeg }
  }
  if (part.kind === 'camera') {
    const reach = cameraReachM(part)
    const drop = mount.heightM - targetHeightM
    const rangeM = Math.sqrt(Math.max(0, reach * reach - drop * drop))
    return { x: mount.x, y: mount.y, eyeHeightM: mount.heightM, targetHeightM, rangeM, fovDeg: part.hfovDeg, orientationDeg }
  }
  return null
}

/** Log-distance path loss: PL(d) = PL(1 m) + 10·n·log10(d / 1 m), plus each wall crossed. */
export interface PathLossModel {
  /** n: 2 in free space, about 2.7–3.5 across a built-up yard, 4 or more through clutter. */
  exponent: number
  /** Gain of the receiving node's antenna. */
  receiverGainDbi: number
  /** Levels below this are not drawn: nothing decodes there, and it bounds the work. */
  floorDbm: number
}

export const defaultPathLossModel: Readonly<PathLossModel> = { exponent: 3, receiverGainDbi: 2, floorDbm: -130 }

export interface RadioSource {
  x: number
  y: number
  /** Transmit power plus antenna gain. */
  eirpDbm: number
  /** Path loss over the first metre: free space at the radio's frequency (freeSpaceLossAt1mDb). */
  referenceLossDb: number
}

/** Free-space loss over one metre: 20·log10(f / MHz) − 27.55 dB; 40 dB at 2.4 GHz, 31 dB at 868 MHz. */
export function freeSpaceLossAt1mDb(frequencyMHz: number): number {
  return 20 * Math.log10(frequencyMHz) - 27.55
}

/**
 * Received level per cell from the strongest source, in dBm; -Infinity where every source is below the
 * floor. Every wall counts, whatever its height: a low wall still cuts into the Fresnel zone, so this errs
 * on the side of a weaker signal. Walls a source is mounted on (within a centimetre) do not count.
 */
export function radioMap(grid: CoverageGrid, walls: WallSet, sources: readonly RadioSource[], model: PathLossModel = defaultPathLossModel): Float32Array {
  const { cellSizeM: cs, cols } = grid
  const best = new Float32Array(cols * grid.rows).fill(Number.NEGATIVE_INFINITY)
  for (const source of sources) {
    const budget = source.eirpDbm + model.receiverGainDbi - source.referenceLossDb - model.floorDbm
    if (budget < 0) continue
    const reach = Math.pow(10, budget / (10 * model.exponent))
    const window = {
      colFrom: Math.max(0, Math.ceil((source.x - reach - grid.originX) / cs - 0.5)),
      colTo: Math.min(cols - 1, Math.floor((source.x + reach - grid.originX) / cs - 0.5)),
      rowFrom: Math.max(0, Math.ceil((source.y - reach - grid.originY) / cs - 0.5)),
      rowTo: Math.min(grid.rows - 1, Math.floor((source.y + reach - grid.originY) / cs - 0.5)),
    }
    if (window.colFrom > window.colTo || window.rowFrom > window.rowTo) continue
    const width = window.colTo - window.colFrom + 1
    const level = new Float32Array(width * (window.rowTo - window.rowFrom + 1))
    const atOneMetre = source.eirpDbm + model.receiverGainDbi - source.referenceLossDb
    const tenN = 5 * model.exponent // 10·n·log10(d) = 5·n·log10(d²): no square root per cell
    const reach2 = reach * reach
    for (let row = window.rowFrom; row <= window.rowTo; row++) {
      const dy = grid.originY + (row + 0.5) * cs - source.y
      const base = (row - window.rowFrom) * width - window.colFrom
      for (let col = window.colFrom; col <= window.colTo; col++) {
        const dx = grid.originX + (col + 0.5) * cs - source.x
        const d2 = dx * dx + dy * dy
        // Inside the reference metre the model does not apply; hold the one-metre level.
        level[base + col] = d2 > reach2 ? Number.NEGATIVE_INFINITY : d2 <= 1 ? atOneMetre : atOneMetre - tenN * Math.log10(d2)
      }
    }
    for (let w = 0; w < walls.count; w++) {
      const loss = walls.attenuationDb[w]!
      if (!(loss > 0)) continue
      forEachShadowCell(grid, walls, w, source.x, source.y, 1, Infinity, reach, window, (row, colFrom, colTo) => {
        const base = (row - window.rowFrom) * width - window.colFrom
        for (let col = colFrom; col <= colTo; col++) level[base + col]! -= loss
      })
    }
    for (let row = window.rowFrom; row <= window.rowTo; row++) {
      const base = (row - window.rowFrom) * width - window.colFrom
      const rowStart = row * cols
      for (let col = window.colFrom; col <= window.colTo; col++) {
        const value = level[base + col]!
        if (value >= model.floorDbm && value > best[rowStart + col]!) best[rowStart + col] = value
      }
    }
  }
  return best
}

export interface CoverageOptions {
  /** Height of the target sight lines end at: 1 m, a person's torso, unless the brief says a vehicle or a crawler. */
  targetHeightM?: number
  pathLoss?: Partial<PathLossModel>
  /** The level a node needs to reach a gateway: its sensitivity. Default: the least sensitive node in the catalogue. */
  nodeSensitivityDbm?: number
  /** Fade margin over sensitivity for a link to count as covered. */
  radioMarginDb?: number
  /** Blind spots smaller than this are not listed (they still count as uncovered). */
  minBlindSpotM2?: number
}

export interface CoverageSummary {
  requiredCells: number
  requiredSeen: number
  /** Seen required cells over all required cells. */
  requiredShare: number
  optionalCells: number
  optionalSeen: number
  /** In-problem cells per DORI band (index = band), best camera per cell. */
  doriCells: number[]
  /** In-problem cells where a node would hear a gateway with the margin; null without gateways. */
  radioShare: number | null
  blindSpotAreaM2: number
}

export interface CoverageResult {
  grid: CoverageGrid
  /** How many cameras and sensors see each cell. */
  seenBy: Uint16Array
  /** Best DORI band over all cameras per cell. */
  dori: Uint8Array
  /** Strongest gateway level per cell in dBm (-Infinity: none); null when the site has no gateway. */
  rssiDbm: Float32Array | null
  blindSpots: BlindSpot[]
  /** Blind spot id + 1 per cell (0: not in a listed spot), for drawing and for outlines. */
  blindSpotLabels: Int32Array
  summary: CoverageSummary
  /** Devices that could not be placed in the computation, in words. */
  problems: string[]
}

/** Everything the coverage screen shows, for the devices placed on the site. */
export function computeCoverage(site: SiteModel, catalogue: Catalogue, grid: CoverageGrid, options: CoverageOptions = {}): CoverageResult {
  const targetHeightM = options.targetHeightM ?? 1
  const walls = buildWallSet(site.obstructions)
  const caster = new ViewshedCaster(grid, walls, Demand.optional)
  const cellCount = grid.cols * grid.rows
  const seenBy = new Uint16Array(cellCount)
  const dori = new Uint8Array(cellCount)
  const mounts = new Map(site.mountingPoints.map((m) => [m.id, m]))
  const problems: string[] = []
  const sources: RadioSource[] = []

  for (const device of site.devices) {
    const part = findPart(catalogue, device.partNumber)
    const mount = mounts.get(device.mountingPointId)
    if (!part || !mount) {
      problems.push(`Device ${device.id} is left out: ${!part ? `part ${device.partNumber} is not in the catalogue` : `mounting point ${device.mountingPointId} does not exist`}.`)
      continue
    }
    if (part.kind === 'gateway') {
      sources.push({ x: mount.x, y: mount.y, eirpDbm: part.txPowerDbm + part.antennaGainDbi, referenceLossDb: freeSpaceLossAt1mDb(part.frequencyMHz) })
      continue
    }
    const viewer = viewerFor(part, mount, device.orientationDeg, targetHeightM)
    if (!viewer) continue
    const seen = caster.cast(viewer)
    for (let i = 0; i < seen.length; i++) seenBy[seen[i]!]!++
    if (part.kind === 'camera') {
      const drop2 = (viewer.eyeHeightM - targetHeightM) ** 2
      for (let i = 0; i < seen.length; i++) {
        const index = seen[i]!
        const dx = grid.originX + ((index % grid.cols) + 0.5) * grid.cellSizeM - viewer.x
        const dy = grid.originY + (Math.floor(index / grid.cols) + 0.5) * grid.cellSizeM - viewer.y
        const band = doriBandAt(part, Math.sqrt(dx * dx + dy * dy + drop2))
        if (band > dori[index]!) dori[index] = band
      }
    }
  }

  const nodeSensitivities = catalogue.flatMap((part) => (part.kind === 'node' ? [part.sensitivityDbm] : []))
  const nodeGains = catalogue.flatMap((part) => (part.kind === 'node' ? [part.antennaGainDbi] : []))
  const pathLoss: PathLossModel = {
    ...defaultPathLossModel,
    ...(nodeGains.length > 0 ? { receiverGainDbi: Math.min(...nodeGains) } : {}),
    ...options.pathLoss,
  }
  const rssiDbm = sources.length > 0 ? radioMap(grid, walls, sources, pathLoss) : null
  const sensitivity = options.nodeSensitivityDbm ?? (nodeSensitivities.length > 0 ? Math.max(...nodeSensitivities) : -90)
  const linkLevel = sensitivity + (options.radioMarginDb ?? 10)

  let requiredCells = 0
  let requiredSeen = 0
  let optionalCells = 0
  let optionalSeen = 0
  let radioCells = 0
  const doriCells = [0, 0, 0, 0, 0]
  for (let i = 0; i < cellCount; i++) {
    const demand = grid.demand[i]!
    if (demand === Demand.none) continue
    const seen = seenBy[i]! > 0 ? 1 : 0
    if (demand === Demand.required) {
      requiredCells++
      requiredSeen += seen
    } else {
      optionalCells++
      optionalSeen += seen
    }
    doriCells[dori[i]!]!++
    if (rssiDbm && rssiDbm[i]! >= linkLevel) radioCells++
  }
  const { spots, labels } = findBlindSpots(grid, seenBy, { minAreaM2: options.minBlindSpotM2 ?? 0 })
  return {
    grid,
    seenBy,
    dori,
    rssiDbm,
    blindSpots: spots,
    blindSpotLabels: labels,
    summary: {
      requiredCells,
      requiredSeen,
      requiredShare: requiredCells > 0 ? requiredSeen / requiredCells : 1,
      optionalCells,
      optionalSeen,
      doriCells,
      radioShare: rssiDbm ? radioCells / Math.max(1, requiredCells + optionalCells) : null,
      blindSpotAreaM2: spots.reduce((sum, spot) => sum + spot.areaM2, 0),
    },
    problems,
  }
}
