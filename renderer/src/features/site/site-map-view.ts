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
  type StyleSpecification,
} from 'maplibre-gl/dist/maplibre-gl-csp'
// The worker as a file of our own origin: the console's CSP allows workers from 'self', and the desktop
// app and the headless host serve the renderer's assets alike. The CSP build never builds code from strings.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-csp-worker.js?url'
import 'maplibre-gl/dist/maplibre-gl.css'
import type { SiteVersion } from '../../../../shared/contract'
import { featureBounds, mapCollection, placedOverlays, siteBounds, type LonLatBounds } from './site-model'

setWorkerUrl(workerUrl)

/** Theme colours the map paints with, read from the page's CSS variables. */
export interface SitePalette {
  background: string
  area: string
  line: string
  point: string
  pointStroke: string
  footprint: string
  focus: string
}

export function readPalette(element: Element = document.documentElement): SitePalette {
  const style = getComputedStyle(element)
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback
  return {
    background: read('--panel-2', '#1d2630'),
    area: read('--accent', '#4aa3ff'),
    line: read('--ok', '#3ecf8e'),
    point: read('--warn', '#ffb547'),
    pointStroke: read('--bg', '#0f1419'),
    footprint: read('--muted', '#9aa5b1'),
    focus: read('--focus', '#ffd166'),
  }
}

export interface SiteMapCallbacks {
  /** The map drew `version`: `features` of its features are on screen. */
  rendered(version: number, features: number): void
  /** A feature was clicked on the map: its position in `collection.features`. */
  picked(feature: number): void
  /** Something the map could not do, in words (a broken overlay image, a lost WebGL context). */
  failed(message: string): void
}

const sourceId = 'site'
const featureLayers = ['site-fill', 'site-outline', 'site-footprint', 'site-line', 'site-point'] as const
/** Overlay images go beneath every feature layer. */
const firstFeatureLayer = featureLayers[0]
/** Larger images are scaled down to this many pixels a side: every WebGL 1 device can hold such a texture. */
const maxOverlaySide = 4096
const fitPadding = 48
const maxFitZoom = 19

const isPolygon: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]]
const isLine: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['LineString', 'MultiLineString']]]
const isPoint: ExpressionSpecification = ['in', ['geometry-type'], ['literal', ['Point', 'MultiPoint']]]
const isFootprint: ExpressionSpecification = ['==', ['get', 'kind'], 'overlay']
const focused: ExpressionSpecification = ['boolean', ['feature-state', 'focus'], false]

function layers(palette: SitePalette): LayerSpecification[] {
  const areaFilter: FilterSpecification = ['all', isPolygon, ['!', isFootprint]]
  return [
    { id: 'site-background', type: 'background', paint: { 'background-color': palette.background } },
    { id: 'site-fill', type: 'fill', source: sourceId, filter: areaFilter, paint: { 'fill-color': ['case', focused, palette.focus, palette.area], 'fill-opacity': 0.28 } },
    { id: 'site-outline', type: 'line', source: sourceId, filter: areaFilter, layout: { 'line-join': 'round' }, paint: { 'line-color': ['case', focused, palette.focus, palette.area], 'line-width': ['case', focused, 3.5, 2] } },
    // Where an overlay image lies: dashed, unfilled, so the image beneath (or its absence) shows.
    { id: 'site-footprint', type: 'line', source: sourceId, filter: ['all', isPolygon, isFootprint], paint: { 'line-color': ['case', focused, palette.focus, palette.footprint], 'line-width': ['case', focused, 3, 1.5], 'line-dasharray': [3, 2] } },
    { id: 'site-line', type: 'line', source: sourceId, filter: isLine, layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': ['case', focused, palette.focus, palette.line], 'line-width': ['case', focused, 5, 3] } },
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
      },
    },
  ]
}

/** Offline by construction: no tiles, no glyphs, no sprite; the site's own shapes and images are the map. */
function offlineStyle(palette: SitePalette): StyleSpecification {
  return {
    version: 8,
    sources: { [sourceId]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } } },
    layers: layers(palette),
  }
}

