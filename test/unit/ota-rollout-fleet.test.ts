// The reliability goal of staged OTA, run against a fleet of fake ESP32 nodes that keep A/B slots and an
// otadata record the way ESP-IDF does, and that lose power and link at every step of an update. The
// rollout state machine only ever sees what the protocol carries (NCMD commands out, NBIRTH/NDATA
// metrics in, births and deaths), so what passes here is what the console would conclude in the field.
import { describe, expect, it } from 'vitest'
import { otaReportMetrics, parseOtaCommand, type OtaReport } from '../../shared/domain/ota/protocol'
import { Rollout, type RolloutEffect } from '../../shared/domain/ota/rollout'
import { planRollout, type FleetDevice, type PhaseSpec, type RolloutPlan } from '../../shared/domain/ota/rollout-plan'
import { createRandom, type Random } from '../../simulator/fleet/random'

const OLD = '1.4.2'
const NEW = '1.5.0'
const SHA = 'ab'.repeat(32)
const T0 = 1_700_000_000_000

type Slot = 'ota_0' | 'ota_1'
const other = (s: Slot): Slot => (s === 'ota_0' ? 'ota_1' : 'ota_0')

interface Faults {
  /** Chance, on entering each step (and each download progress step), of a power cut within the next 3 s. */
  powerCut: number
  /** Same, for the Wi-Fi/MQTT link dropping. */
  linkDrop: number
  /** Chance that a command (QoS 0) is lost even while the node is connected. */
  commandLoss: number
  /** Chance that an NDATA is lost; Sparkplug then repairs it with a rebirth a few seconds later. */
  reportLoss: number
  /** Chance that a finished download does not match its SHA-256. */
  corruptDownload: number
}

const noFaults: Faults = { powerCut: 0, linkDrop: 0, commandLoss: 0, reportLoss: 0, corruptDownload: 0 }

interface Tally {
  powerCuts: number
  linkDrops: number
  lostCommands: number
  lostReports: number
  corruptDownloads: number
  interruptedRollbacks: number
  crashRollbacks: number
  installsAfterAbort: number
}

interface Console {
  online(id: string, now: number): void
  offline(id: string, now: number): void
  report(id: string, report: OtaReport, now: number): void
}

/**
 * One ESP32 edge node. otadata is what the ROM bootloader reads: which slot to boot and whether that
 * image is new (first boot pending), pending verification, or valid. OTA/State and OTA/Job are kept in
 * NVS, so they survive resets the way the protocol asks.
 */
class FakeNode {
  images: Record<Slot, string | null> = { ota_0: OLD, ota_1: null }
  otadata: { boot: Slot; state: 'valid' | 'new' | 'pending-verify' } = { boot: 'ota_0', state: 'valid' }
  running: Slot = 'ota_0'
  ota: { state: string; job: string; progress: number; error: string } = { state: 'idle', job: '', progress: 0, error: '' }
  powered = true
  link = true
  powerBackAt = -1
  linkBackAt = -1
  cutAt = -1
  dropAt = -1
  rebirthAt = -1
  task: { kind: 'download'; nextAt: number; corrupt: boolean } | { kind: 'install' | 'reboot' | 'self-test' | 'crash'; at: number } | null = null
  /** Why the last reset happened, as esp_reset_reason() would tell the next boot. */
  resetCause: 'power' | 'panic' | 'software' = 'power'
  constructor(
    readonly id: string,
    private readonly random: Random,
    private readonly faults: Faults,
    private readonly crashes: boolean,
    private readonly tally: Tally,
    private readonly host: Console,
  ) {}

  get version(): string {
    return this.images[this.running]!
  }

  get connected(): boolean {
    return this.powered && this.link
  }

  fullReport(): OtaReport {
    return {
      state: this.ota.state as OtaReport['state'],
      job: this.ota.job,
      progress: this.ota.progress,
      error: this.ota.error === '' ? null : { code: 'other', text: this.ota.error },
      firmwareVersion: this.version,
      runningSlot: this.running,
    }
  }

  private setOta(state: string, now: number, extra: Partial<FakeNode['ota']> = {}): void {
    this.ota = { ...this.ota, state, ...extra }
    this.maybeFault(now)
    this.send({ state: state as OtaReport['state'], job: this.ota.job, progress: this.ota.progress, error: this.ota.error === '' ? null : { code: 'other', text: this.ota.error }, firmwareVersion: this.version }, now)
  }

