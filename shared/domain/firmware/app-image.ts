// Reading and checking an ESP-IDF firmware image before a byte of it is flashed: the "app image
// format" of ESP-IDF (api-reference/system/app_image_format), which bootloaders use too.
//
//   24-byte header   magic 0xE9, segment count, SPI mode, flash size|freq, entry point,
//                    WP pin, pin drive, chip_id, min_chip_rev, min/max_chip_rev_full, hash_appended
//   segments         { load address, length, data } × segment count
//   footer           0-15 padding bytes, then the XOR checksum of all segment data (seed 0xEF) as the
//                    last byte of a 16-byte block; then, if hash_appended, SHA-256 of everything before it
//
// Whatever follows (a Secure Boot signature sector, 0xFF padding) is not part of the image and is left alone.
// Field meanings and checks follow ESP-IDF's esp_image_format.c (what the device will accept) and
// esptool's image_info / write_flash (what a flasher shows and refuses); tests compare against esptool's
// own output in shared/fixtures/esptool/expected.
//
// The SHA-256 is computed by a function the caller passes in. The domain stays pure (no node:crypto, no
// Web Crypto), and a successful parse still means "every integrity check the format allows has passed":
// handing back the region and the stored digest instead would make `ok: true` a half-truth and leave a
// security-relevant comparison for every caller to remember.

import { chipForImageId, formatChipRevision, memoryTypesAt, ESP_CHIPS, type EspChip, type EspChipName } from './chips'

export const ESP_IMAGE_MAGIC = 0xe9
/** Seed of the XOR checksum over segment data (esptool's ESP_CHECKSUM_MAGIC). */
export const ESP_CHECKSUM_SEED = 0xef
/** ESP_IMAGE_MAX_SEGMENTS in ESP-IDF; esptool refuses more too ("usually a linker script problem"). */
export const ESP_IMAGE_MAX_SEGMENTS = 16
export const ESP_APP_DESC_MAGIC_WORD = 0xabcd5432
export const ESP_BOOTLOADER_DESC_MAGIC_BYTE = 0x50

const IMAGE_HEADER_BYTES = 24
const SEGMENT_HEADER_BYTES = 8
const SHA256_BYTES = 32
const APP_DESC_BYTES = 256
const BOOTLOADER_DESC_BYTES = 80
/** ESP-IDF's verify_segment_header refuses segments this long or longer. */
const SEGMENT_LENGTH_LIMIT = 16 * 1024 * 1024
/** wp_pin value meaning "no WP pin": what ESP-IDF's own bootloader and apps write. */
const WP_PIN_DISABLED = 0xee
/** max_chip_rev_full left at its default: no upper limit. */
const MAX_CHIP_REVISION_NOT_SET = 0xffff

export type FlashMode = 'QIO' | 'QOUT' | 'DIO' | 'DOUT'
const FLASH_MODES: readonly FlashMode[] = ['QIO', 'QOUT', 'DIO', 'DOUT']

/** Flash pin drive strengths, two nibbles per header byte, as the ROM bootloader reads them. */
export interface FlashPinDrive {
  clk: number
  q: number
  d: number
  cs0: number
  hd: number
  wp: number
}

export interface ImageSegment {
  index: number
  loadAddress: number
  /** Data bytes, without the 8-byte segment header. */
  length: number
  /** File offset of the segment's 8-byte header: the column esptool prints as "File offs". */
  fileOffset: number
  /** File offset of the first data byte (fileOffset + 8). */
  dataOffset: number
  /** esptool's memory types for the load address; empty when the chip id is unknown. */
  memoryTypes: readonly string[]
}

/** esp_app_desc_t: at the start of the first segment of every ESP-IDF application. */
export interface AppDescription {
  secureVersion: number
  version: string
  projectName: string
  /** __TIME__ of the build, e.g. "19:46:07". */
  compileTime: string
  /** __DATE__ of the build, e.g. "Sep 13 2022". */
  compileDate: string
  idfVersion: string
  /** SHA-256 of the ELF the image was made from, lowercase hex: ties a binary to its debug symbols. */
  appElfSha256: string
  /** major * 100 + minor, like the chip revisions. */
  minEfuseBlockRevisionFull: number
  maxEfuseBlockRevisionFull: number
  /** Flash MMU page size in bytes; undefined when the field is 0 (ESP-IDF before v5.4 leaves it unset). */
  mmuPageSize?: number
}

