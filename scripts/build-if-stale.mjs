// Builds out/ when any source is newer than the last build, so `npm start` and `npm run serve`
// work on a fresh clone and stay quick afterwards.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const stamp = 'out/.built'
const sources = ['electron', 'renderer', 'shared', 'package.json', 'electron.vite.config.ts']

function newest(path) {
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

export function buildIfStale() {
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...sources.map(newest))) return
  process.stderr.write('Building the console (first run or sources changed)…\n')
  const result = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (result.status !== 0) {
    process.stderr.write('The build failed; see the errors above.\n')
    process.exit(result.status ?? 1)
  }
  writeFileSync(stamp, new Date().toISOString())
}
