import type { CoverInstance } from './placement'

/**
 * The search behind greedyCover's answer once greedy has one: a local search that trims it, and a
 * Lagrangian heuristic that looks for a smaller cover still and proves how small one can be, on the
 * instance reduced to what matters and with a branch and bound for the last node or two.
 */

/**
 * Local search on a cover that meets the target. First reverse delete: drop picks the target does not
 * need, latest and dearest first. Then pair-for-one swaps: replace a pick i and another pick j by one
 * candidate k, keeping the target, when k costs less than i and j together. Greedy's typical excess is
 * exactly such a pair: an early wide pick made half-redundant by later ones.
 *
 * Kept cheap enough to run hundreds of times inside the Lagrangian heuristic: a swap is first checked
 * without being made (k must see what only i sees, up to the slack over the target), and the j worth
 * trying are found through the elements only they see, whose sole owner is kept as the XOR of the
 * candidates covering each element (exact when one does).
 */
export function improveCover(instance: CoverInstance, start: readonly number[], targetWeight: number, cost: (c: number) => number, budget: number): number[] {
  const { candidateStart, candidateElements, elementStart, elementCandidates, elementWeight } = instance
  const count = new Int32Array(instance.elementCount)
  const ownerXor = new Int32Array(instance.elementCount)
  const isChosen = new Uint8Array(instance.candidateCount)
  const mark = new Int32Array(instance.elementCount)
  const tried = new Int32Array(instance.candidateCount)
  let stamp = 0
  let weight = 0
  let work = 0
  const add = (c: number) => {
    isChosen[c] = 1
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      ownerXor[e]! ^= c
      if (count[e]!++ === 0) weight += elementWeight[e]!
    }
    work += candidateStart[c + 1]! - candidateStart[c]!
  }
  const remove = (c: number) => {
    isChosen[c] = 0
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      ownerXor[e]! ^= c
      if (--count[e]! === 0) weight -= elementWeight[e]!
    }
    work += candidateStart[c + 1]! - candidateStart[c]!
  }
  /** Weight only c sees among the chosen: what removing it loses. */
  const soleWeight = (c: number) => {
    let loss = 0
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      if (count[e] === 1) loss += elementWeight[e]!
    }
    work += candidateStart[c + 1]! - candidateStart[c]!
    return loss
  }
  for (const c of start) if (!isChosen[c]) add(c)
  let chosen = [...new Set(start)]

  const dropRedundant = () => {
    // Removing a pick only makes the others harder to remove, so one pass leaves none redundant.
    const byCost = chosen.map((c, at) => ({ c, at })).sort((p, q) => cost(q.c) - cost(p.c) || q.at - p.at)
    for (const { c } of byCost) if (weight - soleWeight(c) >= targetWeight) remove(c)
    chosen = chosen.filter((c) => isChosen[c])
  }
  dropRedundant()

  const sole: number[] = []
  let improved = true
  while (improved && work < budget) {
    improved = false
    for (const i of chosen) {
      if (work >= budget) break
      sole.length = 0
      let anchor = -1
      for (let k = candidateStart[i]!; k < candidateStart[i + 1]!; k++) {
        const e = candidateElements[k]!
        if (count[e] !== 1) continue
        sole.push(e)
        if (anchor < 0 || elementWeight[e]! > elementWeight[anchor]!) anchor = e
      }
      work += candidateStart[i + 1]! - candidateStart[i]!
      if (anchor < 0) continue
      for (let a = elementStart[anchor]!; a < elementStart[anchor + 1]! && !improved; a++) {
        const k = elementCandidates[a]!
        if (isChosen[k]) continue
        // The swap i → k without making it: what k adds, and what of i's sole cells k does not see.
        stamp++
        let gain = 0
        for (let b = candidateStart[k]!; b < candidateStart[k + 1]!; b++) {
          const e = candidateElements[b]!
          mark[e] = stamp
          if (count[e] === 0) gain += elementWeight[e]!
        }
        let loss = 0
        for (const e of sole) if (mark[e] !== stamp) loss += elementWeight[e]!
        work += candidateStart[k + 1]! - candidateStart[k]! + sole.length
        if (weight - loss + gain < targetWeight) continue
        remove(i)
        add(k)
        // A j that k makes redundant owns, alone, some element k now also sees.
        for (let b = candidateStart[k]!; b < candidateStart[k + 1]! && !improved; b++) {
          const e = candidateElements[b]!
          if (count[e] !== 2) continue
          const j = ownerXor[e]! ^ k
          if (j === i || !isChosen[j] || tried[j] === stamp) continue
          tried[j] = stamp
          if (cost(k) < cost(i) + cost(j) && weight - soleWeight(j) >= targetWeight) {
            remove(j)
            improved = true
          }
        }
        if (improved) chosen = chosen.filter((c) => isChosen[c]).concat(k)
        else {
          remove(k)
          add(i)
        }
      }
      if (improved) {
        dropRedundant()
        break
      }
    }
  }
  return chosen
}

