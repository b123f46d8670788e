// The site plan as a file of its own: what "Save" writes and "Open" reads. JSON, because planners mail these
// around and diff them, with a format tag and a version so that a file from another program, or from a newer
// console, is refused with a reason instead of being half-read.
//
// Opening checks shape, not sense: types, enums, finite numbers, unique ids and device references, the
// things the editor relies on. A self-crossing zone or a mast outside the boundary still opens, so that the
// planner can fix it; validateSite lists those. A file that is hostile (huge, deeply nested, built to exhaust
// memory) is refused before it costs anything, and decodeSiteFile never throws.

import type {
  DeviceKind,
  MountingPoint,
  Obstruction,
  ObstructionMaterial,
  ObstructionShape,
  PlacedDevice,
  PointM,
  SiteModel,
  Zone,
  ZoneKind,
} from './model'

export const siteFileFormat = 'esp-fleet-console/site'
export const siteFileVersion = 1

export interface SiteFileMeta {
  /** ISO 8601 instant the file was written; passed in because domain code has no clock. */
  savedAt: string
  /** What wrote the file ("ESP Fleet Console 0.1.0"), for support when an old file misbehaves. */
  generator?: string
}

export type SiteFileDecoded =
  | { ok: true; site: SiteModel; meta: SiteFileMeta }
  /** `path` names the offending field ("site.zones[2].polygon[5].x") when there is one. */
  | { ok: false; error: string; path?: string }

/**
 * Why these numbers: a large industrial site is a few thousand corners and a few hundred mounting points;
 * 100 000 points is far beyond that and still a few megabytes. Real files nest 7 deep (file, site,
 * obstructions, obstruction, shape, points, point); 32 leaves room for later versions and none for an attack.
 */
export const siteFileLimits = {
  maxChars: 32 * 1024 * 1024,
  maxPoints: 100_000,
  maxItems: 100_000,
  maxDepth: 32,
  maxStringLength: 1000,
  maxOrientations: 360,
} as const

const zoneKinds: readonly ZoneKind[] = ['required', 'optional', 'excluded']
const materials: readonly ObstructionMaterial[] = ['concrete', 'brick', 'block', 'drywall', 'wood', 'glass', 'metal', 'fence', 'vegetation', 'other']
const deviceKinds: readonly DeviceKind[] = ['camera', 'sensor', 'gateway', 'node', 'switch']

/** Thrown inside the reader only, and always caught at its edge. */
class FileProblem {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {}
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  return String(value)
}

function fail(path: string, expected: string, value: unknown): never {
  throw new FileProblem(path, value === undefined ? `is missing; it must be ${expected}` : `must be ${expected}, not ${describe(value)}`)
}

type Fields = Record<string, unknown>

function object(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value)
  return value as Fields
}

function list(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) fail(path, 'a list', value)
  if (value.length > max) throw new FileProblem(path, `holds ${value.length.toLocaleString('en')} entries; the console opens at most ${max.toLocaleString('en')}`)
  return value
}

function text(value: unknown, path: string, options: { empty?: boolean } = {}): string {
  if (typeof value !== 'string') fail(path, 'text', value)
  if (!options.empty && !value.trim()) fail(path, 'non-empty text', value)
  if (value.length > siteFileLimits.maxStringLength) throw new FileProblem(path, `is ${value.length} characters long; at most ${siteFileLimits.maxStringLength} are allowed`)
  return value
}

function finite(value: unknown, path: string, range?: [number, number]): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'a finite number', value)
  if (range && (value < range[0] || value > range[1])) fail(path, `between ${range[0]} and ${range[1]}`, value)
  return value
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) fail(path, `one of ${allowed.join(', ')}`, value)
  return value as T
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'true or false', value)
  return value
}

/** Points in the whole file, counted before each list is walked so a huge list is refused unread. */
class PointBudget {
  private used = 0
  take(count: number, path: string): void {
    this.used += count
    if (this.used > siteFileLimits.maxPoints) {
      throw new FileProblem(path, `takes the file past ${siteFileLimits.maxPoints.toLocaleString('en')} points, more than the console opens in one site`)
    }
  }
}

