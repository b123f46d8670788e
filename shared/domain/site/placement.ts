import { CandidateHeap, improveCover, lagrangianCover } from './cover-search'
import { ViewshedCaster, viewerFacing, viewerFor } from './coverage'
import { cellIndexAt, Demand, type CoverageGrid } from './grid'
import { findPart, type Catalogue, type SiteModel } from './model'
import { buildWallSet } from './walls'

/**
 * "How many nodes close the gaps": given the cells still unseen in required zones and the places a
 * camera or sensor could go (mounting point × part × facing), pick few that see them all, and show how
 * coverage grows with each one added.
 *
 * This is set cover, NP-hard in general. Greedy (take the candidate that sees most still-unseen cells
 * per euro or per node, repeat) is within ln(cells) of the optimum in theory and usually much closer on
 * geometric instances; evaluated lazily it touches few candidates per step, because a candidate's gain
 * only ever shrinks as others are chosen (submodularity), so a stale gain is an upper bound and only the
 * top of the queue needs recomputing. Lazy greedy alone is 20–50 % over the optimum on small yards,
 * so its cover is then trimmed by a local search (redundant picks dropped, pairs replaced by one) and,
 * when every closable cell is asked for, improved by a Lagrangian heuristic that also proves a lower
 * bound, run on the instance without its dominated elements and candidates and ending in a branch and
 * bound where cover and bound still differ by a node or two (cover-search.ts): on random yards of ~500
 * candidates that lands on the optimum and proves it, in milliseconds. All of it is bounded by a work
 * budget, so a 1 km² site still answers in seconds. For small sites the
 * exact optimum comes from an integer program (HiGHS, in the core: electron/core/site/placement-exact.ts)
 * on the same `CoverInstance`.
 */

export interface PlacementCandidate {
  mountingPointId: string
  partNumber: string
  kind: 'camera' | 'sensor'
  orientationDeg: number
  costEur: number
  /** Gap cells (required, not already seen) this candidate sees, ascending. */
  cells: Int32Array
}

export interface CandidateOptions {
  /** Parts to try; default every camera and sensor in the catalogue. */
  partNumbers?: readonly string[]
  /** Facings tried where a mounting point does not fix them; 360° parts are tried once. */
  orientationStepDeg?: number
  targetHeightM?: number
  /** Cells seen already (computeCoverage's `seenBy`): not gaps, so not counted for anyone. */
  alreadySeen?: ArrayLike<number>
  /**
   * A node that cannot reach a gateway reports nothing: skip mounting points where the gateways' level
   * (computeCoverage's `rssiDbm`) is below `minimumDbm`.
   */
  radio?: { rssiDbm: Float32Array; minimumDbm: number }
}

export interface CandidateSet {
  candidates: PlacementCandidate[]
  /** Mounting points left out, in words. */
  skipped: string[]
}

/**
 * Every candidate placement and the gap cells it would see. One all-round cast per mounting point and
 * part, then one filter per facing with the caster's own angle test, so eight facings cost one cast.
 */
export function buildCandidates(site: SiteModel, catalogue: Catalogue, grid: CoverageGrid, options: CandidateOptions = {}): CandidateSet {
  const targetHeightM = options.targetHeightM ?? 1
  const step = options.orientationStepDeg ?? 45
  const parts = (options.partNumbers ?? catalogue.filter((p) => p.kind === 'camera' || p.kind === 'sensor').map((p) => p.partNumber))
    .map((partNumber) => findPart(catalogue, partNumber))
    .filter((part) => part !== undefined && (part.kind === 'camera' || part.kind === 'sensor'))
  const caster = new ViewshedCaster(grid, buildWallSet(site.obstructions), Demand.required)
  const candidates: PlacementCandidate[] = []
  const skipped: string[] = []
  const gap = (index: number) => !options.alreadySeen || options.alreadySeen[index] === 0
  for (const mount of site.mountingPoints) {
    if (options.radio) {
      const cell = cellIndexAt(grid, mount)
      const level = cell >= 0 ? options.radio.rssiDbm[cell]! : Number.NEGATIVE_INFINITY
      if (!(level >= options.radio.minimumDbm)) {
        skipped.push(`Mounting point ${mount.id}: a node there would hear the gateways at ${Number.isFinite(level) ? `${level.toFixed(0)} dBm` : 'nothing'}, below the ${options.radio.minimumDbm} dBm it needs.`)
        continue
      }
    }
    for (const part of parts) {
      if (!part || (part.kind !== 'camera' && part.kind !== 'sensor') || !mount.allowedKinds.includes(part.kind)) continue
      const allRound = viewerFor(part, mount, 0, targetHeightM)!
      const fovDeg = allRound.fovDeg
      allRound.fovDeg = 360
      const seen = caster.cast(allRound).filter(gap)
      if (seen.length === 0) continue
      const facings = fovDeg >= 360 ? [0] : (mount.orientationsDeg ?? Array.from({ length: Math.ceil(360 / step) }, (_, i) => i * step))
      for (const orientationDeg of facings) {
        const cells = fovDeg >= 360 ? seen : inAngle(grid, { ...allRound, fovDeg, orientationDeg }, seen)
        if (cells.length === 0) continue
        candidates.push({ mountingPointId: mount.id, partNumber: part.partNumber, kind: part.kind, orientationDeg, costEur: part.priceEur, cells })
      }
    }
  }
  return { candidates, skipped }
}

