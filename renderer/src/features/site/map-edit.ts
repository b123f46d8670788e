import { findPolygonIntersection, type PolygonIntersection } from '../../../../shared/domain/site/import-report'
import { ringSignedArea, typicalAttenuationDb, type DeviceKind, type MountingPoint, type Obstruction, type PointM, type SiteModel, type Zone } from '../../../../shared/domain/site/model'
import { snapPoint, type SiteEdit, type SnapAnchor, type SnapResult, type VertexRef } from '../../../../shared/domain/site/site-edits'
import type { SiteSelection, SiteTool } from './plan-state'

// What a hand on the map means for the model: how far a few screen pixels reach in metres at the current
// zoom, where a dragged corner, mounting point or whole item lands once snapped, the items the drawing tools
// add, and why an outline cannot close. Pure, so each rule is tested without a map; map-plan-editor.ts feeds
// it the pointer.

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

/** What can be dragged: a mounting point, one corner, or a whole zone or obstruction by its body. */
export type DragSubject = { kind: 'mountingPoint'; id: string } | { kind: 'vertex'; vertex: VertexRef } | { kind: 'item'; collection: 'zones' | 'obstructions'; id: string }

/** What a drag holds: the subject, where it was, and where on it the pointer took hold. */
export type DragTarget = DragSubject & {
  /** The mounting point or corner; for a whole item, the point of it the pointer took hold of. */
  from: PointM
  /** Pointer minus `from` at the start, so the item does not jump under the pointer when taken off-centre. */
  grab: PointM
}

/** A whole item is taken by the point pressed (`from` is the pointer): that point is what snaps as it moves. */
export function startDrag(target: DragSubject, from: PointM, pointer: PointM): DragTarget {
  return { ...target, from: { x: from.x, y: from.y }, grab: { x: pointer.x - from.x, y: pointer.y - from.y } }
}

/** The dragged mounting point or corner must not snap to itself (a whole item is left out of `snapSite` instead). */
export function dragAnchor(target: DragTarget): SnapAnchor | undefined {
  if (target.kind === 'item') return undefined
  return target.kind === 'mountingPoint' ? { on: 'mountingPoint', id: target.id } : target.vertex
}

/**
 * The site a dragged point snaps against: a whole zone or obstruction on the move must not catch on its own
 * corners and edges where it was, so it is left out; for anything else, the site as it is.
 */
export function snapSite(site: SiteModel, target: DragTarget | undefined): SiteModel {
  if (target?.kind !== 'item') return site
  return target.collection === 'zones' ? { ...site, zones: site.zones.filter((z) => z.id !== target.id) } : { ...site, obstructions: site.obstructions.filter((o) => o.id !== target.id) }
}

/** Where the dragged item would land with the pointer at `pointer`, before snapping. */
export function dragPosition(target: DragTarget, pointer: PointM): PointM {
  return { x: pointer.x - target.grab.x, y: pointer.y - target.grab.y }
}

