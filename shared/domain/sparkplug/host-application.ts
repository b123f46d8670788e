// The console as a Sparkplug B 3.0 Host Application: what it believes about every edge node, device and
// metric, driven by the messages the broker delivers and by the passing of time, and nothing else.
//
// The caller owns all I/O. It hands each decoded message to receive(), calls tick() a few times a second,
// and performs what takeEffects() returns: publish a rebirth NCMD, persist a lifecycle event, store metric
// samples, mark metrics STALE, log a protocol error. Time and randomness come in as arguments, so the same
// inputs give the same effects, in tests and in the field.

import {
  Device,
  EdgeNode,
  MetricState,
  deviceRef,
  nodeRef,
  type DeviceView,
  type EdgeNodeView,
  type MetricValue,
  type ProtocolError,
  type ProtocolErrorReason,
  type RebirthReason,
  type SparkplugRef,
  type ValueKind,
} from './edge-node'
import { bdSeqMetricName, rebirthCommand, rebirthMetricName, type CommandPublish } from './host-state'
import type { DataTypeName, Metric, Payload } from './payload'
import { TokenBucket, rebirthDueAt, type RebirthPolicy } from './rebirth-throttle'
import { parseSparkplugTopic, type SparkplugMessageType } from './topic'

export interface HostApplicationOptions {
  /** Uniform in [0, 1): spreads rebirth requests (jitter). */
  random: () => number
  /** How long a gap in seq may stay open before the node is asked to rebirth (the spec's "Reorder Timeout"). */
  reorderTimeoutMs?: number
  /** Minimum time between two rebirth requests to the same edge node. */
  rebirthMinIntervalMs?: number
  /** Each rebirth request waits a random 0…rebirthJitterMs. */
  rebirthJitterMs?: number
  /** Steady rate of rebirth requests across all nodes. */
  rebirthsPerSecond?: number
  /** How many rebirth requests may go out at once before the rate applies. */
  rebirthBurst?: number
  /** An online node or device that sends nothing for this long, without a death, is flagged silent. */
  silentAfterMs?: number
  /** How many recent protocol errors each node keeps. */
  recentErrorLimit?: number
  /** Bound on the topic → target cache; it is emptied and refilled past this. */
  maxCachedTopics?: number
}

export const hostApplicationDefaults = {
  // "A few seconds": longer than a broker hiccup reorders messages over, short enough that a lost
  // message is repaired before an operator notices a frozen value.
  reorderTimeoutMs: 5_000,
  // An NBIRTH with its DBIRTHs normally arrives within a second; a lost NCMD (QoS 0) is asked again after this.
  rebirthMinIntervalMs: 10_000,
  rebirthJitterMs: 1_000,
  // 1,000 nodes asked after a broker restart take about 50 s, with births arriving at a pace a broker takes.
  rebirthsPerSecond: 20,
  rebirthBurst: 40,
  // Sparkplug is report-by-exception, so a quiet node may be healthy: silence is only flagged for an operator,
  // never taken as a death, and ten minutes keeps the flag for nodes that stopped rather than paused.
  silentAfterMs: 10 * 60_000,
  recentErrorLimit: 20,
  maxCachedTopics: 100_000,
} as const

export type OfflineReason =
  /** NDEATH (for a node, with the session's bdSeq) or DDEATH. */
  | 'death'
  /** A device whose edge node died. */
  | 'node-death'
  /** A device whose edge node sent a new NBIRTH: it is back when its DBIRTH arrives. */
  | 'node-birth'
  /** An NBIRTH with a new bdSeq while the old session was online: that session ended without a death reaching the host (typically a broker restart lost the Will). */
  | 'session-lost'

export type LifecycleEvent =
  | { event: 'online'; birth: 'first' | 'rebirth' | 'new-session'; bdSeq: bigint | null }
  | { event: 'offline'; reason: OfflineReason }
  | { event: 'death-ignored'; reason: 'stale-session'; bdSeq: bigint | null; sessionBdSeq: bigint | null }
  | { event: 'reboot-detected'; evidence: 'bdseq-restarted'; previousBdSeq: bigint; bdSeq: bigint }
  | { event: 'silent'; lastHeardAt: number }
  | { event: 'heard-again'; silentForMs: number }
  | { event: 'rebirth-requested'; reason: RebirthReason }

export type LifecycleEffect = { kind: 'lifecycle'; target: SparkplugRef; at: number } & LifecycleEvent

export interface PublishEffect {
  kind: 'publish'
  target: SparkplugRef
  reason: RebirthReason
  publish: CommandPublish
}

/** A birth defines the target's metrics anew: anything not in it is no longer part of the session. */
export interface BirthEffect {
  kind: 'birth'
  target: SparkplugRef
  at: number
  metrics: readonly MetricState[]
}

