import { describe, expect, it } from 'vitest'
import { bomCsv, csvField } from '../../shared/domain/site/bill-of-materials'
import type { Catalogue, SiteModel } from '../../shared/domain/site/model'
import { siteOutputs } from '../../shared/domain/site/site-outputs'
import { parseCsv } from './site-outputs.fixture'

describe('csvField', () => {
  it('quotes fields with a comma, quote or line break, doubling the quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain')
    expect(csvField('a, b')).toBe('"a, b"')
    expect(csvField('1/2.8" lens')).toBe('"1/2.8"" lens"')
    expect(csvField('two\nlines')).toBe('"two\nlines"')
  })

  it('turns a cell a spreadsheet would run as a formula into text', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`)
    expect(csvField('+1')).toBe("'+1")
    expect(csvField('-2+3')).toBe("'-2+3")
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvField('\t=1')).toBe("'\t=1")
    expect(csvField('\r=1')).toBe(`"'\r=1"`)
    expect(csvField('a=1')).toBe('a=1')
  })
})

describe('bomCsv', () => {
  // Part names and device ids from a user's catalogue and KML, written to hurt.
  const catalogue: Catalogue = [
    { kind: 'sensor', partNumber: '=cmd|calc', name: '+Evil, "quoted"\r\nname', technology: 'PIR', rangeM: 10, angleDeg: 90, powerW: 0.3, priceEur: 19.99 },
    { kind: 'camera', partNumber: 'CAM-1', name: 'Camera ü°', sensor: { format: '1/3"', widthMm: 4.8, widthPx: 1920, heightPx: 1080 }, lens: { focalLengthMm: 4 }, hfovDeg: 62, powerW: 6, priceEur: 1234.5 },
  ]
  const site: SiteModel = {
    name: 'csv',
    origin: { lat: 0, lon: 0 },
    boundary: [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 10 },
    ],
    zones: [],
    obstructions: [],
    mountingPoints: [{ id: 'm', x: 5, y: 2, heightM: 3, allowedKinds: ['camera', 'sensor'] }],
    devices: [
      { id: '@a', partNumber: '=cmd|calc', mountingPointId: 'm', orientationDeg: 0 },
      { id: 'b', partNumber: '=cmd|calc', mountingPointId: 'm', orientationDeg: 0 },
      { id: 'c,1', partNumber: 'CAM-1', mountingPointId: 'm', orientationDeg: 0 },
    ],
  }
  const csv = bomCsv(siteOutputs(site, catalogue))

  it('ends every record with CRLF and reads back to the same cells, formulas defused', () => {
    expect(csv.endsWith('\r\n')).toBe(true)
    expect(csv.replace(/"[^"]*(?:""[^"]*)*"/g, '').split('\r\n').every((record) => !record.includes('\n'))).toBe(true)
    expect(parseCsv(csv)).toEqual([
      ['Part number', 'Name', 'Kind', 'Quantity', 'Unit price (EUR)', 'Line total (EUR)', 'Devices'],
      ['CAM-1', 'Camera ü°', 'camera', '1', '1234.50', '1234.50', 'c,1'],
      ["'=cmd|calc", `'+Evil, "quoted"\r\nname`, 'sensor', '2', '19.99', '39.98', "'@a b"],
      ['Total', '', '', '3', '', '1274.48', ''],
    ])
  })

  it('is a header and a total row for a plan without devices', () => {
    expect(bomCsv(siteOutputs({ ...site, devices: [] }, catalogue))).toBe('Part number,Name,Kind,Quantity,Unit price (EUR),Line total (EUR),Devices\r\nTotal,,,0,,0.00,\r\n')
  })
})
