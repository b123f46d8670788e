// The metric conventions of a virtual ESP32 edge node. The console reads nodes by these names, so they
// are the documented "field observability" conventions (simulator/README.md) as much as simulator data.
import type { DataTypeName } from '../../shared/domain/sparkplug/payload'

export interface MetricSpec {
  name: string
  /** Absent only on Node Control/Rebirth (tck-id-operational-behavior-data-commands-rebirth-name-aliases). */
  alias?: bigint
  type: DataTypeName
  engUnit?: string
}

/** Node metrics, aliases 1–16. Aliases are unique across the node and its devices (tck-id-payloads-alias-uniqueness). */
export const nodeMetrics = {
  bdSeq: { name: 'bdSeq', alias: 1n, type: 'Int64' },
  rebirth: { name: 'Node Control/Rebirth', type: 'Boolean' },
  reboot: { name: 'Node Control/Reboot', alias: 2n, type: 'Boolean' },
  firmwareVersion: { name: 'Properties/Firmware Version', alias: 3n, type: 'String' },
  hardware: { name: 'Properties/Hardware', alias: 4n, type: 'String' },
  mac: { name: 'Properties/MAC', alias: 5n, type: 'String' },
  rebootReason: { name: 'Diagnostics/Reboot Reason', alias: 6n, type: 'String' },
  uptime: { name: 'Diagnostics/Uptime', alias: 7n, type: 'UInt64', engUnit: 's' },
  freeHeap: { name: 'Diagnostics/Free Heap', alias: 8n, type: 'UInt32', engUnit: 'B' },
  minFreeHeap: { name: 'Diagnostics/Min Free Heap', alias: 9n, type: 'UInt32', engUnit: 'B' },
  rssi: { name: 'Diagnostics/RSSI', alias: 10n, type: 'Int8', engUnit: 'dBm' },
  reconnectAttempts: { name: 'Diagnostics/Reconnect Attempts', alias: 11n, type: 'UInt32' },
  disconnectCause: { name: 'Diagnostics/Disconnect Cause', alias: 12n, type: 'String' },
  flashWear: { name: 'Diagnostics/Flash Wear', alias: 13n, type: 'Float', engUnit: '%' },
  coreDumpPresent: { name: 'Diagnostics/Core Dump Present', alias: 14n, type: 'Boolean' },
  crashTask: { name: 'Diagnostics/Crash Task', alias: 15n, type: 'String' },
  crashPc: { name: 'Diagnostics/Crash PC', alias: 16n, type: 'UInt32' },
} as const satisfies Record<string, MetricSpec>

/** Device metrics; the alias is 100 × (device number, from 1) + offset, so device 3's Relay is 304. */
export const deviceMetrics = {
  temperature: { name: 'Sensors/Temperature', offset: 1, type: 'Float', engUnit: '°C' },
  humidity: { name: 'Sensors/Humidity', offset: 2, type: 'Float', engUnit: '%RH' },
  doorOpen: { name: 'Sensors/Door Open', offset: 3, type: 'Boolean' },
  relay: { name: 'Outputs/Relay', offset: 4, type: 'Boolean' },
} as const satisfies Record<string, Omit<MetricSpec, 'alias'> & { offset: number }>

export type DeviceMetricKey = keyof typeof deviceMetrics

export function deviceMetricAlias(deviceIndex: number, key: DeviceMetricKey): bigint {
  return BigInt(100 * (deviceIndex + 1) + deviceMetrics[key].offset)
}

export { resetReasons as rebootReasons, crashResetReasons as crashReasons } from '../../shared/domain/firmware/reset-reason'
export type { ResetReason as RebootReason, CrashResetReason as CrashReason } from '../../shared/domain/firmware/reset-reason'

/**
 * Why the last MQTT session ended: Wi-Fi reasons from `wifi_err_reason_t`, esp-mqtt error types, or the
 * Sparkplug host going offline. NONE until the first loss after boot.
 */
export const disconnectCauses = [
  'NONE',
  'WIFI_REASON_BEACON_TIMEOUT',
  'WIFI_REASON_NO_AP_FOUND',
  'WIFI_REASON_ASSOC_LEAVE',
  'WIFI_REASON_HANDSHAKE_TIMEOUT',
  'WIFI_REASON_CONNECTION_FAIL',
  'MQTT_ERROR_TYPE_TCP_TRANSPORT',
  'MQTT_ERROR_TYPE_CONNECTION_REFUSED',
  'MQTT_KEEPALIVE_TIMEOUT',
  'SPARKPLUG_HOST_OFFLINE',
] as const
export type DisconnectCause = (typeof disconnectCauses)[number]

/** Causes a dropped link picks from when the caller does not name one. */
export const linkLossCauses = [
  'WIFI_REASON_BEACON_TIMEOUT',
  'WIFI_REASON_ASSOC_LEAVE',
  'WIFI_REASON_HANDSHAKE_TIMEOUT',
  'MQTT_ERROR_TYPE_TCP_TRANSPORT',
  'MQTT_KEEPALIVE_TIMEOUT',
] as const satisfies readonly DisconnectCause[]

/** FreeRTOS task names seen in ESP32 core dump summaries. */
export const crashTasks = ['loopTask', 'mqtt_task', 'tiT', 'wifi', 'sys_evt', 'esp_timer', 'sensor_task', 'IDLE0'] as const
