import type { SiteCoverageView, SiteOutputs } from '../../../../shared/contract'
import type { Feature, FeatureCollection, Position } from '../../../../shared/domain/site/import-report'
import { findPart, type Catalogue, type DeviceKind, type PointM, type SiteModel } from '../../../../shared/domain/site/model'
import { defaultLinkMarginDb } from '../../../../shared/domain/site/network'
import { createLocalProjection, type LocalProjection } from '../../../../shared/domain/site/projection'
import type { VertexRef } from '../../../../shared/domain/site/site-edits'
import type { SiteSelection } from './plan-state'
import type { LonLatBounds } from './site-model'

// The site model as the map draws it: one GeoJSON collection per layer, in lon/lat, each feature carrying
// what its layer styles by (a zone's kind, a wall's material and loss, a link's margin) and a `key` that
// names the model item, so a click on the map and the selection in the store speak of the same thing.

/** `zones:yard`: a model item's collection and id in one string, for map filters and properties. */
export type ItemKey = `${SiteSelection['collection']}:${string}`

export function itemKey(selection: SiteSelection): ItemKey {
  return `${selection.collection}:${selection.id}`
}

export function selectionOfKey(key: unknown): SiteSelection | null {
  if (typeof key !== 'string') return null
  const colon = key.indexOf(':')
  const collection = key.slice(0, colon)
  const id = key.slice(colon + 1)
  if (colon < 1 || !id) return null
  return collection === 'zones' || collection === 'obstructions' || collection === 'mountingPoints' || collection === 'devices' ? { collection, id } : null
}

/** How a device is drawn: its part's kind, or `unknown` for a part missing from the catalogue. */
export type DrawnDeviceKind = DeviceKind | 'unknown'

/** A link's margin in words the legend uses: under the required margin, just over it, or comfortable. */
export type LinkQuality = 'weak' | 'thin' | 'good'

/** Margin above the required one that still counts as thin: one wall more and the link may go. */
export const thinLinkHeadroomDb = 6

export function linkQuality(marginDb: number): LinkQuality {
  if (marginDb < defaultLinkMarginDb) return 'weak'
  return marginDb < defaultLinkMarginDb + thinLinkHeadroomDb ? 'thin' : 'good'
}

export interface PlanCollections {
  /** The boundary as a closed line: coverage is asked for inside it. */
  boundary: FeatureCollection
  zones: FeatureCollection
  obstructions: FeatureCollection
  mountingPoints: FeatureCollection
  devices: FeatureCollection
  links: FeatureCollection
  /** Draggable corners: the boundary's, and the selected zone's or obstruction's. */
  handles: FeatureCollection
}

export interface PlanDrawingInputs {
  catalogue: Catalogue | null
  outputs: SiteOutputs | null
  selection: SiteSelection | null
}

const feature = (geometry: Feature['geometry'], properties: Record<string, unknown>): Feature => ({ type: 'Feature', geometry, properties })
const collection = (features: Feature[]): FeatureCollection => ({ type: 'FeatureCollection', features })

function lonLat(projection: LocalProjection, point: PointM): Position {
  const { lon, lat } = projection.toLatLon(point)
  return [lon, lat]
}

/** A ring in local metres as GeoJSON wants it: lon/lat, first position repeated at the end. */
function closedRing(projection: LocalProjection, ring: readonly PointM[]): Position[] {
  const positions = ring.map((p) => lonLat(projection, p))
  if (positions.length > 0) positions.push(positions[0]!)
  return positions
}