/** Max-heap of candidates by key; equal keys pop the lower candidate first. */
export class CandidateHeap {
  private readonly keys: Float64Array
  private readonly ids: Int32Array
  size = 0

  constructor(capacity: number) {
    this.keys = new Float64Array(capacity)
    this.ids = new Int32Array(capacity)
  }

  /** Whether (key, id) would pop before the current top. */
  beats(key: number, id: number): boolean {
    return this.above(key, id, this.keys[0]!, this.ids[0]!)
  }

  push(id: number, key: number): void {
    let i = this.size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.above(key, id, this.keys[parent]!, this.ids[parent]!)) break
      this.keys[i] = this.keys[parent]!
      this.ids[i] = this.ids[parent]!
      i = parent
    }
    this.keys[i] = key
    this.ids[i] = id
  }

  popTop(): number {
    const top = this.ids[0]!
    const key = this.keys[--this.size]!
    const id = this.ids[this.size]!
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= this.size) break
      if (child + 1 < this.size && this.above(this.keys[child + 1]!, this.ids[child + 1]!, this.keys[child]!, this.ids[child]!)) child++
      if (!this.above(this.keys[child]!, this.ids[child]!, key, id)) break
      this.keys[i] = this.keys[child]!
      this.ids[i] = this.ids[child]!
      i = child
    }
    this.keys[i] = key
    this.ids[i] = id
    return top
  }

  private above(keyA: number, idA: number, keyB: number, idB: number): boolean {
    return keyA > keyB || (keyA === keyB && idA < idB)
  }
}

export interface LagrangianOptions {
  /** Work allowed, in incidence visits (each subgradient step costs two passes over the incidence). */
  budget: number
  maxIterations?: number
}

export interface LagrangianResult {
  chosen: number[]
  cost: number
  /** Lagrangian lower bound on the cost of any full cover: no placement can do better than this. */
  lowerBound: number
  iterations: number
}

/**
 * Lagrangian heuristic for full set cover (after Beasley 1990 and Caprara, Fischetti and Toth 1999).
 * Relaxing "every element covered" with a price u_e per element gives, for any prices, a lower bound
 * L(u) = Σu + Σ min(0, c_j − Σ_{e ∈ j} u_e); subgradient steps raise it. The same prices steer a greedy:
 * a candidate's score is its cost net of the prices of the gaps it would close, per gap closed, so
 * elements that are hard to cover (high price) are covered by the candidates best placed for them
 * rather than by the widest one, which is plain greedy's mistake. Each greedy answer is then trimmed by
 * the local search. All of it runs on the instance without dominated elements and candidates, a
 * tenth of the size or less, where the bound nears the LP relaxation's in a few hundred steps. Where
 * the best cover and the bound still end a node or two apart, a branch and bound settles it. Stops
 * when the bound proves the best cover optimal, or on the work budget.
 */
