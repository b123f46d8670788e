import type { DeviceKind, PointM, ZoneKind } from './model'

/** What the site's diagrams share: safe text, and one colour and word per kind of device. */

// XML 1.0 allows tab, LF, CR and most of the BMP; anything else (a NUL in a KML name) breaks the parser.
const notXmlChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/** Text for an SVG element or attribute: names come from user files, so markup in them stays text. */
export function escapeXml(text: string): string {
  return text
    .replace(notXmlChar, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/** Fill of a device's symbol by kind; `unknown` is a part missing from the catalogue. */
export const kindColour: Readonly<Record<DeviceKind | 'unknown', string>> = {
  camera: '#1f78b4',
  sensor: '#6a3d9a',
  gateway: '#e66101',
  node: '#33a02c',
  switch: '#4d4d4d',
  unknown: '#b2182b',
}

/** Outline of a zone by what it asks: red must be seen, blue may be, grey is left out. */
export const zoneStroke: Readonly<Record<ZoneKind, string>> = { required: '#b2182b', optional: '#2166ac', excluded: '#777777' }

export const kindLabel: Readonly<Record<DeviceKind | 'unknown', string>> = {
  camera: 'Camera',
  sensor: 'Sensor',
  gateway: 'Gateway',
  node: 'Node',
  switch: 'PoE switch',
  unknown: 'Part not in catalogue',
}

/** A number as SVG coordinates want it: short, and the same on every host. */
export const svgNumber = (value: number) => (Math.round(value * 100) / 100).toString()

/** Splits text at spaces into lines of at most `width` characters (a longer word keeps its own line). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines
}

/** Whole numbers with thin groups of three (12 345): no locale, so every host prints a report alike. */
export function groupThousands(value: number): string {
  const [whole, fraction] = Math.abs(value).toString().split('.')
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ' ')
  return `${value < 0 ? '−' : ''}${grouped}${fraction ? `.${fraction}` : ''}`
}

/** An area as a plan labels it: square metres, rounded to the metre above ten. */
export const formatArea = (m2: number) => `${groupThousands(m2 >= 10 ? Math.round(m2) : Math.round(m2 * 10) / 10)} m²`

/** Where a zone's name goes: the mean of its corners, inside any outline a planner draws as a zone. */
export function ringLabelPoint(ring: readonly PointM[]): PointM {
  return {
    x: ring.reduce((sum, p) => sum + p.x, 0) / Math.max(1, ring.length),
    y: ring.reduce((sum, p) => sum + p.y, 0) / Math.max(1, ring.length),
  }
}

/** The 1-2-5 length at or below `metres`: what a scale bar is labelled with. */
export function scaleBarLength(metres: number): number {
  const power = 10 ** Math.floor(Math.log10(metres))
  const leading = metres / power
  return (leading >= 5 ? 5 : leading >= 2 ? 2 : 1) * power
}
