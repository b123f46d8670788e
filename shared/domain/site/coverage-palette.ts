import { DoriBand, type CoverageResult } from './coverage'
import { Demand } from './grid'

/**
 * The coverage map's classes and colours, one palette for every drawing of it: the screen's raster, the
 * PNG, the coverage SVG and the commissioning report, so a colour means the same thing on all of them.
 */

/** Per cell: what a person looking at the map needs to tell apart, in rising order of how well it is seen. */
export const CoverageCell = {
  outside: 0,
  /** A required cell nothing sees: a blind spot. */
  blind: 1,
  /** An optional cell nothing sees. */
  unseen: 2,
  /** Seen by a sensor, or by a camera below the DORI detection density. */
  seen: 3,
  detection: 4,
  observation: 5,
  recognition: 6,
  identification: 7,
} as const
export type CoverageCellValue = (typeof CoverageCell)[keyof typeof CoverageCell]

// DORI bands follow `seen` in the same order, so a band maps to a class by adding this.
const doriOffset = CoverageCell.detection - DoriBand.detection

/** The class of one cell, from its demand, how many devices see it and the best camera's DORI band. */
export function coverageCellAt(coverage: Pick<CoverageResult, 'grid' | 'seenBy' | 'dori'>, index: number): CoverageCellValue {
  const demand = coverage.grid.demand[index]!
  if (demand === Demand.none) return CoverageCell.outside
  if (coverage.seenBy[index] === 0) return demand === Demand.required ? CoverageCell.blind : CoverageCell.unseen
  const band = coverage.dori[index]!
  return (band === DoriBand.none ? CoverageCell.seen : band + doriOffset) as CoverageCellValue
}

/** One class per cell, row by row from the south: what the raster encodings carry. */
export function coverageCells(coverage: Pick<CoverageResult, 'grid' | 'seenBy' | 'dori'>): Uint8Array {
  const cells = new Uint8Array(coverage.grid.cols * coverage.grid.rows)
  for (let i = 0; i < cells.length; i++) cells[i] = coverageCellAt(coverage, i)
  return cells
}

export interface CoverageColour {
  cell: CoverageCellValue
  /** For the legend. */
  label: string
  red: number
  green: number
  blue: number
  /** 0 to 255: outside cells are clear so the plan or the map shows through. */
  alpha: number
}

/**
 * Indexed by class. Unseen is red (required) or amber (optional), seen without detail a pale blue, and
 * the DORI bands a green ramp that darkens with detail, so the eye finds the gaps first and the ramp reads
 * in order in grey print too.
 */
export const coveragePalette: readonly CoverageColour[] = [
  { cell: CoverageCell.outside, label: 'Outside the problem', red: 255, green: 255, blue: 255, alpha: 0 },
  { cell: CoverageCell.blind, label: 'Blind: required, nothing sees it', red: 215, green: 48, blue: 39, alpha: 255 },
  { cell: CoverageCell.unseen, label: 'Unseen: optional', red: 253, green: 174, blue: 97, alpha: 255 },
  { cell: CoverageCell.seen, label: 'Seen (sensor, or camera below detection)', red: 171, green: 217, blue: 233, alpha: 255 },
  { cell: CoverageCell.detection, label: 'DORI detection', red: 199, green: 233, blue: 192, alpha: 255 },
  { cell: CoverageCell.observation, label: 'DORI observation', red: 116, green: 196, blue: 118, alpha: 255 },
  { cell: CoverageCell.recognition, label: 'DORI recognition', red: 35, green: 139, blue: 69, alpha: 255 },
  { cell: CoverageCell.identification, label: 'DORI identification', red: 0, green: 68, blue: 27, alpha: 255 },
]

/** `#rrggbb` for SVG and CSS. */
export function colourHex(colour: Pick<CoverageColour, 'red' | 'green' | 'blue'>): string {
  return `#${[colour.red, colour.green, colour.blue].map((c) => c.toString(16).padStart(2, '0')).join('')}`
}
