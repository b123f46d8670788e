/**
 * The site as a planner draws it: a boundary and zones, the obstructions that stand in the way of sight
 * and radio, the mounting points where a device can be fixed, and the devices placed on them, all in
 * local metres around the site origin (projection.ts turns them into lat/lon and back). The catalogue
 * says what each part can do: a camera's sensor, lens and DORI thresholds, a motion sensor's range and
 * angle, a radio's power, gain and sensitivity, and for every part its power draw, price and part number.
 *
 * Pure data and checks: coverage.ts and placement.ts do the geometry.
 */

export interface LatLon {
  lat: number
  lon: number
}

/** Metres east (x) and north (y) of the site origin. */
export interface PointM {
  x: number
  y: number
}

/** A closed ring of points in local metres; the last point is not repeated. */
export type PolygonM = readonly PointM[]

/**
 * What a zone asks of coverage. `required`: every cell must be seen (the gaps placement closes).
 * `optional`: counted and shown, never a gap to close. `excluded`: not part of the problem (a pond, a
 * roof, a neighbour's yard). Where zones overlap, excluded wins over required, required over optional.
 */
export type ZoneKind = 'required' | 'optional' | 'excluded'

export interface Zone {
  id: string
  name: string
  polygon: PolygonM
  kind: ZoneKind
}

export type ObstructionMaterial = 'concrete' | 'brick' | 'block' | 'drywall' | 'wood' | 'glass' | 'metal' | 'fence' | 'vegetation' | 'other'

/**
 * Typical one-wall loss at 2.4 GHz, for a planner who knows the material and not the figure. Values from
 * the usual indoor-planning tables (ITU-R P.2040 and vendor site-survey guides); a real survey beats them.
 */
export const typicalAttenuationDb: Readonly<Record<ObstructionMaterial, number>> = {
  concrete: 15,
  brick: 8,
  block: 10,
  drywall: 3,
  wood: 4,
  glass: 3,
  metal: 26,
  fence: 2,
  vegetation: 4,
  other: 6,
}

export type ObstructionShape =
  /** A wall, fence or hedge line. */
  | { kind: 'segment'; a: PointM; b: PointM }
  /** A footprint: a building, a tank, a container. Its edges are walls; its inside is solid. */
  | { kind: 'polygon'; points: PolygonM }

export interface Obstruction {
  id: string
  shape: ObstructionShape
  material: ObstructionMaterial
  /** Top of the obstruction above ground: a sight line passing higher sees over it. */
  heightM: number
  /** Opaque to cameras and motion sensors (a chain-link fence is not; a hedge is). */
  blocksSight: boolean
  /** Taken from a radio signal each time its path crosses this obstruction in plan. */
  attenuationDb: number
}

export type DeviceKind = 'camera' | 'sensor' | 'gateway' | 'node'

export interface MountingPoint {
  id: string
  x: number
  y: number
  /** Height of the bracket above ground: the sensor's eye for sight lines over walls. */
  heightM: number
  /** Which kinds of device may be fixed here (a pole takes a camera; a junction box takes a node). */
  allowedKinds: readonly DeviceKind[]
  /**
   * Directions a device may face here, as compass bearings (0 = north, clockwise). Absent: any; the
   * planner then tries every `orientationStepDeg` (placement.ts). A wall bracket usually faces one way.
   */
  orientationsDeg?: readonly number[]
}

export interface PlacedDevice {
  id: string
  partNumber: string
  mountingPointId: string
  /** Compass bearing the device faces: 0 = north, 90 = east. Irrelevant for 360° parts. */
  orientationDeg: number
}

export interface SiteModel {
  name: string
  origin: LatLon
  /** The site's outline in local metres; coverage is asked for inside it only. */
  boundary: PolygonM
  zones: readonly Zone[]
  obstructions: readonly Obstruction[]
  mountingPoints: readonly MountingPoint[]
  devices: readonly PlacedDevice[]
}

/**
 * DORI (EN 62676-4): pixel density on the target needed to detect a person, observe what they do,
 * recognise someone known, or identify a stranger. The standard's figures are the defaults; some
 * specifications ask for more.
 */
export interface DoriThresholds {
  detectionPxPerM: number
  observationPxPerM: number
  recognitionPxPerM: number
  identificationPxPerM: number
}

