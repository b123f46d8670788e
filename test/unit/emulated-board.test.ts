// The emulated board driven directly, with request frames built by the console's own encoders
// (shared/domain/rom-bootloader) and replies read back with its decoders: if the two ends read
// serial-protocol.rst differently, these fail.
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import {
  bootAfterReset,
  chipDetectMagicRegAddr,
  chipFromMagicValue,
  chips,
  classicReset,
  commandOpcodes,
  decodeResponse,
  detectChip,
  encodeCommandFrame,
  encodeReadFlashAck,
  encodeRequest,
  encodeResponse,
  expectedResponseDataLength,
  flashEndCommand,
  flashMd5Command,
  formatMacAddress,
  hardReset,
  isStubGreeting,
  macAddressFromEfuse,
  padFlashImage,
  parseBootMessage,
  parseFlashId,
  parseFlashMd5,
  parseSecurityInfo,
  planFlashWrite,
  planRamDownload,
  readFlashCommand,
  readRegCommand,
  romSyncValue,
  slipEncode,
  SlipDecoder,
  spiFlashCommandPlan,
  spiFlashRdid,
  unixTightReset,
  changeBaudrateCommand,
  eraseRegionCommand,
  type BootloaderResponse,
  type ChipName,
  type CommandName,
  type LoaderCommand,
  type LoaderKind,
  type ResetSequence,
} from '../../shared/domain/rom-bootloader'
import { EmulatedBoard, flashIdFor, type BoardEvent, type EmulatedBoardOptions } from '../../simulator/rom-bootloader/emulated-board'
import { parseEmulateArgs, parseFaultSpec, UsageError } from '../../simulator/rom-bootloader/cli-options'

const boards: EmulatedBoard[] = []
afterEach(() => {
  for (const board of boards.splice(0)) board.close()
})

function newBoard(options: EmulatedBoardOptions = {}): EmulatedBoard {
  const board = new EmulatedBoard({ paced: false, ...options })
  boards.push(board)
  return board
}

function frameOf(command: LoaderCommand): Uint8Array {
  const encoded = encodeCommandFrame(command)
  if (!encoded.ok) throw new Error(encoded.detail)
  return encoded.packet
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The host end of the wire: SLIP frames and boot-log text, in arrival order. */
class Host {
  readonly frames: Uint8Array[] = []
  noise = ''
  readonly events: BoardEvent[] = []
  private readonly decoder = new SlipDecoder()
  private read = 0
  private wake: (() => void) | null = null

  constructor(readonly board: EmulatedBoard) {
    board.onOutput((bytes) => {
      for (const event of this.decoder.push(bytes)) {
        if (event.kind === 'frame') this.frames.push(event.payload)
        else if (event.kind === 'noise') this.noise += String.fromCharCode(...event.bytes)
      }
      this.wake?.()
    })
    board.onEvent((event) => this.events.push(event))
  }

  send(command: LoaderCommand): void {
    this.board.receive(frameOf(command))
  }

  async nextFrame(timeoutMs = 2000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs
    while (this.read >= this.frames.length) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms (${this.frames.length} so far)`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = null
    }
    return this.frames[this.read++]!
  }

  /** Sends a command and reads replies until the one to it (the protocol's own rule), decoded for `loader`. */
  async command(command: LoaderCommand, loader: LoaderKind = this.board.loader, chip: ChipName = this.board.chip.name): Promise<BootloaderResponse> {
    this.send(command)
    const opcode = commandOpcodes[command.name]
    const dataLength = expectedResponseDataLength(command.name, { chip: chips[chip], loader })
    for (;;) {
      const decoded = decodeResponse(await this.nextFrame(), { dataLength })
      if (decoded.ok && decoded.response.command === opcode) return decoded.response
    }
  }

  async waitForNoise(pattern: RegExp, timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    while (!pattern.test(this.noise)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(this.noise)}`)
      await sleep(5)
    }
    return this.noise
  }

  /** Nothing arrives for `ms`. */
  async quiet(ms = 100): Promise<boolean> {
    const before = this.frames.length
    await sleep(ms)
    return this.frames.length === before
  }
}

