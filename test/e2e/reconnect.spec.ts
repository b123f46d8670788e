import { expect, freePort, screenshotWhole, test } from './host'

test('the console says when the host stops answering and recovers when it is back', async ({ page, hosts, pageErrors }) => {
  const port = await freePort()
  const dataDir = hosts.dataDir()
  const first = await hosts.start({ port, dataDir })
  expect(first.port).toBe(port)

  await page.goto(`${first.url}#/settings`)
  await expect(page.getByTestId('status-host')).toHaveText(`Host: http://127.0.0.1:${port}/ · connected`)
  await page.getByRole('textbox', { name: 'Site name' }).fill('Substation 7')
  await page.getByRole('button', { name: 'Save general' }).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  await expect(page.getByRole('alert')).toHaveCount(0)

  await first.stop()
  const banner = page.getByRole('alert')
  await expect(banner).toContainText('The console host is not answering')
  await expect(banner).toContainText('reconnecting automatically')
  await expect(page.getByTestId('status-host')).toContainText('reconnecting…')
  // What was on screen stays, marked as possibly out of date.
  await expect(page.getByRole('textbox', { name: 'Site name' })).toHaveValue('Substation 7')
  await screenshotWhole(page, 'reconnecting.png')

  const second = await hosts.start({ port, dataDir })
  expect(second.url).toBe(first.url)
  await expect(page.getByRole('alert')).toHaveCount(0, { timeout: 15_000 })
  await expect(page.getByTestId('status-host')).toHaveText(`Host: http://127.0.0.1:${port}/ · connected`)
  await expect(page.getByTestId('status-store')).toHaveText('Store: up')
  await expect(page.getByRole('textbox', { name: 'Site name' })).toHaveValue('Substation 7')
  await expect(page.getByRole('banner')).toContainText('Substation 7')

  // The new connection works: a change goes through and is audited.
  await page.getByRole('spinbutton', { name: /Screen updates per second/ }).fill('6')
  await page.getByRole('button', { name: 'Save general' }).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  await expect(page.getByRole('table').getByRole('row')).toHaveCount(3)

  expect(pageErrors).toEqual([])
})
