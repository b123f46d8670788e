// A rollout persisted and rebuilt after a console restart must carry on exactly as if nothing happened.
// A faulty fleet drives an original rollout; at checkpoints its snapshot goes through JSON and is restored
// into a twin that from then on gets the same inputs. Every twin must then produce the same effects, and
// at the end hold the same devices, phases, counts and status, as the original.
import { describe, expect, it } from 'vitest'
import { otaReportMetrics, parseOtaCommand, type DeviceOtaState, type OtaReport } from '../../shared/domain/ota/protocol'
import { finalDeviceStates, Rollout, type RolloutEffect, type RolloutSnapshot } from '../../shared/domain/ota/rollout'
import { planRollout, type DevicePolicy, type FleetDevice, type PhaseSpec, type RolloutPlan } from '../../shared/domain/ota/rollout-plan'
import { seededRandom } from '../../shared/domain/seeded-random'
import { createRandom, type Random } from '../../simulator/fleet/random'

const OLD = '1.4.2'
const NEW = '1.5.0'
const T0 = 1_700_000_000_000
const MIN = 60_000

/**
 * The console's start jitter: mulberry32 from a seed, picked up again at any call count, the way the
 * core would keep it beside the snapshot.
 */
class Jitter {
  calls = 0
  private readonly next: () => number

  constructor(seed: number, skip = 0) {
    this.next = seededRandom(seed)
    for (let i = 0; i < skip; i++) this.draw()
  }

  readonly draw = (): number => {
    this.calls++
    return this.next()
  }
}

interface Faults {
  /** Per second of a node busy with an update. */
  powerCut: number
  linkDrop: number
  /** Per second of an idle node: the reboots a soak counts. */
  brownout: number
  commandLoss: number
  /** A lost NDATA, repaired by a rebirth a few seconds later. */
  reportLoss: number
  corruptDownload: number
}

/** Every rollout that must hear what the fleet says: the original and its twins. */
interface Listeners {
  each(f: (rollout: Rollout) => void): void
}

/**
 * An ESP32 node as small as it can be while meeting the protocol's corners: A/B otadata with rollback,
 * OTA state kept across resets, and power cuts, link drops and lost messages (see ota-rollout-fleet.test.ts
 * for the fuller model).
 */
class FakeNode {
  version = OLD
  otadata: 'valid' | 'new' | 'pending-verify' = 'valid'
  ota: { state: DeviceOtaState; job: string; progress: number; error: string } = { state: 'idle', job: '', progress: 0, error: '' }
  powered = true
  link = true
  backAt = -1
  rebirthAt = -1
  resetByPower = true
  task: { kind: 'download' | 'install' | 'reboot' | 'self-test' | 'crash'; at: number; corrupt?: boolean } | null = null

  constructor(
    readonly id: string,
    private readonly random: Random,
    private readonly faults: Faults,
    private readonly crashes: boolean,
    private readonly host: Listeners,
  ) {}

  get connected(): boolean {
    return this.powered && this.link
  }

  command(text: string, now: number): void {
    if (!this.connected || this.random.chance(this.faults.commandLoss)) return
    const parsed = parseOtaCommand(text)
    if (!parsed.ok) throw new Error(parsed.detail)
    const c = parsed.command
    const mine = c.job === this.ota.job
    const busy = ['installing', 'rebooting', 'verifying'].includes(this.ota.state)
    if (c.op === 'download' && !busy) {
      if (mine && (this.ota.state === 'downloading' || this.ota.state === 'downloaded')) return this.report(this.full(), now)
      this.task = { kind: 'download', at: now + this.random.int(2_000, 9_000), corrupt: this.random.chance(this.faults.corruptDownload) }
      this.set('downloading', now, { job: c.job, progress: 0, error: '' })
    } else if (c.op === 'install') {
      if (mine && this.ota.state === 'downloaded') {
        this.task = { kind: 'install', at: now + this.random.int(500, 2_500) }
        this.set('installing', now)
      } else if (!mine || !(busy || this.ota.state === 'succeeded' || this.ota.state === 'rolled-back')) {
        this.set('failed', now, { job: c.job, error: 'not-downloaded' })
      }
    } else if (c.op === 'cancel' && mine && (this.ota.state === 'downloading' || this.ota.state === 'downloaded')) {
      this.task = null
      this.set('idle', now, { error: 'cancelled' })
    }
  }

