import { DiffBuffer } from '../../shared/domain'
import type { EventName, EventPayloads, FlashJobRow, FleetRow, PortRow, RolloutSummary, ServiceState } from '../../shared/contract'

export type EventListener = <E extends EventName>(event: E, payload: EventPayloads[E]) => void

/** Streams whose values change fast and reach screens as coalesced diffs. */
interface CoalescedStreams {
  services: ServiceState
  fleet: FleetRow
  ports: PortRow
  'bench.jobs': FlashJobRow
  'ota.rollouts': RolloutSummary
}
type StreamName = keyof CoalescedStreams & EventName

/**
 * Fans events out to every connected screen. Discrete events (an audit entry, a settings change)
 * go out at once; keyed state goes through a DiffBuffer and leaves at most `rateHz` times a second.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>()
  private readonly buffers: { [S in StreamName]: DiffBuffer<CoalescedStreams[S]> } = { services: new DiffBuffer(), fleet: new DiffBuffer(), ports: new DiffBuffer(), 'bench.jobs': new DiffBuffer(), 'ota.rollouts': new DiffBuffer() }
  private readonly snapshots: { [S in StreamName]: Map<string, CoalescedStreams[S]> } = { services: new Map(), fleet: new Map(), ports: new Map(), 'bench.jobs': new Map(), 'ota.rollouts': new Map() }
  private timer: NodeJS.Timeout | null = null

  constructor(private rateHz: number) {
    this.schedule()
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    // A screen that connects (or reconnects) first receives the whole state of every stream, even an
    // empty one: a screen that reconnected replaces what it held with this, so it must always come.
    for (const stream of Object.keys(this.snapshots) as StreamName[]) {
      listener(stream, { set: Object.fromEntries(this.snapshots[stream]), deleted: [] })
    }
    return () => this.listeners.delete(listener)
  }

  emit<E extends Exclude<EventName, StreamName>>(event: E, payload: EventPayloads[E]): void {
    for (const listener of this.listeners) listener(event, payload)
  }

  set<S extends StreamName>(stream: S, key: string, value: CoalescedStreams[S]): void {
    this.snapshots[stream].set(key, value)
    this.buffers[stream].set(key, value)
  }

  delete(stream: StreamName, key: string): void {
    this.snapshots[stream].delete(key)
    this.buffers[stream].delete(key)
  }

  setRate(rateHz: number): void {
    this.rateHz = rateHz
    this.schedule()
  }

  /** Pushes whatever is pending now, regardless of the rate. */
  flush(): void {
    for (const stream of Object.keys(this.buffers) as StreamName[]) {
      const diff = this.buffers[stream].take()
      if (!diff) continue
      for (const listener of this.listeners) listener(stream, diff)
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.flush()
    this.listeners.clear()
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = setInterval(() => this.flush(), Math.round(1000 / this.rateHz))
    this.timer.unref()
  }
}
