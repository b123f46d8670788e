import { sameFleetRow, type DeviceDetail, type FleetRow, type ProtocolError, type SeriesPoints } from '../../../shared/contract'
import type { DeviceView, EdgeNodeView } from '../../../shared/domain/sparkplug/edge-node'
import { HostApplication, type HostEffect, type HostStats, type RestoredEdgeNode } from '../../../shared/domain/sparkplug/host-application'
import { deviceCommand, nodeCommand } from '../../../shared/domain/sparkplug/host-state'
import { typedWrite } from '../../../shared/domain/sparkplug/metric-write'
import type { Metric, PropertySet } from '../../../shared/domain/sparkplug/payload'
import { parseSparkplugTopic } from '../../../shared/domain/sparkplug/topic'
import { decodePayload, encodePayload, SparkplugDecodeError } from '../../../shared/wire/sparkplug'
import type { AuditLog } from '../audit-log'
import type { EventHub } from '../event-hub'
import { ContractFailure } from '../failure'
import type { Logger } from '../log'
import type { OpenStore } from '../store/store'
import { deviceRow, metricView, nodeRow, sampleValue } from './fleet-view'
import { LifecycleLog } from './lifecycle-log'
import { MetricHistory } from './metric-history'

export interface FleetServiceOptions {
  store: OpenStore | null
  events: EventHub
  audit: AuditLog
  log: Logger
  now: () => number
  publish(topic: string, payload: Uint8Array): Promise<void>
  silentAfterMs: number
  random?: () => number
  /** Sees every host effect after the fleet applied it (the OTA rollouts follow births, data and deaths). */
  observe?: (effects: readonly HostEffect[]) => void
}

interface StoredDevice {
  lastSeen: number | null
  firmware: string
}

/** A malformed payload is logged to the lifecycle at most this often per node, and always counted. */
const protocolErrorLogIntervalMs = 10_000

/**
 * The console as a Sparkplug host application: decodes what the broker delivers, keeps the state of
 * every edge node and device (pure, in shared/domain), persists births, time series and lifecycle, and
 * pushes coalesced rows to the screens.
 */
export class FleetService {
  private readonly host: HostApplication
  private readonly history: MetricHistory | null
  private readonly lifecycle: LifecycleLog | null
  /** Birth properties (engUnit, writable) by `key\0metric`: the host state keeps values, not metadata. */
  private readonly properties = new Map<string, PropertySet>()
  /** Rows to rebuild and push at the next tick: never one screen update per MQTT message. */
  private readonly dirty = new Set<string>()
  /**
   * What each screen last got per row, and when. A row whose only change is lastSeen (every data
   * message) is sent at most every `lastSeenPushMs`: screens count "ago" themselves, and ten thousand
   * devices at 1 Hz would otherwise resend the whole fleet every push.
   */
  private readonly pushed = new Map<string, { row: FleetRow; at: number }>()
  /** Rows held back by the lastSeen rule, and when they may go. */
  private readonly deferred = new Map<string, number>()
  private readonly stored = new Map<string, StoredDevice>()
  /** Boards flashed on the bench that have not been born yet, by `group/edge` key. */
  private readonly expected = new Map<string, FleetRow>()
  /** Payloads that did not decode, per edge node key (the host state never sees them). */
  private readonly decodeErrors = new Map<string, { count: number; recent: ProtocolError[]; loggedAt: number }>()
  private readonly timer: NodeJS.Timeout
  private lastFlush = 0
  private lastPrune = 0
  private readonly upsertDevice
  private readonly touchDevice

  constructor(private readonly options: FleetServiceOptions) {
    const now = options.now()
    this.host = new HostApplication({ random: options.random ?? Math.random, silentAfterMs: options.silentAfterMs })
    const store = options.store
    this.history = store ? new MetricHistory(store) : null
    this.lifecycle = store ? new LifecycleLog(store, now) : null
    this.upsertDevice = store?.db.prepare(`
      INSERT INTO fleet_devices (key, group_id, edge_node_id, device_id, first_seen, last_seen, firmware, birth_at, bd_seq, birth)
      VALUES (@key, @group, @node, @device, @at, @at, @firmware, @at, @bdSeq, @birth)
      ON CONFLICT (key) DO UPDATE SET last_seen = excluded.last_seen, birth_at = excluded.birth_at, bd_seq = excluded.bd_seq,
        birth = excluded.birth, firmware = CASE WHEN excluded.firmware = '' THEN firmware ELSE excluded.firmware END`)
    this.touchDevice = store?.db.prepare('UPDATE fleet_devices SET last_seen = ? WHERE key = ?')
    if (store) this.restore(store, now)
    this.timer = setInterval(() => this.tick(), 250)
  }

