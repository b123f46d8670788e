// The console as a Sparkplug B 3.0 Host Application: its state machine and what it publishes. Test titles
// cite the statements of shared/fixtures/sparkplug/spec_tck_assertions.tsv that they prove;
// docs/sparkplug-host-coverage.md lists every host statement and where it is proven.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  answerOwnHostState,
  deviceCommand,
  HostApplication,
  hostApplicationDefaults,
  hostStateBirth,
  hostStateDeath,
  hostStateWill,
  readHostState,
  rebirthCommand,
  TokenBucket,
  type HostApplicationOptions,
  type HostEffect,
} from '../../shared/domain'
import type { DataTypeName, Metric, Payload } from '../../shared/domain/sparkplug/payload'

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures/sparkplug')
const T0 = 1_700_000_000_000
const G = 'Plant1'
const E = 'Gateway01'
const D = 'Sensor07'

function topic(type: string, device?: string, edge = E): string {
  return device === undefined ? `spBv1.0/${G}/${type}/${edge}` : `spBv1.0/${G}/${type}/${edge}/${device}`
}

function metric(name: string | undefined, type: DataTypeName, value: unknown, alias?: number, extra: Partial<Metric> = {}): Metric {
  const m: Record<string, unknown> = { type, value, ...extra }
  if (name !== undefined) m.name = name
  if (alias !== undefined) m.alias = BigInt(alias)
  return m as Metric
}

const byAlias = (alias: number, type: DataTypeName, value: unknown) => metric(undefined, type, value, alias)

function nbirth(bdSeq: number | null, extra: Metric[] = [], seq: number | null = 0): Payload {
  const metrics: Metric[] = []
  if (bdSeq !== null) metrics.push(metric('bdSeq', 'Int64', BigInt(bdSeq)))
  metrics.push(metric('Node Control/Rebirth', 'Boolean', false), ...extra)
  return { timestamp: BigInt(T0), metrics, ...(seq === null ? {} : { seq: BigInt(seq) }) }
}

function ndeath(bdSeq: number | null): Payload {
  return { timestamp: BigInt(T0), metrics: bdSeq === null ? [] : [metric('bdSeq', 'Int64', BigInt(bdSeq))] }
}

function message(seq: number | null, metrics: Metric[] = [], timestamp = T0): Payload {
  return { timestamp: BigInt(timestamp), metrics, ...(seq === null ? {} : { seq: BigInt(seq) }) }
}

function host(options: Partial<HostApplicationOptions> = {}): HostApplication {
  return new HostApplication({ random: () => 0, ...options })
}

const nodeMetrics = () => [metric('Uptime', 'UInt64', 10n, 1), metric('Temperature', 'Float', 21.5, 2)]
const deviceMetrics = () => [metric('Inputs/A', 'Boolean', true, 10), metric('Setpoint', 'Float', 0.5, 15)]

/** NBIRTH (seq 0, bdSeq 0) and DBIRTH of Sensor07 (seq 1): the next message is seq 2. */
function born(h: HostApplication, now = T0): void {
  expect(h.receive(topic('NBIRTH'), nbirth(0, nodeMetrics()), now)).toBe('applied')
  expect(h.receive(topic('DBIRTH', D), message(1, deviceMetrics()), now)).toBe('applied')
  h.takeEffects()
}

type Of<K extends HostEffect['kind']> = Extract<HostEffect, { kind: K }>
function only<K extends HostEffect['kind']>(effects: HostEffect[], kind: K): Of<K>[] {
  return effects.filter((e): e is Of<K> => e.kind === kind)
}

/** Lifecycle effects as `key event[:reason]` lines, the form an operator's log would show. */
function lifecycle(effects: HostEffect[]): string[] {
  return only(effects, 'lifecycle').map((e) => {
    const detail = 'reason' in e ? `:${e.reason}` : 'birth' in e ? `:${e.birth}` : 'evidence' in e ? `:${e.evidence}` : ''
    return `${e.target.key} ${e.event}${detail}`
  })
}

function errors(effects: HostEffect[]): string[] {
  return only(effects, 'protocol-error').map((e) => e.error.reason)
}

function rebirthsSent(effects: HostEffect[]): string[] {
  return only(effects, 'publish').map((e) => `${e.publish.topic} ${e.reason}`)
}

function value(h: HostApplication, name: string, device?: string) {
  const metrics = device === undefined ? h.edgeNode(G, E)!.metrics : h.device(G, E, device)!.metrics
  return metrics.get(name)
}

// The fixtures are JSON encoder inputs; the host sees decoded payloads, with 64-bit quantities as bigint.
const bigintTypes = new Set(['Int64', 'UInt64', 'DateTime'])
interface FixtureMetric {
  name?: string
  alias?: number
  type: DataTypeName
  value: unknown
  timestamp?: number
}
function fixture(name: string): { topic: string; payload: Payload } {
  const json = JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')) as {
    topic: string
    encoder_input: { timestamp?: number; seq?: number; metrics?: FixtureMetric[] }
  }
  const input = json.encoder_input
  const payload: Payload = {
    metrics: (input.metrics ?? []).map((m) => {
      const converted: Record<string, unknown> = { type: m.type, value: m.value !== null && bigintTypes.has(m.type) ? BigInt(m.value as number) : m.value }
      if (m.name !== undefined) converted.name = m.name
      if (m.alias !== undefined) converted.alias = BigInt(m.alias)
      if (m.timestamp !== undefined) converted.timestamp = BigInt(m.timestamp)
      return converted as Metric
    }),
  }
  if (input.timestamp !== undefined) payload.timestamp = BigInt(input.timestamp)
  if (input.seq !== undefined) payload.seq = BigInt(input.seq)
  return { topic: json.topic, payload }
}

