// An ESP32-family board as seen from its USB-UART bridge: the mask ROM's serial bootloader, esptool's
// flasher stub once one is uploaded, the auto-reset transistors on DTR/RTS, SPI flash that really holds
// what was written, and a line that moves bytes no faster than the baud rate. It speaks to whatever
// carries its bytes (a socat pty in pty.ts, node-serialport in in-process-binding.ts, a test directly)
// and takes every packet shape and constant from shared/domain/rom-bootloader, so the console's flasher
// and this board read the protocol document the same way; where they disagree, one of them is wrong
// in a way a test can show.

import { createHash, type Hash } from 'node:crypto'
import {
  chipDetectMagicRegAddr,
  chips,
  detectedFlashSizes,
  encodeSecurityInfo,
  flashSectorSize,
  formatMacAddress,
  spiFlashRdid,
  statusLengthFor,
  type ChipDefinition,
  type ChipName,
  type LoaderKind,
  type LoaderTarget,
} from '../../shared/domain/rom-bootloader/chips'
import {
  encodeFlashMd5,
  eraseRegionProblem,
  parseCommand,
  parseReadFlashAck,
  stubGreeting,
  syncResponses,
  type LoaderCommand,
} from '../../shared/domain/rom-bootloader/commands'
import {
  commandNameOf,
  decodeRequest,
  describeOpcode,
  encodeResponse,
  romErrorCodes,
  romFailure,
  statusSuccess,
  stubErrorCodes,
  stubFailure,
  stubOnlyCommands,
  type CommandName,
  type ResponseStatus,
} from '../../shared/domain/rom-bootloader/packets'
import { autoResetPins, type ControlLines } from '../../shared/domain/rom-bootloader/reset'
import { SlipDecoder, slipEncode } from '../../shared/domain/rom-bootloader/slip'
import { createRandom, type Random } from '../fleet/random'
import { downloadModeBootLog, flashBootLog, type ResetCause } from './boot-messages'
import { StreamingInflater } from './inflater'
import { UartLine } from './uart-line'

export type { ResetCause } from './boot-messages'

/** Faults a board shows on demand, so the console's error paths can be exercised on the bench. */
export type BoardFault =
  /** The chip is wedged: nothing comes out and nothing is read until EN is pulsed with GPIO0 low. */
  | { readonly kind: 'silent' }
  /** Each SLIP frame the board sends has one bit flipped with this probability (a noisy cable). */
  | { readonly kind: 'corrupt-frames'; readonly probability: number }
  /** After this many bytes of FLASH_DATA / FLASH_DEFL_DATA payload the board is gone (a USB plug pulled mid-write). */
  | { readonly kind: 'unplug'; readonly afterFlashBytes: number }
  /** The eFuses say flash encryption is on (GET_SECURITY_INFO's flash_crypt_cnt, FLASH_CRYPT_CNT on ESP32). */
  | { readonly kind: 'flash-encryption' }

export type BoardFaultKind = BoardFault['kind']

export type BoardMode = 'download' | 'app' | 'held-in-reset' | 'unplugged' | 'closed'

export interface EmulatedBoardOptions {
  /** Default ESP32-S3. A "wrong chip" for the console to catch is simply another chip here. */
  readonly chip?: ChipName
  /** Factory MAC ("7c:df:a1:12:34:56" or 6 bytes); derived from `seed` when absent. */
  readonly mac?: string | Uint8Array
  /** Seeds the MAC and every random choice (which frames a fault corrupts), so runs repeat. Default 1. */
  readonly seed?: number
  /** Bytes of SPI flash; one of the sizes a JEDEC id can state. Default 4 MiB. */
  readonly flashSize?: number
  /** The rate the ROM comes up at after a reset: 115200 on every ESP32-family chip. */
  readonly baud?: number
  /** Move bytes no faster than baud / 10 a second each way. Default true. */
  readonly paced?: boolean
  /** Where the board is when it is "plugged in": the ROM download mode or its app. Default 'download'. */
  readonly startIn?: 'download' | 'app'
  readonly faults?: readonly BoardFault[]
}

export type BoardEvent =
  | { readonly kind: 'boot'; readonly mode: 'download' | 'app'; readonly cause: ResetCause }
  | { readonly kind: 'held-in-reset' }
  | { readonly kind: 'stub-running' }
  | { readonly kind: 'baud-changed'; readonly baud: number; readonly by: 'CHANGE_BAUDRATE' | 'autobaud' }
  | { readonly kind: 'flash-begin'; readonly offset: number; readonly size: number; readonly compressed: boolean }
  | { readonly kind: 'flash-end'; readonly offset: number; readonly bytesWritten: number }
  | { readonly kind: 'erased'; readonly offset: number; readonly size: number }
  | { readonly kind: 'refused'; readonly command: string; readonly status: ResponseStatus; readonly detail: string }
  | { readonly kind: 'fault'; readonly fault: BoardFault }
  | { readonly kind: 'unplugged'; readonly flashBytesReceived: number }

