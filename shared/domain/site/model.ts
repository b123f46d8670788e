/**
 * The site as a planner draws it: a boundary and zones, the obstructions that stand in the way of sight
 * and radio, the mounting points where a device can be fixed, and the devices placed on them, all in
 * local metres around the site origin (projection.ts turns them into lat/lon and back). The catalogue
 * says what each part can do: a camera's sensor, lens and DORI thresholds, a motion sensor's range and
 * angle, a radio's power, gain and sensitivity, a PoE switch's ports and budget, and for every part its
 * power draw and duty cycle, how it is powered, its price and part number.
 *
 * Pure data and checks: coverage.ts and placement.ts do the geometry, network.ts the radio links,
 * power.ts the power budget.
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

export type DeviceKind = 'camera' | 'sensor' | 'gateway' | 'node' | 'switch'

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
  /** For a device whose part is powered over Ethernet: the id of the placed switch whose port feeds it. */
  poeSwitchId?: string
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

/**
 * How a part spends its hour, for the power budget: awake at its `powerW` for `activeShare` of the time,
 * `bursts.perHour` radio bursts of `durationS` each at `drawW`, asleep at `sleepW` for the rest. The three
 * states do not overlap, so a burst's draw is the whole part's while it transmits. A part without one is
 * always awake at `powerW` (cameras, radars, gateways, switches).
 */
export interface DutyCycle {
  /** Share of the hour awake, 0 to 1. */
  activeShare: number
  sleepW: number
  /** Absent: no bursts apart from the awake time. */
  bursts?: { perHour: number; durationS: number; drawW: number }
}

/** IEEE 802.3af/at/bt power classes; 0 is an unclassified device, reserved as class 3. */
export type PoeClass = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8

/**
 * Per PoE class, what the switch reserves at its port (`pseW`, cable loss included) and the most the
 * powered device may draw at its end (`pdW`). IEEE 802.3-2018 clause 33 and 802.3bt clause 145.
 */
export const poeClassPower: Readonly<Record<PoeClass, { pseW: number; pdW: number }>> = {
  0: { pseW: 15.4, pdW: 12.95 },
  1: { pseW: 4, pdW: 3.84 },
  2: { pseW: 7, pdW: 6.49 },
  3: { pseW: 15.4, pdW: 12.95 },
  4: { pseW: 30, pdW: 25.5 },
  5: { pseW: 45, pdW: 40 },
  6: { pseW: 60, pdW: 51 },
  7: { pseW: 75, pdW: 62 },
  8: { pseW: 90, pdW: 71.3 },
}

/** Battery packs deliver less than their label once cold, aged and cut off above empty. */
export const defaultUsableBatteryShare = 0.8

export type PowerSupply =
  /** Mains or a local supply the budget need not size. */
  | { kind: 'mains' }
  /** Power over Ethernet from a switch port: the class is what it announces (and what the switch reserves). */
  | { kind: 'poe'; poeClass: PoeClass }
  /** A battery pack: capacity at its nominal voltage; `usableShare` defaults to `defaultUsableBatteryShare`. */
  | { kind: 'battery'; capacityWh: number; usableShare?: number }

interface PartBase {
  partNumber: string
  name: string
  /** Draw while awake: all the time for a part without a duty cycle. */
  powerW: number
  dutyCycle?: DutyCycle
  /** Absent: mains. */
  supply?: PowerSupply
  priceEur: number
}

/** What a radio link needs to know about either end. */
export interface RadioSpec {
  /** Band centre or a channel in it: it sets the path-loss reference loss, and radios link only within one band. */
  frequencyMHz: number
  txPowerDbm: number
  antennaGainDbi: number
  sensitivityDbm: number
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
  /** A wireless camera links to a gateway as a node does. */
  radio?: RadioSpec
}

export interface SensorPart extends PartBase {
  kind: 'sensor'
  /** What it senses with: `PIR`, `microwave radar`, `lidar`, `beam`… shown to the planner. */
  technology: string
  rangeM: number
  /** Horizontal detection angle; 360 for a ceiling or pole-top sensor. */
  angleDeg: number
  /** A wireless sensor links to a gateway as a node does. */
  radio?: RadioSpec
}

export interface RadioPart extends PartBase, RadioSpec {
  kind: 'gateway' | 'node'
  /** Gateways only: how many nodes it can serve (association table, airtime). Absent: no limit. */
  maxNodes?: number
}

