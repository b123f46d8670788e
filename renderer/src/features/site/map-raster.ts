import type { CoverageGridView } from '../../../../shared/contract'
import { coveragePalette } from '../../../../shared/domain/site/coverage-palette'

// The coverage view's rasters as pictures: one pixel per cell, north up, for a canvas the map lays over the
// site by the grid's corners. Coverage takes the palette every drawing of it shares (coverage-palette.ts);
// radio, drawn nowhere else, takes the theme's colours. Pure and DOM-free (colours are parsed here, not by a
// canvas), so the painting is tested as it is, and a million cells cost one pass over typed arrays.

export type Rgb = readonly [number, number, number]
/** Red, green, blue and alpha, 0–255 each. */
export type Rgba = readonly [number, number, number, number]

/** The theme's colours the radio raster is painted with (the map's palette). */
export interface RadioColours {
  /** Weak signal. */
  bad: string
  /** Just usable. */
  warn: string
  /** Strong. */
  ok: string
}

/** Larger rasters are sampled down to this many pixels a side: every WebGL device holds such a texture. */
export const maxRasterSide = 4096

/**
 * `#rgb`, `#rrggbb` or `rgb(r, g, b)` as the theme's CSS variables hold them; anything else is a theme
 * this code does not know, and drawing it grey is better than not drawing the coverage at all.
 */
export function parseColour(css: string): Rgb {
  const text = css.trim().toLowerCase()
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/.exec(text)
  if (short) return [parseInt(short[1]! + short[1]!, 16), parseInt(short[2]! + short[2]!, 16), parseInt(short[3]! + short[3]!, 16)]
  const long = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})(?:[0-9a-f]{2})?$/.exec(text)
  if (long) return [parseInt(long[1]!, 16), parseInt(long[2]!, 16), parseInt(long[3]!, 16)]
  const rgb = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/.exec(text)
  if (rgb) return [Math.min(255, Number(rgb[1])), Math.min(255, Number(rgb[2])), Math.min(255, Number(rgb[3]))]
  return [128, 128, 128]
}

const withAlpha = (rgb: Rgb, alpha: number): Rgba => [rgb[0], rgb[1], rgb[2], Math.round(alpha * 255)]

function mix(from: Rgb, to: Rgb, share: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(from[i]! + (to[i]! - from[i]!) * share)) as unknown as Rgb
}

/** How opaque coverage lies over the plan: the zones, walls and the site image still show through. */
export const coverageOpacity = 0.6

/** RGBA per CoverageCell class: the shared coverage palette, at `opacity`. */
export function coverageColours(opacity: number = coverageOpacity): Rgba[] {
  const table: Rgba[] = []
  for (const colour of coveragePalette) table[colour.cell] = [colour.red, colour.green, colour.blue, Math.round(colour.alpha * opacity)]
  return table
}

/** The radio raster's display scale in dBm: from barely there, through a usable link, to a strong one. */
export const radioScaleDbm = { weak: -110, usable: -85, strong: -65 } as const

/** The contract's radio level (dBm + 140, 0 for none) as dBm; null where no gateway reaches. */
export function radioLevelDbm(level: number): number | null {
  return level === 0 ? null : level - 140
}

/** RGBA per radio level byte (0–255): bad at weak, warn at a usable level, ok when strong; none is clear. */
export function radioColours(colours: RadioColours): Rgba[] {
  const bad = parseColour(colours.bad)
  const warn = parseColour(colours.warn)
  const ok = parseColour(colours.ok)
  const { weak, usable, strong } = radioScaleDbm
  const table: Rgba[] = [[0, 0, 0, 0]]
  for (let level = 1; level < 256; level++) {
    const dbm = level - 140
    const rgb = dbm <= usable ? mix(bad, warn, clamp01((dbm - weak) / (usable - weak))) : mix(warn, ok, clamp01((dbm - usable) / (strong - usable)))
    table[level] = withAlpha(rgb, 0.45)
  }
  return table
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value))

export interface PaintedRaster {
  width: number
  height: number
  /** Row 0 is the north edge, as a canvas and the grid's corners want it. */
  rgba: Uint8ClampedArray<ArrayBuffer>
  /** Cells of the grid with a colour (not clear): what the map shows of it. */
  painted: number
}

/**
 * One byte per cell (row by row from the south, as the contract sends them) through a colour table into
 * an RGBA picture, north up. A grid wider or taller than `maxSide` is sampled to fit (nearest cell), so a
 * city-sized grid still draws; `painted` always counts the grid's own cells.
 */
export function paintRaster(values: Uint8Array, grid: Pick<CoverageGridView, 'cols' | 'rows'>, table: readonly Rgba[], maxSide: number = maxRasterSide): PaintedRaster {
  const { cols, rows } = grid
  if (values.length !== cols * rows) throw new Error(`The raster has ${values.length} cells, but its grid is ${cols} × ${rows}; recompute the coverage.`)
  let painted = 0
  for (let i = 0; i < values.length; i++) if ((table[values[i]!]?.[3] ?? 0) > 0) painted++
  const width = Math.max(1, Math.min(cols, maxSide))
  const height = Math.max(1, Math.min(rows, maxSide))
  const rgba = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    const row = rows - 1 - Math.floor((y * rows) / height)
    for (let x = 0; x < width; x++) {
      const col = Math.floor((x * cols) / width)
      const colour = table[values[row * cols + col]!]
      if (!colour || colour[3] === 0) continue
      rgba.set(colour, (y * width + x) * 4)
    }
  }
  return { width, height, rgba, painted }
}
