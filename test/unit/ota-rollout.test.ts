// The Rollout state machine, one rule at a time: the exact meaning of pause, resume and abort; timeouts,
// retries and stale reports; the exponential start rate and its jitter; each reason a health gate fails;
// and what it does with reports that make no sense. The fleet-scale proof is in ota-rollout-fleet.test.ts.
import { describe, expect, it } from 'vitest'
import { otaMetricNames, otaReportMetrics, parseOtaError, type OtaReport } from '../../shared/domain/ota/protocol'
import {
  Rollout,
  type CommandEffect,
  type DeviceStateEffect,
  type GateEffect,
  type HealthBaseline,
  type RolloutEffect,
  type RolloutOptions,
} from '../../shared/domain/ota/rollout'
import { planRollout, type DevicePolicy, type FleetDevice, type HealthGate, type PhaseSpec, type RolloutPlan } from '../../shared/domain/ota/rollout-plan'

const T0 = 1_700_000_000_000
const OLD = '1.0.0'
const NEW = '2.0.0'
const IMAGE = { version: NEW, chip: 'esp32', url: 'https://console.local/ota/app-2.0.0.bin', sha256: 'cd'.repeat(32), size: 1_200_000 }
const MIN = 60_000

function fleet(n: number, over: (i: number) => Partial<FleetDevice> = () => ({})): FleetDevice[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `d${String(i).padStart(3, '0')}`,
    group: 'line-1',
    tags: [],
    firmwareVersion: OLD,
    online: true,
    chip: 'esp32',
    ...over(i),
  }))
}

/** Phases without jitter unless a test asks for it, so start times are exact. */
const canary = (devices: number, extra: Partial<Extract<PhaseSpec, { kind: 'canary' }>> = {}): PhaseSpec => ({
  kind: 'canary',
  devices,
  soakMs: 10 * MIN,
  ...extra,
  rate: { jitterMs: 0, maxPerMinute: 1_000, ...extra.rate },
})
const pct = (percent: number, extra: Partial<Extract<PhaseSpec, { kind: 'percentage' }>> = {}): PhaseSpec => ({
  kind: 'percentage',
  percent,
  soakMs: 10 * MIN,
  ...extra,
  rate: { jitterMs: 0, maxPerMinute: 1_000, ...extra.rate },
})

function planFor(devices: FleetDevice[], phases: PhaseSpec[], policy: Partial<DevicePolicy> = {}): RolloutPlan {
  const result = planRollout(devices, { rolloutId: 'r1', image: IMAGE, selection: {}, seed: 1, phases, policy })
  if (!result.ok) throw new Error(result.refusal.detail)
  return result.plan
}

const commandsOf = (effects: RolloutEffect[]) => effects.filter((e): e is CommandEffect => e.kind === 'command')
const gatesOf = (effects: RolloutEffect[]) => effects.filter((e): e is GateEffect => e.kind === 'gate')

/** Drives a Rollout with a clock and keeps every effect it produced. */
class Harness {
  readonly rollout: Rollout
  now = T0
  readonly log: RolloutEffect[] = []

  constructor(
    readonly plan: RolloutPlan,
    options: Partial<RolloutOptions> = {},
  ) {
    this.rollout = new Rollout(plan, { random: () => 0, ...options })
  }

  private take(): RolloutEffect[] {
    const effects = this.rollout.takeEffects()
    this.log.push(...effects)
    return effects
  }

  start(): RolloutEffect[] {
    this.rollout.start(this.now)
    return this.take()
  }

  /** Advances the clock in steps, ticking at each. */
  run(ms: number, step = 1_000): RolloutEffect[] {
    const out: RolloutEffect[] = []
    for (let t = 0; t < ms; t += step) {
      this.now += Math.min(step, ms - t)
      this.rollout.tick(this.now)
      out.push(...this.take())
    }
    return out
  }

  pause(): RolloutEffect[] {
    this.rollout.pause(this.now)
    return this.take()
  }

  resume(): RolloutEffect[] {
    this.rollout.resume(this.now)
    return this.take()
  }

  abort(): RolloutEffect[] {
    this.rollout.abort(this.now)
    return this.take()
  }

  report(id: string, report: OtaReport): RolloutEffect[] {
    this.lastOutcome = this.rollout.receive(id, report, this.now)
    return this.take()
  }

  lastOutcome: ReturnType<Rollout['receive']> | null = null

  offline(id: string): void {
    this.rollout.deviceOffline(id, this.now)
  }

  online(id: string): RolloutEffect[] {
    this.rollout.deviceOnline(id, this.now)
    return this.take()
  }

  job(id: string): string {
    return this.rollout.device(id)!.job!
  }

  state(id: string): string {
    return this.rollout.device(id)!.state
  }

  downloaded(id: string): RolloutEffect[] {
    const job = this.job(id)
    return [...this.report(id, { state: 'downloading', job, progress: 0 }), ...this.report(id, { state: 'downloaded', job, progress: 100 })]
  }

  /** From install to the end, as a node says it: installing, rebooting, a new session, verifying, verdict. */
  installs(id: string, outcome: 'succeeded' | 'rolled-back', error = 'boot-failed'): RolloutEffect[] {
    const job = this.job(id)
    const out = [...this.report(id, { state: 'installing', job }), ...this.report(id, { state: 'rebooting', job })]
    this.offline(id)
    out.push(...this.online(id))
    out.push(...this.report(id, { state: 'verifying', job, firmwareVersion: NEW, runningSlot: 'ota_1' }))
    if (outcome === 'succeeded') out.push(...this.report(id, { state: 'succeeded', job, firmwareVersion: NEW }))
    else out.push(...this.report(id, { state: 'rolled-back', job, firmwareVersion: OLD, runningSlot: 'ota_0', error: parseOtaError(error) }))
    return out
  }

