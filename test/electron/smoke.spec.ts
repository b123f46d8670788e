import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { _electron as electron, expect, test } from '@playwright/test'
import { electronBinary } from '../../scripts/electron-binary.mjs'

const binary = electronBinary()

test('the desktop console opens its window with the contract over IPC', async () => {
  if (!binary) {
    process.stdout.write('Electron smoke test SKIPPED: no Electron binary is installed here (installed with ELECTRON_SKIP_BINARY_DOWNLOAD).\n')
  }
  test.skip(!binary, 'No Electron binary installed here')
  const userData = mkdtempSync(join(tmpdir(), 'console-electron-'))
  const app = await electron.launch({ executablePath: binary!, args: ['.', `--user-data-dir=${userData}`] })
  try {
    const window = await app.firstWindow()
    await expect(window.getByRole('navigation', { name: 'Sections' })).toBeVisible()
    await expect(window.getByTestId('status-host')).toContainText('desktop · connected')
    await expect(window.getByTestId('status-store')).toContainText('up')
    // The sandboxed page has no Node: only the contract the preload exposes.
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
    await window.screenshot({ path: 'test-results/screenshots/electron.png' })
  } finally {
    await app.close()
    rmSync(userData, { recursive: true, force: true })
  }
})
