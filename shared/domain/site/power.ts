import {
  defaultUsableBatteryShare,
  findPart,
  peakPowerW,
  pointInRing,
  poeClassPower,
  type Catalogue,
  type CataloguePart,
  type DeviceKind,
  type PowerSupply,
  type SiteModel,
} from './model'

/**
 * The power budget of a site: what each device draws on average over its duty cycle and at its peak, how
 * long a battery lasts, what each PoE switch is asked for against its budget and ports, and the totals
 * per zone and for the site. Watts throughout; battery capacity in watt-hours.
 */

/** Mean draw over the hour: awake, bursting and asleep shares weighted by their draws. */
export function averagePowerW(part: Pick<CataloguePart, 'powerW' | 'dutyCycle'>): number {
  const duty = part.dutyCycle
  if (!duty) return part.powerW
  const burstShare = duty.bursts ? (duty.bursts.perHour * duty.bursts.durationS) / 3600 : 0
  const sleepShare = 1 - duty.activeShare - burstShare
  return duty.activeShare * part.powerW + burstShare * (duty.bursts?.drawW ?? 0) + sleepShare * duty.sleepW
}

/** Days the usable share of a battery lasts at `averageW`; Infinity for a part that draws nothing. */
export function batteryLifeDays(supply: Extract<PowerSupply, { kind: 'battery' }>, averageW: number): number {
  return (supply.capacityWh * (supply.usableShare ?? defaultUsableBatteryShare)) / averageW / 24
}

/**
 * How a switch counts a port against its budget. `class`: what the device's class reserves, whatever it
 * draws (most switches at power-up; the safe plan). `draw`: the device's peak draw, as a switch that
 * allocates by LLDP request or measured consumption does.
 */
export type PoeAllocation = 'class' | 'draw'

export interface PowerOptions {
  /** Default `class`. */
  poeAllocation?: PoeAllocation
}

/** The length of one twisted-pair Ethernet channel (IEEE 802.3): PoE and data go no further without an extender. */
export const ethernetReachM = 100

export interface DevicePower {
  deviceId: string
  partNumber: string
  kind: DeviceKind
  supply: PowerSupply['kind']
  averageW: number
  /** What the supply must carry at once: the awake draw or a radio burst, whichever is more. */
  peakW: number
  /** Battery parts only; null otherwise. */
  batteryLifeDays: number | null
  /** PoE parts only: what the port counts against the switch's budget, by the allocation rule. */
  poeW: number | null
  /** The switch that feeds a PoE part, when the site names a placed one. */
  poeSwitchId: string | null
}

export interface SwitchLoad {
  switchId: string
  partNumber: string
  budgetW: number
  loadW: number
  /** Budget less load: negative when over. */
  headroomW: number
  overBudget: boolean
  ports: number
  portsUsed: number
  overPorts: boolean
  deviceIds: string[]
}

/** Average draw by supply. A switch's own draw is mains; what it passes on is counted at the PoE devices. */
export interface PowerTotals {
  averageW: number
  mainsW: number
  poeW: number
  batteryW: number
}

export interface ZonePower extends PowerTotals {
  zoneId: string
  name: string
  /** Devices whose mounting point lies inside the zone; a device in overlapping zones counts in each. */
  deviceIds: string[]
}

export interface PowerBudget {
  devices: DevicePower[]
  switches: SwitchLoad[]
  zones: ZonePower[]
  site: PowerTotals
  /** What the budget could not account for, in words. */
  problems: string[]
}

const noPower = (): PowerTotals => ({ averageW: 0, mainsW: 0, poeW: 0, batteryW: 0 })

function addTo(totals: PowerTotals, device: DevicePower): void {
  totals.averageW += device.averageW
  if (device.supply === 'mains') totals.mainsW += device.averageW
  else if (device.supply === 'poe') totals.poeW += device.averageW
  else totals.batteryW += device.averageW
}

export function powerBudget(site: SiteModel, catalogue: Catalogue, options: PowerOptions = {}): PowerBudget {
  const allocation = options.poeAllocation ?? 'class'
  const mounts = new Map(site.mountingPoints.map((m) => [m.id, m]))
  const problems: string[] = []
  const switches = new Map<string, SwitchLoad>()
  const switchMounts = new Map<string, string>()
  const placed: { power: DevicePower; mountingPointId: string }[] = []

  for (const device of site.devices) {
    const part = findPart(catalogue, device.partNumber)
    if (!part) {
      problems.push(`Device ${device.id} is left out: part ${device.partNumber} is not in the catalogue.`)
      continue
    }
    if (part.kind === 'switch') {
      switchMounts.set(device.id, device.mountingPointId)
      switches.set(device.id, { switchId: device.id, partNumber: part.partNumber, budgetW: part.poeBudgetW, loadW: 0, headroomW: part.poeBudgetW, overBudget: false, ports: part.poePorts, portsUsed: 0, overPorts: false, deviceIds: [] })
    }
  }

  for (const device of site.devices) {
    const part = findPart(catalogue, device.partNumber)
    if (!part) continue
    const supply = part.supply ?? { kind: 'mains' }
    const averageW = averagePowerW(part)
    const peakW = peakPowerW(part)
    const feeder = supply.kind === 'poe' && device.poeSwitchId !== undefined ? switches.get(device.poeSwitchId) : undefined
    const poeW = supply.kind === 'poe' ? (allocation === 'class' ? poeClassPower[supply.poeClass].pseW : peakW) : null
    const power: DevicePower = {
      deviceId: device.id,
      partNumber: part.partNumber,
      kind: part.kind,
      supply: supply.kind,
      averageW,
      peakW,
      batteryLifeDays: supply.kind === 'battery' ? batteryLifeDays(supply, averageW) : null,
      poeW,
      poeSwitchId: feeder ? feeder.switchId : null,
    }
    placed.push({ power, mountingPointId: device.mountingPointId })
    if (supply.kind !== 'poe') continue
    if (!feeder) {
      problems.push(`Device ${device.id} is powered over Ethernet (class ${supply.poeClass}), but no switch on the site feeds it; name the switch whose port it is on.`)
      continue
    }
    feeder.loadW += poeW!
    feeder.portsUsed++
    feeder.deviceIds.push(device.id)
    const from = mounts.get(device.mountingPointId)
    const to = mounts.get(switchMounts.get(feeder.switchId)!)
    const straightM = from && to ? Math.hypot(from.x - to.x, from.y - to.y) : 0
    if (straightM > ethernetReachM) {
      problems.push(`Device ${device.id} is ${straightM.toFixed(0)} m from switch ${feeder.switchId} in a straight line, and Ethernet reaches ${ethernetReachM} m; feed it from a nearer switch or add an extender.`)
    }
  }

  for (const load of switches.values()) {
    load.headroomW = load.budgetW - load.loadW
    // Sums of decimal watts carry float error; a switch exactly at its budget is not over it.
    load.overBudget = load.headroomW < -1e-9
    load.overPorts = load.portsUsed > load.ports
  }

  const siteTotals = noPower()
  for (const { power } of placed) addTo(siteTotals, power)
  const zones = site.zones.map((zone): ZonePower => {
    const totals: ZonePower = { zoneId: zone.id, name: zone.name, deviceIds: [], ...noPower() }
    for (const { power, mountingPointId } of placed) {
      const mount = mounts.get(mountingPointId)
      if (!mount || !pointInRing(mount, zone.polygon)) continue
      totals.deviceIds.push(power.deviceId)
      addTo(totals, power)
    }
    return totals
  })

  return { devices: placed.map(({ power }) => power), switches: [...switches.values()], zones, site: siteTotals, problems }
}
