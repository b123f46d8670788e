import type { Obstruction } from './model'

/**
 * Every obstruction as straight wall segments in flat typed arrays, the shape the shadow casters read:
 * a segment obstruction is one wall, a footprint is one wall per edge.
 */
export interface WallSet {
  readonly count: number
  readonly ax: Float64Array
  readonly ay: Float64Array
  readonly bx: Float64Array
  readonly by: Float64Array
  readonly heightM: Float64Array
  readonly blocksSight: Uint8Array
  readonly attenuationDb: Float64Array
  /** Index into the site's obstructions, to say which one is in the way. */
  readonly obstruction: Int32Array
}

export function buildWallSet(obstructions: readonly Obstruction[]): WallSet {
  let count = 0
  for (const o of obstructions) count += o.shape.kind === 'segment' ? 1 : o.shape.points.length
  const walls = {
    count,
    ax: new Float64Array(count),
    ay: new Float64Array(count),
    bx: new Float64Array(count),
    by: new Float64Array(count),
    heightM: new Float64Array(count),
    blocksSight: new Uint8Array(count),
    attenuationDb: new Float64Array(count),
    obstruction: new Int32Array(count),
  }
  let w = 0
  const add = (index: number, o: Obstruction, a: { x: number; y: number }, b: { x: number; y: number }) => {
    walls.ax[w] = a.x
    walls.ay[w] = a.y
    walls.bx[w] = b.x
    walls.by[w] = b.y
    walls.heightM[w] = o.heightM
    walls.blocksSight[w] = o.blocksSight ? 1 : 0
    walls.attenuationDb[w] = o.attenuationDb
    walls.obstruction[w] = index
    w++
  }
  obstructions.forEach((o, index) => {
    if (o.shape.kind === 'segment') add(index, o, o.shape.a, o.shape.b)
    else {
      const points = o.shape.points
      for (let i = 0; i < points.length; i++) add(index, o, points[i]!, points[(i + 1) % points.length]!)
    }
  })
  return walls
}

/** Distance from (px, py) to wall `w`. */
export function distanceToWall(walls: WallSet, w: number, px: number, py: number): number {
  const ax = walls.ax[w]!
  const ay = walls.ay[w]!
  const dx = walls.bx[w]! - ax
  const dy = walls.by[w]! - ay
  const lengthSquared = dx * dx + dy * dy
  let t = lengthSquared > 0 ? ((px - ax) * dx + (py - ay) * dy) / lengthSquared : 0
  t = t < 0 ? 0 : t > 1 ? 1 : t
  return Math.hypot(ax + t * dx - px, ay + t * dy - py)
}

/**
 * Walls closer than this to a viewer are its own mounting surface: a camera on a wall looks away from it,
 * and a radio on a wall radiates on both sides of its own bracket. Both casters and their references ignore them.
 */
export const ownWallToleranceM = 0.01

/**
 * Where along a sight line a wall blocks it, as the range of λ = (distance to the target) / (distance to
 * the wall crossing) over which the line passes at or below the wall's top. The line runs from the eye
 * at `eyeM` to the target at `targetM`; at the crossing (fraction f = 1/λ of the way) it is at
 * eye + (target − eye)·f. Returns [λmin, λmax] with λmin ≥ 1 (only targets beyond the wall), or null
 * when the line always clears the wall. λmax may be Infinity.
 *
 * Eye above the wall, target below it: the shadow lies right behind the wall and ends at
 * (eye − target)/(eye − wall) times the wall's distance, past which the line clears the top.
 */
export function shadowDepth(eyeM: number, targetM: number, wallM: number): [number, number] | null {
  const atEye = eyeM - wallM // line height above the wall's top at f = 0
  const atTarget = targetM - wallM // … and at f = 1
  if (atEye <= 0 && atTarget <= 0) return [1, Infinity]
  if (atEye > 0 && atTarget > 0) return null
  if (atEye > 0) {
    // Blocked for f ≥ f* = atEye / (atEye − atTarget), i.e. λ ≤ 1/f*.
    const lambdaMax = (atEye - atTarget) / atEye
    return lambdaMax >= 1 ? [1, lambdaMax] : null
  }
  // Eye below the top, target above it: blocked for f ≤ f*, i.e. λ ≥ 1/f*.
  const lambdaMin = (atTarget - atEye) / -atEye
  return [Math.max(1, lambdaMin), Infinity]
}

