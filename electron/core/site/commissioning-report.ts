import { PDFDocument, StandardFonts, rgb, type Color, type PDFFont, type PDFPage } from 'pdf-lib'
import { bomCsv } from '../../../shared/domain/site/bill-of-materials'
import { blindSpotOutline, DoriBand, type CoverageResult } from '../../../shared/domain/site/coverage'
import { CoverageCell, coveragePalette } from '../../../shared/domain/site/coverage-palette'
import { formatArea, groupThousands, kindColour, kindLabel, ringLabelPoint, scaleBarLength, zoneStroke } from '../../../shared/domain/site/drawing'
import type { DeviceKind, PointM, SiteModel } from '../../../shared/domain/site/model'
import { deviceKindOrder, type SiteOutputs } from '../../../shared/domain/site/site-outputs'

/**
 * The commissioning report: the one document the installer signs off with. A4 pages: the title with the
 * site, date, operator and the plan's problems; the map (the coverage raster under the boundary, zones,
 * walls and devices, drawn as vectors); the coverage summary; the network; the power budget; and the
 * bill of materials, whose CSV is also attached to the file. Every table pages, repeating its header.
 *
 * Standard fonts only, so the file needs nothing embedded and opens anywhere; they encode WinAnsi, so
 * text from user files is folded to it (accents dropped where the letter has no WinAnsi form, anything
 * else a question mark) rather than making the report fail.
 */

export interface CommissioningReportInput {
  site: SiteModel
  outputs: SiteOutputs
  coverage: CoverageResult
  coveragePng: Uint8Array
  generatedAt: number
  operator: string
}

const pageWidth = 595.28
const pageHeight = 841.89
const margin = 40
const contentWidth = pageWidth - 2 * margin
const footerHeight = 24
const black = rgb(0, 0, 0)
const grey = rgb(0.35, 0.35, 0.35)
const rule = rgb(0.75, 0.75, 0.75)
const shade = rgb(0.95, 0.95, 0.95)
const warn = rgb(0.7, 0.09, 0.17)
/** Blind spots and mounted devices beyond these are summed or left unlabelled: the tables have them all. */
const maxListedSpots = 300
const maxLabelledDevices = 150

const hexColour = (hex: string): Color => rgb(parseInt(hex.slice(1, 3), 16) / 255, parseInt(hex.slice(3, 5), 16) / 255, parseInt(hex.slice(5, 7), 16) / 255)
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '—')
/** Watts with the digits that matter: a battery PIR averages half a milliwatt, a camera several watts. */
const watts = (value: number) => (!Number.isFinite(value) ? '—' : value >= 1 || value === 0 ? value.toFixed(2) : value >= 0.01 ? value.toFixed(3) : value.toPrecision(2))
function euros(value: number): string {
  const [whole, cents] = value.toFixed(2).split('.')
  return `${groupThousands(Number(whole))}.${cents}`
}