/** A PoE switch: its own draw is `powerW`; what it passes to its ports is counted at the devices. */
export interface SwitchPart extends PartBase {
  kind: 'switch'
  /** Ports that deliver PoE (uplinks not counted). */
  poePorts: number
  /** Total power the switch can deliver across its PoE ports. */
  poeBudgetW: number
}

export type CataloguePart = CameraPart | SensorPart | RadioPart | SwitchPart
export type Catalogue = readonly CataloguePart[]

export function findPart(catalogue: Catalogue, partNumber: string): CataloguePart | undefined {
  return catalogue.find((part) => part.partNumber === partNumber)
}

/** The radio a part links with: a gateway's or node's own, a wireless camera's or sensor's; none for a switch. */
export function radioOf(part: CataloguePart): RadioSpec | undefined {
  if (part.kind === 'camera' || part.kind === 'sensor') return part.radio
  return part.kind === 'switch' ? undefined : part
}

/** The most a part draws at any moment: what a PoE port, a fuse or a supply must carry. */
export function peakPowerW(part: Pick<CataloguePart, 'powerW' | 'dutyCycle'>): number {
  return Math.max(part.powerW, part.dutyCycle?.bursts?.drawW ?? 0)
}

/** The lowest PoE class whose device-end power covers `watts`, or null when even class 8 falls short. */
export function poeClassFor(watts: number): PoeClass | null {
  const classes: PoeClass[] = [1, 2, 3, 4, 5, 6, 7, 8]
  return classes.find((c) => poeClassPower[c].pdW >= watts) ?? null
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

/** Problems with a catalogue, each a sentence naming the part and saying what to fix. */
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
    problems.push(...dutyCycleProblems(name, part), ...supplyProblems(name, part))
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
      if (part.radio) problems.push(...radioProblems(`${name}'s radio`, part.radio))
    } else if (part.kind === 'sensor') {
      if (!(part.rangeM > 0)) problems.push(`${name}: detection range must be positive.`)
      if (!(part.angleDeg > 0 && part.angleDeg <= 360)) problems.push(`${name}: detection angle must be between 0° and 360°, not ${part.angleDeg}°.`)
      if (part.radio) problems.push(...radioProblems(`${name}'s radio`, part.radio))
    } else if (part.kind === 'switch') {
      if (!(Number.isInteger(part.poePorts) && part.poePorts > 0)) problems.push(`${name}: a PoE switch needs a whole number of PoE ports, not ${part.poePorts}.`)
      if (!(finite(part.poeBudgetW) && part.poeBudgetW > 0)) problems.push(`${name}: the PoE budget must be a positive number of watts.`)
      // A switch fed over PoE would pass on less than it draws; the budget does not model a chain of switches.
      if (part.supply && part.supply.kind !== 'mains') problems.push(`${name}: a switch is powered from mains here; remove its ${part.supply.kind} supply.`)
    } else {
      problems.push(...radioProblems(name, part))
      if (part.maxNodes !== undefined) {
        if (part.kind === 'node') problems.push(`${name}: only a gateway has a node capacity; remove maxNodes from this node.`)
        else if (!(Number.isInteger(part.maxNodes) && part.maxNodes > 0)) problems.push(`${name}: the gateway's capacity must be a whole number of nodes, not ${part.maxNodes}.`)
      }
    }
  }
  return problems
}

function radioProblems(name: string, radio: RadioSpec): string[] {
  const problems: string[] = []
  if (!finite(radio.txPowerDbm) || radio.txPowerDbm > 36) problems.push(`${name}: transmit power ${radio.txPowerDbm} dBm is not a radio of this kind.`)
  if (!finite(radio.antennaGainDbi)) problems.push(`${name}: antenna gain must be a number of dBi.`)
  if (!finite(radio.sensitivityDbm) || radio.sensitivityDbm >= 0) problems.push(`${name}: receiver sensitivity is a negative dBm figure, not ${radio.sensitivityDbm}.`)
  if (!(radio.frequencyMHz > 0)) problems.push(`${name}: the frequency must be positive.`)
  return problems
}

