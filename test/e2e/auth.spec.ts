import { join } from 'node:path'
import { expect, screenshotDir, test } from './host'

const password = 'correct-horse-battery'

test('a host shared on the network asks who you are before showing the console', async ({ page, hosts, pageErrors }) => {
  const host = await hosts.start({ args: ['--listen', '127.0.0.2'], env: { CONSOLE_PASSWORD: password } })
  expect(host.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/$/)

  // Nothing of the console is served without signing in.
  expect((await page.request.get(`${host.url}api/settings.get`)).status()).toBe(401)

  await page.goto(host.url)
  await expect(page).toHaveURL(`${host.url}login`)
  await expect(page).toHaveTitle('Sign in · ESP Fleet Console')
  await expect(page.getByText('This console is shared on the network. Sign in to continue.')).toBeVisible()
  await expect(page.getByRole('textbox', { name: /Your name/ })).toBeFocused()
  await page.screenshot({ path: join(screenshotDir, 'login.png'), fullPage: true })

  await page.getByRole('textbox', { name: /Your name/ }).fill('Grace')
  await page.getByLabel('Password or access token').fill('not-the-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toHaveText('Wrong password or token.')
  await expect(page.getByRole('navigation', { name: 'Sections' })).toHaveCount(0)
  await page.screenshot({ path: join(screenshotDir, 'login-wrong-password.png'), fullPage: true })

  await page.getByRole('textbox', { name: /Your name/ }).fill('Grace')
  await page.getByLabel('Password or access token').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(host.url)
  await expect(page.getByRole('navigation', { name: 'Sections' })).toBeVisible()
  await expect(page.getByTestId('status-host')).toContainText('127.0.0.2')
  await expect(page.getByTestId('status-host')).toContainText('· connected')

  await page.keyboard.press('6')
  await page.getByRole('textbox', { name: 'Site name' }).fill('Pump house')
  await page.getByRole('button', { name: 'Save general' }).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  const row = page.getByRole('table').getByRole('row').nth(1)
  await expect(row.getByRole('cell').nth(1)).toHaveText('Grace')
  await expect(row.getByRole('cell').nth(2)).toHaveText('change settings')
  await expect(row.getByRole('cell').nth(3)).toHaveText('siteName')

  // The operator name setting does not override who signed in.
  await page.getByRole('textbox', { name: /Operator name/ }).fill('Someone else')
  await page.getByRole('button', { name: 'Save general' }).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  await expect(page.getByRole('table').getByRole('row').nth(1).getByRole('cell').nth(1)).toHaveText('Grace')

  // Another browser without the cookie is still sent to sign in.
  const stranger = await page.context().browser()!.newContext()
  try {
    const other = await stranger.newPage()
    await other.goto(host.url)
    await expect(other).toHaveURL(`${host.url}login`)
  } finally {
    await stranger.close()
  }

  expect(pageErrors).toEqual([])
})
