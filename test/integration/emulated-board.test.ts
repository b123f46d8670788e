// The emulated board against independent hosts: Espressif's esptool-js (detect, stub, compressed write,
// its own MD5 check) over a socat pseudo-terminal and over the in-process serialport binding, node
// serialport on the pty for the line's pacing and an unplugged board, and serialport's own stream class
// driving the DTR/RTS auto-reset circuit, which a pty cannot carry.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SerialPortStream } from '@serialport/stream'
import { ESPLoader, Transport, type IEspLoaderTerminal } from 'esptool-js'
import { SerialPort } from 'serialport'
import { afterEach, describe, expect, it } from 'vitest'
import {
  changeBaudrateCommand,
  classicReset,
  commandOpcodes,
  decodeResponse,
  encodeCommandFrame,
  encodeReadFlashAck,
  hardReset,
  isStubGreeting,
  parseBootMessage,
  planRamDownload,
  readFlashCommand,
  romSyncValue,
  slipEncode,
  SlipDecoder,
  type LoaderCommand,
} from '../../shared/domain/rom-bootloader'
import { EmulatedBoard } from '../../simulator/rom-bootloader/emulated-board'
import { EmulatedBoardBinding } from '../../simulator/rom-bootloader/in-process-binding'
import { haveSocat, startBoardOnPty, startEmulatedBoards, type PtyBoard } from '../../simulator/rom-bootloader/pty'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'esp-boards-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function track(board: EmulatedBoard): EmulatedBoard {
  cleanups.push(() => board.close())
  return board
}

async function onPty(board: EmulatedBoard): Promise<PtyBoard> {
  const pty = await startBoardOnPty(track(board), { dir: tempDir(), name: 'ttyESP0' })
  cleanups.push(() => pty.stop())
  return pty
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

type NodePort = SerialPort | SerialPortStream

/**
 * The part of the Web Serial SerialPort that esptool-js's Transport uses, over a node-serialport port.
 * Signals are tracked and always sent together, because Web Serial leaves a signal it is not given alone
 * while node-serialport's set() asserts it. A pty refuses them ("Inappropriate ioctl for device"): that is
 * recorded and ignored, as esptool does on ports without the lines.
 */
class WebSerialAdapter {
  readable: ReadableStream<Uint8Array> | null = null
  writable: WritableStream<Uint8Array> | null = null
  readonly refusedSignals: string[] = []
  private port: NodePort | null = null
  private lines = { dtr: false, rts: false }

  constructor(private readonly openPort: (baudRate: number) => NodePort) {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {}
  }

  async open(options: { baudRate: number }): Promise<void> {
    const port = this.openPort(options.baudRate)
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())))
    this.port = port
    let closed = false
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        port.on('data', (chunk: Buffer) => {
          if (!closed) controller.enqueue(new Uint8Array(chunk))
        })
        port.on('close', () => {
          if (closed) return
          closed = true
          controller.close()
        })
      },
      cancel: () => {
        closed = true
      },
    })
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => port.write(Buffer.from(chunk), (error) => (error ? reject(error) : port.drain(() => resolve())))),
    })
  }

  async setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.lines.dtr = signals.dataTerminalReady
    if (signals.requestToSend !== undefined) this.lines.rts = signals.requestToSend
    const port = this.port
    if (!port) return
    try {
      await new Promise<void>((resolve, reject) => port.set({ ...this.lines }, (error) => (error ? reject(error) : resolve())))
    } catch (error) {
      this.refusedSignals.push((error as Error).message)
    }
  }

  /** esptool-js changes the baud rate in place when the port offers this (BaudRateConfigurablePort). */
  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port
    if (!port) throw new Error('not open')
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, (error) => (error ? reject(error) : resolve())))
  }

  async close(): Promise<void> {
    const port = this.port
    this.port = null
    this.readable = null
    this.writable = null
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()))
  }
}

class Terminal implements IEspLoaderTerminal {
  readonly lines: string[] = []
  private current = ''
  clean(): void {}
  write(data: string): void {
    this.current += data
  }
  writeLine(data: string): void {
    this.lines.push(this.current + data)
    this.current = ''
  }
}