function point(value: unknown, path: string): PointM {
  const fields = object(value, path)
  return { x: finite(fields.x, `${path}.x`), y: finite(fields.y, `${path}.y`) }
}

function points(value: unknown, path: string, budget: PointBudget): PointM[] {
  const items = list(value, path, siteFileLimits.maxPoints)
  budget.take(items.length, path)
  return items.map((p, i) => point(p, `${path}[${i}]`))
}

function zone(value: unknown, path: string, budget: PointBudget): Zone {
  const fields = object(value, path)
  return {
    id: text(fields.id, `${path}.id`),
    name: text(fields.name, `${path}.name`, { empty: true }),
    polygon: points(fields.polygon, `${path}.polygon`, budget),
    kind: oneOf(fields.kind, `${path}.kind`, zoneKinds),
  }
}

function shape(value: unknown, path: string, budget: PointBudget): ObstructionShape {
  const fields = object(value, path)
  const kind = oneOf(fields.kind, `${path}.kind`, ['segment', 'polygon'] as const)
  if (kind === 'polygon') return { kind, points: points(fields.points, `${path}.points`, budget) }
  budget.take(2, path)
  return { kind, a: point(fields.a, `${path}.a`), b: point(fields.b, `${path}.b`) }
}

function obstruction(value: unknown, path: string, budget: PointBudget): Obstruction {
  const fields = object(value, path)
  return {
    id: text(fields.id, `${path}.id`),
    shape: shape(fields.shape, `${path}.shape`, budget),
    material: oneOf(fields.material, `${path}.material`, materials),
    heightM: finite(fields.heightM, `${path}.heightM`),
    blocksSight: bool(fields.blocksSight, `${path}.blocksSight`),
    attenuationDb: finite(fields.attenuationDb, `${path}.attenuationDb`),
  }
}

function mountingPoint(value: unknown, path: string, budget: PointBudget): MountingPoint {
  const fields = object(value, path)
  budget.take(1, path)
  const kinds = list(fields.allowedKinds, `${path}.allowedKinds`, deviceKinds.length).map((k, i) => oneOf(k, `${path}.allowedKinds[${i}]`, deviceKinds))
  const mount: MountingPoint = {
    id: text(fields.id, `${path}.id`),
    x: finite(fields.x, `${path}.x`),
    y: finite(fields.y, `${path}.y`),
    heightM: finite(fields.heightM, `${path}.heightM`),
    allowedKinds: kinds,
  }
  if (fields.orientationsDeg === undefined) return mount
  const bearings = list(fields.orientationsDeg, `${path}.orientationsDeg`, siteFileLimits.maxOrientations)
  return { ...mount, orientationsDeg: bearings.map((b, i) => finite(b, `${path}.orientationsDeg[${i}]`)) }
}

function device(value: unknown, path: string): PlacedDevice {
  const fields = object(value, path)
  return {
    id: text(fields.id, `${path}.id`),
    partNumber: text(fields.partNumber, `${path}.partNumber`),
    mountingPointId: text(fields.mountingPointId, `${path}.mountingPointId`),
    orientationDeg: finite(fields.orientationDeg, `${path}.orientationDeg`),
    ...(fields.poeSwitchId === undefined ? {} : { poeSwitchId: text(fields.poeSwitchId, `${path}.poeSwitchId`) }),
  }
}

function items<T>(value: unknown, path: string, read: (item: unknown, path: string) => T): T[] {
  return list(value, path, siteFileLimits.maxItems).map((item, i) => read(item, `${path}[${i}]`))
}

/** The editor finds things by id; two with one id would make every edit to either a guess. */
function uniqueIds(things: readonly { id: string }[], path: string): void {
  const first = new Map<string, number>()
  things.forEach((thing, i) => {
    const earlier = first.get(thing.id)
    if (earlier !== undefined) throw new FileProblem(`${path}[${i}].id`, `repeats the id "${thing.id}" of ${path}[${earlier}]`)
    first.set(thing.id, i)
  })
}

