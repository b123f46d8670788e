import { crc32, deflateSync } from 'node:zlib'
import type { CoverageResult } from '../../../shared/domain/site/coverage'
import { coverageCells, coveragePalette } from '../../../shared/domain/site/coverage-palette'

/**
 * The coverage raster as a PNG, one pixel per cell, north up: indexed colour (one byte a pixel, the
 * palette of coverage-palette.ts in PLTE, outside cells clear through tRNS), so a million-cell site is a
 * few kilobytes to embed in the SVG or the report. The grid's rows run north from row 0; a PNG's run down
 * from the top, so rows are written last first.
 */

const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)

export function coveragePng(coverage: Pick<CoverageResult, 'grid' | 'seenBy' | 'dori'>): Uint8Array {
  const { cols, rows } = coverage.grid
  const cells = coverageCells(coverage)
  // Each scanline starts with its filter type; 0 (none) suits flat classes, and deflate does the rest.
  const scanlines = new Uint8Array(rows * (cols + 1))
  for (let row = 0; row < rows; row++) scanlines.set(cells.subarray((rows - 1 - row) * cols, (rows - row) * cols), row * (cols + 1) + 1)

  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, cols)
  view.setUint32(4, rows)
  header.set([8, 3, 0, 0, 0], 8) // bit depth 8, indexed colour, deflate, adaptive filtering, no interlace
  return concat([
    signature,
    chunk('IHDR', header),
    chunk('PLTE', Uint8Array.from(coveragePalette.flatMap((c) => [c.red, c.green, c.blue]))),
    chunk('tRNS', Uint8Array.from(coveragePalette.map((c) => c.alpha))),
    chunk('IDAT', deflateSync(scanlines)),
    chunk('IEND', new Uint8Array(0)),
  ])
}

/** Length, type, data, and the CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  out.set(Buffer.from(type, 'latin1'), 4)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
