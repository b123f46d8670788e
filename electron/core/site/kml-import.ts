// Site files from survey and mapping tools into GeoJSON and a report: KML (with @tmcw/togeojson on an
// @xmldom/xmldom document), KMZ, GeoJSON, and images to place as overlays.
//
// togeojson is the reference converter and its output is what lands in the collection, unchanged, so the
// console agrees with every other tool built on it. It is also lenient: it drops a coordinate it cannot
// read, closes and discards rings, and keeps a Placemark whose geometry it lost as `geometry: null`. So
// each Placemark's KML is audited here as togeojson reads it, and a feature whose coordinates lost
// anything on the way is skipped whole with the reason, never imported with a piece missing.
//
// Nothing in here throws on bad input: every path ends in { ok: false, error } or in a report.

import { DOMParser } from '@xmldom/xmldom'
import { kml } from '@tmcw/togeojson'
import {
  checkGeometry,
  defaultSiteImportLimits,
  formatBytes,
  latLonBoxCorners,
  latLonBoxProblem,
  latLonQuadCorners,
  nothingImported,
  type Feature,
  type FeatureKind,
  type ImportedFeature,
  type LatLonBox,
  type OverlayCorners,
  type OverlayImage,
  type Position,
  type SiteFileFormat,
  type SiteImportError,
  type SiteImportLimits,
  type SiteImportResult,
  type SiteOverlay,
  type SkippedFeature,
} from '../../../shared/domain/site/import-report'
import { importGeoJsonText } from './import-geojson'
import { sniffImage } from './import-image'
import { isZip, listArchive, normalizeArchivePath, readArchiveEntry, type ArchiveEntry } from './import-kmz'
import { decodeJson, decodeXml, findMarkupDeclaration, firstSignificantChar, lineAndColumn } from './import-text'

export type SiteImportOptions = Partial<SiteImportLimits>

// xmldom's DOM types are close to the browser's but not the same; these are the few members used here.
interface XmlNode {
  nodeType: number
  parentNode: XmlNode | null
  childNodes: ArrayLike<XmlNode>
  textContent: string | null
}
interface XmlElement extends XmlNode {
  tagName: string
  localName: string | null
  lineNumber?: number
  getElementsByTagName(name: string): ArrayLike<XmlElement>
  getElementsByTagNameNS(namespace: string, name: string): ArrayLike<XmlElement>
}

function fail(code: SiteImportError['code'], message: string, where?: { line?: number; column?: number }): SiteImportResult {
  return { ok: false, error: { code, message, ...(where?.line ? { line: where.line } : {}), ...(where?.column ? { column: where.column } : {}) } }
}

/**
 * Reads one site file. The kind is decided from the content (a ZIP is a KMZ, "<" starts KML, "{" starts
 * GeoJSON, an image by its signature); the name is used only in messages. Never throws.
 */
export function importSiteFile(fileName: string, bytes: Uint8Array, options: SiteImportOptions = {}): SiteImportResult {
  const limits: SiteImportLimits = { ...defaultSiteImportLimits, ...options }
  try {
    return importChecked(fileName, bytes, limits)
  } catch (error) {
    // A bug or a case nobody foresaw: the screen gets a message, not a dead promise.
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return fail('internal', `Reading ${fileName} failed unexpectedly (${detail}). Nothing was imported.`)
  }
}

