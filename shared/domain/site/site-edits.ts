// Editing a site plan: every change is an edit applied to an immutable SiteModel, so undo is keeping the
// previous model and redo is keeping the undone one. Edits are checked before they apply: an item must be one
// the site file would accept (readSiteItem), ids stay unique, and a device always stands on a mounting point
// that exists and takes its kind. Geometry that is merely poor (a zone crossing itself mid-drag, a pole outside
// the boundary) is allowed and left to validateSite, because refusing it would fight the planner's hand.
//
// Deleting a mounting point that carries devices is refused, with the devices named, rather than deleting them
// too: a delete then removes exactly what was pointed at, and nothing placed disappears unseen.

import { findPart, type Catalogue, type PointM, type SiteModel } from './model'
import { readSiteItem, type SiteCollection, type SiteItems } from './site-file'

export type { SiteCollection, SiteItems } from './site-file'

/** A corner of the boundary, a zone or an obstruction (a segment's ends are corners 0 and 1). */
export type VertexRef = ({ on: 'boundary' } | { on: 'zone'; id: string } | { on: 'obstruction'; id: string }) & { index: number }

/** The edge from corner `index` to the next one (of a ring, the last edge runs back to corner 0). */
export type EdgeRef = VertexRef

type Movable = 'zones' | 'obstructions' | 'mountingPoints'

export type SiteEdit =
  | { [C in SiteCollection]: { op: 'add'; collection: C; item: SiteItems[C] } }[SiteCollection]
  | { [C in SiteCollection]: { op: 'update'; collection: C; id: string; changes: Partial<Omit<SiteItems[C], 'id'>> } }[SiteCollection]
  | { op: 'delete'; collection: SiteCollection; id: string }
  /** Shifts a whole zone, obstruction or mounting point by `by` metres. */
  | { op: 'move'; collection: Movable; id: string; by: PointM }
  /** Moves a device to another mounting point. */
  | { op: 'move'; collection: 'devices'; id: string; toMountingPointId: string }
  | { op: 'move-vertex'; vertex: VertexRef; to: PointM }

export type EditResult = { ok: true; site: SiteModel } | { ok: false; error: string }

const nouns: Record<SiteCollection, string> = { zones: 'zone', obstructions: 'obstruction', mountingPoints: 'mounting point', devices: 'device' }

type AnyItem = SiteItems[SiteCollection]

const refuse = (error: string): EditResult => ({ ok: false, error })

const finitePoint = (p: PointM): boolean => Number.isFinite(p?.x) && Number.isFinite(p?.y)

function itemsOf(site: SiteModel, collection: SiteCollection): readonly AnyItem[] {
  return site[collection]
}

function withItems(site: SiteModel, collection: SiteCollection, items: readonly AnyItem[]): SiteModel {
  return { ...site, [collection]: items }
}

function indexOf(site: SiteModel, collection: SiteCollection, id: string): number {
  return itemsOf(site, collection).findIndex((item) => item.id === id)
}

const missing = (collection: SiteCollection, id: string): EditResult => refuse(`There is no ${nouns[collection]} "${id}" in the site.`)

// ---- References ----

function deviceProblem(site: SiteModel, device: SiteItems['devices'], catalogue: Catalogue | undefined): string | null {
  const mount = site.mountingPoints.find((m) => m.id === device.mountingPointId)
  if (!mount) return `Device ${device.id} would stand on mounting point "${device.mountingPointId}", which is not in the site.`
  if (!catalogue) return null
  const part = findPart(catalogue, device.partNumber)
  if (!part) return `Device ${device.id} is a ${device.partNumber}, which is not in the catalogue.`
  return mount.allowedKinds.includes(part.kind) ? null : `Device ${device.id} is a ${part.kind}, but mounting point ${mount.id} takes only ${mount.allowedKinds.join(', ')}.`
}

/** Devices are checked against the catalogue only when the history has one; without it, kinds are unknown. */
function referenceProblem(site: SiteModel, collection: SiteCollection, item: AnyItem, catalogue: Catalogue | undefined): string | null {
  if (collection === 'devices') return deviceProblem(site, item as SiteItems['devices'], catalogue)
  if (collection !== 'mountingPoints') return null
  for (const device of site.devices.filter((d) => d.mountingPointId === item.id)) {
    const problem = deviceProblem(site, device, catalogue)
    if (problem) return problem
  }
  return null
}

