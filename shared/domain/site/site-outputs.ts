import { findPart, pointInRing, type Catalogue, type DeviceKind, type LatLon, type SiteModel } from './model'
import { assignNetwork, type NetworkPlan } from './network'
import { powerBudget, type PowerBudget } from './power'
import { createLocalProjection } from './projection'

/**
 * Everything the plan puts on site, derived once from the site model and the catalogue. The bill of
 * materials, the topology and coverage diagrams and the commissioning report are all drawn from this one
 * value, so they cannot disagree about which devices there are, how many, or which part each one is.
 *
 * A device never silently vanishes: one whose part is not in the catalogue is still a row and still a
 * BOM line (named by its part number, kind null, priced at 0), and one on a missing mounting point is
 * still a row (with no position); both are also named in `problems`, so the installer sees the gap.
 */
export interface SiteOutputs {
  siteName: string
  origin: LatLon
  /** In the site's order. */
  devices: PlannedDeviceRow[]
  bom: BomLine[]
  totalPriceEur: number
  network: NetworkPlan
  power: PowerBudget
  /** What the outputs could not account for (a part not in the catalogue, a device on a missing mount), in words. */
  problems: string[]
}

/** One device the plan places, with everything the installer and the bench need to know about it. */
export interface PlannedDeviceRow {
  id: string
  partNumber: string
  /** The part's name from the catalogue; the part number when the part is missing. */
  partName: string
  /** Null when the part is not in the catalogue. */
  kind: DeviceKind | null
  mountingPointId: string
  /** Local metres from the site origin (x east, y north); null, as are lat, lon and height, on a missing mount. */
  x: number | null
  y: number | null
  lat: number | null
  lon: number | null
  heightM: number | null
  orientationDeg: number
  /** Zones its mounting point lies in, by id; empty outside every zone. */
  zoneIds: string[]
  /** The gateway it links to and with what margin; null for a device without a radio or not linked. */
  gatewayId: string | null
  marginDb: number | null
  poeSwitchId: string | null
  /** Null when the part is not in the catalogue. */
  averageW: number | null
  batteryLifeDays: number | null
}

/** One line of the bill of materials: a part number and every device that is one. */
export interface BomLine {
  partNumber: string
  partName: string
  /** Null when the part is not in the catalogue. */
  kind: DeviceKind | null
  quantity: number
  /** 0 when the part is not in the catalogue. */
  unitPriceEur: number
  totalPriceEur: number
  /** Sorted, so two outputs of one plan list them alike. */
  deviceIds: string[]
}

/** The order of the bill of materials and of the diagrams' legends; parts not in the catalogue go last. */
export const deviceKindOrder: readonly DeviceKind[] = ['camera', 'sensor', 'gateway', 'node', 'switch']

/** Position of a kind in `deviceKindOrder`; a part not in the catalogue ranks last. */
export const deviceKindRank = (kind: DeviceKind | null) => (kind === null ? deviceKindOrder.length : deviceKindOrder.indexOf(kind))

/**
 * Ids as a person counts them (cam-2 before cam-10), then by code unit: no locale, so the core and a
 * browser sort one plan alike.
 */
export function compareDeviceIds(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? []
  const pb = b.match(/\d+|\D+/g) ?? []
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!
    const y = pb[i]!
    if (x === y) continue
    if (/^\d/.test(x) && /^\d/.test(y)) {
      // Compare digit runs by value without parsing them: numbers longer than a double are still ids.
      const u = x.replace(/^0+(?=\d)/, '')
      const v = y.replace(/^0+(?=\d)/, '')
      if (u.length !== v.length) return u.length - v.length
      if (u !== v) return u < v ? -1 : 1
      continue
    }
    return x < y ? -1 : 1
  }
  if (pa.length !== pb.length) return pa.length - pb.length
  return a < b ? -1 : a > b ? 1 : 0
}

/** Euros to the cent: sums of decimal prices carry float error the BOM must not print. */
const cents = (eur: number) => Math.round(eur * 100) / 100