export function lagrangianCover(original: CoverInstance, cost: Float64Array, incumbent: readonly number[], options: LagrangianOptions): LagrangianResult {
  // Every cover of the reduced instance covers the original, and the reductions keep the optimum.
  const reduction = reducedInstance(original, cost, options.budget / 2)
  const instance = reduction.instance
  const { candidateCount: n, elementCount: m, candidateStart, candidateElements, elementStart, elementCandidates } = instance
  const nnz = candidateElements.length
  const integral = cost.every((c) => Number.isInteger(c))
  let full = 0
  for (let e = 0; e < m; e++) full += instance.elementWeight[e]!
  const costOf = (chosen: readonly number[]) => chosen.reduce((sum, c) => sum + cost[c]!, 0)
  let best = [...incumbent]
  let upper = costOf(best)
  let work = reduction.work

  // Start from each element's cheapest share of a candidate: a feasible, usually decent, price.
  const u = new Float64Array(m)
  for (let e = 0; e < m; e++) {
    let price = Infinity
    for (let k = elementStart[e]!; k < elementStart[e + 1]!; k++) {
      const c = elementCandidates[k]!
      price = Math.min(price, cost[c]! / (candidateStart[c + 1]! - candidateStart[c]!))
    }
    u[e] = price
  }
  const bestPrices = new Float64Array(u)
  const consider = (cover: number[] | null) => {
    work += 4 * nnz
    if (!cover) return
    const found = improveCover(instance, cover, full, (c) => cost[c]!, 20 * nnz)
    const foundCost = costOf(found)
    if (foundCost < upper - 1e-9) {
      upper = foundCost
      best = found
    }
  }
  const relaxation = new Relaxation(instance, cost)
  const { rows, columns } = relaxation.left()
  const reduced = new Float64Array(n)
  const scratch = new Float64Array(m)
  let lowerBound = -Infinity
  let step = 2
  let stallBound = -Infinity
  let stalled = 0
  let iterations = 0
  const maxIterations = options.maxIterations ?? 1000
  const proven = () => (integral ? Math.ceil(lowerBound - 1e-6) : lowerBound + 1e-9) >= upper

  while (iterations < maxIterations && work < options.budget && !proven()) {
    iterations++
    const bound = relaxation.bound(u, rows, columns, reduced)
    work += 2 * nnz
    if (bound > lowerBound) {
      lowerBound = bound
      bestPrices.set(u)
    }
    if (iterations === 1 || iterations % 5 === 0) {
      consider(pricedGreedy(instance, cost, u))
      if (proven()) break
    }
    if (!relaxation.step(u, rows, reduced, scratch, step * Math.max(upper - bound, 1e-6))) break
    // Step control of Held, Wolfe and Crowder as Beasley uses it: start bold, halve when the bound stalls.
    if (bound > stallBound + 1e-9) {
      stallBound = bound
      stalled = 0
    } else if (++stalled >= 20) {
      step /= 2
      stalled = 0
      if (step < 0.005) break
    }
  }
  // A search tree grows exponentially with the gap it must close: worth it across a node or two.
  const dearest = best.reduce((most, c) => Math.max(most, cost[c]!), 0)
  if (!proven() && work < options.budget && upper - lowerBound <= 2 * dearest) {
    const search = branchAndBound(instance, cost, best, bestPrices, options.budget - work)
    best = search.chosen
    upper = search.cost
    if (search.complete) lowerBound = upper
  }
  return { chosen: best, cost: upper, lowerBound: Math.max(0, integral ? Math.ceil(lowerBound - 1e-6) : lowerBound), iterations }
}

/**
 * Greedy on prices: take the candidate with the lowest score, where γ = cost − prices of the still-open
 * elements it sees and μ = their number, score γ/μ when γ > 0 and γ·μ otherwise. Scores only rise as
 * elements close, so a stale score is a lower bound and the queue is evaluated lazily, as plain greedy is.
 */
function pricedGreedy(instance: CoverInstance, cost: Float64Array, u: Float64Array): number[] | null {
  const { candidateCount: n, elementCount: m, candidateStart, candidateElements } = instance
  const covered = new Uint8Array(m)
  let open = m
  const chosen: number[] = []
  const take = (c: number) => {
    chosen.push(c)
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      if (!covered[e]) {
        covered[e] = 1
        open--
      }
    }
  }
  const score = (c: number): number => {
    let gamma = cost[c]!
    let mu = 0
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      if (covered[e]) continue
      gamma -= u[e]!
      mu++
    }
    if (mu === 0) return Infinity
    return gamma > 0 ? gamma / mu : gamma * mu
  }
  const heap = new CandidateHeap(n)
  for (let c = 0; c < n; c++) {
    const s = score(c)
    if (s !== Infinity) heap.push(c, -s)
  }
  while (open > 0 && heap.size > 0) {
    const c = heap.popTop()
    const s = score(c)
    if (s === Infinity) continue
    if (heap.size > 0 && !heap.beats(-s, c)) {
      heap.push(c, -s)
      continue
    }
    take(c)
  }
  return open === 0 ? chosen : null
}