export async function commissioningReportPdf(input: CommissioningReportInput): Promise<Uint8Array> {
  const { site, outputs, coverage, generatedAt, operator } = input
  const doc = await PDFDocument.create()
  const date = new Date(generatedAt)
  const stamp = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
  doc.setTitle(`Commissioning report: ${site.name}`)
  doc.setAuthor(operator)
  doc.setSubject('Site plan: coverage, network, power and bill of materials')
  doc.setCreator('ESP Fleet Console')
  doc.setCreationDate(date)
  doc.setModificationDate(date)
  const csv = bomCsv(outputs)
  await doc.attach(new TextEncoder().encode(csv), 'bill-of-materials.csv', { mimeType: 'text/csv', description: `Bill of materials: ${site.name}`, creationDate: date, modificationDate: date })

  const w = new Writer(doc, await doc.embedFont(StandardFonts.Helvetica), await doc.embedFont(StandardFonts.HelveticaBold))

  // ---- Title ----
  w.newPage()
  w.text('Commissioning report', { size: 22, bold: true, gap: 30 })
  w.text(site.name, { size: 15, gap: 26 })
  w.table(
    [{ title: '', width: 130 }, { title: '', width: contentWidth - 130 }],
    [
      ['Generated', stamp],
      ['Operator', operator],
      ['Site origin', `${site.origin.lat.toFixed(6)}, ${site.origin.lon.toFixed(6)} (WGS84)`],
      ['Devices', `${outputs.devices.length} on ${outputs.bom.length} part numbers`],
      ['Total price', `${euros(outputs.totalPriceEur)} EUR`],
      ['Required area seen', `${fixed(coverage.summary.requiredShare * 100, 1)} %`],
      ['Blind spots', `${coverage.blindSpots.length}, ${formatArea(coverage.summary.blindSpotAreaM2)}`],
    ],
    { header: false, size: 10 },
  )
  w.gap(12)
  w.text(outputs.problems.length === 0 ? 'No problems found in the plan.' : `Problems to resolve (${outputs.problems.length})`, { size: 13, bold: true, gap: 20 })
  for (const problem of outputs.problems) w.paragraph(`• ${problem}`, { size: 9, colour: warn, indent: 8 })

  // ---- Map ----
  w.newPage()
  w.text('Site plan and coverage', { size: 15, bold: true, gap: 22 })
  await drawMap(w, input)

  // ---- Coverage ----
  w.newPage()
  w.text('Coverage', { size: 15, bold: true, gap: 22 })
  const { summary, grid } = coverage
  const cellArea = grid.cellSizeM * grid.cellSizeM
  const inProblem = summary.requiredCells + summary.optionalCells
  const share = (part: number, whole: number) => (whole > 0 ? `${fixed((part / whole) * 100, 1)} %` : '—')
  w.table(
    [{ title: 'Measure', width: 200 }, { title: 'Area', width: 120, align: 'right' }, { title: 'Share', width: 80, align: 'right' }],
    [
      ['Required area seen', formatArea(summary.requiredSeen * cellArea), share(summary.requiredSeen, summary.requiredCells)],
      ['Required area', formatArea(summary.requiredCells * cellArea), ''],
      ['Optional area seen', formatArea(summary.optionalSeen * cellArea), share(summary.optionalSeen, summary.optionalCells)],
      ['Blind spots', formatArea(summary.blindSpotAreaM2), share(summary.blindSpotAreaM2, inProblem * cellArea)],
      ['Gateway signal with margin', '', summary.radioShare === null ? 'no gateway' : `${fixed(summary.radioShare * 100, 1)} %`],
    ],
  )
  w.gap(10)
  w.text(`DORI bands (EN 62676-4), best camera per cell, ${grid.cellSizeM} m cells`, { size: 11, bold: true, gap: 16 })
  const bands = [
    ['Identification', DoriBand.identification],
    ['Recognition', DoriBand.recognition],
    ['Observation', DoriBand.observation],
    ['Detection', DoriBand.detection],
    ['No camera detects', DoriBand.none],
  ] as const
  w.table(
    [{ title: 'Band', width: 200 }, { title: 'Area', width: 120, align: 'right' }, { title: 'Share of the problem', width: 120, align: 'right' }],
    bands.map(([name, band]) => [name, formatArea((summary.doriCells[band] ?? 0) * cellArea), share(summary.doriCells[band] ?? 0, inProblem)]),
  )
  w.gap(10)
  w.text(`Blind spots (${coverage.blindSpots.length}), largest first`, { size: 11, bold: true, gap: 16 })
  const listed = coverage.blindSpots.slice(0, maxListedSpots)
  w.table(
    [
      { title: 'Spot', width: 50 },
      { title: 'Area', width: 100, align: 'right' },
      { title: 'In required zones', width: 110, align: 'right' },
      { title: 'Centre x, y (m)', width: 130, align: 'right' },
    ],
    listed.map((spot) => [`B${spot.id}`, formatArea(spot.areaM2), formatArea(spot.requiredAreaM2), `${fixed(spot.centroid.x, 1)}, ${fixed(spot.centroid.y, 1)}`]),
  )
  if (coverage.blindSpots.length > listed.length) {
    const rest = coverage.blindSpots.slice(listed.length)
    w.paragraph(`${rest.length} smaller spots, ${formatArea(rest.reduce((sum, spot) => sum + spot.areaM2, 0))} together, are not listed.`, { size: 9 })
  }

  // ---- Network ----
  w.newPage()
  w.text('Network', { size: 15, bold: true, gap: 22 })
  const { network, power } = outputs
  const partOf = new Map(outputs.devices.map((row) => [row.id, row.partNumber]))
  w.text(`Radio links (${network.links.length})`, { size: 11, bold: true, gap: 16 })
  w.table(
    [
      { title: 'Node', width: 95 },
      { title: 'Part', width: 100 },
      { title: 'Gateway', width: 95 },
      { title: 'Margin dB', width: 55, align: 'right' },
      { title: 'RSSI dBm', width: 55, align: 'right' },
      { title: 'Distance m', width: 55, align: 'right' },
      { title: 'Walls dB', width: 60, align: 'right' },
    ],
    network.links.map((link) => [link.nodeId, partOf.get(link.nodeId) ?? '', link.gatewayId, fixed(link.marginDb, 1), fixed(link.rssiDbm, 1), fixed(link.distanceM, 0), fixed(link.wallLossDb, 0)]),
  )
  w.gap(10)
  w.text('Gateways', { size: 11, bold: true, gap: 16 })
  w.table(
    [{ title: 'Gateway', width: 120 }, { title: 'Part', width: 140 }, { title: 'Nodes', width: 80, align: 'right' }, { title: 'Capacity', width: 80, align: 'right' }],
    network.gateways.map((load) => [load.gatewayId, partOf.get(load.gatewayId) ?? '', String(load.load), load.capacity === null ? 'no limit' : String(load.capacity)]),
  )
  if (network.wired.length > 0) {
    w.gap(10)
    w.paragraph(`Radio devices powered over Ethernet send their data by cable: ${network.wired.join(', ')}.`, { size: 9 })
  }
  w.gap(10)
  w.text(`Unassigned (${network.unassigned.length})`, { size: 11, bold: true, gap: 16 })
  w.table(
    [{ title: 'Device', width: 95 }, { title: 'Cause', width: 80 }, { title: 'Reason', width: contentWidth - 175 }],
    network.unassigned.map((node) => [node.nodeId, node.cause.replace(/-/g, ' '), node.reason]),
  )

  // ---- Power ----
  w.newPage()
  w.text('Power', { size: 15, bold: true, gap: 22 })
  w.text(`Per device (${power.devices.length})`, { size: 11, bold: true, gap: 16 })
  w.table(
    [
      { title: 'Device', width: 85 },
      { title: 'Part', width: 100 },
      { title: 'Supply', width: 45 },
      { title: 'Average W', width: 50, align: 'right' },
      { title: 'Peak W', width: 45, align: 'right' },
      { title: 'Battery days', width: 55, align: 'right' },
      { title: 'PoE W', width: 45, align: 'right' },
      { title: 'Switch', width: 90 },
    ],
    power.devices.map((d) => [
      d.deviceId,
      d.partNumber,
      d.supply === 'poe' ? 'PoE' : d.supply,
      watts(d.averageW),
      watts(d.peakW),
      d.batteryLifeDays === null ? '' : fixed(d.batteryLifeDays, 0),
      d.poeW === null ? '' : fixed(d.poeW, 1),
      d.poeSwitchId ?? '',
    ]),
  )
  w.gap(10)
  w.text('PoE switches', { size: 11, bold: true, gap: 16 })
  w.table(
    [
      { title: 'Switch', width: 85 },
      { title: 'Part', width: 100 },
      { title: 'Budget W', width: 55, align: 'right' },
      { title: 'Load W', width: 55, align: 'right' },
      { title: 'Headroom W', width: 60, align: 'right' },
      { title: 'Ports', width: 50, align: 'right' },
      { title: 'Status', width: 110 },
    ],
    power.switches.map((s) => [
      s.switchId,
      s.partNumber,
      fixed(s.budgetW, 1),
      fixed(s.loadW, 1),
      fixed(s.headroomW, 1),
      `${s.portsUsed} of ${s.ports}`,
      [s.overBudget ? 'over budget' : '', s.overPorts ? 'too few ports' : ''].filter(Boolean).join(', ') || 'ok',
    ]),
  )
  w.gap(10)
  w.text('Average draw per zone and for the site', { size: 11, bold: true, gap: 16 })
  const powerColumns = [
    { title: 'Zone', width: 150 },
    { title: 'Devices', width: 50, align: 'right' as const },
    { title: 'Average W', width: 70, align: 'right' as const },
    { title: 'Mains W', width: 70, align: 'right' as const },
    { title: 'PoE W', width: 70, align: 'right' as const },
    { title: 'Battery W', width: 70, align: 'right' as const },
  ]
  const totals = (t: { averageW: number; mainsW: number; poeW: number; batteryW: number }) => [watts(t.averageW), watts(t.mainsW), watts(t.poeW), watts(t.batteryW)]
  w.table(powerColumns, [...power.zones.map((zone) => [zone.name, String(zone.deviceIds.length), ...totals(zone)]), ['Whole site', String(power.devices.length), ...totals(power.site)]], { lastRowBold: true })

  // ---- Bill of materials ----
  w.newPage()
  w.text('Bill of materials', { size: 15, bold: true, gap: 22 })
  w.table(
    [
      { title: 'Part number', width: 95 },
      { title: 'Name', width: 135 },
      { title: 'Kind', width: 45 },
      { title: 'Qty', width: 30, align: 'right' },
      { title: 'Unit EUR', width: 55, align: 'right' },
      { title: 'Total EUR', width: 60, align: 'right' },
      { title: 'Devices', width: contentWidth - 420 },
    ],
    [
      ...outputs.bom.map((line) => [line.partNumber, line.partName, line.kind ?? 'not in catalogue', String(line.quantity), euros(line.unitPriceEur), euros(line.totalPriceEur), line.deviceIds.join(' ')]),
      ['Total', '', '', String(outputs.bom.reduce((sum, line) => sum + line.quantity, 0)), '', euros(outputs.totalPriceEur), ''],
    ],
    { lastRowBold: true },
  )
  w.gap(8)
  w.paragraph('The same table is attached to this file as bill-of-materials.csv.', { size: 9, colour: grey })

  w.footers(`${site.name} · Commissioning report · ${stamp}`)
  return doc.save({ useObjectStreams: false })
}