  private send(report: OtaReport, now: number): void {
    if (!this.connected) return
    if (this.random.chance(this.faults.reportLoss)) {
      this.tally.lostReports++
      // The host sees the seq gap and asks for a rebirth; the NBIRTH carries everything again.
      this.rebirthAt = now + this.random.int(2_000, 8_000)
      return
    }
    this.host.report(this.id, report, now)
  }

  private maybeFault(now: number): void {
    if (this.cutAt === -1 && this.powered && this.random.chance(this.faults.powerCut)) this.cutAt = now + this.random.int(0, 3_000)
    if (this.dropAt === -1 && this.connected && this.random.chance(this.faults.linkDrop)) this.dropAt = now + this.random.int(0, 3_000)
  }

  command(text: string, now: number, afterAbort: boolean): void {
    if (!this.connected) return
    if (this.random.chance(this.faults.commandLoss)) {
      this.tally.lostCommands++
      return
    }
    const parsed = parseOtaCommand(text)
    if (!parsed.ok) throw new Error(parsed.detail)
    const c = parsed.command
    const busy = this.ota.state === 'installing' || this.ota.state === 'rebooting' || this.ota.state === 'verifying'
    switch (c.op) {
      case 'download':
        if (busy) return
        if (c.job === this.ota.job && (this.ota.state === 'downloading' || this.ota.state === 'downloaded')) {
          this.send(this.fullReport(), now)
          return
        }
        this.images[other(this.running)] = null
        this.task = { kind: 'download', nextAt: now + this.random.int(2_000, 9_000), corrupt: this.random.chance(this.faults.corruptDownload) }
        this.setOta('downloading', now, { job: c.job, progress: 0, error: '' })
        return
      case 'install':
        if (c.job === this.ota.job && this.ota.state === 'downloaded') {
          if (afterAbort) this.tally.installsAfterAbort++
          this.task = { kind: 'install', at: now + this.random.int(500, 2_500) }
          this.setOta('installing', now)
          return
        }
        if (c.job === this.ota.job && (busy || this.ota.state === 'succeeded' || this.ota.state === 'rolled-back')) return
        this.setOta('failed', now, { job: c.job, error: 'not-downloaded' })
        return
      case 'cancel':
        if (c.job !== this.ota.job || (this.ota.state !== 'downloading' && this.ota.state !== 'downloaded')) return
        this.task = null
        this.images[other(this.running)] = null
        this.setOta('idle', now, { error: 'cancelled' })
        return
    }
  }

  step(now: number): void {
    if (this.cutAt !== -1 && now >= this.cutAt) {
      this.cutAt = -1
      this.powerCut(now)
    }
    if (!this.powered) {
      if (now >= this.powerBackAt) this.boot(now)
      return
    }
    if (this.dropAt !== -1 && now >= this.dropAt) {
      this.dropAt = -1
      if (this.link) {
        this.tally.linkDrops++
        this.link = false
        this.linkBackAt = now + this.random.int(5_000, 150_000)
        this.host.offline(this.id, now)
      }
    }
    if (!this.link && now >= this.linkBackAt) {
      this.link = true
      this.birth(now)
    }
    if (this.rebirthAt !== -1 && now >= this.rebirthAt) {
      this.rebirthAt = -1
      if (this.connected) this.host.report(this.id, this.fullReport(), now)
    }
    const task = this.task
    if (task === null) return
    switch (task.kind) {
      case 'download':
        // The HTTP download needs the link; esp_https_ota resumes by range once it is back.
        if (!this.link || now < task.nextAt) return
        if (this.ota.progress < 100) {
          this.ota.progress = Math.min(100, this.ota.progress + 10)
          task.nextAt = now + this.random.int(2_000, 9_000)
          this.maybeFault(now)
          this.send({ job: this.ota.job, progress: this.ota.progress }, now)
          return
        }
        this.task = null
        if (task.corrupt) {
          this.tally.corruptDownloads++
          this.setOta('failed', now, { error: 'checksum-mismatch: image digest differs' })
          return
        }
        this.images[other(this.running)] = NEW
        this.setOta('downloaded', now)
        return
      case 'install':
        if (now < task.at) return
        this.otadata = { boot: other(this.running), state: 'new' }
        this.task = { kind: 'reboot', at: now + 1_000 }
        this.setOta('rebooting', now)
        return
      case 'reboot':
        if (now < task.at) return
        this.reset(now, 'software', 3_000)
        return
      case 'crash':
        if (now < task.at) return
        this.reset(now, 'panic', 2_000)
        return
      case 'self-test':
        if (now < task.at) return
        this.task = null
        this.otadata.state = 'valid'
        this.setOta('succeeded', now, { error: '' })
        return
    }
  }

