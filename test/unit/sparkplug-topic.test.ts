// Sparkplug topic names. Test titles cite the statements of
// shared/fixtures/sparkplug/spec_tck_assertions.tsv that they prove.
import { describe, expect, it } from 'vitest'
import {
  deviceCommandTopic,
  formatSparkplugTopic,
  hostStateTopic,
  nodeCommandTopic,
  parseSparkplugTopic,
  sparkplugIdProblem,
  SparkplugTopicError,
  type TopicRefusalReason,
} from '../../shared/domain'

function refusal(topic: string): TopicRefusalReason | 'accepted' {
  const parsed = parseSparkplugTopic(topic)
  return parsed.ok ? 'accepted' : parsed.reason
}

describe('parseSparkplugTopic', () => {
  it('reads the eight edge node and device message types with their ids (tck-id-topic-structure, tck-id-topic-structure-namespace-a, tck-id-topics-nbirth-topic, tck-id-topics-ndata-topic, tck-id-topics-ndeath-topic, tck-id-topics-dbirth-topic, tck-id-topics-ddata-topic, tck-id-topics-ddeath-topic)', () => {
    for (const type of ['NBIRTH', 'NDEATH', 'NDATA', 'NCMD'] as const) {
      expect(parseSparkplugTopic(`spBv1.0/Plant1/${type}/Gateway01`)).toEqual({
        ok: true,
        topic: { kind: 'node', messageType: type, groupId: 'Plant1', edgeNodeId: 'Gateway01' },
      })
    }
    for (const type of ['DBIRTH', 'DDEATH', 'DDATA', 'DCMD'] as const) {
      expect(parseSparkplugTopic(`spBv1.0/Plant1/${type}/Gateway01/Sensor07`)).toEqual({
        ok: true,
        topic: { kind: 'device', messageType: type, groupId: 'Plant1', edgeNodeId: 'Gateway01', deviceId: 'Sensor07' },
      })
    }
  })

  it('reads a host STATE topic (tck-id-host-topic-phid-birth-topic)', () => {
    expect(parseSparkplugTopic('spBv1.0/STATE/scada-host-1')).toEqual({ ok: true, topic: { kind: 'state', hostId: 'scada-host-1' } })
  })

  it('accepts any UTF-8 in ids except the reserved characters (tck-id-intro-group-id-string, tck-id-intro-edge-node-id-string, tck-id-intro-device-id-string)', () => {
    const parsed = parseSparkplugTopic('spBv1.0/Usine Nord/DDATA/Passerelle-é/Capteur 温度')
    expect(parsed).toMatchObject({ ok: true, topic: { groupId: 'Usine Nord', edgeNodeId: 'Passerelle-é', deviceId: 'Capteur 温度' } })
  })

  it('refuses other namespaces, including Sparkplug B 2.2 STATE and Sparkplug A (tck-id-topic-structure-namespace-a)', () => {
    expect(refusal('spAv1.0/Plant1/NDATA/Gateway01')).toBe('namespace')
    expect(refusal('STATE/scada-host-1')).toBe('namespace')
    expect(refusal('spbv1.0/Plant1/NDATA/Gateway01')).toBe('namespace')
    expect(refusal('')).toBe('namespace')
    const parsed = parseSparkplugTopic('plant/telemetry')
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.detail).toContain('spBv1.0/')
  })

  it('refuses an unknown message type', () => {
    expect(refusal('spBv1.0/Plant1/NFOO/Gateway01')).toBe('message-type')
    expect(refusal('spBv1.0/Plant1/ndata/Gateway01')).toBe('message-type')
  })

  it('refuses D* messages without a device id (tck-id-topic-structure-namespace-device-id-associated-message-types)', () => {
    for (const type of ['DBIRTH', 'DDEATH', 'DDATA', 'DCMD']) expect(refusal(`spBv1.0/Plant1/${type}/Gateway01`)).toBe('missing-device-id')
  })

  it('refuses N* messages with a device id, and STATE with more levels (tck-id-topic-structure-namespace-device-id-non-associated-message-types)', () => {
    for (const type of ['NBIRTH', 'NDEATH', 'NDATA', 'NCMD']) expect(refusal(`spBv1.0/Plant1/${type}/Gateway01/Sensor07`)).toBe('unexpected-device-id')
    expect(refusal('spBv1.0/STATE/scada-host-1/extra')).toBe('too-many-levels')
  })

  it('refuses too few or too many levels', () => {
    expect(refusal('spBv1.0/Plant1/NDATA')).toBe('too-few-levels')
    expect(refusal('spBv1.0/STATE')).toBe('too-few-levels')
    expect(refusal('spBv1.0/Plant1/DDATA/Gateway01/Sensor07/extra')).toBe('too-many-levels')
  })

  it('refuses empty ids, trailing and doubled slashes (tck-id-topic-structure-namespace-valid-group-id, tck-id-topic-structure-namespace-valid-edge-node-id, tck-id-topic-structure-namespace-valid-device-id)', () => {
    expect(refusal('spBv1.0//NDATA/Gateway01')).toBe('empty-id')
    expect(refusal('spBv1.0/Plant1/NDATA/')).toBe('empty-id')
    expect(refusal('spBv1.0/Plant1/DDATA/Gateway01/')).toBe('empty-id')
    expect(refusal('spBv1.0/STATE/')).toBe('empty-id')
  })

  it('refuses wildcard characters and NUL in any id (tck-id-intro-group-id-chars, tck-id-intro-edge-node-id-chars, tck-id-intro-device-id-chars)', () => {
    expect(refusal('spBv1.0/+/NDATA/Gateway01')).toBe('reserved-character')
    expect(refusal('spBv1.0/Plant1/NDATA/#')).toBe('reserved-character')
    expect(refusal('spBv1.0/Plant1/DDATA/Gateway01/Sen+sor')).toBe('reserved-character')
    expect(refusal('spBv1.0/Plant1/DDATA/Gateway01/a#')).toBe('reserved-character')
    expect(refusal('spBv1.0/Pla\u0000nt1/NDATA/Gateway01')).toBe('reserved-character')
    expect(refusal('spBv1.0/STATE/host+1')).toBe('reserved-character')
  })

  it('checks the message type before the ids, and the ids before the device id rule', () => {
    expect(refusal('spBv1.0/+/NFOO/Gateway01')).toBe('message-type')
    expect(refusal('spBv1.0/Plant1/NDATA/+/Sensor07')).toBe('reserved-character')
  })

  it('round-trips every valid topic through format and parse', () => {
    for (const topic of ['spBv1.0/Plant1/NBIRTH/Gateway01', 'spBv1.0/Plant1/DDATA/Gateway01/Sensor07', 'spBv1.0/STATE/scada-host-1']) {
      const parsed = parseSparkplugTopic(topic)
      expect(parsed.ok).toBe(true)
      if (parsed.ok) expect(formatSparkplugTopic(parsed.topic)).toBe(topic)
    }
  })
})

