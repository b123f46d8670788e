import type { CoverInstance } from './placement'

/**
 * The search behind greedyCover's answer once greedy has one: a local search that trims it, and a
 * Lagrangian heuristic that looks for a smaller cover still and proves how small one can be.
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
 * the local search. Stops when the bound proves the best cover optimal, or on the work budget.
 */
export function lagrangianCover(original: CoverInstance, cost: Float64Array, incumbent: readonly number[], options: LagrangianOptions): LagrangianResult {
  // Every cover of the undominated elements covers all of them: search the smaller instance.
  const instance = withoutDominatedElements(original, options.budget / 10)
  const { candidateCount: n, elementCount: m, candidateStart, candidateElements, elementStart, elementCandidates } = instance
  const nnz = candidateElements.length
  const integral = cost.every((c) => Number.isInteger(c))
  let full = 0
  for (let e = 0; e < m; e++) full += instance.elementWeight[e]!
  const costOf = (chosen: readonly number[]) => chosen.reduce((sum, c) => sum + cost[c]!, 0)
  let best = [...incumbent]
  let upper = costOf(best)
  let work = 0

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
  const reduced = new Float64Array(n)
  const subgradient = new Float64Array(m)
  let lowerBound = -Infinity
  let step = 2
  let stallBound = -Infinity
  let stalled = 0
  let iterations = 0
  const maxIterations = options.maxIterations ?? 1000
  const proven = () => (integral ? Math.ceil(lowerBound - 1e-6) : lowerBound + 1e-9) >= upper

  while (iterations < maxIterations && work < options.budget && !proven()) {
    iterations++
    let bound = 0
    for (let e = 0; e < m; e++) bound += u[e]!
    for (let c = 0; c < n; c++) {
      let r = cost[c]!
      for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) r -= u[candidateElements[k]!]!
      reduced[c] = r
      if (r < 0) bound += r
    }
    work += 2 * nnz
    if (bound > lowerBound) {
      lowerBound = bound
      bestPrices.set(u)
    }
    if (iterations === 1 || iterations % 5 === 0) {
      consider(pricedGreedy(instance, cost, u, -1, -1))
      if (proven()) break
    }
    // Subgradient: 1 − (how many candidates with negative reduced cost see e), projected where u_e = 0.
    let norm = 0
    for (let e = 0; e < m; e++) {
      let g = 1
      for (let k = elementStart[e]!; k < elementStart[e + 1]!; k++) if (reduced[elementCandidates[k]!]! < 0) g--
      if (g < 0 && u[e]! <= 0) g = 0
      subgradient[e] = g
      norm += g * g
    }
    if (norm === 0) break
    const size = (step * Math.max(upper - bound, 1e-6)) / norm
    for (let e = 0; e < m; e++) u[e] = Math.max(0, u[e]! + size * subgradient[e]!)
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
  // Diversify at the best prices: greedy made to do without each pick of the best cover in turn, and
  // made to start from each of the candidates the prices like most. Cheap, and it finds the last node
  // the plain priced greedy keeps missing where the bound says one more can go.
  if (!proven() && work < options.budget) {
    for (const c of [...best]) if (!proven() && work < options.budget) consider(pricedGreedy(instance, cost, bestPrices, -1, c))
    const favourites = Array.from({ length: n }, (_, c) => c)
      .map((c) => {
        let r = cost[c]!
        for (let k = candidateStart[c]!; k < candidateStart[c + 1]!; k++) r -= bestPrices[candidateElements[k]!]!
        return { c, r }
      })
      .sort((p, q) => p.r - q.r || p.c - q.c)
      .slice(0, 20)
    for (const { c } of favourites) if (!proven() && work < options.budget) consider(pricedGreedy(instance, cost, bestPrices, c, -1))
    // Then prices shaken by a fixed pseudo-random ±50 % per element and round: other near-optimal
    // covers, often far from the best one in which candidates they use. Deterministic, as the domain must be.
    const shaken = new Float64Array(m)
    for (let round = 1; round <= 100 && !proven() && work < options.budget; round++) {
      for (let e = 0; e < m; e++) shaken[e] = bestPrices[e]! * (1 + 0.5 * (2 * hashUnit(e, round) - 1))
      consider(pricedGreedy(instance, cost, shaken, -1, -1))
    }
  }
  return { chosen: best, cost: upper, lowerBound: Math.max(0, integral ? Math.ceil(lowerBound - 1e-6) : lowerBound), iterations }
}

/**
 * Greedy on prices: take the candidate with the lowest score, where γ = cost − prices of the still-open
 * elements it sees and μ = their number, score γ/μ when γ > 0 and γ·μ otherwise. Scores only rise as
 * elements close, so a stale score is a lower bound and the queue is evaluated lazily, as plain greedy is.
 */
function pricedGreedy(instance: CoverInstance, cost: Float64Array, u: Float64Array, forced: number, forbidden: number): number[] | null {
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
  if (forced >= 0) take(forced)
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
    const s = c === forbidden ? Infinity : score(c)
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
 * For full cover only: an element whose candidates include all of another element's is covered
 * whenever that other one is, so it can be dropped. Geometric instances are mostly such elements
 * (everything near a well-seen element), and the search runs on what remains. Returns the instance
 * itself when the budget (incidence visits) runs out before the reduction is done.
 */
export function withoutDominatedElements(instance: CoverInstance, budget: number): CoverInstance {
  const { elementCount: m, candidateCount: n, elementStart, elementCandidates, candidateStart, candidateElements } = instance
  const size = (e: number) => elementStart[e + 1]! - elementStart[e]!
  const order = Array.from({ length: m }, (_, e) => e).sort((p, q) => size(p) - size(q) || p - q)
  const dominated = new Uint8Array(m)
  let work = 0
  for (const a of order) {
    if (dominated[a]) continue
    let pivot = -1
    for (let k = elementStart[a]!; k < elementStart[a + 1]!; k++) {
      const c = elementCandidates[k]!
      if (pivot < 0 || candidateStart[c + 1]! - candidateStart[c]! < candidateStart[pivot + 1]! - candidateStart[pivot]!) pivot = c
    }
    for (let k = candidateStart[pivot]!; k < candidateStart[pivot + 1]!; k++) {
      const b = candidateElements[k]!
      if (b === a || dominated[b] || size(b) <= size(a)) continue
      // Is a's list a subset of b's? Both ascending: one merge.
      let i = elementStart[a]!
      let j = elementStart[b]!
      const iEnd = elementStart[a + 1]!
      const jEnd = elementStart[b + 1]!
      while (i < iEnd && j < jEnd) {
        if (elementCandidates[i] === elementCandidates[j]) i++
        j++
      }
      work += jEnd - elementStart[b]!
      if (i === iEnd) dominated[b] = 1
    }
    if (work > budget) return instance
  }
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
    ...instance,
    elementCount: kept.length,
    elementWeight: new Int32Array(kept.length).fill(1),
    elementStart: newStart,
    elementCandidates: newCandidates,
    candidateStart: cStart,
    candidateElements: cElements,
  }
}

/** A fixed pseudo-random number in [0, 1) for (a, b): the same every run. */
function hashUnit(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  return (h >>> 0) / 4294967296
}
