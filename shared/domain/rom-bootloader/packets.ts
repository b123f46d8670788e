// The packet layer of the ESP serial bootloader (serial-protocol.rst, "Command Packet", "Response Packet",
// "Status Bytes", "Checksum"): the 8-byte header both ways, the data checksum and the status bytes with
// their error codes. Requests are encoded by the console's flasher and decoded by the simulated board;
// responses the other way round. SLIP framing is slip.ts; command payloads are commands.ts.

import { hex8, isU32, readU16LE, readU32LE, writeU16LE, writeU32LE } from './bytes'

/** Command identifiers (serial-protocol.rst "Commands"; READ_FLASH_SLOW from esptool ESP_CMDS, it is not in the doc). */
export const commandOpcodes = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  /** ROM loader only; 64 bytes per command, hence the name (esptool loader.py). */
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  /** ESP32-S2 and later ROMs. */
  GET_SECURITY_INFO: 0x14,
  /** Stub loader only from here on: "ROM loaders will not recognize these commands". */
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const

export type CommandName = keyof typeof commandOpcodes

const namesByOpcode = new Map<number, CommandName>(
  (Object.entries(commandOpcodes) as [CommandName, number][]).map(([name, opcode]) => [opcode, name]),
)

export function commandNameOf(opcode: number): CommandName | undefined {
  return namesByOpcode.get(opcode)
}

export function describeOpcode(opcode: number): string {
  const name = commandNameOf(opcode)
  return name ? `${name} (${hex8(opcode)})` : `unknown command ${hex8(opcode)}`
}

/** Commands that only the stub loader knows. */
export const stubOnlyCommands: ReadonlySet<CommandName> = new Set(['ERASE_FLASH', 'ERASE_REGION', 'READ_FLASH', 'RUN_USER_CODE'])

export const requestDirection = 0x00
export const responseDirection = 0x01
export const packetHeaderLength = 8
/** The 16-bit size field bounds the data field of one packet. */
export const maxPacketDataLength = 0xffff
/** "start with seed value 0xEF and XOR each individual byte in the 'data to write'". */
export const checksumSeed = 0xef

/** The commands whose header checksum the loader checks; for every other command it "can be zero". */
export const checksummedCommands: ReadonlySet<number> = new Set([
  commandOpcodes.MEM_DATA,
  commandOpcodes.FLASH_DATA,
  commandOpcodes.FLASH_DEFL_DATA,
])

/** The 8-bit XOR checksum over the "data to write" of a *_DATA packet (not over its 16-byte prefix). */
export function dataChecksum(dataToWrite: Uint8Array): number {
  let state = checksumSeed
  for (const byte of dataToWrite) state ^= byte
  return state
}

export type PacketEncodeResult =
  | { readonly ok: true; readonly packet: Uint8Array }
  | { readonly ok: false; readonly reason: 'field-out-of-range' | 'data-too-long'; readonly detail: string }

export interface RequestPacket {
  readonly command: number
  /** Stored as a 32-bit little-endian word; only the low byte is meaningful. */
  readonly checksum: number
  readonly data: Uint8Array
}

/** Header (direction 0x00, command, size, checksum) followed by the data; not yet SLIP-framed. */
export function encodeRequest(request: RequestPacket): PacketEncodeResult {
  if (!Number.isInteger(request.command) || request.command < 0 || request.command > 0xff) {
    return { ok: false, reason: 'field-out-of-range', detail: `Command ${request.command} is not a byte.` }
  }
  if (!isU32(request.checksum)) {
    return { ok: false, reason: 'field-out-of-range', detail: `Checksum ${request.checksum} is not a 32-bit word.` }
  }
  if (request.data.length > maxPacketDataLength) {
    return {
      ok: false,
      reason: 'data-too-long',
      detail: `${describeOpcode(request.command)} carries ${request.data.length} bytes; one packet holds at most ${maxPacketDataLength}.`,
    }
  }
  const packet = new Uint8Array(packetHeaderLength + request.data.length)
  packet[0] = requestDirection
  packet[1] = request.command
  writeU16LE(packet, 2, request.data.length)
  writeU32LE(packet, 4, request.checksum)
  packet.set(request.data, packetHeaderLength)
  return { ok: true, packet }
}

export type RequestRefusalReason = 'too-short' | 'not-a-request' | 'size-mismatch'

export type RequestDecodeResult =
  | { readonly ok: true; readonly request: RequestPacket }
  | {
      readonly ok: false
      readonly reason: RequestRefusalReason
      readonly detail: string
      /** The command byte when the frame had one, so an emulator can answer "invalid message" to it. */
      readonly command?: number
    }

