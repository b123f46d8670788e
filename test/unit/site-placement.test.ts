import { describe, expect, it } from 'vitest'
import { buildCoverageGrid, cellIndexAt, computeCoverage, Demand, type CoverageGrid } from '../../shared/domain/site/coverage'
import { withoutDominatedElements } from '../../shared/domain/site/cover-search'
import { buildCandidates, buildCoverInstance, greedyCover, planPlacement, reachableWeight, targetWeightFor, type CoverInstance } from '../../shared/domain/site/placement'
import { sampleCatalogue, syntheticSite } from '../../shared/domain/site/synthetic-site'
import { seededRandom } from '../../shared/domain/seeded-random'

/** A one-row grid of `cells` required cells: set-cover instances without geometry. */
function strip(cells: number, demand: number = Demand.required): CoverageGrid {
  return { cellSizeM: 1, cols: cells, rows: 1, originX: 0, originY: 0, demand: new Uint8Array(cells).fill(demand), inBoundary: new Uint8Array(cells).fill(1) }
}

function randomSets(random: () => number, cells: number, candidates: number, density: number): { cells: Int32Array }[] {
  return Array.from({ length: candidates }, () => ({ cells: Int32Array.from({ length: cells }, (_, i) => i).filter(() => random() < density) }))
}

function coveredCells(instance: CoverInstance, chosen: readonly number[]): number {
  const seen = new Uint8Array(instance.elementCount)
  for (const c of chosen) for (let k = instance.candidateStart[c]!; k < instance.candidateStart[c + 1]!; k++) seen[instance.candidateElements[k]!] = 1
  let sum = 0
  for (let e = 0; e < instance.elementCount; e++) if (seen[e]) sum += instance.elementWeight[e]!
  return sum
}

/** The smallest full cover by trying every subset: the truth for tiny instances. */
function bruteForceMinimum(instance: CoverInstance): number {
  const n = instance.candidateCount
  const full = reachableWeight(instance)
  let best = Infinity
  for (let mask = 0; mask < 1 << n; mask++) {
    let bits = 0
    for (let m = mask; m; m &= m - 1) bits++
    if (bits >= best) continue
    const chosen = Array.from({ length: n }, (_, c) => c).filter((c) => mask & (1 << c))
    if (coveredCells(instance, chosen) === full) best = bits
  }
  return best
}

/** Plain greedy, every gain recomputed every step, ties to the lower index: what lazy evaluation must equal. */
function plainGreedy(instance: CoverInstance): number[] {
  const covered = new Uint8Array(instance.elementCount)
  const order: number[] = []
  for (;;) {
    let best = -1
    let bestGain = 0
    for (let c = 0; c < instance.candidateCount; c++) {
      let gain = 0
      for (let k = instance.candidateStart[c]!; k < instance.candidateStart[c + 1]!; k++) if (!covered[instance.candidateElements[k]!]) gain += instance.elementWeight[instance.candidateElements[k]!]!
      if (gain > bestGain) [best, bestGain] = [c, gain]
    }
    if (best < 0) return order
    order.push(best)
    for (let k = instance.candidateStart[best]!; k < instance.candidateStart[best + 1]!; k++) covered[instance.candidateElements[k]!] = 1
  }
}

