// `npm start`: the desktop console where Electron is installed, the headless host anywhere else.
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { buildIfStale } from './build-if-stale.mjs'
import { electronBinary, electronVersion } from './electron-binary.mjs'
import { serve } from './serve.mjs'

const binary = electronBinary()
if (!binary) {
  process.stderr.write('No Electron binary is installed here, so the console runs as the headless host: open the URL below in a browser.\n')
  serve(process.argv.slice(2))
} else {
  ensureElectronSqlite(electronVersion())
  buildIfStale()
  const child = spawn(binary, ['.'], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
}

/**
 * better-sqlite3 in node_modules is built for Node (tests and the headless host use it). Electron
 * needs its own ABI: build a copy once per Electron version into .native/, which the main process
 * passes to better-sqlite3 as `nativeBinding`. Packaged apps are rebuilt by electron-builder instead.
 */
function ensureElectronSqlite(version) {
  const target = resolve('.native', `electron-${version}`, 'better_sqlite3.node')
  if (existsSync(target)) return
  process.stderr.write(`Building better-sqlite3 for Electron ${version} (once)…\n`)
  const work = resolve('.native', 'build')
  rmSync(work, { recursive: true, force: true })
  cpSync('node_modules/better-sqlite3', work, { recursive: true, filter: (path) => !path.includes(`${join('better-sqlite3', 'build')}`) })
  const gyp = spawnSync(
    process.execPath,
    [resolve('node_modules/node-gyp/bin/node-gyp.js'), 'rebuild', '--release', '--runtime=electron', `--target=${version}`, '--dist-url=https://electronjs.org/headers'],
    { cwd: work, stdio: 'inherit' },
  )
  if (gyp.status !== 0) {
    process.stderr.write('Building better-sqlite3 for Electron failed; the console would not be able to open its database. See the errors above.\n')
    process.exit(1)
  }
  mkdirSync(resolve('.native', `electron-${version}`), { recursive: true })
  cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), target)
  rmSync(work, { recursive: true, force: true })
}
