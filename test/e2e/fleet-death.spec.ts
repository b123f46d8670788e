import { expect, screenshotWhole, test } from './host'

// The "done when": devices come online from the demo fleet, a node loses power without a
// clean death, and the console shows it offline with every metric STALE — from the Will the broker
// publishes, not from anything the node said.
test('a demo node whose power is cut goes offline with its metrics STALE, and its devices with it', async ({ page, host, pageErrors }) => {
  test.setTimeout(90_000)
  await page.goto(host.url)
  const main = page.getByRole('main')
  await main.getByRole('button', { name: 'Turn on the demo fleet' }).click()

  const rows = page.getByTestId('fleet-row')
  await expect(rows.first()).toBeVisible({ timeout: 30_000 })
  const nodeKey = 'Demo/esp32-001'
  const nodeRow = page.locator(`[data-testid=fleet-row][data-key="${nodeKey}"]`)
  await page.getByTestId('fleet-filter').fill('esp32-001')
  await expect(nodeRow).toHaveAttribute('data-state', 'online', { timeout: 30_000 })
  const deviceRows = page.locator(`[data-testid=fleet-row][data-key^="${nodeKey}/"]`)
  await expect(deviceRows).toHaveCount(5)
  for (const row of await deviceRows.all()) await expect(row).toHaveAttribute('data-state', 'online')

  await nodeRow.click()
  const view = page.getByTestId('device-view')
  await expect(view).toHaveAttribute('data-key', nodeKey)
  await expect(page.getByTestId('device-state')).toHaveAttribute('data-state', 'online')
  const metrics = page.getByTestId('metric-row')
  await expect(metrics.first()).toBeVisible()
  await expect(page.locator('[data-testid=metric-row][data-stale=true]')).toHaveCount(0)

  await page.getByTestId('demo-fault-power-cut').click()
  await expect(page.getByTestId('command-outcome')).toContainText(`${nodeKey}: power cut for 60 s`)

  // Offline, every metric marked STALE in words, and the death in the timeline with its reason.
  await expect(page.getByTestId('device-state')).toHaveAttribute('data-state', 'offline', { timeout: 15_000 })
  await expect.poll(async () => (await metrics.evaluateAll((els: { getAttribute(name: string): string | null }[]) => els.map((e) => e.getAttribute('data-stale')))).every((stale) => stale === 'true')).toBe(true)
  await expect(metrics.filter({ hasText: 'STALE' }).first()).toBeVisible()
  await expect(page.locator('[data-testid=lifecycle-entry][data-kind=offline]').first()).toBeVisible()
  await screenshotWhole(page, 'fleet-power-cut-device.png')

  // Back in the table, the node's devices went down with it; other nodes carry on.
  await page.keyboard.press('Escape')
  await expect(nodeRow).toHaveAttribute('data-state', 'offline')
  for (const row of await deviceRows.all()) await expect(row).toHaveAttribute('data-state', 'offline')
  await page.getByTestId('fleet-filter').fill('esp32-002')
  await expect(page.locator('[data-testid=fleet-row][data-key="Demo/esp32-002"]')).toHaveAttribute('data-state', 'online')
  await page.getByTestId('fleet-filter').fill('')
  await screenshotWhole(page, 'fleet-power-cut-table.png')

  // The trainer's action is on the record like any other operator action.
  const audit = await (await page.request.get(`${host.url}api/audit.list?limit=5`)).json()
  expect(JSON.stringify(audit)).toContain('demo fault')

  expect(pageErrors).toEqual([])
})
