import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../electron/core'
import { historyPolicy, MetricHistory } from '../../electron/core/fleet/metric-history'
import { openStore, type Store } from '../../electron/core/store/store'

let dir: string
let store: Store
let history: MetricHistory
const key = 'Plant1/esp32-001/Sensor01'
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-history-'))
  store = openStore({ dataDir: dir, log: silentLogger })
  history = new MetricHistory(store.open!)
})

afterEach(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const raw = (metric: string, from = T0 - 1, to = T0 + 3600_000) => history.query(key, metric, from, to, 10_000, T0 + 60_000)

describe('MetricHistory', () => {
  it('keeps at most one raw number a second, the last of each burst, and roll-ups that count every update', () => {
    // 1,000 updates in one second: a flood from one node.
    for (let i = 0; i < 1000; i++) history.record(key, 'Sensors/Temperature', 'Float', T0 + i, i === 500 ? 99 : 20 + i / 1000)
    history.flush()
    const points = raw('Sensors/Temperature')
    expect(points.times).toEqual([T0, T0 + 999])
    expect(points.values[0]).toBeCloseTo(20)
    expect(points.values[1]).toBeCloseTo(20.999)
    // The spike in the middle of the burst is in the roll-up's max, with every update counted.
    const rolled = history.query(key, 'Sensors/Temperature', T0 - 11 * 3600_000, T0 + 3600_000, 1000, T0 + 60_000)
    expect(rolled.resolution).toBe(historyPolicy.tiers[0].resolution)
    expect(rolled.max).toEqual([99])
    expect(rolled.min![0]).toBeCloseTo(20)
    // (999 × 20 + (0 + 1 + … + 999 − 500) / 1000 + 99) / 1000
    expect(rolled.values[0]).toBeCloseTo(20.578, 6)
  })

  it('keeps every change of a boolean or text, however fast', () => {
    for (let i = 0; i < 6; i++) history.record(key, 'Sensors/Door Open', 'Boolean', T0 + i * 10, i % 2 === 1)
    history.flush()
    expect(raw('Sensors/Door Open').values).toEqual([0, 1, 0, 1, 0, 1])
  })

  it('drops an in-between value when a burst ends where it started', () => {
    history.record(key, 'Sensors/Temperature', 'Float', T0, 20)
    history.record(key, 'Sensors/Temperature', 'Float', T0 + 100, 25)
    history.record(key, 'Sensors/Temperature', 'Float', T0 + 200, 20)
    history.flush()
    expect(raw('Sensors/Temperature').values).toEqual([20])
  })

  it('stores an unchanged value again after the heartbeat, so a gap in the chart means silence', () => {
    history.record(key, 'Sensors/Temperature', 'Float', T0, 20)
    history.record(key, 'Sensors/Temperature', 'Float', T0 + 30_000, 20)
    history.record(key, 'Sensors/Temperature', 'Float', T0 + historyPolicy.heartbeatMs, 20)
    history.flush()
    expect(raw('Sensors/Temperature').times).toEqual([T0, T0 + historyPolicy.heartbeatMs])
  })

  it('adds roll-up deltas across flushes and finds the series again after a restart', () => {
    history.record(key, 'Sensors/Temperature', 'Float', T0, 10)
    history.flush()
    history.record(key, 'Sensors/Temperature', 'Float', T0 + 2000, 30)
    history.flush()
    const again = new MetricHistory(store.open!)
    again.record(key, 'Sensors/Temperature', 'Float', T0 + 4000, 20)
    again.flush()
    const rolled = again.query(key, 'Sensors/Temperature', T0 - 11 * 3600_000, T0 + 3600_000, 1000, T0 + 60_000)
    expect(rolled).toMatchObject({ values: [20], min: [10], max: [30] })
    expect(raw('Sensors/Temperature').values).toEqual([10, 30, 20])
  })
})