/**
 * One NDATA/DDATA. `samples[i]` is the decoded metric that updated `metrics[i]` (its value, timestamp,
 * flags); use `metrics[i]` for identity and type. Usually `samples` is the decoded payload's own array.
 */
export interface DataEffect {
  kind: 'data'
  target: SparkplugRef
  at: number
  /** The payload's timestamp (host time when absent). */
  timestamp: number
  seq: number
  metrics: readonly MetricState[]
  samples: readonly Metric[]
}

/** Every metric of the target is STALE as of `at`. */
export interface StaleEffect {
  kind: 'stale'
  target: SparkplugRef
  at: number
}

export interface ProtocolErrorEffect {
  kind: 'protocol-error'
  /** Null for a topic that names no valid target. */
  target: SparkplugRef | null
  error: ProtocolError
}

export type HostEffect = PublishEffect | LifecycleEffect | BirthEffect | DataEffect | StaleEffect | ProtocolErrorEffect

/**
 * `applied`: processed (possibly with protocol errors about some of its metrics). `held`: waiting in the
 * reorder buffer. `dropped`: refused as a protocol error. `ignored`: not for the host state (commands,
 * STATE, a stale death). `refused`: not a Sparkplug topic.
 */
export type ReceiveOutcome = 'applied' | 'held' | 'dropped' | 'ignored' | 'refused'

export interface RestoredMetric {
  name: string
  alias?: bigint | null
  type: DataTypeName
  value?: MetricValue
  /** Milliseconds since the epoch. */
  timestamp?: number
}

export interface RestoredDevice {
  deviceId: string
  metrics: RestoredMetric[]
}

export interface RestoredEdgeNode {
  groupId: string
  edgeNodeId: string
  bdSeq?: bigint | null
  metrics: RestoredMetric[]
  devices?: RestoredDevice[]
}

export interface HostStats {
  messages: number
  metricUpdates: number
  refusedTopics: number
  protocolErrors: number
  heldMessages: number
  rebirthRequests: number
  /** Rebirth requests that had to wait for the per-node interval. */
  rebirthsDeferred: number
}

interface Route {
  messageType: SparkplugMessageType | 'STATE'
  /** Null for messages the host does not track (NCMD, DCMD, STATE). */
  node: EdgeNode | null
  device: Device | null
}

type DataProblem = 'unknown-alias' | 'alias-of-other-owner' | 'unknown-metric' | 'type-mismatch' | 'metric-without-name-or-alias'

// Messages up to this far ahead of the expected seq wait for the gap to fill; anything else has already
// been seen (or belongs to a stretch so long lost that only a rebirth helps).
const reorderWindow = 128

export class HostApplication {
  readonly reorderTimeoutMs: number
  /** The operator may change it while the console runs; the next tick applies it. */
  silentAfterMs: number
  readonly stats: HostStats = {
    messages: 0,
    metricUpdates: 0,
    refusedTopics: 0,
    protocolErrors: 0,
    heldMessages: 0,
    rebirthRequests: 0,
    rebirthsDeferred: 0,
  }

  private readonly random: () => number
  private readonly policy: RebirthPolicy
  private readonly recentErrorLimit: number
  private readonly maxCachedTopics: number
  private readonly bucket: TokenBucket

  private readonly nodes = new Map<string, EdgeNode>()
  private readonly routes = new Map<string, Route>()
  /** Nodes with an open seq gap, so tick() does not walk the whole fleet for them. */
  private readonly gaps = new Set<EdgeNode>()
  private readonly rebirthQueue = new Set<EdgeNode>()
  private effects: HostEffect[] = []

  constructor(options: HostApplicationOptions) {
    this.random = options.random
    this.reorderTimeoutMs = options.reorderTimeoutMs ?? hostApplicationDefaults.reorderTimeoutMs
    this.silentAfterMs = options.silentAfterMs ?? hostApplicationDefaults.silentAfterMs
    this.policy = {
      minIntervalMs: options.rebirthMinIntervalMs ?? hostApplicationDefaults.rebirthMinIntervalMs,
      jitterMs: options.rebirthJitterMs ?? hostApplicationDefaults.rebirthJitterMs,
    }
    // Starts full: the first requests after start-up go out at once, up to the burst.
    this.bucket = new TokenBucket(
      options.rebirthsPerSecond ?? hostApplicationDefaults.rebirthsPerSecond,
      options.rebirthBurst ?? hostApplicationDefaults.rebirthBurst,
      Number.NEGATIVE_INFINITY,
    )
    this.recentErrorLimit = options.recentErrorLimit ?? hostApplicationDefaults.recentErrorLimit
    this.maxCachedTopics = options.maxCachedTopics ?? hostApplicationDefaults.maxCachedTopics
  }

  /** Hands over every effect produced since the last call, in the order they arose. */
  takeEffects(): HostEffect[] {
    const effects = this.effects
    this.effects = []
    return effects
  }

