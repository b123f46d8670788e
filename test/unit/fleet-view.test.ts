import { describe, expect, it } from 'vitest'
import type { DeviceState, FleetRow } from '../../shared/contract'
import { commandSentence, commandVerb, formatAgo, formatMetricValue, isChartable, parseWriteValue } from '../../renderer/src/features/fleet/fleet-format'
import {
  compareNatural,
  countByState,
  createVisibleRowsSelector,
  groupsOf,
  mergeFleetDiff,
  moveSelection,
  nodeKeyOf,
  visibleRows,
  type FleetQuery,
  type FleetRows,
  type SortColumn,
} from '../../renderer/src/features/fleet/fleet-model'

const now = 1_750_000_000_000

function row(key: string, patch: Partial<FleetRow> = {}): FleetRow {
  const [group = '', node = '', device = ''] = key.split('/')
  return {
    key,
    kind: device ? 'device' : 'node',
    group,
    node,
    device,
    state: 'online',
    firmware: '1.0.0',
    rssi: -60,
    lastSeen: now - 5000,
    reboots24h: 0,
    protocolErrors: 0,
    ...patch,
  }
}

function record(...rows: FleetRow[]): FleetRows {
  return Object.fromEntries(rows.map((r) => [r.key, r]))
}

const allRows: FleetQuery = { text: '', state: 'all', group: '', sort: { column: 'group', direction: 'ascending' } }
const keys = (rows: FleetRow[]) => rows.map((r) => r.key)

/** A plant's worth of rows: groups, nodes with devices behind them, every state, some never heard. */
function fleetOf(count: number): FleetRows {
  const states: DeviceState[] = ['online', 'online', 'online', 'online', 'offline', 'stale', 'silent', 'expected']
  const rows: Record<string, FleetRow> = {}
  for (let i = 0; i < count; i++) {
    const node = Math.floor(i / 6)
    const device = i % 6
    const key = device === 0 ? `Plant${node % 9}/node-${node}` : `Plant${node % 9}/node-${node}/sensor-${device}`
    rows[key] = row(key, {
      state: states[i % states.length]!,
      firmware: `2.${i % 4}.${i % 7}`,
      rssi: i % 11 === 0 ? null : -40 - (i % 50),
      lastSeen: i % 13 === 0 ? null : now - ((i * 7919) % 600_000),
      reboots24h: i % 17,
      protocolErrors: (i * 31) % 5,
    })
  }
  return rows
}

describe('applying fleet diffs', () => {
  it('replaces changed rows, drops deleted ones and keeps every other row object', () => {
    const a = row('P/n1')
    const b = row('P/n2')
    const c = row('P/n3')
    const current = record(a, b, c)
    const next = mergeFleetDiff(current, { set: { 'P/n2': row('P/n2', { state: 'offline' }), 'P/n4': row('P/n4') }, deleted: ['P/n3'] })
    expect(Object.keys(next).sort()).toEqual(['P/n1', 'P/n2', 'P/n4'])
    expect(next['P/n1']).toBe(a)
    expect(next['P/n2']!.state).toBe('offline')
    expect(current['P/n3']).toBe(c)
  })

  it('keeps the old object for a row sent again with the same values, and the same record when nothing changed', () => {
    const a = row('P/n1')
    const current = record(a)
    const next = mergeFleetDiff(current, { set: { 'P/n1': row('P/n1') }, deleted: ['P/unknown'] })
    expect(next).toBe(current)
    expect(next['P/n1']).toBe(a)
  })

  it('treats the snapshot after a reconnect as the whole fleet', () => {
    const a = row('P/n1')
    const gone = row('P/n2')
    const next = mergeFleetDiff(record(a, gone), { set: { 'P/n1': row('P/n1'), 'P/n5': row('P/n5') }, deleted: [] }, true)
    expect(Object.keys(next).sort()).toEqual(['P/n1', 'P/n5'])
    expect(next['P/n1']).toBe(a)
    const same = record(a)
    expect(mergeFleetDiff(same, { set: { 'P/n1': row('P/n1') }, deleted: [] }, true)).toBe(same)
  })
})

