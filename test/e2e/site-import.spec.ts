import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { strToU8, zipSync } from 'fflate'
import { expect, screenshotWhole, test } from './host'

// The issue "Site planning", its first part: a survey file imported from the Site screen, drawn on a map
// that needs no internet, with the report of what was kept and what was skipped and why; a file that
// cannot be read is refused with the reason and the site on screen stays as it was.
const kmlFixtures = join(import.meta.dirname, '../../../shared/fixtures/kml/togeojson-v7')
// A point and a polygon (Google Earth's own export).
const styles = join(kmlFixtures, 'styles.kml')
// Seven placemarks with coordinates, eight whose Point and gx:Track are empty.
const addresses = join(kmlFixtures, 'addresses.kml')
// Three placemarks, none with readable coordinates.
const bad = join(kmlFixtures, 'bad.kml')

const map = (page: Page) => page.getByTestId('site-map')

/** Waits until the map has drawn `version` and says how many features it drew. */
async function drawnFeatures(page: Page, version: string): Promise<number> {
  await expect(map(page)).toHaveAttribute('data-version', version, { timeout: 20_000 })
  await expect(map(page)).toHaveAttribute('data-features', /^\d+$/)
  return Number(await map(page).getAttribute('data-features'))
}

// What the page's functions below use of the browser: this file is compiled without the DOM library.
interface PageGlobals {
  createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>
  OffscreenCanvas: new (width: number, height: number) => {
    getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray } } | null
  }
  document: { documentElement: unknown }
  getComputedStyle(element: unknown): { getPropertyValue(name: string): string }
}

/**
 * Counts the map's pixels that match each test, from a screenshot of the map canvas decoded in the page
 * (WebGL pixels cannot be read back after the frame, but a screenshot can).
 */
async function countPixels(page: Page, target: Locator, tests: Record<string, [number, number, number, number]>, mask: Locator[] = []): Promise<Record<string, number>> {
  // Masked controls over the map are painted magenta, a colour none of the tests looks for.
  const png = (await target.screenshot({ mask })).toString('base64')
  return page.evaluate(
    async ({ png, tests }) => {
      const browser = globalThis as unknown as PageGlobals
      const bytes = Uint8Array.from(atob(png), (char) => char.charCodeAt(0))
      const bitmap = await browser.createImageBitmap(new Blob([bytes], { type: 'image/png' }))
      const canvas = new browser.OffscreenCanvas(bitmap.width, bitmap.height)
      const context = canvas.getContext('2d')!
      context.drawImage(bitmap, 0, 0)
      const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data
      const counts: Record<string, number> = {}
      for (const [name, [r, g, b, tolerance]] of Object.entries(tests)) {
        let count = 0
        for (let i = 0; i < data.length; i += 4) {
          if (Math.abs(data[i]! - r) <= tolerance && Math.abs(data[i + 1]! - g) <= tolerance && Math.abs(data[i + 2]! - b) <= tolerance) count++
        }
        counts[name] = count
      }
      return counts
    },
    { png, tests },
  )
}

function rgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.replace('#', ''), 16)
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]
}

const cssVariable = (page: Page, name: string) =>
  page.evaluate((name) => {
    const browser = globalThis as unknown as PageGlobals
    return browser.getComputedStyle(browser.document.documentElement).getPropertyValue(name).trim()
  }, name)