export interface EmulatedBoardStats {
  /** Bytes the host wrote to the board, and bytes that reached the host. */
  readonly bytesFromHost: number
  readonly bytesToHost: number
  /** Request packets decoded, by command name. */
  readonly commands: number
  readonly commandCounts: Readonly<Partial<Record<CommandName, number>>>
  /** Requests answered with a failure status. */
  readonly refused: number
  readonly checksumErrors: number
  readonly sequenceErrors: number
  /** *_DATA packets that repeated the last sequence number (a host retrying after a lost reply): acknowledged, not rewritten. */
  readonly repeatedBlocks: number
  /** FLASH_DATA / FLASH_DEFL_DATA payload bytes received (compressed bytes for a compressed write). */
  readonly flashBytesReceived: number
  /** Bytes programmed into flash. */
  readonly flashBytesWritten: number
  readonly corruptedFrames: number
  /** Bytes turned to garbage because the host's baud rate differed from the chip's. */
  readonly garbledBytes: number
  /** Times EN was pulled low. */
  readonly resets: number
  readonly boots: { readonly download: number; readonly app: number }
}

/** Every ESP32-family ROM starts its UART at this rate (serial-protocol.rst, "Initial Synchronisation"). */
export const romBootBaud = 115200
export const defaultFlashSize = 4 << 20
/** Espressif's OUI, as esptool prints it from real boards ("MAC: 7c:df:a1:…"). */
const espressifOui = [0x7c, 0xdf, 0xa1] as const
/** Winbond W25Q-series JEDEC manufacturer and memory type: the flash on most Espressif modules. */
const flashManufacturer = 0xef
const flashMemoryType = 0x40
/** esptool run_spiflash_command: the SPI_CMD_REG bit that starts a user command and clears when it is done. */
const spiCmdUsr = 1 << 18
/**
 * EN rises through an RC, so the chip samples GPIO0 a moment after the bridge released EN (reset.ts's
 * bootAfterReset uses the same 2 ms). esptool's classic reset relies on it: DTR goes low a few
 * microseconds after RTS releases EN.
 */
const strapSampleDelayMs = 2
/**
 * UART0's clock divider, where esptool reads it to tell a 40 MHz crystal from a 26 MHz one (esptool
 * UART_CLKDIV_REG, used for the ESP32 and ESP32-C2): the ROM divides the crystal down to the baud rate,
 * so crystal = baud × divider. These boards have 40 MHz crystals.
 */
const uart0ClockDividerRegister: Partial<Record<ChipName, number>> = { ESP32: 0x3ff40014, 'ESP32-C2': 0x60000014 }
const crystalHz = 40_000_000
/** The stub's reply to a command it does not know (stub_flasher.h ESP_CMD_NOT_IMPLEMENTED). */
const stubUnknownCommand = stubErrorCodes.CMD_NOT_IMPLEMENTED

interface FlashSession {
  readonly compressed: boolean
  readonly offset: number
  /** FLASH_BEGIN's erase size or FLASH_DEFL_BEGIN's uncompressed size. */
  readonly size: number
  readonly packetSize: number
  nextSequence: number
  /** Next flash address to program. */
  writeAt: number
  written: number
  /** The stub erases sector by sector just ahead of what it writes; the ROM erased everything at BEGIN. */
  erasedTo: number
  readonly inflater: StreamingInflater | null
}

interface RamSession {
  readonly packetSize: number
  nextSequence: number
}

interface ReadFlashSession {
  readonly offset: number
  readonly length: number
  readonly packetSize: number
  readonly maxInFlight: number
  sent: number
  packetsSent: number
  acked: number
  readonly hash: Hash
}

type MutableStats = { -readonly [K in keyof EmulatedBoardStats]: EmulatedBoardStats[K] } & {
  commandCounts: Partial<Record<CommandName, number>>
  boots: { download: number; app: number }
}

export class EmulatedBoard {
  readonly chip: ChipDefinition
  readonly mac: Uint8Array
  /** The SPI flash: erased bytes are 0xFF; tests may read and write it directly. */
  readonly flash: Uint8Array
  /** What the RDID (0x9F) command answers: manufacturer, memory type, capacity, low byte first. */
  readonly flashId: number

  private readonly line: UartLine
  private readonly decoder = new SlipDecoder()
  private readonly outputListeners = new Set<(bytes: Uint8Array) => void>()
  private readonly eventListeners = new Set<(event: BoardEvent) => void>()
  private readonly random: Random
  private readonly bootBaud: number
  private state: BoardMode = 'held-in-reset'
  private loaderKind: LoaderKind = 'rom'
  private lines: ControlLines = { dtr: false, rts: false }
  private strapTimer: NodeJS.Timeout | null = null
  private hostBaud: number | null = null
  /** The ROM follows the host's rate (it measures SYNC's 0x55s) until CHANGE_BAUDRATE sets one. */
  private baudLocked = false
  /** Bumped by every reset so work queued before it is dropped rather than answered by the new boot. */
  private epoch = 0
  private work: Promise<void> = Promise.resolve()
  private registers = new Map<number, number>()
  /** SPI_SET_PARAMS's total size: the loader refuses writes past it even where more flash exists. */
  private declaredFlashSize: number
  private flashSession: FlashSession | null = null
  private ramSession: RamSession | null = null
  private readFlash: ReadFlashSession | null = null
  private silent = false
  private corruptProbability = 0
  private unplugAfterBytes: number | null = null
  private flashEncryption = false
  private readonly counters: MutableStats = {
    bytesFromHost: 0,
    bytesToHost: 0,
    commands: 0,
    commandCounts: {},
    refused: 0,
    checksumErrors: 0,
    sequenceErrors: 0,
    repeatedBlocks: 0,
    flashBytesReceived: 0,
    flashBytesWritten: 0,
    corruptedFrames: 0,
    garbledBytes: 0,
    resets: 0,
    boots: { download: 0, app: 0 },
  }

