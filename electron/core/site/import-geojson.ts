// GeoJSON files (RFC 7946): a FeatureCollection, a single Feature or a bare geometry. Each feature is
// checked with the same rules as KML features and imported whole or reported; the file as a whole is
// refused only when it is not JSON, not GeoJSON, or says its coordinates are not WGS 84.

import {
  checkGeometry,
  nothingImported,
  type Feature,
  type ImportedFeature,
  type SiteImportLimits,
  type SiteImportResult,
  type SkippedFeature,
} from '../../../shared/domain/site/import-report'
import { lineAndColumn } from './import-text'

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const geometryTypes = new Set(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection'])

/**
 * GeoJSON of 2008 could name another coordinate system; RFC 7946 removed that. A file that still names a
 * projected one (a national grid, UTM) would put small-looking metres where degrees belong, and some of
 * them would pass the range check, so such a file is refused instead of drawn in the wrong place.
 */
function crsProblem(crs: unknown): string | null {
  if (crs === undefined || crs === null) return null
  const name = isObject(crs) && isObject(crs.properties) ? crs.properties.name : undefined
  if (typeof name === 'string' && /(CRS84|EPSG:+4326|CRS:84)$/i.test(name)) return null
  return typeof name === 'string' ? name : JSON.stringify(crs).slice(0, 80)
}

/**
 * Where JSON.parse gave up. V8 names the position for some errors and not for others ("Unexpected token
 * ',', ... is not valid JSON"), and a person fixing a hand-edited file needs the line, so the text is walked
 * once more with a small iterative recogniser, only when parsing has already failed.
 */
export function jsonErrorIndex(text: string): number | null {
  const n = text.length
  const stack: string[] = []
  let i = 0
  let expect: 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'commaOrClose' | 'end' = 'value'
  const numberAt = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
  const afterValue = (): typeof expect => (stack.length ? 'commaOrClose' : 'end')
  const close = (): void => {
    stack.pop()
    i++
    expect = afterValue()
  }
  /** Index just past the closing quote, or the negated index of the fault minus one. */
  const string = (start: number): number => {
    for (let k = start + 1; k < n; k++) {
      const c = text.charCodeAt(k)
      if (c === 0x22) return k + 1
      if (c < 0x20) return -k - 1
      if (c === 0x5c) {
        const e = text[k + 1]
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(k + 2, k + 6))) return -k - 1
          k += 5
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) k++
        else return -k - 1
      }
    }
    return -n - 1
  }
  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
    if (i >= n) return expect === 'end' ? null : n
    const c = text[i]!
    const top = stack[stack.length - 1]
    switch (expect) {
      case 'end':
        return i
      case 'colon':
        if (c !== ':') return i
        i++
        expect = 'value'
        continue
      case 'commaOrClose':
        if (c === ',') {
          i++
          expect = top === '{' ? 'key' : 'value'
        } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) close()
        else return i
        continue
      case 'key':
      case 'keyOrClose': {
        if (c === '}' && expect === 'keyOrClose') {
          close()
          continue
        }
        if (c !== '"') return i
        const end = string(i)
        if (end < 0) return -end - 1
        i = end
        expect = 'colon'
        continue
      }
      default: {
        if (c === ']' && expect === 'valueOrClose') {
          close()
          continue
        }
        if (c === '{' || c === '[') {
          stack.push(c)
          i++
          expect = c === '{' ? 'keyOrClose' : 'valueOrClose'
          continue
        }
        if (c === '"') {
          const end = string(i)
          if (end < 0) return -end - 1
          i = end
        } else if (text.startsWith('true', i) || text.startsWith('null', i)) i += 4
        else if (text.startsWith('false', i)) i += 5
        else {
          numberAt.lastIndex = i
          if (!numberAt.test(text)) return i
          i = numberAt.lastIndex
        }
        expect = afterValue()
      }
    }
  }
}

/** Properties are handed on as they are, to code that may walk them recursively; keep them shallow. */
const maxPropertiesDepth = 32

function deeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]]
  while (pending.length) {
    const [node, depth] = pending.pop()!
    if (typeof node !== 'object' || node === null) continue
    if (depth >= limit) return true
    for (const child of Object.values(node)) pending.push([child, depth + 1])
  }
  return false
}

function featureName(feature: Record<string, unknown>): string | null {
  const properties = isObject(feature.properties) ? feature.properties : {}
  for (const key of ['name', 'title', 'Name']) {
    const value = properties[key]
    if (typeof value === 'string' && value.trim()) return value.trim()
  }
  if (typeof feature.id === 'string' || typeof feature.id === 'number') return String(feature.id)
  return null
}

export function importGeoJsonText(text: string, limits: SiteImportLimits, decodingWarnings: string[]): SiteImportResult {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const index = jsonErrorIndex(text)
    const where = index === null ? null : lineAndColumn(text, index)
    return {
      ok: false,
      error: {
        code: 'malformed-json',
        message: `The file is not valid JSON${where ? ` (line ${where.line}, column ${where.column})` : ''}: ${message}. Nothing was imported.`,
        ...(where ? { line: where.line, column: where.column } : {}),
      },
    }
  }
  if (!isObject(data)) {
    return { ok: false, error: { code: 'not-geojson', message: 'The JSON is not a GeoJSON object (a FeatureCollection, a Feature or a geometry). Nothing was imported.' } }
  }
  const crs = crsProblem(data.crs)
  if (crs) {
    return {
      ok: false,
      error: {
        code: 'unsupported-crs',
        message: `The GeoJSON says its coordinates are in ${crs}; the console reads WGS 84 longitude and latitude only. Export it as WGS 84 (EPSG:4326). Nothing was imported.`,
      },
    }
  }
  let sources: unknown[]
  if (data.type === 'FeatureCollection') {
    if (!Array.isArray(data.features)) {
      return { ok: false, error: { code: 'not-geojson', message: 'The FeatureCollection has no "features" array. Nothing was imported.' } }
    }
    sources = data.features
  } else if (data.type === 'Feature') {
    sources = [data]
  } else if (typeof data.type === 'string' && geometryTypes.has(data.type)) {
    sources = [{ type: 'Feature', geometry: data, properties: {} }]
  } else {
    const type = typeof data.type === 'string' ? `"${data.type}"` : 'missing'
    return { ok: false, error: { code: 'not-geojson', message: `The JSON is not GeoJSON: its type is ${type}. Nothing was imported.` } }
  }

  const features: Feature[] = []
  const imported: ImportedFeature[] = []
  const skipped: SkippedFeature[] = []
  const warnings = [...decodingWarnings]
  sources.forEach((source, index) => {
    const skip = (name: string | null, reason: string): void => {
      skipped.push({ index, name, folder: null, line: null, reason })
    }
    if (!isObject(source) || source.type !== 'Feature') {
      skip(null, 'not a GeoJSON Feature (its type is not "Feature")')
      return
    }
    const name = featureName(source)
    if (deeperThan(source.properties, maxPropertiesDepth)) {
      skip(name, `its properties are nested more than ${maxPropertiesDepth} levels deep`)
      return
    }
    if (source.geometry === null || source.geometry === undefined) {
      skip(name, 'no geometry: the feature has no coordinates to place on the map')
      return
    }
    const check = checkGeometry(source.geometry, { maxEdgePairTests: limits.maxEdgePairTests })
    if (!check.ok) {
      skip(name, check.reason)
      return
    }
    for (const note of check.notes) warnings.push(`Feature ${index + 1}${name ? ` "${name}"` : ''}: ${note}.`)
    features.push(source as unknown as Feature)
    imported.push({ index, name, kind: check.kind, folder: null })
  })
  if (!imported.length) warnings.push(nothingImported(skipped.length))
  return {
    ok: true,
    collection: { type: 'FeatureCollection', features },
    overlays: [],
    report: { format: 'geojson', imported, skipped, warnings },
  }
}
