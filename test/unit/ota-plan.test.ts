// Rollout planning: which devices, refused or left out with which reason, split into which cohorts, and
// the preview the operator confirms. Deterministic for a seed.
import { describe, expect, it } from 'vitest'
import { defaultHealthGate, planRollout, previewRollout, type FleetDevice, type PlanOptions, type PlanResult, type RolloutPlan } from '../../shared/domain/ota/rollout-plan'

const IMAGE = { version: '2.0.0', chip: 'esp32s3', url: 'https://console.local/ota/app.bin', sha256: 'ef'.repeat(32), size: 1_000_000 }

function device(id: string, over: Partial<FleetDevice> = {}): FleetDevice {
  return { id, group: 'line-1', tags: [], firmwareVersion: '1.0.0', online: true, chip: 'esp32s3', ...over }
}

function fleetOf(n: number, over: (i: number) => Partial<FleetDevice> = () => ({})): FleetDevice[] {
  return Array.from({ length: n }, (_, i) => device(`n${String(i).padStart(4, '0')}`, over(i)))
}

function plan(fleet: FleetDevice[], options: Partial<PlanOptions> = {}): PlanResult {
  return planRollout(fleet, { rolloutId: 'r7', image: IMAGE, selection: {}, seed: 42, ...options })
}

function ok(result: PlanResult): RolloutPlan {
  if (!result.ok) throw new Error(`refused: ${result.refusal.reason}: ${result.refusal.detail}`)
  return result.plan
}

const targetIds = (p: RolloutPlan) => p.targets.map((t) => t.id).sort()

describe('target selection', () => {
  const fleet = [
    device('a', { group: 'line-1', tags: ['pilot', 'north'] }),
    device('b', { group: 'line-1', tags: ['north'], firmwareVersion: '1.1.0' }),
    device('c', { group: 'line-2', tags: ['pilot'], online: false }),
    device('d', { group: 'line-2', tags: [], firmwareVersion: null }),
    device('e', { group: 'line-3', tags: ['pilot', 'north'] }),
  ]

  it('by group, by tag (every tag listed), by current version, online only, by hand; filters combine', () => {
    expect(targetIds(ok(plan(fleet, { selection: { groups: ['line-2'] } })))).toEqual(['c', 'd'])
    expect(targetIds(ok(plan(fleet, { selection: { tags: ['pilot', 'north'] } })))).toEqual(['a', 'e'])
    expect(targetIds(ok(plan(fleet, { selection: { versions: ['1.1.0'] } })))).toEqual(['b'])
    expect(targetIds(ok(plan(fleet, { selection: { onlineOnly: true } })))).toEqual(['a', 'b', 'd', 'e'])
    expect(targetIds(ok(plan(fleet, { selection: { deviceIds: ['e', 'b'] } })))).toEqual(['b', 'e'])
    expect(targetIds(ok(plan(fleet, { selection: { groups: ['line-1', 'line-2'], tags: ['pilot'], onlineOnly: true } })))).toEqual(['a'])
  })

  it('leaves out what cannot take the image and says why', () => {
    const mixed = [device('x', { chip: 'esp32c3' }), device('y', { firmwareVersion: '2.0.0' }), device('z', { online: false }), device('w')]
    const p = ok(plan(mixed, { selection: { onlineOnly: true } }))
    expect(targetIds(p)).toEqual(['w'])
    expect(p.excluded).toEqual([
      { deviceId: 'x', reason: 'wrong-chip', detail: 'Is esp32c3; the image is built for esp32s3.' },
      { deviceId: 'y', reason: 'already-on-version', detail: 'Already runs 2.0.0.' },
      { deviceId: 'z', reason: 'offline', detail: 'Offline, and the selection asks for online devices only.' },
    ])
  })

  it('refuses ids the fleet does not know, rather than skipping them', () => {
    const result = plan(fleet, { selection: { deviceIds: ['a', 'ghost', 'nope'] } })
    expect(result).toMatchObject({ ok: false, refusal: { reason: 'unknown-devices', deviceIds: ['ghost', 'nope'] } })
    if (!result.ok) expect(result.refusal.detail).toBe('Not in the fleet: ghost, nope.')
  })

  it('refuses a selection that leaves nothing to do', () => {
    expect(plan(fleet, { selection: { groups: ['line-9'] } })).toMatchObject({ ok: false, refusal: { reason: 'no-targets', detail: 'The selection matches no device.' } })
    const allNew = [device('p', { firmwareVersion: '2.0.0' })]
    expect(plan(allNew)).toMatchObject({ ok: false, refusal: { reason: 'no-targets', excluded: [{ deviceId: 'p', reason: 'already-on-version' }] } })
  })

  it('refuses a bad image description', () => {
    expect(plan(fleet, { image: { ...IMAGE, sha256: 'XYZ' } })).toMatchObject({ ok: false, refusal: { reason: 'bad-image' } })
    expect(plan(fleet, { image: { ...IMAGE, size: 0 } })).toMatchObject({ ok: false, refusal: { reason: 'bad-image' } })
  })
})

