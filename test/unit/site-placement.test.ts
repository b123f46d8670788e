import { describe, expect, it } from 'vitest'
import { buildCoverageGrid, cellIndexAt, computeCoverage, Demand, type CoverageGrid } from '../../shared/domain/site/coverage'
import { branchAndBound, reducedInstance } from '../../shared/domain/site/cover-search'
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

/** The cheapest full cover by trying every subset (fewest nodes without costs): the truth for tiny instances. */
function bruteForceCover(instance: CoverInstance, costs?: readonly number[]): number[] {
  const n = instance.candidateCount
  if (instance.elementCount > 64) throw new Error('bruteForceCover keeps the elements seen in two 32-bit masks: at most 64 elements.')
  // Elements each candidate sees, as bits; every element is seen by some candidate, so all of them is the OR of all.
  const low = new Int32Array(n)
  const high = new Int32Array(n)
  for (let c = 0; c < n; c++) {
    for (let k = instance.candidateStart[c]!; k < instance.candidateStart[c + 1]!; k++) {
      const e = instance.candidateElements[k]!
      if (e < 32) low[c]! |= 1 << e
      else high[c]! |= 1 << (e - 32)
    }
  }
  const allLow = low.reduce((all, bits) => all | bits, 0)
  const allHigh = high.reduce((all, bits) => all | bits, 0)
  let best = -1
  let bestCost = Infinity
  for (let mask = 0; mask < 1 << n; mask++) {
    let cost = 0
    let seenLow = 0
    let seenHigh = 0
    for (let c = 0; c < n; c++) {
      if (!(mask & (1 << c))) continue
      cost += costs ? costs[c]! : 1
      seenLow |= low[c]!
      seenHigh |= high[c]!
    }
    if (cost < bestCost && seenLow === allLow && seenHigh === allHigh) [best, bestCost] = [mask, cost]
  }
  return Array.from({ length: n }, (_, c) => c).filter((c) => best & (1 << c))
}

