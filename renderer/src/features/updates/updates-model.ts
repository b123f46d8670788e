// What the Updates screen shows of artifacts and rollouts, derived from what the core sent. Pure.
import type { ArtifactView, GateView, RolloutDeviceState, RolloutPhaseView, RolloutStatusName, RolloutSummary } from '../../../../shared/contract'
import { sameValue } from '../../state/merge-keyed'

export type RolloutRows = Readonly<Record<string, RolloutSummary>>

/** Statuses in which the rollout still moves: its view is refreshed, and it holds its devices. */
const liveStatuses: ReadonlySet<RolloutStatusName> = new Set(['ready', 'running', 'paused', 'aborting'])

export function isRolloutLive(status: RolloutStatusName): boolean {
  return liveStatuses.has(status)
}

/** Between the download command and an end state. */
export const inFlightStates: ReadonlySet<RolloutDeviceState> = new Set(['notified', 'downloading', 'downloaded', 'installing', 'rebooting', 'verifying'])

export const deviceStateLabels: Record<RolloutDeviceState, string> = {
  queued: 'queued',
  notified: 'notified',
  downloading: 'downloading',
  downloaded: 'downloaded',
  installing: 'installing',
  rebooting: 'rebooting',
  verifying: 'verifying',
  succeeded: 'succeeded',
  'rolled-back': 'rolled back',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
}

/** Newest first, as the history lists them. */
export function sortedRollouts(rows: RolloutRows): RolloutSummary[] {
  return Object.values(rows).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
}

/**
 * The answer of `ota.rollouts` (the whole list) over what the stream already brought: a rollout the
 * stream moved on since the call left keeps its newer summary; rollouts the core no longer lists go.
 */
export function mergeRolloutList(current: RolloutRows, list: readonly RolloutSummary[]): RolloutRows {
  let changed = Object.keys(current).length !== list.length
  const next: Record<string, RolloutSummary> = {}
  for (const summary of list) {
    const existing = current[summary.id]
    if (existing && (existing.updatedAt > summary.updatedAt || sameValue(existing, summary))) next[summary.id] = existing
    else {
      next[summary.id] = summary
      changed = true
    }
  }
  return changed ? next : current
}

/** One summary an action answered with, unless the stream already brought a newer one. */
export function withSummary(current: RolloutRows, summary: RolloutSummary): RolloutRows {
  const existing = current[summary.id]
  if (existing && (existing.updatedAt > summary.updatedAt || sameValue(existing, summary))) return current
  return { ...current, [summary.id]: summary }
}

export interface Tally {
  succeeded: number
  failed: number
  rolledBack: number
  inFlight: number
  queued: number
  /** Cancelled by an abort, or skipped (offline too long before it started). */
  stopped: number
  total: number
}

export function tally(counts: RolloutSummary['counts'], total: number): Tally {
  let inFlight = 0
  for (const state of inFlightStates) inFlight += counts[state] ?? 0
  return {
    succeeded: counts.succeeded ?? 0,
    failed: counts.failed ?? 0,
    rolledBack: counts['rolled-back'] ?? 0,
    inFlight,
    queued: counts.queued ?? 0,
    stopped: (counts.cancelled ?? 0) + (counts.skipped ?? 0),
    total,
  }
}

/** "3 succeeded · 2 rolled back · 1 in flight · 4 queued": only what some device is. */
export function tallyText(t: Tally): string {
  const parts = [
    [t.succeeded, 'succeeded'],
    [t.failed, 'failed'],
    [t.rolledBack, 'rolled back'],
    [t.inFlight, 'in flight'],
    [t.queued, 'queued'],
    [t.stopped, 'cancelled or skipped'],
  ] as const
  const said = parts.filter(([n]) => n > 0).map(([n, words]) => `${n} ${words}`)
  return said.length > 0 ? said.join(' · ') : `${t.total} ${t.total === 1 ? 'device' : 'devices'}, none started`
}

/** Shares of the bar, in percent of the phase's devices, in the order they are drawn. */
export function tallyShares(t: Tally): { kind: 'succeeded' | 'failed' | 'rolled-back' | 'in-flight' | 'stopped'; percent: number; count: number }[] {
  if (t.total === 0) return []
  const share = (n: number) => (100 * n) / t.total
  return (
    [
      ['succeeded', t.succeeded],
      ['failed', t.failed],
      ['rolled-back', t.rolledBack],
      ['in-flight', t.inFlight],
      ['stopped', t.stopped],
    ] as const
  )
    .filter(([, n]) => n > 0)
    .map(([kind, count]) => ({ kind, count, percent: share(count) }))
}

export interface RolloutControls {
  pause: boolean
  resume: boolean
  abort: boolean
  /** Resuming over a failed health gate is an override, and says so. */
  resumeLabel: string
}

/** Exactly what the core accepts in each status (shared/domain/ota/rollout.ts): nothing offered that it would refuse. */
export function rolloutControls(summary: Pick<RolloutSummary, 'status' | 'pausedBy'>): RolloutControls {
  const { status } = summary
  return {
    pause: status === 'running',
    resume: status === 'paused',
    abort: status === 'ready' || status === 'running' || status === 'paused',
    resumeLabel: status === 'paused' && summary.pausedBy === 'health-gate' ? 'Resume over failed gate' : 'Resume',
  }
}