describe('what the host publishes', () => {
  it('describes its STATE birth as retained QoS 1 JSON on spBv1.0/STATE/<host_id>, online true, repeating the Will\'s timestamp, byte for byte the state_online fixture (tck-id-conformance-primary-host, tck-id-intro-sparkplug-host-state, tck-id-components-ph-state, tck-id-host-topic-phid-birth-topic, tck-id-host-topic-phid-birth-qos, tck-id-host-topic-phid-birth-retain, tck-id-host-topic-phid-birth-payload, tck-id-host-topic-phid-birth-payload-timestamp, tck-id-payloads-state-birth, tck-id-payloads-state-birth-payload, tck-id-message-flow-phid-sparkplug-state-publish-payload, tck-id-message-flow-phid-sparkplug-state-publish-payload-timestamp, tck-id-operational-behavior-host-application-connect-birth-topic, tck-id-operational-behavior-host-application-connect-birth-payload, tck-id-operational-behavior-host-application-connect-birth-qos, tck-id-operational-behavior-host-application-connect-birth-retained)', () => {
    const expected = JSON.parse(readFileSync(path.join(fixtures, 'state_online.json'), 'utf8')) as { topic: string; retain: boolean; qos: number; payload_utf8: string }
    const will = hostStateWill('scada-host-1', T0)
    const birth = hostStateBirth('scada-host-1', will.json.timestamp)
    expect(birth).toEqual({ topic: expected.topic, json: { online: true, timestamp: T0 }, qos: expected.qos, retain: expected.retain })
    expect(JSON.stringify(birth.json)).toBe(expected.payload_utf8)
    expect(Object.keys(birth.json)).toEqual(['online', 'timestamp'])
  })

  it('describes its Will as retained QoS 1 JSON on the same topic, online false, with a numeric UTC ms timestamp (tck-id-host-topic-phid-death-topic, tck-id-host-topic-phid-death-qos, tck-id-host-topic-phid-death-retain, tck-id-host-topic-phid-death-payload, tck-id-payloads-state-will-message, tck-id-payloads-state-will-message-qos, tck-id-payloads-state-will-message-retain, tck-id-payloads-state-will-message-payload, tck-id-operational-behavior-host-application-connect-will-topic, tck-id-operational-behavior-host-application-connect-will-payload, tck-id-operational-behavior-host-application-connect-will-qos, tck-id-operational-behavior-host-application-connect-will-retained)', () => {
    const will = hostStateWill('scada-host-1', T0)
    expect(will).toEqual({ topic: 'spBv1.0/STATE/scada-host-1', json: { online: false, timestamp: T0 }, qos: 1, retain: true })
    expect(JSON.stringify(will.json)).toBe('{"online":false,"timestamp":1700000000000}')
  })

  it('describes an intentional death as the Will itself: same topic, QoS 1, retained, online false with the CONNECT\'s timestamp (tck-id-operational-behavior-host-application-termination, tck-id-operational-behavior-host-application-death-topic, tck-id-operational-behavior-host-application-death-payload, tck-id-operational-behavior-host-application-death-qos, tck-id-operational-behavior-host-application-death-retained)', () => {
    expect(hostStateDeath('scada-host-1', T0)).toEqual(hostStateWill('scada-host-1', T0))
  })

  it('republishes its birth, with the Will\'s timestamp, when its own STATE says offline (tck-id-message-flow-hid-sparkplug-state-message-delivered)', () => {
    expect(answerOwnHostState('scada-host-1', T0, { online: false, timestamp: T0 + 5 })).toEqual(hostStateBirth('scada-host-1', T0))
    expect(answerOwnHostState('scada-host-1', T0, { online: true, timestamp: T0 })).toBeNull()
    expect(answerOwnHostState('scada-host-1', T0, { online: 'no' })).toBeNull()
    expect(answerOwnHostState('scada-host-1', T0, null)).toBeNull()
    expect(readHostState({ online: true, timestamp: Number.NaN })).toBeNull()
    expect(readHostState({ online: true, timestamp: 1 })).toEqual({ online: true, timestamp: 1 })
  })

  it('builds the Rebirth request as an NCMD with Node Control/Rebirth = true, a timestamp and no seq, QoS 0, not retained — the ncmd_rebirth fixture\'s encoder input (tck-id-operational-behavior-data-commands-ncmd-rebirth-verb, tck-id-operational-behavior-data-commands-ncmd-rebirth-name, tck-id-operational-behavior-data-commands-ncmd-rebirth-value, tck-id-operational-behavior-data-commands-ncmd-verb, tck-id-topics-ncmd-topic, tck-id-topics-ncmd-mqtt, tck-id-topics-ncmd-timestamp, tck-id-topics-ncmd-payload, tck-id-payloads-ncmd-timestamp, tck-id-payloads-ncmd-seq, tck-id-payloads-ncmd-qos, tck-id-payloads-ncmd-retain)', () => {
    const expected = fixture('ncmd_rebirth')
    const command = rebirthCommand(G, E, T0 + 50)
    expect(command).toEqual({ topic: expected.topic, payload: expected.payload, qos: 0, retain: false })
    expect(command.payload.seq).toBeUndefined()
  })

  it('builds a DCMD with a timestamp and no seq, QoS 0, not retained (tck-id-operational-behavior-data-commands-dcmd-verb, tck-id-topics-dcmd-topic, tck-id-topics-dcmd-mqtt, tck-id-topics-dcmd-timestamp, tck-id-topics-dcmd-payload, tck-id-payloads-dcmd-timestamp, tck-id-payloads-dcmd-seq, tck-id-payloads-dcmd-qos, tck-id-payloads-dcmd-retain)', () => {
    const command = deviceCommand(G, E, D, [metric('Outputs/C', 'UInt16', 7)], T0 + 0.9)
    expect(command).toEqual({
      topic: 'spBv1.0/Plant1/DCMD/Gateway01/Sensor07',
      payload: { timestamp: BigInt(T0), metrics: [metric('Outputs/C', 'UInt16', 7)] },
      qos: 0,
      retain: false,
    })
  })
})

