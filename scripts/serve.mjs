// `npm run serve -- [options]`: the headless host (see electron/server/cli.ts for the options);
// `npm run flash -- …` the flasher (electron/server/flash-cli.ts). Both build first when stale.
import { spawn } from 'node:child_process'
import { buildIfStale } from './build-if-stale.mjs'

export function serve(args, entry = 'out/main/server.js') {
  buildIfStale()
  const child = spawn(process.execPath, [entry, ...args], { stdio: 'inherit' })
  // The host drains its writes on SIGINT/SIGTERM; pass them on and leave with its exit code.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [first, ...rest] = process.argv.slice(2)
  if (first === '--flash') serve(rest, 'out/main/flash.js')
  else serve(process.argv.slice(2))
}
