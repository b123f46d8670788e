import { defaultPathLossModel, freeSpaceLossAt1mDb } from './coverage'
import { findPart, radioOf, type Catalogue, type RadioSpec, type SiteModel } from './model'
import { buildWallSet, distanceToWall, ownWallToleranceM, type WallSet } from './walls'

/**
 * The radio network of a site: which gateway each node reports to, with what margin, and which nodes
 * find none.
 *
 * A node is any placed device with a radio of its own (a node part, or a camera or sensor whose part
 * carries a radio) that is not powered over Ethernet: PoE is Ethernet, so a PoE device sends its data
 * down the cable that feeds it and takes no gateway slot; those are listed as `wired`.
 *
 * A link is the coverage map's radio model between two points: log-distance path loss at the gateway's
 * frequency, in plan, less every wall crossed, and it must clear the receiver's sensitivity by the margin
 * both ways (the weaker direction is the link's margin). Radios link only within one band.
 */

/** Fade margin over sensitivity a link needs, as the coverage map's radio share uses by default. */
export const defaultLinkMarginDb = 10

/**
 * Frequencies within this share of each other are one band, whichever channel a datasheet quotes: the
 * first and last 2.4 GHz channels (2412 and 2484 MHz) are 2.9 % apart, 863 and 870 MHz under 1 %, while
 * 868 and 915 MHz — two regions' sub-GHz bands — are 5 % apart.
 */
const sameBandShare = 0.03

export function sharesBand(a: RadioSpec, b: RadioSpec): boolean {
  return Math.abs(a.frequencyMHz - b.frequencyMHz) <= sameBandShare * Math.max(a.frequencyMHz, b.frequencyMHz)
}

export interface RadioEnd {
  x: number
  y: number
  radio: RadioSpec
}

export interface LinkBudget {
  /** In plan, as the coverage map measures. */
  distanceM: number
  /** Log-distance loss at the gateway's frequency (it sets the channel plan), walls apart. */
  pathLossDb: number
  wallLossDb: number
  /** Level the gateway receives from the node. */
  uplinkDbm: number
  /** Level the node receives from the gateway. */
  downlinkDbm: number
  /** Over sensitivity in the weaker direction. */
  marginDb: number
}

/**
 * The link between a node and a gateway, by the same model `radioMap` paints: PL(1 m) + 10·n·log10(d),
 * held at the one-metre level inside a metre, plus every wall the straight path crosses in plan.
 */
export function linkBudget(walls: WallSet, node: RadioEnd, gateway: RadioEnd, exponent: number = defaultPathLossModel.exponent): LinkBudget {
  const distanceM = Math.hypot(gateway.x - node.x, gateway.y - node.y)
  const pathLossDb = freeSpaceLossAt1mDb(gateway.radio.frequencyMHz) + 10 * exponent * Math.log10(Math.max(1, distanceM))
  const wallLossDb = wallLossBetween(walls, node.x, node.y, gateway.x, gateway.y)
  const loss = pathLossDb + wallLossDb - node.radio.antennaGainDbi - gateway.radio.antennaGainDbi
  const uplinkDbm = node.radio.txPowerDbm - loss
  const downlinkDbm = gateway.radio.txPowerDbm - loss
  const marginDb = Math.min(uplinkDbm - gateway.radio.sensitivityDbm, downlinkDbm - node.radio.sensitivityDbm)
  return { distanceM, pathLossDb, wallLossDb, uplinkDbm, downlinkDbm, marginDb }
}

/**
 * Attenuation of every wall the segment from a to b properly crosses. Walls within `ownWallToleranceM` of
 * either end are the bracket a radio is fixed to and do not count, as in `radioMap` for its sources; a
 * path through a wall's very end is a tie the map may decide either way.
 */
function wallLossBetween(walls: WallSet, ax: number, ay: number, bx: number, by: number): number {
  let loss = 0
  for (let w = 0; w < walls.count; w++) {
    const attenuation = walls.attenuationDb[w]!
    if (!(attenuation > 0)) continue
    const px = walls.ax[w]!
    const py = walls.ay[w]!
    const qx = walls.bx[w]!
    const qy = walls.by[w]!
    const side = (ux: number, uy: number, vx: number, vy: number, wx: number, wy: number) => (vx - ux) * (wy - uy) - (vy - uy) * (wx - ux)
    if (side(px, py, qx, qy, ax, ay) * side(px, py, qx, qy, bx, by) >= 0) continue
    if (side(ax, ay, bx, by, px, py) * side(ax, ay, bx, by, qx, qy) >= 0) continue
    if (distanceToWall(walls, w, ax, ay) < ownWallToleranceM || distanceToWall(walls, w, bx, by) < ownWallToleranceM) continue
    loss += attenuation
  }
  return loss
}