describe('edge node sessions', () => {
  it('follows the fixtures\' session: NBIRTH with bdSeq, DBIRTH, DDATA by alias only, DDEATH, NDATA with a null (tck-id-topics-nbirth-bdseq-included, tck-id-payloads-nbirth-bdseq, tck-id-payloads-alias-birth-requirement, tck-id-payloads-alias-data-cmd-requirement, tck-id-topics-ddata-payload, tck-id-topics-ndata-payload)', () => {
    const h = host()
    for (const name of ['nbirth_basic', 'dbirth', 'ddata_alias']) {
      const { topic: t, payload } = fixture(name)
      expect(h.receive(t, payload, T0 + 100)).toBe('applied')
    }
    let effects = h.takeEffects()
    expect(errors(effects)).toEqual([])
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01 online:first', 'Plant1/Gateway01/Sensor07 online:first'])
    const node = h.edgeNode(G, E)!
    expect(node).toMatchObject({ status: 'online', bdSeq: 0n, birthAt: T0 + 100 })
    expect(value(h, 'Errors')).toMatchObject({ type: 'UInt32', value: 4294967295, alias: 5n, quality: 'good' })
    expect(value(h, 'Counter', D)).toMatchObject({ type: 'Int64', value: -9007199254740991n })
    const data = only(effects, 'data')
    expect(data).toHaveLength(1)
    expect(data[0]).toMatchObject({ target: { key: 'Plant1/Gateway01/Sensor07' }, seq: 2, timestamp: T0 + 20 })
    expect(data[0]!.metrics.map((m) => m.name)).toEqual(['Inputs/A', 'Setpoint'])
    expect(value(h, 'Inputs/A', D)).toMatchObject({ value: false, timestamp: T0 + 20 })
    expect(value(h, 'Setpoint', D)).toMatchObject({ value: 22.25 })

    const ddeath = fixture('ddeath')
    expect(h.receive(ddeath.topic, ddeath.payload, T0 + 200)).toBe('applied')
    const ndata = fixture('ndata_null')
    expect(h.receive(ndata.topic, ndata.payload, T0 + 200)).toBe('applied')
    effects = h.takeEffects()
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01/Sensor07 offline:death'])
    expect(value(h, 'Temperature')).toMatchObject({ value: null, quality: 'good' })
    expect(h.stats).toMatchObject({ messages: 5, metricUpdates: 3, protocolErrors: 0 })
  })

  it('marks the node offline and every node and device metric STALE at host time on an NDEATH with the session\'s bdSeq: not zero, not gone (tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline, tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-tags-stale, tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-offline, tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-tags-stale, tck-id-topics-ndeath-payload, tck-id-payloads-ndeath-bdseq)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [byAlias(2, 'Float', 23.5)]), T0 + 1)
    h.takeEffects()
    // The Will carries the CONNECT's time; the host marks the death at its own.
    expect(h.receive(topic('NDEATH'), { timestamp: BigInt(T0 - 60_000), metrics: [metric('bdSeq', 'Int64', 0n)] }, T0 + 5_000)).toBe('applied')
    const effects = h.takeEffects()
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01 offline:death', 'Plant1/Gateway01/Sensor07 offline:node-death'])
    expect(only(effects, 'stale').map((e) => `${e.target.key} @${e.at - T0}`)).toEqual(['Plant1/Gateway01 @5000', 'Plant1/Gateway01/Sensor07 @5000'])
    const node = h.edgeNode(G, E)!
    expect(node).toMatchObject({ status: 'offline', deathAt: T0 + 5_000 })
    expect(h.device(G, E, D)).toMatchObject({ status: 'offline', deathAt: T0 + 5_000 })
    expect(value(h, 'Temperature')).toMatchObject({ value: 23.5, quality: 'stale', staleSince: T0 + 5_000 })
    expect(value(h, 'Setpoint', D)).toMatchObject({ value: 0.5, quality: 'stale', staleSince: T0 + 5_000 })
    expect(node.metrics.size).toBe(4)
    expect([...node.metrics.values()].every((m) => m.quality === 'stale')).toBe(true)
  })

  it('ignores an NDEATH whose bdSeq is not the current session\'s: the late Will of an earlier connection (tck-id-payloads-ndeath-bdseq, tck-id-topics-nbirth-bdseq-matching, tck-id-payloads-nbirth-bdseq-repeat)', () => {
    const h = host()
    h.receive(topic('NBIRTH'), nbirth(7, nodeMetrics()), T0)
    h.takeEffects()
    expect(h.receive(topic('NDEATH'), ndeath(6), T0 + 1)).toBe('ignored')
    const effects = h.takeEffects()
    expect(only(effects, 'lifecycle')).toEqual([
      { kind: 'lifecycle', target: h.edgeNode(G, E)!.ref, at: T0 + 1, event: 'death-ignored', reason: 'stale-session', bdSeq: 6n, sessionBdSeq: 7n },
    ])
    expect(errors(effects)).toEqual([])
    expect(h.edgeNode(G, E)!.status).toBe('online')
    expect(value(h, 'Temperature')!.quality).toBe('good')
    expect(h.receive(topic('NDATA'), message(1, [byAlias(2, 'Float', 1)]), T0 + 2)).toBe('applied')
  })

  it('ignores an NDEATH without bdSeq when the session has one, as a protocol error (tck-id-topics-ndeath-payload)', () => {
    const h = host()
    h.receive(topic('NBIRTH'), nbirth(3), T0)
    h.takeEffects()
    expect(h.receive(topic('NDEATH'), ndeath(null), T0 + 1)).toBe('ignored')
    expect(errors(h.takeEffects())).toEqual(['ndeath-without-bdseq'])
    expect(h.edgeNode(G, E)!.status).toBe('online')
  })

  it('counts an NDEATH for a node it never saw born as a protocol error, and changes nothing else', () => {
    const h = host()
    expect(h.receive(topic('NDEATH'), ndeath(0), T0)).toBe('ignored')
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['ndeath-unknown-node'])
    expect(lifecycle(effects)).toEqual([])
    expect(h.edgeNode(G, E)).toMatchObject({ status: 'unknown', protocolErrorCount: 1 })
    expect(rebirthsSent(effects)).toEqual([])
  })

  it('ignores a second NDEATH of the same session', () => {
    const h = host()
    born(h)
    h.receive(topic('NDEATH'), ndeath(0), T0 + 1)
    h.takeEffects()
    expect(h.receive(topic('NDEATH'), ndeath(0), T0 + 2)).toBe('ignored')
    expect(h.takeEffects()).toEqual([])
  })

  it('marks a device offline and its metrics STALE at the DDEATH\'s own timestamp, in seq order (tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-offline, tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-tags-stale, tck-id-payloads-ddeath-seq-number)', () => {
    const h = host()
    born(h)
    expect(h.receive(topic('DDEATH', D), message(2, [], T0 + 700), T0 + 900)).toBe('applied')
    const effects = h.takeEffects()
    expect(only(effects, 'lifecycle')).toMatchObject([{ event: 'offline', reason: 'death', at: T0 + 700, target: { deviceId: D } }])
    expect(only(effects, 'stale')).toMatchObject([{ at: T0 + 700, target: { deviceId: D } }])
    expect(h.device(G, E, D)).toMatchObject({ status: 'offline', deathAt: T0 + 700 })
    expect(value(h, 'Inputs/A', D)).toMatchObject({ value: true, quality: 'stale', staleSince: T0 + 700 })
    // The node and its own metrics live on.
    expect(value(h, 'Temperature')!.quality).toBe('good')
    expect(h.receive(topic('DDATA', D), message(3, [byAlias(10, 'Boolean', false)]), T0 + 1_000)).toBe('applied')
    expect(errors(h.takeEffects())).toEqual(['data-before-dbirth'])
    expect(value(h, 'Inputs/A', D)!.value).toBe(true)
  })

  it('counts a DDEATH for a device never born, and ignores a repeated one', () => {
    const h = host()
    born(h)
    h.receive(topic('DDEATH', 'Ghost'), message(2), T0)
    expect(errors(h.takeEffects())).toEqual(['ddeath-unknown-device'])
    h.receive(topic('DDEATH', D), message(3), T0)
    h.receive(topic('DDEATH', D), message(4), T0)
    expect(lifecycle(h.takeEffects())).toEqual(['Plant1/Gateway01/Sensor07 offline:death'])
  })

  it('takes an NBIRTH with the same bdSeq as a rebirth of the same session: devices wait for their DBIRTH (tck-id-operational-behavior-data-commands-rebirth-action-2, tck-id-operational-behavior-data-commands-rebirth-action-3)', () => {
    const h = host()
    born(h)
    h.receive(topic('NBIRTH'), nbirth(0, nodeMetrics()), T0 + 10)
    let effects = h.takeEffects()
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01/Sensor07 offline:node-birth', 'Plant1/Gateway01 online:rebirth'])
    expect(value(h, 'Setpoint', D)!.quality).toBe('stale')
    expect(h.receive(topic('DDATA', D), message(1, [byAlias(15, 'Float', 1)]), T0 + 11)).toBe('applied')
    expect(errors(h.takeEffects())).toEqual(['data-before-dbirth'])
    h.receive(topic('DBIRTH', D), message(2, deviceMetrics()), T0 + 12)
    effects = h.takeEffects()
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01/Sensor07 online:rebirth'])
    expect(only(effects, 'birth')[0]!.metrics.map((m) => `${m.name}=${String(m.value)}`)).toEqual(['Inputs/A=true', 'Setpoint=0.5'])
    expect(value(h, 'Setpoint', D)!.quality).toBe('good')
  })

  it('reports a new session when an NBIRTH brings a new bdSeq, and a session lost when the old one was still online (tck-id-topics-nbirth-bdseq-increment)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDEATH'), ndeath(0), T0 + 1)
    h.receive(topic('NBIRTH'), nbirth(1), T0 + 2)
    expect(lifecycle(h.takeEffects()).slice(-1)).toEqual(['Plant1/Gateway01 online:new-session'])
    // No NDEATH for bdSeq 1 reached the host (a broker restart loses Wills), then bdSeq 2 is born.
    h.receive(topic('NBIRTH'), nbirth(2), T0 + 3)
    expect(lifecycle(h.takeEffects())).toEqual(['Plant1/Gateway01 offline:session-lost', 'Plant1/Gateway01 online:new-session'])
  })

  it('detects a reboot when bdSeq starts over at 0, but not when it wraps after 255', () => {
    const h = host()
    h.receive(topic('NBIRTH'), nbirth(41), T0)
    h.receive(topic('NDEATH'), ndeath(41), T0 + 1)
    h.receive(topic('NBIRTH'), nbirth(0), T0 + 2)
    const effects = h.takeEffects()
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01 online:first', 'Plant1/Gateway01 offline:death', 'Plant1/Gateway01 reboot-detected:bdseq-restarted', 'Plant1/Gateway01 online:new-session'])
    expect(only(effects, 'lifecycle')[2]).toMatchObject({ previousBdSeq: 41n, bdSeq: 0n })

    const wrap = host()
    wrap.receive(topic('NBIRTH'), nbirth(255), T0)
    wrap.receive(topic('NDEATH'), ndeath(255), T0 + 1)
    wrap.receive(topic('NBIRTH'), nbirth(0), T0 + 2)
    expect(lifecycle(wrap.takeEffects())).not.toContain('Plant1/Gateway01 reboot-detected:bdseq-restarted')

    // A node whose bdSeq is always 0 (Eclipse Tahu's client) only starts new sessions.
    const constant = host()
    constant.receive(topic('NBIRTH'), nbirth(0), T0)
    constant.receive(topic('NDEATH'), ndeath(0), T0 + 1)
    constant.receive(topic('NBIRTH'), nbirth(0), T0 + 2)
    expect(lifecycle(constant.takeEffects())).toEqual(['Plant1/Gateway01 online:first', 'Plant1/Gateway01 offline:death', 'Plant1/Gateway01 online:new-session'])
  })

  it('accepts an NBIRTH that breaks the rules, and says which (tck-id-topics-nbirth-seq-num, tck-id-payloads-nbirth-seq, tck-id-payloads-nbirth-bdseq, tck-id-topics-nbirth-rebirth-metric, tck-id-payloads-nbirth-rebirth-req, tck-id-operational-behavior-data-commands-rebirth-name)', () => {
    const h = host()
    h.receive(topic('NBIRTH'), { timestamp: BigInt(T0), seq: 5n, metrics: [metric('Temperature', 'Float', 1, 2)] }, T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['nbirth-without-bdseq', 'nbirth-seq-not-zero', 'nbirth-without-rebirth-metric'])
    expect(h.edgeNode(G, E)).toMatchObject({ status: 'online', bdSeq: null })
    expect(h.receive(topic('NDATA'), message(6, [byAlias(2, 'Float', 2)]), T0)).toBe('applied')
    // Without a bdSeq to compare, a death is taken as this session's.
    expect(h.receive(topic('NDEATH'), ndeath(null), T0)).toBe('applied')
  })

  it('takes an NBIRTH without seq, and the next message sets the sequence', () => {
    const h = host()
    h.receive(topic('NBIRTH'), nbirth(0, nodeMetrics(), null), T0)
    expect(errors(h.takeEffects())).toEqual(['missing-seq'])
    expect(h.receive(topic('NDATA'), message(9, [byAlias(2, 'Float', 2)]), T0)).toBe('applied')
    expect(h.receive(topic('NDATA'), message(10, [byAlias(2, 'Float', 3)]), T0)).toBe('applied')
  })

  it('keeps node and device namespaces apart, and the same device id under two edge nodes apart (tck-id-topic-structure-namespace-duplicate-device-id-across-edge-node, tck-id-topic-structure-namespace-unique-edge-node-descriptor)', () => {
    const h = host()
    born(h)
    h.receive(topic('NBIRTH', undefined, 'Gateway02'), nbirth(0, nodeMetrics()), T0)
    h.receive(topic('DBIRTH', D, 'Gateway02'), message(1, deviceMetrics()), T0)
    h.receive(topic('DDATA', D, 'Gateway02'), message(2, [byAlias(15, 'Float', 99)]), T0)
    expect(errors(h.takeEffects())).toEqual([])
    expect(value(h, 'Setpoint', D)!.value).toBe(0.5)
    expect(h.device(G, 'Gateway02', D)!.metrics.get('Setpoint')!.value).toBe(99)
  })
})