  /** One message from the broker: its topic and its decoded Sparkplug payload. `now` is host time in ms. */
  receive(topic: string, payload: Payload, now: number): ReceiveOutcome {
    this.stats.messages++
    let route = this.routes.get(topic)
    if (route === undefined) {
      const created = this.route(topic, now)
      if (created === null) return 'refused'
      route = created
    }
    const node = route.node
    if (node === null) return 'ignored'
    const type = route.messageType as SparkplugMessageType
    if (type === 'NDEATH') return this.nodeDeath(node, payload, now)
    if (node.silent) this.heardAgain(node, now)
    node.lastHeardAt = now
    if (type === 'NBIRTH') return this.nodeBirth(node, payload, now)
    if (node.status !== 'online') return this.withoutSession(node, type, route.device, now)
    return this.sequenced(node, type, route.device, payload, now)
  }

  /** Call a few times a second: reorder timeouts, silent detection and the rebirth queue run here. */
  tick(now: number): void {
    if (this.gaps.size > 0) {
      for (const node of this.gaps) if (node.reorderDeadline <= now) this.reorderTimeout(node, now)
    }
    if (Number.isFinite(this.silentAfterMs)) this.flagSilent(now)
    if (this.rebirthQueue.size > 0) this.releaseRebirths(now)
  }

  /**
   * An operator's (or the core's) rebirth request. It goes through the same per-node interval, global rate
   * and jitter as the automatic ones; returns when it is due to go out.
   */
  requestRebirth(groupId: string, edgeNodeId: string, now: number): number {
    const node = this.nodeFor(groupId, edgeNodeId, now)
    this.scheduleRebirth(node, 'operator', now)
    return node.rebirthDueAt
  }

  /**
   * Seeds what the console knew before it restarted. Everything restored is STALE and its nodes and devices
   * are `restored`, not online, until their births arrive; data before that asks for a rebirth. Targets that
   * live traffic already reached are left alone.
   */
  restore(nodes: Iterable<RestoredEdgeNode>, now: number): void {
    for (const restored of nodes) {
      const node = this.nodeFor(restored.groupId, restored.edgeNodeId, now)
      if (node.status !== 'unknown') continue
      node.status = 'restored'
      node.bdSeq = restored.bdSeq ?? null
      node.metrics = restoredMetrics(node.ref, restored.metrics, now)
      for (const d of restored.devices ?? []) {
        const device = this.deviceFor(node, d.deviceId, now)
        if (device.status !== 'unknown') continue
        device.status = 'restored'
        device.metrics = restoredMetrics(device.ref, d.metrics, now)
      }
    }
  }

  /** What restore() takes: the fleet as the host knows it now, for persisting at shutdown. */
  snapshot(): RestoredEdgeNode[] {
    const out: RestoredEdgeNode[] = []
    for (const node of this.nodes.values()) {
      if (node.status === 'unknown') continue
      const devices: RestoredDevice[] = []
      for (const device of node.devices.values()) {
        if (device.status !== 'unknown') devices.push({ deviceId: device.ref.deviceId!, metrics: snapshotMetrics(device.metrics) })
      }
      out.push({ groupId: node.ref.groupId, edgeNodeId: node.ref.edgeNodeId, bdSeq: node.bdSeq, metrics: snapshotMetrics(node.metrics), devices })
    }
    return out
  }

  /** Drops a decommissioned edge node and everything about it. */
  forget(groupId: string, edgeNodeId: string): boolean {
    const key = `${groupId}/${edgeNodeId}`
    const node = this.nodes.get(key)
    if (node === undefined) return false
    this.nodes.delete(key)
    this.gaps.delete(node)
    this.rebirthQueue.delete(node)
    // Cached routes point at the node object; rebuilding the cache is cheaper than finding them.
    this.routes.clear()
    return true
  }

  edgeNode(groupId: string, edgeNodeId: string): EdgeNodeView | undefined {
    return this.nodes.get(`${groupId}/${edgeNodeId}`)
  }

  device(groupId: string, edgeNodeId: string, deviceId: string): DeviceView | undefined {
    return this.nodes.get(`${groupId}/${edgeNodeId}`)?.devices.get(deviceId)
  }

  edgeNodes(): IterableIterator<EdgeNodeView> {
    return this.nodes.values()
  }

  // ---- routing ------------------------------------------------------------------------------------------

