import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../shared/domain/seeded-random'
import { findPart, parseCatalogue, peakPowerW, poeClassFor, validateCatalogue, validateSite, type Catalogue, type RadioPart, type SensorPart, type SiteModel, type SwitchPart } from '../../shared/domain/site/model'
import { averagePowerW, batteryLifeDays } from '../../shared/domain/site/power'

const fileText = readFileSync(new URL('../../resources/catalogue/parts.json', import.meta.url), 'utf8')
const raw = (): unknown[] => JSON.parse(fileText) as unknown[]

function defaultCatalogue(): Catalogue {
  const parsed = parseCatalogue(raw())
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'))
  return parsed.catalogue
}

const part = (partNumber: string) => findPart(defaultCatalogue(), partNumber)!

describe('the default catalogue (resources/catalogue/parts.json)', () => {
  it('passes the shape and figure checks and keeps every field it was given', () => {
    const parsed = parseCatalogue(raw())
    expect(parsed).toEqual({ ok: true, catalogue: raw() })
  })

  it('offers what a plan needs: cameras on both sensor sizes and every usual lens, sensors, nodes, gateways of two bands, switches', () => {
    const catalogue = defaultCatalogue()
    expect(catalogue.length).toBeGreaterThanOrEqual(15)
    expect(catalogue.length).toBeLessThanOrEqual(25)
    const cameras = catalogue.filter((p) => p.kind === 'camera')
    expect(new Set(cameras.map((c) => c.sensor.format))).toEqual(new Set(['1/2.8"', '1/1.8"']))
    expect(new Set(cameras.map((c) => c.lens.focalLengthMm))).toEqual(new Set([2.8, 4, 6, 12]))
    expect(new Set(catalogue.filter((p) => p.kind === 'sensor').map((s) => s.technology))).toEqual(new Set(['PIR', 'PIR + microwave', 'FMCW radar']))
    const nodes = catalogue.filter((p) => p.kind === 'node')
    expect(new Set(nodes.map((n) => n.supply?.kind))).toEqual(new Set(['battery', 'poe']))
    expect(new Set(catalogue.flatMap((p) => (p.kind === 'gateway' ? [p.frequencyMHz] : [])))).toEqual(new Set([868, 2440]))
    expect(catalogue.filter((p) => p.kind === 'switch').length).toBeGreaterThanOrEqual(2)
  })

  it('announces the lowest PoE class that covers each PoE part', () => {
    for (const p of defaultCatalogue()) {
      if (p.supply?.kind === 'poe') expect([p.partNumber, p.supply.poeClass]).toEqual([p.partNumber, poeClassFor(peakPowerW(p))])
    }
  })

  it('gives the battery lives the README promises, by hand from the duty cycles', () => {
    // ESP32 Wi-Fi node: awake 0.3 % at 0.15 W, 12 × 1.2 s bursts an hour at 0.55 W, asleep the rest at 66 µW.
    const wifi = part('NODE-E32-WF-BAT')
    const wifiW = 0.003 * 0.15 + ((12 * 1.2) / 3600) * 0.55 + (1 - 0.003 - 0.004) * 0.000066
    expect(averagePowerW(wifi)).toBeCloseTo(wifiW, 12)
    expect(wifiW).toBeCloseTo(0.0027155, 7)
    expect(batteryLifeDays({ kind: 'battery', capacityWh: 24.5, usableShare: 0.8 }, wifiW)).toBeCloseTo(19.6 / wifiW / 24, 9)
    expect(19.6 / wifiW / 24).toBeCloseTo(300.7, 1)
    // Sub-GHz node: awake 0.2 % at 0.1 W, 12 × 0.2 s bursts at 0.25 W, asleep at 50 µW, on 10.8 usable Wh.
    const loraW = 0.002 * 0.1 + ((12 * 0.2) / 3600) * 0.25 + (1 - 0.002 - 2.4 / 3600) * 0.00005
    expect(averagePowerW(part('NODE-E32-LR-BAT'))).toBeCloseTo(loraW, 12)
    expect(10.8 / loraW / 24).toBeCloseTo(1080.3, 1)
  })
})