export const defaultDoriThresholds: Readonly<DoriThresholds> = {
  detectionPxPerM: 25,
  observationPxPerM: 62,
  recognitionPxPerM: 125,
  identificationPxPerM: 250,
}

interface PartBase {
  partNumber: string
  name: string
  /** Steady draw, for the power budget (PoE class, battery life). */
  powerW: number
  priceEur: number
}

export interface CameraPart extends PartBase {
  kind: 'camera'
  sensor: {
    /** As on the datasheet: `1/2.8"`. */
    format: string
    /** Active width of the image sensor; with the focal length it gives the field of view. */
    widthMm: number
    widthPx: number
    heightPx: number
  }
  lens: { focalLengthMm: number }
  /** Horizontal field of view as the datasheet states it (the lens distorts; trust the datasheet). */
  hfovDeg: number
  dori?: DoriThresholds
  /** Where the camera stops seeing whatever the pixels say: IR illuminator reach at night. */
  maxRangeM?: number
}

export interface SensorPart extends PartBase {
  kind: 'sensor'
  /** What it senses with: `PIR`, `microwave radar`, `lidar`, `beam`… shown to the planner. */
  technology: string
  rangeM: number
  /** Horizontal detection angle; 360 for a ceiling or pole-top sensor. */
  angleDeg: number
}

export interface RadioPart extends PartBase {
  kind: 'gateway' | 'node'
  /** Band centre, for the planner's information (the path-loss model takes its reference loss). */
  frequencyMHz: number
  txPowerDbm: number
  antennaGainDbi: number
  sensitivityDbm: number
}

export type CataloguePart = CameraPart | SensorPart | RadioPart
export type Catalogue = readonly CataloguePart[]

export function findPart(catalogue: Catalogue, partNumber: string): CataloguePart | undefined {
  return catalogue.find((part) => part.partNumber === partNumber)
}

/** The camera's field of view from its sensor width and focal length (pinhole model, no distortion). */
export function lensHfovDeg(camera: Pick<CameraPart, 'sensor' | 'lens'>): number {
  return (2 * Math.atan(camera.sensor.widthMm / (2 * camera.lens.focalLengthMm)) * 180) / Math.PI
}

/** Pixels per metre across a target `distanceM` away, for a camera of `widthPx` behind `hfovDeg`. */
export function pixelDensityAt(widthPx: number, hfovDeg: number, distanceM: number): number {
  const sceneWidth = 2 * distanceM * Math.tan((hfovDeg * Math.PI) / 360)
  return sceneWidth > 0 ? widthPx / sceneWidth : Number.POSITIVE_INFINITY
}

/** The distance at which a camera's pixel density falls to `pxPerM`. */
export function distanceForPixelDensity(widthPx: number, hfovDeg: number, pxPerM: number): number {
  return widthPx / (2 * pxPerM * Math.tan((hfovDeg * Math.PI) / 360))
}

/** How far a camera detects: where its pixels run out for detection, or its illuminator, whichever is nearer. */
export function cameraReachM(camera: CameraPart): number {
  const dori = camera.dori ?? defaultDoriThresholds
  const byPixels = distanceForPixelDensity(camera.sensor.widthPx, camera.hfovDeg, dori.detectionPxPerM)
  return camera.maxRangeM === undefined ? byPixels : Math.min(byPixels, camera.maxRangeM)
}

const finite = (value: number) => typeof value === 'number' && Number.isFinite(value)

