import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SerialLink } from '../../electron/core/flasher/serial-link'
import { haveSocat, startEmulatedBoards, type EmulatedBoards } from '../../simulator/rom-bootloader/pty'

// `npm run flash` as an engineer runs it over SSH: a recipe file, a text progress bar, an exit code.
const root = resolve(import.meta.dirname, '../..')
const fixtures = join(root, '../shared/fixtures')
let dir: string
let boards: EmulatedBoards | null = null

function flash(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/server/flash-cli.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })))
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flash-cli-'))
})

afterEach(async () => {
  await boards?.stop()
  boards = null
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!haveSocat())('npm run flash', () => {
  it('flashes an ESP-IDF flasher_args.json onto a board with a progress bar, and says it verified', async () => {
    boards = await startEmulatedBoards({ count: 1, chip: 'ESP32-S2', dir })
    const app = readFileSync(join(fixtures, 'esptool/images/esp_idf_blink_esp32s2.bin'))
    writeFileSync(join(dir, 'blink.bin'), app)
    writeFileSync(join(dir, 'partition-table.bin'), readFileSync(join(fixtures, 'esp-idf/partition_table/expected/partitions_singleapp.bin')))
    writeFileSync(join(dir, 'flasher_args.json'), JSON.stringify({ flash_files: { '0x8000': 'partition-table.bin', '0x10000': 'blink.bin' } }))
    const run = await flash(['--port', boards.boards[0]!.path, '--serial', 'PUMP-042', join(dir, 'flasher_args.json')])
    expect(run.stderr).toMatch(/\[#{30}\] 100%/)
    expect(run.stdout).toMatch(/^Done in [\d.]+ s: ESP32-S2 ([0-9a-f]{2}:){5}[0-9a-f]{2}, every region verified by MD5\.$/m)
    expect(run.code).toBe(0)
    const flashed = boards.boards[0]!.board.flash.subarray(0x10000, 0x10000 + app.length)
    expect(createHash('sha256').update(flashed).digest('hex')).toBe(createHash('sha256').update(app).digest('hex'))
  })

  it('exits non-zero with a sentence for a port in use, a missing file and a bad baud', async () => {
    boards = await startEmulatedBoards({ count: 1, chip: 'ESP32-S2', dir })
    writeFileSync(join(dir, 'app.bin'), readFileSync(join(fixtures, 'esptool/images/esp_idf_blink_esp32s2.bin')))
    const holder = await SerialLink.open({ path: boards.boards[0]!.path, baud: 115200 })
    try {
      const busy = await flash(['--port', boards.boards[0]!.path, join(dir, 'app.bin')])
      expect(busy).toMatchObject({ code: 1, stderr: expect.stringContaining('is in use by another program') })
    } finally {
      await holder.close()
    }
    expect(await flash(['--port', boards.boards[0]!.path, join(dir, 'nope.bin')])).toMatchObject({ code: 2, stderr: expect.stringContaining('no such file') })
    expect(await flash(['--port', boards.boards[0]!.path, '--baud', '9600', join(dir, 'app.bin')])).toMatchObject({ code: 2, stderr: expect.stringContaining('--baud must be') })
  })
})