describe('aliases and metric names', () => {
  it('resolves data by alias and by name to the birth\'s definitions, node and device alike (tck-id-payloads-name-requirement)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [byAlias(1, 'UInt64', 11n), metric('Temperature', 'Float', 22)]), T0 + 1)
    h.receive(topic('DDATA', D), message(3, [metric('Setpoint', 'Float', 0.75)]), T0 + 2)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual([])
    expect(only(effects, 'data').map((e) => e.metrics.map((m) => `${m.owner.key}:${m.name}`))).toEqual([
      ['Plant1/Gateway01:Uptime', 'Plant1/Gateway01:Temperature'],
      ['Plant1/Gateway01/Sensor07:Setpoint'],
    ])
    expect(value(h, 'Uptime')!.value).toBe(11n)
    expect(value(h, 'Setpoint', D)!.value).toBe(0.75)
  })

  it('hands the decoded metrics over without copying when all of them resolve', () => {
    const h = host()
    born(h)
    const payload = message(2, [byAlias(10, 'Boolean', false), byAlias(15, 'Float', 2)])
    h.receive(topic('DDATA', D), payload, T0)
    expect(only(h.takeEffects(), 'data')[0]!.samples).toBe(payload.metrics)
  })

  it('keeps aliases unique across the whole edge node: a DBIRTH reusing a node or another device\'s alias does not get it (tck-id-payloads-alias-uniqueness)', () => {
    const h = host()
    born(h)
    h.receive(topic('DBIRTH', 'Sensor08'), message(2, [metric('Level', 'Double', 1, 15), metric('Flow', 'Double', 2, 2), metric('Pressure', 'Double', 3, 30)]), T0)
    expect(errors(h.takeEffects())).toEqual(['birth-duplicate-alias', 'birth-duplicate-alias'])
    expect(h.device(G, E, 'Sensor08')!.metrics.get('Level')!.alias).toBeNull()
    // Alias 15 still means Sensor07's Setpoint.
    h.receive(topic('DDATA', D), message(3, [byAlias(15, 'Float', 5)]), T0)
    h.receive(topic('DDATA', 'Sensor08'), message(4, [byAlias(30, 'Double', 4), metric('Level', 'Double', 9)]), T0)
    expect(errors(h.takeEffects())).toEqual([])
    expect(value(h, 'Setpoint', D)!.value).toBe(5)
    expect(h.device(G, E, 'Sensor08')!.metrics.get('Level')!.value).toBe(9)
  })

  it('refuses an alias that belongs to another device, and asks for a rebirth', () => {
    const h = host()
    born(h)
    h.receive(topic('DBIRTH', 'Sensor08'), message(2, [metric('Level', 'Double', 1, 20)]), T0)
    h.takeEffects()
    h.receive(topic('DDATA', 'Sensor08'), message(3, [byAlias(15, 'Float', 5)]), T0)
    h.tick(T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['alias-of-other-owner'])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 alias-of-other-owner'])
    expect(value(h, 'Setpoint', D)!.value).toBe(0.5)
  })

  it('counts an unknown alias, applies the metrics it knows from the same message, and asks for a rebirth', () => {
    const h = host()
    born(h)
    const payload = message(2, [byAlias(10, 'Boolean', false), byAlias(99, 'Float', 1), byAlias(15, 'Float', 3)])
    expect(h.receive(topic('DDATA', D), payload, T0)).toBe('applied')
    h.tick(T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['unknown-alias'])
    expect(only(effects, 'protocol-error')[0]!.error).toMatchObject({ messageType: 'DDATA', deviceId: D })
    const [data] = only(effects, 'data')
    expect(data!.metrics.map((m) => m.name)).toEqual(['Inputs/A', 'Setpoint'])
    expect(data!.samples.map((m) => m.value)).toEqual([false, 3])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 unknown-alias'])
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01 rebirth-requested:unknown-alias'])
  })

  it('counts a metric name the birth did not define and asks for a rebirth (tck-id-topics-nbirth-metric-reqs, tck-id-topics-dbirth-metric-reqs, tck-id-operational-behavior-data-publish-nbirth, tck-id-operational-behavior-data-publish-dbirth)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [metric('Humidity', 'Float', 40)]), T0)
    h.tick(T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['unknown-metric'])
    expect(only(effects, 'data')).toEqual([])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 unknown-metric'])
    expect(h.edgeNode(G, E)!.metrics.has('Humidity')).toBe(false)
  })

  it('counts a metric with neither name nor alias without asking for a rebirth', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [metric(undefined, 'Float', 1)]), T0)
    h.tick(T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['metric-without-name-or-alias'])
    expect(rebirthsSent(effects)).toEqual([])
  })

  it('refuses a value of the wrong kind, and converts a 64-bit value that a decoder gave as a number (tck-id-payloads-metric-datatype-not-req)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [byAlias(2, 'String', 'hot'), byAlias(1, 'UInt32', 12)]), T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['type-mismatch'])
    expect(value(h, 'Temperature')!.value).toBe(21.5)
    expect(value(h, 'Uptime')).toMatchObject({ value: 12n, type: 'UInt64' })
    expect(only(effects, 'data')[0]!.samples).toMatchObject([{ alias: 1n, type: 'UInt64', value: 12n }])
  })

  it('passes historical values on without making them the current value', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [metric(undefined, 'Float', 5, 2, { isHistorical: true, timestamp: BigInt(T0 - 3_600_000) })]), T0 + 1)
    const [data] = only(h.takeEffects(), 'data')
    expect(data!.samples[0]).toMatchObject({ value: 5, isHistorical: true })
    expect(value(h, 'Temperature')).toMatchObject({ value: 21.5, timestamp: T0 })
  })

  it('forgets a device\'s old aliases when it is born again with new ones', () => {
    const h = host()
    born(h)
    h.receive(topic('DBIRTH', D), message(2, [metric('Inputs/A', 'Boolean', true, 40)]), T0)
    h.receive(topic('DDATA', D), message(3, [byAlias(10, 'Boolean', false)]), T0)
    expect(errors(h.takeEffects())).toEqual(['unknown-alias'])
    h.receive(topic('DDATA', D), message(4, [byAlias(40, 'Boolean', false)]), T0)
    expect(errors(h.takeEffects())).toEqual([])
    expect(h.device(G, E, D)!.metrics.has('Setpoint')).toBe(false)
  })

  it('counts birth metrics without a name or defined twice, keeping the first', () => {
    const h = host()
    h.receive(topic('NBIRTH'), nbirth(0, [metric(undefined, 'Float', 1, 3), metric('A', 'Float', 1), metric('A', 'Float', 2)]), T0)
    expect(errors(h.takeEffects())).toEqual(['birth-metric-without-name', 'birth-duplicate-name'])
    expect(value(h, 'A')!.value).toBe(1)
  })
})