function importChecked(fileName: string, bytes: Uint8Array, limits: SiteImportLimits): SiteImportResult {
  if (bytes.length === 0) return fail('empty', `${fileName} is empty. Nothing was imported.`)
  if (bytes.length > limits.maxFileBytes) {
    return fail('too-large', `${fileName} is ${formatBytes(bytes.length)}; the console imports site files of up to ${formatBytes(limits.maxFileBytes)}. Nothing was imported.`)
  }
  if (isZip(bytes)) return importKmz(fileName, bytes, limits)
  const image = sniffImage(bytes)
  if (image) return importImageFile(fileName, bytes, image)
  const first = firstSignificantChar(bytes)
  if (first === '<' || first === '{' || first === '[') {
    if (bytes.length > limits.maxTextBytes) {
      const what = first === '<' ? 'KML' : 'GeoJSON'
      return fail('too-large', `${fileName} is ${formatBytes(bytes.length)} of ${what}; the console reads ${what} of up to ${formatBytes(limits.maxTextBytes)}. Split or simplify it in the tool that made it. Nothing was imported.`)
    }
  }
  if (first === '<') {
    const decoded = decodeXml(bytes)
    if (!decoded.ok) return decoded
    return importKmlText(decoded.text, 'kml', limits, decoded.warnings, linkedOnly)
  }
  if (first === '{' || first === '[') {
    const decoded = decodeJson(bytes)
    if (!decoded.ok) return decoded
    return importGeoJsonText(decoded.text, limits, decoded.warnings)
  }
  return fail('unsupported-format', `${fileName} is not a KML, KMZ, GeoJSON or image (PNG, JPEG, GIF, WebP) file. Nothing was imported.`)
}

// ---- Images on their own ----

function importImageFile(fileName: string, bytes: Uint8Array, image: NonNullable<ReturnType<typeof sniffImage>>): SiteImportResult {
  if (!image.ok) return fail('unsupported-format', `${fileName} cannot be used as a site image: ${image.reason}. Nothing was imported.`)
  const name = fileName.split(/[\\/]/).pop() || fileName
  const overlay: SiteOverlay = {
    index: 0,
    name,
    image: { kind: 'embedded', fileName: name, mime: image.mime, bytes, width: image.width, height: image.height },
    bounds: null,
    corners: null,
  }
  return {
    ok: true,
    collection: { type: 'FeatureCollection', features: [] },
    overlays: [overlay],
    report: {
      format: 'image',
      imported: [{ index: 0, name, kind: 'overlay', folder: null }],
      skipped: [],
      warnings: [`${name} (${image.width} × ${image.height} px) has no position yet: place it on the map by two points.`],
    },
  }
}

// ---- KMZ ----

/** What becomes of an overlay's image href. */
type ImageResolution =
  | { kind: 'image'; image: OverlayImage; warning?: string }
  | { kind: 'unusable'; reason: string }
  | { kind: 'hostile'; error: SiteImportError }

type ImageResolver = (href: string) => ImageResolution

function isUrl(href: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(href)
}

function linkedWarning(href: string, inArchive: boolean): string {
  if (/^https?:/i.test(href)) return `its image ${href} is on the web and is not fetched (the console works offline); download it, import it and place it by two points`
  if (isUrl(href)) return `its image ${href} is not part of the file; import the image itself and place it by two points`
  return inArchive
    ? `its image ${href} is not inside the KMZ; import the image itself and place it by two points`
    : `its image ${href} is not inside a .kml file; import the KMZ that holds it, or import the image itself and place it by two points`
}

const linkedOnly: ImageResolver = (href) => ({ kind: 'image', image: { kind: 'linked', href }, warning: linkedWarning(href, false) })

