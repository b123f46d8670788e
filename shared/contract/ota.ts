import { z } from 'zod'

/** A firmware image the console keeps for updates, as its signed manifest describes it. */
export interface ArtifactView {
  sha256: string
  fileName: string
  version: string
  project: string
  chip: string
  idf: string
  size: number
  importedAt: number
  operator: string
  /** The release key that signed the manifest, and when. */
  keyId: string
  signedAt: number
  /** ESP-IDF Secure Boot v2 blocks the image carries, each verified: empty for an unsigned image. */
  secureBootBlocks: { scheme: string; publicKeyDigest: string }[]
}

export const otaParams = {
  importArtifact: z
    .object({
      fileName: z.string().trim().min(1).max(200),
      /** The image's bytes, base64. */
      data: z.string().max(24 * 1024 * 1024, 'Firmware files over 16 MB are not ESP32 application images.'),
      /** Refuse an image older than this version (a downgrade). */
      minimumVersion: z.string().trim().min(1).max(64).optional(),
    })
    .strict(),
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'An artifact is named by its SHA-256: 64 lower-case hex digits.')
const names = (what: string) => z.array(z.string().trim().min(1).max(128)).min(1, `Name at least one ${what}, or leave the filter out.`).max(1000)

/** Every filter given must hold; see shared/domain/ota/rollout-plan.ts. */
export const rolloutSelection = z
  .object({
    groups: names('group').optional(),
    tags: names('tag').optional(),
    versions: names('version').optional(),
    onlineOnly: z.boolean().optional(),
    /** Edge nodes picked by hand, as `group/edge`. */
    deviceIds: z.array(z.string().trim().min(3).max(200)).min(1, 'Pick at least one device, or leave the filter out.').max(10_000).optional(),
  })
  .strict()

/** What the health gate of a phase may override; shares are percents, so the screen shows what it asks. */
const gateOverrides = z
  .object({
    maxFailurePercent: z.number().min(0).max(100).optional(),
    minExecuted: z.number().int().min(0).max(10_000).optional(),
    maxSilentPercent: z.number().min(0).max(100).optional(),
    silentAfterSeconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict()

const rateOverrides = z
  .object({
    perMinute: z.number().min(0.1).max(10_000).optional(),
    maxPerMinute: z.number().min(0.1).max(10_000).optional(),
    jitterSeconds: z.number().min(0).max(3600).optional(),
    maxInFlight: z.number().int().min(1).max(10_000).optional(),
  })
  .strict()

const phaseCommon = { soakSeconds: z.number().int().min(0).max(7 * 86_400).optional(), gate: gateOverrides.optional(), rate: rateOverrides.optional() }

export const rolloutPhase = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('canary'), devices: z.number().int().min(1).max(1000), ...phaseCommon }).strict(),
  z.object({ kind: z.literal('percentage'), percent: z.number().min(0.1).max(100), ...phaseCommon }).strict(),
])

export const rolloutRequest = z
  .object({
    artifact: sha256Hex,
    selection: rolloutSelection,
    /** Default: a canary of 3, then 5%, 25% and 100%. */
    phases: z.array(rolloutPhase).min(1).max(12).optional(),
    /** The preview's seed, so the rollout started is exactly the plan that was shown. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
  })
  .strict()

export type RolloutRequest = z.output<typeof rolloutRequest>

export const rolloutId = z.object({ rolloutId: z.string().trim().min(1).max(64) }).strict()

export type RolloutStatusName = 'ready' | 'running' | 'paused' | 'aborting' | 'aborted' | 'completed'
export type RolloutDeviceState = 'queued' | 'notified' | 'downloading' | 'downloaded' | 'installing' | 'rebooting' | 'verifying' | 'succeeded' | 'rolled-back' | 'failed' | 'cancelled' | 'skipped'

export interface GateFindingView {
  reason: 'failure-share' | 'too-few-executed' | 'reboot-rise' | 'crash-rise' | 'silent-devices'
  detail: string
  deviceIds: string[]
}

export interface GateView {
  passed: boolean
  early: boolean
  at: number
  findings: GateFindingView[]
  executed: number
  succeeded: number
  failed: number
  rolledBack: number
}

export interface RolloutPhaseView {
  index: number
  name: string
  state: 'pending' | 'rolling' | 'soaking' | 'passed' | 'gate-failed' | 'stopped'
  devices: number
  counts: Partial<Record<RolloutDeviceState, number>>
  soakSeconds: number
  soakStartedAt: number | null
  overridden: boolean
  gate: GateView | null
}

/** One rollout as the Updates screen lists it: live while it runs, history once it ended. */
export interface RolloutSummary {
  id: string
  artifact: string
  version: string
  fileName: string
  operator: string
  createdAt: number
  updatedAt: number
  status: RolloutStatusName
  pausedBy: 'operator' | 'health-gate' | null
  /** The latest change of status, in words ("Paused: the canary's health gate failed…"). */
  detail: string
  currentPhase: number
  devices: number
  counts: Partial<Record<RolloutDeviceState, number>>
  phases: RolloutPhaseView[]
  /** Devices per minute the current phase may start now. */
  startRate: number
}

export interface RolloutDeviceRow {
  id: string
  phase: number
  state: RolloutDeviceState
  progress: number | null
  attempt: number
  reason: string | null
  detail: string | null
  fromVersion: string | null
  firmwareVersion: string | null
  runningSlot: string | null
  online: boolean
  startedAt: number | null
  finishedAt: number | null
}

export interface RolloutLogEntry {
  at: number
  kind: 'status' | 'phase' | 'gate' | 'device' | 'problem' | 'operator'
  deviceId: string | null
  detail: string
}

export interface RolloutDetail {
  summary: RolloutSummary
  devices: RolloutDeviceRow[]
  excluded: { deviceId: string; reason: string; detail: string }[]
  log: RolloutLogEntry[]
}

/** What the operator confirms before a rollout starts: the devices of every phase, in start order. */
export interface RolloutPreview {
  seed: number
  image: { version: string; chip: string; size: number; sha256: string }
  targets: number
  phases: { name: string; soakSeconds: number; deviceIds: string[]; byGroup: Record<string, number>; byFromVersion: Record<string, number>; gate: { maxFailurePercent: number; minExecuted: number; maxSilentPercent: number } }[]
  excluded: { deviceId: string; reason: string; detail: string }[]
}
