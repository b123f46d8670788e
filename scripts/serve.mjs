// `npm run serve -- [options]`: the headless host (see electron/server/cli.ts for the options).
import { spawn } from 'node:child_process'
import { buildIfStale } from './build-if-stale.mjs'

export function serve(args) {
  buildIfStale()
  const child = spawn(process.execPath, ['out/main/server.js', ...args], { stdio: 'inherit' })
  // The host drains its writes on SIGINT/SIGTERM; pass them on and leave with its exit code.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

if (import.meta.url === `file://${process.argv[1]}`) serve(process.argv.slice(2))
