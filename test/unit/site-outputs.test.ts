import { describe, expect, it } from 'vitest'
import { buildCoverageGrid, computeCoverage } from '../../shared/domain/site/coverage'
import { coverageSvg } from '../../shared/domain/site/coverage-svg'
import type { Catalogue, SiteModel } from '../../shared/domain/site/model'
import { createLocalProjection } from '../../shared/domain/site/projection'
import { compareDeviceIds, siteOutputs } from '../../shared/domain/site/site-outputs'
import { topologySvg } from '../../shared/domain/site/topology-svg'
import { builtInCatalogue, depotSite, elementsWith, parseSvg } from './site-outputs.fixture'

const square = (x0: number, y0: number, x1: number, y1: number) => [
  { x: x0, y: y0 },
  { x: x1, y: y0 },
  { x: x1, y: y1 },
  { x: x0, y: y1 },
]

const cheap: Catalogue = [
  { kind: 'sensor', partNumber: 'PIR-DIME', name: 'PIR at ten cents', technology: 'PIR', rangeM: 10, angleDeg: 90, powerW: 0.3, priceEur: 0.1 },
  { kind: 'switch', partNumber: 'SW-TINY', name: 'tiny switch', poePorts: 1, poeBudgetW: 5, powerW: 2, priceEur: 80 },
  { kind: 'camera', partNumber: 'CAM-POE', name: 'PoE camera', sensor: { format: '1/3"', widthMm: 4.8, widthPx: 1920, heightPx: 1080 }, lens: { focalLengthMm: 4 }, hfovDeg: 62, powerW: 6, supply: { kind: 'poe', poeClass: 2 }, priceEur: 150 },
]

/** A yard with overlapping zones, a ghost part, a device on a mount that was deleted and a switch asked too much. */
function yard(): SiteModel {
  const mount = (id: string, x: number, y: number) => ({ id, x, y, heightM: 3, allowedKinds: ['camera', 'sensor', 'switch'] as const })
  return {
    name: 'Yard',
    origin: { lat: 51.5, lon: -0.12 },
    boundary: square(0, 0, 50, 50),
    zones: [
      { id: 'west', name: 'West', kind: 'required', polygon: square(0, 0, 25, 50) },
      { id: 'north', name: 'North', kind: 'optional', polygon: square(0, 25, 50, 50) },
    ],
    obstructions: [],
    mountingPoints: [mount('nw', 10, 40), mount('se', 40, 10), mount('sw', 10, 10), mount('ne', 40, 40)],
    devices: [
      { id: 'pir-10', partNumber: 'PIR-DIME', mountingPointId: 'nw', orientationDeg: 0 },
      { id: 'pir-2', partNumber: 'PIR-DIME', mountingPointId: 'se', orientationDeg: 0 },
      { id: 'pir-1', partNumber: 'PIR-DIME', mountingPointId: 'sw', orientationDeg: 0 },
      { id: 'ghost', partNumber: 'XYZ-404', mountingPointId: 'ne', orientationDeg: 0 },
      { id: 'lost', partNumber: 'PIR-DIME', mountingPointId: 'pulled-down', orientationDeg: 0 },
      { id: 'sw', partNumber: 'SW-TINY', mountingPointId: 'sw', orientationDeg: 0 },
      { id: 'cam-a', partNumber: 'CAM-POE', mountingPointId: 'ne', orientationDeg: 180, poeSwitchId: 'sw' },
      { id: 'cam-b', partNumber: 'CAM-POE', mountingPointId: 'se', orientationDeg: 0, poeSwitchId: 'sw' },
    ],
  }
}

