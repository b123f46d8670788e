import { describe, expect, it } from 'vitest'
import { CoverageCell } from '../../../shared/contract'
import { coveragePalette } from '../../../shared/domain/site/coverage-palette'
import { base64ToBytes, bytesToBase64 } from '../../../renderer/src/features/bench/base64'
import { coverageColours, coverageOpacity, paintRaster, parseColour, radioColours, radioScaleDbm } from '../../../renderer/src/features/site/map-raster'

const pixel = (rgba: Uint8ClampedArray, width: number, x: number, y: number) => [...rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)]
const theme = { bad: '#ff6b6b', warn: '#ffb547', ok: '#3ecf8e' }

describe('coverage raster decoding', () => {
  it('reads back what the core encodes, byte for byte', () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256)
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes)
  })

  it('paints the south row at the bottom of the picture, so north is up on the map', () => {
    // 3 × 2 cells, row by row from the south: the south row is blind, the north row seen at identification.
    const { blind, identification, outside } = CoverageCell
    const cells = Uint8Array.of(blind, blind, outside, identification, identification, identification)
    const painted = paintRaster(cells, { cols: 3, rows: 2 }, coverageColours())
    expect([painted.width, painted.height]).toEqual([3, 2])
    const colour = (cell: number) => {
      const entry = coveragePalette.find((c) => c.cell === cell)!
      return [entry.red, entry.green, entry.blue, Math.round(255 * coverageOpacity)]
    }
    // Top row of the picture: the north cells.
    expect(pixel(painted.rgba, 3, 0, 0)).toEqual(colour(identification))
    expect(pixel(painted.rgba, 3, 2, 0)).toEqual(colour(identification))
    // Bottom row: the south cells, the last one outside the problem and clear.
    expect(pixel(painted.rgba, 3, 0, 1)).toEqual(colour(blind))
    expect(pixel(painted.rgba, 3, 2, 1)).toEqual([0, 0, 0, 0])
    expect(painted.painted).toBe(5)
  })

  it('samples a grid larger than a texture down to fit, and still counts every cell of the grid', () => {
    const cols = 10
    const rows = 4
    // West half unseen, east half seen.
    const cells = new Uint8Array(cols * rows).map((_, i) => (i % cols < 5 ? CoverageCell.unseen : CoverageCell.seen))
    const painted = paintRaster(cells, { cols, rows }, coverageColours(), 5)
    expect([painted.width, painted.height]).toEqual([5, 4])
    const unseen = coveragePalette.find((c) => c.cell === CoverageCell.unseen)!
    const seen = coveragePalette.find((c) => c.cell === CoverageCell.seen)!
    expect(pixel(painted.rgba, 5, 0, 0).slice(0, 3)).toEqual([unseen.red, unseen.green, unseen.blue])
    expect(pixel(painted.rgba, 5, 4, 3).slice(0, 3)).toEqual([seen.red, seen.green, seen.blue])
    expect(painted.painted).toBe(40)
  })

  it('refuses a raster whose length is not its grid', () => {
    expect(() => paintRaster(new Uint8Array(5), { cols: 3, rows: 2 }, coverageColours())).toThrow('5 cells, but its grid is 3 × 2')
  })
})

describe('radio raster colours', () => {
  const table = radioColours(theme)
  const level = (dbm: number) => dbm + 140

  it('leaves cells no gateway reaches clear', () => {
    expect(table[0]![3]).toBe(0)
    expect(paintRaster(Uint8Array.of(0, 0, level(-60), 0), { cols: 2, rows: 2 }, table).painted).toBe(1)
  })

  it('runs from the bad colour when weak, through warn at a usable level, to ok when strong', () => {
    expect(table[level(radioScaleDbm.weak)]!.slice(0, 3)).toEqual([...parseColour(theme.bad)])
    expect(table[level(-130)]!.slice(0, 3)).toEqual([...parseColour(theme.bad)])
    expect(table[level(radioScaleDbm.usable)]!.slice(0, 3)).toEqual([...parseColour(theme.warn)])
    expect(table[level(radioScaleDbm.strong)]!.slice(0, 3)).toEqual([...parseColour(theme.ok)])
    expect(table[level(-20)]!.slice(0, 3)).toEqual([...parseColour(theme.ok)])
  })
})

describe('theme colours', () => {
  it('reads the forms the theme writes them in, and greys anything else rather than failing', () => {
    expect(parseColour('#3ecf8e')).toEqual([0x3e, 0xcf, 0x8e])
    expect(parseColour(' #FFF ')).toEqual([255, 255, 255])
    expect(parseColour('#11223344')).toEqual([0x11, 0x22, 0x33])
    expect(parseColour('rgb(12, 34, 56)')).toEqual([12, 34, 56])
    expect(parseColour('rgba(12 34 56 / 50%)')).toEqual([12, 34, 56])
    expect(parseColour('oklch(70% 0.1 200)')).toEqual([128, 128, 128])
  })
})