/**
 * The site map, outside React: created once on a container, then told what to show. Everything here
 * talks to MapLibre imperatively, so a re-render of the screen never touches the map's internals.
 */
export class SiteMapView {
  private readonly map: MapLibreMap
  private readonly ready: Promise<void>
  private palette: SitePalette
  private site: SiteVersion | null = null
  /** Bumped by every `show`: work for an older version stops where it notices. */
  private generation = 0
  private overlayIds: string[] = []
  private focusedFeature: number | null = null
  private destroyed = false

  constructor(
    container: HTMLElement,
    private readonly callbacks: SiteMapCallbacks,
    palette: SitePalette = readPalette(),
  ) {
    this.palette = palette
    this.map = new MapLibreMap({
      container,
      style: offlineStyle(palette),
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
    this.map.getCanvas().setAttribute('aria-label', 'Site map. Arrow keys pan, plus and minus zoom.')
    this.ready = new Promise((resolve) => {
      if (this.map.isStyleLoaded()) resolve()
      else this.map.once('load', () => resolve())
    })
    this.map.on('click', [...featureLayers], (event) => {
      const id = event.features?.[0]?.id
      if (typeof id === 'number') this.callbacks.picked(id)
    })
    for (const layer of featureLayers) {
      this.map.on('mouseenter', layer, () => (this.map.getCanvas().style.cursor = 'pointer'))
      this.map.on('mouseleave', layer, () => (this.map.getCanvas().style.cursor = ''))
    }
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
    this.source().setData(collection as unknown as Parameters<GeoJSONSource['setData']>[0])
    await this.showOverlays(site, generation)
    if (this.isStale(generation)) return
    if (!same) this.frame(siteBounds(site.collection, placedOverlays(site.overlays)), false)
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

  /** Repaints with the theme's colours (the theme can change while the map is open). */
  async setPalette(palette: SitePalette): Promise<void> {
    this.palette = palette
    await this.ready
    if (this.destroyed || this.palette !== palette) return
    for (const layer of layers(palette)) {
      for (const [name, value] of Object.entries(layer.paint ?? {})) this.map.setPaintProperty(layer.id, name, value)
    }
  }

  destroy(): void {
    this.destroyed = true
    this.generation++
    this.map.remove()
  }

  private isStale(generation: number): boolean {
    return this.destroyed || generation !== this.generation
  }

  private source(): GeoJSONSource {
    return this.map.getSource<GeoJSONSource>(sourceId)!
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
    overlays.forEach((overlay, n) => {
      const canvas = canvases[n]
      if (!canvas) return
      const id = `site-overlay-${n}`
      const [topLeft, topRight, bottomRight, bottomLeft] = overlay.corners.map((corner) => [corner[0]!, corner[1]!] as [number, number])
      this.map.addSource(id, { type: 'canvas', canvas, animate: false, coordinates: [topLeft!, topRight!, bottomRight!, bottomLeft!] })
      this.map.addLayer({ id, type: 'raster', source: id, paint: { 'raster-opacity': 0.85, 'raster-fade-duration': 0 } }, firstFeatureLayer)
      this.overlayIds.push(id)
    })
  }
}

async function overlayCanvas(dataUrl: string): Promise<HTMLCanvasElement> {
  // The core embeds what it read from the file; anything else is not ours to load.
  if (!/^data:image\/(png|jpeg|gif|webp);base64,/.test(dataUrl)) throw new Error('it is not an embedded PNG, JPEG, GIF or WebP image')
  const image = new Image()
  image.src = dataUrl
  await image.decode()
  const scale = Math.min(1, maxOverlaySide / Math.max(image.naturalWidth, image.naturalHeight))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(image.naturalWidth * scale))
  canvas.height = Math.max(1, Math.round(image.naturalHeight * scale))
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height)
  return canvas
}

