import { describe, expect, it } from 'vitest'
import type { GateView, RolloutPhaseView, RolloutSummary } from '../../../shared/contract'
import {
  formatDuration,
  gateSummary,
  mergeRolloutList,
  rolloutControls,
  secureBootText,
  soakLeft,
  sortedRollouts,
  statusLabel,
  stoppingGate,
  tally,
  tallyShares,
  tallyText,
  withSummary,
} from '../../../renderer/src/features/updates/updates-model'

const failedGate: GateView = {
  passed: false,
  early: false,
  at: 5_000,
  findings: [{ reason: 'failure-share', detail: '2 of 2 devices failed or rolled back (100%); at most 10% may.', deviceIds: ['Demo/esp32-001', 'Demo/esp32-004'] }],
  executed: 2,
  succeeded: 0,
  failed: 0,
  rolledBack: 2,
}

const phase = (patch: Partial<RolloutPhaseView> = {}): RolloutPhaseView => ({ index: 0, name: 'canary', state: 'rolling', devices: 2, counts: {}, soakSeconds: 3, soakStartedAt: null, overridden: false, gate: null, ...patch })

const summary = (id: string, patch: Partial<RolloutSummary> = {}): RolloutSummary => ({
  id,
  artifact: 'a'.repeat(64),
  version: '2.0.0',
  fileName: 'app.bin',
  operator: 'ada',
  createdAt: 1_000,
  updatedAt: 1_000,
  status: 'running',
  pausedBy: null,
  detail: 'Started.',
  currentPhase: 0,
  devices: 5,
  counts: { queued: 5 },
  phases: [phase(), phase({ index: 1, name: '100%', state: 'pending', devices: 3 })],
  startRate: 10,
  ...patch,
})

describe('updates model', () => {
  it('offers exactly the controls the core accepts in each status, and names an override as one', () => {
    expect(rolloutControls({ status: 'ready', pausedBy: null })).toEqual({ pause: false, resume: false, abort: true, resumeLabel: 'Resume' })
    expect(rolloutControls({ status: 'running', pausedBy: null })).toEqual({ pause: true, resume: false, abort: true, resumeLabel: 'Resume' })
    expect(rolloutControls({ status: 'paused', pausedBy: 'operator' })).toEqual({ pause: false, resume: true, abort: true, resumeLabel: 'Resume' })
    expect(rolloutControls({ status: 'paused', pausedBy: 'health-gate' })).toEqual({ pause: false, resume: true, abort: true, resumeLabel: 'Resume over failed gate' })
    for (const status of ['aborting', 'aborted', 'completed'] as const) expect(rolloutControls({ status, pausedBy: null })).toMatchObject({ pause: false, resume: false, abort: false })
    expect(statusLabel({ status: 'paused', pausedBy: 'health-gate' })).toBe('paused by health gate')
  })

  it('tallies a phase by what its devices are, in words and in bar shares', () => {
    const t = tally({ succeeded: 2, 'rolled-back': 1, downloading: 1, installing: 1, queued: 4, cancelled: 1 }, 10)
    expect(t).toEqual({ succeeded: 2, failed: 0, rolledBack: 1, inFlight: 2, queued: 4, stopped: 1, total: 10 })
    expect(tallyText(t)).toBe('2 succeeded · 1 rolled back · 2 in flight · 4 queued · 1 cancelled or skipped')
    expect(tallyShares(t).map((s) => [s.kind, s.percent])).toEqual([
      ['succeeded', 20],
      ['rolled-back', 10],
      ['in-flight', 20],
      ['stopped', 10],
    ])
    expect(tallyText(tally({}, 3))).toBe('3 devices, none started')
  })

  it('finds the gate that stopped a rollout, and says why in its own words', () => {
    const halted = summary('R1', { status: 'paused', pausedBy: 'health-gate', phases: [phase({ state: 'gate-failed', gate: failedGate }), phase({ index: 1, name: '100%', state: 'pending' })] })
    const stop = stoppingGate(halted)
    expect(stop?.phase.name).toBe('canary')
    expect(gateSummary(stop!.phase)).toEqual({ state: 'failed', text: 'Failed: 2 of 2 devices failed or rolled back (100%); at most 10% may. 2 ran to the end: 0 succeeded, 0 failed, 2 rolled back.' })
    expect(stoppingGate(summary('R2'))).toBeNull()
    expect(gateSummary(phase({ overridden: true, state: 'passed', gate: failedGate })).state).toBe('overridden')
    expect(gateSummary(phase({ state: 'stopped' })).text).toMatch(/stopped/)
  })

  it('lists rollouts newest first, and a list answer never puts back an older summary than the stream brought', () => {
    const rows = { a: summary('a', { createdAt: 1 }), b: summary('b', { createdAt: 3 }), c: summary('c', { createdAt: 2 }) }
    expect(sortedRollouts(rows).map((r) => r.id)).toEqual(['b', 'c', 'a'])
    const streamed = { a: summary('a', { updatedAt: 50, status: 'completed' }), gone: summary('gone') }
    const merged = mergeRolloutList(streamed, [summary('a', { updatedAt: 40 }), summary('b')])
    expect(Object.keys(merged).sort()).toEqual(['a', 'b'])
    expect(merged.a!.status).toBe('completed')
    expect(mergeRolloutList(merged, [merged.a!, merged.b!])).toBe(merged)
    expect(withSummary(merged, summary('a', { updatedAt: 10 }))).toBe(merged)
    expect(withSummary(merged, summary('a', { updatedAt: 60, status: 'aborted' })).a!.status).toBe('aborted')
  })

  it('counts down a soak and writes durations and Secure Boot plainly', () => {
    expect(soakLeft({ state: 'soaking', soakStartedAt: 10_000, soakSeconds: 30 }, 25_500)).toBe(15)
    expect(soakLeft({ state: 'rolling', soakStartedAt: null, soakSeconds: 30 }, 25_500)).toBeNull()
    expect([5, 90, 1800, 3600, 5400, 7 * 86_400].map(formatDuration)).toEqual(['5 s', '1 min 30 s', '30 min', '1 h', '1 h 30 min', '7 d'])
    expect(secureBootText({ secureBootBlocks: [] })).toMatch(/^Unsigned by Secure Boot/)
    expect(secureBootText({ secureBootBlocks: [{ scheme: 'ECDSA-P256', publicKeyDigest: 'b'.repeat(64) }] })).toBe('Secure Boot v2: 1 signature block verified (ECDSA-P256; key bbbbbbbbbbbb…).')
  })
})