/** Every layer's features for one model; the inputs beside it only add kinds, links and handles. */
export function planCollections(site: SiteModel, inputs: PlanDrawingInputs): PlanCollections {
  const projection = createLocalProjection(site.origin)
  const occupied = new Set(site.devices.map((device) => device.mountingPointId))
  const mounts = new Map(site.mountingPoints.map((mount) => [mount.id, mount]))
  const outputRows = new Map(inputs.outputs?.devices.map((row) => [row.id, row]) ?? [])

  const zones = site.zones.map((zone) =>
    feature({ type: 'Polygon', coordinates: [closedRing(projection, zone.polygon)] }, { key: itemKey({ collection: 'zones', id: zone.id }), id: zone.id, name: zone.name, kind: zone.kind }),
  )

  const obstructions = site.obstructions.map((obstruction) => {
    const { shape } = obstruction
    const geometry: Feature['geometry'] =
      shape.kind === 'segment'
        ? { type: 'LineString', coordinates: [lonLat(projection, shape.a), lonLat(projection, shape.b)] }
        : { type: 'Polygon', coordinates: [closedRing(projection, shape.points)] }
    return feature(geometry, {
      key: itemKey({ collection: 'obstructions', id: obstruction.id }),
      id: obstruction.id,
      material: obstruction.material,
      blocksSight: obstruction.blocksSight,
      attenuationDb: obstruction.attenuationDb,
    })
  })

  const mountingPoints = site.mountingPoints.map((mount) =>
    feature({ type: 'Point', coordinates: lonLat(projection, mount) }, { key: itemKey({ collection: 'mountingPoints', id: mount.id }), id: mount.id, occupied: occupied.has(mount.id) }),
  )

  // Devices stand where their mounting point is in the model being edited, so they follow a drag at once;
  // the outputs (computed from a saved revision) only lend a kind when the catalogue lacks the part.
  const position = new Map<string, Position>()
  const devices: Feature[] = []
  for (const device of site.devices) {
    const mount = mounts.get(device.mountingPointId)
    if (!mount) continue
    const part = inputs.catalogue ? findPart(inputs.catalogue, device.partNumber) : undefined
    const kind: DrawnDeviceKind = part?.kind ?? outputRows.get(device.id)?.kind ?? 'unknown'
    // A 360° sensor faces everywhere; an arrow would say otherwise.
    const faces = part?.kind === 'camera' || (part?.kind === 'sensor' && part.angleDeg < 360)
    const at = lonLat(projection, mount)
    position.set(device.id, at)
    devices.push(
      feature({ type: 'Point', coordinates: at }, { key: itemKey({ collection: 'devices', id: device.id }), id: device.id, kind, label: device.id, orientationDeg: device.orientationDeg, faces }),
    )
  }

  const links: Feature[] = []
  for (const link of inputs.outputs?.network.links ?? []) {
    const node = position.get(link.nodeId)
    const gateway = position.get(link.gatewayId)
    // A device deleted since the outputs were computed has no line to draw.
    if (!node || !gateway) continue
    links.push(feature({ type: 'LineString', coordinates: [node, gateway] }, { nodeId: link.nodeId, gatewayId: link.gatewayId, marginDb: link.marginDb, quality: linkQuality(link.marginDb) }))
  }

  return {
    boundary: collection(site.boundary.length >= 2 ? [feature({ type: 'LineString', coordinates: closedRing(projection, site.boundary) }, {})] : []),
    zones: collection(zones),
    obstructions: collection(obstructions),
    mountingPoints: collection(mountingPoints),
    devices: collection(devices),
    links: collection(links),
    handles: collection(handleFeatures(site, inputs.selection, projection)),
  }
}

/** The corners that can be dragged, each carrying its VertexRef in its properties. */
function handleFeatures(site: SiteModel, selection: SiteSelection | null, projection: LocalProjection): Feature[] {
  const handles: Feature[] = []
  const add = (points: readonly PointM[], ref: { on: 'boundary' } | { on: 'zone'; id: string } | { on: 'obstruction'; id: string }, selected: boolean) =>
    points.forEach((point, index) => handles.push(feature({ type: 'Point', coordinates: lonLat(projection, point) }, { ...ref, index, selected })))
  add(site.boundary, { on: 'boundary' }, false)
  if (selection?.collection === 'zones') {
    const zone = site.zones.find((z) => z.id === selection.id)
    if (zone) add(zone.polygon, { on: 'zone', id: zone.id }, true)
  }
  if (selection?.collection === 'obstructions') {
    const obstruction = site.obstructions.find((o) => o.id === selection.id)
    if (obstruction) add(obstruction.shape.kind === 'segment' ? [obstruction.shape.a, obstruction.shape.b] : obstruction.shape.points, { on: 'obstruction', id: obstruction.id }, true)
  }
  return handles
}

/** A handle's properties, as the map hands them back on a click, read as the corner they stand for. */
export function vertexOfHandle(properties: Record<string, unknown> | null | undefined): VertexRef | null {
  if (!properties) return null
  const { on, id, index } = properties
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return null
  if (on === 'boundary') return { on, index }
  if ((on === 'zone' || on === 'obstruction') && typeof id === 'string') return { on, id, index }
  return null
}

