import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import type { FlashJobRow, FleetRow, PortRow, StreamDiff } from '../../shared/contract'
import { EmulatedBoard } from '../../simulator/rom-bootloader/emulated-board'
import { EmulatedBoardBinding } from '../../simulator/rom-bootloader/in-process-binding'
import { haveSocat, startEmulatedBoards } from '../../simulator/rom-bootloader/pty'
import { until as waitFor } from '../support/until'

// The bench service through the core's contract, with boards on an in-process serialport binding so
// the DTR/RTS reset circuit is real (a pty refuses those lines) and faults can be played.
const fixtures = join(import.meta.dirname, '../../../shared/fixtures')
const app = new Uint8Array(readFileSync(join(fixtures, 'esptool/images/esp_idf_blink_esp32s2.bin')))
const table = new Uint8Array(readFileSync(join(fixtures, 'esp-idf/partition_table/expected/partitions_singleapp.bin')))
const operator = { actor: 'ada', via: 'local' } as const

let dir: string
let core: Core
let binding: EmulatedBoardBinding
let jobs: Map<string, FlashJobRow>
let ports: Map<string, PortRow>
let fleet: Map<string, FleetRow>


async function call<T>(method: string, params: unknown): Promise<T> {
  const outcome = await core.dispatch(method as never, params, operator)
  if (!outcome.ok) throw Object.assign(new Error(outcome.error.message), { code: outcome.error.code })
  return outcome.value as T
}

async function recipe(): Promise<void> {
  const kept = []
  for (const [fileName, bytes] of [['blink.bin', app], ['partitions.bin', table]] as const) kept.push(await call<{ sha256: string }>('bench.importFirmware', { fileName, data: Buffer.from(bytes).toString('base64') }))
  await call('bench.saveRecipe', { name: 'blink', regions: [{ role: 'partition-table', offset: 0x8000, sha256: kept[1]!.sha256 }, { role: 'app', offset: 0x10000, sha256: kept[0]!.sha256 }], serialPattern: 'PUMP-{seq:3}', baud: 921600 })
}

const until = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000) => waitFor(what, probe, timeoutMs, () => `jobs: ${JSON.stringify([...jobs.values()].map((j) => [j.port, j.state, j.error?.message]))}`)

const jobOn = (port: string) => [...jobs.values()].filter((job) => job.port === port).at(-1)
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-service-'))
  binding = new EmulatedBoardBinding()
  core = createCore({ dataDir: dir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0, serialBinding: binding })
  jobs = new Map()
  fleet = new Map()
  ports = new Map()
  core.events.subscribe((event, payload) => {
    if (event === 'ports') {
      const diff = payload as StreamDiff<PortRow>
      for (const [key, row] of Object.entries(diff.set)) ports.set(key, row)
      for (const key of diff.deleted) ports.delete(key)
    }
    if (event === 'bench.jobs') for (const [key, row] of Object.entries((payload as StreamDiff<FlashJobRow>).set)) jobs.set(key, row)
    if (event === 'fleet') for (const [key, row] of Object.entries((payload as StreamDiff<FleetRow>).set)) fleet.set(key, row)
  })
  await recipe()
})

