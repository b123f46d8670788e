import type { GeoJSONSource, Map as MapLibreMap, MapGeoJSONFeature, MapMouseEvent, PointLike } from 'maplibre-gl/dist/maplibre-gl-csp'
import type { PointM, SiteModel } from '../../../../shared/domain/site/model'
import { createLocalProjection } from '../../../../shared/domain/site/projection'
import { applySiteEdit, type SiteEdit, type SnapResult } from '../../../../shared/domain/site/site-edits'
import {
  dragAnchor,
  dragEdit,
  dragPosition,
  isOutlineTool,
  newMountingPoint,
  newWall,
  outlineEdit,
  snapOnMap,
  snapSite,
  snapTolerancePx,
  startDrag,
  type DragTarget,
  type OutlineTool,
} from './map-edit'
import { bodyLayers, draggableLayers, pickableLayers, planSources } from './map-plan-layers'
import { draftCollection, itemKey, selectionOfKey, vertexOfHandle, vertexPosition } from './map-plan-features'
import type { SiteSelection, SiteTool } from './plan-state'

/** A shape being drawn, as the screen tells the planner about it. */
export interface MapDraft {
  tool: 'add-wall' | OutlineTool
  corners: number
  /** Why the outline could not close (too few corners, a crossing); null while the drawing goes well. */
  problem: string | null
}

/** What the editor needs from the view that holds it. */
export interface PlanEditorHost {
  /** The model on screen (the store's, not a drag's preview); null before a plan is shown. */
  site(): SiteModel | null
  tool(): SiteTool
  selection(): SiteSelection | null
  /** Draws this model in place of the store's while a drag lasts. */
  preview(site: SiteModel): void
  /** Hands an edit to the store; answers the model on screen afterwards (unchanged when it was refused). */
  edited(edit: SiteEdit): SiteModel | null
  selected(selection: SiteSelection | null): void
  /** The shape being drawn changed (null: none any more). */
  drafting(draft: MapDraft | null): void
}

/** A press that moves less than this is a click, not a drag (MapLibre's own click tolerance). */
const clickTolerancePx = 3
/** Around the pointer, how far a small handle or icon still counts as hit. */
const hitSlopPx = 4

const emptyCollection = { type: 'FeatureCollection' as const, features: [] }

interface Draft {
  tool: MapDraft['tool']
  corners: PointM[]
  /** Where the pointer is, snapped: the next corner if clicked. */
  pointer: PointM | null
  /** The pointer is on the first corner of an outline that can close there. */
  closing: boolean
  problem: string | null
}

/**
 * Editing on the map: a press on a corner handle, a mounting point or a wall drags it, and so does a press on
 * the body of the selected zone or footprint (snapped, drawn as a preview until the button is released, then
 * one edit); a click selects. The drawing tools add a mounting point, a wall in two clicks, or a zone or an
 * obstruction outline corner by corner. Every change goes to the store as a SiteEdit; the editor keeps
 * nothing of the model itself beyond the drag or the corners in hand.
 */
export class PlanEditor {
  private drag: { target: DragTarget; start: { x: number; y: number }; moved: boolean; edit: SiteEdit | null } | null = null
  private draft: Draft | null = null
  /** The draft as the host last heard of it. */
  private told: MapDraft | null = null
  private readonly mouseUp = () => this.finishDrag()

  constructor(
    private readonly map: MapLibreMap,
    private readonly host: PlanEditorHost,
  ) {
    map.on('mousedown', this.onMouseDown)
    map.on('mousemove', this.onMouseMove)
    map.on('mouseout', this.onMouseOut)
  }

  /** A click on the map; false when it was not the editor's (nothing of the plan there, in select). */
  click(event: MapMouseEvent): boolean {
    const site = this.host.site()
    if (!site) return false
    const tool = this.host.tool()
    if (tool === 'select') {
      const hit = this.firstHit(event.point, pickableLayers)
      const selection = hit ? selectionOfKey(hit.properties.key) : null
      this.host.selected(selection)
      return selection !== null
    }
    const at = this.snap(site, this.local(site, event), undefined).point
    if (tool === 'add-mounting-point') {
      const item = newMountingPoint(site, at)
      if (this.host.edited({ op: 'add', collection: 'mountingPoints', item })?.mountingPoints.some((m) => m.id === item.id)) this.host.selected({ collection: 'mountingPoints', id: item.id })
      return true
    }
    const draft: Draft = this.draft ?? { tool, corners: [], pointer: null, closing: false, problem: null }
    const first = draft.corners[0]
    const last = draft.corners[draft.corners.length - 1]
    // A second click on the corner just placed is a slip or a double click, not an edge of no length.
    if (last && this.pixelsApart(site, last, event.point) < clickTolerancePx) return true
    if (tool === 'add-wall' && last) {
      this.dropDraft()
      const item = newWall(site, last, at)
      if (this.host.edited({ op: 'add', collection: 'obstructions', item })?.obstructions.some((o) => o.id === item.id)) this.host.selected({ collection: 'obstructions', id: item.id })
      return true
    }
    if (first && draft.corners.length >= 3 && this.pixelsApart(site, first, event.point) <= snapTolerancePx) {
      this.finishOutline()
      return true
    }
    this.draft = { ...draft, corners: [...draft.corners, at], pointer: at, closing: false, problem: null }
    this.showDraft(site)
    return true
  }

