// Eclipse Tahu's own edge node client (npm sparkplug-client 3.2.4, with its own protobuf encoder from
// sparkplug-payload) as an independent Sparkplug B peer of the console's host application: once on the
// embedded broker, once on Debian's mosquitto with the console in external mode. Nothing here shares
// code with the console's codec or the simulator, so a misreading on either side shows up.
//
// What Tahu 3.2.4 does, read from its index.js, and what these tests rely on:
// - bdSeq is always 0 (never incremented); the NBIRTH gets it appended as UInt64, the Will carries the same.
// - The Will NDEATH is QoS 0 (the spec asks for 1: tck-id-payloads-ndeath-will-message-qos, Tahu's to keep).
// - stop() publishes an NDEATH only with `publishDeath: true`; otherwise it sends a plain DISCONNECT,
//   the broker drops the Will, and no host can learn of the death.
// - Every message is QoS 0; payload timestamps are whatever the caller puts in.
// - On every (re)connect it emits 'birth' and leaves the births to the application.
import { mkdtempSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newClient, type UPayload } from 'sparkplug-client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import type { DeviceDetail, FleetRow, MetricView, StreamDiff } from '../../shared/contract'
import { haveMosquitto, startMosquitto, type TestBroker } from '../support/brokers'
import { until } from '../support/until'

const operator = { actor: 'ada', via: 'local' } as const
const group = 'TahuPlant'
const edge = 'tahu-edge-1'
const nodeKey = `${group}/${edge}`
const sensorKey = `${nodeKey}/Sensor01`
const gaugeKey = `${nodeKey}/Sensor02`

type SparkplugClient = ReturnType<typeof newClient>
type TahuMetric = NonNullable<UPayload['metrics']>[number]
/** What sparkplug-client keeps private but a test needs: its mqtt.js (v4) client and the socket under it. */
type TahuInternals = { client: { stream: Socket; end(force: boolean, callback: () => void): void } }


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A Tahu edge node with two devices, answering births and Rebirth requests the way an application must. */
class TahuNode {
  readonly client: SparkplugClient
  /** When the constructor returned: the Will (and its timestamp) was built before this. */
  readonly constructedAt: number
  births = 0
  firmware = 'tahu-3.2.4'
  readonly ncmds: UPayload[] = []
  readonly dcmds: { device: string; payload: UPayload }[] = []

  constructor(url: string, options: { publishDeath?: boolean } = {}) {
    this.client = newClient({
      serverUrl: url,
      username: '',
      password: '',
      groupId: group,
      edgeNode: edge,
      clientId: `tahu-${Math.random().toString(16).slice(2, 10)}`,
      version: 'spBv1.0',
      publishDeath: options.publishDeath ?? false,
      // A dropped socket must stay dropped: a reconnect would publish new births over the death under test.
      mqttOptions: { reconnectPeriod: 0 },
    })
    this.constructedAt = Date.now()
    this.client.on('birth', () => this.publishBirths())
    this.client.on('ncmd', (payload) => {
      this.ncmds.push(payload)
      // tck-id-operational-behavior-data-commands-rebirth-action-2 is the edge node's job: a full birth sequence.
      if (payload.metrics?.some((metric) => metric.name === 'Node Control/Rebirth' && metric.value === true)) this.publishBirths()
    })
    this.client.on('dcmd', (device, payload) => this.dcmds.push({ device, payload }))
  }

