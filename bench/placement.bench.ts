import { performance } from 'node:perf_hooks'
import { solveMaxCoverage, solveMinCover } from '../electron/core/site/placement-exact'
import { buildCoverageGrid, computeCoverage } from '../shared/domain/site/coverage'
import { buildCandidates, buildCoverInstance, greedyCover, type CoverInstance } from '../shared/domain/site/placement'
import { sampleCatalogue, syntheticSite } from '../shared/domain/site/synthetic-site'
import { seededRandom } from '../shared/domain/seeded-random'

// "How many nodes close the gaps": greedy against the exact optimum (HiGHS, the integer program of
// electron/core/site/placement-exact.ts) on random yards small enough to prove the optimum, 80 m × 60 m
// at 1 m cells, 20 mounting points, three parts (radar, PIR, camera) in eight facings: about 480
// candidates. Three stages of the domain's answer are compared, each against the optimum: lazy greedy
// alone, with local search, and with the Lagrangian heuristic and its branch and bound (the default).
// Then the same greedy on a 1 km × 1 km yard where no exact answer is in reach, for its time and its
// curve. PLACEMENT_SEED draws another set of yards (default 5001, the seeds of yard k are SEED + k), to
// check the heuristic on yards it was not tuned on.
const instances = Number(process.env.PLACEMENT_INSTANCES ?? 40)
const firstSeed = Number(process.env.PLACEMENT_SEED ?? 5001)
const parts = ['RAD-30-90', 'PIR-12-110', 'CAM-4MP-28']

export async function placement(): Promise<string> {
  const ratios = { greedy: [] as number[], local: [] as number[], full: [] as number[] }
  const greedyMs: number[] = []
  const plainMs: number[] = []
  const exactMs: number[] = []
  const curveMs: number[] = []
  const boundGaps: number[] = []
  const curveRatios: number[] = []
  let notOptimal = 0
  for (let k = 0; k < instances; k++) {
    const instance = smallInstance(firstSeed + k)
    const started = performance.now()
    const result = greedyCover(instance)
    greedyMs.push(performance.now() - started)
    const plainStarted = performance.now()
    const plain = greedyCover(instance, { localSearch: false })
    plainMs.push(performance.now() - plainStarted)
    const local = greedyCover(instance, { lagrangian: false })
    const exact = await solveMinCover(instance, { timeLimitS: 120 })
    exactMs.push(exact.solveMs)
    if (exact.status !== 'optimal') notOptimal++
    const optimum = Math.round(exact.objective)
    ratios.greedy.push(plain.chosen.length / optimum)
    ratios.local.push(local.chosen.length / optimum)
    ratios.full.push(result.chosen.length / optimum)
    boundGaps.push(optimum - (result.lowerBound ?? 0))
    // The curve: greedy's coverage after n nodes against the most n nodes can cover, on every eighth
    // instance (max coverage is the harder integer program: seconds per point).
    if (k % 8 === 0) {
      for (let nodes = 2; nodes < plain.curve.length; nodes += 4) {
        const best = await solveMaxCoverage(instance, nodes, { timeLimitS: 60 })
        curveMs.push(best.solveMs)
        const greedyWeight = (plain.curve[nodes]!.coveredShare * instance.requiredCells) - instance.alreadySeenCells
        if (best.objective > 0) curveRatios.push(greedyWeight / best.objective)
      }
    }
  }
  const large = largeSite()
  const worst = Math.max(...ratios.full)
  console.log(`  ${instances} random yards (seeds ${firstSeed}–${firstSeed + instances - 1}), 80 m × 60 m at 1 m cells, 20 mounting points × ${parts.join(', ')} × 8 facings (~480 candidates), every closable cell required`)
  console.log(`  node count / optimum (HiGHS${notOptimal > 0 ? `, ${notOptimal} not proven optimal in time` : ', every one proven optimal'}):`)
  console.log(`    lazy greedy alone:             worst ${fmt(Math.max(...ratios.greedy))}, mean ${fmt(mean(ratios.greedy))}, optimal on ${ratios.greedy.filter((r) => r === 1).length}`)
  console.log(`    + local search:                worst ${fmt(Math.max(...ratios.local))}, mean ${fmt(mean(ratios.local))}, optimal on ${ratios.local.filter((r) => r === 1).length}`)
  console.log(`    + Lagrangian and branch and bound (default): worst ${fmt(worst)}, mean ${fmt(mean(ratios.full))}, optimal on ${ratios.full.filter((r) => r === 1).length}; aim ≤ 1.05`)
  console.log(`  Lagrangian lower bound: optimum − bound ${Math.min(...boundGaps)}–${Math.max(...boundGaps)} nodes (0 = optimality proven without the solver on ${boundGaps.filter((g) => g === 0).length})`)
  console.log(`  time per yard: lazy greedy alone median ${median(plainMs).toFixed(1)} ms; all stages median ${median(greedyMs).toFixed(0)} ms, max ${Math.max(...greedyMs).toFixed(0)} ms; HiGHS min cover median ${median(exactMs).toFixed(0)} ms, max ${Math.max(...exactMs).toFixed(0)} ms`)
  console.log(`  coverage curve: greedy's cells after n nodes / the most n nodes can see (HiGHS max coverage, median ${median(curveMs).toFixed(0)} ms a point), ${curveRatios.length} points: worst ${fmt(Math.min(...curveRatios))}, mean ${fmt(mean(curveRatios))}`)
  console.log(`  1 km × 1 km yard, 100 sensors placed, ${large.candidates.toLocaleString('en')} candidates from 1,500 mounting points, ${large.elements.toLocaleString('en')} elements: candidates ${large.candidatesMs.toFixed(0)} ms, instance ${large.instanceMs.toFixed(0)} ms, lazy greedy ${large.greedyMs.toFixed(0)} ms with ${large.evaluations.toLocaleString('en')} gain evaluations (plain greedy: ${large.plainEvaluations.toLocaleString('en')}), ${large.nodes} nodes; with local search and Lagrangian ${large.fullMs.toFixed(0)} ms, ${large.fullNodes} nodes (bound ${large.bound})`)
  console.log(`    curve: ${large.milestones}`)
  return `placement: ratio=${fmt(worst)} (worst greedy/optimal node count over ${instances} yards, mean ${fmt(mean(ratios.full))}; lazy greedy alone worst ${fmt(Math.max(...ratios.greedy))}; greedy ${median(greedyMs).toFixed(0)} ms vs HiGHS ${median(exactMs).toFixed(0)} ms median; lower is better, 1 is optimal)`
}