/** esp_bootloader_desc_t: at the start of the first (DRAM) segment of ESP-IDF v5.2+ bootloaders. */
export interface BootloaderDescription {
  version: number
  idfVersion: string
  /** "Apr 25 2023 00:13:32" */
  compileDateTime: string
}

export interface AppImage {
  /** Told apart by the description the first segment carries; older bootloaders carry none. */
  kind: 'application' | 'bootloader' | 'unidentified'
  /** Bytes handed to the parser. */
  fileLength: number
  /** Bytes from the magic byte through the checksum and the appended SHA-256: what the bootloader reads. */
  imageLength: number
  /** 0 means not set (esptool prints "Entry point not set"). */
  entryPoint: number
  flashMode: { code: number; name?: FlashMode }
  flashSize: { code: number; name?: string; bytes?: number }
  /** The frequency nibble means different things on different chips: no name when the chip is unknown. */
  flashFrequency: { code: number; name?: string }
  wpPin: number
  wpPinDisabled: boolean
  flashPinDrive: FlashPinDrive
  chipId: number
  chip?: EspChipName
  /** The old one-byte min_chip_rev: major revision, or minor on the ESP32-C3. */
  legacyMinChipRevision: number
  /** major * 100 + minor; see formatChipRevision. */
  minChipRevisionFull: number
  /** major * 100 + minor; 0xFFFF is "not set", and 0 is an image from before the field existed. */
  maxChipRevisionFull: number
  hashAppended: boolean
  segments: readonly ImageSegment[]
  checksum: number
  /** The appended SHA-256, lowercase hex, already checked against the image bytes. */
  validationHash?: string
  appDescription?: AppDescription
  bootloaderDescription?: BootloaderDescription
}

export type ImageFault =
  | { kind: 'empty' }
  | { kind: 'bad-magic'; found: number; looksLike?: 'partition table' }
  | { kind: 'truncated-header'; fileLength: number }
  | { kind: 'no-segments' }
  | { kind: 'too-many-segments'; count: number; max: number }
  | { kind: 'bad-hash-appended-flag'; value: number }
  | {
      kind: 'truncated-segment'
      segment: number
      part: 'header' | 'data'
      /** Where the segment's header starts. */
      fileOffset: number
      declaredLength?: number
      /** Bytes the file still had after the header (or at the header, when the header itself is cut). */
      available: number
    }
  | { kind: 'bad-segment-length'; segment: number; length: number; reason: 'not a multiple of 4' | '16 MB or more' }
  | { kind: 'truncated-footer'; part: 'checksum' | 'SHA-256'; needed: number; fileLength: number }
  | { kind: 'checksum-mismatch'; stored: number; calculated: number }
  | { kind: 'sha256-mismatch'; stored: string; calculated: string }
  | { kind: 'truncated-app-description'; segmentLength: number }
  | { kind: 'wrong-chip'; imageChipId: number; imageChip?: EspChipName; boardChip: EspChipName }
  | {
      kind: 'unsupported-chip-revision'
      rule: 'full' | 'legacy major' | 'legacy minor'
      /** full: major*100+minor; legacy: the bare major or minor number. */
      minimum: number
      /** full rule only, and only when the image sets an upper limit. */
      maximum?: number
      boardChip: EspChipName
      boardRevision: ChipRevision
    }
  | { kind: 'image-too-large'; imageBytes: number; partitionBytes: number }
  | { kind: 'invalid-size'; what: 'image' | 'partition'; value: number }

/** Every fault carries a sentence an engineer can act on, written in one place (describe, below). */
export type ImageError = ImageFault & { message: string }

export type AppImageResult = { ok: true; image: AppImage } | { ok: false; error: ImageError }
export type ImageCheck = { ok: true } | { ok: false; error: ImageError }

export interface ParseAppImageOptions {
  /** Synchronous SHA-256 (the core passes node:crypto's). Required, so no caller can skip the digest. */
  sha256: (bytes: Uint8Array) => Uint8Array
}

/** As read from the chip's eFuses (esptool's get_major/minor_chip_version). */
export interface ChipRevision {
  major: number
  minor: number
}

