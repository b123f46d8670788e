import { seededRandom } from '../seeded-random'
// Which devices a rollout touches, in which cohort, and with which health gate, decided before anything
// is sent: the operator sees exactly this plan as the preview, and the Rollout state machine runs it.
//
// Same fleet snapshot, same selection, same seed: same plan. The order inside the fleet is shuffled by
// the seed, not taken as given, so the canary is not always "the first three devices of line 1" (which
// would test one corner of the plant again and again), yet a preview shown yesterday is the plan run today.

export interface FleetDevice {
  id: string
  group: string
  tags: readonly string[]
  /** As the device last reported it (Properties/Firmware Version); null when it never did. */
  firmwareVersion: string | null
  online: boolean
  /** As the image names it, e.g. "esp32s3": an image for another chip does not boot. */
  chip: string
}

/** Every filter given must hold (AND); inside one filter any listed value will do, except tags. */
export interface TargetSelection {
  groups?: readonly string[]
  /** The device carries every one of these tags. */
  tags?: readonly string[]
  /** The device currently runs one of these versions. */
  versions?: readonly string[]
  onlineOnly?: boolean
  /** Picked by hand. Ids the fleet does not know are refused, not skipped. */
  deviceIds?: readonly string[]
}

export interface RolloutImage {
  version: string
  chip: string
  /** Where devices fetch it (the console's OTA file server). */
  url: string
  /** Lower-case hex SHA-256 of the file the device downloads. */
  sha256: string
  size: number
}

/**
 * How fast a cohort starts, after AWS IoT Jobs' exponential rollout: a base rate, multiplied by
 * `incrementFactor` each time `succeededPerIncrement` more devices of the phase succeeded, up to a cap.
 * The rate earns its growth from devices that finished well, not from time passing.
 */
export interface StartRate {
  basePerMinute: number
  incrementFactor: number
  succeededPerIncrement: number
  maxPerMinute: number
  /** Each start waits a further random 0…jitterMs, so a cohort does not hit the file server in lockstep. */
  jitterMs: number
  /** Devices between the download command and their end state, across the rollout. */
  maxInFlight: number
}

/** "Rose" means more than `factor` × what the device's own history predicts for the window, plus `slack`. */
export interface RiseLimit {
  factor: number
  slack: number
  /** The gate fails when more than this share of the phase's succeeded devices rose. */
  maxDeviceShare: number
}

/** How many devices a phase's gate waits for: the configured minimum, but never more than the phase holds. */
export function requiredExecuted(gate: Pick<HealthGate, 'minExecuted'>, phaseSize: number): number {
  return Math.min(gate.minExecuted, phaseSize)
}

export interface HealthGate {
  /** (failed + rolled back) / executed. */
  maxFailureShare: number
  /** Devices that must have run the update to its end (clamped to the phase's size). */
  minExecuted: number
  /** Started devices offline for at least `silentAfterMs` when the gate is evaluated. */
  maxSilentShare: number
  silentAfterMs: number
  reboots: RiseLimit
  crashes: RiseLimit
  /**
   * Fail the gate as soon as the phase has more failures than it may have in the end, instead of
   * waiting for its soak. Off for a canary: its devices are few and each is a separate witness, so
   * they all run to their end; on for percentages, where it limits the damage.
   */
  stopEarly: boolean
}

/** Per-device timeouts and retries. Times in ms. */
export interface DevicePolicy {
  /** A command with no answer (no `downloading` after download, no `installing` after install) is sent again. */
  ackTimeoutMs: number
  maxResends: number
  /** A download whose percentage does not move this long is abandoned and retried as a fresh attempt. */
  progressTimeoutMs: number
  /** installing → rebooting → verifying → end must finish in this; after it the device is failed (and still followed). */
  verdictTimeoutMs: number
  /** Offline this long mid-update: failed as silent. Queued and offline this long: skipped. */
  offlineGiveUpMs: number
  /** Download attempts per device, the first included. */
  maxAttempts: number
  /** Fresh downloads after a checksum mismatch: once, because twice the same wrong bytes is not the link. */
  checksumRetries: number
  /** A failed attempt waits retryDelayMs × attempt (plus the start jitter) before the next. */
  retryDelayMs: number
}

export type PhaseSpec =
  | { kind: 'canary'; devices: number; soakMs?: number; gate?: Partial<HealthGate>; rate?: Partial<StartRate> }
  /** Cumulative share of the devices left after the canary. The last phase must reach 100. */
  | { kind: 'percentage'; percent: number; soakMs?: number; gate?: Partial<HealthGate>; rate?: Partial<StartRate> }

