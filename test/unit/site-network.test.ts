import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../shared/domain/seeded-random'
import { buildCoverageGrid, buildWallSet, cellIndexAt, freeSpaceLossAt1mDb, radioMap } from '../../shared/domain/site/coverage'
import type { Catalogue, MountingPoint, Obstruction, PlacedDevice, RadioPart, SiteModel } from '../../shared/domain/site/model'
import { assignNetwork, linkBudget, sharesBand, type NetworkPlan } from '../../shared/domain/site/network'

const gateway = (partNumber: string, maxNodes?: number): RadioPart => ({
  kind: 'gateway',
  partNumber,
  name: partNumber,
  frequencyMHz: 2440,
  txPowerDbm: 15,
  antennaGainDbi: 5,
  sensitivityDbm: -95,
  ...(maxNodes === undefined ? {} : { maxNodes }),
  powerW: 7.5,
  priceEur: 290,
})
const node: RadioPart = { kind: 'node', partNumber: 'NODE', name: 'Wi-Fi node', frequencyMHz: 2440, txPowerDbm: 18, antennaGainDbi: 2, sensitivityDbm: -93, powerW: 0.15, priceEur: 38 }
const catalogue: Catalogue = [
  gateway('GW'),
  gateway('GW-1', 1),
  gateway('GW-2', 2),
  node,
  { ...node, partNumber: 'NODE-868', frequencyMHz: 868, txPowerDbm: 14, sensitivityDbm: -129 },
  { ...node, partNumber: 'NODE-POE', supply: { kind: 'poe', poeClass: 1 } },
  { kind: 'sensor', partNumber: 'PIR-W', name: 'wireless PIR', technology: 'PIR', rangeM: 12, angleDeg: 110, radio: { frequencyMHz: 2440, txPowerDbm: 18, antennaGainDbi: 2, sensitivityDbm: -93 }, powerW: 0.03, priceEur: 85 },
  { kind: 'sensor', partNumber: 'PIR', name: 'wired PIR', technology: 'PIR', rangeM: 12, angleDeg: 110, powerW: 0.3, priceEur: 55 },
]

/** Devices at points: each gets a mounting point of its own there. */
function site(devices: { id: string; part: string; x: number; y: number }[], obstructions: Obstruction[] = []): SiteModel {
  const mountingPoints: MountingPoint[] = devices.map((d) => ({ id: `m-${d.id}`, x: d.x, y: d.y, heightM: 3, allowedKinds: ['gateway', 'node', 'sensor'] }))
  const placed: PlacedDevice[] = devices.map((d) => ({ id: d.id, partNumber: d.part, mountingPointId: `m-${d.id}`, orientationDeg: 0 }))
  return {
    name: 'network test',
    origin: { lat: 48.2, lon: 16.37 },
    boundary: [{ x: -200, y: -200 }, { x: 200, y: -200 }, { x: 200, y: 200 }, { x: -200, y: 200 }],
    zones: [],
    obstructions,
    mountingPoints,
    devices: placed,
  }
}

const wall = (id: string, ax: number, ay: number, bx: number, by: number, material: 'concrete' | 'metal', attenuationDb: number): Obstruction => ({
  id,
  shape: { kind: 'segment', a: { x: ax, y: ay }, b: { x: bx, y: by } },
  material,
  heightM: 3,
  blocksSight: true,
  attenuationDb,
})

const assignment = (plan: NetworkPlan) => Object.fromEntries(plan.links.map((l) => [l.nodeId, l.gatewayId]))

