import { readFileSync } from 'node:fs'
import { inflateSync } from 'node:zlib'
import { DOMParser, type Element } from '@xmldom/xmldom'
import { parseCatalogue, type Catalogue, type DeviceKind, type SiteModel } from '../../shared/domain/site/model'

/** The built-in catalogue, read and checked the way the core reads it. */
export function builtInCatalogue(): Catalogue {
  const parsed = parseCatalogue(JSON.parse(readFileSync(new URL('../../resources/catalogue/parts.json', import.meta.url), 'utf8')))
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'))
  return parsed.catalogue
}

const rectangle = (x0: number, y0: number, x1: number, y1: number) => [
  { x: x0, y: y0 },
  { x: x1, y: y0 },
  { x: x1, y: y1 },
  { x: x0, y: y1 },
]
const anyKind: DeviceKind[] = ['camera', 'sensor', 'gateway', 'node', 'switch']

/**
 * A 120 × 80 m depot: a gate strip that must be seen, an optional yard with a pond nobody needs to watch,
 * a concrete hall, a fence and a brick wall. Two PoE switches feed the cameras, a radar, a sub-GHz and a
 * Wi-Fi gateway and an Ethernet node; battery PIRs and nodes report by radio; two wired detectors hang
 * on a panel. Names carry markup and quotes, as an imported KML may.
 */
export function depotSite(): SiteModel {
  const at: [id: string, partNumber: string, x: number, y: number, orientationDeg: number, poeSwitchId?: string][] = [
    ['sw-1', 'SW-P08-120', 35, 25, 0],
    ['sw-2', 'SW-P04-120-DIN', 75, 55, 0],
    ['cam-1', 'CAM-B28-4M-040', 5, 5, 45, 'sw-1'],
    ['cam-2', 'CAM-B28-4M-040', 28, 18, 225, 'sw-1'],
    ['cam-10', 'CAM-B28-8M-060', 80, 10, 0, 'sw-2'],
    ['cam-3', 'CAM-T28-2M-028', 110, 40, 270, 'sw-1'],
    ['radar-1', 'RAD-060-100-P', 115, 75, 225, 'sw-2'],
    ['gw-lr', 'GW-LR868-OUT', 36, 26, 0, 'sw-1'],
    ['gw-wifi', 'GW-AP24-OUT', 76, 56, 0, 'sw-2'],
    ['pir-1', 'PIR-W868-12', 15, 2, 0],
    ['pir-2', 'PIR-W868-12', 25, 2, 0],
    ['node-1', 'NODE-E32-LR-BAT', 60, 70, 0],
    ['node-2', 'NODE-E32-LR-BAT', 100, 20, 0],
    ['node-3', 'NODE-E32-WF-BAT', 85, 60, 0],
    ['node-eth', 'NODE-E32-ETH-P', 33, 24, 0, 'sw-1'],
    ['pir-w', 'PIR-12-090', 2, 18, 90],
    ['dt-1', 'DT-15-090', 50, 28, 180],
  ]
  return {
    name: 'Depot <North> & "Yard"',
    origin: { lat: 48.2082, lon: 16.3738 },
    boundary: rectangle(0, 0, 120, 80),
    zones: [
      { id: 'gate', name: 'Gate & <lane>', kind: 'required', polygon: rectangle(0, 0, 30, 20) },
      { id: 'yard', name: 'Yard', kind: 'optional', polygon: rectangle(30, 0, 120, 80) },
      { id: 'pond', name: 'Pond', kind: 'excluded', polygon: rectangle(90, 60, 110, 75) },
    ],
    obstructions: [
      { id: 'hall', shape: { kind: 'polygon', points: rectangle(40, 30, 70, 50) }, material: 'concrete', heightM: 8, blocksSight: true, attenuationDb: 15 },
      { id: 'fence', shape: { kind: 'segment', a: { x: 30, y: 0 }, b: { x: 30, y: 20 } }, material: 'fence', heightM: 2, blocksSight: false, attenuationDb: 2 },
      { id: 'wall', shape: { kind: 'segment', a: { x: 80, y: 20 }, b: { x: 100, y: 30 } }, material: 'brick', heightM: 3, blocksSight: true, attenuationDb: 8 },
    ],
    mountingPoints: at.map(([id, , x, y]) => ({ id: `m-${id}`, x, y, heightM: 4, allowedKinds: anyKind })),
    devices: at.map(([id, partNumber, , , orientationDeg, poeSwitchId]) => ({ id, partNumber, mountingPointId: `m-${id}`, orientationDeg, ...(poeSwitchId ? { poeSwitchId } : {}) })),
  }
}

/** One string a content stream draws, where it draws it. */
export interface DrawnText {
  /** Which content stream, in file order: one per page here. */
  stream: number
  x: number
  y: number
  text: string
}

/**
 * Every stream of a PDF saved without object streams, inflated where it is deflated: page contents and
 * embedded files alike.
 */
export function pdfStreams(pdf: Uint8Array): string[] {
  const file = Buffer.from(pdf).toString('latin1')
  const streams: string[] = []
  const start = /stream\r?\n/g
  for (let match = start.exec(file); match; match = start.exec(file)) {
    const end = file.indexOf('endstream', start.lastIndex)
    const raw = Buffer.from(file.slice(start.lastIndex, end).replace(/\r?\n$/, ''), 'latin1')
    try {
      streams.push(inflateSync(raw).toString('latin1'))
    } catch {
      streams.push(raw.toString('latin1'))
    }
    start.lastIndex = end + 'endstream'.length
  }
  return streams
}

/**
 * The text a PDF draws, read back from its content streams: each `<hex> Tj` with the position of the `Tm`
 * before it. Standard-font text is WinAnsi, which matches Latin-1 for every character the tests use.
 */
export function pdfText(pdf: Uint8Array): DrawnText[] {
  const drawn: DrawnText[] = []
  pdfStreams(pdf).forEach((content, stream) => {
    let x = 0
    let y = 0
    for (const op of content.matchAll(/(-?[\d.]+) (-?[\d.]+) Tm|<([0-9A-Fa-f]*)> Tj/g)) {
      if (op[3] === undefined) {
        x = Number(op[1])
        y = Number(op[2])
      } else drawn.push({ stream, x, y, text: Buffer.from(op[3], 'hex').toString('latin1') })
    }
  })
  return drawn
}

/** RFC 4180 fields: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(csv: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i]!
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && csv[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  if (field || row.length > 0) throw new Error('The CSV does not end with CRLF.')
  return rows
}

/** An SVG parsed strictly: any warning from the parser (bad escaping, a stray character) fails the test. */
export function parseSvg(svg: string) {
  return new DOMParser({
    onError: (level, message) => {
      throw new Error(`SVG ${level}: ${message}`)
    },
  }).parseFromString(svg, 'image/svg+xml')
}

/** Every element of the document that carries `attribute`, in document order. */
export function elementsWith(svg: string, attribute: string): Element[] {
  return Array.from(parseSvg(svg).getElementsByTagName('*')).filter((element) => element.hasAttribute(attribute))
}

/** How many of each value a list holds. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}
