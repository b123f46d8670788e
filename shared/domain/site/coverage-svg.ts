import { blindSpotOutline, type CoverageResult } from './coverage'
import { colourHex, CoverageCell, coverageCells, coveragePalette } from './coverage-palette'
import { escapeXml, formatArea, kindColour, kindLabel, ringLabelPoint, scaleBarLength, svgNumber as n, zoneStroke } from './drawing'
import type { DeviceKind, PointM, SiteModel } from './model'
import { deviceKindOrder, type PlannedDeviceRow, type SiteOutputs } from './site-outputs'

/**
 * The coverage plan: the site to scale, north up, in local metres. The coverage raster (one pixel per
 * cell, in the shared palette) lies on the grid's extent; over it the boundary, zones, obstructions, the
 * blind spots outlined with their area, and every device as a symbol with its id. A scale bar, a north
 * arrow and a legend (with each class's area) sit beside it. Devices whose mounting point is missing
 * cannot be drawn on the plan and are listed under the legend instead, so every device is in the file.
 */

const margin = 24
const titleHeight = 52
/** The longer side of the plan, in px. */
const planSizePx = 900
const legendWidth = 300
/** Outlining thousands of one-cell spots drowns the plan; the largest are drawn, the rest summed. */
const maxOutlinedSpots = 200

