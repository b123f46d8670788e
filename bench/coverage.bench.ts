import { lineIntersect, lineString } from '@turf/turf'
import { performance } from 'node:perf_hooks'
import {
  buildCoverageGrid,
  buildWallSet,
  computeCoverage,
  Demand,
  inReach,
  ViewshedCaster,
  viewerFor,
  type CoverageGrid,
  type Viewer,
  type WallSet,
} from '../shared/domain/site/coverage'
import { findPart, type SiteModel } from '../shared/domain/site/model'
import { sampleCatalogue, syntheticSite } from '../shared/domain/site/synthetic-site'
import { seededRandom } from '../shared/domain/seeded-random'
import { distanceToWall, ownWallToleranceM } from '../shared/domain/site/walls'

// Coverage of a 1 km × 1 km yard at 1 m cells (a million cells) with 100 cameras and motion sensors and
// 500 wall segments. The baseline is the straightforward way: for every (sensor, cell) pair within range
// and angle, a sight line tested against every opaque wall near the sensor with turf's lineIntersect,
// the wall's height checked at the crossing. With the walls prefiltered to each sensor's reach it takes
// seconds here, so it runs on every pair of the same inputs in the same run, and agreement is counted on
// all of them. COVERAGE_REFERENCE_PAIRS=N runs it on a random sample of N pairs instead and
// extrapolates its time (for bigger sites or longer ranges, where it takes minutes).
const sizeM = 1000
const sensors = 100
const wallCount = 500
const samplePairs = Number(process.env.COVERAGE_REFERENCE_PAIRS ?? Number.POSITIVE_INFINITY)
const rounds = 5
const targetHeightM = 1
const parts = ['PIR-12-110', 'RAD-30-90', 'RAD-120-100', 'LID-50-360', 'CAM-4MP-28', 'CAM-8MP-60']

