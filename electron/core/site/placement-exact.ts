import loadHighs, { type Highs, type ModelData } from 'highs'
import { performance } from 'node:perf_hooks'
import { reachableWeight, targetWeightFor, type CoverInstance } from '../../../shared/domain/site/placement'

/**
 * The exact answer to "how many nodes close the gaps", for sites small enough to prove it: the cover
 * instance of shared/domain/site/placement.ts as an integer program, solved by HiGHS compiled to
 * WebAssembly (branch-and-cut, so the optimum comes with a proof, and no native build on any host).
 * It lives in the core because the solver is an npm package with a Wasm binary; the domain's greedy
 * needs neither and runs wherever the screen does.
 *
 * Min cover:      minimise Σ cost_c·x_c   s.t. Σ_{c sees e} x_c ≥ 1 for every element e,  x binary.
 * Partial cover:  as above with y_e ∈ [0, 1], Σ_{c sees e} x_c − y_e ≥ 0 and Σ w_e·y_e ≥ target.
 * Max coverage:   maximise Σ w_e·y_e       s.t. Σ_{c sees e} x_c − y_e ≥ 0,  Σ x_c ≤ k.
 * y need not be integer: with x integral, y_e = 1 exactly where some chosen candidate sees e.
 */

export type ExactStatus = 'optimal' | 'time-limit' | 'infeasible' | 'failed'

export interface ExactResult {
  status: ExactStatus
  /** Candidate indices, ascending; empty without a feasible solution. */
  chosen: number[]
  /** Objective of the solution found: node count (or cost) for a cover, gap cells seen for max coverage. */
  objective: number
  /** Best bound proved: equal to the objective when optimal. */
  bound: number
  coveredWeight: number
  solveMs: number
}

export interface ExactOptions {
  /** Share of the closable gap cells to close (as greedyCover's): 1 closes every one. */
  targetShare?: number
  /** Per-candidate cost; default 1 each (node count). */
  costs?: ArrayLike<number>
  /** Give up proving after this long; the best solution so far is returned with status `time-limit`. */
  timeLimitS?: number
}

let runtime: Promise<Highs> | null = null

/** The Wasm runtime is loaded once per process, on first use: about 10 ms, then every solve reuses it. */
function highs(): Promise<Highs> {
  runtime ??= loadHighs()
  return runtime
}

/** The fewest nodes (or the cheapest set) that close the target share of the gaps. */
export async function solveMinCover(instance: CoverInstance, options: ExactOptions = {}): Promise<ExactResult> {
  const solver = await highs()
  const { candidateCount: n, elementCount: m } = instance
  const targetWeight = targetWeightFor(instance, options.targetShare ?? 1)
  const cost = Float64Array.from({ length: n }, (_, c) => (options.costs ? options.costs[c]! : 1))
  const full = targetWeight >= reachableWeight(instance)
  if (full) {
    // Rows are elements, straight from the instance's element → candidates incidence.
    return solve(solver, instance, {
      numCols: n,
      numRows: m,
      sense: solver.constants.objectiveSense.minimize,
      colCost: cost,
      colLower: new Float64Array(n),
      colUpper: new Float64Array(n).fill(1),
      rowLower: new Float64Array(m).fill(1),
      rowUpper: new Float64Array(m).fill(solver.infinity),
      matrix: { format: 'csr', numRows: m, numCols: n, starts: instance.elementStart, indices: instance.elementCandidates, values: new Float64Array(instance.elementCandidates.length).fill(1) },
      integrality: new Int32Array(n).fill(solver.constants.variableType.integer),
    }, n, options)
  }
  const model = linkedModel(solver, instance, cost, new Float64Array(m))
  // The extra row: Σ w_e·y_e ≥ target.
  model.rowLower.push(targetWeight)
  model.rowUpper.push(solver.infinity)
  model.pushRow(Array.from({ length: m }, (_, e) => n + e), Array.from(instance.elementWeight))
  return solve(solver, instance, model.data(solver.constants.objectiveSense.minimize), n, options)
}