  step(now: number): void {
    if (!this.powered) {
      if (now >= this.backAt) this.boot(now)
      return
    }
    const cut = this.task === null ? this.faults.brownout : this.faults.powerCut
    if (this.random.chance(cut)) return this.reset(now, true, this.random.int(5_000, 60_000))
    if (this.link && this.task !== null && this.random.chance(this.faults.linkDrop)) {
      this.link = false
      this.backAt = now + this.random.int(5_000, 150_000)
      this.host.each((r) => r.deviceOffline(this.id, now))
    }
    if (!this.link && now >= this.backAt) {
      this.link = true
      // The new image confirms itself only once it reaches its upstream again.
      if (this.task?.kind === 'self-test') this.task.at = now + this.random.int(5_000, 30_000)
      this.birth(now)
    }
    if (this.rebirthAt !== -1 && now >= this.rebirthAt) {
      this.rebirthAt = -1
      if (this.connected) this.host.each((r) => r.receiveMetrics(this.id, otaReportMetrics(this.full()), now))
    }
    const task = this.task
    // The download and the self-test's upstream check both need the link.
    if (task === null || now < task.at || (!this.link && (task.kind === 'download' || task.kind === 'self-test'))) return
    switch (task.kind) {
      case 'download':
        if (this.ota.progress < 100) {
          this.ota.progress += 20
          task.at = now + this.random.int(2_000, 9_000)
          return this.report({ job: this.ota.job, progress: this.ota.progress }, now)
        }
        this.task = null
        if (task.corrupt) this.set('failed', now, { error: 'checksum-mismatch: image digest differs' })
        else this.set('downloaded', now)
        return
      case 'install':
        this.otadata = 'new'
        this.task = { kind: 'reboot', at: now + 1_000 }
        return this.set('rebooting', now)
      case 'reboot':
      case 'crash':
        return this.reset(now, false, 2_000)
      case 'self-test':
        this.task = null
        this.otadata = 'valid'
        return this.set('succeeded', now, { error: '' })
    }
  }

  private full(): OtaReport {
    const { state, job, progress, error } = this.ota
    return { state, job, progress, error: error === '' ? null : { code: 'other', text: error }, firmwareVersion: this.version }
  }

  private set(state: DeviceOtaState, now: number, extra: Partial<FakeNode['ota']> = {}): void {
    this.ota = { ...this.ota, ...extra, state }
    this.report(this.full(), now)
  }

  private report(report: OtaReport, now: number): void {
    if (!this.connected) return
    if (this.random.chance(this.faults.reportLoss)) {
      this.rebirthAt = now + this.random.int(2_000, 8_000)
      return
    }
    this.host.each((r) => r.receiveMetrics(this.id, otaReportMetrics(report), now))
  }

  private reset(now: number, byPower: boolean, downFor: number): void {
    if (this.connected) this.host.each((r) => r.deviceOffline(this.id, now))
    this.powered = false
    this.backAt = now + downFor
    this.resetByPower = byPower
    this.task = null
    this.rebirthAt = -1
  }

  /** The bootloader and the app's start-up, as ESP-IDF with rollback enabled does them. */
  private boot(now: number): void {
    this.powered = this.link = true
    const crashed = this.otadata === 'pending-verify' && !this.resetByPower
    this.host.each((r) => r.recordHealthEvent(this.id, crashed ? 'crash' : 'reboot', now))
    if (this.otadata === 'new') {
      this.otadata = 'pending-verify'
      this.version = NEW
      this.ota.state = 'verifying'
      this.task = this.crashes ? { kind: 'crash', at: now + this.random.int(2_000, 5_000) } : { kind: 'self-test', at: now + this.random.int(5_000, 30_000) }
    } else if (this.otadata === 'pending-verify') {
      this.otadata = 'valid'
      this.version = OLD
      this.ota = { ...this.ota, state: 'rolled-back', error: this.resetByPower ? 'interrupted' : 'boot-failed' }
    } else if (['downloading', 'installing', 'rebooting'].includes(this.ota.state)) {
      this.ota = { ...this.ota, state: 'idle', error: 'interrupted' }
    }
    this.birth(now)
  }