export async function coverage(): Promise<string> {
  const site = syntheticSite(seededRandom(2024), { widthM: sizeM, heightM: sizeM, walls: wallCount, mountingPoints: 400, devices: sensors, deviceParts: parts, gateways: 4 })
  const grid = buildCoverageGrid(site, { cellSizeM: 1 })
  const walls = buildWallSet(site.obstructions)
  const viewers = viewersOf(site)

  // Ours: the viewshed phase (the same work as the reference), then the whole computation.
  const viewshedMs: number[] = []
  let visible: Int32Array[] = []
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    const caster = new ViewshedCaster(grid, walls)
    visible = viewers.map((viewer) => caster.cast(viewer).slice())
    viewshedMs.push(performance.now() - started)
  }
  const totalMs: number[] = []
  let result = computeCoverage(site, sampleCatalogue, grid, { targetHeightM })
  for (let round = 0; round < rounds; round++) {
    const started = performance.now()
    result = computeCoverage(site, sampleCatalogue, grid, { targetHeightM })
    totalMs.push(performance.now() - started)
  }
  const ours = median(viewshedMs)

  // The reference on every in-reach pair of the same inputs, or on a sample of them.
  const pairs = inReachPairs(grid, viewers)
  const random = seededRandom(7)
  const sampled = samplePairs < pairs.total
  const sample = sampled
    ? Array.from({ length: samplePairs }, () => pairs.at(Math.floor(random() * pairs.total)))
    : pairs.lists.flatMap((cells, viewer) => cells.map((cell) => ({ viewer, cell })))
  const blockers = viewers.map((viewer) => referenceBlockers(walls, viewer))
  const started = performance.now()
  const referenceSeen = sample.map(({ viewer, cell }) => referenceSees(grid, viewers[viewer]!, cell, blockers[viewer]!))
  const referenceSampleMs = performance.now() - started
  const referenceMs = (referenceSampleMs * pairs.total) / sample.length
  let agree = 0
  let boundary = 0
  sample.forEach(({ viewer, cell }, k) => {
    const mine = contains(visible[viewer]!, cell)
    if (mine === referenceSeen[k]) agree++
    else if (onShadowEdge(grid, viewers[viewer]!, cell, walls)) boundary++
  })
  const disagree = sample.length - agree

  const { summary } = result
  console.log(`  site: ${sizeM} m × ${sizeM} m at 1 m cells (${(grid.cols * grid.rows).toLocaleString('en')} cells), ${viewers.length} cameras and sensors (${parts.join(', ')}), ${walls.count} wall segments, 4 gateways`)
  console.log(`  ours, viewsheds (what the reference does): median ${ours.toFixed(0)} ms of ${rounds} (${viewshedMs.map((ms) => ms.toFixed(0)).join(', ')}), ${pairs.total.toLocaleString('en')} in-reach sensor–cell pairs decided`)
  console.log(`  ours, whole coverage (viewsheds, DORI, radio from 4 gateways, blind spots): median ${median(totalMs).toFixed(0)} ms; aim < 1000 ms`)
  console.log(`    seen ${(summary.requiredShare * 100).toFixed(1)} % of required cells; ${result.blindSpots.length} blind spots, ${(summary.blindSpotAreaM2 / 1e4).toFixed(1)} ha; radio link ${((summary.radioShare ?? 0) * 100).toFixed(1)} % of cells; DORI cells ${summary.doriCells.slice(1).join(' / ')} (D/O/R/I)`)
  const which = sampled ? `${sample.length.toLocaleString('en')} sampled pairs` : `all ${sample.length.toLocaleString('en')} pairs`
  if (sampled) console.log(`  reference (turf lineIntersect per pair and wall, walls prefiltered to each sensor's reach): ${which} in ${referenceSampleMs.toFixed(0)} ms, extrapolated to all ${pairs.total.toLocaleString('en')} pairs: ${(referenceMs / 1000).toFixed(1)} s`)
  else console.log(`  reference (turf lineIntersect per pair and wall, walls prefiltered to each sensor's reach): ${which} in ${referenceMs.toFixed(0)} ms, one run`)
  console.log(`  agreement on ${which}: ${((agree / sample.length) * 100).toFixed(4)} % (${disagree} disagree, ${boundary} of them on a shadow edge within 1 mm)`)
  return `coverage: ratio=${(referenceMs / ours).toFixed(0)} (viewsheds ${ours.toFixed(1)} ms / turf reference ${(referenceMs / 1000).toFixed(1)} s${sampled ? ` extrapolated from ${which}` : ''}; whole coverage with DORI, radio and blind spots ${median(totalMs).toFixed(0)} ms; agreement ${((agree / sample.length) * 100).toFixed(3)} % of ${which}; higher is better)`
}

function viewersOf(site: SiteModel): Viewer[] {
  const mounts = new Map(site.mountingPoints.map((m) => [m.id, m]))
  return site.devices.flatMap((device) => {
    const part = findPart(sampleCatalogue, device.partNumber)
    const mount = mounts.get(device.mountingPointId)
    const viewer = part && mount ? viewerFor(part, mount, device.orientationDeg, targetHeightM) : null
    return viewer ? [viewer] : []
  })
}

/** Every (viewer, in-problem cell within range and angle) pair, countable and indexable without listing them. */
function inReachPairs(grid: CoverageGrid, viewers: readonly Viewer[]) {
  const lists = viewers.map((viewer) => {
    const cells: number[] = []
    for (let row = 0; row < grid.rows; row++) {
      const y = grid.originY + (row + 0.5) * grid.cellSizeM
      if (Math.abs(y - viewer.y) > viewer.rangeM) continue
      for (let col = 0; col < grid.cols; col++) {
        const x = grid.originX + (col + 0.5) * grid.cellSizeM
        if (Math.abs(x - viewer.x) > viewer.rangeM) continue
        const cell = row * grid.cols + col
        if (grid.demand[cell]! >= Demand.optional && inReach(viewer, x, y)) cells.push(cell)
      }
    }
    return cells
  })
  const offsets = [0]
  for (const cells of lists) offsets.push(offsets.at(-1)! + cells.length)
  return {
    total: offsets.at(-1)!,
    lists,
    at(index: number) {
      let viewer = 0
      while (offsets[viewer + 1]! <= index) viewer++
      return { viewer, cell: lists[viewer]![index - offsets[viewer]!]! }
    },
  }
}

interface Blocker {
  line: ReturnType<typeof lineString>
  heightM: number
}