export interface NetworkOptions {
  /** Margin over sensitivity, both ways, for a link to count. Default `defaultLinkMarginDb`. */
  requiredMarginDb?: number
  /** n of the log-distance model; the coverage map's `PathLossModel.exponent` by default. */
  pathLossExponent?: number
}

export interface NetworkLink {
  nodeId: string
  gatewayId: string
  /** Level the gateway receives from the node. */
  rssiDbm: number
  /** Level the node receives from the gateway. */
  downlinkRssiDbm: number
  marginDb: number
  distanceM: number
  wallLossDb: number
}

export type UnassignedCause = 'not-placed' | 'no-gateway-on-band' | 'out-of-range' | 'gateways-full'

export interface UnassignedNode {
  nodeId: string
  cause: UnassignedCause
  /** A sentence for the planner: what is wrong and what would help. */
  reason: string
  /** The gateway with the best margin on the node's band, whether or not it is in range. */
  best: { gatewayId: string; marginDb: number } | null
}

export interface GatewayLoad {
  gatewayId: string
  load: number
  /** Null: the part states no limit. */
  capacity: number | null
}

export interface NetworkPlan {
  links: NetworkLink[]
  unassigned: UnassignedNode[]
  gateways: GatewayLoad[]
  /** Devices with a radio that are powered over Ethernet and so send their data by cable. */
  wired: string[]
}

interface Candidate {
  gateway: number
  budget: LinkBudget
}

/**
 * Assigns every node to a gateway it reaches with the required margin, within each gateway's capacity.
 *
 * First, best margin first: each node asks its best gateway, then its next best when refused; a full
 * gateway keeps the nodes it hears best and refuses the weakest (the stable assignment, in which no node
 * and gateway would both rather be linked to each other). That can still strand a node whose only gateway
 * is full of nodes that could have gone elsewhere, so each stranded node then looks for the shortest chain
 * of moves (a node at a full gateway to another it reaches, and so on) that ends at a gateway with room —
 * an augmenting path, which makes the number of nodes linked the most possible. Ties go to the earlier
 * device and the gateway listed first, so the same site always gives the same plan.
 */
