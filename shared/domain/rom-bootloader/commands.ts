// Command payloads of the ESP serial bootloader as one typed union, with an encoder for the flasher and a
// parser for the simulated board, so both ends share one reading of serial-protocol.rst "Commands".
// Where the doc and esptool disagree, the comment says which one this follows and why.

import { concatBytes, hex32, isU32, packWords, readU32LE, toHex, unpackWords } from './bytes'
import type { LoaderKind, LoaderTarget, RegisterWrite, ChipDefinition } from './chips'
import { flashBeginTakesEncryptedWord, flashWriteSize, statusLengthFor } from './chips'
import {
  commandNameOf,
  commandOpcodes,
  dataChecksum,
  describeOpcode,
  encodeRequest,
  encodeResponse,
  requestChecksumMatches,
  type CommandName,
  type PacketEncodeResult,
  type RequestPacket,
  type ResponseStatus,
} from './packets'
import { slipEncode } from './slip'

/** SYNC data: "36 bytes: 0x07 0x07 0x12 0x20, followed by 32 x 0x55"; the 0x55s let the ROM auto-detect the baud rate. */
export const syncPayload: Uint8Array = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)])

/** The value field of a ROM SYNC reply (doc trace: 01 08 0400 07071220 …); the stub answers 0, which is how esptool spots a stub left running. */
export const romSyncValue = 0x20120707

/** The ROM answers one SYNC with eight identical replies (esptool stub_flasher.c, which copies that behaviour). */
export const syncResponseCount = 8

/** "OHAI": the stub's only unsolicited packet, sent once it runs (doc: 0xC0 0x4F 0x48 0x41 0x49 0xC0). */
export const stubGreeting: Uint8Array = Uint8Array.of(0x4f, 0x48, 0x41, 0x49)

/** Length of the data prefix of every *_DATA packet: data length, sequence number, two zero words. */
export const dataPacketPrefixLength = 16

export interface FlashBeginFields {
  readonly packetCount: number
  readonly packetSize: number
  readonly offset: number
  /**
   * The fifth word, "1 to begin encrypted flash, 0 to not", passed to ROM loaders other than ESP32's.
   * Undefined sends the four-word form.
   */
  readonly encrypted?: boolean
}

/** "Four 32-bit words: data size, sequence number, 0, 0, then data. Uses Checksum." */
export interface DataPacketCommand<N extends 'FLASH_DATA' | 'FLASH_DEFL_DATA' | 'MEM_DATA'> {
  readonly name: N
  /** "The sequence numbers are 0 based." */
  readonly sequence: number
  readonly data: Uint8Array
}

/** The word is "0 to reboot, 1 to run user code". */
export interface EndCommand<N extends 'FLASH_END' | 'FLASH_DEFL_END'> {
  readonly name: N
  readonly runUserCode: boolean
}