export function siteOutputs(site: SiteModel, catalogue: Catalogue): SiteOutputs {
  const projection = createLocalProjection(site.origin)
  const mounts = new Map(site.mountingPoints.map((m) => [m.id, m]))
  const network = assignNetwork(site, catalogue)
  // The budget leaves unknown parts out with a sentence of its own; they are named once, below, instead.
  const power = powerBudget({ ...site, devices: site.devices.filter((d) => findPart(catalogue, d.partNumber)) }, catalogue)
  const links = new Map(network.links.map((link) => [link.nodeId, link]))
  const powers = new Map(power.devices.map((device) => [device.deviceId, device]))
  const problems: string[] = []

  const devices = site.devices.map((device): PlannedDeviceRow => {
    const part = findPart(catalogue, device.partNumber)
    const mount = mounts.get(device.mountingPointId)
    const link = links.get(device.id)
    const devicePower = powers.get(device.id)
    if (!part) problems.push(`Device ${device.id} is a ${device.partNumber}, which is not in the catalogue: it is listed at no price and left out of the power budget; add the part to the catalogue or choose another.`)
    if (!mount) problems.push(`Device ${device.id} is on mounting point ${device.mountingPointId}, which does not exist: it has no position on the plan; place it on a mounting point.`)
    const position = mount ? projection.toLatLon(mount) : null
    return {
      id: device.id,
      partNumber: device.partNumber,
      partName: part?.name ?? device.partNumber,
      kind: part?.kind ?? null,
      mountingPointId: device.mountingPointId,
      x: mount?.x ?? null,
      y: mount?.y ?? null,
      lat: position?.lat ?? null,
      lon: position?.lon ?? null,
      heightM: mount?.heightM ?? null,
      orientationDeg: device.orientationDeg,
      zoneIds: mount ? site.zones.filter((zone) => pointInRing(mount, zone.polygon)).map((zone) => zone.id) : [],
      gatewayId: link?.gatewayId ?? null,
      marginDb: link?.marginDb ?? null,
      poeSwitchId: devicePower?.poeSwitchId ?? null,
      averageW: devicePower?.averageW ?? null,
      batteryLifeDays: devicePower?.batteryLifeDays ?? null,
    }
  })

  // A node on a missing mount is already named above.
  problems.push(...network.unassigned.filter((node) => node.cause !== 'not-placed').map((node) => node.reason))
  problems.push(...power.problems)
  for (const load of power.switches) {
    if (load.overBudget) problems.push(`Switch ${load.switchId} is asked for ${load.loadW.toFixed(1)} W of PoE and delivers ${load.budgetW} W; move devices to another switch or choose a larger one.`)
    if (load.overPorts) problems.push(`Switch ${load.switchId} feeds ${load.portsUsed} devices from ${load.ports} PoE port${load.ports === 1 ? '' : 's'}; move devices to another switch or choose one with more ports.`)
  }

  const lines = new Map<string, BomLine>()
  for (const row of devices) {
    const line = lines.get(row.partNumber)
    if (line) {
      line.quantity++
      line.deviceIds.push(row.id)
      continue
    }
    lines.set(row.partNumber, {
      partNumber: row.partNumber,
      partName: row.partName,
      kind: row.kind,
      quantity: 1,
      unitPriceEur: findPart(catalogue, row.partNumber)?.priceEur ?? 0,
      totalPriceEur: 0,
      deviceIds: [row.id],
    })
  }
  const bom = [...lines.values()]
  for (const line of bom) {
    line.totalPriceEur = cents(line.unitPriceEur * line.quantity)
    line.deviceIds.sort(compareDeviceIds)
  }
  bom.sort((a, b) => deviceKindRank(a.kind) - deviceKindRank(b.kind) || (a.partNumber < b.partNumber ? -1 : a.partNumber > b.partNumber ? 1 : 0))

  return {
    siteName: site.name,
    origin: { ...site.origin },
    devices,
    bom,
    totalPriceEur: cents(bom.reduce((sum, line) => sum + line.totalPriceEur, 0)),
    network,
    power,
    problems,
  }
}