function settle(site: SiteModel, collection: SiteCollection, item: AnyItem, catalogue: Catalogue | undefined): EditResult {
  const problem = referenceProblem(site, collection, item, catalogue)
  return problem ? refuse(problem) : { ok: true, site }
}

// ---- Operations ----

function add(site: SiteModel, collection: SiteCollection, value: unknown, catalogue: Catalogue | undefined): EditResult {
  const read = readSiteItem(collection, value)
  if (!read.ok) return refuse(`The new ${nouns[collection]} is not valid: ${read.error}`)
  const item = read.item
  if (indexOf(site, collection, item.id) >= 0) return refuse(`A ${nouns[collection]} with the id "${item.id}" already exists; give the new one another id.`)
  return settle(withItems(site, collection, [...itemsOf(site, collection), item]), collection, item, catalogue)
}

function update(site: SiteModel, collection: SiteCollection, id: string, changes: object, catalogue: Catalogue | undefined): EditResult {
  const index = indexOf(site, collection, id)
  if (index < 0) return missing(collection, id)
  // Devices point at mounting points by id; an id that changed would strand them, so ids never change.
  if ('id' in changes) return refuse(`The id of ${nouns[collection]} ${id} cannot be changed; add a new one and delete this one instead.`)
  const read = readSiteItem(collection, { ...itemsOf(site, collection)[index]!, ...changes })
  if (!read.ok) return refuse(`That change would make ${nouns[collection]} ${id} invalid: ${read.error}`)
  const items = itemsOf(site, collection).map((item, i) => (i === index ? read.item : item))
  return settle(withItems(site, collection, items), collection, read.item, catalogue)
}

function remove(site: SiteModel, collection: SiteCollection, id: string): EditResult {
  if (indexOf(site, collection, id) < 0) return missing(collection, id)
  if (collection === 'mountingPoints') {
    const carried = site.devices.filter((d) => d.mountingPointId === id).map((d) => d.id)
    if (carried.length) return refuse(`Mounting point ${id} carries ${carried.length === 1 ? 'device' : 'devices'} ${carried.join(', ')}; move or delete ${carried.length === 1 ? 'it' : 'them'} first.`)
  }
  return { ok: true, site: withItems(site, collection, itemsOf(site, collection).filter((item) => item.id !== id)) }
}

const shift = (p: PointM, by: PointM): PointM => ({ x: p.x + by.x, y: p.y + by.y })

function shifted(collection: Movable, item: AnyItem, by: PointM): object {
  if (collection === 'zones') return { polygon: (item as SiteItems['zones']).polygon.map((p) => shift(p, by)) }
  if (collection === 'mountingPoints') return shift(item as SiteItems['mountingPoints'], by)
  const { shape } = item as SiteItems['obstructions']
  return { shape: shape.kind === 'segment' ? { kind: 'segment', a: shift(shape.a, by), b: shift(shape.b, by) } : { kind: 'polygon', points: shape.points.map((p) => shift(p, by)) } }
}

function move(site: SiteModel, collection: Movable, id: string, by: PointM, catalogue: Catalogue | undefined): EditResult {
  if (!finitePoint(by)) return refuse('A move needs a distance east and north in metres.')
  const index = indexOf(site, collection, id)
  if (index < 0) return missing(collection, id)
  return update(site, collection, id, shifted(collection, itemsOf(site, collection)[index]!, by), catalogue)
}

function replaceAt(points: readonly PointM[], index: number, to: PointM): PointM[] {
  return points.map((p, i) => (i === index ? { x: to.x, y: to.y } : p))
}

function cornerMissing(vertex: VertexRef, count: number): EditResult {
  return refuse(`Corner ${vertex.index + 1} of ${describeOutline(vertex)} does not exist; it has ${count} ${count === 1 ? 'corner' : 'corners'}.`)
}

const inRange = (index: number, count: number): boolean => Number.isInteger(index) && index >= 0 && index < count