function dutyCycleProblems(name: string, part: CataloguePart): string[] {
  const duty = part.dutyCycle
  if (!duty) return []
  const problems: string[] = []
  if (!(duty.activeShare >= 0 && duty.activeShare <= 1)) problems.push(`${name}: the awake share of the duty cycle must be between 0 and 1, not ${duty.activeShare}.`)
  if (!(finite(duty.sleepW) && duty.sleepW >= 0)) problems.push(`${name}: the sleep draw must be zero or more watts.`)
  else if (duty.sleepW > part.powerW) problems.push(`${name}: it draws more asleep (${duty.sleepW} W) than awake (${part.powerW} W); check both figures.`)
  const bursts = duty.bursts
  if (bursts) {
    if (!(finite(bursts.perHour) && bursts.perHour >= 0)) problems.push(`${name}: radio bursts per hour must be zero or more.`)
    if (!(finite(bursts.durationS) && bursts.durationS >= 0)) problems.push(`${name}: a radio burst must last zero or more seconds.`)
    if (!(finite(bursts.drawW) && bursts.drawW >= 0)) problems.push(`${name}: the draw during a radio burst must be zero or more watts.`)
    const burstShare = (bursts.perHour * bursts.durationS) / 3600
    if (duty.activeShare + burstShare > 1) {
      problems.push(`${name}: awake ${(duty.activeShare * 100).toFixed(1)} % of the hour and transmitting ${(burstShare * 100).toFixed(1)} % more is longer than the hour; shorten the bursts or the awake share.`)
    }
  }
  return problems
}

function supplyProblems(name: string, part: CataloguePart): string[] {
  const supply = part.supply
  if (!supply || supply.kind === 'mains') return []
  if (supply.kind === 'battery') {
    const problems: string[] = []
    if (!(finite(supply.capacityWh) && supply.capacityWh > 0)) problems.push(`${name}: the battery needs a positive capacity in Wh (volts × amp-hours).`)
    if (supply.usableShare !== undefined && !(supply.usableShare > 0 && supply.usableShare <= 1)) {
      problems.push(`${name}: the usable share of the battery must be above 0 and at most 1, not ${supply.usableShare}.`)
    }
    return problems
  }
  if (!Object.hasOwn(poeClassPower, supply.poeClass)) return [`${name}: PoE class must be a whole number from 0 to 8, not ${supply.poeClass}.`]
  const peak = peakPowerW(part)
  const { pdW } = poeClassPower[supply.poeClass]
  if (peak <= pdW) return []
  const enough = poeClassFor(peak)
  return [`${name} draws up to ${peak} W, more than PoE class ${supply.poeClass} delivers (${pdW} W); ${enough === null ? 'no PoE class delivers that, so power it from mains' : `announce class ${enough} or higher`}.`]
}

/**
 * The shape a catalogue file must have, field by field: `number` (finite), `string`, a nested object, or
 * an object told apart by its `kind`. A field name ending in `?` may be left out.
 */
type Shape = 'number' | 'string' | { readonly object: Fields } | { readonly byKind: Readonly<Record<string, Fields>> }
type Fields = Readonly<Record<string, Shape>>