export type LoaderCommand =
  | { readonly name: 'SYNC' }
  | { readonly name: 'READ_REG'; readonly address: number }
  /** One or more (address, value, mask, delay µs) groups; esptool appends a second group to get a delay after the write. */
  | { readonly name: 'WRITE_REG'; readonly writes: readonly RegisterWrite[] }
  /** "size to erase, number of data packets, data size in one packet, flash offset". */
  | ({ readonly name: 'FLASH_BEGIN'; readonly eraseSize: number } & FlashBeginFields)
  /** "uncompressed size …": exact for the stub, rounded up to whole packets for the ROM. */
  | ({ readonly name: 'FLASH_DEFL_BEGIN'; readonly writeSize: number } & FlashBeginFields)
  | DataPacketCommand<'FLASH_DATA'>
  | DataPacketCommand<'FLASH_DEFL_DATA'>
  | DataPacketCommand<'MEM_DATA'>
  | EndCommand<'FLASH_END'>
  | EndCommand<'FLASH_DEFL_END'>
  | { readonly name: 'MEM_BEGIN'; readonly size: number; readonly packetCount: number; readonly packetSize: number; readonly address: number }
  /**
   * The doc calls the first word the "execute flag", but esptool sends int(entrypoint == 0): a non-zero word
   * means "do not jump", so it is named for what it does.
   */
  | { readonly name: 'MEM_END'; readonly stayInLoader: boolean; readonly entrypoint: number }
  | {
      readonly name: 'SPI_SET_PARAMS'
      readonly flashId: number
      readonly totalSize: number
      readonly blockSize: number
      readonly sectorSize: number
      readonly pageSize: number
      readonly statusMask: number
    }
  /** The ROM takes a second, zero word after the pin word; the stub does not. */
  | { readonly name: 'SPI_ATTACH'; readonly pins: number; readonly loader: LoaderKind }
  | { readonly name: 'READ_FLASH_SLOW'; readonly offset: number; readonly length: number }
  /** "new baud rate, 0 if we are talking to the ROM loader or the current/old baud rate if … the stub". */
  | { readonly name: 'CHANGE_BAUDRATE'; readonly baud: number; readonly previousBaud: number }
  | { readonly name: 'SPI_FLASH_MD5'; readonly address: number; readonly size: number }
  | { readonly name: 'GET_SECURITY_INFO' }
  | { readonly name: 'ERASE_FLASH' }
  | { readonly name: 'ERASE_REGION'; readonly offset: number; readonly size: number }
  /**
   * The doc lists "flash offset, read length, flash sector size, read packet size, maximum number of
   * un-acked packets" as "four 32-bit words"; esptool and the stub use four: offset, length, packet size
   * (esptool sends the sector size, 0x1000) and max in flight (64).
   */
  | { readonly name: 'READ_FLASH'; readonly offset: number; readonly length: number; readonly packetSize: number; readonly maxInFlight: number }
  | { readonly name: 'RUN_USER_CODE' }

type Named<N extends CommandName> = Extract<LoaderCommand, { readonly name: N }>

function outOfRange(detail: string): PacketEncodeResult {
  return { ok: false, reason: 'field-out-of-range', detail }
}

function words(command: LoaderCommand, fields: Record<string, number>): Uint8Array | string {
  for (const [field, value] of Object.entries(fields)) {
    if (!isU32(value)) return `${command.name}.${field} = ${value} is not a 32-bit word.`
  }
  return packWords(Object.values(fields))
}

function commandData(command: LoaderCommand): { data: Uint8Array; checksum: number } | string {
  const plain = (data: Uint8Array | string): { data: Uint8Array; checksum: number } | string =>
    typeof data === 'string' ? data : { data, checksum: 0 }
  switch (command.name) {
    case 'SYNC':
      return plain(syncPayload)
    case 'READ_REG':
      return plain(words(command, { address: command.address }))
    case 'WRITE_REG': {
      if (command.writes.length === 0) return 'WRITE_REG needs at least one register write.'
      const parts: Uint8Array[] = []
      for (const write of command.writes) {
        const part = words(command, { address: write.address, value: write.value, mask: write.mask ?? 0xffffffff, delayUs: write.delayUs ?? 0 })
        if (typeof part === 'string') return part
        parts.push(part)
      }
      return plain(concatBytes(parts))
    }
    case 'FLASH_BEGIN':
    case 'FLASH_DEFL_BEGIN': {
      const size = command.name === 'FLASH_BEGIN' ? command.eraseSize : command.writeSize
      const fields: Record<string, number> = { size, packetCount: command.packetCount, packetSize: command.packetSize, offset: command.offset }
      if (command.encrypted !== undefined) fields.encrypted = command.encrypted ? 1 : 0
      return plain(words(command, fields))
    }
    case 'FLASH_DATA':
    case 'FLASH_DEFL_DATA':
    case 'MEM_DATA': {
      const prefix = words(command, { length: command.data.length, sequence: command.sequence, zero0: 0, zero1: 0 })
      if (typeof prefix === 'string') return prefix
      return { data: concatBytes([prefix, command.data]), checksum: dataChecksum(command.data) }
    }
    case 'FLASH_END':
    case 'FLASH_DEFL_END':
      return plain(words(command, { runUserCode: command.runUserCode ? 1 : 0 }))
    case 'MEM_BEGIN':
      return plain(words(command, { size: command.size, packetCount: command.packetCount, packetSize: command.packetSize, address: command.address }))
    case 'MEM_END':
      return plain(words(command, { stayInLoader: command.stayInLoader ? 1 : 0, entrypoint: command.entrypoint }))
    case 'SPI_SET_PARAMS':
      return plain(
        words(command, {
          flashId: command.flashId,
          totalSize: command.totalSize,
          blockSize: command.blockSize,
          sectorSize: command.sectorSize,
          pageSize: command.pageSize,
          statusMask: command.statusMask,
        }),
      )
    case 'SPI_ATTACH': {
      const pinWord = words(command, { pins: command.pins })
      if (typeof pinWord === 'string') return pinWord
      // esptool flash_spi_attach: the ROM's extra word is an 'is legacy' byte and three reserved bytes, all 0.
      return plain(command.loader === 'rom' ? concatBytes([pinWord, new Uint8Array(4)]) : pinWord)
    }
    case 'READ_FLASH_SLOW':
      return plain(words(command, { offset: command.offset, length: command.length }))
    case 'CHANGE_BAUDRATE':
      return plain(words(command, { baud: command.baud, previousBaud: command.previousBaud }))
    case 'SPI_FLASH_MD5':
      return plain(words(command, { address: command.address, size: command.size, zero0: 0, zero1: 0 }))
    case 'ERASE_REGION':
      return plain(words(command, { offset: command.offset, size: command.size }))
    case 'READ_FLASH':
      return plain(
        words(command, { offset: command.offset, length: command.length, packetSize: command.packetSize, maxInFlight: command.maxInFlight }),
      )
    case 'GET_SECURITY_INFO':
    case 'ERASE_FLASH':
    case 'RUN_USER_CODE':
      return plain(new Uint8Array(0))
  }
}

