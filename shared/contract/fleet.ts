import { z } from 'zod'

// What screens and scripts see of the fleet. Keys are `group/edge` for an edge node and
// `group/edge/device` for a device behind it: the Sparkplug identity, readable in a URL.

/**
 * online: born and talking. offline: a death arrived. stale: nothing trustworthy since the console
 * started (or since the broker went away) — births will tell. silent: born, no death, but nothing
 * heard for longer than the silence setting. expected: registered on the bench, never seen yet.
 */
export type DeviceState = 'online' | 'offline' | 'stale' | 'silent' | 'expected'

export interface FleetRow {
  key: string
  kind: 'node' | 'device'
  group: string
  node: string
  /** Empty for an edge node. */
  device: string
  state: DeviceState
  firmware: string
  /** dBm from Diagnostics/RSSI, of the device's edge node for a device. */
  rssi: number | null
  lastSeen: number | null
  reboots24h: number
  protocolErrors: number
}

export interface MetricView {
  name: string
  alias: string | null
  /** Sparkplug data type name (Int32, Float, Boolean…). */
  type: string
  /** Rendered for display; 64-bit integers as decimal strings so nothing is rounded. */
  value: string | number | boolean | null
  /** When the value was measured (the metric's or the payload's timestamp). */
  at: number | null
  stale: boolean
  /** Writable from the console by DCMD/NCMD (declared writable in the birth, or a known control). */
  writable: boolean
  unit: string | null
}

export interface LifecycleEntry {
  id: number
  at: number
  key: string
  /** online, offline, stale, silent, rebirth-requested, reboot, crash, protocol-error, command. */
  kind: string
  detail: string
}

export interface ProtocolError {
  at: number
  reason: string
}

export interface DeviceDetail {
  row: FleetRow
  metrics: MetricView[]
  birth: { at: number; bdSeq: number | null; metricCount: number } | null
  lifecycle: LifecycleEntry[]
  protocolErrors: ProtocolError[]
}

export interface SeriesPoints {
  metric: string
  /** Seconds per point: 0 for raw samples, else the roll-up bucket. */
  resolution: number
  times: number[]
  values: (number | null)[]
  /** Present on roll-ups: the bucket's extremes, so a spike is never averaged away. */
  min?: (number | null)[]
  max?: (number | null)[]
}

const deviceKey = z
  .string()
  .min(3)
  .max(300)
  .regex(/^[^/+#]+\/[^/+#]+(\/[^/+#]+)?$/, 'A device key is group/edge or group/edge/device.')

/**
 * Whether two pushes of a row show the same thing. `ignoreLastSeen`: the core holds back rows whose
 * only change is lastSeen, which screens count on their own.
 */
export function sameFleetRow(a: FleetRow, b: FleetRow, options: { ignoreLastSeen?: boolean } = {}): boolean {
  return (
    a.key === b.key &&
    a.state === b.state &&
    (options.ignoreLastSeen === true || a.lastSeen === b.lastSeen) &&
    a.rssi === b.rssi &&
    a.reboots24h === b.reboots24h &&
    a.protocolErrors === b.protocolErrors &&
    a.firmware === b.firmware &&
    a.kind === b.kind &&
    a.group === b.group &&
    a.node === b.node &&
    a.device === b.device
  )
}

export const fleetParams = {
  device: z.object({ key: deviceKey }).strict(),
  series: z
    .object({
      key: deviceKey,
      metric: z.string().min(1).max(500),
      from: z.number().int().nonnegative(),
      to: z.number().int().nonnegative(),
      maxPoints: z.number().int().min(10).max(10_000).default(1000),
    })
    .strict()
    .refine((range) => range.from < range.to, { message: '"from" must be before "to".', path: ['from'] }),
  rebirth: z.object({ key: deviceKey }).strict(),
  demoFault: z.object({ key: deviceKey, fault: z.enum(['power-cut', 'crash', 'wifi-drop', 'hang', 'resume']) }).strict(),
  write: z
    .object({
      key: deviceKey,
      metric: z.string().min(1).max(500),
      value: z.union([z.number(), z.boolean(), z.string().max(4096)]),
    })
    .strict(),
}

/**
 * What a trainer can do to a node of the demo fleet, so operators learn what each failure looks like
 * on the console before they meet it on a real plant: a power cut (no NDEATH, off for a minute), a
 * panic (crash summary in the next birth), a lost Wi-Fi link, a hung application (no death, just
 * silence) and its resumption.
 */
export type DemoFault = z.infer<typeof fleetParams.demoFault>['fault']

