import { describe, expect, it } from 'vitest'
import { PDFDocument } from 'pdf-lib'
import { commissioningReportPdf } from '../../electron/core/site/commissioning-report'
import { coveragePng } from '../../electron/core/site/coverage-png'
import { bomCsv } from '../../shared/domain/site/bill-of-materials'
import { buildCoverageGrid, computeCoverage } from '../../shared/domain/site/coverage'
import { coverageSvg } from '../../shared/domain/site/coverage-svg'
import { findPart } from '../../shared/domain/site/model'
import { siteOutputs } from '../../shared/domain/site/site-outputs'
import { topologySvg } from '../../shared/domain/site/topology-svg'
import { builtInCatalogue, depotSite, elementsWith, parseCsv, pdfStreams, pdfText, tally } from './site-outputs.fixture'

/**
 * One realistic plan, every output: the CSV, both diagrams and the report must name the same devices,
 * the same number of each part and the same part numbers, and all of it must match the model itself
 * (counted here straight from the site, not from the outputs the files are drawn from).
 */
describe('the outputs of one site plan agree', () => {
  const catalogue = builtInCatalogue()
  const site = depotSite()
  const outputs = siteOutputs(site, catalogue)
  const deviceIds = site.devices.map((d) => d.id).sort()
  const perPart = tally(site.devices.map((d) => d.partNumber))
  const idsPerPart = (partNumber: string) => site.devices.filter((d) => d.partNumber === partNumber).map((d) => d.id).sort()
  const expectedTotal = site.devices.reduce((sum, d) => sum + findPart(catalogue, d.partNumber)!.priceEur, 0)
  const grid = buildCoverageGrid(site, { cellSizeM: 1 })
  const coverage = computeCoverage(site, catalogue, grid)
  const png = coveragePng(coverage)

  it('lists every device of the model once, on a clean plan with no problems', () => {
    expect(outputs.problems).toEqual([])
    expect(outputs.devices.map((row) => row.id).sort()).toEqual(deviceIds)
    expect(tally(outputs.bom.flatMap((line) => line.deviceIds.map(() => line.partNumber)))).toEqual(perPart)
    expect(outputs.totalPriceEur).toBeCloseTo(expectedTotal, 2)
  })

  it('the BOM CSV has one row per part number with its count, devices and price', () => {
    const rows = parseCsv(bomCsv(outputs))
    expect(rows[0]).toEqual(['Part number', 'Name', 'Kind', 'Quantity', 'Unit price (EUR)', 'Line total (EUR)', 'Devices'])
    const lines = rows.slice(1, -1)
    expect(Object.fromEntries(lines.map((row) => [row[0], Number(row[3])]))).toEqual(perPart)
    for (const row of lines) {
      expect(row[6]!.split(' ').sort()).toEqual(idsPerPart(row[0]!))
      expect(row[1]).toBe(findPart(catalogue, row[0]!)!.name)
      expect(Number(row[5])).toBeCloseTo(findPart(catalogue, row[0]!)!.priceEur * perPart[row[0]!]!, 2)
    }
    expect(rows.at(-1)).toEqual(['Total', '', '', String(site.devices.length), '', expectedTotal.toFixed(2), ''])
  })

  it('the topology SVG draws every device once, with its part number, and every radio link with its margin', () => {
    const svg = topologySvg(outputs)
    const drawn = elementsWith(svg, 'data-device-id')
    expect(drawn.map((e) => e.getAttribute('data-device-id')).sort()).toEqual(deviceIds)
    expect(tally(drawn.map((e) => e.getAttribute('data-part-number')!))).toEqual(perPart)
    const links = elementsWith(svg, 'data-from').map((e) => `${e.getAttribute('data-from')}→${e.getAttribute('data-to')}: ${e.textContent}`)
    // The sub-GHz gateway hangs off switch sw-1 and serves both PIRs and the two LR nodes.
    for (const node of ['pir-1', 'pir-2', 'node-1', 'node-2']) {
      const link = outputs.network.links.find((l) => l.nodeId === node)!
      expect(link.gatewayId).toBe('gw-lr')
      expect(links).toContain(`gw-lr→${node}: +${link.marginDb.toFixed(1)} dB`)
    }
    expect(links).toContain('sw-1→gw-lr: 7.0 W')
    expect(links).toContain('sw-2→cam-10: 15.4 W')
  })

  it('the coverage SVG places every device with its part number over the raster it was given', () => {
    const dataUrl = `data:image/png;base64,${Buffer.from(png).toString('base64')}`
    const svg = coverageSvg(site, coverage, outputs, { pngDataUrl: dataUrl })
    const drawn = elementsWith(svg, 'data-device-id')
    expect(drawn.map((e) => e.getAttribute('data-device-id')).sort()).toEqual(deviceIds)
    expect(tally(drawn.map((e) => e.getAttribute('data-part-number')!))).toEqual(perPart)
    expect(elementsWith(svg, 'href').map((e) => e.getAttribute('href'))).toEqual([dataUrl])
    expect(elementsWith(svg, 'data-blind-spot').map((e) => Number(e.getAttribute('data-area-m2')))).toEqual(coverage.blindSpots.map((spot) => spot.areaM2))
  })

  it('the report attaches the same CSV and draws the same BOM table, and names every device in its power table', async () => {
    const pdf = await commissioningReportPdf({ site, outputs, coverage, coveragePng: png, generatedAt: Date.UTC(2025, 4, 6, 9, 30), operator: 'A. Installer' })
    expect((await PDFDocument.load(pdf)).getPageCount()).toBeGreaterThanOrEqual(6)
    const csv = bomCsv(outputs)
    expect(pdfStreams(pdf).map((stream) => Buffer.from(stream, 'latin1').toString('utf8'))).toContain(csv)

    const text = pdfText(pdf)
    const bomPage = text.find((t) => t.text === 'Bill of materials')!.stream
    const onBomPage = text.filter((t) => t.stream === bomPage)
    const number = (s: string) => Number(s.replace(/ /g, ''))
    for (const [partNumber, quantity] of Object.entries(perPart)) {
      const cell = onBomPage.filter((t) => t.text === partNumber)
      expect(cell, partNumber).toHaveLength(1)
      const row = onBomPage.filter((t) => t.y === cell[0]!.y).map((t) => t.text)
      expect(row.map(number)).toContain(quantity)
      expect(row.map(number)).toContain(findPart(catalogue, partNumber)!.priceEur * quantity)
      expect(row).toContain(idsPerPart(partNumber).join(' '))
    }
    const totalRow = onBomPage.filter((t) => t.y === onBomPage.find((u) => u.text === 'Total')!.y).map((t) => t.text)
    expect(totalRow[0]).toBe('Total')
    expect(totalRow.slice(1).map(number)).toEqual([site.devices.length, expectedTotal])

    // The per-device table: the first column, above the switches' table on the same page.
    const switches = text.find((t) => t.text === 'PoE switches')!
    const powerIds = text.filter((t) => t.stream === switches.stream && t.x < 60 && t.y > switches.y).map((t) => t.text)
    expect(powerIds.filter((t) => deviceIds.includes(t)).sort()).toEqual(deviceIds)
  })
})
