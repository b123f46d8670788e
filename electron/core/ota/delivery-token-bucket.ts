/** A wait for bandwidth that a download gives up when its response closes first. */
export interface BandwidthGrant {
  readonly granted: Promise<void>
  /** Leaves the queue, so a dead download does not spend bytes the live ones are waiting for. */
  cancel(): void
}

interface Waiter {
  bytes: number
  cancelled: boolean
  resolve: () => void
}

/**
 * One token bucket shared by every download: the cap is on the console's uplink (a site's Wi-Fi or a
 * cellular router), not per device, so a thousand devices share it rather than each getting it.
 * Waiters are served first come, first served, which keeps downloads advancing together instead of the
 * fastest socket taking the whole budget.
 */
export class TokenBucket {
  private tokens: number
  private stamp: number
  // A FIFO as an array with a moving head: shift() on a thousand waiters is O(n) per grant.
  private waiters: Waiter[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    readonly bytesPerSecond: number,
    /** Most bytes that may go out at once after a quiet spell; every take() must ask for no more. */
    readonly capacity: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0) || !(capacity > 0)) throw new RangeError('A token bucket needs a positive rate and capacity')
    this.tokens = capacity
    this.stamp = clock()
  }

  /** Null when the bytes may go out now (the common case needs no promise); otherwise a grant to await. */
  take(bytes: number): BandwidthGrant | null {
    if (bytes > this.capacity) throw new RangeError(`${bytes} bytes exceed the bucket's capacity of ${this.capacity}`)
    this.refill()
    if (this.head === this.waiters.length && this.tokens >= bytes) {
      this.tokens -= bytes
      return null
    }
    let resolve!: () => void
    const granted = new Promise<void>((done) => (resolve = done))
    const waiter: Waiter = { bytes, cancelled: false, resolve }
    this.waiters.push(waiter)
    this.schedule()
    return {
      granted,
      cancel: () => {
        if (waiter.cancelled) return
        waiter.cancelled = true
        resolve()
      },
    }
  }

  /** Wakes every waiter (they find their downloads closed) and stops the timer. */
  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    for (let i = this.head; i < this.waiters.length; i++) this.waiters[i]!.resolve()
    this.waiters = []
    this.head = 0
  }

  private refill(): void {
    const now = this.clock()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.stamp) * this.bytesPerSecond) / 1000)
    this.stamp = now
  }

  private grant(): void {
    this.timer = undefined
    this.refill()
    while (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!
      if (waiter.cancelled) {
        this.head++
        continue
      }
      if (this.tokens < waiter.bytes) break
      this.tokens -= waiter.bytes
      this.head++
      waiter.resolve()
    }
    if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head)
      this.head = 0
    }
    this.schedule()
  }

  private schedule(): void {
    if (this.timer || this.head === this.waiters.length) return
    const next = this.waiters[this.head]!
    const waitMs = Math.max(1, Math.ceil(((next.bytes - this.tokens) * 1000) / this.bytesPerSecond))
    this.timer = setTimeout(() => this.grant(), waitMs)
  }
}