describe('siteOutputs', () => {
  const site = yard()
  const outputs = siteOutputs(site, cheap)
  const row = (id: string) => outputs.devices.find((d) => d.id === id)!

  it('keeps a device whose part is not in the catalogue: a priced-at-nothing BOM line, last, and a problem', () => {
    expect(row('ghost')).toMatchObject({ partName: 'XYZ-404', kind: null, averageW: null, zoneIds: ['north'] })
    expect(outputs.bom.at(-1)).toEqual({ partNumber: 'XYZ-404', partName: 'XYZ-404', kind: null, quantity: 1, unitPriceEur: 0, totalPriceEur: 0, deviceIds: ['ghost'] })
    expect(outputs.problems.filter((p) => p.includes('ghost'))).toEqual([expect.stringContaining('XYZ-404, which is not in the catalogue')])
  })

  it('keeps a device on a missing mounting point, without a position, and says so', () => {
    expect(row('lost')).toMatchObject({ x: null, y: null, lat: null, lon: null, heightM: null, zoneIds: [], partName: 'PIR at ten cents' })
    expect(outputs.bom.find((line) => line.partNumber === 'PIR-DIME')!.deviceIds).toContain('lost')
    expect(outputs.problems).toContainEqual(expect.stringContaining('Device lost is on mounting point pulled-down, which does not exist'))
  })

  it('puts each device in every zone its mount lies in, and places it by the site projection', () => {
    expect(row('pir-10').zoneIds).toEqual(['west', 'north'])
    expect(row('pir-1').zoneIds).toEqual(['west'])
    expect(row('pir-2').zoneIds).toEqual([])
    const back = createLocalProjection(site.origin).toLocal({ lat: row('pir-2').lat!, lon: row('pir-2').lon! })
    expect(back.x).toBeCloseTo(40, 6)
    expect(back.y).toBeCloseTo(10, 6)
  })

  it('groups the BOM by part number, kinds in order, ids counted as people count, prices to the cent', () => {
    expect(outputs.bom.map((line) => [line.partNumber, line.quantity])).toEqual([
      ['CAM-POE', 2],
      ['PIR-DIME', 4],
      ['SW-TINY', 1],
      ['XYZ-404', 1],
    ])
    const pirs = outputs.bom[1]!
    expect(pirs.deviceIds).toEqual(['lost', 'pir-1', 'pir-2', 'pir-10'])
    // 4 × 0.1 is 0.4000000000000001 in floating point; a BOM prints cents.
    expect(pirs.totalPriceEur).toBe(0.4)
    expect(outputs.totalPriceEur).toBe(380.4)
  })

  it('names a switch asked for more power or ports than it has', () => {
    expect(row('cam-a').poeSwitchId).toBe('sw')
    expect(outputs.problems).toContainEqual(expect.stringMatching(/^Switch sw is asked for 14\.0 W of PoE and delivers 5 W/))
    expect(outputs.problems).toContainEqual(expect.stringMatching(/^Switch sw feeds 2 devices from 1 PoE port;/))
  })

  it('takes the gateway and margin of each node from the network plan, and its battery life from the power budget', () => {
    const depot = siteOutputs(depotSite(), builtInCatalogue())
    const node = depot.devices.find((d) => d.id === 'node-3')!
    const link = depot.network.links.find((l) => l.nodeId === 'node-3')!
    expect(node).toMatchObject({ gatewayId: 'gw-wifi', marginDb: link.marginDb, poeSwitchId: null })
    expect(node.batteryLifeDays).toBe(depot.power.devices.find((d) => d.deviceId === 'node-3')!.batteryLifeDays)
    expect(node.batteryLifeDays).toBeGreaterThan(100)
  })

  it('counts digit runs by value when sorting ids', () => {
    expect(['cam-10', 'cam-2', 'cam-1', 'cam-02', 'b', 'a10b', 'a9c'].sort(compareDeviceIds)).toEqual(['a9c', 'a10b', 'b', 'cam-1', 'cam-02', 'cam-2', 'cam-10'])
  })
})

describe('the diagrams of a plan with gaps', () => {
  const site = yard()
  site.name = 'Yard <script>alert("x")</script> & co'
  site.zones = [...site.zones, { id: 'z<1>', name: 'Zone "A" & <B>', kind: 'excluded', polygon: square(30, 0, 50, 20) }]
  const outputs = siteOutputs(site, cheap)

  it('the topology shows unassigned devices with the reason, and devices wired locally', () => {
    const svg = topologySvg(outputs)
    expect(elementsWith(svg, 'data-device-id').map((e) => e.getAttribute('data-device-id')).sort()).toEqual(site.devices.map((d) => d.id).sort())
    const reasons = Object.fromEntries(elementsWith(svg, 'data-reason-for').map((e) => [e.getAttribute('data-reason-for'), e.textContent]))
    expect(Object.keys(reasons)).toEqual(['ghost'])
    expect(reasons.ghost).toContain('XYZ-404 is not in the catalogue')
    const title = parseSvg(svg).getElementsByTagName('title')[0]!.textContent
    expect(title).toBe(`Network topology: ${site.name}`)
  })

  it('the coverage plan lists the device without a mount beside the plan, and escapes every name', () => {
    const coverage = computeCoverage(site, cheap, buildCoverageGrid(site, { cellSizeM: 1 }))
    const svg = coverageSvg(site, coverage, outputs, { pngDataUrl: 'data:image/png;base64,AAAA' })
    const devices = elementsWith(svg, 'data-device-id')
    expect(devices.map((e) => e.getAttribute('data-device-id')).sort()).toEqual(site.devices.map((d) => d.id).sort())
    expect(devices.find((e) => e.getAttribute('data-device-id') === 'lost')!.getAttribute('class')).toBe('device unplaced')
    const zone = elementsWith(svg, 'data-zone-id').find((e) => e.getAttribute('data-zone-id') === 'z<1>')!
    expect(zone.textContent).toBe('Zone "A" & <B>')
    expect(svg).not.toContain('<script')
  })

  it('draws a plan without devices as an empty but valid diagram', () => {
    const empty = { ...yard(), devices: [] }
    const none = siteOutputs(empty, cheap)
    const coverage = computeCoverage(empty, cheap, buildCoverageGrid(empty, { cellSizeM: 2 }))
    expect(elementsWith(topologySvg(none), 'data-device-id')).toEqual([])
    expect(elementsWith(coverageSvg(empty, coverage, none, { pngDataUrl: 'data:image/png;base64,AAAA' }), 'data-device-id')).toEqual([])
  })
})