/** Problems with a catalogue, each a sentence naming the part and saying what is wrong. */
export function validateCatalogue(catalogue: Catalogue): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  for (const part of catalogue) {
    const name = `Part ${part.partNumber || '(no part number)'}`
    if (!part.partNumber) problems.push(`A ${part.kind} named "${part.name}" has no part number.`)
    else if (seen.has(part.partNumber)) problems.push(`${name} appears twice in the catalogue.`)
    seen.add(part.partNumber)
    if (!finite(part.powerW) || part.powerW < 0) problems.push(`${name}: power draw must be zero or more watts.`)
    if (!finite(part.priceEur) || part.priceEur < 0) problems.push(`${name}: price must be zero or more euros.`)
    if (part.kind === 'camera') {
      const { sensor, lens, hfovDeg } = part
      if (!(sensor.widthPx > 0) || !(sensor.heightPx > 0)) problems.push(`${name}: the sensor needs a resolution in pixels.`)
      if (!(hfovDeg > 0 && hfovDeg < 180)) problems.push(`${name}: horizontal field of view must be between 0° and 180°, not ${hfovDeg}°.`)
      if (sensor.widthMm > 0 && lens.focalLengthMm > 0 && hfovDeg > 0) {
        const fromLens = lensHfovDeg(part)
        // Wide lenses barrel-distort, so datasheets legitimately differ from the pinhole figure; a third off is a typo.
        if (Math.abs(fromLens - hfovDeg) > hfovDeg / 3) {
          problems.push(`${name}: a ${sensor.format} sensor (${sensor.widthMm} mm) behind a ${lens.focalLengthMm} mm lens sees about ${fromLens.toFixed(0)}°, not the ${hfovDeg}° stated; check the lens or the field of view.`)
        }
      } else problems.push(`${name}: the sensor width and focal length must both be positive.`)
      const dori = part.dori ?? defaultDoriThresholds
      const ladder = [dori.detectionPxPerM, dori.observationPxPerM, dori.recognitionPxPerM, dori.identificationPxPerM]
      if (!ladder.every((value, i) => value > 0 && (i === 0 || value > ladder[i - 1]!))) {
        problems.push(`${name}: DORI thresholds must rise from detection to identification (${ladder.join(' < ')} px/m).`)
      }
      if (part.maxRangeM !== undefined && !(part.maxRangeM > 0)) problems.push(`${name}: the illuminator range must be positive.`)
    } else if (part.kind === 'sensor') {
      if (!(part.rangeM > 0)) problems.push(`${name}: detection range must be positive.`)
      if (!(part.angleDeg > 0 && part.angleDeg <= 360)) problems.push(`${name}: detection angle must be between 0° and 360°, not ${part.angleDeg}°.`)
    } else {
      if (!finite(part.txPowerDbm) || part.txPowerDbm > 36) problems.push(`${name}: transmit power ${part.txPowerDbm} dBm is not a radio of this kind.`)
      if (!finite(part.antennaGainDbi)) problems.push(`${name}: antenna gain must be a number of dBi.`)
      if (!finite(part.sensitivityDbm) || part.sensitivityDbm >= 0) problems.push(`${name}: receiver sensitivity is a negative dBm figure, not ${part.sensitivityDbm}.`)
      if (!(part.frequencyMHz > 0)) problems.push(`${name}: the frequency must be positive.`)
    }
  }
  return problems
}

/** Twice the signed area of a ring: positive when counter-clockwise (x east, y north). */
export function ringSignedArea(ring: PolygonM): number {
  let sum = 0
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j]!.x * ring[i]!.y - ring[i]!.x * ring[j]!.y)
  return sum / 2
}

export function pointInRing(point: PointM, ring: PolygonM): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i]!
    const b = ring[j]!
    if (a.y > point.y !== b.y > point.y && point.x < ((b.x - a.x) * (point.y - a.y)) / (b.y - a.y) + a.x) inside = !inside
  }
  return inside
}

/** Whether two edges of the ring cross (a figure-of-eight outline rasterises into nonsense). */
function ringSelfIntersects(ring: PolygonM): boolean {
  const n = ring.length
  for (let i = 0; i < n; i++) {
    const a = ring[i]!
    const b = ring[(i + 1) % n]!
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue // neighbours through the closing edge
      const c = ring[j]!
      const d = ring[(j + 1) % n]!
      if (segmentsCross(a, b, c, d)) return true
    }
  }
  return false
}

function segmentsCross(a: PointM, b: PointM, c: PointM, d: PointM): boolean {
  const d1 = orient(c, d, a)
  const d2 = orient(c, d, b)
  const d3 = orient(a, b, c)
  const d4 = orient(a, b, d)
  return d1 * d2 < 0 && d3 * d4 < 0
}

const orient = (p: PointM, q: PointM, r: PointM) => (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x)

