import { type PointM, type PolygonM, type SiteModel, type ZoneKind } from './model'

/**
 * The coverage grid: the site cut into square cells, each standing for its centre. Everything per cell
 * lives in typed arrays indexed `row * cols + col`, row 0 at the south edge, so a million cells are a
 * few megabytes a layer and a pass over them stays in the CPU cache's good graces.
 */
export interface CoverageGrid {
  readonly cellSizeM: number
  readonly cols: number
  readonly rows: number
  /** South-west corner of cell 0, in local metres. */
  readonly originX: number
  readonly originY: number
  /** What coverage is asked of each cell: see `Demand`. */
  readonly demand: Uint8Array
  /** 1 where the cell's centre lies inside the site boundary. */
  readonly inBoundary: Uint8Array
}

/** Per cell: outside the problem, nice to cover, or a gap if unseen. */
export const Demand = { none: 0, optional: 1, required: 2 } as const
export type DemandValue = (typeof Demand)[keyof typeof Demand]

export interface GridOptions {
  /** Cell edge in metres: 0.5 m resolves a doorway, 1 m suits a yard, 5 m a field. */
  cellSizeM: number
  /** Demand of in-boundary cells no zone speaks for. */
  defaultDemand?: 'required' | 'optional'
  /** Refuse grids larger than this, rather than run out of memory in a worker. */
  maxCells?: number
}

export const minimumCellSizeM = 0.5
/** Coarser cells than this would hide a doorway-sized gap inside one cell: no use for planning. */
export const maximumCellSizeM = 50
const defaultMaxCells = 64_000_000

/**
 * Rasterises the boundary, the zones and the footprints of solid obstructions. A cell inside an opaque
 * footprint (a building modelled as a polygon) is `none`: nobody outside can see into it, and it is the
 * building's own sensors' business, so it is never reported as a blind spot of the yard.
 */
export function buildCoverageGrid(site: Pick<SiteModel, 'boundary' | 'zones' | 'obstructions'>, options: GridOptions): CoverageGrid {
  const cellSizeM = options.cellSizeM
  if (!(cellSizeM >= minimumCellSizeM)) throw new RangeError(`Cell size ${cellSizeM} m is below the ${minimumCellSizeM} m the grid supports.`)
  if (site.boundary.length < 3) throw new RangeError('The site boundary needs at least three corners before it can be cut into cells.')
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const p of site.boundary) {
    minX = Math.min(minX, p.x)
    minY = Math.min(minY, p.y)
    maxX = Math.max(maxX, p.x)
    maxY = Math.max(maxY, p.y)
  }
  const cols = Math.max(1, Math.ceil((maxX - minX) / cellSizeM - 1e-9))
  const rows = Math.max(1, Math.ceil((maxY - minY) / cellSizeM - 1e-9))
  const maxCells = options.maxCells ?? defaultMaxCells
  if (cols * rows > maxCells) {
    throw new RangeError(`A ${(maxX - minX).toFixed(0)} m × ${(maxY - minY).toFixed(0)} m site at ${cellSizeM} m cells is ${(cols * rows).toLocaleString('en')} cells, more than the ${maxCells.toLocaleString('en')} allowed; use larger cells.`)
  }
  const grid: CoverageGrid = {
    cellSizeM,
    cols,
    rows,
    originX: minX,
    originY: minY,
    demand: new Uint8Array(cols * rows),
    inBoundary: new Uint8Array(cols * rows),
  }
  const { demand, inBoundary } = grid
  const fallback = options.defaultDemand === 'optional' ? Demand.optional : Demand.required
  forEachSpan(grid, site.boundary, (start, end) => {
    inBoundary.fill(1, start, end)
    demand.fill(fallback, start, end)
  })
  // Precedence by order of painting: optional, then required over it, then excluded over both.
  const paint = (kind: ZoneKind, value: number) => {
    for (const zone of site.zones) {
      if (zone.kind !== kind) continue
      forEachSpan(grid, zone.polygon, (start, end) => {
        for (let i = start; i < end; i++) if (inBoundary[i]) demand[i] = value
      })
    }
  }
  paint('optional', Demand.optional)
  paint('required', Demand.required)
  paint('excluded', Demand.none)
  for (const obstruction of site.obstructions) {
    if (obstruction.shape.kind !== 'polygon' || !obstruction.blocksSight) continue
    forEachSpan(grid, obstruction.shape.points, (start, end) => demand.fill(Demand.none, start, end))
  }
  return grid
}

export function cellCentre(grid: CoverageGrid, index: number): PointM {
  const col = index % grid.cols
  const row = (index - col) / grid.cols
  return { x: grid.originX + (col + 0.5) * grid.cellSizeM, y: grid.originY + (row + 0.5) * grid.cellSizeM }
}

/** The cell containing a point, or -1 off the grid. */
export function cellIndexAt(grid: CoverageGrid, point: PointM): number {
  const col = Math.floor((point.x - grid.originX) / grid.cellSizeM)
  const row = Math.floor((point.y - grid.originY) / grid.cellSizeM)
  if (col < 0 || row < 0 || col >= grid.cols || row >= grid.rows) return -1
  return row * grid.cols + col
}

/**
 * Calls `span(start, end)` for each run of cells in a row whose centres lie inside the ring (even-odd
 * rule), `start` inclusive and `end` exclusive as flat indices. Scanline over cell centres: the same
 * sampling rule every layer uses, so a cell is in or out by its centre alone.
 */
export function forEachSpan(grid: CoverageGrid, ring: PolygonM, span: (start: number, end: number) => void): void {
  const n = ring.length
  if (n < 3) return
  let minY = Infinity
  let maxY = -Infinity
  for (const p of ring) {
    minY = Math.min(minY, p.y)
    maxY = Math.max(maxY, p.y)
  }
  const { cellSizeM: cs, originX, originY, cols } = grid
  const rowFrom = Math.max(0, Math.ceil((minY - originY) / cs - 0.5))
  const rowTo = Math.min(grid.rows - 1, Math.floor((maxY - originY) / cs - 0.5))
  const crossings: number[] = []
  for (let row = rowFrom; row <= rowTo; row++) {
    const y = originY + (row + 0.5) * cs
    crossings.length = 0
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const a = ring[i]!
      const b = ring[j]!
      if (a.y > y !== b.y > y) crossings.push(a.x + ((y - a.y) * (b.x - a.x)) / (b.y - a.y))
    }
    crossings.sort((p, q) => p - q)
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const colFrom = Math.max(0, Math.ceil((crossings[k]! - originX) / cs - 0.5))
      const colTo = Math.min(cols - 1, Math.floor((crossings[k + 1]! - originX) / cs - 0.5))
      if (colFrom <= colTo) span(row * cols + colFrom, row * cols + colTo + 1)
    }
  }
}

export function countDemand(grid: CoverageGrid, value: DemandValue): number {
  let count = 0
  for (let i = 0; i < grid.demand.length; i++) if (grid.demand[i] === value) count++
  return count
}