function smallInstance(seed: number): CoverInstance {
  const site = syntheticSite(seededRandom(seed), { widthM: 80, heightM: 60, walls: 10, mountingPoints: 20, devices: 0, mountKinds: ['sensor', 'camera'] })
  const grid = buildCoverageGrid(site, { cellSizeM: 1 })
  const { candidates } = buildCandidates(site, sampleCatalogue, grid, { partNumbers: parts })
  return buildCoverInstance(grid, candidates)
}

function largeSite() {
  const site = syntheticSite(seededRandom(77), { widthM: 1000, heightM: 1000, walls: 500, mountingPoints: 1500, devices: 100, mountKinds: ['sensor', 'camera'] })
  const grid = buildCoverageGrid(site, { cellSizeM: 1 })
  const seen = computeCoverage(site, sampleCatalogue, grid).seenBy
  let started = performance.now()
  const { candidates } = buildCandidates(site, sampleCatalogue, grid, { alreadySeen: seen, partNumbers: ['RAD-30-90', 'CAM-8MP-60', 'LID-50-360'] })
  const candidatesMs = performance.now() - started
  started = performance.now()
  const instance = buildCoverInstance(grid, candidates, seen)
  const instanceMs = performance.now() - started
  started = performance.now()
  const greedy = greedyCover(instance, { localSearch: false })
  const greedyMs = performance.now() - started
  started = performance.now()
  const full = greedyCover(instance)
  const fullMs = performance.now() - started
  const milestones = [0.5, 0.9, 0.95, 0.99]
    .map((share) => {
      const point = greedy.curve.find((p) => p.coveredShare >= share)
      return point ? `${(share * 100).toFixed(0)} % at ${point.nodes} nodes` : `${(share * 100).toFixed(0)} % not reached`
    })
    .join(', ')
  return {
    candidates: candidates.length,
    elements: instance.elementCount,
    candidatesMs,
    instanceMs,
    greedyMs,
    evaluations: greedy.gainEvaluations,
    plainEvaluations: candidates.length * greedy.greedyOrder.length,
    nodes: greedy.chosen.length,
    fullMs,
    fullNodes: full.chosen.length,
    bound: full.lowerBound,
    milestones: `${(greedy.curve[0]!.coveredShare * 100).toFixed(1)} % seen by the devices already placed; ${milestones}; closable ${(((instance.requiredCells - instance.unreachableCells) / instance.requiredCells) * 100).toFixed(2)} %`,
  }
}

const fmt = (value: number) => value.toFixed(3)
const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