  private powerCut(now: number): void {
    if (!this.powered) return
    this.tally.powerCuts++
    this.reset(now, 'power', this.random.int(5_000, 60_000))
  }

  private reset(now: number, cause: FakeNode['resetCause'], downFor: number): void {
    const wasConnected = this.connected
    this.powered = false
    this.powerBackAt = now + downFor
    this.resetCause = cause
    // Work in RAM is gone; a half-written passive slot is erased on the next download.
    if (this.task?.kind === 'download') this.images[other(this.running)] = null
    this.task = null
    this.cutAt = -1
    this.dropAt = -1
    this.rebirthAt = -1
    if (wasConnected) this.host.offline(this.id, now)
  }

  /** The ROM bootloader and then the app's start-up, as ESP-IDF with rollback enabled does them. */
  private boot(now: number): void {
    this.powered = true
    this.link = true
    if (this.otadata.state === 'new') {
      this.otadata.state = 'pending-verify'
      this.running = this.otadata.boot
      this.ota = { ...this.ota, state: 'verifying', error: '' }
      this.task = this.crashes ? { kind: 'crash', at: now + this.random.int(2_000, 5_000) } : { kind: 'self-test', at: now + this.random.int(5_000, 30_000) }
    } else if (this.otadata.state === 'pending-verify') {
      // The image reset before confirming itself: the bootloader marks it aborted and boots the other slot.
      const cause = this.resetCause === 'power' ? 'interrupted' : 'boot-failed'
      if (cause === 'interrupted') this.tally.interruptedRollbacks++
      else this.tally.crashRollbacks++
      this.images[this.otadata.boot] = null
      this.otadata = { boot: other(this.otadata.boot), state: 'valid' }
      this.running = this.otadata.boot
      this.ota = { ...this.ota, state: 'rolled-back', error: cause }
      this.task = null
    } else {
      this.running = this.otadata.boot
      if (this.ota.state === 'downloading' || this.ota.state === 'installing') this.ota = { ...this.ota, state: 'idle', error: 'interrupted' }
      else if (this.ota.state === 'rebooting') this.ota = { ...this.ota, state: 'idle', error: 'interrupted' }
      // `downloaded` survives: the image is whole in the passive slot and the state is in NVS.
    }
    this.birth(now)
    this.maybeFault(now)
  }

  private birth(now: number): void {
    if (!this.connected) return
    this.host.online(this.id, now)
    this.host.report(this.id, this.fullReport(), now)
  }
}

interface RunOptions {
  devices: number
  seed: number
  faults: Faults
  crashes?: boolean
  phases?: PhaseSpec[]
  /** Stop the run when this returns true (checked every simulated second). */
  until?: (rollout: Rollout, now: number) => boolean
  maxHours?: number
}

function fleetOf(n: number): FleetDevice[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `node-${String(i).padStart(4, '0')}`,
    group: `line-${i % 7}`,
    tags: i % 3 === 0 ? ['pilot'] : [],
    firmwareVersion: OLD,
    online: true,
    chip: 'esp32s3',
  }))
}