/** The request packet for a command (header + data, checksum filled in for *_DATA); not yet SLIP-framed. */
export function encodeCommand(command: LoaderCommand): PacketEncodeResult {
  const body = commandData(command)
  if (typeof body === 'string') return outOfRange(body)
  return encodeRequest({ command: commandOpcodes[command.name], checksum: body.checksum, data: body.data })
}

/** encodeCommand, then SLIP-framed: the bytes to write to the port. */
export function encodeCommandFrame(command: LoaderCommand): PacketEncodeResult {
  const encoded = encodeCommand(command)
  return encoded.ok ? { ok: true, packet: slipEncode(encoded.packet) } : encoded
}

export type CommandRefusalReason = 'unknown-command' | 'bad-length' | 'bad-sync-pattern' | 'data-length-mismatch'

export type ParsedCommand =
  | {
      readonly ok: true
      readonly command: LoaderCommand
      /** False when a *_DATA packet's header checksum does not match its data (ROM error 0x07, stub 0xC1). */
      readonly checksumMatches: boolean
    }
  | { readonly ok: false; readonly reason: CommandRefusalReason; readonly detail: string; readonly opcode: number }

/** Reads a decoded request into a typed command, as the simulated board does before acting on it. */
export function parseCommand(request: RequestPacket): ParsedCommand {
  const name = commandNameOf(request.command)
  const opcode = request.command
  const data = request.data
  if (name === undefined) {
    return { ok: false, reason: 'unknown-command', detail: `${describeOpcode(opcode)} is not a bootloader command.`, opcode }
  }
  const refuse = (reason: CommandRefusalReason, detail: string): ParsedCommand => ({ ok: false, reason, detail, opcode })
  const needLength = (...lengths: number[]): ParsedCommand | null =>
    lengths.includes(data.length)
      ? null
      : refuse('bad-length', `${name} carries ${lengths.join(' or ')} data bytes, not ${data.length}.`)
  const ok = (command: LoaderCommand, checksumMatches = true): ParsedCommand => ({ ok: true, command, checksumMatches })
  const w = (count: number): number[] => unpackWords(data, count)

  switch (name) {
    case 'SYNC': {
      const wrong = needLength(syncPayload.length)
      if (wrong) return wrong
      if (!data.every((byte, i) => byte === syncPayload[i])) return refuse('bad-sync-pattern', 'SYNC data is not 07 07 12 20 followed by 32 × 55.')
      return ok({ name })
    }
    case 'READ_REG':
      return needLength(4) ?? ok({ name, address: w(1)[0]! })
    case 'WRITE_REG': {
      if (data.length === 0 || data.length % 16 !== 0) return refuse('bad-length', `WRITE_REG carries 16-byte groups, not ${data.length} bytes.`)
      const writes: RegisterWrite[] = []
      for (let at = 0; at < data.length; at += 16) {
        const [address, value, mask, delayUs] = unpackWords(data, 4, at) as [number, number, number, number]
        writes.push({ address, value, mask, delayUs })
      }
      return ok({ name, writes })
    }
    case 'FLASH_BEGIN':
    case 'FLASH_DEFL_BEGIN': {
      const wrong = needLength(16, 20)
      if (wrong) return wrong
      const [size, packetCount, packetSize, offset, encrypted] = w(data.length / 4) as [number, number, number, number, number?]
      const fields = { packetCount, packetSize, offset, ...(encrypted === undefined ? {} : { encrypted: encrypted !== 0 }) }
      return ok(name === 'FLASH_BEGIN' ? { name, eraseSize: size, ...fields } : { name, writeSize: size, ...fields })
    }
    case 'FLASH_DATA':
    case 'FLASH_DEFL_DATA':
    case 'MEM_DATA': {
      if (data.length < dataPacketPrefixLength) return refuse('bad-length', `${name} has a 16-byte prefix; got ${data.length} bytes.`)
      const [declared, sequence] = w(2) as [number, number]
      const payload = data.slice(dataPacketPrefixLength)
      if (declared !== payload.length) {
        // The stub answers this with ESP_BAD_DATA_LEN (stub_flasher.c).
        return refuse('data-length-mismatch', `${name} #${sequence} declares ${declared} bytes and carries ${payload.length}.`)
      }
      return ok({ name, sequence, data: payload }, requestChecksumMatches(request))
    }
    case 'FLASH_END':
    case 'FLASH_DEFL_END':
      return needLength(4) ?? ok({ name, runUserCode: w(1)[0] !== 0 })
    case 'MEM_BEGIN': {
      const wrong = needLength(16)
      if (wrong) return wrong
      const [size, packetCount, packetSize, address] = w(4) as [number, number, number, number]
      return ok({ name, size, packetCount, packetSize, address })
    }
    case 'MEM_END': {
      const wrong = needLength(8)
      if (wrong) return wrong
      const [flag, entrypoint] = w(2) as [number, number]
      return ok({ name, stayInLoader: flag !== 0, entrypoint })
    }
    case 'SPI_SET_PARAMS': {
      const wrong = needLength(24)
      if (wrong) return wrong
      const [flashId, totalSize, blockSize, sectorSize, pageSize, statusMask] = w(6) as [number, number, number, number, number, number]
      return ok({ name, flashId, totalSize, blockSize, sectorSize, pageSize, statusMask })
    }
    case 'SPI_ATTACH':
      return needLength(4, 8) ?? ok({ name, pins: w(1)[0]!, loader: data.length === 8 ? 'rom' : 'stub' })
    case 'READ_FLASH_SLOW': {
      const wrong = needLength(8)
      if (wrong) return wrong
      const [offset, length] = w(2) as [number, number]
      return ok({ name, offset, length })
    }
    case 'CHANGE_BAUDRATE': {
      const wrong = needLength(8)
      if (wrong) return wrong
      const [baud, previousBaud] = w(2) as [number, number]
      return ok({ name, baud, previousBaud })
    }
    case 'SPI_FLASH_MD5': {
      const wrong = needLength(16)
      if (wrong) return wrong
      const [address, size] = w(2) as [number, number]
      return ok({ name, address, size })
    }
    case 'ERASE_REGION': {
      const wrong = needLength(8)
      if (wrong) return wrong
      const [offset, size] = w(2) as [number, number]
      return ok({ name, offset, size })
    }
    case 'READ_FLASH': {
      const wrong = needLength(16)
      if (wrong) return wrong
      const [offset, length, packetSize, maxInFlight] = w(4) as [number, number, number, number]
      return ok({ name, offset, length, packetSize, maxInFlight })
    }
    case 'GET_SECURITY_INFO':
    case 'ERASE_FLASH':
    case 'RUN_USER_CODE':
      return needLength(0) ?? ok({ name })
  }
}