  /** Messages and metric updates the host state has taken in since start (for the ingest benchmark). */
  get stats(): Readonly<HostStats> {
    return this.host.stats
  }

  /** One MQTT message under spBv1.0/. */
  receive(topic: string, bytes: Uint8Array): void {
    const now = this.options.now()
    let payload
    try {
      payload = decodePayload(bytes)
    } catch (error) {
      if (!(error instanceof SparkplugDecodeError)) throw error
      this.decodeError(topic, error.message, now)
      return
    }
    if (topic.includes('BIRTH/')) this.rememberProperties(topic, payload.metrics)
    this.host.receive(topic, payload, now)
    this.apply(this.host.takeEffects())
  }

  tick(): void {
    const now = this.options.now()
    this.host.tick(now)
    this.apply(this.host.takeEffects())
    for (const [key, due] of this.deferred) {
      if (due > now) continue
      this.deferred.delete(key)
      this.dirty.add(key)
    }
    for (const key of this.dirty) this.pushRow(key, now)
    this.dirty.clear()
    if (now - this.lastFlush >= 1000) {
      this.lastFlush = now
      this.history?.flush()
    }
    if (now - this.lastPrune >= 10 * 60_000) {
      this.lastPrune = now
      this.history?.prune(now)
      this.persistLastSeen()
    }
  }

  /** Every edge node the host knows, as an update rollout selects and plans them. */
  edgeNodes(): IterableIterator<EdgeNodeView> {
    return this.host.edgeNodes()
  }

  /** Reboots the lifecycle log counted for this key over the last day: its own normal, for a health gate. */
  rebootsInLastDay(key: string): number {
    return this.reboots(key, this.options.now())
  }

  device(key: string): DeviceDetail {
    const expected = this.expected.get(key)
    if (expected) return { row: expected, metrics: [], birth: null, lifecycle: this.lifecycle?.list(key) ?? [], protocolErrors: [] }
    const { node, device } = this.find(key)
    const now = this.options.now()
    const target = device ?? node
    const metrics = [...target.metrics.values()].map((metric) => metricView(metric, this.properties.get(`${key}\u0000${metric.name}`)))
    const decode = this.decodeErrors.get(node.ref.key)
    return {
      row: this.rowFor(node, device, now),
      metrics: metrics.sort((a, b) => a.name.localeCompare(b.name)),
      birth: target.birthAt === null ? null : { at: target.birthAt, bdSeq: node.bdSeq === null ? null : Number(node.bdSeq), metricCount: target.metrics.size },
      lifecycle: this.lifecycle?.list(key) ?? [],
      protocolErrors: device
        ? []
        : [...node.recentProtocolErrors().map((error) => ({ at: error.at, reason: `${error.reason}: ${error.detail}` })), ...(decode?.recent ?? [])].sort((a, b) => b.at - a.at),
    }
  }

  series(key: string, metric: string, from: number, to: number, maxPoints: number): SeriesPoints {
    this.find(key)
    if (!this.history) throw new ContractFailure('UNAVAILABLE', 'The store is down, so no history is kept: see Settings → Services.')
    return this.history.query(key, metric, from, to, maxPoints, this.options.now())
  }

  /**
   * A board flashed on the bench: listed as expected until its first NBIRTH, so a board that never
   * comes online is noticed. Kept in the registry, so a restart still expects it.
   */
  expect(groupId: string, edgeNodeId: string, firmware: string, at: number): void {
    const key = `${groupId}/${edgeNodeId}`
    if (this.host.edgeNode(groupId, edgeNodeId)) return
    this.expected.set(key, { key, kind: 'node', group: groupId, node: edgeNodeId, device: '', state: 'expected', firmware, rssi: null, lastSeen: null, reboots24h: 0, protocolErrors: 0 })
    this.options.store?.writer.enqueue(() =>
      this.options.store!.db
        .prepare(`INSERT INTO fleet_devices (key, group_id, edge_node_id, device_id, first_seen, last_seen, firmware, expected) VALUES (?, ?, ?, '', ?, NULL, ?, 1) ON CONFLICT (key) DO UPDATE SET firmware = excluded.firmware, expected = 1`)
        .run(key, groupId, edgeNodeId, at, firmware),
    )
    this.lifecycle?.append(at, key, 'expected', `Flashed on the bench${firmware ? ` with ${firmware}` : ''}; expected to come online`)
    this.dirty.add(key)
  }