  private route(topic: string, now: number): Route | null {
    const parsed = parseSparkplugTopic(topic)
    if (!parsed.ok) {
      this.stats.refusedTopics++
      this.stats.protocolErrors++
      this.effects.push({
        kind: 'protocol-error',
        target: null,
        error: { reason: 'bad-topic', detail: `${parsed.reason}: ${parsed.detail}`, at: now, messageType: null, deviceId: null },
      })
      // Not cached: junk topics must not fill the cache.
      return null
    }
    const t = parsed.topic
    let route: Route
    if (t.kind === 'state') route = { messageType: 'STATE', node: null, device: null }
    else if (t.messageType === 'NCMD' || t.messageType === 'DCMD') route = { messageType: t.messageType, node: null, device: null }
    else {
      const node = this.nodeFor(t.groupId, t.edgeNodeId, now)
      route = { messageType: t.messageType, node, device: t.kind === 'device' ? this.deviceFor(node, t.deviceId, now) : null }
    }
    if (this.routes.size >= this.maxCachedTopics) this.routes.clear()
    this.routes.set(topic, route)
    return route
  }

  private nodeFor(groupId: string, edgeNodeId: string, now: number): EdgeNode {
    const key = `${groupId}/${edgeNodeId}`
    let node = this.nodes.get(key)
    if (node === undefined) {
      node = new EdgeNode(nodeRef(groupId, edgeNodeId), now, this.recentErrorLimit)
      this.nodes.set(key, node)
    }
    return node
  }

  private deviceFor(node: EdgeNode, deviceId: string, now: number): Device {
    let device = node.devices.get(deviceId)
    if (device === undefined) {
      device = new Device(deviceRef(node.ref.groupId, node.ref.edgeNodeId, deviceId), now)
      node.devices.set(deviceId, device)
    }
    return device
  }

  // ---- edge node sessions -------------------------------------------------------------------------------

  private nodeBirth(node: EdgeNode, payload: Payload, now: number): ReceiveOutcome {
    const previousStatus = node.status
    const previousBdSeq = node.bdSeq
    const bdSeq = bdSeqOf(payload)
    const ref = node.ref

    if (bdSeq === null) this.protocolError(node, ref, 'nbirth-without-bdseq', 'The NBIRTH has no bdSeq metric, so its NDEATH cannot be matched to it.', 'NBIRTH', now)
    let nextSeq = -1
    const seq = payload.seq
    if (seq === undefined) this.protocolError(node, ref, 'missing-seq', 'The NBIRTH has no seq; the next message will set the sequence.', 'NBIRTH', now)
    else if (seq > 255n) this.protocolError(node, ref, 'seq-out-of-range', `The NBIRTH's seq ${seq} is above 255.`, 'NBIRTH', now)
    else {
      if (seq !== 0n) this.protocolError(node, ref, 'nbirth-seq-not-zero', `The NBIRTH's seq is ${seq}, not 0.`, 'NBIRTH', now)
      nextSeq = (Number(seq) + 1) & 255
    }
    if (!payload.metrics.some((m) => m.name === rebirthMetricName && m.type === 'Boolean')) {
      this.protocolError(node, ref, 'nbirth-without-rebirth-metric', `The NBIRTH has no Boolean "${rebirthMetricName}": the node may not answer rebirth requests.`, 'NBIRTH', now)
    }

    const knownSession = previousStatus === 'online' || previousStatus === 'restored'
    const birth: 'first' | 'rebirth' | 'new-session' =
      previousStatus === 'unknown' || (previousStatus === 'restored' && previousBdSeq === null)
        ? 'first'
        : knownSession && bdSeq !== null && bdSeq === previousBdSeq
          ? 'rebirth'
          : 'new-session'
    if (previousStatus === 'online' && birth === 'new-session') this.lifecycle(ref, now, { event: 'offline', reason: 'session-lost' })
    // bdSeq counts MQTT connections from 0; a counter that starts over (and did not merely wrap) means the
    // node lost its RAM: a reboot, a crash or a power cut. Nodes that keep bdSeq in flash, or never count
    // (always 0), only show up as new sessions.
    if (bdSeq === 0n && previousBdSeq !== null && previousBdSeq > 0n && previousBdSeq !== 255n && birth !== 'rebirth') {
      this.lifecycle(ref, now, { event: 'reboot-detected', evidence: 'bdseq-restarted', previousBdSeq, bdSeq })
    }

    this.clearReorder(node)
    this.cancelRebirth(node)
    node.aliases.clear()
    for (const device of node.devices.values()) {
      if (device.status !== 'online') continue
      this.deviceOffline(device, now, 'node-birth')
    }
    const metrics = this.defineMetrics(node, ref, payload, 'NBIRTH', now)
    node.metrics = metrics.map
    node.status = 'online'
    node.bdSeq = bdSeq
    node.birthAt = now
    node.nextSeq = nextSeq
    this.effects.push({ kind: 'birth', target: ref, at: now, metrics: metrics.list })
    this.lifecycle(ref, now, { event: 'online', birth, bdSeq })
    return 'applied'
  }