  /** A whole update: download, install, verdict. */
  update(id: string, outcome: 'succeeded' | 'rolled-back' = 'succeeded', error?: string): void {
    this.downloaded(id)
    this.installs(id, outcome, error)
  }
}

describe('one device, start to finish', () => {
  it('walks queued → notified → downloading → downloaded → installing → rebooting → verifying → succeeded', () => {
    const h = new Harness(planFor(fleet(1), [canary(1, { soakMs: 5 * MIN })]))
    const first = h.start()
    expect(commandsOf(first).map((c) => c.command)).toEqual([
      { op: 'download', job: 'r1/1', url: IMAGE.url, sha256: IMAGE.sha256, size: IMAGE.size, version: NEW },
    ])
    expect(first.filter((e) => e.kind === 'phase')).toMatchObject([{ phase: 0, name: 'canary', state: 'rolling' }])
    h.report('d000', { state: 'downloading', job: 'r1/1', progress: 0 })
    h.report('d000', { job: 'r1/1', progress: 40 })
    // A progress metric alone (NDATA carries what changed) belongs to the last job reported.
    h.report('d000', { progress: 80 })
    expect(h.rollout.device('d000')!.progress).toBe(80)
    const afterDownload = h.report('d000', { state: 'downloaded', job: 'r1/1', progress: 100 })
    expect(commandsOf(afterDownload).map((c) => c.command)).toEqual([{ op: 'install', job: 'r1/1' }])
    expect(h.rollout.device('d000')).toMatchObject({ state: 'installing', installSent: true, installAcked: false })
    h.installs('d000', 'succeeded')
    const states = h.log.filter((e): e is DeviceStateEffect => e.kind === 'device-state').map((e) => e.state)
    expect(states).toEqual(['notified', 'downloading', 'downloading', 'downloading', 'downloaded', 'installing', 'rebooting', 'verifying', 'succeeded'])
    expect(h.rollout.device('d000')).toMatchObject({ state: 'succeeded', firmwareVersion: NEW, runningSlot: 'ota_1', fromVersion: OLD })
    h.run(1_000)
    expect(h.rollout.phases()[0]!.state).toBe('soaking')
    const end = h.run(5 * MIN)
    expect(gatesOf(end)).toMatchObject([{ phase: 0, passed: true, findings: [] }])
    expect(h.rollout.status).toBe('completed')
    expect(h.rollout.isSettled()).toBe(true)
  })

  it('goes through the protocol metrics as the core hands them over', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    const outcome = h.rollout.receiveMetrics('d000', otaReportMetrics({ state: 'downloading', job: 'r1/1', progress: 5 }), h.now)
    expect(outcome).toBe('applied')
    expect(h.state('d000')).toBe('downloading')
    // Metrics of other features in the same NDATA are none of the rollout's business.
    expect(h.rollout.receiveMetrics('d000', [{ name: 'Diagnostics/RSSI', type: 'Int8', value: -61 }], h.now)).toBe('ignored')
  })
})

describe('pause and resume', () => {
  function started() {
    const h = new Harness(planFor(fleet(6), [canary(6, { rate: { basePerMinute: 60 } })]))
    h.start()
    h.run(1_000)
    const [a, b] = h.plan.phases[0]!.deviceIds as [string, string]
    return { h, a, b }
  }

  it('starts nothing new and installs nothing, while downloads in flight run to downloaded', () => {
    const { h, a, b } = started()
    expect(commandsOf(h.log).map((c) => c.deviceId)).toEqual([a, b])
    h.report(a, { state: 'downloading', job: h.job(a), progress: 10 })
    h.report(b, { state: 'downloading', job: h.job(b), progress: 10 })
    h.pause()
    expect(h.rollout.status).toBe('paused')
    expect(h.rollout.pausedBy).toBe('operator')
    const during = [...h.report(a, { state: 'downloaded', job: h.job(a), progress: 100 }), ...h.run(5 * MIN)]
    expect(h.state(a)).toBe('downloaded')
    expect(commandsOf(during)).toEqual([])
    // b's download stalled during the pause: its retry waits for resume like any other start.
    expect(h.rollout.device(b)).toMatchObject({ state: 'queued', reason: 'download-stalled', attempt: 1 })
  })

  it('resume sends the held install, the held retry and the next starts', () => {
    const { h, a, b } = started()
    h.report(a, { state: 'downloading', job: h.job(a), progress: 10 })
    h.report(b, { state: 'downloading', job: h.job(b), progress: 10 })
    h.pause()
    h.report(a, { state: 'downloaded', job: h.job(a), progress: 100 })
    h.run(5 * MIN)
    const resumed = [...h.resume(), ...h.run(1_000)]
    const commands = commandsOf(resumed).map((c) => [c.deviceId, c.command.op, c.command.job])
    expect(commands).toContainEqual([a, 'install', 'r1/1'])
    expect(commands).toContainEqual([b, 'download', 'r1/2'])
    expect(commandsOf(resumed).filter((c) => c.command.op === 'download' && c.command.job === 'r1/1').length).toBeGreaterThan(0)
    expect(h.rollout.status).toBe('running')
  })

  it('does not burst after a long pause: starts resume at the rate', () => {
    const h = new Harness(planFor(fleet(40), [pct(100, { rate: { basePerMinute: 6, maxInFlight: 100 } })]))
    h.start()
    const first = commandsOf(h.log)[0]!.deviceId
    h.pause()
    h.run(30 * MIN)
    const after = [...h.resume(), ...h.run(59_000)]
    const firstStarts = new Set(commandsOf(after).filter((c) => c.command.job === 'r1/1' && c.deviceId !== first).map((c) => c.deviceId))
    // One at resume, then one every 10 s: never the 180 slots the pause would have "owed".
    expect(firstStarts.size).toBe(6)
  })

  it('pause and resume refuse what does not apply', () => {
    const h = new Harness(planFor(fleet(2), [canary(2)]))
    expect(h.rollout.pause(h.now)).toBe(false)
    h.start()
    expect(h.rollout.resume(h.now)).toBe(false)
    expect(h.rollout.pause(h.now)).toBe(true)
    expect(h.rollout.pause(h.now)).toBe(false)
  })
})