  publishBirths(): void {
    const now = Date.now()
    this.births++
    // Tahu appends bdSeq to the metrics and sets seq on the object it is given: fresh objects every time.
    this.client.publishNodeBirth({
      timestamp: now,
      metrics: [
        { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
        { name: 'Properties/Firmware Version', type: 'String', value: this.firmware },
        { name: 'Diagnostics/RSSI', type: 'Int32', value: -61 },
        { name: 'Diagnostics/Uptime', type: 'UInt64', value: 86_400_123 },
        { name: 'Counters/Offset', type: 'Int64', value: -5 },
        { name: 'Supply/Voltage', type: 'Double', value: 23.875 },
      ],
    })
    this.client.publishDeviceBirth('Sensor01', {
      timestamp: now,
      metrics: [
        { name: 'Sensors/Temperature', alias: 101, type: 'Float', value: 21.5, properties: { engUnit: { type: 'String', value: '°C' } } },
        { name: 'Outputs/Relay', alias: 102, type: 'Boolean', value: false },
        { name: 'Counters/Cycles', alias: 103, type: 'UInt32', value: 7 },
        { name: 'Status/Label', alias: 104, type: 'String', value: 'line 3' },
      ],
    })
    this.client.publishDeviceBirth('Sensor02', {
      timestamp: now,
      metrics: [{ name: 'Sensors/Pressure', type: 'Float', value: 1.5, properties: { engUnit: { type: 'String', value: 'bar' } } }],
    })
  }

  data(metrics: TahuMetric[]): void {
    this.client.publishNodeData({ timestamp: Date.now(), metrics })
  }

  deviceData(device: string, metrics: TahuMetric[]): void {
    this.client.publishDeviceData(device, { timestamp: Date.now(), metrics })
  }

  /** The process dies or the link is cut: no NDEATH, no DISCONNECT, the broker must send the Will. */
  dropConnection(): void {
    ;(this.client as unknown as TahuInternals).client.stream.destroy()
  }

  /** Tahu's own stop(): NDEATH first when publishDeath is set, then DISCONNECT. */
  stop(): void {
    this.client.stop()
  }

  /** Cleanup: whatever state it is in, the mqtt.js client ends and frees its socket and timers. */
  close(): Promise<void> {
    const inner = (this.client as unknown as TahuInternals).client
    return new Promise((resolve) => inner.end(true, () => resolve()))
  }
}

interface BrokerUnderTest {
  label: string
  skip: boolean
  /** Points the core at a broker and resolves with the URL an edge node should use. */
  attach(core: Core, cleanups: (() => Promise<void> | void)[]): Promise<string>
}

async function brokerUp(core: Core, url?: string): Promise<void> {
  await until(
    url ? `the console on ${url}` : 'the embedded broker',
    () => {
      const state = core.health().services.broker
      return state.state === 'up' && (url === undefined || (core.broker.url === url && state.detail.includes(url)))
    },
    10_000,
  )
}

const embedded: BrokerUnderTest = {
  label: "the console's embedded broker",
  skip: false,
  async attach(core) {
    await brokerUp(core)
    const url = core.broker.url
    if (!url) throw new Error('the embedded broker reports no URL')
    return url
  },
}

const mosquitto: BrokerUnderTest = {
  label: "Debian's mosquitto, the console in external mode",
  skip: !haveMosquitto,
  async attach(core, cleanups) {
    const broker: TestBroker = await startMosquitto()
    cleanups.push(() => broker.close())
    await brokerUp(core)
    const outcome = await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: broker.url }, operator)
    if (!outcome.ok) throw new Error(outcome.error.message)
    await brokerUp(core, broker.url)
    expect(core.broker.url).toBe(broker.url)
    return broker.url
  },
}

