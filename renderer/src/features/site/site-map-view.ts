import {
  Map as MapLibreMap,
  NavigationControl,
  ScaleControl,
  setWorkerUrl,
  type ExpressionSpecification,
  type FilterSpecification,
  type GeoJSONSource,
  type LayerSpecification,
  type MapGeoJSONFeature,
  type PointLike,
  type StyleSpecification,
} from 'maplibre-gl/dist/maplibre-gl-csp'
// The worker as a file of our own origin: the console's CSP allows workers from 'self', and the desktop
// app and the headless host serve the renderer's assets alike. The CSP build never builds code from strings.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-csp-worker.js?url'
import 'maplibre-gl/dist/maplibre-gl.css'
import type { SiteCoverageView, SiteOutputs, SiteVersion } from '../../../../shared/contract'
import type { Catalogue, SiteModel } from '../../../../shared/domain/site/model'
import type { SiteEdit } from '../../../../shared/domain/site/site-edits'
import { drawIcon, parseIconName } from './map-icons'
import { readPalette, type SitePalette } from './map-palette'
import { PlanEditor, type MapDraft } from './map-plan-editor'
import { blindSpotCollection, frameBounds, itemKey, planCollections, planOfOtherImport, type FramedSite, type PlanCollections } from './map-plan-features'
import { blindSpotFilter, layerGroups, planLayers, planSources, planSourceSpecs, selectedFilter, type PlanSource } from './map-plan-layers'
import { base64ToBytes } from '../bench/base64'
import { coverageColours, maxRasterSide, paintRaster, radioColours, type Rgba } from './map-raster'
import type { SiteLayerName, SiteSelection, SiteTool } from './plan-state'
import { featureBounds, mapCollection, placedOverlays, siteBounds, type LonLatBounds } from './site-model'

setWorkerUrl(workerUrl)

export interface SiteMapCallbacks {
  /** The map drew `version`: `features` of its features are on screen. */
  rendered(version: number, features: number): void
  /** A feature was clicked on the map: its position in `collection.features`. */
  picked(feature: number): void
  /** Something the map could not do, in words (a broken overlay image, a lost WebGL context). */
  failed(message: string): void
  /** The map drew a revision of the plan (null: no plan any more), with how many items of each layer. */
  planRendered(drawn: PlanDrawn | null): void
  /** The map drew a coverage view (null: none any more). */
  coverageRendered(drawn: CoverageDrawn | null): void
  /** An item of the plan was clicked (null: a click on nothing of the plan). */
  selected(selection: SiteSelection | null): void
  /** An edit made on the map; answers the model on screen afterwards (unchanged when it was refused). */
  edited(edit: SiteEdit): SiteModel | null
  /** The shape being drawn on the map changed: its corners so far, or why it cannot close (null: none any more). */
  drafting(draft: MapDraft | null): void
}

/** The plan as the map draws it: the model being edited, and what lends its devices a kind and links. */
export interface PlanOnMap {
  revision: number
  /** The import version the plan was built from; null once edited, or opened from a file. */
  sourceVersion: number | null
  site: SiteModel
  catalogue: Catalogue | null
  outputs: SiteOutputs | null
}

export interface PlanDrawn {
  revision: number
  zones: number
  obstructions: number
  mountingPoints: number
  devices: number
  links: number
}

export interface CoverageDrawn {
  revision: number
  /** Cells of the coverage raster with a class (not outside the problem). */
  cells: number
  /** Cells a gateway reaches; 0 without gateways. */
  radioCells: number
  blindSpots: number
}

const sourceId = 'site'
const featureLayers = ['site-fill', 'site-outline', 'site-footprint', 'site-line', 'site-point'] as const
const firstFeatureLayer = featureLayers[0]
const coverageLayer = 'site-coverage'
const radioLayer = 'site-radio'
const fitPadding = 48
const maxFitZoom = 19

