import type { Page } from '@playwright/test'
import { expect, test } from './host'

const openSettings = async (page: Page) => {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Settings' }).click()
  await expect(page.getByRole('heading', { level: 2, name: 'Settings' })).toBeVisible()
}
const siteNameField = (page: Page) => page.getByRole('textbox', { name: 'Site name' })
const operatorField = (page: Page) => page.getByRole('textbox', { name: /Operator name/ })
const rateField = (page: Page) => page.getByRole('spinbutton', { name: /Screen updates per second/ })
const saveButton = (page: Page) => page.getByRole('button', { name: 'Save general' })
const auditRows = (page: Page) => page.getByRole('table').getByRole('row')

test('settings are saved, audited under the operator name and kept across reloads', async ({ page, host, pageErrors }) => {
  await page.goto(host.url)
  await openSettings(page)
  await expect(saveButton(page)).toBeDisabled()

  await siteNameField(page).fill('North plant, hall 3')
  await operatorField(page).fill('Ada Operator')
  await expect(saveButton(page)).toBeEnabled()
  await saveButton(page).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  await expect(saveButton(page)).toBeDisabled()
  await expect(page.getByRole('banner').getByRole('heading', { level: 1 })).toHaveText('ESP Fleet Console · North plant, hall 3')

  // Any change made after the operator name is set is recorded under it.
  await rateField(page).fill('2')
  await saveButton(page).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')

  const newest = auditRows(page).nth(1)
  await expect(newest.getByRole('cell').nth(1)).toHaveText('Ada Operator')
  await expect(newest.getByRole('cell').nth(2)).toHaveText('change settings')
  await expect(newest.getByRole('cell').nth(3)).toHaveText('pushRateHz')
  await expect(newest.getByRole('cell').nth(4)).toHaveText('ok')
  // The first save is listed too: both fields it changed.
  await expect(auditRows(page).filter({ hasText: 'siteName, operatorName' })).toHaveCount(1)
  await expect(auditRows(page)).toHaveCount(3)

  // Switch to the light theme with the keyboard; it is a setting like the others.
  await page.getByRole('main').focus()
  await page.keyboard.press('t')
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
  await expect(auditRows(page).filter({ hasText: 'theme' })).toHaveCount(1)
  // Changing one setting leaves the others alone.
  await expect(auditRows(page).nth(1).getByRole('cell').nth(3)).toHaveText('theme')
  await expect(page.getByRole('banner')).toContainText('North plant, hall 3')
  await expect(siteNameField(page)).toHaveValue('North plant, hall 3')

  await page.reload()
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
  await expect(page.getByRole('heading', { level: 2, name: 'Settings' })).toBeVisible()
  await expect(siteNameField(page)).toHaveValue('North plant, hall 3')
  await expect(operatorField(page)).toHaveValue('Ada Operator')
  await expect(rateField(page)).toHaveValue('2')
  await expect(page.getByRole('banner')).toContainText('North plant, hall 3')
  await expect(auditRows(page)).toHaveCount(4)

  // A second tab sees the same settings and theme (they live in the host, not the browser).
  const other = await page.context().browser()!.newPage()
  try {
    await other.goto(`${host.url}#/settings`)
    await expect(other.locator('html')).toHaveAttribute('data-theme', 'light')
    await expect(other.getByRole('textbox', { name: 'Site name' })).toHaveValue('North plant, hall 3')
  } finally {
    await other.close()
  }

  expect(pageErrors).toEqual([])
})

test('an out-of-range value is refused with a clear error and nothing is saved', async ({ page, host, pageErrors }) => {
  await page.goto(host.url)
  await openSettings(page)
  await expect(rateField(page)).toHaveValue('4')

  await siteNameField(page).fill('Should not be saved')
  await rateField(page).fill('99')
  await saveButton(page).click()

  const error = page.getByRole('alert')
  await expect(error).toBeVisible()
  await expect(error).toContainText(/pushRateHz|updates per second/i)
  await expect(error).toContainText(/10/)
  await expect(page.getByRole('status')).toHaveCount(0)
  await expect(page.getByRole('banner')).not.toContainText('Should not be saved')
  await expect(page.getByText('No operator actions yet.')).toBeVisible()

  // The host agrees: nothing was stored.
  const stored = (await (await page.request.get(`${host.url}api/settings.get`)).json()) as { siteName: string; pushRateHz: number }
  expect(stored).toMatchObject({ siteName: '', pushRateHz: 4 })
  await page.reload()
  await expect(siteNameField(page)).toHaveValue('')
  await expect(rateField(page)).toHaveValue('4')

  // Fixing the value clears the error and saves.
  await rateField(page).fill('10')
  await saveButton(page).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  await expect(page.getByRole('alert')).toHaveCount(0)

  expect(pageErrors).toEqual([])
})
