// One staged OTA rollout as a state machine: what the console believes about every target device and
// every phase, driven by the devices' reports, the operator's pause/resume/abort and the passing of time.
//
// The caller owns all I/O. It hands each device's OTA report to receive() (or the Sparkplug metrics to
// receiveMetrics()), tells it when devices go offline and come back, reports reboots and crashes during
// soaks, calls tick() every second or so, and performs what takeEffects() returns: publish a command as
// NCMD (protocol.ts), persist a device or phase state, show a gate verdict. Time and randomness come in
// as arguments, so the same inputs give the same effects.
//
// The rules that make pause and abort exact:
//   - A device changes what it boots only on an install command, and install is sent only while the
//     rollout runs, only for a job the device reported `downloaded`. Pause and abort stop installs at once.
//   - Pause: nothing new begins (no first downloads, no retries, no installs); downloads already going
//     continue and stop at `downloaded`; installs already acknowledged run to their end. Resume continues.
//   - Abort: nothing new begins, every download in flight gets a cancel, nothing is ever installed again;
//     devices already installing, rebooting or verifying are followed to their end state.
//   - Every attempt has its own job id: a report about an abandoned attempt is ignored, never mistaken
//     for the current one.
//   - The device's own report outranks the console's guess: a device the console gave up on (timeout,
//     silence) that later reports on its current job is followed to wherever it really is.

import type { Metric } from '../sparkplug/payload'
import {
  deviceOtaStates,
  otaErrorCodes,
  otaJobId,
  parseOtaReport,
  type DeviceOtaState,
  type OtaCommand,
  type OtaError,
  type OtaReport,
  type OtaReportProblem,
} from './protocol'
import { requiredExecuted, type DevicePolicy, type HealthGate, type PlannedPhase, type RiseLimit, type RolloutPlan } from './rollout-plan'

export type DeviceRolloutState =
  /** Waiting for its start (or, after a failed attempt, for its retry). */
  | 'queued'
  /** Download command sent, no answer yet. */
  | 'notified'
  | 'downloading'
  | 'downloaded'
  /** Install sent (acknowledged or not: see `installAcked`). */
  | 'installing'
  | 'rebooting'
  | 'verifying'
  | 'succeeded'
  | 'rolled-back'
  | 'failed'
  /** Stopped by an abort before anything was installed: still on its old image. */
  | 'cancelled'
  /** Never started: offline for the whole of its phase. */
  | 'skipped'

export const finalDeviceStates: ReadonlySet<DeviceRolloutState> = new Set(['succeeded', 'rolled-back', 'failed', 'cancelled', 'skipped'])

/** Devices between their download command and their end state: what `maxInFlight` counts. */
const inFlightStates: readonly DeviceRolloutState[] = ['notified', 'downloading', 'downloaded', 'installing', 'rebooting', 'verifying']
const installStates: readonly DeviceRolloutState[] = ['installing', 'rebooting', 'verifying']

export type DeviceOutcomeReason =
  | 'checksum-mismatch'
  | 'size-mismatch'
  | 'download-failed'
  | 'download-stalled'
  | 'image-invalid'
  | 'flash-error'
  | 'not-downloaded'
  | 'busy'
  /** The device answered none of a command's sends. */
  | 'no-response'
  | 'install-failed'
  /** Installing, rebooting or verifying took longer than the policy allows. */
  | 'no-verdict'
  /** Offline mid-update for longer than the policy allows. */
  | 'silent'
  /** Said succeeded but does not run the rollout's version (or did not say which). */
  | 'version-mismatch'
  | 'device-error'
  | 'self-test-failed'
  | 'boot-failed'
  /** Power cut: a download lost, or the bootloader went back from an unconfirmed image. Retried. */
  | 'interrupted'
  | 'unknown'
  | 'aborted'
  | 'offline'

export type PhaseState = 'pending' | 'rolling' | 'soaking' | 'passed' | 'gate-failed' | 'stopped'

export type RolloutStatus =
  | 'ready'
  | 'running'
  | 'paused'
  /** Abort requested; devices already installing are still being followed. */
  | 'aborting'
  | 'aborted'
  | 'completed'

export type PauseCause = 'operator' | 'health-gate'

export interface HealthBaseline {
  /** Reboots and crashes the device had over `overMs` before the rollout: its own normal. */
  reboots: number
  crashes: number
  overMs: number
}

export type HealthEventKind = 'reboot' | 'crash'

export type GateFinding =
  /**
   * `byReason` separates what the image did (boot-failed, self-test-failed) from what the site did
   * (interrupted, silent): the gate counts both, the operator deciding on an override needs to see which.
   */
  | { reason: 'failure-share'; detail: string; share: number; limit: number; deviceIds: string[]; byReason: Partial<Record<DeviceOutcomeReason, number>> }
  | { reason: 'too-few-executed'; detail: string; executed: number; required: number }
  | { reason: 'reboot-rise'; detail: string; share: number; limit: number; deviceIds: string[] }
  | { reason: 'crash-rise'; detail: string; share: number; limit: number; deviceIds: string[] }
  | { reason: 'silent-devices'; detail: string; share: number; limit: number; deviceIds: string[] }

export interface GateMeasures {
  devices: number
  executed: number
  succeeded: number
  failed: number
  rolledBack: number
  skipped: number
  silent: number
  soakMs: number
}

export interface GateResult {
  passed: boolean
  /** Decided before the soak ended, because the phase already had more failures than it may have. */
  early: boolean
  findings: GateFinding[]
  measures: GateMeasures
  at: number
}

export interface CommandEffect {
  kind: 'command'
  deviceId: string
  at: number
  command: OtaCommand
}

export interface DeviceStateEffect {
  kind: 'device-state'
  deviceId: string
  at: number
  state: DeviceRolloutState
  previous: DeviceRolloutState
  phase: number
  attempt: number
  progress: number | null
  reason: DeviceOutcomeReason | null
  detail: string | null
}

export interface PhaseEffect {
  kind: 'phase'
  at: number
  phase: number
  name: string
  state: PhaseState
  /** Passed because the operator resumed over a failed health gate. */
  overridden: boolean
}

export interface GateEffect extends GateResult {
  kind: 'gate'
  phase: number
  name: string
}

export interface RolloutStateEffect {
  kind: 'rollout-state'
  at: number
  state: RolloutStatus
  previous: RolloutStatus
  pausedBy: PauseCause | null
  detail: string
}

export type RolloutProblem = OtaReportProblem['problem'] | 'state-without-job' | 'out-of-order' | 'install-without-command' | 'version-mismatch'

export interface ProtocolProblemEffect {
  kind: 'protocol-problem'
  deviceId: string
  at: number
  problem: RolloutProblem
  detail: string
}

export type RolloutEffect = CommandEffect | DeviceStateEffect | PhaseEffect | GateEffect | RolloutStateEffect | ProtocolProblemEffect

/**
 * `applied`: it moved or confirmed the device's state. `stale`: about another job (an abandoned attempt,
 * another rollout) and ignored. `ignored`: nothing in it for this rollout. `unknown-device`: not a target.
 */
export type ReceiveOutcome = 'applied' | 'stale' | 'ignored' | 'unknown-device'

export interface RolloutDeviceView {
  readonly id: string
  readonly phase: number
  readonly state: DeviceRolloutState
  readonly progress: number | null
  /** Download attempts so far; 0 before the first. */
  readonly attempt: number
  readonly job: string | null
  readonly reason: DeviceOutcomeReason | null
  readonly detail: string | null
  readonly fromVersion: string | null
  readonly firmwareVersion: string | null
  readonly runningSlot: string | null
  readonly online: boolean
  readonly installSent: boolean
  readonly installAcked: boolean
  readonly startedAt: number | null
  readonly finishedAt: number | null
}

export interface PhaseView {
  readonly index: number
  readonly name: string
  readonly state: PhaseState
  readonly deviceIds: readonly string[]
  readonly openedAt: number | null
  readonly soakStartedAt: number | null
  readonly overridden: boolean
  readonly lastGate: GateResult | null
  readonly counts: Readonly<Record<DeviceRolloutState, number>>
}

export interface RolloutStats {
  reports: number
  staleReports: number
  protocolProblems: number
  downloads: number
  installs: number
  cancels: number
  /** Commands sent again for the same job (no answer, or the device came back). */
  resends: number
  /** Fresh attempts after a failed one. */
  retries: number
}

export interface RolloutOptions {
  /** Uniform in [0, 1): the start jitter. */
  random: () => number
  /** Each device's own history, for the reboot and crash rise of the health gate. Missing: no history (0). */
  baselines?: ReadonlyMap<string, HealthBaseline>
}

export type DeadlineKind = 'ack' | 'progress' | 'verdict'