export function assignNetwork(site: SiteModel, catalogue: Catalogue, options: NetworkOptions = {}): NetworkPlan {
  const requiredMarginDb = options.requiredMarginDb ?? defaultLinkMarginDb
  const exponent = options.pathLossExponent ?? defaultPathLossModel.exponent
  const walls = buildWallSet(site.obstructions)
  const mounts = new Map(site.mountingPoints.map((m) => [m.id, m]))

  const gateways: { id: string; end: RadioEnd; capacity: number }[] = []
  const nodes: { id: string; end: RadioEnd }[] = []
  const unassigned: UnassignedNode[] = []
  const wired: string[] = []
  for (const device of site.devices) {
    const part = findPart(catalogue, device.partNumber)
    const radio = part && radioOf(part)
    if (!part || !radio) continue
    const mount = mounts.get(device.mountingPointId)
    if (part.kind === 'gateway') {
      // A gateway on a missing mount is validateSite's to report; it serves no one here.
      if (mount) gateways.push({ id: device.id, end: { x: mount.x, y: mount.y, radio }, capacity: part.maxNodes ?? Number.POSITIVE_INFINITY })
    } else if (part.supply?.kind === 'poe') wired.push(device.id)
    else if (!mount) unassigned.push({ nodeId: device.id, cause: 'not-placed', reason: `Node ${device.id} is on mounting point ${device.mountingPointId}, which does not exist; place it to link it.`, best: null })
    else nodes.push({ id: device.id, end: { x: mount.x, y: mount.y, radio } })
  }

  // Per node, the gateways on its band, best margin first; those in range lead the list.
  const onBand = nodes.map((node) =>
    gateways
      .flatMap((gateway, index): Candidate[] => (sharesBand(node.end.radio, gateway.end.radio) ? [{ gateway: index, budget: linkBudget(walls, node.end, gateway.end, exponent) }] : []))
      .sort((a, b) => b.budget.marginDb - a.budget.marginDb || a.gateway - b.gateway),
  )
  const candidates = onBand.map((list) => list.filter((c) => c.budget.marginDb >= requiredMarginDb))
  const marginAt = (node: number, gateway: number) => candidates[node]!.find((c) => c.gateway === gateway)!.budget.marginDb

  const assigned = new Int32Array(nodes.length).fill(-1)
  const members: number[][] = gateways.map(() => [])
  // Weakest first: the order a full gateway gives nodes up in, and moves them on in.
  const weakestFirst = (gateway: number) => (a: number, b: number) => marginAt(a, gateway) - marginAt(b, gateway) || b - a

  const nextChoice = new Int32Array(nodes.length)
  const asking = nodes.map((_, index) => index)
  for (let i = 0; i < asking.length; i++) {
    const node = asking[i]!
    const choice = candidates[node]![nextChoice[node]!++]
    if (!choice) continue
    const group = members[choice.gateway]!
    group.push(node)
    assigned[node] = choice.gateway
    if (group.length > gateways[choice.gateway]!.capacity) {
      group.sort(weakestFirst(choice.gateway))
      const refused = group.shift()!
      assigned[refused] = -1
      asking.push(refused)
    }
  }

  for (let node = 0; node < nodes.length; node++) {
    if (assigned[node] === -1 && candidates[node]!.length > 0) augment(node)
  }

  /** Breadth-first over gateways: the fewest moves that free a place for `start`. */
  function augment(start: number): void {
    const movesIn = new Map<number, number>() // gateway → the node that would move into it
    const queue: number[] = []
    const reach = (node: number) => {
      for (const { gateway } of candidates[node]!) {
        if (gateway === assigned[node] || movesIn.has(gateway)) continue
        movesIn.set(gateway, node)
        queue.push(gateway)
      }
    }
    reach(start)
    for (let i = 0; i < queue.length; i++) {
      const gateway = queue[i]!
      if (members[gateway]!.length < gateways[gateway]!.capacity) {
        for (let into = gateway; ; ) {
          const node = movesIn.get(into)!
          const from = assigned[node]!
          members[into]!.push(node)
          assigned[node] = into
          if (from === -1) return
          members[from]!.splice(members[from]!.indexOf(node), 1)
          into = from
        }
      }
      for (const member of [...members[gateway]!].sort(weakestFirst(gateway))) reach(member)
    }
  }

  const links: NetworkLink[] = []
  nodes.forEach((node, index) => {
    const gateway = assigned[index]!
    const best = onBand[index]![0]
    const bestNote = best ? { gatewayId: gateways[best.gateway]!.id, marginDb: best.budget.marginDb } : null
    if (gateway !== -1) {
      const { budget } = candidates[index]!.find((c) => c.gateway === gateway)!
      links.push({ nodeId: node.id, gatewayId: gateways[gateway]!.id, rssiDbm: budget.uplinkDbm, downlinkRssiDbm: budget.downlinkDbm, marginDb: budget.marginDb, distanceM: budget.distanceM, wallLossDb: budget.wallLossDb })
    } else if (!best) {
      unassigned.push({ nodeId: node.id, cause: 'no-gateway-on-band', reason: `Node ${node.id} has no gateway on its ${node.end.radio.frequencyMHz} MHz band; add one.`, best: null })
    } else if (candidates[index]!.length === 0) {
      const inWalls = best.budget.wallLossDb > 0 ? `, ${best.budget.wallLossDb.toFixed(0)} dB lost in walls` : ''
      unassigned.push({
        nodeId: node.id,
        cause: 'out-of-range',
        reason: `Node ${node.id} is out of range: its best gateway, ${bestNote!.gatewayId}, gives ${best.budget.marginDb.toFixed(1)} dB of margin where ${requiredMarginDb} dB is needed (${best.budget.distanceM.toFixed(0)} m away${inWalls}); move it or add a gateway nearer.`,
        best: bestNote,
      })
    } else {
      const full = candidates[index]!.map((c) => `${gateways[c.gateway]!.id} (${members[c.gateway]!.length} of ${gateways[c.gateway]!.capacity})`)
      unassigned.push({
        nodeId: node.id,
        cause: 'gateways-full',
        reason: `Node ${node.id} reaches only full gateways: ${full.join(', ')}; add a gateway or choose one that serves more nodes.`,
        best: bestNote,
      })
    }
  })

  return {
    links,
    unassigned,
    gateways: gateways.map((gateway, index) => ({ gatewayId: gateway.id, load: members[index]!.length, capacity: Number.isFinite(gateway.capacity) ? gateway.capacity : null })),
    wired,
  }
}