const radioFields = { frequencyMHz: 'number', txPowerDbm: 'number', antennaGainDbi: 'number', sensitivityDbm: 'number' } as const satisfies Fields
const partFields = {
  partNumber: 'string',
  name: 'string',
  powerW: 'number',
  'dutyCycle?': { object: { activeShare: 'number', sleepW: 'number', 'bursts?': { object: { perHour: 'number', durationS: 'number', drawW: 'number' } } } },
  'supply?': { byKind: { mains: {}, poe: { poeClass: 'number' }, battery: { capacityWh: 'number', 'usableShare?': 'number' } } },
  priceEur: 'number',
} as const satisfies Fields
const partShape = {
  byKind: {
    camera: {
      ...partFields,
      sensor: { object: { format: 'string', widthMm: 'number', widthPx: 'number', heightPx: 'number' } },
      lens: { object: { focalLengthMm: 'number' } },
      hfovDeg: 'number',
      'dori?': { object: { detectionPxPerM: 'number', observationPxPerM: 'number', recognitionPxPerM: 'number', identificationPxPerM: 'number' } },
      'maxRangeM?': 'number',
      'radio?': { object: radioFields },
    },
    sensor: { ...partFields, technology: 'string', rangeM: 'number', angleDeg: 'number', 'radio?': { object: radioFields } },
    gateway: { ...partFields, ...radioFields, 'maxNodes?': 'number' },
    node: { ...partFields, ...radioFields, 'maxNodes?': 'number' },
    switch: { ...partFields, poePorts: 'number', poeBudgetW: 'number' },
  } satisfies Record<CataloguePart['kind'], Fields>,
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A value as a sentence names it, short even when the value is a megabyte of text. */
function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value}`
}

/**
 * Copies `value` as `shape` says, field by field, into fresh objects (so nothing the file smuggles in, not
 * even a `__proto__` key, reaches the catalogue), and says in `problems` where it differs.
 */
function readShape(value: unknown, shape: Shape, where: string, field: string, problems: string[]): unknown {
  if (shape === 'number') {
    if (typeof value === 'number' && Number.isFinite(value)) return value
    problems.push(`${where}: "${field}" must be a number, not ${describeValue(value)}.`)
    return undefined
  }
  if (shape === 'string') {
    if (typeof value === 'string') return value
    problems.push(`${where}: "${field}" must be text, not ${describeValue(value)}.`)
    return undefined
  }
  if ('object' in shape) return readFields(value, shape.object, where, field, {}, problems)
  const kinds = Object.keys(shape.byKind)
  const kind = isRecord(value) && Object.hasOwn(value, 'kind') ? value.kind : undefined
  const kindField = field ? `${field}.kind` : 'kind'
  if (typeof kind !== 'string' || !Object.hasOwn(shape.byKind, kind)) {
    problems.push(`${where}: "${kindField}" must be one of ${kinds.join(', ')}, not ${kind === undefined ? 'missing' : describeValue(kind)}.`)
    return undefined
  }
  return readFields(value, shape.byKind[kind]!, where, field, { kind }, problems)
}

function readFields(value: unknown, fields: Fields, where: string, field: string, out: Record<string, unknown>, problems: string[]): unknown {
  if (!isRecord(value)) {
    problems.push(`${where}: "${field}" must be an object, not ${describeValue(value)}.`)
    return undefined
  }
  const known = new Set(Object.hasOwn(out, 'kind') ? ['kind'] : [])
  for (const [key, shape] of Object.entries(fields)) {
    const optional = key.endsWith('?')
    const name = optional ? key.slice(0, -1) : key
    const path = field ? `${field}.${name}` : name
    known.add(name)
    if (Object.hasOwn(value, name)) out[name] = readShape(value[name], shape, where, path, problems)
    else if (!optional) problems.push(`${where}: "${path}" is missing.`)
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`${where}: "${field ? `${field}.${key}` : key}" is not a field here; remove it or correct its spelling.`)
  }
  return out
}

/**
 * A catalogue from parsed JSON (a file the user edited, a message from the other host): every field's type
 * checked first, then `validateCatalogue`. Never throws: whatever the input, the answer is a catalogue or
 * sentences that name the part (or its place in the list) and the field to fix.
 */
export function parseCatalogue(json: unknown): { ok: true; catalogue: Catalogue } | { ok: false; problems: string[] } {
  if (!Array.isArray(json)) return { ok: false, problems: [`The catalogue must be a list of parts, not ${describeValue(json)}.`] }
  const problems: string[] = []
  const catalogue = json.map((item: unknown, index) => {
    const partNumber = isRecord(item) && Object.hasOwn(item, 'partNumber') ? item.partNumber : undefined
    const where = typeof partNumber === 'string' && partNumber ? `Part ${partNumber.slice(0, 60)}` : `Part ${index + 1} in the list`
    return readShape(item, partShape, where, '', problems) as CataloguePart
  })
  if (problems.length > 0) return { ok: false, problems }
  const invalid = validateCatalogue(catalogue)
  return invalid.length > 0 ? { ok: false, problems: invalid } : { ok: true, catalogue }
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
  const devices = new Map(site.devices.map((d) => [d.id, d]))
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
    if (device.poeSwitchId !== undefined) {
      const feeder = devices.get(device.poeSwitchId)
      const feederPart = feeder && findPart(catalogue, feeder.partNumber)
      if (!feeder) problems.push(`Device ${device.id} is fed by switch ${device.poeSwitchId}, which is not on the site; choose a placed switch.`)
      else if (feederPart && feederPart.kind !== 'switch') problems.push(`Device ${device.id} is fed by ${feeder.id}, which is a ${feederPart.kind}, not a switch.`)
      if (part && part.supply?.kind !== 'poe') problems.push(`Device ${device.id} names a PoE switch, but its part ${part.partNumber} is not powered over Ethernet; remove the switch or choose a PoE part.`)
    }
  }
  return problems
}
