// An imported FeatureCollection (KML, KMZ or GeoJSON, already checked by the import) into the planning model.
//
// Survey files say what a feature is in many places and rarely in a schema: an explicit property (`kind`,
// `type`, `category`, `class`, `layer`), the Placemark's name, the KML folder it sits in, its style id.
// Those are read in that order, and the first that names anything decides; properties then give material,
// height, attenuation and so on, and whatever the file leaves out is taken from typical values and said so.
// Every feature ends in the report: what it became, or why it was left out, in a sentence for the planner.

import {
  checkGeometry,
  formatCoordinate,
  type Feature,
  type FeatureCollection,
  type Geometry,
  type ImportReport,
  type Position,
} from './import-report'
import {
  pointInRing,
  ringSignedArea,
  typicalAttenuationDb,
  validateSite,
  type Catalogue,
  type DeviceKind,
  type LatLon,
  type MountingPoint,
  type Obstruction,
  type ObstructionMaterial,
  type PointM,
  type PolygonM,
  type SiteModel,
  type Zone,
  type ZoneKind,
} from './model'
import { createLocalProjection, type LocalProjection } from './projection'

export interface SiteFromFeaturesOptions {
  /** The site's name; "Imported site" when not given. */
  name?: string
  /** Keep an existing site's origin (re-importing into a plan), instead of the boundary's centroid. */
  origin?: LatLon
  /** The import's report, for each feature's KML folder (folders often say "Walls" or "Cameras"). */
  importReport?: ImportReport
  /** Checked against by validateSite; an import places no devices, so the empty default suffices. */
  catalogue?: Catalogue
}

export type SiteFeatureRole = 'boundary' | 'zone' | 'obstruction' | 'mounting point'

export type SiteFeatureOutcome =
  | { index: number; name: string | null; status: 'used'; became: SiteFeatureRole[]; ids: string[]; message: string }
  | { index: number; name: string | null; status: 'skipped'; message: string }

export interface SiteModelReport {
  /** One entry per feature of the collection, in its order. */
  features: SiteFeatureOutcome[]
  /** Decisions about the whole site: where the boundary and origin came from, a site too large to be one. */
  notes: string[]
  /** validateSite's problems with the result: what to fix before coverage can be computed. */
  problems: string[]
  /** One line for a toast: "2 zones, 9 obstructions and 3 mounting points from 12 features; 2 skipped." */
  summary: string
}

export interface SiteFromFeaturesResult {
  site: SiteModel
  report: SiteModelReport
}

// ---- Words ----

type Category = 'boundary' | 'zone' | 'barrier' | 'footprint' | 'mount' | 'obstruction'

interface Term {
  pattern: RegExp
  category: Category
  /** What the word makes of the feature, for messages: "fence", "junction box". */
  noun: string
  heightM: number
  /** Implied by the thing itself (a hedge is vegetation), used when no construction material is named. */
  material?: ObstructionMaterial
  /** For mounting points: what can be fixed there. */
  kinds?: readonly DeviceKind[]
  /** A device word ("camera") narrows what a mount takes; a structure word ("pole") sets its height. */
  deviceWord?: boolean
}

/** Whole words of text normalised by `normalise`: lower-case ASCII words separated by single spaces. */
function words(alternatives: string): RegExp {
  return new RegExp(`(?<![a-z0-9])(?:${alternatives})(?![a-z0-9])`, 'g')
}

const allKinds: readonly DeviceKind[] = ['camera', 'sensor', 'gateway', 'node']
const exclusionWords = 'exclusions?|excluded|exclude|no go|keep out|out of scope'

function term(alternatives: string, category: Category, noun: string, heightM: number, extra: Partial<Term> = {}): Term {
  return { pattern: words(alternatives), category, noun, heightM, ...extra }
}

// Heights are what such things usually are; the report says each time one was assumed.
const terms: readonly Term[] = [
  term('site boundary|boundary|boundaries|perimeter|site outline|property line|site limits?|aoi|area of interest', 'boundary', 'site boundary', 0),
  term(`zones?|areas?|coverage|${exclusionWords}`, 'zone', 'zone', 0),
  term('walls?|partitions?|barriers?', 'barrier', 'wall', 2.5),
  term('fences?|fencing|railings?|palisade|chain link|chainlink', 'barrier', 'fence', 2, { material: 'fence' }),
  term('hedges?|hedgerow|tree line|treeline|trees', 'barrier', 'hedge', 1.8, { material: 'vegetation' }),
  term('obstructions?|obstacles?', 'obstruction', 'obstruction', 2.5),
  term('buildings?|bldg|house|shed|warehouse|hall|garage|kiosk|plant room|substation|structure', 'footprint', 'building', 6),
  term('shipping containers?|containers?', 'footprint', 'container', 2.6, { material: 'metal' }),
  term('tanks?|silos?', 'footprint', 'tank', 6, { material: 'metal' }),
  term('masts?|towers?', 'mount', 'mast', 10, { kinds: allKinds }),
  term('poles?|lamp posts?|lampposts?|light poles?|lighting columns?|lamp columns?|posts?', 'mount', 'pole', 6, { kinds: allKinds }),
  term('junction box(?:es)?|jbox|j box|junction|pull box|enclosure', 'mount', 'junction box', 1.5, { kinds: ['node'] }),
  term('cabinets?|racks?|comms room', 'mount', 'cabinet', 1.5, { kinds: ['gateway', 'node'] }),
  term('brackets?|wall mount|wall bracket|facade|eaves', 'mount', 'wall bracket', 3, { kinds: ['camera', 'sensor'] }),
  term('cameras?|cam|cctv', 'mount', 'camera position', 4, { kinds: ['camera'], deviceWord: true }),
  term('sensors?|pir|detectors?|radar', 'mount', 'sensor position', 3, { kinds: ['sensor'], deviceWord: true }),
  term('gateways?', 'mount', 'gateway position', 3, { kinds: ['gateway'], deviceWord: true }),
  term('nodes?', 'mount', 'node position', 2, { kinds: ['node'], deviceWord: true }),
  term('mounting points?|mounts?|mounting|mp', 'mount', 'mounting point', 3, { kinds: allKinds }),
]