function importKmz(fileName: string, bytes: Uint8Array, limits: SiteImportLimits): SiteImportResult {
  const listing = listArchive(bytes, limits.maxArchiveEntries)
  if (!listing.ok) return listing
  const files = listing.entries.filter((e) => !e.name.endsWith('/'))
  // Google Earth opens doc.kml at the root, or else the first .kml the archive lists.
  const kmls = files.filter((e) => /\.kml$/i.test(e.name))
  const main = kmls.find((e) => e.name === 'doc.kml') ?? kmls[0]
  if (!main) return fail('no-kml-in-archive', `${fileName} is a ZIP archive with no .kml document inside, so it is not a KMZ. Nothing was imported.`)
  if (main.size > limits.maxTextBytes) {
    return fail('archive-limits', `${main.name} in ${fileName} inflates to ${formatBytes(main.size)}; the console reads KML of up to ${formatBytes(limits.maxTextBytes)}. Nothing was imported.`)
  }
  let budget = limits.maxUncompressedBytes - main.size
  const read = readArchiveEntry(bytes, main)
  if (!read.ok) return fail('bad-archive', `${main.name} in ${fileName} cannot be read: ${read.reason}. Nothing was imported.`)
  const decoded = decodeXml(read.bytes)
  if (!decoded.ok) return decoded

  const byPath = new Map<string, ArchiveEntry>()
  const byLowerPath = new Map<string, ArchiveEntry>()
  for (const entry of files) {
    const path = normalizeArchivePath(entry.name)
    if (path === null) continue
    byPath.set(path, entry)
    if (!byLowerPath.has(path.toLowerCase())) byLowerPath.set(path.toLowerCase(), entry)
  }
  const base = main.name.includes('/') ? main.name.slice(0, main.name.lastIndexOf('/') + 1) : ''
  const used = new Set<ArchiveEntry>([main])
  const cache = new Map<ArchiveEntry, ImageResolution>()

  const resolve: ImageResolver = (href) => {
    if (isUrl(href)) return { kind: 'image', image: { kind: 'linked', href }, warning: linkedWarning(href, true) }
    let decodedHref = href
    try {
      decodedHref = decodeURIComponent(href)
    } catch {
      // A stray "%" is a literal character in a file name written by hand.
    }
    const candidates = [decodedHref, href].flatMap((h) => [normalizeArchivePath(base + h), normalizeArchivePath(h)]).filter((p): p is string => p !== null)
    const entry = candidates.map((p) => byPath.get(p)).find(Boolean) ?? candidates.map((p) => byLowerPath.get(p.toLowerCase())).find(Boolean)
    if (!entry) return { kind: 'image', image: { kind: 'linked', href }, warning: linkedWarning(href, true) }
    const known = cache.get(entry)
    if (known) return known
    const resolution = readImageEntry(fileName, bytes, entry, budget)
    if (resolution.kind === 'image') budget -= entry.size
    used.add(entry)
    cache.set(entry, resolution)
    return resolution
  }

  const result = importKmlText(decoded.text, 'kmz', limits, decoded.warnings, resolve)
  if (!result.ok) return result
  const otherKmls = kmls.filter((e) => e !== main)
  if (otherKmls.length) {
    result.report.warnings.push(`Only ${main.name} was read; the KMZ also holds ${listNames(otherKmls.map((e) => e.name))}, which ${otherKmls.length === 1 ? 'was' : 'were'} not.`)
  }
  const unused = files.filter((e) => !used.has(e) && !otherKmls.includes(e))
  if (unused.length) {
    result.report.warnings.push(`${unused.length} file${unused.length === 1 ? '' : 's'} in the KMZ ${unused.length === 1 ? 'is' : 'are'} not used by any overlay: ${listNames(unused.map((e) => e.name))}.`)
  }
  return result
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 5).join(', ')
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown
}

function readImageEntry(fileName: string, bytes: Uint8Array, entry: ArchiveEntry, budget: number): ImageResolution {
  if (entry.size > budget) {
    return { kind: 'unusable', reason: `its image ${entry.name} inflates to ${formatBytes(entry.size)}, more than the ${formatBytes(Math.max(0, budget))} left of the KMZ import limit` }
  }
  const read = readArchiveEntry(bytes, entry)
  if (!read.ok) {
    if (read.hostile) {
      return { kind: 'hostile', error: { code: 'bad-archive', message: `${entry.name} in ${fileName} cannot be read: ${read.reason}. Nothing was imported.` } }
    }
    return { kind: 'unusable', reason: `its image ${entry.name} cannot be read from the KMZ: ${read.reason}` }
  }
  const sniffed = sniffImage(read.bytes)
  if (!sniffed) return { kind: 'unusable', reason: `its image ${entry.name} is not a picture the console recognises (PNG, JPEG, GIF or WebP)` }
  if (!sniffed.ok) return { kind: 'unusable', reason: `its image ${entry.name} cannot be shown: ${sniffed.reason}` }
  const name = entry.name
  return { kind: 'image', image: { kind: 'embedded', fileName: name, mime: sniffed.mime, bytes: read.bytes, width: sniffed.width, height: sniffed.height } }
}

