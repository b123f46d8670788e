import { describe, expect, it } from 'vitest'
import { solveMaxCoverage, solveMinCover } from '../../electron/core/site/placement-exact'
import { buildCoverageGrid, Demand, type CoverageGrid } from '../../shared/domain/site/coverage'
import { buildCandidates, buildCoverInstance, greedyCover, targetWeightFor, type CoverInstance } from '../../shared/domain/site/placement'
import { sampleCatalogue, syntheticSite } from '../../shared/domain/site/synthetic-site'
import { seededRandom } from '../../shared/domain/seeded-random'

// Greedy against the exact optimum from HiGHS (WebAssembly) on the same instances: random yards small
// enough to prove the optimum, drawn as the placement benchmark draws them but from other seeds.

const strip = (cells: number): CoverageGrid => ({ cellSizeM: 1, cols: cells, rows: 1, originX: 0, originY: 0, demand: new Uint8Array(cells).fill(Demand.required), inBoundary: new Uint8Array(cells).fill(1) })

function yard(seed: number): CoverInstance {
  const site = syntheticSite(seededRandom(seed), { widthM: 80, heightM: 60, walls: 10, mountingPoints: 20, devices: 0, mountKinds: ['sensor', 'camera'] })
  const grid = buildCoverageGrid(site, { cellSizeM: 1 })
  return buildCoverInstance(grid, buildCandidates(site, sampleCatalogue, grid, { partNumbers: ['RAD-30-90', 'PIR-12-110', 'CAM-4MP-28'] }).candidates)
}

describe('exact placement (HiGHS)', () => {
  it('finds the optimum greedy misses on the textbook trap', async () => {
    // Greedy takes the four-cell candidate 2 first and then needs two more; candidates 0 and 1 do it in two.
    const instance = buildCoverInstance(strip(6), [{ cells: Int32Array.of(0, 1, 2) }, { cells: Int32Array.of(3, 4, 5) }, { cells: Int32Array.of(0, 1, 3, 4) }, { cells: Int32Array.of(2) }, { cells: Int32Array.of(5) }])
    expect(greedyCover(instance, { localSearch: false }).chosen).toHaveLength(3)
    const exact = await solveMinCover(instance)
    expect(exact).toMatchObject({ status: 'optimal', chosen: [0, 1], objective: 2, coveredWeight: 6 })
    expect(greedyCover(instance).chosen.sort()).toEqual([0, 1])
    const best = await solveMaxCoverage(instance, 1)
    expect(best).toMatchObject({ status: 'optimal', chosen: [2], objective: 4 })
  })

  it('greedy stays within 5 % of the optimum node count across random yards, and its bound never overclaims', async () => {
    const ratios: number[] = []
    let greedyNodes = 0
    let optimalNodes = 0
    for (let seed = 9001; seed <= 9020; seed++) {
      const instance = yard(seed)
      const greedy = greedyCover(instance)
      const exact = await solveMinCover(instance, { timeLimitS: 60 })
      expect(exact.status).toBe('optimal')
      const optimum = Math.round(exact.objective)
      expect(exact.chosen).toHaveLength(optimum)
      expect(exact.coveredWeight).toBe(greedy.coveredWeight)
      expect(greedy.chosen.length).toBeGreaterThanOrEqual(optimum)
      expect(greedy.lowerBound!).toBeLessThanOrEqual(optimum)
      expect(greedy.chosen.length).toBeLessThanOrEqual(optimum + 1)
      ratios.push(greedy.chosen.length / optimum)
      greedyNodes += greedy.chosen.length
      optimalNodes += optimum
    }
    const worst = Math.max(...ratios)
    console.log(`greedy / optimum over ${ratios.length} yards: worst ${worst.toFixed(3)}, overall ${(greedyNodes / optimalNodes).toFixed(3)}, optimal on ${ratios.filter((r) => r === 1).length}`)
    expect(greedyNodes / optimalNodes).toBeLessThanOrEqual(1.05)
  }, 300_000)

  it('answers the partial target and the coverage curve: greedy never beats the optimum, and stays close', async () => {
    const instance = yard(9100)
    const target = targetWeightFor(instance, 0.9)
    const greedy = greedyCover(instance, { targetShare: 0.9 })
    const exact = await solveMinCover(instance, { targetShare: 0.9, timeLimitS: 60 })
    expect(exact.status).toBe('optimal')
    expect(exact.coveredWeight).toBeGreaterThanOrEqual(target)
    expect(greedy.coveredWeight).toBeGreaterThanOrEqual(target)
    expect(greedy.chosen.length).toBeGreaterThanOrEqual(Math.round(exact.objective))
    expect(greedy.chosen.length / exact.objective).toBeLessThanOrEqual(1.25)

    const curve = greedyCover(instance, { localSearch: false }).curve
    for (const nodes of [1, 3, 5]) {
      const best = await solveMaxCoverage(instance, nodes, { timeLimitS: 60 })
      expect(best.status).toBe('optimal')
      expect(best.chosen.length).toBeLessThanOrEqual(nodes)
      const greedyCells = curve[nodes]!.coveredShare * instance.requiredCells - instance.alreadySeenCells
      expect(greedyCells).toBeLessThanOrEqual(best.objective + 1e-6)
      expect(greedyCells).toBeGreaterThanOrEqual((1 - 1 / Math.E) * best.objective) // greedy's guarantee for max coverage
    }
  }, 300_000)

  it('minimises spend with prices, as greedy does', async () => {
    const instance = buildCoverInstance(strip(6), [{ cells: Int32Array.of(0, 1, 2, 3, 4, 5) }, { cells: Int32Array.of(0, 1) }, { cells: Int32Array.of(2, 3) }, { cells: Int32Array.of(4, 5) }])
    expect((await solveMinCover(instance)).chosen).toEqual([0])
    const cheap = await solveMinCover(instance, { costs: [1000, 100, 100, 100] })
    expect(cheap).toMatchObject({ status: 'optimal', chosen: [1, 2, 3], objective: 300 })
  })
})
