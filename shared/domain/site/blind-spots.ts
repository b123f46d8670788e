import { Demand, type CoverageGrid } from './grid'
import type { PointM } from './model'

/** A connected patch of unseen cells: where an intruder walks unnoticed. */
export interface BlindSpot {
  /** 1-based; `labels` holds it for each of the spot's cells. */
  id: number
  cellCount: number
  areaM2: number
  /** The part of the area in required zones: what placement has to close. */
  requiredAreaM2: number
  bounds: { minX: number; minY: number; maxX: number; maxY: number }
  centroid: PointM
}

export interface BlindSpotOptions {
  /** Cells below this demand are never blind (default: every cell in the problem). */
  minDemand?: number
  /** Smaller spots are left unlabelled and unlisted: single cells behind a post are noise on a big site. */
  minAreaM2?: number
}

/**
 * Connected components (4-neighbour: cells that share an edge, since a gap a person cannot pass is not
 * one spot) of unseen in-problem cells, largest first. One pass of flood fill with an explicit stack,
 * so a spot of a million cells needs no recursion.
 */
export function findBlindSpots(grid: CoverageGrid, seenBy: ArrayLike<number>, options: BlindSpotOptions = {}): { spots: BlindSpot[]; labels: Int32Array } {
  const { cols, rows, cellSizeM: cs, demand } = grid
  const minDemand = options.minDemand ?? Demand.optional
  const minCells = Math.max(1, Math.ceil((options.minAreaM2 ?? 0) / (cs * cs) - 1e-9))
  const labels = new Int32Array(cols * rows)
  const stack = new Int32Array(cols * rows)
  const found: Omit<BlindSpot, 'id'>[] = []
  const raw: number[] = [] // provisional label per found spot
  const blind = (i: number) => demand[i]! >= minDemand && seenBy[i]! === 0
  let provisional = 0
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== 0 || !blind(start)) continue
    provisional++
    let top = 0
    stack[top++] = start
    labels[start] = provisional
    let cells = 0
    let required = 0
    let minCol = cols
    let maxCol = -1
    let minRow = rows
    let maxRow = -1
    let sumCol = 0
    let sumRow = 0
    while (top > 0) {
      const i = stack[--top]!
      const col = i % cols
      const row = (i - col) / cols
      cells++
      if (demand[i] === Demand.required) required++
      sumCol += col
      sumRow += row
      if (col < minCol) minCol = col
      if (col > maxCol) maxCol = col
      if (row < minRow) minRow = row
      if (row > maxRow) maxRow = row
      // Neighbours sharing an edge, each labelled as it is pushed so none is pushed twice.
      for (let k = 0; k < 4; k++) {
        const j = k === 0 ? (col > 0 ? i - 1 : -1) : k === 1 ? (col < cols - 1 ? i + 1 : -1) : k === 2 ? (row > 0 ? i - cols : -1) : row < rows - 1 ? i + cols : -1
        if (j < 0 || labels[j] !== 0 || !blind(j)) continue
        labels[j] = provisional
        stack[top++] = j
      }
    }
    if (cells < minCells) continue
    raw.push(provisional)
    found.push({
      cellCount: cells,
      areaM2: cells * cs * cs,
      requiredAreaM2: required * cs * cs,
      bounds: {
        minX: grid.originX + minCol * cs,
        minY: grid.originY + minRow * cs,
        maxX: grid.originX + (maxCol + 1) * cs,
        maxY: grid.originY + (maxRow + 1) * cs,
      },
      centroid: { x: grid.originX + (sumCol / cells + 0.5) * cs, y: grid.originY + (sumRow / cells + 0.5) * cs },
    })
  }
  // Number the listed spots largest first, and relabel the grid to match (unlisted cells back to 0).
  const order = found.map((_, k) => k).sort((p, q) => found[q]!.cellCount - found[p]!.cellCount || p - q)
  const finalId = new Int32Array(provisional + 1)
  const spots = order.map((k, rank) => {
    finalId[raw[k]!] = rank + 1
    return { id: rank + 1, ...found[k]! }
  })
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) labels[i] = finalId[labels[i]!]!
  return { spots, labels }
}

/**
 * The outline of one blind spot along cell edges, as rings in local metres: the outer ring first,
 * counter-clockwise, then any holes (seen islands inside it), clockwise. Traced edge by edge with the
 * spot on the left; where two of its cells touch only at a corner the trace turns left, keeping them
 * apart as the 4-neighbour labelling does. Corners only: straight runs of edges are one side.
 */
export function blindSpotOutline(grid: CoverageGrid, labels: Int32Array, spot: Pick<BlindSpot, 'id' | 'bounds'>): PointM[][] {
  const { cols, rows, cellSizeM: cs } = grid
  const colFrom = Math.max(0, Math.round((spot.bounds.minX - grid.originX) / cs))
  const colTo = Math.min(cols - 1, Math.round((spot.bounds.maxX - grid.originX) / cs) - 1)
  const rowFrom = Math.max(0, Math.round((spot.bounds.minY - grid.originY) / cs))
  const rowTo = Math.min(rows - 1, Math.round((spot.bounds.maxY - grid.originY) / cs) - 1)
  const inSpot = (col: number, row: number) => col >= 0 && row >= 0 && col < cols && row < rows && labels[row * cols + col] === spot.id
  const vertex = (col: number, row: number) => row * (cols + 1) + col
  // Directions: 0 east, 1 north, 2 west, 3 south; turning left is +1.
  const from: number[] = []
  const direction: number[] = []
  const outgoing = new Map<number, number[]>()
  const add = (col: number, row: number, dir: number) => {
    const v = vertex(col, row)
    const edges = outgoing.get(v)
    if (edges) edges.push(from.length)
    else outgoing.set(v, [from.length])
    from.push(v)
    direction.push(dir)
  }
  for (let row = rowFrom; row <= rowTo; row++) {
    for (let col = colFrom; col <= colTo; col++) {
      if (!inSpot(col, row)) continue
      if (!inSpot(col, row - 1)) add(col, row, 0)
      if (!inSpot(col + 1, row)) add(col + 1, row, 1)
      if (!inSpot(col, row + 1)) add(col + 1, row + 1, 2)
      if (!inSpot(col - 1, row)) add(col, row + 1, 3)
    }
  }
  const step = [1, cols + 1, -1, -(cols + 1)]
  const used = new Uint8Array(from.length)
  const rings: PointM[][] = []
  for (let first = 0; first < from.length; first++) {
    if (used[first]) continue
    const ring: PointM[] = []
    let edge = first
    while (!used[edge]) {
      used[edge] = 1
      const dir = direction[edge]!
      const end = from[edge]! + step[dir]!
      const next = (outgoing.get(end) ?? []).filter((e) => !used[e] || e === first)
      // Prefer left, then straight, then right: see the doc comment.
      const pick = [1, 0, 3].map((turn) => next.find((e) => direction[e] === (dir + turn) % 4)).find((e) => e !== undefined)
      if (pick === undefined) break
      if (direction[pick] !== dir) {
        const col = end % (cols + 1)
        const row = (end - col) / (cols + 1)
        ring.push({ x: grid.originX + col * cs, y: grid.originY + row * cs })
      }
      edge = pick
    }
    if (ring.length >= 4) rings.push(ring)
  }
  const area = (ring: PointM[]) => ring.reduce((sum, p, i) => sum + (ring[(i + ring.length - 1) % ring.length]!.x * p.y - p.x * ring[(i + ring.length - 1) % ring.length]!.y), 0) / 2
  return rings.sort((p, q) => area(q) - area(p))
}