// ---- KML ----

class Stop extends Error {}

type XmlDocument = ReturnType<DOMParser['parseFromString']>

function parseXml(text: string): { ok: true; doc: XmlDocument; root: XmlElement } | { ok: false; result: SiteImportResult } {
  type Problem = { message: string; line?: number; column?: number }
  let first: Problem | null = null
  const parser = new DOMParser({
    onError(level, message, context: { locator?: { lineNumber?: number; columnNumber?: number } } | undefined) {
      // Our own decoder already warned about replaced bytes; everything else, warnings included, means the
      // parser had to guess, and a guessed document is not imported.
      if (level === 'warning' && message.startsWith('Unicode replacement character')) return
      first ??= { message, line: context?.locator?.lineNumber, column: context?.locator?.columnNumber }
      throw new Stop(message)
    },
  })
  let doc: XmlDocument
  try {
    doc = parser.parseFromString(text, 'text/xml')
  } catch (error) {
    // Assigned in the callback above, which the compiler's flow analysis does not see.
    const problem: Problem = (first as Problem | null) ?? { message: error instanceof Error ? error.message : String(error) }
    const where = problem.line ? ` (line ${problem.line}${problem.column ? `, column ${problem.column}` : ''})` : ''
    return { ok: false, result: fail('malformed-xml', `The KML is not well-formed XML${where}: ${problem.message}. Nothing was imported.`, problem) }
  }
  if (doc.doctype) return { ok: false, result: fail('doctype', 'The KML declares a DOCTYPE, which KML never needs. Nothing was imported.') }
  const root = doc.documentElement as unknown as XmlElement | null
  if (!root) return { ok: false, result: fail('malformed-xml', 'The KML has no root element. Nothing was imported.') }
  if (root.localName !== 'kml') {
    return { ok: false, result: fail('not-kml', `The XML is not KML: its root element is <${root.tagName}>, not <kml>. Nothing was imported.`) }
  }
  return { ok: true, doc, root }
}

function elementChildren(node: XmlNode): XmlElement[] {
  const out: XmlElement[] = []
  for (let i = 0; i < node.childNodes.length; i++) {
    const child = node.childNodes[i]!
    if (child.nodeType === 1) out.push(child as XmlElement)
  }
  return out
}

function firstDescendant(node: XmlElement, tagName: string): XmlElement | null {
  return node.getElementsByTagName(tagName)[0] ?? null
}

function textOf(node: XmlElement | null): string {
  return node?.textContent ?? ''
}

function lineOf(node: XmlElement): number | null {
  return typeof node.lineNumber === 'number' && node.lineNumber > 0 ? node.lineNumber : null
}

/**
 * "Site / Cameras": the names of the Folders around an element, outermost first. Memoised per Folder
 * because one Folder often holds every Placemark of a survey, and finding its <name> among thousands of
 * children once per Placemark would make a large file quadratic.
 */
function folderPaths(): (element: XmlElement) => string | null {
  const known = new Map<XmlNode, string | null>()
  const folderName = (el: XmlElement): string => {
    for (let i = 0; i < el.childNodes.length; i++) {
      const child = el.childNodes[i]!
      if (child.nodeType === 1 && (child as XmlElement).tagName === 'name') return textOf(child as XmlElement).trim()
    }
    return ''
  }
  return (element) => {
    // Climb to the nearest ancestor already known (iteratively: nesting can be as deep as the file is long),
    // then fill in the paths on the way back down.
    const climbed: XmlElement[] = []
    let node = element.parentNode
    while (node && node.nodeType === 1 && !known.has(node)) {
      climbed.push(node as XmlElement)
      node = node.parentNode
    }
    let path = node && known.has(node) ? known.get(node)! : null
    for (let i = climbed.length - 1; i >= 0; i--) {
      const el = climbed[i]!
      const name = el.tagName === 'Folder' ? folderName(el) : ''
      if (name) path = path ? `${path} / ${name}` : name
      known.set(el, path)
    }
    return path && path.length > maxFolderPathLength ? `… / ${path.slice(path.indexOf(' / ', path.length - maxFolderPathLength) + 3)}` : path
  }
}