/**
 * A rollout's whole state as plain JSON, for the core to persist and to rebuild the rollout from after a
 * restart (Rollout.restore). Effects are not in it: the caller takes and performs them before snapshotting.
 *
 * Where the state machine uses sentinels the snapshot says null: `startDueAt` -1 (no start scheduled),
 * `deadline` -1 with no kind (none armed), `lastCancelAt` -Infinity (no cancel sent this attempt).
 * Phase counts are not kept: they follow from the devices' states.
 */
export interface RolloutSnapshot {
  format: 1
  rolloutId: string
  status: RolloutStatus
  pausedBy: PauseCause | null
  currentPhase: number
  runningSince: number
  stats: RolloutStats
  /** By phase index. */
  phases: RolloutPhaseSnapshot[]
  /** One per target of the plan, in the plan's order. */
  devices: RolloutDeviceSnapshot[]
  /**
   * The non-final devices of opened phases, in the order tick() visits them. Who is in it follows from
   * the states, but the order does not, and it decides the order of effects and of the random draws.
   */
  active: string[]
  /** Devices told to cancel and last heard still holding the download, in the order cancels are repeated. */
  unconfirmedCancels: string[]
}

export interface RolloutPhaseSnapshot {
  state: PhaseState
  openedAt: number | null
  soakStartedAt: number | null
  nextSlotAt: number
  earlyTripped: boolean
  overridden: boolean
  lastGate: GateResult | null
}

/** Its phase and fromVersion are the plan's. */
export interface RolloutDeviceSnapshot {
  id: string
  state: DeviceRolloutState
  progress: number | null
  attempt: number
  job: string | null
  reason: DeviceOutcomeReason | null
  detail: string | null
  firmwareVersion: string | null
  runningSlot: string | null
  online: boolean
  offlineSince: number | null
  installSent: boolean
  installAcked: boolean
  startedAt: number | null
  finishedAt: number | null
  /** null: no start scheduled. */
  startDueAt: number | null
  /** null: no deadline armed. */
  deadline: { kind: DeadlineKind; at: number } | null
  resends: number
  checksumRetries: number
  /** null: no cancel sent for the current attempt. */
  lastCancelAt: number | null
  cancelResends: number
  reportedJob: string | null
  reportedState: DeviceOtaState | null
  lastError: OtaError | null
  soakReboots: number
  soakCrashes: number
}

class DeviceRecord implements RolloutDeviceView {
  state: DeviceRolloutState = 'queued'
  progress: number | null = null
  attempt = 0
  job: string | null = null
  reason: DeviceOutcomeReason | null = null
  detail: string | null = null
  firmwareVersion: string | null
  runningSlot: string | null = null
  online: boolean
  offlineSince: number | null = null
  installSent = false
  installAcked = false
  startedAt: number | null = null
  finishedAt: number | null = null

  /** When a queued device's download goes out; -1 when not scheduled. */
  startDueAt = -1
  deadline = -1
  deadlineKind: DeadlineKind | null = null
  resends = 0
  checksumRetries = 0
  lastCancelAt = Number.NEGATIVE_INFINITY
  cancelResends = 0
  /** What the device itself last said, which later partial reports (NDATA) build on. */
  reportedJob: string | null = null
  reportedState: DeviceOtaState | null = null
  lastError: OtaError | null = null
  soakReboots = 0
  soakCrashes = 0

  constructor(
    readonly id: string,
    readonly phase: number,
    readonly fromVersion: string | null,
    online: boolean,
  ) {
    this.firmwareVersion = fromVersion
    this.online = online
  }
}

class PhaseRecord implements PhaseView {
  state: PhaseState = 'pending'
  openedAt: number | null = null
  soakStartedAt: number | null = null
  nextSlotAt = 0
  earlyTripped = false
  overridden = false
  lastGate: GateResult | null = null
  readonly counts: Record<DeviceRolloutState, number> = emptyCounts()
  readonly deviceIds: readonly string[]

  constructor(
    readonly plan: PlannedPhase,
    readonly devices: DeviceRecord[],
  ) {
    this.deviceIds = plan.deviceIds
    this.counts.queued = devices.length
  }

  get index(): number {
    return this.plan.index
  }

  get name(): string {
    return this.plan.name
  }

  get gate(): HealthGate {
    return this.plan.gate
  }

  /** One of its devices moved from one state to another. */
  recount(from: DeviceRolloutState, to: DeviceRolloutState): void {
    this.counts[from]--
    this.counts[to]++
  }

  final(): number {
    let n = 0
    for (const s of finalDeviceStates) n += this.counts[s]
    return n
  }
}

export class Rollout {
  readonly id: string
  readonly plan: RolloutPlan
  readonly stats: RolloutStats = emptyStats()

  private _status: RolloutStatus = 'ready'
  private _pausedBy: PauseCause | null = null
  private current = 0
  /** Since when the rollout last ran: an offline queued device is only given up after this long of running. */
  private runningSince = 0
  private readonly random: () => number
  private readonly baselines: ReadonlyMap<string, HealthBaseline>
  private readonly policy: DevicePolicy
  private readonly byId = new Map<string, DeviceRecord>()
  private readonly phaseRecords: PhaseRecord[]
  /** Non-final devices of opened phases: all tick() has to look at. */
  private readonly active = new Set<DeviceRecord>()
  /** Told to cancel, last heard still holding the download: told again until they say otherwise. */
  private readonly unconfirmedCancels = new Set<DeviceRecord>()
  /** Queued devices with a start time: first starts and retries. They count against maxInFlight. */
  private scheduled = 0
  private effects: RolloutEffect[] = []

  constructor(plan: RolloutPlan, options: RolloutOptions) {
    this.id = plan.rolloutId
    this.plan = plan
    this.policy = plan.policy
    this.random = options.random
    this.baselines = options.baselines ?? new Map()
    const targets = new Map(plan.targets.map((t) => [t.id, t]))
    this.phaseRecords = plan.phases.map((phase) => {
      const devices = phase.deviceIds.map((id) => {
        const t = targets.get(id)
        if (t === undefined) throw new Error(`Plan phase ${phase.name} names ${id}, which is not among its targets.`)
        const d = new DeviceRecord(id, phase.index, t.fromVersion, t.online)
        if (this.byId.has(id)) throw new Error(`Plan names ${id} in two phases.`)
        this.byId.set(id, d)
        return d
      })
      return new PhaseRecord(phase, devices)
    })
  }

  /**
   * The rollout a snapshot of it describes, ready to take the inputs the original would have taken next.
   * Throws, saying what is wrong, when the snapshot is not one of this plan's in format 1.
   */
  static restore(plan: RolloutPlan, snapshot: unknown, options: RolloutOptions): Rollout {
    const s = readSnapshot(snapshot, plan)
    const rollout = new Rollout(plan, options)
    rollout._status = s.status
    rollout._pausedBy = s.pausedBy
    rollout.current = s.currentPhase
    rollout.runningSince = s.runningSince
    Object.assign(rollout.stats, s.stats)
    s.phases.forEach((ps, i) => {
      const p = rollout.phaseRecords[i]!
      p.state = ps.state
      p.openedAt = ps.openedAt
      p.soakStartedAt = ps.soakStartedAt
      p.nextSlotAt = ps.nextSlotAt
      p.earlyTripped = ps.earlyTripped
      p.overridden = ps.overridden
      p.lastGate = ps.lastGate
    })
    for (const ds of s.devices) {
      const d = rollout.byId.get(ds.id)!
      rollout.phaseRecords[d.phase]!.recount(d.state, ds.state)
      d.state = ds.state
      d.progress = ds.progress
      d.attempt = ds.attempt
      d.job = ds.job
      d.reason = ds.reason
      d.detail = ds.detail
      d.firmwareVersion = ds.firmwareVersion
      d.runningSlot = ds.runningSlot
      d.online = ds.online
      d.offlineSince = ds.offlineSince
      d.installSent = ds.installSent
      d.installAcked = ds.installAcked
      d.startedAt = ds.startedAt
      d.finishedAt = ds.finishedAt
      rollout.setStartDue(d, ds.startDueAt ?? -1)
      d.deadline = ds.deadline?.at ?? -1
      d.deadlineKind = ds.deadline?.kind ?? null
      d.resends = ds.resends
      d.checksumRetries = ds.checksumRetries
      d.lastCancelAt = ds.lastCancelAt ?? Number.NEGATIVE_INFINITY
      d.cancelResends = ds.cancelResends
      d.reportedJob = ds.reportedJob
      d.reportedState = ds.reportedState
      d.lastError = ds.lastError
      d.soakReboots = ds.soakReboots
      d.soakCrashes = ds.soakCrashes
    }
    // The same rule as openPhase() and move(): a tick that skipped a device would never time it out.
    const listed = new Set(s.active)
    for (const d of rollout.byId.values()) {
      const active = !finalDeviceStates.has(d.state) && rollout.phaseRecords[d.phase]!.state !== 'pending'
      if (active && !listed.has(d.id)) throw snapshotError(`active lacks ${d.id}, which is ${d.state} in an opened phase`)
      if (!active && listed.has(d.id)) throw snapshotError(`active lists ${d.id}, which is ${d.state} in a ${rollout.phaseRecords[d.phase]!.state} phase`)
    }
    for (const id of s.active) rollout.active.add(rollout.byId.get(id)!)
    for (const id of s.unconfirmedCancels) rollout.unconfirmedCancels.add(rollout.byId.get(id)!)
    return rollout
  }