  constructor(options: EmulatedBoardOptions = {}) {
    this.chip = chips[options.chip ?? 'ESP32-S3']
    if (!this.chip) throw new RangeError(`Unknown chip ${String(options.chip)}.`)
    const seed = options.seed ?? 1
    this.random = createRandom(seed).fork('line')
    this.mac = options.mac === undefined ? macFromSeed(seed) : parseMac(options.mac)
    const flashSize = options.flashSize ?? defaultFlashSize
    this.flashId = flashIdFor(flashSize)
    this.flash = new Uint8Array(flashSize).fill(0xff)
    this.declaredFlashSize = flashSize
    this.bootBaud = options.baud ?? romBootBaud
    if (!Number.isInteger(this.bootBaud) || this.bootBaud <= 0) throw new RangeError(`Baud rate ${this.bootBaud} is not a positive integer.`)
    this.line = new UartLine({
      baud: this.bootBaud,
      paced: options.paced ?? true,
      toBoard: (bytes) => this.rxPin(bytes),
      toHost: (bytes) => this.hostRxPin(bytes),
    })
    // Plugged in with GPIO0 held as asked: the power-on boot message is the first thing on the line.
    this.boot(options.startIn ?? 'download', 'power-on')
    for (const fault of options.faults ?? []) this.inject(fault)
  }

  get mode(): BoardMode {
    return this.state
  }

  /** Which loader answers: the mask ROM, or the flasher stub after MEM_END started it. */
  get loader(): LoaderKind {
    return this.loaderKind
  }

  /** The chip's UART rate now. */
  get baud(): number {
    return this.line.baud
  }

  get macAddress(): string {
    return formatMacAddress(this.mac)
  }

  get controlLines(): ControlLines {
    return this.lines
  }

  get stats(): EmulatedBoardStats {
    return { ...this.counters, commandCounts: { ...this.counters.commandCounts }, boots: { ...this.counters.boots } }
  }

  /** Bytes from the host, in any split; they reach the chip at the line rate. */
  receive(bytes: Uint8Array): void {
    if (this.state === 'unplugged' || this.state === 'closed' || bytes.length === 0) return
    this.counters.bytesFromHost += bytes.length
    this.line.toBoard.push(bytes.slice())
  }

  /** Bytes for the host. Returns an unsubscribe function. */
  onOutput(listener: (bytes: Uint8Array) => void): () => void {
    this.outputListeners.add(listener)
    return () => this.outputListeners.delete(listener)
  }

  onEvent(listener: (event: BoardEvent) => void): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  /**
   * The bridge's DTR and RTS (true = asserted, pin low), through the dev board's two-transistor auto-reset
   * circuit: EN low holds the chip in reset; when EN rises the chip boots into the download mode if GPIO0
   * is low then, into its app if not. A pty cannot carry these lines; the in-process binding does.
   */
  setControlLines(lines: Partial<ControlLines>): void {
    if (this.state === 'unplugged' || this.state === 'closed') return
    const next: ControlLines = { dtr: lines.dtr ?? this.lines.dtr, rts: lines.rts ?? this.lines.rts }
    const before = autoResetPins(this.lines)
    const after = autoResetPins(next)
    this.lines = next
    if (before.en && !after.en) this.holdInReset()
    else if (!before.en && after.en) this.scheduleStrapSample()
  }

  /**
   * The host side's baud rate, where the transport knows it (the in-process binding does, a pty does not).
   * A mismatch garbles bytes both ways, except that the ROM follows the host until CHANGE_BAUDRATE.
   */
  setHostBaudRate(baud: number | null): void {
    this.hostBaud = baud
  }

  inject(fault: BoardFault): void {
    switch (fault.kind) {
      case 'silent':
        this.silent = true
        break
      case 'corrupt-frames':
        if (!(fault.probability >= 0 && fault.probability <= 1)) throw new RangeError(`corrupt-frames probability ${fault.probability} is not between 0 and 1.`)
        this.corruptProbability = fault.probability
        break
      case 'unplug':
        if (!(Number.isInteger(fault.afterFlashBytes) && fault.afterFlashBytes >= 0)) {
          throw new RangeError(`unplug needs a whole number of bytes, not ${fault.afterFlashBytes}.`)
        }
        this.unplugAfterBytes = this.counters.flashBytesReceived + fault.afterFlashBytes
        break
      case 'flash-encryption':
        this.flashEncryption = true
        break
    }
    this.emit({ kind: 'fault', fault })
  }

  clearFaults(): void {
    this.silent = false
    this.corruptProbability = 0
    this.unplugAfterBytes = null
    this.flashEncryption = false
  }

  /** The USB cable is pulled: nothing more in or out, ever. Transports close their port on the event. */
  unplug(): void {
    if (this.state === 'unplugged' || this.state === 'closed') return
    this.abortWork()
    this.state = 'unplugged'
    this.line.close()
    this.emit({ kind: 'unplugged', flashBytesReceived: this.counters.flashBytesReceived })
  }

  close(): void {
    if (this.state === 'closed') return
    this.abortWork()
    this.state = 'closed'
    this.line.close()
    if (this.strapTimer) clearTimeout(this.strapTimer)
    this.strapTimer = null
    this.outputListeners.clear()
    this.eventListeners.clear()
  }

  // -------------------------------------------------------------------------------------------------------
  // Reset and boot