function runFleet(options: RunOptions) {
  const random = createRandom(options.seed)
  const fleet = fleetOf(options.devices)
  const result = planRollout(fleet, {
    rolloutId: 'r-fleet',
    image: { version: NEW, chip: 'esp32s3', url: 'https://console.local/ota/fw-1.5.0.bin', sha256: SHA, size: 1_500_000 },
    selection: {},
    seed: options.seed,
    phases: options.phases ?? [
      { kind: 'canary', devices: 3, soakMs: 10 * 60_000 },
      { kind: 'percentage', percent: 5, soakMs: 10 * 60_000 },
      { kind: 'percentage', percent: 25, soakMs: 10 * 60_000 },
      { kind: 'percentage', percent: 100, soakMs: 10 * 60_000, rate: { maxInFlight: 100 } },
    ],
  })
  if (!result.ok) throw new Error(result.refusal.detail)
  const plan: RolloutPlan = result.plan
  const rollout = new Rollout(plan, { random: random.fork('console').next })
  const tally: Tally = { powerCuts: 0, linkDrops: 0, lostCommands: 0, lostReports: 0, corruptDownloads: 0, interruptedRollbacks: 0, crashRollbacks: 0, installsAfterAbort: 0 }
  const effects: RolloutEffect[] = []
  const host: Console = {
    online: (id, now) => rollout.deviceOnline(id, now),
    offline: (id, now) => rollout.deviceOffline(id, now),
    // Through the real metric encoding, so the console parses exactly what a node would send.
    report: (id, report, now) => {
      rollout.receiveMetrics(id, otaReportMetrics(report), now)
    },
  }
  const nodes = new Map(fleet.map((d) => [d.id, new FakeNode(d.id, random.fork(d.id), options.faults, options.crashes ?? false, tally, host)]))
  /** Index in `effects` of the abort, so "after the abort" means after it in the console's own order. */
  let abortIndex = -1
  const deliver = (now: number) => {
    // Commands can make nodes report, which can make the console command again: drain to a fixed point.
    for (let batch = rollout.takeEffects(); batch.length > 0; batch = rollout.takeEffects()) {
      for (const e of batch) {
        effects.push(e)
        if (e.kind === 'rollout-state' && e.state === 'aborting' && abortIndex === -1) abortIndex = effects.length - 1
        if (e.kind === 'command') nodes.get(e.deviceId)!.command(JSON.stringify(e.command), now, abortIndex !== -1)
      }
    }
  }
  let now = T0
  rollout.start(now)
  deliver(now)
  const end = T0 + (options.maxHours ?? 12) * 3_600_000
  let quietSince = -1
  while (now < end) {
    now += 1_000
    for (const node of nodes.values()) node.step(now)
    rollout.tick(now)
    deliver(now)
    if (options.until?.(rollout, now)) break
    const over =
      ((rollout.status === 'completed' || rollout.status === 'aborted') && rollout.isSettled()) || (rollout.status === 'paused' && rollout.pausedBy === 'health-gate')
    const quiet = over && [...nodes.values()].every((n) => n.task === null && n.connected)
    // Quiet for a while, so late cancels and rebirths have had their chance to land.
    if (!quiet) quietSince = -1
    else if (quietSince === -1) quietSince = now
    else if (now - quietSince >= 10 * 60_000) break
  }
  return { rollout, plan, nodes, tally, effects, now, abortIndex: () => abortIndex }
}

describe('a rollout to 1,000 nodes with power cuts and link drops at every step', () => {
  const faults: Faults = { powerCut: 0.02, linkDrop: 0.03, commandLoss: 0.01, reportLoss: 0.01, corruptDownload: 0.01 }
  const run = runFleet({ devices: 1_000, seed: 20_240_611, faults })

  it('completes, every phase through its health gate', () => {
    expect(run.rollout.status).toBe('completed')
    expect(run.rollout.phases().map((p) => p.state)).toEqual(['passed', 'passed', 'passed', 'passed'])
    expect(run.rollout.phases().map((p) => p.deviceIds.length)).toEqual([3, 50, 200, 747])
  })

  it('met the faults it was meant to meet', () => {
    const t = run.tally
    expect(t.powerCuts).toBeGreaterThan(200)
    expect(t.linkDrops).toBeGreaterThan(300)
    expect(t.lostCommands).toBeGreaterThan(20)
    expect(t.lostReports).toBeGreaterThan(20)
    expect(t.corruptDownloads).toBeGreaterThan(3)
    expect(t.interruptedRollbacks).toBeGreaterThan(3)
    expect(run.rollout.stats.retries).toBeGreaterThan(50)
    expect(run.rollout.stats.resends).toBeGreaterThan(10)
  })

  it('leaves 0 stuck: every device in an end state, every node idle with a valid image', () => {
    expect(run.rollout.isSettled()).toBe(true)
    const stuck = [...run.rollout.devices()].filter((d) => !['succeeded', 'rolled-back', 'failed', 'cancelled', 'skipped'].includes(d.state))
    expect(stuck).toEqual([])
    for (const node of run.nodes.values()) {
      expect(node.powered).toBe(true)
      expect(node.task).toBeNull()
      expect(node.otadata.state).toBe('valid')
    }
  })

  it('leaves 0 bricked: every node boots a known-good image, and the console knows which', () => {
    let updated = 0
    for (const d of run.rollout.devices()) {
      const node = run.nodes.get(d.id)!
      // What the bootloader will boot next time is what runs now, and it is one of the two known images.
      expect(node.otadata.boot).toBe(node.running)
      expect(node.images[node.running]).not.toBeNull()
      if (d.state === 'succeeded') {
        updated++
        expect(node.version).toBe(NEW)
        expect(d.firmwareVersion).toBe(NEW)
      } else {
        expect(node.version).toBe(OLD)
      }
    }
    // Retries absorb most environmental failures; the rest stayed on the old image and say why.
    expect(updated).toBeGreaterThan(950)
    for (const d of run.rollout.devices()) {
      if (d.state === 'succeeded') continue
      expect(['failed', 'rolled-back']).toContain(d.state)
      expect(d.reason).toBe('interrupted')
      expect(d.attempt).toBe(run.plan.policy.maxAttempts)
    }
  })

  it('never lets the console and a node disagree, and ignores nothing it should not', () => {
    expect(run.rollout.stats.protocolProblems).toBe(0)
    // Two hours of simulated time for the four phases with their soaks.
    expect(run.now - T0).toBeLessThan(3 * 3_600_000)
  })
})