/** A point nobody named: the planner can still use it, and the report says so. */
const genericMount: Term = term('mounting point', 'mount', 'mounting point', 3, { kinds: allKinds })

const zoneKindTerms: readonly { pattern: RegExp; kind: ZoneKind }[] = [
  { pattern: words(exclusionWords), kind: 'excluded' },
  { pattern: words('optional|secondary|nice to have'), kind: 'optional' },
  { pattern: words('required|mandatory|must|critical'), kind: 'required' },
]

const materialTerms: readonly { pattern: RegExp; material: ObstructionMaterial; implied?: boolean }[] = [
  { pattern: words('concrete blocks?|cinder blocks?|breeze blocks?|blockwork|blocks?|cmu'), material: 'block' },
  { pattern: words('reinforced concrete|concrete|precast'), material: 'concrete' },
  { pattern: words('bricks?|brickwork|masonry'), material: 'brick' },
  { pattern: words('drywall|plasterboard|gypsum|stud'), material: 'drywall' },
  { pattern: words('wood|wooden|timber|plywood'), material: 'wood' },
  { pattern: words('glass|glazed|glazing|windows?'), material: 'glass' },
  { pattern: words('metal|steel|iron|aluminium|aluminum|corrugated|containers?|tanks?|silos?'), material: 'metal' },
  { pattern: words('other'), material: 'other' },
  // "Timber fence" is wood and "Fence" alone is a fence: in names these words only say what the thing is.
  { pattern: words('fences?|fencing|chain link|chainlink|mesh|railings?|palisade'), material: 'fence', implied: true },
  { pattern: words('vegetation|hedges?|hedgerow|trees?|tree line|treeline|shrubs?|bushes'), material: 'vegetation', implied: true },
]

const deviceKindWords: Readonly<Record<string, readonly DeviceKind[]>> = {
  camera: ['camera'], cameras: ['camera'], cam: ['camera'], cctv: ['camera'],
  sensor: ['sensor'], sensors: ['sensor'], pir: ['sensor'], detector: ['sensor'], radar: ['sensor'],
  gateway: ['gateway'], gateways: ['gateway'], gw: ['gateway'],
  node: ['node'], nodes: ['node'],
  any: allKinds, all: allKinds,
}

function normalise(text: string): string {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
}

interface Hit<T> {
  entry: T
  start: number
  end: number
  text: string
}

/** Matches of a table's words, earliest first; where two overlap the longer wins ("wall mount" over "wall"). */
function findWords<T extends { pattern: RegExp }>(text: string, table: readonly T[]): Hit<T>[] {
  const hits: Hit<T>[] = []
  for (const entry of table) {
    for (const match of text.matchAll(entry.pattern)) hits.push({ entry, start: match.index, end: match.index + match[0].length, text: match[0] })
  }
  hits.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start))
  const kept: Hit<T>[] = []
  let reach = 0
  for (const hit of hits) {
    if (hit.start < reach) continue
    kept.push(hit)
    reach = hit.end
  }
  return kept
}

// ---- Properties ----

type Props = ReadonlyMap<string, unknown>

/** Keys as surveyors write them ("Height_m", "heightM", "HEIGHT") all read the same. */
function readProps(properties: Feature['properties']): Props {
  return new Map(Object.entries(properties ?? {}).map(([key, value]) => [key.toLowerCase().replace(/[^a-z0-9]/g, ''), value]))
}

function prop(props: Props, keys: readonly string[]): { key: string; value: unknown } | null {
  for (const key of keys) {
    const value = props.get(key)
    if (value !== undefined && value !== null && value !== '') return { key, value }
  }
  return null
}

const propertyKeys = {
  kind: ['kind', 'type', 'category', 'class', 'featuretype', 'layer'],
  zoneKind: ['zonekind', 'coverage', 'requirement'],
  material: ['material'],
  height: ['heightm', 'height', 'heightmetres', 'heightmeters', 'mountheight'],
  attenuation: ['attenuationdb', 'attenuation', 'lossdb', 'loss'],
  blocksSight: ['blockssight', 'opaque'],
  allowedKinds: ['allowedkinds', 'allowed', 'devices', 'kinds', 'takes'],
  orientations: ['orientationsdeg', 'orientations', 'orientationdeg', 'orientation', 'facing', 'bearing'],
} as const

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string }

function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  return `"${text.length > 40 ? `${text.slice(0, 40)}…` : text}"`
}

function parseMetres(value: unknown): Parsed<number> {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? { ok: true, value } : { ok: false, problem: `${value} is not a height in metres` }
  const match = typeof value === 'string' ? /^\s*(\d+(?:[.,]\d+)?)\s*(m|metres?|meters?|ft|feet|foot)?\s*$/i.exec(value) : null
  if (!match) return { ok: false, problem: `${quoted(value)} is not a height in metres` }
  const number = Number(match[1]!.replace(',', '.'))
  // US surveys write feet; a plain number is metres.
  return { ok: true, value: /^f/i.test(match[2] ?? '') ? Math.round(number * 0.3048 * 1000) / 1000 : number }
}

function parseDecibels(value: unknown): Parsed<number> {
  const text = typeof value === 'number' ? String(value) : value
  const match = typeof text === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(db)?\s*$/i.exec(text) : null
  return match ? { ok: true, value: Number(match[1]) } : { ok: false, problem: `${quoted(value)} is not a loss of zero or more dB` }
}

function parseBoolean(value: unknown): Parsed<boolean> {
  if (typeof value === 'boolean') return { ok: true, value }
  const text = String(value).trim().toLowerCase()
  if (['true', 'yes', 'y', '1'].includes(text)) return { ok: true, value: true }
  if (['false', 'no', 'n', '0'].includes(text)) return { ok: true, value: false }
  return { ok: false, problem: `${quoted(value)} is neither yes nor no` }
}

function listOf(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(/[\s,;/|+]+/)
  return items.map((item) => item.trim().toLowerCase()).filter(Boolean)
}