const isPolygon: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]]
const isLine: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]]
const isPoint: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Point', 'MultiPoint']]]
const isFootprint: ExpressionSpecification = ['==', ['get', 'kind'], 'overlay']
const focused: ExpressionSpecification = ['boolean', ['feature-state', 'focus'], false]

/**
 * The imported features. Once a plan is drawn, the model made from them stands in their place: they are
 * kept (clear, yet still clickable) so a row of the import report still flies to its feature and marks it,
 * and a click where the plan has nothing marks the feature there in the report.
 */
function featureLayerSpecs(palette: SitePalette, planShown: boolean): LayerSpecification[] {
  const areaFilter: FilterSpecification = ['all', isPolygon, ['!', isFootprint]]
  const shown = (opacity: number): ExpressionSpecification | number => (planShown ? ['case', focused, opacity, 0] : opacity)
  return [
    { id: 'site-fill', type: 'fill', source: sourceId, filter: areaFilter, paint: { 'fill-color': ['case', focused, palette.focus, palette.area], 'fill-opacity': shown(0.28) } },
    { id: 'site-outline', type: 'line', source: sourceId, filter: areaFilter, layout: { 'line-join': 'round' }, paint: { 'line-color': ['case', focused, palette.focus, palette.area], 'line-width': ['case', focused, 3.5, 2], 'line-opacity': shown(1) } },
    // Where an overlay image lies: dashed, unfilled, so the image beneath (or its absence) shows.
    { id: 'site-footprint', type: 'line', source: sourceId, filter: ['all', isPolygon, isFootprint], paint: { 'line-color': ['case', focused, palette.focus, palette.footprint], 'line-width': ['case', focused, 3, 1.5], 'line-dasharray': [3, 2] } },
    { id: 'site-line', type: 'line', source: sourceId, filter: isLine, layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': ['case', focused, palette.focus, palette.line], 'line-width': ['case', focused, 5, 3], 'line-opacity': shown(1) } },
    {
      id: 'site-point',
      type: 'circle',
      source: sourceId,
      filter: isPoint,
      paint: {
        'circle-radius': ['case', focused, 9, 6],
        'circle-color': palette.point,
        'circle-stroke-color': ['case', focused, palette.focus, palette.pointStroke],
        'circle-stroke-width': ['case', focused, 3, 2],
        'circle-opacity': shown(1),
        'circle-stroke-opacity': shown(1),
      },
    },
  ]
}

/** Offline by construction: no tiles, no glyphs, no sprite; the site's own shapes and images are the map. */
function offlineStyle(palette: SitePalette, iconGeneration: number): StyleSpecification {
  return {
    version: 8,
    sources: { [sourceId]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } }, ...planSourceSpecs() },
    layers: [{ id: 'site-background', type: 'background', paint: { 'background-color': palette.background } }, ...featureLayerSpecs(palette, false), ...planLayers(palette, iconGeneration)],
  }
}

/** Layer ids of every selection highlight, by the collection they highlight. */
const selectionLayers: Record<SiteSelection['collection'], string> = {
  zones: 'site-zone-selected',
  obstructions: 'site-obstruction-selected',
  mountingPoints: 'site-mount-selected',
  devices: 'site-device-selected',
}

/**
 * The site map, outside React: created once on a container, then told what to show. Everything here
 * talks to MapLibre imperatively, so a re-render of the screen never touches the map's internals.
 */