async function drawMap(w: Writer, { site, outputs, coverage, coveragePng }: CommissioningReportInput): Promise<void> {
  const { grid } = coverage
  const cs = grid.cellSizeM
  const placed = outputs.devices.filter((row) => row.x !== null && row.y !== null) as (SiteOutputs['devices'][number] & { x: number; y: number })[]
  let [minX, minY, maxX, maxY] = [grid.originX, grid.originY, grid.originX + grid.cols * cs, grid.originY + grid.rows * cs]
  const extend = (p: PointM) => {
    minX = Math.min(minX, p.x)
    minY = Math.min(minY, p.y)
    maxX = Math.max(maxX, p.x)
    maxY = Math.max(maxY, p.y)
  }
  site.boundary.forEach(extend)
  site.zones.forEach((zone) => zone.polygon.forEach(extend))
  site.obstructions.forEach((o) => (o.shape.kind === 'segment' ? [o.shape.a, o.shape.b] : o.shape.points).forEach(extend))
  placed.forEach(extend)

  const boxHeight = 520
  const scale = Math.min(contentWidth / Math.max(maxX - minX, 1), boxHeight / Math.max(maxY - minY, 1))
  const left = margin
  const top = w.y
  const page = w.page
  // drawSvgPath puts its origin at (left, top) with y running down, as the plan's rows are read.
  const sx = (x: number) => (x - minX) * scale
  const sy = (y: number) => (maxY - y) * scale
  const ring = (points: readonly PointM[]) => `M${points.map((p) => `${sx(p.x).toFixed(2)} ${sy(p.y).toFixed(2)}`).join(' L')} Z`
  const at = { x: left, y: top }

  const image = await w.doc.embedPng(coveragePng)
  page.drawImage(image, { x: left + sx(grid.originX), y: top - sy(grid.originY), width: grid.cols * cs * scale, height: grid.rows * cs * scale, opacity: 0.8 })
  for (const zone of site.zones) {
    page.drawSvgPath(ring(zone.polygon), { ...at, borderColor: hexColour(zoneStroke[zone.kind]), borderWidth: 1, borderDashArray: [4, 2], ...(zone.kind === 'excluded' ? { color: rule, opacity: 0.4 } : {}) })
  }
  for (const zone of site.zones) {
    const centre = ringLabelPoint(zone.polygon)
    const label = w.safe(zone.name)
    w.textAt(label, left + sx(centre.x) - w.width(label, 6) / 2, top - sy(centre.y), { size: 6, colour: hexColour(zoneStroke[zone.kind]) })
  }
  if (site.boundary.length >= 3) page.drawSvgPath(ring(site.boundary), { ...at, borderColor: black, borderWidth: 1.5 })
  for (const o of site.obstructions) {
    const colour = o.blocksSight ? rgb(0.13, 0.13, 0.13) : rgb(0.47, 0.47, 0.47)
    const dash = o.blocksSight ? {} : { dashArray: [3, 2] }
    if (o.shape.kind === 'segment') page.drawLine({ start: { x: left + sx(o.shape.a.x), y: top - sy(o.shape.a.y) }, end: { x: left + sx(o.shape.b.x), y: top - sy(o.shape.b.y) }, thickness: 1.5, color: colour, ...dash })
    else page.drawSvgPath(ring(o.shape.points), { ...at, color: colour, opacity: 0.6, borderColor: colour, borderWidth: 1 })
  }
  for (const spot of coverage.blindSpots.slice(0, maxListedSpots)) {
    // Cell-edge outlines from the domain, the same the SVG draws.
    const outline = blindSpotOutline(grid, coverage.blindSpotLabels, spot)
    if (outline.length > 0) page.drawSvgPath(outline.map(ring).join(' '), { ...at, borderColor: warn, borderWidth: 0.8 })
    w.textAt(`B${spot.id}`, left + sx(spot.centroid.x) - 3, top - sy(spot.centroid.y) - 2, { size: 5, bold: true, colour: warn })
  }
  for (const row of placed) {
    const x = left + sx(row.x)
    const y = top - sy(row.y)
    const kind = row.kind ?? 'unknown'
    if (kind === 'camera' || kind === 'sensor') {
      const bearing = (row.orientationDeg * Math.PI) / 180
      page.drawLine({ start: { x, y }, end: { x: x + 9 * Math.sin(bearing), y: y + 9 * Math.cos(bearing) }, thickness: 1, color: hexColour(kindColour[kind]) })
    }
    drawSymbol(page, kind, x, y)
    if (placed.length <= maxLabelledDevices) w.textAt(row.id, x + 4, y + 3, { size: 5 })
  }

  // Scale bar, north arrow and the legend under the map.
  const mapBottom = top - (maxY - minY) * scale
  const barM = scaleBarLength(contentWidth / 5 / scale)
  const barPt = barM * scale
  page.drawRectangle({ x: left, y: mapBottom - 14, width: barPt / 2, height: 4, color: black })
  page.drawRectangle({ x: left + barPt / 2, y: mapBottom - 14, width: barPt / 2, height: 4, borderColor: black, borderWidth: 0.5 })
  w.textAt('0', left, mapBottom - 24, { size: 7 })
  w.textAt(barM >= 1000 ? `${barM / 1000} km` : `${Number(barM.toPrecision(3))} m`, left + barPt - 6, mapBottom - 24, { size: 7 })
  // North arrow under the map's right edge, clear of the devices drawn on it.
  page.drawSvgPath('M0 0 L5 14 L0 10 L-5 14 Z', { x: left + contentWidth - 6, y: mapBottom - 6, color: black })
  w.textAt('N', left + contentWidth - 19, mapBottom - 18, { size: 8, bold: true })
  if (placed.length > maxLabelledDevices) w.textAt(`${placed.length} devices: labels left out to keep the plan legible; the tables name them all.`, left + barPt + 30, mapBottom - 24, { size: 7, colour: grey })

  w.y = mapBottom - 44
  const legend = [
    ...coveragePalette.filter((c) => c.cell !== CoverageCell.outside).map((c) => ({ draw: (x: number, y: number) => page.drawRectangle({ x, y, width: 10, height: 7, color: rgb(c.red / 255, c.green / 255, c.blue / 255), borderColor: rule, borderWidth: 0.5 }), label: c.label })),
    ...[...deviceKindOrder, 'unknown' as const].map((kind) => ({ draw: (x: number, y: number) => drawSymbol(page, kind, x + 5, y + 3.5), label: kindLabel[kind] })),
  ]
  const columnWidth = contentWidth / 2
  legend.forEach((item, i) => {
    const x = left + (i % 2) * columnWidth
    const y = w.y - Math.floor(i / 2) * 12
    item.draw(x, y)
    w.textAt(item.label, x + 16, y, { size: 8 })
  })
  w.y -= Math.ceil(legend.length / 2) * 12 + 6
  w.paragraph('Blind spots are outlined in red; zones dashed (red required, blue optional, grey excluded); walls solid, fences dashed.', { size: 8, colour: grey })
  if (outputs.devices.length > placed.length) {
    w.paragraph(`Not on the plan (mounting point missing): ${outputs.devices.filter((row) => row.x === null).map((row) => row.id).join(', ')}.`, { size: 8, colour: warn })
  }
}

