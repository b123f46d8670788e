import type { StreamDiff } from '../../../shared/contract'

// Every pushed stream (fleet rows, ports, flash jobs) lands in the store through this one merge.

/**
 * Applies a pushed diff to a keyed collection. `replace` is for the snapshot that follows a
 * (re)connect: keys the core no longer has go even though no deletion was sent for them. A row whose
 * values did not change keeps its object (memoised rows do not re-render), and when nothing changed at
 * all the same record comes back, so the store notifies no one.
 */
export function mergeKeyed<T>(current: Readonly<Record<string, T>>, diff: StreamDiff<T>, replace = false, same: (a: T, b: T) => boolean = sameValue): Readonly<Record<string, T>> {
  let changed = false
  const next: Record<string, T> = replace ? {} : { ...current }
  for (const key in diff.set) {
    const incoming = diff.set[key]!
    const existing = current[key]
    if (existing !== undefined && same(existing, incoming)) {
      if (replace) next[key] = existing
    } else {
      next[key] = incoming
      changed = true
    }
  }
  if (replace) {
    for (const key in current) if (!(key in next)) changed = true
  } else {
    for (const key of diff.deleted) {
      if (key in next) {
        delete next[key]
        changed = true
      }
    }
  }
  return changed ? next : current
}

/** Structural equality of JSON-shaped values (what crosses the contract). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const other = b as unknown[]
    return a.length === other.length && a.every((item, index) => sameValue(item, other[index]))
  }
  const ak = Object.keys(a)
  const bk = Object.keys(b)
  if (ak.length !== bk.length) return false
  return ak.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}