  /** Settings → Sparkplug host: how long a device may say nothing before it is flagged silent. */
  set silentAfterMs(ms: number) {
    this.host.silentAfterMs = ms
  }

  requestRebirth(key: string, actor: string): { requested: boolean } {
    const { node } = this.find(key)
    this.options.audit.perform({ actor, action: 'request rebirth', target: node.ref.key, detail: 'NCMD Node Control/Rebirth = true' }, () => {})
    this.host.requestRebirth(node.ref.groupId, node.ref.edgeNodeId, this.options.now())
    // Through the same throttle as automatic requests: it goes out now or at its jittered due time.
    this.tick()
    return { requested: true }
  }

  async write(key: string, metricName: string, input: number | boolean | string, actor: string): Promise<{ sent: boolean }> {
    const { node, device } = this.find(key)
    const metric = (device ?? node).metrics.get(metricName)
    if (!metric) throw new ContractFailure('NOT_FOUND', `${key} has no metric "${metricName}" in its birth certificate.`)
    const checked = typedWrite(metricName, metric.type, input)
    if (!checked.ok) throw new ContractFailure('INVALID_PARAMS', checked.reason)
    const now = this.options.now()
    const sent: Metric = { name: metricName, timestamp: BigInt(now), ...checked.value }
    const command = device ? deviceCommand(node.ref.groupId, node.ref.edgeNodeId, device.ref.deviceId!, [sent], now) : nodeCommand(node.ref.groupId, node.ref.edgeNodeId, [sent], now)
    const detail = `${device ? 'DCMD' : 'NCMD'} ${metricName} = ${String(input)}`
    try {
      await this.options.publish(command.topic, encodePayload(command.payload))
    } catch (error) {
      this.options.audit.note({ actor, action: 'write metric', target: key, detail: `${detail}: ${(error as Error).message}`, outcome: 'failed' })
      throw new ContractFailure('UNAVAILABLE', `Not sent: ${(error as Error).message}`)
    }
    this.options.audit.perform({ actor, action: 'write metric', target: key, detail }, () => {})
    this.lifecycle?.append(now, key, 'command', `${detail} by ${actor}`)
    return { sent: true }
  }

  /** Writes what is buffered; the registry remembers when each device was last heard. */
  dispose(): void {
    clearInterval(this.timer)
    this.history?.flush()
    this.persistLastSeen()
  }

  private apply(effects: HostEffect[]): void {
    if (effects.length === 0) return
    this.applyToFleet(effects)
    this.options.observe?.(effects)
  }

  private applyToFleet(effects: HostEffect[]): void {
    for (const effect of effects) {
      switch (effect.kind) {
        case 'data': {
          const key = effect.target.key
          this.dirty.add(key)
          if (!this.history) break
          for (let i = 0; i < effect.metrics.length; i++) {
            const metric = effect.metrics[i]!
            this.history.record(key, metric.name, metric.type, metric.timestamp, sampleValue(metric.value))
          }
          break
        }
        case 'birth':
          this.birth(effect.target.key, effect.at, effect.metrics)
          break
        case 'stale':
          this.dirty.add(effect.target.key)
          this.markDevicesDirty(effect.target.key)
          break
        case 'lifecycle':
          this.dirty.add(effect.target.key)
          this.lifecycle?.append(effect.at, effect.target.key, lifecycleKind(effect), lifecycleDetail(effect))
          break
        case 'protocol-error':
          if (effect.target) this.dirty.add(effect.target.key)
          break
        case 'publish':
          this.options.publish(effect.publish.topic, encodePayload(effect.publish.payload)).catch((error: Error) => this.options.log.warn(`Rebirth request to ${effect.target.key} not sent: ${error.message}`))
          break
      }
    }
  }