describe('abort', () => {
  // Seven canary devices, six may be in flight (one waits queued); each of the six is put in another state.
  function inEveryState() {
    const h = new Harness(planFor(fleet(7), [canary(7, { rate: { basePerMinute: 600, maxInFlight: 6 } })]))
    h.start()
    h.run(1_000)
    // Devices start in the phase's order.
    const o = h.plan.phases[0]!.deviceIds as [string, string, string, string, string, string, string]
    const ids = { notified: o[0], downloading: o[1], downloaded: o[2], installSent: o[3], installing: o[4], verifying: o[5], queued: o[6] }
    h.report(ids.downloading, { state: 'downloading', job: h.job(ids.downloading), progress: 30 })
    h.downloaded(ids.installSent)
    h.downloaded(ids.installing)
    h.report(ids.installing, { state: 'installing', job: h.job(ids.installing) })
    h.downloaded(ids.verifying)
    h.report(ids.verifying, { state: 'installing', job: h.job(ids.verifying) })
    h.report(ids.verifying, { state: 'rebooting', job: h.job(ids.verifying) })
    h.report(ids.verifying, { state: 'verifying', job: h.job(ids.verifying), firmwareVersion: NEW })
    // Paused, so this one stays at downloaded without an install; the abort comes during the pause.
    h.pause()
    h.downloaded(ids.downloaded)
    return { h, ids }
  }

  it('cancels downloads in flight, starts nothing, and follows installs already begun', () => {
    const { h, ids } = inEveryState()
    expect(h.state(ids.queued)).toBe('queued')
    expect(h.state(ids.notified)).toBe('notified')
    expect(h.state(ids.downloading)).toBe('downloading')
    expect(h.state(ids.downloaded)).toBe('downloaded')
    expect(h.state(ids.installSent)).toBe('installing')
    expect(h.state(ids.installing)).toBe('installing')
    expect(h.rollout.device(ids.installing)!.installAcked).toBe(true)
    expect(h.state(ids.verifying)).toBe('verifying')
    const mark = h.log.length
    const effects = h.abort()
    expect(h.rollout.status).toBe('aborting')
    const cancels = commandsOf(effects).map((c) => [c.deviceId, c.command.op])
    expect(cancels.sort()).toEqual(
      [
        [ids.notified, 'cancel'],
        [ids.downloading, 'cancel'],
        [ids.downloaded, 'cancel'],
        [ids.installSent, 'cancel'],
      ].sort(),
    )
    for (const id of [ids.queued, ids.notified, ids.downloading, ids.downloaded]) expect(h.rollout.device(id)).toMatchObject({ state: 'cancelled', reason: 'aborted' })
    // Install sent but not acknowledged: a cancel follows it, and the device is followed until it says.
    expect(h.state(ids.installSent)).toBe('installing')
    h.report(ids.installSent, { state: 'downloaded', job: h.job(ids.installSent) })
    expect(h.rollout.device(ids.installSent)).toMatchObject({ state: 'cancelled', reason: 'aborted' })
    h.report(ids.downloaded, { state: 'idle', job: h.job(ids.downloaded), error: { code: 'cancelled', text: 'cancelled' } })
    expect(h.state(ids.downloaded)).toBe('cancelled')

    h.installs(ids.installing, 'succeeded')
    expect(h.rollout.status).toBe('aborting')
    h.report(ids.verifying, { state: 'rolled-back', job: h.job(ids.verifying), firmwareVersion: OLD, error: { code: 'self-test-failed', text: 'self-test-failed' } })
    expect(h.state(ids.installing)).toBe('succeeded')
    expect(h.rollout.device(ids.verifying)).toMatchObject({ state: 'rolled-back', reason: 'self-test-failed' })
    expect(h.rollout.status).toBe('aborted')
    expect(h.rollout.isSettled()).toBe(true)

    // Hours later, whatever the devices say: never an install, never a download.
    h.report(ids.downloading, { state: 'downloaded', job: h.job(ids.downloading) })
    h.run(2 * 60 * MIN, 10_000)
    const after = commandsOf(h.log.slice(mark))
    expect(after.filter((c) => c.command.op !== 'cancel')).toEqual([])
    expect(h.rollout.phases()[0]!.state).toBe('stopped')
  })

  it('tells a device that still holds the download to cancel again, a few times, when its cancel was lost', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    const job = h.job('d000')
    h.report('d000', { state: 'downloading', job, progress: 50 })
    h.abort()
    h.report('d000', { state: 'downloaded', job, progress: 100 })
    h.run(10 * MIN)
    const cancels = commandsOf(h.log).filter((c) => c.command.op === 'cancel')
    // The first at abort, one on the device's report after the ack timeout, then up to maxResends more.
    expect(cancels.length).toBeGreaterThanOrEqual(2)
    expect(cancels.length).toBeLessThanOrEqual(2 + h.plan.policy.maxResends)
    expect(commandsOf(h.log).filter((c) => c.command.op === 'install')).toEqual([])
    h.report('d000', { state: 'idle', job, error: { code: 'cancelled', text: 'cancelled' } })
    const quiet = h.run(10 * MIN)
    expect(commandsOf(quiet)).toEqual([])
  })

  it('follows a device that reports an install begun before the abort, even after it was counted cancelled', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.downloaded('d000')
    h.abort()
    // Its install crossed the abort: the device reports it, the cancel behind it was ignored.
    h.report('d000', { state: 'installing', job: 'r1/1' })
    expect(h.rollout.status).toBe('aborting')
    h.report('d000', { state: 'rebooting', job: 'r1/1' })
    h.report('d000', { state: 'verifying', job: 'r1/1', firmwareVersion: NEW })
    h.report('d000', { state: 'succeeded', job: 'r1/1', firmwareVersion: NEW })
    expect(h.state('d000')).toBe('succeeded')
    expect(h.rollout.status).toBe('aborted')
  })

  it('before start cancels everything at once', () => {
    const h = new Harness(planFor(fleet(3), [canary(3)]))
    h.abort()
    expect(h.rollout.status).toBe('aborted')
    expect(h.rollout.counts().cancelled).toBe(3)
    expect(commandsOf(h.log)).toEqual([])
    expect(h.rollout.start(h.now)).toBe(false)
    expect(h.rollout.abort(h.now)).toBe(false)
  })
})

