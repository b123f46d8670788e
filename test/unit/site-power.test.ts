import { describe, expect, it } from 'vitest'
import type { Catalogue, CataloguePart, SiteModel } from '../../shared/domain/site/model'
import { validateSite } from '../../shared/domain/site/model'
import { averagePowerW, batteryLifeDays, powerBudget } from '../../shared/domain/site/power'

const camera = (partNumber: string, powerW: number, poeClass: 2 | 3 | 4): CataloguePart => ({
  kind: 'camera',
  partNumber,
  name: partNumber,
  sensor: { format: '1/2.8"', widthMm: 5.6, widthPx: 3840, heightPx: 2160 },
  lens: { focalLengthMm: 6 },
  hfovDeg: 54,
  powerW,
  supply: { kind: 'poe', poeClass },
  priceEur: 300,
})

// Awake 1 % of the hour at 1 W, six 3 s radio bursts an hour at 2 W, asleep the rest at 10 mW.
const nodeProfile = { powerW: 1, dutyCycle: { activeShare: 0.01, sleepW: 0.01, bursts: { perHour: 6, durationS: 3, drawW: 2 } } }

const catalogue: Catalogue = [
  { kind: 'switch', partNumber: 'SW-2-40', name: '2-port PoE switch, 40 W', poePorts: 2, poeBudgetW: 40, powerW: 5, priceEur: 150 },
  camera('CAM-C4', 20, 4),
  camera('CAM-C3', 10, 3),
  { kind: 'sensor', partNumber: 'RAD', name: 'radar', technology: 'FMCW radar', rangeM: 60, angleDeg: 100, powerW: 5, supply: { kind: 'poe', poeClass: 2 }, priceEur: 1800 },
  { kind: 'sensor', partNumber: 'PIR', name: 'wired PIR', technology: 'PIR', rangeM: 12, angleDeg: 90, powerW: 0.3, priceEur: 55 },
  { kind: 'node', partNumber: 'NODE-BAT', name: 'battery node', frequencyMHz: 868, txPowerDbm: 14, antennaGainDbi: 2, sensitivityDbm: -129, ...nodeProfile, supply: { kind: 'battery', capacityWh: 10, usableShare: 0.9 }, priceEur: 40 },
  { kind: 'node', partNumber: 'NODE-BAT-DEFAULT', name: 'battery node, usable share unstated', frequencyMHz: 868, txPowerDbm: 14, antennaGainDbi: 2, sensitivityDbm: -129, ...nodeProfile, supply: { kind: 'battery', capacityWh: 10 }, priceEur: 40 },
]

const rectangle = (x0: number, y0: number, x1: number, y1: number) => [{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }]

/**
 * Two switches in a cabinet west of a yard. The north strip holds two cameras and two battery nodes, the
 * gate strip a radar, a wired PIR and a camera nobody wired to a switch; the yard zone overlaps both.
 */
function yard(): SiteModel {
  const at: [string, string, number, number, string?][] = [
    ['sw', 'SW-2-40', -2, 0],
    ['sw2', 'SW-2-40', -5, 0],
    ['cam-4', 'CAM-C4', 10, 10, 'sw'],
    ['cam-3', 'CAM-C3', 20, 10, 'sw'],
    ['radar', 'RAD', 10, -10, 'sw'],
    ['node', 'NODE-BAT', 15, 12],
    ['node-2', 'NODE-BAT-DEFAULT', 16, 12],
    ['pir', 'PIR', 12, -12],
    ['loose', 'CAM-C3', 30, -5],
    ['far', 'CAM-C3', 120, 0, 'sw2'],
  ]
  return {
    name: 'power test',
    origin: { lat: 48.2, lon: 16.37 },
    boundary: rectangle(-10, -30, 130, 30),
    zones: [
      { id: 'north', name: 'North strip', kind: 'required', polygon: rectangle(0, 5, 40, 20) },
      { id: 'gate', name: 'Gate', kind: 'required', polygon: rectangle(0, -20, 40, 0) },
      { id: 'yard', name: 'Yard', kind: 'optional', polygon: rectangle(0, -20, 40, 20) },
    ],
    obstructions: [],
    mountingPoints: at.map(([id, , x, y]) => ({ id: `m-${id}`, x, y, heightM: 3, allowedKinds: ['camera', 'sensor', 'node', 'gateway', 'switch'] })),
    devices: at.map(([id, partNumber, , , poeSwitchId]) => ({ id, partNumber, mountingPointId: `m-${id}`, orientationDeg: 0, ...(poeSwitchId ? { poeSwitchId } : {}) })),
  }
}

describe('duty cycle', () => {
  it('weights awake, burst and sleep draws by their shares of the hour', () => {
    // Bursts: 6 × 3 s = 18 s = 0.5 % of the hour. Asleep: 100 − 1 − 0.5 = 98.5 %.
    // 0.01 × 1 W + 0.005 × 2 W + 0.985 × 0.01 W = 0.01 + 0.01 + 0.00985 = 0.02985 W.
    expect(averagePowerW(nodeProfile)).toBeCloseTo(0.02985, 12)
    expect(averagePowerW({ powerW: 6 })).toBe(6)
    // 10 Wh × 0.9 usable = 9 Wh; 9 / 0.02985 = 301.508 h = 12.5628 days. Without a stated share, 80 %: 11.1669 days.
    expect(batteryLifeDays({ kind: 'battery', capacityWh: 10, usableShare: 0.9 }, 0.02985)).toBeCloseTo(12.5628, 4)
    expect(batteryLifeDays({ kind: 'battery', capacityWh: 10 }, 0.02985)).toBeCloseTo(11.1669, 4)
  })
})

