import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import type { DeviceDetail, FleetRow, SeriesPoints, StreamDiff } from '../../shared/contract'
import { startVirtualFleet, type VirtualFleet } from '../../simulator/fleet/fleet'
import { until } from '../support/until'

let dir: string
let core: Core
let fleet: VirtualFleet | null
let rows: Map<string, FleetRow>
let pushes: Map<string, number>
const operator = { actor: 'ada', via: 'local' } as const


function startCore(): Core {
  const started = createCore({ dataDir: join(dir, 'data'), host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
  rows = new Map()
  pushes = new Map()
  started.events.subscribe((event, payload) => {
    if (event !== 'fleet') return
    const diff = payload as StreamDiff<FleetRow>
    for (const [key, row] of Object.entries(diff.set)) {
      rows.set(key, row)
      pushes.set(key, (pushes.get(key) ?? 0) + 1)
    }
    for (const key of diff.deleted) rows.delete(key)
  })
  return started
}

async function device(key: string): Promise<DeviceDetail> {
  const outcome = await core.dispatch('fleet.device', { key }, operator)
  if (!outcome.ok) throw new Error(outcome.error.message)
  return outcome.value as DeviceDetail
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'console-fleet-'))
  core = startCore()
  await until('the broker', () => core.health().services.broker.state === 'up')
  fleet = await startVirtualFleet({ brokerUrl: core.broker.url!, groupId: 'Plant1', nodes: 3, devicesPerNode: 2, rateHz: 5, hostId: 'esp-fleet-console', bootDelayMs: 0, seed: 7, doorOpensPerHour: 0 })
  await until('nine rows online', () => [...rows.values()].filter((row) => row.state === 'online').length === 9)
})

