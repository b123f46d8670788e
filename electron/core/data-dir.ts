import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * The same folder Electron uses as `userData` for this app, so the desktop console and the headless
 * host on one machine share their data.
 */
export function defaultDataDir(productName: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), productName)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', productName)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), productName)
}
