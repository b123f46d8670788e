// What a site file import produces, and the pure judgements behind it: is this geometry usable on a site
// map (coordinates finite and on the globe, lines and rings long enough, rings closed and simple), what kind
// of feature is it, where do an overlay image's corners fall. The core reads KML, KMZ, GeoJSON and images
// (electron/core/site); everything it decides about the geometry it decides here, so the screen and the
// tests can ask the same questions of any GeoJSON.
//
// The rule that runs through it: a feature is imported whole or not at all, and every feature that is not
// imported is named in the report with the reason, so that nothing arrives half-imported without anyone
// being told.

// ---- GeoJSON (RFC 7946), typed here because shared/domain may not import @types/geojson ----

/** [longitude, latitude] or [longitude, latitude, altitude], WGS 84 degrees (and metres). */
export type Position = number[]

export interface PointGeometry { type: 'Point'; coordinates: Position }
export interface MultiPointGeometry { type: 'MultiPoint'; coordinates: Position[] }
export interface LineStringGeometry { type: 'LineString'; coordinates: Position[] }
export interface MultiLineStringGeometry { type: 'MultiLineString'; coordinates: Position[][] }
export interface PolygonGeometry { type: 'Polygon'; coordinates: Position[][] }
export interface MultiPolygonGeometry { type: 'MultiPolygon'; coordinates: Position[][][] }
export interface GeometryCollection { type: 'GeometryCollection'; geometries: Geometry[] }

export type Geometry =
  | PointGeometry
  | MultiPointGeometry
  | LineStringGeometry
  | MultiLineStringGeometry
  | PolygonGeometry
  | MultiPolygonGeometry
  | GeometryCollection

export interface Feature {
  type: 'Feature'
  geometry: Geometry | null
  properties: Record<string, unknown> | null
  id?: string | number
  bbox?: number[]
}

export interface FeatureCollection {
  type: 'FeatureCollection'
  features: Feature[]
}

// ---- The report ----

export type FeatureKind = 'point' | 'line' | 'polygon' | 'mixed' | 'overlay'
export type SiteFileFormat = 'kml' | 'kmz' | 'geojson' | 'image'

/**
 * `index` is the feature's position in the order the source yields features: for GeoJSON the `features`
 * array; for KML togeojson's order (every Placemark in document order, then every GroundOverlay, then every
 * NetworkLink), which is also the order of togeojson's own output. `imported[i]` describes
 * `collection.features[i]`.
 */
export interface ImportedFeature {
  index: number
  name: string | null
  kind: FeatureKind
  /** KML folder path, outermost first, joined with " / "; null at the top level and for GeoJSON. */
  folder: string | null
}

export interface SkippedFeature {
  index: number
  name: string | null
  folder: string | null
  /** 1-based line of the element in the KML, where the parser knows it. */
  line: number | null
  /** For a person: what is wrong and, where there is one, what to do about it. */
  reason: string
}

export interface ImportReport {
  format: SiteFileFormat
  imported: ImportedFeature[]
  skipped: SkippedFeature[]
  /** Things that did not stop a feature but that someone should know: data dropped, images not embedded. */
  warnings: string[]
}

// ---- Overlays ----

export type ImageMime = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'

export type OverlayImage =
  /** The image came with the file (a KMZ entry, or the image file itself). */
  | { kind: 'embedded'; fileName: string; mime: ImageMime; bytes: Uint8Array; width: number; height: number }
  /** The KML names an image that is not inside it: a URL (never fetched: the console works offline) or a path. */
  | { kind: 'linked'; href: string }

/** KML's LatLonBox: degrees; `rotation` turns the image counter-clockwise about the box's centre. */
export interface LatLonBox {
  north: number
  south: number
  east: number
  west: number
  rotation: number
}

/** [lon, lat] of the image's top-left, top-right, bottom-right and bottom-left corners (MapLibre's image source order). */
export type OverlayCorners = [Position, Position, Position, Position]

export interface SiteOverlay {
  /** The source feature index of the overlay's footprint (KML), or 0 for an image file. */
  index: number
  name: string | null
  image: OverlayImage
  /** The LatLonBox as the KML declares it; null for a gx:LatLonQuad or an image not placed yet. */
  bounds: LatLonBox | null
  /** Where the image's corners fall; null for an image that still has to be placed (by two points). */
  corners: OverlayCorners | null
}