function parseKinds(value: unknown): Parsed<DeviceKind[]> {
  const kinds = new Set<DeviceKind>()
  for (const item of listOf(value)) {
    const known = deviceKindWords[item]
    if (!known) return { ok: false, problem: `${quoted(item)} is not a kind of device (camera, sensor, gateway, node)` }
    known.forEach((kind) => kinds.add(kind))
  }
  return kinds.size ? { ok: true, value: allKinds.filter((kind) => kinds.has(kind)) } : { ok: false, problem: `${quoted(value)} names no kind of device` }
}

function parseBearings(value: unknown): Parsed<number[]> {
  const bearings: number[] = []
  for (const item of listOf(value)) {
    const number = Number(item.replace(/°$/, ''))
    if (!Number.isFinite(number)) return { ok: false, problem: `${quoted(item)} is not a compass bearing in degrees` }
    bearings.push(((number % 360) + 360) % 360)
  }
  return bearings.length ? { ok: true, value: [...new Set(bearings)] } : { ok: false, problem: `${quoted(value)} holds no bearing` }
}

// ---- Geometry ----

type Shape =
  | { kind: 'point'; points: Position[] }
  | { kind: 'line'; lines: Position[][] }
  | { kind: 'polygon'; polygons: Position[][][] }

type ShapeClass = 'point' | 'open' | 'closed'

/** Homogeneous multi-geometries and collections become one shape; a mix of kinds has no single meaning. */
function shapeOf(geometry: Geometry): Shape | null {
  const points: Position[] = []
  const lines: Position[][] = []
  const polygons: Position[][][] = []
  const visit = (g: Geometry): void => {
    if (g.type === 'Point') points.push(g.coordinates)
    else if (g.type === 'MultiPoint') points.push(...g.coordinates)
    else if (g.type === 'LineString') lines.push(g.coordinates)
    else if (g.type === 'MultiLineString') lines.push(...g.coordinates)
    else if (g.type === 'Polygon') polygons.push(g.coordinates)
    else if (g.type === 'MultiPolygon') polygons.push(...g.coordinates)
    else g.geometries.forEach(visit)
  }
  visit(geometry)
  const kinds = [points, lines, polygons].filter((list) => list.length > 0).length
  if (kinds !== 1) return null
  if (points.length) return { kind: 'point', points }
  return lines.length ? { kind: 'line', lines } : { kind: 'polygon', polygons }
}

function isClosedLine(line: Position[]): boolean {
  const first = line[0]!
  const last = line[line.length - 1]!
  return line.length >= 4 && first[0] === last[0] && first[1] === last[1]
}

function classOf(shape: Shape): ShapeClass {
  if (shape.kind === 'point') return 'point'
  return shape.kind === 'polygon' || shape.lines.every(isClosedLine) ? 'closed' : 'open'
}

/** The outlines a shape draws: polygons' outer rings, or closed lines. */
function outlinesOf(shape: Shape): { rings: Position[][]; holes: number } {
  if (shape.kind === 'polygon') return { rings: shape.polygons.map((p) => p[0]!), holes: shape.polygons.reduce((n, p) => n + p.length - 1, 0) }
  if (shape.kind === 'line') return { rings: shape.lines.filter(isClosedLine), holes: 0 }
  return { rings: [], holes: 0 }
}

/** Every line the shape draws, polygon rings included: the edges of a wall or fence. */
function polylinesOf(shape: Shape): Position[][] {
  if (shape.kind === 'polygon') return shape.polygons.flat()
  return shape.kind === 'line' ? shape.lines : []
}

function positionsOf(shape: Shape): Position[] {
  return shape.kind === 'point' ? shape.points : polylinesOf(shape).flat()
}

/** Longitude difference folded into −180..180, so a site across the antimeridian is not 360° wide. */
function lonDelta(lon: number, from: number): number {
  return ((((lon - from) % 360) + 540) % 360) - 180
}

function wrapLon(lon: number): number {
  return lonDelta(lon, 0)
}

/** Area in a plane where a degree of longitude is shortened by cos(latitude): enough to compare outlines. */
function ringAreaDeg(ring: Position[]): number {
  const [lon0, lat0] = ring[0]!
  const k = Math.cos((lat0! * Math.PI) / 180)
  return Math.abs(ringSignedArea(ring.map((p) => ({ x: lonDelta(p[0]!, lon0!) * k, y: p[1]! - lat0! }))))
}

function largest(rings: Position[][]): Position[] | null {
  return rings.reduce<Position[] | null>((best, ring) => (best === null || ringAreaDeg(ring) > ringAreaDeg(best) ? ring : best), null)
}

/** The area centroid of a ring in that same plane; over a site's extent it is the plane centroid to the millimetre. */
function ringCentroid(ring: Position[]): LatLon {
  const [lon0, lat0] = ring[0]!
  const k = Math.cos((lat0! * Math.PI) / 180)
  const points = ring.slice(0, -1).map((p) => ({ x: lonDelta(p[0]!, lon0!) * k, y: p[1]! - lat0! }))
  let area = 0
  let cx = 0
  let cy = 0
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const cross = points[j]!.x * points[i]!.y - points[i]!.x * points[j]!.y
    area += cross
    cx += (points[j]!.x + points[i]!.x) * cross
    cy += (points[j]!.y + points[i]!.y) * cross
  }
  return { lat: lat0! + cy / (3 * area), lon: wrapLon(lon0! + cx / (3 * area) / k) }
}

function boxCentre(positions: Position[]): LatLon | null {
  if (!positions.length) return null
  const lon0 = positions[0]![0]!
  const lons = positions.map((p) => lonDelta(p[0]!, lon0))
  const lats = positions.map((p) => p[1]!)
  return { lat: (Math.min(...lats) + Math.max(...lats)) / 2, lon: wrapLon(lon0 + (Math.min(...lons) + Math.max(...lons)) / 2) }
}

/** Survey accuracy is centimetres; millimetres keep saved files readable without losing any of it (and no −0). */
const mm = (value: number): number => Math.round(value * 1000) / 1000 || 0

function project(projection: LocalProjection, p: Position): PointM {
  const local = projection.toLocal({ lon: p[0]!, lat: p[1]! })
  return { x: mm(local.x), y: mm(local.y) }
}

const samePointM = (a: PointM, b: PointM): boolean => a.x === b.x && a.y === b.y