  private birth(key: string, at: number, metrics: Extract<HostEffect, { kind: 'birth' }>['metrics']): void {
    this.dirty.add(key)
    this.expected.delete(key)
    const firmware = metrics.find((metric) => metric.name === 'Properties/Firmware Version')
    const [group, node, device = ''] = key.split('/') as [string, string, string?]
    const bdSeq = device === '' ? this.host.edgeNode(group, node)?.bdSeq : null
    const definition = metrics.map((metric) => ({ name: metric.name, alias: metric.alias === null ? null : metric.alias.toString(), type: metric.type }))
    if (this.upsertDevice) {
      const row = { key, group, node, device, at, firmware: typeof firmware?.value === 'string' ? firmware.value : '', bdSeq: bdSeq === undefined || bdSeq === null ? null : Number(bdSeq), birth: JSON.stringify(definition) }
      const upsert = this.upsertDevice
      this.options.store!.writer.enqueue(() => upsert.run(row))
    }
    if (this.history) for (const metric of metrics) this.history.record(key, metric.name, metric.type, metric.timestamp, sampleValue(metric.value))
    if (device === '') this.markDevicesDirty(key)
  }

  private pushRow(key: string, now: number): void {
    const found = this.lookup(key)
    const row = found ? this.rowFor(found.node, found.device, now) : this.expected.get(key)
    if (!row) return
    const last = this.pushed.get(key)
    if (last && now - last.at < lastSeenPushMs && last.row.lastSeen !== row.lastSeen && sameFleetRow(last.row, row, { ignoreLastSeen: true })) {
      // Not now: it goes out once the interval has passed, with whatever it is then.
      if (!this.deferred.has(key)) this.deferred.set(key, last.at + lastSeenPushMs)
      return
    }
    this.deferred.delete(key)
    this.pushed.set(key, { row, at: now })
    this.options.events.set('fleet', key, row)
  }

  /** The same row for the table and the device screen: a device shows its edge node's reboots. */
  private rowFor(node: EdgeNodeView, device: DeviceView | undefined, now: number): FleetRow {
    return device ? deviceRow(node, device, this.reboots(node.ref.key, now), this.stored.get(device.ref.key)) : this.nodeRowFor(node, now)
  }

  private nodeRowFor(node: EdgeNodeView, now: number): FleetRow {
    const row = nodeRow(node, this.reboots(node.ref.key, now), this.stored.get(node.ref.key))
    const decode = this.decodeErrors.get(node.ref.key)
    return decode ? { ...row, protocolErrors: row.protocolErrors + decode.count } : row
  }

  private reboots(key: string, now: number): number {
    return this.lifecycle?.rebootsInLastDay(key, now) ?? 0
  }

  private markDevicesDirty(nodeKey: string): void {
    const found = this.lookup(nodeKey)
    if (found) for (const device of found.node.devices.values()) this.dirty.add(device.ref.key)
  }

  /** An edge node (`group/edge`) or a device (`group/edge/device`) by its key, if the host knows it. */
  private lookup(key: string): { node: EdgeNodeView; device: DeviceView | undefined } | null {
    const [group, nodeId, deviceId] = key.split('/') as [string, string, string?]
    const node = this.host.edgeNode(group, nodeId)
    if (!node) return null
    if (deviceId === undefined) return { node, device: undefined }
    const device = node.devices.get(deviceId)
    return device ? { node, device } : null
  }

  private find(key: string) {
    const found = this.lookup(key)
    if (!found) throw new ContractFailure('NOT_FOUND', `No edge node or device ${key} is known to this console.`)
    return found
  }

  private rememberProperties(topic: string, metrics: Metric[]): void {
    const parsed = parseSparkplugTopic(topic)
    if (!parsed.ok || parsed.topic.kind === 'state') return
    const t = parsed.topic
    const key = `${t.groupId}/${t.edgeNodeId}${t.kind === 'device' ? `/${t.deviceId}` : ''}`
    for (const metric of metrics) if (metric.name && metric.properties) this.properties.set(`${key}\u0000${metric.name}`, metric.properties)
  }

  private decodeError(topic: string, reason: string, now: number): void {
    const parsed = parseSparkplugTopic(topic)
    if (!parsed.ok || parsed.topic.kind === 'state') return
    const { groupId, edgeNodeId } = parsed.topic
    const nodeKey = `${groupId}/${edgeNodeId}`
    let entry = this.decodeErrors.get(nodeKey)
    if (!entry) this.decodeErrors.set(nodeKey, (entry = { count: 0, recent: [], loggedAt: -Infinity }))
    entry.count++
    entry.recent.unshift({ at: now, reason: `malformed payload on ${topic}: ${reason}` })
    if (entry.recent.length > 20) entry.recent.pop()
    if (now - entry.loggedAt >= protocolErrorLogIntervalMs) {
      entry.loggedAt = now
      this.lifecycle?.append(now, nodeKey, 'protocol-error', `Malformed payload on ${topic}: ${reason}`)
    }
    if (this.host.edgeNode(groupId, edgeNodeId)) this.dirty.add(nodeKey)
  }

