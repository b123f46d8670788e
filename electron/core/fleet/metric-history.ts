import type { Statement } from 'better-sqlite3'
import type { SeriesPoints } from '../../../shared/contract'
import type { OpenStore } from '../store/store'

/**
 * How long each tier is kept. Raw samples answer "what happened just now"; roll-ups keep the shape of
 * a month of 1 Hz data from a thousand devices in a few million rows, with min and max so a spike is
 * never averaged away.
 */
export const historyPolicy = {
  rawMs: 6 * 3600_000,
  /** A value that has not changed is stored again after this long, so gaps mean silence. */
  heartbeatMs: 60_000,
  /**
   * Raw samples of a number are at least this far apart; the last value of a faster burst is kept.
   * Charts show a second per point at best, while a node in a flood can send thousands a second:
   * storing each would spend the console's time on rows nobody can see. Roll-ups still count every
   * update, so min and max never miss a spike. Booleans and text are events: every change is kept.
   */
  rawMinIntervalMs: 1000,
  tiers: [
    { resolution: 60, keepMs: 14 * 86_400_000 },
    { resolution: 900, keepMs: 400 * 86_400_000 },
  ],
} as const

export type SampleValue = number | string | boolean | null

interface Accumulator {
  /** -1 before the first value. */
  bucket: number
  count: number
  min: number
  max: number
  sum: number
  last: number
}

interface SeriesState {
  id: number
  lastStoredAt: number
  /** undefined until the first sample, so the first is always stored. */
  lastStoredValue: SampleValue | undefined
  /** A number that came too soon after the last stored one: written at the next flush unless replaced. */
  pending: { at: number; value: number } | null
  /** Deltas since the last flush, one per roll-up tier. */
  rollups: Accumulator[]
}

/** Metric time series: buffered in memory, written by the store's one writer in batches. */
export class MetricHistory {
  /** By device key, then metric name. */
  private readonly series = new Map<string, Map<string, SeriesState>>()
  private readonly touched = new Set<SeriesState>()
  private raw: { id: number; at: number; value: number | null; text: string | null }[] = []
  private closedRollups: ({ id: number; resolution: number } & Accumulator)[] = []
  private readonly insertSample: Statement
  private readonly upsertRollup: Statement
  private readonly findSeries: Statement
  private readonly createSeries: Statement

  constructor(private readonly store: OpenStore) {
    const db = store.db
    this.insertSample = db.prepare('INSERT OR REPLACE INTO metric_samples (series_id, at, value, text) VALUES (?, ?, ?, ?)')
    this.upsertRollup = db.prepare(`
      INSERT INTO metric_rollups (series_id, resolution, bucket, count, min, max, sum, last) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (series_id, resolution, bucket) DO UPDATE SET
        count = count + excluded.count, min = min(min, excluded.min), max = max(max, excluded.max),
        sum = sum + excluded.sum, last = excluded.last`)
    this.findSeries = db.prepare('SELECT id FROM metric_series WHERE device_key = ? AND name = ?')
    this.createSeries = db.prepare('INSERT INTO metric_series (device_key, name, datatype) VALUES (?, ?, ?)')
  }

  record(deviceKey: string, name: string, datatype: string, at: number, value: SampleValue): void {
    const state = this.seriesFor(deviceKey, name, datatype)
    if (value !== state.lastStoredValue || at - state.lastStoredAt >= historyPolicy.heartbeatMs) {
      if (typeof value === 'number' && at - state.lastStoredAt < historyPolicy.rawMinIntervalMs) {
        state.pending = { at, value }
        this.touched.add(state)
      } else {
        state.pending = null
        this.keepRaw(state, at, value)
      }
    } else {
      // Back to the stored value within the interval: the value in between is no longer the latest.
      state.pending = null
    }
    const numeric = typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null
    if (numeric === null || !Number.isFinite(numeric)) return
    const tiers = historyPolicy.tiers
    for (let index = 0; index < tiers.length; index++) {
      const resolution = tiers[index]!.resolution
      const bucket = Math.floor(at / 1000 / resolution) * resolution
      const current = state.rollups[index]!
      if (current.bucket !== bucket) {
        if (current.count > 0) this.closedRollups.push({ id: state.id, resolution, ...current })
        current.bucket = bucket
        current.count = 0
        current.min = Infinity
        current.max = -Infinity
        current.sum = 0
      }
      current.count++
      if (numeric < current.min) current.min = numeric
      if (numeric > current.max) current.max = numeric
      current.sum += numeric
      current.last = numeric
    }
    this.touched.add(state)
  }