export class SiteMapView {
  private readonly map: MapLibreMap
  private readonly ready: Promise<void>
  private readonly editor: PlanEditor
  private palette: SitePalette
  /** Names the plan's pictures; bumped by a palette change so the map asks for repainted ones. */
  private iconGeneration = 0
  private site: SiteVersion | null = null
  /** Bumped by every `show`: work for an older version stops where it notices. */
  private generation = 0
  private overlayIds: string[] = []
  private focusedFeature: number | null = null
  private plan: PlanOnMap | null = null
  /** A drag's model, drawn in place of the plan's until the store has the edit. */
  private previewSite: SiteModel | null = null
  private selection: SiteSelection | null = null
  private tool: SiteTool = 'select'
  private layers: Record<SiteLayerName, boolean> | null = null
  private coverage: SiteCoverageView | null = null
  /** The plan's collections as last drawn, for bringing a selected item into view. */
  private drawn: PlanCollections | null = null
  /** The item last selected on the map itself: that one is in view already. */
  private pickedKey: string | null = null
  /** The import version and plan origin the map was last framed on: a new site is framed, an edit is not. */
  private framedKey: string | null = null
  private destroyed = false

  constructor(
    container: HTMLElement,
    private readonly callbacks: SiteMapCallbacks,
    palette: SitePalette = readPalette(),
  ) {
    this.palette = palette
    this.map = new MapLibreMap({
      container,
      style: offlineStyle(palette, this.iconGeneration),
      center: [0, 0],
      zoom: 1,
      attributionControl: false,
      renderWorldCopies: false,
      // A site plan reads north-up; turning it by accident helps nobody.
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      maxPitch: 0,
    })
    this.map.touchZoomRotate.disableRotation()
    this.map.keyboard.disableRotation()
    this.map.addControl(new NavigationControl({ showCompass: false }), 'top-right')
    this.map.addControl(new ScaleControl({ unit: 'metric', maxWidth: 140 }), 'bottom-left')
    this.map
      .getCanvas()
      .setAttribute(
        'aria-label',
        'Site map. Arrow keys pan, plus and minus zoom. V selects, M adds a mounting point, W a wall, Z a zone and O an obstruction outline: Enter closes an outline, Backspace takes its last corner back. Delete removes the selection, Escape stops.',
      )
    this.ready = new Promise((resolve) => {
      if (this.map.isStyleLoaded()) resolve()
      else this.map.once('load', () => resolve())
    })
    this.editor = new PlanEditor(this.map, {
      site: () => this.plan?.site ?? null,
      tool: () => this.tool,
      selection: () => this.selection,
      preview: (site) => {
        this.previewSite = site === this.plan?.site ? null : site
        this.drawPlan(false)
      },
      edited: (edit) => {
        const after = this.callbacks.edited(edit)
        if (after && this.plan) this.plan = { ...this.plan, site: after }
        return after
      },
      selected: (selection) => {
        this.pickedKey = selection && itemKey(selection)
        this.callbacks.selected(selection)
      },
      drafting: (draft) => this.callbacks.drafting(draft),
    })
    this.map.on('click', (event) => {
      if (this.editor.click(event)) return
      const id = this.rawFeatureAt(event.point)?.id
      if (typeof id === 'number') this.callbacks.picked(id)
    })
    this.map.on('mousemove', (event) => {
      this.map.getCanvas().style.cursor = this.editor.cursorAt(event.point) ?? (!this.plan && this.rawFeatureAt(event.point) ? 'pointer' : '')
    })
    // The plan's symbols and labels are drawn the first time a layer needs them (map-icons.ts).
    this.map.on('styleimagemissing', (event) => {
      const icon = drawIcon(event.id, this.palette)
      if (icon && !this.map.hasImage(event.id)) this.map.addImage(event.id, icon.image, { pixelRatio: icon.pixelRatio })
    })
    this.map.on('error', (event) => this.callbacks.failed(event.error?.message ?? 'The map reported an error.'))
  }

  /** Draws one version of the site and frames it; resolves once it is drawn (or replaced by a newer one). */
  async show(site: SiteVersion): Promise<void> {
    const generation = ++this.generation
    const same = this.site?.version === site.version
    this.site = site
    await this.ready
    if (this.isStale(generation)) return
    if (!same) this.focusedFeature = null
    const collection = mapCollection(site)
    // The contract's GeoJSON types allow a null geometry, which MapLibre skips; its own types do not say so.
    this.source(sourceId).setData(collection as unknown as Parameters<GeoJSONSource['setData']>[0])
    await this.showOverlays(site, generation)
    if (this.isStale(generation)) return
    this.frameSite()
    this.reportFeatures()
  }

