import { crc32, inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { PDFDocument } from 'pdf-lib'
import { commissioningReportPdf } from '../../electron/core/site/commissioning-report'
import { coveragePng } from '../../electron/core/site/coverage-png'
import { buildCoverageGrid, computeCoverage, DoriBand } from '../../shared/domain/site/coverage'
import { CoverageCell, coveragePalette } from '../../shared/domain/site/coverage-palette'
import type { DeviceKind, PlacedDevice, SiteModel } from '../../shared/domain/site/model'
import { siteOutputs } from '../../shared/domain/site/site-outputs'
import { builtInCatalogue, pdfText } from './site-outputs.fixture'

const catalogue = builtInCatalogue()
const anyKind: DeviceKind[] = ['camera', 'sensor', 'gateway', 'node', 'switch']
const rectangle = (w: number, h: number) => [
  { x: 0, y: 0 },
  { x: w, y: 0 },
  { x: w, y: h },
  { x: 0, y: h },
]

async function report(site: SiteModel, operator = 'A. Installer') {
  const outputs = siteOutputs(site, catalogue)
  const coverage = computeCoverage(site, catalogue, buildCoverageGrid(site, { cellSizeM: 2 }))
  const pdf = await commissioningReportPdf({ site, outputs, coverage, coveragePng: coveragePng(coverage), generatedAt: Date.UTC(2025, 0, 31, 17, 5), operator })
  return { pdf, pages: (await PDFDocument.load(pdf)).getPageCount(), text: pdfText(pdf) }
}

/** A 300 × 200 m logistics park with 300 devices: ten switches of fifteen cameras, two gateways, PIRs and nodes. */
function park(): SiteModel {
  const devices: PlacedDevice[] = []
  const mountingPoints: SiteModel['mountingPoints'][number][] = []
  const add = (id: string, partNumber: string, x: number, y: number, extra: Partial<PlacedDevice> = {}) => {
    mountingPoints.push({ id: `m-${id}`, x, y, heightM: 5, allowedKinds: anyKind })
    devices.push({ id, partNumber, mountingPointId: `m-${id}`, orientationDeg: (devices.length * 37) % 360, ...extra })
  }
  for (let s = 0; s < 10; s++) {
    add(`sw-${s + 1}`, 'SW-P16-250', 15 + s * 30, 100)
    for (let c = 0; c < 15; c++) add(`cam-${s * 15 + c + 1}`, 'CAM-B28-4M-040', 5 + s * 30 + (c % 5) * 5, 20 + Math.floor(c / 5) * 60, { poeSwitchId: `sw-${s + 1}` })
  }
  add('gw-west', 'GW-LR868-IN', 75, 150)
  add('gw-east', 'GW-LR868-IN', 225, 150)
  for (let i = 0; i < 100; i++) add(`pir-${i + 1}`, 'PIR-W868-12', 3 + (i % 50) * 6, i < 50 ? 190 : 110)
  for (let i = 0; i < 38; i++) add(`node-${i + 1}`, 'NODE-E32-LR-BAT', 4 + i * 7.8, 170)
  return { name: 'Logistics park', origin: { lat: 53.55, lon: 9.99 }, boundary: rectangle(300, 200), zones: [], obstructions: [], mountingPoints, devices }
}

describe('commissioningReportPdf', () => {
  it('opens for a plan without devices: every section says so instead of failing', async () => {
    const { pdf, pages, text } = await report({ name: 'Empty lot', origin: { lat: 0, lon: 0 }, boundary: rectangle(40, 30), zones: [], obstructions: [], mountingPoints: [], devices: [] })
    expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-')
    expect(pages).toBe(6)
    const strings = text.map((t) => t.text)
    expect(strings).toContain('No problems found in the plan.')
    expect(strings).toContain('0 on 0 part numbers')
    expect(strings.filter((s) => s === 'None.').length).toBeGreaterThanOrEqual(5)
  })

  it('pages 300 devices: every device named, headers repeated, nothing drawn off the page', async () => {
    const site = park()
    expect(site.devices).toHaveLength(300)
    const { pages, text } = await report(site)
    expect(pages).toBeGreaterThan(8)
    expect(pages).toBeLessThan(40)
    const named = new Set(text.map((t) => t.text))
    expect(site.devices.filter((d) => !named.has(d.id))).toEqual([])
    for (const t of text) {
      expect(t.x).toBeGreaterThanOrEqual(0)
      expect(t.x).toBeLessThan(595)
      expect(t.y).toBeGreaterThan(20)
      expect(t.y).toBeLessThan(842)
    }
    // Each page of the per-device power table starts with the table's header again.
    const powerPages = new Set(text.filter((t) => t.x < 60 && /^(cam|pir|node|sw|gw)-/.test(t.text)).map((t) => t.stream))
    for (const stream of powerPages) {
      expect(text.some((t) => t.stream === stream && (t.text === 'Device' || t.text === 'Node' || t.text === 'Switch' || t.text === 'Gateway'))).toBe(true)
    }
    // Every page is numbered out of the same total.
    expect(text.filter((t) => t.text.startsWith('Page ')).map((t) => t.text.replace(/^Page \d+/, ''))).toEqual(Array(pages).fill(` of ${pages}`))
  })

  it('folds names the standard fonts cannot encode instead of throwing', async () => {
    const site = { ...park(), name: 'Zürich 東京 − Győr\u0000 🙂', devices: [] }
    const { text } = await report(site, 'Søren\tØ')
    const strings = text.map((t) => t.text)
    expect(strings).toContain('Zürich ?? - Gyor? ?')
    expect(strings).toContain('Søren Ø')
  })
})

describe('coveragePng', () => {
  // Four columns, three rows: the south row blind, the middle seen by a sensor, the north at DORI bands.
  const site: SiteModel = { name: 'png', origin: { lat: 0, lon: 0 }, boundary: rectangle(4, 3), zones: [], obstructions: [], mountingPoints: [], devices: [] }
  const grid = buildCoverageGrid(site, { cellSizeM: 1 })
  const seenBy = Uint16Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
  const dori = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, DoriBand.detection, DoriBand.observation, DoriBand.recognition, DoriBand.identification])
  grid.demand[3] = 0 // one cell outside the problem: clear
  const png = coveragePng({ grid, seenBy, dori })

  const chunks = () => {
    const out: { type: string; data: Buffer; crcOk: boolean }[] = []
    const bytes = Buffer.from(png)
    for (let at = 8; at < bytes.length; ) {
      const length = bytes.readUInt32BE(at)
      const type = bytes.toString('latin1', at + 4, at + 8)
      out.push({ type, data: bytes.subarray(at + 8, at + 8 + length), crcOk: crc32(bytes.subarray(at + 4, at + 8 + length)) === bytes.readUInt32BE(at + 8 + length) })
      at += 12 + length
    }
    return out
  }

  it('is a valid indexed PNG of one pixel per cell, with the shared palette', () => {
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const list = chunks()
    expect(list.map((c) => c.type)).toEqual(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND'])
    expect(list.every((c) => c.crcOk)).toBe(true)
    const header = list[0]!.data
    expect([header.readUInt32BE(0), header.readUInt32BE(4), header[8], header[9]]).toEqual([4, 3, 8, 3])
    expect([...list[1]!.data]).toEqual(coveragePalette.flatMap((c) => [c.red, c.green, c.blue]))
    expect(list[2]!.data[CoverageCell.outside]).toBe(0)
  })

  it('puts north at the top: the first scanline is the grid row furthest north', () => {
    const raw = inflateSync(chunks()[3]!.data)
    const rows = [0, 1, 2].map((r) => [...raw.subarray(r * 5, r * 5 + 5)])
    expect(rows).toEqual([
      [0, CoverageCell.detection, CoverageCell.observation, CoverageCell.recognition, CoverageCell.identification],
      [0, CoverageCell.seen, CoverageCell.seen, CoverageCell.seen, CoverageCell.seen],
      [0, CoverageCell.blind, CoverageCell.blind, CoverageCell.blind, CoverageCell.outside],
    ])
  })
})