function drawSymbol(page: PDFPage, kind: DeviceKind | 'unknown', x: number, y: number): void {
  const colour = hexColour(kindColour[kind])
  const white = rgb(1, 1, 1)
  switch (kind) {
    case 'camera':
      return page.drawRectangle({ x: x - 2.5, y: y - 2.5, width: 5, height: 5, color: colour, borderColor: white, borderWidth: 0.4 })
    case 'sensor':
      return page.drawCircle({ x, y, size: 2.6, color: colour, borderColor: white, borderWidth: 0.4 })
    case 'gateway':
      return page.drawSvgPath('M0 -3.5 L3.5 0 L0 3.5 L-3.5 0 Z', { x, y, color: colour, borderColor: white, borderWidth: 0.4 })
    case 'node':
      return page.drawCircle({ x, y, size: 2, color: white, borderColor: colour, borderWidth: 1.2 })
    case 'switch':
      return page.drawRectangle({ x: x - 3.5, y: y - 2, width: 7, height: 4, color: colour })
    case 'unknown':
      page.drawLine({ start: { x: x - 2.5, y: y - 2.5 }, end: { x: x + 2.5, y: y + 2.5 }, thickness: 1.2, color: colour })
      page.drawLine({ start: { x: x - 2.5, y: y + 2.5 }, end: { x: x + 2.5, y: y - 2.5 }, thickness: 1.2, color: colour })
  }
}

