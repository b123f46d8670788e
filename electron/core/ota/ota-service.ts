import type { RolloutDetail, RolloutLogEntry, RolloutPreview, RolloutRequest, RolloutSummary } from '../../../shared/contract'
import { otaCommandPublish, otaMetricNames, type OtaCommand } from '../../../shared/domain/ota/protocol'
import { finalDeviceStates, Rollout, type HealthBaseline, type RolloutEffect } from '../../../shared/domain/ota/rollout'
import { planRollout, type RolloutPlan } from '../../../shared/domain/ota/rollout-plan'
import type { HostEffect } from '../../../shared/domain/sparkplug/host-application'
import type { Metric } from '../../../shared/domain/sparkplug/payload'
import { encodePayload } from '../../../shared/wire/sparkplug'
import type { AuditLog } from '../audit-log'
import type { EventHub } from '../event-hub'
import { ContractFailure } from '../failure'
import type { FleetService } from '../fleet/fleet-service'
import type { Logger } from '../log'
import type { OpenStore } from '../store/store'
import type { ArtifactStore } from './artifact-store'
import { DeliveryServer } from './delivery-server'
import { bootJitterMs, bootTime, resetKind, rolloutCandidate } from './fleet-health'
import { deviceRow, phaseSpecs, previewView, summaryView, type RolloutRecord } from './rollout-views'

export interface OtaServiceOptions {
  store: OpenStore
  artifacts: ArtifactStore
  events: EventHub
  audit: AuditLog
  log: Logger
  now: () => number
  random?: () => number
  publish(topic: string, payload: Uint8Array): Promise<void>
  fleet: Pick<FleetService, 'edgeNodes' | 'rebootsInLastDay'>
  delivery: {
    /** Address the file server binds: loopback unless devices on the plant network must reach it. */
    bindHost: string
    /** Address devices are told to fetch from (the console as they see it). */
    advertisedHost: () => string
    port?: number
    /** Downloads at once and the site uplink's share for updates. */
    maxConcurrent?: number
    bandwidthBytesPerSecond?: number
  }
  tickMs?: number
}

interface RolloutRow {
  id: string
  created_at: number
  updated_at: number
  operator: string
  artifact: string
  file_name: string
  version: string
  status: string
  detail: string
  plan: string
  snapshot: string
}

interface LiveRollout {
  record: RolloutRecord
  rollout: Rollout
  /** Each device's download token for its current attempt: revoked when the attempt ends or is cancelled. */
  tokens: Map<string, string>
  /** When each target last booted, from its births: a later boot during a soak is a reboot or a crash. */
  boots: Map<string, number>
  changed: boolean
  savedAt: number
}

const dayMs = 24 * 60 * 60_000
const tokenLifetimeMs = dayMs
/** History shown and kept live in memory; older rollouts stay in the database. */
const historyLimit = 50
const logLimit = 500

/**
 * Staged OTA in the core: plans and starts rollouts of verified artifacts, feeds each rollout's state
 * machine with what the Sparkplug host hears from its targets, sends its commands as NCMDs with a
 * per-device download link from the delivery server, and keeps every rollout in SQLite so a console
 * that restarts carries on exactly where it stood.
 */
export class OtaService {
  private readonly live = new Map<string, LiveRollout>()
  /** Targets of rollouts that have not ended, by edge node key: what a host effect is checked against. */
  private readonly byDevice = new Map<string, LiveRollout>()
  private delivery: DeliveryServer | null = null
  private deliveryStarting: Promise<DeliveryServer> | null = null
  private readonly published = new Set<string>()
  private readonly timer: NodeJS.Timeout
  private readonly random: () => number
  private readonly saveRollout
  private readonly appendLog

  constructor(private readonly options: OtaServiceOptions) {
    this.random = options.random ?? Math.random
    const db = options.store.db
    this.saveRollout = db.prepare(`
      INSERT INTO ota_rollouts (id, created_at, updated_at, operator, artifact, file_name, version, status, detail, plan, snapshot)
      VALUES (@id, @createdAt, @updatedAt, @operator, @artifact, @fileName, @version, @status, @detail, @plan, @snapshot)
      ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, status = excluded.status, detail = excluded.detail, snapshot = excluded.snapshot`)
    this.appendLog = db.prepare('INSERT INTO ota_rollout_log (rollout_id, at, kind, device_id, detail) VALUES (?, ?, ?, ?, ?)')
    this.restore()
    this.timer = setInterval(() => this.tick(), options.tickMs ?? 1000)
  }

