// Staged OTA through the real path: the console's core (embedded aedes, SQLite, the OTA file server) and
// a virtual fleet whose nodes keep A/B slots and otadata, download over HTTP with their own tokens,
// reboot into the new image and confirm it, or roll back when it crashes on boot.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import type { ArtifactView, RolloutDetail, RolloutPreview, RolloutRequest, RolloutSummary, StreamDiff } from '../../shared/contract'
import { startVirtualFleet, type VirtualFleet } from '../../simulator/fleet/fleet'
import { buildAppImage } from '../../simulator/ota/app-image'
import { until } from '../support/until'

const operator = { actor: 'ada', via: 'local' } as const
const nodeIds = ['esp32-001', 'esp32-002', 'esp32-003', 'esp32-004', 'esp32-005'].map((id) => `Plant1/${id}`)
let dir: string
let core: Core
let fleet: VirtualFleet | null = null
let pushed: Map<string, RolloutSummary>

function startCore(): Core {
  const started = createCore({ dataDir: join(dir, 'data'), host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
  pushed = new Map()
  started.events.subscribe((event, payload) => {
    if (event !== 'ota.rollouts') return
    for (const [id, summary] of Object.entries((payload as StreamDiff<RolloutSummary>).set)) pushed.set(id, summary)
  })
  return started
}

async function call<T>(method: string, params: unknown): Promise<T> {
  const outcome = await core.dispatch(method as never, params as never, operator)
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`)
  return outcome.value as T
}

async function importImage(version: string): Promise<ArtifactView> {
  const bytes = buildAppImage({ version, chip: 'ESP32', payloadBytes: 96 * 1024 })
  return call<ArtifactView>('ota.importArtifact', { fileName: `app-${version}.bin`, data: Buffer.from(bytes).toString('base64') })
}

/** Quick phases for a test: a canary of two, then everyone, with short soaks and a fast start rate. */
function request(artifact: string, seed = 42): RolloutRequest {
  const rate = { perMinute: 600, maxPerMinute: 600, jitterSeconds: 0.2 }
  return {
    artifact,
    seed,
    selection: { groups: ['Plant1'] },
    phases: [
      { kind: 'canary', devices: 2, soakSeconds: 2, rate, gate: { minExecuted: 2 } },
      { kind: 'percentage', percent: 100, soakSeconds: 1, rate },
    ],
  }
}

const versions = () => new Map(fleet!.nodes.map((node) => [`Plant1/${node.edgeNodeId}`, node.ota!.running?.version]))

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ota-rollout-'))
  core = startCore()
  await until('the broker', () => core.health().services.broker.state === 'up')
  fleet = await startVirtualFleet({ brokerUrl: core.broker.url!, groupId: 'Plant1', nodes: 5, devicesPerNode: 0, rateHz: 1, hostId: 'esp-fleet-console', bootDelayMs: 0, seed: 3, firmwareVersion: '1.0.0', ota: { selfTestMs: 500 } })
  await until('five nodes born', () => [...core.fleet.edgeNodes()].filter((node) => node.status === 'online').length === 5)
}, 30_000)

afterEach(async () => {
  await fleet?.stop()
  fleet = null
  await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

describe('staged OTA against a virtual fleet', () => {
  it('previews exactly the plan it then runs, and updates every node to a confirmed image', async () => {
    const image = await importImage('1.1.0')
    const preview = await call<RolloutPreview>('ota.preview', request(image.sha256))
    expect(preview.targets).toBe(5)
    expect(preview.phases.map((p) => p.deviceIds.length)).toEqual([2, 3])
    expect(preview.phases.flatMap((p) => p.deviceIds).sort()).toEqual(nodeIds)

    const started = await call<RolloutSummary>('ota.start', request(image.sha256, preview.seed))
    expect(started.status).toBe('running')
    const detail = await call<RolloutDetail>('ota.rollout', { rolloutId: started.id })
    // The canary is the devices the preview showed, in that order.
    expect(detail.devices.filter((d) => d.phase === 0).map((d) => d.id)).toEqual(preview.phases[0]!.deviceIds)

    await until('the rollout completes', () => pushed.get(started.id)?.status === 'completed', 60_000, () => JSON.stringify(pushed.get(started.id)))
    const done = await call<RolloutDetail>('ota.rollout', { rolloutId: started.id })
    expect(done.devices.map((d) => d.state)).toEqual(Array(5).fill('succeeded'))
    expect(done.summary.phases.map((p) => [p.name, p.state, p.gate?.passed])).toEqual([
      ['canary', 'passed', true],
      ['100%', 'passed', true],
    ])
    // What the nodes themselves booted, and their own record of the job: the new image, confirmed.
    expect([...versions().values()]).toEqual(Array(5).fill('1.1.0'))
    expect(fleet!.nodes.map((node) => [node.ota!.bricked, node.ota!.record.state])).toEqual(Array(5).fill([null, 'succeeded']))
    const audit = await call<{ action: string }[]>('audit.list', { limit: 20 })
    expect(audit.map((entry) => entry.action)).toEqual(expect.arrayContaining(['import update image', 'start rollout']))
  }, 90_000)

  it('halts a crashing image at the canary gate; the canary rolls back and nobody else is touched', async () => {
    const image = await importImage('1.2.0-crash')
    const started = await call<RolloutSummary>('ota.start', request(image.sha256))
    await until('the health gate pauses the rollout', () => pushed.get(started.id)?.pausedBy === 'health-gate', 60_000, () => JSON.stringify(pushed.get(started.id)))
    const halted = await call<RolloutDetail>('ota.rollout', { rolloutId: started.id })
    const canary = halted.devices.filter((d) => d.phase === 0)
    expect(canary.map((d) => [d.state, d.reason])).toEqual([
      ['rolled-back', 'boot-failed'],
      ['rolled-back', 'boot-failed'],
    ])
    expect(halted.devices.filter((d) => d.phase === 1).map((d) => d.state)).toEqual(['queued', 'queued', 'queued'])
    expect(halted.summary.phases[0]!.gate).toMatchObject({ passed: false, findings: [{ reason: 'failure-share' }] })
    expect(halted.log.some((entry) => entry.kind === 'gate' && /failed/.test(entry.detail))).toBe(true)
    // Every node still runs its old, valid image.
    expect([...versions().values()]).toEqual(Array(5).fill('1.0.0'))

    // A second rollout may not take devices this one still holds.
    const good = await importImage('1.1.0')
    await expect(call('ota.start', request(good.sha256))).rejects.toThrow(/CONFLICT: .*already in active rollout/)

    const aborted = await call<RolloutSummary>('ota.abort', { rolloutId: started.id })
    expect(aborted.status).toBe('aborted')
    expect(await call('ota.pause', { rolloutId: started.id }).catch((error: Error) => error.message)).toMatch(/CONFLICT: .*aborted/)
  }, 90_000)

  it('resends what a node lost while it was away as soon as it is born again, not after the ack timeout', async () => {
    // Each node loses power just after it reports `downloaded`: the install the console answers with is lost.
    // Its NBIRTH must bring the install again at once (30 s of ack timeout per node otherwise).
    for (const node of fleet!.nodes) node.inject({ kind: 'power-cut', at: 'downloaded', offMs: 300 })
    const image = await importImage('1.1.0')
    const started = await call<RolloutSummary>('ota.start', request(image.sha256))
    await until('the rollout completes', () => pushed.get(started.id)?.status === 'completed', 25_000, () => JSON.stringify(pushed.get(started.id)))
    const done = await call<RolloutDetail>('ota.rollout', { rolloutId: started.id })
    expect(done.devices.map((d) => [d.state, d.attempt])).toEqual(Array(5).fill(['succeeded', 1]))
    expect(fleet!.nodes.map((node) => node.ota!.running?.version)).toEqual(Array(5).fill('1.1.0'))
    // A cut the node reaches after the install already came is dropped (the install is a step of its own).
    expect(fleet!.nodes.filter((node) => node.ota!.stats.powerCuts === 1).length).toBeGreaterThanOrEqual(2)
  }, 60_000)

  it('carries a paused rollout across a restart of the console', async () => {
    const image = await importImage('1.1.0')
    const started = await call<RolloutSummary>('ota.start', request(image.sha256))
    await call('ota.pause', { rolloutId: started.id })
    await fleet!.stop()
    fleet = null
    await core.dispose()

    core = startCore()
    const restored = (await call<RolloutSummary[]>('ota.rollouts', {})).find((r) => r.id === started.id)
    expect(restored).toMatchObject({ status: 'paused', pausedBy: 'operator', devices: 5 })
    expect(pushed.get(started.id)?.status).toBe('paused')
    const detail = await call<RolloutDetail>('ota.rollout', { rolloutId: started.id })
    expect(detail.log.map((entry) => entry.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/Pause rollout by ada/)]))
    expect((await call<RolloutSummary>('ota.abort', { rolloutId: started.id })).status).toMatch(/abort/)
  }, 60_000)
})