/** esptool-js's own flow: connect (reset, sync, detect), stub, baud change, flash id, compressed write with its MD5 check. */
async function flashWithEsptoolJs(adapter: WebSerialAdapter, image: Uint8Array, address: number): Promise<{ chip: string; terminal: Terminal; writeSeconds: number }> {
  const transport = new Transport(adapter as unknown as ConstructorParameters<typeof Transport>[0])
  // Transport.trace logs "readLoop exited" and the like to the console whatever `tracing` says.
  transport.trace = () => {}
  const terminal = new Terminal()
  const loader = new ESPLoader({ transport, baudrate: 921_600, romBaudrate: 115_200, terminal })
  cleanups.push(() => transport.disconnect().catch(() => {}))
  const chip = await loader.main()
  const started = performance.now()
  await loader.writeFlash({
    fileArray: [{ data: image, address }],
    flashMode: 'keep',
    flashFreq: 'keep',
    flashSize: 'keep',
    eraseAll: false,
    compress: true,
    calculateMD5Hash: (bytes) => md5(bytes),
  })
  const writeSeconds = (performance.now() - started) / 1000
  return { chip, terminal, writeSeconds }
}

/** A minimal host on a node-serialport port: SLIP frames in order, boot-log text beside them. */
class FrameReader {
  readonly frames: Uint8Array[] = []
  noise = ''
  closeError: (Error & { disconnected?: boolean }) | null | undefined = undefined
  private readonly decoder = new SlipDecoder()
  private read = 0

  constructor(readonly port: NodePort) {
    port.on('data', (chunk: Buffer) => {
      for (const event of this.decoder.push(chunk)) {
        if (event.kind === 'frame') this.frames.push(event.payload)
        else if (event.kind === 'noise') this.noise += String.fromCharCode(...event.bytes)
      }
    })
    port.on('close', (error: (Error & { disconnected?: boolean }) | null) => {
      this.closeError = error
    })
    port.on('error', () => {})
  }

  write(bytes: Uint8Array): void {
    this.port.write(Buffer.from(bytes))
  }

  send(command: LoaderCommand): void {
    const encoded = encodeCommandFrame(command)
    if (!encoded.ok) throw new Error(encoded.detail)
    this.write(encoded.packet)
  }

  async next(timeoutMs = 3000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs
    while (this.read >= this.frames.length) {
      if (Date.now() > deadline) throw new Error(`no frame within ${timeoutMs} ms`)
      await sleep(1)
    }
    return this.frames[this.read++]!
  }

  async until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
      await sleep(5)
    }
  }

  async command(command: LoaderCommand): Promise<void> {
    this.send(command)
    for (;;) {
      const reply = decodeResponse(await this.next())
      if (reply.ok && reply.response.command === commandOpcodes[command.name]) {
        if (reply.response.failure) throw new Error(`${command.name}: ${reply.response.failure.message}`)
        return
      }
    }
  }
}

function openNodePort(path: string, baudRate = 115_200): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false })
    port.open((error) => (error ? reject(error) : resolve(port)))
  })
}

function closePort(port: NodePort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()))
}