function readSite(value: unknown, path: string): SiteModel {
  const fields = object(value, path)
  const origin = object(fields.origin, `${path}.origin`)
  const budget = new PointBudget()
  const site: SiteModel = {
    name: text(fields.name, `${path}.name`, { empty: true }),
    origin: { lat: finite(origin.lat, `${path}.origin.lat`, [-90, 90]), lon: finite(origin.lon, `${path}.origin.lon`, [-180, 180]) },
    boundary: points(fields.boundary, `${path}.boundary`, budget),
    zones: items(fields.zones, `${path}.zones`, (z, p) => zone(z, p, budget)),
    obstructions: items(fields.obstructions, `${path}.obstructions`, (o, p) => obstruction(o, p, budget)),
    mountingPoints: items(fields.mountingPoints, `${path}.mountingPoints`, (m, p) => mountingPoint(m, p, budget)),
    devices: items(fields.devices, `${path}.devices`, device),
  }
  for (const key of ['zones', 'obstructions', 'mountingPoints', 'devices'] as const) uniqueIds(site[key], `${path}.${key}`)
  const mounts = new Set(site.mountingPoints.map((m) => m.id))
  const switches = new Set(site.devices.map((d) => d.id))
  site.devices.forEach((d, i) => {
    if (!mounts.has(d.mountingPointId)) throw new FileProblem(`${path}.devices[${i}].mountingPointId`, `names mounting point "${d.mountingPointId}", which is not in the site`)
    if (d.poeSwitchId !== undefined && !switches.has(d.poeSwitchId)) throw new FileProblem(`${path}.devices[${i}].poeSwitchId`, `names device "${d.poeSwitchId}" as its PoE switch, which is not a device in the site`)
  })
  return site
}

function readMeta(fields: Fields): SiteFileMeta {
  const savedAt = text(fields.savedAt, 'savedAt')
  if (!Number.isFinite(Date.parse(savedAt))) fail('savedAt', 'a date and time (ISO 8601)', savedAt)
  return fields.generator === undefined ? { savedAt } : { savedAt, generator: text(fields.generator, 'generator') }
}

/**
 * The deepest nesting of brackets outside strings, stopping at the first place it passes `limit`. JSON.parse
 * would build every level of a 10-million-deep list before anyone could look at it.
 */
function nestingBeyond(source: string, limit: number): number | null {
  let depth = 0
  let inString = false
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return null
}

function parse(source: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (source.length > siteFileLimits.maxChars) {
    return { ok: false, error: `the file is ${(source.length / 1024 / 1024).toFixed(1)} million characters long; a site file is at most ${siteFileLimits.maxChars / 1024 / 1024} million.` }
  }
  const deep = nestingBeyond(source, siteFileLimits.maxDepth)
  if (deep !== null) return { ok: false, error: `the file nests lists and objects more than ${siteFileLimits.maxDepth} deep (at character ${deep + 1}); no site file does.` }
  try {
    return { ok: true, value: JSON.parse(source) }
  } catch (error) {
    return { ok: false, error: `the file is not valid JSON (${error instanceof Error ? error.message : String(error)}), so it is not a site file.` }
  }
}

function checkHeader(fields: Fields): void {
  if (fields.format !== siteFileFormat) {
    const geoJson = fields.type === 'FeatureCollection' || fields.type === 'Feature'
    const hint = geoJson ? '; it is GeoJSON, which is imported (File, Import) rather than opened' : ''
    const found = fields.format === undefined ? 'is missing' : `is ${describe(fields.format)}, not "${siteFileFormat}"`
    throw new FileProblem('format', `${found}: this is not a site plan saved by the console${hint}`)
  }
  const version = fields.version
  if (typeof version === 'number' && Number.isInteger(version) && version > siteFileVersion) {
    throw new FileProblem('version', `is ${version}: the file was saved by a newer console, and this one reads version ${siteFileVersion}; update the console to open it`)
  }
  if (version !== siteFileVersion) fail('version', `${siteFileVersion}`, version)
}