  /**
   * Everything needed to continue exactly where this rollout is (see RolloutSnapshot). Refused while
   * effects wait to be taken: they are not part of it, and would be lost with the process.
   */
  snapshot(): RolloutSnapshot {
    if (this.effects.length > 0) throw new Error(`Rollout ${this.id}: take its ${this.effects.length} effect(s) before the snapshot.`)
    return {
      format: 1,
      rolloutId: this.id,
      status: this._status,
      pausedBy: this._pausedBy,
      currentPhase: this.current,
      runningSince: this.runningSince,
      stats: { ...this.stats },
      phases: this.phaseRecords.map((p) => ({
        state: p.state,
        openedAt: p.openedAt,
        soakStartedAt: p.soakStartedAt,
        nextSlotAt: p.nextSlotAt,
        earlyTripped: p.earlyTripped,
        overridden: p.overridden,
        lastGate: p.lastGate,
      })),
      devices: Array.from(this.byId.values(), (d) => ({
        id: d.id,
        state: d.state,
        progress: d.progress,
        attempt: d.attempt,
        job: d.job,
        reason: d.reason,
        detail: d.detail,
        firmwareVersion: d.firmwareVersion,
        runningSlot: d.runningSlot,
        online: d.online,
        offlineSince: d.offlineSince,
        installSent: d.installSent,
        installAcked: d.installAcked,
        startedAt: d.startedAt,
        finishedAt: d.finishedAt,
        startDueAt: d.startDueAt === -1 ? null : d.startDueAt,
        deadline: d.deadlineKind === null ? null : { kind: d.deadlineKind, at: d.deadline },
        resends: d.resends,
        checksumRetries: d.checksumRetries,
        lastCancelAt: d.lastCancelAt === Number.NEGATIVE_INFINITY ? null : d.lastCancelAt,
        cancelResends: d.cancelResends,
        reportedJob: d.reportedJob,
        reportedState: d.reportedState,
        lastError: d.lastError,
        soakReboots: d.soakReboots,
        soakCrashes: d.soakCrashes,
      })),
      active: Array.from(this.active, (d) => d.id),
      unconfirmedCancels: Array.from(this.unconfirmedCancels, (d) => d.id),
    }
  }

  get status(): RolloutStatus {
    return this._status
  }

  get pausedBy(): PauseCause | null {
    return this._pausedBy
  }

  /** The phase that is rolling, soaking or waiting on its gate; phases.length once all have passed. */
  get currentPhase(): number {
    return this.current
  }

  takeEffects(): RolloutEffect[] {
    const effects = this.effects
    this.effects = []
    return effects
  }

  device(id: string): RolloutDeviceView | undefined {
    return this.byId.get(id)
  }

  devices(): IterableIterator<RolloutDeviceView> {
    return this.byId.values()
  }

  phases(): readonly PhaseView[] {
    return this.phaseRecords
  }

  counts(): Record<DeviceRolloutState, number> {
    const out = emptyCounts()
    for (const p of this.phaseRecords) for (const s of Object.keys(out) as DeviceRolloutState[]) out[s] += p.counts[s]
    return out
  }

  /** Every device in an end state: nothing in flight, nothing waiting. */
  isSettled(): boolean {
    for (const p of this.phaseRecords) if (p.final() !== p.devices.length) return false
    return true
  }

  /** The current start rate of a phase, in devices per minute. */
  startRate(phase = this.current): number {
    const p = this.phaseRecords[phase]
    if (p === undefined) return 0
    const r = p.plan.rate
    const steps = Math.floor(p.counts.succeeded / r.succeededPerIncrement)
    return Math.min(r.maxPerMinute, r.basePerMinute * Math.pow(r.incrementFactor, steps))
  }

  start(now: number): boolean {
    if (this._status !== 'ready') return false
    this.setStatus('running', null, now, 'Started.')
    this.runningSince = now
    // Offline already in the fleet snapshot: from now on is all the rollout can vouch for.
    for (const d of this.byId.values()) if (!d.online && d.offlineSince === null) d.offlineSince = now
    this.advance(now)
    return true
  }

  /** No new starts, no installs; downloads in flight continue. */
  pause(now: number): boolean {
    if (this._status !== 'running') return false
    this.setStatus('paused', 'operator', now, 'Paused by the operator.')
    this.unscheduleFirstStarts()
    return true
  }

  /**
   * Continues a paused rollout. After a failed health gate this is the operator's override: the phase is
   * recorded as passed by override and the rollout moves on.
   */
  resume(now: number): boolean {
    if (this._status !== 'paused') return false
    const byGate = this._pausedBy === 'health-gate'
    const phase = this.phaseRecords[this.current]
    let detail = 'Resumed.'
    if (byGate && phase !== undefined) {
      phase.overridden = true
      detail = `Resumed over the failed health gate of phase ${phase.name}.`
    }
    this.setStatus('running', null, now, detail)
    this.runningSince = now
    if (phase !== undefined) {
      phase.nextSlotAt = now
      if (phase.state === 'gate-failed') this.setPhase(phase, 'passed', now)
    }
    // What the pause held back: installs of finished downloads, resends of unanswered installs.
    for (const d of this.active) {
      if (!d.online) continue
      if (d.state === 'downloaded' && !d.installSent) this.sendInstall(d, now)
      else if (d.state === 'installing' && !d.installAcked && d.deadline === -1) this.arm(d, 'ack', now)
    }
    this.advance(now)
    return true
  }

  /** Starts nothing new, cancels downloads in flight, never installs again; follows installs already begun. */
  abort(now: number): boolean {
    if (this._status === 'aborting' || this._status === 'aborted' || this._status === 'completed') return false
    this.setStatus('aborting', null, now, 'Aborted by the operator.')
    for (const p of this.phaseRecords) {
      if (p.state !== 'passed' && p.state !== 'stopped') this.setPhase(p, 'stopped', now)
    }
    for (const d of this.byId.values()) {
      switch (d.state) {
        case 'queued':
          this.setStartDue(d, -1)
          this.clearDeadline(d)
          this.move(d, 'cancelled', now, 'aborted', d.attempt === 0 ? 'Never started.' : 'Its retry was not started.')
          break
        case 'notified':
        case 'downloading':
        case 'downloaded':
          this.sendCancel(d, now)
          this.clearDeadline(d)
          this.move(d, 'cancelled', now, 'aborted', `Cancelled while ${d.state}; nothing was installed.`)
          break
        case 'installing':
          // The install may still be on its way or lost: a cancel behind it (same connection, same
          // order) drops the image if the install never arrived, and is ignored if it did.
          if (!d.installAcked) {
            this.sendCancel(d, now)
            this.arm(d, 'ack', now)
          }
          break
      }
    }
    this.checkSettledAbort(now)
    return true
  }

  deviceOffline(deviceId: string, now: number): void {
    const d = this.byId.get(deviceId)
    if (d === undefined || !d.online) return
    d.online = false
    d.offlineSince = now
  }

  /**
   * The device is back (its NBIRTH arrived). Commands sent while it was away were lost (QoS 0, no
   * session), so what it was waiting for goes again; its NBIRTH report, handed to receive() next, then
   * says where it really is.
   */
  deviceOnline(deviceId: string, now: number): void {
    const d = this.byId.get(deviceId)
    if (d === undefined || d.online) return
    this.markOnline(d, now)
    if (finalDeviceStates.has(d.state) || this.phaseRecords[d.phase]!.state === 'pending') return
    switch (d.state) {
      case 'notified':
        this.resend(d, this.downloadCommand(d), now)
        break
      case 'downloaded':
        if (this._status === 'running' && !d.installSent) this.sendInstall(d, now)
        break
      case 'installing':
        if (d.installAcked) break
        if (this._status === 'running') this.resend(d, { op: 'install', job: d.job! }, now)
        else if (this._status === 'aborting' || this._status === 'aborted') this.resend(d, { op: 'cancel', job: d.job! }, now)
        break
    }
  }

  /** A reboot or crash the caller saw (lifecycle, Diagnostics/Reboot Reason, a core dump). Counted during soaks. */
  recordHealthEvent(deviceId: string, kind: HealthEventKind, at: number): void {
    const d = this.byId.get(deviceId)
    if (d === undefined) return
    const p = this.phaseRecords[d.phase]!
    if (p.state !== 'soaking' || p.soakStartedAt === null || at < p.soakStartedAt) return
    if (kind === 'reboot') d.soakReboots++
    else d.soakCrashes++
  }

