// What the host knows about each edge node, device and metric. These records are allocated at birth (or
// on first sight) and then mutated in place on the ingest path, so that a data message costs map lookups
// and field writes, not objects.

import type { DataTypeName, Payload, TypedValue } from './payload'
import type { SparkplugMessageType } from './topic'

/** Identifies a node (deviceId null) or a device. One immutable instance per target, shared by effects. */
export interface SparkplugRef {
  readonly groupId: string
  readonly edgeNodeId: string
  readonly deviceId: string | null
  /** `group/edge` or `group/edge/device`: unique, usable as a store or diff key. */
  readonly key: string
}

/**
 * `unknown`: heard of (data, a death) but never seen born since the console started.
 * `restored`: known from before a console restart, state not confirmed by a birth yet.
 */
export type SessionStatus = 'unknown' | 'restored' | 'online' | 'offline'

export type MetricQuality = 'good' | 'stale'

export type MetricValue = TypedValue['value']

/** The JavaScript shape a metric's value has for its Sparkplug type, to catch a value of the wrong kind. */
export type ValueKind = 'number' | 'bigint' | 'boolean' | 'string' | 'object'

export function valueKindOf(type: DataTypeName): ValueKind {
  switch (type) {
    case 'Int8':
    case 'Int16':
    case 'Int32':
    case 'UInt8':
    case 'UInt16':
    case 'UInt32':
    case 'Float':
    case 'Double':
      return 'number'
    case 'Int64':
    case 'UInt64':
    case 'DateTime':
      return 'bigint'
    case 'Boolean':
      return 'boolean'
    case 'String':
    case 'Text':
    case 'UUID':
      return 'string'
    default:
      return 'object'
  }
}

export class MetricState {
  readonly kind: ValueKind
  /** When the metric went STALE (host time for NDEATH, the DDEATH's own timestamp for DDEATH); null while good. */
  staleSince: number | null

  constructor(
    /** The node or device the metric belongs to (the alias check compares this by identity). */
    readonly owner: SparkplugRef,
    readonly name: string,
    readonly alias: bigint | null,
    readonly type: DataTypeName,
    public value: MetricValue,
    /** Milliseconds since the epoch: the metric's own timestamp, else its payload's. */
    public timestamp: number,
    public quality: MetricQuality,
    staleSince: number | null,
  ) {
    this.kind = valueKindOf(type)
    this.staleSince = staleSince
  }
}

export type ProtocolErrorReason =
  | 'data-before-birth'
  | 'dbirth-before-nbirth'
  | 'data-before-dbirth'
  | 'unknown-alias'
  | 'alias-of-other-owner'
  | 'unknown-metric'
  | 'metric-without-name-or-alias'
  | 'type-mismatch'
  | 'missing-seq'
  | 'seq-out-of-range'
  | 'seq-duplicate'
  | 'seq-behind'
  | 'seq-gap'
  | 'nbirth-seq-not-zero'
  | 'nbirth-without-bdseq'
  | 'nbirth-without-rebirth-metric'
  | 'birth-metric-without-name'
  | 'birth-duplicate-name'
  | 'birth-duplicate-alias'
  | 'ndeath-unknown-node'
  | 'ndeath-without-bdseq'
  | 'ddeath-unknown-device'
  | 'bad-topic'

export interface ProtocolError {
  reason: ProtocolErrorReason
  detail: string
  /** Host time. */
  at: number
  messageType: SparkplugMessageType | null
  deviceId: string | null
}

/** A fixed-size ring: the last `capacity` items, oldest first, without growing on a chatty node. */
export class RecentList<T> {
  private readonly items: T[] = []
  private next = 0

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.capacity <= 0) return
    if (this.items.length < this.capacity) this.items.push(item)
    else this.items[this.next] = item
    this.next = (this.next + 1) % this.capacity
  }

  toArray(): T[] {
    if (this.items.length < this.capacity) return this.items.slice()
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)]
  }

  get size(): number {
    return this.items.length
  }
}