/** A line's corners in metres without repeats; exporters often write a corner twice. */
function projectLine(projection: LocalProjection, line: Position[]): PointM[] {
  const out: PointM[] = []
  for (const p of line) {
    const point = project(projection, p)
    if (!out.length || !samePointM(out[out.length - 1]!, point)) out.push(point)
  }
  return out
}

function projectRing(projection: LocalProjection, ring: Position[]): PolygonM | null {
  const points = projectLine(projection, ring)
  if (points.length > 1 && samePointM(points[0]!, points[points.length - 1]!)) points.pop()
  return points.length >= 3 ? points : null
}

function edgesOf(points: readonly PointM[]): [PointM, PointM][] {
  return points.slice(1).map((b, i) => [points[i]!, b])
}

const orient = (p: PointM, q: PointM, r: PointM): number => Math.sign((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x))

function segmentsMeet(a: PointM, b: PointM, c: PointM, d: PointM): boolean {
  const within = (p: PointM, q: PointM, r: PointM): boolean =>
    Math.min(p.x, q.x) <= r.x && r.x <= Math.max(p.x, q.x) && Math.min(p.y, q.y) <= r.y && r.y <= Math.max(p.y, q.y)
  const [o1, o2, o3, o4] = [orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)]
  if (o1 * o2 < 0 && o3 * o4 < 0) return true
  return (o1 === 0 && within(a, b, c)) || (o2 === 0 && within(a, b, d)) || (o3 === 0 && within(c, d, a)) || (o4 === 0 && within(c, d, b))
}

/** Nothing of the lines lies in or touches the boundary, and (for outlines) the boundary is not inside them. */
function outsideBoundary(lines: readonly (readonly PointM[])[], closed: boolean, boundary: PolygonM): boolean {
  if (boundary.length < 3) return false
  if (lines.some((line) => line.some((p) => pointInRing(p, boundary)))) return false
  if (closed && lines.some((ring) => ring.length >= 3 && pointInRing(boundary[0]!, ring))) return false
  const boundaryEdges = edgesOf([...boundary, boundary[0]!])
  const lineEdges = lines.flatMap((line) => edgesOf(closed ? [...line, line[0]!] : line))
  return !lineEdges.some(([a, b]) => boundaryEdges.some(([c, d]) => segmentsMeet(a, b, c, d)))
}

// ---- Classification ----

type Role = 'boundary' | 'zone' | 'barrier' | 'footprint' | 'mount' | 'perimeter'

interface Source {
  /** For messages: "its name", "its folder "Walls"". */
  where: string
  text: string
}

type Classification =
  | { ok: true; role: Role | 'unclassified'; hits: Hit<Term>[] }
  | { ok: false; reason: string }

function sourcesOf(props: Props, name: string | null, folder: string | null): Source[] {
  const sources: Source[] = []
  const add = (where: string, value: unknown): void => {
    if (typeof value === 'string' && value.trim()) sources.push({ where, text: normalise(value) })
  }
  for (const key of propertyKeys.kind) add(`its ${key} ${quoted(props.get(key))}`, props.get(key))
  add('its name', name)
  add(`its folder ${quoted(folder)}`, folder)
  add(`its style ${quoted(props.get('styleurl'))}`, props.get('styleurl'))
  return sources
}

function roleFor(category: Category, shape: ShapeClass): Role | null {
  if (shape === 'point') return category === 'mount' ? 'mount' : null
  if (shape === 'open') return category === 'barrier' || category === 'obstruction' ? 'barrier' : null
  if (category === 'mount') return null
  return category === 'obstruction' ? 'footprint' : category
}

/** "Boundary fence" is both the outline and a fence along it; any other pair of meanings is a question. */
function combine(roles: ReadonlySet<Role>): Role | null {
  if (roles.size === 1) return [...roles][0]!
  return roles.size === 2 && roles.has('boundary') && roles.has('barrier') ? 'perimeter' : null
}

const shapeNouns: Record<ShapeClass, string> = { point: 'a single point', open: 'an open line', closed: 'a closed outline' }

function needs(category: Category): string {
  if (category === 'mount') return 'that is a single point'
  if (category === 'barrier') return 'that needs a line'
  return 'that needs a closed outline (a polygon, or a line that ends where it starts)'
}

function classify(shape: ShapeClass, sources: readonly Source[]): Classification {
  for (const source of sources) {
    const hits = findWords(source.text, terms)
    if (!hits.length) continue
    const usable = hits.filter((hit) => roleFor(hit.entry.category, shape) !== null)
    if (!usable.length) {
      const first = hits[0]!
      return { ok: false, reason: `${source.where} says "${first.text}", a ${first.entry.noun}, but it is drawn as ${shapeNouns[shape]}; ${needs(first.entry.category)}` }
    }
    const role = combine(new Set(usable.map((hit) => roleFor(hit.entry.category, shape)!)))
    if (!role) {
      const [a, b] = [usable[0]!, usable.find((hit) => roleFor(hit.entry.category, shape) !== roleFor(usable[0]!.entry.category, shape))!]
      return { ok: false, reason: `${source.where} names both "${a.text}" (a ${a.entry.noun}) and "${b.text}" (a ${b.entry.noun}), so it is unclear which it is; set its kind property or rename it` }
    }
    return { ok: true, role, hits: usable }
  }
  return { ok: true, role: shape === 'point' ? 'mount' : 'unclassified', hits: [] }
}

// ---- Reading features ----

interface Draft {
  index: number
  name: string | null
  label: string
  idBase: string | null
  shape: Shape
  props: Props
  sources: Source[]
  role: Role | 'unclassified'
  hits: Hit<Term>[]
}

type Skipped = Extract<SiteFeatureOutcome, { status: 'skipped' }>

function labelOf(index: number, name: string | null): string {
  return name ? `"${name}"` : `Feature ${index + 1} (no name)`
}

function skipped(index: number, name: string | null, reason: string): Skipped {
  return { index, name, status: 'skipped', message: `${labelOf(index, name)} was skipped: ${reason}.` }
}

function isOverlay(feature: Feature, importKind: string | undefined): boolean {
  const type = feature.properties?.['@geometry-type']
  return importKind === 'overlay' || type === 'groundoverlay' || type === 'networklink'
}