// ---- The result of importing one file ----

export type SiteImportErrorCode =
  | 'empty'
  | 'too-large'
  | 'unsupported-format'
  | 'encoding'
  | 'doctype'
  | 'malformed-xml'
  | 'not-kml'
  | 'malformed-json'
  | 'not-geojson'
  | 'unsupported-crs'
  | 'bad-archive'
  | 'archive-limits'
  | 'no-kml-in-archive'
  | 'internal'

export interface SiteImportError {
  code: SiteImportErrorCode
  /** Says what is wrong and that nothing was imported. */
  message: string
  line?: number
  column?: number
}

export type SiteImportResult =
  | { ok: true; collection: FeatureCollection; overlays: SiteOverlay[]; report: ImportReport }
  | { ok: false; error: SiteImportError }

export interface SiteImportLimits {
  /** Any file as handed over, before anything is decoded. */
  maxFileBytes: number
  /** KML or GeoJSON text, whether a file of its own or inflated from a KMZ. */
  maxTextBytes: number
  /** Everything inflated from one KMZ (the KML and the overlay images it uses), by the sizes the archive declares. */
  maxUncompressedBytes: number
  /** Entries in a KMZ's central directory. */
  maxArchiveEntries: number
  /** Pairs of polygon edges compared per polygon before the self-intersection check gives up (and says so). */
  maxEdgePairTests: number
}

const MiB = 1024 * 1024

/**
 * Why these numbers: a site survey's KML is rarely more than a few megabytes, and 20 MiB of KML already
 * becomes roughly half a gigabyte of DOM and GeoJSON in the core and a few seconds of parsing; a KMZ may
 * also carry an orthophoto, so the file limit is larger than the text limit, and the inflated total is
 * bounded by what the archive declares and checked again while inflating, so a zip bomb costs nothing.
 */
export const defaultSiteImportLimits: Readonly<SiteImportLimits> = {
  maxFileBytes: 50 * MiB,
  maxTextBytes: 20 * MiB,
  maxUncompressedBytes: 64 * MiB,
  maxArchiveEntries: 2000,
  maxEdgePairTests: 5_000_000,
}