/** A report line, not a dump: a hostile file can nest folders as deep as it is long. */
const maxFolderPathLength = 240

// ---- Coordinates as togeojson reads them, checked strictly ----

const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** One "lon,lat[,alt]" tuple; a trailing comma is tolerated because exporters write it and nothing is lost. */
function parseTuple(token: string): number[] | null {
  const parts = token.split(',')
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length < 2 || !parts.every((p) => numberPattern.test(p))) return null
  return parts.map(Number)
}

function tupleHint(token: string): string {
  return token.startsWith(',') || token.endsWith(',') ? ' (a space next to a comma splits a coordinate in two)' : ''
}

interface GeometryAudit {
  problems: string[]
  empty: string[]
  unsupported: string[]
  /** Tuples with values after the altitude, which togeojson drops. */
  extraValues: number
}

function label(element: XmlElement): string {
  const line = lineOf(element)
  return `${element.tagName}${line ? ` (line ${line})` : ''}`
}

/** Tuples of a LineString, LinearRing or LatLonQuad, split as togeojson splits them (on whitespace). */
function auditTuples(element: XmlElement, text: string, audit: GeometryAudit): number[][] | null {
  const trimmed = text.trim()
  if (!trimmed) return []
  const tuples: number[][] = []
  const tokens = trimmed.split(/\s+/)
  for (let i = 0; i < tokens.length; i++) {
    const tuple = parseTuple(tokens[i]!)
    if (!tuple) {
      audit.problems.push(`${label(element)}: coordinate ${i + 1} "${tokens[i]!.slice(0, 40)}" is not longitude,latitude[,altitude]${tupleHint(tokens[i]!)}`)
      return null
    }
    if (tuple.length > 3) audit.extraValues++
    tuples.push(tuple.slice(0, 3))
  }
  return tuples
}

function auditPoint(element: XmlElement, audit: GeometryAudit): void {
  const text = textOf(firstDescendant(element, 'coordinates')).trim()
  if (!text) {
    audit.empty.push('Point')
    return
  }
  // togeojson strips all whitespace from a Point's coordinates, so "1, 2" is fine but "1,2 3,4" would
  // silently become [1, 23, 4]: join only what a space next to a comma split.
  const tuples: string[] = []
  for (const token of text.split(/\s+/)) {
    const last = tuples.length - 1
    if (last >= 0 && (tuples[last]!.endsWith(',') || token.startsWith(','))) tuples[last] += token
    else tuples.push(token)
  }
  if (tuples.length > 1) {
    audit.problems.push(`${label(element)} has ${tuples.length} coordinate tuples; a Point takes one`)
    return
  }
  const tuple = parseTuple(tuples[0]!)
  if (!tuple) audit.problems.push(`${label(element)}: "${tuples[0]!.slice(0, 40)}" is not longitude,latitude[,altitude]`)
  else if (tuple.length > 3) audit.extraValues++
}

function auditLine(element: XmlElement, audit: GeometryAudit): void {
  const tuples = auditTuples(element, textOf(firstDescendant(element, 'coordinates')), audit)
  if (!tuples) return
  if (tuples.length === 0) audit.empty.push(element.tagName)
  else if (tuples.length < 2) audit.problems.push(`${label(element)} has 1 position; a line needs at least 2`)
}

function closedLength(ring: number[][]): number {
  const first = ring[0]!
  const last = ring[ring.length - 1]!
  const closed = first.length === last.length && first.every((v, i) => v === last[i])
  return closed ? ring.length : ring.length + 1
}