  private holdInReset(): void {
    if (this.strapTimer) clearTimeout(this.strapTimer)
    this.strapTimer = null
    this.abortWork()
    // A chip in reset drives nothing and reads nothing; bytes in the bridge's FIFOs are lost with it.
    this.line.toBoard.clear()
    this.line.toHost.clear()
    this.state = 'held-in-reset'
    this.counters.resets++
    this.emit({ kind: 'held-in-reset' })
  }

  private scheduleStrapSample(): void {
    if (this.strapTimer) clearTimeout(this.strapTimer)
    this.strapTimer = setTimeout(() => {
      this.strapTimer = null
      const pins = autoResetPins(this.lines)
      if (!pins.en) return
      if (!pins.io0) this.silent = false // a wedged chip comes back with a reset into the download mode
      this.boot(pins.io0 ? 'app' : 'download', 'power-on')
    }, strapSampleDelayMs)
  }

  /** What a software reset (FLASH_END 0, the stub's reboot) boots into: the strapping pin decides again. */
  private rebootAfterReply(): void {
    this.line.toHost.pushAction(() => {
      if (this.state !== 'download') return
      this.boot(autoResetPins(this.lines).io0 ? 'app' : 'download', 'software')
    })
  }

  private boot(mode: 'download' | 'app', cause: ResetCause): void {
    this.abortWork()
    this.line.toBoard.clear()
    this.loaderKind = 'rom'
    this.line.baud = this.bootBaud
    this.baudLocked = false
    this.registers = new Map()
    this.declaredFlashSize = this.flash.length
    this.state = mode
    this.counters.boots[mode]++
    this.emit({ kind: 'boot', mode, cause })
    const text = mode === 'download' ? downloadModeBootLog(this.chip.name, cause) : flashBootLog(this.chip.name, cause, this.flash, sha256)
    this.transmit(Uint8Array.from(text, (c) => c.charCodeAt(0)))
  }

  private abortWork(): void {
    this.epoch++
    this.decoder.reset()
    this.flashSession?.inflater?.close()
    this.flashSession = null
    this.ramSession = null
    this.readFlash = null
  }

  // -------------------------------------------------------------------------------------------------------
  // The UART

  /** Bytes that crossed the line to the chip. */
  private rxPin(bytes: Uint8Array): void {
    if (this.state !== 'download' || this.silent) return
    if (this.loaderKind === 'rom' && !this.baudLocked && this.hostBaud !== null && this.hostBaud !== this.line.baud) {
      // "The sync packets can be sent at any baud rate, and the UART peripheral will detect this."
      this.line.baud = this.hostBaud
      this.emit({ kind: 'baud-changed', baud: this.hostBaud, by: 'autobaud' })
    }
    const received = this.garbleIfMismatched(bytes)
    for (const event of this.decoder.push(received)) {
      if (event.kind === 'frame') this.enqueue(event.payload)
      // Noise and broken frames are dropped, as the ROM's SLIP reader drops them.
    }
  }

  /** Bytes that crossed the line to the host. */
  private hostRxPin(bytes: Uint8Array): void {
    const delivered = this.garbleIfMismatched(bytes)
    this.counters.bytesToHost += delivered.length
    for (const listener of [...this.outputListeners]) listener(delivered)
  }

  private garbleIfMismatched(bytes: Uint8Array): Uint8Array {
    if (this.hostBaud === null || this.hostBaud === this.line.baud) return bytes
    // A receiver sampling at the wrong rate reads framing errors and unrelated bytes.
    this.counters.garbledBytes += bytes.length
    return Uint8Array.from(bytes, () => this.random.int(0, 255))
  }

  private transmit(bytes: Uint8Array): void {
    if (this.silent || (this.state !== 'download' && this.state !== 'app')) return
    this.line.toHost.push(bytes)
  }

  private sendFrame(packet: Uint8Array): void {
    let framed = slipEncode(packet)
    if (this.corruptProbability > 0 && framed.length > 2 && this.random.chance(this.corruptProbability)) {
      framed = framed.slice()
      const at = this.random.int(1, framed.length - 2)
      framed[at] = framed[at]! ^ (1 << this.random.int(0, 7))
      this.counters.corruptedFrames++
    }
    this.transmit(framed)
  }

  private get target(): LoaderTarget {
    return { chip: this.chip, loader: this.loaderKind }
  }

  private respond(command: number, reply: { value?: number; payload?: Uint8Array; status?: ResponseStatus } = {}): void {
    const encoded = encodeResponse({
      command,
      value: (reply.value ?? 0) >>> 0,
      status: reply.status ?? statusSuccess,
      statusLength: statusLengthFor(this.target),
      ...(reply.payload ? { payload: reply.payload } : {}),
    })
    if (encoded.ok) this.sendFrame(encoded.packet)
  }

  /** A failure reply shaped for the loader that is running: ROM status 1 and its code, or the stub's 0xC* code. */
  private refuse(command: number, romCode: number, stubCode: number, detail: string): void {
    const status = this.loaderKind === 'stub' ? stubFailure(stubCode) : romFailure(romCode)
    this.counters.refused++
    this.emit({ kind: 'refused', command: describeOpcode(command), status, detail })
    this.respond(command, { status })
  }

