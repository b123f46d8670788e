// The OTA conversation between the console and an ESP32 edge node, as Sparkplug metrics. The console's
// rollout state machine (rollout.ts) and the simulator's virtual nodes both speak it from here, so the
// two ends cannot drift apart.
//
// Console → node: NCMD with one String metric `OTA/Command` holding JSON:
//   {"op":"download","job":"<rolloutId>/<attempt>","url":"…","sha256":"<64 hex>","size":N,"version":"1.2.0"}
//   {"op":"install","job":"…"}   only after the node reported `downloaded` for that job
//   {"op":"cancel","job":"…"}
//
// Node → console: NBIRTH (every metric) and NDATA (what changed) carrying
//   OTA/State (String)  OTA/Job (String, "" when none)  OTA/Progress (UInt8 %)  OTA/Error (String)
//   Properties/Firmware Version (String)  OTA/Running Slot (String, "ota_0" / "ota_1" / "factory")
//
// Download and install are two commands on purpose: the image travels while nothing is at stake, and
// the one step that changes what the node boots (writing otadata and rebooting) happens only when the
// console says so. That is what lets pause and abort be exact: after either, no install is sent.
//
// What a node must do (the simulator's contract; docs for firmware authors say the same):
//   - download(job): fetch into the passive slot, reporting `downloading` with progress; check size and
//     SHA-256, then report `downloaded`; on a mismatch report `failed` with error `checksum-mismatch`
//     (or `size-mismatch`) and erase what it wrote. A download for the job it already holds re-reports
//     its state; a download for another job abandons the old one.
//   - install(job): only from `downloaded` of that job. Report `installing`, write otadata to the new slot,
//     report `rebooting`, reboot. Otherwise report `failed` with `not-downloaded` (install of a job it
//     does not hold) or stay silent when it is already past `downloaded` for that job (a resent install).
//   - After booting the new image: `verifying` (in NBIRTH) until the self-test confirms the image
//     (esp_ota_mark_app_valid_cancel_rollback), then `succeeded` with the new Firmware Version in the same
//     message. If the image resets before confirming, the bootloader boots the old slot and the old image
//     reports `rolled-back`, with an error that says why, from esp_reset_reason() of the reset that ended
//     the new image: `self-test-failed` (the app invalidated itself), `boot-failed` (panic, watchdog,
//     brownout loop), `interrupted` (power-on reset: the power was cut, the image is not to blame).
//   - cancel(job): from `downloading`/`downloaded` of that job, erase and report `idle`. Later than that
//     it is ignored: an install already begun runs to its end.
//   - OTA/State and OTA/Job live in NVS, so an NBIRTH after any reset tells where the node is. OTA/Job
//     always travels with OTA/State; OTA/Progress without OTA/Job belongs to the last job reported.

import { nodeCommand, type CommandPublish } from '../sparkplug/host-state'
import type { Metric } from '../sparkplug/payload'

export const otaMetricNames = {
  command: 'OTA/Command',
  state: 'OTA/State',
  job: 'OTA/Job',
  progress: 'OTA/Progress',
  error: 'OTA/Error',
  firmwareVersion: 'Properties/Firmware Version',
  runningSlot: 'OTA/Running Slot',
} as const

// ---- commands -----------------------------------------------------------------------------------------

export interface DownloadCommand {
  op: 'download'
  job: string
  url: string
  /** Lower-case hex SHA-256 of the whole image file. */
  sha256: string
  /** Bytes. */
  size: number
  version: string
}

export interface InstallCommand {
  op: 'install'
  job: string
}

export interface CancelCommand {
  op: 'cancel'
  job: string
}

export type OtaCommand = DownloadCommand | InstallCommand | CancelCommand

/** The JSON text of `OTA/Command`. Keys in a fixed order, so the same command is the same bytes. */
export function encodeOtaCommand(command: OtaCommand): string {
  switch (command.op) {
    case 'download':
      return JSON.stringify({
        op: 'download',
        job: command.job,
        url: command.url,
        sha256: command.sha256,
        size: command.size,
        version: command.version,
      })
    case 'install':
      return JSON.stringify({ op: 'install', job: command.job })
    case 'cancel':
      return JSON.stringify({ op: 'cancel', job: command.job })
  }
}

export function otaCommandMetric(command: OtaCommand): Metric {
  return { name: otaMetricNames.command, type: 'String', value: encodeOtaCommand(command) }
}

