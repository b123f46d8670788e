// What an overlay image is, read from its first bytes rather than its name: a KMZ written on one machine
// and a site plan renamed on another both say ".png" about things that are not. The size comes from the
// header too, so an image can be placed by two of its pixels before the screen has decoded it.

import type { ImageMime } from '../../../shared/domain/site/import-report'

export type SniffedImage =
  | { ok: true; mime: ImageMime; width: number; height: number }
  /** A picture format the map cannot show (TIFF, BMP…) or a broken header. */
  | { ok: false; reason: string }

function u16be(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!
}
function u32be(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!
}
function u16le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8)
}
function u24le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)
}
function ascii(b: Uint8Array, i: number, n: number): string {
  let s = ''
  for (let k = 0; k < n && i + k < b.length; k++) s += String.fromCharCode(b[i + k]!)
  return s
}

function sized(mime: ImageMime, width: number, height: number): SniffedImage {
  if (width <= 0 || height <= 0) return { ok: false, reason: `the ${mime} header gives a size of ${width} × ${height} pixels` }
  return { ok: true, mime, width, height }
}

function jpegSize(b: Uint8Array): SniffedImage {
  // Walk the marker segments to the first start-of-frame; each segment says its own length.
  let i = 2
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return { ok: false, reason: 'the JPEG header is damaged' }
    const marker = b[i + 1]!
    if (marker === 0xff) {
      i++
      continue
    }
    const length = u16be(b, i + 2)
    const startOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (startOfFrame) return sized('image/jpeg', u16be(b, i + 7), u16be(b, i + 5))
    if (length < 2) return { ok: false, reason: 'the JPEG header is damaged' }
    i += 2 + length
  }
  return { ok: false, reason: 'the JPEG has no image frame' }
}

function webpSize(b: Uint8Array): SniffedImage {
  const chunk = ascii(b, 12, 4)
  if (chunk === 'VP8X' && b.length >= 30) return sized('image/webp', u24le(b, 24) + 1, u24le(b, 27) + 1)
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)
    return sized('image/webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1)
  }
  if (chunk === 'VP8 ' && b.length >= 30) return sized('image/webp', u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff)
  return { ok: false, reason: 'the WebP header is damaged' }
}

export function sniffImage(bytes: Uint8Array): SniffedImage | null {
  const b = bytes
  if (b.length >= 24 && u32be(b, 0) === 0x89504e47 && u32be(b, 4) === 0x0d0a1a0a) {
    if (ascii(b, 12, 4) !== 'IHDR') return { ok: false, reason: 'the PNG header is damaged' }
    return sized('image/png', u32be(b, 16), u32be(b, 20))
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpegSize(b)
  if (b.length >= 10 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return sized('image/gif', u16le(b, 6), u16le(b, 8))
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webpSize(b)
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) {
    return { ok: false, reason: 'it is a TIFF (a GeoTIFF?), which the map cannot show; export it as PNG or JPEG' }
  }
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') return { ok: false, reason: 'it is a BMP, which the map does not take; export it as PNG or JPEG' }
  return null
}
