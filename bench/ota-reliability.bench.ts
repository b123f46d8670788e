import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCore, silentLogger, type Core } from '../electron/core'
import type { MethodName, ParamsIn, ResultOf, RolloutDetail, RolloutDeviceRow, RolloutRequest, RolloutSummary } from '../shared/contract'
import { startVirtualFleet, type VirtualFleet } from '../simulator/fleet/fleet'
import type { NodeEvent } from '../simulator/fleet/edge-node'
import { buildAppImage } from '../simulator/ota/app-image'
import { httpImageFetcher, type FetchHandle, type ImageFetcher } from '../simulator/ota/http-fetch'
import { otaSteps, type OtaFaultRates, type OtaStats } from '../simulator/ota/ota-device'

// Staged OTA to a thousand virtual ESP32s through the console's real path: the core built by createCore
// (embedded aedes, SQLite in a temporary data folder, the OTA file server the OTA service starts),
// driven through its dispatcher as the Updates screen drives it, against simulator nodes that keep A/B
// slots and otadata in simulated SPI flash, download over HTTP with Range resumes and roll back.
//
// Three rollouts to one fleet, one after the other:
//   1. the baseline: a good image with no faults;
//   2. the next good image with random power cuts at every step of an update, Wi-Fi drops and server
//      stalls during downloads. It must end with every node on a known-good image (the new one,
//      confirmed, or the old one) and nothing half-done: bricked = 0, stuck = 0;
//   3. an image that panics on boot, faults off again so the verdict is the image's alone: the canary's
//      health gate must stop it, every canary node roll back, and nobody else be touched.
// The ratio is the time the faulty rollout took to complete over the clean one's.
//
// Every node reads its fault rates, at every draw, from the one object passed as `ota.faults`, so the bench
// turns faults on and off between rollouts by changing that object, without restarting the fleet.
//
// OTA_RELIABILITY_NODES sets the fleet's size (default 1000); OTA_RELIABILITY_TRACE=N prints the event
// timelines of the N devices that took longest, node side and console side.
//
// Not settable from a rollout request, and so left at the domain's defaults: the per-device timeouts
// (ack 30 s, progress 2 min, verdict 15 min, offline 30 min), 3 attempts and the 30 s × attempt retry delay.
const nodeCount = Number(process.env.OTA_RELIABILITY_NODES ?? 1000)
const imageBytes = 64 * 1024
/** What reaches the slot per second: an ESP32 on a weak Wi-Fi link, so that downloads last long enough for drops. */
const radioBytesPerSecond = 32 * 1024
const faultRates: Required<OtaFaultRates> = {
  // At each of the seven steps of an update (otaSteps).
  powerCut: 0.12,
  // Per second of download.
  linkDrop: 0.15,
  stall: 0.12,
  bootCrash: 0,
}
const groupId = 'Plant1'
const operator = { actor: 'bench', via: 'local' } as const
const followTimeoutMs = 8 * 60_000
const settleTimeoutMs = 2 * 60_000

// Quick phases: a canary of 3, then everyone, each with the default health gate (at most 10% failed or
// rolled back), a short soak and a start rate a thousand devices get through in a minute. A phase waits
// for its slowest device, and a device whose attempt a fault ended waits the domain's retry delay
// (30 s × attempt, not settable from a request) before its next, so each phase adds a minute and a half
// to the faulty run: two phases keep the whole bench within about eight minutes on two shared cores.
// maxInFlight counts devices waiting for a retry too, so it is set well above what downloads at once.
const rate = { perMinute: 600, maxPerMinute: 6000, jitterSeconds: 1, maxInFlight: 500 }
const phases: RolloutRequest['phases'] = [
  { kind: 'canary', devices: 3, soakSeconds: 2, rate },
  { kind: 'percentage', percent: 100, soakSeconds: 2, rate },
]

type Step = (typeof otaSteps)[number]

