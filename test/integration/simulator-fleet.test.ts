// The virtual fleet against real brokers, watched by a plain MQTT subscriber that decodes what arrives.
// Assertions cite the Sparkplug TCK ids (fixtures/sparkplug/spec_tck_assertions.tsv) they check.
import mqtt, { type MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import type { Metric, Payload } from '../../shared/domain/sparkplug/payload'
import { decodePayload, encodePayload, SparkplugDecodeError } from '../../shared/wire/sparkplug'
import { createManualClock } from '../../simulator/fleet/clock'
import { startVirtualFleet, type VirtualFleet, type VirtualFleetOptions } from '../../simulator/fleet/fleet'
import { haveMosquitto, startAedes, startMosquitto, type TestBroker } from '../support/brokers'

interface Seen {
  index: number
  topic: string
  kind: string
  edgeNodeId: string
  deviceId?: string
  /** null when the bytes did not decode (or the topic is STATE). */
  payload: Payload | null
  decodeError?: Error
}

/** A Sparkplug-unaware subscriber on spBv1.0/#: every message, decoded, in arrival order. */
class Spy {
  readonly seen: Seen[] = []
  private waiters: { from: number; match: (seen: Seen) => boolean; resolve: (seen: Seen) => void }[] = []

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, bytes) => {
      const [, , kind = '', edgeNodeId = '', deviceId] = topic.split('/')
      const seen: Seen = { index: this.seen.length, topic, kind, edgeNodeId, payload: null, ...(deviceId ? { deviceId } : {}) }
      if (kind !== 'STATE' && edgeNodeId !== '') {
        try {
          seen.payload = decodePayload(bytes)
        } catch (error) {
          seen.decodeError = error as Error
        }
      }
      this.seen.push(seen)
      for (const waiter of [...this.waiters]) {
        if (seen.index >= waiter.from && waiter.match(seen)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          waiter.resolve(seen)
        }
      }
    })
  }

  static async connect(url: string): Promise<Spy> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
    const spy = new Spy(client)
    await client.subscribeAsync('spBv1.0/#', { qos: 1 })
    return spy
  }

  get mark(): number {
    return this.seen.length
  }

  /** The first message at or after `from` that matches, already here or still to come. */
  next(match: (seen: Seen) => boolean, from = 0, timeoutMs = 8000): Promise<Seen> {
    const found = this.seen.find((seen) => seen.index >= from && match(seen))
    if (found) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms (${this.seen.length} seen)`)), timeoutMs)
      this.waiters.push({
        from,
        match,
        resolve: (seen) => {
          clearTimeout(timer)
          resolve(seen)
        },
      })
    })
  }

  /** Messages of one edge node (N and D), from `from` on. */
  ofNode(edgeNodeId: string, from = 0): Seen[] {
    return this.seen.slice(from).filter((seen) => seen.edgeNodeId === edgeNodeId)
  }

  close(): Promise<void> {
    return this.client.endAsync()
  }
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(options: Partial<VirtualFleetOptions> = {}, broker?: TestBroker): Promise<{ broker: TestBroker; spy: Spy; fleet: VirtualFleet }> {
  if (!broker) {
    broker = await startAedes()
    cleanups.push(() => broker!.close())
  }
  const spy = await Spy.connect(broker.url)
  cleanups.push(() => spy.close())
  const fleet = await startVirtualFleet({ brokerUrl: broker.url, groupId: 'Test', seed: 7, reconnectDelayMs: 100, bootDelayMs: 150, ...options })
  cleanups.push(() => fleet.stop())
  return { broker, spy, fleet }
}

const is = (kind: string, edgeNodeId?: string, deviceId?: string) => (seen: Seen) =>
  seen.kind === kind && (edgeNodeId === undefined || seen.edgeNodeId === edgeNodeId) && (deviceId === undefined || seen.deviceId === deviceId)

const metricNamed = (payload: Payload | null, name: string): Metric | undefined => payload?.metrics.find((metric) => metric.name === name)
const seqOf = (seen: Seen) => Number(seen.payload?.seq)
const bdSeqOf = (seen: Seen) => metricNamed(seen.payload, 'bdSeq')?.value
const command = (metrics: Metric[]) => Buffer.from(encodePayload({ timestamp: BigInt(Date.now()), metrics }))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(20)
  }
}

describe('virtual fleet on aedes', () => {
  it('births before data, one seq across N and D messages that wraps at 256, and data by alias only', async () => {
    const { spy, fleet } = await setup({ nodes: 2, devicesPerNode: 3, rateHz: 40, diagnosticsIntervalMs: 200 })
    const node = fleet.nodes[0]!.edgeNodeId
    await until(() => spy.ofNode(node).length >= 320)
    const messages = spy.ofNode(node)

    // tck-id-topics-nbirth-seq-num, tck-id-topics-nbirth-bdseq-increment: the first session births with seq 0, bdSeq 0.
    expect(messages[0]!.kind).toBe('NBIRTH')
    expect(seqOf(messages[0]!)).toBe(0)
    expect(metricNamed(messages[0]!.payload, 'bdSeq')).toMatchObject({ type: 'Int64', value: 0n })
    // tck-id-payloads-nbirth-rebirth-req and -rebirth-name-aliases: Boolean false, no alias.
    const rebirth = metricNamed(messages[0]!.payload, 'Node Control/Rebirth')
    expect(rebirth).toMatchObject({ type: 'Boolean', value: false })
    expect(rebirth?.alias).toBeUndefined()
    // tck-id-topics-dbirth-seq: each device births right after, before any data.
    expect(messages.slice(1, 4).map((seen) => [seen.kind, seen.deviceId])).toEqual(fleet.nodes[0]!.deviceIds.map((id) => ['DBIRTH', id]))

    // tck-id-payloads-sequence-num-incrementing: +1 on every message from the node, 255 then 0.
    const seqs = messages.map(seqOf)
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `message ${i} of ${node}`).toBe((seqs[i - 1]! + 1) % 256)
    expect(seqs.filter((seq) => seq === 0).length).toBeGreaterThanOrEqual(2)
    expect(messages.some((seen) => seen.kind === 'NDATA')).toBe(true)

    // tck-id-payloads-alias-birth-requirement, -alias-uniqueness, -alias-data-cmd-requirement.
    const births = messages.filter((seen) => seen.kind.endsWith('BIRTH'))
    const byAlias = new Map<bigint, Metric>()
    for (const birth of births) {
      for (const metric of birth.payload!.metrics) {
        expect(metric.name, 'every birth metric has a name').toBeTruthy()
        if (metric.name === 'Node Control/Rebirth') continue
        expect(metric.alias, metric.name).toBeDefined()
        expect(byAlias.has(metric.alias!), `alias ${metric.alias} unique`).toBe(false)
        byAlias.set(metric.alias!, metric)
      }
    }
    for (const data of messages.filter((seen) => seen.kind.endsWith('DATA'))) {
      for (const metric of data.payload!.metrics) {
        expect(metric.name).toBeUndefined()
        const born = byAlias.get(metric.alias!)
        expect(born, `alias ${metric.alias} was born`).toBeDefined()
        expect(metric.type).toBe(born!.type)
      }
    }
    const temperature = births.find((seen) => seen.kind === 'DBIRTH')!.payload!.metrics.find((metric) => metric.name === 'Sensors/Temperature')!
    expect(temperature.type).toBe('Float')
    expect(temperature.properties).toEqual([{ key: 'engUnit', type: 'String', value: '°C' }])
  })

  it('answers a Rebirth NCMD with a full birth sequence and the same bdSeq', async () => {
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 2, rateHz: 10 })
    const node = fleet.nodes[0]!.edgeNodeId
    const first = await spy.next(is('NBIRTH', node))
    await spy.next(is('DDATA', node))
    const mark = spy.mark
    await spy.client.publishAsync(`spBv1.0/Test/NCMD/${node}`, command([{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }]))
    const again = await spy.next(is('NBIRTH', node), mark)
    // tck-id-operational-behavior-data-commands-rebirth-action-3
    expect(bdSeqOf(again)).toBe(bdSeqOf(first))
    expect(seqOf(again)).toBe(0)
    const after = spy.ofNode(node, again.index)
    await until(() => spy.ofNode(node, again.index).length >= 3)
    expect(spy.ofNode(node, again.index).slice(1, 3).map((seen) => [seen.kind, seqOf(seen)])).toEqual([
      ['DBIRTH', 1],
      ['DBIRTH', 2],
    ])
    expect(after[0]).toBe(again)
    expect(fleet.counters().rebirths).toBe(1)
  })

  it('a dropped link yields the Will NDEATH with that session’s bdSeq, then NBIRTH with bdSeq + 1', async () => {
    const { spy, fleet } = await setup({ nodes: 2, devicesPerNode: 1, rateHz: 5 })
    const node = fleet.nodes[1]!
    const birth = await spy.next(is('NBIRTH', node.edgeNodeId))
    const mark = spy.mark
    fleet.inject(node.edgeNodeId, { kind: 'drop', cause: 'WIFI_REASON_BEACON_TIMEOUT' })
    const death = await spy.next(is('NDEATH', node.edgeNodeId), mark)
    // tck-id-payloads-ndeath-bdseq, tck-id-payloads-ndeath-seq: the Will carries bdSeq only, no seq.
    expect(death.payload!.metrics).toEqual([expect.objectContaining({ name: 'bdSeq', type: 'Int64', value: bdSeqOf(birth) })])
    expect(death.payload!.seq).toBeUndefined()
    const rebirth = await spy.next(is('NBIRTH', node.edgeNodeId), death.index)
    expect(bdSeqOf(rebirth)).toBe(BigInt(bdSeqOf(birth) as bigint) + 1n)
    expect(metricNamed(rebirth.payload, 'Diagnostics/Disconnect Cause')?.value).toBe('WIFI_REASON_BEACON_TIMEOUT')
    expect(metricNamed(rebirth.payload, 'Diagnostics/Reconnect Attempts')?.value).toBe(1)
    expect(metricNamed(rebirth.payload, 'Diagnostics/Reboot Reason')?.value).toBe('ESP_RST_POWERON')
    // The other node never noticed.
    expect(spy.seen.filter(is('NDEATH', fleet.nodes[0]!.edgeNodeId))).toHaveLength(0)
  })

  it('a gap fault skips exactly one seq; a reorder fault swaps two messages', async () => {
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 2, rateHz: 20, diagnosticsIntervalMs: 0 })
    const node = fleet.nodes[0]!.edgeNodeId
    await spy.next(is('DDATA', node))
    // Steps between consecutive seqs, starting from the node's last message before `mark`.
    const steps = (mark: number) => {
      const previous = spy.ofNode(node).filter((seen) => seen.index < mark).at(-1)!
      const seqs = [previous, ...spy.ofNode(node, mark)].map(seqOf)
      return seqs.slice(1).map((seq, i) => (seq - seqs[i]! + 256) % 256)
    }
    let mark = spy.mark
    fleet.inject(0, { kind: 'gap' })
    await until(() => spy.ofNode(node, mark).length >= 6)
    expect(steps(mark).filter((step) => step !== 1)).toEqual([2])

    mark = spy.mark
    fleet.inject(0, { kind: 'reorder' })
    await until(() => spy.ofNode(node, mark).length >= 6)
    // n, n+2, n+1, n+3: out of order once, nothing lost.
    expect(
      steps(mark)
        .filter((step) => step !== 1)
        .sort(),
    ).toEqual([2, 2, 255])
    expect(fleet.counters()).toMatchObject({ gaps: 1, reorders: 1 })
  })

  it('a malformed fault sends bytes on a DDATA topic that the codec refuses', async () => {
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 2, rateHz: 2 })
    const node = fleet.nodes[0]!
    await spy.next(is('DBIRTH', node.edgeNodeId))
    for (let i = 0; i < 6; i++) node.inject({ kind: 'malformed', deviceId: 'Sensor02' })
    await until(() => spy.seen.filter((seen) => seen.decodeError).length >= 6)
    const bad = spy.seen.filter((seen) => seen.decodeError)
    expect(bad.every((seen) => seen.topic === `spBv1.0/Test/DDATA/${node.edgeNodeId}/Sensor02`)).toBe(true)
    expect(bad.every((seen) => seen.decodeError instanceof SparkplugDecodeError)).toBe(true)
    expect(fleet.counters().malformed).toBe(6)
  })

  it('a software reboot dies cleanly and a crash leaves a core dump summary in the next NBIRTH', async () => {
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 1, rateHz: 5 })
    const node = fleet.nodes[0]!.edgeNodeId
    const birth = await spy.next(is('NBIRTH', node))
    expect(metricNamed(birth.payload, 'Diagnostics/Core Dump Present')?.value).toBe(false)
    expect(metricNamed(birth.payload, 'Diagnostics/Crash Task')).toBeUndefined()

    let mark = spy.mark
    await spy.client.publishAsync(`spBv1.0/Test/NCMD/${node}`, command([{ alias: 2n, type: 'Boolean', value: true }]))
    const death = await spy.next(is('NDEATH', node), mark)
    expect(bdSeqOf(death)).toBe(0n)
    const afterReboot = await spy.next(is('NBIRTH', node), death.index)
    expect(bdSeqOf(afterReboot)).toBe(1n)
    expect(metricNamed(afterReboot.payload, 'Diagnostics/Reboot Reason')?.value).toBe('ESP_RST_SW')
    expect(metricNamed(afterReboot.payload, 'Diagnostics/Uptime')?.value).toBe(0n)

    mark = spy.mark
    fleet.inject(0, { kind: 'crash', task: 'sensor_task', pc: 0x400d2f3c })
    const willDeath = await spy.next(is('NDEATH', node), mark)
    expect(bdSeqOf(willDeath)).toBe(1n)
    const afterCrash = await spy.next(is('NBIRTH', node), willDeath.index)
    expect(bdSeqOf(afterCrash)).toBe(2n)
    expect(metricNamed(afterCrash.payload, 'Diagnostics/Reboot Reason')?.value).toBe('ESP_RST_PANIC')
    expect(metricNamed(afterCrash.payload, 'Diagnostics/Core Dump Present')?.value).toBe(true)
    expect(metricNamed(afterCrash.payload, 'Diagnostics/Crash Task')).toMatchObject({ type: 'String', value: 'sensor_task' })
    expect(metricNamed(afterCrash.payload, 'Diagnostics/Crash PC')).toMatchObject({ type: 'UInt32', value: 0x400d2f3c, alias: 16n })
  })

  it('echoes a relay write in DDATA and ignores what is not writable', async () => {
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 2, rateHz: 1 })
    const node = fleet.nodes[0]!.edgeNodeId
    const dbirth = await spy.next(is('DBIRTH', node, 'Sensor02'))
    const relay = metricNamed(dbirth.payload, 'Outputs/Relay')!
    expect(relay.alias).toBe(204n)
    const mark = spy.mark
    await spy.client.publishAsync(`spBv1.0/Test/DCMD/${node}/Sensor02`, command([{ alias: 204n, type: 'Boolean', value: !relay.value }]))
    const echo = await spy.next((seen) => is('DDATA', node, 'Sensor02')(seen) && seen.payload!.metrics.some((metric) => metric.alias === 204n), mark)
    expect(echo.payload!.metrics.find((metric) => metric.alias === 204n)?.value).toBe(!relay.value)
    await spy.client.publishAsync(`spBv1.0/Test/DCMD/${node}/Sensor02`, command([{ name: 'Sensors/Temperature', type: 'Float', value: 99 }]))
    await until(() => fleet.counters().badCommands === 1)
  })

  it('the temperature climbs while a door is open and relaxes after (manual clock)', async () => {
    const clock = createManualClock()
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 1, rateHz: 1, humidity: false, diagnosticsIntervalMs: 0, doorOpensPerHour: 0, clock })
    const node = fleet.nodes[0]!
    await spy.next(is('DBIRTH', node.edgeNodeId))
    const temperatures = async (seconds: number): Promise<number[]> => {
      const mark = spy.mark
      for (let i = 0; i < seconds; i++) clock.advance(1000)
      await until(() => spy.ofNode(node.edgeNodeId, mark).filter((seen) => seen.kind === 'DDATA').length >= seconds)
      return spy
        .ofNode(node.edgeNodeId, mark)
        .flatMap((seen) => seen.payload!.metrics.filter((metric) => metric.alias === 101n).map((metric) => metric.value as number))
    }
    const before = await temperatures(10)
    const baseline = before.reduce((sum, value) => sum + value, 0) / before.length
    const mark = spy.mark
    node.setDoor('Sensor01', true)
    const opened = await spy.next(is('DDATA', node.edgeNodeId), mark)
    expect(opened.payload!.metrics).toEqual([expect.objectContaining({ alias: 103n, type: 'Boolean', value: true })])
    const open = await temperatures(30)
    expect(Math.max(...open) - baseline).toBeGreaterThan(4)
    node.setDoor('Sensor01', false)
    const closed = await temperatures(180)
    expect(closed.at(-1)! - baseline).toBeLessThan(1)
    expect(closed.at(-1)!).toBeLessThan(Math.max(...open) - 3)
    // Timestamps come from the manual clock (the last sample fell inside the last second advanced).
    const last = Number(spy.ofNode(node.edgeNodeId).at(-1)!.payload!.timestamp)
    expect(last).toBeLessThanOrEqual(clock.now())
    expect(last).toBeGreaterThan(clock.now() - 1000)
  })

  it('waits for the primary host STATE before birth, dies when it goes offline and births again when it returns', async () => {
    const broker = await startAedes()
    cleanups.push(() => broker.close())
    const host = await mqtt.connectAsync(broker.url, { protocolVersion: 4 })
    cleanups.push(() => host.endAsync())
    const { spy, fleet } = await setup({ nodes: 2, devicesPerNode: 1, rateHz: 5, hostId: 'scada-1' }, broker)
    await sleep(300)
    // tck-id-operational-behavior-edge-node-birth-sequence-wait
    expect(spy.seen.filter((seen) => seen.kind === 'NBIRTH')).toHaveLength(0)
    expect(fleet.nodes.every((node) => node.state === 'waiting-for-host')).toBe(true)

    const t0 = Date.now()
    await host.publishAsync('spBv1.0/STATE/scada-1', JSON.stringify({ online: true, timestamp: t0 }), { qos: 1, retain: true })
    const births = await Promise.all(fleet.nodes.map((node) => spy.next(is('NBIRTH', node.edgeNodeId))))
    expect(births.map(bdSeqOf)).toEqual([0n, 0n])

    // An offline STATE older than the online one is history (…-termination-host-offline-timestamp).
    await host.publishAsync('spBv1.0/STATE/scada-1', JSON.stringify({ online: false, timestamp: t0 - 1 }), { qos: 1, retain: false })
    await sleep(200)
    expect(spy.seen.filter((seen) => seen.kind === 'NDEATH')).toHaveLength(0)

    let mark = spy.mark
    await host.publishAsync('spBv1.0/STATE/scada-1', JSON.stringify({ online: false, timestamp: t0 + 1 }), { qos: 1, retain: true })
    // tck-id-message-flow-edge-node-birth-publish-phid-offline: NDEATH, disconnect, no birth while it is away.
    const deaths = await Promise.all(fleet.nodes.map((node) => spy.next(is('NDEATH', node.edgeNodeId), mark)))
    expect(deaths.map(bdSeqOf)).toEqual([0n, 0n])
    await until(() => fleet.nodes.every((node) => node.state === 'waiting-for-host'))
    expect(spy.seen.slice(mark).filter((seen) => seen.kind === 'NBIRTH')).toHaveLength(0)

    mark = spy.mark
    await host.publishAsync('spBv1.0/STATE/scada-1', JSON.stringify({ online: true, timestamp: t0 + 2 }), { qos: 1, retain: true })
    const again = await Promise.all(fleet.nodes.map((node) => spy.next(is('NBIRTH', node.edgeNodeId), mark)))
    expect(again.map(bdSeqOf)).toEqual([1n, 1n])
    expect(metricNamed(again[0]!.payload, 'Diagnostics/Disconnect Cause')?.value).toBe('SPARKPLUG_HOST_OFFLINE')

    // A new host session whose offline STATE never arrived: the nodes birth again in the same MQTT session.
    mark = spy.mark
    await host.publishAsync('spBv1.0/STATE/scada-1', JSON.stringify({ online: true, timestamp: t0 + 3 }), { qos: 1, retain: true })
    const reborn = await Promise.all(fleet.nodes.map((node) => spy.next(is('NBIRTH', node.edgeNodeId), mark)))
    expect(reborn.map(bdSeqOf)).toEqual([1n, 1n])
    expect(spy.seen.slice(mark).filter((seen) => seen.kind === 'NDEATH')).toHaveLength(0)
  })

  it('skews timestamps, goes silent without disconnecting, and resumes with the next seq', async () => {
    const { spy, fleet } = await setup({ nodes: 1, devicesPerNode: 1, rateHz: 20, diagnosticsIntervalMs: 0 })
    const node = fleet.nodes[0]!
    await spy.next(is('DDATA', node.edgeNodeId))
    let mark = spy.mark
    node.inject({ kind: 'skew', ms: 30_000 })
    const skewed = await spy.next((seen) => is('DDATA', node.edgeNodeId)(seen) && Number(seen.payload!.timestamp) > Date.now() + 20_000, mark)
    expect(Number(skewed.payload!.timestamp) - Date.now()).toBeGreaterThan(29_000)

    node.inject({ kind: 'silence' })
    await sleep(100)
    mark = spy.mark
    const lastSeq = seqOf(spy.ofNode(node.edgeNodeId).at(-1)!)
    await sleep(500)
    expect(spy.ofNode(node.edgeNodeId, mark)).toHaveLength(0)
    expect(node.state).toBe('online')
    node.inject({ kind: 'resume' })
    const resumed = await spy.next(is('DDATA', node.edgeNodeId), mark)
    expect(seqOf(resumed)).toBe((lastSeq + 1) % 256)
  })

  it('burst mode publishes as fast as the socket drains, with bounded messages in flight', async () => {
    const { spy, fleet } = await setup({ nodes: 2, devicesPerNode: 4, burst: { maxInFlight: 16 }, diagnosticsIntervalMs: 0, doorOpensPerHour: 0 })
    await until(() => fleet.counters().DDATA > 3000, 10_000)
    await fleet.stop()
    const counters = fleet.counters()
    await until(() => spy.seen.filter((seen) => seen.kind === 'NDEATH').length === 2)
    // Nothing lost on the way, and each node's seq still runs one by one.
    expect(spy.seen.filter((seen) => seen.kind === 'DDATA')).toHaveLength(counters.DDATA)
    const seqs = spy.ofNode(fleet.nodes[0]!.edgeNodeId).filter((seen) => seen.kind !== 'NDEATH').map(seqOf)
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1]! + 1) % 256)
    expect(counters.metrics).toBe(counters.DDATA * 2)
  })

  it('the same seed gives the same fleet', async () => {
    const broker = await startAedes()
    cleanups.push(() => broker.close())
    const births = async (seed: number, group: string) => {
      const spy = await Spy.connect(broker.url)
      cleanups.push(() => spy.close())
      const clock = createManualClock(Date.UTC(2025, 5, 1))
      const fleet = await startVirtualFleet({ brokerUrl: broker.url, groupId: group, nodes: 3, devicesPerNode: 2, seed, clock })
      cleanups.push(() => fleet.stop())
      await until(() => spy.seen.filter((seen) => seen.kind.endsWith('BIRTH')).length === 9)
      const strip = (seen: Seen) => [seen.edgeNodeId, seen.deviceId, seen.payload!.metrics.map((metric) => [metric.name, metric.value])]
      return spy.seen.filter((seen) => seen.kind.endsWith('BIRTH')).map(strip).sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])))
    }
    const a = await births(42, 'A')
    const b = await births(42, 'B')
    const c = await births(43, 'C')
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
  })
})

describe.skipIf(!haveMosquitto)('virtual fleet on Debian mosquitto', () => {
  it('births, data, and the Will NDEATH after a dropped link', async () => {
    const broker = await startMosquitto()
    cleanups.push(() => broker.close())
    const { spy, fleet } = await setup({ nodes: 3, devicesPerNode: 2, rateHz: 10 }, broker)
    const births = await Promise.all(fleet.nodes.map((node) => spy.next(is('NBIRTH', node.edgeNodeId))))
    expect(births.map(bdSeqOf)).toEqual([0n, 0n, 0n])
    await Promise.all(fleet.nodes.map((node) => spy.next(is('DDATA', node.edgeNodeId))))
    const mark = spy.mark
    fleet.inject(2, { kind: 'drop' })
    const death = await spy.next(is('NDEATH', fleet.nodes[2]!.edgeNodeId), mark)
    expect(bdSeqOf(death)).toBe(0n)
    const rebirth = await spy.next(is('NBIRTH', fleet.nodes[2]!.edgeNodeId), death.index)
    expect(bdSeqOf(rebirth)).toBe(1n)
    await fleet.stop()
    // A clean stop: every node says NDEATH itself before DISCONNECT.
    await until(() => spy.seen.filter((seen) => seen.kind === 'NDEATH').length === 4)
  })
})

if (!haveMosquitto) {
  describe('virtual fleet on Debian mosquitto', () => {
    it.skip('skipped: /usr/sbin/mosquitto is not installed', () => {})
  })
}