export function coverageSvg(site: SiteModel, coverage: CoverageResult, outputs: SiteOutputs, raster: { pngDataUrl: string }): string {
  const { grid } = coverage
  const cs = grid.cellSizeM
  const placed = outputs.devices.filter((row): row is PlannedDeviceRow & { x: number; y: number } => row.x !== null && row.y !== null)

  // The extent: the grid, and whatever is drawn beyond it (a mount outside the boundary still shows).
  const points: PointM[] = [
    { x: grid.originX, y: grid.originY },
    { x: grid.originX + grid.cols * cs, y: grid.originY + grid.rows * cs },
    ...site.boundary,
    ...site.zones.flatMap((zone) => zone.polygon),
    ...site.obstructions.flatMap((o) => (o.shape.kind === 'segment' ? [o.shape.a, o.shape.b] : o.shape.points)),
    ...placed,
  ]
  // A loop, not Math.min(...points): an imported outline can have more corners than a call has arguments.
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity]
  for (const p of points) {
    minX = Math.min(minX, p.x)
    minY = Math.min(minY, p.y)
    maxX = Math.max(maxX, p.x)
    maxY = Math.max(maxY, p.y)
  }
  const scale = planSizePx / Math.max(maxX - minX, maxY - minY, 1)
  const planLeft = margin
  const planTop = margin + titleHeight
  const planWidth = (maxX - minX) * scale
  const planHeight = (maxY - minY) * scale
  const X = (x: number) => n(planLeft + (x - minX) * scale)
  const Y = (y: number) => n(planTop + (maxY - y) * scale)
  const ring = (points: readonly PointM[]) => `M${points.map((p) => `${X(p.x)} ${Y(p.y)}`).join('L')}Z`

  const body: string[] = []
  const title = `Coverage: ${site.name}`
  body.push(`<text class="title" x="${margin}" y="${margin + 16}">${escapeXml(title)}</text>`)
  body.push(
    `<text class="note" x="${margin}" y="${margin + 34}">${escapeXml(`North up · ${cs} m cells · metres east and north of ${site.origin.lat.toFixed(6)}, ${site.origin.lon.toFixed(6)}`)}</text>`,
  )

  body.push(
    `<image x="${X(grid.originX)}" y="${Y(grid.originY + grid.rows * cs)}" width="${n(grid.cols * cs * scale)}" height="${n(grid.rows * cs * scale)}" preserveAspectRatio="none" opacity="0.8" style="image-rendering:pixelated" href="${escapeXml(raster.pngDataUrl)}" xlink:href="${escapeXml(raster.pngDataUrl)}"/>`,
  )
  body.push(`<path class="boundary" d="${ring(site.boundary)}"/>`)

  body.push('<g class="zones">')
  for (const zone of site.zones) {
    const centre = ringLabelPoint(zone.polygon)
    body.push(
      `<g data-zone-id="${escapeXml(zone.id)}"><path class="zone ${zone.kind}" d="${ring(zone.polygon)}"/>` +
        `<text class="zone-label" x="${X(centre.x)}" y="${Y(centre.y)}" fill="${zoneStroke[zone.kind]}">${escapeXml(zone.name)}</text></g>`,
    )
  }
  body.push('</g>', '<g class="obstructions">')
  for (const o of site.obstructions) {
    const kind = o.blocksSight ? 'opaque' : 'see-through'
    const shape = o.shape
    body.push(
      shape.kind === 'segment'
        ? `<line class="wall ${kind}" data-obstruction-id="${escapeXml(o.id)}" x1="${X(shape.a.x)}" y1="${Y(shape.a.y)}" x2="${X(shape.b.x)}" y2="${Y(shape.b.y)}"/>`
        : `<path class="footprint ${kind}" data-obstruction-id="${escapeXml(o.id)}" d="${ring(shape.points)}"/>`,
    )
  }
  body.push('</g>', '<g class="blind-spots">')
  for (const spot of coverage.blindSpots.slice(0, maxOutlinedSpots)) {
    const outline = blindSpotOutline(grid, coverage.blindSpotLabels, spot)
    body.push(
      `<g data-blind-spot="${spot.id}" data-area-m2="${n(spot.areaM2)}"><path class="blind-spot" d="${outline.map(ring).join('')}"/>` +
        `<text class="spot-label" x="${X(spot.centroid.x)}" y="${Y(spot.centroid.y)}">${escapeXml(`B${spot.id} · ${formatArea(spot.areaM2)}`)}</text></g>`,
    )
  }
  body.push('</g>', '<g class="devices">')
  for (const row of placed) body.push(deviceSymbol(row, Number(X(row.x)), Number(Y(row.y))))
  body.push('</g>')

  // Scale bar and north arrow under the plan, clear of the devices drawn on it.
  const barM = scaleBarLength(planSizePx / 6 / scale)
  const barPx = barM * scale
  const barY = planTop + planHeight + 20
  body.push(
    `<g class="scale-bar" data-metres="${n(barM)}"><rect x="${planLeft}" y="${n(barY)}" width="${n(barPx / 2)}" height="6" fill="#222"/>` +
      `<rect x="${n(planLeft + barPx / 2)}" y="${n(barY)}" width="${n(barPx / 2)}" height="6" fill="#fff" stroke="#222"/>` +
      `<text class="note" x="${planLeft}" y="${n(barY + 20)}">0</text><text class="note" x="${n(planLeft + barPx)}" y="${n(barY + 20)}" text-anchor="middle">${groupMetres(Number(n(barM)))}</text></g>`,
  )
  const northX = planLeft + planWidth - 8
  body.push(`<g class="north"><path d="M${n(northX)} ${n(barY - 8)}l7 20l-7 -5l-7 5z"/><text x="${n(northX - 16)}" y="${n(barY + 8)}" text-anchor="middle">N</text></g>`)

  // Legend: the palette with each class's area, the plan's line work, the device kinds, then the summary.
  const legendLeft = planLeft + planWidth + 32
  let y = planTop
  const line = (html: string, height = 18) => {
    body.push(html)
    y += height
  }
  const heading = (text: string) => line(`<text class="heading" x="${n(legendLeft)}" y="${n(y + 12)}">${escapeXml(text)}</text>`, 22)
  const entry = (swatch: string, text: string) => line(`<g transform="translate(${n(legendLeft)} ${n(y)})">${swatch}<text x="22" y="11">${escapeXml(text)}</text></g>`)
  const cells = coverageCells(coverage)
  const counts = new Array<number>(coveragePalette.length).fill(0)
  for (const cell of cells) counts[cell]!++

  body.push('<g class="legend">')
  heading('Coverage')
  for (const colour of coveragePalette) {
    if (colour.cell === CoverageCell.outside) continue
    entry(`<rect width="16" height="12" fill="${colourHex(colour)}" stroke="#999" data-cell="${colour.cell}"/>`, `${colour.label} (${formatArea(counts[colour.cell]! * cs * cs)})`)
  }
  y += 8
  heading('Plan')
  entry('<path class="boundary" d="M0 6h16"/>', 'Site boundary')
  for (const kind of ['required', 'optional', 'excluded'] as const) entry(`<rect class="zone ${kind}" x="1" y="1" width="14" height="10"/>`, `Zone, ${kind}`)
  entry('<path class="wall opaque" d="M0 6h16"/>', 'Wall or building, blocks sight')
  entry('<path class="wall see-through" d="M0 6h16"/>', 'Fence, sight passes')
  entry('<rect class="blind-spot" x="1" y="1" width="14" height="10"/>', 'Blind spot, with its area')
  y += 8
  heading('Devices')
  for (const kind of [...deviceKindOrder, 'unknown'] as const) entry(`<g transform="translate(8 6)">${symbolShape(kind)}</g>`, kindLabel[kind])
  y += 8
  heading('Summary')
  const { summary } = coverage
  const spotArea = coverage.blindSpots.reduce((sum, spot) => sum + spot.areaM2, 0)
  const drawnArea = coverage.blindSpots.slice(0, maxOutlinedSpots).reduce((sum, spot) => sum + spot.areaM2, 0)
  const summaryLines = [
    `Required area seen: ${(summary.requiredShare * 100).toFixed(1)} %`,
    `${outputs.devices.length} devices, ${coverage.blindSpots.length} blind spots (${formatArea(spotArea)})`,
    ...(coverage.blindSpots.length > maxOutlinedSpots ? [`${coverage.blindSpots.length - maxOutlinedSpots} smaller spots (${formatArea(spotArea - drawnArea)}) not outlined`] : []),
  ]
  for (const text of summaryLines) line(`<text class="note" x="${n(legendLeft)}" y="${n(y + 11)}">${escapeXml(text)}</text>`, 16)
  const unplaced = outputs.devices.filter((row) => row.x === null || row.y === null)
  if (unplaced.length > 0) {
    y += 8
    heading('Not on the plan (mounting point missing)')
    for (const row of unplaced) {
      line(
        `<g class="device unplaced" data-device-id="${escapeXml(row.id)}" data-part-number="${escapeXml(row.partNumber)}">` +
          `<text class="note" x="${n(legendLeft)}" y="${n(y + 11)}">${escapeXml(`${row.id} (${row.partNumber}) on ${row.mountingPointId}`)}</text></g>`,
        16,
      )
    }
  }
  body.push('</g>')

  const width = Math.ceil(legendLeft + legendWidth + margin)
  const height = Math.ceil(Math.max(barY + 30, y) + margin)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" data-metres-per-px="${n(1 / scale)}">`,
    `<title>${escapeXml(title)}</title>`,
    '<style>',
    'text{font-size:11px;fill:#222}.title{font-size:18px;font-weight:bold}.heading{font-size:13px;font-weight:bold}.note{fill:#555;font-size:10px}',
    '.boundary{fill:none;stroke:#000;stroke-width:2}.zone{fill:none;stroke-width:1.5;stroke-dasharray:6 3}',
    `.zone.required{stroke:${zoneStroke.required}}.zone.optional{stroke:${zoneStroke.optional}}.zone.excluded{stroke:${zoneStroke.excluded};fill:rgba(119,119,119,0.2)}`,
    '.zone-label{font-size:10px;font-style:italic;text-anchor:middle}',
    '.wall{stroke-width:2.5;stroke-linecap:round}.opaque{stroke:#222}.see-through{stroke:#777;stroke-dasharray:4 3}.footprint{fill:rgba(85,85,85,0.65);stroke-width:1.5}',
    '.blind-spot{fill:none;stroke:#b2182b;stroke-width:1.5;fill-rule:evenodd}.spot-label{font-size:9px;fill:#b2182b;font-weight:bold;text-anchor:middle}',
    '.device-label{font-size:9px}.north path{fill:#222}',
    '</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}

