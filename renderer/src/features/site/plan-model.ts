import type { PlacementProposal, SiteExportKind, SitePlacementView } from '../../../../shared/contract'
import type { SiteModel } from '../../../../shared/domain/site/model'
import type { CurvePoint } from '../../../../shared/domain/site/placement'
import type { SiteEdit } from '../../../../shared/domain/site/site-edits'
import { base64ToBytes } from '../bench/base64'
import { plural } from './site-model'

/** How a placed device's id starts, by kind: what installers write on the label ("cam-3"). */
const idPrefixes: Record<PlacementProposal['kind'], string> = { camera: 'cam', sensor: 'sensor' }

/**
 * The proposal as edits that add one device each, numbered on from the highest id of its kind already in
 * the plan (so a deleted cam-2 is not reused by a new camera that the BOM would then confuse with it).
 */
export function placementEdits(model: Pick<SiteModel, 'devices'>, proposal: readonly PlacementProposal[]): SiteEdit[] {
  const taken = new Set(model.devices.map((device) => device.id))
  const next: Record<string, number> = {}
  const nextId = (prefix: string): string => {
    if (next[prefix] === undefined) {
      const pattern = new RegExp(`^${prefix}-(\\d+)$`)
      next[prefix] = 1 + Math.max(0, ...[...taken].map((id) => Number(pattern.exec(id)?.[1] ?? 0)))
    }
    let id = `${prefix}-${next[prefix]++}`
    while (taken.has(id)) id = `${prefix}-${next[prefix]++}`
    taken.add(id)
    return id
  }
  return proposal.map((item) => ({
    op: 'add',
    collection: 'devices',
    item: { id: nextId(idPrefixes[item.kind]), partNumber: item.partNumber, mountingPointId: item.mountingPointId, orientationDeg: item.orientationDeg },
  }))
}

/** The undo label of adding a placement: "add 6 devices from placement". */
export function placementLabel(count: number): string {
  return `add ${plural(count, 'device')} from placement`
}

/** A share of 0…1 as the percentage people read: one decimal, never "100.0 %" for 0.9996. */
export function formatShare(share: number | null): string {
  if (share === null || !Number.isFinite(share)) return '—'
  // The epsilon keeps 0.873 (872.999… in binary) at 87.3.
  const percent = Math.floor(share * 1000 + 1e-9) / 10
  return `${percent.toFixed(1)} %`
}

export function formatArea(m2: number): string {
  return m2 >= 10_000 ? `${(m2 / 10_000).toFixed(2)} ha` : `${m2 < 10 ? m2.toFixed(1) : Math.round(m2)} m²`
}

export function formatWatts(w: number): string {
  return `${w < 10 ? w.toFixed(2) : w.toFixed(1)} W`
}

export function formatEuros(eur: number): string {
  return `€${eur.toLocaleString('en-GB', { minimumFractionDigits: 0, maximumFractionDigits: 2 })}`
}

export function formatDays(days: number | null): string {
  if (days === null) return '—'
  if (!Number.isFinite(days)) return 'unlimited'
  return days >= 730 ? `${(days / 365).toFixed(1)} years` : `${Math.round(days)} days`
}

/** How the exact solver ended, in words for the placement panel. */
export const exactStatusLabels: Record<NonNullable<SitePlacementView['exact']>['status'], string> = {
  optimal: 'optimal',
  'time-limit': 'best found before the time limit (not proved optimal)',
  infeasible: 'no cover exists',
  failed: 'the solver failed',
}

export const exportLabels: Record<SiteExportKind, string> = {
  'bom-csv': 'Bill of materials (CSV)',
  'topology-svg': 'Topology (SVG)',
  'coverage-svg': 'Coverage (SVG)',
  'report-pdf': 'Commissioning report (PDF)',
  'site-file': 'Save site file',
}

/** The chart of the placement curve: a polyline of coverage (0…1 up) against nodes, in a box of `width` × `height`. */
export function curvePolyline(curve: readonly CurvePoint[], width: number, height: number): string {
  if (curve.length === 0) return ''
  const maxNodes = Math.max(1, ...curve.map((point) => point.nodes))
  const at = (point: CurvePoint) => `${round((point.nodes / maxNodes) * width)},${round((1 - clamp01(point.coveredShare)) * height)}`
  return curve.map(at).join(' ')
}

const round = (value: number) => Math.round(value * 10) / 10
const clamp01 = (value: number) => Math.min(1, Math.max(0, value))

/** The file the core sent, as a download the browser saves; nothing is opened or shown in a new window. */
export function downloadFile(file: { fileName: string; mime: string; data: string }): void {
  const url = URL.createObjectURL(new Blob([base64ToBytes(file.data)], { type: file.mime }))
  const link = document.createElement('a')
  link.href = url
  link.download = file.fileName
  link.rel = 'noopener'
  document.body.append(link)
  link.click()
  link.remove()
  // The click has handed the blob to the download; a moment later the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 1_000)
}
