import { typicalAttenuationDb, type DeviceKind, type MountingPoint, type Obstruction, type PointM, type SiteModel } from '../../../../shared/domain/site/model'
import { snapPoint, type SiteEdit, type SnapAnchor, type SnapResult, type VertexRef } from '../../../../shared/domain/site/site-edits'

// What a hand on the map means for the model: how far a few screen pixels reach in metres at the current
// zoom, where a dragged corner or mounting point lands once snapped, and the items the drawing tools add.
// Pure, so each rule is tested without a map; map-plan-editor.ts feeds it the pointer.

/** How close, on screen, the pointer must come to a corner or an edge to be caught by it. */
export const snapTolerancePx = 10

/** MapLibre's world is 512 pixels wide at zoom 0. */
const worldPixelsAtZoom0 = 512
const earthCircumferenceM = 40_075_016.686

/** Ground metres one CSS pixel spans at `zoom` and latitude `latDeg` (Web Mercator). */
export function metresPerPixel(zoom: number, latDeg: number): number {
  return (earthCircumferenceM * Math.cos((latDeg * Math.PI) / 180)) / (worldPixelsAtZoom0 * 2 ** zoom)
}

/** The snapping reach in metres for the map as it is zoomed now. */
export function snapToleranceM(zoom: number, latDeg: number, px: number = snapTolerancePx): number {
  return px * metresPerPixel(zoom, latDeg)
}

/**
 * A grid step of 1, 2 or 5 × 10ⁿ metres, the smallest one at least a pixel wide: a point dropped where
 * nothing catches it lands on round figures (12.35 m, not 12.3471 m) without moving visibly on screen.
 */
export function snapGridM(pixelM: number): number {
  if (!(pixelM > 0) || !Number.isFinite(pixelM)) return 0.001
  const decade = 10 ** Math.floor(Math.log10(pixelM))
  for (const step of [1, 2, 5, 10]) if (step * decade >= pixelM - 1e-12) return Math.max(0.001, step * decade)
  return Math.max(0.001, 10 * decade)
}

/** Snaps a point drawn or dragged on a map at `zoom`: to corners and edges within reach, else to the grid. */
export function snapOnMap(point: PointM, site: SiteModel, zoom: number, ignore?: SnapAnchor): SnapResult {
  const pixelM = metresPerPixel(zoom, site.origin.lat)
  return snapPoint(point, site, { toleranceM: snapTolerancePx * pixelM, gridM: snapGridM(pixelM), ...(ignore ? { ignore } : {}) })
}

/** What a drag holds: a mounting point or a corner, where it was, and where on it the pointer took hold. */
export type DragTarget = ({ kind: 'mountingPoint'; id: string } | { kind: 'vertex'; vertex: VertexRef }) & {
  from: PointM
  /** Pointer minus item at the start, so the item does not jump under the pointer when taken off-centre. */
  grab: PointM
}

export function startDrag(target: { kind: 'mountingPoint'; id: string } | { kind: 'vertex'; vertex: VertexRef }, from: PointM, pointer: PointM): DragTarget {
  return { ...target, from: { x: from.x, y: from.y }, grab: { x: pointer.x - from.x, y: pointer.y - from.y } }
}

/** The dragged thing must not snap to itself. */
export function dragAnchor(target: DragTarget): SnapAnchor {
  return target.kind === 'mountingPoint' ? { on: 'mountingPoint', id: target.id } : target.vertex
}

/** Where the dragged item would land with the pointer at `pointer`, before snapping. */
export function dragPosition(target: DragTarget, pointer: PointM): PointM {
  return { x: pointer.x - target.grab.x, y: pointer.y - target.grab.y }
}

/** The edit that puts the dragged item at `to`: a mounting point moves by a delta, a corner to a place. */
export function dragEdit(target: DragTarget, to: PointM): SiteEdit {
  if (target.kind === 'mountingPoint') return { op: 'move', collection: 'mountingPoints', id: target.id, by: { x: to.x - target.from.x, y: to.y - target.from.y } }
  return { op: 'move-vertex', vertex: target.vertex, to: { x: to.x, y: to.y } }
}

/**
 * `prefix-N`, one past the highest N already used: a deleted mp-2 is not handed to a new pole, so a list
 * printed before the delete cannot be read as naming the new one.
 */
export function freshId(prefix: string, taken: Iterable<string>): string {
  const pattern = new RegExp(`^${prefix}-(\\d+)$`)
  let highest = 0
  for (const id of taken) highest = Math.max(highest, Number(pattern.exec(id)?.[1] ?? 0))
  return `${prefix}-${highest + 1}`
}

/** Every kind a generic mounting point takes but a switch, which lives in a cabinet, not on a pole or wall. */
export const drawnMountKinds: readonly DeviceKind[] = ['camera', 'sensor', 'gateway', 'node']

/** The height the importer assumes for a mounting point nobody described (site-from-features.ts). */
const drawnMountHeightM = 3

export function newMountingPoint(site: SiteModel, at: PointM): MountingPoint {
  return { id: freshId('mp', site.mountingPoints.map((m) => m.id)), x: at.x, y: at.y, heightM: drawnMountHeightM, allowedKinds: drawnMountKinds }
}

/** The height the importer assumes for a wall of unknown height (site-from-features.ts). */
const drawnWallHeightM = 2.5

/** A drawn wall: a concrete segment that blocks sight, with concrete's typical radio loss. */
export function newWall(site: SiteModel, a: PointM, b: PointM): Obstruction {
  return {
    id: freshId('wall', site.obstructions.map((o) => o.id)),
    shape: { kind: 'segment', a: { x: a.x, y: a.y }, b: { x: b.x, y: b.y } },
    material: 'concrete',
    heightM: drawnWallHeightM,
    blocksSight: true,
    attenuationDb: typicalAttenuationDb.concrete,
  }
}