export const defaultPhases: readonly PhaseSpec[] = [
  { kind: 'canary', devices: 3 },
  { kind: 'percentage', percent: 5 },
  { kind: 'percentage', percent: 25 },
  { kind: 'percentage', percent: 100 },
]

export const defaultStartRate: StartRate = {
  basePerMinute: 10,
  incrementFactor: 2,
  succeededPerIncrement: 10,
  maxPerMinute: 200,
  jitterMs: 10_000,
  maxInFlight: 50,
}

export const defaultHealthGate: HealthGate = {
  maxFailureShare: 0.1,
  minExecuted: 3,
  maxSilentShare: 0.1,
  // Longer than a reboot and a Wi-Fi rejoin take, so a device is not called silent for updating.
  silentAfterMs: 10 * 60_000,
  // One extra reboot in a soak is noise (a brownout, a watchdog on a flaky sensor); a crash is not.
  reboots: { factor: 2, slack: 1, maxDeviceShare: 0.1 },
  crashes: { factor: 2, slack: 0, maxDeviceShare: 0.1 },
  stopEarly: true,
}

export const defaultDevicePolicy: DevicePolicy = {
  // Commands are QoS 0: a lost one is only noticed by the silence after it.
  ackTimeoutMs: 30_000,
  maxResends: 3,
  // A 1.5 MB image over a weak link moves at least a percent in two minutes.
  progressTimeoutMs: 2 * 60_000,
  // Writing otadata and rebooting take seconds; a self-test that waits for the first good sensor reading
  // and an upstream connection may take minutes.
  verdictTimeoutMs: 15 * 60_000,
  offlineGiveUpMs: 30 * 60_000,
  maxAttempts: 3,
  checksumRetries: 1,
  retryDelayMs: 30_000,
}

export const defaultSoakMs = { canary: 30 * 60_000, percentage: 60 * 60_000 } as const

export interface PlannedDevice {
  id: string
  group: string
  chip: string
  /** The version it runs at planning time: the known-good image it keeps or goes back to. */
  fromVersion: string | null
  online: boolean
}

export interface PlannedPhase {
  index: number
  /** "canary", "5%", "25%", "100%". */
  name: string
  kind: 'canary' | 'percentage'
  /** For percentages: the cumulative share of post-canary devices reached at its end. */
  percent: number | null
  /** In start order. */
  deviceIds: string[]
  soakMs: number
  gate: HealthGate
  rate: StartRate
}

export type ExclusionReason = 'already-on-version' | 'wrong-chip' | 'offline' | 'in-active-rollout'

export interface Exclusion {
  deviceId: string
  reason: ExclusionReason
  detail: string
}

export interface RolloutPlan {
  rolloutId: string
  image: RolloutImage
  seed: number
  /** Every device the rollout will touch, by id. */
  targets: PlannedDevice[]
  /** Devices the selection matched but the rollout leaves alone, each with why. */
  excluded: Exclusion[]
  phases: PlannedPhase[]
  policy: DevicePolicy
}

export type PlanRefusal =
  | { reason: 'bad-image'; detail: string }
  | { reason: 'bad-phases'; detail: string }
  | { reason: 'unknown-devices'; detail: string; deviceIds: string[] }
  | { reason: 'devices-in-active-rollout'; detail: string; devices: Array<{ deviceId: string; rolloutId: string }> }
  | { reason: 'no-targets'; detail: string; excluded: Exclusion[] }

export type PlanResult = { ok: true; plan: RolloutPlan } | { ok: false; refusal: PlanRefusal }

export interface PlanOptions {
  rolloutId: string
  image: RolloutImage
  selection: TargetSelection
  seed: number
  phases?: readonly PhaseSpec[]
  policy?: Partial<DevicePolicy>
  /** deviceId → id of the active rollout that holds it. */
  activeRollouts?: ReadonlyMap<string, string>
  /**
   * A device in another active rollout: refuse the whole plan (the default, so nobody is surprised by
   * a smaller rollout than they asked for), or leave it out and list it under `excluded`.
   */
  busyDevices?: 'refuse' | 'exclude'
}