afterEach(async () => {
  await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

describe('the bench station', () => {
  it('shows a port when a board is plugged in and drops it when it is unplugged, within about a second', async () => {
    const unplug = binding.register('/dev/ttyACM0', new EmulatedBoard({ chip: 'ESP32-C3', paced: false }), { vendorId: '303a', productId: '1001' })
    const row = await until('the port listed', () => ports.get('/dev/ttyACM0'), 3000)
    expect(row).toMatchObject({ name: expect.stringContaining('USB-Serial-JTAG'), usb: { vendorId: '303a', productId: '1001' }, jobId: null })
    unplug()
    await until('the port gone', () => !ports.has('/dev/ttyACM0'), 3000)
  })

  it('names boards after the site plan\'s nodes when asked, and refuses a name already given or one per two boards', async () => {
    binding.register('/dev/ttyUSB6', new EmulatedBoard({ chip: 'ESP32-S2', paced: false, seed: 6 }))
    binding.register('/dev/ttyUSB7', new EmulatedBoard({ chip: 'ESP32-S2', paced: false, seed: 7 }))
    await expect(call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB6', '/dev/ttyUSB7'], serials: ['node-yard-1'] })).rejects.toMatchObject({ code: 'INVALID_PARAMS', message: expect.stringContaining('one planned node per board') })
    await expect(call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB6'], serials: ['node yard 1'] })).rejects.toMatchObject({ code: 'INVALID_PARAMS', message: expect.stringContaining('not a usable device id') })
    await call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB6', '/dev/ttyUSB7'], serials: ['node-yard-1', 'node-gate-2'] })
    await until('both done', () => jobOn('/dev/ttyUSB6')?.state === 'done' && jobOn('/dev/ttyUSB7')?.state === 'done')
    expect([jobOn('/dev/ttyUSB6')?.serial, jobOn('/dev/ttyUSB7')?.serial]).toEqual(['node-yard-1', 'node-gate-2'])
    await until('expected in the fleet', () => fleet.get('Plant1/node-gate-2')?.state === 'expected')
    await expect(call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB6'], serials: ['node-yard-1'] })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('Pick a planned node that has not been flashed yet') })
  })

  it('resets a board that runs its app into the bootloader by DTR/RTS, flashes it, and the fleet expects it', async () => {
    const board = new EmulatedBoard({ chip: 'ESP32-S2', startIn: 'app', paced: false, seed: 5 })
    binding.register('/dev/ttyUSB0', board)
    expect((await call<{ name: string }[]>('bench.ports', {}))[0]).toMatchObject({ name: expect.stringMatching(/^CP210x/) })
    await call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB0'] })
    const done = await until('the job done', () => jobOn('/dev/ttyUSB0')?.state === 'done' && jobOn('/dev/ttyUSB0'))
    expect(done).toMatchObject({ serial: 'PUMP-001', chip: 'ESP32-S2', mac: board.macAddress, phase: 'Flashed, verified and reset into the application.' })
    expect(sha(board.flash.subarray(0x10000, 0x10000 + app.length))).toBe(sha(app))
    // After the hard reset the board runs its application again.
    expect(board.mode).toBe('app')
    await until('expected in the fleet', () => fleet.get('Plant1/PUMP-001')?.state === 'expected')
    expect((await call<FlashJobRow[]>('bench.jobs', {}))[0]).toMatchObject({ state: 'done', operator: 'ada', regions: [{ fileName: 'partitions.bin' }, { fileName: 'blink.bin', sha256: sha(app) }, { fileName: 'identity PUMP-001 (NVS)' }] })

    // One identity per board: the next batch starts after PUMP-001, and reusing it is refused.
    expect(await call('bench.nextSeq', { recipe: 'blink' })).toEqual({ firstSeq: 2 })
    await expect(call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB0'], firstSeq: 1 })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('PUMP-001 was already given to a board') })

    // Read back through the stub: every region matches; a changed byte on the board is caught.
    const readBack = await call<{ regions: { fileName: string; matches: boolean }[] }>('bench.readBack', { jobId: done.id })
    expect(readBack.regions.map((region) => [region.fileName, region.matches])).toEqual([
      ['partitions.bin', true],
      ['blink.bin', true],
      ['identity PUMP-001 (NVS)', true],
    ])
    board.flash[0x10000 + 1000] = board.flash[0x10000 + 1000]! ^ 0xff
    const damaged = await call<{ regions: { fileName: string; matches: boolean }[] }>('bench.readBack', { jobId: done.id })
    expect(damaged.regions.find((region) => region.fileName === 'blink.bin')?.matches).toBe(false)
  })

  it('refuses a port that is already flashing, and one that is not plugged in', async () => {
    binding.register('/dev/ttyUSB2', new EmulatedBoard({ chip: 'ESP32-S2', paced: true, seed: 7 }))
    await call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB2'] })
    await expect(call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB2'] })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already being flashed') })
    await expect(call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB9'] })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('not plugged in') })
    await until('the board done', () => jobOn('/dev/ttyUSB2')?.state === 'done')
  })

  it.skipIf(!haveSocat())('says what to do when a board behind a port without reset lines never answers', async () => {
    const boards = await startEmulatedBoards({ count: 1, chip: 'ESP32-S2', dir, faults: { 0: [{ kind: 'silent' }] } })
    const plain = createCore({ dataDir: join(dir, 'second'), host: { kind: 'headless' }, log: silentLogger, mqttPort: 0, serialPorts: [boards.boards[0]!.path] })
    try {
      const seen = new Map<string, FlashJobRow>()
      plain.events.subscribe((event, payload) => {
        if (event === 'bench.jobs') for (const [key, row] of Object.entries((payload as StreamDiff<FlashJobRow>).set)) seen.set(key, row)
      })
      const data = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
      const kept = await plain.dispatch('bench.importFirmware', { fileName: 'blink.bin', data: data(app) }, operator)
      if (!kept.ok) throw new Error(kept.error.message)
      await plain.dispatch('bench.saveRecipe', { name: 'app only', regions: [{ role: 'app', offset: 0x10000, sha256: (kept.value as { sha256: string }).sha256 }] }, operator)
      expect(await plain.dispatch('bench.flash', { recipe: 'app only', ports: [boards.boards[0]!.path] }, operator)).toMatchObject({ ok: true })
      const failed = await until('the silent board to fail', () => [...seen.values()].find((job) => job.state === 'failed'))
      expect(failed.error).toMatchObject({ code: 'no-sync', message: expect.stringMatching(/did not answer the bootloader's SYNC.*hold BOOT/i) })
      expect(failed.regions).toEqual([])
    } finally {
      await plain.dispose()
      await boards.stop()
    }
  })

  it('stops cleanly when a board is unplugged mid-write, never reporting it written, and the resumed job keeps what was verified', async () => {
    const first = new EmulatedBoard({ chip: 'ESP32-S2', paced: false, seed: 8, faults: [{ kind: 'unplug', afterFlashBytes: 40_000 }] })
    const unregister = binding.register('/dev/ttyUSB3', first)
    const { batchId } = await call<{ batchId: number }>('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB3'] })
    const failed = await until('the unplugged job to fail', () => jobOn('/dev/ttyUSB3')?.state === 'failed' && jobOn('/dev/ttyUSB3'))
    expect(failed.error?.message).toMatch(/unplugged|disappeared|did not answer/)
    expect(failed.regions.map((region) => region.fileName)).toEqual(['partitions.bin'])

    // Plugged in again (the same flash), the batch resumes: the partition table is checked, not rewritten.
    unregister()
    const again = new EmulatedBoard({ chip: 'ESP32-S2', paced: false, seed: 8 })
    again.flash.set(first.flash)
    binding.register('/dev/ttyUSB3', again)
    await call('bench.resume', { batchId })
    const done = await until('the resumed job done', () => jobOn('/dev/ttyUSB3')?.state === 'done' && jobOn('/dev/ttyUSB3'))
    expect(done.regions).toHaveLength(3)
    expect(sha(again.flash.subarray(0x10000, 0x10000 + app.length))).toBe(sha(app))
    expect(again.stats.flashBytesReceived).toBeLessThan(app.length + 40_000)
  })

  it('stops before writing anything to a board whose flash is encrypted, and says why', async () => {
    const board = new EmulatedBoard({ chip: 'ESP32-S3', paced: false, seed: 12, faults: [{ kind: 'flash-encryption' }] })
    binding.register('/dev/ttyUSB5', board)
    const before = board.stats.flashBytesReceived
    await call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB5'] })
    const failed = await until('the job refused', () => jobOn('/dev/ttyUSB5')?.state === 'failed' && jobOn('/dev/ttyUSB5'))
    expect(failed.error).toMatchObject({ code: 'flash-encrypted', message: expect.stringContaining('Nothing was written') })
    expect(board.stats.flashBytesReceived).toBe(before)
  })

  it('cancels a job mid-write at once, and says it can be resumed', async () => {
    binding.register('/dev/ttyUSB4', new EmulatedBoard({ chip: 'ESP32-S2', paced: true, seed: 9 }))
    await call('bench.flash', { recipe: 'blink', ports: ['/dev/ttyUSB4'] })
    const writing = await until('the job writing', () => jobOn('/dev/ttyUSB4')?.state === 'writing' && (jobOn('/dev/ttyUSB4')?.written ?? 0) > 0 && jobOn('/dev/ttyUSB4'))
    expect(await call('bench.cancel', { jobId: writing.id })).toEqual({ cancelled: true })
    const cancelled = await until('the job cancelled', () => jobOn('/dev/ttyUSB4')?.state === 'cancelled' && jobOn('/dev/ttyUSB4'), 3000)
    expect(cancelled.error).toMatchObject({ code: 'cancelled', message: expect.stringContaining('resumed') })
    expect(await call('bench.cancel', { jobId: writing.id })).toEqual({ cancelled: false })
  })

  it('refuses a recipe whose files do not fit, with every reason, and a damaged image on import is named', async () => {
    const big = randomBytes(0x110000)
    big[0] = 0xe9
    const kept = await call<{ sha256: string; kind: string; summary: string }>('bench.importFirmware', { fileName: 'huge.bin', data: big.toString('base64') })
    expect(kept.kind).toBe('damaged')
    const tableFile = (await call<{ sha256: string; fileName: string }[]>('bench.firmware', {})).find((file) => file.fileName === 'partitions.bin')!
    await expect(
      call('bench.saveRecipe', { name: 'bad', regions: [{ role: 'partition-table', offset: 0x8000, sha256: tableFile.sha256 }, { role: 'app', offset: 0x10000, sha256: kept.sha256 }] }),
    ).rejects.toMatchObject({ code: 'INVALID_PARAMS', message: expect.stringContaining('huge.bin') })
  })
})
