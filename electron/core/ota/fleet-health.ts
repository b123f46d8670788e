// What a rollout needs to know about edge nodes from the Sparkplug host: which nodes there are, what they
// run and on which chip (for planning), and when one of them booted and why (for the health gates).
import { chipOfModule } from '../../../shared/domain/firmware/chips'
import { isCrashReset } from '../../../shared/domain/firmware/reset-reason'
import type { HealthEventKind } from '../../../shared/domain/ota/rollout'
import type { FleetDevice } from '../../../shared/domain/ota/rollout-plan'
import type { EdgeNodeView, MetricValue } from '../../../shared/domain/sparkplug/edge-node'

const names = {
  firmware: 'Properties/Firmware Version',
  hardware: 'Properties/Hardware',
  uptime: 'Diagnostics/Uptime',
  resetReason: 'Diagnostics/Reboot Reason',
} as const

interface NamedValue {
  readonly name: string
  readonly value: MetricValue
}

const text = (value: MetricValue | undefined) => (typeof value === 'string' ? value : null)

/** An edge node as a rollout selects it. Nodes without a known chip get "unknown" and are left out by the plan. */
export function rolloutCandidate(node: EdgeNodeView): FleetDevice {
  const hardware = text(node.metrics.get(names.hardware)?.value)
  return {
    id: node.ref.key,
    group: node.ref.groupId,
    tags: [],
    firmwareVersion: text(node.metrics.get(names.firmware)?.value),
    online: node.status === 'online',
    chip: (hardware && chipOfModule(hardware)) ?? 'unknown',
  }
}

/**
 * When the node last booted, from an NBIRTH's uptime: births repeat (rebirth requests, reconnects) but a
 * boot moves this instant. Null when the node does not report Diagnostics/Uptime.
 */
export function bootTime(metrics: readonly NamedValue[], birthAt: number): number | null {
  const uptime = metrics.find((m) => m.name === names.uptime)?.value
  const seconds = typeof uptime === 'bigint' ? Number(uptime) : typeof uptime === 'number' ? uptime : null
  return seconds === null || !Number.isFinite(seconds) ? null : birthAt - seconds * 1000
}

export function resetKind(metrics: readonly NamedValue[]): HealthEventKind {
  const reason = text(metrics.find((m) => m.name === names.resetReason)?.value ?? null)
  return reason !== null && isCrashReset(reason) ? 'crash' : 'reboot'
}

/** Uptime is whole seconds and the birth's own time is the host's: two births of one boot differ by this much at most. */
export const bootJitterMs = 5_000