function moveVertex(site: SiteModel, vertex: VertexRef, to: PointM, catalogue: Catalogue | undefined): EditResult {
  if (!finitePoint(to)) return refuse('A corner can only move to a position in metres.')
  if (vertex.on === 'boundary') {
    if (!inRange(vertex.index, site.boundary.length)) return cornerMissing(vertex, site.boundary.length)
    return { ok: true, site: { ...site, boundary: replaceAt(site.boundary, vertex.index, to) } }
  }
  if (vertex.on === 'zone') {
    const zone = site.zones.find((z) => z.id === vertex.id)
    if (!zone) return missing('zones', vertex.id)
    if (!inRange(vertex.index, zone.polygon.length)) return cornerMissing(vertex, zone.polygon.length)
    return update(site, 'zones', zone.id, { polygon: replaceAt(zone.polygon, vertex.index, to) }, catalogue)
  }
  const obstruction = site.obstructions.find((o) => o.id === vertex.id)
  if (!obstruction) return missing('obstructions', vertex.id)
  const { shape } = obstruction
  const corners = shape.kind === 'segment' ? [shape.a, shape.b] : shape.points
  if (!inRange(vertex.index, corners.length)) return cornerMissing(vertex, corners.length)
  const moved = replaceAt(corners, vertex.index, to)
  const next = shape.kind === 'segment' ? { kind: 'segment', a: moved[0], b: moved[1] } : { kind: 'polygon', points: moved }
  return update(site, 'obstructions', obstruction.id, { shape: next }, catalogue)
}

/**
 * The site after one edit, or why the edit is refused (a sentence naming the thing). The site passed in is
 * never changed. With a catalogue, devices are also checked against what their mounting point takes.
 */
export function applySiteEdit(site: SiteModel, edit: SiteEdit, catalogue?: Catalogue): EditResult {
  switch (edit.op) {
    case 'add':
      return add(site, edit.collection, edit.item, catalogue)
    case 'update':
      return update(site, edit.collection, edit.id, edit.changes, catalogue)
    case 'delete':
      return remove(site, edit.collection, edit.id)
    case 'move':
      if (edit.collection === 'devices') return update(site, 'devices', edit.id, { mountingPointId: edit.toMountingPointId }, catalogue)
      return move(site, edit.collection, edit.id, edit.by, catalogue)
    case 'move-vertex':
      return moveVertex(site, edit.vertex, edit.to, catalogue)
  }
}

function describeOutline(ref: VertexRef): string {
  return ref.on === 'boundary' ? 'the boundary' : `${ref.on} ${ref.id}`
}

/** For the Edit menu: "Undo move mounting point pole-3". */
export function describeEdit(edit: SiteEdit): string {
  switch (edit.op) {
    case 'add':
      return `add ${nouns[edit.collection]} ${edit.item.id}`
    case 'update':
      return `change ${nouns[edit.collection]} ${edit.id}`
    case 'delete':
      return `delete ${nouns[edit.collection]} ${edit.id}`
    case 'move':
      return edit.collection === 'devices' ? `move device ${edit.id} to ${edit.toMountingPointId}` : `move ${nouns[edit.collection]} ${edit.id}`
    case 'move-vertex':
      return `move corner ${edit.vertex.index + 1} of ${describeOutline(edit.vertex)}`
  }
}

// ---- History ----

export interface EditHistoryOptions {
  /** Edits kept for undo; the oldest go first. */
  maxDepth?: number
  /** Checks each device's part against what its mounting point takes. */
  catalogue?: Catalogue
}

/** Enough for an afternoon's editing; each step shares all but the changed lists with its neighbours. */
export const defaultUndoDepth = 200

interface Step {
  site: SiteModel
  label: string
}

export type HistoryResult = { ok: true; history: EditHistory } | { ok: false; error: string; history: EditHistory }

/**
 * An immutable undo history over a site: `apply`, `undo` and `redo` return a new history and leave this one
 * as it was, which is what a store (zustand) wants, and what makes every earlier state safe to keep.
 */
export class EditHistory {
  private constructor(
    readonly site: SiteModel,
    private readonly past: readonly Step[],
    private readonly future: readonly Step[],
    private readonly options: { maxDepth: number; catalogue: Catalogue | undefined },
  ) {}

  static start(site: SiteModel, options: EditHistoryOptions = {}): EditHistory {
    const maxDepth = Math.max(1, Math.floor(options.maxDepth ?? defaultUndoDepth))
    return new EditHistory(site, [], [], { maxDepth, catalogue: options.catalogue })
  }

