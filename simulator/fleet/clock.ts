// Every timer of the fleet goes through a Clock, so tests and benchmarks can run it on their own time
// instead of waiting for the wall clock.

export interface Clock {
  /** Milliseconds since the epoch: what the nodes put in their timestamps. */
  now(): number
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  schedule(delayMs: number, callback: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs))
    // A simulator waiting on a timer must not keep a finished test or CLI alive by itself.
    timer.unref()
    return () => clearTimeout(timer)
  },
}

export interface ManualClock extends Clock {
  /** Moves time forward, firing every timer that falls due, in order of due time. */
  advance(ms: number): void
  /** Timers waiting to fire. */
  pending(): number
}

export function createManualClock(startMs = Date.UTC(2025, 0, 1)): ManualClock {
  let now = startMs
  let order = 0
  const timers: { due: number; order: number; callback: () => void; cancelled: boolean }[] = []
  return {
    now: () => now,
    schedule(delayMs, callback) {
      const timer = { due: now + Math.max(0, delayMs), order: order++, callback, cancelled: false }
      timers.push(timer)
      return () => {
        timer.cancelled = true
      }
    },
    advance(ms) {
      const until = now + ms
      for (;;) {
        let nextIndex = -1
        for (let i = 0; i < timers.length; i++) {
          const timer = timers[i]!
          if (timer.cancelled || timer.due > until) continue
          const best = nextIndex < 0 ? undefined : timers[nextIndex]!
          if (!best || timer.due < best.due || (timer.due === best.due && timer.order < best.order)) nextIndex = i
        }
        if (nextIndex < 0) break
        const [timer] = timers.splice(nextIndex, 1)
        now = timer!.due
        timer!.callback()
      }
      for (let i = timers.length - 1; i >= 0; i--) if (timers[i]!.cancelled) timers.splice(i, 1)
      now = until
    },
    pending: () => timers.filter((timer) => !timer.cancelled).length,
  }
}

/** Calls `tick` every `periodMs`, anchored to the first due time so a slow tick does not drift the rate. */
export function every(clock: Clock, periodMs: number, firstDelayMs: number, tick: () => void): () => void {
  let due = clock.now() + firstDelayMs
  let cancel = clock.schedule(firstDelayMs, run)
  let stopped = false
  function run() {
    if (stopped) return
    tick()
    if (stopped) return
    due += periodMs
    // After a long stall (laptop asleep) skip the missed ticks instead of firing them all at once.
    if (due < clock.now()) due = clock.now() + periodMs
    cancel = clock.schedule(due - clock.now(), run)
  }
  return () => {
    stopped = true
    cancel()
  }
}