// ---------------------------------------------------------------------------------------------------------
// Builders with esptool's choices, so callers do not repeat them

export function syncCommand(): Named<'SYNC'> {
  return { name: 'SYNC' }
}

export function readRegCommand(address: number): Named<'READ_REG'> {
  return { name: 'READ_REG', address }
}

export function writeRegCommand(address: number, value: number, mask = 0xffffffff, delayUs = 0): Named<'WRITE_REG'> {
  return { name: 'WRITE_REG', writes: [{ address, value, mask, delayUs }] }
}

/** pins: 0 = default SPI flash pins, 1 = HSPI, or a word from spiAttachPinWord. */
export function spiAttachCommand(target: LoaderTarget, pins = 0): Named<'SPI_ATTACH'> {
  return { name: 'SPI_ATTACH', pins, loader: target.loader }
}

/** esptool flash_set_parameters: only the total size varies; the rest is "hardcoded, and most are not used". */
export function spiSetParamsCommand(totalSize: number): Named<'SPI_SET_PARAMS'> {
  return { name: 'SPI_SET_PARAMS', flashId: 0, totalSize, blockSize: 64 * 1024, sectorSize: 4 * 1024, pageSize: 256, statusMask: 0xffff }
}

/**
 * The ROM gets 0 as the second word, the stub the rate it runs at now. (esptool's ESP32 ROM and 26 MHz
 * ESP32-C2 ROM send a scaled rate to work around crystal quirks; this builder does not.)
 */
