import { describe, expect, it } from 'vitest'
import { createStore, type StateCreator } from 'zustand'
import type { ArtifactView, RolloutDetail, RolloutPreview, RolloutSummary } from '../../../shared/contract'
import { BridgeError, type Bridge } from '../../../renderer/src/bridge'
import { createUpdatesSlice, type UpdatesSlice } from '../../../renderer/src/features/updates/updates-slice'
import { fakeBridge } from './fake-bridge'

function updatesStore(bridge: Bridge) {
  return createStore<UpdatesSlice>()(createUpdatesSlice(bridge) as unknown as StateCreator<UpdatesSlice>)
}

const sha = (digit: string) => digit.repeat(64)
const artifact = (version: string, digit = 'a'): ArtifactView => ({
  sha256: sha(digit),
  fileName: `app-${version}.bin`,
  version,
  project: 'cold-room-node',
  chip: 'ESP32',
  idf: 'v5.3.2',
  size: 65_000,
  importedAt: 1,
  operator: 'ada',
  keyId: 'k1',
  signedAt: 1,
  secureBootBlocks: [],
})
const summary = (id: string, patch: Partial<RolloutSummary> = {}): RolloutSummary => ({
  id,
  artifact: sha('a'),
  version: '2.0.0',
  fileName: 'app-2.0.0.bin',
  operator: 'ada',
  createdAt: 1,
  updatedAt: 1,
  status: 'running',
  pausedBy: null,
  detail: 'Started.',
  currentPhase: 0,
  devices: 5,
  counts: { queued: 5 },
  phases: [],
  startRate: 10,
  ...patch,
})
const preview: RolloutPreview = {
  seed: 1234,
  image: { version: '2.0.0', chip: 'ESP32', size: 65_000, sha256: sha('a') },
  targets: 5,
  phases: [{ name: 'canary', soakSeconds: 1800, deviceIds: ['Demo/esp32-002', 'Demo/esp32-004', 'Demo/esp32-001'], byGroup: { Demo: 3 }, byFromVersion: { '1.0.0': 3 }, gate: { maxFailurePercent: 10, minExecuted: 3, maxSilentPercent: 10 } }],
  excluded: [],
}
const detailOf = (s: RolloutSummary): RolloutDetail => ({ summary: s, devices: [], excluded: [], log: [] })