function problemMessage(problem: FileProblem): string {
  return `The site file cannot be opened: ${problem.path} ${problem.problem}.`
}

/** Reads a site file. Every refusal names the field at fault; nothing in here throws. */
export function decodeSiteFile(source: string): SiteFileDecoded {
  try {
    if (typeof source !== 'string') return { ok: false, error: 'The site file cannot be opened: it is not text.' }
    const parsed = parse(source)
    if (!parsed.ok) return { ok: false, error: `The site file cannot be opened: ${parsed.error}` }
    const fields = object(parsed.value, 'the file')
    checkHeader(fields)
    const meta = readMeta(fields)
    return { ok: true, site: readSite(fields.site, 'site'), meta }
  } catch (error) {
    if (error instanceof FileProblem) return { ok: false, error: problemMessage(error), path: error.path }
    // A bug, not the file's fault; the promise still holds: a message, never an exception.
    return { ok: false, error: `The site file cannot be opened: reading it failed unexpectedly (${error instanceof Error ? error.message : String(error)}).` }
  }
}

/**
 * A site model that arrives as a message rather than a file (the screen saving its edited copy): the checks a
 * file's `site` field gets, refusals naming the field under `root` ("model.zones[2].polygon"), and a fresh
 * copy holding the model's own fields only. Never throws on any JSON value.
 */
export function readSiteModel(value: unknown, root = 'site'): { ok: true; site: SiteModel } | { ok: false; error: string; path: string } {
  try {
    return { ok: true, site: readSite(value, root) }
  } catch (error) {
    if (error instanceof FileProblem) return { ok: false, error: `${error.path} ${error.problem}.`, path: error.path }
    throw error
  }
}

/**
 * The file's text: the site as `decodeSiteFile` reads it, fields in a fixed order and indented so that two
 * saves of one plan diff cleanly. Only the model's own fields are written. Throws when the site could not be
 * opened again (a NaN coordinate, a device on a mounting point that is gone): saving it would lose the plan
 * silently, and the editor (site-edits.ts) never produces such a site.
 */
export function encodeSiteFile(site: SiteModel, meta: SiteFileMeta): string {
  try {
    const clean = readSite(site, 'site')
    const header = readMeta({ ...meta })
    const file = { format: siteFileFormat, version: siteFileVersion, savedAt: header.savedAt, ...(header.generator ? { generator: header.generator } : {}), site: clean }
    return `${JSON.stringify(file, null, 2)}\n`
  } catch (error) {
    if (error instanceof FileProblem) throw new Error(`This site cannot be saved: ${error.path} ${error.problem}.`, { cause: error })
    throw error
  }
}

export type SiteCollection = 'zones' | 'obstructions' | 'mountingPoints' | 'devices'

export interface SiteItems {
  zones: Zone
  obstructions: Obstruction
  mountingPoints: MountingPoint
  devices: PlacedDevice
}

const itemNames: Record<SiteCollection, string> = { zones: 'zone', obstructions: 'obstruction', mountingPoints: 'mounting point', devices: 'device' }

const itemReaders: { [C in SiteCollection]: (value: unknown, path: string, budget: PointBudget) => SiteItems[C] } = {
  zones: zone,
  obstructions: obstruction,
  mountingPoints: mountingPoint,
  devices: (value, path) => device(value, path),
}

/**
 * One zone, obstruction, mounting point or device checked as the file would check it, and copied with its
 * own fields only: the editor stores the copy, so an edit can never make a plan the file refuses.
 */
export function readSiteItem<C extends SiteCollection>(collection: C, value: unknown): { ok: true; item: SiteItems[C] } | { ok: false; error: string } {
  try {
    return { ok: true, item: itemReaders[collection](value, itemNames[collection], new PointBudget()) as SiteItems[C] }
  } catch (error) {
    if (error instanceof FileProblem) return { ok: false, error: `${error.path} ${error.problem}.` }
    throw error
  }
}