export function changeBaudrateCommand(target: LoaderTarget, baud: number, currentBaud: number): Named<'CHANGE_BAUDRATE'> {
  return { name: 'CHANGE_BAUDRATE', baud, previousBaud: target.loader === 'stub' ? currentBaud : 0 }
}

export function flashMd5Command(address: number, size: number): Named<'SPI_FLASH_MD5'> {
  return { name: 'SPI_FLASH_MD5', address, size }
}

/** esptool mem_finish: entrypoint 0 means "stay in the loader". */
export function memEndCommand(entrypoint: number): Named<'MEM_END'> {
  return { name: 'MEM_END', stayInLoader: entrypoint === 0, entrypoint }
}

export function flashEndCommand(mode: 'uncompressed' | 'compressed', after: 'reboot' | 'run-user-code'): Named<'FLASH_END' | 'FLASH_DEFL_END'> {
  return { name: mode === 'compressed' ? 'FLASH_DEFL_END' : 'FLASH_END', runUserCode: after === 'run-user-code' }
}

/** esptool read_flash: 4 KiB packets, up to 64 of them unacknowledged. */
export function readFlashCommand(offset: number, length: number, packetSize = 0x1000, maxInFlight = 64): Named<'READ_FLASH'> {
  return { name: 'READ_FLASH', offset, length, packetSize, maxInFlight }
}

export function eraseRegionCommand(offset: number, size: number): Named<'ERASE_REGION'> {
  return { name: 'ERASE_REGION', offset, size }
}

/** The doc: ERASE_REGION's offset and size "must be multiples of flash sector size". Null when they are. */
export function eraseRegionProblem(offset: number, size: number, sectorSize = 0x1000): string | null {
  if (offset % sectorSize !== 0) return `Erase offset ${hex32(offset)} is not a multiple of the ${sectorSize}-byte flash sector.`
  if (size % sectorSize !== 0) return `Erase size ${size} is not a multiple of the ${sectorSize}-byte flash sector.`
  return null
}

/** esptool's run(): a zero-length FLASH_BEGIN then FLASH_END "run user code", the nearest thing to a soft reset. */
export function runUserCodeCommands(target: LoaderTarget): LoaderCommand[] {
  const encrypted = flashBeginTakesEncryptedWord(target) ? { encrypted: false } : {}
  return [
    { name: 'FLASH_BEGIN', eraseSize: 0, packetCount: 0, packetSize: flashWriteSize(target), offset: 0, ...encrypted },
    { name: 'FLASH_END', runUserCode: true },
  ]
}

export interface SpiFlashPins {
  readonly clk: number
  readonly q: number
  readonly d: number
  readonly hd: number
  readonly cs: number
}

export type PinWordResult = { readonly ok: true; readonly pins: number } | { readonly ok: false; readonly detail: string }

/**
 * Packs custom SPI flash pins for SPI_ATTACH. The doc says the order from the MSB is "HD, Q, D, CS, CLK";
 * esptool packs (hd << 24) | (cs << 18) | (d << 12) | (q << 6) | clk "the same way the ESP ROM takes them",
 * and that is what boards have been flashed with, so this follows esptool. On ESP32 the doc maps pins 32
 * and 33 to 30 and 31 and cannot express 30, 31 or anything above 33.
 */