export function planRollout(fleet: readonly FleetDevice[], options: PlanOptions): PlanResult {
  const imageProblem = checkImage(options.image)
  if (imageProblem !== null) return refuse({ reason: 'bad-image', detail: imageProblem })
  const specs = options.phases ?? defaultPhases
  const phaseProblem = checkPhases(specs)
  if (phaseProblem !== null) return refuse({ reason: 'bad-phases', detail: phaseProblem })

  const { selection, image } = options
  const byId = new Map(fleet.map((d) => [d.id, d]))
  if (selection.deviceIds !== undefined) {
    const unknown = selection.deviceIds.filter((id) => !byId.has(id))
    if (unknown.length > 0) {
      return refuse({ reason: 'unknown-devices', detail: `Not in the fleet: ${listIds(unknown)}.`, deviceIds: unknown })
    }
  }

  const picked = new Set(selection.deviceIds)
  const matched = fleet.filter((d) => {
    if (selection.deviceIds !== undefined && !picked.has(d.id)) return false
    if (selection.groups !== undefined && !selection.groups.includes(d.group)) return false
    if (selection.tags !== undefined && !selection.tags.every((t) => d.tags.includes(t))) return false
    if (selection.versions !== undefined && (d.firmwareVersion === null || !selection.versions.includes(d.firmwareVersion))) return false
    return true
  })

  const active = options.activeRollouts ?? new Map<string, string>()
  const busy = matched.filter((d) => active.has(d.id)).map((d) => ({ deviceId: d.id, rolloutId: active.get(d.id)! }))
  if (busy.length > 0 && (options.busyDevices ?? 'refuse') === 'refuse') {
    const rollouts = [...new Set(busy.map((b) => b.rolloutId))]
    return refuse({
      reason: 'devices-in-active-rollout',
      detail:
        `${busy.length} selected device${busy.length === 1 ? ' is' : 's are'} already in active rollout ${rollouts.join(', ')}: ` +
        `${listIds(busy.map((b) => b.deviceId))}. Wait for it to end, abort it, or leave these devices out.`,
      devices: busy,
    })
  }

  const excluded: Exclusion[] = []
  const targets: FleetDevice[] = []
  for (const d of matched) {
    const holder = active.get(d.id)
    if (holder !== undefined) {
      excluded.push({ deviceId: d.id, reason: 'in-active-rollout', detail: `In active rollout ${holder}.` })
    } else if (d.chip !== image.chip) {
      excluded.push({ deviceId: d.id, reason: 'wrong-chip', detail: `Is ${d.chip}; the image is built for ${image.chip}.` })
    } else if (d.firmwareVersion === image.version) {
      excluded.push({ deviceId: d.id, reason: 'already-on-version', detail: `Already runs ${image.version}.` })
    } else if (selection.onlineOnly === true && !d.online) {
      excluded.push({ deviceId: d.id, reason: 'offline', detail: 'Offline, and the selection asks for online devices only.' })
    } else {
      targets.push(d)
    }
  }
  if (targets.length === 0) {
    const detail = matched.length === 0 ? 'The selection matches no device.' : `The selection matches ${matched.length} device(s), none of which can take this image.`
    return refuse({ reason: 'no-targets', detail, excluded })
  }

  const random = seededRandom(options.seed)
  // Sorted first, so the plan depends on which devices the snapshot holds, not on the order it lists them.
  const order = shuffled(
    targets.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    random,
  )
  const policy = { ...defaultDevicePolicy, ...options.policy }
  const phases = splitIntoPhases(order, specs)
  return {
    ok: true,
    plan: {
      rolloutId: options.rolloutId,
      image: { ...image },
      seed: options.seed,
      targets: order.map((d) => ({ id: d.id, group: d.group, chip: d.chip, fromVersion: d.firmwareVersion, online: d.online })),
      excluded,
      phases,
      policy,
    },
  }
}

export interface PhasePreview {
  name: string
  soakMs: number
  gate: HealthGate
  devices: PlannedDevice[]
  byGroup: Record<string, number>
  byFromVersion: Record<string, number>
}

/** What the operator confirms: every phase with exactly the devices it will touch, in start order. */
export function previewRollout(plan: RolloutPlan): PhasePreview[] {
  const byId = new Map(plan.targets.map((t) => [t.id, t]))
  return plan.phases.map((phase) => {
    const devices = phase.deviceIds.map((id) => byId.get(id)!)
    const byGroup: Record<string, number> = {}
    const byFromVersion: Record<string, number> = {}
    for (const d of devices) {
      byGroup[d.group] = (byGroup[d.group] ?? 0) + 1
      const v = d.fromVersion ?? 'unknown'
      byFromVersion[v] = (byFromVersion[v] ?? 0) + 1
    }
    return { name: phase.name, soakMs: phase.soakMs, gate: phase.gate, devices, byGroup, byFromVersion }
  })
}

// ---- internals ----------------------------------------------------------------------------------------