describe('timeouts, retries and stale reports', () => {
  it('resends an unanswered download, then retries with a fresh job, then fails with the reason', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    const policy = h.plan.policy
    h.run(policy.ackTimeoutMs * (policy.maxResends + 1))
    const first = commandsOf(h.log).map((c) => c.command.job)
    expect(first).toEqual(['r1/1', 'r1/1', 'r1/1', 'r1/1'])
    expect(h.rollout.device('d000')).toMatchObject({ state: 'queued', reason: 'no-response', attempt: 1 })
    // Retry after retryDelayMs × attempt.
    h.run(policy.retryDelayMs)
    expect(commandsOf(h.log).at(-1)!.command).toMatchObject({ op: 'download', job: 'r1/2' })
    h.run(10 * MIN)
    const d = h.rollout.device('d000')!
    expect(d).toMatchObject({ state: 'failed', reason: 'no-response', attempt: 3 })
    expect(d.detail).toContain('attempt 3 of 3')
    // Nothing half-done: the device is told to drop whatever it may hold.
    expect(commandsOf(h.log).at(-1)!.command).toEqual({ op: 'cancel', job: 'r1/3' })
    expect(h.rollout.stats.retries).toBe(2)
  })

  it('abandons a stalled download and ignores the old attempt when it speaks up later', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.report('d000', { state: 'downloading', job: 'r1/1', progress: 30 })
    h.run(h.plan.policy.progressTimeoutMs)
    expect(h.rollout.device('d000')).toMatchObject({ state: 'queued', reason: 'download-stalled' })
    h.run(h.plan.policy.retryDelayMs)
    expect(h.job('d000')).toBe('r1/2')
    // The old attempt finishes after all: a late report of a job no longer current.
    const late = h.report('d000', { state: 'downloaded', job: 'r1/1', progress: 100 })
    expect(h.lastOutcome).toBe('stale')
    expect(commandsOf(late)).toEqual([])
    expect(h.state('d000')).toBe('notified')
    expect(h.rollout.stats.staleReports).toBe(1)
  })

  it('keeps a stalled attempt that moves again before its retry starts', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.report('d000', { state: 'downloading', job: 'r1/1', progress: 30 })
    h.run(h.plan.policy.progressTimeoutMs)
    expect(h.state('d000')).toBe('queued')
    const effects = h.report('d000', { state: 'downloaded', job: 'r1/1', progress: 100 })
    expect(commandsOf(effects).map((c) => c.command)).toEqual([{ op: 'install', job: 'r1/1' }])
    h.run(MIN)
    expect(commandsOf(h.log).filter((c) => c.command.op === 'download')).toHaveLength(1)
  })

  it('downloads once more after a checksum mismatch, and fails with that reason when it repeats', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    const mismatch = { code: 'checksum-mismatch' as const, text: 'checksum-mismatch: got 9f3c…' }
    h.report('d000', { state: 'failed', job: 'r1/1', error: mismatch })
    expect(h.rollout.device('d000')).toMatchObject({ state: 'queued', reason: 'checksum-mismatch' })
    h.run(h.plan.policy.retryDelayMs)
    expect(h.job('d000')).toBe('r1/2')
    h.report('d000', { state: 'failed', job: 'r1/2', error: mismatch })
    const d = h.rollout.device('d000')!
    // Attempts remain (3), but the same wrong bytes twice is not the link.
    expect(d).toMatchObject({ state: 'failed', reason: 'checksum-mismatch', attempt: 2 })
    expect(d.detail).toContain('checksum-mismatch: got 9f3c')
  })

  it('does not retry an image the device refuses as invalid', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.report('d000', { state: 'downloading', job: 'r1/1', progress: 100 })
    h.report('d000', { state: 'failed', job: 'r1/1', error: { code: 'image-invalid', text: 'image-invalid: chip id 9 ≠ 0' } })
    expect(h.rollout.device('d000')).toMatchObject({ state: 'failed', reason: 'image-invalid', attempt: 1 })
  })

  it('retries a download lost to a reset (the node comes back idle)', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.report('d000', { state: 'downloading', job: 'r1/1', progress: 60 })
    h.offline('d000')
    h.run(20_000)
    h.online('d000')
    h.report('d000', { state: 'idle', job: 'r1/1', error: { code: 'interrupted', text: 'interrupted' }, firmwareVersion: OLD })
    expect(h.rollout.device('d000')).toMatchObject({ state: 'queued', reason: 'interrupted' })
  })

  it('retries an install cut by a power loss before the new image was selected, and fails one the image refused', () => {
    const h = new Harness(planFor(fleet(2), [canary(2, { rate: { basePerMinute: 60 } })]))
    h.start()
    h.run(1_000)
    const [a, b] = h.plan.phases[0]!.deviceIds as [string, string]
    for (const id of [a, b]) {
      h.downloaded(id)
      h.report(id, { state: 'installing', job: 'r1/1' })
    }
    h.offline(a)
    h.online(a)
    h.report(a, { state: 'failed', job: 'r1/1', error: { code: 'interrupted', text: 'interrupted: ESP_RST_POWERON while installing' }, firmwareVersion: OLD })
    expect(h.rollout.device(a)).toMatchObject({ state: 'queued', reason: 'interrupted', attempt: 1 })
    h.report(b, { state: 'failed', job: 'r1/1', error: { code: 'flash-error', text: 'flash-error: esp_ota_end failed' }, firmwareVersion: OLD })
    expect(h.rollout.device(b)).toMatchObject({ state: 'failed', reason: 'install-failed' })
    h.run(h.plan.policy.retryDelayMs)
    expect(h.job(a)).toBe('r1/2')
  })

  it('retries after a rollback caused by a power cut, and not after one caused by the image', () => {
    const h = new Harness(planFor(fleet(2), [canary(2, { rate: { basePerMinute: 60 } })]))
    h.start()
    h.run(1_000)
    const [a, b] = h.plan.phases[0]!.deviceIds as [string, string]
    h.update(a, 'rolled-back', 'interrupted')
    expect(h.rollout.device(a)).toMatchObject({ state: 'queued', reason: 'interrupted', attempt: 1 })
    h.update(b, 'rolled-back', 'boot-failed: Guru Meditation Error (LoadProhibited)')
    expect(h.rollout.device(b)).toMatchObject({ state: 'rolled-back', reason: 'boot-failed' })
    h.run(h.plan.policy.retryDelayMs)
    expect(h.job(a)).toBe('r1/2')
  })

  it('gives up waiting for a verdict, and still follows the device to its real end', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.downloaded('d000')
    h.report('d000', { state: 'installing', job: 'r1/1' })
    h.run(h.plan.policy.verdictTimeoutMs)
    expect(h.rollout.device('d000')).toMatchObject({ state: 'failed', reason: 'no-verdict' })
    h.report('d000', { state: 'succeeded', job: 'r1/1', firmwareVersion: NEW })
    expect(h.state('d000')).toBe('succeeded')
  })

  it('resends an unanswered install, and only that', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.downloaded('d000')
    h.run(h.plan.policy.ackTimeoutMs)
    expect(commandsOf(h.log).map((c) => c.command.op)).toEqual(['download', 'install', 'install'])
    // A report of `downloaded` lagging behind the install changes nothing.
    h.report('d000', { state: 'downloaded', job: 'r1/1' })
    expect(h.state('d000')).toBe('installing')
    h.report('d000', { state: 'installing', job: 'r1/1' })
    h.run(h.plan.policy.ackTimeoutMs * 3)
    expect(commandsOf(h.log).map((c) => c.command.op)).toEqual(['download', 'install', 'install'])
  })

  it('retries when the node says it does not hold the image an install names', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.downloaded('d000')
    h.report('d000', { state: 'failed', job: 'r1/1', error: { code: 'not-downloaded', text: 'not-downloaded' } })
    expect(h.rollout.device('d000')).toMatchObject({ state: 'queued', reason: 'not-downloaded' })
  })
})