describe('visible rows', () => {
  const rows = record(
    row('Plant1/node-10', { firmware: '2.1.0', rssi: -70, state: 'online', lastSeen: now - 1000, reboots24h: 1 }),
    row('Plant1/node-2', { firmware: '2.0.9', rssi: null, state: 'offline', lastSeen: null, reboots24h: 3 }),
    row('Plant1/node-2/pump-A', { firmware: '1.4.0', rssi: -55, state: 'silent', lastSeen: now - 90_000, protocolErrors: 4 }),
    row('Plant2/node-1', { firmware: '2.1.0', rssi: -80, state: 'stale', lastSeen: now - 3000 }),
    row('Plant2/node-1/Valve', { firmware: '2.1.0', rssi: -80, state: 'expected', lastSeen: null }),
  )

  it('sorts by group in natural order: node-2 before node-10, devices after their node', () => {
    expect(keys(visibleRows(rows, allRows))).toEqual(['Plant1/node-2', 'Plant1/node-2/pump-A', 'Plant1/node-10', 'Plant2/node-1', 'Plant2/node-1/Valve'])
    expect(compareNatural('node-0003', 'node-12')).toBeLessThan(0)
  })

  it('filters by every word of the text, in key or firmware, ignoring case', () => {
    expect(keys(visibleRows(rows, { ...allRows, text: 'PUMP' }))).toEqual(['Plant1/node-2/pump-A'])
    expect(keys(visibleRows(rows, { ...allRows, text: 'plant2 2.1' }))).toEqual(['Plant2/node-1', 'Plant2/node-1/Valve'])
    expect(keys(visibleRows(rows, { ...allRows, text: '  valve  ' }))).toEqual(['Plant2/node-1/Valve'])
    expect(visibleRows(rows, { ...allRows, text: 'nothing-like-this' })).toEqual([])
  })

  it('filters by state and by group', () => {
    expect(keys(visibleRows(rows, { ...allRows, state: 'offline' }))).toEqual(['Plant1/node-2'])
    expect(keys(visibleRows(rows, { ...allRows, group: 'Plant2' }))).toEqual(['Plant2/node-1', 'Plant2/node-1/Valve'])
    expect(keys(visibleRows(rows, { ...allRows, group: 'Plant2', state: 'expected' }))).toEqual(['Plant2/node-1/Valve'])
  })

  it('puts problems first when sorted by state, and ties fall back to the key', () => {
    expect(keys(visibleRows(rows, { ...allRows, sort: { column: 'state', direction: 'ascending' } }))).toEqual([
      'Plant1/node-2',
      'Plant1/node-2/pump-A',
      'Plant2/node-1',
      'Plant2/node-1/Valve',
      'Plant1/node-10',
    ])
    const byFirmware = keys(visibleRows(rows, { ...allRows, sort: { column: 'firmware', direction: 'descending' } }))
    expect(byFirmware).toEqual(['Plant1/node-10', 'Plant2/node-1', 'Plant2/node-1/Valve', 'Plant1/node-2', 'Plant1/node-2/pump-A'])
  })

  it('keeps missing RSSI and never-seen devices last in both directions', () => {
    for (const direction of ['ascending', 'descending'] as const) {
      const byRssi = keys(visibleRows(rows, { ...allRows, sort: { column: 'rssi', direction } }))
      expect(byRssi.at(-1)).toBe('Plant1/node-2')
      const bySeen = keys(visibleRows(rows, { ...allRows, sort: { column: 'lastSeen', direction } }))
      expect(bySeen.slice(-2)).toEqual(['Plant1/node-2', 'Plant2/node-1/Valve'])
    }
    expect(keys(visibleRows(rows, { ...allRows, sort: { column: 'rssi', direction: 'descending' } })).slice(0, 2)).toEqual(['Plant1/node-2/pump-A', 'Plant1/node-10'])
    expect(keys(visibleRows(rows, { ...allRows, sort: { column: 'lastSeen', direction: 'descending' } }))[0]).toBe('Plant1/node-10')
  })

  it('sorts counts numerically', () => {
    expect(keys(visibleRows(rows, { ...allRows, sort: { column: 'reboots24h', direction: 'descending' } })).slice(0, 2)).toEqual(['Plant1/node-2', 'Plant1/node-10'])
    expect(keys(visibleRows(rows, { ...allRows, sort: { column: 'protocolErrors', direction: 'descending' } }))[0]).toBe('Plant1/node-2/pump-A')
  })

  it('answers from memory while rows, filter and sort are the same objects and values', () => {
    const select = createVisibleRowsSelector()
    const first = select(rows, allRows)
    expect(select(rows, { ...allRows })).toBe(first)
    expect(select(rows, { ...allRows, text: 'plant1' })).not.toBe(first)
    const changed = mergeFleetDiff(rows, { set: { 'Plant2/node-1': row('Plant2/node-1', { state: 'online' }) }, deleted: [] })
    expect(select(changed, { ...allRows, text: 'plant1' })).not.toBe(first)
  })

  it('counts states and lists groups', () => {
    expect(countByState(rows)).toEqual({ online: 1, offline: 1, stale: 1, silent: 1, expected: 1 })
    expect(groupsOf(rows)).toEqual(['Plant1', 'Plant2'])
    expect(nodeKeyOf(rows['Plant1/node-2/pump-A']!)).toBe('Plant1/node-2')
  })
})