  /** The OTA metrics of an NBIRTH or NDATA from the device's edge node. */
  receiveMetrics(deviceId: string, metrics: readonly Metric[], now: number): ReceiveOutcome {
    const parsed = parseOtaReport(metrics)
    const d = this.byId.get(deviceId)
    if (d === undefined) return 'unknown-device'
    for (const p of parsed.problems) this.problem(d, p.problem, p.detail, now)
    if (!parsed.relevant) return 'ignored'
    return this.receive(deviceId, parsed.report, now)
  }

  receive(deviceId: string, report: OtaReport, now: number): ReceiveOutcome {
    const d = this.byId.get(deviceId)
    if (d === undefined) return 'unknown-device'
    this.stats.reports++
    if (!d.online) this.markOnline(d, now)
    if (report.firmwareVersion !== undefined) d.firmwareVersion = report.firmwareVersion
    if (report.runningSlot !== undefined) d.runningSlot = report.runningSlot
    if (report.error !== undefined) d.lastError = report.error

    // A caller that built the report itself may have let anything through: checked again here.
    let state = report.state
    if (state !== undefined && !(deviceOtaStates as readonly string[]).includes(state)) {
      this.problem(d, 'unknown-state', `OTA/State ${JSON.stringify(state)} is not a state of the protocol; the device's state is unchanged.`, now)
      state = undefined
    }
    let progress = report.progress
    if (progress !== undefined && !(Number.isInteger(progress) && progress >= 0 && progress <= 100)) {
      this.problem(d, 'bad-progress', `OTA/Progress ${String(progress)} is not a whole percent from 0 to 100.`, now)
      progress = undefined
    }
    const job = report.job ?? d.reportedJob ?? ''
    if (report.job !== undefined) d.reportedJob = report.job

    if (state === undefined && progress === undefined) {
      // A version arriving after the `succeeded` it belongs to settles a device held back for lack of it.
      if (d.state === 'failed' && d.reason === 'version-mismatch' && d.reportedState === 'succeeded' && job === d.job && d.firmwareVersion === this.plan.image.version) {
        this.move(d, 'succeeded', now, null, null)
        return 'applied'
      }
      return 'ignored'
    }
    if (d.job === null) return 'ignored'
    if (job !== d.job) {
      if (job === '' && state === 'idle') {
        d.reportedState = 'idle'
        return this.idle(d, false, now)
      }
      if (job === '') {
        this.problem(d, 'state-without-job', `OTA/State ${state ?? 'progress'} came without a job; ignored.`, now)
        return 'ignored'
      }
      this.stats.staleReports++
      return 'stale'
    }
    if (state === undefined) return this.progressed(d, progress!, now)
    d.reportedState = state
    return this.onState(d, state, progress, now)
  }

  tick(now: number): void {
    if (this._status === 'ready') return
    const policy = this.policy
    for (const d of Array.from(this.active)) {
      if (!d.online) {
        if (d.offlineSince === null) continue
        if (d.state === 'queued' && d.attempt === 0) {
          const p = this.phaseRecords[d.phase]!
          if (this._status !== 'running' || p.state !== 'rolling') continue
          const since = Math.max(d.offlineSince, p.openedAt ?? now, this.runningSince)
          if (now - since >= policy.offlineGiveUpMs) {
            this.setStartDue(d, -1)
            this.move(d, 'skipped', now, 'offline', `Offline for ${minutes(now - since)} of its phase; never started.`)
          }
        } else if (now - d.offlineSince >= policy.offlineGiveUpMs) {
          this.setStartDue(d, -1)
          this.clearDeadline(d)
          this.move(d, 'failed', now, 'silent', `Offline for ${minutes(now - d.offlineSince)} while ${d.state}; it is followed if it comes back.`)
        }
        continue
      }
      if (d.deadline !== -1 && now >= d.deadline) this.deadlineReached(d, now)
    }
    if (this.unconfirmedCancels.size > 0) this.repeatCancels(now)
    for (const p of this.phaseRecords) {
      if (p.state === 'soaking' && now >= p.soakStartedAt! + p.plan.soakMs) this.evaluateGate(p, now, false)
    }
    this.advance(now)
  }

  /**
   * A cancel is QoS 0 like every command: when the device's last word about its job is still
   * downloading or downloaded, the cancel (or its answer) was lost, so it goes again, a few times.
   */
  private repeatCancels(now: number): void {
    for (const d of this.unconfirmedCancels) {
      const holds = d.reportedJob === d.job && (d.reportedState === 'downloading' || d.reportedState === 'downloaded')
      if (!holds || d.cancelResends >= this.policy.maxResends) {
        this.unconfirmedCancels.delete(d)
        continue
      }
      if (!d.online || now - d.lastCancelAt < this.policy.ackTimeoutMs) continue
      d.cancelResends++
      this.stats.resends++
      this.sendCancel(d, now)
    }
  }

  // ---- phases -------------------------------------------------------------------------------------------

  private advance(now: number): void {
    for (;;) {
      const p = this.phaseRecords[this.current]
      if (p === undefined) return
      if (p.state === 'pending') {
        if (this._status !== 'running') return
        this.openPhase(p, now)
      }
      if (p.state === 'rolling') {
        if (this._status === 'running') {
          this.scheduleStarts(p, now)
          this.dispatchDue(now)
        }
        if (p.final() === p.devices.length) {
          p.soakStartedAt = now
          for (const d of p.devices) d.soakReboots = d.soakCrashes = 0
          this.setPhase(p, 'soaking', now)
        }
      } else if (this._status === 'running') {
        this.dispatchDue(now)
      }
      if (p.state === 'soaking' && now >= p.soakStartedAt! + p.plan.soakMs) this.evaluateGate(p, now, false)
      if (p.state !== 'passed') return
      this.current++
      if (this.current >= this.phaseRecords.length) {
        if (this._status === 'running' || this._status === 'paused') this.setStatus('completed', null, now, 'Every phase passed its health gate.')
        return
      }
    }
  }

  private openPhase(p: PhaseRecord, now: number): void {
    p.openedAt = now
    p.nextSlotAt = now
    for (const d of p.devices) if (!finalDeviceStates.has(d.state)) this.active.add(d)
    this.setPhase(p, 'rolling', now)
  }

  /**
   * Hands out start slots at the phase's current rate, each start a random 0…jitterMs after its slot.
   * A slot nobody could use (no online device waiting, or maxInFlight reached) is not saved up: after a
   * pause or a stretch of offline devices, starts resume at the rate, not in a burst.
   */
  private scheduleStarts(p: PhaseRecord, now: number): void {
    const rate = p.plan.rate
    const interval = 60_000 / this.startRate(p.index)
    let budget = rate.maxInFlight - this.inFlight() - this.scheduled
    let i = 0
    while (p.nextSlotAt <= now) {
      let next: DeviceRecord | undefined
      if (budget > 0) {
        for (; i < p.devices.length; i++) {
          const d = p.devices[i]!
          if (d.state === 'queued' && d.attempt === 0 && d.startDueAt === -1 && d.online) {
            next = d
            break
          }
        }
      }
      if (next === undefined) {
        p.nextSlotAt = now
        return
      }
      this.setStartDue(next, p.nextSlotAt + Math.floor(this.random() * rate.jitterMs))
      p.nextSlotAt += interval
      budget--
    }
  }

  private dispatchDue(now: number): void {
    if (this.scheduled === 0) return
    for (const d of Array.from(this.active)) {
      if (d.state !== 'queued' || d.startDueAt === -1 || d.startDueAt > now) continue
      if (d.online) this.startAttempt(d, now)
      // A first start gives its slot back; a retry keeps its turn for when the device returns.
      else if (d.attempt === 0) this.setStartDue(d, -1)
    }
  }

  private evaluateGate(p: PhaseRecord, now: number, early: boolean): void {
    const result = early ? this.earlyGate(p, now) : this.fullGate(p, now)
    p.lastGate = result
    this.effects.push({ kind: 'gate', phase: p.index, name: p.name, ...result })
    if (early) {
      p.earlyTripped = true
      if (!result.passed) this.gateFailed(p, now, result)
      return
    }
    // An operator who resumed over this phase's early trip has already accepted its failures: the
    // verdict is still published, but it does not stop the rollout a second time.
    if (result.passed || p.overridden) this.setPhase(p, 'passed', now)
    else {
      this.setPhase(p, 'gate-failed', now)
      this.gateFailed(p, now, result)
    }
  }

  private gateFailed(p: PhaseRecord, now: number, result: GateResult): void {
    if (this._status !== 'running' && this._status !== 'paused') return
    const why = result.findings.map((f) => f.detail).join(' ')
    this.setStatus('paused', 'health-gate', now, `Health gate of phase ${p.name} failed: ${why}`)
    this.unscheduleFirstStarts()
  }

