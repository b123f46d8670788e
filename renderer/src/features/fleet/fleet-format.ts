import type { DeviceState, FleetRow, MetricView } from '../../../../shared/contract'

// How the fleet reads on screen: pure text functions, unit-tested with the model.

export const stateLabels: Record<DeviceState, string> = {
  online: 'Online',
  offline: 'Offline',
  stale: 'Stale',
  silent: 'Silent',
  expected: 'Expected',
}

/** Said on the filter chips' tooltips, in the words of the contract's definition. */
export const stateMeanings: Record<DeviceState, string> = {
  online: 'Born and talking',
  offline: 'A death certificate arrived',
  stale: 'Nothing trustworthy since the console (or its broker) started; a birth will tell',
  silent: 'Born, no death, but nothing heard for longer than the silence setting',
  expected: 'Registered on the bench, never seen yet',
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" when nothing was heard. */
export function formatAgo(at: number | null, now: number): string {
  if (at === null) return 'never'
  const seconds = Math.round((now - at) / 1000)
  // Clocks of the host and this screen may differ by a little; the future reads as now.
  if (seconds < 1) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours} h ago`
  return `${Math.floor(hours / 24)} d ago`
}

export function formatRssi(rssi: number | null): string {
  return rssi === null ? '—' : `${rssi} dBm`
}

export function formatTime(at: number | null): string {
  return at === null ? '—' : new Date(at).toLocaleString()
}

export function formatMetricValue(value: MetricView['value']): string {
  if (value === null) return '—'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)))
  return value
}

const integerTypes = /^U?Int(8|16|32|64)$/
const floatTypes = /^(Float|Double)$/

/**
 * Sparkplug types that draw as a line: integers, floats and booleans (as 0 and 1). Node and Device
 * Control metrics are commands, not measurements, so they are not offered.
 */
export function isChartable(metric: Pick<MetricView, 'name' | 'type' | 'value'>): boolean {
  if (/^(Node|Device) Control\//.test(metric.name)) return false
  return integerTypes.test(metric.type) || floatTypes.test(metric.type) || metric.type === 'Boolean' || typeof metric.value === 'number'
}

export type ParsedValue = { ok: true; value: number | boolean | string } | { ok: false; error: string }

const integerRanges: Record<string, [bigint, bigint]> = {
  Int8: [-128n, 127n],
  Int16: [-32768n, 32767n],
  Int32: [-2147483648n, 2147483647n],
  Int64: [-9223372036854775808n, 9223372036854775807n],
  UInt8: [0n, 255n],
  UInt16: [0n, 65535n],
  UInt32: [0n, 4294967295n],
  UInt64: [0n, 18446744073709551615n],
}

/**
 * What the operator typed, as the value the contract carries for the metric's Sparkplug type; refused
 * here, with the reason, rather than by the device. 64-bit integers beyond 2^53 travel as decimal
 * strings so nothing is rounded.
 */
export function parseWriteValue(type: string, text: string): ParsedValue {
  const trimmed = text.trim()
  if (type === 'Boolean') {
    if (/^(true|1|on)$/i.test(trimmed)) return { ok: true, value: true }
    if (/^(false|0|off)$/i.test(trimmed)) return { ok: true, value: false }
    return { ok: false, error: 'A Boolean is true or false.' }
  }
  const range = integerRanges[type]
  if (range) {
    if (!/^-?\d+$/.test(trimmed)) return { ok: false, error: `${type} takes a whole number.` }
    const big = BigInt(trimmed)
    if (big < range[0] || big > range[1]) return { ok: false, error: `${type} takes ${range[0]} to ${range[1]}.` }
    const number = Number(trimmed)
    return { ok: true, value: Number.isSafeInteger(number) ? number : big.toString() }
  }
  if (floatTypes.test(type)) {
    const number = Number(trimmed)
    if (trimmed === '' || !Number.isFinite(number)) return { ok: false, error: `${type} takes a number, e.g. 21.5.` }
    return { ok: true, value: number }
  }
  if (trimmed.length > 4096) return { ok: false, error: 'At most 4096 characters.' }
  return { ok: true, value: text }
}

/** The exact words of a confirmation: the Sparkplug verb, the metric, the value and the target. */
export function commandSentence(command: { verb: 'NCMD' | 'DCMD'; metric: string; value: number | boolean | string; target: string }): string {
  const value = typeof command.value === 'string' ? JSON.stringify(command.value) : String(command.value)
  return `Send ${command.verb} ${command.metric} = ${value} to ${command.target}?`
}

/** A node's metrics are written by NCMD, a device's by DCMD (to the device, through its node). */
export function commandVerb(row: Pick<FleetRow, 'kind'>): 'NCMD' | 'DCMD' {
  return row.kind === 'node' ? 'NCMD' : 'DCMD'
}