  private nodeDeath(node: EdgeNode, payload: Payload, now: number): ReceiveOutcome {
    const ref = node.ref
    const bdSeq = bdSeqOf(payload)
    if (node.status === 'unknown') {
      this.protocolError(node, ref, 'ndeath-unknown-node', `NDEATH (bdSeq ${bdSeq ?? 'none'}) for an edge node the host has never seen born.`, 'NDEATH', now)
      return 'ignored'
    }
    if (bdSeq === null && node.bdSeq !== null) {
      this.protocolError(node, ref, 'ndeath-without-bdseq', `The NDEATH has no bdSeq; the session's is ${node.bdSeq}. Ignored.`, 'NDEATH', now)
      return 'ignored'
    }
    if (bdSeq !== null && node.bdSeq !== null && bdSeq !== node.bdSeq) {
      // The Will of an earlier connection, delivered late (after a fast reconnect): the current session lives.
      this.lifecycle(ref, now, { event: 'death-ignored', reason: 'stale-session', bdSeq, sessionBdSeq: node.bdSeq })
      return 'ignored'
    }
    if (node.status === 'offline') return 'ignored'
    const wasOnline = node.status === 'online'
    node.status = 'offline'
    node.deathAt = now
    node.silent = false
    if (node.bdSeq === null) node.bdSeq = bdSeq
    this.clearReorder(node)
    this.cancelRebirth(node)
    // Host time, not the payload's: the Will is written at CONNECT time (tck-id-operational-behavior-edge-node-termination-host-action-ndeath-*).
    if (wasOnline) staleAll(node.metrics, now)
    this.lifecycle(ref, now, { event: 'offline', reason: 'death' })
    if (wasOnline) this.effects.push({ kind: 'stale', target: ref, at: now })
    for (const device of node.devices.values()) {
      if (device.status === 'online') this.deviceOffline(device, now, 'node-death')
      else if (device.status === 'restored') device.status = 'offline'
    }
    return 'applied'
  }

  /** NDATA, DBIRTH, DDEATH or DDATA from a node with no session the host knows of. */
  private withoutSession(node: EdgeNode, type: SparkplugMessageType, device: Device | null, now: number): ReceiveOutcome {
    if (node.status === 'offline') {
      // The node is talking, so it is alive, but the host saw its death and no birth since.
      const reason = type === 'DBIRTH' ? 'dbirth-before-nbirth' : 'data-before-birth'
      this.protocolError(node, device?.ref ?? node.ref, reason, `${type} while the edge node is offline (no NBIRTH since its NDEATH).`, type, now)
      this.scheduleRebirth(node, reason, now)
    } else {
      // Unknown or restored: the host joined after the node's birth (console or broker restart). Not the
      // node's fault, so not a protocol error; a rebirth tells the host what it missed.
      this.scheduleRebirth(node, 'unknown-session', now)
    }
    return 'dropped'
  }

  // ---- seq ordering -------------------------------------------------------------------------------------

  private sequenced(node: EdgeNode, type: SparkplugMessageType, device: Device | null, payload: Payload, now: number): ReceiveOutcome {
    const s = payload.seq
    if (s === undefined) {
      this.protocolError(node, device?.ref ?? node.ref, 'missing-seq', `${type} without seq cannot be put in order; dropped.`, type, now)
      return 'dropped'
    }
    if (s > 255n || s < 0n) {
      this.protocolError(node, device?.ref ?? node.ref, 'seq-out-of-range', `${type} with seq ${s}; seq runs 0–255.`, type, now)
      return 'dropped'
    }
    const seq = Number(s)
    const expected = node.nextSeq
    if (expected === -1 || seq === expected) {
      node.nextSeq = (seq + 1) & 255
      this.apply(node, type, device, payload, seq, now)
      if (node.held > 0) this.releaseHeld(node, now)
      else if (node.reorderDeadline !== -1) this.closeGap(node)
      return 'applied'
    }
    const ahead = (seq - expected) & 255
    if (ahead < reorderWindow) {
      const buffer = (node.reorder ??= new Array<undefined>(256))
      if (buffer[seq] !== undefined) {
        this.protocolError(node, device?.ref ?? node.ref, 'seq-duplicate', `${type} with seq ${seq} is already waiting for seq ${expected}; dropped.`, type, now)
        return 'dropped'
      }
      buffer[seq] = { messageType: type, device, payload }
      node.held++
      this.stats.heldMessages++
      this.openGap(node, now)
      return 'held'
    }
    this.protocolError(node, device?.ref ?? node.ref, 'seq-behind', `${type} with seq ${seq} while seq ${expected} is expected: already seen or too late; dropped.`, type, now)
    // A run of these means the host lost its place (a long outage without a death); the reorder timeout
    // then turns it into a rebirth. A single duplicate is cleared by the next message in order.
    this.openGap(node, now)
    return 'dropped'
  }