  private birth(now: number): void {
    this.host.each((r) => r.deviceOnline(this.id, now))
    this.host.each((r) => r.receiveMetrics(this.id, otaReportMetrics(this.full()), now))
  }
}

function fleetOf(n: number): FleetDevice[] {
  return Array.from({ length: n }, (_, i) => ({ id: `node-${String(i).padStart(4, '0')}`, group: `line-${i % 5}`, tags: [], firmwareVersion: OLD, online: true, chip: 'esp32s3' }))
}

function planFor(devices: number, seed: number, phases: PhaseSpec[], policy: Partial<DevicePolicy> = {}): RolloutPlan {
  const image = { version: NEW, chip: 'esp32s3', url: 'https://console.local/ota/fw-1.5.0.bin', sha256: 'ab'.repeat(32), size: 1_500_000 }
  const result = planRollout(fleetOf(devices), { rolloutId: 'r-snap', image, selection: {}, seed, phases, policy })
  if (!result.ok) throw new Error(result.refusal.detail)
  return result.plan
}

type OperatorAction = 'pause' | 'resume' | 'abort'

interface Scenario {
  devices: number
  seed: number
  faults: Faults
  crashes?: boolean
  phases: PhaseSpec[]
  policy?: Partial<DevicePolicy>
  /**
   * Simulated time between checkpoints. An operator action is always followed by one, and so is a device
   * followed again after an end state (the one order of the active set a restore could get wrong).
   */
  checkpointEveryMs: number
  /** Asked every simulated second; what it returns is done to the original and every twin. */
  operator?: (rollout: Rollout, now: number) => OperatorAction | null
  until: (rollout: Rollout) => boolean
  maxHours: number
}

interface Rolled {
  rollout: Rollout
  jitter: Jitter
}

/**
 * Runs the scenario with the original rollout in charge of the fleet. Every twin must produce exactly the
 * same effects, batch by batch, and at each checkpoint its snapshot must equal the original's.
 */
function runTwinned(s: Scenario) {
  const plan = planFor(s.devices, s.seed, s.phases, s.policy)
  const baselines = new Map(plan.targets.map((t, i) => [t.id, { reboots: i % 3, crashes: 0, overMs: 24 * 3_600_000 }]))
  const options = (jitter: Jitter) => ({ random: jitter.draw, baselines })
  const original: Rolled = { jitter: new Jitter(s.seed) } as Rolled
  original.rollout = new Rollout(plan, options(original.jitter))
  const twins: Rolled[] = []
  const snapshots: RolloutSnapshot[] = []
  const all = (f: (rollout: Rollout) => void) => {
    f(original.rollout)
    for (const t of twins) f(t.rollout)
  }
  const random = createRandom(s.seed)
  const nodes = new Map(plan.targets.map((t) => [t.id, new FakeNode(t.id, random.fork(t.id), s.faults, s.crashes ?? false, { each: all })]))
  let effects = 0

  /** Hands the original's commands to the nodes; true when a device was followed again after an end state. */
  const deliver = (now: number): boolean => {
    let reopened = false
    for (let batch = original.rollout.takeEffects(); ; batch = original.rollout.takeEffects()) {
      for (const t of twins) expect(t.rollout.takeEffects()).toEqual(batch)
      if (batch.length === 0) return reopened
      effects += batch.length
      for (const e of batch) {
        if (e.kind === 'command') nodes.get(e.deviceId)!.command(JSON.stringify(e.command), now)
        if (e.kind === 'device-state' && finalDeviceStates.has(e.previous) && !finalDeviceStates.has(e.state)) reopened = true
      }
    }
  }
  const checkpoint = () => {
    const snapshot = original.rollout.snapshot()
    for (const t of twins) expect(t.rollout.snapshot()).toEqual(snapshot)
    const stored: unknown = JSON.parse(JSON.stringify(snapshot))
    // Nothing lost on the way through JSON: no Infinity, no undefined, no Map or Set.
    expect(stored).toEqual(snapshot)
    const jitter = new Jitter(s.seed, original.jitter.calls)
    const twin = Rollout.restore(plan, stored, options(jitter))
    expect(twin.snapshot()).toEqual(snapshot)
    twins.push({ rollout: twin, jitter })
    snapshots.push(snapshot)
  }

  let now = T0
  original.rollout.start(now)
  deliver(now)
  checkpoint()
  const end = T0 + s.maxHours * 3_600_000
  while (now < end && !s.until(original.rollout)) {
    now += 1_000
    for (const node of nodes.values()) node.step(now)
    all((r) => r.tick(now))
    const action = s.operator?.(original.rollout, now) ?? null
    if (action !== null) all((r) => r[action](now))
    const reopened = deliver(now)
    if (action !== null || reopened || (now - T0) % s.checkpointEveryMs === 0) checkpoint()
  }
  return { plan, original, twins, snapshots, effects, now }
}

