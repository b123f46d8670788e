import { join } from 'node:path'
import { BrowserWindow, shell, type WebContents } from 'electron'

/** The renderer's own origin: file:// in a built app, the dev server while developing. */
export function rendererUrl(): string {
  return process.env.ELECTRON_RENDERER_URL ?? `file://${join(import.meta.dirname, '../renderer/index.html')}`
}

export function isOwnPage(url: string): boolean {
  const own = rendererUrl()
  return own.startsWith('file://') ? url.split(/[?#]/)[0] === own : url.startsWith(own)
}

/** The one place windows are made, so every window gets the same security settings. */
export function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 560,
    show: false,
    backgroundColor: '#0f1419',
    title: 'ESP Fleet Console',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  })
  guardNavigation(window.webContents)
  window.once('ready-to-show', () => window.show())
  const url = rendererUrl()
  if (url.startsWith('file://')) void window.loadFile(join(import.meta.dirname, '../renderer/index.html'))
  else void window.loadURL(url)
  return window
}

function guardNavigation(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isOwnPage(url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    // Documentation links open in the system browser; nothing opens inside the app.
    if (/^https:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
}