describe('devices offline', () => {
  it('resends what a device was waiting for when it comes back', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.offline('d000')
    // Offline devices do not time out: the command was lost with the link, not ignored.
    h.run(5 * MIN)
    expect(commandsOf(h.log)).toHaveLength(1)
    expect(h.state('d000')).toBe('notified')
    const back = h.online('d000')
    expect(commandsOf(back).map((c) => c.command)).toMatchObject([{ op: 'download', job: 'r1/1' }])
  })

  it('sends an install again at once when a device whose install went out with the link comes back', () => {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.downloaded('d000')
    // The link went just as the install was published: it was lost.
    h.offline('d000')
    h.run(5 * MIN)
    expect(commandsOf(h.log).map((c) => c.command.op)).toEqual(['download', 'install'])
    const back = h.online('d000')
    expect(commandsOf(back).map((c) => c.command)).toEqual([{ op: 'install', job: 'r1/1' }])
  })

  it('skips a device offline for its whole phase, and fails as silent one that vanished mid-update', () => {
    const devices = fleet(3, (i) => ({ online: i !== 2 }))
    const h = new Harness(planFor(devices, [canary(3, { rate: { basePerMinute: 60 } })], { offlineGiveUpMs: 10 * MIN }))
    h.offline('d002')
    h.start()
    h.run(2_000)
    const started = commandsOf(h.log).map((c) => c.deviceId)
    expect(started.sort()).toEqual(['d000', 'd001'])
    h.update('d000')
    h.report('d001', { state: 'downloading', job: h.job('d001'), progress: 10 })
    h.offline('d001')
    h.run(10 * MIN)
    expect(h.rollout.device('d002')).toMatchObject({ state: 'skipped', reason: 'offline', attempt: 0 })
    expect(h.rollout.device('d001')).toMatchObject({ state: 'failed', reason: 'silent' })
    // It comes back where it was: followed (and, the rollout having given up on it, told to drop it).
    h.online('d001')
    const back = h.report('d001', { state: 'downloading', job: h.job('d001'), progress: 70 })
    expect(commandsOf(back).map((c) => c.command.op)).toEqual(['cancel'])
  })
})