/** Reads a request frame (SLIP already removed), as the simulated board does. */
export function decodeRequest(frame: Uint8Array): RequestDecodeResult {
  if (frame.length < packetHeaderLength) {
    return {
      ok: false,
      reason: 'too-short',
      detail: `A request has an 8-byte header; this frame has ${frame.length} bytes.`,
      ...(frame.length >= 2 ? { command: frame[1]! } : {}),
    }
  }
  const command = frame[1]!
  if (frame[0] !== requestDirection) {
    return { ok: false, reason: 'not-a-request', detail: `Direction byte is ${hex8(frame[0]!)}; requests carry 0x00.`, command }
  }
  const size = readU16LE(frame, 2)
  const data = frame.subarray(packetHeaderLength)
  if (size !== data.length) {
    return {
      ok: false,
      reason: 'size-mismatch',
      detail: `${describeOpcode(command)} says ${size} data bytes but the frame carries ${data.length}.`,
      command,
    }
  }
  return { ok: true, request: { command, checksum: readU32LE(frame, 4), data: data.slice() } }
}

/** True when the checksum in the header matches the data of a *_DATA packet (always true for other commands). */
export function requestChecksumMatches(request: RequestPacket): boolean {
  if (!checksummedCommands.has(request.command)) return true
  if (request.data.length < 16) return false
  // The stub compares the whole 32-bit word with the 8-bit result, so the upper bytes must be zero.
  return request.checksum === dataChecksum(request.data.subarray(16))
}

// ---------------------------------------------------------------------------------------------------------
// Status bytes and errors

/**
 * The first two status bytes, as sent. The ROM sends `status` 0 or 1 and puts the ROM error code in
 * `error`. The stub sends its 0xC* error code in the first byte and 0 in the second (stub_flasher.c sends
 * `error` then `status`; esptool reads a failing stub checksum as result "C100"), although the doc's table
 * names the first byte "Status" for both. Success is a zero first byte either way, which is what esptool
 * checks.
 */
export interface ResponseStatus {
  readonly status: number
  readonly error: number
}

/**
 * Status bytes at the end of a response: 4 from the ESP32-family ROM loaders (2 status + 2 reserved),
 * 2 from the stub loader on every chip and from the ESP8266 ROM.
 */
export type StatusLength = 2 | 4

export const statusSuccess: ResponseStatus = { status: 0, error: 0 }

/** ROM loader error codes (serial-protocol.rst "ROM Loader Errors"). */
export const romErrorCodes = {
  UNDEFINED: 0x00,
  INVALID_INPUT_PARAMETER: 0x01,
  MALLOC_FAILED: 0x02,
  SEND_FAILED: 0x03,
  RECEIVE_FAILED: 0x04,
  INVALID_MESSAGE_FORMAT: 0x05,
  RESULT_WRONG: 0x06,
  CHECKSUM_ERROR: 0x07,
  FLASH_WRITE_ERROR: 0x08,
  FLASH_READ_ERROR: 0x09,
  FLASH_READ_LENGTH_ERROR: 0x0a,
  DEFLATE_FAILED: 0x0b,
  DEFLATE_ADLER32_ERROR: 0x0c,
  DEFLATE_PARAMETER_ERROR: 0x0d,
  INVALID_RAM_BINARY_SIZE: 0x0e,
  INVALID_RAM_BINARY_ADDRESS: 0x0f,
  INVALID_PARAMETER: 0x64,
  INVALID_FORMAT: 0x65,
  DESCRIPTION_TOO_LONG: 0x66,
  BAD_ENCODING_DESCRIPTION: 0x67,
  INSUFFICIENT_STORAGE: 0x69,
} as const

/** The doc's wording for each ROM error, so the console says what Espressif says. */
export const romErrorMessages: ReadonlyMap<number, string> = new Map([
  [0x00, 'Undefined errors'],
  [0x01, 'The input parameter is invalid'],
  [0x02, 'Failed to malloc memory from system'],
  [0x03, 'Failed to send out message'],
  [0x04, 'Failed to receive message'],
  [0x05, 'The format of the received message is invalid'],
  [0x06, 'Message is ok, but the running result is wrong'],
  [0x07, 'Checksum error'],
  [0x08, 'Flash write error'],
  [0x09, 'Flash read error'],
  [0x0a, 'Flash read length error'],
  [0x0b, 'Deflate failed error'],
  [0x0c, 'Deflate Adler32 error'],
  [0x0d, 'Deflate parameter error'],
  [0x0e, 'Invalid RAM binary size'],
  [0x0f, 'Invalid RAM binary address'],
  [0x64, 'Invalid parameter'],
  [0x65, 'Invalid format'],
  [0x66, 'Description too long'],
  [0x67, 'Bad encoding description'],
  [0x69, 'Insufficient storage'],
])