  /** The delivery server's address as bound (tests and the status line). */
  get deliveryOrigin(): string | null {
    return this.delivery?.origin ?? null
  }

  preview(request: RolloutRequest): RolloutPreview {
    return previewView(this.plan(request, 'preview').plan)
  }

  async start(request: RolloutRequest, operator: string): Promise<RolloutSummary> {
    const { plan, fileName } = this.plan(request, this.newId())
    await this.serve(plan.image.sha256)
    const now = this.options.now()
    const rollout = new Rollout(plan, { random: this.random, baselines: this.baselines(plan) })
    const live = this.adopt({ id: plan.rolloutId, artifact: plan.image.sha256, fileName, operator, createdAt: now, updatedAt: now, detail: 'Ready.' }, rollout)
    for (const node of this.options.fleet.edgeNodes()) {
      if (this.byDevice.get(node.ref.key) !== live) continue
      const boot = bootTime([...node.metrics.values()], node.birthAt ?? now)
      if (boot !== null) live.boots.set(node.ref.key, boot)
    }
    this.options.audit.perform(
      { actor: operator, action: 'start rollout', target: plan.rolloutId, detail: `${plan.image.version} (${fileName}) to ${plan.targets.length} device(s) in ${plan.phases.map((p) => `${p.name}: ${p.deviceIds.length}`).join(', ')}` },
      () => {
        rollout.start(now)
        this.log(live, now, 'operator', null, `Started by ${operator}.`)
        this.apply(live, rollout.takeEffects())
        this.save(live, true)
      },
    )
    return this.push(live)
  }

  pause(id: string, operator: string): RolloutSummary {
    return this.operate(id, operator, 'pause rollout', (rollout, now) => rollout.pause(now), 'It is not running.')
  }

  resume(id: string, operator: string): RolloutSummary {
    const live = this.find(id)
    const gate = live.rollout.pausedBy === 'health-gate'
    // Resuming over a failed gate is an override: the audit log says so in words, not only in the state.
    return this.operate(id, operator, gate ? 'resume rollout over a failed health gate' : 'resume rollout', (rollout, now) => rollout.resume(now), 'It is not paused.')
  }

  abort(id: string, operator: string): RolloutSummary {
    return this.operate(id, operator, 'abort rollout', (rollout, now) => rollout.abort(now), 'It has already ended.')
  }

  list(): RolloutSummary[] {
    return [...this.live.values()].sort((a, b) => b.record.createdAt - a.record.createdAt).map((live) => summaryView(live.record, live.rollout))
  }

  detail(id: string): RolloutDetail {
    const live = this.find(id)
    const log = this.options.store.db.prepare('SELECT at, kind, device_id, detail FROM ota_rollout_log WHERE rollout_id = ? ORDER BY id DESC LIMIT ?').all(id, logLimit) as { at: number; kind: RolloutLogEntry['kind']; device_id: string | null; detail: string }[]
    return {
      summary: summaryView(live.record, live.rollout),
      devices: [...live.rollout.devices()].map(deviceRow),
      excluded: live.rollout.plan.excluded.map((e) => ({ deviceId: e.deviceId, reason: e.reason, detail: e.detail })),
      log: log.map((row) => ({ at: row.at, kind: row.kind, deviceId: row.device_id, detail: row.detail })),
    }
  }