  /**
   * A command this loader does not have. The ROM answers "invalid message" (0x05) to it, the stub
   * "not implemented" (0xFF). The reply carries the request's command byte, as every reply does in the
   * protocol document.
   */
  private unsupported(command: number, detail: string): void {
    this.refuse(command, romErrorCodes.INVALID_MESSAGE_FORMAT, stubUnknownCommand, detail)
  }

  private emit(event: BoardEvent): void {
    for (const listener of [...this.eventListeners]) listener(event)
  }

  // -------------------------------------------------------------------------------------------------------
  // Commands

  /** Frames are handled one at a time, in order, like the loader's single command loop. */
  private enqueue(frame: Uint8Array): void {
    const epoch = this.epoch
    this.work = this.work
      .then(() => (epoch === this.epoch ? this.handleFrame(frame, epoch) : undefined))
      .catch((error: unknown) => {
        // A bug in the emulator should fail loudly in tests, not hang the host until its timeout.
        process.emitWarning(`EmulatedBoard: ${(error as Error).stack ?? String(error)}`)
      })
  }

  private async handleFrame(frame: Uint8Array, epoch: number): Promise<void> {
    if (this.readFlash) {
      this.takeReadFlashAck(frame)
      return
    }
    const decoded = decodeRequest(frame)
    if (!decoded.ok) {
      if (decoded.command !== undefined) this.refuse(decoded.command, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.BAD_DATA_LEN, decoded.detail)
      return
    }
    this.counters.commands++
    const opcode = decoded.request.command
    const name = commandNameOf(opcode)
    if (name) this.counters.commandCounts[name] = (this.counters.commandCounts[name] ?? 0) + 1
    const parsed = parseCommand(decoded.request)
    if (!parsed.ok) {
      if (parsed.reason === 'unknown-command') this.unsupported(opcode, parsed.detail)
      else this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.BAD_DATA_LEN, parsed.detail)
      return
    }
    const command = parsed.command
    if (this.loaderKind === 'rom' && stubOnlyCommands.has(command.name)) {
      this.unsupported(opcode, `${command.name} is a stub loader command; the ROM loader does not know it.`)
      return
    }
    if (!parsed.checksumMatches) {
      this.counters.checksumErrors++
      this.refuse(opcode, romErrorCodes.CHECKSUM_ERROR, stubErrorCodes.BAD_DATA_CHECKSUM, `${command.name}: the header checksum does not match the data.`)
      return
    }
    await this.execute(command, opcode, epoch)
  }

  private async execute(command: LoaderCommand, opcode: number, epoch: number): Promise<void> {
    switch (command.name) {
      case 'SYNC':
        for (const reply of syncResponses(this.target)) this.sendFrame(reply)
        return
      case 'READ_REG':
        this.respond(opcode, { value: this.readRegister(command.address) })
        return
      case 'WRITE_REG':
        for (const write of command.writes) this.writeRegister(write.address, write.value, write.mask ?? 0xffffffff)
        this.respond(opcode)
        return
      case 'GET_SECURITY_INFO':
        this.securityInfo(opcode)
        return
      case 'SPI_ATTACH':
        this.respond(opcode)
        return
      case 'SPI_SET_PARAMS':
        if (command.totalSize > 0) this.declaredFlashSize = command.totalSize
        this.respond(opcode)
        return
      case 'CHANGE_BAUDRATE':
        this.changeBaudrate(opcode, command.baud)
        return
      case 'FLASH_BEGIN':
        this.flashBegin(opcode, command.offset, command.eraseSize, command.packetSize, false)
        return
      case 'FLASH_DEFL_BEGIN':
        this.flashBegin(opcode, command.offset, command.writeSize, command.packetSize, true)
        return
      case 'FLASH_DATA':
      case 'FLASH_DEFL_DATA':
        await this.flashData(opcode, command.sequence, command.data, command.name === 'FLASH_DEFL_DATA', epoch)
        return
      case 'FLASH_END':
      case 'FLASH_DEFL_END':
        this.flashEnd(opcode, command.runUserCode)
        return
      case 'SPI_FLASH_MD5':
        this.flashMd5(opcode, command.address, command.size)
        return
      case 'MEM_BEGIN':
        this.ramSession = { packetSize: command.packetSize, nextSequence: 0 }
        this.respond(opcode)
        return
      case 'MEM_DATA':
        this.memData(opcode, command.sequence, command.data)
        return
      case 'MEM_END':
        this.memEnd(opcode, command.stayInLoader)
        return
      case 'READ_FLASH_SLOW':
        this.readFlashSlow(opcode, command.offset, command.length)
        return
      case 'ERASE_FLASH':
        this.erase(0, this.flash.length)
        this.respond(opcode)
        return
      case 'ERASE_REGION':
        this.eraseRegion(opcode, command.offset, command.size)
        return
      case 'READ_FLASH':
        this.startReadFlash(opcode, command)
        return
      case 'RUN_USER_CODE':
        // The stub jumps to the app without a reply (esptool sends this one without waiting).
        this.boot('app', 'software')
        return
    }
  }

  // --- registers -------------------------------------------------------------------------------------------

  private readRegister(address: number): number {
    const mac = this.mac
    if (address === chipDetectMagicRegAddr) return this.chip.magicValues[0]!
    if (address === this.chip.macEfuse.high) return ((mac[0]! << 8) | mac[1]!) >>> 0
    if (address === this.chip.macEfuse.low) return ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0
    // ESP32 has no GET_SECURITY_INFO: esptool reads FLASH_CRYPT_CNT, seven bits at bit 20 of eFuse word 0.
    if (this.chip.name === 'ESP32' && address === 0x3ff5a000 && this.flashEncryption) return 1 << 20
    if (address === uart0ClockDividerRegister[this.chip.name]) return Math.round(crystalHz / this.line.baud) & 0xfffff
    return this.registers.get(address) ?? 0
  }

  private writeRegister(address: number, value: number, mask: number): void {
    const old = this.registers.get(address) ?? 0
    const next = ((old & ~mask) | (value & mask)) >>> 0
    this.registers.set(address, next)
    if (address === this.chip.spi.base && (next & spiCmdUsr) !== 0) this.runSpiUserCommand(next)
  }

  /** The SPI0 user command esptool builds with WRITE_REG (chips.ts spiFlashCommandPlan), run at once. */
  private runSpiUserCommand(cmdRegister: number): void {
    const spi = this.chip.spi
    const flashCommand = (this.registers.get(spi.usr2) ?? 0) & 0xff
    const misoBits = this.registers.has(spi.misoDlen) ? ((this.registers.get(spi.misoDlen)! & 0xffff) + 1) : 32
    let result: number | null = null
    if (flashCommand === spiFlashRdid) result = this.flashId
    // Status registers 1-3: no write in progress, no protection bits.
    else if (flashCommand === 0x05 || flashCommand === 0x35 || flashCommand === 0x15) result = 0
    if (result !== null) this.registers.set(spi.w0, (misoBits >= 32 ? result : result & ((1 << misoBits) - 1)) >>> 0)
    this.registers.set(spi.base, (cmdRegister & ~spiCmdUsr) >>> 0)
  }

  private securityInfo(opcode: number): void {
    if (this.chip.securityInfo === 'unsupported') {
      this.unsupported(opcode, `${this.chip.name} has no GET_SECURITY_INFO.`)
      return
    }
    const withChipId = this.chip.securityInfo === 'with-chip-id'
    const payload = encodeSecurityInfo({
      flags: 0,
      // An odd count of flash_crypt_cnt bits means flash encryption is on.
      flashCryptCnt: this.flashEncryption ? 1 : 0,
      // Key purpose 4 is XTS_AES_128_KEY, what a block holding the flash encryption key carries.
      keyPurposes: this.flashEncryption ? [4, 0, 0, 0, 0, 0, 0] : [0, 0, 0, 0, 0, 0, 0],
      chipId: withChipId ? this.chip.chipId : null,
      ecoVersion: withChipId ? 0 : null,
    })
    this.respond(opcode, { payload })
  }

  private changeBaudrate(opcode: number, baud: number): void {
    if (!(baud > 0 && baud <= 5_000_000)) {
      this.refuse(opcode, romErrorCodes.INVALID_INPUT_PARAMETER, stubErrorCodes.BAD_DATA_LEN, `${baud} is not a baud rate the UART can run.`)
      return
    }
    this.baudLocked = true
    this.respond(opcode)
    // The reply still leaves at the old rate; the UART switches once it is out.
    this.line.toHost.pushAction(() => {
      this.line.baud = baud
      this.emit({ kind: 'baud-changed', baud, by: 'CHANGE_BAUDRATE' })
    })
  }

  // --- flash writes ----------------------------------------------------------------------------------------

  private get flashLimit(): number {
    return Math.min(this.flash.length, this.declaredFlashSize)
  }

  private flashBegin(opcode: number, offset: number, size: number, packetSize: number, compressed: boolean): void {
    this.flashSession?.inflater?.close()
    this.flashSession = null
    if (offset + size > this.flashLimit) {
      this.refuse(
        opcode,
        romErrorCodes.INVALID_INPUT_PARAMETER,
        stubErrorCodes.BAD_DATA_LEN,
        `${size} bytes at 0x${offset.toString(16)} run past the end of the ${this.flashLimit}-byte flash.`,
      )
      return
    }
    if (packetSize === 0 && size > 0) {
      this.refuse(opcode, romErrorCodes.INVALID_INPUT_PARAMETER, stubErrorCodes.BAD_BLOCKSIZE, 'A packet size of 0 cannot carry data.')
      return
    }
    const start = alignDown(offset)
    if (this.loaderKind === 'rom' && size > 0) this.erase(start, Math.min(alignUp(offset + size), this.flash.length))
    this.flashSession = {
      compressed,
      offset,
      size,
      packetSize,
      nextSequence: 0,
      writeAt: offset,
      written: 0,
      erasedTo: this.loaderKind === 'rom' ? alignUp(offset + size) : start,
      inflater: compressed ? new StreamingInflater() : null,
    }
    this.emit({ kind: 'flash-begin', offset, size, compressed })
    this.respond(opcode)
  }

  private async flashData(opcode: number, sequence: number, data: Uint8Array, compressed: boolean, epoch: number): Promise<void> {
    const session = this.flashSession
    if (!session || session.compressed !== compressed) {
      this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.NOT_IN_FLASH_MODE, `${describeOpcode(opcode)} without a matching BEGIN.`)
      return
    }
    if (session.nextSequence > 0 && sequence === session.nextSequence - 1) {
      // The host did not get the reply and sent the block again (esptool retries a block three times).
      this.counters.repeatedBlocks++
      this.respond(opcode)
      return
    }
    if (sequence !== session.nextSequence) {
      this.counters.sequenceErrors++
      this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.BAD_DATA_SEQ, `Expected block #${session.nextSequence}, got #${sequence}.`)
      return
    }
    if (data.length > session.packetSize) {
      this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.BAD_BLOCKSIZE, `Block of ${data.length} bytes; BEGIN said ${session.packetSize}.`)
      return
    }
    this.counters.flashBytesReceived += data.length
    if (this.unplugAfterBytes !== null && this.counters.flashBytesReceived > this.unplugAfterBytes) {
      this.unplug()
      return
    }

    let bytes = data
    if (session.inflater) {
      const inflated = await session.inflater.push(data)
      if (epoch !== this.epoch) return
      if (!inflated.ok) {
        this.flashSession = null
        session.inflater.close()
        this.refuse(opcode, romErrorCodes.DEFLATE_FAILED, stubErrorCodes.INFLATE_ERROR, `Inflate failed: ${inflated.detail}`)
        return
      }
      bytes = inflated.bytes
    }
    if (this.loaderKind === 'stub') {
      const remaining = session.size - session.written
      if (bytes.length > remaining) {
        if (session.compressed) {
          this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.TOO_MUCH_DATA, `Block inflates past the ${session.size} bytes BEGIN announced.`)
          return
        }
        // stub_flasher.c trims the final block: its 0xFF padding is not part of the image.
        bytes = bytes.subarray(0, remaining)
      }
      this.eraseAhead(session, session.writeAt + bytes.length)
    }
    if (session.writeAt + bytes.length > this.flash.length) {
      const beyond = bytes.subarray(this.flash.length - session.writeAt)
      if (!beyond.every((byte) => byte === 0xff)) {
        this.refuse(opcode, romErrorCodes.FLASH_WRITE_ERROR, stubErrorCodes.TOO_MUCH_DATA, 'Data runs past the end of flash.')
        return
      }
      // Only the padding of the ROM's last block hangs over the end: programming 0xFF changes nothing.
      bytes = bytes.subarray(0, this.flash.length - session.writeAt)
    }
    this.program(session.writeAt, bytes)
    session.writeAt += bytes.length
    session.written += bytes.length
    session.nextSequence++
    this.respond(opcode)
  }

  private flashEnd(opcode: number, runUserCode: boolean): void {
    const session = this.flashSession
    if (this.loaderKind === 'stub') {
      if (!session) {
        this.refuse(opcode, 0, stubErrorCodes.NOT_IN_FLASH_MODE, 'FLASH_END without FLASH_BEGIN.')
        return
      }
      if (session.written < session.size) {
        this.flashSession = null
        session.inflater?.close()
        this.refuse(opcode, 0, stubErrorCodes.NOT_ENOUGH_DATA, `Wrote ${session.written} of the ${session.size} bytes announced.`)
        return
      }
    }
    if (session) {
      session.inflater?.close()
      this.flashSession = null
      this.emit({ kind: 'flash-end', offset: session.offset, bytesWritten: session.written })
    }
    this.respond(opcode)
    // The word is "0 to reboot, 1 to run user code"; the stub reads a non-zero word as "stay in the loader".
    if (!runUserCode) this.rebootAfterReply()
    else if (this.loaderKind === 'rom') {
      this.line.toHost.pushAction(() => {
        if (this.state === 'download') this.boot('app', 'software')
      })
    }
  }

  private flashMd5(opcode: number, address: number, size: number): void {
    if (address + size > this.flash.length) {
      this.refuse(opcode, romErrorCodes.FLASH_READ_ERROR, stubErrorCodes.FAILED_SPI_OP, `MD5 of ${size} bytes at 0x${address.toString(16)} runs past the end of flash.`)
      return
    }
    const digest = createHash('md5').update(this.flash.subarray(address, address + size)).digest()
    this.respond(opcode, { payload: encodeFlashMd5(digest, this.loaderKind) })
  }

  /** NOR flash programming can only clear bits; only an erase sets them back to 1. */
  private program(address: number, bytes: Uint8Array): void {
    const flash = this.flash
    for (let i = 0; i < bytes.length; i++) flash[address + i] = flash[address + i]! & bytes[i]!
    this.counters.flashBytesWritten += bytes.length
  }

  private erase(start: number, end: number): void {
    if (end <= start) return
    this.flash.fill(0xff, start, end)
    this.emit({ kind: 'erased', offset: start, size: end - start })
  }

  private eraseAhead(session: FlashSession, end: number): void {
    if (end <= session.erasedTo) return
    const to = Math.min(alignUp(end), this.flash.length)
    this.flash.fill(0xff, session.erasedTo, to)
    session.erasedTo = to
  }

  // --- RAM download and the stub -------------------------------------------------------------------------

  private memData(opcode: number, sequence: number, data: Uint8Array): void {
    const session = this.ramSession
    if (!session) {
      this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.NOT_IN_FLASH_MODE, 'MEM_DATA without MEM_BEGIN.')
      return
    }
    if (sequence !== session.nextSequence) {
      this.counters.sequenceErrors++
      this.refuse(opcode, romErrorCodes.INVALID_MESSAGE_FORMAT, stubErrorCodes.BAD_DATA_SEQ, `Expected RAM block #${session.nextSequence}, got #${sequence}.`)
      return
    }
    if (data.length > session.packetSize) {
      this.refuse(opcode, romErrorCodes.INVALID_RAM_BINARY_SIZE, stubErrorCodes.BAD_BLOCKSIZE, `RAM block of ${data.length} bytes; MEM_BEGIN said ${session.packetSize}.`)
      return
    }
    session.nextSequence++
    this.respond(opcode)
  }

  /**
   * MEM_END with an entry point runs what was uploaded. The emulator cannot run it, so it takes it to be
   * esptool's flasher stub (the only RAM code a flasher uploads): reply, then "OHAI", then the stub
   * answers from the next command on.
   */
  private memEnd(opcode: number, stayInLoader: boolean): void {
    this.ramSession = null
    this.respond(opcode)
    if (stayInLoader || this.loaderKind === 'stub') return
    this.loaderKind = 'stub'
    this.sendFrame(stubGreeting)
    this.emit({ kind: 'stub-running' })
  }

  // --- reading and erasing ---------------------------------------------------------------------------------

  /** The ROM's READ_FLASH_SLOW: always a 64-byte buffer (esptool read_flash_slow). */
  private readFlashSlow(opcode: number, offset: number, length: number): void {
    if (length > 64 || offset + 64 > this.flash.length) {
      this.refuse(opcode, romErrorCodes.FLASH_READ_LENGTH_ERROR, stubUnknownCommand, `Cannot read ${length} bytes at 0x${offset.toString(16)}.`)
      return
    }
    this.respond(opcode, { payload: this.flash.slice(offset, offset + 64) })
  }

  private eraseRegion(opcode: number, offset: number, size: number): void {
    const problem = eraseRegionProblem(offset, size)
    if (problem !== null || offset + size > this.flashLimit) {
      this.refuse(opcode, 0, stubErrorCodes.BAD_DATA_LEN, problem ?? `Erase of ${size} bytes at 0x${offset.toString(16)} runs past the end of flash.`)
      return
    }
    this.erase(offset, offset + size)
    this.respond(opcode)
  }

  private startReadFlash(opcode: number, command: Extract<LoaderCommand, { name: 'READ_FLASH' }>): void {
    if (command.offset + command.length > this.flash.length) {
      this.refuse(opcode, 0, stubErrorCodes.FAILED_SPI_OP, `Read of ${command.length} bytes at 0x${command.offset.toString(16)} runs past the end of flash.`)
      return
    }
    if (command.packetSize === 0 || command.maxInFlight === 0) {
      this.refuse(opcode, 0, stubErrorCodes.BAD_BLOCKSIZE, 'READ_FLASH needs a packet size and at least one packet in flight.')
      return
    }
    this.respond(opcode)
    this.readFlash = {
      offset: command.offset,
      length: command.length,
      packetSize: command.packetSize,
      maxInFlight: command.maxInFlight,
      sent: 0,
      packetsSent: 0,
      acked: 0,
      hash: createHash('md5'),
    }
    this.pumpReadFlash()
  }

  /** Sends data packets until `maxInFlight` wait for acknowledgement (serial-protocol.rst "Reading Flash"). */
  private pumpReadFlash(): void {
    const session = this.readFlash
    if (!session) return
    if (session.length === 0 || session.acked >= session.length) {
      this.readFlash = null
      this.sendFrame(session.hash.digest())
      return
    }
    const packetsAcked = Math.floor(session.acked / session.packetSize)
    while (session.sent < session.length && session.packetsSent - packetsAcked < session.maxInFlight) {
      const from = session.offset + session.sent
      const chunk = this.flash.subarray(from, from + Math.min(session.packetSize, session.length - session.sent))
      session.hash.update(chunk)
      this.sendFrame(chunk)
      session.sent += chunk.length
      session.packetsSent++
    }
  }

  private takeReadFlashAck(frame: Uint8Array): void {
    const session = this.readFlash!
    const acked = parseReadFlashAck(frame)
    // Anything else mid-read is not an acknowledgement; the stub keeps waiting for one.
    if (acked === null || acked > session.sent || acked < session.acked) return
    session.acked = acked
    this.pumpReadFlash()
  }
}