  /**
   * Once the map is idle, says how many imported features it draws in view, or keeps there to be clicked under
   * a plan: the framing is the same whichever came first (frameSite), so the count is too.
   */
  private reportFeatures(): void {
    const site = this.site
    if (!site) return
    const generation = this.generation
    this.map.once('idle', () => {
      if (this.isStale(generation)) return
      this.callbacks.rendered(site.version, this.renderedFeatureCount())
    })
    this.map.triggerRepaint()
  }

  /** Flies to one feature (its position in `collection.features`) and marks it. */
  async focus(feature: number): Promise<void> {
    await this.ready
    const target = this.site?.collection.features[feature]
    if (!target || this.destroyed) return
    if (this.focusedFeature !== null) this.map.setFeatureState({ source: sourceId, id: this.focusedFeature }, { focus: false })
    this.focusedFeature = feature
    this.map.setFeatureState({ source: sourceId, id: feature }, { focus: true })
    this.frame(featureBounds(target), true)
  }

  /** Draws the plan being edited (null: none); a plan of another site is framed, an edit is not. */
  async showPlan(plan: PlanOnMap | null): Promise<void> {
    await this.ready
    if (this.destroyed) return
    const before = this.plan
    // Corners drawn in the local metres of another site (or of none) would land in the wrong place.
    if (before && (!plan || plan.site.origin.lat !== before.site.origin.lat || plan.site.origin.lon !== before.site.origin.lon)) this.editor.cancel()
    const hadPlan = before !== null
    this.plan = plan
    this.previewSite = null
    if (hadPlan !== (plan !== null)) this.applyFeaturePaint()
    this.reportFeatures()
    this.drawPlan(true)
    this.frameSite()
  }

  /** Draws a coverage view's rasters and blind spots (null: takes them away). */
  async showCoverage(coverage: SiteCoverageView | null): Promise<void> {
    this.coverage = coverage
    await this.ready
    if (this.destroyed || this.coverage !== coverage) return
    for (const id of [radioLayer, coverageLayer]) {
      if (this.map.getLayer(id)) this.map.removeLayer(id)
      if (this.map.getSource(id)) this.map.removeSource(id)
    }
    this.source(planSources.blindSpots).setData(coverage ? blindSpotCollection(coverage) : { type: 'FeatureCollection', features: [] })
    if (!coverage) {
      this.callbacks.coverageRendered(null)
      return
    }
    let cells = 0
    let radioCells = 0
    try {
      cells = this.addRaster(coverageLayer, base64ToBytes(coverage.cells), coverage, coverageColours())
      if (coverage.radio) radioCells = this.addRaster(radioLayer, base64ToBytes(coverage.radio), coverage, radioColours({ bad: this.palette.bad, warn: this.palette.point, ok: this.palette.line }))
    } catch (error) {
      this.callbacks.failed(`The coverage could not be drawn: ${error instanceof Error ? error.message : String(error)}`)
    }
    this.applyLayers()
    this.map.once('idle', () => {
      if (this.destroyed || this.coverage !== coverage) return
      this.callbacks.coverageRendered({ revision: coverage.revision, cells, radioCells, blindSpots: coverage.blindSpots.length })
    })
    this.map.triggerRepaint()
  }

  /** Shows and hides layers as the legend's switches say. */
  async setLayers(layers: Record<SiteLayerName, boolean>): Promise<void> {
    this.layers = layers
    await this.ready
    if (!this.destroyed) this.applyLayers()
  }