describe('messages without a session', () => {
  it('asks an unknown node to rebirth when its data arrives, without calling it an error: the host joined late', () => {
    const h = host()
    expect(h.receive(topic('DDATA', D), message(17, [byAlias(10, 'Boolean', true)]), T0)).toBe('dropped')
    h.tick(T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual([])
    expect(only(effects, 'publish')).toEqual([{ kind: 'publish', target: h.edgeNode(G, E)!.ref, reason: 'unknown-session', publish: rebirthCommand(G, E, T0) }])
    expect(h.edgeNode(G, E)).toMatchObject({ status: 'unknown', rebirthRequestCount: 1, lastRebirthRequestAt: T0 })
  })

  it('counts data from a node whose death it saw, with no birth since, and asks for a rebirth (tck-id-payloads-ndata-order, tck-id-payloads-ddata-order)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDEATH'), ndeath(0), T0)
    h.takeEffects()
    expect(h.receive(topic('NDATA'), message(2, [byAlias(2, 'Float', 9)]), T0 + 1)).toBe('dropped')
    expect(h.receive(topic('DDATA', D), message(3, [byAlias(10, 'Boolean', false)]), T0 + 1)).toBe('dropped')
    h.tick(T0 + 1)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['data-before-birth', 'data-before-birth'])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 data-before-birth'])
    expect(value(h, 'Temperature')).toMatchObject({ value: 21.5, quality: 'stale' })
  })

  it('counts a DBIRTH for an offline node and asks for a rebirth (tck-id-message-flow-device-birth-publish-nbirth-wait, tck-id-payloads-dbirth-order, tck-id-message-flow-device-birth-publish-dbirth-match-edge-node-topic)', () => {
    const h = host()
    born(h)
    h.receive(topic('NDEATH'), ndeath(0), T0)
    h.takeEffects()
    expect(h.receive(topic('DBIRTH', D), message(1, deviceMetrics()), T0 + 1)).toBe('dropped')
    h.tick(T0 + 1)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['dbirth-before-nbirth'])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 dbirth-before-nbirth'])
    expect(h.device(G, E, D)!.status).toBe('offline')
  })

  it('counts DDATA for a device with no DBIRTH and asks for a rebirth', () => {
    const h = host()
    born(h)
    h.receive(topic('DDATA', 'Sensor99'), message(2, [byAlias(10, 'Boolean', false)]), T0)
    h.tick(T0)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['data-before-dbirth'])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 data-before-dbirth'])
    expect(value(h, 'Inputs/A', D)!.value).toBe(true)
  })

  it('keeps a bounded list of each node\'s recent protocol errors and counts them all', () => {
    const h = host({ recentErrorLimit: 3 })
    born(h)
    for (let i = 0; i < 10; i++) h.receive(topic('NDATA'), message(2 + i, [metric(`Unknown${i}`, 'Float', 1)]), T0 + i)
    const node = h.edgeNode(G, E)!
    expect(node.protocolErrorCount).toBe(10)
    expect(node.recentProtocolErrors().map((e) => e.detail.match(/Unknown\d/)![0])).toEqual(['Unknown7', 'Unknown8', 'Unknown9'])
    expect(node.recentProtocolErrors()[2]).toMatchObject({ reason: 'unknown-metric', at: T0 + 9, messageType: 'NDATA', deviceId: null })
  })
})

