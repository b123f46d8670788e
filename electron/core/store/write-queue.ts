import type { Database } from 'better-sqlite3'
import type { Logger } from '../log'

export interface WriteQueueOptions {
  /** Commit when this many writes are waiting… */
  maxBatch?: number
  /** …or when the oldest has waited this long. */
  maxDelayMs?: number
}

/**
 * The store's one writer. Telemetry-like writes are queued and committed together in one
 * transaction (SQLite's cost is per commit, not per row); writes that acknowledge something to an
 * operator go through `now`, which commits everything queued before them and then themselves.
 */
export class WriteQueue {
  private queued: (() => void)[] = []
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private readonly maxBatch: number
  private readonly maxDelayMs: number

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    options: WriteQueueOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000
    this.maxDelayMs = options.maxDelayMs ?? 50
  }

  get pending(): number {
    return this.queued.length
  }

  enqueue(write: () => void): void {
    if (this.closed) throw new Error('The store is closed; the write was not accepted.')
    this.queued.push(write)
    if (this.queued.length >= this.maxBatch) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs)
  }

  /** Commits what is queued, then `write` in a transaction of its own, and returns its result. */
  now<T>(write: () => T): T {
    if (this.closed) throw new Error('The store is closed; the write was not accepted.')
    this.flush()
    return this.db.transaction(write)()
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.queued.length === 0) return
    const batch = this.queued
    this.queued = []
    try {
      this.db.transaction(() => {
        for (const write of batch) write()
      })()
    } catch (error) {
      // One bad write must not take its batch down with it: retry each on its own and log the culprits.
      for (const write of batch) {
        try {
          this.db.transaction(write)()
        } catch (single) {
          this.log.error('A queued write failed and was dropped', single)
        }
      }
      this.log.warn(`Batch of ${batch.length} writes fell back to one by one: ${String(error)}`)
    }
  }

  /** Drains everything queued; later writes are refused. */
  close(): void {
    this.flush()
    this.closed = true
  }
}