  private measures(p: PhaseRecord, now: number): { measures: GateMeasures; failedIds: string[]; silentIds: string[] } {
    const gate = p.gate
    const failedIds: string[] = []
    const silentIds: string[] = []
    for (const d of p.devices) {
      if (d.state === 'failed' || d.state === 'rolled-back') failedIds.push(d.id)
      if (d.attempt > 0 && !d.online && d.offlineSince !== null && now - d.offlineSince >= gate.silentAfterMs) silentIds.push(d.id)
    }
    const c = p.counts
    return {
      failedIds,
      silentIds,
      measures: {
        devices: p.devices.length,
        executed: c.succeeded + c.failed + c['rolled-back'],
        succeeded: c.succeeded,
        failed: c.failed,
        rolledBack: c['rolled-back'],
        skipped: c.skipped,
        silent: silentIds.length,
        soakMs: p.soakStartedAt === null ? 0 : now - p.soakStartedAt,
      },
    }
  }

  /** Mid-phase: trips only when the failures already exceed what the whole phase may have. */
  private earlyGate(p: PhaseRecord, now: number): GateResult {
    const { measures, failedIds } = this.measures(p, now)
    const limit = p.gate.maxFailureShare
    const failures = measures.failed + measures.rolledBack
    const share = failures / p.devices.length
    return {
      passed: false,
      early: true,
      at: now,
      measures,
      findings: [
        {
          reason: 'failure-share',
          share,
          limit,
          deviceIds: failedIds,
          byReason: this.byReason(failedIds),
          detail: `${failures} of the phase's ${p.devices.length} devices failed or rolled back before it finished, more than its ${pct(limit)} allows (${reasonList(this.byReason(failedIds))}).`,
        },
      ],
    }
  }

  private byReason(ids: readonly string[]): Partial<Record<DeviceOutcomeReason, number>> {
    const out: Partial<Record<DeviceOutcomeReason, number>> = {}
    for (const id of ids) {
      const reason = this.byId.get(id)!.reason ?? 'unknown'
      out[reason] = (out[reason] ?? 0) + 1
    }
    return out
  }

  private fullGate(p: PhaseRecord, now: number): GateResult {
    const gate = p.gate
    const { measures, failedIds, silentIds } = this.measures(p, now)
    const findings: GateFinding[] = []
    const required = requiredExecuted(gate, p.devices.length)
    if (measures.executed < required) {
      findings.push({
        reason: 'too-few-executed',
        executed: measures.executed,
        required,
        detail: `Only ${measures.executed} device(s) ran the update to its end; the gate needs ${required}.`,
      })
    }
    const failures = measures.failed + measures.rolledBack
    const failureShare = measures.executed === 0 ? 0 : failures / measures.executed
    if (failureShare > gate.maxFailureShare) {
      findings.push({
        reason: 'failure-share',
        share: failureShare,
        limit: gate.maxFailureShare,
        deviceIds: failedIds,
        byReason: this.byReason(failedIds),
        detail: `${failures} of ${measures.executed} executed devices failed or rolled back (${pct(failureShare)}, limit ${pct(gate.maxFailureShare)}): ${reasonList(this.byReason(failedIds))}.`,
      })
    }
    const started = p.devices.filter((d) => d.attempt > 0).length
    const silentShare = started === 0 ? 0 : silentIds.length / started
    if (silentShare > gate.maxSilentShare) {
      findings.push({
        reason: 'silent-devices',
        share: silentShare,
        limit: gate.maxSilentShare,
        deviceIds: silentIds,
        detail: `${silentIds.length} of ${started} started devices have been silent for ${minutes(gate.silentAfterMs)} or more (${pct(silentShare)}, limit ${pct(gate.maxSilentShare)}).`,
      })
    }
    // Rises are measured on the devices that run the new image; rolled-back ones already count as failures.
    const succeeded = p.devices.filter((d) => d.state === 'succeeded')
    const rise = (kind: 'reboots' | 'crashes', limit: RiseLimit): void => {
      const rose: string[] = []
      for (const d of succeeded) {
        const base = this.baselines.get(d.id)
        const expected = base === undefined || base.overMs <= 0 ? 0 : (base[kind] * measures.soakMs) / base.overMs
        const seen = kind === 'reboots' ? d.soakReboots : d.soakCrashes
        if (seen > expected * limit.factor + limit.slack) rose.push(d.id)
      }
      const share = succeeded.length === 0 ? 0 : rose.length / succeeded.length
      if (share <= limit.maxDeviceShare) return
      const detail = `${rose.length} of ${succeeded.length} updated devices had more ${kind} in the ${minutes(measures.soakMs)} soak than their own history allows (${pct(share)}, limit ${pct(limit.maxDeviceShare)}).`
      findings.push({ reason: kind === 'reboots' ? 'reboot-rise' : 'crash-rise', share, limit: limit.maxDeviceShare, deviceIds: rose, detail })
    }
    rise('reboots', gate.reboots)
    rise('crashes', gate.crashes)
    return { passed: findings.length === 0, early: false, findings, measures, at: now }
  }

  // ---- devices ------------------------------------------------------------------------------------------

  private onState(d: DeviceRecord, state: DeviceOtaState, progress: number | undefined, now: number): ReceiveOutcome {
    const aborted = this._status === 'aborting' || this._status === 'aborted'
    switch (state) {
      case 'idle':
        return this.idle(d, true, now)

      case 'downloading':
        if (d.state === 'notified' || d.state === 'downloading' || (d.state === 'queued' && d.attempt > 0 && !aborted)) {
          return this.progressed(d, progress ?? d.progress ?? 0, now)
        }
        if (d.state === 'cancelled' || d.state === 'failed') return this.cancelAgain(d, now)
        if (d.state === 'installing' && !d.installAcked) return 'ignored'
        this.problem(d, 'out-of-order', `Reported downloading while ${d.state}; ignored.`, now)
        return 'ignored'

      case 'downloaded':
        if (d.state === 'notified' || d.state === 'downloading' || (d.state === 'queued' && d.attempt > 0 && !aborted)) {
          this.setStartDue(d, -1)
          this.clearDeadline(d)
          d.progress = 100
          this.move(d, 'downloaded', now, null, null)
          if (this._status === 'running' && d.online) this.sendInstall(d, now)
          return 'applied'
        }
        if (d.state === 'downloaded') {
          if (this._status === 'running' && !d.installSent) this.sendInstall(d, now)
          return 'applied'
        }
        if (d.state === 'installing' && !d.installAcked) {
          if (!aborted) return 'ignored'
          // The install never arrived (the cancel behind it now will): the device stays on its old image.
          this.sendCancel(d, now)
          this.clearDeadline(d)
          this.move(d, 'cancelled', now, 'aborted', 'Its install was lost before the abort; cancelled.')
          return 'applied'
        }
        if (d.state === 'cancelled' || d.state === 'failed') return this.cancelAgain(d, now)
        this.problem(d, 'out-of-order', `Reported downloaded while ${d.state}; ignored.`, now)
        return 'ignored'

      case 'installing':
      case 'rebooting':
      case 'verifying': {
        if (d.state === 'succeeded' || d.state === 'rolled-back') {
          this.problem(d, 'out-of-order', `Reported ${state} after it had ${d.state}; ignored.`, now)
          return 'ignored'
        }
        if (d.installAcked && installStates.includes(d.state) && installStates.indexOf(state) < installStates.indexOf(d.state)) {
          this.problem(d, 'out-of-order', `Reported ${state} after ${d.state}; ignored.`, now)
          return 'ignored'
        }
        if (!d.installSent) this.problem(d, 'install-without-command', `Reported ${state} for job ${d.job}, which was never sent an install; followed.`, now)
        const firstAck = !d.installAcked
        d.installAcked = true
        this.setStartDue(d, -1)
        if (firstAck || d.deadlineKind !== 'verdict') this.arm(d, 'verdict', now)
        if (d.state !== state) this.move(d, state, now, null, null)
        return 'applied'
      }

      case 'succeeded':
        this.setStartDue(d, -1)
        this.clearDeadline(d)
        if (!d.installSent) this.problem(d, 'install-without-command', `Reported succeeded for job ${d.job}, which was never sent an install.`, now)
        if (d.firmwareVersion !== this.plan.image.version) {
          const detail = `Reported succeeded but runs ${d.firmwareVersion ?? 'an unreported version'}, not ${this.plan.image.version}.`
          this.problem(d, 'version-mismatch', detail, now)
          if (d.state !== 'failed' || d.reason !== 'version-mismatch') this.move(d, 'failed', now, 'version-mismatch', detail)
          return 'applied'
        }
        if (d.state !== 'succeeded') this.move(d, 'succeeded', now, null, null)
        return 'applied'

      case 'rolled-back':
        if (d.state === 'rolled-back') return 'applied'
        this.rolledBack(d, d.lastError, now)
        return 'applied'

      case 'failed':
        return this.deviceFailed(d, d.lastError, now)
    }
  }