// ---------------------------------------------------------------------------------------------------------

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

function alignDown(address: number): number {
  return Math.floor(address / flashSectorSize) * flashSectorSize
}

function alignUp(address: number): number {
  return Math.ceil(address / flashSectorSize) * flashSectorSize
}

/** The JEDEC id a Winbond part of this size answers to RDID (0x1640ef for 4 MiB). */
export function flashIdFor(flashSize: number): number {
  for (const [capacityCode, size] of detectedFlashSizes) {
    if (size === flashSize) return ((capacityCode << 16) | (flashMemoryType << 8) | flashManufacturer) >>> 0
  }
  const sizes = [...new Set(detectedFlashSizes.values())].sort((a, b) => a - b)
  throw new RangeError(`A flash of ${flashSize} bytes has no JEDEC capacity code; use one of ${sizes.join(', ')}.`)
}

function macFromSeed(seed: number): Uint8Array {
  const random = createRandom(seed).fork('mac')
  return Uint8Array.of(...espressifOui, random.int(0, 255), random.int(0, 255), random.int(0, 255))
}

function parseMac(mac: string | Uint8Array): Uint8Array {
  if (typeof mac !== 'string') {
    if (mac.length !== 6) throw new RangeError(`A MAC address is 6 bytes, not ${mac.length}.`)
    return mac.slice()
  }
  if (!/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(mac)) throw new RangeError(`"${mac}" is not a MAC address like 7c:df:a1:12:34:56.`)
  return Uint8Array.from(mac.split(/[:-]/), (part) => Number.parseInt(part, 16))
}