export function spiAttachPinWord(pins: SpiFlashPins, chip: ChipDefinition): PinWordResult {
  const encode = (role: keyof SpiFlashPins): number | string => {
    const pin = pins[role]
    if (!Number.isInteger(pin) || pin < 0) return `${role.toUpperCase()} pin ${pin} is not a GPIO number.`
    if (chip.name === 'ESP32') {
      if (pin === 32 || pin === 33) return pin - 2
      if (pin === 30 || pin === 31 || pin > 33) return `ESP32 cannot route SPI flash ${role.toUpperCase()} to GPIO${pin}.`
      return pin
    }
    return pin < 64 ? pin : `${role.toUpperCase()} pin ${pin} does not fit in 6 bits.`
  }
  const values: Record<string, number> = {}
  for (const role of ['clk', 'q', 'd', 'hd', 'cs'] as const) {
    const value = encode(role)
    if (typeof value === 'string') return { ok: false, detail: value }
    values[role] = value
  }
  return { ok: true, pins: ((values.hd! << 24) | (values.cs! << 18) | (values.d! << 12) | (values.q! << 6) | values.clk!) >>> 0 }
}

// ---------------------------------------------------------------------------------------------------------
// Response payloads, both ways

/** The replies a loader sends to one SYNC, unframed: eight from the ROM (value 0x20120707) or the stub (value 0). */
export function syncResponses(target: LoaderTarget): Uint8Array[] {
  const encoded = encodeResponse({
    command: commandOpcodes.SYNC,
    value: target.loader === 'rom' ? romSyncValue : 0,
    statusLength: statusLengthFor(target),
  })
  // A fixed, in-range response cannot fail to encode.
  if (!encoded.ok) return []
  return Array.from({ length: syncResponseCount }, () => encoded.packet.slice())
}

/** A response to `command` carrying `status` and nothing else, shaped for the loader. */
export function statusResponse(target: LoaderTarget, command: number, status: ResponseStatus, value = 0): PacketEncodeResult {
  return encodeResponse({ command, value, status, statusLength: statusLengthFor(target) })
}

export type Md5Result = { readonly ok: true; readonly md5: string } | { readonly ok: false; readonly detail: string }

/**
 * SPI_FLASH_MD5's answer as lower-case hex: "the ROM loader returns the md5sum as 32 hex encoded ASCII
 * bytes, whereas the stub loader returns … 16 raw data bytes".
 */
export function parseFlashMd5(payload: Uint8Array, loader: LoaderKind): Md5Result {
  if (loader === 'stub') {
    return payload.length === 16 ? { ok: true, md5: toHex(payload) } : { ok: false, detail: `The stub's MD5 is 16 bytes; got ${payload.length}.` }
  }
  if (payload.length !== 32) return { ok: false, detail: `The ROM's MD5 is 32 hex characters; got ${payload.length} bytes.` }
  const text = String.fromCharCode(...payload)
  return /^[0-9a-fA-F]{32}$/.test(text) ? { ok: true, md5: text.toLowerCase() } : { ok: false, detail: 'The ROM sent an MD5 that is not hexadecimal.' }
}

/** The MD5 payload a simulated loader sends for a 16-byte digest. */
export function encodeFlashMd5(digest: Uint8Array, loader: LoaderKind): Uint8Array {
  if (loader === 'stub') return digest.slice(0, 16)
  // Lower case: esptool compares the ROM's text as-is with hashlib's lower-case hexdigest.
  return Uint8Array.from(toHex(digest.subarray(0, 16)), (c) => c.charCodeAt(0))
}

export function isStubGreeting(frame: Uint8Array): boolean {
  return frame.length === stubGreeting.length && frame.every((byte, i) => byte === stubGreeting[i])
}

/** After each READ_FLASH data packet the host sends "a 4 byte raw SLIP acknowledgement packet with the total number of bytes which have been received". */
export function encodeReadFlashAck(totalReceived: number): Uint8Array {
  return packWords([totalReceived >>> 0])
}

export function parseReadFlashAck(frame: Uint8Array): number | null {
  return frame.length === 4 ? readU32LE(frame, 0) : null
}