/** The NCMD that carries a command to an edge node (QoS 0, like every Sparkplug command). */
export function otaCommandPublish(groupId: string, edgeNodeId: string, command: OtaCommand, now: number): CommandPublish {
  return nodeCommand(groupId, edgeNodeId, [otaCommandMetric(command)], now)
}

export type OtaCommandParseResult = { ok: true; command: OtaCommand } | { ok: false; detail: string }

const sha256Pattern = /^[0-9a-f]{64}$/

/** The node's side: reads `OTA/Command` text, refusing anything not exactly one of the three commands. */
export function parseOtaCommand(text: string): OtaCommandParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, detail: 'OTA/Command is not JSON.' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, detail: 'OTA/Command is not a JSON object.' }
  const v = value as Record<string, unknown>
  if (typeof v.job !== 'string' || v.job === '') return { ok: false, detail: 'OTA/Command has no job.' }
  const job = v.job
  switch (v.op) {
    case 'install':
    case 'cancel':
      return { ok: true, command: { op: v.op, job } }
    case 'download': {
      if (typeof v.url !== 'string' || v.url === '') return { ok: false, detail: 'download: no url.' }
      if (typeof v.sha256 !== 'string' || !sha256Pattern.test(v.sha256)) return { ok: false, detail: 'download: sha256 must be 64 lower-case hex digits.' }
      if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size <= 0) return { ok: false, detail: 'download: size must be a positive integer.' }
      if (typeof v.version !== 'string' || v.version === '') return { ok: false, detail: 'download: no version.' }
      return { ok: true, command: { op: 'download', job, url: v.url, sha256: v.sha256, size: v.size, version: v.version } }
    }
    default:
      return { ok: false, detail: `OTA/Command op ${JSON.stringify(v.op)} is not download, install or cancel.` }
  }
}

// ---- jobs ---------------------------------------------------------------------------------------------

/**
 * Every attempt at one device gets its own job id, so a late report of an abandoned attempt (a download
 * that was retried, a message that sat in a broker queue) can never be mistaken for the current one.
 */
export function otaJobId(rolloutId: string, attempt: number): string {
  return `${rolloutId}/${attempt}`
}

/** The rollout and attempt of a job id; null when it is not one of ours (another console, a hand-made job). */
export function parseOtaJobId(job: string): { rolloutId: string; attempt: number } | null {
  const slash = job.lastIndexOf('/')
  if (slash <= 0) return null
  const attempt = Number(job.slice(slash + 1))
  if (!Number.isSafeInteger(attempt) || attempt < 1 || String(attempt) !== job.slice(slash + 1)) return null
  return { rolloutId: job.slice(0, slash), attempt }
}

// ---- reports ------------------------------------------------------------------------------------------

export const deviceOtaStates = ['idle', 'downloading', 'downloaded', 'installing', 'rebooting', 'verifying', 'succeeded', 'rolled-back', 'failed'] as const
export type DeviceOtaState = (typeof deviceOtaStates)[number]

/**
 * What a node puts in OTA/Error, as `code` or `code: detail`. Which codes a console may retry is its
 * business (rollout.ts); these say what happened.
 */
export const otaErrorCodes = [
  /** The image's SHA-256 is not the one in the download command. */
  'checksum-mismatch',
  'size-mismatch',
  /** HTTP, TLS or network trouble. */
  'download-failed',
  /** Not an app image for this chip, or refused by Secure Boot: retrying fetches the same bytes. */
  'image-invalid',
  'flash-error',
  /** install for a job the node does not hold downloaded (lost to a reset, or never fetched). */
  'not-downloaded',
  'cancelled',
  /** The new image ran its self-test and invalidated itself; the bootloader went back. */
  'self-test-failed',
  /** The new image panicked or hit a watchdog before confirming; the bootloader went back. */
  'boot-failed',
  /** The power was cut (or a download cut off by a reset) before the new image confirmed: not its fault. */
  'interrupted',
  /** The node is in the middle of another job's install. */
  'busy',
] as const
export type OtaErrorCode = (typeof otaErrorCodes)[number]

export interface OtaError {
  /** 'other' for a code this console does not know; `text` keeps what the node said. */
  code: OtaErrorCode | 'other'
  text: string
}

