import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadedRegion } from '../shared/domain/bench/recipe'
import { runFlashJob } from '../electron/core/bench/flash-job'
import { EspLoader } from '../electron/core/flasher/esp-loader'
import { SerialLink } from '../electron/core/flasher/serial-link'

// The console's flasher against emulated boards on socat pseudo-terminals, paced to the baud rate the
// flasher asks for (a pty itself ignores baud), in their own process as real boards would be.
const baud = 921600
const lineLimit = baud / 10
const boards = 8
const incompressible = randomBytes(1 << 20)
const realImage = readFileSync(join(import.meta.dirname, '../../shared/fixtures/esptool/images/esp_idf_blink_esp32s2.bin'))

export async function flash(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-flash-'))
  const emulator = await startBoards(dir)
  try {
    // Throughput: one board, the write and its MD5 verification only (connect and stub excluded).
    const link = await SerialLink.open({ path: emulator.paths[0]!, baud: 115200 })
    let random: number
    let real: number
    try {
      const loader = new EspLoader(link, { syncHint: '' })
      await loader.connect()
      const board = await loader.identify()
      await loader.runStub()
      await loader.changeBaud(baud)
      await loader.setFlashSize(board.flashSize ?? 4 << 20)
      random = await timed(() => loader.writeRegion(0x100000, incompressible, () => {}))
      real = await timed(() => loader.writeRegion(0x10000, realImage, () => {}))
    } finally {
      await link.close()
    }
    const randomRate = incompressible.length / random
    const realRate = realImage.length / real
    console.log(`  emulated ESP32-S2 on a socat pty, paced at ${baud} baud (line limit ${(lineLimit / 1024).toFixed(0)} KB/s); esptool reaches about 0.9 of the line on real adapters`)
    console.log(`  1 MB of random bytes, written compressed and verified by MD5: ${random.toFixed(2)} s = ${(randomRate / 1024).toFixed(1)} KB/s = ${(randomRate / lineLimit).toFixed(2)} of the line`)
    console.log(`  a real firmware image (esp_idf_blink_esp32s2.bin, ${(realImage.length / 1024).toFixed(0)} KB): ${real.toFixed(2)} s = ${(realRate / 1024).toFixed(1)} KB/s = ${(realRate / lineLimit).toFixed(2)} of the line; compression gains ×${(realRate / randomRate).toFixed(2)}`)

    // Parallel: whole jobs (connect, identify, stub, baud, write, verify) on one board, then on all eight.
    const regions: LoadedRegion[] = [{ role: 'data', offset: 0x100000, fileName: 'random-256k.bin', bytes: incompressible.subarray(0, 256 * 1024) }]
    const job = (path: string, index: number) =>
      runFlashJob({ port: path, identity: { syncHint: '' }, regions, serial: `BENCH-${index}`, group: 'Bench', batchId: 0, baud, signal: new AbortController().signal, resume: false }, () => {})
    const one = await timed(() => job(emulator.paths[0]!, 0))
    const all = await timed(() => Promise.all(emulator.paths.map(job)))
    console.log(`  one whole job (256 KB random): ${one.toFixed(2)} s; ${boards} boards at once: ${all.toFixed(2)} s against ${(boards * one).toFixed(2)} s one after another`)
    return `flash: ratio=${(randomRate / lineLimit).toFixed(2)} (incompressible bytes written and verified per second / line limit at ${baud} baud; higher is better, aim ≥ 0.9); compression ×${(realRate / randomRate).toFixed(2)} on a real image; ${boards} boards in parallel ${(all / (boards * one)).toFixed(2)} of the time one after another`
  } finally {
    await emulator.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return (performance.now() - started) / 1000
}

/** `npm run emulate` in a child process; resolves with the port paths it prints. */
function startBoards(dir: string): Promise<{ paths: string[]; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'simulator/rom-bootloader/cli.ts', '--boards', String(boards), '--chip', 'ESP32-S2', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`The emulated boards did not start within 20 s:\n${output}`))
    }, 20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const paths = [...output.matchAll(/^(\S+ttyESP\d+)\s/gm)].map((match) => match[1]!)
      if (paths.length === boards) {
        clearTimeout(timer)
        resolve({ paths, stop })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`The emulated boards exited (${code}):\n${output}`))
    })
  })
}