function bruteForceMinimum(instance: CoverInstance): number {
  return bruteForceCover(instance).length
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

  it('drops dominated elements and candidates, and keeps the optimum: every cover of what is left covers everything', () => {
    const random = seededRandom(4)
    for (let round = 0; round < 20; round++) {
      const instance = buildCoverInstance(strip(60), randomSets(random, 60, 12, 0.25))
      const { instance: reduced } = reducedInstance(instance, new Float64Array(instance.candidateCount).fill(1), Infinity)
      expect(reduced.elementCount).toBeLessThanOrEqual(instance.elementCount)
      const best = bruteForceCover(reduced)
      expect(best.length).toBe(bruteForceMinimum(instance))
      expect(coveredCells(instance, best)).toBe(reachableWeight(instance))
    }
  })

  it('leaves out the candidates another, no dearer, one can stand in for in any cover', () => {
    // A wide candidate 0, a narrow one 1 inside it, 2 a copy of 0, and 3 the only one to see cells 4 and 5.
    const instance = buildCoverInstance(strip(6), [{ cells: Int32Array.of(0, 1, 2, 3) }, { cells: Int32Array.of(0, 1) }, { cells: Int32Array.of(0, 1, 2, 3) }, { cells: Int32Array.of(2, 3, 4, 5) }])
    const kept = (costs: number[]) => {
      const { instance: reduced } = reducedInstance(instance, Float64Array.from(costs), Infinity)
      return [0, 1, 2, 3].filter((c) => reduced.candidateStart[c + 1]! > reduced.candidateStart[c]!)
    }
    // By node count the wide one stands in for the narrow one and its copy.
    expect(kept([1, 1, 1, 1])).toEqual([0, 3])
    // By price the narrow one is kept: with 3 taken (it must be), it does the wide one's remaining job for less.
    expect(kept([300, 45, 300, 45])).toEqual([1, 3])
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

  it('finds the optimum on tiny instances and proves it, by node count and by price, and always covers', () => {
    const random = seededRandom(5)
    let plainWorst = 1
    for (let round = 0; round < 60; round++) {
      const instance = buildCoverInstance(strip(40), randomSets(random, 40, 14, 0.12 + 0.1 * random()))
      const optimum = bruteForceMinimum(instance)
      const result = greedyCover(instance)
      expect(coveredCells(instance, result.chosen)).toBe(reachableWeight(instance))
      expect(result.chosen).toHaveLength(optimum)
      expect(result.lowerBound).toBe(optimum)
      plainWorst = Math.max(plainWorst, result.greedyOrder.length / optimum)

      const prices = Array.from({ length: instance.candidateCount }, () => 10 + Math.floor(random() * 90))
      const spend = (chosen: readonly number[]) => chosen.reduce((sum, c) => sum + prices[c]!, 0)
      const cheapest = spend(bruteForceCover(instance, prices))
      const priced = greedyCover(instance, { costs: prices })
      expect(coveredCells(instance, priced.chosen)).toBe(reachableWeight(instance))
      expect(spend(priced.chosen)).toBe(cheapest)
      expect(priced.lowerBound).toBe(cheapest)
    }
    console.log(`tiny instances: optimal and proved on all 60; lazy greedy alone worst ${plainWorst.toFixed(3)}`)
  })

  it('minimises spend when given prices', () => {
    // One dear candidate sees everything; three cheap ones share it out.
    const instance = buildCoverInstance(strip(6), [{ cells: Int32Array.of(0, 1, 2, 3, 4, 5) }, { cells: Int32Array.of(0, 1) }, { cells: Int32Array.of(2, 3) }, { cells: Int32Array.of(4, 5) }])
    expect(greedyCover(instance).chosen).toEqual([0])
    expect(greedyCover(instance, { costs: [1000, 100, 100, 100] }).chosen.sort()).toEqual([1, 2, 3])
  })
})

describe('branch and bound', () => {
  // The trap: two halves, 0 sees cells 0–6 and 1 sees 7–13, cover everything; greedy takes 2 first (eight
  // cells, four of each half), then 3 (four more), then 4 (the last two). Getting from its three to the
  // optimum's two means swapping three for two, which the pair-for-one local search does not try.
  const halves = [[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12, 13], [0, 1, 2, 3, 7, 8, 9, 10], [4, 5, 11, 12], [6, 13]]
  const trap = buildCoverInstance(strip(14), halves.map((cells) => ({ cells: Int32Array.from(cells) })))
  const ones = new Float64Array(trap.candidateCount).fill(1)
  const noPrices = new Float64Array(trap.elementCount)

  it('finds the cover greedy and the local search miss, and proves it the smallest', () => {
    const local = greedyCover(trap, { lagrangian: false })
    expect(local.greedyOrder).toEqual([2, 3, 4])
    expect(local.chosen.sort()).toEqual([2, 3, 4])
    const search = branchAndBound(trap, ones, local.chosen, noPrices, Infinity)
    expect(search.chosen.sort()).toEqual([0, 1])
    expect(search.cost).toBe(2)
    expect(search.complete).toBe(true)
    expect(greedyCover(trap)).toMatchObject({ chosen: [0, 1], lowerBound: 2 })
  })

  it('proves an optimal cover it is handed, and keeps greedy’s when prices make it the cheapest', () => {
    expect(branchAndBound(trap, ones, [0, 1], noPrices, Infinity)).toEqual({ chosen: [0, 1], cost: 2, complete: true })
    // Priced so that greedy's three are the cheapest: the search keeps them and proves it.
    const prices = Float64Array.of(100, 100, 40, 30, 20)
    expect(branchAndBound(trap, prices, [2, 3, 4], noPrices, Infinity)).toEqual({ chosen: [2, 3, 4], cost: 90, complete: true })
  })

  it('closes the gap on random yards: every default answer comes with its proof, the bound equal to the node count', () => {
    for (const seed of [5011, 9038, 13035]) {
      const site = syntheticSite(seededRandom(seed), { widthM: 80, heightM: 60, walls: 10, mountingPoints: 20, devices: 0, mountKinds: ['sensor', 'camera'] })
      const grid = buildCoverageGrid(site, { cellSizeM: 1 })
      const plan = planPlacement(site, sampleCatalogue, grid, { partNumbers: ['RAD-30-90', 'PIR-12-110', 'CAM-4MP-28'] })
      expect(coveredCells(plan.instance, plan.result.chosen)).toBe(reachableWeight(plan.instance))
      expect(plan.result.lowerBound).toBe(plan.result.chosen.length)
      expect(plan.result.chosen.length).toBeLessThan(plan.result.greedyOrder.length)
    }
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
