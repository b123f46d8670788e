import type { Page } from '@playwright/test'
import { expect, screenshotWhole, test } from './host'

const sections = [
  { id: 'site', label: 'Site' },
  { id: 'bench', label: 'Bench' },
  { id: 'fleet', label: 'Fleet' },
  { id: 'updates', label: 'Updates' },
  { id: 'alarms', label: 'Alarms' },
  { id: 'settings', label: 'Settings' },
] as const

const nav = (page: Page) => page.getByRole('navigation', { name: 'Sections' })
const navLink = (page: Page, label: string) => nav(page).getByRole('link', { name: label })

async function expectHealthyStatusBar(page: Page) {
  await expect(page.getByTestId('status-host')).toContainText(/Host: .* · connected$/)
  await expect(page.getByTestId('status-broker')).toHaveText('Broker: up')
  await expect(page.getByTestId('status-store')).toHaveText('Store: up')
}

/** Each section tells the truth about being empty and how to get started. */
async function expectSectionShown(page: Page, section: (typeof sections)[number]) {
  await expect(navLink(page, section.label)).toHaveAttribute('aria-current', 'page')
  await expect(page).toHaveURL(new RegExp(`#/${section.id}$`))
  const main = page.getByRole('main', { name: section.label })
  await expect(main.getByRole('heading', { level: 2, name: section.label })).toBeVisible()
  if (section.id === 'settings') {
    await expect(main.getByRole('heading', { name: 'General' })).toBeVisible()
    await expect(main.getByRole('heading', { name: 'Audit log' })).toBeVisible()
  } else if (section.id === 'bench') {
    // No board plugged in on a test machine: the Ports panel says what to do.
    await expect(main.getByRole('heading', { level: 3, name: 'Ports' })).toBeVisible()
    await expect(main.getByTestId('bench-no-ports')).toContainText('Plug in a board')
  } else {
    await expect(main.getByRole('heading', { level: 3, name: 'How to start' })).toBeVisible()
    await expect(main.getByRole('note')).toBeVisible()
  }
  await expect(page).toHaveTitle(`${section.label} · ESP Fleet Console`)
}

test('every section is reachable from the side bar, in the dark and the light theme', async ({ page, host, pageErrors }) => {
  await page.goto(host.url)
  // A fresh console opens on the Fleet, in the dark theme.
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  await expect(navLink(page, 'Fleet')).toHaveAttribute('aria-current', 'page')
  await expectHealthyStatusBar(page)

  // Fleet tells where devices will come from: the console's own broker.
  await expect(page.getByRole('main').getByRole('note')).toContainText('Broker: Embedded broker on 127.0.0.1:')
  // Settings start with an honest empty audit log.
  await navLink(page, 'Settings').click()
  await expect(page.getByText('No operator actions yet.')).toBeVisible()

  for (const theme of ['dark', 'light'] as const) {
    if (theme === 'light') {
      await page.getByRole('button', { name: 'Switch theme' }).click()
      await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
      await expect(page.getByRole('button', { name: 'Switch theme' })).toHaveText('Dark theme')
    }
    for (const section of sections) {
      await navLink(page, section.label).click()
      await expectSectionShown(page, section)
      await expectHealthyStatusBar(page)
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme)
      await screenshotWhole(page, `${theme}-${section.id}.png`)
    }
  }

  // "t" switches back.
  await page.getByRole('main').focus()
  await page.keyboard.press('t')
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')

  expect(pageErrors).toEqual([])
})

test('digits switch sections, the side bar is one tab stop with arrow keys', async ({ page, host, pageErrors }) => {
  await page.goto(host.url)
  await expectHealthyStatusBar(page)

  for (const [index, section] of sections.entries()) {
    await page.keyboard.press(String(index + 1))
    await expectSectionShown(page, section)
    await expect(nav(page).locator('[aria-current="page"]')).toHaveCount(1)
    // Focus goes to the content, so a screen reader starts reading the new section.
    await expect(page.getByRole('main')).toBeFocused()
  }
  // 7 is not a section: nothing changes.
  await page.keyboard.press('7')
  await expectSectionShown(page, sections[5])

  // Back button follows the hash.
  await page.goBack()
  await expectSectionShown(page, sections[4])

  // The current section is the nav's only tab stop.
  await page.keyboard.press('1')
  await expectSectionShown(page, sections[0])
  await navLink(page, 'Site').focus()
  await expect(nav(page).locator('a[tabindex="0"]')).toHaveCount(1)

  await page.keyboard.press('ArrowDown')
  await expect(navLink(page, 'Bench')).toBeFocused()
  await page.keyboard.press('ArrowDown')
  await expect(navLink(page, 'Fleet')).toBeFocused()
  await page.keyboard.press('ArrowUp')
  await expect(navLink(page, 'Bench')).toBeFocused()
  await page.keyboard.press('End')
  await expect(navLink(page, 'Settings')).toBeFocused()
  await page.keyboard.press('ArrowDown') // wraps round
  await expect(navLink(page, 'Site')).toBeFocused()
  await page.keyboard.press('ArrowUp') // and back
  await expect(navLink(page, 'Settings')).toBeFocused()
  await page.keyboard.press('Home')
  await expect(navLink(page, 'Site')).toBeFocused()
  // Moving focus alone does not switch the section.
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  await expect(navLink(page, 'Updates')).toBeFocused()
  await expectSectionShown(page, sections[0])
  await page.keyboard.press('Enter')
  await expectSectionShown(page, sections[3])

  // "?" opens the keyboard help as a modal dialog; Escape closes it.
  await page.keyboard.press('?')
  const help = page.getByRole('dialog', { name: 'Keyboard' })
  await expect(help).toBeVisible()
  await expect(help.getByRole('button', { name: 'Close' })).toBeFocused()
  await expect(help).toContainText('Switch between dark and light theme')
  await page.keyboard.press('Escape')
  await expect(help).toHaveCount(0)
  // The "Keys" button opens it too, and its Close button closes it.
  await page.getByRole('button', { name: 'Keys' }).click()
  await expect(help).toBeVisible()
  await help.getByRole('button', { name: 'Close' }).click()
  await expect(help).toHaveCount(0)

  // Digits typed into a field are text, not shortcuts.
  await page.keyboard.press('6')
  await expectSectionShown(page, sections[5])
  const siteName = page.getByRole('textbox', { name: 'Site name' })
  await siteName.click()
  await page.keyboard.type('Hall 12345 t?')
  await expect(siteName).toHaveValue('Hall 12345 t?')
  await expectSectionShown(page, sections[5])
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  await expect(page.getByRole('dialog')).toHaveCount(0)
  const rate = page.getByRole('spinbutton', { name: /Screen updates per second/ })
  await rate.click()
  await rate.press('ControlOrMeta+a')
  await page.keyboard.type('3')
  await expect(rate).toHaveValue('3')
  await expectSectionShown(page, sections[5])

  // A section in the URL survives a reload.
  await page.reload()
  await expectSectionShown(page, sections[5])

  expect(pageErrors).toEqual([])
})