interface Column {
  title: string
  width: number
  align?: 'left' | 'right'
}

interface TextOptions {
  size?: number
  bold?: boolean
  colour?: Color
}

/** Characters the standard fonts cannot encode, as the nearest WinAnsi text. */
const winAnsiFallbacks: Readonly<Record<string, string>> = { '−': '-', '≥': '>=', '≤': '<=', '→': '->', '←': '<-', '≈': '~', '✓': 'ok' }

/** A cursor down A4 pages: text, wrapped paragraphs and tables that continue on the next page. */
class Writer {
  page!: PDFPage
  y = 0
  private readonly encodable: Set<number>

  constructor(
    readonly doc: PDFDocument,
    private readonly regular: PDFFont,
    private readonly bold: PDFFont,
  ) {
    this.encodable = new Set(regular.getCharacterSet())
  }

  newPage(): void {
    this.page = this.doc.addPage([pageWidth, pageHeight])
    this.y = pageHeight - margin
  }

  /** Room for `height` more points on this page, or a new page. */
  ensure(height: number): boolean {
    if (this.y - height >= margin + footerHeight) return false
    this.newPage()
    return true
  }

  gap(points: number): void {
    this.y -= points
  }

  /** WinAnsi text: whitespace as spaces, accents dropped where only the base letter encodes, else `?`. */
  safe(text: string): string {
    let out = ''
    for (const ch of text) {
      const code = ch.codePointAt(0)!
      if (this.encodable.has(code)) out += ch
      else if (/\s/u.test(ch)) out += ' '
      else if (winAnsiFallbacks[ch] !== undefined) out += winAnsiFallbacks[ch]
      else {
        const base = ch.normalize('NFD').replace(/\p{M}/gu, '')
        out += base && [...base].every((c) => this.encodable.has(c.codePointAt(0)!)) ? base : '?'
      }
    }
    return out
  }