describe('parseCatalogue', () => {
  it('names the part and the field for every shape problem, and checks figures only once the shape is right', () => {
    const parts = raw() as Record<string, unknown>[]
    const [camera, pir] = [parts[0]!, parts[7]!]
    const result = parseCatalogue([
      { ...camera, hfovDeg: '103', hfov: 103 },
      { ...pir, radio: { frequencyMHz: 868, txPowerDbm: 14, antennaGainDbi: 0 } },
      { kind: 'lamp', partNumber: 'L-1' },
      null,
      { kind: 'node', partNumber: 'N-1', name: 'n', powerW: 1, priceEur: 1, frequencyMHz: 868, txPowerDbm: 14, antennaGainDbi: 2, sensitivityDbm: -120, supply: { kind: 'solar' } },
      { kind: 'switch', partNumber: 'S-1', name: 's', powerW: 1, priceEur: 1, poePorts: 8, poeBudgetW: [120], dutyCycle: { activeShare: 1, sleepW: 0, bursts: 'often' } },
    ])
    expect(result).toEqual({
      ok: false,
      problems: [
        'Part CAM-T28-2M-028: "hfovDeg" must be a number, not the text "103".',
        'Part CAM-T28-2M-028: "hfov" is not a field here; remove it or correct its spelling.',
        'Part PIR-W868-12: "radio.sensitivityDbm" is missing.',
        'Part L-1: "kind" must be one of camera, sensor, gateway, node, switch, not the text "lamp".',
        'Part 4 in the list: "kind" must be one of camera, sensor, gateway, node, switch, not missing.',
        'Part N-1: "supply.kind" must be one of mains, poe, battery, not the text "solar".',
        'Part S-1: "dutyCycle.bursts" must be an object, not the text "often".',
        'Part S-1: "poeBudgetW" must be a number, not a list.',
      ],
    })
    expect(parseCatalogue({ parts: [] })).toEqual({ ok: false, problems: ['The catalogue must be a list of parts, not an object.'] })
    // Well-formed but wrong figures: the catalogue check speaks.
    const bullet = parts[1]!
    expect(parseCatalogue([{ ...bullet, powerW: 9 }])).toEqual({
      ok: false,
      problems: ['Part CAM-B28-4M-040 draws up to 9 W, more than PoE class 2 delivers (6.49 W); announce class 3 or higher.'],
    })
  })

  it('copies into fresh objects, so a "__proto__" key in the file reaches nothing', () => {
    const hostile = JSON.parse('[{"__proto__": {"polluted": true}, "kind": "sensor", "partNumber": "P", "name": "p", "technology": "PIR", "rangeM": 5, "angleDeg": 90, "powerW": 0.1, "priceEur": 1}]') as unknown
    const result = parseCatalogue(hostile)
    expect(result).toEqual({ ok: false, problems: ['Part P: "__proto__" is not a field here; remove it or correct its spelling.'] })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const long = 'x'.repeat(1_000_000)
    const [message] = (parseCatalogue([{ kind: long }]) as { problems: string[] }).problems
    expect(message!.length).toBeLessThan(200)
  })

  it('never throws, whatever is done to a good file', () => {
    const random = seededRandom(11)
    const junk: unknown[] = [null, true, -1, Number.NaN, Number.POSITIVE_INFINITY, '', 'x', [], {}, [1, 2], { kind: 'poe' }, Symbol('s'), 10n, () => 1]
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
    // Replaces, deletes or adds one field somewhere in the tree: at the top, in a part, or one level down.
    const mutate = (value: unknown, depth: number): unknown => {
      if (depth > 3 || random() < 0.25 || typeof value !== 'object' || value === null) return pick(junk)
      if (Array.isArray(value)) {
        const copy = [...value]
        if (copy.length > 0) copy[Math.floor(random() * copy.length)] = mutate(copy[Math.floor(random() * copy.length)], depth + 1)
        return copy
      }
      const copy: Record<string, unknown> = { ...value }
      const keys = Object.keys(copy)
      const key = keys.length > 0 && random() < 0.9 ? pick(keys) : 'extra'
      if (random() < 0.2) delete copy[key]
      else copy[key] = mutate(copy[key], depth + 1)
      return copy
    }
    let accepted = 0
    for (let round = 0; round < 2000; round++) {
      const result = parseCatalogue(mutate(raw(), 0))
      if (result.ok) accepted++
      else expect(result.problems.length).toBeGreaterThan(0)
    }
    // Dropping an optional field (a duty cycle, an illuminator range) leaves a valid catalogue; junk does not.
    expect(accepted).toBeGreaterThan(0)
    expect(accepted).toBeLessThan(2000)
  })
})