describe('an image that crashes on boot', () => {
  const faults: Faults = { powerCut: 0.02, linkDrop: 0.03, commandLoss: 0.01, reportLoss: 0.01, corruptDownload: 0 }
  const run = runFleet({ devices: 200, seed: 7, faults, crashes: true })
  const canary = run.plan.phases[0]!.deviceIds

  it('rolls back every canary device, each by its bootloader, and says why', () => {
    expect(canary).toHaveLength(3)
    for (const id of canary) {
      const d = run.rollout.device(id)!
      expect(d.state).toBe('rolled-back')
      expect(d.reason).toBe('boot-failed')
      expect(run.nodes.get(id)!.version).toBe(OLD)
      expect(run.nodes.get(id)!.otadata).toEqual({ boot: run.nodes.get(id)!.running, state: 'valid' })
    }
    expect(run.tally.crashRollbacks).toBeGreaterThanOrEqual(3)
  })

  it('stops at the canary by its health gate: nothing else starts', () => {
    const gates = run.effects.filter((e) => e.kind === 'gate')
    expect(gates).toHaveLength(1)
    const gate = gates[0]!
    expect(gate).toMatchObject({ phase: 0, name: 'canary', passed: false, early: false })
    expect(gate.findings.map((f) => f.reason)).toContain('failure-share')
    expect(run.rollout.status).toBe('paused')
    expect(run.rollout.pausedBy).toBe('health-gate')
    expect(run.rollout.phases().map((p) => p.state)).toEqual(['gate-failed', 'pending', 'pending', 'pending'])
    const commanded = new Set(run.effects.filter((e) => e.kind === 'command').map((e) => e.deviceId))
    expect([...commanded].sort()).toEqual([...canary].sort())
    for (const [id, node] of run.nodes) if (!canary.includes(id)) expect(node.ota.job).toBe('')
  })
})

describe('abort in the middle of a faulty rollout', () => {
  const faults: Faults = { powerCut: 0.02, linkDrop: 0.03, commandLoss: 0.01, reportLoss: 0.01, corruptDownload: 0.01 }
  let abortAt = -1
  const run = runFleet({
    devices: 300,
    seed: 99,
    faults,
    phases: [
      { kind: 'canary', devices: 3, soakMs: 60_000 },
      { kind: 'percentage', percent: 100, soakMs: 60_000, rate: { basePerMinute: 60, maxInFlight: 80 } },
    ],
    until: (rollout, now) => {
      if (abortAt === -1 && rollout.phases()[1]!.state === 'rolling' && rollout.counts().succeeded >= 60) {
        abortAt = now
        rollout.abort(now)
      }
      return false
    },
    maxHours: 3,
  })

  it('ends aborted with nothing half-done and no install after the abort', () => {
    expect(abortAt).toBeGreaterThan(0)
    expect(run.rollout.status).toBe('aborted')
    expect(run.rollout.isSettled()).toBe(true)
    expect(run.abortIndex()).toBeGreaterThan(0)
    const installsAfter = run.effects.slice(run.abortIndex()).filter((e) => e.kind === 'command' && e.command.op !== 'cancel')
    expect(installsAfter).toEqual([])
    expect(run.tally.installsAfterAbort).toBe(0)
    const counts = run.rollout.counts()
    expect(counts.cancelled).toBeGreaterThan(100)
    for (const d of run.rollout.devices()) {
      const node = run.nodes.get(d.id)!
      expect(node.otadata.state).toBe('valid')
      expect(node.version).toBe(d.state === 'succeeded' ? NEW : OLD)
      // Nothing half-done: no node is left holding a download of the aborted rollout.
      expect(['downloading', 'downloaded', 'installing', 'rebooting', 'verifying']).not.toContain(node.ota.state)
    }
  })
})