function inAngle(grid: CoverageGrid, viewer: Parameters<typeof viewerFacing>[0], cells: Int32Array): Int32Array {
  const { ux, uy, cosHalf } = viewerFacing(viewer)
  const { cellSizeM: cs, cols } = grid
  const out = new Int32Array(cells.length)
  let n = 0
  for (let k = 0; k < cells.length; k++) {
    const index = cells[k]!
    const col = index % cols
    const dx = grid.originX + (col + 0.5) * cs - viewer.x
    const dy = grid.originY + ((index - col) / cols + 0.5) * cs - viewer.y
    if (dx * ux + dy * uy >= cosHalf * Math.sqrt(dx * dx + dy * dy)) out[n++] = index
  }
  return out.slice(0, n)
}

/**
 * The set-cover instance: gap cells grouped into elements (cells seen by exactly the same candidates are
 * interchangeable, and a yard of a million cells is often a few thousand such groups), with both
 * directions of the incidence as compressed sparse rows. Greedy and the integer program read the same one.
 */
export interface CoverInstance {
  candidateCount: number
  elementCount: number
  /** Cells per element. */
  elementWeight: Int32Array
  /** Candidate c sees elements candidateElements[candidateStart[c] .. candidateStart[c + 1]). */
  candidateStart: Int32Array
  candidateElements: Int32Array
  /** Element e is seen by candidates elementCandidates[elementStart[e] .. elementStart[e + 1]), ascending. */
  elementStart: Int32Array
  elementCandidates: Int32Array
  /** Every required cell on the site. */
  requiredCells: number
  /** Required cells seen before placement. */
  alreadySeenCells: number
  /** Gap cells no candidate sees: no placement closes them. */
  unreachableCells: number
}