  /** Hands everything buffered to the writer as one batch. */
  flush(): void {
    const rollups = this.closedRollups
    // Open buckets are written as deltas too (the upsert adds them up), so a crash loses at most one flush.
    for (const state of this.touched) {
      if (state.pending) {
        this.keepRaw(state, state.pending.at, state.pending.value)
        state.pending = null
      }
      historyPolicy.tiers.forEach((tier, index) => {
        const open = state.rollups[index]!
        if (open.count === 0) return
        rollups.push({ id: state.id, resolution: tier.resolution, ...open })
        open.count = 0
        open.min = Infinity
        open.max = -Infinity
        open.sum = 0
      })
    }
    const raw = this.raw
    this.touched.clear()
    this.raw = []
    this.closedRollups = []
    if (raw.length === 0 && rollups.length === 0) return
    this.store.writer.enqueue(() => {
      for (const sample of raw) this.insertSample.run(sample.id, sample.at, sample.value, sample.text)
      for (const r of rollups) this.upsertRollup.run(r.id, r.resolution, r.bucket, r.count, r.min, r.max, r.sum, r.last)
    })
  }

  /** Drops what each tier no longer keeps, one series at a time so the writer is never held long. */
  prune(now: number): void {
    const ids = (this.store.db.prepare('SELECT id FROM metric_series').all() as { id: number }[]).map((row) => row.id)
    const deleteRaw = this.store.db.prepare('DELETE FROM metric_samples WHERE series_id = ? AND at < ?')
    const deleteRollups = this.store.db.prepare('DELETE FROM metric_rollups WHERE series_id = ? AND resolution = ? AND bucket < ?')
    for (const id of ids) {
      this.store.writer.enqueue(() => {
        deleteRaw.run(id, now - historyPolicy.rawMs)
        for (const tier of historyPolicy.tiers) deleteRollups.run(id, tier.resolution, Math.floor((now - tier.keepMs) / 1000))
      })
    }
  }

  /** Raw samples when the range is short and recent enough, else the finest roll-up that fits. */
  query(deviceKey: string, name: string, from: number, to: number, maxPoints: number, now: number): SeriesPoints {
    this.store.writer.flush()
    const row = this.findSeries.get(deviceKey, name) as { id: number } | undefined
    if (!row) return { metric: name, resolution: 0, times: [], values: [] }
    const spanSeconds = (to - from) / 1000
    if (from >= now - historyPolicy.rawMs && spanSeconds <= 2 * 3600) {
      const samples = this.store.db
        .prepare('SELECT at, value FROM metric_samples WHERE series_id = ? AND at >= ? AND at <= ? ORDER BY at')
        .all(row.id, from, to) as { at: number; value: number | null }[]
      const step = Math.max(1, Math.ceil(samples.length / maxPoints))
      const kept = step === 1 ? samples : samples.filter((_, index) => index % step === 0 || index === samples.length - 1)
      return { metric: name, resolution: 0, times: kept.map((s) => s.at), values: kept.map((s) => s.value) }
    }
    const tier = historyPolicy.tiers.find((t) => spanSeconds / t.resolution <= maxPoints && from >= now - t.keepMs) ?? historyPolicy.tiers[historyPolicy.tiers.length - 1]!
    const buckets = this.store.db
      .prepare('SELECT bucket, count, min, max, sum FROM metric_rollups WHERE series_id = ? AND resolution = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket')
      .all(row.id, tier.resolution, Math.floor(from / 1000 / tier.resolution) * tier.resolution, Math.floor(to / 1000)) as { bucket: number; count: number; min: number; max: number; sum: number }[]
    return {
      metric: name,
      resolution: tier.resolution,
      times: buckets.map((b) => b.bucket * 1000),
      values: buckets.map((b) => b.sum / b.count),
      min: buckets.map((b) => b.min),
      max: buckets.map((b) => b.max),
    }
  }

  private keepRaw(state: SeriesState, at: number, value: SampleValue): void {
    state.lastStoredAt = at
    state.lastStoredValue = value
    this.raw.push(
      typeof value === 'number'
        ? { id: state.id, at, value, text: null }
        : { id: state.id, at, value: typeof value === 'boolean' ? Number(value) : null, text: typeof value === 'string' ? value : null },
    )
  }

  private seriesFor(deviceKey: string, name: string, datatype: string): SeriesState {
    let ofDevice = this.series.get(deviceKey)
    if (!ofDevice) this.series.set(deviceKey, (ofDevice = new Map()))
    let state = ofDevice.get(name)
    if (state) return state
    const found = this.findSeries.get(deviceKey, name) as { id: number } | undefined
    const id = found ? found.id : Number(this.store.writer.now(() => this.createSeries.run(deviceKey, name, datatype)).lastInsertRowid)
    state = {
      id,
      lastStoredAt: -Infinity,
      lastStoredValue: undefined,
      pending: null,
      rollups: historyPolicy.tiers.map(() => ({ bucket: -1, count: 0, min: Infinity, max: -Infinity, sum: 0, last: 0 })),
    }
    ofDevice.set(name, state)
    return state
  }
}