describe('formatting the topics the host publishes', () => {
  it('formats NCMD, DCMD and STATE topics (tck-id-topics-ncmd-topic, tck-id-topics-dcmd-topic, tck-id-host-topic-phid-birth-topic, tck-id-host-topic-phid-death-topic)', () => {
    expect(nodeCommandTopic('Plant1', 'Gateway01')).toBe('spBv1.0/Plant1/NCMD/Gateway01')
    expect(deviceCommandTopic('Plant1', 'Gateway01', 'Sensor07')).toBe('spBv1.0/Plant1/DCMD/Gateway01/Sensor07')
    expect(hostStateTopic('scada-host-1')).toBe('spBv1.0/STATE/scada-host-1')
  })

  it('refuses to format a topic with an id it would refuse to read', () => {
    expect(() => nodeCommandTopic('Plant/1', 'Gateway01')).toThrow(SparkplugTopicError)
    expect(() => deviceCommandTopic('Plant1', 'Gateway01', '')).toThrow(/empty/)
    expect(() => hostStateTopic('#')).toThrow(SparkplugTopicError)
    try {
      nodeCommandTopic('Plant1', 'a+b')
    } catch (error) {
      expect((error as SparkplugTopicError).reason).toBe('reserved-character')
    }
  })

  it('names the problem with an id', () => {
    expect(sparkplugIdProblem('Gateway01')).toBeNull()
    expect(sparkplugIdProblem('')).toBe('empty-id')
    expect(sparkplugIdProblem('a/b')).toBe('reserved-character')
  })
})