test('imports survey files onto an offline map with the report of what was kept and skipped, and refuses a broken file keeping the site', async ({ page, host, pageErrors }) => {
  test.setTimeout(120_000)
  const consoleErrors: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  // Offline means offline: nothing may leave for another host.
  const foreign: string[] = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (!['data:', 'blob:'].includes(url.protocol) && url.host !== new URL(host.url).host) foreign.push(request.url())
  })

  await page.goto(`${host.url}#site`)
  const main = page.getByRole('main', { name: 'Site' })
  await expect(main.getByRole('heading', { level: 2, name: 'Site' })).toBeVisible()
  // Before the first import: what to do, and no map yet.
  await expect(page.getByTestId('site-empty')).toContainText('Import site file')
  await expect(main.getByRole('heading', { level: 3, name: 'How to start' })).toBeVisible()
  await expect(map(page)).toHaveCount(0)

  // A file with skipped placemarks: each one named, with the reason.
  await page.getByTestId('site-import').setInputFiles(addresses)
  await expect(page.getByTestId('site-import-done')).toContainText('Imported addresses.kml as version')
  const firstVersion = (await page.getByTestId('site-version').textContent())!
  expect(await drawnFeatures(page, firstVersion)).toBe(7)
  await expect(page.getByTestId('site-imported')).toHaveCount(7)
  await expect(page.getByTestId('site-skipped')).toHaveCount(8)
  for (const row of await page.getByTestId('site-skipped').all()) await expect(row).toContainText('no coordinates: its Point and gx:Track are empty')
  await expect(page.getByTestId('site-skipped').first()).toContainText('line 40')
  await expect(page.getByTestId('site-empty')).toHaveCount(0)

  // A point and a polygon: a new version, drawn and framed.
  await page.getByTestId('site-import').setInputFiles(styles)
  await expect(page.getByTestId('site-import-done')).toContainText('Imported styles.kml as version')
  const version = (await page.getByTestId('site-version').textContent())!
  expect(Number(version)).toBeGreaterThan(Number(firstVersion))
  expect(await drawnFeatures(page, version)).toBe(2)
  const facts = page.getByTestId('site-facts')
  await expect(facts).toContainText('styles.kml')
  await expect(facts).toContainText('KML')
  await expect(page.getByTestId('site-imported')).toHaveCount(2)
  await expect(page.getByTestId('site-imported').nth(0)).toContainText('Untitled Placemark')
  await expect(page.getByTestId('site-imported').nth(0)).toHaveAttribute('data-kind', 'point')
  await expect(page.getByTestId('site-imported').nth(1)).toContainText('Untitled Polygon')
  await expect(page.getByTestId('site-imported').nth(1)).toHaveAttribute('data-kind', 'polygon')
  await expect(page.getByTestId('site-skipped')).toHaveCount(0)
  // The scale bar and the zoom buttons are there, and the map is framed on a site, not on the world.
  await expect(map(page).locator('.maplibregl-ctrl-scale')).toHaveText(/^\d+(\.\d+)?\s*k?m$/)
  await expect(map(page).getByRole('button', { name: 'Zoom in' })).toBeVisible()
  await screenshotWhole(page, 'site-map.png')

  // The picture shows them: the polygon's outline in the area colour, the point in its colour. The controls
  // over the map are left out of the count, as their swatches and buttons have the same colours.
  const canvas = map(page).locator('canvas')
  const controls = [page.getByRole('toolbar', { name: 'Map editing tools' }), page.getByTestId('site-edit-hint'), page.getByTestId('site-map-layers')]
  const colours: Record<string, [number, number, number, number]> = {
    point: [...rgb(await cssVariable(page, '--warn')), 24],
    outline: [...rgb(await cssVariable(page, '--accent')), 24],
  }
  // Once the plan made from this file is drawn.
  await expect(page.getByText('Imported from styles.kml')).toBeVisible()
  await expect(map(page)).toHaveAttribute('data-plan-revision', (await page.getByTestId('site-plan-revision').textContent())!)
  const drawn = await countPixels(page, canvas, colours, controls)
  expect(drawn.outline).toBeGreaterThan(200)
  // The plan made from the file stands in the place of its features, and the point lies outside the site's
  // boundary: it is clear until it is chosen in the list (below).
  expect(drawn.point).toBe(0)

  // A feature clicked on the map is marked in the list (the polygon fills the middle of the framed map).
  await canvas.click()
  await expect(page.getByTestId('site-imported').nth(1).getByRole('button')).toHaveAttribute('aria-current', 'true')

  // From the keyboard: a feature in the list takes the map to it and is marked there.
  const placemark = page.getByTestId('site-imported').nth(0).getByRole('button')
  await placemark.focus()
  await page.keyboard.press('Enter')
  await expect(placemark).toHaveAttribute('aria-current', 'true')
  await expect.poll(async () => (await countPixels(page, canvas, colours, controls)).point).toBeGreaterThan(40)

  // A file with nothing usable is refused with every reason; the site on screen stays.
  await page.getByTestId('site-import').setInputFiles(bad)
  const error = page.getByTestId('site-import-error')
  await expect(error).toContainText('bad.kml was not imported.')
  await expect(error).toContainText('"no,no" is not longitude,latitude[,altitude]')
  await expect(error).toContainText(`The site on screen is unchanged: version ${version}, from styles.kml.`)
  await expect(page.getByTestId('site-version')).toHaveText(version)
  await expect(page.getByTestId('site-imported')).toHaveCount(2)

  // A file that is not KML at all: refused, and still the same site.
  await page.getByTestId('site-import').setInputFiles({ name: 'broken.kml', mimeType: 'application/vnd.google-earth.kml+xml', buffer: Buffer.from('<kml><Document><Placemark><name>cut short') })
  await expect(error).toContainText('broken.kml was not imported.')
  const reason = (await error.locator('.site-import-reason').textContent())!.trim()
  expect(reason.length).toBeGreaterThan(10)
  await expect(page.getByTestId('site-version')).toHaveText(version)
  await expect(map(page)).toHaveAttribute('data-version', version)
  await expect(map(page)).toHaveAttribute('data-features', '2')
  await screenshotWhole(page, 'site-refused.png')

  // The other theme repaints the map with its own colours.
  await page.getByRole('button', { name: 'Switch theme' }).click()
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
  await expect
    .poll(async () => (await countPixels(page, canvas, { background: [...rgb(await cssVariable(page, '--panel-2')), 6] })).background, { timeout: 10_000 })
    .toBeGreaterThan(10_000)
  await screenshotWhole(page, 'site-map-light.png')

  // After a reload the core still has the site.
  await page.reload()
  await expect(page.getByTestId('site-version')).toHaveText(version)
  expect(await drawnFeatures(page, version)).toBe(2)

  expect(pageErrors).toEqual([])
  expect(consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text))).toEqual([])
  expect(foreign).toEqual([])
})