  /** Enter: closes the outline being drawn, or says why it cannot close. False when none is being drawn. */
  finishOutline(): boolean {
    const site = this.host.site()
    const draft = this.draft
    if (!site || !draft || !isOutlineTool(draft.tool)) return false
    const result = outlineEdit(site, draft.tool, draft.corners)
    if (!result.ok) {
      this.draft = { ...draft, problem: result.problem }
      this.showDraft(site)
      return true
    }
    const { collection, id } = result.selection
    // Refused by the store, which says why: the corners stay in hand to be put right.
    if (!this.host.edited(result.edit)?.[collection].some((item) => item.id === id)) return true
    this.dropDraft()
    this.host.selected(result.selection)
    return true
  }

  /** Backspace: takes back the last corner drawn. False when there is none. */
  removeLastCorner(): boolean {
    const site = this.host.site()
    const draft = this.draft
    if (!site || !draft) return false
    if (draft.corners.length <= 1) this.dropDraft()
    else {
      this.draft = { ...draft, corners: draft.corners.slice(0, -1), closing: false, problem: null }
      this.showDraft(site)
    }
    return true
  }

  /** The pointer's look where it is: null leaves it to the view (features of the import). */
  cursorAt(point: PointLike): string | null {
    if (!this.host.site()) return null
    if (this.drag?.moved) return 'grabbing'
    if (this.host.tool() !== 'select') return this.draft?.closing ? 'pointer' : 'crosshair'
    if (this.dragHit(point)) return 'move'
    return this.firstHit(point, pickableLayers) ? 'pointer' : null
  }

  /** Drops a drag or a shape half drawn (Escape, a tool change, a new plan); true when there was one. */
  cancel(): boolean {
    const dragging = this.drag?.moved
    const drawing = this.draft !== null
    this.drag = null
    window.removeEventListener('mouseup', this.mouseUp)
    this.dropDraft()
    this.clear(planSources.snap)
    const site = this.host.site()
    if (dragging && site) this.host.preview(site)
    return Boolean(dragging) || drawing
  }

  destroy(): void {
    window.removeEventListener('mouseup', this.mouseUp)
    this.map.off('mousedown', this.onMouseDown)
    this.map.off('mousemove', this.onMouseMove)
    this.map.off('mouseout', this.onMouseOut)
  }

  private readonly onMouseDown = (event: MapMouseEvent) => {
    const site = this.host.site()
    if (!site || event.originalEvent.button !== 0 || this.host.tool() !== 'select') return
    const hit = this.dragHit(event.point)
    if (!hit) return
    const pointer = this.local(site, event)
    let target: DragTarget | null = null
    if (hit.layer.id === 'site-handle') {
      const vertex = vertexOfHandle(hit.properties)
      const from = vertex && vertexPosition(site, vertex)
      if (vertex && from) target = startDrag({ kind: 'vertex', vertex }, from, pointer)
    } else if (hit.layer.id === 'site-mount') {
      const id = String(hit.properties.id)
      const mount = site.mountingPoints.find((m) => m.id === id)
      if (mount) target = startDrag({ kind: 'mountingPoint', id }, mount, pointer)
    } else {
      // A whole zone or obstruction, taken by the point pressed: that point snaps as it moves.
      const item = selectionOfKey(hit.properties.key)
      if (item?.collection === 'zones' || item?.collection === 'obstructions') target = startDrag({ kind: 'item', collection: item.collection, id: item.id }, pointer, pointer)
    }
    if (!target) return
    // The press is the editor's: the map must not pan under it.
    event.preventDefault()
    this.drag = { target, start: { x: event.point.x, y: event.point.y }, moved: false, edit: null }
    window.addEventListener('mouseup', this.mouseUp)
  }

  private readonly onMouseMove = (event: MapMouseEvent) => {
    const site = this.host.site()
    if (!site) return
    const drag = this.drag
    if (drag) {
      if (!drag.moved && Math.hypot(event.point.x - drag.start.x, event.point.y - drag.start.y) < clickTolerancePx) return
      drag.moved = true
      const snapped = this.snap(site, dragPosition(drag.target, this.local(site, event)), drag.target)
      const edit = dragEdit(drag.target, snapped.point)
      const result = applySiteEdit(site, edit)
      if (!result.ok) return
      drag.edit = edit
      this.host.preview(result.site)
      return
    }
    if (this.host.tool() === 'select') return
    const at = this.snap(site, this.local(site, event), undefined).point
    const draft = this.draft
    if (!draft) return
    const first = draft.corners[0]
    const closing = isOutlineTool(draft.tool) && draft.corners.length >= 3 && first !== undefined && this.pixelsApart(site, first, event.point) <= snapTolerancePx
    this.draft = { ...draft, pointer: at, closing }
    this.showDraft(site)
  }