describe('link budget', () => {
  // 2440 MHz: PL(1 m) = 20·log10(2440) − 27.55 = 40.198 dB. At 30 m with n = 3: 40.198 + 30·log10(30) = 84.511 dB.
  // Through one concrete wall (15 dB), less 5 + 2 dBi of antennas: 92.511 dB between the connectors.
  // Up: 18 − 92.511 = −74.511 dBm at the gateway, 20.489 dB over its −95. Down: 15 − 92.511 = −77.511 dBm,
  // 15.489 dB over the node's −93: the downlink is the weaker way and sets the margin.
  const concrete = wall('c', 15, -10, 15, 10, 'concrete', 15)

  it('is log-distance loss plus each wall crossed, the weaker direction setting the margin', () => {
    const budget = linkBudget(buildWallSet([concrete]), { x: 30, y: 0, radio: node }, { x: 0, y: 0, radio: gateway('GW') })
    expect(freeSpaceLossAt1mDb(2440)).toBeCloseTo(40.198, 3)
    expect(budget.pathLossDb).toBeCloseTo(84.511, 3)
    expect(budget.wallLossDb).toBe(15)
    expect(budget.uplinkDbm).toBeCloseTo(-74.511, 3)
    expect(budget.downlinkDbm).toBeCloseTo(-77.511, 3)
    expect(budget.marginDb).toBeCloseTo(15.489, 3)
    // A wall the gateway is fixed to (within a centimetre) is its bracket, not an obstruction; one it stands clear of counts.
    const bracket = wall('b', 0.005, -1, 0.005, 1, 'metal', 26)
    expect(linkBudget(buildWallSet([bracket]), { x: 30, y: 0, radio: node }, { x: 0, y: 0, radio: gateway('GW') }).wallLossDb).toBe(0)
    expect(linkBudget(buildWallSet([{ ...bracket, shape: { kind: 'segment', a: { x: 0.5, y: -1 }, b: { x: 0.5, y: 1 } } }]), { x: 30, y: 0, radio: node }, { x: 0, y: 0, radio: gateway('GW') }).wallLossDb).toBe(26)
  })

  it('agrees with the coverage map at the node, through a building footprint (two walls crossed)', () => {
    const building: Obstruction = { ...wall('house', 0, 0, 0, 0, 'concrete', 12), shape: { kind: 'polygon', points: [{ x: 10, y: -5 }, { x: 20, y: -5 }, { x: 20, y: 5 }, { x: 10, y: 5 }] } }
    const plan = site([{ id: 'gw', part: 'GW', x: 0.25, y: 0.75 }])
    const grid = buildCoverageGrid({ ...plan, obstructions: [building] }, { cellSizeM: 1 })
    const at = { x: 31.5, y: 0.5 } // a cell centre
    const walls = buildWallSet([building])
    const map = radioMap(grid, walls, [{ x: 0.25, y: 0.75, eirpDbm: 20, referenceLossDb: freeSpaceLossAt1mDb(2440) }], { exponent: 3, receiverGainDbi: node.antennaGainDbi, floorDbm: -130 })
    const budget = linkBudget(walls, { ...at, radio: node }, { x: 0.25, y: 0.75, radio: gateway('GW') })
    expect(budget.wallLossDb).toBe(24)
    expect(budget.downlinkDbm).toBeCloseTo(map[cellIndexAt(grid, at)]!, 4)
  })

  it('links radios of one band only', () => {
    expect(sharesBand({ ...node, frequencyMHz: 2412 }, { ...node, frequencyMHz: 2484 })).toBe(true)
    expect(sharesBand({ ...node, frequencyMHz: 868 }, { ...node, frequencyMHz: 863 })).toBe(true)
    expect(sharesBand({ ...node, frequencyMHz: 2440 }, { ...node, frequencyMHz: 5500 })).toBe(false)
    expect(sharesBand({ ...node, frequencyMHz: 868 }, { ...node, frequencyMHz: 915 })).toBe(false)
    expect(sharesBand({ ...node, frequencyMHz: 868 }, node)).toBe(false)
  })
})