  private openGap(node: EdgeNode, now: number): void {
    if (node.reorderDeadline !== -1) return
    node.reorderDeadline = now + this.reorderTimeoutMs
    this.gaps.add(node)
  }

  private closeGap(node: EdgeNode): void {
    node.reorderDeadline = -1
    this.gaps.delete(node)
  }

  private releaseHeld(node: EdgeNode, now: number): void {
    const buffer = node.reorder!
    let next = node.nextSeq
    let held = buffer[next]
    while (held !== undefined) {
      buffer[next] = undefined
      node.held--
      node.nextSeq = (next + 1) & 255
      this.apply(node, held.messageType, held.device, held.payload, next, now)
      next = node.nextSeq
      held = buffer[next]
    }
    if (node.held === 0) this.closeGap(node)
  }

  private reorderTimeout(node: EdgeNode, now: number): void {
    this.closeGap(node)
    const expected = node.nextSeq
    this.protocolError(node, node.ref, 'seq-gap', `seq ${expected} did not arrive within ${this.reorderTimeoutMs} ms.`, null, now)
    this.scheduleRebirth(node, 'seq-gap', now)
    // What is held is newer than anything applied: apply it in order across the hole rather than keep
    // older values. The rebirth then repairs whatever the missing message carried.
    if (node.held === 0) {
      node.nextSeq = -1
      return
    }
    const buffer = node.reorder!
    let last = -1
    for (let d = 0; d < 256 && node.held > 0; d++) {
      const seq = (expected + d) & 255
      const held = buffer[seq]
      if (held === undefined) continue
      buffer[seq] = undefined
      node.held--
      last = seq
      this.apply(node, held.messageType, held.device, held.payload, seq, now)
    }
    node.nextSeq = (last + 1) & 255
  }

  private clearReorder(node: EdgeNode): void {
    if (node.held > 0) node.reorder!.fill(undefined)
    node.held = 0
    if (node.reorderDeadline !== -1) this.closeGap(node)
  }

  // ---- messages in order --------------------------------------------------------------------------------

  private apply(node: EdgeNode, type: SparkplugMessageType, device: Device | null, payload: Payload, seq: number, now: number): void {
    if (type === 'NDATA') {
      this.data(node, node, 'NDATA', payload, seq, now)
      return
    }
    // Device messages: the topic always names a device.
    const d = device!
    if (d.silent) this.heardAgain(d, now)
    d.lastHeardAt = now
    switch (type) {
      case 'DDATA':
        if (d.status !== 'online') {
          this.protocolError(node, d.ref, 'data-before-dbirth', `DDATA for device "${d.ref.deviceId}" that has no DBIRTH in this session.`, 'DDATA', now)
          this.scheduleRebirth(node, 'data-before-dbirth', now)
          return
        }
        this.data(node, d, 'DDATA', payload, seq, now)
        return
      case 'DBIRTH':
        this.deviceBirth(node, d, payload, now)
        return
      case 'DDEATH':
        this.deviceDeath(node, d, payload, now)
        return
    }
  }

  private data(node: EdgeNode, owner: EdgeNode | Device, type: 'NDATA' | 'DDATA', payload: Payload, seq: number, now: number): void {
    const incoming = payload.metrics
    const n = incoming.length
    const ownerRef = owner.ref
    const byName = owner.metrics
    const aliases = node.aliases
    const timestamp = payload.timestamp === undefined ? now : Number(payload.timestamp)
    const resolved: MetricState[] = []
    // Stays null (and the effect reuses the decoded array) unless a metric has to be left out or converted.
    let samples: Metric[] | null = null
    let problem: DataProblem | null = null
    let problemDetail = ''
    for (let i = 0; i < n; i++) {
      const m = incoming[i]!
      let state: MetricState | undefined
      if (m.alias !== undefined) {
        state = aliases.get(m.alias)
        if (state === undefined || state.owner !== ownerRef) {
          if (problem === null) {
            problem = state === undefined ? 'unknown-alias' : 'alias-of-other-owner'
            problemDetail =
              state === undefined
                ? `${type} carries alias ${m.alias}, which no birth of this session defined.`
                : `${type} for ${ownerRef.key} carries alias ${m.alias}, which belongs to ${state.owner.key} ("${state.name}").`
          }
          if (samples === null) samples = incoming.slice(0, i)
          continue
        }
      } else if (m.name !== undefined) {
        state = byName.get(m.name)
        if (state === undefined) {
          if (problem === null) {
            problem = 'unknown-metric'
            problemDetail = `${type} carries "${m.name}", which the birth of ${ownerRef.key} did not define.`
          }
          if (samples === null) samples = incoming.slice(0, i)
          continue
        }
      } else {
        if (problem === null) {
          problem = 'metric-without-name-or-alias'
          problemDetail = `${type} has a metric with neither name nor alias.`
        }
        if (samples === null) samples = incoming.slice(0, i)
        continue
      }
      let sample = m
      const value = m.value
      if (value !== null && typeof value !== state.kind) {
        const converted = convert(value, state.kind)
        if (converted === undefined) {
          if (problem === null) {
            problem = 'type-mismatch'
            problemDetail = `${type}: "${state.name}" is ${state.type} by its birth but arrived as ${typeof value}.`
          }
          if (samples === null) samples = incoming.slice(0, i)
          continue
        }
        sample = { ...m, type: state.type, value: converted } as Metric
        if (samples === null) samples = incoming.slice(0, i)
      }
      // A historical value is a late report of the past, not the metric's current value.
      if (m.isHistorical !== true) {
        state.value = sample.value
        state.timestamp = m.timestamp === undefined ? timestamp : Number(m.timestamp)
      }
      resolved.push(state)
      if (samples !== null) samples.push(sample)
    }
    if (problem !== null) {
      this.protocolError(node, ownerRef, problem, problemDetail, type, now)
      // A metric the host cannot place means its picture of the session is wrong; a malformed metric does not.
      if (problem !== 'metric-without-name-or-alias') this.scheduleRebirth(node, problem, now)
    }
    if (resolved.length === 0) return
    this.stats.metricUpdates += resolved.length
    this.effects.push({ kind: 'data', target: ownerRef, at: now, timestamp, seq, metrics: resolved, samples: samples ?? incoming })
  }

