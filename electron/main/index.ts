import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { userInfo } from 'node:os'
import { app, BrowserWindow } from 'electron'
import { createCore, stderrLogger, type Core } from '../core'
import { wireContract } from './ipc'
import { createMainWindow } from './window'

// One console per machine: a second launch focuses the first window instead of opening the same
// database twice.
if (!app.requestSingleInstanceLock()) app.quit()
else void start()

async function start(): Promise<void> {
  await app.whenReady()
  const core = createCore({
    dataDir: app.getPath('userData'),
    host: { kind: 'electron' },
    log: stderrLogger,
    // Built next to this file, as out/main/site-worker.js.
    siteWorker: new URL('./site-worker.js', import.meta.url),
    ...nativeBinding(),
  })
  let window = openWindow(core)

  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore()
    window.focus()
  })
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) window = openWindow(core)
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  let disposed = false
  app.on('will-quit', (event) => {
    if (disposed) return
    event.preventDefault()
    void core.dispose().finally(() => {
      disposed = true
      app.quit()
    })
  })
}

function openWindow(core: Core): BrowserWindow {
  const window = createMainWindow()
  const osUser = userInfo().username
  const unwire = wireContract(core, window, () => ({ actor: core.settings.get().operatorName || osUser, via: 'ipc' }))
  window.on('closed', unwire)
  return window
}

/**
 * In development the better-sqlite3 that npm built targets Node's ABI; `npm start` builds a copy
 * for Electron's into .native/ (see scripts/start.mjs). Packaged apps are rebuilt by electron-builder.
 */
function nativeBinding(): { nativeBinding?: string } {
  if (app.isPackaged) return {}
  const file = join(app.getAppPath(), '.native', `electron-${process.versions.electron}`, 'better_sqlite3.node')
  return existsSync(file) ? { nativeBinding: file } : {}
}