  private progressed(d: DeviceRecord, progress: number, now: number): ReceiveOutcome {
    const aborted = this._status === 'aborting' || this._status === 'aborted'
    if (d.state === 'queued' && d.attempt > 0 && !aborted) {
      // The attempt given up on is moving after all: keep it rather than start the download again.
      this.setStartDue(d, -1)
    } else if (d.state === 'cancelled' || d.state === 'failed') {
      return this.cancelAgain(d, now)
    } else if (d.state !== 'notified' && d.state !== 'downloading') {
      return 'ignored'
    }
    const changed = d.state !== 'downloading' || d.progress !== progress
    if (!changed) return 'applied'
    d.progress = progress
    this.arm(d, 'progress', now)
    this.move(d, 'downloading', now, null, null)
    return 'applied'
  }

  /** `idle` with this job: whatever the device held for it is gone (a cancel, or a reset). */
  private idle(d: DeviceRecord, withJob: boolean, now: number): ReceiveOutcome {
    switch (d.state) {
      case 'notified':
        // Without the job the device simply has not seen the command yet; the ack timeout covers a loss.
        if (!withJob) return 'ignored'
        this.attemptFailed(d, errorReason(d.lastError, 'interrupted'), 'The device dropped the download before it started reporting.', now)
        return 'applied'
      case 'downloading':
      case 'downloaded':
        this.attemptFailed(d, errorReason(d.lastError, 'interrupted'), `The device came back idle while ${d.state}: the download is lost.`, now)
        return 'applied'
      case 'installing':
        if (!d.installAcked) {
          if (this._status === 'aborting' || this._status === 'aborted') {
            this.clearDeadline(d)
            this.move(d, 'cancelled', now, 'aborted', 'Cancelled before its install took effect.')
            return 'applied'
          }
          this.attemptFailed(d, 'interrupted', 'The device came back idle before acting on the install: the image is lost.', now)
          return 'applied'
        }
        return this.resolveByVersion(d, now)
      case 'rebooting':
      case 'verifying':
        return this.resolveByVersion(d, now)
      default:
        return 'ignored'
    }
  }

  /**
   * An idle device after its install: the running version says what happened (a node that forgot its
   * job across a reset still cannot hide which image it booted).
   */
  private resolveByVersion(d: DeviceRecord, now: number): ReceiveOutcome {
    this.clearDeadline(d)
    if (d.firmwareVersion === this.plan.image.version) {
      this.move(d, 'succeeded', now, null, 'Came back idle on the new version: confirmed.')
      return 'applied'
    }
    if (d.state === 'verifying') {
      this.rolledBack(d, d.lastError ?? { code: 'interrupted', text: 'interrupted' }, now)
      return 'applied'
    }
    this.attemptFailed(d, 'interrupted', `Came back idle on ${d.firmwareVersion ?? 'its old version'} before booting the new image.`, now)
    return 'applied'
  }

  private rolledBack(d: DeviceRecord, error: OtaError | null, now: number): void {
    this.setStartDue(d, -1)
    this.clearDeadline(d)
    const code = error?.code
    const reason: DeviceOutcomeReason = code === 'self-test-failed' || code === 'boot-failed' || code === 'interrupted' ? code : 'unknown'
    if (d.firmwareVersion === this.plan.image.version) {
      this.problem(d, 'version-mismatch', `Reported rolled back but still reports ${this.plan.image.version}.`, now)
    }
    const aborted = this._status === 'aborting' || this._status === 'aborted'
    // A power cut during verification is not the image's fault: try again rather than count it against the image.
    if (reason === 'interrupted' && !aborted && d.attempt < this.policy.maxAttempts) {
      this.attemptFailed(d, 'interrupted', 'Rolled back after a reset before the new image confirmed; trying again.', now)
      return
    }
    this.move(d, 'rolled-back', now, reason, error?.text ?? 'Rolled back to its previous image.')
  }

  private deviceFailed(d: DeviceRecord, error: OtaError | null, now: number): ReceiveOutcome {
    const text = error?.text ?? 'failed without an error'
    if (d.installAcked && installStates.includes(d.state)) {
      this.clearDeadline(d)
      const aborted = this._status === 'aborting' || this._status === 'aborted'
      // A reset before otadata switched leaves the old image running: the link or the power failed, not the image.
      if (error?.code === 'interrupted' && d.firmwareVersion !== this.plan.image.version && !aborted && d.attempt < this.policy.maxAttempts) {
        this.attemptFailed(d, 'interrupted', `${text}; trying again.`, now)
        return 'applied'
      }
      this.move(d, 'failed', now, 'install-failed', text)
      return 'applied'
    }
    const before = d.state === 'notified' || d.state === 'downloading' || d.state === 'downloaded' || (d.state === 'installing' && !d.installAcked)
    if (!before) return 'ignored'
    if (this._status === 'aborting' || this._status === 'aborted') {
      this.clearDeadline(d)
      this.move(d, 'cancelled', now, 'aborted', `Stopped by the abort (${text}).`)
      return 'applied'
    }
    switch (error?.code) {
      case 'checksum-mismatch':
        if (d.checksumRetries >= this.policy.checksumRetries) {
          this.fail(d, 'checksum-mismatch', `${text}; the same after ${d.checksumRetries + 1} downloads, so not the link.`, now)
          return 'applied'
        }
        d.checksumRetries++
        this.attemptFailed(d, 'checksum-mismatch', text, now)
        return 'applied'
      case 'image-invalid':
        // The same bytes would be refused again.
        this.fail(d, 'image-invalid', text, now)
        return 'applied'
      default:
        this.attemptFailed(d, errorReason(error, 'device-error'), text, now)
        return 'applied'
    }
  }

  private deadlineReached(d: DeviceRecord, now: number): void {
    const kind = d.deadlineKind
    this.clearDeadline(d)
    const max = this.policy.maxResends
    if (kind === 'ack') {
      if (d.state === 'notified') {
        if (d.resends < max) this.resend(d, this.downloadCommand(d), now, true)
        else this.attemptFailed(d, 'no-response', `No answer to ${max + 1} download commands.`, now)
        return
      }
      if (d.state === 'installing' && !d.installAcked) {
        if (this._status === 'aborting' || this._status === 'aborted') {
          if (d.resends < max) this.resend(d, { op: 'cancel', job: d.job! }, now, true)
          else this.move(d, 'failed', now, 'no-response', `No answer to its install nor to ${max + 1} cancels after the abort; followed if it reports.`)
          return
        }
        // Paused: the resend waits for resume (which re-arms the deadline).
        if (this._status !== 'running') return
        if (d.resends < max) this.resend(d, { op: 'install', job: d.job! }, now, true)
        else this.move(d, 'failed', now, 'no-response', `No answer to ${max + 1} install commands; followed if it reports.`)
      }
      return
    }
    if (kind === 'progress' && d.state === 'downloading') {
      this.attemptFailed(d, 'download-stalled', `No download progress for ${minutes(this.policy.progressTimeoutMs)} (stuck at ${d.progress ?? 0}%).`, now)
      return
    }
    if (kind === 'verdict' && installStates.includes(d.state)) {
      this.move(d, 'failed', now, 'no-verdict', `Still ${d.state} after ${minutes(this.policy.verdictTimeoutMs)}; followed if it reports.`)
    }
  }

  /** One attempt ended without the image: retry with a fresh job after a delay, or fail for good. */
  private attemptFailed(d: DeviceRecord, reason: DeviceOutcomeReason, detail: string, now: number): void {
    this.clearDeadline(d)
    if (this._status === 'aborting' || this._status === 'aborted') {
      this.move(d, 'cancelled', now, 'aborted', detail)
      return
    }
    if (d.attempt >= this.policy.maxAttempts) {
      this.fail(d, reason, `${detail} (attempt ${d.attempt} of ${this.policy.maxAttempts})`, now)
      return
    }
    this.stats.retries++
    const due = now + this.policy.retryDelayMs * d.attempt + Math.floor(this.random() * this.phaseRecords[d.phase]!.plan.rate.jitterMs)
    this.setStartDue(d, due)
    this.move(d, 'queued', now, reason, `${detail} Attempt ${d.attempt + 1} of ${this.policy.maxAttempts} follows.`)
  }

  /** Failed for good before any install: whatever it still holds of the download is dropped. */
  private fail(d: DeviceRecord, reason: DeviceOutcomeReason, detail: string, now: number): void {
    this.clearDeadline(d)
    this.setStartDue(d, -1)
    this.sendCancel(d, now)
    this.move(d, 'failed', now, reason, detail)
  }

  private startAttempt(d: DeviceRecord, now: number): void {
    this.setStartDue(d, -1)
    if (d.attempt > 0) d.lastCancelAt = Number.NEGATIVE_INFINITY
    d.attempt++
    d.job = otaJobId(this.id, d.attempt)
    d.resends = 0
    d.installSent = false
    d.installAcked = false
    d.progress = null
    d.lastError = null
    if (d.startedAt === null) d.startedAt = now
    this.send(d, this.downloadCommand(d), now)
    this.move(d, 'notified', now, null, null)
    this.arm(d, 'ack', now)
  }

