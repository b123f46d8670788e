// The OTA metrics of a virtual node as Sparkplug metrics: names, types and values come from the shared
// protocol (otaReportMetrics), the aliases are the node's own, after its node metrics (1–16).
import {
  otaMetricNames,
  otaReportMetrics,
  type OtaReport,
} from '../../shared/domain/ota/protocol'
import type { Metric } from '../../shared/domain/sparkplug/payload'
import { nodeMetrics } from '../fleet/metrics'

export const otaMetricAliases = {
  command: 17n,
  state: 18n,
  job: 19n,
  progress: 20n,
  error: 21n,
  runningSlot: 22n,
} as const

const aliasByName = new Map<string, bigint>([
  [otaMetricNames.command, otaMetricAliases.command],
  [otaMetricNames.state, otaMetricAliases.state],
  [otaMetricNames.job, otaMetricAliases.job],
  [otaMetricNames.progress, otaMetricAliases.progress],
  [otaMetricNames.error, otaMetricAliases.error],
  [otaMetricNames.runningSlot, otaMetricAliases.runningSlot],
  [otaMetricNames.firmwareVersion, nodeMetrics.firmwareVersion.alias],
])

/**
 * The OTA part of an NBIRTH: every OTA metric by name and alias, and `OTA/Command` (empty) so a host
 * learns that the node takes it. Firmware Version is left out: the NBIRTH carries it already.
 */
export function otaBirthMetrics(report: OtaReport, timestamp: bigint): Metric[] {
  const { firmwareVersion: _version, ...rest } = report
  const metrics: Metric[] = [{ name: otaMetricNames.command, type: 'String', value: '' }, ...otaReportMetrics(rest)]
  return metrics.map((m) => ({ ...m, alias: aliasByName.get(m.name!)!, timestamp }))
}

/** The OTA part of an NDATA: aliases only, as the node sends every data message. */
export function otaDataMetrics(report: OtaReport): Metric[] {
  return otaReportMetrics(report).map(({ name, ...m }) => ({ ...m, alias: aliasByName.get(name!)! }) as Metric)
}

/** Is this NCMD metric the OTA command (by name, or by the alias the NBIRTH gave it)? */
export function isOtaCommand(metric: Metric): metric is Metric & { type: 'String'; value: string } {
  const named = metric.name === otaMetricNames.command || (metric.name === undefined && metric.alias === otaMetricAliases.command)
  return named && (metric.type === 'String' || metric.type === 'Text') && typeof metric.value === 'string'
}