/** Every twin ends where the original ends, having drawn the same jitter. */
function expectSameEnd(run: ReturnType<typeof runTwinned>): void {
  const o = run.original.rollout
  for (const t of run.twins) {
    expect(t.rollout.status).toBe(o.status)
    expect(t.rollout.pausedBy).toBe(o.pausedBy)
    expect(t.rollout.currentPhase).toBe(o.currentPhase)
    expect(t.rollout.counts()).toEqual(o.counts())
    expect(t.rollout.stats).toEqual(o.stats)
    expect(t.rollout.isSettled()).toBe(o.isSettled())
    expect([...t.rollout.devices()]).toEqual([...o.devices()])
    expect(t.rollout.phases()).toEqual(o.phases())
    expect(t.jitter.calls).toBe(run.original.jitter.calls)
  }
}

const faults: Faults = { powerCut: 0.004, linkDrop: 0.006, brownout: 0.0002, commandLoss: 0.02, reportLoss: 0.02, corruptDownload: 0.02 }
const threePhases: PhaseSpec[] = [
  { kind: 'canary', devices: 3, soakMs: 5 * MIN },
  { kind: 'percentage', percent: 20, soakMs: 5 * MIN, gate: { maxFailureShare: 0.5 } },
  { kind: 'percentage', percent: 100, soakMs: 5 * MIN, gate: { maxFailureShare: 0.5 }, rate: { basePerMinute: 30, maxInFlight: 40 } },
]

describe('a restored rollout carries on exactly like the original', () => {
  it('through a faulty rollout with an operator pause, to completion', () => {
    let pausedAt = -1
    const run = runTwinned({
      devices: 300,
      seed: 11,
      faults,
      phases: threePhases,
      // Shorter than the longest link drop: devices given up as silent come back and are followed again.
      policy: { offlineGiveUpMs: 2 * MIN },
      checkpointEveryMs: 3 * MIN,
      operator: (r, now) => {
        if (pausedAt === -1 && r.phases()[2]!.state === 'rolling' && r.phases()[2]!.counts.succeeded >= 30) {
          pausedAt = now
          return 'pause'
        }
        return pausedAt !== -1 && now === pausedAt + 7 * MIN ? 'resume' : null
      },
      until: (r) => r.status === 'completed' && r.isSettled(),
      maxHours: 6,
    })
    expect(pausedAt).toBeGreaterThan(0)
    expect(run.original.rollout.status).toBe('completed')
    expect(run.twins.length).toBeGreaterThan(15)
    expect(run.effects).toBeGreaterThan(2_000)
    expectSameEnd(run)
    // The checkpoints caught the machine in the states worth persisting, not only at rest.
    const devices = run.snapshots.flatMap((s) => s.devices)
    expect(run.snapshots.some((s) => s.status === 'paused' && s.pausedBy === 'operator')).toBe(true)
    expect(devices.some((d) => d.startDueAt !== null && d.attempt > 0)).toBe(true)
    expect(new Set(devices.flatMap((d) => (d.deadline === null ? [] : [d.deadline.kind])))).toEqual(new Set(['ack', 'progress', 'verdict']))
    expect(devices.some((d) => !d.online && d.offlineSince !== null)).toBe(true)
    expect(devices.some((d) => d.checksumRetries > 0)).toBe(true)
    expect(devices.some((d) => d.soakReboots > 0)).toBe(true)
    expect(devices.some((d) => d.reason === 'silent')).toBe(true)
    // A device followed again after its end joins the active set last: an order the plan does not give.
    const inPlanOrder = (s: RolloutSnapshot) => {
      const at = s.devices.map((d) => d.id)
      return s.active.every((id, i) => i === 0 || at.indexOf(id) > at.indexOf(s.active[i - 1]!))
    }
    expect(run.snapshots.some((s) => !inPlanOrder(s))).toBe(true)
  })

  it('through an abort, while cancels are still unconfirmed, to aborted', () => {
    let aborted = false
    const run = runTwinned({
      devices: 200,
      seed: 5,
      faults: { ...faults, commandLoss: 0.15 },
      phases: threePhases,
      checkpointEveryMs: 2 * MIN,
      operator: (r) => {
        const last = r.phases()[2]!
        if (aborted || last.state !== 'rolling' || last.counts.succeeded < 30) return null
        aborted = true
        return 'abort'
      },
      until: (r) => r.status === 'aborted' && r.isSettled(),
      maxHours: 6,
    })
    expect(run.original.rollout.status).toBe('aborted')
    expectSameEnd(run)
    const atAbort = run.snapshots.find((s) => s.status === 'aborting' || s.status === 'aborted')!
    expect(atAbort.unconfirmedCancels.length).toBeGreaterThan(0)
    expect(atAbort.devices.some((d) => d.lastCancelAt !== null)).toBe(true)
  })
})