/**
 * Visits every cell whose centre lies in the shadow of wall `w` seen from (sx, sy) for λ in
 * [λmin, λmax]: the trapezoid between the wall scaled by λmin and by λmax about the viewer. A cell centre
 * is in it exactly when the straight line from the viewer to that centre crosses the wall at a λ in the
 * range, which is the per-cell line-of-sight test, decided for a whole wall at once by a scanline fill.
 * Only rows and columns inside the window [colFrom, colTo] × [rowFrom, rowTo] are visited; `reachM`
 * bounds how far the shadow is drawn.
 */
export function forEachShadowCell(
  grid: { readonly cellSizeM: number; readonly originX: number; readonly originY: number },
  walls: WallSet,
  w: number,
  sx: number,
  sy: number,
  lambdaMin: number,
  lambdaMax: number,
  reachM: number,
  window: { colFrom: number; colTo: number; rowFrom: number; rowTo: number },
  visit: (row: number, colFrom: number, colTo: number) => void,
): void {
  const ax = walls.ax[w]! - sx
  const ay = walls.ay[w]! - sy
  const bx = walls.bx[w]! - sx
  const by = walls.by[w]! - sy
  const nearest = distanceToWall(walls, w, sx, sy)
  if (nearest < ownWallToleranceM || nearest > reachM) return
  // A viewer on the wall's own line casts no shadow of positive area.
  if (Math.abs(ax * by - ay * bx) < 1e-12) return
  // Beyond this scale every shadow point is further than reachM from the viewer.
  const farthest = reachM / nearest + 1
  const k1 = lambdaMin
  const k2 = Math.min(lambdaMax, farthest)
  if (!(k2 > k1)) return
  // Trapezoid corners relative to the viewer, in order around it.
  const qx0 = ax * k1, qy0 = ay * k1
  const qx1 = bx * k1, qy1 = by * k1
  const qx2 = bx * k2, qy2 = by * k2
  const qx3 = ax * k2, qy3 = ay * k2
  const cs = grid.cellSizeM
  const ox = grid.originX - sx
  const oy = grid.originY - sy
  const minY = Math.min(qy0, qy1, qy2, qy3)
  const maxY = Math.max(qy0, qy1, qy2, qy3)
  const rowFrom = Math.max(window.rowFrom, Math.ceil((minY - oy) / cs - 0.5))
  const rowTo = Math.min(window.rowTo, Math.floor((maxY - oy) / cs - 0.5))
  for (let row = rowFrom; row <= rowTo; row++) {
    const y = oy + (row + 0.5) * cs
    // The trapezoid is convex: a scanline meets it in one interval, bounded by its edges that span y.
    let left = Infinity
    let right = -Infinity
    let x = crossing(qx0, qy0, qx1, qy1, y)
    if (!Number.isNaN(x)) {
      left = Math.min(left, x)
      right = Math.max(right, x)
    }
    x = crossing(qx1, qy1, qx2, qy2, y)
    if (!Number.isNaN(x)) {
      left = Math.min(left, x)
      right = Math.max(right, x)
    }
    x = crossing(qx2, qy2, qx3, qy3, y)
    if (!Number.isNaN(x)) {
      left = Math.min(left, x)
      right = Math.max(right, x)
    }
    x = crossing(qx3, qy3, qx0, qy0, y)
    if (!Number.isNaN(x)) {
      left = Math.min(left, x)
      right = Math.max(right, x)
    }
    if (left > right) continue
    const colFrom = Math.max(window.colFrom, Math.ceil((left - ox) / cs - 0.5))
    const colTo = Math.min(window.colTo, Math.floor((right - ox) / cs - 0.5))
    if (colFrom <= colTo) visit(row, colFrom, colTo)
  }
}

/** Where the edge from (x0, y0) to (x1, y1) meets the horizontal line at y (half-open in y), or NaN. */
function crossing(x0: number, y0: number, x1: number, y1: number, y: number): number {
  return y0 > y !== y1 > y ? x0 + ((y - y0) * (x1 - x0)) / (y1 - y0) : Number.NaN
}
