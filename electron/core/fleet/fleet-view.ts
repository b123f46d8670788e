import type { DeviceState, FleetRow, MetricView } from '../../../shared/contract'
import type { DeviceView, EdgeNodeView, MetricState, SessionStatus } from '../../../shared/domain/sparkplug/edge-node'
import type { PropertySet } from '../../../shared/domain/sparkplug/payload'

/** Metric names the console reads to make a fleet legible (documented in simulator/README.md). */
export const fieldMetrics = {
  firmware: 'Properties/Firmware Version',
  rssi: 'Diagnostics/RSSI',
  rebootReason: 'Diagnostics/Reboot Reason',
  coreDump: 'Diagnostics/Core Dump Present',
  crashTask: 'Diagnostics/Crash Task',
  crashPc: 'Diagnostics/Crash PC',
} as const

export function deviceState(status: SessionStatus, silent: boolean): DeviceState {
  if (status === 'online') return silent ? 'silent' : 'online'
  if (status === 'offline') return 'offline'
  return 'stale'
}

export function nodeRow(node: EdgeNodeView, reboots24h: number, stored?: { lastSeen: number | null; firmware: string }): FleetRow {
  return {
    key: node.ref.key,
    kind: 'node',
    group: node.ref.groupId,
    node: node.ref.edgeNodeId,
    device: '',
    state: deviceState(node.status, node.silent),
    firmware: text(node.metrics.get(fieldMetrics.firmware)) ?? stored?.firmware ?? '',
    rssi: number(node.metrics.get(fieldMetrics.rssi)),
    lastSeen: node.status === 'restored' ? (stored?.lastSeen ?? null) : node.lastHeardAt,
    reboots24h,
    protocolErrors: node.protocolErrorCount,
  }
}

export function deviceRow(node: EdgeNodeView, device: DeviceView, reboots24h: number, stored?: { lastSeen: number | null }): FleetRow {
  return {
    key: device.ref.key,
    kind: 'device',
    group: device.ref.groupId,
    node: device.ref.edgeNodeId,
    device: device.ref.deviceId ?? '',
    state: deviceState(device.status, device.silent),
    // A device runs its edge node's firmware and shares its radio.
    firmware: text(node.metrics.get(fieldMetrics.firmware)) ?? '',
    rssi: number(node.metrics.get(fieldMetrics.rssi)),
    lastSeen: device.status === 'restored' ? (stored?.lastSeen ?? null) : device.lastHeardAt,
    reboots24h,
    protocolErrors: 0,
  }
}

export function metricView(metric: MetricState, properties?: PropertySet): MetricView {
  return {
    name: metric.name,
    alias: metric.alias === null ? null : metric.alias.toString(),
    type: metric.type,
    value: displayValue(metric.value),
    at: metric.timestamp,
    stale: metric.quality === 'stale',
    writable: isWritable(metric.name, properties),
    unit: unitOf(properties),
  }
}

/** Sparkplug has no standard writable flag: Outputs/ and Node Control/ by convention, or a `writable` property. */
export function isWritable(name: string, properties?: PropertySet): boolean {
  if (name.startsWith('Outputs/') || name.startsWith('Node Control/')) return true
  return properties?.some((property) => property.key.toLowerCase() === 'writable' && property.value === true) ?? false
}

export function unitOf(properties?: PropertySet): string | null {
  const unit = properties?.find((property) => property.key === 'engUnit')
  return unit && typeof unit.value === 'string' ? unit.value : null
}

/** A value for display and for time series: 64-bit integers as exact decimal text. */
export function displayValue(value: MetricState['value']): MetricView['value'] {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`
  if (Array.isArray(value)) return `[${value.length} values]`
  if ('columns' in value) return `DataSet ${value.rows.length}×${value.columns.length}`
  if ('isDefinition' in value) return `Template${value.templateRef ? ` ${value.templateRef}` : ''}`
  return 'PropertySet'
}

/** A number for charts, or null when the value has none (text, blobs, null). */
export function sampleValue(value: MetricState['value']): number | string | boolean | null {
  if (typeof value === 'bigint') return Number(value)
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value
  return null
}

const text = (metric: MetricState | undefined) => (metric && typeof metric.value === 'string' ? metric.value : null)
const number = (metric: MetricState | undefined) => (metric && typeof metric.value === 'number' && metric.quality === 'good' ? metric.value : null)