export function parseOtaError(text: string): OtaError | null {
  const trimmed = text.trim()
  if (trimmed === '') return null
  const colon = trimmed.indexOf(':')
  const head = (colon === -1 ? trimmed : trimmed.slice(0, colon)).trim()
  const code = (otaErrorCodes as readonly string[]).includes(head) ? (head as OtaErrorCode) : 'other'
  return { code, text: trimmed }
}

/**
 * One report from a node, as far as it went: Sparkplug is report-by-exception, so an NDATA carries only
 * what changed. `undefined` means "not in this message"; `job: ''` means "no job".
 */
export interface OtaReport {
  state?: DeviceOtaState
  job?: string
  progress?: number
  /** null: the node cleared OTA/Error (sent ""). */
  error?: OtaError | null
  firmwareVersion?: string
  runningSlot?: string
}

export type OtaReportProblem =
  | { problem: 'unknown-state'; detail: string }
  | { problem: 'wrong-type'; detail: string }
  | { problem: 'bad-progress'; detail: string }

export interface ParsedOtaReport {
  report: OtaReport
  problems: OtaReportProblem[]
  /** False when the message carried no OTA metric and no firmware version: nothing for a rollout. */
  relevant: boolean
}

/**
 * Reads the OTA metrics out of a decoded NBIRTH or NDATA. Defensive: a metric with the wrong type or a
 * value outside the protocol is left out of the report and named as a problem, so one bad field never
 * moves the rollout's idea of the device.
 */
export function parseOtaReport(metrics: readonly Metric[]): ParsedOtaReport {
  const report: OtaReport = {}
  const problems: OtaReportProblem[] = []
  let relevant = false
  for (const m of metrics) {
    const name = m.name
    if (name === undefined) continue
    switch (name) {
      case otaMetricNames.state: {
        relevant = true
        const text = stringValue(m, problems)
        if (text === undefined) break
        if ((deviceOtaStates as readonly string[]).includes(text)) report.state = text as DeviceOtaState
        else problems.push({ problem: 'unknown-state', detail: `OTA/State ${JSON.stringify(text)} is not a state of the protocol.` })
        break
      }
      case otaMetricNames.job: {
        relevant = true
        const text = stringValue(m, problems)
        if (text !== undefined) report.job = text
        break
      }
      case otaMetricNames.progress: {
        relevant = true
        const value = typeof m.value === 'bigint' ? Number(m.value) : m.value
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) {
          problems.push({ problem: 'bad-progress', detail: `OTA/Progress ${String(m.value)} is not a whole percent from 0 to 100.` })
          break
        }
        report.progress = value
        break
      }
      case otaMetricNames.error: {
        relevant = true
        const text = stringValue(m, problems)
        if (text !== undefined) report.error = parseOtaError(text)
        break
      }
      case otaMetricNames.firmwareVersion: {
        relevant = true
        const text = stringValue(m, problems)
        if (text !== undefined && text !== '') report.firmwareVersion = text
        break
      }
      case otaMetricNames.runningSlot: {
        relevant = true
        const text = stringValue(m, problems)
        if (text !== undefined && text !== '') report.runningSlot = text
        break
      }
    }
  }
  return { report, problems, relevant }
}

function stringValue(m: Metric, problems: OtaReportProblem[]): string | undefined {
  if (typeof m.value === 'string') return m.value
  // A metric sent with is_null says "no value", which for these metrics is the empty string.
  if (m.value === null) return ''
  problems.push({ problem: 'wrong-type', detail: `${m.name} is ${m.type}; the protocol sends String.` })
  return undefined
}

/** The node's side: the metrics of a report, in a fixed order. Aliases are the node's to assign. */
export function otaReportMetrics(report: OtaReport): Metric[] {
  const out: Metric[] = []
  if (report.state !== undefined) out.push({ name: otaMetricNames.state, type: 'String', value: report.state })
  if (report.job !== undefined) out.push({ name: otaMetricNames.job, type: 'String', value: report.job })
  if (report.progress !== undefined) out.push({ name: otaMetricNames.progress, type: 'UInt8', value: report.progress })
  if (report.error !== undefined) out.push({ name: otaMetricNames.error, type: 'String', value: report.error?.text ?? '' })
  if (report.firmwareVersion !== undefined) out.push({ name: otaMetricNames.firmwareVersion, type: 'String', value: report.firmwareVersion })
  if (report.runningSlot !== undefined) out.push({ name: otaMetricNames.runningSlot, type: 'String', value: report.runningSlot })
  return out
}