/** The edit that puts the dragged thing at `to`: a mounting point or a whole item moves by a delta, a corner to a place. */
export function dragEdit(target: DragTarget, to: PointM): SiteEdit {
  const by = { x: to.x - target.from.x, y: to.y - target.from.y }
  if (target.kind === 'mountingPoint') return { op: 'move', collection: 'mountingPoints', id: target.id, by }
  if (target.kind === 'item') return { op: 'move', collection: target.collection, id: target.id, by }
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

/** The tools that draw an outline corner by corner, closed by a click on the first corner or by Enter. */
export type OutlineTool = Extract<SiteTool, 'add-zone' | 'add-obstruction'>

export function isOutlineTool(tool: SiteTool): tool is OutlineTool {
  return tool === 'add-zone' || tool === 'add-obstruction'
}

export const outlineNouns: Record<OutlineTool, string> = { 'add-zone': 'zone', 'add-obstruction': 'obstruction' }

/** Less than a 10 cm square is a slip of the hand, not an area anyone means to plan. */
const minOutlineAreaM2 = 0.01

const outlineFaults: Record<PolygonIntersection['kind'], string> = {
  crossing: 'crosses itself',
  touching: 'touches itself',
  overlap: 'runs back along itself',
  spike: 'doubles back on itself',
}

/**
 * Why the corners drawn cannot close into a zone or an obstruction, or null when they can. A self-crossing
 * outline has no well-defined inside, so coverage could not tell what it covers (validateSite refuses it too);
 * it is stopped here, while the corners are still in hand and Backspace can take the wrong one back.
 */
export function outlineProblem(tool: OutlineTool, corners: readonly PointM[]): string | null {
  const noun = outlineNouns[tool]
  if (corners.length < 3) return `A ${noun} needs at least three corners; it has ${corners.length}. Click where the next one goes.`
  if (onOneLine(corners)) return `These corners lie on one line, so the ${noun} would have no area. Click a corner off the line; Backspace takes the last one back.`
  // Metres in the plane: the checker's test is planar, whatever the units.
  const found = findPolygonIntersection([corners.map((p) => [p.x, p.y])])
  if (found && found !== 'unchecked') {
    return `This ${noun} outline ${outlineFaults[found.kind]}: the edges from corner ${found.first.edge + 1} and from corner ${found.second.edge + 1} meet. Draw it as one outline without a figure of eight; Backspace takes the last corner back.`
  }
  if (Math.abs(ringSignedArea(corners)) < minOutlineAreaM2) return `This ${noun} would be smaller than 10 × 10 cm. Draw it larger; Backspace takes the last corner back.`
  return null
}

/** Every corner within a millimetre of the line through the first two that differ. */
function onOneLine(corners: readonly PointM[]): boolean {
  const a = corners[0]!
  const b = corners.find((p) => p.x !== a.x || p.y !== a.y)
  if (!b) return true
  const length = Math.hypot(b.x - a.x, b.y - a.y)
  return corners.every((p) => Math.abs((b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)) / length < 0.001)
}

export function newZone(site: SiteModel, corners: readonly PointM[]): Zone {
  const id = freshId('zone', site.zones.map((z) => z.id))
  // Required: a zone is drawn to be watched; optional and excluded are chosen on the selection afterwards.
  return { id, name: `Zone ${id.slice('zone-'.length)}`, polygon: corners.map((p) => ({ x: p.x, y: p.y })), kind: 'required' }
}

/** The height the importer assumes for a building footprint (site-from-features.ts). */
const drawnFootprintHeightM = 6

/** A drawn obstruction outline: a concrete footprint that blocks sight, with concrete's typical radio loss. */
export function newFootprint(site: SiteModel, corners: readonly PointM[]): Obstruction {
  return {
    id: freshId('building', site.obstructions.map((o) => o.id)),
    shape: { kind: 'polygon', points: corners.map((p) => ({ x: p.x, y: p.y })) },
    material: 'concrete',
    heightM: drawnFootprintHeightM,
    blocksSight: true,
    attenuationDb: typicalAttenuationDb.concrete,
  }
}

/** The edit a closed outline makes, and what to select once it is in; or why it cannot close. */
export function outlineEdit(site: SiteModel, tool: OutlineTool, corners: readonly PointM[]): { ok: true; edit: SiteEdit; selection: SiteSelection } | { ok: false; problem: string } {
  const problem = outlineProblem(tool, corners)
  if (problem) return { ok: false, problem }
  if (tool === 'add-zone') {
    const item = newZone(site, corners)
    return { ok: true, edit: { op: 'add', collection: 'zones', item }, selection: { collection: 'zones', id: item.id } }
  }
  const item = newFootprint(site, corners)
  return { ok: true, edit: { op: 'add', collection: 'obstructions', item }, selection: { collection: 'obstructions', id: item.id } }
}