describe('seq ordering', () => {
  it('accepts seq from 0 to 255 and on to 0 across message types (tck-id-payloads-sequence-num-incrementing, tck-id-topics-ndata-seq-num, tck-id-topics-ddata-seq-num, tck-id-topics-dbirth-seq, tck-id-topics-ddeath-seq-num, tck-id-payloads-ndata-seq-inc, tck-id-payloads-ddata-seq-inc, tck-id-payloads-dbirth-seq-inc, tck-id-payloads-ddeath-seq-inc, tck-id-message-flow-device-birth-publish-dbirth-payload-seq)', () => {
    const h = host()
    born(h)
    for (let i = 2; i < 600; i++) {
      const seq = i % 256
      const t = i % 50 === 0 ? 'DBIRTH' : i % 50 === 1 ? 'DDEATH' : i % 2 ? 'NDATA' : 'DDATA'
      const payload = t === 'DBIRTH' ? message(seq, deviceMetrics()) : t === 'NDATA' ? message(seq, [byAlias(2, 'Float', i)]) : message(seq, [byAlias(10, 'Boolean', i % 4 === 0)])
      // DDATA right after a DDEATH is refused as data-before-dbirth; everything else must apply cleanly.
      expect(h.receive(topic(t, t === 'NDATA' ? undefined : D), payload, T0 + i)).toBe('applied')
    }
    const effects = h.takeEffects()
    expect(new Set(errors(effects))).toEqual(new Set(['data-before-dbirth']))
    expect(errors(effects).filter((e) => e.startsWith('seq'))).toEqual([])
    expect(value(h, 'Temperature')!.value).toBe(599)
  })

  it('holds out-of-order messages and releases them in order when the gap fills, with no rebirth (tck-id-operational-behavior-host-reordering-start, tck-id-operational-behavior-host-reordering-success)', () => {
    const h = host()
    born(h)
    expect(h.receive(topic('NDATA'), message(4, [byAlias(2, 'Float', 4)]), T0 + 1)).toBe('held')
    expect(h.receive(topic('NDATA'), message(3, [byAlias(2, 'Float', 3)]), T0 + 2)).toBe('held')
    expect(value(h, 'Temperature')!.value).toBe(21.5)
    expect(h.takeEffects()).toEqual([])
    expect(h.receive(topic('DDATA', D), message(2, [byAlias(15, 'Float', 2)]), T0 + 3)).toBe('applied')
    const effects = h.takeEffects()
    expect(only(effects, 'data').map((e) => e.seq)).toEqual([2, 3, 4])
    expect(value(h, 'Temperature')!.value).toBe(4)
    // The timer was stopped: long after the timeout there is nothing to ask.
    h.tick(T0 + 60_000)
    expect(h.takeEffects()).toEqual([])
    expect(h.receive(topic('NDATA'), message(5, [byAlias(2, 'Float', 5)]), T0 + 60_001)).toBe('applied')
    expect(h.stats.heldMessages).toBe(2)
  })

  it('asks for a rebirth when a gap stays open past the configurable reorder timeout, then applies what it held in order (tck-id-operational-behavior-host-reordering-param, tck-id-operational-behavior-host-reordering-start, tck-id-operational-behavior-host-reordering-rebirth)', () => {
    const h = host({ reorderTimeoutMs: 2_000 })
    expect(h.reorderTimeoutMs).toBe(2_000)
    born(h)
    h.receive(topic('NDATA'), message(4, [byAlias(2, 'Float', 4)]), T0 + 100)
    h.receive(topic('NDATA'), message(6, [byAlias(2, 'Float', 6)]), T0 + 200)
    h.tick(T0 + 2_099)
    expect(h.takeEffects()).toEqual([])
    h.tick(T0 + 2_100)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['seq-gap'])
    expect(only(effects, 'protocol-error')[0]!.error.detail).toBe('seq 2 did not arrive within 2000 ms.')
    expect(only(effects, 'data').map((e) => e.seq)).toEqual([4, 6])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 seq-gap'])
    expect(only(effects, 'publish')[0]!.publish.payload.metrics).toEqual([{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }])
    expect(value(h, 'Temperature')!.value).toBe(6)
    // The sequence carries on after what was held; the answer to the rebirth starts a new one.
    expect(h.receive(topic('NDATA'), message(7, [byAlias(2, 'Float', 7)]), T0 + 2_200)).toBe('applied')
    h.receive(topic('NBIRTH'), nbirth(0, nodeMetrics()), T0 + 2_300)
    expect(h.receive(topic('NDATA'), message(1, [byAlias(2, 'Float', 8)]), T0 + 2_400)).toBe('applied')
  })

  it('uses the default reorder timeout of a few seconds', () => {
    const h = host()
    expect(h.reorderTimeoutMs).toBe(hostApplicationDefaults.reorderTimeoutMs)
    born(h)
    h.receive(topic('NDATA'), message(3), T0)
    h.tick(T0 + 4_999)
    expect(errors(h.takeEffects())).toEqual([])
    h.tick(T0 + 5_000)
    expect(errors(h.takeEffects())).toEqual(['seq-gap'])
  })

  it('fills a gap across the 255 → 0 wrap', () => {
    const h = host()
    born(h)
    for (let seq = 2; seq <= 254; seq++) h.receive(topic('NDATA'), message(seq), T0)
    expect(h.receive(topic('NDATA'), message(0, [byAlias(2, 'Float', 0)]), T0)).toBe('held')
    expect(h.receive(topic('NDATA'), message(1, [byAlias(2, 'Float', 1)]), T0)).toBe('held')
    expect(h.receive(topic('NDATA'), message(255, [byAlias(2, 'Float', 255)]), T0)).toBe('applied')
    expect(only(h.takeEffects(), 'data').map((e) => e.seq)).toEqual([255, 0, 1])
    expect(h.receive(topic('NDATA'), message(2), T0)).toBe('applied')
  })

  it('drops a duplicate without disturbing the order, and the next message in order closes the window', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [byAlias(2, 'Float', 2)]), T0)
    expect(h.receive(topic('NDATA'), message(2, [byAlias(2, 'Float', -1)]), T0)).toBe('dropped')
    expect(h.receive(topic('NDATA'), message(4), T0)).toBe('held')
    expect(h.receive(topic('NDATA'), message(4), T0)).toBe('dropped')
    expect(h.receive(topic('NDATA'), message(3), T0)).toBe('applied')
    h.tick(T0 + 60_000)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual(['seq-behind', 'seq-duplicate'])
    expect(rebirthsSent(effects)).toEqual([])
    expect(value(h, 'Temperature')!.value).toBe(2)
  })

  it('asks for a rebirth when every message is behind: the host lost its place without a death', () => {
    const h = host({ reorderTimeoutMs: 1_000 })
    born(h)
    // More than 128 messages were lost: what arrives looks older than what the host expects.
    for (let i = 0; i < 5; i++) expect(h.receive(topic('NDATA'), message(140 + i), T0 + i * 300)).toBe('dropped')
    h.tick(T0 + 1_200)
    const effects = h.takeEffects()
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 seq-gap'])
    // With nothing held, the next message sets the sequence again.
    expect(h.receive(topic('NDATA'), message(145, [byAlias(2, 'Float', 145)]), T0 + 1_300)).toBe('applied')
    expect(h.receive(topic('NDATA'), message(146), T0 + 1_400)).toBe('applied')
  })

  it('drops messages without seq or with a seq above 255 (tck-id-payloads-sequence-num-always-included, tck-id-payloads-ndata-seq, tck-id-payloads-ddata-seq, tck-id-payloads-dbirth-seq, tck-id-payloads-ddeath-seq)', () => {
    const h = host()
    born(h)
    expect(h.receive(topic('NDATA'), message(null, [byAlias(2, 'Float', 1)]), T0)).toBe('dropped')
    expect(h.receive(topic('DDEATH', D), message(null), T0)).toBe('dropped')
    expect(h.receive(topic('NDATA'), message(256, [byAlias(2, 'Float', 1)]), T0)).toBe('dropped')
    expect(errors(h.takeEffects())).toEqual(['missing-seq', 'missing-seq', 'seq-out-of-range'])
    expect(h.device(G, E, D)!.status).toBe('online')
    expect(h.receive(topic('NDATA'), message(2), T0)).toBe('applied')
  })

  it('applies a held DBIRTH before the DDATA that follows it', () => {
    const h = host()
    born(h)
    expect(h.receive(topic('DDATA', 'Sensor08'), message(3, [byAlias(50, 'Double', 2)]), T0)).toBe('held')
    expect(h.receive(topic('DBIRTH', 'Sensor08'), message(2, [metric('Level', 'Double', 1, 50)]), T0)).toBe('applied')
    expect(errors(h.takeEffects())).toEqual([])
    expect(h.device(G, E, 'Sensor08')!.metrics.get('Level')!.value).toBe(2)
  })

  it('discards what it held when the node dies or is born again', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(5, [byAlias(2, 'Float', 5)]), T0)
    h.receive(topic('NDEATH'), ndeath(0), T0)
    h.receive(topic('NBIRTH'), nbirth(1, nodeMetrics()), T0)
    h.tick(T0 + 60_000)
    const effects = h.takeEffects()
    expect(errors(effects)).toEqual([])
    expect(only(effects, 'data')).toEqual([])
    expect(h.receive(topic('NDATA'), message(1), T0)).toBe('applied')
  })
})