/** A device at (x, y) px: its kind's symbol, a tick the way a camera or sensor faces, and its id. */
function deviceSymbol(row: PlannedDeviceRow, x: number, y: number): string {
  const kind = row.kind ?? 'unknown'
  const bearing = (row.orientationDeg * Math.PI) / 180
  const facing = kind === 'camera' || kind === 'sensor' ? `<path d="M0 0L${n(16 * Math.sin(bearing))} ${n(-16 * Math.cos(bearing))}" stroke="${kindColour[kind]}" stroke-width="2"/>` : ''
  return (
    `<g class="device" data-device-id="${escapeXml(row.id)}" data-part-number="${escapeXml(row.partNumber)}" data-kind="${kind}" transform="translate(${n(x)} ${n(y)})">` +
    `<title>${escapeXml(`${row.id}: ${row.partName}`)}</title>${facing}${symbolShape(kind)}<text class="device-label" x="8" y="-6">${escapeXml(row.id)}</text></g>`
  )
}

function symbolShape(kind: DeviceKind | 'unknown'): string {
  const fill = kindColour[kind]
  switch (kind) {
    case 'camera':
      return `<rect x="-5" y="-5" width="10" height="10" fill="${fill}" stroke="#fff"/>`
    case 'sensor':
      return `<circle r="5" fill="${fill}" stroke="#fff"/>`
    case 'gateway':
      return `<path d="M0 -7L7 0L0 7L-7 0Z" fill="${fill}" stroke="#fff"/>`
    case 'node':
      return `<circle r="4" fill="#fff" stroke="${fill}" stroke-width="2.5"/>`
    case 'switch':
      return `<rect x="-7" y="-4" width="14" height="8" fill="${fill}" stroke="#fff"/>`
    case 'unknown':
      return `<path d="M-5 -5L5 5M-5 5L5 -5" stroke="${fill}" stroke-width="2.5"/>`
  }
}

const groupMetres = (metres: number) => (metres >= 1000 ? `${metres / 1000} km` : `${metres} m`)