export function parseAppImage(bytes: Uint8Array, options: ParseAppImageOptions): AppImageResult {
  const fail = (fault: ImageFault): AppImageResult => ({ ok: false, error: imageError(fault) })
  const fileLength = bytes.byteLength
  const view = new DataView(bytes.buffer, bytes.byteOffset, fileLength)

  if (fileLength === 0) return fail({ kind: 'empty' })
  const magic = view.getUint8(0)
  if (magic !== ESP_IMAGE_MAGIC) {
    // 0xAA 0x50 opens every partition table entry: the commonest wrong file picked from build/.
    const partitionTable = magic === 0xaa && fileLength > 1 && view.getUint8(1) === 0x50
    return fail({ kind: 'bad-magic', found: magic, ...(partitionTable ? { looksLike: 'partition table' as const } : {}) })
  }
  if (fileLength < IMAGE_HEADER_BYTES) return fail({ kind: 'truncated-header', fileLength })

  const segmentCount = view.getUint8(1)
  if (segmentCount === 0) return fail({ kind: 'no-segments' })
  if (segmentCount > ESP_IMAGE_MAX_SEGMENTS) return fail({ kind: 'too-many-segments', count: segmentCount, max: ESP_IMAGE_MAX_SEGMENTS })
  const hashAppendedFlag = view.getUint8(23)
  if (hashAppendedFlag > 1) return fail({ kind: 'bad-hash-appended-flag', value: hashAppendedFlag })

  const chipId = view.getUint16(12, true)
  const chip = chipForImageId(chipId)

  const segments: ImageSegment[] = []
  let checksum = ESP_CHECKSUM_SEED
  let offset = IMAGE_HEADER_BYTES
  for (let index = 0; index < segmentCount; index++) {
    const available = fileLength - offset
    if (available < SEGMENT_HEADER_BYTES) {
      return fail({ kind: 'truncated-segment', segment: index, part: 'header', fileOffset: offset, available: Math.max(available, 0) })
    }
    const loadAddress = view.getUint32(offset, true)
    const length = view.getUint32(offset + 4, true)
    const dataOffset = offset + SEGMENT_HEADER_BYTES
    if (length > fileLength - dataOffset) {
      const rest = fileLength - dataOffset
      return fail({ kind: 'truncated-segment', segment: index, part: 'data', fileOffset: offset, declaredLength: length, available: rest })
    }
    if (length % 4 !== 0) return fail({ kind: 'bad-segment-length', segment: index, length, reason: 'not a multiple of 4' })
    if (length >= SEGMENT_LENGTH_LIMIT) return fail({ kind: 'bad-segment-length', segment: index, length, reason: '16 MB or more' })
    for (let i = dataOffset; i < dataOffset + length; i++) checksum ^= view.getUint8(i)
    segments.push({
      index,
      loadAddress,
      length,
      fileOffset: offset,
      dataOffset,
      memoryTypes: chip ? memoryTypesAt(chip, loadAddress) : [],
    })
    offset = dataOffset + length
  }

  // The checksum is the last byte of the 16-byte block the segments end in.
  const checksumOffset = offset + (15 - (offset % 16))
  if (checksumOffset >= fileLength) return fail({ kind: 'truncated-footer', part: 'checksum', needed: checksumOffset + 1, fileLength })
  const storedChecksum = view.getUint8(checksumOffset)
  if (storedChecksum !== checksum) return fail({ kind: 'checksum-mismatch', stored: storedChecksum, calculated: checksum })

  const hashAppended = hashAppendedFlag === 1
  let imageLength = checksumOffset + 1
  let validationHash: string | undefined
  if (hashAppended) {
    const digestEnd = imageLength + SHA256_BYTES
    if (digestEnd > fileLength) return fail({ kind: 'truncated-footer', part: 'SHA-256', needed: digestEnd, fileLength })
    const stored = toHex(bytes.subarray(imageLength, digestEnd))
    const calculated = toHex(options.sha256(bytes.subarray(0, imageLength)))
    if (stored !== calculated) return fail({ kind: 'sha256-mismatch', stored, calculated })
    validationHash = calculated
    imageLength = digestEnd
  }

  const first = segments[0] as ImageSegment
  const firstData = bytes.subarray(first.dataOffset, first.dataOffset + first.length)
  let appDescription: AppDescription | undefined
  let bootloaderDescription: BootloaderDescription | undefined
  // ESP-IDF reads both descriptions at a fixed place, the start of the first segment (image offset 0x20),
  // and tells them apart by magic. The bootloader's magic is one byte, so it also has to sit in DRAM,
  // as esptool requires, before it is believed.
  if (firstData.length >= 4 && view.getUint32(first.dataOffset, true) === ESP_APP_DESC_MAGIC_WORD) {
    if (firstData.length < APP_DESC_BYTES) return fail({ kind: 'truncated-app-description', segmentLength: firstData.length })
    appDescription = readAppDescription(firstData)
  } else if (
    firstData.length >= BOOTLOADER_DESC_BYTES &&
    firstData[0] === ESP_BOOTLOADER_DESC_MAGIC_BYTE &&
    first.memoryTypes.includes('DRAM')
  ) {
    bootloaderDescription = readBootloaderDescription(firstData)
  }

  const sizeCode = view.getUint8(3) >> 4
  const frequencyCode = view.getUint8(3) & 0x0f
  const modeCode = view.getUint8(2)
  const drive = [view.getUint8(9), view.getUint8(10), view.getUint8(11)] as const
  const wpPin = view.getUint8(8)

  const image: AppImage = {
    kind: appDescription ? 'application' : bootloaderDescription ? 'bootloader' : 'unidentified',
    fileLength,
    imageLength,
    entryPoint: view.getUint32(4, true),
    flashMode: { code: modeCode, name: FLASH_MODES[modeCode] },
    // The size nibble is log2 of MB from 1MB up (esptool's FLASH_SIZES, the same for every ESP32-class chip).
    flashSize: sizeCode <= 7 ? { code: sizeCode, name: `${2 ** sizeCode}MB`, bytes: 2 ** sizeCode * 1024 * 1024 } : { code: sizeCode },
    flashFrequency: { code: frequencyCode, name: chip?.flashFrequencies.get(frequencyCode) },
    wpPin,
    wpPinDisabled: wpPin === WP_PIN_DISABLED,
    // Low nibble first, as esptool's split_byte reads them.
    flashPinDrive: {
      clk: drive[0] & 0x0f,
      q: drive[0] >> 4,
      d: drive[1] & 0x0f,
      cs0: drive[1] >> 4,
      hd: drive[2] & 0x0f,
      wp: drive[2] >> 4,
    },
    chipId,
    chip: chip?.name,
    legacyMinChipRevision: view.getUint8(14),
    minChipRevisionFull: view.getUint16(15, true),
    maxChipRevisionFull: view.getUint16(17, true),
    hashAppended,
    segments,
    checksum,
    validationHash,
    appDescription,
    bootloaderDescription,
  }
  return { ok: true, image }
}