  get canUndo(): boolean {
    return this.past.length > 0
  }

  get canRedo(): boolean {
    return this.future.length > 0
  }

  /** What undo would take back ("move corner 3 of zone yard"), or null. */
  get undoLabel(): string | null {
    return this.past[this.past.length - 1]?.label ?? null
  }

  get redoLabel(): string | null {
    return this.future[this.future.length - 1]?.label ?? null
  }

  /** A refused edit leaves the history as it was and says why; an applied one clears redo. */
  apply(edit: SiteEdit): HistoryResult {
    const result = applySiteEdit(this.site, edit, this.options.catalogue)
    if (!result.ok) return { ok: false, error: result.error, history: this }
    const past = [...this.past, { site: this.site, label: describeEdit(edit) }].slice(-this.options.maxDepth)
    return { ok: true, history: new EditHistory(result.site, past, [], this.options) }
  }

  /**
   * Several edits as one step of undo under one label ("add 6 devices from placement"): each applies to the
   * site the one before it left, and a refusal anywhere refuses the whole batch, naming the edit and why,
   * so a batch never lands half done. An empty batch changes nothing and adds no step.
   */
  applyAll(label: string, edits: readonly SiteEdit[]): HistoryResult {
    if (edits.length === 0) return { ok: true, history: this }
    let site = this.site
    for (const [index, edit] of edits.entries()) {
      const result = applySiteEdit(site, edit, this.options.catalogue)
      if (!result.ok) {
        const which = edits.length === 1 ? describeEdit(edit) : `edit ${index + 1} of ${edits.length} (${describeEdit(edit)})`
        return { ok: false, error: `Nothing was changed: ${which} is refused. ${result.error}`, history: this }
      }
      site = result.site
    }
    const step = { site: this.site, label: label.trim() || edits.map(describeEdit).join(', ') }
    return { ok: true, history: new EditHistory(site, [...this.past, step].slice(-this.options.maxDepth), [], this.options) }
  }

  undo(): EditHistory {
    const step = this.past[this.past.length - 1]
    if (!step) return this
    return new EditHistory(step.site, this.past.slice(0, -1), [...this.future, { site: this.site, label: step.label }], this.options)
  }

  redo(): EditHistory {
    const step = this.future[this.future.length - 1]
    if (!step) return this
    return new EditHistory(step.site, [...this.past, { site: this.site, label: step.label }], this.future.slice(0, -1), this.options)
  }
}

// ---- Snapping ----

export type SnapAnchor = VertexRef | { on: 'mountingPoint'; id: string }

export type SnapResult =
  | { kind: 'vertex'; point: PointM; distanceM: number; anchor: SnapAnchor }
  | { kind: 'edge'; point: PointM; distanceM: number; edge: EdgeRef }
  | { kind: 'grid'; point: PointM; distanceM: number }
  | { kind: 'none'; point: PointM }

export interface SnapOptions {
  /** How far, in metres, a vertex or edge reaches out to catch the point. */
  toleranceM: number
  /** Spacing of the grid the point falls to when nothing else is near; no grid when absent. */
  gridM?: number
  /** The corner or mounting point being dragged: it must not catch itself, nor its own edges. */
  ignore?: SnapAnchor
}

interface Outline {
  ref: { on: 'boundary' } | { on: 'zone'; id: string } | { on: 'obstruction'; id: string }
  points: readonly PointM[]
  closed: boolean
}

function outlines(site: SiteModel): Outline[] {
  return [
    { ref: { on: 'boundary' }, points: site.boundary, closed: true },
    ...site.zones.map((z): Outline => ({ ref: { on: 'zone', id: z.id }, points: z.polygon, closed: true })),
    ...site.obstructions.map(
      (o): Outline =>
        o.shape.kind === 'segment'
          ? { ref: { on: 'obstruction', id: o.id }, points: [o.shape.a, o.shape.b], closed: false }
          : { ref: { on: 'obstruction', id: o.id }, points: o.shape.points, closed: true },
    ),
  ]
}

