import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { expect, screenshotWhole, test } from './host'

// The issue "Site planning", its second part: a planner imports a survey of a depot yard, sees what the
// cameras would see (nothing yet: the whole yard is a blind spot), lets the console close the gaps with the
// fewest cameras on the poles there are, adds them, changes their mind and back, sees the coverage rise,
// and hands the installers a bill of materials, two diagrams and a commissioning report. The plan is
// still there after a reload.

// 150 m × 100 m: boundary, a required yard, two walls and a warehouse, twelve camera poles facing one way
// each and three junction boxes (test/e2e/fixtures/depot-yard.kml).
const survey = join(import.meta.dirname, 'fixtures/depot-yard.kml')

// The depot stocks two of the catalogue's cameras. Twelve poles with one facing each then make 24
// candidates, few enough for the console to prove the optimum beside its greedy answer.
const stockedCameras = ['CAM-T28-2M-028', 'CAM-B28-4M-040']
const builtInParts = JSON.parse(readFileSync(join(import.meta.dirname, '../../resources/catalogue/parts.json'), 'utf8')) as { kind: string; partNumber: string }[]
const stockedParts = builtInParts.filter((part) => part.kind !== 'camera' || stockedCameras.includes(part.partNumber))

const tab = (page: Page, name: string) => page.getByTestId(`site-plan-tab-${name}`)
const revision = (page: Page) => page.getByTestId('site-plan-revision')

/** Clicks an export button and answers the file the browser saved. */
async function download(page: Page, kind: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`site-plan-export-${kind}`).click()])
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) }
}

/** The rows of an RFC 4180 file: part names hold commas and inch marks, so fields may be quoted. */
function csvRows(bytes: Buffer): string[][] {
  return bytes
    .toString('utf8')
    .split('\r\n')
    .filter(Boolean)
    .map((line) => [...line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)].map((match) => (match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!)))
}

// A control-room screen: room for the map, its legend and the plan panel side by side.
test.use({ viewport: { width: 1600, height: 1000 } })