export function formatBytes(bytes: number): string {
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} bytes`
}

// ---- Coordinates ----

/** Coordinates in messages: enough digits to find the spot (1 cm), no float noise. */
export function formatCoordinate(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toFixed(7))) : String(value)
}

/** A problem with one position, or null when it is a usable WGS 84 longitude/latitude[/altitude]. */
export function positionProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return 'a position must be an array [longitude, latitude]'
  if (value.length < 2) return `a position needs longitude and latitude, this one has ${value.length} number${value.length === 1 ? '' : 's'}`
  for (let i = 0; i < value.length; i++) {
    const n: unknown = value[i]
    const what = i === 0 ? 'longitude' : i === 1 ? 'latitude' : i === 2 ? 'altitude' : `value ${i + 1}`
    if (typeof n !== 'number') return `${what} is ${n === null ? 'null' : typeof n}, not a number`
    if (!Number.isFinite(n)) return `${what} ${String(n)} is not a finite number`
  }
  const lon = value[0] as number
  const lat = value[1] as number
  if (lon < -180 || lon > 180) return `longitude ${formatCoordinate(lon)} is outside −180..180`
  if (lat < -90 || lat > 90) {
    // A latitude that fits as a longitude and the other way round is the commonest mistake in hand-made files.
    const swapped = Math.abs(lon) <= 90 && Math.abs(lat) <= 180 ? ' (are longitude and latitude swapped?)' : ''
    return `latitude ${formatCoordinate(lat)} is outside −90..90${swapped}`
  }
  return null
}

function samePoint(a: Position, b: Position): boolean {
  return a[0] === b[0] && a[1] === b[1]
}

function sameVertex(a: Position, b: Position): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// ---- Geometry checks ----

export type GeometryCheck =
  | { ok: true; geometry: Geometry; kind: Exclude<FeatureKind, 'overlay'>; notes: string[] }
  | { ok: false; reason: string }

export interface GeometryCheckOptions {
  maxEdgePairTests?: number
}

/** RFC 7946 advises against nesting collections at all; a few levels is generous, a thousand is an attack. */
const maxCollectionDepth = 4

class GeometryProblem {
  constructor(readonly reason: string) {}
}

function at(where: string, problem: string): string {
  return where ? `${where}: ${problem}` : problem
}

function checkPositionAt(value: unknown, where: string): Position {
  const problem = positionProblem(value)
  if (problem) throw new GeometryProblem(at(where, problem))
  return value as Position
}

function arrayAt(value: unknown, where: string, what: string): unknown[] {
  if (!Array.isArray(value)) throw new GeometryProblem(at(where, `${what} must be an array`))
  return value
}

function join(where: string, part: string): string {
  return where ? `${where}, ${part}` : part
}

function checkPositions(value: unknown, where: string, minimum: number, what: string): Position[] {
  const list = arrayAt(value, where, 'coordinates')
  const positions = list.map((p, i) => checkPositionAt(p, join(where, `position ${i + 1}`)))
  if (positions.length < minimum) {
    throw new GeometryProblem(at(where, `${what} has ${positions.length} position${positions.length === 1 ? '' : 's'}; it needs at least ${minimum}`))
  }
  return positions
}

function checkRing(value: unknown, where: string): Position[] {
  const ring = checkPositions(value, where, 4, 'a polygon ring')
  if (!sameVertex(ring[0]!, ring[ring.length - 1]!)) {
    throw new GeometryProblem(at(where, 'the ring is not closed (its first and last positions differ)'))
  }
  const distinct = new Set(ring.map((p) => `${p[0]},${p[1]}`)).size
  if (distinct < 3) throw new GeometryProblem(at(where, `the ring has ${distinct} distinct corner${distinct === 1 ? '' : 's'}; it encloses no area`))
  return ring
}

function checkPolygonRings(value: unknown, where: string, maxTests: number, notes: string[]): Position[][] {
  const rings = arrayAt(value, where, 'coordinates').map((r, i) => checkRing(r, join(where, `ring ${i + 1}`)))
  if (rings.length === 0) throw new GeometryProblem(at(where, 'the polygon has no rings'))
  const found = findPolygonIntersection(rings, maxTests)
  if (found === 'unchecked') {
    notes.push(at(where, `not fully checked for self-intersection: too many edges (more than ${maxTests.toLocaleString('en')} edge pairs to compare)`))
  } else if (found) {
    throw new GeometryProblem(at(where, describeIntersection(found)))
  }
  return rings
}

function kindOf(type: Geometry['type']): 'point' | 'line' | 'polygon' {
  switch (type) {
    case 'Point':
    case 'MultiPoint':
      return 'point'
    case 'LineString':
    case 'MultiLineString':
      return 'line'
    default:
      return 'polygon'
  }
}

/** What a geometry draws as: collections whose parts are all of one kind count as that kind. */
export function classifyGeometry(geometry: Geometry): Exclude<FeatureKind, 'overlay'> {
  if (geometry.type !== 'GeometryCollection') return kindOf(geometry.type)
  const kinds = new Set(geometry.geometries.map(classifyGeometry))
  return kinds.size === 1 ? [...kinds][0]! : 'mixed'
}

function checkGeometryAt(value: unknown, where: string, depth: number, maxTests: number, notes: string[]): Geometry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GeometryProblem(at(where, 'the geometry is not an object'))
  const record = value as Record<string, unknown>
  const type = record.type
  const coordinates = record.coordinates
  switch (type) {
    case 'Point':
      checkPositionAt(coordinates, where)
      break
    case 'MultiPoint':
      checkPositions(coordinates, where, 1, 'a MultiPoint')
      break
    case 'LineString':
      checkPositions(coordinates, where, 2, 'a line')
      break
    case 'MultiLineString': {
      const lines = arrayAt(coordinates, where, 'coordinates')
      if (lines.length === 0) throw new GeometryProblem(at(where, 'the MultiLineString has no lines'))
      lines.forEach((line, i) => checkPositions(line, join(where, `line ${i + 1}`), 2, 'a line'))
      break
    }
    case 'Polygon':
      checkPolygonRings(coordinates, where, maxTests, notes)
      break
    case 'MultiPolygon': {
      const polygons = arrayAt(coordinates, where, 'coordinates')
      if (polygons.length === 0) throw new GeometryProblem(at(where, 'the MultiPolygon has no polygons'))
      polygons.forEach((polygon, i) => checkPolygonRings(polygon, join(where, `polygon ${i + 1}`), maxTests, notes))
      break
    }
    case 'GeometryCollection': {
      if (depth >= maxCollectionDepth) throw new GeometryProblem(at(where, `geometry collections are nested more than ${maxCollectionDepth} deep`))
      const parts = arrayAt(record.geometries, where, 'geometries')
      if (parts.length === 0) throw new GeometryProblem(at(where, 'the GeometryCollection is empty'))
      parts.forEach((part, i) => checkGeometryAt(part, join(where, `part ${i + 1}`), depth + 1, maxTests, notes))
      break
    }
    default:
      throw new GeometryProblem(at(where, typeof type === 'string' ? `"${type}" is not a GeoJSON geometry type` : 'the geometry has no type'))
  }
  return value as Geometry
}

/**
 * Checks a geometry the way the site map needs it, and says precisely what is wrong with the first problem
 * found: every position finite and within −180..180 / −90..90, lines with two positions or more, polygon
 * rings closed, with three distinct corners, and simple (see findPolygonIntersection). Notes are for checks
 * that could not be finished; the geometry is still usable.
 */
export function checkGeometry(value: unknown, options: GeometryCheckOptions = {}): GeometryCheck {
  const notes: string[] = []
  try {
    const geometry = checkGeometryAt(value, '', 0, options.maxEdgePairTests ?? defaultSiteImportLimits.maxEdgePairTests, notes)
    return { ok: true, geometry, kind: classifyGeometry(geometry), notes }
  } catch (error) {
    if (error instanceof GeometryProblem) return { ok: false, reason: error.reason }
    throw error
  }
}

// ---- Self-intersection ----

export interface PolygonIntersection {
  /** crossing: two edges cross; touching: an edge meets a non-adjacent edge of its own ring; overlap: edges
   *  run along each other; spike: a ring doubles back on itself. */
  kind: 'crossing' | 'touching' | 'overlap' | 'spike'
  at: [number, number]
  /** 0-based ring index in the polygon, and 0-based position index (in the ring as given) where each edge starts. */
  first: { ring: number; edge: number }
  second: { ring: number; edge: number }
}

interface Segment {
  ring: number
  /** Index in the ring's de-duplicated cycle, for adjacency. */
  cycleIndex: number
  cycleLength: number
  /** Index of the starting position in the ring as given, for messages. */
  start: number
  ax: number
  ay: number
  bx: number
  by: number
  minX: number
  maxX: number
  minY: number
  maxY: number
}

function ringSegments(ring: Position[], ringIndex: number): Segment[] {
  // Repeated consecutive positions are common in survey exports and harmless; they must not count as
  // edges, or every duplicate would "touch" its neighbours.
  const cycle: { p: Position; start: number }[] = []
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i]!
    const last = cycle[cycle.length - 1]
    if (!last || !samePoint(last.p, p)) cycle.push({ p, start: i })
  }
  if (cycle.length > 1 && samePoint(cycle[0]!.p, cycle[cycle.length - 1]!.p)) cycle.pop()
  const n = cycle.length
  const segments: Segment[] = []
  for (let k = 0; k < n; k++) {
    const a = cycle[k]!
    const b = cycle[(k + 1) % n]!
    const ax = a.p[0]!
    const ay = a.p[1]!
    const bx = b.p[0]!
    const by = b.p[1]!
    segments.push({
      ring: ringIndex,
      cycleIndex: k,
      cycleLength: n,
      start: a.start,
      ax,
      ay,
      bx,
      by,
      minX: Math.min(ax, bx),
      maxX: Math.max(ax, bx),
      minY: Math.min(ay, by),
      maxY: Math.max(ay, by),
    })
  }
  return segments
}

function orient(px: number, py: number, qx: number, qy: number, rx: number, ry: number): number {
  return Math.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))
}

function withinBox(s: Segment, x: number, y: number): boolean {
  return x >= s.minX && x <= s.maxX && y >= s.minY && y <= s.maxY
}

type Contact = { kind: 'crossing' | 'touching' | 'overlap'; at: [number, number] }

function contact(s: Segment, t: Segment): Contact | null {
  const o1 = orient(s.ax, s.ay, s.bx, s.by, t.ax, t.ay)
  const o2 = orient(s.ax, s.ay, s.bx, s.by, t.bx, t.by)
  const o3 = orient(t.ax, t.ay, t.bx, t.by, s.ax, s.ay)
  const o4 = orient(t.ax, t.ay, t.bx, t.by, s.bx, s.by)
  if (o1 * o2 < 0 && o3 * o4 < 0) {
    const rx = s.bx - s.ax
    const ry = s.by - s.ay
    const qx = t.bx - t.ax
    const qy = t.by - t.ay
    const u = ((t.ax - s.ax) * qy - (t.ay - s.ay) * qx) / (rx * qy - ry * qx)
    return { kind: 'crossing', at: [s.ax + u * rx, s.ay + u * ry] }
  }
  if (o1 === 0 && o2 === 0) {
    // Collinear: project on the longer axis and compare intervals.
    const useX = Math.abs(s.bx - s.ax) >= Math.abs(s.by - s.ay)
    const key = (x: number, y: number): number => (useX ? x : y)
    const sLo = Math.min(key(s.ax, s.ay), key(s.bx, s.by))
    const sHi = Math.max(key(s.ax, s.ay), key(s.bx, s.by))
    const tLo = Math.min(key(t.ax, t.ay), key(t.bx, t.by))
    const tHi = Math.max(key(t.ax, t.ay), key(t.bx, t.by))
    const lo = Math.max(sLo, tLo)
    const hi = Math.min(sHi, tHi)
    if (lo > hi) return null
    const point = [s, t].flatMap((g) => [[g.ax, g.ay] as [number, number], [g.bx, g.by] as [number, number]]).find(([x, y]) => key(x, y) === lo)!
    return { kind: lo < hi ? 'overlap' : 'touching', at: point }
  }
  if (o1 === 0 && withinBox(s, t.ax, t.ay)) return { kind: 'touching', at: [t.ax, t.ay] }
  if (o2 === 0 && withinBox(s, t.bx, t.by)) return { kind: 'touching', at: [t.bx, t.by] }
  if (o3 === 0 && withinBox(t, s.ax, s.ay)) return { kind: 'touching', at: [s.ax, s.ay] }
  if (o4 === 0 && withinBox(t, s.bx, s.by)) return { kind: 'touching', at: [s.bx, s.by] }
  return null
}

function adjacent(s: Segment, t: Segment): boolean {
  if (s.ring !== t.ring) return false
  const d = Math.abs(s.cycleIndex - t.cycleIndex)
  return d === 1 || d === s.cycleLength - 1
}

/** Adjacent edges share a corner; they are wrong only when the second runs back along the first. */
function spike(s: Segment, t: Segment): [number, number] | null {
  // Order them so that s ends where t starts.
  const [first, second] = s.bx === t.ax && s.by === t.ay ? [s, t] : [t, s]
  const vx = first.bx
  const vy = first.by
  if (orient(first.ax, first.ay, vx, vy, second.bx, second.by) !== 0) return null
  const dot = (first.ax - vx) * (second.bx - vx) + (first.ay - vy) * (second.by - vy)
  return dot > 0 ? [vx, vy] : null
}

/**
 * Whether a polygon's rings are simple and keep out of each other's way, in the plane of longitude and
 * latitude (at site scale the difference from a geodesic test is far below survey accuracy). Within one
 * ring any contact between non-adjacent edges counts, and so does an edge doubling back (a spike); between
 * rings a crossing or a shared stretch counts, while touching at a single point is allowed (as in OGC Simple
 * Features). Edges are swept in order of their west end and compared only when their boxes overlap, so a
 * survey polygon of thousands of corners takes milliseconds; `maxTests` bounds the pathological cases and
 * the answer is then 'unchecked'. Returns the first problem found, or null.
 */
export function findPolygonIntersection(rings: Position[][], maxTests: number = defaultSiteImportLimits.maxEdgePairTests): PolygonIntersection | null | 'unchecked' {
  const segments = rings.flatMap((ring, i) => ringSegments(ring, i))
  segments.sort((a, b) => a.minX - b.minX)
  let tests = 0
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    for (let j = i + 1; j < segments.length; j++) {
      const t = segments[j]!
      if (t.minX > s.maxX) break
      if (++tests > maxTests) return 'unchecked'
      if (t.minY > s.maxY || t.maxY < s.minY) continue
      const [first, second] = s.ring < t.ring || (s.ring === t.ring && s.start <= t.start) ? [s, t] : [t, s]
      const edges = { first: { ring: first.ring, edge: first.start }, second: { ring: second.ring, edge: second.start } }
      if (adjacent(s, t)) {
        const point = s.cycleLength > 2 ? spike(s, t) : null
        if (point) return { kind: 'spike', at: point, ...edges }
        continue
      }
      const found = contact(s, t)
      if (!found) continue
      if (s.ring !== t.ring && found.kind === 'touching') continue
      return { ...found, ...edges }
    }
  }
  return null
}

export function describeIntersection(found: PolygonIntersection): string {
  const where = `(${formatCoordinate(found.at[0])}, ${formatCoordinate(found.at[1])})`
  const edge = (e: { ring: number; edge: number }): string => `the edge from position ${e.edge + 1} of ring ${e.ring + 1}`
  const pair = `${edge(found.first)} and ${edge(found.second)}`
  switch (found.kind) {
    case 'crossing':
      return found.first.ring === found.second.ring
        ? `the polygon crosses itself at ${where}: ${pair}; a self-crossing outline has no well-defined inside`
        : `ring ${found.second.ring + 1} crosses ring ${found.first.ring + 1} at ${where}: ${pair}`
    case 'touching':
      return `the polygon touches itself at ${where}: ${pair}`
    case 'overlap':
      return `edges run along each other from ${where}: ${pair}`
    case 'spike':
      return `the outline doubles back on itself at ${where}: ${pair}`
  }
}

// ---- Overlays ----

/** A problem with a LatLonBox, or null. The console does not place overlays across the antimeridian. */
export function latLonBoxProblem(box: LatLonBox): string | null {
  for (const key of ['north', 'south', 'east', 'west', 'rotation'] as const) {
    if (!Number.isFinite(box[key])) return `${key} is not a finite number`
  }
  if (box.north > 90 || box.south < -90) return `north ${formatCoordinate(box.north)} / south ${formatCoordinate(box.south)} must lie within −90..90`
  if (box.east > 180 || box.west < -180 || box.east < -180 || box.west > 180) return `east ${formatCoordinate(box.east)} / west ${formatCoordinate(box.west)} must lie within −180..180`
  if (box.north <= box.south) return `north ${formatCoordinate(box.north)} is not north of south ${formatCoordinate(box.south)}`
  if (box.east <= box.west) return `east ${formatCoordinate(box.east)} is not east of west ${formatCoordinate(box.west)} (an overlay across the antimeridian is not supported)`
  if (box.rotation < -180 || box.rotation > 180) return `rotation ${box.rotation} is outside −180..180`
  return null
}

/**
 * The corners of a LatLonBox image, rotated about the box's centre in the longitude/latitude plane: the
 * same arithmetic togeojson uses for the overlay's footprint polygon, so the image and its outline agree.
 */
export function latLonBoxCorners(box: LatLonBox): OverlayCorners {
  const cx = (box.west + box.east) / 2
  const cy = (box.south + box.north) / 2
  const angle = (box.rotation * Math.PI) / 180
  const turn = ([x, y]: [number, number]): Position => {
    const dx = x - cx
    const dy = y - cy
    const distance = Math.sqrt(dx * dx + dy * dy)
    const a = Math.atan2(dy, dx) + angle
    return [cx + Math.cos(a) * distance, cy + Math.sin(a) * distance]
  }
  if (box.rotation === 0) return [[box.west, box.north], [box.east, box.north], [box.east, box.south], [box.west, box.south]]
  return [turn([box.west, box.north]), turn([box.east, box.north]), turn([box.east, box.south]), turn([box.west, box.south])]
}

/** gx:LatLonQuad lists the corners counter-clockwise from the image's lower left. */
export function latLonQuadCorners(quad: [Position, Position, Position, Position]): OverlayCorners {
  const [lowerLeft, lowerRight, upperRight, upperLeft] = quad
  return [upperLeft, upperRight, lowerRight, lowerLeft]
}

export interface ImagePin {
  /** Pixel in the image, x to the right and y down from the top-left corner. */
  x: number
  y: number
  lon: number
  lat: number
}

export type OverlayPlacement = { ok: true; corners: OverlayCorners } | { ok: false; error: string }

/**
 * Places an image (a site plan, a drone photo) by two of its pixels pinned to two map positions: the
 * image is scaled, turned and moved but never sheared or mirrored, which is what two points determine.
 * The arithmetic runs in a local plane where a degree of longitude is shortened by cos(latitude), so a
 * square plan stays square; over a site's extent that plane is exact to well under a pixel.
 */
export function placeImageByTwoPoints(size: { width: number; height: number }, a: ImagePin, b: ImagePin): OverlayPlacement {
  for (const [label, v] of [['width', size.width], ['height', size.height]] as const) {
    if (!Number.isFinite(v) || v <= 0) return { ok: false, error: `the image ${label} must be a positive number` }
  }
  for (const [label, pin] of [['first', a], ['second', b]] as const) {
    if (![pin.x, pin.y].every(Number.isFinite)) return { ok: false, error: `the ${label} point's pixel is not a number` }
    const problem = positionProblem([pin.lon, pin.lat])
    if (problem) return { ok: false, error: `the ${label} point: ${problem}` }
  }
  if (a.x === b.x && a.y === b.y) return { ok: false, error: 'the two points are the same pixel; pick two points far apart on the image' }
  if (a.lon === b.lon && a.lat === b.lat) return { ok: false, error: 'the two points are the same place on the map; pick two points far apart' }
  const lat0 = ((a.lat + b.lat) / 2) * (Math.PI / 180)
  const k = Math.cos(lat0)
  if (k < 1e-6) return { ok: false, error: 'an image cannot be placed at a pole' }
  // Complex numbers: image point u = x − i·y (y flipped to point north), map point m = lon·k + i·lat;
  // m = s·u + t with s = (m_b − m_a) / (u_b − u_a).
  const ux = b.x - a.x
  const uy = -(b.y - a.y)
  const mx = (b.lon - a.lon) * k
  const my = b.lat - a.lat
  const d = ux * ux + uy * uy
  const sr = (mx * ux + my * uy) / d
  const si = (my * ux - mx * uy) / d
  const place = (x: number, y: number): Position => {
    const px = x - a.x
    const py = -(y - a.y)
    const X = a.lon * k + sr * px - si * py
    const Y = a.lat + si * px + sr * py
    return [X / k, Y]
  }
  const corners: OverlayCorners = [place(0, 0), place(size.width, 0), place(size.width, size.height), place(0, size.height)]
  for (const corner of corners) {
    const problem = positionProblem(corner)
    if (problem) return { ok: false, error: `the image would reach off the map (${problem}); check the two points` }
  }
  return { ok: true, corners }
}