export function statusLabel(summary: Pick<RolloutSummary, 'status' | 'pausedBy'>): string {
  if (summary.status === 'paused') return summary.pausedBy === 'health-gate' ? 'paused by health gate' : 'paused by operator'
  return summary.status
}

/** The phase whose failed gate paused the rollout, with that gate: what "why it stopped" is read from. */
export function stoppingGate(summary: Pick<RolloutSummary, 'status' | 'pausedBy' | 'phases' | 'currentPhase'>): { phase: RolloutPhaseView; gate: GateView } | null {
  const failed = summary.phases.filter((phase) => phase.gate && !phase.gate.passed)
  if (failed.length === 0) return null
  const current = summary.phases[summary.currentPhase]
  const phase = current && current.gate && !current.gate.passed ? current : failed[failed.length - 1]!
  return { phase, gate: phase.gate! }
}

export const phaseStateLabels: Record<RolloutPhaseView['state'], string> = {
  pending: 'waiting',
  rolling: 'rolling out',
  soaking: 'soaking',
  passed: 'passed',
  'gate-failed': 'gate failed',
  stopped: 'stopped',
}

/** The gate of one phase in a few words: not yet, passed, passed by override, failed with why. */
export function gateSummary(phase: Pick<RolloutPhaseView, 'gate' | 'overridden' | 'state'>): { state: 'waiting' | 'passed' | 'overridden' | 'failed'; text: string } {
  if (phase.overridden) return { state: 'overridden', text: 'Passed by operator override after the gate failed.' }
  const gate = phase.gate
  if (!gate) return { state: 'waiting', text: phase.state === 'stopped' ? 'Not evaluated: the rollout was stopped.' : 'Not evaluated yet.' }
  const measured = `${gate.executed} ran to the end: ${gate.succeeded} succeeded, ${gate.failed} failed, ${gate.rolledBack} rolled back.`
  if (gate.passed) return { state: 'passed', text: `Passed. ${measured}` }
  return { state: 'failed', text: `Failed${gate.early ? ' early' : ''}: ${gate.findings.map((f) => f.detail).join(' ')} ${measured}` }
}

export const gateReasonLabels: Record<GateView['findings'][number]['reason'], string> = {
  'failure-share': 'too many failed or rolled back',
  'too-few-executed': 'too few ran to the end',
  'reboot-rise': 'reboots rose',
  'crash-rise': 'crashes rose',
  'silent-devices': 'devices went silent',
}

/** Seconds of soak left, or null when the phase is not soaking. */
export function soakLeft(phase: Pick<RolloutPhaseView, 'state' | 'soakStartedAt' | 'soakSeconds'>, now: number): number | null {
  if (phase.state !== 'soaking' || phase.soakStartedAt === null) return null
  return Math.max(0, Math.ceil((phase.soakStartedAt + phase.soakSeconds * 1000 - now) / 1000))
}

/** 45 s, 30 min, 1 h 30 min, 2 d. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`
  if (seconds < 86_400) {
    const h = Math.floor(seconds / 3600)
    const m = Math.round((seconds % 3600) / 60)
    return m === 0 ? `${h} h` : `${h} h ${m} min`
  }
  const d = Math.floor(seconds / 86_400)
  const h = Math.round((seconds % 86_400) / 3600)
  return h === 0 ? `${d} d` : `${d} d ${h} h`
}

export function shortSha(sha256: string): string {
  return `${sha256.slice(0, 12)}…`
}

/** The Secure Boot line of an image, plainly: a device with Secure Boot v2 on refuses an image without a block its eFuses trust. */
export function secureBootText(artifact: Pick<ArtifactView, 'secureBootBlocks'>): string {
  const blocks = artifact.secureBootBlocks
  if (blocks.length === 0) return 'Unsigned by Secure Boot: no Secure Boot v2 signature blocks. Boards with Secure Boot enabled will refuse it.'
  const schemes = [...new Set(blocks.map((b) => b.scheme))].join(', ')
  return `Secure Boot v2: ${blocks.length} signature ${blocks.length === 1 ? 'block' : 'blocks'} verified (${schemes}; key ${blocks.map((b) => shortSha(b.publicKeyDigest)).join(', ')}).`
}

/** How the image reads in a picker. */
export function artifactLabel(artifact: Pick<ArtifactView, 'version' | 'fileName' | 'chip'>): string {
  return `${artifact.version} — ${artifact.fileName} (${artifact.chip})`
}

/** "from → to" of a device row; unknown versions read as such, not as blanks. */
export function versionChange(row: { fromVersion: string | null; firmwareVersion: string | null }): string {
  return `${row.fromVersion ?? 'unknown'} → ${row.firmwareVersion ?? 'unknown'}`
}

/** Rollouts still under way, for the screen's summary line. */
export function activeCount(rows: RolloutRows): number {
  let n = 0
  for (const id in rows) if (isRolloutLive(rows[id]!.status)) n++
  return n
}