/**
 * Stub loader error codes (esptool flasher_stub/include/stub_flasher.h, which the doc links for the full
 * list). 0xCA and 0xCB appear in later stub versions.
 */
export const stubErrorCodes = {
  BAD_DATA_LEN: 0xc0,
  BAD_DATA_CHECKSUM: 0xc1,
  BAD_BLOCKSIZE: 0xc2,
  INVALID_COMMAND: 0xc3,
  FAILED_SPI_OP: 0xc4,
  FAILED_SPI_UNLOCK: 0xc5,
  NOT_IN_FLASH_MODE: 0xc6,
  INFLATE_ERROR: 0xc7,
  NOT_ENOUGH_DATA: 0xc8,
  TOO_MUCH_DATA: 0xc9,
  BAD_DATA_SEQ: 0xca,
  BAD_DATA_READBACK: 0xcb,
  CMD_NOT_IMPLEMENTED: 0xff,
} as const

/** Messages from esptool util.py FatalError.WithResult (0xCA and 0xCB worded here, esptool has none). */
export const stubErrorMessages: ReadonlyMap<number, string> = new Map([
  [0xc0, 'Bad data length'],
  [0xc1, 'Bad data checksum'],
  [0xc2, 'Bad blocksize'],
  [0xc3, 'Invalid command'],
  [0xc4, 'Failed SPI operation'],
  [0xc5, 'Failed SPI unlock'],
  [0xc6, 'Not in flash mode'],
  [0xc7, 'Inflate error'],
  [0xc8, 'Not enough data'],
  [0xc9, 'Too much data'],
  [0xca, 'Bad data sequence number'],
  [0xcb, 'Flash read-back does not match the data written'],
  [0xff, 'Command not implemented'],
])

/** What the ROM sends when it fails: status 1, then its error code. */
export function romFailure(code: number): ResponseStatus {
  return { status: 1, error: code & 0xff }
}

/** What the stub sends when it fails: its 0xC* code first, then 0 (see ResponseStatus). */
export function stubFailure(code: number): ResponseStatus {
  return { status: code & 0xff, error: 0 }
}

export interface CommandFailure {
  readonly source: 'rom' | 'stub' | 'unknown'
  readonly code: number
  readonly message: string
  readonly status: ResponseStatus
}