describe('reports that make no sense', () => {
  function running() {
    const h = new Harness(planFor(fleet(1), [canary(1)]))
    h.start()
    h.report('d000', { state: 'downloading', job: 'r1/1', progress: 20 })
    return h
  }

  it('an unknown state is a protocol problem and moves nothing', () => {
    const h = running()
    const metrics = [
      { name: otaMetricNames.state, type: 'String' as const, value: 'flashing' },
      { name: otaMetricNames.job, type: 'String' as const, value: 'r1/1' },
    ]
    h.rollout.receiveMetrics('d000', metrics, h.now)
    const effects = h.rollout.takeEffects()
    expect(effects).toMatchObject([{ kind: 'protocol-problem', deviceId: 'd000', problem: 'unknown-state' }])
    expect(h.state('d000')).toBe('downloading')
    // The same through receive() with a report a caller built itself.
    h.report('d000', { state: 'exploded' as never, job: 'r1/1' })
    expect(h.log.at(-1)).toMatchObject({ kind: 'protocol-problem', problem: 'unknown-state' })
    expect(h.state('d000')).toBe('downloading')
    expect(h.rollout.stats.protocolProblems).toBe(2)
  })

  it('a state without a job, progress out of range, an out-of-order state: refused with a reason', () => {
    const h = running()
    h.rollout.receive('d000', { state: 'downloaded', job: '' }, h.now)
    h.rollout.receive('d000', { job: 'r1/1', progress: 180 }, h.now)
    h.rollout.receive('d000', { state: 'rebooting', job: 'r1/1' }, h.now)
    const problems = h.rollout.takeEffects().filter((e) => e.kind === 'protocol-problem')
    expect(problems.map((p) => p.problem)).toEqual(['state-without-job', 'bad-progress', 'install-without-command'])
    // A device that says it is rebooting is followed (it is the one that knows), and flagged.
    expect(h.state('d000')).toBe('rebooting')
  })

  it('succeeded on the wrong version is not success', () => {
    const h = running()
    h.report('d000', { state: 'downloaded', job: 'r1/1' })
    h.report('d000', { state: 'installing', job: 'r1/1' })
    h.report('d000', { state: 'succeeded', job: 'r1/1', firmwareVersion: '1.9.9' })
    expect(h.rollout.device('d000')).toMatchObject({ state: 'failed', reason: 'version-mismatch' })
    // The right version arriving in the next message settles it.
    h.report('d000', { firmwareVersion: NEW })
    expect(h.state('d000')).toBe('succeeded')
  })

  it('reports of other jobs and of unknown devices are ignored', () => {
    const h = running()
    expect(h.rollout.receive('d000', { state: 'downloaded', job: 'r0/4' }, h.now)).toBe('stale')
    expect(h.rollout.receive('nobody', { state: 'downloaded', job: 'r1/1' }, h.now)).toBe('unknown-device')
    expect(h.state('d000')).toBe('downloading')
  })

  it('a device idle on the new version after its install counts as confirmed; on the old one, as interrupted', () => {
    const h = new Harness(planFor(fleet(2), [canary(2, { rate: { basePerMinute: 60 } })]))
    h.start()
    h.run(1_000)
    const [a, b] = h.plan.phases[0]!.deviceIds as [string, string]
    for (const id of [a, b]) {
      h.downloaded(id)
      h.report(id, { state: 'installing', job: h.job(id) })
      h.report(id, { state: 'rebooting', job: h.job(id) })
    }
    h.report(a, { state: 'idle', job: '', firmwareVersion: NEW })
    h.report(b, { state: 'idle', job: '', firmwareVersion: OLD })
    expect(h.state(a)).toBe('succeeded')
    expect(h.rollout.device(b)).toMatchObject({ state: 'queued', reason: 'interrupted' })
  })
})

describe('start rate', () => {
  /** Devices that answer at once: downloaded on download, succeeded on install. */
  function instant(h: Harness, effects: RolloutEffect[]): void {
    for (let batch = effects; batch.length > 0; ) {
      const next: RolloutEffect[] = []
      for (const c of commandsOf(batch)) {
        if (c.command.op === 'download') next.push(...h.report(c.deviceId, { state: 'downloaded', job: c.command.job }))
        if (c.command.op === 'install') next.push(...h.report(c.deviceId, { state: 'succeeded', job: c.command.job, firmwareVersion: NEW }))
      }
      batch = next
    }
  }

  it('grows by its factor each time enough devices succeed, up to its cap', () => {
    const rate = { basePerMinute: 6, incrementFactor: 2, succeededPerIncrement: 10, maxPerMinute: 48, maxInFlight: 1_000 }
    const h = new Harness(planFor(fleet(400), [pct(100, { rate })]))
    instant(h, h.start())
    const perMinute: number[] = []
    const rates: Array<[succeeded: number, rate: number]> = []
    for (let m = 0; m < 10; m++) {
      let n = 0
      for (let s = 0; s < 60; s++) {
        const effects = h.run(1_000)
        n += commandsOf(effects).filter((c) => c.command.op === 'download').length
        instant(h, effects)
        const last = rates.at(-1)
        if (last === undefined || last[1] !== h.rollout.startRate()) rates.push([h.rollout.counts().succeeded, h.rollout.startRate()])
      }
      perMinute.push(n)
    }
    // Doubling at 10, 20 and 30 succeeded, then held at the cap.
    expect(rates.map(([, rate]) => rate)).toEqual([6, 12, 24, 48])
    expect(rates.slice(1).map(([succeeded]) => succeeded)).toEqual([10, 20, 30])
    expect(perMinute[0]).toBe(6)
    expect(Math.max(...perMinute)).toBeLessThanOrEqual(48)
    expect(perMinute.slice(4)).toEqual([48, 48, 48, 48, 48, 48])
  })

  it('never has more than maxInFlight devices between download and end', () => {
    const h = new Harness(planFor(fleet(30), [pct(100, { rate: { basePerMinute: 600, maxInFlight: 4 } })]))
    h.start()
    h.run(20_000)
    // Nobody answers: four devices, each told again and again, nobody else.
    expect(new Set(commandsOf(h.log).map((c) => c.deviceId)).size).toBe(4)
    const c = h.rollout.counts()
    expect(c.notified).toBe(4)
    expect(c.queued).toBe(26)
  })
})