  private defineMetrics(node: EdgeNode, owner: SparkplugRef, payload: Payload, type: 'NBIRTH' | 'DBIRTH', now: number): { map: Map<string, MetricState>; list: MetricState[] } {
    const map = new Map<string, MetricState>()
    const list: MetricState[] = []
    const timestamp = payload.timestamp === undefined ? now : Number(payload.timestamp)
    for (const m of payload.metrics) {
      const name = m.name
      if (name === undefined || name === '') {
        this.protocolError(node, owner, 'birth-metric-without-name', `A ${type} metric has no name (alias ${m.alias ?? 'none'}); it is left out.`, type, now)
        continue
      }
      if (map.has(name)) {
        this.protocolError(node, owner, 'birth-duplicate-name', `${type} defines "${name}" twice; the first is kept.`, type, now)
        continue
      }
      let alias = m.alias ?? null
      if (alias !== null) {
        const taken = node.aliases.get(alias)
        if (taken !== undefined) {
          // tck-id-payloads-alias-uniqueness: data by this alias would be ambiguous, so it is not registered.
          this.protocolError(node, owner, 'birth-duplicate-alias', `${type}: alias ${alias} of "${name}" is already "${taken.name}" of ${taken.owner.key}.`, type, now)
          alias = null
        }
      }
      const state = new MetricState(owner, name, alias, m.type, m.value, m.timestamp === undefined ? timestamp : Number(m.timestamp), 'good', null)
      map.set(name, state)
      list.push(state)
      if (alias !== null) node.aliases.set(alias, state)
    }
    return { map, list }
  }

  // ---- devices ------------------------------------------------------------------------------------------

  private deviceBirth(node: EdgeNode, device: Device, payload: Payload, now: number): void {
    for (const old of device.metrics.values()) {
      if (old.alias !== null && node.aliases.get(old.alias) === old) node.aliases.delete(old.alias)
    }
    const first = device.status === 'unknown' || device.status === 'restored'
    const metrics = this.defineMetrics(node, device.ref, payload, 'DBIRTH', now)
    device.metrics = metrics.map
    device.status = 'online'
    device.birthAt = now
    this.effects.push({ kind: 'birth', target: device.ref, at: now, metrics: metrics.list })
    this.lifecycle(device.ref, now, { event: 'online', birth: first ? 'first' : 'rebirth', bdSeq: node.bdSeq })
  }

  private deviceDeath(node: EdgeNode, device: Device, payload: Payload, now: number): void {
    if (device.status === 'unknown') {
      this.protocolError(node, device.ref, 'ddeath-unknown-device', `DDEATH for device "${device.ref.deviceId}" that was never born.`, 'DDEATH', now)
      return
    }
    if (device.status === 'offline') return
    // The DDEATH's own timestamp (tck-id-operational-behavior-edge-node-termination-host-action-ddeath-*):
    // the edge node saw the device go, possibly a while before it could say so.
    const at = payload.timestamp === undefined ? now : Number(payload.timestamp)
    this.deviceOffline(device, at, 'death')
  }

  private deviceOffline(device: Device, at: number, reason: OfflineReason): void {
    const wasOnline = device.status === 'online'
    device.status = 'offline'
    device.deathAt = at
    device.silent = false
    if (wasOnline) staleAll(device.metrics, at)
    this.lifecycle(device.ref, at, { event: 'offline', reason })
    if (wasOnline) this.effects.push({ kind: 'stale', target: device.ref, at })
  }