describe.skipIf(!haveSocat())('emulated boards on socat pseudo-terminals (skipped: needs /usr/bin/socat, apt-get install socat)', () => {
  it('esptool-js detects the chip and MAC, runs its stub at 921600 baud and writes a 200 KB image that lands in flash', { timeout: 60_000 }, async () => {
    const board = new EmulatedBoard({ chip: 'ESP32-S3', mac: '7c:df:a1:0a:0b:0c' })
    const pty = await onPty(board)
    const adapter = new WebSerialAdapter((baudRate) => new SerialPort({ path: pty.path, baudRate, autoOpen: false }))
    const image = randomBytes(200 * 1024)

    const { chip, terminal, writeSeconds } = await flashWithEsptoolJs(adapter, image, 0x10000)

    expect(chip).toMatch(/^ESP32-S3/)
    expect(terminal.lines).toContain('MAC: 7c:df:a1:0a:0b:0c')
    expect(terminal.lines).toContain('Stub running...')
    expect(terminal.lines).toContain('Flash ID: 1640ef')
    expect(terminal.lines).toContain('Hash of data verified.')
    // A pty cannot carry DTR/RTS; esptool-js's reset attempts were refused and it synced all the same.
    expect(adapter.refusedSignals.length).toBeGreaterThan(0)
    expect(board).toMatchObject({ loader: 'stub', baud: 921_600 })
    expect(Buffer.from(board.flash.subarray(0x10000, 0x10000 + image.length)).equals(image)).toBe(true)
    expect(board.flash.subarray(0x10000 + image.length, 0x10000 + image.length + 0x1000).every((byte) => byte === 0xff)).toBe(true)
    // Random data does not compress: about 200 KB crossed a line paced at 92 160 bytes a second.
    expect(writeSeconds).toBeGreaterThan((board.stats.flashBytesReceived / 92_160) * 0.9)
  })

  it('paces both directions at baud / 10 bytes a second, at 115200 and after CHANGE_BAUDRATE at 921600', { timeout: 30_000 }, async () => {
    const board = new EmulatedBoard()
    const pty = await onPty(board)
    const port = await openNodePort(pty.path)
    cleanups.push(() => closePort(port))
    const host = new FrameReader(port)
    const stub = planRamDownload(new Uint8Array(0x100), 0x40380000)
    await host.command(stub.begin)
    await host.command(stub.packets[0]!)
    await host.command({ name: 'MEM_END', stayInLoader: false, entrypoint: 0x40380000 })
    expect(isStubGreeting(await host.next())).toBe(true)

    const readRate = async (length: number): Promise<number> => {
      // Timed from the request: a host that stalled after the reply would otherwise see a backlog as speed.
      const started = performance.now()
      await host.command(readFlashCommand(0, length, 0x1000, 1024))
      let total = 0
      while (total < length) {
        total += (await host.next(5000)).length
        host.write(slipEncode(encodeReadFlashAck(total)))
      }
      const rate = total / ((performance.now() - started) / 1000)
      await host.next() // the MD5
      return rate
    }
    const writeRate = async (blocks: number): Promise<number> => {
      await host.command({ name: 'FLASH_BEGIN', eraseSize: blocks * 0x4000, packetCount: blocks, packetSize: 0x4000, offset: 0x100000 })
      const started = performance.now()
      for (let sequence = 0; sequence < blocks; sequence++) await host.command({ name: 'FLASH_DATA', sequence, data: randomBytes(0x4000) })
      // Each block is 16 bytes of prefix and 8 of header on top of its data; the replies cross the other way.
      return (blocks * (0x4000 + 24)) / ((performance.now() - started) / 1000)
    }

    const down115200 = await readRate(11_520)
    const up115200 = await writeRate(1)
    await host.command(changeBaudrateCommand({ chip: board.chip, loader: 'stub' }, 921_600, 115_200))
    await host.until(() => board.baud === 921_600)
    const down921600 = await readRate(92_160)
    const up921600 = await writeRate(6)

    for (const [rate, baud] of [
      [down115200, 115_200],
      [up115200, 115_200],
      [down921600, 921_600],
      [up921600, 921_600],
    ] as const) {
      // Slower only when the machine is busy; never faster.
      expect(rate).toBeLessThanOrEqual((baud / 10) * 1.01)
      expect(rate).toBeGreaterThan((baud / 10) * 0.6)
    }
  })

  it('an unplugged board vanishes mid-write: the host\'s port closes as disconnected and the device link is gone', async () => {
    const board = new EmulatedBoard({ paced: false, faults: [{ kind: 'unplug', afterFlashBytes: 0x800 }] })
    const pty = await onPty(board)
    const port = await openNodePort(pty.path)
    cleanups.push(() => closePort(port))
    const host = new FrameReader(port)
    await host.command({ name: 'FLASH_BEGIN', eraseSize: 0x1000, packetCount: 4, packetSize: 0x400, offset: 0 })
    await host.command({ name: 'FLASH_DATA', sequence: 0, data: new Uint8Array(0x400) })
    await host.command({ name: 'FLASH_DATA', sequence: 1, data: new Uint8Array(0x400) })
    host.send({ name: 'FLASH_DATA', sequence: 2, data: new Uint8Array(0x400) })
    await host.until(() => host.closeError !== undefined)
    expect(host.closeError?.disconnected).toBe(true)
    expect(board.mode).toBe('unplugged')
    expect(existsSync(pty.path)).toBe(false)
  })

  it('starts several boards, each with its own device and MAC, and stop() kills socat and removes the links', async () => {
    const dir = tempDir()
    const started = await startEmulatedBoards({ count: 2, chip: 'ESP32-C3', dir, paced: false })
    cleanups.push(() => started.stop())
    expect(started.boards.map((entry) => entry.path)).toEqual([join(dir, 'ttyESP0'), join(dir, 'ttyESP1')])
    expect(new Set(started.boards.map((entry) => entry.board.macAddress)).size).toBe(2)
    for (const { path } of started.boards) {
      const port = await openNodePort(path)
      const host = new FrameReader(port)
      host.send({ name: 'SYNC' })
      const reply = decodeResponse(await host.next())
      expect(reply.ok && reply.response.value).toBe(romSyncValue)
      await closePort(port)
    }
    await started.stop()
    expect(started.boards.some((entry) => existsSync(entry.path) || existsSync(`${entry.path}-board`))).toBe(false)
  })
})