/** The most gap cells `nodes` placements can close. */
export async function solveMaxCoverage(instance: CoverInstance, nodes: number, options: Omit<ExactOptions, 'targetShare' | 'costs'> = {}): Promise<ExactResult> {
  const solver = await highs()
  const n = instance.candidateCount
  const model = linkedModel(solver, instance, new Float64Array(n), Float64Array.from(instance.elementWeight))
  model.rowLower.push(-solver.infinity)
  model.rowUpper.push(nodes)
  model.pushRow(Array.from({ length: n }, (_, c) => c), new Array<number>(n).fill(1))
  return solve(solver, instance, model.data(solver.constants.objectiveSense.maximize), n, options)
}

/** Columns x (candidates) then y (elements), one linking row per element: Σ x_c − y_e ≥ 0. */
function linkedModel(solver: Highs, instance: CoverInstance, xCost: Float64Array, yCost: Float64Array) {
  const { candidateCount: n, elementCount: m, elementStart, elementCandidates } = instance
  const starts: number[] = [0]
  const indices: number[] = []
  const values: number[] = []
  const rowLower: number[] = []
  const rowUpper: number[] = []
  for (let e = 0; e < m; e++) {
    for (let k = elementStart[e]!; k < elementStart[e + 1]!; k++) {
      indices.push(elementCandidates[k]!)
      values.push(1)
    }
    indices.push(n + e)
    values.push(-1)
    starts.push(indices.length)
    rowLower.push(0)
    rowUpper.push(solver.infinity)
  }
  const pushRow = (columns: number[], coefficients: number[]) => {
    // A loop, not push(...spread): a row over every element would overflow the call stack.
    for (let k = 0; k < columns.length; k++) {
      indices.push(columns[k]!)
      values.push(coefficients[k]!)
    }
    starts.push(indices.length)
  }
  const data = (sense: ModelData['sense']): ModelData => ({
    numCols: n + m,
    numRows: rowLower.length,
    sense,
    colCost: concat(xCost, yCost),
    colLower: new Float64Array(n + m),
    colUpper: new Float64Array(n + m).fill(1),
    rowLower,
    rowUpper,
    matrix: { format: 'csr', numRows: rowLower.length, numCols: n + m, starts: Int32Array.from(starts), indices: Int32Array.from(indices), values: Float64Array.from(values) },
    integrality: Int32Array.from({ length: n + m }, (_, c) => (c < n ? solver.constants.variableType.integer : solver.constants.variableType.continuous)),
  })
  return { rowLower, rowUpper, pushRow, data }
}

function solve(solver: Highs, instance: CoverInstance, data: ModelData, candidateCount: number, options: { timeLimitS?: number }): ExactResult {
  const started = performance.now()
  return solver.withModel(data, (model) => {
    model.options.set({ output_flag: false, mip_rel_gap: 0, time_limit: options.timeLimitS ?? 60 })
    model.run()
    const solveMs = performance.now() - started
    const code = model.getModelStatus()
    const { modelStatus, solutionStatus } = solver.constants
    const feasible = model.info.get('primal_solution_status') === solutionStatus.feasible
    const status: ExactStatus =
      code === modelStatus.optimal ? 'optimal' : code === modelStatus.timeLimit ? 'time-limit' : code === modelStatus.infeasible ? 'infeasible' : 'failed'
    if (!feasible) return { status: status === 'optimal' ? 'failed' : status, chosen: [], objective: Number.NaN, bound: Number.NaN, coveredWeight: 0, solveMs }
    const values = model.getSolution().colValue
    const chosen: number[] = []
    for (let c = 0; c < candidateCount; c++) if (values[c]! > 0.5) chosen.push(c)
    const bound = Number(model.info.get('mip_dual_bound'))
    return { status, chosen, objective: model.getObjectiveValue(), bound, coveredWeight: coveredBy(instance, chosen), solveMs }
  })
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Gap cells a set of candidates sees, recounted from the instance rather than trusted from y. */
function coveredBy(instance: CoverInstance, chosen: readonly number[]): number {
  const seen = new Uint8Array(instance.elementCount)
  for (const c of chosen) for (let k = instance.candidateStart[c]!; k < instance.candidateStart[c + 1]!; k++) seen[instance.candidateElements[k]!] = 1
  let sum = 0
  for (let e = 0; e < instance.elementCount; e++) if (seen[e]) sum += instance.elementWeight[e]!
  return sum
}