describe('jitter on every start', () => {
  it('delays each start by 0…jitterMs after its slot, and by nothing without jitter', () => {
    const jitterMs = 5_000
    const seeded = (() => {
      let x = 123456789
      return () => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0
        return x / 4294967296
      }
    })()
    const runWith = (random: () => number, jitter: number) => {
      const h = new Harness(planFor(fleet(50), [pct(100, { rate: { basePerMinute: 60, maxInFlight: 1_000, jitterMs: jitter } })]), { random })
      h.start()
      h.run(2 * MIN, 100)
      const order = h.plan.phases[0]!.deviceIds
      // The k-th device in start order has the slot T0 + k s (one a second at 60 a minute).
      return commandsOf(h.log)
        .filter((c) => c.command.op === 'download' && c.command.job === 'r1/1')
        .filter((c, i, all) => all.findIndex((x) => x.deviceId === c.deviceId) === i)
        .map((c) => c.at - (T0 + order.indexOf(c.deviceId) * 1_000))
    }
    const delays = runWith(seeded, jitterMs)
    expect(delays.length).toBeGreaterThan(40)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0)
      // The tick every 100 ms is the only other delay.
      expect(d).toBeLessThan(jitterMs + 100)
    }
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(jitterMs / 2)
    expect(new Set(runWith(() => 0, 0))).toEqual(new Set([0]))
    // Highest draw: just under the bound.
    expect(Math.max(...runWith(() => 0.9999, jitterMs))).toBeLessThan(jitterMs + 100)
  })

  it('jitters retries too', () => {
    const h = new Harness(planFor(fleet(1), [canary(1, { rate: { jitterMs: 8_000 } })]), { random: () => 0.5 })
    h.start()
    expect(commandsOf(h.log)).toHaveLength(0)
    h.run(4_000)
    expect(commandsOf(h.log).map((c) => c.at)).toEqual([T0 + 4_000])
    h.report('d000', { state: 'failed', job: 'r1/1', error: { code: 'download-failed', text: 'download-failed: HTTP 503' } })
    const failedAt = h.now
    h.run(h.plan.policy.retryDelayMs + 4_000)
    expect(commandsOf(h.log).at(-1)!.at).toBe(failedAt + h.plan.policy.retryDelayMs + 4_000)
  })
})