/**
 * The Lagrangian relaxation of full cover on what a partial decision leaves: each candidate taken,
 * left out or still free, and the elements no taken candidate sees yet. With nothing decided it is the
 * whole instance; the branch and bound decides and undoes along its path through the tree.
 */
class Relaxation {
  /** Per candidate: 1 taken, −1 left out, 0 free. */
  readonly state: Int8Array
  /** Per element: taken candidates that see it, and free candidates that see it. */
  readonly covers: Int32Array
  readonly freeSeeing: Int32Array
  /** Elements no taken candidate sees. */
  open: number
  spent = 0
  readonly taken: number[] = []
  private readonly trail: number[] = []

  constructor(
    private readonly instance: CoverInstance,
    private readonly cost: Float64Array,
  ) {
    this.state = new Int8Array(instance.candidateCount)
    this.covers = new Int32Array(instance.elementCount)
    this.freeSeeing = new Int32Array(instance.elementCount)
    for (let e = 0; e < instance.elementCount; e++) this.freeSeeing[e] = instance.elementStart[e + 1]! - instance.elementStart[e]!
    this.open = instance.elementCount
  }

  decide(c: number, taking: boolean): void {
    const { candidateStart, candidateElements } = this.instance
    this.state[c] = taking ? 1 : -1
    this.trail.push(c)
    for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
      const e = candidateElements[k]!
      this.freeSeeing[e]!--
      if (taking && this.covers[e]!++ === 0) this.open--
    }
    if (taking) {
      this.taken.push(c)
      this.spent += this.cost[c]!
    }
  }

  /** How many decisions stand: undoTo(mark) takes back every later one. */
  get mark(): number {
    return this.trail.length
  }

  undoTo(mark: number): void {
    const { candidateStart, candidateElements } = this.instance
    while (this.trail.length > mark) {
      const c = this.trail.pop()!
      const taking = this.state[c] === 1
      for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
        const e = candidateElements[k]!
        this.freeSeeing[e]!++
        if (taking && --this.covers[e]! === 0) this.open++
      }
      if (taking) {
        this.taken.pop()
        this.spent -= this.cost[c]!
      }
      this.state[c] = 0
    }
  }

  /** The open elements, the free candidates that see one, and the incidence one pass over them visits. */
  left(): { rows: number[]; columns: number[]; size: number } {
    const { candidateCount: n, elementCount: m, candidateStart, candidateElements, elementStart } = this.instance
    const rows: number[] = []
    const columns: number[] = []
    let size = 0
    for (let e = 0; e < m; e++) {
      if (this.covers[e] !== 0) continue
      rows.push(e)
      size += elementStart[e + 1]! - elementStart[e]!
    }
    for (let c = 0; c < n; c++) {
      if (this.state[c] !== 0) continue
      for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
        if (this.covers[candidateElements[k]!] === 0) {
          columns.push(c)
          size += candidateStart[c + 1]! - candidateStart[c]!
          break
        }
      }
    }
    return { rows, columns, size }
  }

  /**
   * L(u) = what is taken + Σ_open u_e + Σ_free min(0, r_c), r_c = cost_c − Σ_{open e ∈ c} u_e: no cover
   * that keeps the decisions costs less. Writes r_c into `reduced` for the `columns` given.
   */
  bound(u: Float64Array, rows: readonly number[], columns: readonly number[], reduced: Float64Array): number {
    const { candidateStart, candidateElements } = this.instance
    let bound = this.spent
    for (const e of rows) bound += u[e]!
    for (const c of columns) {
      let r = this.cost[c]!
      for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) {
        const e = candidateElements[k]!
        if (this.covers[e] === 0) r -= u[e]!
      }
      reduced[c] = r
      if (r < 0) bound += r
    }
    return bound
  }

  /**
   * One subgradient step on the prices of the open elements: g_e = 1 − (free candidates with negative
   * reduced cost that see e), held at 0 where the price is 0 and would go negative, and each element's
   * move divided by the free candidates that see it, the Polyak step `size` (λ × distance to the target)
   * measured in the same scaling. An element many candidates see shifts many reduced costs per unit of
   * price; without the scaling the bound crawls on geometric instances, where one element is seen by
   * 2 candidates and the next by 70. Returns false when g = 0: nothing left to move.
   */
  step(u: Float64Array, rows: readonly number[], reduced: Float64Array, scratch: Float64Array, size: number): boolean {
    const { elementStart, elementCandidates } = this.instance
    let norm = 0
    for (const e of rows) {
      let g = 1
      for (let k = elementStart[e]!; k < elementStart[e + 1]!; k++) {
        const c = elementCandidates[k]!
        if (this.state[c] === 0 && reduced[c]! < 0) g--
      }
      if (g < 0 && u[e]! <= 0) g = 0
      scratch[e] = g
      norm += (g * g) / Math.max(1, this.freeSeeing[e]!)
    }
    if (norm === 0) return false
    for (const e of rows) u[e] = Math.max(0, u[e]! + (size / norm) * (scratch[e]! / Math.max(1, this.freeSeeing[e]!)))
    return true
  }
}