describe('emulated boards through the in-process serialport binding (DTR/RTS reach the board)', () => {
  function register(board: EmulatedBoard, path = '/dev/ttyEMU0'): EmulatedBoardBinding {
    const binding = new EmulatedBoardBinding()
    cleanups.push(binding.register(path, track(board)))
    return binding
  }

  function openStream(binding: EmulatedBoardBinding, path = '/dev/ttyEMU0'): Promise<SerialPortStream> {
    return new Promise((resolve, reject) => {
      const port = new SerialPortStream({ binding, path, baudRate: 115_200, autoOpen: false })
      port.open((error) => (error ? reject(error) : resolve(port)))
      cleanups.push(() => closePort(port))
    })
  }

  async function applySequence(port: SerialPortStream, steps: readonly { dtr: boolean; rts: boolean; delayMs: number }[]): Promise<void> {
    for (const step of steps) {
      await new Promise<void>((resolve, reject) => port.set({ dtr: step.dtr, rts: step.rts }, (error) => (error ? reject(error) : resolve())))
      if (step.delayMs > 0) await sleep(step.delayMs)
    }
  }

  it('the classic DTR/RTS reset puts a board running its app into the download mode; a hard reset boots the app again', async () => {
    const board = new EmulatedBoard({ startIn: 'app' })
    const binding = register(board)
    expect(await binding.list()).toMatchObject([{ path: '/dev/ttyEMU0', vendorId: '10c4', productId: 'ea60' }])
    const port = await openStream(binding)
    const host = new FrameReader(port)
    expect(board.mode).toBe('app')
    host.send({ name: 'SYNC' })
    await sleep(100)
    expect(host.frames).toHaveLength(0)

    await applySequence(port, classicReset().steps)
    await host.until(() => /waiting for download/.test(host.noise))
    expect(parseBootMessage(host.noise)).toMatchObject({ waitingForDownload: true, resetCause: { name: 'POWERON' } })
    host.send({ name: 'SYNC' })
    const reply = decodeResponse(await host.next())
    expect(reply.ok && reply.response.value).toBe(romSyncValue)

    await applySequence(port, hardReset().steps)
    await host.until(() => board.mode === 'app')
    expect(board.stats.resets).toBe(2)
  })

  it('esptool-js resets the board from its app through DTR/RTS and flashes it at 921600 baud', { timeout: 60_000 }, async () => {
    const board = new EmulatedBoard({ chip: 'ESP32-C3', startIn: 'app' })
    const binding = register(board)
    const adapter = new WebSerialAdapter((baudRate) => new SerialPortStream({ binding, path: '/dev/ttyEMU0', baudRate, autoOpen: false }))
    const image = randomBytes(64 * 1024)

    const { chip, terminal } = await flashWithEsptoolJs(adapter, image, 0x10000)

    expect(chip).toMatch(/^ESP32-C3/)
    expect(adapter.refusedSignals).toEqual([])
    expect(board.stats.boots.download).toBeGreaterThanOrEqual(1)
    expect(terminal.lines).toContain('Hash of data verified.')
    expect(Buffer.from(board.flash.subarray(0x10000, 0x10000 + image.length)).equals(image)).toBe(true)
    // The host changed its rate with the board: nothing was garbled on the way.
    expect(board.stats.garbledBytes).toBe(0)
  })

  it.each(['ESP32', 'ESP32-S2', 'ESP32-C2', 'ESP32-C6', 'ESP32-H2'] as const)('esptool-js detects and flashes an unpaced %s', { timeout: 30_000 }, async (chip) => {
    const board = new EmulatedBoard({ chip, paced: false })
    const binding = register(board)
    const adapter = new WebSerialAdapter((baudRate) => new SerialPortStream({ binding, path: '/dev/ttyEMU0', baudRate, autoOpen: false }))
    const image = randomBytes(40 * 1024)
    const { chip: detected, terminal } = await flashWithEsptoolJs(adapter, image, 0x10000)
    expect(detected.startsWith(chip)).toBe(true)
    expect(terminal.lines).toContain(`MAC: ${board.macAddress}`)
    expect(terminal.lines).not.toContain('WARNING: Unsupported crystal in use')
    expect(Buffer.from(board.flash.subarray(0x10000, 0x10000 + image.length)).equals(image)).toBe(true)
  })

  it('an unplugged board closes the open port as disconnected and cannot be opened again', async () => {
    const board = new EmulatedBoard({ paced: false })
    const binding = register(board)
    const port = await openStream(binding)
    const host = new FrameReader(port)
    board.unplug()
    await host.until(() => host.closeError !== undefined)
    expect(host.closeError?.disconnected).toBe(true)
    await expect(openStream(binding)).rejects.toThrow(/No such file/)
  })
})