  /** Host effects from the fleet: births, data and deaths of edge nodes that are targets of a rollout. */
  observe(effects: readonly HostEffect[]): void {
    if (this.byDevice.size === 0) return
    for (const effect of effects) {
      if (effect.kind === 'publish' || effect.kind === 'protocol-error' || effect.target.deviceId !== null) continue
      const key = effect.target.key
      const live = this.byDevice.get(key)
      if (!live) continue
      const rollout = live.rollout
      switch (effect.kind) {
        case 'birth': {
          this.noteBoot(live, key, effect.metrics, effect.at)
          // The host reports the birth before its `online`, but the rollout must hear that the device is
          // back first: receiving the birth's report marks it online, and deviceOnline() would then skip
          // resending what was lost while it was away (an install, a download), leaving it to the ack timeout.
          rollout.deviceOnline(key, effect.at)
          rollout.receiveMetrics(key, asMetrics(effect.metrics), effect.at)
          break
        }
        case 'data': {
          if (!effect.metrics.some((m) => otaMetric.has(m.name))) continue
          rollout.receiveMetrics(key, asMetrics(effect.metrics), effect.at)
          break
        }
        case 'lifecycle':
          if (effect.event === 'online') rollout.deviceOnline(key, effect.at)
          else if (effect.event === 'offline') rollout.deviceOffline(key, effect.at)
          else continue
          break
        case 'stale':
          continue
      }
      this.apply(live, rollout.takeEffects())
    }
  }

  async dispose(): Promise<void> {
    clearInterval(this.timer)
    for (const live of this.live.values()) if (live.changed) this.save(live, true)
    await this.delivery?.stop({ graceMs: 500 })
  }

  // ---- planning ---------------------------------------------------------------------------------------

  private plan(request: RolloutRequest, rolloutId: string): { plan: RolloutPlan; fileName: string } {
    const artifact = this.options.artifacts.list().find((a) => a.sha256 === request.artifact)
    if (!artifact) throw new ContractFailure('NOT_FOUND', `No artifact ${request.artifact.slice(0, 12)}…; import the image on the Updates screen first.`)
    const active = new Map<string, string>()
    for (const [deviceId, live] of this.byDevice) active.set(deviceId, live.record.id)
    const phases = phaseSpecs(request.phases)
    const result = planRollout([...this.options.fleet.edgeNodes()].map(rolloutCandidate), {
      rolloutId,
      image: { version: artifact.version, chip: artifact.chip, url: `/ota/${artifact.sha256}.bin`, sha256: artifact.sha256, size: artifact.size },
      selection: request.selection,
      seed: request.seed ?? Math.floor(this.random() * 0x1_0000_0000),
      activeRollouts: active,
      ...(phases ? { phases } : {}),
    })
    if (!result.ok) {
      const code = result.refusal.reason === 'devices-in-active-rollout' ? 'CONFLICT' : 'INVALID_PARAMS'
      throw new ContractFailure(code, result.refusal.detail)
    }
    return { plan: result.plan, fileName: artifact.fileName }
  }

  /** Each target's reboots over the last day: the normal its soak is compared with. */
  private baselines(plan: RolloutPlan): Map<string, HealthBaseline> {
    return new Map(plan.targets.map((t) => [t.id, { reboots: this.options.fleet.rebootsInLastDay(t.id), crashes: 0, overMs: dayMs }]))
  }

  private newId(): string {
    const stamp = new Date(this.options.now()).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
    let id = `R${stamp}`
    for (let n = 2; this.live.has(id) || this.options.store.db.prepare('SELECT 1 FROM ota_rollouts WHERE id = ?').get(id); n++) id = `R${stamp}-${n}`
    return id
  }

  // ---- running ----------------------------------------------------------------------------------------

  private operate(id: string, operator: string, action: string, act: (rollout: Rollout, now: number) => boolean, refusal: string): RolloutSummary {
    const live = this.find(id)
    const now = this.options.now()
    this.options.audit.perform({ actor: operator, action, target: id }, () => {
      if (!act(live.rollout, now)) throw new ContractFailure('CONFLICT', `Rollout ${id} is ${live.rollout.status}: ${refusal}`)
      this.log(live, now, 'operator', null, `${action[0]!.toUpperCase()}${action.slice(1)} by ${operator}.`)
      this.apply(live, live.rollout.takeEffects())
      // The operator was told it happened: it must survive a crash from this moment.
      this.save(live, true)
    })
    return this.push(live)
  }

  private tick(): void {
    const now = this.options.now()
    for (const live of this.live.values()) {
      if (isEnded(live.rollout)) continue
      live.rollout.tick(now)
      this.apply(live, live.rollout.takeEffects())
    }
    for (const live of this.live.values()) {
      if (!live.changed) continue
      this.push(live)
      if (now - live.savedAt >= 1000) this.save(live, false)
    }
  }