  async setSelection(selection: SiteSelection | null): Promise<void> {
    this.selection = selection
    await this.ready
    if (this.destroyed || this.selection !== selection) return
    for (const [collection, layer] of Object.entries(selectionLayers)) {
      this.map.setFilter(layer, selectedFilter(selection?.collection === collection ? itemKey(selection) : null))
    }
    // The selected outline's corners become handles.
    this.drawPlan(false)
    // Chosen from a list beside the map: bring it into view if it is off screen.
    if (selection && itemKey(selection) !== this.pickedKey) this.reveal(itemKey(selection))
    this.pickedKey = null
  }

  /** Marks one blind spot of the coverage on screen (null: none) and flies to it. */
  async focusBlindSpot(id: number | null): Promise<void> {
    await this.ready
    if (this.destroyed) return
    this.map.setFilter('site-blind-focus', blindSpotFilter(id))
    const spot = id === null ? undefined : this.coverage?.blindSpots.find((candidate) => candidate.id === id)
    if (spot) this.frame(siteBounds(blindSpotCollection({ blindSpots: [spot] })), true)
  }

  setTool(tool: SiteTool): void {
    this.tool = tool
    this.editor.cancel()
    // Two clicks of a wall must not zoom in.
    if (tool === 'select') this.map.doubleClickZoom.enable()
    else this.map.doubleClickZoom.disable()
    this.map.getCanvas().style.cursor = tool === 'select' ? '' : 'crosshair'
  }

  /** Escape: drops a drag or a shape half drawn; false when there was none. */
  cancelGesture(): boolean {
    return this.editor.cancel()
  }

  /** Enter: closes the outline being drawn (or says why it cannot); false when none is being drawn. */
  finishOutline(): boolean {
    return this.editor.finishOutline()
  }

  /** Backspace: takes back the last corner drawn; false when there is none. */
  removeLastCorner(): boolean {
    return this.editor.removeLastCorner()
  }

  /** Repaints with the theme's colours (the theme can change while the map is open). */
  async setPalette(palette: SitePalette): Promise<void> {
    this.palette = palette
    await this.ready
    if (this.destroyed || this.palette !== palette) return
    const generation = ++this.iconGeneration
    this.applyFeaturePaint()
    for (const layer of planLayers(palette, generation)) {
      for (const [name, value] of Object.entries(layer.paint ?? {})) this.map.setPaintProperty(layer.id, name, value)
      if (layer.type === 'symbol' && layer.layout?.['icon-image']) this.map.setLayoutProperty(layer.id, 'icon-image', layer.layout['icon-image'])
    }
    this.map.setPaintProperty('site-background', 'background-color', palette.background)
    // The old pictures go once the map has laid out the new ones.
    this.map.once('idle', () => {
      if (this.destroyed) return
      for (const id of this.map.listImages()) {
        const icon = parseIconName(id)
        if (icon && icon.generation < this.iconGeneration) this.map.removeImage(id)
      }
    })
    if (this.coverage) void this.showCoverage(this.coverage)
  }

  destroy(): void {
    this.destroyed = true
    this.generation++
    this.editor.destroy()
    this.map.remove()
  }

  private isStale(generation: number): boolean {
    return this.destroyed || generation !== this.generation
  }

  private source(id: string): GeoJSONSource {
    return this.map.getSource<GeoJSONSource>(id)!
  }

  private applyFeaturePaint(): void {
    for (const layer of featureLayerSpecs(this.palette, this.plan !== null)) {
      for (const [name, value] of Object.entries(layer.paint ?? {})) this.map.setPaintProperty(layer.id, name, value)
    }
  }