/** Null on success; otherwise who failed, with which code, in the doc's or esptool's words. */
export function describeStatus(status: ResponseStatus): CommandFailure | null {
  if (status.status === 0) return null
  if (status.status === 1) {
    const romMessage = romErrorMessages.get(status.error)
    if (romMessage !== undefined) return { source: 'rom', code: status.error, message: romMessage, status }
    // The doc's table puts a stub code in the second byte; accept that reading too.
    const stubMessage = stubErrorMessages.get(status.error)
    if (stubMessage !== undefined) return { source: 'stub', code: status.error, message: stubMessage, status }
    return { source: 'rom', code: status.error, message: `Unknown ROM error ${hex8(status.error)}`, status }
  }
  const stubMessage = stubErrorMessages.get(status.status)
  if (stubMessage !== undefined) return { source: 'stub', code: status.status, message: stubMessage, status }
  return {
    source: 'unknown',
    code: status.status,
    message: `Unknown failure status ${hex8(status.status)} ${hex8(status.error)}`,
    status,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Responses

export interface ResponseToEncode {
  readonly command: number
  /** The 32-bit value field; READ_REG puts the register here, the ROM puts 0x20120707 in SYNC replies. */
  readonly value?: number
  /** Bytes before the status bytes (an MD5, the security info…). */
  readonly payload?: Uint8Array
  readonly status?: ResponseStatus
  readonly statusLength: StatusLength
}

/** Builds a response packet as a loader would send it (for the simulated board); not yet SLIP-framed. */
export function encodeResponse(response: ResponseToEncode): PacketEncodeResult {
  const value = response.value ?? 0
  const payload = response.payload ?? new Uint8Array(0)
  const status = response.status ?? statusSuccess
  if (!Number.isInteger(response.command) || response.command < 0 || response.command > 0xff) {
    return { ok: false, reason: 'field-out-of-range', detail: `Command ${response.command} is not a byte.` }
  }
  if (!isU32(value)) return { ok: false, reason: 'field-out-of-range', detail: `Value ${value} is not a 32-bit word.` }
  const dataLength = payload.length + response.statusLength
  if (dataLength > maxPacketDataLength) {
    return { ok: false, reason: 'data-too-long', detail: `A response holds at most ${maxPacketDataLength} data bytes.` }
  }
  const packet = new Uint8Array(packetHeaderLength + dataLength)
  packet[0] = responseDirection
  packet[1] = response.command
  writeU16LE(packet, 2, dataLength)
  writeU32LE(packet, 4, value)
  packet.set(payload, packetHeaderLength)
  packet[packetHeaderLength + payload.length] = status.status & 0xff
  packet[packetHeaderLength + payload.length + 1] = status.error & 0xff
  // Bytes 3 and 4 of a ROM status are reserved and sent as zero.
  return { ok: true, packet }
}

export interface BootloaderResponse {
  readonly command: number
  /**
   * The size field as sent. Not trusted for framing (SLIP delimits the packet): the stub sends 2 here
   * even when an MD5 precedes the status bytes.
   */
  readonly sizeField: number
  readonly value: number
  /** Everything after the header. */
  readonly data: Uint8Array
  /** The data before the status bytes: `dataLength` bytes, or none when a failing loader sent only a status. */
  readonly payload: Uint8Array
  readonly status: ResponseStatus
  /** Bytes after the two status bytes: the ROM's two reserved bytes, usually. */
  readonly trailing: Uint8Array
  readonly failure: CommandFailure | null
}

export type ResponseRefusalReason = 'too-short' | 'not-a-response' | 'missing-status'

export type ResponseDecodeResult =
  | { readonly ok: true; readonly response: BootloaderResponse }
  | { readonly ok: false; readonly reason: ResponseRefusalReason; readonly detail: string }

export interface ResponseLayout {
  /**
   * How many payload bytes the command returns before its status bytes: 0 for most, 16 (stub) or 32
   * (ROM) for SPI_FLASH_MD5, 20 or 12 (ESP32-S2) for GET_SECURITY_INFO. See expectedResponseDataLength.
   */
  readonly dataLength?: number
}

/**
 * Reads a response frame (SLIP already removed). The status sits right after the expected payload, as in
 * esptool's check_command: that reads both the 2-byte stub status and the 4-byte ROM status without
 * knowing which loader answered, and both traces in the protocol document (READ_REG with 2 data bytes,
 * SYNC with 4) decode with it.
 */
export function decodeResponse(frame: Uint8Array, layout: ResponseLayout = {}): ResponseDecodeResult {
  const dataLength = layout.dataLength ?? 0
  if (frame.length < packetHeaderLength) {
    return { ok: false, reason: 'too-short', detail: `A response has an 8-byte header; this frame has ${frame.length} bytes.` }
  }
  if (frame[0] !== responseDirection) {
    return { ok: false, reason: 'not-a-response', detail: `Direction byte is ${hex8(frame[0]!)}; responses carry 0x01.` }
  }
  const command = frame[1]!
  const data = frame.slice(packetHeaderLength)
  const header = { command, sizeField: readU16LE(frame, 2), value: readU32LE(frame, 4), data }

  if (data.length < dataLength + 2) {
    // A failing loader may send its status without the payload it would have sent on success.
    if (data.length >= 2 && data[0] !== 0) {
      const status = { status: data[0]!, error: data[1]! }
      return {
        ok: true,
        response: { ...header, payload: new Uint8Array(0), status, trailing: data.slice(2), failure: describeStatus(status) },
      }
    }
    return {
      ok: false,
      reason: 'missing-status',
      detail: `${describeOpcode(command)}: expected ${dataLength} payload bytes and a status, got ${data.length} data bytes.`,
    }
  }
  const status = { status: data[dataLength]!, error: data[dataLength + 1]! }
  return {
    ok: true,
    response: {
      ...header,
      payload: data.slice(0, dataLength),
      status,
      trailing: data.slice(dataLength + 2),
      failure: describeStatus(status),
    },
  }
}

/**
 * "The host should continue to read response packets until one is received where the Command field
 * matches the request's Command field": the filter for that loop.
 */
export function isResponseTo(response: BootloaderResponse, command: number): boolean {
  return response.command === command
}