function ringProblems(what: string, ring: PolygonM): string[] {
  if (ring.length < 3) return [`${what} needs at least three corners; it has ${ring.length}.`]
  if (!ring.every((p) => finite(p.x) && finite(p.y))) return [`${what} has a corner that is not a number.`]
  const problems: string[] = []
  if (Math.abs(ringSignedArea(ring)) < 1e-6) problems.push(`${what} has no area.`)
  if (ringSelfIntersects(ring)) problems.push(`${what} crosses itself; draw it as one outline without a figure of eight.`)
  return problems
}

/**
 * Problems with a site, each a sentence that names the thing and says what to change: shapes that cannot
 * be rasterised, heights and losses that are not physical, devices on parts or mounting points that do
 * not exist or do not allow them. An empty list means coverage can be computed.
 */
export function validateSite(site: SiteModel, catalogue: Catalogue): string[] {
  const problems: string[] = []
  const { lat, lon } = site.origin
  if (!(finite(lat) && Math.abs(lat) <= 89)) problems.push(`The site origin's latitude ${lat} must lie between −89° and 89° (the local projection fails at the poles).`)
  if (!(finite(lon) && Math.abs(lon) <= 180)) problems.push(`The site origin's longitude ${lon} must lie between −180° and 180°.`)
  problems.push(...ringProblems('The site boundary', site.boundary))

  const unique = (what: string, ids: readonly string[]) => {
    const seen = new Set<string>()
    for (const id of ids) {
      if (!id) problems.push(`A ${what} has no id.`)
      else if (seen.has(id)) problems.push(`Two ${what}s share the id "${id}".`)
      seen.add(id)
    }
  }
  unique('zone', site.zones.map((zone) => zone.id))
  unique('obstruction', site.obstructions.map((o) => o.id))
  unique('mounting point', site.mountingPoints.map((m) => m.id))
  unique('device', site.devices.map((d) => d.id))

  for (const zone of site.zones) problems.push(...ringProblems(`Zone "${zone.name}"`, zone.polygon))

  for (const obstruction of site.obstructions) {
    const name = `Obstruction ${obstruction.id} (${obstruction.material})`
    if (obstruction.shape.kind === 'segment') {
      const { a, b } = obstruction.shape
      if (![a.x, a.y, b.x, b.y].every(finite)) problems.push(`${name} has an end that is not a number.`)
      else if (Math.hypot(b.x - a.x, b.y - a.y) < 0.01) problems.push(`${name} is shorter than a centimetre; remove it or draw its other end.`)
    } else problems.push(...ringProblems(name, obstruction.shape.points))
    if (!(obstruction.heightM > 0)) problems.push(`${name} needs a height above ground in metres.`)
    if (!(finite(obstruction.attenuationDb) && obstruction.attenuationDb >= 0)) problems.push(`${name}: radio attenuation must be zero or more dB.`)
  }

  const mounts = new Map(site.mountingPoints.map((m) => [m.id, m]))
  for (const mount of site.mountingPoints) {
    if (!(finite(mount.x) && finite(mount.y))) problems.push(`Mounting point ${mount.id} has no position.`)
    else if (site.boundary.length >= 3 && !pointInRing(mount, site.boundary)) problems.push(`Mounting point ${mount.id} lies outside the site boundary.`)
    if (!(mount.heightM >= 0)) problems.push(`Mounting point ${mount.id} needs a height of zero or more metres.`)
    if (mount.allowedKinds.length === 0) problems.push(`Mounting point ${mount.id} allows no kind of device.`)
  }

  for (const device of site.devices) {
    const part = findPart(catalogue, device.partNumber)
    const mount = mounts.get(device.mountingPointId)
    if (!part) problems.push(`Device ${device.id} is a ${device.partNumber}, which is not in the catalogue.`)
    if (!mount) problems.push(`Device ${device.id} is on mounting point ${device.mountingPointId}, which does not exist.`)
    if (part && mount && !mount.allowedKinds.includes(part.kind)) {
      problems.push(`Device ${device.id} is a ${part.kind}, but mounting point ${mount.id} takes only ${mount.allowedKinds.join(', ')}.`)
    }
    if (!finite(device.orientationDeg)) problems.push(`Device ${device.id} needs an orientation in degrees.`)
  }
  return problems
}