// ---- Summary ----

export function nothingImported(skipped: number): string {
  return skipped ? 'Nothing in the file could be imported; the skipped list says why.' : 'The file holds no features to import.'
}

/** One line for a toast or a log: "Imported 12 features (3 points, 9 polygons) and 1 overlay; skipped 2." */
export function summarizeImport(report: ImportReport, overlayCount: number): string {
  const counts = new Map<FeatureKind, number>()
  for (const f of report.imported) if (f.kind !== 'overlay') counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1)
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`
  const names: Record<Exclude<FeatureKind, 'overlay'>, [string, string]> = {
    point: ['point', 'points'],
    line: ['line', 'lines'],
    polygon: ['polygon', 'polygons'],
    mixed: ['mixed feature', 'mixed features'],
  }
  const features = [...counts.values()].reduce((a, b) => a + b, 0)
  const parts = (['point', 'line', 'polygon', 'mixed'] as const).filter((k) => counts.has(k)).map((k) => plural(counts.get(k)!, ...names[k]))
  let line = `Imported ${plural(features, 'feature', 'features')}${parts.length ? ` (${parts.join(', ')})` : ''}`
  if (overlayCount) line += ` and ${plural(overlayCount, 'overlay', 'overlays')}`
  if (report.skipped.length) line += `; skipped ${report.skipped.length}`
  return `${line}.`
}