describe('10,000 devices', () => {
  it('filters and sorts in well under 100 ms', () => {
    const rows = fleetOf(10_000)
    expect(Object.keys(rows)).toHaveLength(10_000)
    const columns: SortColumn[] = ['state', 'group', 'node', 'device', 'firmware', 'rssi', 'lastSeen', 'reboots24h', 'protocolErrors']
    const timings: Record<string, number> = {}
    const time = (label: string, query: FleetQuery) => {
      const start = performance.now()
      const result = visibleRows(rows, query)
      timings[label] = Math.round((performance.now() - start) * 10) / 10
      return result
    }
    // The first run pays for the natural sort keys and search text of every row.
    expect(time('first (cold), by group', allRows)).toHaveLength(10_000)
    for (const column of columns) time(`sort by ${column}`, { ...allRows, sort: { column, direction: 'descending' } })
    expect(time('text "plant3 2.1" + sort by RSSI', { ...allRows, text: 'plant3 2.1', sort: { column: 'rssi', direction: 'ascending' } }).length).toBeGreaterThan(0)
    time('state offline + sort by last seen', { ...allRows, state: 'offline', sort: { column: 'lastSeen', direction: 'descending' } })
    // After a diff of 500 changed rows (new objects: their search text is made again).
    const diff = { set: Object.fromEntries(Object.values(rows).slice(0, 500).map((r) => [r.key, { ...r, lastSeen: now }])), deleted: [] }
    const updated = mergeFleetDiff(rows, diff)
    const start = performance.now()
    visibleRows(updated, { ...allRows, text: 'sensor', sort: { column: 'lastSeen', direction: 'descending' } })
    timings['after a 500-row diff, text + sort'] = Math.round((performance.now() - start) * 10) / 10

    console.info('fleet filter+sort, 10,000 rows (ms):', timings)
    for (const [label, ms] of Object.entries(timings)) expect(ms, label).toBeLessThan(100)
  })

  it('applies a 500-row diff to 10,000 rows quickly, keeping the 9,500 others', () => {
    const rows = fleetOf(10_000)
    const changedKeys = Object.keys(rows).slice(0, 500)
    const diff = { set: Object.fromEntries(changedKeys.map((key) => [key, { ...rows[key]!, lastSeen: now + 1 }])), deleted: [] }
    const start = performance.now()
    const next = mergeFleetDiff(rows, diff)
    const ms = performance.now() - start
    console.info(`fleet diff, 500 of 10,000 rows: ${ms.toFixed(1)} ms`)
    expect(ms).toBeLessThan(50)
    const untouched = Object.keys(rows).slice(500)
    expect(untouched.every((key) => next[key] === rows[key])).toBe(true)
  })
})

