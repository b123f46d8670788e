// Planning a flash write the way esptool's write_flash does it (doc "Writing Data"): one *_BEGIN with the
// sizes, then numbered *_DATA packets, the last uncompressed one padded with 0xFF. Compression (zlib
// deflate) needs a library and so happens outside shared/domain: the caller pads the image with
// padFlashImage, deflates exactly those bytes and hands both in.

import { hex32, isU32 } from './bytes'
import type { LoaderCommand } from './commands'
import { flashBeginTakesEncryptedWord, flashSectorSize, flashWriteSize, ramBlockSize, type LoaderTarget } from './chips'
import { maxPacketDataLength } from './packets'

/** Largest *_DATA block that fits the 16-bit size field after the 16-byte data prefix. */
export const maxDataBlockSize = maxPacketDataLength - 16

export function packetCount(length: number, packetSize: number): number {
  return Math.ceil(length / packetSize)
}

/** esptool pads images to 4 bytes, or to 32 for encrypted writes, with 0xFF (write_flash, pad_to). */
export function flashImageAlignment(encrypted = false): number {
  return encrypted ? 32 : 4
}

/** The bytes that go to flash: the image with 0xFF up to the alignment. Deflate these for a compressed write. */
export function padFlashImage(image: Uint8Array, alignment = 4): Uint8Array {
  const padded = Math.ceil(image.length / alignment) * alignment
  if (padded === image.length) return image
  const out = new Uint8Array(padded).fill(0xff)
  out.set(image)
  return out
}

export type FlashDataCommand = Extract<LoaderCommand, { readonly name: 'FLASH_DATA' | 'FLASH_DEFL_DATA' }>
export type FlashBeginCommand = Extract<LoaderCommand, { readonly name: 'FLASH_BEGIN' | 'FLASH_DEFL_BEGIN' }>

export interface FlashWriteRequest {
  readonly target: LoaderTarget
  readonly offset: number
  /** The file as read; padded here to the alignment. */
  readonly image: Uint8Array
  /** zlib-deflated padFlashImage(image) for a compressed write (FLASH_DEFL_*); absent for FLASH_DATA. */
  readonly deflated?: Uint8Array
  /** Block per *_DATA packet; esptool's for the loader when absent (see flashWriteSize). */
  readonly packetSize?: number
  /** Sends 1 in the ROM's fifth FLASH_BEGIN word and pads to 32 bytes. */
  readonly encrypted?: boolean
  /** Refuses a write that would run past the end of flash when given. */
  readonly flashSize?: number
}

export interface FlashWritePlan {
  readonly mode: 'uncompressed' | 'compressed'
  readonly offset: number
  /** The padded image that ends up in flash: hash this to compare with SPI_FLASH_MD5 over (offset, imageSize). */
  readonly image: Uint8Array
  readonly imageSize: number
  readonly packetSize: number
  readonly packetCount: number
  readonly begin: FlashBeginCommand
  /** Sequence numbers run from 0; each packet's checksum is computed when it is encoded. */
  readonly packets: readonly FlashDataCommand[]
  /** Whole flash sectors the write touches (the ROM erases them at *_BEGIN, the stub as it writes). */
  readonly erasedRange: { readonly start: number; readonly end: number }
}

export type FlashPlanRefusal =
  | 'empty-image'
  | 'bad-offset'
  | 'bad-packet-size'
  | 'unaligned-image-for-compression'
  | 'compression-unsupported'
  | 'encryption-unsupported'
  | 'does-not-fit'

export type FlashPlanResult =
  | { readonly ok: true; readonly plan: FlashWritePlan }
  | { readonly ok: false; readonly reason: FlashPlanRefusal; readonly detail: string }