function readFeature(feature: Feature, index: number, report: ImportReport | undefined): Draft | Skipped {
  const rawName = feature.properties?.name
  const name = typeof rawName === 'string' && rawName.trim() ? rawName.trim() : null
  const imported = report?.imported[index]
  if (isOverlay(feature, imported?.kind)) return skipped(index, name, 'it is the footprint of an image overlay, a picture under the plan rather than part of it')
  if (!feature.geometry) return skipped(index, name, 'it has no geometry')
  const check = checkGeometry(feature.geometry)
  if (!check.ok) return skipped(index, name, `its geometry is unusable (${check.reason})`)
  const shape = shapeOf(check.geometry)
  if (!shape) return skipped(index, name, 'it mixes points, lines and polygons in one feature; split them into separate features')
  const props = readProps(feature.properties)
  const sources = sourcesOf(props, name, imported?.folder ?? null)
  const classification = classify(classOf(shape), sources)
  if (!classification.ok) return skipped(index, name, classification.reason)
  const id = feature.id
  const idBase = (typeof id === 'string' || typeof id === 'number') && String(id).trim() ? String(id) : name
  return { index, name, label: labelOf(index, name), idBase, shape, props, sources, role: classification.role, hits: classification.hits }
}

// ---- The boundary ----

interface BoundaryChoice {
  draft: Draft | null
  ring: Position[] | null
  /** Said about the boundary's feature in its own report line. */
  detail: string[]
  note: string | null
}

function outlineDetail(shape: Shape): string[] {
  const { rings, holes } = outlinesOf(shape)
  const detail: string[] = []
  if (rings.length > 1) detail.push(`It has ${rings.length} outlines; the largest was used and the other ${rings.length - 1} ignored.`)
  if (holes) detail.push(`Its ${plural(holes, 'hole')} ${holes === 1 ? 'was' : 'were'} ignored: the site boundary is one outline; draw excluded zones for the holes.`)
  return detail
}

function chooseBoundary(drafts: readonly Draft[]): BoundaryChoice {
  const named = drafts.find((d) => d.role === 'boundary' || d.role === 'perimeter')
  if (named) {
    const ring = largest(outlinesOf(named.shape).rings)!
    return { draft: named, ring, detail: outlineDetail(named.shape), note: null }
  }
  for (const role of ['unclassified', 'zone'] as const) {
    const candidates = drafts.filter((d) => d.role === role && outlinesOf(d.shape).rings.length > 0)
    const ring = largest(candidates.map((d) => largest(outlinesOf(d.shape).rings)!))
    if (!ring) continue
    const draft = candidates.find((d) => outlinesOf(d.shape).rings.includes(ring))!
    const why = `No feature is named as the site boundary, so the largest ${role === 'zone' ? 'zone' : 'unnamed outline'}, ${draft.label}, became the boundary; name a feature "Boundary" to choose another.`
    return { draft, ring, detail: outlineDetail(draft.shape), note: why }
  }
  return { draft: null, ring: null, detail: [], note: null }
}

// ---- Building the model ----

type UsedOutcome = Extract<SiteFeatureOutcome, { status: 'used' }>

interface Build {
  projection: LocalProjection
  boundary: PolygonM
  ids: Set<string>
  zones: Zone[]
  obstructions: Obstruction[]
  mountingPoints: MountingPoint[]
}

/** Unlike `normalise`, keeps "W2" whole: ids are read by people, and "w-2" is not what the file said. */
/** Plain lower-case letters, digits and dashes: for ids and file names, whatever the name holds. */
export function slug(text: string): string {
  const plain = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
  return plain.replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 48).replace(/-+$/, '')
}