describe('updates slice', () => {
  it('rollouts: the stream merges, and the snapshot after a reconnect replaces', () => {
    const store = updatesStore(fakeBridge({}).bridge)
    const s = store.getState
    expect(s().updatesRolloutsKnown).toBe(false)
    s().receiveRollouts({ set: { R1: summary('R1'), R2: summary('R2') }, deleted: [] })
    expect(s().updatesRolloutsKnown).toBe(true)
    s().receiveRollouts({ set: { R1: summary('R1', { status: 'completed', updatedAt: 2 }) }, deleted: [] })
    expect(Object.keys(s().updatesRollouts).sort()).toEqual(['R1', 'R2'])
    expect(s().updatesRollouts.R1!.status).toBe('completed')
    s().expectRolloutsSnapshot()
    s().receiveRollouts({ set: { R2: summary('R2') }, deleted: [] })
    expect(Object.keys(s().updatesRollouts)).toEqual(['R2'])
  })

  it('a host without staged updates: errors are kept for the panels, nothing throws', async () => {
    const store = updatesStore(fakeBridge({}).bridge)
    await store.getState().loadUpdates()
    expect(store.getState().updatesArtifactsError).toMatch(/does not offer staged updates/)
    expect(store.getState().updatesRolloutsError).toMatch(/does not offer staged updates/)
  })

  it('imports images one by one as base64 with the minimum version, keeps each refusal in full, and picks the first image kept', async () => {
    const kept = artifact('2.0.0')
    const { bridge, calls } = fakeBridge({
      'ota.importArtifact': (params) => {
        const { fileName, data, minimumVersion } = params as { fileName: string; data: string; minimumVersion?: string }
        expect(minimumVersion).toBe('1.5.0')
        if (fileName === 'old.bin') throw new BridgeError({ code: 'INVALID_PARAMS', message: 'old.bin: The image is version 1.0.0, below the minimum 1.5.0: a downgrade. Import a newer build, or lower the minimum.' })
        expect(data).toBe(btoa('\x01\x02\x03'))
        return kept
      },
      'ota.artifacts': () => [kept],
    })
    const store = updatesStore(bridge)
    const s = store.getState
    s().setMinimumVersion(' 1.5.0 ')
    await s().importArtifacts([new File([new Uint8Array([1, 2, 3])], 'app.bin'), new File([new Uint8Array([9])], 'old.bin'), new File([], 'empty.bin')])
    expect(s().updatesImports.map((i) => [i.fileName, i.state])).toEqual([
      ['app.bin', 'kept'],
      ['old.bin', 'refused'],
      ['empty.bin', 'refused'],
    ])
    expect(s().updatesImports[1]!.error).toBe('old.bin: The image is version 1.0.0, below the minimum 1.5.0: a downgrade. Import a newer build, or lower the minimum.')
    expect(s().updatesImports[2]!.error).toMatch(/empty/)
    expect(calls.filter((c) => c.method === 'ota.importArtifact')).toHaveLength(2)
    expect(s().updatesArtifacts).toEqual([kept])
    expect(s().updatesDraft.artifact).toBe(kept.sha256)
  })

  it('starts exactly the plan previewed, with its seed; a form changed since is refused on screen, not sent', async () => {
    const started = summary('R7')
    const { bridge, calls } = fakeBridge({
      'ota.preview': () => preview,
      'ota.start': () => started,
      'ota.rollout': () => detailOf(started),
    })
    const store = updatesStore(bridge)
    const s = store.getState
    // Nothing to preview without an image: the problem is said, nothing is sent.
    await s().previewRollout()
    expect(s().updatesDraftProblems).toEqual(['Choose the image to roll out.'])
    expect(calls).toHaveLength(0)

    s().chooseArtifact(sha('a'))
    s().toggleTargetGroup('Demo', true)
    await s().previewRollout()
    expect(s().updatesPreview?.preview).toEqual(preview)
    const previewed = calls.find((c) => c.method === 'ota.preview')!.params as { selection: unknown; seed?: number }
    expect(previewed.selection).toEqual({ groups: ['Demo'] })
    expect(previewed.seed).toBeUndefined()

    s().setTargets({ onlineOnly: true })
    expect(await s().startRollout()).toBe(false)
    expect(s().updatesPlanError).toMatch(/changed since the preview/)
    expect(calls.some((c) => c.method === 'ota.start')).toBe(false)

    s().setTargets({ onlineOnly: false })
    expect(await s().startRollout()).toBe(true)
    const sent = calls.find((c) => c.method === 'ota.start')!.params as Record<string, unknown>
    expect(sent).toEqual({ ...previewed, seed: 1234 })
    expect(s().updatesSelected).toBe('R7')
    expect(s().updatesRollouts.R7).toEqual(started)
    expect(s().updatesPreview).toBeNull()
    await s().refreshRollout()
    expect(s().updatesDetail).toEqual({ id: 'R7', detail: detailOf(started), error: null })
  })

  it('shows a refusal of the plan in full: devices held by another rollout', async () => {
    const conflict = '5 selected devices are already in active rollout R1: Demo/esp32-001, Demo/esp32-002, Demo/esp32-003, Demo/esp32-004, Demo/esp32-005. Wait for it to end, abort it, or leave these devices out.'
    const { bridge } = fakeBridge({
      'ota.preview': () => preview,
      'ota.start': () => {
        throw new BridgeError({ code: 'CONFLICT', message: conflict })
      },
    })
    const store = updatesStore(bridge)
    const s = store.getState
    s().chooseArtifact(sha('a'))
    await s().previewRollout()
    expect(await s().startRollout()).toBe(false)
    expect(s().updatesPlanError).toBe(`Not started: ${conflict}`)
    expect(s().updatesSelected).toBeNull()
    // Editing the form clears the refusal, which no longer describes it.
    s().setTargets({ onlineOnly: true })
    expect(s().updatesPlanError).toBeNull()
  })

  it('pauses, resumes over a failed gate and aborts, each said in words; a refusal names why', async () => {
    const halted = summary('R1', { status: 'paused', pausedBy: 'health-gate', updatedAt: 5 })
    let status: RolloutSummary = halted
    const { bridge, calls } = fakeBridge({
      'ota.rollout': () => detailOf(status),
      'ota.resume': () => (status = summary('R1', { status: 'running', updatedAt: 6, detail: 'Resumed over the failed health gate of phase canary.' })),
      'ota.abort': () => (status = summary('R1', { status: 'aborting', updatedAt: 7 })),
      'ota.pause': () => {
        throw new BridgeError({ code: 'CONFLICT', message: 'Rollout R1 is aborting: It is not running.' })
      },
    })
    const store = updatesStore(bridge)
    const s = store.getState
    s().receiveRollouts({ set: { R1: halted }, deleted: [] })
    s().selectRollout('R1')
    await s().refreshRollout()
    expect(s().updatesDetail?.detail?.summary.status).toBe('paused')

    const resumed = await s().resumeRollout('R1')
    expect(resumed).toEqual({ ok: true, text: 'Resumed R1 over the failed health gate; the override is in the audit log with your name. Resumed over the failed health gate of phase canary.' })
    expect(s().updatesRollouts.R1!.status).toBe('running')

    const aborted = await s().abortRollout('R1')
    expect(aborted.ok).toBe(true)
    expect(s().updatesRollouts.R1!.status).toBe('aborting')
    expect(await s().pauseRollout('R1')).toEqual({ ok: false, text: 'Not paused: Rollout R1 is aborting: It is not running.' })
    await s().refreshRollout()
    expect(s().updatesDetail?.detail?.summary.status).toBe('aborting')
    expect(calls.filter((c) => c.method === 'ota.rollout').length).toBeGreaterThanOrEqual(2)

    // Back to the form: the detail is no longer fetched.
    s().newRollout(sha('b'))
    expect(s().updatesSelected).toBeNull()
    expect(s().updatesDraft.artifact).toBe(sha('b'))
  })
})