test('draws an image placed in a KMZ beneath the features', async ({ page, host, pageErrors }) => {
  const kml = `<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Yard</name>
  <GroundOverlay><name>Yard plan</name><Icon><href>files/plan.png</href></Icon>
    <LatLonBox><north>48.7720</north><south>48.7620</south><east>21.0080</east><west>20.9920</west></LatLonBox>
  </GroundOverlay>
  <Placemark><name>Gate</name><Point><coordinates>21.0,48.767</coordinates></Point></Placemark>
</Document></kml>`
  // The console's own icon stands in for a scanned site plan: a dark square with a green dot in the middle.
  const plan = new Uint8Array(readFileSync(join(import.meta.dirname, '../../build/icon.png')))
  const kmz = zipSync({ 'doc.kml': strToU8(kml), 'files/plan.png': plan })

  await page.goto(`${host.url}#site`)
  await page.getByTestId('site-import').setInputFiles({ name: 'yard.kmz', mimeType: 'application/vnd.google-earth.kmz', buffer: Buffer.from(kmz) })
  await expect(page.getByTestId('site-import-done')).toContainText('Imported yard.kmz')
  const version = (await page.getByTestId('site-version').textContent())!
  // The gate and the image's footprint.
  expect(await drawnFeatures(page, version)).toBe(2)
  await expect(page.getByTestId('site-overlay')).toHaveAttribute('data-shown', 'true')
  await expect(page.getByTestId('site-overlay')).toContainText('on the map, 512 × 512 px')
  await expect(page.getByTestId('site-imported').nth(1)).toHaveAttribute('data-kind', 'overlay')

  // The image's green dot is on the map (the dark theme has no green feature here: no lines).
  await expect
    .poll(async () => (await countPixels(page, page.getByTestId('site-map').locator('canvas'), { dot: [62, 207, 142, 40] })).dot, { timeout: 10_000 })
    .toBeGreaterThan(500)
  await screenshotWhole(page, 'site-overlay.png')
  expect(pageErrors).toEqual([])
})