export interface BranchAndBoundResult {
  chosen: number[]
  cost: number
  /** The search ran to its end: no cover costs less than `cost`, which is then the optimum. */
  complete: boolean
}

/**
 * Branch and bound for full set cover, for when the Lagrangian heuristic leaves its best cover and its
 * bound a node or two apart: either a cheaper cover exists and the search finds it, or it proves there
 * is none. Depth first, branching on the open element with fewest candidates left, one child per
 * candidate, the lowest reduced cost first and each later child without the earlier ones; so the first
 * dive is a priced greedy, and no cover is met twice. At each node a few subgradient steps on what is
 * left, warm-started from the parent's prices, give a bound; a node whose bound cannot beat the best
 * cover is cut, and so is every candidate whose reduced cost alone would lift the bound that far
 * (reduced-cost fixing), which is what keeps the tree small. Bounded by `budget` (incidence visits):
 * when it runs out, the best cover found so far is returned, unproved.
 */
export function branchAndBound(instance: CoverInstance, cost: Float64Array, incumbent: readonly number[], prices: Float64Array, budget: number): BranchAndBoundResult {
  const { candidateCount: n, elementCount: m, elementStart, elementCandidates } = instance
  const integral = cost.every((c) => Number.isInteger(c))
  let best = [...incumbent]
  let upper = best.reduce((sum, c) => sum + cost[c]!, 0)
  // No cover under this bound costs less than the best one.
  const hopeless = (bound: number) => (integral ? Math.ceil(bound - 1e-6) : bound + 1e-9) >= upper
  const relaxation = new Relaxation(instance, cost)
  const { state, covers, freeSeeing } = relaxation
  const reduced = new Float64Array(n)
  const scratch = new Float64Array(m)
  // Per depth: working prices, the prices of the node's best bound (its children's start), their reduced costs.
  const levels: { u: Float64Array; bestU: Float64Array; bestReduced: Float64Array }[] = []
  let work = 0
  let aborted = false

  const record = () => {
    if (relaxation.spent < upper - 1e-9) {
      upper = relaxation.spent
      best = [...relaxation.taken]
    }
  }

  const explore = (start: Float64Array, depth: number, iterations: number): void => {
    if (relaxation.open === 0) return record()
    if (hopeless(relaxation.spent)) return
    if (work > budget) {
      aborted = true
      return
    }
    const level = (levels[depth] ??= { u: new Float64Array(m), bestU: new Float64Array(m), bestReduced: new Float64Array(n) })
    const { u, bestU, bestReduced } = level
    u.set(start)
    const { rows, columns, size } = relaxation.left()
    let bound = -Infinity
    let step = 1
    let stalled = 0
    for (let iteration = 0; iteration < iterations; iteration++) {
      const value = relaxation.bound(u, rows, columns, reduced)
      work += 2 * size
      if (value > bound + 1e-9) {
        bound = value
        bestU.set(u)
        for (const c of columns) bestReduced[c] = reduced[c]!
        stalled = 0
      } else if (++stalled >= 3) {
        step /= 2
        stalled = 0
      }
      if (hopeless(bound)) return
      if (!relaxation.step(u, rows, reduced, scratch, step * Math.max(upper - value, 1e-6))) break
    }
    const mark = relaxation.mark
    // Reduced-cost fixing: a candidate whose reduced cost alone lifts the bound past the best cover is
    // in no better cover below this node; one whose absence would is in every one.
    for (const c of columns) {
      const r = bestReduced[c]!
      if (r > 0 && hopeless(bound + r)) relaxation.decide(c, false)
      else if (r < 0 && hopeless(bound - r)) relaxation.decide(c, true)
    }
    if (relaxation.open === 0) record()
    else {
      // An element none of the free candidates sees has no child at all: the node is infeasible.
      let pivot = -1
      for (const e of rows) if (covers[e] === 0 && (pivot < 0 || freeSeeing[e]! < freeSeeing[pivot]!)) pivot = e
      const branches: number[] = []
      for (let k = elementStart[pivot]!; k < elementStart[pivot + 1]!; k++) if (state[elementCandidates[k]!] === 0) branches.push(elementCandidates[k]!)
      branches.sort((p, q) => bestReduced[p]! - bestReduced[q]! || p - q)
      for (const c of branches) {
        const before = relaxation.mark
        relaxation.decide(c, true)
        explore(bestU, depth + 1, 10)
        relaxation.undoTo(before)
        if (aborted) break
        relaxation.decide(c, false)
      }
    }
    relaxation.undoTo(mark)
  }
  explore(prices, 0, 100)
  return { chosen: best, cost: upper, complete: !aborted }
}