describe('rebirth requests', () => {
  it('asks a node at most once per minimum interval, again after it while still needed, and a birth cancels the pending request', () => {
    const h = host({ rebirthMinIntervalMs: 10_000 })
    h.receive(topic('NDATA'), message(1), T0)
    h.tick(T0)
    expect(rebirthsSent(h.takeEffects())).toHaveLength(1)
    // The NCMD (QoS 0) got lost: data keeps coming, but the node is not asked again before 10 s.
    for (let t = 1_000; t < 10_000; t += 1_000) {
      h.receive(topic('NDATA'), message(1), T0 + t)
      h.tick(T0 + t)
    }
    expect(rebirthsSent(h.takeEffects())).toEqual([])
    h.tick(T0 + 10_000)
    expect(rebirthsSent(h.takeEffects())).toHaveLength(1)
    expect(h.stats.rebirthsDeferred).toBe(1)
    // Now the node answers before the next retry: nothing more goes out.
    h.receive(topic('NDATA'), message(1), T0 + 11_000)
    h.receive(topic('NBIRTH'), nbirth(0), T0 + 12_000)
    h.tick(T0 + 30_000)
    expect(rebirthsSent(h.takeEffects())).toEqual([])
    expect(h.edgeNode(G, E)!.rebirthRequestCount).toBe(2)
  })

  it('spreads rebirth requests to 1,000 nodes after a broker restart with a token bucket and jitter, in the order they fell due', () => {
    let r = 0
    const h = host({ random: () => (r = (r * 9301 + 49297) % 233280) / 233280, rebirthsPerSecond: 20, rebirthBurst: 40, rebirthJitterMs: 1_000 })
    for (let i = 0; i < 1_000; i++) h.receive(`spBv1.0/${G}/NDATA/node-${i}`, message(7), T0)
    const sentAt: number[] = []
    for (let t = 0; t <= 60_000; t += 250) {
      h.tick(T0 + t)
      const sent = only(h.takeEffects(), 'publish').length
      for (let i = 0; i < sent; i++) sentAt.push(t)
    }
    expect(sentAt).toHaveLength(1_000)
    // Never more than the burst plus the rate in any one second.
    for (let second = 0; second < 60; second++) {
      expect(sentAt.filter((t) => t >= second * 1_000 && t < (second + 1) * 1_000).length).toBeLessThanOrEqual(40 + 20)
    }
    expect(sentAt.filter((t) => t < 1_000).length).toBeGreaterThan(0)
    expect(Math.max(...sentAt)).toBeGreaterThan(45_000)
    expect(h.stats.rebirthRequests).toBe(1_000)
  })

  it('delays each request by the passed-in randomness times the jitter', () => {
    const h = host({ random: () => 0.5, rebirthJitterMs: 2_000 })
    h.receive(topic('NDATA'), message(1), T0)
    h.tick(T0 + 999)
    expect(rebirthsSent(h.takeEffects())).toEqual([])
    h.tick(T0 + 1_000)
    expect(rebirthsSent(h.takeEffects())).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 unknown-session'])
  })

  it('takes an operator\'s request through the same throttle, and says when it will go out', () => {
    const h = host({ rebirthMinIntervalMs: 10_000 })
    expect(h.requestRebirth(G, E, T0)).toBe(T0)
    h.tick(T0)
    expect(rebirthsSent(h.takeEffects())).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 operator'])
    expect(h.requestRebirth(G, E, T0 + 1_000)).toBe(T0 + 10_000)
  })

  it('does not ask a node that died to rebirth', () => {
    const h = host()
    born(h)
    h.receive(topic('NDATA'), message(2, [metric('Nope', 'Float', 1)]), T0)
    h.receive(topic('NDEATH'), ndeath(0), T0)
    h.tick(T0 + 60_000)
    expect(rebirthsSent(h.takeEffects())).toEqual([])
  })

  it('refills the bucket at its rate and never above its burst, even when the clock steps back', () => {
    const bucket = new TokenBucket(2, 3, 0)
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false])
    expect(bucket.take(499)).toBe(false)
    expect(bucket.take(500)).toBe(true)
    expect(bucket.available(100_000)).toBe(3)
    expect(bucket.take(-5_000)).toBe(false)
    expect(new TokenBucket(0, 1, Number.NEGATIVE_INFINITY).take(0)).toBe(true)
  })
})