function auditPolygon(element: XmlElement, audit: GeometryAudit): void {
  const rings = Array.from(element.getElementsByTagName('LinearRing'))
  if (!rings.length) {
    audit.empty.push('Polygon')
    return
  }
  const outerAt = rings.findIndex((r) => (r.parentNode as XmlElement | null)?.tagName === 'outerBoundaryIs')
  if (outerAt > 0) {
    audit.problems.push(`${label(element)}: its outerBoundaryIs comes after an innerBoundaryIs, so the hole would become the outline`)
    return
  }
  for (let r = 0; r < rings.length; r++) {
    const ring = rings[r]!
    const tuples = auditTuples(ring, textOf(firstDescendant(ring, 'coordinates')), audit)
    if (!tuples) return
    if (tuples.length === 0) {
      // An empty hole loses nothing; an empty outline would turn the first hole into the outline.
      if (r === 0 && rings.length > 1) {
        audit.problems.push(`${label(element)}: its outer boundary is empty`)
        return
      }
      if (r === 0) audit.empty.push('Polygon')
      continue
    }
    const length = closedLength(tuples)
    if (length < 4) {
      audit.problems.push(`${label(element)}: ${r === 0 ? 'its outer boundary' : `inner boundary ${r}`} has ${length - 1} corner${length === 2 ? '' : 's'}; a ring needs at least 3`)
      return
    }
  }
}

function auditTrack(element: XmlElement, audit: GeometryAudit): void {
  let coords = Array.from(element.getElementsByTagName('coord'))
  if (!coords.length) coords = Array.from(element.getElementsByTagNameNS('*', 'coord'))
  if (!coords.length) {
    audit.empty.push(element.tagName)
    return
  }
  for (let i = 0; i < coords.length; i++) {
    // togeojson splits gx:coord on single spaces, so a doubled or leading space would make a NaN.
    const parts = textOf(coords[i]!).split(' ')
    if (parts.length < 2 || !parts.every((p) => numberPattern.test(p))) {
      audit.problems.push(`${label(element)}: ${coords[i]!.tagName} ${i + 1} "${textOf(coords[i]!).slice(0, 40)}" is not "longitude latitude [altitude]" with single spaces`)
      return
    }
  }
}

const geometryNames = new Set(['Point', 'LineString', 'LinearRing', 'Polygon', 'MultiGeometry', 'Track', 'MultiTrack'])

/** Walks a Placemark's geometry the way togeojson's getGeometry does: direct children, MultiGeometry recursively. */
function auditGeometry(node: XmlElement, audit: GeometryAudit): void {
  for (const child of elementChildren(node)) {
    switch (child.tagName) {
      case 'MultiGeometry':
      case 'MultiTrack':
      case 'gx:MultiTrack':
        auditGeometry(child, audit)
        break
      case 'Point':
        auditPoint(child, audit)
        break
      case 'LineString':
      case 'LinearRing':
        auditLine(child, audit)
        break
      case 'Polygon':
        auditPolygon(child, audit)
        break
      case 'Track':
      case 'gx:Track':
        auditTrack(child, audit)
        break
      case 'Model':
        audit.unsupported.push('a 3D Model, which the site map does not show')
        break
      default:
        if (child.localName && geometryNames.has(child.localName)) {
          audit.unsupported.push(`<${child.tagName}>, a prefixed geometry element that togeojson does not read`)
        }
    }
  }
}

function nullGeometryReason(audit: GeometryAudit): string {
  if (audit.unsupported.length) return `not imported: it holds ${audit.unsupported.join(' and ')}`
  if (audit.empty.length) {
    const kinds = [...new Set(audit.empty)]
    return `no coordinates: its ${kinds.join(' and ')} ${audit.empty.length === 1 ? 'is' : 'are'} empty`
  }
  return 'no geometry: the Placemark has no Point, LineString, LinearRing, Polygon, MultiGeometry or gx:Track'
}

// ---- Overlays ----