/**
 * For full cover: the instance without dominated elements and candidates, each reduction run again
 * while the other one drops anything. Every cover of the result covers the original, and the optimum
 * is kept. On placement instances it is dramatic: ~500 candidates and ~3,000 elements become ~100 and
 * ~250, where the Lagrangian bound converges in a few hundred steps. Stops where the budget (incidence
 * visits) runs out, keeping what the finished rounds dropped.
 */
export function reducedInstance(instance: CoverInstance, cost: Float64Array, budget: number): { instance: CoverInstance; work: number } {
  let current = instance
  let work = 0
  for (;;) {
    const candidates = withoutDominatedCandidates(current, cost, budget - work)
    work += candidates.work
    const elements = withoutDominatedElements(candidates.instance, budget - work)
    work += elements.work
    if (elements.instance === current) return { instance: current, work }
    current = elements.instance
  }
}

/**
 * An element whose candidates include all of another element's is covered whenever that other one
 * is, so it can be dropped. Geometric instances are mostly such elements (everything near a well-seen
 * element). Returns the instance itself when nothing is dominated or the budget runs out first.
 */
function withoutDominatedElements(instance: CoverInstance, budget: number): { instance: CoverInstance; work: number } {
  const { elementCount: m, candidateCount: n, elementStart, elementCandidates, candidateStart, candidateElements } = instance
  const size = (e: number) => elementStart[e + 1]! - elementStart[e]!
  const order = Array.from({ length: m }, (_, e) => e).sort((p, q) => size(p) - size(q) || p - q)
  const dominated = new Uint8Array(m)
  let work = m
  let count = 0
  for (const a of order) {
    if (dominated[a]) continue
    let pivot = -1
    for (let k = elementStart[a]!; k < elementStart[a + 1]!; k++) {
      const c = elementCandidates[k]!
      if (pivot < 0 || candidateStart[c + 1]! - candidateStart[c]! < candidateStart[pivot + 1]! - candidateStart[pivot]!) pivot = c
    }
    work += size(a) + candidateStart[pivot + 1]! - candidateStart[pivot]!
    for (let k = candidateStart[pivot]!; k < candidateStart[pivot + 1]!; k++) {
      const b = candidateElements[k]!
      // Equal lists: the later element goes.
      if (b === a || dominated[b] || size(b) < size(a) || (size(b) === size(a) && b < a)) continue
      // Is a's list a subset of b's? Both ascending: one merge, over at a's first element b lacks.
      let i = elementStart[a]!
      let j = elementStart[b]!
      const iEnd = elementStart[a + 1]!
      const jEnd = elementStart[b + 1]!
      while (i < iEnd && jEnd - j >= iEnd - i) {
        const x = elementCandidates[i]!
        const y = elementCandidates[j]!
        if (x < y) break
        if (x === y) i++
        j++
      }
      work += j - elementStart[b]!
      if (i === iEnd) {
        dominated[b] = 1
        count++
      }
    }
    if (work > budget) return { instance, work }
  }
  if (count === 0) return { instance, work }
  const kept: number[] = []
  for (let e = 0; e < m; e++) if (!dominated[e]) kept.push(e)
  const newStart = new Int32Array(kept.length + 1)
  kept.forEach((e, i) => (newStart[i + 1] = newStart[i]! + size(e)))
  const newCandidates = new Int32Array(newStart[kept.length]!)
  kept.forEach((e, i) => newCandidates.set(elementCandidates.subarray(elementStart[e]!, elementStart[e + 1]!), newStart[i]!))
  const cStart = new Int32Array(n + 1)
  for (let k = 0; k < newCandidates.length; k++) cStart[newCandidates[k]! + 1]!++
  for (let c = 0; c < n; c++) cStart[c + 1]! += cStart[c]!
  const cElements = new Int32Array(newCandidates.length)
  const cursor = cStart.slice(0, n)
  for (let i = 0; i < kept.length; i++) for (let k = newStart[i]!; k < newStart[i + 1]!; k++) cElements[cursor[newCandidates[k]!]!++] = i
  return {
    instance: {
      ...instance,
      elementCount: kept.length,
      elementWeight: new Int32Array(kept.length).fill(1),
      elementStart: newStart,
      elementCandidates: newCandidates,
      candidateStart: cStart,
      candidateElements: cElements,
    },
    work: work + 2 * newCandidates.length,
  }
}

