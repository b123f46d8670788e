import { typicalAttenuationDb, type Catalogue, type DeviceKind, type MountingPoint, type Obstruction, type ObstructionMaterial, type PlacedDevice, type SiteModel } from './model'

/**
 * A plausible yard, drawn at random: fences and building walls (mostly square to the site, as people
 * build), poles and wall brackets to mount on, devices on some of them. For the demo site, benchmarks and
 * tests; randomness is passed in (`random` returns [0, 1)), so a seed gives the same site every time.
 */

/** A small catalogue of generic parts with datasheet-like figures. */
export const sampleCatalogue: Catalogue = [
  {
    kind: 'camera',
    partNumber: 'CAM-4MP-28',
    name: '4 MP bullet, 2.8 mm',
    sensor: { format: '1/3"', widthMm: 4.8, widthPx: 2688, heightPx: 1520 },
    lens: { focalLengthMm: 2.8 },
    hfovDeg: 98,
    maxRangeM: 40,
    powerW: 6,
    priceEur: 180,
  },
  {
    kind: 'camera',
    partNumber: 'CAM-8MP-60',
    name: '8 MP bullet, 6 mm',
    sensor: { format: '1/2.8"', widthMm: 5.6, widthPx: 3840, heightPx: 2160 },
    lens: { focalLengthMm: 6 },
    hfovDeg: 50,
    maxRangeM: 60,
    powerW: 8,
    priceEur: 320,
  },
  { kind: 'sensor', partNumber: 'PIR-12-110', technology: 'PIR', name: 'Outdoor PIR, 12 m', rangeM: 12, angleDeg: 110, powerW: 0.2, priceEur: 45 },
  { kind: 'sensor', partNumber: 'RAD-30-90', technology: 'microwave radar', name: 'Perimeter radar, 30 m', rangeM: 30, angleDeg: 90, powerW: 3, priceEur: 260 },
  { kind: 'sensor', partNumber: 'RAD-120-100', technology: 'ground surveillance radar', name: 'Area radar, 120 m', rangeM: 120, angleDeg: 100, powerW: 25, priceEur: 6500 },
  { kind: 'sensor', partNumber: 'LID-50-360', technology: 'lidar', name: 'Pole-top lidar, 50 m', rangeM: 50, angleDeg: 360, powerW: 9, priceEur: 1400 },
  { kind: 'gateway', partNumber: 'GW-24-OUT', name: 'Outdoor 2.4 GHz gateway', frequencyMHz: 2440, txPowerDbm: 20, antennaGainDbi: 5, sensitivityDbm: -97, powerW: 4, priceEur: 240 },
  { kind: 'node', partNumber: 'ESP32-NODE', name: 'ESP32 sensor node', frequencyMHz: 2440, txPowerDbm: 19.5, antennaGainDbi: 2, sensitivityDbm: -92, powerW: 0.5, priceEur: 25 },
]

export interface SyntheticSiteOptions {
  widthM: number
  heightM: number
  walls: number
  /** Wall lengths are drawn between these. */
  wallLengthM?: [number, number]
  mountingPoints: number
  /** Devices placed on random mounting points, drawn from `deviceParts`. */
  devices: number
  deviceParts?: readonly string[]
  gateways?: number
  /** Kinds every mounting point takes. */
  mountKinds?: readonly DeviceKind[]
}

const materials: ObstructionMaterial[] = ['concrete', 'brick', 'block', 'metal', 'wood', 'fence', 'vegetation', 'drywall']

export function syntheticSite(random: () => number, options: SyntheticSiteOptions): SiteModel {
  const { widthM: w, heightM: h } = options
  const [minLength, maxLength] = options.wallLengthM ?? [5, 40]
  const between = (lo: number, hi: number) => lo + (hi - lo) * random()
  const pick = <T>(items: readonly T[]): T => items[Math.min(items.length - 1, Math.floor(random() * items.length))]!

  const obstructions: Obstruction[] = []
  for (let i = 0; i < options.walls; i++) {
    const length = between(minLength, maxLength)
    const angle = random() < 0.7 ? (Math.floor(random() * 4) * Math.PI) / 2 : random() * Math.PI * 2
    const ax = between(0, w)
    const ay = between(0, h)
    const bx = Math.min(w, Math.max(0, ax + length * Math.cos(angle)))
    const by = Math.min(h, Math.max(0, ay + length * Math.sin(angle)))
    const material = pick(materials)
    obstructions.push({
      id: `wall-${i + 1}`,
      shape: { kind: 'segment', a: { x: ax, y: ay }, b: { x: bx, y: by } },
      material,
      heightM: material === 'fence' ? between(1.8, 2.4) : between(2, 6),
      blocksSight: material !== 'fence',
      attenuationDb: typicalAttenuationDb[material],
    })
  }

  const kinds = options.mountKinds ?? ['camera', 'sensor', 'node', 'gateway']
  const mountingPoints: MountingPoint[] = []
  for (let i = 0; i < options.mountingPoints; i++) {
    mountingPoints.push({ id: `mount-${i + 1}`, x: between(0.5, w - 0.5), y: between(0.5, h - 0.5), heightM: between(2.5, 6), allowedKinds: kinds })
  }

  const devices: PlacedDevice[] = []
  const parts = options.deviceParts ?? ['PIR-12-110', 'RAD-30-90', 'LID-50-360', 'CAM-4MP-28', 'CAM-8MP-60']
  for (let i = 0; i < options.devices && mountingPoints.length > 0; i++) {
    devices.push({ id: `device-${i + 1}`, partNumber: pick(parts), mountingPointId: pick(mountingPoints).id, orientationDeg: Math.floor(random() * 360) })
  }
  for (let i = 0; i < (options.gateways ?? 0) && mountingPoints.length > 0; i++) {
    devices.push({ id: `gateway-${i + 1}`, partNumber: 'GW-24-OUT', mountingPointId: pick(mountingPoints).id, orientationDeg: 0 })
  }

  return {
    name: `Synthetic yard ${w} m × ${h} m`,
    origin: { lat: 51.4545, lon: -2.5879 },
    boundary: [
      { x: 0, y: 0 },
      { x: w, y: 0 },
      { x: w, y: h },
      { x: 0, y: h },
    ],
    zones: [],
    obstructions,
    mountingPoints,
    devices,
  }
}

