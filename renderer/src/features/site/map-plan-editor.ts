import type { GeoJSONSource, Map as MapLibreMap, MapGeoJSONFeature, MapMouseEvent, PointLike } from 'maplibre-gl/dist/maplibre-gl-csp'
import type { PointM, SiteModel } from '../../../../shared/domain/site/model'
import { createLocalProjection } from '../../../../shared/domain/site/projection'
import { applySiteEdit, type SiteEdit, type SnapResult } from '../../../../shared/domain/site/site-edits'
import { dragAnchor, dragEdit, dragPosition, newMountingPoint, newWall, snapOnMap, startDrag, type DragTarget } from './map-edit'
import { draggableLayers, pickableLayers, planSources } from './map-plan-layers'
import { selectionOfKey, vertexOfHandle, vertexPosition } from './map-plan-features'
import type { SiteSelection, SiteTool } from './plan-state'

/** What the editor needs from the view that holds it. */
export interface PlanEditorHost {
  /** The model on screen (the store's, not a drag's preview); null before a plan is shown. */
  site(): SiteModel | null
  tool(): SiteTool
  /** Draws this model in place of the store's while a drag lasts. */
  preview(site: SiteModel): void
  /** Hands an edit to the store; answers the model on screen afterwards (unchanged when it was refused). */
  edited(edit: SiteEdit): SiteModel | null
  selected(selection: SiteSelection | null): void
}

/** A press that moves less than this is a click, not a drag (MapLibre's own click tolerance). */
const clickTolerancePx = 3
/** Around the pointer, how far a small handle or icon still counts as hit. */
const hitSlopPx = 4

const emptyCollection = { type: 'FeatureCollection' as const, features: [] }

/**
 * Editing on the map: a press on a corner handle or a mounting point drags it (snapped, drawn as a preview
 * until the button is released, then one edit), a click selects, and the drawing tools add a mounting
 * point or, in two clicks, a wall. Every change goes to the store as a SiteEdit; the editor keeps nothing
 * of the model itself beyond the drag in hand.
 */
export class PlanEditor {
  private drag: { target: DragTarget; start: { x: number; y: number }; moved: boolean; edit: SiteEdit | null } | null = null
  private wallStart: PointM | null = null
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
    if (!this.wallStart) {
      this.wallStart = at
      this.showDraft(site, at, at)
      return true
    }
    const start = this.wallStart
    const startPixel = this.map.project(this.lonLat(site, start))
    // A second click on the first end is a slip, not a wall of no length: keep waiting for the other end.
    if (Math.hypot(startPixel.x - event.point.x, startPixel.y - event.point.y) < clickTolerancePx) return true
    this.wallStart = null
    this.clear(planSources.draft)
    const item = newWall(site, start, at)
    if (this.host.edited({ op: 'add', collection: 'obstructions', item })?.obstructions.some((o) => o.id === item.id)) this.host.selected({ collection: 'obstructions', id: item.id })
    return true
  }

  /** The pointer's look where it is: null leaves it to the view (features of the import). */
  cursorAt(point: PointLike): string | null {
    if (!this.host.site()) return null
    if (this.drag?.moved) return 'grabbing'
    if (this.host.tool() !== 'select') return 'crosshair'
    if (this.firstHit(point, draggableLayers)) return 'move'
    return this.firstHit(point, pickableLayers) ? 'pointer' : null
  }

  /** Drops a drag or a wall half drawn (Escape, a tool change, a new plan). */
  cancel(): void {
    const dragging = this.drag?.moved
    this.drag = null
    this.wallStart = null
    window.removeEventListener('mouseup', this.mouseUp)
    this.clear(planSources.draft)
    this.clear(planSources.snap)
    const site = this.host.site()
    if (dragging && site) this.host.preview(site)
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
    const hit = this.firstHit(event.point, draggableLayers)
    if (!hit) return
    const pointer = this.local(site, event)
    let target: DragTarget | null = null
    if (hit.layer.id === 'site-handle') {
      const vertex = vertexOfHandle(hit.properties)
      const from = vertex && vertexPosition(site, vertex)
      if (vertex && from) target = startDrag({ kind: 'vertex', vertex }, from, pointer)
    } else {
      const id = String(hit.properties.id)
      const mount = site.mountingPoints.find((m) => m.id === id)
      if (mount) target = startDrag({ kind: 'mountingPoint', id }, mount, pointer)
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
    if (this.wallStart) this.showDraft(site, this.wallStart, at)
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
    if (drag.target.kind === 'mountingPoint') this.host.selected({ collection: 'mountingPoints', id: drag.target.id })
  }

  /** Snaps at the current zoom, and shows where a corner or an edge caught the point. */
  private snap(site: SiteModel, point: PointM, dragging: DragTarget | undefined): SnapResult {
    const snapped = snapOnMap(point, site, this.map.getZoom(), dragging && dragAnchor(dragging))
    // The grid is invisible by design: only a corner or an edge is worth marking.
    const caught = snapped.kind === 'vertex' || snapped.kind === 'edge'
    this.source(planSources.snap)?.setData(caught ? { type: 'Feature', geometry: { type: 'Point', coordinates: this.lonLat(site, snapped.point) }, properties: { kind: snapped.kind } } : emptyCollection)
    return snapped
  }

  private showDraft(site: SiteModel, a: PointM, b: PointM): void {
    this.source(planSources.draft)?.setData({ type: 'Feature', geometry: { type: 'LineString', coordinates: [this.lonLat(site, a), this.lonLat(site, b)] }, properties: {} })
  }

  private clear(source: string): void {
    this.source(source)?.setData(emptyCollection)
  }

  private source(id: string): GeoJSONSource | undefined {
    return this.map.getSource<GeoJSONSource>(id)
  }

  /** The topmost feature near the pointer, by the layers' order of preference. */
  private firstHit(point: PointLike, layers: readonly string[]): MapGeoJSONFeature | undefined {
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
      const onLayer = hits.filter((hit) => hit.layer.id === layer)
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
