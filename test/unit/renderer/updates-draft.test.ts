import { describe, expect, it } from 'vitest'
import type { FleetRow } from '../../../shared/contract'
import {
  addPhase,
  defaultPhaseDrafts,
  draftToRequest,
  editPhase,
  matchingNodes,
  newRolloutDraft,
  phasesToRequest,
  removePhase,
  requestKey,
  selectionToRequest,
  targetChoices,
  toggled,
  type PhaseDraft,
  type TargetDraft,
} from '../../../renderer/src/features/updates/rollout-draft'

const sha = 'a'.repeat(64)
const node = (key: string, patch: Partial<FleetRow> = {}): FleetRow => {
  const [group, name] = key.split('/') as [string, string]
  return { key, kind: 'node', group, node: name, device: '', state: 'online', firmware: '1.0.0', rssi: null, lastSeen: null, reboots24h: 0, protocolErrors: 0, ...patch }
}
const filter = (patch: Partial<TargetDraft> = {}): TargetDraft => ({ mode: 'filter', groups: [], versions: [], onlineOnly: false, deviceIds: [], ...patch })
const fast = (phase: PhaseDraft, change: Partial<PhaseDraft>): PhaseDraft => ({ ...phase, ...change })

describe('rollout draft', () => {
  it('starts with the console defaults: a canary of 3, then 5%, 25% and 100%, with their soak, gate and start rate', () => {
    const phases = defaultPhaseDrafts()
    expect(phases.map((p) => [p.kind, p.size, p.soak, p.soakUnit, p.maxFailurePercent, p.minExecuted])).toEqual([
      ['canary', '3', '30', 'min', '10', '3'],
      ['percentage', '5', '1', 'h', '10', '3'],
      ['percentage', '25', '1', 'h', '10', '3'],
      ['percentage', '100', '1', 'h', '10', '3'],
    ])
    const checked = phasesToRequest(phases)
    expect(checked.ok).toBe(true)
    if (!checked.ok) return
    expect(checked.phases[0]).toEqual({ kind: 'canary', devices: 3, soakSeconds: 1800, gate: { maxFailurePercent: 10, minExecuted: 3 }, rate: { perMinute: 10, maxPerMinute: 200, jitterSeconds: 10 } })
    expect(checked.phases.map((p) => p.soakSeconds)).toEqual([1800, 3600, 3600, 3600])
  })

  it('turns a short test rollout into exactly the request typed: seconds, a fast start rate and a small jitter', () => {
    const [canary, , , all] = defaultPhaseDrafts()
    const phases = [fast(canary!, { size: '2', soak: '3', soakUnit: 's', perMinute: '600', maxPerMinute: '600', jitterSeconds: '0.5' }), fast(all!, { soak: '1', soakUnit: 's', perMinute: '600', maxPerMinute: '600', jitterSeconds: '0.5' })]
    const checked = phasesToRequest(phases)
    expect(checked).toEqual({
      ok: true,
      phases: [
        { kind: 'canary', devices: 2, soakSeconds: 3, gate: { maxFailurePercent: 10, minExecuted: 3 }, rate: { perMinute: 600, maxPerMinute: 600, jitterSeconds: 0.5 } },
        { kind: 'percentage', percent: 100, soakSeconds: 1, gate: { maxFailurePercent: 10, minExecuted: 3 }, rate: { perMinute: 600, maxPerMinute: 600, jitterSeconds: 0.5 } },
      ],
    })
  })

  it('names every problem with its phase, instead of sending what the core would refuse', () => {
    const [canary, five, quarter, all] = defaultPhaseDrafts()
    const checked = phasesToRequest([
      fast(canary!, { size: '0' }),
      fast(five!, { kind: 'canary' }),
      fast(quarter!, { size: '20', perMinute: '600', soak: '-1' }),
      fast(all!, { size: '10', maxFailurePercent: '120', minExecuted: '1.5', jitterSeconds: '' }),
    ])
    expect(checked.ok).toBe(false)
    if (checked.ok) return
    expect(checked.problems).toEqual([
      'Phase 1 (Canary): a canary is a whole number of devices, 1 to 1000.',
      'Phase 2 (Canary): only the first phase may be a canary.',
      'Phase 3 (20%): the soak time is 0 to 7 days.',
      'Phase 3 (20%): the start rate (600/min) is above its cap (200/min); raise the cap too.',
      'Phase 4 (10%): percentages must rise from phase to phase (10% after 20%).',
      'Phase 4 (10%): the health gate’s maximum failure is 0 to 100%.',
      'Phase 4 (10%): the health gate’s minimum executed is a whole number of devices, 0 to 10000.',
      'Phase 4 (10%): the jitter is 0 to 3600 seconds.',
    ])
    const short = phasesToRequest([canary!, five!])
    expect(short).toEqual({ ok: false, problems: ['The last phase must reach 100% (it stops at 5%).'] })
  })

  it('adds a phase before the final 100%, halfway to it, and never removes the last one', () => {
    const phases = defaultPhaseDrafts()
    const more = addPhase(phases)
    expect(more.map((p) => p.size)).toEqual(['3', '5', '25', '63', '100'])
    expect(phasesToRequest(more).ok).toBe(true)
    const onlyCanary = addPhase([phases[0]!])
    expect(onlyCanary.map((p) => [p.kind, p.size])).toEqual([
      ['canary', '3'],
      ['percentage', '100'],
    ])
    const one = removePhase(removePhase(removePhase(removePhase(phases, phases[0]!.key), phases[1]!.key), phases[2]!.key), phases[3]!.key)
    expect(one).toHaveLength(1)
    // Switching the first phase's kind gives its size a meaning for the new kind.
    expect(editPhase(phases, phases[0]!.key, { kind: 'percentage' })[0]!.size).toBe('100')
  })

  it('selects by filter (none ticked: everyone) or by hand, and refuses an empty hand pick', () => {
    expect(selectionToRequest(filter())).toEqual({ ok: true, selection: {} })
    expect(selectionToRequest(filter({ groups: ['A', 'B'], versions: ['1.0.0'], onlineOnly: true }))).toEqual({ ok: true, selection: { groups: ['A', 'B'], versions: ['1.0.0'], onlineOnly: true } })
    expect(selectionToRequest(filter({ mode: 'hand' }))).toEqual({ ok: false, problems: ['Tick at least one edge node, or choose devices by filter.'] })
    expect(selectionToRequest(filter({ mode: 'hand', deviceIds: ['A/1'], groups: ['B'] }))).toEqual({ ok: true, selection: { deviceIds: ['A/1'] } })
    expect(toggled(toggled(toggled([], 'b', true), 'a', true), 'b', false)).toEqual(['a'])
  })

  it('a request needs an image; the same form gives the same key, so a preview knows whether it is still the plan', () => {
    const draft = newRolloutDraft()
    expect(draftToRequest(draft)).toEqual({ ok: false, problems: ['Choose the image to roll out.'] })
    const a = draftToRequest({ ...draft, artifact: sha })
    const b = draftToRequest({ ...draft, artifact: sha })
    expect(a.ok && b.ok && requestKey(a.request) === requestKey(b.request)).toBe(true)
    const c = draftToRequest({ ...draft, artifact: sha, targets: filter({ onlineOnly: true }) })
    expect(a.ok && c.ok && requestKey(a.request) !== requestKey(c.request)).toBe(true)
  })

  it('offers the fleet’s edge nodes, groups and versions, and counts what the targets pick', () => {
    const rows = {
      'B/n2': node('B/n2', { firmware: '1.1.0', state: 'offline' }),
      'A/n1': node('A/n1'),
      'A/n1/pump': { ...node('A/n1'), key: 'A/n1/pump', kind: 'device' as const, device: 'pump' },
      'A/n3': node('A/n3', { firmware: '' }),
    }
    const choices = targetChoices(rows)
    expect(choices.nodes.map((n) => n.key)).toEqual(['A/n1', 'A/n3', 'B/n2'])
    expect(choices.groups).toEqual([
      { name: 'A', nodes: 2 },
      { name: 'B', nodes: 1 },
    ])
    expect(choices.versions).toEqual([
      { name: '1.0.0', nodes: 1 },
      { name: '1.1.0', nodes: 1 },
    ])
    expect(matchingNodes(choices.nodes, filter()).length).toBe(3)
    expect(matchingNodes(choices.nodes, filter({ onlineOnly: true })).map((n) => n.key)).toEqual(['A/n1', 'A/n3'])
    expect(matchingNodes(choices.nodes, filter({ versions: ['1.1.0'] })).map((n) => n.key)).toEqual(['B/n2'])
    expect(matchingNodes(choices.nodes, filter({ mode: 'hand', deviceIds: ['A/n3'], groups: ['B'] })).map((n) => n.key)).toEqual(['A/n3'])
  })
})