describe('a second rollout over devices already in one', () => {
  const fleet = fleetOf(10)
  const active = new Map([
    ['n0003', 'r5'],
    ['n0007', 'r6'],
    ['n0009', 'r5'],
  ])

  it('is refused by default, naming the devices and the rollouts that hold them', () => {
    const result = plan(fleet, { activeRollouts: active })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.refusal).toMatchObject({
      reason: 'devices-in-active-rollout',
      devices: [
        { deviceId: 'n0003', rolloutId: 'r5' },
        { deviceId: 'n0007', rolloutId: 'r6' },
        { deviceId: 'n0009', rolloutId: 'r5' },
      ],
    })
    expect(result.refusal.detail).toBe(
      '3 selected devices are already in active rollout r5, r6: n0003, n0007, n0009. Wait for it to end, abort it, or leave these devices out.',
    )
  })

  it('or resolved by leaving them out, each listed with the rollout that holds it', () => {
    const p = ok(plan(fleet, { activeRollouts: active, busyDevices: 'exclude' }))
    expect(p.targets).toHaveLength(7)
    expect(p.excluded).toEqual([
      { deviceId: 'n0003', reason: 'in-active-rollout', detail: 'In active rollout r5.' },
      { deviceId: 'n0007', reason: 'in-active-rollout', detail: 'In active rollout r6.' },
      { deviceId: 'n0009', reason: 'in-active-rollout', detail: 'In active rollout r5.' },
    ])
  })

  it('does not care about busy devices the selection does not touch', () => {
    expect(plan(fleet, { activeRollouts: active, selection: { deviceIds: ['n0001', 'n0002'] } }).ok).toBe(true)
  })
})