  private restore(store: OpenStore, now: number): void {
    const rows = store.db.prepare('SELECT key, group_id, edge_node_id, device_id, last_seen, firmware, bd_seq, birth FROM fleet_devices WHERE birth IS NOT NULL').all() as {
      key: string
      group_id: string
      edge_node_id: string
      device_id: string
      last_seen: number | null
      firmware: string
      bd_seq: number | null
      birth: string
    }[]
    const nodes = new Map<string, RestoredEdgeNode>()
    const definitions = (text: string) => {
      try {
        return (JSON.parse(text) as { name: string; alias: string | null; type: RestoredEdgeNode['metrics'][number]['type'] }[]).map((m) => ({ name: m.name, alias: m.alias === null ? null : BigInt(m.alias), type: m.type }))
      } catch {
        return []
      }
    }
    for (const row of rows.filter((r) => r.device_id === '')) {
      nodes.set(row.key, { groupId: row.group_id, edgeNodeId: row.edge_node_id, bdSeq: row.bd_seq === null ? null : BigInt(row.bd_seq), metrics: definitions(row.birth), devices: [] })
    }
    for (const row of rows) {
      this.stored.set(row.key, { lastSeen: row.last_seen, firmware: row.firmware })
      if (row.device_id === '') continue
      nodes.get(`${row.group_id}/${row.edge_node_id}`)?.devices!.push({ deviceId: row.device_id, metrics: definitions(row.birth) })
    }
    const waiting = store.db.prepare(`SELECT key, group_id, edge_node_id, firmware FROM fleet_devices WHERE birth IS NULL AND expected = 1`).all() as { key: string; group_id: string; edge_node_id: string; firmware: string }[]
    for (const row of waiting) {
      this.expected.set(row.key, { key: row.key, kind: 'node', group: row.group_id, node: row.edge_node_id, device: '', state: 'expected', firmware: row.firmware, rssi: null, lastSeen: null, reboots24h: 0, protocolErrors: 0 })
      this.dirty.add(row.key)
    }
    // Everything known from before is STALE until its birth arrives; data before that asks for a rebirth.
    this.host.restore(nodes.values(), now)
    for (const row of rows) this.dirty.add(row.key)
  }

  private persistLastSeen(): void {
    const touch = this.touchDevice
    if (!touch || !this.options.store) return
    const seen: [number, string][] = []
    for (const node of this.host.edgeNodes()) {
      if (node.status === 'online') seen.push([node.lastHeardAt, node.ref.key])
      for (const device of node.devices.values()) if (device.status === 'online') seen.push([device.lastHeardAt, device.ref.key])
    }
    this.options.store.writer.enqueue(() => {
      for (const [at, key] of seen) touch.run(at, key)
    })
  }
}

function lifecycleKind(effect: Extract<HostEffect, { kind: 'lifecycle' }>): string {
  switch (effect.event) {
    case 'reboot-detected':
      return 'reboot'
    case 'death-ignored':
      return 'protocol-error'
    default:
      return effect.event
  }
}

function lifecycleDetail(effect: Extract<HostEffect, { kind: 'lifecycle' }>): string {
  switch (effect.event) {
    case 'online':
      return effect.birth === 'first' ? `Born${effect.bdSeq !== null ? ` (bdSeq ${effect.bdSeq})` : ''}` : effect.birth === 'rebirth' ? 'Rebirth' : `New session${effect.bdSeq !== null ? ` (bdSeq ${effect.bdSeq})` : ''}`
    case 'offline':
      return { death: 'Death certificate', 'node-death': 'Its edge node died', 'node-birth': 'Its edge node was reborn', 'session-lost': 'Session ended without a death (broker restart?)' }[effect.reason]
    case 'death-ignored':
      return `Ignored a death from an old session (bdSeq ${effect.bdSeq}, current ${effect.sessionBdSeq})`
    case 'reboot-detected':
      return `Rebooted: bdSeq restarted from ${effect.previousBdSeq} to ${effect.bdSeq}`
    case 'silent':
      return `Nothing heard since ${new Date(effect.lastHeardAt).toISOString()}, and no death`
    case 'heard-again':
      return `Heard again after ${Math.round(effect.silentForMs / 1000)} s of silence`
    case 'rebirth-requested':
      return `Rebirth requested: ${effect.reason}`
  }
}

const lastSeenPushMs = 5000