// Keep the fake honest: without faults it updates everyone and its otadata bookkeeping holds.
describe('the fake node model', () => {
  it('updates a small fleet cleanly without faults', () => {
    const run = runFleet({ devices: 20, seed: 3, faults: noFaults })
    expect(run.rollout.status).toBe('completed')
    expect(run.rollout.counts().succeeded).toBe(20)
    for (const node of run.nodes.values()) expect(node.otadata).toEqual({ boot: node.running, state: 'valid' })
  })
})

// The same invariants over other seeds and harsher faults, where the outcome differs run to run (an
// environmental failure in a canary of three is enough to stop at its gate) but the guarantees do not.
describe('the guarantees hold across seeds and harsher faults', () => {
  const heavy: Faults = { powerCut: 0.06, linkDrop: 0.08, commandLoss: 0.05, reportLoss: 0.05, corruptDownload: 0.03 }
  const twoPhases = (extra: Partial<Extract<PhaseSpec, { kind: 'percentage' }>> = {}): PhaseSpec[] => [
    { kind: 'canary', devices: 3, soakMs: 60_000 },
    { kind: 'percentage', percent: 100, soakMs: 60_000, gate: { maxFailureShare: 0.5 }, rate: { maxInFlight: 100 }, ...extra },
  ]

  /** Whatever happened, every node boots a known-good image the console knows about, and nothing is half-done. */
  function expectKnownGood(run: ReturnType<typeof runFleet>): void {
    const gateStopped = run.rollout.status === 'paused' && run.rollout.pausedBy === 'health-gate'
    expect(run.rollout.status === 'completed' || run.rollout.status === 'aborted' || gateStopped).toBe(true)
    for (const d of run.rollout.devices()) {
      const node = run.nodes.get(d.id)!
      expect(node.otadata).toEqual({ boot: node.running, state: 'valid' })
      expect(node.version).toBe(d.state === 'succeeded' ? NEW : OLD)
      expect(['downloading', 'downloaded', 'installing', 'rebooting', 'verifying']).not.toContain(node.ota.state)
      // Stopped at a gate, later phases wait queued, untouched; otherwise every device has ended.
      if (!(gateStopped && d.state === 'queued' && d.attempt === 0)) expect(['succeeded', 'rolled-back', 'failed', 'cancelled', 'skipped']).toContain(d.state)
    }
    expect(run.rollout.stats.protocolProblems).toBe(0)
    expect(run.tally.installsAfterAbort).toBe(0)
  }

  it.each([1, 2, 3, 4])('1,000 nodes, seed %i', (seed) => {
    expectKnownGood(runFleet({ devices: 1_000, seed, faults: { powerCut: 0.02, linkDrop: 0.03, commandLoss: 0.01, reportLoss: 0.01, corruptDownload: 0.01 } }))
  })

  it.each([1, 2])('500 nodes under heavy faults, seed %i', (seed) => {
    const run = runFleet({ devices: 500, seed, faults: heavy, phases: twoPhases() })
    expectKnownGood(run)
    expect(run.rollout.status).toBe('completed')
  })

  it.each([1, 2, 3])('a crashing image under heavy faults never gets past its canary, seed %i', (seed) => {
    const run = runFleet({ devices: 100, seed, faults: heavy, crashes: true })
    expectKnownGood(run)
    expect(run.rollout.pausedBy).toBe('health-gate')
    expect(run.rollout.counts().succeeded).toBe(0)
    expect(run.rollout.phases().slice(1).every((p) => p.state === 'pending')).toBe(true)
  })

  it.each([2, 3, 6])('an abort under heavy faults, seed %i', (seed) => {
    let aborted = false
    const run = runFleet({
      devices: 300,
      seed,
      faults: heavy,
      phases: twoPhases({ rate: { basePerMinute: 60, maxInFlight: 80 } }),
      until: (rollout, now) => {
        if (!aborted && rollout.phases()[1]!.state === 'rolling' && rollout.counts().succeeded >= 40 + seed * 10) aborted = rollout.abort(now)
        return false
      },
      maxHours: 4,
    })
    expect(aborted).toBe(true)
    expect(run.rollout.status).toBe('aborted')
    expectKnownGood(run)
    expect(run.effects.slice(run.abortIndex()).filter((e) => e.kind === 'command' && e.command.op !== 'cancel')).toEqual([])
  })
})
