import type { ExpressionSpecification, FilterSpecification, LayerSpecification, SourceSpecification } from 'maplibre-gl/dist/maplibre-gl-csp'
import type { SiteLayerName } from './plan-state'
import type { SitePalette } from './map-palette'

// The plan's sources and layers in the map's offline style: the model being edited above the imported
// features, each layer styled by what a planner tells apart (a zone's kind, a wall's loss, a link's
// margin), grouped by the switches of the layer legend.

export const planSources = {
  boundary: 'site-plan-boundary',
  zones: 'site-plan-zones',
  obstructions: 'site-plan-obstructions',
  mountingPoints: 'site-plan-mounts',
  devices: 'site-plan-devices',
  links: 'site-plan-links',
  handles: 'site-plan-handles',
  blindSpots: 'site-plan-blind-spots',
  /** Where the pointer would snap to while drawing or dragging. */
  snap: 'site-plan-snap',
  /** A wall or an outline being drawn: its corners, and on to the pointer. */
  draft: 'site-plan-draft',
} as const

export type PlanSource = keyof typeof planSources

/** Layers a click can pick a model item from, topmost first: what lies on top is what was meant. */
export const pickableLayers = ['site-device', 'site-mount', 'site-obstruction-line', 'site-obstruction-see-through', 'site-obstruction-fill', 'site-zone-fill'] as const
/**
 * Layers a drag can start from, in order: a corner handle before the mounting point beneath it, then a wall's
 * line, then the bodies of a footprint and a zone, which move only once selected (bodyLayers).
 */
export const draggableLayers = ['site-handle', 'site-mount', 'site-obstruction-line', 'site-obstruction-see-through', 'site-obstruction-fill', 'site-zone-fill'] as const
/** Bodies that cover ground: zones span most of a yard, so a press on one not selected pans the map instead. */
export const bodyLayers: readonly string[] = ['site-obstruction-fill', 'site-zone-fill']

/** Layers each legend switch shows and hides; coverage, radio and overlay images are added at run time. */
export const layerGroups: Record<Exclude<SiteLayerName, 'overlay' | 'coverage' | 'radio'>, readonly string[]> = {
  zones: ['site-zone-fill', 'site-zone-outline', 'site-zone-outline-dashed', 'site-zone-selected'],
  blindSpots: ['site-blind-fill', 'site-blind-outline', 'site-blind-focus', 'site-blind-label'],
  obstructions: ['site-obstruction-fill', 'site-obstruction-selected', 'site-obstruction-line', 'site-obstruction-see-through'],
  links: ['site-link'],
  mountingPoints: ['site-mount-selected', 'site-mount'],
  devices: ['site-device-selected', 'site-device-facing', 'site-device', 'site-device-label'],
}

const emptyData = { type: 'FeatureCollection' as const, features: [] }

export function planSourceSpecs(): Record<string, SourceSpecification> {
  return Object.fromEntries(Object.values(planSources).map((id) => [id, { type: 'geojson', data: emptyData } satisfies SourceSpecification]))
}

const isPolygon: ExpressionSpecification = ['==', ['geometry-type'], 'Polygon']
const isPoint: ExpressionSpecification = ['==', ['geometry-type'], 'Point']
/** Matches nothing until something is selected: no item has an empty key. */
export const selectedFilter = (key: string | null): FilterSpecification => ['==', ['get', 'key'], key ?? '']

/** The outline of one blind spot, by its id in the coverage view; none for null. */
export const blindSpotFilter = (id: number | null): FilterSpecification => ['all', isPolygon, ['==', ['get', 'id'], id ?? -1]]

/** A symbol's picture by name; the generation changes with the palette (see map-icons.ts). */
const icon = (generation: number, what: string, detail: ExpressionSpecification | string): ExpressionSpecification => ['concat', `site:${generation}:${what}:`, detail]

/** Symbols that must always show: a hidden mounting point cannot be dragged. */
const alwaysShown = { 'icon-allow-overlap': true, 'icon-ignore-placement': true } as const

/**
 * Colours by what a planner reads from them. Walls grow from muted to the text colour with their loss
 * (drywall barely, concrete fully) and thicker too; hedges are green; walls that sight passes are dashed.
 */