  // ---- silence ------------------------------------------------------------------------------------------

  private flagSilent(now: number): void {
    const limit = this.silentAfterMs
    for (const node of this.nodes.values()) {
      if (node.status !== 'online') continue
      if (!node.silent && now - node.lastHeardAt >= limit) {
        node.silent = true
        this.lifecycle(node.ref, now, { event: 'silent', lastHeardAt: node.lastHeardAt })
      }
      for (const device of node.devices.values()) {
        if (device.status !== 'online' || device.silent || now - device.lastHeardAt < limit) continue
        device.silent = true
        this.lifecycle(device.ref, now, { event: 'silent', lastHeardAt: device.lastHeardAt })
      }
    }
  }

  private heardAgain(target: EdgeNode | Device, now: number): void {
    target.silent = false
    this.lifecycle(target.ref, now, { event: 'heard-again', silentForMs: now - target.lastHeardAt })
  }

  // ---- rebirth requests ---------------------------------------------------------------------------------

  private scheduleRebirth(node: EdgeNode, reason: RebirthReason, now: number): void {
    if (node.rebirthDueAt !== -1) return
    const last = node.lastRebirthRequestAt
    if (last !== null && last + this.policy.minIntervalMs > now) this.stats.rebirthsDeferred++
    node.rebirthDueAt = rebirthDueAt(this.policy, last, now, this.random)
    node.rebirthReason = reason
    this.rebirthQueue.add(node)
  }

  private cancelRebirth(node: EdgeNode): void {
    if (node.rebirthDueAt === -1) return
    node.rebirthDueAt = -1
    node.rebirthReason = null
    this.rebirthQueue.delete(node)
  }

  private releaseRebirths(now: number): void {
    let due: EdgeNode[] | null = null
    for (const node of this.rebirthQueue) if (node.rebirthDueAt <= now) (due ??= []).push(node)
    if (due === null) return
    due.sort((a, b) => a.rebirthDueAt - b.rebirthDueAt)
    for (const node of due) {
      if (!this.bucket.take(now)) break
      const reason = node.rebirthReason!
      this.rebirthQueue.delete(node)
      node.rebirthDueAt = -1
      node.rebirthReason = null
      node.lastRebirthRequestAt = now
      node.rebirthRequestCount++
      this.stats.rebirthRequests++
      const ref = node.ref
      this.effects.push({ kind: 'publish', target: ref, reason, publish: rebirthCommand(ref.groupId, ref.edgeNodeId, now) })
      this.lifecycle(ref, now, { event: 'rebirth-requested', reason })
    }
  }

  // ---- reporting ----------------------------------------------------------------------------------------

  private lifecycle(target: SparkplugRef, at: number, event: LifecycleEvent): void {
    this.effects.push({ kind: 'lifecycle', target, at, ...event })
  }

  private protocolError(node: EdgeNode, target: SparkplugRef, reason: ProtocolErrorReason, detail: string, messageType: SparkplugMessageType | null, now: number): void {
    const error: ProtocolError = { reason, detail, at: now, messageType, deviceId: target.deviceId }
    node.protocolErrorCount++
    node.recentErrors.push(error)
    this.stats.protocolErrors++
    this.effects.push({ kind: 'protocol-error', target, error })
  }
}

function bdSeqOf(payload: Payload): bigint | null {
  for (const m of payload.metrics) {
    if (m.name !== bdSeqMetricName) continue
    const value = m.value
    if (typeof value === 'bigint') return value
    if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
    return null
  }
  return null
}

/** Decoders that do not know a data metric's type from its birth may give 64-bit values as numbers and back. */
function convert(value: unknown, kind: ValueKind): MetricValue | undefined {
  if (kind === 'bigint' && typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (kind === 'number' && typeof value === 'bigint') return Number(value)
  return undefined
}

function staleAll(metrics: ReadonlyMap<string, MetricState>, at: number): void {
  for (const m of metrics.values()) {
    if (m.quality === 'stale') continue
    m.quality = 'stale'
    m.staleSince = at
  }
}

function restoredMetrics(owner: SparkplugRef, metrics: readonly RestoredMetric[], now: number): Map<string, MetricState> {
  const map = new Map<string, MetricState>()
  for (const m of metrics) map.set(m.name, new MetricState(owner, m.name, m.alias ?? null, m.type, m.value ?? null, m.timestamp ?? now, 'stale', now))
  return map
}

function snapshotMetrics(metrics: ReadonlyMap<string, MetricState>): RestoredMetric[] {
  const out: RestoredMetric[] = []
  for (const m of metrics.values()) out.push({ name: m.name, alias: m.alias, type: m.type, value: m.value, timestamp: m.timestamp })
  return out
}