test('plans a site: coverage, gaps closed by placement, undo and redo, exports, and the plan kept', async ({ page, host, pageErrors }) => {
  test.setTimeout(180_000)
  await page.goto(`${host.url}#site`)
  await page.getByTestId('site-import').setInputFiles(survey)
  await expect(page.getByTestId('site-import-done')).toContainText('Imported depot-yard.kml')
  // The import made the plan's first revision.
  await expect(revision(page)).toHaveText('1')
  await expect(page.getByText('Imported from depot-yard.kml')).toBeVisible()

  // The catalogue: a typo is named and nothing is saved; then the parts the depot stocks.
  await tab(page, 'catalogue').click()
  await expect(page.getByTestId('site-plan-catalogue-source')).toContainText('The built-in catalogue')
  const catalogueText = page.getByTestId('site-plan-catalogue-text')
  await catalogueText.fill('[{"kind": "camera",]')
  await page.getByTestId('site-plan-catalogue-save').click()
  await expect(page.getByTestId('site-plan-catalogue-problems')).toContainText('The catalogue is not valid JSON, so nothing was saved')
  await expect(page.getByTestId('site-plan-catalogue-source')).toContainText('The built-in catalogue')
  await catalogueText.fill(JSON.stringify(stockedParts, null, 2))
  await page.getByTestId('site-plan-catalogue-save').click()
  await expect(page.getByTestId('site-plan-catalogue-source')).toContainText(`Edited`)
  await expect(page.getByTestId('site-plan-catalogue-source')).toContainText(`${stockedParts.length} parts`)
  await expect(page.getByTestId('site-plan-catalogue-problems')).toHaveCount(0)

  // Coverage with nothing placed: none of the yard is seen, and it is one blind spot.
  await tab(page, 'coverage').click()
  await page.getByTestId('site-plan-cell-size').fill('2')
  await page.getByTestId('site-plan-run-coverage').click()
  const share = page.getByTestId('site-plan-required-share')
  await expect(share).toHaveText('0.0 %', { timeout: 30_000 })
  const spots = page.getByTestId('site-plan-blind-spot')
  await expect(spots).not.toHaveCount(0)
  await expect(spots.first()).toContainText(/Blind spot 1\s*[\d.]+ (m²|ha)/)
  await spots.first().getByRole('button').click()
  await expect(spots.first().getByRole('button')).toHaveAttribute('aria-current', 'true')

  // Placement: close 95 % of the gaps; the greedy count, the proved optimum and the curve.
  await tab(page, 'placement').click()
  await page.getByTestId('site-plan-target').fill('95')
  await page.getByTestId('site-plan-run-placement').click()
  const proposal = page.getByTestId('site-plan-proposal')
  await expect(page.getByTestId('site-plan-placement')).toBeVisible({ timeout: 60_000 })
  const placed = await proposal.count()
  expect(placed).toBeGreaterThan(1)
  await expect(page.getByTestId('site-plan-greedy-nodes')).toHaveText(`${placed} devices`)
  const exact = page.getByTestId('site-plan-exact')
  await expect(exact).toHaveAttribute('data-status', 'optimal')
  const optimum = Number(/^(\d+) devices?, optimal/.exec((await exact.textContent())!)?.[1])
  expect(optimum).toBeGreaterThan(0)
  expect(optimum).toBeLessThanOrEqual(placed)
  await expect(page.getByTestId('site-plan-curve')).toHaveAttribute('aria-label', /^Required area seen rises from 0\.0 % with 0 devices to \d+\.\d % with \d+ devices\.$/)
  const partsPlaced = new Map<string, number>()
  for (const row of await proposal.all()) {
    const part = (await row.locator('td').first().textContent())!
    partsPlaced.set(part, (partsPlaced.get(part) ?? 0) + 1)
  }
  expect([...partsPlaced.keys()].every((part) => stockedCameras.includes(part))).toBe(true)

  // Added as devices in one step: one new revision, and Undo says what it would take back.
  const imported = Number(await revision(page).textContent())
  const apply = page.getByTestId('site-plan-apply-placement')
  await expect(apply).toHaveText(`Add ${placed} devices to the plan`)
  await apply.click()
  await expect(revision(page)).toHaveText(String(imported + 1))
  await expect(page.getByTestId('site-plan-undo')).toContainText(`Undo: add ${placed} devices from placement`)
  // The proposal was for the plan before: it cannot be added twice.
  await expect(page.getByTestId('site-plan-placement-stale')).toBeVisible()
  await expect(apply).toBeDisabled()

  await tab(page, 'devices').click()
  const devices = page.getByTestId('site-plan-device')
  await expect(devices).toHaveCount(placed)
  const deviceIds = await devices.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')!))
  expect([...deviceIds].sort()).toEqual(Array.from({ length: placed }, (_, i) => `cam-${i + 1}`).sort())

  // Ctrl+Z takes the whole placement back, Ctrl+Shift+Z puts it back: each a revision of its own.
  await tab(page, 'devices').focus()
  await page.keyboard.press('Control+z')
  await expect(revision(page)).toHaveText(String(imported + 2))
  await expect(page.getByTestId('site-plan-no-devices')).toBeVisible()
  await expect(page.getByTestId('site-plan-redo')).toContainText(`Redo: add ${placed} devices from placement`)
  await expect(page.getByTestId('site-plan-undo')).toBeDisabled()
  await page.keyboard.press('Control+Shift+z')
  await expect(revision(page)).toHaveText(String(imported + 3))
  await expect(devices).toHaveCount(placed)
  await expect(page.getByTestId('site-plan-redo')).toBeDisabled()
  // In a text field Ctrl+Z is the field's own: the plan stays.
  await tab(page, 'placement').click()
  await page.getByTestId('site-plan-target').focus()
  await page.keyboard.press('Control+z')
  await expect(page.getByTestId('site-plan-undo')).toContainText(`Undo: add ${placed} devices from placement`)
  await expect(revision(page)).toHaveText(String(imported + 3))

  // The bill of materials on screen: each placed part with its count.
  await tab(page, 'devices').click()
  for (const [part, count] of partsPlaced) await expect(page.locator(`[data-testid="site-plan-bom-line"][data-part="${part}"]`)).toHaveAttribute('data-quantity', String(count))

  // Coverage again: the earlier result is marked out of date, and the new one sees much more of the yard.
  await tab(page, 'coverage').click()
  await expect(page.getByTestId('site-plan-coverage-stale')).toContainText(`Computed for revision ${imported}`)
  await page.getByTestId('site-plan-run-coverage').click()
  await expect(page.getByTestId('site-plan-coverage')).toHaveAttribute('data-revision', String(imported + 3), { timeout: 30_000 })
  await expect(page.getByTestId('site-plan-coverage-stale')).toHaveCount(0)
  expect(Number(await share.getAttribute('data-share'))).toBeGreaterThan(0.5)
  await expect(page.getByTestId('site-map')).toHaveAttribute('data-coverage-revision', String(imported + 3), { timeout: 20_000 })
  // The legend folded, so the picture shows the heat map rather than the list of layers.
  await page.getByTestId('site-map-layers').locator('summary').click()
  await screenshotWhole(page, 'site-coverage.png')

  // The files for the installers, drawn from the saved plan.
  await tab(page, 'exports').click()
  const bom = await download(page, 'bom-csv')
  expect(bom.name).toMatch(/-bom\.csv$/)
  const rows = csvRows(bom.bytes)
  expect(rows[0]!.slice(0, 4)).toEqual(['Part number', 'Name', 'Kind', 'Quantity'])
  for (const [part, count] of partsPlaced) expect(rows.find((row) => row[0] === part)?.[3]).toBe(String(count))
  expect(rows.find((row) => row[0] === 'Total')?.[3]).toBe(String(placed))

  for (const kind of ['topology-svg', 'coverage-svg']) {
    const svg = await download(page, kind)
    expect(svg.name).toMatch(/\.svg$/)
    const text = svg.bytes.toString('utf8')
    expect(text).toMatch(/^(<\?xml[^>]*>\s*)?<svg/)
    for (const id of deviceIds) expect(text).toContain(`data-device-id="${id}"`)
  }

  const report = await download(page, 'report-pdf')
  expect(report.name).toMatch(/-report\.pdf$/)
  expect(report.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-')

  // After a reload the core still has the plan, its devices and the edited catalogue.
  await page.reload()
  await expect(revision(page)).toHaveText(String(imported + 3))
  await tab(page, 'devices').click()
  await expect(devices).toHaveCount(placed)
  await tab(page, 'catalogue').click()
  await expect(page.getByTestId('site-plan-catalogue-source')).toContainText('Edited')
  // Back to the built-in parts: the two cameras are among them, so the plan stays sound.
  await page.getByTestId('site-plan-catalogue-reset').click()
  await expect(page.getByTestId('site-plan-catalogue-source')).toContainText('The built-in catalogue')

  expect(pageErrors).toEqual([])
})

test('draws on the map: a mounting point, a wall, a zone and an obstruction outline added with the tools, a wall dragged, deleted and taken back with undo', async ({ page, host, pageErrors }) => {
  test.setTimeout(120_000)
  await page.goto(`${host.url}#site`)
  await page.getByTestId('site-import').setInputFiles(survey)
  await expect(revision(page)).toHaveText('1')
  const map = page.getByTestId('site-map')
  await expect(map).toHaveAttribute('data-plan-revision', '1', { timeout: 20_000 })
  const mounts = Number(await map.getAttribute('data-mounting-points'))
  const walls = Number(await map.getAttribute('data-obstructions'))
  const canvas = map.locator('canvas')
  const box = (await canvas.boundingBox())!
  const at = (fx: number, fy: number) => ({ x: box.width * fx, y: box.height * fy })

  // M, then a click: a new mounting point where the click was, saved as revision 2.
  await canvas.click({ position: at(0.5, 0.5) })
  await page.keyboard.press('m')
  await expect(map).toHaveAttribute('data-tool', 'add-mounting-point')
  await canvas.click({ position: at(0.42, 0.55) })
  await expect(revision(page)).toHaveText('2')
  await expect(map).toHaveAttribute('data-mounting-points', String(mounts + 1))

  // W, then two clicks: a wall from one to the other.
  await page.getByTestId('site-tool-add-wall').click()
  await canvas.click({ position: at(0.3, 0.4) })
  await canvas.click({ position: at(0.3, 0.6) })
  await expect(revision(page)).toHaveText('3')
  await expect(map).toHaveAttribute('data-obstructions', String(walls + 1))

  // The new wall is selected; Escape is back to selecting, and Delete removes it.
  await expect(map).toHaveAttribute('data-selection', /^obstructions:/)
  await page.keyboard.press('Escape')
  await expect(map).toHaveAttribute('data-tool', 'select')
  await expect(map).toHaveAttribute('data-selection', /^obstructions:/)
  await page.keyboard.press('Delete')
  await expect(revision(page)).toHaveText('4')
  await expect(map).toHaveAttribute('data-obstructions', String(walls))

  // Undo twice: the wall is back, then gone again with its own undo; the mounting point stays.
  await page.keyboard.press('Control+z')
  await expect(map).toHaveAttribute('data-obstructions', String(walls + 1))
  await page.keyboard.press('Control+z')
  await expect(map).toHaveAttribute('data-obstructions', String(walls))
  await expect(map).toHaveAttribute('data-mounting-points', String(mounts + 1))
  await expect(revision(page)).toHaveText('6')

  // Z, three corners and a click on the first one again: a required zone, saved and selected.
  const zones = Number(await map.getAttribute('data-zones'))
  await page.keyboard.press('z')
  await expect(map).toHaveAttribute('data-tool', 'add-zone')
  for (const [fx, fy] of [
    [0.14, 0.72],
    [0.2, 0.72],
    [0.2, 0.78],
  ] as const) {
    await canvas.click({ position: at(fx, fy) })
  }
  const hint = page.getByTestId('site-edit-hint')
  await expect(hint).toContainText('Zone, 3 corners: click the first one or press Enter to close it;')
  await canvas.click({ position: at(0.14, 0.72) })
  await expect(revision(page)).toHaveText('7')
  await expect(map).toHaveAttribute('data-zones', String(zones + 1))
  await expect(map).toHaveAttribute('data-selection', /^zones:zone-\d+$/)
  // Back to selecting, the zone's kind can be changed: optional, a revision of its own.
  await page.keyboard.press('v')
  await page.getByTestId('site-edit-zone-kind').selectOption('optional')
  await expect(revision(page)).toHaveText('8')
  await expect(page.getByTestId('site-edit-zone-kind')).toHaveValue('optional')

  // An obstruction outline drawn as a figure of eight is refused with the reason, and nothing is saved;
  // Backspace takes the last corner back and Enter closes the triangle left.
  await page.getByTestId('site-tool-add-obstruction').click()
  for (const [fx, fy] of [
    [0.46, 0.62],
    [0.56, 0.74],
    [0.56, 0.62],
    [0.46, 0.74],
  ] as const) {
    await canvas.click({ position: at(fx, fy) })
  }
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('site-edit-problem')).toContainText('This obstruction outline crosses itself')
  await expect(revision(page)).toHaveText('8')
  await page.keyboard.press('Backspace')
  await expect(hint).toContainText('Obstruction, 3 corners')
  await expect(page.getByTestId('site-edit-problem')).toHaveCount(0)
  await page.keyboard.press('Enter')
  await expect(revision(page)).toHaveText('9')
  await expect(map).toHaveAttribute('data-obstructions', String(walls + 1))

  // A wall, then taken by its middle and dragged aside: it moves whole, one edit, and nothing is added.
  await page.keyboard.press('w')
  await canvas.click({ position: at(0.3, 0.4) })
  await canvas.click({ position: at(0.3, 0.6) })
  await expect(revision(page)).toHaveText('10')
  await expect(map).toHaveAttribute('data-obstructions', String(walls + 2))
  await page.keyboard.press('v')
  const grab = at(0.3, 0.44)
  await page.mouse.move(box.x + grab.x, box.y + grab.y)
  await page.mouse.down()
  await page.mouse.move(box.x + grab.x - 30, box.y + grab.y + 10, { steps: 5 })
  await page.mouse.up()
  await expect(revision(page)).toHaveText('11')
  await expect(page.getByTestId('site-plan-undo')).toContainText(/Undo: move obstruction wall-\d+/)
  await expect(map).toHaveAttribute('data-obstructions', String(walls + 2))
  await expect(map).toHaveAttribute('data-selection', /^obstructions:wall-\d+$/)
  await screenshotWhole(page, 'site-drawn.png')
  expect(pageErrors).toEqual([])
})