export function planLayers(palette: SitePalette, generation: number): LayerSpecification[] {
  const zoneColour: ExpressionSpecification = ['match', ['get', 'kind'], 'required', palette.area, 'excluded', palette.bad, palette.footprint]
  const wallColour: ExpressionSpecification = ['match', ['get', 'material'], 'vegetation', palette.line, ['interpolate', ['linear'], ['get', 'attenuationDb'], 0, palette.footprint, 15, palette.text]]
  const wallWidth: ExpressionSpecification = ['interpolate', ['linear'], ['get', 'attenuationDb'], 0, 1.5, 26, 5]
  const linkColour: ExpressionSpecification = ['match', ['get', 'quality'], 'good', palette.line, 'thin', palette.point, palette.bad]
  return [
    { id: 'site-zone-fill', type: 'fill', source: planSources.zones, paint: { 'fill-color': zoneColour, 'fill-opacity': ['match', ['get', 'kind'], 'required', 0.14, 0.1] } },
    { id: 'site-zone-outline', type: 'line', source: planSources.zones, filter: ['==', ['get', 'kind'], 'required'], paint: { 'line-color': zoneColour, 'line-width': 1.5 } },
    { id: 'site-zone-outline-dashed', type: 'line', source: planSources.zones, filter: ['!=', ['get', 'kind'], 'required'], paint: { 'line-color': zoneColour, 'line-width': 1.5, 'line-dasharray': [3, 2] } },
    { id: 'site-zone-selected', type: 'line', source: planSources.zones, filter: selectedFilter(null), paint: { 'line-color': palette.focus, 'line-width': 3.5 } },
    { id: 'site-boundary', type: 'line', source: planSources.boundary, layout: { 'line-join': 'round' }, paint: { 'line-color': palette.area, 'line-width': 2.5 } },
    { id: 'site-blind-fill', type: 'fill', source: planSources.blindSpots, filter: isPolygon, paint: { 'fill-color': palette.bad, 'fill-opacity': 0.22 } },
    { id: 'site-blind-outline', type: 'line', source: planSources.blindSpots, filter: isPolygon, paint: { 'line-color': palette.bad, 'line-width': 2 } },
    { id: 'site-blind-focus', type: 'line', source: planSources.blindSpots, filter: blindSpotFilter(null), paint: { 'line-color': palette.focus, 'line-width': 4 } },
    { id: 'site-obstruction-fill', type: 'fill', source: planSources.obstructions, filter: isPolygon, paint: { 'fill-color': wallColour, 'fill-opacity': 0.2 } },
    { id: 'site-obstruction-selected', type: 'line', source: planSources.obstructions, filter: selectedFilter(null), layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': palette.focus, 'line-width': 9 } },
    { id: 'site-obstruction-line', type: 'line', source: planSources.obstructions, filter: ['==', ['get', 'blocksSight'], true], layout: { 'line-cap': 'round', 'line-join': 'round' }, paint: { 'line-color': wallColour, 'line-width': wallWidth } },
    { id: 'site-obstruction-see-through', type: 'line', source: planSources.obstructions, filter: ['!=', ['get', 'blocksSight'], true], paint: { 'line-color': wallColour, 'line-width': wallWidth, 'line-dasharray': [2, 1.5] } },
    { id: 'site-link', type: 'line', source: planSources.links, layout: { 'line-cap': 'round' }, paint: { 'line-color': linkColour, 'line-width': 2, 'line-opacity': 0.9 } },
    { id: 'site-mount-selected', type: 'circle', source: planSources.mountingPoints, filter: selectedFilter(null), paint: { 'circle-radius': 12, 'circle-color': palette.focus, 'circle-opacity': 0.45, 'circle-stroke-color': palette.focus, 'circle-stroke-width': 2 } },
    { id: 'site-mount', type: 'symbol', source: planSources.mountingPoints, layout: { 'icon-image': icon(generation, 'mount', ['case', ['get', 'occupied'], 'occupied', 'free']), ...alwaysShown } },
    { id: 'site-device-selected', type: 'circle', source: planSources.devices, filter: selectedFilter(null), paint: { 'circle-radius': 17, 'circle-color': palette.focus, 'circle-opacity': 0.45, 'circle-stroke-color': palette.focus, 'circle-stroke-width': 2 } },
    {
      id: 'site-device-facing',
      type: 'symbol',
      source: planSources.devices,
      filter: ['==', ['get', 'faces'], true],
      layout: { 'icon-image': icon(generation, 'facing', ''), 'icon-rotate': ['get', 'orientationDeg'], 'icon-rotation-alignment': 'map', ...alwaysShown },
    },
    { id: 'site-device', type: 'symbol', source: planSources.devices, layout: { 'icon-image': icon(generation, 'device', ['get', 'kind']), ...alwaysShown } },
    { id: 'site-device-label', type: 'symbol', source: planSources.devices, layout: { 'icon-image': icon(generation, 'label', ['get', 'label']), 'icon-anchor': 'top', 'icon-offset': [0, 13] } },
    { id: 'site-blind-label', type: 'symbol', source: planSources.blindSpots, filter: isPoint, layout: { 'icon-image': icon(generation, 'label', ['get', 'label']) } },
    {
      id: 'site-handle',
      type: 'circle',
      source: planSources.handles,
      paint: {
        'circle-radius': ['case', ['get', 'selected'], 6, 4.5],
        'circle-color': ['case', ['get', 'selected'], palette.focus, palette.background],
        'circle-stroke-color': ['case', ['get', 'selected'], palette.pointStroke, palette.area],
        'circle-stroke-width': 2,
      },
    },
    { id: 'site-draft-fill', type: 'fill', source: planSources.draft, filter: isPolygon, paint: { 'fill-color': palette.focus, 'fill-opacity': 0.15 } },
    { id: 'site-draft', type: 'line', source: planSources.draft, filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': palette.focus, 'line-width': 3, 'line-dasharray': [2, 1] } },
    {
      id: 'site-draft-corner',
      type: 'circle',
      source: planSources.draft,
      filter: isPoint,
      // The first corner is larger, and filled while the pointer is on it: a click there closes the outline.
      paint: {
        'circle-radius': ['case', ['get', 'closing'], 8, ['get', 'first'], 6, 4],
        'circle-color': ['case', ['get', 'closing'], palette.focus, palette.background],
        'circle-stroke-color': palette.focus,
        'circle-stroke-width': 2,
      },
    },
    {
      id: 'site-snap',
      type: 'circle',
      source: planSources.snap,
      paint: { 'circle-radius': 9, 'circle-color': 'rgba(0, 0, 0, 0)', 'circle-stroke-color': palette.focus, 'circle-stroke-width': 2.5 },
    },
  ]
}