  private apply(live: LiveRollout, effects: RolloutEffect[]): void {
    if (effects.length === 0) return
    live.changed = true
    live.record.updatedAt = this.options.now()
    for (const effect of effects) {
      switch (effect.kind) {
        case 'command':
          this.send(live, effect.deviceId, effect.command, effect.at)
          break
        case 'device-state':
          if (finalDeviceStates.has(effect.state)) {
            this.revoke(live, effect.deviceId)
            this.log(live, effect.at, 'device', effect.deviceId, `${effect.state}${effect.reason ? ` (${effect.reason})` : ''}${effect.detail ? `: ${effect.detail}` : ''}`)
          }
          break
        case 'phase':
          this.log(live, effect.at, 'phase', null, `${effect.name}: ${effect.state}${effect.overridden ? ' (operator override)' : ''}`)
          break
        case 'gate': {
          const words = effect.passed ? `${effect.name} health gate passed.` : `${effect.name} health gate failed${effect.early ? ' early' : ''}: ${effect.findings.map((f) => f.detail).join(' ')}`
          this.log(live, effect.at, 'gate', null, words)
          if (!effect.passed) this.options.audit.note({ actor: 'console', action: 'halt rollout at health gate', target: live.record.id, detail: words, outcome: 'ok' })
          break
        }
        case 'rollout-state':
          live.record.detail = effect.detail
          this.log(live, effect.at, 'status', null, `${effect.previous} → ${effect.state}: ${effect.detail}`)
          break
        case 'protocol-problem':
          this.log(live, effect.at, 'problem', effect.deviceId, `${effect.problem}: ${effect.detail}`)
          break
      }
    }
    if (isEnded(live.rollout)) this.release(live)
  }

  /** An NCMD to the target's edge node; a download carries the device's own link to the image. */
  private send(live: LiveRollout, deviceId: string, command: OtaCommand, at: number): void {
    const [groupId, edgeNodeId] = deviceId.split('/') as [string, string]
    let sent = command
    if (command.op === 'download') {
      const delivery = this.delivery
      if (!delivery) {
        // Only a restored rollout can get here before its server is up; the rollout resends after its ack timeout.
        this.options.log.warn(`OTA: download for ${deviceId} held back: the file server is not up yet`)
        return
      }
      this.revoke(live, deviceId)
      const token = delivery.issueToken({ deviceId, artifactId: live.record.artifact, expiresAt: at + tokenLifetimeMs })
      live.tokens.set(deviceId, token)
      sent = { ...command, url: delivery.urlFor(token, this.options.delivery.advertisedHost()) }
    } else if (command.op === 'cancel') {
      this.revoke(live, deviceId)
    }
    const publish = otaCommandPublish(groupId, edgeNodeId, sent, at)
    this.options.publish(publish.topic, encodePayload(publish.payload)).catch((error: Error) => this.options.log.warn(`OTA: ${command.op} for ${deviceId} not sent: ${error.message}`))
  }

  private revoke(live: LiveRollout, deviceId: string): void {
    const token = live.tokens.get(deviceId)
    if (token === undefined) return
    live.tokens.delete(deviceId)
    this.delivery?.revokeToken(token)
  }

  private noteBoot(live: LiveRollout, key: string, metrics: BirthMetrics, at: number): void {
    const boot = bootTime(metrics, at)
    if (boot === null) return
    const previous = live.boots.get(key)
    live.boots.set(key, boot)
    if (previous !== undefined && boot > previous + bootJitterMs) live.rollout.recordHealthEvent(key, resetKind(metrics), boot)
  }

  /** An ended rollout no longer holds its devices: the next rollout may take them. */
  private release(live: LiveRollout): void {
    for (const deviceId of live.tokens.keys()) this.revoke(live, deviceId)
    for (const [deviceId, holder] of this.byDevice) if (holder === live) this.byDevice.delete(deviceId)
  }

  private async serve(sha256: string): Promise<void> {
    const delivery = await this.startDelivery()
    if (this.published.has(sha256)) return
    // Verified against the release key again here: the file on disk is what devices will get.
    const { manifest, file } = this.options.artifacts.readVerified(sha256)
    await delivery.publish({ id: sha256, filePath: file, sha256: manifest.sha256, size: manifest.size })
    this.published.add(sha256)
  }

