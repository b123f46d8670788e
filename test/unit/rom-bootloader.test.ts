// The ROM / stub serial bootloader protocol. Tests named "doc:" turn a concrete statement or trace of
// shared/fixtures/esptool/serial-protocol.rst into bytes; "esptool:" ones check a constant or a choice taken
// from esptool's source where the doc is silent.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  autoResetPins,
  bootAfterReset,
  bootLogText,
  chipByName,
  chipDetectMagicRegAddr,
  chipFromMagicValue,
  chipList,
  chips,
  classicReset,
  commandNameOf,
  commandOpcodes,
  dataChecksum,
  decodeRequest,
  decodeResponse,
  describeStatus,
  detectChip,
  detectPanic,
  encodeCommand,
  encodeCommandFrame,
  encodeFlashMd5,
  encodeReadFlashAck,
  encodeRequest,
  encodeResponse,
  encodeSecurityInfo,
  eraseRegionProblem,
  expectedResponseDataLength,
  flashBeginTimeoutMs,
  flashEndCommand,
  flashMd5Command,
  flashWriteSize,
  formatFlashSize,
  formatMacAddress,
  hardReset,
  isResponseTo,
  isStubGreeting,
  macAddressFromEfuse,
  memEndCommand,
  padFlashImage,
  parseBootMessage,
  parseCommand,
  parseFlashId,
  parseFlashMd5,
  parseReadFlashAck,
  parseResetSequence,
  parseSecurityInfo,
  planFlashWrite,
  planRamDownload,
  readFlashCommand,
  readRegCommand,
  resetSequencesFor,
  romErrorMessages,
  romFailure,
  romSyncValue,
  runUserCodeCommands,
  SlipDecoder,
  slipDecodeAll,
  slipEncode,
  spiAttachCommand,
  spiAttachPinWord,
  spiFlashCommandPlan,
  spiFlashRdid,
  spiSetParamsCommand,
  statusResponse,
  stubErrorMessages,
  stubFailure,
  stubFlashWriteSize,
  stubOnlyCommands,
  syncCommand,
  syncFailureHint,
  syncResponses,
  timeoutForSizeMs,
  unixTightReset,
  usbJtagSerialReset,
  writeRegCommand,
  changeBaudrateCommand,
  type BootloaderResponse,
  type LoaderCommand,
  type LoaderTarget,
  type SlipEvent,
} from '../../shared/domain/rom-bootloader'
import { seededRandom } from '../../shared/domain/seeded-random'

const protocolDoc = readFileSync(join(import.meta.dirname, '../../../shared/fixtures/esptool/serial-protocol.rst'), 'utf8')

