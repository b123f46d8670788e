import type { SiteOverlayView, SiteVersion } from '../../../../shared/contract'
import { classifyGeometry } from '../../../../shared/domain/site/import-report'

// Named from the contract's own result type, so the screen depends on what the core promises to send
// and on nothing the core's importer keeps to itself.
export type FeatureCollection = SiteVersion['collection']
export type Feature = FeatureCollection['features'][number]
export type Geometry = NonNullable<Feature['geometry']>
type Position = Extract<Geometry, { type: 'Point' }>['coordinates']
export type FeatureKind = SiteVersion['report']['imported'][number]['kind']
export type SiteFileFormat = SiteVersion['report']['format']

/** West, south, east, north in degrees: the box `fitBounds` takes, as [[west, south], [east, north]]. */
export type LonLatBounds = [[number, number], [number, number]]

/**
 * The smallest box around every coordinate of the collection (and of the overlays' corners, which belong
 * on screen as much as the features do). Null when there is nothing with a finite coordinate to frame.
 * Works on the raw arrays so a site with thousands of vertices costs one pass, outside any render.
 */
export function siteBounds(collection: FeatureCollection, overlays: readonly Pick<SiteOverlayView, 'corners'>[] = []): LonLatBounds | null {
  const box = emptyBox()
  for (const feature of collection.features) addGeometry(box, feature.geometry)
  for (const overlay of overlays) for (const corner of overlay.corners ?? []) addPosition(box, corner)
  return boxToBounds(box)
}

/** The box around one feature, for flying the map to it. */
export function featureBounds(feature: Feature): LonLatBounds | null {
  const box = emptyBox()
  addGeometry(box, feature.geometry)
  return boxToBounds(box)
}

interface Box {
  west: number
  south: number
  east: number
  north: number
}

function emptyBox(): Box {
  return { west: Infinity, south: Infinity, east: -Infinity, north: -Infinity }
}

function boxToBounds(box: Box): LonLatBounds | null {
  return box.west > box.east ? null : [
    [box.west, box.south],
    [box.east, box.north],
  ]
}

function addPosition(box: Box, position: Position): void {
  const lon = position[0]
  const lat = position[1]
  // The core refuses such coordinates; a bad one here must not throw the map to NaN.
  if (lon === undefined || lat === undefined || !Number.isFinite(lon) || !Number.isFinite(lat)) return
  if (lon < box.west) box.west = lon
  if (lon > box.east) box.east = lon
  if (lat < box.south) box.south = lat
  if (lat > box.north) box.north = lat
}

function addGeometry(box: Box, geometry: Geometry | null): void {
  if (!geometry) return
  switch (geometry.type) {
    case 'Point':
      addPosition(box, geometry.coordinates)
      return
    case 'MultiPoint':
    case 'LineString':
      for (const position of geometry.coordinates) addPosition(box, position)
      return
    case 'MultiLineString':
    case 'Polygon':
      for (const line of geometry.coordinates) for (const position of line) addPosition(box, position)
      return
    case 'MultiPolygon':
      for (const polygon of geometry.coordinates) for (const ring of polygon) for (const position of ring) addPosition(box, position)
      return
    case 'GeometryCollection':
      for (const part of geometry.geometries) addGeometry(box, part)
      return
  }
}

/** What the map draws for one feature: its place in the collection as the id, and the kind for styling. */
export interface MapFeatureProperties {
  index: number
  kind: FeatureKind
}

/**
 * The collection as the map gets it: each feature's id is its position in `collection.features` (which is
 * also its row in `report.imported`), so the side panel and the map can point at the same feature, and
 * the KML's own properties (descriptions, styles, extended data) stay out of the map's worker.
 */
export function mapCollection(site: Pick<SiteVersion, 'collection' | 'report'>): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: site.collection.features.map((feature, index) => ({
      type: 'Feature',
      id: index,
      geometry: feature.geometry,
      properties: { index, kind: site.report.imported[index]?.kind ?? (feature.geometry ? classifyGeometry(feature.geometry) : 'mixed') } satisfies MapFeatureProperties,
    })),
  }
}

/** Overlays the map can draw: an image that came with the file and whose corners are known. */
export function placedOverlays(overlays: readonly SiteOverlayView[]): (SiteOverlayView & { image: NonNullable<SiteOverlayView['image']>; corners: NonNullable<SiteOverlayView['corners']> })[] {
  return overlays.filter((overlay): overlay is SiteOverlayView & { image: NonNullable<SiteOverlayView['image']>; corners: NonNullable<SiteOverlayView['corners']> } => overlay.image !== null && overlay.corners !== null)
}

/** Why an overlay is, or is not, on the map, in a sentence for the side panel. */
export function overlayStatus(overlay: SiteOverlayView): string {
  if (overlay.image && overlay.corners) return `on the map, ${overlay.image.width} × ${overlay.image.height} px`
  if (!overlay.image) return overlay.href ? `not shown: the image is only linked (${overlay.href}), not in the file` : 'not shown: the file has no image for it'
  return 'not shown yet: the image has no place on the map (placing it by two points comes later)'
}

export const formatLabels: Record<SiteFileFormat, string> = {
  kml: 'KML',
  kmz: 'KMZ',
  geojson: 'GeoJSON',
  image: 'Site image',
}

export const kindLabels: Record<FeatureKind, string> = {
  point: 'point',
  line: 'line',
  polygon: 'area',
  mixed: 'several shapes',
  overlay: 'image footprint',
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

/** The largest file the browser can send: the contract takes 30 MiB of base64 text. */
export const maxSiteFileBytes = Math.floor((30 * 1024 * 1024) / 4) * 3

export const siteFileAccept = '.kml,.kmz,.geojson,.json,.png,.jpg,.jpeg,.webp'