/** A model corner's position, for starting a drag at it; null when it is gone. */
export function vertexPosition(site: SiteModel, vertex: VertexRef): PointM | null {
  if (vertex.on === 'boundary') return site.boundary[vertex.index] ?? null
  if (vertex.on === 'zone') return site.zones.find((z) => z.id === vertex.id)?.polygon[vertex.index] ?? null
  const shape = site.obstructions.find((o) => o.id === vertex.id)?.shape
  if (!shape) return null
  return (shape.kind === 'segment' ? [shape.a, shape.b] : shape.points)[vertex.index] ?? null
}

/**
 * A shape being drawn, as the draft layers show it: its corners, the line through them on to the pointer and,
 * for an outline, the area it would close (first corner again after the pointer). The first corner is marked
 * `closing` while the pointer is on it, since a click there closes the outline.
 */
export function draftCollection(origin: SiteModel['origin'], corners: readonly PointM[], pointer: PointM | null, options: { outline: boolean; closing: boolean }): FeatureCollection {
  const projection = createLocalProjection(origin)
  const path = [...corners, ...(pointer && !options.closing ? [pointer] : [])].map((p) => lonLat(projection, p))
  const features: Feature[] = []
  if (options.outline && path.length >= 3) features.push(feature({ type: 'Polygon', coordinates: [[...path, path[0]!]] }, {}))
  if (path.length >= 2) features.push(feature({ type: 'LineString', coordinates: options.outline && options.closing ? [...path, path[0]!] : path }, {}))
  corners.forEach((corner, index) => features.push(feature({ type: 'Point', coordinates: lonLat(projection, corner) }, { first: index === 0, closing: index === 0 && options.closing })))
  return collection(features)
}

/** The import on screen, and the plan with the import version it was built from (null once edited or opened). */
export interface FramedSite {
  imported: { version: number; bounds: LonLatBounds | null } | null
  plan: { sourceVersion: number | null; bounds: LonLatBounds | null } | null
}

/**
 * Whether the plan on screen was built from another import than the one on screen: a new import reaches the
 * screen a moment before the plan the core builds from it, and the plan it replaces must not frame it.
 */
export function planOfOtherImport({ imported, plan }: { imported: { version: number } | null; plan: { sourceVersion: number | null } | null }): boolean {
  return imported !== null && plan !== null && plan.sourceVersion !== null && plan.sourceVersion !== imported.version
}

/**
 * What the map frames: the import and the plan together, so that every imported feature is in view and the
 * count of them drawn does not depend on which of the two reached the screen first. A plan lying apart from
 * the import (opened from the file of another site) is framed alone, as it is what is being edited; a plan
 * of another import is left out until its successor arrives.
 */
export function frameBounds(site: FramedSite): LonLatBounds | null {
  const imported = site.imported?.bounds ?? null
  const plan = planOfOtherImport(site) ? null : (site.plan?.bounds ?? null)
  if (!imported || !plan) return plan ?? imported
  const [[west, south], [east, north]] = imported
  const [[planWest, planSouth], [planEast, planNorth]] = plan
  if (east < planWest || planEast < west || north < planSouth || planNorth < south) return plan
  return [
    [Math.min(west, planWest), Math.min(south, planSouth)],
    [Math.max(east, planEast), Math.max(north, planNorth)],
  ]
}

/** "35 m²", "1.2 ha": a blind spot's area as a planner reads it. */
export function areaLabel(areaM2: number): string {
  if (areaM2 >= 10_000) return `${(areaM2 / 10_000).toFixed(1)} ha`
  return `${areaM2 < 10 ? Number(areaM2.toFixed(1)) : Math.round(areaM2)} m²`
}

/**
 * Blind spots as polygons (outline and fill) and, at each spot's centre, a point for its area label.
 * Rings arrive in lon/lat, outer first and holes after; they are closed here if the core left them open.
 */
export function blindSpotCollection(coverage: Pick<SiteCoverageView, 'blindSpots'>): FeatureCollection {
  const features: Feature[] = []
  for (const spot of coverage.blindSpots) {
    const rings = spot.outline
      .filter((ring) => ring.length >= 3)
      .map((ring) => {
        const first = ring[0]!
        const last = ring[ring.length - 1]!
        return first[0] === last[0] && first[1] === last[1] ? ring : [...ring, first]
      })
    if (rings.length === 0) continue
    const properties = { id: spot.id, areaM2: spot.areaM2, label: areaLabel(spot.areaM2) }
    features.push(feature({ type: 'Polygon', coordinates: rings }, properties))
    features.push(feature({ type: 'Point', coordinates: [spot.centre[0], spot.centre[1]] }, properties))
  }
  return collection(features)
}