describe('cover instance', () => {
  it('groups cells seen by the same candidates, and counts the gaps nobody can close', () => {
    const candidates = [{ cells: Int32Array.of(0, 1, 2, 3) }, { cells: Int32Array.of(2, 3, 4) }, { cells: Int32Array.of(4, 5) }]
    const already = Uint16Array.of(0, 0, 0, 0, 0, 0, 1, 0, 0)
    const instance = buildCoverInstance(strip(9), candidates, already)
    // {0,1} by A only, {2,3} by A and B, {4} by B and C, {5} by C; cell 6 seen already; 7 and 8 by nobody.
    expect(instance.elementCount).toBe(4)
    expect(Array.from(instance.elementWeight).sort()).toEqual([1, 1, 2, 2])
    expect(instance.requiredCells).toBe(9)
    expect(instance.alreadySeenCells).toBe(1)
    expect(instance.unreachableCells).toBe(2)
    expect(reachableWeight(instance)).toBe(6)
    expect(targetWeightFor(instance, 0.5)).toBe(3)
    for (let e = 0; e < instance.elementCount; e++) {
      const seenBy = Array.from(instance.elementCandidates.subarray(instance.elementStart[e], instance.elementStart[e + 1]))
      for (const c of seenBy) expect(Array.from(instance.candidateElements.subarray(instance.candidateStart[c], instance.candidateStart[c + 1]))).toContain(e)
    }
  })

  it('drops elements whose candidates include another element’s, and nothing a cover needs', () => {
    const random = seededRandom(4)
    for (let round = 0; round < 20; round++) {
      const instance = buildCoverInstance(strip(60), randomSets(random, 60, 12, 0.25))
      const reduced = withoutDominatedElements(instance, Infinity)
      expect(reduced.elementCount).toBeLessThanOrEqual(instance.elementCount)
      expect(bruteForceMinimum(reduced)).toBe(bruteForceMinimum(instance))
    }
  })
})

describe('greedy cover', () => {
  it('takes the same candidates as plain greedy while computing far fewer gains', () => {
    const random = seededRandom(1)
    for (let round = 0; round < 30; round++) {
      const instance = buildCoverInstance(strip(400), randomSets(random, 400, 80, 0.04 + 0.1 * random()))
      const lazy = greedyCover(instance, { localSearch: false })
      expect(lazy.greedyOrder).toEqual(plainGreedy(instance))
      expect(lazy.gainEvaluations).toBeLessThan(instance.candidateCount * Math.max(1, lazy.greedyOrder.length))
    }
  })

  it('draws the curve of coverage against node count from what is already seen up to the target', () => {
    const random = seededRandom(2)
    const already = new Uint16Array(300)
    for (let i = 0; i < 60; i++) already[i] = 1
    const sets = randomSets(random, 300, 50, 0.06).map(({ cells }) => ({ cells: cells.filter((c) => c >= 60) }))
    const instance = buildCoverInstance(strip(300), sets, already)
    const result = greedyCover(instance, { localSearch: false })
    expect(result.curve[0]).toEqual({ nodes: 0, coveredShare: 0.2, costEur: 0 })
    for (let i = 1; i < result.curve.length; i++) {
      expect(result.curve[i]!.nodes).toBe(i)
      expect(result.curve[i]!.coveredShare).toBeGreaterThan(result.curve[i - 1]!.coveredShare)
    }
    expect(result.curve.at(-1)!.coveredShare).toBeCloseTo((60 + reachableWeight(instance)) / 300, 12)
    expect(result.reachedTarget).toBe(true)
  })

  it('stops at a partial target with fewer nodes, and at a node limit short of it', () => {
    const random = seededRandom(3)
    const instance = buildCoverInstance(strip(500), randomSets(random, 500, 60, 0.05))
    const full = greedyCover(instance)
    const most = greedyCover(instance, { targetShare: 0.8 })
    expect(most.coveredWeight).toBeGreaterThanOrEqual(targetWeightFor(instance, 0.8))
    expect(most.chosen.length).toBeLessThan(full.chosen.length)
    expect(most.lowerBound).toBeNull()
    const capped = greedyCover(instance, { maxNodes: 3, localSearch: false })
    expect(capped.chosen).toHaveLength(3)
    expect(capped.reachedTarget).toBe(false)
  })

  it('is optimal or one node over on tiny instances, never claims less than the truth, and always covers', () => {
    const random = seededRandom(5)
    let worst = 1
    let plainWorst = 1
    let total = 0
    let optimumTotal = 0
    for (let round = 0; round < 60; round++) {
      const instance = buildCoverInstance(strip(40), randomSets(random, 40, 14, 0.12 + 0.1 * random()))
      const optimum = bruteForceMinimum(instance)
      const result = greedyCover(instance)
      expect(coveredCells(instance, result.chosen)).toBe(reachableWeight(instance))
      expect(result.chosen.length).toBeGreaterThanOrEqual(optimum)
      expect(result.chosen.length).toBeLessThanOrEqual(optimum + 1)
      expect(result.lowerBound!).toBeLessThanOrEqual(optimum)
      worst = Math.max(worst, result.chosen.length / optimum)
      plainWorst = Math.max(plainWorst, result.greedyOrder.length / optimum)
      total += result.chosen.length
      optimumTotal += optimum
    }
    console.log(`tiny instances: greedy with search / optimum worst ${worst.toFixed(3)}, overall ${(total / optimumTotal).toFixed(3)}; lazy greedy alone worst ${plainWorst.toFixed(3)}`)
    expect(total / optimumTotal).toBeLessThanOrEqual(1.05)
  })

  it('minimises spend when given prices', () => {
    // One dear candidate sees everything; three cheap ones share it out.
    const instance = buildCoverInstance(strip(6), [{ cells: Int32Array.of(0, 1, 2, 3, 4, 5) }, { cells: Int32Array.of(0, 1) }, { cells: Int32Array.of(2, 3) }, { cells: Int32Array.of(4, 5) }])
    expect(greedyCover(instance).chosen).toEqual([0])
    expect(greedyCover(instance, { costs: [1000, 100, 100, 100] }).chosen.sort()).toEqual([1, 2, 3])
  })
})