  private startDelivery(): Promise<DeliveryServer> {
    this.deliveryStarting ??= (async () => {
      const { bindHost, port, maxConcurrent, bandwidthBytesPerSecond } = this.options.delivery
      const server = new DeliveryServer({
        host: bindHost,
        port: port ?? 0,
        now: this.options.now,
        log: this.options.log,
        ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
        ...(bandwidthBytesPerSecond !== undefined ? { bandwidthBytesPerSecond } : {}),
      })
      await server.start()
      this.delivery = server
      return server
    })()
    return this.deliveryStarting
  }

  // ---- keeping --------------------------------------------------------------------------------------------

  private adopt(record: RolloutRecord, rollout: Rollout): LiveRollout {
    const live: LiveRollout = { record, rollout, tokens: new Map(), boots: new Map(), changed: true, savedAt: 0 }
    this.live.set(record.id, live)
    if (!isEnded(rollout)) for (const target of rollout.plan.targets) this.byDevice.set(target.id, live)
    return live
  }

  private save(live: LiveRollout, now: boolean): void {
    const row = {
      ...live.record,
      version: live.rollout.plan.image.version,
      status: live.rollout.status,
      plan: JSON.stringify(live.rollout.plan),
      snapshot: JSON.stringify(live.rollout.snapshot()),
    }
    const write = () => this.saveRollout.run(row)
    if (now) this.options.store.writer.now(write)
    else this.options.store.writer.enqueue(write)
    live.savedAt = this.options.now()
  }

  private log(live: LiveRollout, at: number, kind: RolloutLogEntry['kind'], deviceId: string | null, detail: string): void {
    this.options.store.writer.enqueue(() => this.appendLog.run(live.record.id, at, kind, deviceId, detail))
  }

  private push(live: LiveRollout): RolloutSummary {
    live.changed = false
    const summary = summaryView(live.record, live.rollout)
    this.options.events.set('ota.rollouts', live.record.id, summary)
    return summary
  }

  /** Rollouts as they were saved: the ones still running carry on once their file server is up again. */
  private restore(): void {
    const rows = this.options.store.db.prepare('SELECT * FROM ota_rollouts ORDER BY created_at DESC LIMIT ?').all(historyLimit) as RolloutRow[]
    for (const row of rows.reverse()) {
      const record: RolloutRecord = { id: row.id, artifact: row.artifact, fileName: row.file_name, operator: row.operator, createdAt: row.created_at, updatedAt: row.updated_at, detail: row.detail }
      let rollout: Rollout
      try {
        const plan = JSON.parse(row.plan) as RolloutPlan
        rollout = Rollout.restore(plan, JSON.parse(row.snapshot), { random: this.random, baselines: this.baselines(plan) })
      } catch (error) {
        this.options.log.error(`OTA: rollout ${row.id} could not be restored and is left as it was saved (${row.status}): ${(error as Error).message}`)
        continue
      }
      const live = this.adopt(record, rollout)
      this.push(live)
      if (!isEnded(rollout)) {
        this.serve(record.artifact).catch((error: Error) => this.options.log.error(`OTA: rollout ${row.id} cannot serve its image after the restart: ${error.message}`))
      }
    }
  }

  private find(id: string): LiveRollout {
    const live = this.live.get(id)
    if (!live) throw new ContractFailure('NOT_FOUND', `No rollout ${id} among the last ${historyLimit}.`)
    return live
  }
}

const otaMetric = new Set<string>([otaMetricNames.state, otaMetricNames.job, otaMetricNames.progress, otaMetricNames.error, otaMetricNames.firmwareVersion, otaMetricNames.runningSlot])

type BirthMetrics = Extract<HostEffect, { kind: 'birth' }>['metrics']

/**
 * The host's metric states carry a resolved name, type and current value: all the OTA report parser reads.
 * They are passed as they are instead of copied into payload metrics for every message of a rollout.
 */
function asMetrics(states: BirthMetrics): readonly Metric[] {
  return states as unknown as readonly Metric[]
}

function isEnded(rollout: Rollout): boolean {
  return rollout.status === 'completed' || rollout.status === 'aborted'
}