/**
 * Will this image run on this board? The chip id must match. If the board's revision is known, it must
 * also be inside the image's range, decided the way esptool's write_flash decides it: the full
 * major*100+minor fields when the image sets them, else the legacy byte (major revision, minor on the
 * ESP32-C3). ESP-IDF's bootloader applies the same limits when it boots the image.
 */
export function checkImageForChip(image: AppImage, chip: EspChipName, revision?: ChipRevision): ImageCheck {
  const board = ESP_CHIPS[chip]
  if (image.chipId !== board.imageChipId) {
    return refuse({ kind: 'wrong-chip', imageChipId: image.chipId, ...(image.chip ? { imageChip: image.chip } : {}), boardChip: chip })
  }
  if (!revision) return { ok: true }

  if (usesFullRevisionFields(image)) {
    const full = revision.major * 100 + revision.minor
    const maximum = image.maxChipRevisionFull === MAX_CHIP_REVISION_NOT_SET ? undefined : image.maxChipRevisionFull
    if (full < image.minChipRevisionFull || (maximum !== undefined && full > maximum)) {
      return refuse({
        kind: 'unsupported-chip-revision',
        rule: 'full',
        minimum: image.minChipRevisionFull,
        maximum,
        boardChip: chip,
        boardRevision: revision,
      })
    }
    return { ok: true }
  }
  const legacy = legacyRevisionOf(board, revision)
  if (legacy < image.legacyMinChipRevision) {
    return refuse({
      kind: 'unsupported-chip-revision',
      rule: board.legacyMinRevisionIs === 'minor' ? 'legacy minor' : 'legacy major',
      minimum: image.legacyMinChipRevision,
      boardChip: chip,
      boardRevision: revision,
    })
  }
  return { ok: true }
}