  width(text: string, size: number, bold = false): number {
    return (bold ? this.bold : this.regular).widthOfTextAtSize(this.safe(text), size)
  }

  private font(options: TextOptions): PDFFont {
    return options.bold ? this.bold : this.regular
  }

  textAt(text: string, x: number, y: number, options: TextOptions = {}): void {
    this.page.drawText(this.safe(text), { x, y, size: options.size ?? 9, font: this.font(options), color: options.colour ?? black })
  }

  /** One line at the cursor, then down by `gap`. */
  text(text: string, options: TextOptions & { gap: number }): void {
    // Room for a few lines of what follows too, so a heading never ends a page alone.
    this.ensure(options.gap + 30)
    this.textAt(text, margin, this.y - (options.size ?? 9), options)
    this.y -= options.gap
  }

  paragraph(text: string, options: TextOptions & { indent?: number } = {}): void {
    const size = options.size ?? 9
    const indent = options.indent ?? 0
    this.wrap(text, contentWidth - indent, size, this.font(options)).forEach((line, i) => {
      this.ensure(size * 1.3)
      this.textAt(line, margin + (i === 0 ? 0 : indent), this.y - size, options)
      this.y -= size * 1.3
    })
    this.y -= size * 0.4
  }

  /** Lines of at most `width` points, broken at spaces (and inside a word only when the word alone is wider). */
  wrap(text: string, width: number, size: number, font: PDFFont): string[] {
    const fits = (line: string) => font.widthOfTextAtSize(line, size) <= width
    const lines: string[] = []
    let line = ''
    for (const word of this.safe(text).split(' ').filter(Boolean)) {
      const candidate = line ? `${line} ${word}` : word
      if (fits(candidate)) {
        line = candidate
        continue
      }
      if (line) lines.push(line)
      let rest = word
      while (rest.length > 1 && !fits(rest)) {
        let cut = rest.length - 1
        while (cut > 1 && !fits(rest.slice(0, cut))) cut--
        lines.push(rest.slice(0, cut))
        rest = rest.slice(cut)
      }
      line = rest
    }
    lines.push(line)
    return lines
  }