afterEach(async () => {
  await fleet?.stop()
  await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

describe('the console as Sparkplug host of a virtual fleet', () => {
  it('shows every edge node and device online with firmware and RSSI, and their metrics with units', async () => {
    const node = rows.get('Plant1/esp32-001')!
    expect(node).toMatchObject({ kind: 'node', group: 'Plant1', node: 'esp32-001', device: '', state: 'online' })
    expect(node.firmware).toMatch(/^\d+\.\d+\.\d+$/)
    expect(node.rssi).toBeLessThan(-30)
    const sensor = await device('Plant1/esp32-001/Sensor01')
    const temperature = sensor.metrics.find((metric) => metric.name === 'Sensors/Temperature')!
    expect(temperature).toMatchObject({ type: 'Float', unit: '°C', stale: false })
    expect(typeof temperature.value).toBe('number')
    expect(sensor.birth).toMatchObject({ metricCount: expect.any(Number) })
    expect((await device('Plant1/esp32-001')).lifecycle.map((entry) => entry.kind)).toContain('online')
  })

  it('marks a node that vanishes without a clean death offline, with every metric of it and its devices STALE (tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-tags-stale)', async () => {
    fleet!.inject('esp32-002', { kind: 'crash', offMs: 60_000 })
    await until('the node offline', () => rows.get('Plant1/esp32-002')?.state === 'offline')
    await until('its devices offline', () => rows.get('Plant1/esp32-002/Sensor01')?.state === 'offline' && rows.get('Plant1/esp32-002/Sensor02')?.state === 'offline')
    const node = await device('Plant1/esp32-002')
    expect(node.metrics.length).toBeGreaterThan(5)
    expect(node.metrics.every((metric) => metric.stale)).toBe(true)
    expect((await device('Plant1/esp32-002/Sensor01')).metrics.every((metric) => metric.stale)).toBe(true)
    expect(node.lifecycle.find((entry) => entry.key === 'Plant1/esp32-002')).toMatchObject({ kind: 'offline', detail: 'Death certificate' })
    expect(node.lifecycle.find((entry) => entry.key === 'Plant1/esp32-002/Sensor01')).toMatchObject({ kind: 'offline', detail: 'Its edge node died' })
    // The others keep going.
    expect(rows.get('Plant1/esp32-001')?.state).toBe('online')
  })

  it('pushes a row whose only change is "last seen" at most every 5 s, and a change of state at once', async () => {
    const key = 'Plant1/esp32-001/Sensor01'
    await new Promise((resolve) => setTimeout(resolve, 5200))
    pushes.clear()
    // The sensor reports 5 times a second; its row changes only in lastSeen.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    expect(pushes.get(key) ?? 0).toBeLessThanOrEqual(1)
    fleet!.inject('esp32-001', { kind: 'crash', offMs: 60_000 })
    await until('the offline row at once', () => rows.get(key)?.state === 'offline', 1500)
  })

  it('sends a Rebirth on request, audited, and the node answers with a new birth', async () => {
    const before = fleet!.node('esp32-003').counters.NBIRTH
    expect(await core.dispatch('fleet.rebirth', { key: 'Plant1/esp32-003' }, operator)).toEqual({ ok: true, value: { requested: true } })
    await until('a new NBIRTH', () => fleet!.node('esp32-003').counters.NBIRTH > before)
    expect(await core.dispatch('audit.list', {}, operator)).toMatchObject({ ok: true, value: [{ actor: 'ada', action: 'request rebirth', target: 'Plant1/esp32-003', outcome: 'ok' }] })
    await until('the rebirth in the lifecycle', async () => (await device('Plant1/esp32-003')).lifecycle.some((entry) => entry.kind === 'online' && entry.detail === 'Rebirth'))
  })

  it('writes a device output by DCMD, typed by its birth, and sees the device report the new value', async () => {
    const key = 'Plant1/esp32-001/Sensor02'
    expect(await core.dispatch('fleet.write', { key, metric: 'Outputs/Relay', value: 1 }, operator)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', message: expect.stringContaining('true or false') } })
    expect(await core.dispatch('fleet.write', { key, metric: 'Outputs/Relay', value: true }, operator)).toEqual({ ok: true, value: { sent: true } })
    await until('the relay reported on', async () => (await device(key)).metrics.find((metric) => metric.name === 'Outputs/Relay')?.value === true)
    expect(await core.dispatch('audit.list', {}, operator)).toMatchObject({ ok: true, value: [{ action: 'write metric', target: key, detail: 'DCMD Outputs/Relay = true' }] })
    expect(await core.dispatch('fleet.write', { key, metric: 'Nope', value: true }, operator)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } })
  })

  it('counts malformed payloads as protocol errors of the node, visible on its screen, and keeps its state right', async () => {
    fleet!.inject('esp32-001', { kind: 'malformed' })
    await until('a protocol error counted', () => (rows.get('Plant1/esp32-001')?.protocolErrors ?? 0) > 0)
    const node = await device('Plant1/esp32-001')
    expect(node.protocolErrors[0]!.reason).toContain('malformed payload')
    expect(node.row.state).toBe('online')
  })

  it('keeps a metric history that answers a chart', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const outcome = await core.dispatch('fleet.series', { key: 'Plant1/esp32-001/Sensor01', metric: 'Sensors/Temperature', from: Date.now() - 60_000, to: Date.now() }, operator)
    expect(outcome.ok).toBe(true)
    if (!outcome.ok) return
    const series = outcome.value as SeriesPoints
    expect(series.resolution).toBe(0)
    // The fleet sends 5 samples a second; raw history keeps about one a second (the roll-ups count all).
    expect(series.times.length).toBeGreaterThanOrEqual(2)
    const seconds = (series.times.at(-1)! - series.times[0]!) / 1000
    expect(series.times.length).toBeLessThanOrEqual(2 * seconds + 2)
    expect(series.values.every((value) => typeof value === 'number')).toBe(true)
  })

  it('refuses a demo fault when the demo fleet is off, and for a node outside it, saying what to do', async () => {
    expect(await core.dispatch('demo.fault', { key: 'Demo/esp32-001', fault: 'power-cut' }, operator)).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringContaining('Settings → Demo fleet') } })
    await core.dispatch('settings.update', { demoFleet: true, demoFleetNodes: 2, demoFleetDevices: 1 }, operator)
    await until('the demo online', () => rows.get('Demo/esp32-002')?.state === 'online')
    expect(await core.dispatch('demo.fault', { key: 'Plant1/esp32-001', fault: 'crash' }, operator)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND', message: expect.stringContaining('not a node of the demo fleet') } })
    expect(rows.get('Plant1/esp32-001')?.state).toBe('online')
    expect(await core.dispatch('demo.fault', { key: 'Demo/esp32-002', fault: 'hang' }, operator)).toMatchObject({ ok: true })
    expect(await core.dispatch('audit.list', { limit: 1 }, operator)).toMatchObject({ ok: true, value: [{ action: 'demo fault', target: 'Demo/esp32-002', outcome: 'ok' }] })
  })

  it('lists a board flashed on the bench as expected, across a restart, until its first birth', async () => {
    core.fleet.expect('Plant1', 'NODE-001', '2.0.1', Date.now())
    await until('the expected row', () => rows.get('Plant1/NODE-001')?.state === 'expected')
    expect(rows.get('Plant1/NODE-001')).toMatchObject({ firmware: '2.0.1', lastSeen: null })
    expect((await device('Plant1/NODE-001')).lifecycle[0]).toMatchObject({ kind: 'expected' })
    await fleet!.stop()
    await core.dispose()
    core = startCore()
    await until('the broker', () => core.health().services.broker.state === 'up')
    await until('still expected after a restart', () => rows.get('Plant1/NODE-001')?.state === 'expected')
    fleet = await startVirtualFleet({ brokerUrl: core.broker.url!, groupId: 'Plant1', nodeIdPrefix: 'NODE-', nodes: 1, devicesPerNode: 1, rateHz: 1, hostId: 'esp-fleet-console', bootDelayMs: 0, seed: 3 })
    await until('online once born', () => rows.get('Plant1/NODE-001')?.state === 'online')
  })

  it('after a console restart shows every known device STALE until its birth arrives', async () => {
    await fleet!.stop()
    fleet = null
    await core.dispose()
    core = startCore()
    await until('restored rows', () => rows.size === 9)
    expect([...rows.values()].every((row) => row.state === 'stale')).toBe(true)
    expect(rows.get('Plant1/esp32-001')!.lastSeen).toBeGreaterThan(0)
  })
})
