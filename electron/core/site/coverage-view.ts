// The coverage screen's view of a computed coverage: one byte per cell for the raster, the gateways' level
// quantised to a byte, and the blind spots outlined in [lon, lat] so the map draws them without knowing the
// site's local metres.

import type { CoverageGridView, SiteCoverageView } from '../../../shared/contract'
import { blindSpotOutline, type CoverageResult } from '../../../shared/domain/site/coverage'
import { coverageCells } from '../../../shared/domain/site/coverage-palette'
import type { PointM, PolygonM, SiteModel } from '../../../shared/domain/site/model'
import { createLocalProjection, type LocalProjection } from '../../../shared/domain/site/projection'

/**
 * Most blind spots listed with an outline, largest first. A big site with scattered single-cell gaps has
 * tens of thousands; past the first few hundred they are noise in a list, and the raster still shows them.
 */
export const listedBlindSpots = 500

/** Width and height of the boundary's box; a loop, since a boundary may have more corners than a call takes arguments. */
function extent(boundary: PolygonM): { width: number; height: number } {
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const p of boundary) {
    minX = Math.min(minX, p.x)
    minY = Math.min(minY, p.y)
    maxX = Math.max(maxX, p.x)
    maxY = Math.max(maxY, p.y)
  }
  return { width: maxX - minX, height: maxY - minY }
}

/** Cells of the grid buildCoverageGrid would cut the site into, counted before any memory is spent on them. */
export function gridCellCount(boundary: PolygonM, cellSizeM: number): number {
  const { width, height } = extent(boundary)
  // The same rounding as buildCoverageGrid, so the count is the grid's.
  return Math.max(1, Math.ceil(width / cellSizeM - 1e-9)) * Math.max(1, Math.ceil(height / cellSizeM - 1e-9))
}

/** The finest cell size, in half metres, at which the site's grid stays within `maxCells`. */
export function fittingCellSizeM(boundary: PolygonM, maxCells: number): number {
  const { width, height } = extent(boundary)
  let size = Math.max(0.5, Math.ceil(Math.sqrt((width * height) / maxCells) * 2) / 2)
  while (gridCellCount(boundary, size) > maxCells) size += 0.5
  return size
}

/** The strongest gateway per cell as one byte: 0 for nothing heard, else dBm + 140 within 1…140. */
export function radioLevels(rssiDbm: Float32Array): Uint8Array {
  const levels = new Uint8Array(rssiDbm.length)
  for (let i = 0; i < rssiDbm.length; i++) {
    const level = rssiDbm[i]!
    if (Number.isFinite(level)) levels[i] = Math.min(140, Math.max(1, Math.round(level + 140)))
  }
  return levels
}

function lonLat(projection: LocalProjection, point: PointM): [number, number] {
  const { lat, lon } = projection.toLatLon(point)
  return [lon, lat]
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

export function coverageView(site: SiteModel, coverage: CoverageResult, revision: number, computeMs: number): SiteCoverageView {
  const { grid } = coverage
  const projection = createLocalProjection(site.origin)
  const east = grid.originX + grid.cols * grid.cellSizeM
  const north = grid.originY + grid.rows * grid.cellSizeM
  const gridView: CoverageGridView = {
    cols: grid.cols,
    rows: grid.rows,
    cellSizeM: grid.cellSizeM,
    originX: grid.originX,
    originY: grid.originY,
    corners: [
      lonLat(projection, { x: grid.originX, y: north }),
      lonLat(projection, { x: east, y: north }),
      lonLat(projection, { x: east, y: grid.originY }),
      lonLat(projection, { x: grid.originX, y: grid.originY }),
    ],
  }
  const listed = coverage.blindSpots.slice(0, listedBlindSpots)
  const problems = [...coverage.problems]
  const unlisted = coverage.blindSpots.slice(listedBlindSpots)
  if (unlisted.length > 0) {
    const area = unlisted.reduce((sum, spot) => sum + spot.areaM2, 0)
    problems.push(`${unlisted.length.toLocaleString('en')} smaller blind spots (${area.toLocaleString('en', { maximumFractionDigits: 0 })} m² together) are shown on the map but not listed.`)
  }
  return {
    revision,
    grid: gridView,
    cells: base64(coverageCells(coverage)),
    radio: coverage.rssiDbm ? base64(radioLevels(coverage.rssiDbm)) : null,
    summary: coverage.summary,
    blindSpots: listed.map((spot) => ({
      id: spot.id,
      areaM2: spot.areaM2,
      cells: spot.cellCount,
      centre: lonLat(projection, spot.centroid),
      outline: blindSpotOutline(grid, coverage.blindSpotLabels, spot).map((ring) => ring.map((point) => lonLat(projection, point))),
    })),
    problems,
    computeMs,
  }
}