  /**
   * Cells wrap within their column; a row that does not fit goes to the next page whole, and one taller
   * than a page is split line by line. The header row repeats on every page the table reaches.
   */
  table(columns: Column[], rows: string[][], options: { header?: boolean; size?: number; lastRowBold?: boolean } = {}): void {
    const size = options.size ?? 8
    const lineHeight = size * 1.25
    const padding = 3
    const drawRow = (cells: string[][], font: PDFFont, fill: Color | null, isHeader = false) => {
      const total = Math.max(1, ...cells.map((lines) => lines.length))
      if (this.ensure(total * lineHeight + padding) && !isHeader) drawHeader()
      let line = 0
      while (line < total) {
        const room = Math.max(1, Math.floor((this.y - margin - footerHeight - padding) / lineHeight))
        const take = Math.min(room, total - line)
        const block = take * lineHeight + padding
        if (fill) this.page.drawRectangle({ x: margin, y: this.y - block, width: contentWidth, height: block, color: fill })
        let x = margin
        columns.forEach((column, c) => {
          const lines = cells[c] ?? []
          for (let k = line; k < Math.min(lines.length, line + take); k++) {
            const text = lines[k]!
            if (!text) continue
            const textX = column.align === 'right' ? x + column.width - padding - font.widthOfTextAtSize(text, size) : x + padding
            this.page.drawText(text, { x: textX, y: this.y - padding - (k - line + 1) * lineHeight + size * 0.25, size, font, color: black })
          }
          x += column.width
        })
        this.y -= block
        line += take
        if (line < total) {
          this.newPage()
          drawHeader()
        }
      }
    }
    const split = (row: string[], font: PDFFont) => columns.map((column, c) => this.wrap(row[c] ?? '', column.width - 2 * padding, size, font))
    const drawHeader = () => {
      if (options.header === false) return
      drawRow(split(columns.map((column) => column.title), this.bold), this.bold, null, true)
      this.page.drawLine({ start: { x: margin, y: this.y + 1 }, end: { x: margin + columns.reduce((sum, column) => sum + column.width, 0), y: this.y + 1 }, thickness: 0.6, color: grey })
    }
    this.ensure(lineHeight * 3)
    drawHeader()
    if (rows.length === 0) {
      this.textAt('None.', margin + padding, this.y - lineHeight, { size, colour: grey })
      this.y -= lineHeight + padding
    }
    rows.forEach((row, r) => {
      const last = options.lastRowBold && r === rows.length - 1
      const font = last ? this.bold : this.regular
      drawRow(split(row, font), font, r % 2 === 1 ? shade : null)
    })
    this.y -= 4
  }

  /** Page numbers and the report's name at the foot of every page, once the page count is known. */
  footers(text: string): void {
    const pages = this.doc.getPages()
    pages.forEach((page, i) => {
      const size = 7
      const label = this.safe(`Page ${i + 1} of ${pages.length}`)
      page.drawText(this.safe(text), { x: margin, y: margin - 10, size, font: this.regular, color: grey })
      page.drawText(label, { x: pageWidth - margin - this.regular.widthOfTextAtSize(label, size), y: margin - 10, size, font: this.regular, color: grey })
      page.drawLine({ start: { x: margin, y: margin - 2 }, end: { x: pageWidth - margin, y: margin - 2 }, thickness: 0.4, color: rule })
    })
  }
}