type OverlayBox = { ok: true; bounds: LatLonBox | null; corners: OverlayCorners } | { ok: false; reason: string }

function strictNumber(element: XmlElement | null): number | null {
  const text = textOf(element).trim()
  return numberPattern.test(text) ? Number(text) : null
}

/** The LatLonBox or gx:LatLonQuad of a GroundOverlay, found where togeojson finds them and read strictly. */
function overlayBox(overlay: XmlElement): OverlayBox {
  if (firstDescendant(overlay, 'gx:LatLonQuad')) {
    const audit: GeometryAudit = { problems: [], empty: [], unsupported: [], extraValues: 0 }
    const tuples = auditTuples(overlay, textOf(firstDescendant(overlay, 'coordinates')), audit)
    if (!tuples) return { ok: false, reason: audit.problems.join('; ') }
    const corners = tuples.length === 5 && closedLength(tuples) === 5 ? tuples.slice(0, 4) : tuples
    if (corners.length !== 4) return { ok: false, reason: `its gx:LatLonQuad has ${tuples.length} corners; it needs exactly 4` }
    return { ok: true, bounds: null, corners: latLonQuadCorners(corners as [Position, Position, Position, Position]) }
  }
  const box = firstDescendant(overlay, 'LatLonBox')
  if (!box) return { ok: false, reason: 'no LatLonBox or gx:LatLonQuad: the overlay has no place on the map' }
  const read = (key: string): number | null | undefined => {
    const element = firstDescendant(box, key)
    return element ? strictNumber(element) : undefined
  }
  const values: Record<string, number> = {}
  for (const key of ['north', 'south', 'east', 'west', 'rotation']) {
    const value = read(key)
    if (value === undefined && key !== 'rotation') return { ok: false, reason: `its LatLonBox has no <${key}>` }
    if (value === null) return { ok: false, reason: `its LatLonBox <${key}> "${textOf(firstDescendant(box, key)).trim().slice(0, 40)}" is not a number` }
    values[key] = value ?? 0
  }
  const bounds: LatLonBox = { north: values.north!, south: values.south!, east: values.east!, west: values.west!, rotation: values.rotation! }
  const problem = latLonBoxProblem(bounds)
  if (problem) return { ok: false, reason: `its LatLonBox is unusable: ${problem}` }
  return { ok: true, bounds, corners: latLonBoxCorners(bounds) }
}

// ---- The KML document ----

interface Collected {
  features: Feature[]
  imported: ImportedFeature[]
  skipped: SkippedFeature[]
  overlays: SiteOverlay[]
  warnings: string[]
}