/** Ids from the feature's id or name, so a re-import of the same file gives the same ids; repeats get -2, -3… */
function allocateIds(build: Build, draft: Draft, fallback: string, count: number): string[] {
  const base = (draft.idBase && slug(draft.idBase)) || `${fallback}-${draft.index + 1}`
  const ids: string[] = []
  for (let i = 1; i <= count; i++) {
    const wanted = count === 1 ? base : `${base}-${i}`
    let id = wanted
    for (let n = 2; build.ids.has(id); n++) id = `${wanted}-${n}`
    build.ids.add(id)
    ids.push(id)
  }
  return ids
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

function listWords(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/** The first hit of a role's words, which sets its defaults. */
function leadingTerm(draft: Draft, category: Category): Term | null {
  return draft.hits.find((hit) => hit.entry.category === category)?.entry ?? null
}

interface Resolved<T> {
  value: T
  assumed: string | null
  note: string | null
}

function fromProperty<T>(props: Props, keys: readonly string[], parse: (value: unknown) => Parsed<T>, what: string, fallback: T, describe: (value: T) => string): Resolved<T> {
  const found = prop(props, keys)
  if (!found) return { value: fallback, assumed: describe(fallback), note: null }
  const parsed = parse(found.value)
  if (parsed.ok) return { value: parsed.value, assumed: null, note: null }
  return { value: fallback, assumed: null, note: `Its ${what} ${parsed.problem}, so ${describe(fallback)} was taken.` }
}

function materialOf(draft: Draft, implied: ObstructionMaterial | undefined): Resolved<ObstructionMaterial> {
  const explicit = prop(draft.props, propertyKeys.material)
  if (explicit) {
    const hit = typeof explicit.value === 'string' ? findWords(normalise(explicit.value), materialTerms)[0] : undefined
    if (hit) return { value: hit.entry.material, assumed: null, note: null }
    const known = Object.keys(typicalAttenuationDb).join(', ')
    return { value: 'other', assumed: null, note: `Its material ${quoted(explicit.value)} is not one the console knows (${known}), so it was taken as other.` }
  }
  const construction = materialTerms.filter((entry) => !entry.implied)
  for (const source of draft.sources) {
    const hit = findWords(source.text, construction)[0]
    if (hit) return { value: hit.entry.material, assumed: null, note: null }
  }
  if (implied) return { value: implied, assumed: null, note: null }
  return { value: 'other', assumed: 'material other', note: null }
}

interface ObstructionTraits {
  material: ObstructionMaterial
  heightM: number
  attenuationDb: number
  blocksSight: boolean
  /** What the file did not say, and what was wrong with what it did. */
  remarks: string
}

function obstructionTraits(draft: Draft, lead: Term): ObstructionTraits {
  const material = materialOf(draft, lead.material)
  const height = fromProperty(draft.props, propertyKeys.height, parseMetres, 'height', lead.heightM, (v) => `${v} m high`)
  const typical = typicalAttenuationDb[material.value]
  const attenuation = fromProperty(draft.props, propertyKeys.attenuation, parseDecibels, 'attenuation', typical, (v) => `${v} dB (typical for ${material.value})`)
  // A fence's mesh is seen through; everything else in the table stops a camera and a PIR.
  const sight = fromProperty(draft.props, propertyKeys.blocksSight, parseBoolean, 'blocksSight', material.value !== 'fence', (v) => (v ? 'opaque' : 'see-through'))
  const resolved = [material, height, attenuation]
  return {
    material: material.value,
    heightM: height.value,
    attenuationDb: attenuation.value,
    blocksSight: sight.value,
    remarks: remarks(resolved.map((r) => r.assumed), [...resolved, sight].map((r) => r.note)),
  }
}

function remarks(assumed: readonly (string | null)[], notes: readonly (string | null)[]): string {
  const said = assumed.filter((a): a is string => a !== null)
  const lines = said.length ? [`Assumed, as the file does not say: ${listWords(said)}.`] : []
  return [...lines, ...notes.filter((n): n is string => n !== null)].map((line) => ` ${line}`).join('')
}

function traitWords(t: ObstructionTraits, each: boolean): string {
  return `${t.attenuationDb} dB${each ? ' each' : ''}, ${t.heightM} m high${t.blocksSight ? '' : ', see-through'}`
}

/** "concrete wall", but "fence" and "hedge": the thing already says its material. */
function thingWords(traits: ObstructionTraits, lead: Term): string {
  return traits.material === lead.material ? lead.noun : `${traits.material} ${lead.noun}`
}

function used(draft: Draft, became: SiteFeatureRole[], ids: string[], message: string): UsedOutcome {
  return { index: draft.index, name: draft.name, status: 'used', became, ids, message }
}

function buildSegments(build: Build, draft: Draft, lead: Term): { ids: string[]; traits: ObstructionTraits } | null {
  const edges = polylinesOf(draft.shape).flatMap((line) => edgesOf(projectLine(build.projection, line)))
  if (!edges.length) return null
  const traits = obstructionTraits(draft, lead)
  const ids = allocateIds(build, draft, lead.noun.replace(/ /g, '-'), edges.length)
  edges.forEach(([a, b], i) => {
    const { material, heightM, blocksSight, attenuationDb } = traits
    build.obstructions.push({ id: ids[i]!, shape: { kind: 'segment', a, b }, material, heightM, blocksSight, attenuationDb })
  })
  return { ids, traits }
}

function addBarrier(build: Build, draft: Draft): SiteFeatureOutcome {
  const lead = leadingTerm(draft, 'barrier') ?? leadingTerm(draft, 'obstruction')!
  const lines = polylinesOf(draft.shape).map((line) => projectLine(build.projection, line))
  if (outsideBoundary(lines, false, build.boundary)) return skipped(draft.index, draft.name, 'it lies outside the site boundary')
  const made = buildSegments(build, draft, lead)
  if (!made) return skipped(draft.index, draft.name, 'its line has no length at millimetre precision')
  const { ids, traits } = made
  const what = `${thingWords(traits, lead)} ${ids.length === 1 ? 'segment' : 'segments'}`
  return used(draft, ['obstruction'], ids, `${draft.label} became ${ids.length === 1 ? 'a' : ids.length} ${what} (${traitWords(traits, ids.length > 1)}).${traits.remarks}`)
}

function projectOutlines(build: Build, draft: Draft): PolygonM[] {
  return outlinesOf(draft.shape).rings.map((ring) => projectRing(build.projection, ring)).filter((ring): ring is PolygonM => ring !== null)
}

function holeRemark(draft: Draft, what: string): string {
  const { holes } = outlinesOf(draft.shape)
  return holes ? ` Its ${plural(holes, 'hole')} ${holes === 1 ? 'was' : 'were'} ignored: ${what}.` : ''
}

function addFootprint(build: Build, draft: Draft): SiteFeatureOutcome {
  const lead = leadingTerm(draft, 'footprint') ?? leadingTerm(draft, 'obstruction')!
  const rings = projectOutlines(build, draft)
  if (!rings.length) return skipped(draft.index, draft.name, 'its outline collapses to fewer than three corners at millimetre precision')
  if (outsideBoundary(rings, true, build.boundary)) return skipped(draft.index, draft.name, 'it lies outside the site boundary')
  const traits = obstructionTraits(draft, lead)
  const ids = allocateIds(build, draft, lead.noun.replace(/ /g, '-'), rings.length)
  rings.forEach((points, i) => {
    const { material, heightM, blocksSight, attenuationDb } = traits
    build.obstructions.push({ id: ids[i]!, shape: { kind: 'polygon', points }, material, heightM, blocksSight, attenuationDb })
  })
  const what = rings.length === 1 ? `a ${lead.noun} footprint` : `${rings.length} ${lead.noun} footprints`
  const holes = holeRemark(draft, 'a footprint is solid to the radio model, courtyards included')
  return used(draft, ['obstruction'], ids, `${draft.label} became ${what} (${traits.material}, ${traitWords(traits, false)}).${traits.remarks}${holes}`)
}

function zoneKindOf(draft: Draft): Resolved<ZoneKind> {
  const explicit = prop(draft.props, propertyKeys.zoneKind)
  const texts = [...(typeof explicit?.value === 'string' ? [normalise(explicit.value)] : []), ...draft.sources.map((s) => s.text)]
  for (const text of texts) {
    const hit = findWords(text, zoneKindTerms)[0]
    if (hit) return { value: hit.entry.kind, assumed: null, note: null }
  }
  return { value: 'required', assumed: null, note: 'Its kind is not stated, so it is taken as required; put "required", "optional" or "exclusion" in its name to choose.' }
}

function buildZones(build: Build, draft: Draft, rings: readonly PolygonM[]): string {
  const kind = zoneKindOf(draft)
  const ids = allocateIds(build, draft, 'zone', rings.length)
  const name = draft.name ?? `Zone ${draft.index + 1}`
  rings.forEach((polygon, i) => build.zones.push({ id: ids[i]!, name: rings.length === 1 ? name : `${name} (part ${i + 1})`, polygon, kind: kind.value }))
  const what = rings.length === 1 ? `a ${kind.value} zone` : `${rings.length} ${kind.value} zones`
  return `${what}.${kind.note ? ` ${kind.note}` : ''}`
}

function addZone(build: Build, draft: Draft): SiteFeatureOutcome {
  const rings = projectOutlines(build, draft)
  if (!rings.length) return skipped(draft.index, draft.name, 'its outline collapses to fewer than three corners at millimetre precision')
  if (outsideBoundary(rings, true, build.boundary)) return skipped(draft.index, draft.name, 'it lies outside the site boundary')
  const countBefore = build.zones.length
  const what = buildZones(build, draft, rings)
  const ids = build.zones.slice(countBefore).map((zone) => zone.id)
  return used(draft, ['zone'], ids, `${draft.label} became ${what}${holeRemark(draft, 'a zone has no holes; draw them as excluded zones')}`)
}

/** A structure's word sets the height; device words, where there are any, narrow what it takes ("Camera pole"). */
function mountDefaults(draft: Draft): { noun: string; heightM: number; kinds: readonly DeviceKind[] } {
  const hits = draft.hits.map((hit) => hit.entry).filter((entry) => entry.category === 'mount')
  const structure = hits.find((entry) => !entry.deviceWord) ?? hits[0] ?? genericMount
  const devices = hits.filter((entry) => entry.deviceWord)
  const kinds = new Set((devices.length ? devices : [structure]).flatMap((entry) => entry.kinds ?? allKinds))
  return { noun: structure.noun, heightM: structure.heightM, kinds: allKinds.filter((kind) => kinds.has(kind)) }
}

/** Bearings only where the file gives them: a mount without any may face anywhere (placement tries them all). */
function orientationsOf(props: Props): Resolved<number[]> {
  if (!prop(props, propertyKeys.orientations)) return { value: [], assumed: null, note: null }
  return fromProperty(props, propertyKeys.orientations, parseBearings, 'orientation', [], () => 'any direction')
}

function addMounts(build: Build, draft: Draft): SiteFeatureOutcome {
  const points = draft.shape.kind === 'point' ? draft.shape.points.map((p) => project(build.projection, p)) : []
  const inside = points.filter((p) => build.boundary.length < 3 || pointInRing(p, build.boundary))
  if (!inside.length) return skipped(draft.index, draft.name, 'it lies outside the site boundary')
  const defaults = mountDefaults(draft)
  const height = fromProperty(draft.props, propertyKeys.height, parseMetres, 'height', defaults.heightM, (v) => `${v} m up`)
  const kinds = fromProperty(draft.props, propertyKeys.allowedKinds, parseKinds, 'allowed kinds', defaults.kinds, listWords)
  const facing = orientationsOf(draft.props)
  const orientations = facing.value.length ? { orientationsDeg: facing.value } : {}
  const ids = allocateIds(build, draft, defaults.noun.replace(/ /g, '-'), inside.length)
  inside.forEach((p, i) => build.mountingPoints.push({ id: ids[i]!, x: p.x, y: p.y, heightM: height.value, allowedKinds: kinds.value, ...orientations }))
  const kind = defaults.noun === genericMount.noun ? '' : ` (${defaults.noun})`
  const what = inside.length === 1 ? `a mounting point${kind}` : `${inside.length} mounting points${kind}`
  const faces = facing.value.length ? `, facing ${facing.value.map((b) => `${b}°`).join(' or ')}` : ''
  const dropped = points.length - inside.length ? ` ${plural(points.length - inside.length, 'point')} outside the site boundary ${points.length - inside.length === 1 ? 'was' : 'were'} left out.` : ''
  const unnamed = draft.hits.length ? '' : ' Nothing in the file says what it is, so it is offered as a mounting point for any device.'
  return used(draft, ['mounting point'], ids, `${draft.label} became ${what} ${height.value} m up for ${listWords(kinds.value)}${faces}.${unnamed}${remarks([height.assumed], [height.note, kinds.note, facing.note])}${dropped}`)
}

/** The boundary's feature may also be a fence along it ("Perimeter fence") or the zone it was chosen from. */
function addBoundary(build: Build, draft: Draft, choice: BoundaryChoice): SiteFeatureOutcome {
  const head = `${draft.label} became the site boundary (${build.boundary.length} corners)`
  const chosen = choice.note ? ' No feature was named as the boundary, and it is the largest outline.' : ''
  const detail = choice.detail.map((d) => ` ${d}`).join('')
  if (draft.role === 'zone') {
    const countBefore = build.zones.length
    const what = buildZones(build, draft, projectOutlines(build, draft))
    return used(draft, ['boundary', 'zone'], build.zones.slice(countBefore).map((zone) => zone.id), `${head} and ${what}${chosen}${detail}`)
  }
  const lead = leadingTerm(draft, 'barrier')
  const made = draft.role === 'perimeter' && lead ? buildSegments(build, draft, lead) : null
  if (!made || !lead) return used(draft, ['boundary'], [], `${head}.${chosen}${detail}`)
  const { ids, traits } = made
  const along = `${plural(ids.length, `${thingWords(traits, lead)} segment`)} along it (${traitWords(traits, ids.length > 1)})`
  return used(draft, ['boundary', 'obstruction'], ids, `${head} and ${along}.${traits.remarks}${detail}`)
}

function addDraft(build: Build, draft: Draft, choice: BoundaryChoice): SiteFeatureOutcome {
  if (draft === choice.draft) return addBoundary(build, draft, choice)
  switch (draft.role) {
    case 'boundary':
      return skipped(draft.index, draft.name, `the site already has a boundary, ${choice.draft!.label}, and a site has one outline; call it a zone if it is one`)
    case 'perimeter':
    case 'barrier':
      return addBarrier(build, draft)
    case 'footprint':
      return addFootprint(build, draft)
    case 'zone':
      return addZone(build, draft)
    case 'mount':
      return addMounts(build, draft)
    case 'unclassified':
      return skipped(draft.index, draft.name, unclassifiedReason(draft))
  }
}

function unclassifiedReason(draft: Draft): string {
  if (classOf(draft.shape) === 'open') {
    return 'nothing in its name, folder, style or properties says what it is (a wall, a fence, a hedge…), and a line is not guessed at; name it or set its kind property'
  }
  return 'it does not say whether it is a zone, a building, a wall or an exclusion; name it or set its kind property'
}

/** No boundary in the file: the rectangle around everything used, with room to walk round the outermost things. */
function extentBoundary(projection: LocalProjection, drafts: readonly Draft[]): PolygonM {
  const points = drafts.filter((d) => d.role !== 'unclassified').flatMap((d) => positionsOf(d.shape).map((p) => project(projection, p)))
  if (!points.length) return []
  const margin = extentMarginM
  const xs = points.map((p) => p.x)
  const ys = points.map((p) => p.y)
  const [x0, x1, y0, y1] = [Math.min(...xs) - margin, Math.max(...xs) + margin, Math.min(...ys) - margin, Math.max(...ys) + margin]
  return [{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }].map((p) => ({ x: mm(p.x), y: mm(p.y) }))
}

const extentMarginM = 5

/** A local plane is exact to millimetres over a few kilometres; a file far larger is rarely one site. */
const largestSiteM = 10_000

type OriginSource = 'given' | 'boundary' | 'features' | 'nothing'

function originOf(options: SiteFromFeaturesOptions, choice: BoundaryChoice, drafts: readonly Draft[], collection: FeatureCollection): { origin: LatLon; source: OriginSource } {
  if (options.origin) return { origin: options.origin, source: 'given' }
  if (choice.ring) return { origin: ringCentroid(choice.ring), source: 'boundary' }
  const centre = boxCentre(drafts.filter((d) => d.role !== 'unclassified').flatMap((d) => positionsOf(d.shape))) ?? boxCentre(collectionPositions(collection))
  return centre ? { origin: centre, source: 'features' } : { origin: { lat: 0, lon: 0 }, source: 'nothing' }
}

/** Even when nothing was usable, the site sits where the file was, so the map opens there. */
function collectionPositions(collection: FeatureCollection): Position[] {
  return collection.features.flatMap((f) => {
    const check = f.geometry ? checkGeometry(f.geometry) : null
    const shape = check?.ok ? shapeOf(check.geometry) : null
    return shape ? positionsOf(shape) : []
  })
}

const originWords: Record<OriginSource, string> = {
  given: 'kept from the existing plan',
  boundary: 'the centre of the boundary',
  features: 'the centre of the features in the file',
  nothing: 'nothing in the file has a position to centre on',
}

function siteNotes(site: SiteModel, choice: BoundaryChoice, origin: LatLon, source: OriginSource): string[] {
  const notes: string[] = []
  if (choice.note) notes.push(choice.note)
  if (!choice.ring && site.boundary.length) {
    notes.push(`No feature is named as the site boundary and none is an outline, so the boundary is the rectangle around everything imported, ${extentMarginM} m out; draw the real boundary when you can.`)
  }
  if (!site.boundary.length) notes.push('Nothing in the file could become part of the site plan, so the site has no boundary yet.')
  const where = `${formatCoordinate(origin.lat)}, ${formatCoordinate(origin.lon)}`
  notes.push(`Origin ${where}: ${originWords[source]}.`)
  const xs = site.boundary.map((p) => p.x)
  const ys = site.boundary.map((p) => p.y)
  const span = xs.length ? Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) : 0
  if (span > largestSiteM) {
    notes.push(`The site spans ${(span / 1000).toFixed(0)} km; the console plans sites of a few kilometres, where its flat map is exact. Check that this is the right file, or split it into sites.`)
  }
  return notes
}

function summarise(site: SiteModel, features: readonly SiteFeatureOutcome[]): string {
  const parts = [plural(site.zones.length, 'zone'), plural(site.obstructions.length, 'obstruction'), plural(site.mountingPoints.length, 'mounting point')]
  const skippedCount = features.filter((f) => f.status === 'skipped').length
  return `${listWords(parts)} from ${plural(features.length, 'feature')}${skippedCount ? `; ${skippedCount} skipped` : ''}.`
}

/**
 * The planning model from an imported collection, and a report a planner can act on. The first feature
 * named as a boundary is the boundary; without one, the largest unnamed outline (or else the largest zone)
 * is, and without any outline the rectangle around everything imported. The origin is the boundary's
 * centroid unless `options.origin` keeps an existing one. Never throws on a collection the import produced.
 */
export function siteFromFeatures(collection: FeatureCollection, options: SiteFromFeaturesOptions = {}): SiteFromFeaturesResult {
  const report = options.importReport && options.importReport.imported.length === collection.features.length ? options.importReport : undefined
  const read = collection.features.map((feature, index) => readFeature(feature, index, report))
  const drafts = read.filter((r): r is Draft => 'shape' in r)
  const choice = chooseBoundary(drafts)
  const { origin, source } = originOf(options, choice, drafts, collection)
  const projection = createLocalProjection(origin)
  const boundary = choice.ring ? projectRing(projection, choice.ring) ?? [] : extentBoundary(projection, drafts)
  const build: Build = { projection, boundary, ids: new Set(), zones: [], obstructions: [], mountingPoints: [] }
  const features = read.map((r) => ('shape' in r ? addDraft(build, r, choice) : r))
  const site: SiteModel = {
    name: options.name ?? 'Imported site',
    origin,
    boundary,
    zones: build.zones,
    obstructions: build.obstructions,
    mountingPoints: build.mountingPoints,
    devices: [],
  }
  const problems = validateSite(site, options.catalogue ?? [])
  return { site, report: { features, notes: siteNotes(site, choice, origin, source), problems, summary: summarise(site, features) } }
}