export function planFlashWrite(request: FlashWriteRequest): FlashPlanResult {
  const { target, offset } = request
  const encrypted = request.encrypted ?? false
  const refuse = (reason: FlashPlanRefusal, detail: string): FlashPlanResult => ({ ok: false, reason, detail })

  if (request.image.length === 0) return refuse('empty-image', 'The image is empty; there is nothing to write.')
  if (!isU32(offset)) return refuse('bad-offset', `Offset ${offset} is not a flash address.`)
  const packetSize = request.packetSize ?? flashWriteSize(target)
  if (!Number.isInteger(packetSize) || packetSize <= 0 || packetSize > maxDataBlockSize) {
    return refuse('bad-packet-size', `Packet size ${packetSize} must be between 1 and ${maxDataBlockSize} bytes.`)
  }
  if (encrypted && !flashBeginTakesEncryptedWord(target)) {
    return refuse('encryption-unsupported', `The ${target.chip.name} ${target.loader} loader has no encrypted-write word in FLASH_BEGIN.`)
  }
  const alignment = flashImageAlignment(encrypted)
  const compressed = request.deflated !== undefined
  if (compressed && request.image.length % alignment !== 0) {
    return refuse(
      'unaligned-image-for-compression',
      `The image is ${request.image.length} bytes; pad it with padFlashImage(image, ${alignment}) before deflating so the loader writes what was compressed.`,
    )
  }
  if (compressed && target.loader === 'rom' && !target.chip.rom.compressedWrites) {
    return refuse('compression-unsupported', `The ${target.chip.name} ROM loader has no FLASH_DEFL_* commands.`)
  }
  const image = padFlashImage(request.image, alignment)
  const imageSize = image.length
  if (!isU32(offset + imageSize)) return refuse('does-not-fit', 'The write runs past the 32-bit address space.')
  if (request.flashSize !== undefined && offset + imageSize > request.flashSize) {
    return refuse(
      'does-not-fit',
      `${imageSize} bytes at ${hex32(offset)} end at ${hex32(offset + imageSize)}, past the ${request.flashSize}-byte flash.`,
    )
  }
  const encryptedWord = flashBeginTakesEncryptedWord(target) ? { encrypted } : {}
  const erasedRange = {
    start: Math.floor(offset / flashSectorSize) * flashSectorSize,
    end: Math.ceil((offset + imageSize) / flashSectorSize) * flashSectorSize,
  }

  if (request.deflated !== undefined) {
    const deflated = request.deflated
    if (deflated.length === 0) return refuse('empty-image', 'The deflated image is empty.')
    const count = packetCount(deflated.length, packetSize)
    // esptool flash_defl_begin: the stub takes the exact byte count and erases as it goes; the ROM erases
    // up front and wants the size "rounded up to flash erase block size", i.e. whole packets.
    const writeSize = target.loader === 'stub' ? imageSize : packetCount(imageSize, packetSize) * packetSize
    const packets: FlashDataCommand[] = []
    for (let sequence = 0; sequence < count; sequence++) {
      packets.push({ name: 'FLASH_DEFL_DATA', sequence, data: deflated.subarray(sequence * packetSize, (sequence + 1) * packetSize) })
    }
    return {
      ok: true,
      plan: {
        mode: 'compressed',
        offset,
        image,
        imageSize,
        packetSize,
        packetCount: count,
        begin: { name: 'FLASH_DEFL_BEGIN', writeSize, packetCount: count, packetSize, offset, ...encryptedWord },
        packets,
        erasedRange,
      },
    }
  }

  const count = packetCount(imageSize, packetSize)
  const packets: FlashDataCommand[] = []
  for (let sequence = 0; sequence < count; sequence++) {
    let data = image.subarray(sequence * packetSize, (sequence + 1) * packetSize)
    if (data.length < packetSize) {
      // "The last data block should be padded to the block size with 0xFF bytes."
      const padded = new Uint8Array(packetSize).fill(0xff)
      padded.set(data)
      data = padded
    }
    packets.push({ name: 'FLASH_DATA', sequence, data })
  }
  return {
    ok: true,
    plan: {
      mode: 'uncompressed',
      offset,
      image,
      imageSize,
      packetSize,
      packetCount: count,
      // ESP32-family ROMs take the erase size as is (esptool ESP32ROM.get_erase_size returns size); only the
      // ESP8266 ROM needs the erase-size workaround the doc describes, and the console does not flash it.
      begin: { name: 'FLASH_BEGIN', eraseSize: imageSize, packetCount: count, packetSize, offset, ...encryptedWord },
      packets,
      erasedRange,
    },
  }
}

export interface RamDownloadPlan {
  readonly begin: Extract<LoaderCommand, { readonly name: 'MEM_BEGIN' }>
  readonly packets: readonly Extract<LoaderCommand, { readonly name: 'MEM_DATA' }>[]
}

/** esptool _upload_segment: MEM_BEGIN (size, blocks, block size, address) and unpadded MEM_DATA blocks. */
export function planRamDownload(segment: Uint8Array, address: number, blockSize = ramBlockSize): RamDownloadPlan {
  const count = packetCount(segment.length, blockSize)
  const packets: Extract<LoaderCommand, { readonly name: 'MEM_DATA' }>[] = []
  for (let sequence = 0; sequence < count; sequence++) {
    packets.push({ name: 'MEM_DATA', sequence, data: segment.subarray(sequence * blockSize, (sequence + 1) * blockSize) })
  }
  return { begin: { name: 'MEM_BEGIN', size: segment.length, packetCount: count, packetSize: blockSize, address }, packets }
}

// ---------------------------------------------------------------------------------------------------------
// Timeouts: esptool's numbers (loader.py), as durations for the transport to apply.

export const loaderTimeoutsMs = {
  /** DEFAULT_TIMEOUT, "for most flash operations", and the floor of every size-scaled timeout. */
  default: 3000,
  /** SYNC_TIMEOUT. */
  sync: 100,
  /** CHIP_ERASE_TIMEOUT, for ERASE_FLASH. */
  chipErase: 120_000,
  /** MEM_END_ROM_TIMEOUT: the ROM may never answer MEM_END once the code it started resets the UART. */
  memEndRom: 200,
} as const

export const loaderTimeoutsMsPerMb = {
  md5: 8000,
  eraseRegion: 40_000,
  eraseWrite: 40_000,
} as const

/** esptool timeout_per_mb: scaled by size (per 10^6 bytes), never below the default. */
export function timeoutForSizeMs(msPerMb: number, sizeBytes: number): number {
  return Math.max(loaderTimeoutsMs.default, (msPerMb * sizeBytes) / 1e6)
}

/** The ROM erases the whole region at *_BEGIN, so its answer can take a while; the stub answers at once. */
export function flashBeginTimeoutMs(plan: FlashWritePlan, target: LoaderTarget): number {
  if (target.loader === 'stub') return loaderTimeoutsMs.default
  const size = plan.begin.name === 'FLASH_BEGIN' ? plan.begin.eraseSize : plan.begin.writeSize
  return timeoutForSizeMs(loaderTimeoutsMsPerMb.eraseRegion, size)
}