describe('a rollout stopped by its health gate', () => {
  const canaryOnly: PhaseSpec[] = [
    { kind: 'canary', devices: 3, soakMs: 5 * MIN },
    { kind: 'percentage', percent: 100, soakMs: 5 * MIN },
  ]
  const stopped = () =>
    runTwinned({
      devices: 40,
      seed: 3,
      faults: { powerCut: 0, linkDrop: 0, brownout: 0, commandLoss: 0, reportLoss: 0, corruptDownload: 0 },
      crashes: true,
      phases: canaryOnly,
      checkpointEveryMs: 60 * MIN,
      until: (r) => r.pausedBy === 'health-gate',
      maxHours: 2,
    })

  it('stays paused after a restore, with the same gate finding, and resumes over it', () => {
    const run = stopped()
    const o = run.original.rollout
    expect(o.pausedBy).toBe('health-gate')
    const snapshot = JSON.parse(JSON.stringify(o.snapshot())) as unknown
    const jitter = new Jitter(3, run.original.jitter.calls)
    const restored = Rollout.restore(run.plan, snapshot, { random: jitter.draw })
    expect(restored.status).toBe('paused')
    expect(restored.pausedBy).toBe('health-gate')
    expect(restored.phases()[0]!.state).toBe('gate-failed')
    expect(restored.phases()[0]!.lastGate).toEqual(o.phases()[0]!.lastGate)
    expect(restored.phases()[0]!.lastGate!.findings.map((f) => f.reason)).toContain('failure-share')

    // Time passing changes nothing: a gate-stopped rollout starts no one.
    let now = run.now
    for (let i = 0; i < 10; i++) restored.tick((now += MIN))
    expect(restored.takeEffects()).toEqual([])

    expect(restored.resume(now)).toBe(true)
    const resumed: RolloutEffect[] = restored.takeEffects()
    // The next phase's first starts go out after their jitter.
    for (let i = 0; i < 30; i++) restored.tick((now += 1_000))
    resumed.push(...restored.takeEffects())
    expect(restored.status).toBe('running')
    expect(resumed).toContainEqual(expect.objectContaining({ kind: 'phase', phase: 0, state: 'passed', overridden: true }))
    expect(resumed).toContainEqual(expect.objectContaining({ kind: 'phase', phase: 1, state: 'rolling' }))
    expect(resumed.some((e) => e.kind === 'command' && e.command.op === 'download')).toBe(true)
  })

  it('resumed in lockstep with the original, gives the same effects', () => {
    const run = stopped()
    const o = run.original.rollout
    const twin = run.twins.at(-1)!.rollout
    expect(twin.pausedBy).toBe('health-gate')
    let now = run.now + MIN
    o.resume(now)
    twin.resume(now)
    let commands = 0
    for (let i = 0; i < 120; i++) {
      const effects = o.takeEffects()
      expect(twin.takeEffects()).toEqual(effects)
      commands += effects.filter((e) => e.kind === 'command').length
      now += 1_000
      o.tick(now)
      twin.tick(now)
    }
    expect(twin.takeEffects()).toEqual(o.takeEffects())
    expect(commands).toBeGreaterThan(0)
    expect(twin.snapshot()).toEqual(o.snapshot())
  })
})