describe('health gates', () => {
  const baselineless = new Map<string, HealthBaseline>()

  /** A canary of 4 and a percentage phase behind it; the canary devices end as told, then the soak runs. */
  function canaryEnds(
    outcomes: Array<'succeeded' | 'rolled-back' | 'offline'>,
    options: { baselines?: Map<string, HealthBaseline>; duringSoak?: (h: Harness, ids: readonly string[]) => void; gate?: Partial<HealthGate> } = {},
  ) {
    const devices = fleet(20)
    const h = new Harness(
      planFor(devices, [canary(4, { rate: { basePerMinute: 600 }, gate: options.gate ?? {} }), pct(100)], { offlineGiveUpMs: 5 * MIN }),
      { baselines: options.baselines ?? baselineless },
    )
    const ids = h.plan.phases[0]!.deviceIds
    outcomes.forEach((o, i) => {
      if (o === 'offline') h.offline(ids[i]!)
    })
    h.start()
    h.run(1_000)
    outcomes.forEach((o, i) => {
      if (o !== 'offline') h.update(ids[i]!, o)
    })
    h.run(5 * MIN)
    expect(h.rollout.phases()[0]!.state).toBe('soaking')
    options.duringSoak?.(h, ids)
    h.run(10 * MIN)
    return { h, ids, gate: gatesOf(h.log)[0]! }
  }

  it('passes a clean canary and opens the next phase', () => {
    const { h, gate } = canaryEnds(['succeeded', 'succeeded', 'succeeded', 'succeeded'])
    expect(gate).toMatchObject({ phase: 0, passed: true, early: false, findings: [] })
    expect(gate.measures).toMatchObject({ devices: 4, executed: 4, succeeded: 4, soakMs: 10 * MIN })
    expect(h.rollout.phases().map((p) => p.state)).toEqual(['passed', 'rolling'])
  })

  it('fails on the failure share, pauses, and starts nothing in the next phase', () => {
    const { h, ids, gate } = canaryEnds(['succeeded', 'rolled-back', 'succeeded', 'succeeded'])
    expect(gate.passed).toBe(false)
    expect(gate.findings).toMatchObject([{ reason: 'failure-share', share: 0.25, limit: 0.1, deviceIds: [ids[1]], byReason: { 'boot-failed': 1 } }])
    expect(gate.findings[0]!.detail).toBe('1 of 4 executed devices failed or rolled back (25%, limit 10%): boot-failed ×1.')
    expect(h.rollout.status).toBe('paused')
    expect(h.rollout.pausedBy).toBe('health-gate')
    expect(h.rollout.phases().map((p) => p.state)).toEqual(['gate-failed', 'pending'])
    const later = h.run(30 * MIN)
    expect(commandsOf(later)).toEqual([])
  })

  it('resuming over a failed gate is the operator override, and is recorded as such', () => {
    const { h } = canaryEnds(['succeeded', 'rolled-back', 'succeeded', 'succeeded'])
    const effects = [...h.resume(), ...h.run(1_000)]
    expect(effects.filter((e) => e.kind === 'phase')).toMatchObject([
      { phase: 0, state: 'passed', overridden: true },
      { phase: 1, state: 'rolling', overridden: false },
    ])
    expect(effects.find((e) => e.kind === 'rollout-state')).toMatchObject({ state: 'running', detail: expect.stringContaining('over the failed health gate') })
    expect(commandsOf(effects).length).toBeGreaterThan(0)
  })

  it('fails when too few devices ran the update', () => {
    const { gate } = canaryEnds(['succeeded', 'offline', 'offline', 'succeeded'])
    expect(gate.measures).toMatchObject({ executed: 2, skipped: 2 })
    expect(gate.findings).toMatchObject([{ reason: 'too-few-executed', executed: 2, required: 3 }])
  })

  it('fails on a rise in reboots against each device’s own history, not against a fleet norm', () => {
    // One device reboots a lot by nature (a brown-out-prone site); another never does.
    const baselines = new Map<string, HealthBaseline>()
    const { gate, ids } = canaryEnds(['succeeded', 'succeeded', 'succeeded', 'succeeded'], {
      baselines,
      duringSoak: (h, ids) => {
        baselines.set(ids[0]!, { reboots: 60, crashes: 0, overMs: 60 * MIN })
        for (let i = 0; i < 12; i++) h.rollout.recordHealthEvent(ids[0]!, 'reboot', h.now)
        for (let i = 0; i < 2; i++) h.rollout.recordHealthEvent(ids[1]!, 'reboot', h.now)
      },
    })
    // ids[0]: 12 reboots in 10 min against 10 expected, within 2× + 1. ids[1]: 2 against 0 expected, over.
    expect(gate.findings).toMatchObject([{ reason: 'reboot-rise', deviceIds: [ids[1]], share: 0.25 }])
  })

  it('fails on a crash where the device never crashed, and ignores events before the soak', () => {
    const { gate, ids } = canaryEnds(['succeeded', 'succeeded', 'succeeded', 'succeeded'], {
      duringSoak: (h, ids) => {
        h.rollout.recordHealthEvent(ids[2]!, 'crash', h.now)
        h.rollout.recordHealthEvent(ids[3]!, 'crash', h.now - 6 * MIN)
      },
    })
    expect(gate.findings).toMatchObject([{ reason: 'crash-rise', deviceIds: [ids[2]] }])
  })

  it('fails when updated devices have gone silent', () => {
    const { gate, ids } = canaryEnds(['succeeded', 'succeeded', 'succeeded', 'succeeded'], {
      gate: { silentAfterMs: 4 * MIN },
      duringSoak: (h, ids) => h.offline(ids[3]!),
    })
    expect(gate.findings).toMatchObject([{ reason: 'silent-devices', deviceIds: [ids[3]], share: 0.25 }])
  })

  it('lists every reason at once', () => {
    const { gate } = canaryEnds(['rolled-back', 'offline', 'offline', 'succeeded'], {
      gate: { silentAfterMs: 4 * MIN },
      duringSoak: (h, ids) => {
        h.rollout.recordHealthEvent(ids[3]!, 'crash', h.now)
        h.rollout.recordHealthEvent(ids[3]!, 'reboot', h.now)
        h.rollout.recordHealthEvent(ids[3]!, 'reboot', h.now)
        h.offline(ids[3]!)
      },
    })
    expect(gate.findings.map((f) => f.reason).sort()).toEqual(['crash-rise', 'failure-share', 'reboot-rise', 'silent-devices', 'too-few-executed'])
  })

  it('trips early in a percentage phase once its failures exceed what the phase may have; a canary runs to its end', () => {
    const h = new Harness(planFor(fleet(23), [canary(3, { rate: { basePerMinute: 600 } }), pct(100, { rate: { basePerMinute: 600 } })]))
    h.start()
    h.run(1_000)
    const [c0, c1, c2] = h.plan.phases[0]!.deviceIds as [string, string, string]
    h.update(c0, 'rolled-back', 'self-test-failed')
    // The canary does not stop early: its other devices still run to their end.
    expect(h.rollout.status).toBe('running')
    h.update(c1)
    h.update(c2)
    h.run(11 * MIN)
    expect(h.rollout.status).toBe('paused')
    h.resume()
    h.run(3_000)
    const phase = h.plan.phases[1]!.deviceIds
    expect(phase).toHaveLength(20)
    // 10% of 20 is 2: the third failure trips the gate at once.
    h.update(phase[0]!, 'rolled-back', 'boot-failed')
    h.update(phase[1]!, 'rolled-back', 'boot-failed')
    expect(h.rollout.status).toBe('running')
    h.downloaded(phase[3]!)
    h.update(phase[2]!, 'rolled-back', 'boot-failed')
    const early = gatesOf(h.log).at(-1)!
    expect(early).toMatchObject({ phase: 1, passed: false, early: true, findings: [{ reason: 'failure-share' }] })
    expect(h.rollout.status).toBe('paused')
    expect(h.rollout.pausedBy).toBe('health-gate')
    // A download that finishes now is not installed.
    const held = h.downloaded(phase[4]!)
    expect(commandsOf(held).filter((c) => c.command.op === 'install')).toEqual([])
    expect(h.state(phase[4]!)).toBe('downloaded')
  })
})