function importKmlText(text: string, format: SiteFileFormat, limits: SiteImportLimits, decodingWarnings: string[], resolveImage: ImageResolver): SiteImportResult {
  const declaration = findMarkupDeclaration(text)
  if (declaration) {
    const where = lineAndColumn(text, declaration.index)
    return fail(
      'doctype',
      `The KML contains a ${declaration.declaration} declaration (line ${where.line}). KML never needs one, and declarations are how entity-expansion ("billion laughs") and external-entity attacks get in, so the console does not read such files. Remove it, or export the file again. Nothing was imported.`,
      where,
    )
  }
  const parsed = parseXml(text)
  if (!parsed.ok) return parsed.result
  const { doc, root } = parsed
  const converted = kml(doc)
  const elements = [
    ...Array.from(root.getElementsByTagName('Placemark')),
    ...Array.from(root.getElementsByTagName('GroundOverlay')),
    ...Array.from(root.getElementsByTagName('NetworkLink')),
  ]
  if (elements.length !== converted.features.length) {
    return fail('internal', `togeojson returned ${converted.features.length} features for ${elements.length} KML elements; the report could not be matched to them. Nothing was imported.`)
  }

  const folderPath = folderPaths()
  const out: Collected = { features: [], imported: [], skipped: [], overlays: [], warnings: [...decodingWarnings] }
  // togeojson matches element names as written, so <kml:Placemark> is invisible to it; say so rather than
  // let a whole survey vanish behind "nothing imported".
  const prefixed = ['Placemark', 'GroundOverlay', 'NetworkLink'].reduce((n, tag) => n + root.getElementsByTagNameNS('*', tag).length - root.getElementsByTagName(tag).length, 0)
  if (prefixed > 0) {
    out.warnings.push(
      `${prefixed} element${prefixed === 1 ? ' is' : 's are'} written with a namespace prefix (such as <kml:Placemark>) and ${prefixed === 1 ? 'was' : 'were'} not read: togeojson reads KML in its default namespace only. Export the file again without the prefix.`,
    )
  }
  for (let index = 0; index < elements.length; index++) {
    const element = elements[index]!
    const feature = converted.features[index] as Feature
    const rawName = feature.properties?.name
    const name = typeof rawName === 'string' && rawName.trim() ? rawName.trim() : null
    const entry = { index, name, folder: folderPath(element) }
    const skip = (reason: string): void => {
      out.skipped.push({ ...entry, line: lineOf(element), reason })
    }
    const who = `${element.tagName}${name ? ` "${name}"` : ''}${lineOf(element) ? ` (line ${lineOf(element)})` : ''}`
    const accept = (kind: FeatureKind, notes: string[]): void => {
      for (const note of notes) out.warnings.push(`${who}: ${note}.`)
      out.features.push(feature)
      out.imported.push({ ...entry, kind })
    }

    if (element.tagName === 'NetworkLink') {
      const href = feature.properties?.href
      skip(`a NetworkLink${typeof href === 'string' && href ? ` to ${href}` : ''} is not followed: the console works offline and reads only what is in the file; import the linked file itself`)
      continue
    }

    if (element.tagName === 'GroundOverlay') {
      const box = overlayBox(element)
      if (!box.ok) {
        skip(box.reason)
        continue
      }
      const check = checkGeometry(feature.geometry, { maxEdgePairTests: limits.maxEdgePairTests })
      if (!check.ok) {
        skip(`its outline is unusable: ${check.reason}`)
        continue
      }
      const href = textOf(firstDescendant(firstDescendant(element, 'Icon') ?? element, 'href')).trim()
      if (!firstDescendant(element, 'Icon') || !href) {
        out.warnings.push(`${who}: it has no image (<Icon><href>), so only its outline was imported.`)
        accept('overlay', check.notes)
        continue
      }
      const image = resolveImage(href)
      if (image.kind === 'hostile') return { ok: false, error: image.error }
      if (image.kind === 'unusable') {
        skip(image.reason)
        continue
      }
      if (image.warning) out.warnings.push(`${who}: ${image.warning}.`)
      out.overlays.push({ index, name, image: image.image, bounds: box.bounds, corners: box.corners })
      accept('overlay', check.notes)
      continue
    }

    const audit: GeometryAudit = { problems: [], empty: [], unsupported: [], extraValues: 0 }
    auditGeometry(element, audit)
    if (audit.problems.length) {
      skip(audit.problems.join('; '))
      continue
    }
    if (!feature.geometry) {
      skip(nullGeometryReason(audit))
      continue
    }
    const check = checkGeometry(feature.geometry, { maxEdgePairTests: limits.maxEdgePairTests })
    if (!check.ok) {
      skip(check.reason)
      continue
    }
    const notes = [...check.notes]
    if (audit.extraValues) {
      notes.push(`${audit.extraValues} coordinate${audit.extraValues === 1 ? ' has' : 's have'} more than longitude, latitude and altitude; the extra values were dropped`)
    }
    if (audit.unsupported.length) notes.push(`${audit.unsupported.join(' and ')} was left out`)
    accept(check.kind, notes)
  }
  if (!out.imported.length) out.warnings.push(nothingImported(out.skipped.length))
  return {
    ok: true,
    collection: { type: 'FeatureCollection', features: out.features },
    overlays: out.overlays,
    report: { format, imported: out.imported, skipped: out.skipped, warnings: out.warnings },
  }
}
