// The OTA protocol between console and node: commands as JSON in OTA/Command (NCMD), reports as OTA/*
// metrics in NBIRTH/NDATA. Both ends use these functions, so they are tested for both directions and
// for everything a broken or hostile peer might send.
import { describe, expect, it } from 'vitest'
import {
  encodeOtaCommand,
  otaCommandMetric,
  otaCommandPublish,
  otaJobId,
  otaMetricNames,
  otaReportMetrics,
  parseOtaCommand,
  parseOtaError,
  parseOtaJobId,
  parseOtaReport,
  type OtaCommand,
} from '../../shared/domain/ota/protocol'
import type { Metric } from '../../shared/domain/sparkplug/payload'

const SHA = '0123456789abcdef'.repeat(4)

describe('commands', () => {
  const download: OtaCommand = { op: 'download', job: 'r1/1', url: 'https://console.local/ota/a.bin', sha256: SHA, size: 1_234_567, version: '1.2.0' }

  it('encodes in the documented shape with a fixed key order', () => {
    expect(encodeOtaCommand(download)).toBe(`{"op":"download","job":"r1/1","url":"https://console.local/ota/a.bin","sha256":"${SHA}","size":1234567,"version":"1.2.0"}`)
    expect(encodeOtaCommand({ op: 'install', job: 'r1/1' })).toBe('{"op":"install","job":"r1/1"}')
    expect(encodeOtaCommand({ op: 'cancel', job: 'r1/1' })).toBe('{"op":"cancel","job":"r1/1"}')
  })

  it('round-trips through the node’s parser', () => {
    for (const c of [download, { op: 'install', job: 'r1/2' }, { op: 'cancel', job: 'x/3' }] as OtaCommand[]) {
      expect(parseOtaCommand(encodeOtaCommand(c))).toEqual({ ok: true, command: c })
    }
  })

  it('travels as an NCMD with one String metric, QoS 0', () => {
    expect(otaCommandMetric({ op: 'install', job: 'r1/1' })).toEqual({ name: 'OTA/Command', type: 'String', value: '{"op":"install","job":"r1/1"}' })
    const publish = otaCommandPublish('Plant1', 'esp-0042', { op: 'cancel', job: 'r1/1' }, 1_700_000_000_000)
    expect(publish).toMatchObject({ topic: 'spBv1.0/Plant1/NCMD/esp-0042', qos: 0, retain: false })
    expect(publish.payload.metrics).toEqual([{ name: 'OTA/Command', type: 'String', value: '{"op":"cancel","job":"r1/1"}' }])
  })

  it('refuses anything else with a reason', () => {
    const refused = (text: string, detail: string) => expect(parseOtaCommand(text)).toEqual({ ok: false, detail: expect.stringContaining(detail) })
    refused('not json', 'not JSON')
    refused('[1]', 'not a JSON object')
    refused('{"op":"install"}', 'no job')
    refused('{"op":"reboot","job":"r1/1"}', '"reboot" is not download')
    refused(`{"op":"download","job":"j","url":"u","sha256":"${SHA.toUpperCase()}","size":1,"version":"1"}`, 'sha256')
    refused(`{"op":"download","job":"j","url":"u","sha256":"${SHA}","size":-4,"version":"1"}`, 'size')
    refused(`{"op":"download","job":"j","url":"","sha256":"${SHA}","size":4,"version":"1"}`, 'url')
    refused(`{"op":"download","job":"j","url":"u","sha256":"${SHA}","size":4}`, 'version')
  })
})

describe('job ids', () => {
  it('name the rollout and the attempt', () => {
    expect(otaJobId('2024-06-rollout', 3)).toBe('2024-06-rollout/3')
    expect(parseOtaJobId('2024-06-rollout/3')).toEqual({ rolloutId: '2024-06-rollout', attempt: 3 })
    expect(parseOtaJobId('site/a/12')).toEqual({ rolloutId: 'site/a', attempt: 12 })
    for (const junk of ['', 'r1', '/2', 'r1/0', 'r1/01', 'r1/x', 'r1/1.5']) expect(parseOtaJobId(junk)).toBeNull()
  })
})

describe('reports', () => {
  const s = (name: string, value: string | null): Metric => ({ name, type: 'String', value })

  it('reads every OTA metric of an NBIRTH', () => {
    const parsed = parseOtaReport([
      { name: 'bdSeq', type: 'Int64', value: 3n },
      s(otaMetricNames.state, 'downloading'),
      s(otaMetricNames.job, 'r1/2'),
      { name: otaMetricNames.progress, type: 'UInt8', value: 42 },
      s(otaMetricNames.error, ''),
      s(otaMetricNames.firmwareVersion, '1.1.0'),
      s(otaMetricNames.runningSlot, 'ota_0'),
    ])
    expect(parsed).toEqual({
      relevant: true,
      problems: [],
      report: { state: 'downloading', job: 'r1/2', progress: 42, error: null, firmwareVersion: '1.1.0', runningSlot: 'ota_0' },
    })
  })

  it('round-trips what a node builds with otaReportMetrics', () => {
    const report = { state: 'rolled-back' as const, job: 'r1/1', error: parseOtaError('boot-failed: LoadProhibited'), firmwareVersion: '1.0.0', runningSlot: 'ota_0' }
    expect(parseOtaReport(otaReportMetrics(report)).report).toEqual(report)
  })

  it('reads OTA/Error as a code and the node’s own words', () => {
    expect(parseOtaError('checksum-mismatch: got 9f…')).toEqual({ code: 'checksum-mismatch', text: 'checksum-mismatch: got 9f…' })
    expect(parseOtaError('interrupted')).toEqual({ code: 'interrupted', text: 'interrupted' })
    expect(parseOtaError('ESP_ERR_NO_MEM')).toEqual({ code: 'other', text: 'ESP_ERR_NO_MEM' })
    expect(parseOtaError('  ')).toBeNull()
  })

  it('leaves out what is not the protocol and names it, so one bad field moves nothing', () => {
    const parsed = parseOtaReport([
      s(otaMetricNames.state, 'flashing'),
      { name: otaMetricNames.job, type: 'Int32', value: 7 },
      { name: otaMetricNames.progress, type: 'UInt8', value: 140 },
      { name: otaMetricNames.progress, type: 'Float', value: 12.5 },
    ])
    expect(parsed.report).toEqual({})
    expect(parsed.problems.map((p) => p.problem)).toEqual(['unknown-state', 'wrong-type', 'bad-progress', 'bad-progress'])
    expect(parsed.problems[0]!.detail).toBe('OTA/State "flashing" is not a state of the protocol.')
  })

  it('takes a null String as empty and a UInt8 sent as bigint as a number', () => {
    expect(parseOtaReport([s(otaMetricNames.job, null), { name: otaMetricNames.progress, type: 'UInt8', value: 7n as unknown as number }]).report).toEqual({ job: '', progress: 7 })
  })

  it('says when a message has nothing for OTA', () => {
    expect(parseOtaReport([{ name: 'Diagnostics/Uptime', type: 'UInt64', value: 5n }, { alias: 3n, type: 'String', value: 'x' }]).relevant).toBe(false)
  })
})