describe('powerBudget', () => {
  it('gives each device its average and peak draw, battery life and PoE allocation', () => {
    const budget = powerBudget(yard(), catalogue)
    const device = (id: string) => budget.devices.find((d) => d.deviceId === id)
    expect(device('node')).toEqual({
      deviceId: 'node',
      partNumber: 'NODE-BAT',
      kind: 'node',
      supply: 'battery',
      averageW: expect.closeTo(0.02985, 12),
      peakW: 2,
      batteryLifeDays: expect.closeTo(12.5628, 4),
      poeW: null,
      poeSwitchId: null,
    })
    expect(device('node-2')!.batteryLifeDays).toBeCloseTo(11.1669, 4)
    expect(device('cam-4')).toMatchObject({ supply: 'poe', averageW: 20, peakW: 20, batteryLifeDays: null, poeW: 30, poeSwitchId: 'sw' })
    expect(device('pir')).toMatchObject({ supply: 'mains', averageW: 0.3, poeW: null })
    expect(device('loose')).toMatchObject({ poeW: 15.4, poeSwitchId: null })
  })

  it('flags a switch asked for more than its PoE budget or ports, by class reservation or by draw', () => {
    const byClass = powerBudget(yard(), catalogue)
    // Class 4 + class 3 + class 2 reserve 30 + 15.4 + 7 = 52.4 W of 40 W, on three ports of two.
    expect(byClass.switches).toEqual([
      { switchId: 'sw', partNumber: 'SW-2-40', budgetW: 40, loadW: expect.closeTo(52.4, 9), headroomW: expect.closeTo(-12.4, 9), overBudget: true, ports: 2, portsUsed: 3, overPorts: true, deviceIds: ['cam-4', 'cam-3', 'radar'] },
      { switchId: 'sw2', partNumber: 'SW-2-40', budgetW: 40, loadW: 15.4, headroomW: expect.closeTo(24.6, 9), overBudget: false, ports: 2, portsUsed: 1, overPorts: false, deviceIds: ['far'] },
    ])
    // Counted by what they draw, 20 + 10 + 5 = 35 W fits; the ports still do not.
    const byDraw = powerBudget(yard(), catalogue, { poeAllocation: 'draw' })
    expect(byDraw.switches[0]).toMatchObject({ loadW: 35, headroomW: 5, overBudget: false, overPorts: true })
    expect(byDraw.devices.find((d) => d.deviceId === 'cam-4')!.poeW).toBe(20)
  })

  it('says which PoE devices no switch feeds and which are beyond Ethernet reach', () => {
    const site = yard()
    expect(validateSite(site, catalogue)).toEqual([])
    expect(powerBudget(site, catalogue).problems).toEqual([
      'Device loose is powered over Ethernet (class 3), but no switch on the site feeds it; name the switch whose port it is on.',
      'Device far is 125 m from switch sw2 in a straight line, and Ethernet reaches 100 m; feed it from a nearer switch or add an extender.',
    ])
    const unknown = { ...site, devices: [...site.devices, { id: 'ghost', partNumber: 'NOPE', mountingPointId: 'm-sw', orientationDeg: 0 }] }
    expect(powerBudget(unknown, catalogue).problems[0]).toBe('Device ghost is left out: part NOPE is not in the catalogue.')
  })

  it('totals by zone (a device in overlapping zones counts in each) and for the site, by supply', () => {
    const budget = powerBudget(yard(), catalogue)
    const battery = 2 * 0.02985
    expect(budget.zones).toEqual([
      { zoneId: 'north', name: 'North strip', deviceIds: ['cam-4', 'cam-3', 'node', 'node-2'], averageW: expect.closeTo(30 + battery, 9), mainsW: 0, poeW: 30, batteryW: expect.closeTo(battery, 12) },
      { zoneId: 'gate', name: 'Gate', deviceIds: ['radar', 'pir', 'loose'], averageW: expect.closeTo(15.3, 9), mainsW: 0.3, poeW: 15, batteryW: 0 },
      {
        zoneId: 'yard',
        name: 'Yard',
        deviceIds: ['cam-4', 'cam-3', 'radar', 'node', 'node-2', 'pir', 'loose'],
        averageW: expect.closeTo(45.3 + battery, 9),
        mainsW: 0.3,
        poeW: 45,
        batteryW: expect.closeTo(battery, 12),
      },
    ])
    // The switches' own 5 W each are mains; what they pass on is counted once, at the PoE devices.
    expect(budget.site).toEqual({ averageW: expect.closeTo(10.3 + 55 + battery, 9), mainsW: expect.closeTo(10.3, 9), poeW: 55, batteryW: expect.closeTo(battery, 12) })
  })
})