describe('phases', () => {
  it('defaults to a canary of 3, then 5%, 25% and 100% of the rest', () => {
    const p = ok(plan(fleetOf(1_000)))
    expect(p.phases.map((ph) => [ph.name, ph.deviceIds.length])).toEqual([
      ['canary', 3],
      ['5%', 50],
      ['25%', 200],
      ['100%', 747],
    ])
    expect(p.phases.map((ph) => ph.soakMs)).toEqual([30 * 60_000, 60 * 60_000, 60 * 60_000, 60 * 60_000])
    // A canary runs to its end; percentages stop early.
    expect(p.phases.map((ph) => ph.gate.stopEarly)).toEqual([false, true, true, true])
    expect(p.phases[1]!.gate).toEqual(defaultHealthGate)
  })

  it('touches every target exactly once', () => {
    const p = ok(plan(fleetOf(137)))
    const all = p.phases.flatMap((ph) => ph.deviceIds)
    expect(all).toHaveLength(137)
    expect(new Set(all).size).toBe(137)
    expect(p.phases.map((ph) => ph.deviceIds.length)).toEqual([3, 7, 27, 100])
  })

  it('rounds small cohorts up and drops empty ones', () => {
    expect(ok(plan(fleetOf(10))).phases.map((ph) => ph.deviceIds.length)).toEqual([3, 1, 1, 5])
    expect(ok(plan(fleetOf(4))).phases.map((ph) => [ph.name, ph.deviceIds.length])).toEqual([
      ['canary', 3],
      ['5%', 1],
    ])
    expect(ok(plan(fleetOf(2))).phases.map((ph) => [ph.name, ph.deviceIds.length])).toEqual([['canary', 2]])
  })

  it('takes its settings per phase', () => {
    const p = ok(
      plan(fleetOf(100), {
        phases: [
          { kind: 'canary', devices: 5, soakMs: 0, gate: { maxFailureShare: 0 } },
          { kind: 'percentage', percent: 100, rate: { basePerMinute: 50, maxPerMinute: 500 } },
        ],
      }),
    )
    expect(p.phases.map((ph) => ph.deviceIds.length)).toEqual([5, 95])
    expect(p.phases[0]).toMatchObject({ soakMs: 0, gate: { maxFailureShare: 0, stopEarly: false } })
    expect(p.phases[1]!.rate).toMatchObject({ basePerMinute: 50, maxPerMinute: 500, incrementFactor: 2 })
  })

  it('refuses phases that make no sense', () => {
    const bad = (phases: PlanOptions['phases'], text: string) =>
      expect(plan(fleetOf(20), { phases })).toMatchObject({ ok: false, refusal: { reason: 'bad-phases', detail: expect.stringContaining(text) } })
    bad([{ kind: 'percentage', percent: 50 }], 'must reach 100%')
    bad(
      [
        { kind: 'percentage', percent: 50 },
        { kind: 'percentage', percent: 25 },
        { kind: 'percentage', percent: 100 },
      ],
      'must rise',
    )
    bad(
      [
        { kind: 'percentage', percent: 50 },
        { kind: 'canary', devices: 2 },
      ],
      'Only the first phase',
    )
    bad([{ kind: 'canary', devices: 0 }], 'at least 1')
    bad([], 'at least one phase')
    bad([{ kind: 'percentage', percent: 100, rate: { basePerMinute: 500 } }], 'above maxPerMinute')
  })
})

describe('determinism and the canary', () => {
  it('gives the same plan for the same seed, whatever order the snapshot lists the fleet in', () => {
    const fleet = fleetOf(300)
    const a = ok(plan(fleet))
    const b = ok(plan([...fleet].reverse()))
    expect(b.phases.map((p) => p.deviceIds)).toEqual(a.phases.map((p) => p.deviceIds))
    const c = ok(plan(fleet, { seed: 43 }))
    expect(c.phases[0]!.deviceIds).not.toEqual(a.phases[0]!.deviceIds)
  })

  it('spreads the canary over groups, so one site’s configuration is not the only witness', () => {
    const fleet = fleetOf(90, (i) => ({ group: `line-${i % 3}` }))
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = ok(plan(fleet, { seed }))
      const groups = p.phases[0]!.deviceIds.map((id) => fleet.find((d) => d.id === id)!.group)
      expect(new Set(groups).size).toBe(3)
    }
  })

  it('previews exactly which devices each phase touches, with counts by group and version', () => {
    const fleet = fleetOf(40, (i) => ({ group: i < 30 ? 'line-1' : 'line-2', firmwareVersion: i % 2 === 0 ? '1.0.0' : '1.1.0' }))
    const p = ok(plan(fleet))
    const preview = previewRollout(p)
    expect(preview.map((ph) => ph.name)).toEqual(['canary', '5%', '25%', '100%'])
    expect(preview.map((ph) => ph.devices.map((d) => d.id))).toEqual(p.phases.map((ph) => ph.deviceIds))
    const total = (key: 'byGroup' | 'byFromVersion') =>
      preview.reduce<Record<string, number>>((acc, ph) => {
        for (const [k, v] of Object.entries(ph[key])) acc[k] = (acc[k] ?? 0) + v
        return acc
      }, {})
    expect(total('byGroup')).toEqual({ 'line-1': 30, 'line-2': 10 })
    expect(total('byFromVersion')).toEqual({ '1.0.0': 20, '1.1.0': 20 })
    expect(preview[0]!.devices[0]).toMatchObject({ chip: 'esp32s3', online: true })
  })
})