  /**
   * Puts the plan (or a drag's preview of it) into the plan's sources. `report` says the map should tell,
   * once drawn, what it drew: not for previews, which are many a second and never the saved state.
   */
  private drawPlan(report: boolean): PlanCollections | null {
    const plan = this.plan
    const site = this.previewSite ?? plan?.site
    if (!plan || !site) {
      for (const id of Object.values(planSources)) if (id !== planSources.blindSpots) this.source(id).setData({ type: 'FeatureCollection', features: [] })
      if (report) this.callbacks.planRendered(null)
      return null
    }
    const collections = planCollections(site, { catalogue: plan.catalogue, outputs: plan.outputs, selection: this.selection })
    this.drawn = collections
    for (const [name, data] of Object.entries(collections) as [PlanSource, PlanCollections[keyof PlanCollections]][]) {
      // The contract's GeoJSON types allow a null geometry, which MapLibre skips; its own types do not say so.
      this.source(planSources[name]).setData(data as unknown as Parameters<GeoJSONSource['setData']>[0])
    }
    if (report) {
      const drawn: PlanDrawn = {
        revision: plan.revision,
        zones: collections.zones.features.length,
        obstructions: collections.obstructions.features.length,
        mountingPoints: collections.mountingPoints.features.length,
        devices: collections.devices.features.length,
        links: collections.links.features.length,
      }
      this.map.once('idle', () => {
        if (!this.destroyed && this.plan === plan) this.callbacks.planRendered(drawn)
      })
      this.map.triggerRepaint()
    }
    return collections
  }

  /** Paints one raster of the coverage view into a canvas source beneath the plan; answers its painted cells. */
  private addRaster(id: string, values: Uint8Array, coverage: SiteCoverageView, table: readonly Rgba[]): number {
    const painted = paintRaster(values, coverage.grid, table)
    const canvas = document.createElement('canvas')
    canvas.width = painted.width
    canvas.height = painted.height
    canvas.getContext('2d')!.putImageData(new ImageData(painted.rgba, painted.width, painted.height), 0, 0)
    const [topLeft, topRight, bottomRight, bottomLeft] = coverage.grid.corners.map((corner) => [corner[0]!, corner[1]!] as [number, number])
    this.map.addSource(id, { type: 'canvas', canvas, animate: false, coordinates: [topLeft!, topRight!, bottomRight!, bottomLeft!] })
    // Cells are squares: drawn crisp, not blurred into each other.
    this.map.addLayer({ id, type: 'raster', source: id, paint: { 'raster-opacity': 1, 'raster-fade-duration': 0, 'raster-resampling': 'nearest' } }, firstFeatureLayer)
    return painted.painted
  }

  private applyLayers(): void {
    const layers = this.layers
    if (!layers) return
    const show = (id: string, visible: boolean) => {
      if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none')
    }
    for (const [name, ids] of Object.entries(layerGroups) as [keyof typeof layerGroups, readonly string[]][]) for (const id of ids) show(id, layers[name])
    show(coverageLayer, layers.coverage)
    show(radioLayer, layers.radio)
    for (const id of this.overlayIds) show(id, layers.overlay)
  }

  private reveal(key: string): void {
    const drawn = this.drawn
    const item = drawn && [...drawn.devices.features, ...drawn.mountingPoints.features, ...drawn.obstructions.features, ...drawn.zones.features].find((f) => f.properties?.key === key)
    const bounds = item && featureBounds(item)
    if (!bounds) return
    const centre: [number, number] = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    if (!this.map.getBounds().contains(centre)) this.map.easeTo({ center: centre })
  }

  private rawFeatureAt(point: PointLike): MapGeoJSONFeature | undefined {
    return this.map.queryRenderedFeatures(point, { layers: [...featureLayers] })[0]
  }

  /**
   * Frames the site when another one is shown: a new import, a plan of another place (an edit keeps the
   * plan's origin), or the plan built from the import on screen taking over from the one before it. What is
   * framed depends on the import and the plan alone (frameBounds), never on which reached the map first.
   */
  private frameSite(): void {
    const { site, plan } = this
    const key = `${site?.version ?? ''}|${plan ? `${plan.site.origin.lat},${plan.site.origin.lon}` : ''}|${planOfOtherImport({ imported: site, plan })}`
    if (key === this.framedKey) return
    this.framedKey = key
    const drawn = plan && this.drawn
    const framed: FramedSite = {
      imported: site && { version: site.version, bounds: siteBounds(site.collection, placedOverlays(site.overlays)) },
      plan: plan && { sourceVersion: plan.sourceVersion, bounds: drawn && siteBounds({ type: 'FeatureCollection', features: [...drawn.boundary.features, ...drawn.zones.features, ...drawn.mountingPoints.features] }) },
    }
    this.frame(frameBounds(framed), false)
  }