/**
 * A candidate that sees only what another, no dearer, candidate also sees can be swapped for that one
 * in any cover at no loss, so it is left out: its element list emptied, the indices kept. Of two with
 * the same list and cost the later goes. Placement is full of them: a narrow facing inside a wide one
 * at the same mounting point, a short-range part beside a long-range one. Returns the instance itself
 * when nothing is dominated or the budget runs out first.
 */
function withoutDominatedCandidates(instance: CoverInstance, cost: Float64Array, budget: number): { instance: CoverInstance; work: number } {
  const { candidateCount: n, elementCount: m, candidateStart, candidateElements, elementStart, elementCandidates } = instance
  const size = (c: number) => candidateStart[c + 1]! - candidateStart[c]!
  const dominated = new Uint8Array(n)
  let work = n
  let count = 0
  for (let a = 0; a < n; a++) {
    if (size(a) === 0) continue
    let pivot = -1
    for (let k = candidateStart[a]!; k < candidateStart[a + 1]!; k++) {
      const e = candidateElements[k]!
      if (pivot < 0 || elementStart[e + 1]! - elementStart[e]! < elementStart[pivot + 1]! - elementStart[pivot]!) pivot = e
    }
    work += size(a) + elementStart[pivot + 1]! - elementStart[pivot]!
    for (let k = elementStart[pivot]!; k < elementStart[pivot + 1]! && !dominated[a]; k++) {
      // A dominated b still proves a dominated: whatever dominates b dominates a, and one of them stays.
      const b = elementCandidates[k]!
      if (b === a || cost[b]! > cost[a]! || size(b) < size(a) || (size(b) === size(a) && cost[b] === cost[a] && b > a)) continue
      // Is a's list a subset of b's? As for elements: one merge, over at a's first element b lacks.
      let i = candidateStart[a]!
      let j = candidateStart[b]!
      const iEnd = candidateStart[a + 1]!
      const jEnd = candidateStart[b + 1]!
      while (i < iEnd && jEnd - j >= iEnd - i) {
        const x = candidateElements[i]!
        const y = candidateElements[j]!
        if (x < y) break
        if (x === y) i++
        j++
      }
      work += j - candidateStart[b]!
      if (i === iEnd) {
        dominated[a] = 1
        count++
      }
    }
    if (work > budget) return { instance, work }
  }
  if (count === 0) return { instance, work }
  const start = new Int32Array(n + 1)
  for (let c = 0; c < n; c++) start[c + 1] = start[c]! + (dominated[c] ? 0 : size(c))
  const elements = new Int32Array(start[n]!)
  for (let c = 0; c < n; c++) if (!dominated[c]) elements.set(candidateElements.subarray(candidateStart[c]!, candidateStart[c + 1]!), start[c]!)
  const rowStart = new Int32Array(m + 1)
  for (let k = 0; k < elements.length; k++) rowStart[elements[k]! + 1]!++
  for (let e = 0; e < m; e++) rowStart[e + 1]! += rowStart[e]!
  const rowCandidates = new Int32Array(elements.length)
  const cursor = rowStart.slice(0, m)
  for (let c = 0; c < n; c++) for (let k = start[c]!; k < start[c + 1]!; k++) rowCandidates[cursor[elements[k]!]!++] = c
  return { instance: { ...instance, candidateStart: start, candidateElements: elements, elementStart: rowStart, elementCandidates: rowCandidates }, work: work + 2 * elements.length }
}
