import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The Electron executable npm installed, or null where none is (installed with
 * ELECTRON_SKIP_BINARY_DOWNLOAD, a server, Termux). Read without `require('electron')`, which would
 * try to download the binary.
 */
export function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const overridden = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron')
    return existsSync(overridden) ? overridden : null
  }
  const pathFile = 'node_modules/electron/path.txt'
  if (!existsSync(pathFile)) return null
  const binary = join('node_modules/electron/dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(binary) ? binary : null
}

export function electronVersion() {
  return JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')).version
}