export function buildCoverInstance(grid: CoverageGrid, candidates: readonly Pick<PlacementCandidate, 'cells'>[], alreadySeen?: ArrayLike<number>): CoverInstance {
  const cellCount = grid.cols * grid.rows
  let requiredCells = 0
  let alreadySeenCells = 0
  for (let i = 0; i < cellCount; i++) {
    if (grid.demand[i] !== Demand.required) continue
    requiredCells++
    if (alreadySeen && alreadySeen[i] !== 0) alreadySeenCells++
  }
  // Cell → candidates, for gap cells some candidate sees.
  const seenCount = new Int32Array(cellCount + 1)
  for (const candidate of candidates) for (let k = 0; k < candidate.cells.length; k++) seenCount[candidate.cells[k]! + 1]!++
  for (let i = 0; i < cellCount; i++) seenCount[i + 1]! += seenCount[i]!
  const cellStart = seenCount // prefix sums: cell i's candidates start at cellStart[i]
  const cellCandidates = new Int32Array(cellStart[cellCount]!)
  const fill = cellStart.slice(0, cellCount)
  candidates.forEach((candidate, c) => {
    for (let k = 0; k < candidate.cells.length; k++) cellCandidates[fill[candidate.cells[k]!]!++] = c
  })

  // Group cells by their candidate list: hash, then compare lists within a bucket.
  const elementOfCell = new Int32Array(cellCount).fill(-1)
  const representative: number[] = []
  const weights: number[] = []
  const buckets = new Map<number, number[]>()
  let coveredGapCells = 0
  for (let i = 0; i < cellCount; i++) {
    const from = cellStart[i]!
    const to = cellStart[i + 1]!
    if (from === to) continue
    coveredGapCells++
    let hash = 0x811c9dc5 ^ (to - from)
    for (let k = from; k < to; k++) hash = Math.imul(hash ^ cellCandidates[k]!, 0x01000193)
    let bucket = buckets.get(hash)
    if (!bucket) buckets.set(hash, (bucket = []))
    let element = -1
    for (const e of bucket) {
      const r = representative[e]!
      const rFrom = cellStart[r]!
      if (cellStart[r + 1]! - rFrom !== to - from) continue
      let same = true
      for (let k = 0; k < to - from && same; k++) same = cellCandidates[rFrom + k] === cellCandidates[from + k]
      if (same) {
        element = e
        break
      }
    }
    if (element < 0) {
      element = representative.length
      representative.push(i)
      weights.push(0)
      bucket.push(element)
    }
    weights[element]!++
    elementOfCell[i] = element
  }
  const elementCount = representative.length
  const elementStart = new Int32Array(elementCount + 1)
  for (let e = 0; e < elementCount; e++) {
    const r = representative[e]!
    elementStart[e + 1] = elementStart[e]! + cellStart[r + 1]! - cellStart[r]!
  }
  const elementCandidates = new Int32Array(elementStart[elementCount]!)
  for (let e = 0; e < elementCount; e++) {
    const r = representative[e]!
    elementCandidates.set(cellCandidates.subarray(cellStart[r]!, cellStart[r + 1]!), elementStart[e]!)
  }
  // Candidate → elements, the transpose.
  const candidateStart = new Int32Array(candidates.length + 1)
  for (let k = 0; k < elementCandidates.length; k++) candidateStart[elementCandidates[k]! + 1]!++
  for (let c = 0; c < candidates.length; c++) candidateStart[c + 1]! += candidateStart[c]!
  const candidateElements = new Int32Array(elementCandidates.length)
  const cursor = candidateStart.slice(0, candidates.length)
  for (let e = 0; e < elementCount; e++) {
    for (let k = elementStart[e]!; k < elementStart[e + 1]!; k++) candidateElements[cursor[elementCandidates[k]!]!++] = e
  }
  return {
    candidateCount: candidates.length,
    elementCount,
    elementWeight: Int32Array.from(weights),
    candidateStart,
    candidateElements,
    elementStart,
    elementCandidates,
    requiredCells,
    alreadySeenCells,
    unreachableCells: requiredCells - alreadySeenCells - coveredGapCells,
  }
}

/** Gap cells some candidate sees: the most any placement can close. */
export function reachableWeight(instance: CoverInstance): number {
  let sum = 0
  for (let e = 0; e < instance.elementCount; e++) sum += instance.elementWeight[e]!
  return sum
}

/**
 * The gap weight a target share asks for: the share is of the cells placement can close at all
 * (`reachableWeight`), since cells no mounting point sees cannot be asked of any set of nodes.
 */
export function targetWeightFor(instance: CoverInstance, targetShare: number): number {
  const reachable = reachableWeight(instance)
  return Math.min(reachable, Math.ceil(Math.max(0, Math.min(1, targetShare)) * reachable - 1e-9))
}

export interface CurvePoint {
  nodes: number
  /** Required cells seen, existing devices included, over all required cells. */
  coveredShare: number
  costEur: number
}

export interface GreedyOptions {
  /** Share of the closable gap cells to close; 1 closes every one a candidate sees. */
  targetShare?: number
  /** Per-candidate cost: prices to minimise spend, default 1 each to minimise the node count. */
  costs?: ArrayLike<number>
  /** Stop after this many nodes even short of the target. */
  maxNodes?: number
  /** Redundancy removal and pair-for-one swaps after greedy. Default on. */
  localSearch?: boolean
  /**
   * Work allowed to the local search and the Lagrangian heuristic, in incidence visits; bounds them on
   * very large sites. The default, 5·10⁸, is about two seconds of search on a 1 km² site.
   */
  searchBudget?: number
  /**
   * When the target is every closable cell: look for a smaller cover with the Lagrangian heuristic and
   * its branch and bound, and prove a lower bound on the node count. Default on.
   */
  lagrangian?: boolean
}

export interface GreedyResult {
  /** Candidate indices chosen, after local search. */
  chosen: number[]
  /** Candidate indices in the order greedy took them, before local search. */
  greedyOrder: number[]
  /** Coverage against node count along the greedy order, from 0 nodes (existing devices only). */
  curve: CurvePoint[]
  coveredWeight: number
  targetWeight: number
  reachedTarget: boolean
  /** Marginal gains computed: the lazy queue's work (plain greedy would compute candidates × steps). */
  gainEvaluations: number
  /**
   * No cover of every closable cell costs less than this (node count, with unit costs): the Lagrangian
   * bound, or the cover's own cost when the branch and bound proved it optimal. Null when it was not
   * computed (a partial target, or `lagrangian: false`).
   */
  lowerBound: number | null
}