for (const target of [embedded, mosquitto]) {
  describe.skipIf(target.skip)(`Tahu's sparkplug-client as an edge node of the console, on ${target.label}`, () => {
    let dir: string
    let core: Core
    let url: string
    let rows: Map<string, FleetRow>
    let tahu: TahuNode | null
    const cleanups: (() => Promise<void> | void)[] = []

    const device = async (key: string): Promise<DeviceDetail> => {
      const outcome = await core.dispatch('fleet.device', { key }, operator)
      if (!outcome.ok) throw new Error(outcome.error.message)
      return outcome.value as DeviceDetail
    }
    const metric = (detail: DeviceDetail, name: string): MetricView => {
      const found = detail.metrics.find((m) => m.name === name)
      if (!found) throw new Error(`${detail.row.key} has no metric "${name}"; it has ${detail.metrics.map((m) => m.name).join(', ')}`)
      return found
    }
    const startTahu = async (options: { publishDeath?: boolean } = {}): Promise<TahuNode> => {
      const peer = new TahuNode(url, options)
      tahu = peer
      await until('the Tahu node and both devices online', () => ['', '/Sensor01', '/Sensor02'].every((suffix) => rows.get(`${nodeKey}${suffix}`)?.state === 'online'))
      return peer
    }

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'console-tahu-'))
      tahu = null
      rows = new Map()
      core = createCore({ dataDir: join(dir, 'data'), host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
      core.events.subscribe((event, payload) => {
        if (event !== 'fleet') return
        const diff = payload as StreamDiff<FleetRow>
        for (const [key, row] of Object.entries(diff.set)) rows.set(key, row)
        for (const key of diff.deleted) rows.delete(key)
      })
      url = await target.attach(core, cleanups)
    })

    afterEach(async () => {
      await tahu?.close()
      // The console first, while its broker still answers: its clean stop waits for the PUBACK of its
      // STATE death, which a broker that is already gone never sends. Then the broker.
      await core.dispose()
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
      rmSync(dir, { recursive: true, force: true })
    })

    it("shows Tahu's NBIRTH and DBIRTHs: node and devices online, every metric with the name, type and value Tahu sent", async () => {
      // The console checks tck-id-topics-nbirth-bdseq-included and tck-id-topics-nbirth-rebirth-metric
      // (edge node obligations: Tahu appends bdSeq, the application adds the Rebirth metric) and would
      // count a protocol error for either; it counts none.
      await startTahu()
      expect(rows.get(nodeKey)).toMatchObject({ kind: 'node', group, node: edge, device: '', state: 'online', firmware: 'tahu-3.2.4', rssi: -61, protocolErrors: 0 })
      expect(rows.get(sensorKey)).toMatchObject({ kind: 'device', group, node: edge, device: 'Sensor01', state: 'online', firmware: 'tahu-3.2.4', rssi: -61 })

      const node = await device(nodeKey)
      // Tahu writes Int32 -61 as a uint32 varint and Int64 -5 as a two's-complement uint64: the types in
      // the birth say how to read them back.
      expect(node.metrics.map(({ name, type, value, stale }) => ({ name, type, value, stale }))).toEqual([
        { name: 'bdSeq', type: 'UInt64', value: '0', stale: false },
        { name: 'Counters/Offset', type: 'Int64', value: '-5', stale: false },
        { name: 'Diagnostics/RSSI', type: 'Int32', value: -61, stale: false },
        { name: 'Diagnostics/Uptime', type: 'UInt64', value: '86400123', stale: false },
        { name: 'Node Control/Rebirth', type: 'Boolean', value: false, stale: false },
        { name: 'Properties/Firmware Version', type: 'String', value: 'tahu-3.2.4', stale: false },
        { name: 'Supply/Voltage', type: 'Double', value: 23.875, stale: false },
      ])
      expect(node.birth).toEqual({ at: expect.any(Number), bdSeq: 0, metricCount: 7 })
      expect(metric(node, 'Node Control/Rebirth').writable).toBe(true)
      expect(node.protocolErrors).toEqual([])
      expect(node.lifecycle.find((entry) => entry.key === nodeKey)).toMatchObject({ kind: 'online', detail: 'Born (bdSeq 0)' })

      const sensor = await device(sensorKey)
      expect(sensor.metrics.map(({ name, alias, type, value, unit, stale }) => ({ name, alias, type, value, unit, stale }))).toEqual([
        // UInt32 travels in long_value from Tahu's JavaScript encoder.
        { name: 'Counters/Cycles', alias: '103', type: 'UInt32', value: 7, unit: null, stale: false },
        { name: 'Outputs/Relay', alias: '102', type: 'Boolean', value: false, unit: null, stale: false },
        { name: 'Sensors/Temperature', alias: '101', type: 'Float', value: 21.5, unit: '°C', stale: false },
        { name: 'Status/Label', alias: '104', type: 'String', value: 'line 3', unit: null, stale: false },
      ])
      expect(sensor.birth).toMatchObject({ bdSeq: 0, metricCount: 4 })
      expect(metric(await device(gaugeKey), 'Sensors/Pressure')).toMatchObject({ type: 'Float', value: 1.5, unit: 'bar', stale: false })
    })

    it('follows NDATA by name and DDATA by alias only, in the seq order Tahu numbers them', async () => {
      // Tahu's side: tck-id-payloads-alias-data-cmd-requirement, tck-id-payloads-ndata-seq-inc and
      // tck-id-payloads-ddata-seq-inc. The console's: place each value by alias or name, with no gap to repair.
      const peer = await startTahu()
      const sentAt = Date.now() - 1000
      peer.data([{ name: 'Diagnostics/RSSI', type: 'Int32', value: -70 }])
      peer.deviceData('Sensor01', [
        { alias: 101, type: 'Float', value: 23.25, timestamp: sentAt },
        { alias: 103, type: 'UInt32', value: 8 },
      ])
      peer.deviceData('Sensor02', [{ name: 'Sensors/Pressure', type: 'Float', value: 2.75 }])
      peer.data([{ name: 'Counters/Offset', type: 'Int64', value: -6 }])

      await until('the new RSSI on the row', () => rows.get(nodeKey)?.rssi === -70)
      const sensor = await until('the new temperature', async () => {
        const detail = await device(sensorKey)
        return metric(detail, 'Sensors/Temperature').value === 23.25 && detail
      })
      // The metric's own timestamp, not the time it arrived.
      expect(metric(sensor, 'Sensors/Temperature')).toMatchObject({ at: sentAt, stale: false, unit: '°C' })
      expect(metric(sensor, 'Counters/Cycles').value).toBe(8)
      expect(metric(sensor, 'Status/Label').value).toBe('line 3')
      await until('the new pressure', async () => metric(await device(gaugeKey), 'Sensors/Pressure').value === 2.75)
      await until('the new offset', async () => metric(await device(nodeKey), 'Counters/Offset').value === '-6')
      // Every message was in order and every alias known: nothing to complain about, nothing to ask.
      const node = await device(nodeKey)
      expect(node.protocolErrors).toEqual([])
      expect(node.lifecycle.filter((entry) => entry.kind === 'rebirth-requested')).toEqual([])
      expect(peer.ncmds).toEqual([])
    })

    it("takes a DDEATH: that device offline at the DDEATH's timestamp with its metrics STALE, the node and the other device still online (tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-offline, tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-tags-stale, tck-id-payloads-ddeath-seq-number)", async () => {
      const peer = await startTahu()
      // The edge node noticed the device gone two seconds before it could say so.
      const lostAt = Date.now() - 2000
      peer.client.publishDeviceDeath('Sensor02', { timestamp: lostAt })
      await until('Sensor02 offline', () => rows.get(gaugeKey)?.state === 'offline')

      const gauge = await device(gaugeKey)
      expect(gauge.metrics.length).toBe(1)
      expect(gauge.metrics.every((m) => m.stale)).toBe(true)
      expect(gauge.lifecycle.filter((entry) => entry.key === gaugeKey && entry.kind === 'offline')).toEqual([expect.objectContaining({ detail: 'Death certificate', at: lostAt })])

      expect(rows.get(nodeKey)?.state).toBe('online')
      expect(rows.get(sensorKey)?.state).toBe('online')
      expect((await device(sensorKey)).metrics.some((m) => m.stale)).toBe(false)
      expect((await device(nodeKey)).metrics.some((m) => m.stale)).toBe(false)
      // The DDEATH took its place in the seq order: data after it is applied, not held or refused.
      peer.deviceData('Sensor01', [{ alias: 101, type: 'Float', value: 19.5 }])
      await until('data after the DDEATH', async () => metric(await device(sensorKey), 'Sensors/Temperature').value === 19.5)
      expect((await device(nodeKey)).protocolErrors).toEqual([])
    })

    it("takes Tahu's NDEATH on a clean stop: node and devices offline, every metric of them STALE (tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline, -ndeath-node-tags-stale, -ndeath-devices-offline, -ndeath-devices-tags-stale)", async () => {
      const peer = await startTahu({ publishDeath: true })
      const stoppedAt = Date.now()
      peer.stop()
      await until('the node offline', () => rows.get(nodeKey)?.state === 'offline')
      await until('its devices offline', () => rows.get(sensorKey)?.state === 'offline' && rows.get(gaugeKey)?.state === 'offline')

      const node = await device(nodeKey)
      expect(node.metrics).toHaveLength(7)
      expect(node.metrics.filter((m) => !m.stale)).toEqual([])
      const sensor = await device(sensorKey)
      expect(sensor.metrics).toHaveLength(4)
      expect(sensor.metrics.filter((m) => !m.stale)).toEqual([])
      expect((await device(gaugeKey)).metrics.every((m) => m.stale)).toBe(true)
      // Host time, not a time from the edge node.
      const death = node.lifecycle.find((entry) => entry.key === nodeKey)
      expect(death).toMatchObject({ kind: 'offline', detail: 'Death certificate' })
      expect(death!.at).toBeGreaterThanOrEqual(stoppedAt)
      expect(node.lifecycle.find((entry) => entry.key === sensorKey)).toMatchObject({ kind: 'offline', detail: 'Its edge node died' })
      // The last known values stay on screen, marked STALE.
      expect(metric(sensor, 'Sensors/Temperature').value).toBe(21.5)
      expect(node.protocolErrors).toEqual([])
    })

    it("takes the Will NDEATH the broker sends when Tahu's socket dies without a DISCONNECT, matched by its bdSeq, at host time (tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline, -ndeath-node-tags-stale, -ndeath-devices-offline, -ndeath-devices-tags-stale)", async () => {
      // Tahu's side: tck-id-payloads-ndeath-will-message and tck-id-payloads-ndeath-bdseq (bdSeq 0 in the
      // Will and in the NBIRTH). The console's: accept the Will as this session's death, not a stale one.
      const peer = await startTahu()
      // The Will, and its timestamp, were fixed when the client was built; the death must be dated later.
      await sleep(20)
      const droppedAt = Date.now()
      expect(droppedAt).toBeGreaterThan(peer.constructedAt)
      peer.dropConnection()
      await until('the node offline', () => rows.get(nodeKey)?.state === 'offline')
      await until('its devices offline', () => rows.get(sensorKey)?.state === 'offline' && rows.get(gaugeKey)?.state === 'offline')

      const node = await device(nodeKey)
      expect(node.metrics.length).toBe(7)
      expect(node.metrics.every((m) => m.stale)).toBe(true)
      expect((await device(sensorKey)).metrics.every((m) => m.stale)).toBe(true)
      expect((await device(gaugeKey)).metrics.every((m) => m.stale)).toBe(true)
      const death = node.lifecycle.find((entry) => entry.key === nodeKey)
      expect(death).toMatchObject({ kind: 'offline', detail: 'Death certificate' })
      expect(death!.at).toBeGreaterThanOrEqual(droppedAt)
      // A Will whose bdSeq did not match the birth's would have been logged as ignored instead.
      expect(node.lifecycle.filter((entry) => entry.detail.startsWith('Ignored a death'))).toEqual([])
      expect(node.protocolErrors).toEqual([])
    })

    it('sends a Rebirth that Tahu receives as an NCMD, and takes the new birth sequence as a rebirth of the same session (tck-id-operational-behavior-data-commands-ncmd-rebirth-verb, -ncmd-rebirth-name, -ncmd-rebirth-value, tck-id-topics-ncmd-timestamp, tck-id-payloads-ncmd-seq)', async () => {
      const peer = await startTahu()
      expect(peer.births).toBe(1)
      peer.firmware = 'tahu-3.2.4+rebirth'
      const askedAt = Date.now()
      expect(await core.dispatch('fleet.rebirth', { key: nodeKey }, operator)).toEqual({ ok: true, value: { requested: true } })
      // The operator's request goes through the throttle's jitter (up to a second).
      await until('the NCMD at Tahu', () => peer.ncmds.length > 0, 5000)

      const ncmd = peer.ncmds[0]!
      expect(ncmd.metrics).toEqual([expect.objectContaining({ name: 'Node Control/Rebirth', type: 'Boolean', value: true })])
      expect(ncmd.seq ?? null).toBeNull()
      const timestamp = Number(ncmd.timestamp)
      expect(timestamp).toBeGreaterThanOrEqual(askedAt)
      expect(timestamp).toBeLessThanOrEqual(Date.now())

      await until('the new firmware from the new NBIRTH', () => rows.get(nodeKey)?.firmware === 'tahu-3.2.4+rebirth')
      expect(peer.births).toBe(2)
      const node = await until('the rebirth in the lifecycle', async () => {
        const detail = await device(nodeKey)
        return detail.lifecycle.some((entry) => entry.key === nodeKey && entry.kind === 'online' && entry.detail === 'Rebirth') && detail
      })
      // Same bdSeq, same connection: not a new session, not a reboot.
      expect(node.lifecycle.filter((entry) => entry.kind === 'reboot' || entry.detail.startsWith('New session'))).toEqual([])
      expect(node.birth).toMatchObject({ bdSeq: 0, metricCount: 7 })
      await until('both devices back online after their DBIRTHs', () => rows.get(sensorKey)?.state === 'online' && rows.get(gaugeKey)?.state === 'online')
      const audit = await core.dispatch('audit.list', {}, operator)
      expect(audit.ok && audit.value).toContainEqual(expect.objectContaining({ actor: 'ada', action: 'request rebirth', target: nodeKey, outcome: 'ok' }))
    })

    it('writes a device output: Tahu receives a DCMD typed as the DBIRTH said, with a timestamp and no seq (tck-id-operational-behavior-data-commands-dcmd-verb, -dcmd-metric-name, -dcmd-metric-value, tck-id-topics-dcmd-timestamp, tck-id-payloads-dcmd-seq)', async () => {
      const peer = await startTahu()
      const askedAt = Date.now()
      expect(await core.dispatch('fleet.write', { key: sensorKey, metric: 'Outputs/Relay', value: true }, operator)).toEqual({ ok: true, value: { sent: true } })
      await until('the DCMD at Tahu', () => peer.dcmds.length > 0, 5000)
      const { device: target, payload } = peer.dcmds[0]!
      expect(target).toBe('Sensor01')
      expect(payload.metrics).toEqual([expect.objectContaining({ name: 'Outputs/Relay', type: 'Boolean', value: true })])
      expect(payload.seq ?? null).toBeNull()
      const timestamp = Number(payload.timestamp)
      expect(timestamp).toBeGreaterThanOrEqual(askedAt)
      expect(timestamp).toBeLessThanOrEqual(Date.now())
      expect(peer.ncmds).toEqual([])

      // The edge node reports the output's new state; the console shows it.
      peer.deviceData('Sensor01', [{ alias: 102, type: 'Boolean', value: true }])
      await until('the relay reported on', async () => metric(await device(sensorKey), 'Outputs/Relay').value === true)
    })
  })
}
