import type { LatLon, PointM } from './model'

/**
 * Local metres around the site origin: the east-north plane tangent to the WGS84 ellipsoid at the origin
 * (ENU without the up axis). Ground points are taken on the ellipsoid, so the inverse is exact: the
 * point of the ellipsoid below a plane position is a quadratic away, and a point on the ellipsoid has a
 * closed-form geodetic latitude. Plane distances differ from ground distances by s³/6R² (half a
 * millimetre at 5 km), where a plain equirectangular projection shears by up to a metre over a few km
 * away from the equator because meridians converge. Crossing the antimeridian needs no special case.
 */
export interface LocalProjection {
  readonly origin: LatLon
  toLocal(position: LatLon): PointM
  toLatLon(point: PointM): LatLon
}

const a = 6378137 // WGS84 semi-major axis, m
const f = 1 / 298.257223563
const e2 = f * (2 - f)
const b = a * (1 - f)
const rad = Math.PI / 180

export function createLocalProjection(origin: LatLon): LocalProjection {
  const sinLat0 = Math.sin(origin.lat * rad)
  const cosLat0 = Math.cos(origin.lat * rad)
  const sinLon0 = Math.sin(origin.lon * rad)
  const cosLon0 = Math.cos(origin.lon * rad)
  const [x0, y0, z0] = ecef(origin.lat, origin.lon)
  // Unit vectors of the local frame in ECEF.
  const east = [-sinLon0, cosLon0, 0] as const
  const north = [-sinLat0 * cosLon0, -sinLat0 * sinLon0, cosLat0] as const
  const up = [cosLat0 * cosLon0, cosLat0 * sinLon0, sinLat0] as const

  return {
    origin: { ...origin },
    toLocal(position) {
      const [x, y, z] = ecef(position.lat, position.lon)
      const dx = x - x0
      const dy = y - y0
      const dz = z - z0
      return { x: east[0] * dx + east[1] * dy, y: north[0] * dx + north[1] * dy + north[2] * dz }
    },
    toLatLon(point) {
      // P(u) = O + x·E + y·N + u·U lies on the ellipsoid: (X² + Y²)/a² + Z²/b² = 1, quadratic in u.
      const px = x0 + point.x * east[0] + point.y * north[0]
      const py = y0 + point.x * east[1] + point.y * north[1]
      const pz = z0 + point.y * north[2]
      const qa = (up[0] * up[0] + up[1] * up[1]) / (a * a) + (up[2] * up[2]) / (b * b)
      const qb = 2 * ((px * up[0] + py * up[1]) / (a * a) + (pz * up[2]) / (b * b))
      const qc = (px * px + py * py) / (a * a) + (pz * pz) / (b * b) - 1
      // The root near zero (the plane lies above the ellipsoid); this form keeps its precision.
      const disc = Math.sqrt(Math.max(0, qb * qb - 4 * qa * qc))
      const u = (-2 * qc) / (qb + Math.sign(qb || 1) * disc)
      const x = px + u * up[0]
      const y = py + u * up[1]
      const z = pz + u * up[2]
      const p = Math.hypot(x, y)
      const lat = Math.atan2(z, p * (1 - e2)) / rad
      let lon = Math.atan2(y, x) / rad
      if (lon <= -180) lon += 360
      return { lat, lon }
    },
  }
}

function ecef(latDeg: number, lonDeg: number): [number, number, number] {
  const lat = latDeg * rad
  const lon = lonDeg * rad
  const sinLat = Math.sin(lat)
  const n = a / Math.sqrt(1 - e2 * sinLat * sinLat)
  const cosLat = Math.cos(lat)
  return [n * cosLat * Math.cos(lon), n * cosLat * Math.sin(lon), n * (1 - e2) * sinLat]
}

/** Radius of curvature along the meridian: metres per radian of latitude at `latDeg`. */
export function meridionalRadiusM(latDeg: number): number {
  const s = Math.sin(latDeg * rad)
  return (a * (1 - e2)) / Math.pow(1 - e2 * s * s, 1.5)
}

/** Radius of curvature along the prime vertical: with cos(lat), metres per radian of longitude. */
export function primeVerticalRadiusM(latDeg: number): number {
  const s = Math.sin(latDeg * rad)
  return a / Math.sqrt(1 - e2 * s * s)
}