  private sendInstall(d: DeviceRecord, now: number): void {
    d.installSent = true
    d.resends = 0
    this.send(d, { op: 'install', job: d.job! }, now)
    this.move(d, 'installing', now, null, null)
    this.arm(d, 'ack', now)
  }

  private sendCancel(d: DeviceRecord, now: number): void {
    if (d.job === null) return
    if (!this.unconfirmedCancels.has(d)) {
      this.unconfirmedCancels.add(d)
      d.cancelResends = 0
    }
    if (!d.online) return
    d.lastCancelAt = now
    this.send(d, { op: 'cancel', job: d.job }, now)
  }

  /** A device given up on (or cancelled) still downloading its job: tell it again, at most once per ack timeout. */
  private cancelAgain(d: DeviceRecord, now: number): ReceiveOutcome {
    if (now - d.lastCancelAt >= this.policy.ackTimeoutMs) this.sendCancel(d, now)
    else this.unconfirmedCancels.add(d)
    return 'applied'
  }

  private downloadCommand(d: DeviceRecord): OtaCommand {
    const image = this.plan.image
    return { op: 'download', job: d.job!, url: image.url, sha256: image.sha256, size: image.size, version: image.version }
  }

  private resend(d: DeviceRecord, command: OtaCommand, now: number, counted = false): void {
    if (!d.online) return
    this.stats.resends++
    if (counted) d.resends++
    this.send(d, command, now)
    this.arm(d, 'ack', now)
  }

  private send(d: DeviceRecord, command: OtaCommand, now: number): void {
    if (command.op === 'download') this.stats.downloads++
    else if (command.op === 'install') this.stats.installs++
    else this.stats.cancels++
    this.effects.push({ kind: 'command', deviceId: d.id, at: now, command })
  }

  private markOnline(d: DeviceRecord, now: number): void {
    d.online = true
    d.offlineSince = null
    // Time offline is not the device's delay: it gets a whole window from its return.
    if (d.deadline !== -1 && d.deadlineKind !== null) this.arm(d, d.deadlineKind, now)
  }

  private arm(d: DeviceRecord, kind: DeadlineKind, now: number): void {
    const p = this.policy
    d.deadlineKind = kind
    d.deadline = now + (kind === 'ack' ? p.ackTimeoutMs : kind === 'progress' ? p.progressTimeoutMs : p.verdictTimeoutMs)
  }

  private clearDeadline(d: DeviceRecord): void {
    d.deadline = -1
    d.deadlineKind = null
  }

  private setStartDue(d: DeviceRecord, at: number): void {
    if ((d.startDueAt === -1) !== (at === -1)) this.scheduled += at === -1 ? -1 : 1
    d.startDueAt = at
  }

  private unscheduleFirstStarts(): void {
    for (const d of this.active) if (d.state === 'queued' && d.attempt === 0 && d.startDueAt !== -1) this.setStartDue(d, -1)
  }

  private inFlight(): number {
    let n = 0
    for (const p of this.phaseRecords) for (const s of inFlightStates) n += p.counts[s]
    return n
  }

  private move(d: DeviceRecord, state: DeviceRolloutState, now: number, reason: DeviceOutcomeReason | null, detail: string | null): void {
    const previous = d.state
    const p = this.phaseRecords[d.phase]!
    p.recount(previous, state)
    d.state = state
    d.reason = reason
    d.detail = detail
    const final = finalDeviceStates.has(state)
    if (final) {
      d.finishedAt = now
      this.active.delete(d)
    } else {
      d.finishedAt = null
      if (p.state !== 'pending') this.active.add(d)
    }
    this.effects.push({ kind: 'device-state', deviceId: d.id, at: now, state, previous, phase: d.phase, attempt: d.attempt, progress: d.progress, reason, detail })
    if ((state === 'failed' || state === 'rolled-back') && p.state === 'rolling' && p.gate.stopEarly && !p.earlyTripped) {
      if (p.counts.failed + p.counts['rolled-back'] > p.gate.maxFailureShare * p.devices.length) this.evaluateGate(p, now, true)
    }
    if (this._status === 'aborting' || this._status === 'aborted') this.checkSettledAbort(now)
  }

  private checkSettledAbort(now: number): void {
    let following = 0
    for (const p of this.phaseRecords) for (const s of inFlightStates) following += p.counts[s]
    if (this._status === 'aborting' && following === 0) this.setStatus('aborted', null, now, 'No device is left in the middle of an update.')
    else if (this._status === 'aborted' && following > 0) this.setStatus('aborting', null, now, 'A device reported an install begun before the abort; following it.')
  }

  private setPhase(p: PhaseRecord, state: PhaseState, now: number): void {
    p.state = state
    this.effects.push({ kind: 'phase', at: now, phase: p.index, name: p.name, state, overridden: state === 'passed' && p.overridden })
  }

  private setStatus(state: RolloutStatus, pausedBy: PauseCause | null, now: number, detail: string): void {
    const previous = this._status
    this._status = state
    this._pausedBy = pausedBy
    this.effects.push({ kind: 'rollout-state', at: now, state, previous, pausedBy, detail })
  }

  private problem(d: DeviceRecord, problem: RolloutProblem, detail: string, now: number): void {
    this.stats.protocolProblems++
    this.effects.push({ kind: 'protocol-problem', deviceId: d.id, at: now, problem, detail })
  }
}

function emptyStats(): RolloutStats {
  return { reports: 0, staleReports: 0, protocolProblems: 0, downloads: 0, installs: 0, cancels: 0, resends: 0, retries: 0 }
}

function emptyCounts(): Record<DeviceRolloutState, number> {
  return {
    queued: 0,
    notified: 0,
    downloading: 0,
    downloaded: 0,
    installing: 0,
    rebooting: 0,
    verifying: 0,
    succeeded: 0,
    'rolled-back': 0,
    failed: 0,
    cancelled: 0,
    skipped: 0,
  }
}

const retryableCodes: ReadonlySet<string> = new Set(['checksum-mismatch', 'size-mismatch', 'download-failed', 'flash-error', 'not-downloaded', 'busy', 'interrupted'])

function errorReason(error: OtaError | null, fallback: DeviceOutcomeReason): DeviceOutcomeReason {
  if (error === null) return fallback
  if (retryableCodes.has(error.code) || error.code === 'image-invalid') return error.code as DeviceOutcomeReason
  return fallback
}

function reasonList(byReason: Partial<Record<DeviceOutcomeReason, number>>): string {
  return Object.entries(byReason)
    .map(([reason, n]) => `${reason} ×${n}`)
    .join(', ')
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`
}

function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`
}

// ---- snapshots ----------------------------------------------------------------------------------------

/** Records rather than lists, so the compiler insists on every member of each union. */
function namesOf<T extends string>(names: Readonly<Record<T, unknown>>): readonly T[] {
  return Object.keys(names) as T[]
}

const deviceRolloutStates = namesOf(emptyCounts())
const phaseStates = namesOf<PhaseState>({ pending: 0, rolling: 0, soaking: 0, passed: 0, 'gate-failed': 0, stopped: 0 })
const rolloutStatuses = namesOf<RolloutStatus>({ ready: 0, running: 0, paused: 0, aborting: 0, aborted: 0, completed: 0 })
const pauseCauses = namesOf<PauseCause>({ operator: 0, 'health-gate': 0 })
const deadlineKinds = namesOf<DeadlineKind>({ ack: 0, progress: 0, verdict: 0 })
const outcomeReasons = namesOf<DeviceOutcomeReason>({
  'checksum-mismatch': 0,
  'size-mismatch': 0,
  'download-failed': 0,
  'download-stalled': 0,
  'image-invalid': 0,
  'flash-error': 0,
  'not-downloaded': 0,
  busy: 0,
  'no-response': 0,
  'install-failed': 0,
  'no-verdict': 0,
  silent: 0,
  'version-mismatch': 0,
  'device-error': 0,
  'self-test-failed': 0,
  'boot-failed': 0,
  interrupted: 0,
  unknown: 0,
  aborted: 0,
  offline: 0,
})
const findingReasons = namesOf<GateFinding['reason']>({ 'failure-share': 0, 'too-few-executed': 0, 'reboot-rise': 0, 'crash-rise': 0, 'silent-devices': 0 })
const gateMeasureNames = namesOf<keyof GateMeasures>({ devices: 0, executed: 0, succeeded: 0, failed: 0, rolledBack: 0, skipped: 0, silent: 0, soakMs: 0 })
const errorCodes: readonly OtaError['code'][] = [...otaErrorCodes, 'other']

function snapshotError(what: string): Error {
  return new Error(`Rollout snapshot: ${what}.`)
}