/**
 * Does a file of `imageByteLength` bytes fit a partition of `partitionSize` bytes? Pass the length of
 * everything that will be written (the whole file, signature sector included), not AppImage.imageLength.
 */
export function checkImageFitsPartition(imageByteLength: number, partitionSize: number): ImageCheck {
  if (!isByteCount(imageByteLength)) return refuse({ kind: 'invalid-size', what: 'image', value: imageByteLength })
  if (!isByteCount(partitionSize)) return refuse({ kind: 'invalid-size', what: 'partition', value: partitionSize })
  if (imageByteLength > partitionSize) return refuse({ kind: 'image-too-large', imageBytes: imageByteLength, partitionBytes: partitionSize })
  return { ok: true }
}

// esptool's write_flash: max 0 is an image from before the full fields existed; max 0xFFFF with
// min 0 but a legacy byte set is an IDF build that only filled in the legacy byte.
function usesFullRevisionFields(image: AppImage): boolean {
  if (image.maxChipRevisionFull === 0) return false
  if (image.maxChipRevisionFull === MAX_CHIP_REVISION_NOT_SET) return !(image.minChipRevisionFull === 0 && image.legacyMinChipRevision !== 0)
  return true
}

function legacyRevisionOf(chip: EspChip, revision: ChipRevision): number {
  return chip.legacyMinRevisionIs === 'minor' ? revision.minor : revision.major
}

function isByteCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

function refuse(fault: ImageFault): ImageCheck {
  return { ok: false, error: imageError(fault) }
}

function imageError(fault: ImageFault): ImageError {
  return { ...fault, message: describe(fault) }
}

function describe(fault: ImageFault): string {
  switch (fault.kind) {
    case 'empty':
      return 'The file is empty; an ESP firmware image starts with a 24-byte header.'
    case 'bad-magic':
      return (
        `Not an ESP firmware image: the first byte is ${hex(fault.found)}, an image starts with ${hex(ESP_IMAGE_MAGIC)}.` +
        (fault.looksLike ? ` This looks like a ${fault.looksLike}.` : '')
      )
    case 'truncated-header':
      return `The file is ${fault.fileLength} bytes, too short for the ${IMAGE_HEADER_BYTES}-byte image header.`
    case 'no-segments':
      return 'The image header declares 0 segments, so there is nothing to load.'
    case 'too-many-segments':
      return (
        `The image header declares ${fault.count} segments; the bootloader accepts at most ${fault.max}. ` +
        'Usually a linker script problem, or not an image at all.'
      )
    case 'bad-hash-appended-flag':
      return `The hash_appended byte of the header is ${hex(fault.value)}; it must be 0 or 1.`
    case 'truncated-segment':
      if (fault.part === 'header') {
        return (
          `Truncated segment ${fault.segment}: its 8-byte header at file offset ${hex(fault.fileOffset)} ` +
          `runs past the end of the file (${fault.available} bytes left).`
        )
      }
      return (
        `Truncated segment ${fault.segment}: it declares ${fault.declaredLength} bytes (${hex(fault.declaredLength ?? 0)}) ` +
        `after its header at file offset ${hex(fault.fileOffset)}, but only ${fault.available} bytes are left in the file.`
      )
    case 'bad-segment-length':
      return (
        `Segment ${fault.segment} declares a length of ${fault.length} bytes (${hex(fault.length)}), ${fault.reason}; ` +
        'the bootloader refuses such a segment.'
      )
    case 'truncated-footer':
      if (fault.part === 'checksum') {
        return (
          `The image is truncated: its checksum byte belongs at file offset ${hex(fault.needed - 1)}, ` +
          `but the file is only ${fault.fileLength} bytes.`
        )
      }
      return (
        'The image is truncated: the header says a SHA-256 digest follows the checksum, ' +
        `which needs ${fault.needed} bytes, but the file is only ${fault.fileLength} bytes.`
      )
    case 'checksum-mismatch':
      return (
        `Checksum mismatch: the image stores ${hex(fault.stored)}, but the segment data XORs to ${hex(fault.calculated)}. ` +
        'The file is corrupt.'
      )
    case 'sha256-mismatch':
      return (
        `SHA-256 mismatch: the image stores ${fault.stored}, but the image bytes hash to ${fault.calculated}. ` +
        'The file is corrupt or was changed after it was built.'
      )
    case 'truncated-app-description':
      return `The first segment starts with the app description magic but holds only ${fault.segmentLength} of its ${APP_DESC_BYTES} bytes.`
    case 'wrong-chip':
      return `Image for ${fault.imageChip ?? `an unknown chip (chip id ${fault.imageChipId})`} but the board is an ${fault.boardChip}.`
    case 'unsupported-chip-revision': {
      const board = `this ${fault.boardChip} is ${formatChipRevision(fault.boardRevision.major * 100 + fault.boardRevision.minor)}`
      if (fault.rule === 'full') {
        const upTo = fault.maximum === undefined ? 'any later revision' : formatChipRevision(fault.maximum)
        return `Image needs chip revision ${formatChipRevision(fault.minimum)} to ${upTo}, but ${board}.`
      }
      const part = fault.rule === 'legacy minor' ? 'minor' : 'major'
      return `Image needs ${part} chip revision ${fault.minimum} or higher (the legacy min_chip_rev byte), but ${board}.`
    }
    case 'image-too-large':
      return (
        `Image larger than its partition: ${fault.imageBytes} bytes (${hex(fault.imageBytes)}) into ` +
        `${fault.partitionBytes} bytes (${hex(fault.partitionBytes)}), ${fault.imageBytes - fault.partitionBytes} bytes too many.`
      )
    case 'invalid-size':
      return `The ${fault.what} size ${fault.value} is not a byte count.`
  }
}