async function sync(host: Host): Promise<BootloaderResponse[]> {
  host.send({ name: 'SYNC' })
  const replies: BootloaderResponse[] = []
  for (let i = 0; i < 8; i++) {
    const decoded = decodeResponse(await host.nextFrame())
    if (!decoded.ok) throw new Error(decoded.detail)
    replies.push(decoded.response)
  }
  return replies
}

async function startStub(host: Host): Promise<void> {
  const plan = planRamDownload(randomBytes(0x2000), 0x40380000)
  expect((await host.command(plan.begin)).failure).toBeNull()
  for (const packet of plan.packets) expect((await host.command(packet)).failure).toBeNull()
  expect((await host.command({ name: 'MEM_END', stayInLoader: false, entrypoint: 0x40380400 })).failure).toBeNull()
  expect(isStubGreeting(await host.nextFrame())).toBe(true)
  expect(host.board.loader).toBe('stub')
}

/** esptool's run_spiflash_command for RDID, step by step with the plan the console uses. */
async function readFlashId(host: Host): Promise<number> {
  const plan = spiFlashCommandPlan(host.board.chip, spiFlashRdid, 24)
  if (!plan.ok) throw new Error(plan.detail)
  const saved: number[] = []
  for (const register of plan.plan.saveRegisters) saved.push((await host.command(readRegCommand(register))).value)
  for (const write of plan.plan.setup) expect((await host.command({ name: 'WRITE_REG', writes: [write] })).failure).toBeNull()
  await host.command({ name: 'WRITE_REG', writes: [plan.plan.start] })
  expect((await host.command(readRegCommand(plan.plan.busyRegister))).value & plan.plan.busyMask).toBe(0)
  const id = (await host.command(readRegCommand(plan.plan.resultRegister))).value & plan.plan.resultMask
  plan.plan.saveRegisters.forEach((register, i) => host.send({ name: 'WRITE_REG', writes: [{ address: register, value: saved[i]! }] }))
  return id
}

async function flashWithPlan(host: Host, image: Uint8Array, offset: number, compressed: boolean): Promise<void> {
  const target = { chip: host.board.chip, loader: host.board.loader }
  const padded = padFlashImage(image)
  const planned = planFlashWrite({ target, offset, image: padded, ...(compressed ? { deflated: deflateSync(padded) } : {}), flashSize: host.board.flash.length })
  if (!planned.ok) throw new Error(planned.detail)
  expect((await host.command(planned.plan.begin)).failure).toBeNull()
  for (const packet of planned.plan.packets) expect((await host.command(packet)).failure).toBeNull()
  if (target.loader === 'stub') expect((await host.command(flashEndCommand(planned.plan.mode, 'run-user-code'))).failure).toBeNull()
}

