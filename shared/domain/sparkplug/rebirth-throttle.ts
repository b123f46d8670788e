// After a broker or bridge restart every edge node looks unborn to the host at once. Asking all of them to
// rebirth in the same second makes each answer with an NBIRTH and its DBIRTHs (the biggest payloads they
// send), which is a known way to knock a site's broker over again. So requests are spread: a global token
// bucket caps the rate, each node waits a minimum interval between requests, and a random jitter keeps
// nodes that lost their session together from being asked together.

export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.last = now
  }

  take(now: number): boolean {
    // A clock that steps back must not mint tokens, nor leave the bucket waiting for the old time.
    if (now > this.last) {
      const refill = ((now - this.last) * this.perSecond) / 1000
      // NaN (an infinite wait at rate 0) refills nothing.
      if (refill > 0) this.tokens = Math.min(this.burst, this.tokens + refill)
    }
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  available(now: number): number {
    const refill = now > this.last ? ((now - this.last) * this.perSecond) / 1000 : 0
    return refill > 0 ? Math.min(this.burst, this.tokens + refill) : this.tokens
  }
}

export interface RebirthPolicy {
  /** Minimum time between two rebirth requests to the same edge node. */
  minIntervalMs: number
  /** Each request is delayed by a random 0…jitterMs. */
  jitterMs: number
}

/**
 * When a node may next be asked: not before `minIntervalMs` after the last request (whose NCMD, QoS 0, may
 * have been lost, so asking again later is right), plus jitter.
 */
export function rebirthDueAt(policy: RebirthPolicy, lastRequestAt: number | null, now: number, random: () => number): number {
  const earliest = lastRequestAt === null ? now : Math.max(now, lastRequestAt + policy.minIntervalMs)
  return earliest + Math.floor(random() * policy.jitterMs)
}