describe('silence', () => {
  it('flags an online node and device that send nothing for silentAfterMs, without marking them offline, and says when they are heard again', () => {
    const h = host({ silentAfterMs: 60_000 })
    born(h)
    h.tick(T0 + 59_999)
    expect(h.takeEffects()).toEqual([])
    h.tick(T0 + 60_000)
    expect(lifecycle(h.takeEffects())).toEqual(['Plant1/Gateway01 silent', 'Plant1/Gateway01/Sensor07 silent'])
    expect(h.edgeNode(G, E)).toMatchObject({ status: 'online', silent: true })
    expect(value(h, 'Temperature')!.quality).toBe('good')
    h.tick(T0 + 120_000)
    expect(h.takeEffects()).toEqual([])
    h.receive(topic('DDATA', D), message(2, [byAlias(10, 'Boolean', false)]), T0 + 90_000)
    const effects = only(h.takeEffects(), 'lifecycle')
    expect(effects.map((e) => `${e.target.key} ${e.event}`)).toEqual(['Plant1/Gateway01 heard-again', 'Plant1/Gateway01/Sensor07 heard-again'])
    expect(effects[0]).toMatchObject({ silentForMs: 90_000 })
    expect(h.edgeNode(G, E)!.silent).toBe(false)
  })

  it('flags a quiet device of a chatty node', () => {
    const h = host({ silentAfterMs: 60_000 })
    born(h)
    h.receive(topic('NDATA'), message(2), T0 + 50_000)
    h.tick(T0 + 60_000)
    expect(lifecycle(h.takeEffects())).toEqual(['Plant1/Gateway01/Sensor07 silent'])
  })

  it('applies a new silence limit from the next tick, without a restart', () => {
    const h = host({ silentAfterMs: 600_000 })
    born(h)
    h.tick(T0 + 30_000)
    expect(h.takeEffects()).toEqual([])
    h.silentAfterMs = 20_000
    h.tick(T0 + 30_001)
    expect(lifecycle(h.takeEffects())).toEqual(['Plant1/Gateway01 silent', 'Plant1/Gateway01/Sensor07 silent'])
  })

  it('does not flag offline nodes, and can be turned off', () => {
    const h = host({ silentAfterMs: 60_000 })
    born(h)
    h.receive(topic('NDEATH'), ndeath(0), T0)
    h.takeEffects()
    h.tick(T0 + 600_000)
    expect(h.takeEffects()).toEqual([])
    const off = host({ silentAfterMs: Number.POSITIVE_INFINITY })
    born(off)
    off.tick(T0 + 1e12)
    expect(off.takeEffects()).toEqual([])
  })
})

describe('after a console restart', () => {
  const known = [
    {
      groupId: G,
      edgeNodeId: E,
      bdSeq: 4n,
      metrics: [{ name: 'Temperature', alias: 2n, type: 'Float' as const, value: 19.5, timestamp: T0 - 1_000 }],
      devices: [{ deviceId: D, metrics: [{ name: 'Setpoint', alias: 15n, type: 'Float' as const, value: 0.4 }] }],
    },
  ]

  it('seeds known nodes, devices and metrics as restored and STALE until their births arrive', () => {
    const h = host()
    h.restore(known, T0)
    expect(h.edgeNode(G, E)).toMatchObject({ status: 'restored', bdSeq: 4n })
    expect(value(h, 'Temperature')).toMatchObject({ value: 19.5, quality: 'stale', staleSince: T0, timestamp: T0 - 1_000 })
    expect(h.device(G, E, D)!.status).toBe('restored')
    expect(value(h, 'Setpoint', D)).toMatchObject({ value: 0.4, quality: 'stale' })
    // Data by a restored alias is not trusted: the session may have changed; the node is asked instead.
    expect(h.receive(topic('DDATA', D), message(9, [byAlias(15, 'Float', 1)]), T0 + 1)).toBe('dropped')
    h.tick(T0 + 1)
    let effects = h.takeEffects()
    expect(errors(effects)).toEqual([])
    expect(rebirthsSent(effects)).toEqual(['spBv1.0/Plant1/NCMD/Gateway01 unknown-session'])
    expect(value(h, 'Setpoint', D)!.value).toBe(0.4)
    h.receive(topic('NBIRTH'), nbirth(4, nodeMetrics()), T0 + 2)
    h.receive(topic('DBIRTH', D), message(1, deviceMetrics()), T0 + 2)
    effects = h.takeEffects()
    expect(lifecycle(effects)).toEqual(['Plant1/Gateway01 online:rebirth', 'Plant1/Gateway01/Sensor07 online:first'])
    expect(value(h, 'Temperature')).toMatchObject({ value: 21.5, quality: 'good' })
  })

  it('takes an NDEATH with the restored bdSeq as the death of that session, and ignores another', () => {
    const h = host()
    h.restore(known, T0)
    expect(h.receive(topic('NDEATH'), ndeath(3), T0)).toBe('ignored')
    expect(h.receive(topic('NDEATH'), ndeath(4), T0)).toBe('applied')
    expect(lifecycle(h.takeEffects())).toEqual(['Plant1/Gateway01 death-ignored:stale-session', 'Plant1/Gateway01 offline:death'])
    expect(h.device(G, E, D)!.status).toBe('offline')
  })

  it('does not overwrite what live traffic already established, and snapshots what restore takes', () => {
    const h = host()
    born(h)
    h.restore(known, T0)
    expect(h.edgeNode(G, E)!.status).toBe('online')
    const again = host()
    again.restore(h.snapshot(), T0 + 5)
    expect(again.edgeNode(G, E)).toMatchObject({ status: 'restored', bdSeq: 0n })
    expect([...again.edgeNode(G, E)!.metrics.keys()]).toEqual(['bdSeq', 'Node Control/Rebirth', 'Uptime', 'Temperature'])
    expect(again.device(G, E, D)!.metrics.get('Setpoint')).toMatchObject({ value: 0.5, alias: 15n, quality: 'stale' })
  })

  it('forgets a decommissioned node entirely', () => {
    const h = host()
    born(h)
    expect(h.forget(G, E)).toBe(true)
    expect(h.edgeNode(G, E)).toBeUndefined()
    expect(h.forget(G, E)).toBe(false)
    expect(h.receive(topic('NDATA'), message(2), T0)).toBe('dropped')
    expect(h.edgeNode(G, E)!.status).toBe('unknown')
  })
})

describe('topics the host is given', () => {
  it('refuses a topic it cannot read with a protocol error, and ignores commands and STATE', () => {
    const h = host()
    expect(h.receive('spBv1.0/Plant1/DDATA/Gateway01', message(0), T0)).toBe('refused')
    expect(h.receive('spBv1.0/Plant1/NCMD/Gateway01', rebirthCommand(G, E, T0).payload, T0)).toBe('ignored')
    expect(h.receive('spBv1.0/Plant1/DCMD/Gateway01/Sensor07', message(null), T0)).toBe('ignored')
    expect(h.receive('spBv1.0/STATE/other-host', message(null), T0)).toBe('ignored')
    const effects = h.takeEffects()
    expect(only(effects, 'protocol-error')).toMatchObject([{ target: null, error: { reason: 'bad-topic', detail: expect.stringContaining('missing-device-id') } }])
    expect(h.stats.refusedTopics).toBe(1)
    expect([...h.edgeNodes()]).toEqual([])
  })

  it('keeps working when its topic cache overflows', () => {
    const h = host({ maxCachedTopics: 2 })
    born(h)
    for (let i = 0; i < 5; i++) h.receive(topic('DDATA', `Other${i}`), message(2 + i), T0)
    expect(h.receive(topic('NDATA'), message(7, [byAlias(2, 'Float', 7)]), T0)).toBe('applied')
    expect(value(h, 'Temperature')!.value).toBe(7)
  })
})
