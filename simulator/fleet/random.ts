// A small seeded PRNG so a fleet run can be replayed: same seed, same nodes, same faults. Each node
// draws from its own stream (derived from the fleet seed and its index), so one node's behaviour does
// not depend on how the event loop interleaved the others.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number
  /** Uniform in [min, max). */
  between(min: number, max: number): number
  /** True with probability p. */
  chance(p: number): boolean
  /** Standard normal (mean 0, deviation 1). */
  normal(): number
  pick<T>(items: readonly T[]): T
  /** An independent stream for a named part (a node, a device), stable for a given seed. */
  fork(label: string | number): Random
}

/** splitmix32: turns any 32-bit input into a well-mixed seed, so seeds 1, 2, 3 give unrelated streams. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

function hashLabel(seed: number, label: string | number): number {
  let h = mix32(seed)
  for (const char of String(label)) h = mix32(h ^ char.charCodeAt(0))
  return h
}

/** mulberry32: 32 bits of state, fast and good enough for simulation (not for cryptography). */
export function createRandom(seed: number): Random {
  let state = mix32(seed >>> 0)
  let spareNormal: number | null = null
  const next = () => {
    state = (state + 0x6d2b79f5) | 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    chance: (p) => p > 0 && next() < p,
    normal() {
      if (spareNormal !== null) {
        const value = spareNormal
        spareNormal = null
        return value
      }
      // Box–Muller; 1 - next() keeps log() away from 0.
      const radius = Math.sqrt(-2 * Math.log(1 - next()))
      const angle = 2 * Math.PI * next()
      spareNormal = radius * Math.sin(angle)
      return radius * Math.cos(angle)
    },
    pick(items) {
      if (items.length === 0) throw new Error('pick() from an empty list')
      return items[Math.floor(next() * items.length)] as (typeof items)[number]
    },
    fork: (label) => createRandom(hashLabel(seed, label)),
  }
  return random
}