describe('validateCatalogue on power, network and switch figures', () => {
  const node = part('NODE-E32-WF-BAT') as RadioPart
  const gateway = part('GW-AP24-OUT') as RadioPart
  const poeSwitch = part('SW-P08-120') as SwitchPart
  const pir = part('PIR-W868-12') as SensorPart

  it('says which figure to fix', () => {
    const catalogue: Catalogue = [
      { ...node, partNumber: 'A', maxNodes: 4, dutyCycle: { activeShare: 0.6, sleepW: 0.2, bursts: { perHour: 900, durationS: 2, drawW: 0.5 } } },
      { ...node, partNumber: 'B', supply: { kind: 'battery', capacityWh: 0, usableShare: 1.5 } },
      { ...gateway, partNumber: 'C', maxNodes: 2.5, supply: { kind: 'poe', poeClass: 9 as 8 } },
      { ...gateway, partNumber: 'D', powerW: 80, supply: { kind: 'poe', poeClass: 4 } },
      { ...poeSwitch, partNumber: 'E', poePorts: 0, poeBudgetW: -1, supply: { kind: 'poe', poeClass: 4 } },
      { ...pir, partNumber: 'F', radio: { ...pir.radio!, sensitivityDbm: 3 } },
    ]
    expect(validateCatalogue(catalogue)).toEqual([
      'Part A: it draws more asleep (0.2 W) than awake (0.15 W); check both figures.',
      'Part A: awake 60.0 % of the hour and transmitting 50.0 % more is longer than the hour; shorten the bursts or the awake share.',
      'Part A: only a gateway has a node capacity; remove maxNodes from this node.',
      'Part B: the battery needs a positive capacity in Wh (volts × amp-hours).',
      'Part B: the usable share of the battery must be above 0 and at most 1, not 1.5.',
      'Part C: PoE class must be a whole number from 0 to 8, not 9.',
      "Part C: the gateway's capacity must be a whole number of nodes, not 2.5.",
      'Part D draws up to 80 W, more than PoE class 4 delivers (25.5 W); no PoE class delivers that, so power it from mains.',
      'Part E: a PoE switch needs a whole number of PoE ports, not 0.',
      'Part E: the PoE budget must be a positive number of watts.',
      'Part E: a switch is powered from mains here; remove its poe supply.',
      "Part F's radio: receiver sensitivity is a negative dBm figure, not 3.",
    ])
  })

  it('checks which switch feeds a PoE device on the site', () => {
    const site: SiteModel = {
      name: 't',
      origin: { lat: 48.2, lon: 16.37 },
      boundary: [{ x: 0, y: 0 }, { x: 50, y: 0 }, { x: 50, y: 50 }, { x: 0, y: 50 }],
      zones: [],
      obstructions: [],
      mountingPoints: [{ id: 'm', x: 10, y: 10, heightM: 3, allowedKinds: ['camera', 'sensor', 'switch', 'gateway'] }],
      devices: [
        { id: 'sw', partNumber: 'SW-P08-120', mountingPointId: 'm', orientationDeg: 0 },
        { id: 'cam', partNumber: 'CAM-B28-8M-060', mountingPointId: 'm', orientationDeg: 0, poeSwitchId: 'sw' },
        { id: 'cam-2', partNumber: 'CAM-B28-8M-060', mountingPointId: 'm', orientationDeg: 0, poeSwitchId: 'gone' },
        { id: 'cam-3', partNumber: 'CAM-B28-8M-060', mountingPointId: 'm', orientationDeg: 0, poeSwitchId: 'cam' },
        { id: 'gw', partNumber: 'GW-LR868-IN', mountingPointId: 'm', orientationDeg: 0, poeSwitchId: 'sw' },
      ],
    }
    expect(validateSite(site, defaultCatalogue())).toEqual([
      'Device cam-2 is fed by switch gone, which is not on the site; choose a placed switch.',
      'Device cam-3 is fed by cam, which is a camera, not a switch.',
      'Device gw names a PoE switch, but its part GW-LR868-IN is not powered over Ethernet; remove the switch or choose a PoE part.',
    ])
  })
})