function readAppDescription(desc: Uint8Array): AppDescription {
  const view = new DataView(desc.buffer, desc.byteOffset, desc.byteLength)
  const mmuPageSizeLog2 = view.getUint8(180)
  return {
    secureVersion: view.getUint32(4, true),
    version: cString(desc, 16, 32),
    projectName: cString(desc, 48, 32),
    compileTime: cString(desc, 80, 16),
    compileDate: cString(desc, 96, 16),
    idfVersion: cString(desc, 112, 32),
    appElfSha256: toHex(desc.subarray(144, 176)),
    minEfuseBlockRevisionFull: view.getUint16(176, true),
    maxEfuseBlockRevisionFull: view.getUint16(178, true),
    mmuPageSize: mmuPageSizeLog2 === 0 ? undefined : 2 ** mmuPageSizeLog2,
  }
}

function readBootloaderDescription(desc: Uint8Array): BootloaderDescription {
  const view = new DataView(desc.buffer, desc.byteOffset, desc.byteLength)
  return {
    version: view.getUint32(4, true),
    idfVersion: cString(desc, 8, 32),
    compileDateTime: cString(desc, 40, 24),
  }
}

/** A fixed-size char[] field: up to the first NUL, or all of it when the text fills the field (IDF truncates long versions). */
function cString(bytes: Uint8Array, start: number, size: number): string {
  const field = bytes.subarray(start, start + size)
  const nul = field.indexOf(0)
  return decodeUtf8(nul === -1 ? field : field.subarray(0, nul))
}

// TextDecoder is a DOM/Node global, not ES2023, so shared/domain decodes by hand. Invalid sequences
// become U+FFFD rather than an exception: the description is informational, the checks above are not.
function decodeUtf8(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number
    const extra = lead < 0x80 ? 0 : lead >= 0xc2 && lead < 0xe0 ? 1 : lead >= 0xe0 && lead < 0xf0 ? 2 : lead >= 0xf0 && lead < 0xf5 ? 3 : -1
    let codePoint = extra === 0 ? lead : extra === 1 ? lead & 0x1f : extra === 2 ? lead & 0x0f : lead & 0x07
    let valid = extra >= 0 && i + extra < bytes.length
    for (let k = 1; valid && k <= extra; k++) {
      const next = bytes[i + k] as number
      if ((next & 0xc0) !== 0x80) valid = false
      else codePoint = (codePoint << 6) | (next & 0x3f)
    }
    const tooSmall = (extra === 2 && codePoint < 0x800) || (extra === 3 && codePoint < 0x10000)
    if (!valid || tooSmall || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
      text += '\ufffd'
      i += 1
    } else {
      text += String.fromCodePoint(codePoint)
      i += extra + 1
    }
  }
  return text
}

function toHex(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0')
  return text
}

function hex(value: number): string {
  return `0x${value.toString(16)}`
}