function shown(value: unknown): string {
  if (value === undefined) return 'missing'
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** One object of a snapshot being read back: each accessor refuses a wrong field by its path. */
class SnapshotReader {
  private constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    private readonly path: string,
  ) {}

  static of(value: unknown, path: string): SnapshotReader {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw snapshotError(`${path || 'the snapshot'} is ${shown(value)}; expected an object`)
    return new SnapshotReader(value as Record<string, unknown>, path)
  }

  readonly number = (key: string): number => this.check(key, 'a finite number', (v): v is number => typeof v === 'number' && Number.isFinite(v))
  readonly count = (key: string): number => this.check(key, 'a whole number >= 0', (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0)
  readonly boolean = (key: string): boolean => this.check(key, 'true or false', (v): v is boolean => typeof v === 'boolean')
  readonly string = (key: string): string => this.check(key, 'a string', (v): v is string => typeof v === 'string')
  readonly strings = (key: string): string[] => this.check(key, 'a list of strings', (v): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string'))
  readonly list = (key: string): unknown[] => this.check(key, 'a list', (v): v is unknown[] => Array.isArray(v))
  readonly object = (key: string): SnapshotReader => SnapshotReader.of(this.fields[key], this.where(key))

  readonly oneOf = <T extends string>(key: string, names: readonly T[]): T =>
    this.check(key, `one of ${names.join(', ')}`, (v): v is T => (names as readonly unknown[]).includes(v))

  orNull<T>(key: string, read: (key: string) => T): T | null {
    return this.fields[key] === null ? null : read(key)
  }

  /** For objects keyed by name, such as a count per reason. */
  keysAmong<T extends string>(names: readonly T[]): T[] {
    const keys = Object.keys(this.fields)
    for (const key of keys) if (!(names as readonly string[]).includes(key)) throw snapshotError(`${this.where(key)} is not expected; expected keys among ${names.join(', ')}`)
    return keys as T[]
  }

  /** The raw value, for a field checked by the caller. */
  field(key: string): unknown {
    return this.fields[key]
  }

  renamed(path: string): SnapshotReader {
    return new SnapshotReader(this.fields, path)
  }

  where(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`
  }

  private check<T>(key: string, expected: string, ok: (value: unknown) => value is T): T {
    const value = this.fields[key]
    if (!ok(value)) throw snapshotError(`${this.where(key)} is ${shown(value)}; expected ${expected}`)
    return value
  }
}

/** A snapshot checked field by field and against the plan, so a bad one is refused rather than half-run. */
function readSnapshot(value: unknown, plan: RolloutPlan): RolloutSnapshot {
  const r = SnapshotReader.of(value, '')
  const format = r.field('format')
  if (format !== 1) throw snapshotError(`format is ${shown(format)}; this console reads format 1`)
  const rolloutId = r.string('rolloutId')
  if (rolloutId !== plan.rolloutId) throw snapshotError(`rolloutId is ${shown(rolloutId)}; the plan is of rollout ${plan.rolloutId}`)

  const phases = r.list('phases').map((p, i) => readPhase(SnapshotReader.of(p, `phases[${i}]`)))
  if (phases.length !== plan.phases.length) throw snapshotError(`phases has ${phases.length} entries; the plan has ${plan.phases.length} phases`)

  const targets = new Set(plan.targets.map((t) => t.id))
  const devices = r.list('devices').map((d, i) => readDevice(SnapshotReader.of(d, `devices[${i}]`), plan.rolloutId))
  const seen = new Set<string>()
  devices.forEach((d, i) => {
    if (!targets.has(d.id)) throw snapshotError(`devices[${i}] is ${d.id}, which is not a target of the plan`)
    if (seen.has(d.id)) throw snapshotError(`devices[${i}] repeats ${d.id}`)
    seen.add(d.id)
  })
  for (const id of targets) if (!seen.has(id)) throw snapshotError(`devices has no record of ${id}, a target of the plan`)

  const ids = (key: string): string[] => {
    const list = r.strings(key)
    list.forEach((id, i) => {
      if (!targets.has(id)) throw snapshotError(`${key} names ${id}, which is not a target of the plan`)
      if (list.indexOf(id) !== i) throw snapshotError(`${key} names ${id} twice`)
    })
    return list
  }
  const statsReader = r.object('stats')
  const stats = emptyStats()
  for (const key of Object.keys(stats) as (keyof RolloutStats)[]) stats[key] = statsReader.count(key)
  const currentPhase = r.count('currentPhase')
  if (currentPhase > plan.phases.length) throw snapshotError(`currentPhase is ${currentPhase}, past the plan's ${plan.phases.length} phases`)
  const status = r.oneOf('status', rolloutStatuses)
  const pausedBy = r.orNull('pausedBy', (k) => r.oneOf(k, pauseCauses))
  if ((status === 'paused') !== (pausedBy !== null)) throw snapshotError(`pausedBy is ${shown(pausedBy)} while status is ${status}`)

  return {
    format: 1,
    rolloutId,
    status,
    pausedBy,
    currentPhase,
    runningSince: r.number('runningSince'),
    stats,
    phases,
    devices,
    active: ids('active'),
    unconfirmedCancels: ids('unconfirmedCancels'),
  }
}

function readPhase(r: SnapshotReader): RolloutPhaseSnapshot {
  return {
    state: r.oneOf('state', phaseStates),
    openedAt: r.orNull('openedAt', r.number),
    soakStartedAt: r.orNull('soakStartedAt', r.number),
    nextSlotAt: r.number('nextSlotAt'),
    earlyTripped: r.boolean('earlyTripped'),
    overridden: r.boolean('overridden'),
    lastGate: r.orNull('lastGate', (k) => readGate(r.object(k))),
  }
}

function readGate(r: SnapshotReader): GateResult {
  const m = r.object('measures')
  const measures = {} as GateMeasures
  for (const key of gateMeasureNames) measures[key] = m.number(key)
  return {
    passed: r.boolean('passed'),
    early: r.boolean('early'),
    findings: r.list('findings').map((f, i) => readFinding(SnapshotReader.of(f, r.where(`findings[${i}]`)))),
    measures,
    at: r.number('at'),
  }
}

function readFinding(r: SnapshotReader): GateFinding {
  const reason = r.oneOf('reason', findingReasons)
  const detail = r.string('detail')
  if (reason === 'too-few-executed') return { reason, detail, executed: r.count('executed'), required: r.count('required') }
  const common = { detail, share: r.number('share'), limit: r.number('limit'), deviceIds: r.strings('deviceIds') }
  if (reason !== 'failure-share') return { reason, ...common }
  const b = r.object('byReason')
  const byReason: Partial<Record<DeviceOutcomeReason, number>> = {}
  for (const key of b.keysAmong(outcomeReasons)) byReason[key] = b.count(key)
  return { reason, ...common, byReason }
}

function readDevice(found: SnapshotReader, rolloutId: string): RolloutDeviceSnapshot {
  const id = found.string('id')
  // Named by its id from here on: that says more than its place in the list.
  const r = found.renamed(`devices[${id}]`)
  const attempt = r.count('attempt')
  const job = r.orNull('job', r.string)
  const expectedJob = attempt === 0 ? null : otaJobId(rolloutId, attempt)
  if (job !== expectedJob) throw snapshotError(`${r.where('job')} is ${shown(job)}; attempt ${attempt} has job ${shown(expectedJob)}`)
  const deadline = r.orNull('deadline', r.object)
  const lastError = r.orNull('lastError', r.object)
  return {
    id,
    state: r.oneOf('state', deviceRolloutStates),
    progress: r.orNull('progress', r.count),
    attempt,
    job,
    reason: r.orNull('reason', (k) => r.oneOf(k, outcomeReasons)),
    detail: r.orNull('detail', r.string),
    firmwareVersion: r.orNull('firmwareVersion', r.string),
    runningSlot: r.orNull('runningSlot', r.string),
    online: r.boolean('online'),
    offlineSince: r.orNull('offlineSince', r.number),
    installSent: r.boolean('installSent'),
    installAcked: r.boolean('installAcked'),
    startedAt: r.orNull('startedAt', r.number),
    finishedAt: r.orNull('finishedAt', r.number),
    startDueAt: r.orNull('startDueAt', r.number),
    deadline: deadline && { kind: deadline.oneOf('kind', deadlineKinds), at: deadline.number('at') },
    resends: r.count('resends'),
    checksumRetries: r.count('checksumRetries'),
    lastCancelAt: r.orNull('lastCancelAt', r.number),
    cancelResends: r.count('cancelResends'),
    reportedJob: r.orNull('reportedJob', r.string),
    reportedState: r.orNull('reportedState', (k) => r.oneOf(k, deviceOtaStates)),
    lastError: lastError && { code: lastError.oneOf('code', errorCodes), text: lastError.string('text') },
    soakReboots: r.count('soakReboots'),
    soakCrashes: r.count('soakCrashes'),
  }
}