  private readonly onMouseOut = () => {
    if (!this.drag) this.clear(planSources.snap)
  }

  private finishDrag(): void {
    window.removeEventListener('mouseup', this.mouseUp)
    const drag = this.drag
    this.drag = null
    this.clear(planSources.snap)
    if (!drag?.moved) return
    const site = this.host.site()
    const after = drag.edit ? this.host.edited(drag.edit) : site
    // A refused edit leaves the store's model: put it back in place of the preview.
    if (after) this.host.preview(after)
    const { target } = drag
    if (target.kind === 'mountingPoint') this.host.selected({ collection: 'mountingPoints', id: target.id })
    if (target.kind === 'item') this.host.selected({ collection: target.collection, id: target.id })
  }

  /** Snaps at the current zoom, and shows where a corner or an edge caught the point. */
  private snap(site: SiteModel, point: PointM, dragging: DragTarget | undefined): SnapResult {
    const snapped = snapOnMap(point, snapSite(site, dragging), this.map.getZoom(), dragging && dragAnchor(dragging))
    // The grid is invisible by design: only a corner or an edge is worth marking.
    const caught = snapped.kind === 'vertex' || snapped.kind === 'edge'
    this.source(planSources.snap)?.setData(caught ? { type: 'Feature', geometry: { type: 'Point', coordinates: this.lonLat(site, snapped.point) }, properties: { kind: snapped.kind } } : emptyCollection)
    return snapped
  }

  /** Draws the shape in hand and tells the host how it stands. */
  private showDraft(site: SiteModel): void {
    const draft = this.draft
    if (!draft) return
    // The contract's GeoJSON types allow a null geometry, which MapLibre skips; its own types do not say so.
    const data = draftCollection(site.origin, draft.corners, draft.pointer, { outline: isOutlineTool(draft.tool), closing: draft.closing })
    this.source(planSources.draft)?.setData(data as unknown as Parameters<GeoJSONSource['setData']>[0])
    // Told on a corner or a problem, not on every move of the pointer.
    const told = this.told
    if (told?.tool !== draft.tool || told.corners !== draft.corners.length || told.problem !== draft.problem) {
      this.told = { tool: draft.tool, corners: draft.corners.length, problem: draft.problem }
      this.host.drafting(this.told)
    }
  }

  private dropDraft(): void {
    this.draft = null
    this.clear(planSources.draft)
    if (this.told) this.host.drafting(null)
    this.told = null
  }

  private clear(source: string): void {
    this.source(source)?.setData(emptyCollection)
  }

  private source(id: string): GeoJSONSource | undefined {
    return this.map.getSource<GeoJSONSource>(id)
  }

  /** What a press would take hold of: a body only when it is the selected item's. */
  private dragHit(point: PointLike): MapGeoJSONFeature | undefined {
    const selection = this.host.selection()
    const selected = selection && itemKey(selection)
    return this.firstHit(point, draggableLayers, (hit) => !bodyLayers.includes(hit.layer.id) || hit.properties.key === selected)
  }

  /** How far apart, in screen pixels, a model point and a point of the map's canvas are. */
  private pixelsApart(site: SiteModel, point: PointM, pixel: { x: number; y: number }): number {
    const at = this.map.project(this.lonLat(site, point))
    return Math.hypot(at.x - pixel.x, at.y - pixel.y)
  }

  /** The topmost feature near the pointer (and `accept`ed), by the layers' order of preference. */
  private firstHit(point: PointLike, layers: readonly string[], accept: (hit: MapGeoJSONFeature) => boolean = () => true): MapGeoJSONFeature | undefined {
    const present = layers.filter((id) => this.map.getLayer(id))
    if (present.length === 0) return undefined
    const [x, y] = Array.isArray(point) ? point : [point.x, point.y]
    const hits = this.map.queryRenderedFeatures(
      [
        [x - hitSlopPx, y - hitSlopPx],
        [x + hitSlopPx, y + hitSlopPx],
      ],
      { layers: present },
    )
    for (const layer of present) {
      // Selected corners first: they lie on top of the boundary's when both are shown.
      const onLayer = hits.filter((hit) => hit.layer.id === layer && accept(hit))
      const found = onLayer.find((hit) => hit.properties.selected === true) ?? onLayer[0]
      if (found) return found
    }
    return undefined
  }

  private local(site: SiteModel, event: MapMouseEvent): PointM {
    return createLocalProjection(site.origin).toLocal({ lat: event.lngLat.lat, lon: event.lngLat.lng })
  }

  private lonLat(site: SiteModel, point: PointM): [number, number] {
    const { lon, lat } = createLocalProjection(site.origin).toLatLon(point)
    return [lon, lat]
  }
}