async function applyResetSequence(board: EmulatedBoard, sequence: ResetSequence): Promise<void> {
  for (const step of sequence.steps) {
    board.setControlLines({ dtr: step.dtr, rts: step.rts })
    if (step.delayMs > 0) await sleep(step.delayMs)
  }
  // The chip samples its strapping pin a couple of milliseconds after EN rises.
  await sleep(20)
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

describe('power-on and SYNC', () => {
  it('prints the ROM boot message of the chip, waiting for download', async () => {
    const host = new Host(newBoard())
    const text = await host.waitForNoise(/waiting for download\r\n/)
    expect(text).toBe('ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download\r\n')
    expect(parseBootMessage(text)).toMatchObject({ bootMode: 0, waitingForDownload: true, resetCause: { code: 1, name: 'POWERON' } })
  })

  it.each(['ESP32', 'ESP32-S2', 'ESP32-C2', 'ESP32-C3', 'ESP32-C6', 'ESP32-H2'] as const)('%s prints a boot message esptool reads as the download mode', async (chip) => {
    const host = new Host(newBoard({ chip }))
    expect(parseBootMessage(await host.waitForNoise(/waiting for download/))?.waitingForDownload).toBe(true)
  })

  it('answers one SYNC with the ROM\'s eight replies (value 0x20120707, 4 status bytes)', async () => {
    const host = new Host(newBoard())
    const replies = await sync(host)
    for (const reply of replies) {
      expect(reply).toMatchObject({ command: commandOpcodes.SYNC, value: romSyncValue, failure: null })
      expect(reply.data).toHaveLength(4)
    }
    expect(await host.quiet(50)).toBe(true)
  })
})

describe('chip detection', () => {
  it('reads the magic value, the security info and the factory MAC the way the console detects a chip', async () => {
    const board = newBoard({ chip: 'ESP32-S3', mac: '7c:df:a1:01:02:03' })
    const host = new Host(board)
    const magic = await host.command(readRegCommand(chipDetectMagicRegAddr))
    expect(chipFromMagicValue(magic.value)).toMatchObject({ ok: true, chip: { name: 'ESP32-S3' } })
    const info = parseSecurityInfo((await host.command({ name: 'GET_SECURITY_INFO' })).payload)
    expect(info.ok && detectChip({ securityInfo: info.info })).toMatchObject({ ok: true, chip: { name: 'ESP32-S3' }, via: 'chip-id' })
    const high = (await host.command(readRegCommand(board.chip.macEfuse.high))).value
    const low = (await host.command(readRegCommand(board.chip.macEfuse.low))).value
    expect(formatMacAddress(macAddressFromEfuse(high, low))).toBe('7c:df:a1:01:02:03')
  })

  it('derives a stable Espressif MAC from the seed', () => {
    expect(newBoard({ seed: 7 }).macAddress).toBe(newBoard({ seed: 7 }).macAddress)
    expect(newBoard({ seed: 7 }).macAddress).not.toBe(newBoard({ seed: 8 }).macAddress)
    expect(newBoard().macAddress).toMatch(/^7c:df:a1(:[0-9a-f]{2}){3}$/)
  })

  it('an ESP32 ROM has no GET_SECURITY_INFO: "invalid message" (status 1, error 0x05); its magic value says ESP32', async () => {
    const host = new Host(newBoard({ chip: 'ESP32' }))
    expect((await host.command({ name: 'GET_SECURITY_INFO' })).failure).toMatchObject({ source: 'rom', code: 0x05 })
    expect(chipFromMagicValue((await host.command(readRegCommand(chipDetectMagicRegAddr))).value)).toMatchObject({ chip: { name: 'ESP32' } })
  })

  it.each([
    [4 << 20, 0x1640ef],
    [16 << 20, 0x1840ef],
  ])('answers esptool\'s RDID register sequence with the JEDEC id of a %i-byte flash', async (flashSize, id) => {
    const host = new Host(newBoard({ flashSize }))
    const flashId = await readFlashId(host)
    expect(flashId).toBe(id)
    expect(parseFlashId(flashId).sizeBytes).toBe(flashSize)
  })

  it('the ESP32\'s older SPI register layout works the same', async () => {
    const host = new Host(newBoard({ chip: 'ESP32', flashSize: 8 << 20 }))
    expect(parseFlashId(await readFlashId(host)).sizeBytes).toBe(8 << 20)
  })

  it('refuses a flash size no JEDEC id states', () => {
    expect(() => flashIdFor(3 << 20)).toThrow(RangeError)
  })
})

describe('writing flash', () => {
  it('ROM loader: a compressed write lands in flash and SPI_FLASH_MD5 answers 32 hex characters', async () => {
    const board = newBoard()
    const host = new Host(board)
    const image = randomBytes(50_001)
    await flashWithPlan(host, image, 0x10000, true)
    const padded = padFlashImage(image)
    expect(Buffer.from(board.flash.subarray(0x10000, 0x10000 + padded.length)).equals(Buffer.from(padded))).toBe(true)
    const reply = await host.command(flashMd5Command(0x10000, padded.length))
    expect(reply.payload).toHaveLength(32)
    expect(parseFlashMd5(reply.payload, 'rom')).toEqual({ ok: true, md5: md5(padded) })
    expect(board.stats.flashBytesWritten).toBeGreaterThanOrEqual(padded.length)
  })

  it('ROM loader: an uncompressed write erases the sectors it touches, pads with 0xFF and leaves the rest alone', async () => {
    const board = newBoard()
    board.flash.fill(0x00, 0x1f000, 0x23000) // data before and after, and stale bytes where the image goes
    const host = new Host(board)
    const image = randomBytes(0x1003)
    await flashWithPlan(host, image, 0x20000, false)
    expect(Buffer.from(board.flash.subarray(0x20000, 0x20000 + image.length)).equals(image)).toBe(true)
    // The rest of the last sector was erased at FLASH_BEGIN; the last block's padding programmed nothing.
    expect(board.flash.subarray(0x20000 + image.length, 0x22000).every((byte) => byte === 0xff)).toBe(true)
    expect(board.flash.subarray(0x1f000, 0x20000).every((byte) => byte === 0)).toBe(true)
    expect(board.flash.subarray(0x22000, 0x23000).every((byte) => byte === 0)).toBe(true)
  })

  it('stub: uploads with MEM_*, greets with OHAI, then answers with 2 status bytes and 16 raw MD5 bytes', async () => {
    const board = newBoard()
    const host = new Host(board)
    await startStub(host)
    const replies = await sync(host)
    expect(replies[0]).toMatchObject({ value: 0, failure: null })
    expect(replies[0]!.data).toHaveLength(2)
    const image = randomBytes(100_000)
    await flashWithPlan(host, image, 0x10000, true)
    expect(Buffer.from(board.flash.subarray(0x10000, 0x10000 + image.length)).equals(image)).toBe(true)
    const reply = await host.command(flashMd5Command(0x10000, image.length))
    expect(parseFlashMd5(reply.payload, 'stub')).toEqual({ ok: true, md5: md5(image) })
  })

  it('stub: READ_FLASH streams packets, waits for acknowledgements and ends with the MD5 of what it sent', async () => {
    const board = newBoard()
    board.flash.set(randomBytes(10_000), 0x3000)
    const host = new Host(board)
    await startStub(host)
    expect((await host.command(readFlashCommand(0x3000, 10_000, 0x1000, 2))).failure).toBeNull()
    const received: Uint8Array[] = []
    let total = 0
    while (total < 10_000) {
      const packet = await host.nextFrame()
      received.push(packet)
      total += packet.length
      host.board.receive(slipEncode(encodeReadFlashAck(total)))
    }
    expect(received.map((packet) => packet.length)).toEqual([4096, 4096, 1808])
    expect(Buffer.concat(received).equals(Buffer.from(board.flash.subarray(0x3000, 0x3000 + 10_000)))).toBe(true)
    expect(Buffer.from(await host.nextFrame()).toString('hex')).toBe(md5(board.flash.subarray(0x3000, 0x3000 + 10_000)))
    // Back to commands.
    expect((await host.command(readRegCommand(chipDetectMagicRegAddr))).value).toBe(9)
  })

  it('stub: ERASE_REGION and ERASE_FLASH set bytes back to 0xFF; the ROM does not know them', async () => {
    const board = newBoard()
    board.flash.fill(0x5a)
    const host = new Host(board)
    expect((await host.command(eraseRegionCommand(0x1000, 0x1000), 'rom')).failure).toMatchObject({ source: 'rom', code: 0x05 })
    await startStub(host)
    expect((await host.command(eraseRegionCommand(0x1000, 0x1000))).failure).toBeNull()
    expect(board.flash.subarray(0x1000, 0x2000).every((byte) => byte === 0xff)).toBe(true)
    expect(board.flash[0x2000]).toBe(0x5a)
    expect((await host.command(eraseRegionCommand(0x1001, 0x1000))).failure).toMatchObject({ source: 'stub', code: 0xc0 })
    expect((await host.command({ name: 'ERASE_FLASH' })).failure).toBeNull()
    expect(board.flash.every((byte) => byte === 0xff)).toBe(true)
  })
})

describe('refusals', () => {
  function dataPacketWithBadChecksum(name: CommandName, sequence: number, data: Uint8Array): Uint8Array {
    const prefix = new Uint8Array(16)
    new DataView(prefix.buffer).setUint32(0, data.length, true)
    new DataView(prefix.buffer).setUint32(4, sequence, true)
    const encoded = encodeRequest({ command: commandOpcodes[name], checksum: 0x00, data: Buffer.concat([prefix, data]) })
    if (!encoded.ok) throw new Error(encoded.detail)
    return slipEncode(encoded.packet)
  }

  it('a bad *_DATA checksum: ROM error 0x07, stub 0xC1; nothing is written', async () => {
    const board = newBoard()
    const host = new Host(board)
    const data = new Uint8Array(0x400).fill(0x11)
    await host.command({ name: 'FLASH_BEGIN', eraseSize: 0x400, packetCount: 1, packetSize: 0x400, offset: 0 })
    board.receive(dataPacketWithBadChecksum('FLASH_DATA', 0, data))
    expect(decodeResponse(await host.nextFrame()).ok && board.stats.checksumErrors).toBe(1)
    expect(host.events.find((event) => event.kind === 'refused')).toMatchObject({ status: { status: 1, error: 0x07 } })
    expect(board.flash[0]).toBe(0xff)

    await startStub(host)
    await host.command({ name: 'FLASH_BEGIN', eraseSize: 0x400, packetCount: 1, packetSize: 0x400, offset: 0 })
    board.receive(dataPacketWithBadChecksum('FLASH_DATA', 0, data))
    const reply = decodeResponse(await host.nextFrame())
    expect(reply.ok && reply.response.failure).toMatchObject({ source: 'stub', code: 0xc1 })
  })

  it('a block out of sequence is refused; the previous block sent again is acknowledged and not rewritten', async () => {
    const board = newBoard()
    const host = new Host(board)
    await host.command({ name: 'FLASH_BEGIN', eraseSize: 0x800, packetCount: 2, packetSize: 0x400, offset: 0 })
    expect((await host.command({ name: 'FLASH_DATA', sequence: 0, data: new Uint8Array(0x400).fill(0x0f) })).failure).toBeNull()
    expect((await host.command({ name: 'FLASH_DATA', sequence: 0, data: new Uint8Array(0x400).fill(0x00) })).failure).toBeNull()
    expect(board.flash[0]).toBe(0x0f)
    expect((await host.command({ name: 'FLASH_DATA', sequence: 5, data: new Uint8Array(0x400) })).failure).toMatchObject({ source: 'rom', code: 0x05 })
    expect(board.stats).toMatchObject({ repeatedBlocks: 1, sequenceErrors: 1 })
  })

  it('a write past the end of flash: ROM error 0x01, stub 0xC0', async () => {
    const host = new Host(newBoard({ flashSize: 1 << 20 }))
    const begin = { name: 'FLASH_DEFL_BEGIN', writeSize: 0x2000, packetCount: 1, packetSize: 0x400, offset: (1 << 20) - 0x1000 } as const
    expect((await host.command(begin)).failure).toMatchObject({ source: 'rom', code: 0x01 })
    await startStub(host)
    expect((await host.command(begin)).failure).toMatchObject({ source: 'stub', code: 0xc0 })
    expect((await host.command(flashMd5Command(1 << 20, 1))).failure).toMatchObject({ source: 'stub', code: 0xc4 })
  })

  it('a zlib stream that is not one: ROM 0x0B', async () => {
    const host = new Host(newBoard())
    await host.command({ name: 'FLASH_DEFL_BEGIN', writeSize: 0x400, packetCount: 1, packetSize: 0x400, offset: 0 })
    expect((await host.command({ name: 'FLASH_DEFL_DATA', sequence: 0, data: new Uint8Array(64).fill(0x42) })).failure).toMatchObject({ code: 0x0b })
  })

  it('an unknown command gets "invalid message" from the ROM and "not implemented" from the stub', async () => {
    const board = newBoard()
    const host = new Host(board)
    const unknown = encodeRequest({ command: 0x7f, checksum: 0, data: new Uint8Array(0) })
    if (!unknown.ok) throw new Error(unknown.detail)
    board.receive(slipEncode(unknown.packet))
    let reply = decodeResponse(await host.nextFrame())
    expect(reply.ok && reply.response).toMatchObject({ command: 0x7f, failure: { source: 'rom', code: 0x05 } })
    await startStub(host)
    board.receive(slipEncode(unknown.packet))
    reply = decodeResponse(await host.nextFrame())
    expect(reply.ok && reply.response).toMatchObject({ command: 0x7f, failure: { source: 'stub', code: 0xff } })
  })
})

describe('reset through DTR/RTS', () => {
  it('a board in its app ignores SYNC; the classic reset puts it in the download mode, a hard reset back in its app', async () => {
    const board = newBoard({ startIn: 'app' })
    const host = new Host(board)
    const appLog = await host.waitForNoise(/invalid header/)
    expect(parseBootMessage(appLog)).toMatchObject({ bootMode: 0x8, waitingForDownload: false })
    host.send({ name: 'SYNC' })
    expect(await host.quiet(100)).toBe(true)

    expect(bootAfterReset(classicReset())).toBe('download')
    host.noise = ''
    await applyResetSequence(board, classicReset())
    expect(board.mode).toBe('download')
    expect(parseBootMessage(await host.waitForNoise(/waiting for download/))?.waitingForDownload).toBe(true)
    expect((await sync(host))[0]!.value).toBe(romSyncValue)

    host.noise = ''
    await applyResetSequence(board, hardReset())
    expect(board.mode).toBe('app')
    expect(board.stats.boots).toEqual({ download: 1, app: 2 })
  })

  it('the tight reset (both lines in one step) works too, and a reset drops the stub', async () => {
    const board = newBoard()
    const host = new Host(board)
    await startStub(host)
    await applyResetSequence(board, unixTightReset())
    expect(board).toMatchObject({ mode: 'download', loader: 'rom' })
  })

  it('opening a port (both lines asserted) and closing it (both released) does not reset the board', async () => {
    const board = newBoard()
    board.setControlLines({ dtr: true, rts: true })
    board.setControlLines({ dtr: false, rts: false })
    await sleep(20)
    expect(board.stats.resets).toBe(0)
  })

  it('an app image at the bootloader offset: the ROM prints what it loads and the entry point', async () => {
    const board = newBoard({ chip: 'ESP32-C3', startIn: 'app' })
    board.close()
    const flashed = newBoard({ chip: 'ESP32-C3', startIn: 'download' })
    flashed.flash.set(readFileSync('/work/shared/fixtures/esptool/images/bootloader_esp32c3.bin'), 0)
    const host = new Host(flashed)
    await applyResetSequence(flashed, hardReset())
    const text = await host.waitForNoise(/entry 0x/)
    expect(text).toContain('rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\nSPIWP:0xee\r\nmode:DIO, clock div:1\r\nload:0x3fcd6100,len:0x14\r\n')
    expect(text).toContain('entry 0x403c0000\r\n')
  })
})

describe('faults', () => {
  it('silent: no answer until EN is pulsed with GPIO0 low', async () => {
    const board = newBoard({ faults: [{ kind: 'silent' }] })
    const host = new Host(board)
    host.send({ name: 'SYNC' })
    expect(await host.quiet(100)).toBe(true)
    await applyResetSequence(board, classicReset())
    expect((await sync(host))).toHaveLength(8)
  })

  it('corrupt-frames: every frame sent has one bit flipped', async () => {
    const board = newBoard({ faults: [{ kind: 'corrupt-frames', probability: 1 }] })
    const host = new Host(board)
    host.send(readRegCommand(chipDetectMagicRegAddr))
    await sleep(50)
    expect(board.stats.corruptedFrames).toBe(1)
    const sent = encodeResponse({ command: commandOpcodes.READ_REG, value: 9, statusLength: 4 })
    if (!sent.ok) throw new Error(sent.detail)
    expect(host.frames.length).toBeGreaterThan(0)
    expect(host.frames.some((frame) => Buffer.from(frame).equals(Buffer.from(sent.packet)))).toBe(false)
  })

  it('unplug: after N bytes of flash data the board is gone, mid-write', async () => {
    const board = newBoard({ faults: [{ kind: 'unplug', afterFlashBytes: 0x800 }] })
    const host = new Host(board)
    await host.command({ name: 'FLASH_BEGIN', eraseSize: 0x1000, packetCount: 4, packetSize: 0x400, offset: 0 })
    for (let sequence = 0; sequence < 2; sequence++) {
      expect((await host.command({ name: 'FLASH_DATA', sequence, data: new Uint8Array(0x400).fill(sequence) })).failure).toBeNull()
    }
    host.send({ name: 'FLASH_DATA', sequence: 2, data: new Uint8Array(0x400).fill(2) })
    expect(await host.quiet(100)).toBe(true)
    expect(board.mode).toBe('unplugged')
    expect(host.events.at(-1)).toEqual({ kind: 'unplugged', flashBytesReceived: 0xc00 })
    expect(board.flash[0x400]).toBe(1)
    expect(board.flash[0x800]).toBe(0xff)
    board.setControlLines({ dtr: false, rts: true })
    board.setControlLines({ dtr: false, rts: false })
    await sleep(20)
    expect(board.mode).toBe('unplugged')
  })

  it('flash-encryption: GET_SECURITY_INFO reports an odd flash_crypt_cnt; ESP32 its FLASH_CRYPT_CNT eFuse', async () => {
    const host = new Host(newBoard())
    host.board.inject({ kind: 'flash-encryption' })
    const info = parseSecurityInfo((await host.command({ name: 'GET_SECURITY_INFO' })).payload)
    expect(info.ok && info.info.flashCryptCnt % 2).toBe(1)
    const esp32 = new Host(newBoard({ chip: 'ESP32', faults: [{ kind: 'flash-encryption' }] }))
    expect(((await esp32.command(readRegCommand(0x3ff5a000))).value >>> 20) & 0x7f).toBe(1)
  })
})

describe('the line', () => {
  /** Stub READ_FLASH with every packet allowed in flight: the board sends as fast as its UART lets it. */
  async function timedRead(host: Host, length: number): Promise<number> {
    // Timed from the request: a host that stalled after the reply would otherwise see a backlog as speed.
    const started = performance.now()
    host.send(readFlashCommand(0, length, 0x1000, 1024))
    await host.nextFrame() // the reply
    let total = 0
    while (total < length) {
      total += (await host.nextFrame(5000)).length
      host.board.receive(slipEncode(encodeReadFlashAck(total)))
    }
    const elapsedS = (performance.now() - started) / 1000
    await host.nextFrame() // the MD5
    return total / elapsedS
  }

  it('moves no more than baud / 10 bytes a second, and switches rate after the CHANGE_BAUDRATE reply', async () => {
    const board = newBoard({ paced: true })
    const host = new Host(board)
    await startStub(host)
    const at115200 = await timedRead(host, 11_520)
    // Slower only when the machine is busy; never faster.
    expect(at115200).toBeLessThanOrEqual(11_520 * 1.01)
    expect(at115200).toBeGreaterThan(11_520 * 0.6)
    expect((await host.command(changeBaudrateCommand({ chip: board.chip, loader: 'stub' }, 921_600, 115_200))).failure).toBeNull()
    await sleep(10)
    expect(board.baud).toBe(921_600)
    const at921600 = await timedRead(host, 92_160)
    expect(at921600).toBeLessThanOrEqual(92_160 * 1.01)
    expect(at921600).toBeGreaterThan(92_160 * 0.6)
  })

  it('the ROM follows the host\'s rate (autobaud); after CHANGE_BAUDRATE a host left at the old rate reads garbage', async () => {
    const board = newBoard()
    const host = new Host(board)
    board.setHostBaudRate(230_400)
    expect((await sync(host))[0]!.value).toBe(romSyncValue)
    expect(board.baud).toBe(230_400)
    expect((await host.command(changeBaudrateCommand({ chip: board.chip, loader: 'rom' }, 921_600, 230_400))).failure).toBeNull()
    host.send({ name: 'SYNC' })
    await sleep(50)
    expect(board.stats.garbledBytes).toBeGreaterThan(0)
    board.setHostBaudRate(921_600)
    expect(await sync(host)).toHaveLength(8)
  })
})

describe('npm run emulate flags', () => {
  it('reads boards, chip and faults', () => {
    expect(parseEmulateArgs(['--boards', '2', '--chip', 'esp32c3', '--dir', '/tmp/x', '--unpaced', '--fault', 'silent@1'])).toMatchObject({
      boards: 2,
      chip: 'ESP32-C3',
      dir: '/tmp/x',
      paced: false,
      faults: [{ board: 1, fault: { kind: 'silent' } }],
    })
    expect(parseFaultSpec('corrupt-frames=0.1')).toEqual({ board: -1, fault: { kind: 'corrupt-frames', probability: 0.1 } })
    expect(parseFaultSpec('unplug=65536@0')).toEqual({ board: 0, fault: { kind: 'unplug', afterFlashBytes: 65536 } })
    expect(parseEmulateArgs(['--flash-size', '16MB']).flashSize).toBe(16 << 20)
  })

  it('refuses what it cannot do, saying why', () => {
    expect(() => parseEmulateArgs(['--fault', 'silent@2'])).toThrow(/only 1 boards/)
    expect(() => parseEmulateArgs(['--chip', 'esp8266'])).toThrow(UsageError)
    expect(() => parseEmulateArgs(['--flash-size', '3MB'])).toThrow(/JEDEC/)
    expect(() => parseFaultSpec('brownout')).toThrow(/not silent/)
  })
})