export interface DeviceView {
  readonly ref: SparkplugRef
  readonly status: SessionStatus
  readonly metrics: ReadonlyMap<string, MetricState>
  readonly birthAt: number | null
  readonly deathAt: number | null
  readonly lastHeardAt: number
  readonly silent: boolean
}

export interface EdgeNodeView {
  readonly ref: SparkplugRef
  readonly status: SessionStatus
  /** bdSeq of the current (or, once offline, the last) session; null when unknown. */
  readonly bdSeq: bigint | null
  readonly metrics: ReadonlyMap<string, MetricState>
  readonly devices: ReadonlyMap<string, DeviceView>
  readonly birthAt: number | null
  readonly deathAt: number | null
  readonly lastHeardAt: number
  readonly silent: boolean
  readonly protocolErrorCount: number
  recentProtocolErrors(): ProtocolError[]
  readonly rebirthRequestCount: number
  readonly lastRebirthRequestAt: number | null
}

export class Device implements DeviceView {
  status: SessionStatus = 'unknown'
  metrics = new Map<string, MetricState>()
  birthAt: number | null = null
  deathAt: number | null = null
  lastHeardAt: number
  silent = false

  constructor(
    readonly ref: SparkplugRef,
    now: number,
  ) {
    this.lastHeardAt = now
  }
}

/** A message that arrived ahead of its turn, waiting in the reorder buffer. */
export interface HeldMessage {
  messageType: SparkplugMessageType
  device: Device | null
  payload: Payload
}

export class EdgeNode implements EdgeNodeView {
  status: SessionStatus = 'unknown'
  bdSeq: bigint | null = null
  metrics = new Map<string, MetricState>()
  /** Every alias of the session, node and device metrics alike: Sparkplug makes them unique per edge node. */
  readonly aliases = new Map<bigint, MetricState>()
  readonly devices = new Map<string, Device>()
  birthAt: number | null = null
  deathAt: number | null = null
  lastHeardAt: number
  silent = false

  /** The seq the next message must carry; -1 when any seq is accepted (no session, or resynchronising). */
  nextSeq = -1
  /** 256 slots indexed by seq, allocated the first time this node sends out of order. */
  reorder: Array<HeldMessage | undefined> | null = null
  held = 0
  /** Host time at which a gap that is still open turns into a rebirth request; -1 when none is open. */
  reorderDeadline = -1

  /** When the queued rebirth request may go out; -1 when none is queued. */
  rebirthDueAt = -1
  rebirthReason: RebirthReason | null = null
  lastRebirthRequestAt: number | null = null
  rebirthRequestCount = 0

  protocolErrorCount = 0
  readonly recentErrors: RecentList<ProtocolError>

  constructor(
    readonly ref: SparkplugRef,
    now: number,
    recentErrorLimit: number,
  ) {
    this.lastHeardAt = now
    this.recentErrors = new RecentList(recentErrorLimit)
  }

  recentProtocolErrors(): ProtocolError[] {
    return this.recentErrors.toArray()
  }
}

export type RebirthReason =
  | 'unknown-session'
  | 'data-before-birth'
  | 'dbirth-before-nbirth'
  | 'data-before-dbirth'
  | 'unknown-alias'
  | 'alias-of-other-owner'
  | 'unknown-metric'
  | 'type-mismatch'
  | 'seq-gap'
  | 'operator'

export function nodeRef(groupId: string, edgeNodeId: string): SparkplugRef {
  return { groupId, edgeNodeId, deviceId: null, key: `${groupId}/${edgeNodeId}` }
}

export function deviceRef(groupId: string, edgeNodeId: string, deviceId: string): SparkplugRef {
  return { groupId, edgeNodeId, deviceId, key: `${groupId}/${edgeNodeId}/${deviceId}` }
}
