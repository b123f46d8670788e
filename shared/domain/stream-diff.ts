// Coalescing of fast-changing keyed state into diffs. The core records every change as it happens;
// the screen receives, a few times a second, only the latest value of each key that changed.

export interface Diff<T> {
  set: Record<string, T>
  deleted: string[]
}

export class DiffBuffer<T> {
  private readonly changed = new Map<string, T>()
  private readonly removed = new Set<string>()

  set(key: string, value: T): void {
    this.removed.delete(key)
    this.changed.set(key, value)
  }

  delete(key: string): void {
    this.changed.delete(key)
    this.removed.add(key)
  }

  get pending(): boolean {
    return this.changed.size > 0 || this.removed.size > 0
  }

  /** Hands over everything recorded since the last take, or null when nothing changed. */
  take(): Diff<T> | null {
    if (!this.pending) return null
    const diff: Diff<T> = { set: Object.fromEntries(this.changed), deleted: [...this.removed] }
    this.changed.clear()
    this.removed.clear()
    return diff
  }
}

/** Applies a diff to a view model without mutating it; unchanged keys keep their identity. */
export function applyDiff<T>(current: Readonly<Record<string, T>>, diff: Diff<T>): Record<string, T> {
  const next: Record<string, T> = { ...current, ...diff.set }
  for (const key of diff.deleted) delete next[key]
  return next
}