function splitIntoPhases(order: FleetDevice[], specs: readonly PhaseSpec[]): PlannedPhase[] {
  const phases: PlannedPhase[] = []
  let rest = order
  const canarySpec = specs[0]?.kind === 'canary' ? specs[0] : null
  if (canarySpec !== null) {
    const canary = pickCanary(order, canarySpec.devices)
    const inCanary = new Set(canary)
    rest = order.filter((d) => !inCanary.has(d))
    if (canary.length > 0) phases.push(planned(phases.length, 'canary', 'canary', null, canary, canarySpec))
  }
  const total = rest.length
  let reached = 0
  for (const spec of specs) {
    if (spec.kind !== 'percentage') continue
    // Rounded up, so "5%" of 40 devices is 2, never 0, and 100% is everyone.
    const until = Math.min(total, Math.ceil((spec.percent / 100) * total - 1e-9))
    if (until <= reached) continue
    phases.push(planned(phases.length, `${spec.percent}%`, 'percentage', spec.percent, rest.slice(reached, until), spec))
    reached = until
  }
  return phases
}

function planned(index: number, name: string, kind: 'canary' | 'percentage', percent: number | null, devices: FleetDevice[], spec: PhaseSpec): PlannedPhase {
  const baseGate = kind === 'canary' ? { ...defaultHealthGate, stopEarly: false } : defaultHealthGate
  return {
    index,
    name,
    kind,
    percent,
    deviceIds: devices.map((d) => d.id),
    soakMs: spec.soakMs ?? defaultSoakMs[kind],
    gate: { ...baseGate, ...spec.gate },
    rate: { ...defaultStartRate, ...spec.rate },
  }
}

/**
 * The canary takes one device from each chip × group stratum in turn (in the seeded order), so a few
 * devices cover as many kinds of device as they can: an image that only crashes on one board revision
 * or one site's configuration is caught before the percentages.
 */
function pickCanary(order: FleetDevice[], count: number): FleetDevice[] {
  const strata = new Map<string, FleetDevice[]>()
  for (const d of order) {
    const key = `${d.chip}\u0000${d.group}`
    let list = strata.get(key)
    if (list === undefined) strata.set(key, (list = []))
    list.push(d)
  }
  const lists = [...strata.values()]
  const out: FleetDevice[] = []
  for (let round = 0; out.length < count; round++) {
    let took = false
    for (const list of lists) {
      const d = list[round]
      if (d === undefined) continue
      out.push(d)
      took = true
      if (out.length === count) break
    }
    if (!took) break
  }
  return out
}

function checkImage(image: RolloutImage): string | null {
  if (image.version.trim() === '') return 'The image has no version.'
  if (image.chip.trim() === '') return 'The image names no chip.'
  if (image.url.trim() === '') return 'The image has no download URL.'
  if (!/^[0-9a-f]{64}$/.test(image.sha256)) return 'The image SHA-256 must be 64 lower-case hex digits.'
  if (!Number.isSafeInteger(image.size) || image.size <= 0) return 'The image size must be a positive whole number of bytes.'
  return null
}

function checkPhases(specs: readonly PhaseSpec[]): string | null {
  if (specs.length === 0) return 'A rollout needs at least one phase.'
  let last = 0
  let sawPercentage = false
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!
    if (spec.kind === 'canary') {
      if (i !== 0) return 'Only the first phase may be a canary.'
      if (!Number.isSafeInteger(spec.devices) || spec.devices < 1) return 'A canary needs a whole number of devices, at least 1.'
    } else {
      sawPercentage = true
      if (!(spec.percent > last && spec.percent <= 100)) return `Percentages must rise and stay within 100 (${spec.percent}% after ${last}%).`
      last = spec.percent
    }
    if (spec.soakMs !== undefined && !(spec.soakMs >= 0)) return 'A soak time cannot be negative.'
    const gate = spec.gate
    if (gate?.maxFailureShare !== undefined && !(gate.maxFailureShare >= 0 && gate.maxFailureShare <= 1)) return 'A failure share is between 0 and 1.'
    const rate = spec.rate
    if (rate !== undefined) {
      for (const key of ['basePerMinute', 'maxPerMinute', 'succeededPerIncrement', 'maxInFlight'] as const) {
        const v = rate[key]
        if (v !== undefined && !(v > 0)) return `Start rate ${key} must be positive.`
      }
      if (rate.incrementFactor !== undefined && !(rate.incrementFactor >= 1)) return 'A rate increment factor is at least 1.'
      if (rate.jitterMs !== undefined && !(rate.jitterMs >= 0)) return 'Jitter cannot be negative.'
      const merged = { ...defaultStartRate, ...rate }
      // A cap below the base would silently start slower than asked.
      if (merged.basePerMinute > merged.maxPerMinute) return `Start rate basePerMinute (${merged.basePerMinute}) is above maxPerMinute (${merged.maxPerMinute}).`
    }
  }
  // Devices a rollout never reaches would keep it from ever completing.
  if (sawPercentage && last !== 100) return `The last phase must reach 100% (it stops at ${last}%).`
  return null
}

function refuse(refusal: PlanRefusal): PlanResult {
  return { ok: false, refusal }
}

function listIds(ids: readonly string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice()
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