  private frame(bounds: LonLatBounds | null, animate: boolean): void {
    if (!bounds) return
    const [[west, south], [east, north]] = bounds
    if (west === east && south === north) {
      // One point: there is no box to fit, so go close enough to see what is around it.
      const options = { center: [west, south] as [number, number], zoom: Math.max(this.map.getZoom(), 17) }
      if (animate) this.map.flyTo(options)
      else this.map.jumpTo(options)
      return
    }
    this.map.fitBounds(bounds, { padding: fitPadding, maxZoom: maxFitZoom, animate, ...(animate ? { duration: 800 } : {}) })
  }

  /** Distinct features drawn in the viewport, by id: a multi-part feature counts once. */
  private renderedFeatureCount(): number {
    const drawn = this.map.queryRenderedFeatures({ layers: [...featureLayers] })
    return new Set(drawn.map((feature: MapGeoJSONFeature) => feature.id)).size
  }

  /**
   * Each placed, embedded image as a canvas source beneath the features. A canvas and not an image
   * source: MapLibre fetches an image source's URL, and the console's CSP lets fetch reach 'self' only,
   * not data: URLs. Decoding the data URL into a canvas goes through img-src, which allows data:.
   */
  private async showOverlays(site: SiteVersion, generation: number): Promise<void> {
    for (const id of this.overlayIds) {
      if (this.map.getLayer(id)) this.map.removeLayer(id)
      if (this.map.getSource(id)) this.map.removeSource(id)
    }
    this.overlayIds = []
    const overlays = placedOverlays(site.overlays)
    const canvases = await Promise.all(
      overlays.map((overlay) =>
        overlayCanvas(overlay.image.dataUrl).catch((error: unknown) => {
          this.callbacks.failed(`The image of ${overlay.name ?? `overlay ${overlay.index}`} could not be drawn: ${error instanceof Error ? error.message : String(error)}`)
          return null
        }),
      ),
    )
    if (this.isStale(generation)) return
    // Beneath the coverage when there is one: the survey image is the ground everything else lies on.
    const beneath = this.map.getLayer(coverageLayer) ? coverageLayer : firstFeatureLayer
    overlays.forEach((overlay, n) => {
      const canvas = canvases[n]
      if (!canvas) return
      const id = `site-overlay-${n}`
      const [topLeft, topRight, bottomRight, bottomLeft] = overlay.corners.map((corner) => [corner[0]!, corner[1]!] as [number, number])
      this.map.addSource(id, { type: 'canvas', canvas, animate: false, coordinates: [topLeft!, topRight!, bottomRight!, bottomLeft!] })
      this.map.addLayer({ id, type: 'raster', source: id, paint: { 'raster-opacity': 0.85, 'raster-fade-duration': 0 } }, beneath)
      this.overlayIds.push(id)
    })
    this.applyLayers()
  }
}

async function overlayCanvas(dataUrl: string): Promise<HTMLCanvasElement> {
  // The core embeds what it read from the file; anything else is not ours to load.
  if (!/^data:image\/(png|jpeg|gif|webp);base64,/.test(dataUrl)) throw new Error('it is not an embedded PNG, JPEG, GIF or WebP image')
  const image = new Image()
  image.src = dataUrl
  await image.decode()
  const scale = Math.min(1, maxRasterSide / Math.max(image.naturalWidth, image.naturalHeight))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(image.naturalWidth * scale))
  canvas.height = Math.max(1, Math.round(image.naturalHeight * scale))
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height)
  return canvas
}
