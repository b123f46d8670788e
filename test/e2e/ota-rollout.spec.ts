import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { buildAppImage } from '../../simulator/ota/app-image'
import { expect, screenshotWhole, test } from './host'

// The "done when": images imported and signed in Chromium, a phased rollout to the virtual fleet
// whose crashing image halts at the canary's health gate and rolls back, then a good rollout that completes.
const nodes = ['esp32-001', 'esp32-002', 'esp32-003', 'esp32-004', 'esp32-005'].map((id) => `Demo/${id}`)

let dir = ''
test.beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-e2e-'))
})
test.afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const openSection = async (page: Page, name: string) => {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name }).click()
  await expect(page.getByRole('heading', { level: 2, name })).toBeVisible()
}

/** A canary of two, then everyone; seconds of soak and a fast start rate, so the test sees both gates. */
async function quickPhases(page: Page): Promise<void> {
  const rows = page.getByTestId('rollout-phase')
  await page.getByTestId('rollout-default-phases').click()
  // Defaults first: canary 3 → 5% → 25% → 100%. Keep the canary and 100%.
  await expect(rows).toHaveCount(4)
  await rows.nth(2).getByRole('button', { name: /^Remove/ }).click()
  await rows.nth(1).getByRole('button', { name: /^Remove/ }).click()
  await expect(rows).toHaveCount(2)
  if ((await page.getByTestId('rollout-advanced').getAttribute('aria-expanded')) !== 'true') await page.getByTestId('rollout-advanced').click()
  const set = async (row: Locator, field: string, value: string) => row.getByTestId(field).fill(value)
  await set(rows.nth(0), 'phase-size', '2')
  for (const [index, soak] of [
    [0, '3'],
    [1, '1'],
  ] as const) {
    const row = rows.nth(index)
    await set(row, 'phase-soak', soak)
    await row.getByTestId('phase-soak-unit').selectOption('s')
    await set(row, 'phase-maxPerMinute', '600')
    await set(row, 'phase-perMinute', '600')
    await set(row, 'phase-jitterSeconds', '0.5')
  }
}

async function previewAndStart(page: Page, version: string, screenshot?: string): Promise<string> {
  const sha = await page.locator(`[data-testid=artifact-row][data-version="${version}"]`).getAttribute('data-sha256')
  await page.getByTestId('rollout-artifact').selectOption(sha!)
  const demo = page.locator('[data-testid=rollout-group][data-value="Demo"]')
  if (!(await demo.isChecked())) await demo.check()
  await expect(page.getByTestId('rollout-match')).toContainText('5 of 5 edge nodes')
  await quickPhases(page)
  // Start runs only the plan that was shown.
  await expect(page.getByTestId('rollout-start')).toBeDisabled()
  await page.getByTestId('rollout-preview').click()
  const plan = page.getByTestId('rollout-preview-plan')
  await expect(plan).toHaveAttribute('data-stale', 'false')
  await expect(plan.getByTestId('preview-phase')).toHaveCount(2)
  await expect(plan.locator('[data-testid=preview-phase][data-name=canary]')).toHaveAttribute('data-devices', '2')
  await expect(plan.locator('[data-testid=preview-phase][data-name="100%"]')).toHaveAttribute('data-devices', '3')
  const planned = (await plan.getByTestId('preview-device').allTextContents()).sort()
  expect(planned).toEqual(nodes)
  await expect(page.getByTestId('rollout-start')).toHaveText('Start rollout to 5 devices')
  if (screenshot) await screenshotWhole(page, screenshot)
  await page.getByTestId('rollout-start').click()
  const view = page.getByTestId('rollout-view')
  await expect(view).toBeVisible()
  return (await view.getAttribute('data-id'))!
}