export async function otaReliability(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ota-reliability-'))
  const rates: Required<OtaFaultRates> = { powerCut: 0, linkDrop: 0, stall: 0, bootCrash: 0 }
  const tally = new FaultTally()
  const radio = new PacedFetcher(httpImageFetcher(), radioBytesPerSecond)
  let core: Core | null = null
  let fleet: VirtualFleet | null = null
  try {
    core = createCore({ dataDir: join(dir, 'data'), host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
    const broker = core.broker
    await poll('the embedded broker', () => core!.health().services.broker.state === 'up', 15_000)
    const call = caller(core)

    const bootStarted = performance.now()
    fleet = await startVirtualFleet({
      brokerUrl: broker.url!,
      groupId,
      nodes: nodeCount,
      devicesPerNode: 0,
      rateHz: 0.2,
      diagnosticsIntervalMs: 30_000,
      hostId: 'esp-fleet-console',
      bootDelayMs: 1000,
      seed: 7,
      firmwareVersion: '1.0.0',
      ota: { faults: rates, selfTestMs: 1000, stallTimeoutMs: 3000, retryDelayMs: 1000, imageBytes, fetch: radio.fetch },
      onEvent: (event) => tally.note(event),
    })
    const onlineFleet = fleet
    await poll(`${nodeCount} nodes born`, () => onlineCount(core!) === nodeCount && onlineFleet.nodes.every((n) => n.state === 'online'), 120_000, () => `${onlineCount(core!)} online`)
    console.log(`  fleet: ${nodeCount} virtual ESP32 edge nodes (4 MB flash, two_ota layout, A/B slots), born in ${seconds(performance.now() - bootStarted)}; images of ${imageBytes / 1024} KiB reach the slot at ${radioBytesPerSecond / 1024} KiB/s`)

    // 1. The baseline: no faults.
    const clean = await rollout(call, fleet, tally, '2.0.0', { resumeGates: false })
    report('clean', clean)
    const cleanCheck = check(fleet, clean)
    console.log(`  clean: ${cleanCheck.words}`)
    for (const line of cleanCheck.examples) console.log(`    ${line}`)

    // 2. The same kind of rollout in a bad day.
    Object.assign(rates, faultRates)
    const faulty = await rollout(call, fleet, tally, '2.1.0', { resumeGates: true })
    Object.assign(rates, { powerCut: 0, linkDrop: 0, stall: 0, bootCrash: 0 })
    report('faulty', faulty)
    const faultyCheck = check(fleet, faulty)
    console.log(`  faulty: ${faultyCheck.words}`)
    for (const line of faultyCheck.examples) console.log(`    ${line}`)

    // 3. An image that panics on boot: the canary's gate stops it.
    const crash = await crashRollout(call, fleet)
    console.log(`  crashing image ${crash.version}: ${crash.words}`)
    for (const line of crash.problems) console.log(`    ${line}`)

    const bricked = fleet.nodes.filter((n) => n.ota!.bricked !== null).length
    const failures = [
      ...(cleanCheck.bricked + cleanCheck.stuck > 0 ? [`clean rollout: bricked=${cleanCheck.bricked} stuck=${cleanCheck.stuck}`] : []),
      ...(clean.summary.status !== 'completed' || clean.resumes.length > 0 ? [`clean rollout ended ${clean.summary.status} after ${clean.resumes.length} gate override(s)`] : []),
      ...(faultyCheck.bricked + faultyCheck.stuck > 0 ? [`faulty rollout: bricked=${faultyCheck.bricked} stuck=${faultyCheck.stuck}`] : []),
      ...(faultyCheck.falseSuccess > 0 ? [`faulty rollout: ${faultyCheck.falseSuccess} device(s) the console calls succeeded do not run the new image confirmed`] : []),
      ...crash.problems.map((p) => `crash rollout: ${p}`),
      ...(bricked > 0 ? [`${bricked} node(s) bricked at the end`] : []),
    ]
    const ratio = faulty.completedMs / clean.completedMs
    const line =
      `ota-reliability: ratio=${ratio.toFixed(2)} (time to complete with faults ${seconds(faulty.completedMs)} / without ${seconds(clean.completedMs)}; lower is better); ` +
      `${nodeCount} devices, ${tally.total(faulty.faults)} faults injected; bricked=${faultyCheck.bricked} stuck=${faultyCheck.stuck}; ` +
      `succeeded ${faulty.counts.succeeded}, rolled back ${faulty.counts.rolledBack}, failed ${faulty.counts.failed}, retries ${faulty.counts.retries}, gate overrides ${faulty.resumes.length}; ` +
      `crashing image ${crash.stopped ? 'stopped at the canary' : 'NOT STOPPED at the canary'} (${crash.rolledBack}/${crash.canary} rolled back, ${crash.touchedOutside} touched outside)`
    if (failures.length > 0) throw new Error(`${line}\nFAILED: ${failures.join('; ')}`)
    return line
  } finally {
    await fleet?.stop()
    radio.stop()
    await core?.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---- rollouts ---------------------------------------------------------------------------------------

type Call = <M extends MethodName>(method: M, params: ParamsIn<M>) => Promise<ResultOf<M>>

function caller(core: Core): Call {
  return async (method, params) => {
    const outcome = await core.dispatch(method, params, operator)
    if (!outcome.ok) throw new Error(`${method}: ${outcome.error.code}: ${outcome.error.message}`)
    return outcome.value as never
  }
}

interface RunResult {
  version: string
  id: string
  summary: RolloutSummary
  detail: RolloutDetail
  /** From ota.start to `completed`. */
  completedMs: number
  /** From `completed` until every node is online with its OTA job at an end. */
  settledMs: number
  resumes: { phase: string; at: number; detail: string }[]
  counts: { succeeded: number; rolledBack: number; failed: number; retries: number; other: number }
  faults: FaultCounts
  stats: OtaStats
  /** What each node ran before the rollout: the known-good image it keeps or returns to. */
  before: Map<string, { version: string; slot: string }>
  trace?: Map<string, string[]>
}

async function importImage(call: Call, version: string): Promise<string> {
  const bytes = buildAppImage({ version, chip: 'ESP32', payloadBytes: imageBytes })
  const artifact = await call('ota.importArtifact', { fileName: `app-${version}.bin`, data: Buffer.from(bytes).toString('base64') })
  return artifact.sha256
}

async function rollout(call: Call, fleet: VirtualFleet, tally: FaultTally, version: string, options: { resumeGates: boolean }): Promise<RunResult> {
  const artifact = await importImage(call, version)
  const before = new Map(fleet.nodes.map((n) => [keyOf(n.edgeNodeId), { version: n.ota!.running!.version, slot: n.ota!.running!.slot }]))
  const statsBefore = fleetStats(fleet)
  tally.reset()
  const started = performance.now()
  const summary = await call('ota.start', { artifact, selection: { groups: [groupId] }, phases, seed: 11 })
  const resumes: RunResult['resumes'] = []
  let lastLine = 0
  for (;;) {
    await sleep(100)
    const last = (await call('ota.rollouts', {})).find((r) => r.id === summary.id)!
    if (last.status === 'completed') break
    if (last.status === 'paused' && last.pausedBy === 'health-gate') {
      if (!options.resumeGates) break
      // What an operator does after reading the findings: the failures are the site's (power, Wi-Fi), not the image's.
      resumes.push({ phase: last.phases[last.currentPhase]?.name ?? '?', at: performance.now() - started, detail: last.detail })
      await call('ota.resume', { rolloutId: summary.id })
      continue
    }
    if (last.status !== 'running') break
    if (performance.now() - started > followTimeoutMs) break
    if (performance.now() - lastLine > 15_000) {
      lastLine = performance.now()
      console.log(`    ${version} at ${seconds(performance.now() - started)}: phase ${last.phases[last.currentPhase]?.name ?? 'done'}, ${describeCounts(last.counts)}`)
    }
  }
  const completedMs = performance.now() - started
  const settled = performance.now()
  // The devices' side: every node back online with its job at an end (or the wait runs out and the check says who is not).
  await poll('the fleet to settle', () => fleet.nodes.every((n) => n.state === 'online' && finalNodeStates.has(n.ota!.record.state)), settleTimeoutMs).catch(() => undefined)
  const settledMs = performance.now() - settled
  const detail = await call('ota.rollout', { rolloutId: summary.id })
  if (detail.summary.status !== 'completed') {
    throw new Error(`Rollout of ${version} did not complete in ${seconds(completedMs)}: ${detail.summary.status} (${detail.summary.detail}); ${describeCounts(detail.summary.counts)}`)
  }
  const rows = detail.devices
  const counts = {
    succeeded: rows.filter((d) => d.state === 'succeeded').length,
    rolledBack: rows.filter((d) => d.state === 'rolled-back').length,
    failed: rows.filter((d) => d.state === 'failed').length,
    retries: rows.reduce((n, d) => n + Math.max(0, d.attempt - 1), 0),
    other: rows.filter((d) => !['succeeded', 'rolled-back', 'failed'].includes(d.state)).length,
  }
  return { version, id: summary.id, summary: detail.summary, detail, completedMs, settledMs, resumes, counts, faults: tally.snapshot(), trace: new Map(tally.trace), stats: diffStats(fleetStats(fleet), statsBefore), before }
}

function report(name: string, run: RunResult): void {
  const { counts, stats, faults } = run
  console.log(`  ${name} rollout of ${run.version} (${run.id}): completed in ${seconds(run.completedMs)}, fleet settled ${seconds(run.settledMs)} later`)
  console.log(`    console: succeeded ${counts.succeeded}, rolled back ${counts.rolledBack}, failed ${counts.failed}${counts.other ? `, other ${counts.other}` : ''}; retries (fresh attempts) ${counts.retries}; health-gate overrides ${run.resumes.length}`)
  const reasons = tallyBy(run.detail.devices.filter((d) => d.state !== 'succeeded'), (d) => `${d.state}/${d.reason ?? '-'}`)
  if (reasons.size > 0) {
    console.log(`    not succeeded, by reason: ${[...reasons].map(([k, v]) => `${k} ×${v}`).join(', ')}`)
    for (const reason of reasons.keys()) {
      const example = run.detail.devices.find((d) => `${d.state}/${d.reason ?? '-'}` === reason)!
      console.log(`      e.g. ${example.id} ${reason} at attempt ${example.attempt}: ${example.detail ?? ''}`)
    }
  }
  const attempts = tallyBy(run.detail.devices, (d) => String(d.attempt))
  console.log(`    attempts per device: ${[...attempts].sort().map(([k, v]) => `${k}: ${v}`).join(', ')}`)
  for (const r of run.resumes) console.log(`    resumed over the ${r.phase} gate at ${seconds(r.at)}: ${r.detail}`)
  const traced = Number(process.env.OTA_RELIABILITY_TRACE ?? 0)
  if (traced > 0 && run.trace) {
    const slowest = [...run.detail.devices].sort((a, b) => (b.finishedAt ?? 0) - (b.startedAt ?? 0) - ((a.finishedAt ?? 0) - (a.startedAt ?? 0))).slice(0, traced)
    for (const d of slowest) {
      console.log(`    trace ${d.id}: ${d.state}/${d.reason ?? '-'} attempt ${d.attempt}, ${seconds((d.finishedAt ?? 0) - (d.startedAt ?? 0))} from start to end: ${d.detail ?? ''}`)
      for (const line of run.trace.get(d.id.slice(groupId.length + 1)) ?? []) console.log(`      ${line}`)
      for (const entry of run.detail.log.filter((e) => e.deviceId === d.id).reverse()) console.log(`      console ${new Date(entry.at).toISOString().slice(11, 23)} ${entry.kind} ${entry.detail}`)
    }
  }
  console.log(`    nodes: ${stats.downloads} downloads begun, ${stats.resumes} Range resumes, ${stats.installs} installs, ${stats.succeeded} confirmed, ${stats.rolledBack} rolled back, ${stats.failed} jobs failed, ${stats.powerCuts} power cuts, ${stats.boots} boots`)
  if (tallyTotal(faults) > 0) {
    console.log(`    power cuts that hit (drawn) by step: ${otaSteps.map((s) => `${s} ${faults.cutsHit[s]} (${faults.cutsDrawn[s]})`).join(', ')}${faults.cutsUnattributed ? `, unattributed ${faults.cutsUnattributed}` : ''}`)
    console.log(`    during downloads: ${faults.linkDrops} Wi-Fi drops (${faults.wifiResumes} downloads cut by them), ${faults.stalls} server stalls timed out; ${faults.bootloaderCuts} cuts fell inside the bootloader's own otadata write`)
  }
}

const finalNodeStates: ReadonlySet<string> = new Set(['idle', 'succeeded', 'rolled-back', 'failed'])
const finalRowStates: ReadonlySet<string> = new Set(['succeeded', 'rolled-back', 'failed', 'cancelled', 'skipped'])

interface Check {
  bricked: number
  stuck: number
  /** The console says succeeded, the node does not run the new image confirmed. */
  falseSuccess: number
  words: string
  examples: string[]
}

/**
 * Bricked: the node's last boot found nothing to boot. Stuck: the node does not run a known-good image
 * (the new one confirmed, or the one it ran before, confirmed), or its own OTA record, or the console's
 * row for it, is not at an end.
 */
function check(fleet: VirtualFleet, run: RunResult): Check {
  const rows = new Map(run.detail.devices.map((d) => [d.id, d]))
  let bricked = 0
  let stuck = 0
  let falseSuccess = 0
  let onNew = 0
  let onOld = 0
  let unconfirmedCancel = 0
  const examples: string[] = []
  for (const node of fleet.nodes) {
    const key = keyOf(node.edgeNodeId)
    const ota = node.ota!
    const running = ota.running
    const row: RolloutDeviceRow | undefined = rows.get(key)
    const before = run.before.get(key)
    const confirmedNew = running !== null && running.version === run.version && running.otaState === 'VALID'
    const oldGood = running !== null && running.version === before?.version && running.otaState === 'VALID'
    if (confirmedNew) onNew++
    if (oldGood) onOld++
    const isBricked = ota.bricked !== null
    const isStuck = !(confirmedNew || oldGood) || !finalNodeStates.has(ota.record.state) || row === undefined || !finalRowStates.has(row.state)
    if (isBricked) bricked++
    if (isStuck) stuck++
    if (row?.state === 'succeeded' && !confirmedNew) falseSuccess++
    if (row && row.state !== 'succeeded' && ota.record.state === 'downloaded') unconfirmedCancel++
    if ((isBricked || isStuck || (row?.state === 'succeeded' && !confirmedNew)) && examples.length < 10) {
      examples.push(
        `${key}: ${isBricked ? `BRICKED (${ota.bricked}) ` : ''}runs ${running ? `${running.slot} ${running.version} ${running.otaState}` : 'nothing'}; record ${ota.record.state} ${ota.record.job} ${ota.record.error}; console ${row ? `${row.state}/${row.reason ?? '-'} attempt ${row.attempt}` : 'no row'}; node ${node.state}`,
      )
    }
  }
  return {
    bricked,
    stuck,
    falseSuccess,
    examples,
    words: `bricked=${bricked} stuck=${stuck}; ${onNew} run ${run.version} confirmed, ${onOld} their previous image; ${falseSuccess} called succeeded without the image${unconfirmedCancel ? `; ${unconfirmedCancel} not-succeeded node(s) still hold a downloaded job` : ''}`,
  }
}

interface CrashResult {
  version: string
  stopped: boolean
  canary: number
  rolledBack: number
  touchedOutside: number
  words: string
  problems: string[]
}

async function crashRollout(call: Call, fleet: VirtualFleet): Promise<CrashResult> {
  const version = '3.0.0-crash'
  const artifact = await importImage(call, version)
  const before = new Map(fleet.nodes.map((n) => [keyOf(n.edgeNodeId), { version: n.ota!.running!.version, job: n.ota!.record.job, boots: n.ota!.stats.boots }]))
  const started = performance.now()
  const summary = await call('ota.start', { artifact, selection: { groups: [groupId] }, phases, seed: 13 })
  let last = summary
  while (!(last.status === 'paused' && last.pausedBy === 'health-gate') && last.status !== 'completed' && performance.now() - started < 3 * 60_000) {
    await sleep(100)
    last = (await call('ota.rollouts', {})).find((r) => r.id === summary.id)!
  }
  const haltedMs = performance.now() - started
  const detail = await call('ota.rollout', { rolloutId: summary.id })
  const canary = detail.devices.filter((d) => d.phase === 0)
  const outside = detail.devices.filter((d) => d.phase !== 0)
  const touchedRows = outside.filter((d) => d.state !== 'queued' || d.attempt > 0)
  const touchedNodes = fleet.nodes.filter((n) => {
    const key = keyOf(n.edgeNodeId)
    if (canary.some((d) => d.id === key)) return false
    const was = before.get(key)!
    return n.ota!.running?.version !== was.version || n.ota!.record.job !== was.job || n.ota!.stats.boots !== was.boots
  })
  const rolledBack = canary.filter((d) => d.state === 'rolled-back' && d.reason === 'boot-failed').length
  const stopped = last.status === 'paused' && last.pausedBy === 'health-gate' && last.currentPhase === 0
  const gate = detail.summary.phases[0]?.gate
  const problems: string[] = []
  if (!stopped) problems.push(`not stopped at the canary's health gate: ${last.status}${last.pausedBy ? ` by ${last.pausedBy}` : ''} in phase ${last.currentPhase} (${last.detail})`)
  if (rolledBack !== canary.length) problems.push(`canary: ${canary.map((d) => `${d.id} ${d.state}/${d.reason ?? '-'}`).join(', ')}`)
  if (touchedRows.length + touchedNodes.length > 0) problems.push(`touched outside the canary: ${[...touchedRows.map((d) => `${d.id} ${d.state}`), ...touchedNodes.map((n) => n.edgeNodeId)].slice(0, 10).join(', ')}`)
  const canaryNodes = canary.map((d) => fleet.node(d.id.slice(groupId.length + 1)))
  const canaryOnOld = canaryNodes.filter((n) => n.ota!.running?.version === before.get(keyOf(n.edgeNodeId))!.version && n.ota!.running?.otaState === 'VALID').length
  if (canaryOnOld !== canary.length) problems.push(`${canary.length - canaryOnOld} canary node(s) not back on their previous image`)

  const aborted = await call('ota.abort', { rolloutId: summary.id })
  await poll('the abort to settle', async () => (await call('ota.rollouts', {})).find((r) => r.id === summary.id)?.status === 'aborted', 30_000).catch(() => undefined)
  const final = (await call('ota.rollouts', {})).find((r) => r.id === summary.id)!
  if (final.status !== 'aborted') problems.push(`abort ended ${final.status} (${aborted.status} when asked)`)
  const bricked = fleet.nodes.filter((n) => n.ota!.bricked !== null).length
  if (bricked > 0) problems.push(`${bricked} node(s) bricked`)
  const words =
    `${stopped ? 'paused by the health gate at the canary' : 'NOT stopped at the canary'} after ${seconds(haltedMs)} ` +
    `(${gate ? gate.findings.map((f) => f.reason).join(', ') : 'no gate verdict'}); canary ${rolledBack}/${canary.length} rolled back (boot-failed) to their previous image, ` +
    `${outside.length} other devices: ${describeCounts(countStates(outside))}, ${touchedNodes.length} nodes touched; then ${final.status}: ${describeCounts(final.counts)}`
  return { version, stopped, canary: canary.length, rolledBack, touchedOutside: touchedRows.length + touchedNodes.length, words, problems }
}

// ---- faults ---------------------------------------------------------------------------------------------

interface FaultCounts {
  cutsDrawn: Record<Step, number>
  cutsHit: Record<Step, number>
  cutsUnattributed: number
  bootloaderCuts: number
  linkDrops: number
  wifiResumes: number
  stalls: number
}

/** Counts the faults from what the nodes say happened to them (their events), by step of the update. */
class FaultTally {
  private counts = FaultTally.empty()
  /** The step of each node's last drawn power cut, until the power-on reset it causes. */
  private readonly pending = new Map<string, Step>()
  /** OTA_RELIABILITY_TRACE=N: each node's events, to print the N slowest devices' stories. */
  readonly trace = new Map<string, string[]>()
  private readonly tracing = Number(process.env.OTA_RELIABILITY_TRACE ?? 0) > 0
  private readonly origin = performance.now()

  static empty(): FaultCounts {
    const steps = () => Object.fromEntries(otaSteps.map((s) => [s, 0])) as Record<Step, number>
    return { cutsDrawn: steps(), cutsHit: steps(), cutsUnattributed: 0, bootloaderCuts: 0, linkDrops: 0, wifiResumes: 0, stalls: 0 }
  }

  note(event: NodeEvent): void {
    const detail = event.detail ?? ''
    if (this.tracing) {
      let list = this.trace.get(event.edgeNodeId)
      if (!list) this.trace.set(event.edgeNodeId, (list = []))
      list.push(`${((performance.now() - this.origin) / 1000).toFixed(1)} ${event.kind} ${detail}`)
    }
    switch (event.kind) {
      case 'ota': {
        const drawn = /^random power cut at (\S+)$/.exec(detail)?.[1] as Step | undefined
        if (drawn && drawn in this.counts.cutsDrawn) {
          this.counts.cutsDrawn[drawn]++
          this.pending.set(event.edgeNodeId, drawn)
        } else if (detail.startsWith('power cut during the bootloader')) this.counts.bootloaderCuts++
        else if (/\(no data for \d+ ms\)/.test(detail)) this.counts.stalls++
        else if (detail.includes('(Wi-Fi lost)')) this.counts.wifiResumes++
        return
      }
      case 'reboot':
      case 'crash':
        if (detail !== 'ESP_RST_POWERON') return
        {
          const step = this.pending.get(event.edgeNodeId)
          this.pending.delete(event.edgeNodeId)
          if (step) this.counts.cutsHit[step]++
          else this.counts.cutsUnattributed++
        }
        return
      case 'fault':
        if (detail === 'drop') this.counts.linkDrops++
        return
      default:
        return
    }
  }

  reset(): void {
    this.counts = FaultTally.empty()
    this.pending.clear()
    this.trace.clear()
  }

  snapshot(): FaultCounts {
    return structuredClone(this.counts)
  }

  total(counts: FaultCounts): number {
    return tallyTotal(counts)
  }
}

function tallyTotal(c: FaultCounts): number {
  return Object.values(c.cutsHit).reduce((a, b) => a + b, 0) + c.cutsUnattributed + c.linkDrops + c.stalls
}

/**
 * The radio between the file server and the slot: bytes reach the node at a Wi-Fi pace rather than at
 * loopback speed, so a download lasts seconds and a link drop or a stall can fall inside it. The HTTP
 * request, its status, Range and lengths are the simulator's own fetcher; bytes still in the air when the
 * node aborts (a drop, a stall timeout, a reset) are lost, as they would be.
 */
class PacedFetcher {
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly inner: ImageFetcher,
    private readonly bytesPerSecond: number,
  ) {}

  readonly fetch: ImageFetcher = (request, sink) => {
    const queue: Uint8Array[] = []
    let endedWith: { ok: true } | { ok: false; reason: string } | null = null
    let closed = false
    let paused = false
    let timer: NodeJS.Timeout | null = null
    const slice = 4096
    const wait = (ms: number) => {
      const t = setTimeout(() => {
        this.timers.delete(t)
        timer = null
        pump()
      }, ms)
      t.unref()
      this.timers.add(t)
      timer = t
    }
    const pump = () => {
      if (closed || paused || timer) return
      const chunk = queue.shift()
      if (chunk) {
        sink.data(chunk)
        if (!closed && !paused) wait((chunk.length * 1000) / this.bytesPerSecond)
        return
      }
      if (endedWith) {
        closed = true
        if (endedWith.ok) sink.end()
        else sink.fail(endedWith.reason)
      }
    }
    const stopTimer = () => {
      if (timer) {
        clearTimeout(timer)
        this.timers.delete(timer)
        timer = null
      }
    }
    const handle: FetchHandle = this.inner(request, {
      start: (range) => {
        if (!closed) sink.start(range)
      },
      data: (chunk) => {
        if (closed) return
        for (let at = 0; at < chunk.length; at += slice) queue.push(chunk.subarray(at, at + slice))
        pump()
      },
      end: () => {
        endedWith = { ok: true }
        pump()
      },
      fail: (reason) => {
        endedWith = { ok: false, reason }
        pump()
      },
    })
    return {
      abort() {
        closed = true
        queue.length = 0
        stopTimer()
        handle.abort()
      },
      pause() {
        paused = true
        stopTimer()
        handle.pause()
      },
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}

// ---- helpers ------------------------------------------------------------------------------------------

function fleetStats(fleet: VirtualFleet): OtaStats {
  const total: OtaStats = { downloads: 0, resumes: 0, bytesWritten: 0, installs: 0, succeeded: 0, rolledBack: 0, failed: 0, powerCuts: 0, boots: 0 }
  for (const node of fleet.nodes) for (const key of Object.keys(total) as (keyof OtaStats)[]) total[key] += node.ota!.stats[key]
  return total
}

function diffStats(after: OtaStats, before: OtaStats): OtaStats {
  const out = { ...after }
  for (const key of Object.keys(out) as (keyof OtaStats)[]) out[key] -= before[key]
  return out
}

function onlineCount(core: Core): number {
  let n = 0
  for (const node of core.fleet.edgeNodes()) if (node.status === 'online') n++
  return n
}

const keyOf = (edgeNodeId: string) => `${groupId}/${edgeNodeId}`

function countStates(rows: readonly RolloutDeviceRow[]): Partial<Record<string, number>> {
  return Object.fromEntries(tallyBy(rows, (d) => d.state))
}

function tallyBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>()
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1)
  return out
}

function describeCounts(counts: Partial<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ')
}

async function poll(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number, describe?: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}${describe ? `: ${describe()}` : ''}`)
    await sleep(100)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