describe('placement on a site', () => {
  it('closes the gaps the placed devices leave: with the proposal added, every closable cell is seen', () => {
    const site = syntheticSite(seededRandom(8), { widthM: 120, heightM: 80, walls: 15, mountingPoints: 25, devices: 4, mountKinds: ['sensor', 'camera'] })
    const grid = buildCoverageGrid(site, { cellSizeM: 1 })
    const before = computeCoverage(site, sampleCatalogue, grid)
    const plan = planPlacement(site, sampleCatalogue, grid, { alreadySeen: before.seenBy, partNumbers: ['RAD-30-90', 'PIR-12-110'] })
    expect(plan.result.reachedTarget).toBe(true)
    const after = computeCoverage(
      { ...site, devices: [...site.devices, ...plan.proposal.map((p, i) => ({ id: `new-${i}`, partNumber: p.partNumber, mountingPointId: p.mountingPointId, orientationDeg: p.orientationDeg }))] },
      sampleCatalogue,
      grid,
    )
    expect(after.summary.requiredSeen).toBe(plan.instance.requiredCells - plan.instance.unreachableCells)
    expect(plan.result.curve[0]!.coveredShare).toBeCloseTo(before.summary.requiredShare, 12)
    expect(plan.result.curve.at(-1)!.coveredShare).toBeGreaterThanOrEqual(after.summary.requiredShare - 1e-12)
  })

  it('tries each facing of a mounting point once, fixed facings only where the bracket says so, and skips points with no link', () => {
    const site = syntheticSite(seededRandom(9), { widthM: 60, heightM: 60, walls: 4, mountingPoints: 3, devices: 0, mountKinds: ['sensor'] })
    const fixed = { ...site, mountingPoints: site.mountingPoints.map((m, i) => (i === 0 ? { ...m, orientationsDeg: [90] } : m)) }
    const grid = buildCoverageGrid(site, { cellSizeM: 1 })
    const { candidates } = buildCandidates(fixed, sampleCatalogue, grid, { partNumbers: ['RAD-30-90', 'LID-50-360'], orientationStepDeg: 90 })
    const facings = (mount: string, part: string) => candidates.filter((c) => c.mountingPointId === mount && c.partNumber === part).map((c) => c.orientationDeg)
    expect(facings('mount-1', 'RAD-30-90')).toEqual([90])
    expect(facings('mount-2', 'RAD-30-90')).toEqual([0, 90, 180, 270])
    expect(facings('mount-2', 'LID-50-360')).toEqual([0])
    const rssi = new Float32Array(grid.cols * grid.rows).fill(-70)
    rssi[cellIndexAt(grid, site.mountingPoints[2]!)] = -95
    const linked = buildCandidates(site, sampleCatalogue, grid, { partNumbers: ['PIR-12-110'], radio: { rssiDbm: rssi, minimumDbm: -82 } })
    expect(linked.candidates.some((c) => c.mountingPointId === 'mount-3')).toBe(false)
    expect(linked.skipped).toEqual(['Mounting point mount-3: a node there would hear the gateways at -95 dBm, below the -82 dBm it needs.'])
  })
})