function sameOutline(ref: Outline['ref'], anchor: SnapAnchor | undefined): boolean {
  if (!anchor || anchor.on !== ref.on) return false
  return ref.on === 'boundary' || ('id' in anchor && 'id' in ref && anchor.id === ref.id)
}

function edgeTouches(outline: Outline, edge: number, ignore: SnapAnchor | undefined): boolean {
  if (!sameOutline(outline.ref, ignore) || !ignore || !('index' in ignore)) return false
  const next = outline.closed ? (edge + 1) % outline.points.length : edge + 1
  return ignore.index === edge || ignore.index === next
}

const distance = (a: PointM, b: PointM): number => Math.hypot(a.x - b.x, a.y - b.y)

function nearestVertex(point: PointM, site: SiteModel, ignore: SnapAnchor | undefined): { anchor: SnapAnchor; at: PointM } | null {
  let best: { anchor: SnapAnchor; at: PointM } | null = null
  const consider = (anchor: SnapAnchor, at: PointM): void => {
    if (!best || distance(point, at) < distance(point, best.at)) best = { anchor, at }
  }
  for (const outline of outlines(site)) {
    outline.points.forEach((at, index) => {
      if (!(sameOutline(outline.ref, ignore) && ignore && 'index' in ignore && ignore.index === index)) consider({ ...outline.ref, index }, at)
    })
  }
  for (const mount of site.mountingPoints) {
    if (!(ignore?.on === 'mountingPoint' && ignore.id === mount.id)) consider({ on: 'mountingPoint', id: mount.id }, mount)
  }
  return best
}

function closestOnSegment(p: PointM, a: PointM, b: PointM): PointM {
  const dx = b.x - a.x
  const dy = b.y - a.y
  const length2 = dx * dx + dy * dy
  const t = length2 === 0 ? 0 : Math.min(1, Math.max(0, ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2))
  return { x: a.x + t * dx, y: a.y + t * dy }
}

function nearestEdge(point: PointM, site: SiteModel, ignore: SnapAnchor | undefined): { edge: EdgeRef; at: PointM } | null {
  let best: { edge: EdgeRef; at: PointM } | null = null
  for (const outline of outlines(site)) {
    const count = outline.closed ? outline.points.length : outline.points.length - 1
    for (let index = 0; index < count; index++) {
      if (edgeTouches(outline, index, ignore)) continue
      const at = closestOnSegment(point, outline.points[index]!, outline.points[(index + 1) % outline.points.length]!)
      if (!best || distance(point, at) < distance(point, best.at)) best = { edge: { ...outline.ref, index }, at }
    }
  }
  return best
}

/** Grid positions in whole millimetres, so a 0.1 m grid gives 0.3 and not 0.30000000000000004. */
function gridPoint(point: PointM, gridM: number): PointM {
  const snap = (v: number): number => Math.round(Math.round(v / gridM) * gridM * 1000) / 1000
  return { x: snap(point.x), y: snap(point.y) }
}

/**
 * Where a point drawn or dragged near `point` should land: on the nearest corner (of the boundary, a zone,
 * an obstruction, or a mounting point) within the tolerance, else on the nearest edge within it, else on the
 * grid when there is one. Corners win over edges even when an edge is nearer: a corner is what a planner
 * aims at, and an edge passes next to every corner.
 */
export function snapPoint(point: PointM, site: SiteModel, options: SnapOptions): SnapResult {
  if (!finitePoint(point)) return { kind: 'none', point }
  const tolerance = Number.isFinite(options.toleranceM) && options.toleranceM > 0 ? options.toleranceM : 0
  const vertex = nearestVertex(point, site, options.ignore)
  if (vertex && distance(point, vertex.at) <= tolerance) return { kind: 'vertex', point: { x: vertex.at.x, y: vertex.at.y }, distanceM: distance(point, vertex.at), anchor: vertex.anchor }
  const edge = nearestEdge(point, site, options.ignore)
  if (edge && distance(point, edge.at) <= tolerance) return { kind: 'edge', point: edge.at, distanceM: distance(point, edge.at), edge: edge.edge }
  const gridM = options.gridM
  if (gridM !== undefined && Number.isFinite(gridM) && gridM > 0) {
    const at = gridPoint(point, gridM)
    return { kind: 'grid', point: at, distanceM: distance(point, at) }
  }
  return { kind: 'none', point }
}