describe('restore refuses a snapshot it cannot continue, and says why', () => {
  const plan = planFor(5, 1, [{ kind: 'canary', devices: 2, soakMs: MIN }, { kind: 'percentage', percent: 100 }])
  const rollout = new Rollout(plan, { random: () => 0.5 })
  rollout.start(T0)
  // Past the canary's start jitter: both its devices have their download command.
  rollout.tick(T0 + 20_000)
  rollout.takeEffects()
  const good = rollout.snapshot()
  const ids = good.devices.map((d) => d.id)
  const canary = plan.phases[0]!.deviceIds[0]!
  const edited = (edit: (s: RolloutSnapshot) => void): unknown => {
    const copy = JSON.parse(JSON.stringify(good)) as RolloutSnapshot
    edit(copy)
    return copy
  }
  const without = <T extends object>(o: T, key: keyof T): T => {
    delete o[key]
    return o
  }
  const restore = (snapshot: unknown) => () => Rollout.restore(plan, snapshot, { random: () => 0.5 })

  it('restores the good one', () => {
    expect(good.devices.find((d) => d.id === canary)).toMatchObject({ state: 'notified', attempt: 1, job: 'r-snap/1' })
    expect(restore(good)().snapshot()).toEqual(good)
  })

  it.each<[string, unknown, string]>([
    ['not an object', null, 'the snapshot is null; expected an object'],
    ['another format', edited((s) => Object.assign(s, { format: 2 })), 'format is 2; this console reads format 1'],
    ['no format', edited((s) => without(s, 'format')), 'format is missing; this console reads format 1'],
    ['another rollout', edited((s) => (s.rolloutId = 'r-other')), 'rolloutId is "r-other"; the plan is of rollout r-snap'],
    ['an unknown device', edited((s) => (s.devices[4]!.id = 'node-9999')), 'devices[4] is node-9999, which is not a target of the plan'],
    ['a device missing', edited((s) => s.devices.splice(1, 1)), `devices has no record of ${ids[1]}, a target of the plan`],
    ['a device twice', edited((s) => s.devices.push(s.devices[0]!)), `devices[5] repeats ${ids[0]}`],
    [
      'a bad state name',
      edited((s) => Object.assign(s.devices[2]!, { state: 'flying' })),
      `devices[${ids[2]}].state is "flying"; expected one of queued, notified, downloading, downloaded, installing, rebooting, verifying, succeeded, rolled-back, failed, cancelled, skipped`,
    ],
    ['a missing counter', edited((s) => without(s.devices[0]!, 'resends')), `devices[${ids[0]}].resends is missing; expected a whole number >= 0`],
    ['a job of another attempt', edited((s) => (s.devices.find((d) => d.id === canary)!.job = 'r-snap/7')), `devices[${canary}].job is "r-snap/7"; attempt 1 has job "r-snap/1"`],
    ['a phase too few', edited((s) => s.phases.pop()), 'phases has 1 entries; the plan has 2 phases'],
    ['a paused rollout without a cause', edited((s) => (s.status = 'paused')), 'pausedBy is null while status is paused'],
    ['an active device left out', edited((s) => (s.active = s.active.filter((id) => id !== canary))), `active lacks ${canary}, which is notified in an opened phase`],
    ['an unknown device to cancel', edited((s) => (s.unconfirmedCancels = ['ghost'])), 'unconfirmedCancels names ghost, which is not a target of the plan'],
  ])('%s', (_, snapshot, message) => {
    expect(restore(snapshot)).toThrow(`Rollout snapshot: ${message}.`)
  })

  it('snapshot() refuses while effects wait to be taken', () => {
    const r = new Rollout(plan, { random: () => 0.5 })
    r.start(T0)
    expect(() => r.snapshot()).toThrow(/take its \d+ effect\(s\) before the snapshot/)
  })
})