/**
 * Lazy greedy set cover. A max-heap holds every candidate keyed by its last known gain per cost; the top
 * is recomputed and taken only if it still beats the next key, otherwise pushed back with its new key.
 * Ties go to the lower candidate index, so the result is the same as plain greedy's.
 */
export function greedyCover(instance: CoverInstance, options: GreedyOptions = {}): GreedyResult {
  const { candidateCount, candidateStart, candidateElements, elementWeight } = instance
  const cost = (c: number) => (options.costs ? Math.max(options.costs[c]!, 1e-9) : 1)
  const targetWeight = targetWeightFor(instance, options.targetShare ?? 1)
  const maxNodes = options.maxNodes ?? Number.POSITIVE_INFINITY
  const covered = new Uint8Array(instance.elementCount)
  const gainOf = (c: number) => {
    let gain = 0
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      if (!covered[e]) gain += elementWeight[e]!
    }
    return gain
  }
  const heap = new CandidateHeap(candidateCount)
  let gainEvaluations = 0
  for (let c = 0; c < candidateCount; c++) {
    const gain = gainOf(c)
    gainEvaluations++
    if (gain > 0) heap.push(c, gain / cost(c))
  }
  const greedyOrder: number[] = []
  const base = instance.alreadySeenCells
  const share = (weight: number) => (instance.requiredCells > 0 ? (base + weight) / instance.requiredCells : 1)
  const curve: CurvePoint[] = [{ nodes: 0, coveredShare: share(0), costEur: 0 }]
  let coveredWeight = 0
  let spent = 0
  while (coveredWeight < targetWeight && greedyOrder.length < maxNodes && heap.size > 0) {
    const c = heap.popTop()
    const gain = gainOf(c)
    gainEvaluations++
    if (gain === 0) continue
    const key = gain / cost(c)
    if (heap.size > 0 && !heap.beats(key, c)) {
      heap.push(c, key)
      continue
    }
    greedyOrder.push(c)
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) covered[candidateElements[k]!] = 1
    coveredWeight += gain
    spent += cost(c)
    curve.push({ nodes: greedyOrder.length, coveredShare: share(coveredWeight), costEur: options.costs ? spent : 0 })
  }
  const budget = options.searchBudget ?? 500_000_000
  let chosen = options.localSearch === false ? [...greedyOrder] : improveCover(instance, greedyOrder, targetWeight, cost, budget / 4)
  let lowerBound: number | null = null
  const full = targetWeight === reachableWeight(instance) && coveredWeight >= targetWeight
  if (full && options.lagrangian !== false && options.localSearch !== false) {
    const search = lagrangianCover(instance, Float64Array.from({ length: candidateCount }, (_, c) => cost(c)), chosen, { budget })
    chosen = search.chosen
    lowerBound = search.lowerBound
  }
  let finalWeight = 0
  covered.fill(0)
  for (const c of chosen) for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) covered[candidateElements[k]!] = 1
  for (let e = 0; e < instance.elementCount; e++) if (covered[e]) finalWeight += elementWeight[e]!
  return { chosen, greedyOrder, curve, coveredWeight: finalWeight, targetWeight, reachedTarget: finalWeight >= targetWeight, gainEvaluations, lowerBound }
}


export interface PlacementPlan {
  candidates: PlacementCandidate[]
  instance: CoverInstance
  result: GreedyResult
  /** The chosen placements, ready to add to the site's devices. */
  proposal: { partNumber: string; mountingPointId: string; orientationDeg: number; kind: 'camera' | 'sensor' }[]
  skipped: string[]
}

/** Candidates, instance and greedy cover in one call: the planner's "close the gaps" button. */
export function planPlacement(site: SiteModel, catalogue: Catalogue, grid: CoverageGrid, options: CandidateOptions & GreedyOptions & { minimiseCost?: boolean } = {}): PlacementPlan {
  const { candidates, skipped } = buildCandidates(site, catalogue, grid, options)
  const instance = buildCoverInstance(grid, candidates, options.alreadySeen)
  const result = greedyCover(instance, { ...options, costs: options.costs ?? (options.minimiseCost ? Float64Array.from(candidates, (c) => c.costEur) : undefined) })
  const proposal = result.chosen.map((c) => {
    const { partNumber, mountingPointId, orientationDeg, kind } = candidates[c]!
    return { partNumber, mountingPointId, orientationDeg, kind }
  })
  return { candidates, instance, result, proposal, skipped }
}