/** Opaque walls within the viewer's reach, as turf lines, less its own mounting wall (the caster's rule). */
export function referenceBlockers(walls: WallSet, viewer: Viewer): Blocker[] {
  const blockers: Blocker[] = []
  for (let w = 0; w < walls.count; w++) {
    if (!walls.blocksSight[w]) continue
    const distance = distanceToWall(walls, w, viewer.x, viewer.y)
    if (distance < ownWallToleranceM || distance > viewer.rangeM) continue
    blockers.push({ line: lineString([[walls.ax[w]!, walls.ay[w]!], [walls.bx[w]!, walls.by[w]!]]), heightM: walls.heightM[w]! })
  }
  return blockers
}

/**
 * The straightforward test for one pair: in reach, and the sight line from the viewer's eye to a target
 * at the cell's centre passes above every wall it crosses.
 */
export function referenceSees(grid: CoverageGrid, viewer: Viewer, cell: number, blockers: readonly Blocker[]): boolean {
  const x = grid.originX + ((cell % grid.cols) + 0.5) * grid.cellSizeM
  const y = grid.originY + (Math.floor(cell / grid.cols) + 0.5) * grid.cellSizeM
  if (!inReach(viewer, x, y)) return false
  const distance = Math.hypot(x - viewer.x, y - viewer.y)
  if (distance === 0) return true
  const sight = lineString([[viewer.x, viewer.y], [x, y]])
  for (const blocker of blockers) {
    for (const hit of lineIntersect(sight, blocker.line).features) {
      const [hx, hy] = hit.geometry.coordinates as [number, number]
      const fraction = Math.hypot(hx - viewer.x, hy - viewer.y) / distance
      const lineHeight = viewer.eyeHeightM + (viewer.targetHeightM - viewer.eyeHeightM) * fraction
      if (lineHeight <= blocker.heightM) return false
    }
  }
  return true
}

/**
 * Whether a pair is a tie the two methods may break differently: the sight line grazes a wall's end, the
 * cell's centre lies on a wall, or the line passes the wall's top within a millimetre.
 */
export function onShadowEdge(grid: CoverageGrid, viewer: Viewer, cell: number, walls: WallSet): boolean {
  const x = grid.originX + ((cell % grid.cols) + 0.5) * grid.cellSizeM
  const y = grid.originY + (Math.floor(cell / grid.cols) + 0.5) * grid.cellSizeM
  const dx = x - viewer.x
  const dy = y - viewer.y
  const length = Math.hypot(dx, dy)
  for (let w = 0; w < walls.count; w++) {
    if (!walls.blocksSight[w]) continue
    if (distanceToWall(walls, w, x, y) < 1e-3) return true
    for (const [px, py] of [[walls.ax[w]!, walls.ay[w]!], [walls.bx[w]!, walls.by[w]!]] as const) {
      const t = ((px - viewer.x) * dx + (py - viewer.y) * dy) / (length * length)
      if (t > 0 && t < 1 && Math.abs((px - viewer.x) * dy - (py - viewer.y) * dx) / length < 1e-3) return true
    }
    // The crossing, if any, and the line's height there.
    const ex = walls.bx[w]! - walls.ax[w]!
    const ey = walls.by[w]! - walls.ay[w]!
    const denominator = dx * ey - dy * ex
    if (denominator === 0) continue
    const s = ((walls.ax[w]! - viewer.x) * ey - (walls.ay[w]! - viewer.y) * ex) / denominator
    const u = ((walls.ax[w]! - viewer.x) * dy - (walls.ay[w]! - viewer.y) * dx) / denominator
    if (s > 0 && s < 1 && u >= 0 && u <= 1) {
      const lineHeight = viewer.eyeHeightM + (viewer.targetHeightM - viewer.eyeHeightM) * s
      if (Math.abs(lineHeight - walls.heightM[w]!) < 1e-3) return true
    }
  }
  return false
}

/** Binary search in a cast's ascending cell list. */
function contains(cells: Int32Array, cell: number): boolean {
  let lo = 0
  let hi = cells.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const value = cells[mid]!
    if (value === cell) return true
    if (value < cell) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