test('imports and signs images, halts a crashing image at the canary gate with a rollback, then completes a good rollout', async ({ page, host, pageErrors }) => {
  test.setTimeout(150_000)
  await page.goto(host.url)

  // A demo fleet of five edge nodes with OTA, no Sparkplug devices behind them.
  await openSection(page, 'Settings')
  const demo = page.locator('form[aria-labelledby=settings-demo]')
  await demo.getByTestId('demo-fleet-toggle').check()
  await demo.getByRole('spinbutton', { name: 'Edge nodes' }).fill('5')
  await demo.getByRole('spinbutton', { name: 'Devices per edge node' }).fill('0')
  await demo.getByRole('button', { name: 'Save demo fleet' }).click()
  await expect(demo.getByRole('status')).toHaveText('Saved.')
  await openSection(page, 'Fleet')
  await expect(page.locator('[data-testid=fleet-row][data-state=online]')).toHaveCount(5, { timeout: 30_000 })

  // Two images, built to the ESP-IDF app format: one panics on its first boot (its version says so).
  const files = ['2.0.0-crash', '2.0.0'].map((version) => {
    const file = join(dir, `cold-room-node-${version}.bin`)
    writeFileSync(file, buildAppImage({ version, chip: 'ESP32', payloadBytes: 64 * 1024 }))
    return file
  })
  await openSection(page, 'Updates')
  await page.getByTestId('artifact-upload').setInputFiles(files)
  for (const version of ['2.0.0-crash', '2.0.0']) {
    const row = page.locator(`[data-testid=artifact-row][data-version="${version}"]`)
    await expect(row).toBeVisible()
    await expect(row.getByTestId('artifact-signed')).toContainText('Signed by release key')
    await expect(row).toContainText('ESP32')
    await expect(row).toContainText('cold-room-node')
    await expect(row.getByTestId('artifact-secure-boot')).toContainText('Unsigned by Secure Boot')
  }
  await expect(page.locator('[data-testid=artifact-import][data-state=kept]')).toHaveCount(2)

  // The crashing image: the canary of two takes it, panics, rolls back, and the gate halts the rollout.
  const crashId = await previewAndStart(page, '2.0.0-crash', 'ota-rollout-preview.png')
  const view = page.getByTestId('rollout-view')
  await expect(view).toHaveAttribute('data-paused-by', 'health-gate', { timeout: 60_000 })
  await expect(view).toHaveAttribute('data-status', 'paused')
  await expect(page.getByTestId('rollout-status')).toHaveText('paused by health gate')
  const stop = page.getByTestId('rollout-gate-stop')
  await expect(stop).toHaveAttribute('data-phase', 'canary')
  await expect(stop.locator('[data-testid=gate-finding][data-reason=failure-share]')).toBeVisible()
  await expect(page.locator('[data-testid=rollout-phase-view][data-name=canary] [data-testid=phase-gate]')).toHaveAttribute('data-state', 'failed')
  const canaryRows = page.locator('[data-testid=rollout-device-row][data-phase=canary]')
  const laterRows = page.locator('[data-testid=rollout-device-row][data-phase="100%"]')
  await expect(canaryRows).toHaveCount(2)
  for (const row of await canaryRows.all()) {
    await expect(row).toHaveAttribute('data-state', 'rolled-back')
    await expect(row.getByTestId('device-reason')).toContainText('boot-failed')
  }
  await expect(laterRows).toHaveCount(3)
  for (const row of await laterRows.all()) await expect(row).toHaveAttribute('data-state', 'queued')
  await expect(page.getByTestId('rollout-resume')).toHaveText('Resume over failed gate')
  await expect(page.getByTestId('rollout-resume')).toBeEnabled()
  await expect(page.getByTestId('rollout-pause')).toBeDisabled()
  await expect(page.locator('[data-testid=rollout-log-entry][data-kind=gate]').filter({ hasText: 'failed' }).first()).toBeVisible()
  await screenshotWhole(page, 'ota-canary-halted.png')

  // Abort, after a confirm step; the queued devices are never touched.
  await page.getByTestId('rollout-abort').click()
  const dialog = page.getByTestId('confirm-dialog')
  await expect(dialog).toContainText(`Abort rollout ${crashId}?`)
  await dialog.getByTestId('confirm-send').click()
  await expect(view).toHaveAttribute('data-status', 'aborted', { timeout: 30_000 })
  for (const row of await laterRows.all()) await expect(row).toHaveAttribute('data-state', 'cancelled')
  await expect(page.getByTestId('rollout-abort')).toBeDisabled()
  await expect(page.getByTestId('rollout-resume')).toBeDisabled()

  // The good image, to all five: canary, gate, everyone.
  await page.getByTestId('rollout-new').click()
  const goodId = await previewAndStart(page, '2.0.0')
  expect(goodId).not.toBe(crashId)
  await expect(view).toHaveAttribute('data-status', 'completed', { timeout: 90_000 })
  const rows = page.getByTestId('rollout-device-row')
  await expect(rows).toHaveCount(5)
  for (const row of await rows.all()) await expect(row).toHaveAttribute('data-state', 'succeeded')
  for (const name of ['canary', '100%']) {
    await expect(page.locator(`[data-testid=rollout-phase-view][data-name="${name}"]`)).toHaveAttribute('data-state', 'passed')
    await expect(page.locator(`[data-testid=rollout-phase-view][data-name="${name}"] [data-testid=phase-gate]`)).toHaveAttribute('data-state', 'passed')
  }
  await expect(page.getByTestId('rollout-counts')).toContainText('5 succeeded')
  // History, newest first: the good rollout completed, the crashing one aborted.
  const history = page.getByTestId('rollout-row')
  await expect(history).toHaveCount(2)
  await expect(history.nth(0)).toHaveAttribute('data-id', goodId)
  await expect(history.nth(0)).toHaveAttribute('data-status', 'completed')
  await expect(history.nth(1)).toHaveAttribute('data-status', 'aborted')
  await screenshotWhole(page, 'ota-rollout-complete.png')

  // Picking the old rollout from the history shows it again, with why its gate stopped it.
  await history.nth(1).click()
  await expect(view).toHaveAttribute('data-id', crashId)
  await expect(page.getByTestId('rollout-gate-stop')).toBeVisible()

  // The fleet sees what the nodes now run.
  await openSection(page, 'Fleet')
  for (const key of nodes) await expect(page.locator(`[data-testid=fleet-row][data-key="${key}"]`)).toContainText('2.0.0', { timeout: 15_000 })

  const audit = JSON.stringify(await (await page.request.get(`${host.url}api/audit.list?limit=50`)).json())
  for (const action of ['import update image', 'start rollout', 'halt rollout at health gate', 'abort rollout']) expect(audit).toContain(action)
  expect(pageErrors).toEqual([])
})