const fromHex = (text: string): Uint8Array => Uint8Array.from(text.replace(/[\s|]/g, '').match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

const rom = (name: keyof typeof chips): LoaderTarget => ({ chip: chips[name], loader: 'rom' })
const stub = (name: keyof typeof chips): LoaderTarget => ({ chip: chips[name], loader: 'stub' })

function frames(events: SlipEvent[]): string[] {
  return events.filter((e) => e.kind === 'frame').map((e) => toHex(e.payload))
}

function mustEncode(command: LoaderCommand): Uint8Array {
  const encoded = encodeCommand(command)
  if (!encoded.ok) throw new Error(encoded.detail)
  return encoded.packet
}

function mustFrame(command: LoaderCommand): string {
  const encoded = encodeCommandFrame(command)
  if (!encoded.ok) throw new Error(encoded.detail)
  return toHex(encoded.packet)
}

function mustResponse(frame: Uint8Array, dataLength = 0): BootloaderResponse {
  const decoded = decodeResponse(frame, { dataLength })
  if (!decoded.ok) throw new Error(decoded.detail)
  return decoded.response
}

const random = seededRandom

function randomBytes(next: () => number, length: number, special = 0.3): Uint8Array {
  // Heavy on 0xC0 and 0xDB, the bytes SLIP has to escape.
  return Uint8Array.from({ length }, () => (next() < special ? (next() < 0.5 ? 0xc0 : 0xdb) : Math.floor(next() * 256)))
}

function splitRandomly(next: () => number, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let at = 0
  while (at < bytes.length) {
    const size = Math.max(1, Math.floor(next() * 9))
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  return chunks
}

describe('SLIP framing', () => {
  it('doc: each packet begins and ends with 0xC0; 0xC0 and 0xDB inside become 0xDB 0xDC and 0xDB 0xDD', () => {
    expect(toHex(slipEncode(Uint8Array.of(0x01, 0xc0, 0x02, 0xdb, 0x03)))).toBe('c001dbdc02dbdd03c0')
    expect(frames(slipDecodeAll(fromHex('c001dbdc02dbdd03c0')))).toEqual(['01c002db03'])
  })

  it('doc: escaping happens after the size is computed, so the wire packet is longer than the size field says', () => {
    // READ_REG of an address with 0xC0 and 0xDB in it: the size field still says 4.
    const packet = mustEncode(readRegCommand(0x3ff5dbc0))
    expect(toHex(packet)).toBe('000a040000000000c0dbf53f')
    const wire = slipEncode(packet)
    expect(toHex(wire)).toBe('c0000a040000000000dbdcdbddf53fc0')
    expect(wire.length - 2).toBeGreaterThan(8 + 4)
    const back = decodeRequest(slipDecodeAll(wire).flatMap((e) => (e.kind === 'frame' ? [e.payload] : []))[0]!)
    expect(back).toMatchObject({ ok: true, request: { command: 0x0a } })
  })

  it('doc: the stub announces itself with the only unsolicited packet, OHAI (0xC0 0x4F 0x48 0x41 0x49 0xC0)', () => {
    const events = slipDecodeAll(fromHex('c04f484149c0'))
    expect(events).toHaveLength(1)
    const frame = events[0]!
    expect(frame.kind === 'frame' && isStubGreeting(frame.payload)).toBe(true)
    expect(isStubGreeting(Uint8Array.of(0x4f, 0x48, 0x41))).toBe(false)
  })

  it('keeps boot log text outside frames as noise, in order with the frames', () => {
    const bootLog = 'rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n'
    const bytes = Uint8Array.from([...Array.from(bootLog, (c) => c.charCodeAt(0)), 0xc0, 0x4f, 0x48, 0x41, 0x49, 0xc0, 0x21])
    const events = slipDecodeAll(bytes)
    expect(events.map((e) => e.kind)).toEqual(['noise', 'frame', 'noise'])
    const noise = events[0]!
    expect(noise.kind === 'noise' && bootLogText(noise.bytes)).toBe(bootLog)
  })

  it('reports an invalid escape as a frame error, drops that frame and resynchronises on the next 0xC0', () => {
    const events = slipDecodeAll(fromHex('c00102db0103c0c00a0bc0'))
    expect(events.map((e) => e.kind)).toEqual(['frame-error', 'frame'])
    expect(events[0]).toMatchObject({ kind: 'frame-error', reason: 'invalid-escape', partial: Uint8Array.of(1, 2) })
    expect(frames(events)).toEqual(['0a0b'])
    // 0xDB right before the closing 0xC0: still a frame error, and the 0xC0 still closes the frame.
    expect(slipDecodeAll(fromHex('c001dbc0c002c0')).map((e) => e.kind)).toEqual(['frame-error', 'frame'])
  })

  it('refuses a frame that grows past the limit instead of buffering forever', () => {
    const decoder = new SlipDecoder({ maxFrameLength: 4 })
    const events = decoder.push(fromHex('c00102030405060708c0c00102c0'))
    expect(events.map((e) => e.kind)).toEqual(['frame-error', 'frame'])
    expect(events[0]).toMatchObject({ reason: 'frame-too-long' })
    expect(frames(events)).toEqual(['0102'])
  })

  it('reads 0xC0 0xC0 as a start, so a reader that joined mid-frame finds the next frame', () => {
    // The tail of a frame we missed the start of, its end, then a whole frame.
    const events = slipDecodeAll(fromHex('5566c0c00108c0'))
    expect(events.map((e) => e.kind)).toEqual(['noise', 'frame'])
    expect(frames(events)).toEqual(['0108'])
  })

  it('keeps escape and frame state across chunks, and forgets a partial frame on reset', () => {
    const decoder = new SlipDecoder()
    expect(decoder.push(fromHex('c001db'))).toEqual([])
    expect(decoder.inFrame).toBe(true)
    expect(decoder.pendingLength).toBe(1)
    expect(frames(decoder.push(fromHex('dc02c0')))).toEqual(['01c002'])
    expect(decoder.inFrame).toBe(false)
    decoder.push(fromHex('c00102'))
    decoder.reset()
    expect(decoder.push(fromHex('0304c0'))).toEqual([{ kind: 'noise', bytes: Uint8Array.of(3, 4) }])
  })

  it('property: decode(encode(x)) = x for random payloads full of 0xC0 and 0xDB', () => {
    const next = random(0x5eed)
    for (let run = 0; run < 500; run++) {
      const payload = randomBytes(next, 1 + Math.floor(next() * 64), 0.5)
      const encoded = slipEncode(payload)
      expect(encoded.subarray(1, -1).includes(0xc0)).toBe(false)
      const events = slipDecodeAll(encoded)
      expect(events).toEqual([{ kind: 'frame', payload }])
    }
  })

  it('property: any split of a stream of frames and noise gives the same frames and the same noise', () => {
    const next = random(42)
    for (let run = 0; run < 200; run++) {
      const payloads: Uint8Array[] = []
      const noiseParts: Uint8Array[] = []
      const wire: number[] = []
      for (let i = 0; i < 1 + Math.floor(next() * 6); i++) {
        // Noise never contains 0xC0: a 0xC0 between frames is the start of one.
        const noise = Uint8Array.from({ length: Math.floor(next() * 5) }, () => 0x20 + Math.floor(next() * 0x5f))
        noiseParts.push(noise)
        wire.push(...noise)
        const payload = randomBytes(next, 1 + Math.floor(next() * 40))
        payloads.push(payload)
        wire.push(...slipEncode(payload))
      }
      const decoder = new SlipDecoder()
      const events = splitRandomly(next, Uint8Array.from(wire)).flatMap((chunk) => decoder.push(chunk))
      expect(events.filter((e) => e.kind === 'frame').map((e) => e.payload)).toEqual(payloads)
      const noise = events.flatMap((e) => (e.kind === 'noise' ? Array.from(e.bytes) : []))
      expect(noise).toEqual(noiseParts.flatMap((part) => Array.from(part)))
      expect(events.some((e) => e.kind === 'frame-error')).toBe(false)
    }
  })
})

describe('doc traces (Tracing Esptool Serial Communications)', () => {
  it('doc: "Cmd READ_REG (0x0a) | data_len 4 | data 00100040" is written as c0000a04000000000000100040c0', () => {
    const packet = mustEncode(readRegCommand(chipDetectMagicRegAddr))
    expect(toHex(packet.subarray(8))).toBe('00100040')
    expect(mustFrame(readRegCommand(0x40001000))).toBe('c0000a04000000000000100040c0')
  })

  it('doc: "Read 1 bytes: c0", "Read 11 bytes: 010a0200090000000000c0" is one full packet 010a0200090000000000', () => {
    const decoder = new SlipDecoder()
    expect(decoder.push(fromHex('c0'))).toEqual([])
    const events = decoder.push(fromHex('010a0200090000000000c0'))
    expect(frames(events)).toEqual(['010a0200090000000000'])
    const response = mustResponse(fromHex('010a0200090000000000'))
    expect(response).toMatchObject({ command: commandOpcodes.READ_REG, sizeField: 2, value: 9, status: { status: 0, error: 0 }, failure: null })
    expect(response.trailing).toHaveLength(0)
    expect(isResponseTo(response, commandOpcodes.READ_REG)).toBe(true)
    expect(isResponseTo(response, commandOpcodes.SYNC)).toBe(false)
  })

  it('esptool: the magic value 0x9 in that trace is an ESP32-S3', () => {
    expect(chipFromMagicValue(mustResponse(fromHex('010a0200090000000000')).value)).toMatchObject({ ok: true, chip: { name: 'ESP32-S3' } })
  })

  it('doc: the SYNC write is 46 bytes: c000082400000000 0007071220 then 32 × 55 and c0', () => {
    const trace = 'c000082400000000 0007071220555555 | 5555555555555555 5555555555555555 | 5555555555555555 5555555555c0'
    const wire = mustFrame(syncCommand())
    expect(wire).toBe(toHex(fromHex(trace)))
    expect(wire.length / 2).toBe(46)
  })

  it('doc: the 63 bytes read after the SYNC hold four full SYNC replies 010804000707122000000000 and the start of a fifth', () => {
    const decoder = new SlipDecoder()
    expect(decoder.push(fromHex('c0'))).toEqual([])
    const read63 = fromHex(`0108040007071220 00000000c0c00108 | 0400070712200000 0000c0c001080400 |
      0707122000000000 c0c0010804000707 | 122000000000c0c0 01080400070712`)
    expect(read63).toHaveLength(63)
    const events = decoder.push(read63)
    expect(frames(events)).toEqual(new Array(4).fill('010804000707122000000000'))
    expect(events.some((e) => e.kind !== 'frame')).toBe(false)
    expect(decoder.pendingLength).toBe(7)

    const reply = mustResponse(fromHex('010804000707122000000000'))
    expect(reply).toMatchObject({ command: commandOpcodes.SYNC, sizeField: 4, value: romSyncValue, failure: null })
    // ESP32-family ROMs send four status bytes, the last two reserved.
    expect(toHex(reply.trailing)).toBe('0000')
  })

  it('doc: a simulated ROM answers SYNC with exactly those bytes, eight times; a stub answers with value 0 and 2 status bytes', () => {
    const replies = syncResponses(rom('ESP32-S3'))
    expect(replies).toHaveLength(8)
    for (const reply of replies) expect(toHex(reply)).toBe('010804000707122000000000')
    expect(toHex(syncResponses(stub('ESP32-S3'))[0]!)).toBe('0108020000000000' + '0000')
  })
})

describe('request and response packets', () => {
  it('doc: a request is direction 0x00, command, 16-bit size, 32-bit checksum, data; all little-endian', () => {
    const encoded = encodeRequest({ command: 0x09, checksum: 0, data: Uint8Array.of(1, 2, 3) })
    expect(encoded.ok && toHex(encoded.packet)).toBe('0009030000000000010203')
    expect(decodeRequest(fromHex('0009030000000000010203'))).toEqual({
      ok: true,
      request: { command: 0x09, checksum: 0, data: Uint8Array.of(1, 2, 3) },
    })
  })

  it('doc: the data field holds 0-65535 bytes', () => {
    expect(encodeRequest({ command: 0x03, checksum: 0, data: new Uint8Array(0xffff) }).ok).toBe(true)
    expect(encodeRequest({ command: 0x03, checksum: 0, data: new Uint8Array(0x10000) })).toMatchObject({ ok: false, reason: 'data-too-long' })
    expect(encodeRequest({ command: 0x100, checksum: 0, data: new Uint8Array(0) })).toMatchObject({ ok: false, reason: 'field-out-of-range' })
  })

  it('refuses requests that are short, point the wrong way or disagree with their size field', () => {
    expect(decodeRequest(fromHex('000a04'))).toMatchObject({ ok: false, reason: 'too-short', command: 0x0a })
    expect(decodeRequest(fromHex('010a0200090000000000'))).toMatchObject({ ok: false, reason: 'not-a-request' })
    expect(decodeRequest(fromHex('000a0400000000000010'))).toMatchObject({ ok: false, reason: 'size-mismatch', command: 0x0a })
  })

  it('doc: checksum = 0xEF XOR each byte of the "data to write", not of the 16-byte prefix, stored as a 32-bit word', () => {
    expect(dataChecksum(new Uint8Array(0))).toBe(0xef)
    expect(dataChecksum(Uint8Array.of(0x01, 0x02, 0xc0))).toBe(0x2c)
    const packet = mustEncode({ name: 'FLASH_DATA', sequence: 1, data: Uint8Array.of(0x01, 0x02, 0xc0) })
    expect(toHex(packet)).toBe(
      '0003' + '1300' + '2c000000' + '03000000' + '01000000' + '00000000' + '00000000' + '0102c0',
    )
    expect(mustFrame({ name: 'FLASH_DATA', sequence: 1, data: Uint8Array.of(0x01, 0x02, 0xc0) }).endsWith('0102dbdcc0')).toBe(true)
  })

  it('doc: the checksum "can be zero" for every command except MEM_DATA, FLASH_DATA and FLASH_DEFL_DATA', () => {
    for (const command of [syncCommand(), readRegCommand(1), flashMd5Command(0, 0x1000)]) {
      expect(toHex(mustEncode(command).subarray(4, 8))).toBe('00000000')
    }
    for (const name of ['MEM_DATA', 'FLASH_DATA', 'FLASH_DEFL_DATA'] as const) {
      expect(mustEncode({ name, sequence: 0, data: Uint8Array.of(0xef) })[4]).toBe(0)
      expect(mustEncode({ name, sequence: 0, data: Uint8Array.of(0x00) })[4]).toBe(0xef)
    }
  })

  it('doc: responses are direction 0x01, the request command, size, value, data ending in the status bytes', () => {
    const encoded = encodeResponse({ command: commandOpcodes.READ_REG, value: 0x00f01d83, statusLength: 4 })
    expect(encoded.ok && toHex(encoded.packet)).toBe('010a0400831df00000000000')
    const decoded = mustResponse(fromHex('010a0400831df00000000000'))
    expect(decoded.value).toBe(0x00f01d83)
    expect(chipFromMagicValue(decoded.value)).toMatchObject({ ok: true, chip: { name: 'ESP32' } })
  })

  it('doc: ROM status is 4 bytes (Status, Error, Reserved, Reserved); stub status is 2 bytes regardless of chip', () => {
    const romReply = statusResponse(rom('ESP32-C3'), commandOpcodes.FLASH_BEGIN, romFailure(0x08))
    expect(romReply.ok && toHex(romReply.packet)).toBe('0102040000000000' + '01080000')
    for (const chip of chipList) {
      const stubReply = statusResponse({ chip, loader: 'stub' }, commandOpcodes.FLASH_BEGIN, stubFailure(0xc6))
      expect(stubReply.ok && toHex(stubReply.packet)).toBe('0102020000000000' + 'c600')
      expect(chip.romStatusLength).toBe(4)
    }
  })

  it('doc: ROM loader error values and their meanings', () => {
    // The table as the document prints it: | ``0x05`` | "The format of …" |
    const doc = [...protocolDoc.matchAll(/^\| ``(0x[0-9a-f]{2})`` \| "([^"]+)"/gm)].map(([, code, text]) => [Number(code), text] as [number, string])
    expect(doc).toHaveLength(21)
    expect([...romErrorMessages]).toEqual(doc)
    for (const [code, message] of doc) {
      expect(describeStatus(romFailure(code))).toEqual({ source: 'rom', code, message, status: { status: 1, error: code } })
    }
  })

  it('doc: stub errors take the form 0xC*, or 0xFF for an unimplemented command; FLASH_DEFL_DATA answers 0xC1 on a bad checksum', () => {
    for (const code of stubErrorMessages.keys()) expect(code === 0xff || (code & 0xf0) === 0xc0).toBe(true)
    expect(describeStatus(stubFailure(0xc1))).toMatchObject({ source: 'stub', code: 0xc1, message: 'Bad data checksum' })
    expect(describeStatus(stubFailure(0xff))).toMatchObject({ source: 'stub', message: 'Command not implemented' })
    // The doc's table puts the code in the second byte under a status of 1; that reading works too.
    expect(describeStatus({ status: 1, error: 0xc1 })).toMatchObject({ source: 'stub', code: 0xc1 })
    expect(describeStatus({ status: 0, error: 0x07 })).toBeNull()
    expect(describeStatus({ status: 0x42, error: 0 })).toMatchObject({ source: 'unknown', code: 0x42 })
  })

  it('reads the status after the expected payload, and a failing loader that sent only a status', () => {
    // Stub MD5 reply: 16 raw bytes then 2 status bytes (the stub's size field says 2 regardless).
    const digest = fromHex('000102030405060708090a0b0c0d0e0f')
    const stubMd5 = fromHex('0113020000000000' + toHex(digest) + '0000')
    const ok = mustResponse(stubMd5, expectedResponseDataLength('SPI_FLASH_MD5', stub('ESP32-C3')))
    expect(ok.payload).toEqual(digest)
    expect(ok.failure).toBeNull()
    const failed = mustResponse(fromHex('0113040000000000' + '01090000'), 32)
    expect(failed.payload).toHaveLength(0)
    expect(failed.failure).toMatchObject({ source: 'rom', code: 0x09, message: 'Flash read error' })
    expect(decodeResponse(fromHex('0113040000000000' + '00000000'), { dataLength: 32 })).toMatchObject({ ok: false, reason: 'missing-status' })
    expect(decodeResponse(fromHex('010a02'))).toMatchObject({ ok: false, reason: 'too-short' })
    expect(decodeResponse(fromHex('000a0200090000000000'))).toMatchObject({ ok: false, reason: 'not-a-response' })
  })
})

describe('command payloads', () => {
  it('doc: the command identifiers', () => {
    expect(commandOpcodes).toMatchObject({
      FLASH_BEGIN: 0x02, FLASH_DATA: 0x03, FLASH_END: 0x04, MEM_BEGIN: 0x05, MEM_END: 0x06, MEM_DATA: 0x07,
      SYNC: 0x08, WRITE_REG: 0x09, READ_REG: 0x0a, SPI_SET_PARAMS: 0x0b, SPI_ATTACH: 0x0d, CHANGE_BAUDRATE: 0x0f,
      FLASH_DEFL_BEGIN: 0x10, FLASH_DEFL_DATA: 0x11, FLASH_DEFL_END: 0x12, SPI_FLASH_MD5: 0x13, GET_SECURITY_INFO: 0x14,
      ERASE_FLASH: 0xd0, ERASE_REGION: 0xd1, READ_FLASH: 0xd2, RUN_USER_CODE: 0xd3,
    })
    expect([...stubOnlyCommands].sort()).toEqual(['ERASE_FLASH', 'ERASE_REGION', 'READ_FLASH', 'RUN_USER_CODE'])
    expect(commandNameOf(0x13)).toBe('SPI_FLASH_MD5')
    expect(commandNameOf(0x01)).toBeUndefined()
  })

  it('doc: FLASH_BEGIN is four words for the ESP32 ROM and the stub, five (encrypted flag) for later ROMs', () => {
    const words = (command: LoaderCommand): string => toHex(mustEncode(command).subarray(8))
    const esp32 = planFlashWrite({ target: rom('ESP32'), offset: 0x10000, image: new Uint8Array(0x800) })
    const c3 = planFlashWrite({ target: rom('ESP32-C3'), offset: 0x10000, image: new Uint8Array(0x800) })
    const c3Stub = planFlashWrite({ target: stub('ESP32-C3'), offset: 0x10000, image: new Uint8Array(0x800) })
    if (!esp32.ok || !c3.ok || !c3Stub.ok) throw new Error('plan failed')
    // size to erase, number of data packets, data size in one packet, flash offset
    expect(words(esp32.plan.begin)).toBe('00080000' + '02000000' + '00040000' + '00000100')
    expect(words(c3.plan.begin)).toBe('00080000' + '02000000' + '00040000' + '00000100' + '00000000')
    expect(words(c3Stub.plan.begin)).toBe('00080000' + '01000000' + '00400000' + '00000100')
    const encrypted = planFlashWrite({ target: rom('ESP32-S3'), offset: 0, image: new Uint8Array(32), encrypted: true })
    expect(encrypted.ok && words(encrypted.plan.begin).slice(-8)).toBe('01000000')
    expect(planFlashWrite({ target: rom('ESP32'), offset: 0, image: new Uint8Array(32), encrypted: true })).toMatchObject({
      ok: false,
      reason: 'encryption-unsupported',
    })
  })

  it('doc: *_DATA payload is data length, sequence number (0 based), 0, 0, then the data', () => {
    for (const name of ['FLASH_DATA', 'FLASH_DEFL_DATA', 'MEM_DATA'] as const) {
      const packet = mustEncode({ name, sequence: 7, data: Uint8Array.of(9, 9) })
      expect(toHex(packet.subarray(8))).toBe('02000000' + '07000000' + '00000000' + '00000000' + '0909')
    }
  })

  it('doc: FLASH_END and FLASH_DEFL_END take one word, 0 to reboot and 1 to run user code', () => {
    expect(toHex(mustEncode(flashEndCommand('uncompressed', 'reboot')))).toBe('0004040000000000' + '00000000')
    expect(toHex(mustEncode(flashEndCommand('compressed', 'run-user-code')))).toBe('0012040000000000' + '01000000')
  })

  it('doc: MEM_BEGIN is total size, packets, packet size, address; MEM_END is the flag and the entry point', () => {
    const plan = planRamDownload(new Uint8Array(0x2000), 0x40380000)
    expect(toHex(mustEncode(plan.begin).subarray(8))).toBe('00200000' + '02000000' + '00180000' + '00003840')
    expect(plan.packets.map((p) => p.data.length)).toEqual([0x1800, 0x800])
    expect(toHex(mustEncode(memEndCommand(0x4038c000)).subarray(8))).toBe('00000000' + '00c03840')
    // esptool sends int(entrypoint == 0): 1 keeps the loader running.
    expect(toHex(mustEncode(memEndCommand(0)).subarray(8))).toBe('01000000' + '00000000')
  })

  it('doc: WRITE_REG is address, value, mask and delay in microseconds', () => {
    expect(toHex(mustEncode(writeRegCommand(0x60002000, 1 << 18)).subarray(8))).toBe('00200060' + '00000400' + 'ffffffff' + '00000000')
  })

  it('doc: SPI_SET_PARAMS is six words: id, total size, block size, sector size, page size, status mask (esptool values)', () => {
    expect(toHex(mustEncode(spiSetParamsCommand(4 << 20)).subarray(8))).toBe(
      '00000000' + '00004000' + '00000100' + '00100000' + '00010000' + 'ffff0000',
    )
  })

  it('doc: SPI_ATTACH is one word, plus a second zero word for the ROM loader only', () => {
    expect(toHex(mustEncode(spiAttachCommand(rom('ESP32-C6'))).subarray(8))).toBe('00000000' + '00000000')
    expect(toHex(mustEncode(spiAttachCommand(stub('ESP32-C6'))).subarray(8))).toBe('00000000')
    expect(toHex(mustEncode(spiAttachCommand(stub('ESP32'), 1)).subarray(8))).toBe('01000000')
  })

  it('doc: SPI_ATTACH pins are 6-bit values; on ESP32 GPIO32 and 33 are written as 30 and 31 (packed in esptool order)', () => {
    const pins = spiAttachPinWord({ clk: 6, q: 7, d: 8, hd: 9, cs: 11 }, chips['ESP32-C3'])
    expect(pins).toEqual({ ok: true, pins: ((9 << 24) | (11 << 18) | (8 << 12) | (7 << 6) | 6) >>> 0 })
    expect(spiAttachPinWord({ clk: 6, q: 7, d: 8, hd: 32, cs: 33 }, chips.ESP32)).toEqual({
      ok: true,
      pins: ((30 << 24) | (31 << 18) | (8 << 12) | (7 << 6) | 6) >>> 0,
    })
    expect(spiAttachPinWord({ clk: 6, q: 7, d: 8, hd: 30, cs: 5 }, chips.ESP32)).toMatchObject({ ok: false })
    expect(spiAttachPinWord({ clk: 64, q: 7, d: 8, hd: 9, cs: 5 }, chips['ESP32-S3'])).toMatchObject({ ok: false })
  })

  it('doc: CHANGE_BAUDRATE is the new rate, then 0 for the ROM or the current rate for the stub', () => {
    expect(toHex(mustEncode(changeBaudrateCommand(rom('ESP32-S2'), 921600, 115200)).subarray(8))).toBe('00100e00' + '00000000')
    expect(toHex(mustEncode(changeBaudrateCommand(stub('ESP32-S2'), 921600, 115200)).subarray(8))).toBe('00100e00' + '00c20100')
  })

  it('doc: SPI_FLASH_MD5 is address, size, 0, 0; the ROM answers 32 hex characters, the stub 16 raw bytes', () => {
    expect(toHex(mustEncode(flashMd5Command(0x10000, 0x2000)).subarray(8))).toBe('00000100' + '00200000' + '00000000' + '00000000')
    const digest = fromHex('d41d8cd98f00b204e9800998ecf8427e')
    const romPayload = encodeFlashMd5(digest, 'rom')
    expect(String.fromCharCode(...romPayload)).toBe('d41d8cd98f00b204e9800998ecf8427e')
    expect(parseFlashMd5(romPayload, 'rom')).toEqual({ ok: true, md5: 'd41d8cd98f00b204e9800998ecf8427e' })
    expect(parseFlashMd5(Uint8Array.from('D41D8CD98F00B204E9800998ECF8427E', (c) => c.charCodeAt(0)), 'rom')).toEqual({
      ok: true,
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
    })
    expect(parseFlashMd5(digest, 'stub')).toEqual({ ok: true, md5: 'd41d8cd98f00b204e9800998ecf8427e' })
    expect(parseFlashMd5(digest, 'rom')).toMatchObject({ ok: false })
    expect(expectedResponseDataLength('SPI_FLASH_MD5', rom('ESP32'))).toBe(32)
  })

  it('doc: GET_SECURITY_INFO answers flags, flash_crypt_cnt, 7 key purposes, chip_id, eco_version (ESP32-S2: without the last two)', () => {
    const payload = fromHex('04000000' + '03' + '01020304050607' + '09000000' + '02000000')
    expect(parseSecurityInfo(payload)).toEqual({
      ok: true,
      info: { flags: 4, flashCryptCnt: 3, keyPurposes: [1, 2, 3, 4, 5, 6, 7], chipId: 9, ecoVersion: 2, secureDownloadMode: true },
    })
    expect(parseSecurityInfo(payload.subarray(0, 12))).toMatchObject({ ok: true, info: { chipId: null, ecoVersion: null, secureDownloadMode: true } })
    expect(parseSecurityInfo(payload.subarray(0, 16))).toMatchObject({ ok: false })
    const info = parseSecurityInfo(payload)
    if (!info.ok) throw new Error(info.detail)
    expect(encodeSecurityInfo(info.info)).toEqual(payload)
    expect(expectedResponseDataLength('GET_SECURITY_INFO', rom('ESP32-S2'))).toBe(12)
    expect(expectedResponseDataLength('GET_SECURITY_INFO', rom('ESP32-H2'))).toBe(20)
  })

  it('doc: ERASE_REGION is offset and size, both multiples of the flash sector size; stub-only commands have no data', () => {
    expect(toHex(mustEncode({ name: 'ERASE_REGION', offset: 0x9000, size: 0x6000 }).subarray(8))).toBe('00900000' + '00600000')
    expect(eraseRegionProblem(0x9000, 0x6000)).toBeNull()
    expect(eraseRegionProblem(0x9100, 0x6000)).toContain('not a multiple')
    expect(eraseRegionProblem(0x9000, 0x600)).toContain('not a multiple')
    expect(toHex(mustEncode({ name: 'ERASE_FLASH' }))).toBe('00d0000000000000')
    expect(toHex(mustEncode({ name: 'RUN_USER_CODE' }))).toBe('00d3000000000000')
  })

  it('doc: READ_FLASH is offset, length, packet size and max un-acked packets; each data packet is acked with the 4-byte total', () => {
    expect(toHex(mustEncode(readFlashCommand(0x8000, 0xc00)).subarray(8))).toBe('00800000' + '000c0000' + '00100000' + '40000000')
    expect(toHex(encodeReadFlashAck(0x2000))).toBe('00200000')
    expect(parseReadFlashAck(fromHex('00200000'))).toBe(0x2000)
    expect(parseReadFlashAck(fromHex('002000'))).toBeNull()
    expect(toHex(slipEncode(encodeReadFlashAck(0xc0)))).toBe('c0dbdc000000c0')
  })

  it('esptool: run() is an empty FLASH_BEGIN then FLASH_END "run user code"', () => {
    expect(runUserCodeCommands(rom('ESP32-C3')).map((c) => toHex(mustEncode(c).subarray(8)))).toEqual([
      '00000000' + '00000000' + '00040000' + '00000000' + '00000000',
      '01000000',
    ])
    expect(toHex(mustEncode(runUserCodeCommands(stub('ESP32'))[0]!).subarray(8))).toBe('00000000' + '00000000' + '00400000' + '00000000')
  })

  it('refuses fields that are not 32-bit words instead of wrapping them', () => {
    expect(encodeCommand(readRegCommand(-1))).toMatchObject({ ok: false, reason: 'field-out-of-range' })
    expect(encodeCommand(readRegCommand(2 ** 32))).toMatchObject({ ok: false, reason: 'field-out-of-range' })
    expect(encodeCommand({ name: 'FLASH_DATA', sequence: 1.5, data: new Uint8Array(1) })).toMatchObject({ ok: false })
    expect(encodeCommand({ name: 'WRITE_REG', writes: [] })).toMatchObject({ ok: false })
    expect(encodeCommand({ name: 'FLASH_DATA', sequence: 0, data: new Uint8Array(0xffff) })).toMatchObject({ ok: false, reason: 'data-too-long' })
  })

  it('parses what the flasher sends, for the simulated board, including bad checksums and bad lengths', () => {
    const parse = (command: LoaderCommand) => {
      const decoded = decodeRequest(mustEncode(command))
      if (!decoded.ok) throw new Error(decoded.detail)
      return parseCommand(decoded.request)
    }
    expect(parse(syncCommand())).toEqual({ ok: true, command: { name: 'SYNC' }, checksumMatches: true })
    const good = mustEncode({ name: 'FLASH_DEFL_DATA', sequence: 3, data: Uint8Array.of(1, 2, 3) })
    const bad = good.slice()
    bad[4] = bad[4]! ^ 0xff
    const decodedBad = decodeRequest(bad)
    expect(decodedBad.ok && parseCommand(decodedBad.request)).toMatchObject({ ok: true, checksumMatches: false, command: { sequence: 3 } })
    const lying = good.slice()
    lying[8] = 9 // declared data length
    const decodedLying = decodeRequest(lying)
    expect(decodedLying.ok && parseCommand(decodedLying.request)).toMatchObject({ ok: false, reason: 'data-length-mismatch', opcode: 0x11 })
    const badSync = decodeRequest(fromHex('0008240000000000' + '07071220' + '55'.repeat(31) + '54'))
    expect(badSync.ok && parseCommand(badSync.request)).toMatchObject({ ok: false, reason: 'bad-sync-pattern' })
    expect(parseCommand({ command: 0x0a, checksum: 0, data: new Uint8Array(3) })).toMatchObject({ ok: false, reason: 'bad-length' })
    expect(parseCommand({ command: 0x42, checksum: 0, data: new Uint8Array(0) })).toMatchObject({ ok: false, reason: 'unknown-command', opcode: 0x42 })
    expect(parseCommand({ command: 0x09, checksum: 0, data: new Uint8Array(20) })).toMatchObject({ ok: false, reason: 'bad-length' })
  })

  it('property: parseCommand(decodeRequest(encodeCommand(c))) gives back c for every command shape', () => {
    const next = random(7)
    const word = (): number => Math.floor(next() * 2 ** 32)
    const bit = (): boolean => next() < 0.5
    const makers: (() => LoaderCommand)[] = [
      () => ({ name: 'SYNC' }),
      () => ({ name: 'READ_REG', address: word() }),
      () => ({ name: 'WRITE_REG', writes: Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({ address: word(), value: word(), mask: word(), delayUs: word() })) }),
      () => ({ name: 'FLASH_BEGIN', eraseSize: word(), packetCount: word(), packetSize: word(), offset: word(), ...(bit() ? { encrypted: bit() } : {}) }),
      () => ({ name: 'FLASH_DEFL_BEGIN', writeSize: word(), packetCount: word(), packetSize: word(), offset: word(), ...(bit() ? { encrypted: bit() } : {}) }),
      () => ({ name: 'FLASH_DATA', sequence: word(), data: randomBytes(next, Math.floor(next() * 50)) }),
      () => ({ name: 'FLASH_DEFL_DATA', sequence: word(), data: randomBytes(next, Math.floor(next() * 50)) }),
      () => ({ name: 'MEM_DATA', sequence: word(), data: randomBytes(next, Math.floor(next() * 50)) }),
      () => ({ name: bit() ? 'FLASH_END' : 'FLASH_DEFL_END', runUserCode: bit() }),
      () => ({ name: 'MEM_BEGIN', size: word(), packetCount: word(), packetSize: word(), address: word() }),
      () => ({ name: 'MEM_END', stayInLoader: bit(), entrypoint: word() }),
      () => ({ name: 'SPI_SET_PARAMS', flashId: word(), totalSize: word(), blockSize: word(), sectorSize: word(), pageSize: word(), statusMask: word() }),
      () => ({ name: 'SPI_ATTACH', pins: word(), loader: bit() ? 'rom' : 'stub' }),
      () => ({ name: 'READ_FLASH_SLOW', offset: word(), length: word() }),
      () => ({ name: 'CHANGE_BAUDRATE', baud: word(), previousBaud: word() }),
      () => ({ name: 'SPI_FLASH_MD5', address: word(), size: word() }),
      () => ({ name: 'GET_SECURITY_INFO' }),
      () => ({ name: 'ERASE_FLASH' }),
      () => ({ name: 'ERASE_REGION', offset: word(), size: word() }),
      () => ({ name: 'READ_FLASH', offset: word(), length: word(), packetSize: word(), maxInFlight: word() }),
      () => ({ name: 'RUN_USER_CODE' }),
    ]
    for (let run = 0; run < 30; run++) {
      for (const make of makers) {
        const command = make()
        const wire = encodeCommandFrame(command)
        if (!wire.ok) throw new Error(wire.detail)
        const payload = slipDecodeAll(wire.packet)
        expect(payload).toHaveLength(1)
        const frame = payload[0]!
        if (frame.kind !== 'frame') throw new Error('no frame')
        const request = decodeRequest(frame.payload)
        if (!request.ok) throw new Error(request.detail)
        expect(parseCommand(request.request)).toEqual({ ok: true, command, checksumMatches: true })
      }
    }
  })
})

describe('chips', () => {
  it('doc: ESP32 and ESP32-S2 are found by the magic register at 0x40001000, later chips by GET_SECURITY_INFO chip_id', () => {
    expect(chipDetectMagicRegAddr).toBe(0x40001000)
    expect(detectChip({ securityInfo: null, magicValue: 0x00f01d83 })).toMatchObject({ ok: true, chip: { name: 'ESP32' }, via: 'magic-value' })
    const s2Info = parseSecurityInfo(fromHex('00000000' + '00' + '00000000000000'))
    if (!s2Info.ok) throw new Error(s2Info.detail)
    expect(detectChip({ securityInfo: s2Info.info, magicValue: 0x000007c6 })).toMatchObject({ ok: true, chip: { name: 'ESP32-S2' }, via: 'magic-value' })
    // "If reading the register also fails, it indicates the chip is in secure download mode."
    expect(detectChip({ securityInfo: s2Info.info, magicValue: null })).toMatchObject({ ok: true, chip: { name: 'ESP32-S2' }, via: 'secure-download-mode' })
    const expectations: [keyof typeof chips, number][] = [['ESP32-S3', 9], ['ESP32-C3', 5], ['ESP32-C2', 12], ['ESP32-C6', 13], ['ESP32-H2', 16]]
    for (const [name, chipId] of expectations) {
      const info = parseSecurityInfo(encodeSecurityInfo({ flags: 0, flashCryptCnt: 0, keyPurposes: [], chipId, ecoVersion: 0 }))
      if (!info.ok) throw new Error(info.detail)
      expect(detectChip({ securityInfo: info.info })).toMatchObject({ ok: true, chip: { name }, via: 'chip-id' })
      expect(chips[name].detection).toBe('security-info')
    }
    expect(chips.ESP32.securityInfo).toBe('unsupported')
    expect(detectChip({})).toMatchObject({ ok: false, reason: 'no-evidence' })
  })

  it('esptool: the magic values per chip, and the ESP8266 is recognised but refused', () => {
    const magic: [number, string][] = [
      [0x00f01d83, 'ESP32'], [0x000007c6, 'ESP32-S2'], [0x9, 'ESP32-S3'],
      [0x6921506f, 'ESP32-C3'], [0x1b31506f, 'ESP32-C3'], [0x4881606f, 'ESP32-C3'], [0x4361606f, 'ESP32-C3'],
      [0x6f51306f, 'ESP32-C2'], [0x7c41a06f, 'ESP32-C2'], [0x2ce0806f, 'ESP32-C6'], [0xd7b73e80, 'ESP32-H2'],
    ]
    for (const [value, name] of magic) expect(chipFromMagicValue(value)).toMatchObject({ ok: true, chip: { name } })
    expect(chipFromMagicValue(0xfff0c101)).toMatchObject({ ok: false, reason: 'unsupported-chip' })
    expect(chipFromMagicValue(0x12345678)).toMatchObject({ ok: false, reason: 'unknown-magic-value' })
    expect(detectChip({ securityInfo: { flags: 0, flashCryptCnt: 0, keyPurposes: [], chipId: 99, ecoVersion: 0, secureDownloadMode: false } })).toMatchObject({
      ok: false,
      reason: 'unknown-chip-id',
    })
  })

  it('esptool: the bootloader goes at 0x1000 on ESP32 and ESP32-S2, at 0x0 elsewhere; every ROM can deflate and MD5', () => {
    for (const chip of chipList) {
      expect(chip.bootloaderOffset).toBe(chip.name === 'ESP32' || chip.name === 'ESP32-S2' ? 0x1000 : 0)
      expect(chip.rom).toMatchObject({ compressedWrites: true, md5: true, flashBeginEncryptedWord: chip.name !== 'ESP32' })
    }
    expect(chipByName('esp32c3')?.name).toBe('ESP32-C3')
    expect(chipByName('ESP32-H2')?.chipId).toBe(16)
    expect(chipByName('esp8266')).toBeUndefined()
  })

  it('esptool: the MAC is the low half of the high eFuse word, then the low word, most significant byte first', () => {
    const mac = macAddressFromEfuse(0xa5b63c71, 0x12345678)
    expect(formatMacAddress(mac)).toBe('3c:71:12:34:56:78')
    expect(chips.ESP32.macEfuse).toEqual({ high: 0x3ff5a008, low: 0x3ff5a004 })
    expect(chips['ESP32-C3'].macEfuse).toEqual({ high: 0x60008848, low: 0x60008844 })
    expect(chips['ESP32-S3'].macEfuse.low).toBe(0x60007044)
    expect(chips['ESP32-S2'].macEfuse.low).toBe(0x3f41a044)
    expect(chips['ESP32-C2'].macEfuse.low).toBe(0x60008840)
    expect(chips['ESP32-C6'].macEfuse.low).toBe(0x600b0844)
  })

  it('esptool: the flash size comes from the JEDEC capacity byte ("Manufacturer: c8, Device: 4016" is 4MB)', () => {
    expect(parseFlashId(0x1640c8)).toEqual({ manufacturer: 0xc8, memoryType: 0x40, capacityCode: 0x16, sizeBytes: 4 << 20 })
    expect(parseFlashId(0x1840ef).sizeBytes).toBe(16 << 20)
    expect(parseFlashId(0x3925c2).sizeBytes).toBe(32 << 20)
    expect(parseFlashId(0xff40ef).sizeBytes).toBeNull()
    expect(formatFlashSize(4 << 20)).toBe('4MB')
    expect(formatFlashSize(512 * 1024)).toBe('512KB')
  })

  it('esptool: the RDID register traffic for an ESP32-C3 and an ESP32', () => {
    const c3 = spiFlashCommandPlan(chips['ESP32-C3'], spiFlashRdid, 24)
    expect(c3).toEqual({
      ok: true,
      plan: {
        saveRegisters: [0x60002018, 0x60002020],
        setup: [
          { address: 0x60002028, value: 23 },
          { address: 0x60002018, value: 0x90000000 },
          { address: 0x60002020, value: 0x7000009f },
          { address: 0x60002058, value: 0 },
        ],
        start: { address: 0x60002000, value: 1 << 18 },
        busyRegister: 0x60002000,
        busyMask: 1 << 18,
        resultRegister: 0x60002058,
        resultMask: 0xffffff,
      },
    })
    const esp32 = spiFlashCommandPlan(chips.ESP32, spiFlashRdid, 24)
    expect(esp32.ok && esp32.plan.resultRegister).toBe(0x3ff42080)
    expect(spiFlashCommandPlan(chips.ESP32, spiFlashRdid, 33)).toMatchObject({ ok: false })
  })

  it('doc: the ROM takes a 4-byte status and the stub a 2-byte one on every chip', () => {
    for (const chip of chipList) {
      expect(toHex(syncResponses({ chip, loader: 'rom' })[0]!).length / 2).toBe(12)
      expect(toHex(syncResponses({ chip, loader: 'stub' })[0]!).length / 2).toBe(10)
    }
  })
})

describe('flash write planning', () => {
  it('doc: the last uncompressed block is padded to the block size with 0xFF; sequence numbers start at 0', () => {
    const image = Uint8Array.from({ length: 0x401 }, (_, i) => i & 0xff)
    const result = planFlashWrite({ target: rom('ESP32-C3'), offset: 0x10000, image })
    if (!result.ok) throw new Error(result.detail)
    const { plan } = result
    // esptool pads the file to 4 bytes first: 0x401 → 0x404 bytes go to flash.
    expect(plan).toMatchObject({ mode: 'uncompressed', imageSize: 0x404, packetSize: 0x400, packetCount: 2 })
    expect(plan.begin).toEqual({ name: 'FLASH_BEGIN', eraseSize: 0x404, packetCount: 2, packetSize: 0x400, offset: 0x10000, encrypted: false })
    expect(plan.packets.map((p) => p.sequence)).toEqual([0, 1])
    expect(plan.packets.map((p) => p.data.length)).toEqual([0x400, 0x400])
    const last = plan.packets[1]!.data
    expect(last[0]).toBe(0x00)
    expect(last.subarray(1).every((b) => b === 0xff)).toBe(true)
    expect(plan.image.subarray(0, 0x401)).toEqual(image)
    expect(plan.erasedRange).toEqual({ start: 0x10000, end: 0x11000 })
    // The checksum of each packet covers its padded data.
    expect(mustEncode(plan.packets[1]!)[4]).toBe(dataChecksum(last))
  })

  it('doc: "Esptool uses 16KB" blocks with the stub; the ROM gets 1KB, USB-OTG caps at 2KB', () => {
    expect(stubFlashWriteSize).toBe(16 * 1024)
    expect(flashWriteSize(stub('ESP32'))).toBe(0x4000)
    expect(flashWriteSize(rom('ESP32'))).toBe(0x400)
    expect(flashWriteSize(rom('ESP32-S3'), { usbOtg: true })).toBe(0x800)
    expect(flashWriteSize(rom('ESP32-C3'), { usbOtg: true })).toBe(0x400)
  })

  it('doc: FLASH_DEFL_BEGIN takes the exact size on the stub and a size rounded up to whole blocks on the ROM', () => {
    const image = padFlashImage(new Uint8Array(0x1801).fill(0x11))
    expect(image.length).toBe(0x1804)
    const deflated = Uint8Array.from({ length: 0x500 }, (_, i) => (i * 7) & 0xff)
    const romPlan = planFlashWrite({ target: rom('ESP32-S3'), offset: 0x20000, image, deflated })
    const stubPlan = planFlashWrite({ target: stub('ESP32-S3'), offset: 0x20000, image, deflated })
    if (!romPlan.ok || !stubPlan.ok) throw new Error('plan failed')
    expect(romPlan.plan.begin).toEqual({ name: 'FLASH_DEFL_BEGIN', writeSize: 0x1c00, packetCount: 2, packetSize: 0x400, offset: 0x20000, encrypted: false })
    expect(stubPlan.plan.begin).toEqual({ name: 'FLASH_DEFL_BEGIN', writeSize: 0x1804, packetCount: 1, packetSize: 0x4000, offset: 0x20000 })
    // Compressed packets are sent as they are, the last one short.
    expect(romPlan.plan.packets.map((p) => [p.name, p.sequence, p.data.length])).toEqual([
      ['FLASH_DEFL_DATA', 0, 0x400],
      ['FLASH_DEFL_DATA', 1, 0x100],
    ])
    expect(toHex(mustEncode(romPlan.plan.begin).subarray(8))).toBe('001c0000' + '02000000' + '00040000' + '00000200' + '00000000')
  })

  it('refuses what cannot be written, with a reason', () => {
    expect(planFlashWrite({ target: rom('ESP32'), offset: 0, image: new Uint8Array(0) })).toMatchObject({ ok: false, reason: 'empty-image' })
    expect(planFlashWrite({ target: rom('ESP32'), offset: -1, image: new Uint8Array(4) })).toMatchObject({ ok: false, reason: 'bad-offset' })
    expect(planFlashWrite({ target: rom('ESP32'), offset: 0, image: new Uint8Array(4), packetSize: 0 })).toMatchObject({ ok: false, reason: 'bad-packet-size' })
    expect(planFlashWrite({ target: rom('ESP32'), offset: 0, image: new Uint8Array(4), packetSize: 0x10000 })).toMatchObject({ ok: false, reason: 'bad-packet-size' })
    expect(planFlashWrite({ target: stub('ESP32'), offset: 0, image: new Uint8Array(5), deflated: new Uint8Array(3) })).toMatchObject({
      ok: false,
      reason: 'unaligned-image-for-compression',
    })
    expect(planFlashWrite({ target: stub('ESP32'), offset: 0x3ff000, image: new Uint8Array(0x2000), flashSize: 4 << 20 })).toMatchObject({
      ok: false,
      reason: 'does-not-fit',
    })
  })

  it('esptool: timeouts scale per megabyte above a 3 s floor; the ROM erases at FLASH_BEGIN', () => {
    expect(timeoutForSizeMs(8000, 1000)).toBe(3000)
    expect(timeoutForSizeMs(40_000, 2_000_000)).toBe(80_000)
    const plan = planFlashWrite({ target: rom('ESP32'), offset: 0, image: new Uint8Array(1 << 20) })
    if (!plan.ok) throw new Error(plan.detail)
    expect(flashBeginTimeoutMs(plan.plan, rom('ESP32'))).toBeCloseTo(41_943.04)
    expect(flashBeginTimeoutMs(plan.plan, stub('ESP32'))).toBe(3000)
  })
})

describe('reset into the bootloader', () => {
  it('esptool: the classic reset is "D0|R1|W0.1|D1|R0|W0.05|D0" and the tight one sets both lines per step', () => {
    expect(parseResetSequence('D0|R1|W0.1|D1|R0|W0.05|D0')).toEqual({ ok: true, sequence: { name: 'custom', steps: classicReset().steps } })
    expect(parseResetSequence('U0,0|U1,1|U0,1|W0.1|U1,0|W0.05|U0,0')).toEqual({ ok: true, sequence: { name: 'custom', steps: unixTightReset().steps } })
    expect(parseResetSequence('R0|D0|W0.1|D1|R0|W0.1|R1|D0|R1|W0.1|D0|R0')).toMatchObject({ ok: true })
    expect(classicReset(550).steps[3]).toEqual({ dtr: true, rts: false, delayMs: 550 })
  })

  it('drives EN and IO0 through the auto-reset transistors: equal lines leave both high', () => {
    expect(autoResetPins({ dtr: false, rts: false })).toEqual({ en: true, io0: true })
    expect(autoResetPins({ dtr: true, rts: true })).toEqual({ en: true, io0: true })
    expect(autoResetPins({ dtr: false, rts: true })).toEqual({ en: false, io0: true })
    expect(autoResetPins({ dtr: true, rts: false })).toEqual({ en: true, io0: false })
  })

  it('classic and tight resets boot a bridge-wired board into download mode; a hard reset boots the app', () => {
    expect(bootAfterReset(classicReset())).toBe('download')
    expect(bootAfterReset(classicReset(550))).toBe('download')
    expect(bootAfterReset(unixTightReset())).toBe('download')
    expect(bootAfterReset(hardReset())).toBe('flash')
    expect(bootAfterReset(hardReset({ usesUsb: true }))).toBe('flash')
    expect(bootAfterReset({ name: 'custom', steps: [{ dtr: true, rts: false, delayMs: 10 }] })).toBe('no-reset')
  })

  it('esptool: picks the USB-Serial/JTAG sequence for 303A:1001 and the bridge sequences otherwise', () => {
    expect(resetSequencesFor({ vendorId: 0x303a, productId: 0x1001 }).map((s) => s.name)).toEqual(['usb-jtag-serial'])
    expect(resetSequencesFor({ vendorId: 0x10c4, productId: 0xea60 }).map((s) => s.name)).toEqual(['unix-tight', 'unix-tight', 'classic', 'classic'])
    expect(resetSequencesFor({ canSetLinesTogether: false }).map((s) => s.name)).toEqual(['classic', 'classic'])
    expect(usbJtagSerialReset().steps.reduce((sum, s) => sum + s.delayMs, 0)).toBe(300)
  })

  it('refuses a malformed custom sequence', () => {
    expect(parseResetSequence('D2')).toMatchObject({ ok: false })
    expect(parseResetSequence('U1')).toMatchObject({ ok: false })
    expect(parseResetSequence('W-1')).toMatchObject({ ok: false })
    expect(parseResetSequence('X1')).toMatchObject({ ok: false })
    expect(parseResetSequence('W0.1|D1')).toEqual({
      ok: true,
      sequence: { name: 'custom', steps: [{ dtr: false, rts: false, delayMs: 100 }, { dtr: true, rts: false, delayMs: 0 }] },
    })
  })
})

describe('boot log', () => {
  it('reads the ROM boot message esptool looks for after a reset', () => {
    const download = parseBootMessage('ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n')
    expect(download).toEqual({
      bootMode: 3,
      bootModeText: 'DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2)',
      waitingForDownload: true,
      resetCause: { code: 1, name: 'POWERON_RESET' },
    })
    const app = parseBootMessage('rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nconfigsip: 0, SPIWP:0xee\r\n')
    expect(app).toMatchObject({ bootMode: 0x13, bootModeText: 'SPI_FAST_FLASH_BOOT', waitingForDownload: false })
    expect(syncFailureHint(app!)).toBe('Wrong boot mode detected (0x13)! The chip needs to be in download mode.')
    expect(syncFailureHint(download!)).toContain('serial TX path')
    expect(parseBootMessage('hello')).toBeNull()
  })

  it('spots a panic in unframed bytes, as esptool does', () => {
    expect(detectPanic("Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.")).toEqual({ cause: 'LoadProhibited' })
    expect(detectPanic('Fatal exception (28): LoadProhibited\nepc1=0x40201234')).toEqual({ cause: 'LoadProhibited' })
    expect(detectPanic('I (312) cpu_start: Starting scheduler')).toBeNull()
  })
})