describe('keyboard selection', () => {
  const list = ['a', 'b', 'c', 'd']
  it('moves by one, by a page and to the ends, and starts at the top', () => {
    expect(moveSelection(list, null, 'next')).toBe('a')
    expect(moveSelection(list, 'a', 'next')).toBe('b')
    expect(moveSelection(list, 'd', 'next')).toBe('d')
    expect(moveSelection(list, 'a', 'previous')).toBe('a')
    expect(moveSelection(list, 'b', 'pageDown', 10)).toBe('d')
    expect(moveSelection(list, 'c', 'pageUp', 2)).toBe('a')
    expect(moveSelection(list, 'b', 'last')).toBe('d')
    expect(moveSelection(list, 'gone-after-filter', 'previous')).toBe('a')
    expect(moveSelection([], 'a', 'next')).toBeNull()
  })
})

describe('fleet wording', () => {
  it('says how long ago, in seconds, minutes, hours and days', () => {
    expect(formatAgo(null, now)).toBe('never')
    expect(formatAgo(now + 2000, now)).toBe('just now')
    expect(formatAgo(now - 12_000, now)).toBe('12 s ago')
    expect(formatAgo(now - 5 * 60_000, now)).toBe('5 min ago')
    expect(formatAgo(now - 3 * 3600_000, now)).toBe('3 h ago')
    expect(formatAgo(now - 3 * 86_400_000, now)).toBe('3 d ago')
  })

  it('words a command exactly as it will be sent', () => {
    expect(commandSentence({ verb: 'NCMD', metric: 'Node Control/Rebirth', value: true, target: 'Plant1/node-0003' })).toBe(
      'Send NCMD Node Control/Rebirth = true to Plant1/node-0003?',
    )
    expect(commandSentence({ verb: commandVerb({ kind: 'device' }), metric: 'Setpoint', value: 21.5, target: 'Plant1/node-0003/pump-A' })).toBe(
      'Send DCMD Setpoint = 21.5 to Plant1/node-0003/pump-A?',
    )
    expect(commandSentence({ verb: 'NCMD', metric: 'Label', value: 'hall 3', target: 'P/n' })).toBe('Send NCMD Label = "hall 3" to P/n?')
  })

  it('checks a written value against the metric type before asking', () => {
    expect(parseWriteValue('Boolean', 'true')).toEqual({ ok: true, value: true })
    expect(parseWriteValue('Boolean', 'off')).toEqual({ ok: true, value: false })
    expect(parseWriteValue('Boolean', 'maybe').ok).toBe(false)
    expect(parseWriteValue('Int32', ' 42 ')).toEqual({ ok: true, value: 42 })
    expect(parseWriteValue('Int32', '4.2').ok).toBe(false)
    expect(parseWriteValue('UInt8', '256')).toEqual({ ok: false, error: 'UInt8 takes 0 to 255.' })
    expect(parseWriteValue('UInt8', '-1').ok).toBe(false)
    expect(parseWriteValue('Int64', '9007199254740993')).toEqual({ ok: true, value: '9007199254740993' })
    expect(parseWriteValue('UInt64', '18446744073709551616').ok).toBe(false)
    expect(parseWriteValue('Float', '21.5')).toEqual({ ok: true, value: 21.5 })
    expect(parseWriteValue('Double', '').ok).toBe(false)
    expect(parseWriteValue('Double', 'NaN').ok).toBe(false)
    expect(parseWriteValue('String', ' keep spaces ')).toEqual({ ok: true, value: ' keep spaces ' })
  })

  it('renders metric values and knows what can be charted', () => {
    expect(formatMetricValue(null)).toBe('—')
    expect(formatMetricValue(false)).toBe('false')
    expect(formatMetricValue(21.123456789)).toBe('21.1235')
    expect(formatMetricValue('18446744073709551615')).toBe('18446744073709551615')
    expect(isChartable({ name: 'Temperature', type: 'Float', value: null })).toBe(true)
    expect(isChartable({ name: 'Diagnostics/Core Dump Present', type: 'Boolean', value: true })).toBe(true)
    expect(isChartable({ name: 'Label', type: 'String', value: 'ok' })).toBe(false)
    expect(isChartable({ name: 'Node Control/Rebirth', type: 'Boolean', value: false })).toBe(false)
  })
})
