import { escapeXml, kindColour, kindLabel, svgNumber as n, wrapWords } from './drawing'
import { compareDeviceIds, deviceKindOrder, deviceKindRank, type PlannedDeviceRow, type SiteOutputs } from './site-outputs'

/**
 * The site's network as the installer wires it: each PoE switch with the devices on its ports, each
 * gateway with the nodes that report to it (margin on every radio link), then the devices the plan could
 * not connect, each with the reason, and those wired locally (no radio, not PoE). Drawn as trees from
 * left to right, one device per row, every device exactly once: a PoE gateway hangs off its switch and
 * its nodes off it. Positions follow from the outputs alone, so one plan always gives the same file.
 */

const margin = 24
const boxHeight = 46
const rowPitch = 58
const columnGap = 84
const lineHeight = 14
const reasonChars = 96
/** Rough advance of an 11 px sans-serif character: sizes boxes without measuring fonts. */
const charWidth = 6.6

interface TreeNode {
  row: PlannedDeviceRow
  children: TreeNode[]
}

export function topologySvg(outputs: SiteOutputs): string {
  const { devices, network, power } = outputs
  const byId = new Map(devices.map((row) => [row.id, row]))
  const powerOf = new Map(power.devices.map((device) => [device.deviceId, device]))
  const linkOf = new Map(network.links.map((link) => [link.nodeId, link]))
  const gatewayLoad = new Map(network.gateways.map((load) => [load.gatewayId, load]))
  const switchLoad = new Map(power.switches.map((load) => [load.switchId, load]))
  const unassignedReason = new Map(network.unassigned.map((node) => [node.nodeId, node.reason]))

  // A device hangs off the switch feeding it, else the gateway it reports to.
  const parentOf = (row: PlannedDeviceRow) => (row.poeSwitchId !== null && byId.has(row.poeSwitchId) ? row.poeSwitchId : row.gatewayId !== null && byId.has(row.gatewayId) ? row.gatewayId : null)
  const children = new Map<string, PlannedDeviceRow[]>()
  for (const row of devices) {
    const parent = parentOf(row)
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), row])
  }
  const byKindThenId = (a: PlannedDeviceRow, b: PlannedDeviceRow) => deviceKindRank(a.kind) - deviceKindRank(b.kind) || compareDeviceIds(a.id, b.id)
  const placed = new Set<string>()
  const grow = (row: PlannedDeviceRow): TreeNode => {
    placed.add(row.id)
    const below = (children.get(row.id) ?? []).filter((child) => !placed.has(child.id)).sort(byKindThenId)
    return { row, children: below.map(grow) }
  }
  const roots = devices.filter((row) => (row.kind === 'switch' || row.kind === 'gateway') && parentOf(row) === null).sort(byKindThenId).map(grow)

  const unassigned: { row: PlannedDeviceRow; reason: string }[] = []
  const local: PlannedDeviceRow[] = []
  for (const row of [...devices].sort(byKindThenId)) {
    if (placed.has(row.id)) continue
    const devicePower = powerOf.get(row.id)
    const reason =
      row.kind === null
        ? `Part ${row.partNumber} is not in the catalogue, so nothing is known of its radio or power.`
        : (unassignedReason.get(row.id) ??
          (devicePower?.supply === 'poe' && row.poeSwitchId === null
            ? 'Powered over Ethernet, but no switch on the site feeds it; name the switch whose port it is on.'
            : parentOf(row) !== null
              ? 'Its PoE feed runs in a loop of switches and reaches no switch on mains; feed one of them from mains.'
              : null))
    if (reason === null) local.push(row)
    else unassigned.push({ row, reason })
  }

  const longest = Math.max(12, ...devices.flatMap((row) => [row.id.length + 2, row.partNumber.length, detailOf(row).length]))
  const boxWidth = Math.ceil(longest * charWidth + 16)
  const depthOf = (node: TreeNode): number => 1 + Math.max(0, ...node.children.map(depthOf))
  const columns = Math.max(1, ...roots.map(depthOf))

  function detailOf(row: PlannedDeviceRow): string {
    const load = switchLoad.get(row.id)
    if (load) return `${load.loadW.toFixed(1)} of ${load.budgetW} W, ${load.portsUsed} of ${load.ports} ports`
    const nodes = gatewayLoad.get(row.id)
    if (nodes) return nodes.capacity === null ? `${nodes.load} nodes` : `${nodes.load} of ${nodes.capacity} nodes`
    const days = row.batteryLifeDays
    if (days !== null) return Number.isFinite(days) ? `battery, ${days.toFixed(0)} days` : 'battery'
    const devicePower = powerOf.get(row.id)
    return devicePower ? `${devicePower.supply === 'poe' ? 'PoE' : devicePower.supply}, ${devicePower.averageW.toFixed(1)} W` : 'unknown part'
  }

  const body: string[] = []
  let y = margin
  const title = `Network topology: ${outputs.siteName}`
  body.push(`<text class="title" x="${margin}" y="${y + 16}">${escapeXml(title)}</text>`)
  const summary = `${devices.length} devices · ${network.links.length} radio links · ${power.switches.reduce((sum, load) => sum + load.portsUsed, 0)} on PoE ports · ${unassigned.length} unassigned · ${local.length} wired locally`
  body.push(`<text class="note" x="${margin}" y="${y + 34}">${escapeXml(summary)}</text>`)
  y += 52

  // Legend: kinds, then the two kinds of link.
  let x = margin
  body.push('<g class="legend">')
  for (const kind of [...deviceKindOrder, 'unknown'] as const) {
    body.push(`<rect x="${x}" y="${y}" width="12" height="12" rx="2" fill="${kindColour[kind]}"/><text class="note" x="${x + 16}" y="${y + 10}">${kindLabel[kind]}</text>`)
    x += 24 + kindLabel[kind].length * charWidth
  }
  body.push(`<path class="radio" d="M${x} ${y + 6}h28"/><text class="note" x="${x + 32}" y="${y + 10}">radio link, margin over sensitivity</text>`)
  x += 40 + 36 * charWidth
  body.push(`<path class="cable" d="M${x} ${y + 6}h28"/><text class="note" x="${x + 32}" y="${y + 10}">PoE port, power reserved</text>`)
  x += 40 + 24 * charWidth
  body.push('</g>')
  let width = x + margin
  y += 36

  const columnX = (depth: number) => margin + depth * (boxWidth + columnGap)
  const box = (row: PlannedDeviceRow, left: number, top: number) => {
    const kind = row.kind ?? 'unknown'
    const warn = switchLoad.get(row.id)?.overBudget || switchLoad.get(row.id)?.overPorts ? ' warn' : ''
    body.push(
      `<g class="device" data-device-id="${escapeXml(row.id)}" data-part-number="${escapeXml(row.partNumber)}" data-kind="${kind}">` +
        `<title>${escapeXml(`${row.id}: ${row.partName}`)}</title>` +
        `<rect x="${left}" y="${top}" width="${boxWidth}" height="${boxHeight}" rx="4" fill="#fff" stroke="${kindColour[kind]}" stroke-width="2"/>` +
        `<rect x="${left}" y="${top}" width="6" height="${boxHeight}" fill="${kindColour[kind]}"/>` +
        `<text class="id" x="${left + 12}" y="${top + 15}">${escapeXml(row.id)}</text>` +
        `<text class="part" x="${left + 12}" y="${top + 29}">${escapeXml(row.partNumber)}</text>` +
        `<text class="note${warn}" x="${left + 12}" y="${top + 42}">${escapeXml(detailOf(row))}</text>` +
        `</g>`,
    )
  }
  const heading = (text: string) => {
    body.push(`<text class="heading" x="${margin}" y="${y + 14}">${escapeXml(text)}</text>`)
    y += 26
  }

  if (roots.length > 0) {
    heading('Switches and gateways')
    const place = (node: TreeNode, depth: number, top: number): number => {
      box(node.row, columnX(depth), top)
      let rows = 0
      for (const child of node.children) {
        const childTop = top + rows * rowPitch
        const fromX = columnX(depth) + boxWidth
        const toX = columnX(depth + 1)
        const fromY = top + boxHeight / 2
        const toY = childTop + boxHeight / 2
        const radio = child.row.poeSwitchId !== node.row.id
        const label = radio ? marginLabel(linkOf.get(child.row.id)?.marginDb ?? null) : portLabel(powerOf.get(child.row.id)?.poeW ?? null)
        body.push(
          `<g class="link" data-from="${escapeXml(node.row.id)}" data-to="${escapeXml(child.row.id)}">` +
            `<path class="${radio ? 'radio' : 'cable'}" d="M${fromX} ${n(fromY)}H${fromX + 16}V${n(toY)}H${toX}"/>` +
            `<text class="note" x="${fromX + 20}" y="${n(toY - 4)}">${escapeXml(label)}</text>` +
            `</g>`,
        )
        rows += place(child, depth + 1, childTop)
      }
      return Math.max(1, rows)
    }
    for (const root of roots) y += place(root, 0, y) * rowPitch
    width = Math.max(width, columnX(columns) - columnGap + margin)
  }

  const reasonX = margin + boxWidth + 16
  if (unassigned.length > 0) {
    y += 8
    heading('Unassigned')
    for (const { row, reason } of unassigned) {
      box(row, margin, y)
      const lines = wrapWords(reason, reasonChars)
      body.push(`<text class="reason" data-reason-for="${escapeXml(row.id)}" x="${reasonX}" y="${y + 14}">${lines.map((line, i) => `<tspan x="${reasonX}" dy="${i === 0 ? 0 : lineHeight}">${escapeXml(line)}</tspan>`).join('')}</text>`)
      y += Math.max(rowPitch, lines.length * lineHeight + 12)
    }
    width = Math.max(width, reasonX + reasonChars * charWidth + margin)
  }

  if (local.length > 0) {
    y += 8
    heading('Wired locally: no radio and not powered over Ethernet')
    const perRow = Math.max(1, Math.floor((width - 2 * margin + 16) / (boxWidth + 16)))
    local.forEach((row, i) => box(row, margin + (i % perRow) * (boxWidth + 16), y + Math.floor(i / perRow) * rowPitch))
    y += Math.ceil(local.length / perRow) * rowPitch
  }

  if (devices.length === 0) {
    body.push(`<text class="note" x="${margin}" y="${y + 14}">The plan places no devices yet.</text>`)
    y += 26
  }

  const height = Math.ceil(y + margin)
  width = Math.ceil(width)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    '<style>',
    'text{font-size:11px;fill:#222}.title{font-size:18px;font-weight:bold}.heading{font-size:13px;font-weight:bold}.id{font-weight:bold}',
    '.part{fill:#444}.note{fill:#555;font-size:10px}.warn{fill:#b2182b;font-weight:bold}.reason{fill:#b2182b;font-size:10px}',
    '.radio{fill:none;stroke:#e66101;stroke-width:1.5;stroke-dasharray:5 3}.cable{fill:none;stroke:#4d4d4d;stroke-width:2}',
    '</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}

const marginLabel = (marginDb: number | null) => (marginDb === null ? 'radio' : `${marginDb >= 0 ? '+' : '−'}${Math.abs(marginDb).toFixed(1)} dB`)
const portLabel = (poeW: number | null) => (poeW === null ? 'PoE' : `${poeW.toFixed(1)} W`)
