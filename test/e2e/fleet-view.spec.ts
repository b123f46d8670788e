import { expect, screenshotWhole, test } from './host'

// A person's path through the Fleet section against the real headless host and its demo fleet:
// empty state → demo fleet → filter, sort and keyboard → a device → a confirmed rebirth → back.
test('the fleet fills from the demo fleet, and a device opens, charts and takes a confirmed rebirth', async ({ page, host, pageErrors }) => {
  test.setTimeout(90_000)
  await page.goto(host.url)
  const main = page.getByRole('main')
  await expect(main.getByRole('heading', { level: 3, name: 'How to start' })).toBeVisible()
  await main.getByRole('button', { name: 'Turn on the demo fleet' }).click()

  const rows = page.getByTestId('fleet-row')
  await expect(rows.first()).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('fleet-count-online')).not.toHaveAttribute('data-count', '0')
  const total = Number(await page.getByTestId('fleet-count-all').getAttribute('data-count'))
  expect(total).toBeGreaterThan(0)
  await screenshotWhole(page, 'fleet-dark.png')

  // "/" focuses the filter; every row left matches it.
  const firstKey = (await rows.first().getAttribute('data-key'))!
  const [group, node] = firstKey.split('/') as [string, string]
  await main.focus()
  await page.keyboard.press('/')
  await expect(page.getByTestId('fleet-filter')).toBeFocused()
  await page.keyboard.type(node)
  await expect.poll(async () => (await rows.evaluateAll((els: { getAttribute(name: string): string | null }[]) => els.map((e) => e.getAttribute('data-key') ?? ''))).every((key) => key.includes(node))).toBe(true)

  // Sorting is announced on the header.
  const deviceHeader = page.getByRole('columnheader', { name: 'Device' })
  await deviceHeader.getByRole('button').click()
  await expect(deviceHeader).toHaveAttribute('aria-sort', 'ascending')
  await deviceHeader.getByRole('button').click()
  await expect(deviceHeader).toHaveAttribute('aria-sort', 'descending')
  // Ascending again: the edge node itself (no device id) comes first.
  await deviceHeader.getByRole('button').click()

  // Arrow keys select, Enter opens.
  await page.getByTestId('fleet-table').focus()
  await page.keyboard.press('Home')
  const selected = (await page.locator('[data-testid=fleet-row][aria-selected=true]').getAttribute('data-key'))!
  expect(selected).toBe(`${group}/${node}`)
  await page.keyboard.press('Enter')
  const view = page.getByTestId('device-view')
  await expect(view).toHaveAttribute('data-key', selected)
  await expect(page.getByTestId('device-state')).toHaveAttribute('data-state', /online|silent|stale|offline|expected/)
  await expect(page.getByTestId('metric-row').first()).toBeVisible()
  await expect(page.getByTestId('series-chart')).toBeVisible()
  await expect(page.getByTestId('lifecycle-entry').first()).toBeVisible()
  await screenshotWhole(page, 'fleet-device-dark.png')

  // A rebirth goes to the edge node, only after saying exactly what will be sent.
  const nodeKey = `${group}/${node}`
  await page.getByTestId('rebirth-button').click()
  const dialog = page.getByTestId('confirm-dialog')
  await expect(dialog).toContainText(`Send NCMD Node Control/Rebirth = true to ${nodeKey}?`)
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(view).toBeVisible()
  await page.getByTestId('rebirth-button').click()
  await page.getByTestId('confirm-send').click()
  await expect(page.getByTestId('command-outcome')).toContainText(`Rebirth requested from ${nodeKey}`)
  await expect(page.locator('[data-testid=lifecycle-entry][data-kind=rebirth-requested]').first()).toBeVisible({ timeout: 10_000 })

  // Escape goes back to the table, with the same device selected and the grid focused.
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('fleet-table')).toBeFocused()
  await expect(page.locator(`[data-testid=fleet-row][data-key="${selected}"]`)).toHaveAttribute('aria-selected', 'true')

  expect(pageErrors).toEqual([])
})
