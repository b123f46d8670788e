import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, screenshotWhole, test } from './host'

test('a damaged database is kept aside and the console starts on a fresh one', async ({ page, hosts, pageErrors }) => {
  const dataDir = hosts.dataDir()
  const garbage = Buffer.concat([Buffer.from('this is not an SQLite database\n'), randomBytes(8192)])
  writeFileSync(join(dataDir, 'console.db'), garbage)

  const host = await hosts.start({ dataDir })
  const kept = readdirSync(dataDir).filter((name) => /^console\.db\.corrupt-/.test(name))
  expect(kept).toHaveLength(1)
  expect(readFileSync(join(dataDir, kept[0]!)).equals(garbage)).toBe(true)
  expect(existsSync(join(dataDir, 'console.db'))).toBe(true)

  await page.goto(host.url)
  const banner = page.getByRole('alert')
  await expect(banner).toContainText('The database was damaged')
  await expect(banner).toContainText(`kept aside as ${join(dataDir, kept[0]!)}`)
  await expect(page.getByTestId('status-store')).toHaveText('Store: degraded')
  await expect(page.getByTestId('status-host')).toContainText('· connected')
  await screenshotWhole(page, 'corrupt-database.png')

  // The fresh database works.
  await page.keyboard.press('6')
  await page.getByRole('textbox', { name: 'Site name' }).fill('After recovery')
  await page.getByRole('button', { name: 'Save general' }).click()
  await expect(page.getByRole('status')).toHaveText('Saved.')
  await expect(page.getByRole('table').getByRole('row')).toHaveCount(2)

  expect(pageErrors).toEqual([])
})