describe('assignNetwork', () => {
  it('links each node to its best gateway, with the margin the link budget gives', () => {
    const plan = assignNetwork(site([{ id: 'gw-a', part: 'GW', x: 0, y: 0 }, { id: 'gw-b', part: 'GW', x: 100, y: 0 }, { id: 'n', part: 'NODE', x: 30, y: 0 }], [wall('c', 15, -10, 15, 10, 'concrete', 15)]), catalogue)
    // To gw-a: 15.489 dB through the wall (above). To gw-b, 70 m clear: 40.198 + 30·log10(70) − 7 = 88.551 dB; down 15 − 88.551 + 93 = 19.449 dB.
    expect(plan.links).toEqual([{ nodeId: 'n', gatewayId: 'gw-b', rssiDbm: expect.closeTo(-70.55, 2), downlinkRssiDbm: expect.closeTo(-73.55, 2), marginDb: expect.closeTo(19.45, 2), distanceM: 70, wallLossDb: 0 }])
    expect(plan.gateways).toEqual([{ gatewayId: 'gw-a', load: 0, capacity: null }, { gatewayId: 'gw-b', load: 1, capacity: null }])
  })

  it('moves the weakest node of a full gateway to its next best', () => {
    // All three hear gw-a best (5, 8 and 12 m) and gw-b too (55, 52, 48 m); gw-a takes two.
    const plan = assignNetwork(
      site([
        { id: 'gw-a', part: 'GW-2', x: 0, y: 0 },
        { id: 'gw-b', part: 'GW', x: 60, y: 0 },
        { id: 'far', part: 'NODE', x: 12, y: 0 },
        { id: 'near', part: 'NODE', x: 5, y: 0 },
        { id: 'mid', part: 'NODE', x: 8, y: 0 },
      ]),
      catalogue,
    )
    expect(assignment(plan)).toEqual({ far: 'gw-b', near: 'gw-a', mid: 'gw-a' })
    expect(plan.gateways).toEqual([{ gatewayId: 'gw-a', load: 2, capacity: 2 }, { gatewayId: 'gw-b', load: 1, capacity: null }])
    expect(plan.unassigned).toEqual([])
  })

  it('moves a node that has another gateway to make room for one that has none', () => {
    // n1 hears gw-a best (44.8 dB) and gw-b well (30.5 dB); n2 hears only gw-a (35.8 dB): a metal wall hides gw-b
    // (−0.7 dB). Best margin first gives gw-a to n1 and strands n2; the one move n1 → gw-b links both.
    const plan = assignNetwork(
      site(
        [
          { id: 'gw-a', part: 'GW-1', x: 0, y: 0 },
          { id: 'gw-b', part: 'GW-1', x: 40, y: 0 },
          { id: 'n1', part: 'NODE', x: 10, y: 0 },
          { id: 'n2', part: 'NODE', x: 0, y: -20 },
        ],
        [wall('shed', 5, -30, 5, -5, 'metal', 26)],
      ),
      catalogue,
    )
    expect(assignment(plan)).toEqual({ n1: 'gw-b', n2: 'gw-a' })
    expect(plan.links.find((l) => l.nodeId === 'n2')!.marginDb).toBeCloseTo(35.77, 2)
    expect(plan.links.find((l) => l.nodeId === 'n1')!.marginDb).toBeCloseTo(30.49, 2)
  })

  it('says why a node is left without a gateway, and sends PoE nodes down their cable', () => {
    const plan = assignNetwork(
      site(
        [
          { id: 'gw', part: 'GW-1', x: 0, y: 0 },
          { id: 'first', part: 'NODE', x: 5, y: 0 },
          { id: 'second', part: 'PIR-W', x: 6, y: 0 },
          { id: 'behind', part: 'NODE', x: -30, y: 0 },
          { id: 'sub-ghz', part: 'NODE-868', x: 3, y: 0 },
          { id: 'cabled', part: 'NODE-POE', x: 4, y: 0 },
          { id: 'wired-pir', part: 'PIR', x: 4, y: 1 },
        ],
        [wall('tank', -10, -5, -10, 5, 'metal', 26), wall('store', -20, -5, -20, 5, 'concrete', 15)],
      ),
      catalogue,
      { requiredMarginDb: 12 },
    )
    expect(assignment(plan)).toEqual({ first: 'gw' })
    // behind: 30 m, 84.511 dB, 41 dB of walls, 7 dBi: down 15 − 118.511 + 93 = −10.511 dB.
    expect(plan.unassigned).toEqual([
      {
        nodeId: 'second',
        cause: 'gateways-full',
        reason: 'Node second reaches only full gateways: gw (1 of 1); add a gateway or choose one that serves more nodes.',
        best: { gatewayId: 'gw', marginDb: expect.any(Number) },
      },
      {
        nodeId: 'behind',
        cause: 'out-of-range',
        reason: 'Node behind is out of range: its best gateway, gw, gives -10.5 dB of margin where 12 dB is needed (30 m away, 41 dB lost in walls); move it or add a gateway nearer.',
        best: { gatewayId: 'gw', marginDb: expect.closeTo(-10.511, 3) },
      },
      { nodeId: 'sub-ghz', cause: 'no-gateway-on-band', reason: 'Node sub-ghz has no gateway on its 868 MHz band; add one.', best: null },
    ])
    expect(plan.wired).toEqual(['cabled'])
  })

  it('reports a node whose mounting point is missing, and is the same plan every time', () => {
    const base = site([{ id: 'gw', part: 'GW', x: 0, y: 0 }, { id: 'n', part: 'NODE', x: 5, y: 0 }])
    const lost = { ...base, devices: [...base.devices, { id: 'lost', partNumber: 'NODE', mountingPointId: 'nowhere', orientationDeg: 0 }] }
    const plan = assignNetwork(lost, catalogue)
    expect(plan.unassigned).toEqual([{ nodeId: 'lost', cause: 'not-placed', reason: 'Node lost is on mounting point nowhere, which does not exist; place it to link it.', best: null }])
    expect(assignNetwork(lost, catalogue)).toEqual(plan)
  })

  it('links as many nodes as any assignment could, within every capacity and margin', () => {
    const random = seededRandom(7)
    for (let round = 0; round < 40; round++) {
      const devices = [
        ...Array.from({ length: 3 }, (_, i) => ({ id: `gw-${i}`, part: ['GW-1', 'GW-2', 'GW-1'][i]!, x: random() * 160 - 80, y: random() * 160 - 80 })),
        ...Array.from({ length: 7 }, (_, i) => ({ id: `n-${i}`, part: 'NODE', x: random() * 160 - 80, y: random() * 160 - 80 })),
      ]
      const plan = assignNetwork(site(devices), catalogue, { requiredMarginDb: 20 })
      const capacities = [1, 2, 1]
      for (const link of plan.links) expect(link.marginDb).toBeGreaterThanOrEqual(20)
      plan.gateways.forEach((g, i) => expect(g.load).toBeLessThanOrEqual(capacities[i]!))
      expect(plan.links.length + plan.unassigned.length).toBe(7)
      expect(plan.links.length).toBe(bruteForceMaximum(devices, capacities))
    }
  })
})

/** The most nodes any assignment links, trying every one (4⁷ for three gateways and seven nodes). */
function bruteForceMaximum(devices: { id: string; x: number; y: number }[], capacities: number[]): number {
  const walls = buildWallSet([])
  const gateways = devices.slice(0, capacities.length)
  const nodes = devices.slice(capacities.length)
  const reaches = nodes.map((n) => gateways.map((g) => linkBudget(walls, { ...n, radio: node }, { ...g, radio: gateway('GW') }).marginDb >= 20))
  let best = 0
  const load = capacities.map(() => 0)
  const visit = (i: number, linked: number) => {
    if (i === nodes.length) {
      best = Math.max(best, linked)
      return
    }
    visit(i + 1, linked)
    reaches[i]!.forEach((ok, g) => {
      if (!ok || load[g]! >= capacities[g]!) return
      load[g]!++
      visit(i + 1, linked + 1)
      load[g]!--
    })
  }
  visit(0, 0)
  return best
}
