import { kindColour } from '../../../../shared/domain/site/drawing'
import type { DrawnDeviceKind } from './map-plan-features'
import type { SitePalette } from './map-palette'

// The plan's symbols and labels, drawn on a canvas when the map first asks for them. The map's style is
// offline by construction (no sprite, no glyph server), so text and icons are pictures made here; names
// carry the palette's generation, and a theme change asks for a new set under new names.

export interface MapIcon {
  image: ImageData
  pixelRatio: number
}

/** `site:<generation>:<what>:<detail>`: the names icon-image expressions in map-plan-layers.ts build. */
export function iconName(generation: number, what: 'mount' | 'device' | 'facing' | 'label', detail = ''): string {
  return `site:${generation}:${what}:${detail}`
}

export function parseIconName(name: string): { generation: number; what: string; detail: string } | null {
  const match = /^site:(\d+):(mount|device|facing|label):(.*)$/s.exec(name)
  return match ? { generation: Number(match[1]), what: match[2]!, detail: match[3]! } : null
}

const deviceLetters: Record<DrawnDeviceKind, string> = { camera: 'C', sensor: 'S', gateway: 'G', node: 'N', switch: 'P', unknown: '?' }

function canvas(width: number, height: number, ratio: number): CanvasRenderingContext2D {
  const element = document.createElement('canvas')
  element.width = Math.ceil(width * ratio)
  element.height = Math.ceil(height * ratio)
  const context = element.getContext('2d')!
  context.scale(ratio, ratio)
  return context
}

function done(context: CanvasRenderingContext2D, ratio: number): MapIcon {
  return { image: context.getImageData(0, 0, context.canvas.width, context.canvas.height), pixelRatio: ratio }
}

/** A mounting point: a small square, hollow while free, filled once a device is on it. */
function mountIcon(palette: SitePalette, occupied: boolean, ratio: number): MapIcon {
  const size = 14
  const context = canvas(size, size, ratio)
  context.fillStyle = palette.pointStroke
  context.fillRect(1, 1, size - 2, size - 2)
  context.lineWidth = 2.5
  context.strokeStyle = palette.point
  context.strokeRect(2.5, 2.5, size - 5, size - 5)
  if (occupied) {
    context.fillStyle = palette.point
    context.fillRect(2.5, 2.5, size - 5, size - 5)
  }
  return done(context, ratio)
}

/** A device: the diagrams' colour for its kind (drawing.ts), and a shape and a letter, so kinds tell apart without colour too. */
function deviceIcon(palette: SitePalette, kind: DrawnDeviceKind, ratio: number): MapIcon {
  const size = 24
  const c = size / 2
  const context = canvas(size, size, ratio)
  context.beginPath()
  switch (kind) {
    case 'camera':
    case 'switch':
      context.roundRect(3, kind === 'switch' ? 6 : 3, size - 6, kind === 'switch' ? size - 12 : size - 6, 4)
      break
    case 'gateway':
      context.moveTo(c, 1.5)
      context.lineTo(size - 1.5, c)
      context.lineTo(c, size - 1.5)
      context.lineTo(1.5, c)
      context.closePath()
      break
    case 'node':
      context.arc(c, c, 8, 0, Math.PI * 2)
      break
    default:
      context.arc(c, c, 10, 0, Math.PI * 2)
  }
  context.fillStyle = kindColour[kind]
  context.fill()
  context.lineWidth = 2
  context.strokeStyle = palette.pointStroke
  context.stroke()
  // Every kind's colour is dark enough for white, in either theme.
  context.fillStyle = '#ffffff'
  context.font = `700 ${kind === 'node' ? 10 : 12}px system-ui, sans-serif`
  context.textAlign = 'center'
  context.textBaseline = 'middle'
  context.fillText(deviceLetters[kind], c, c + 0.5)
  return done(context, ratio)
}

/** Which way a camera or sensor faces: a wedge beyond the badge, north-up, turned by the map. */
function facingIcon(palette: SitePalette, ratio: number): MapIcon {
  const size = 44
  const c = size / 2
  const context = canvas(size, size, ratio)
  context.beginPath()
  context.moveTo(c, 1)
  context.lineTo(c + 6, 10)
  context.lineTo(c - 6, 10)
  context.closePath()
  context.fillStyle = palette.text
  context.strokeStyle = palette.pointStroke
  context.lineWidth = 1.5
  context.stroke()
  context.fill()
  return done(context, ratio)
}

/** A text label with a halo in the map's background colour, legible over coverage and images alike. */
function labelIcon(palette: SitePalette, text: string, ratio: number): MapIcon {
  const font = '600 12px system-ui, sans-serif'
  const measure = canvas(1, 1, 1)
  measure.font = font
  const width = Math.ceil(measure.measureText(text).width) + 8
  const height = 18
  const context = canvas(width, height, ratio)
  context.font = font
  context.textAlign = 'center'
  context.textBaseline = 'middle'
  context.lineJoin = 'round'
  context.lineWidth = 3.5
  context.strokeStyle = palette.background
  context.strokeText(text, width / 2, height / 2)
  context.fillStyle = palette.text
  context.fillText(text, width / 2, height / 2)
  return done(context, ratio)
}

/** The picture for a name the map asked for, or null for a name that is not one of ours. */
export function drawIcon(name: string, palette: SitePalette, ratio: number = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1))): MapIcon | null {
  const parsed = parseIconName(name)
  if (!parsed) return null
  switch (parsed.what) {
    case 'mount':
      return mountIcon(palette, parsed.detail === 'occupied', ratio)
    case 'device':
      return deviceIcon(palette, (parsed.detail in deviceLetters ? parsed.detail : 'unknown') as DrawnDeviceKind, ratio)
    case 'facing':
      return facingIcon(palette, ratio)
    default:
      return labelIcon(palette, parsed.detail, ratio)
  }
}
