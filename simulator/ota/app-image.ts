// ESP-IDF application images for virtual nodes: small, but built to the app image format so the same
// checks a bootloader makes (shared/domain/firmware/app-image.ts) accept or refuse them for the same
// reasons. One DROM segment that starts with esp_app_desc_t (where ESP-IDF puts it, image offset 0x20),
// filler after it so an image has a download worth the name, the XOR checksum and the appended SHA-256.
import { createHash } from 'node:crypto'
import {
  ESP_APP_DESC_MAGIC_WORD,
  ESP_CHECKSUM_SEED,
  ESP_IMAGE_MAGIC,
  parseAppImage,
} from '../../shared/domain/firmware/app-image'
import { ESP_CHIPS, type EspChipName } from '../../shared/domain/firmware/chips'

export const sha256 = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest())
export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

export interface AppImageSpec {
  /** esp_app_desc_t.version: what the node reports as Properties/Firmware Version. At most 32 bytes. */
  version: string
  /** esp_app_desc_t.project_name. Default 'cold-room-node'. */
  projectName?: string
  /** The chip the header names. Default ESP32 (the fleet's ESP32-WROOM-32E). */
  chip?: EspChipName
  /** Bytes of segment data after the app description. Default 64 KiB. */
  payloadBytes?: number
  /** esp_app_desc_t.idf_ver. Default 'v5.3.2'. */
  idfVersion?: string
}

const headerBytes = 24
const segmentHeaderBytes = 8
const appDescBytes = 256
const textEncoder = new TextEncoder()

/** A valid ESP-IDF app image whose content is a function of the spec alone (same spec, same bytes). */
export function buildAppImage(spec: AppImageSpec): Uint8Array {
  const chip = ESP_CHIPS[spec.chip ?? 'ESP32']
  const payload = Math.ceil(Math.max(0, spec.payloadBytes ?? 64 * 1024) / 4) * 4
  const segmentLength = appDescBytes + payload
  const segmentEnd = headerBytes + segmentHeaderBytes + segmentLength
  // The checksum is the last byte of the 16-byte block the segments end in; the SHA-256 follows it.
  const checksumOffset = segmentEnd + (15 - (segmentEnd % 16))
  const imageLength = checksumOffset + 1 + 32
  const image = new Uint8Array(imageLength)
  const view = new DataView(image.buffer)

  const drom = chip.memoryMap.find((region) => region.type === 'DROM')
  const iram = chip.memoryMap.find((region) => region.type === 'IRAM') ?? chip.memoryMap.find((region) => region.type === 'IROM')
  image[0] = ESP_IMAGE_MAGIC
  image[1] = 1 // segments
  image[2] = 2 // DIO, what ESP-IDF projects default to
  image[3] = 0x20 // 4MB, and frequency code 0 (40 MHz on the ESP32)
  view.setUint32(4, (iram?.start ?? 0) + 0x400, true) // entry point
  image[8] = 0xee // no WP pin
  view.setUint16(12, chip.imageChipId, true)
  view.setUint16(17, 0xffff, true) // max_chip_rev_full: no upper limit
  image[23] = 1 // hash_appended

  view.setUint32(24, (drom?.start ?? 0) + 0x20, true)
  view.setUint32(28, segmentLength, true)
  const desc = headerBytes + segmentHeaderBytes
  view.setUint32(desc, ESP_APP_DESC_MAGIC_WORD, true)
  writeField(image, desc + 16, 32, spec.version)
  writeField(image, desc + 48, 32, spec.projectName ?? 'cold-room-node')
  writeField(image, desc + 80, 16, '12:00:00')
  writeField(image, desc + 96, 16, 'Jan  1 2025')
  writeField(image, desc + 112, 32, spec.idfVersion ?? 'v5.3.2')
  image.set(sha256(textEncoder.encode(`elf:${spec.version}`)), desc + 144)
  // Code-like filler that differs from version to version, so two images never share their bytes.
  let state = crc(textEncoder.encode(`${spec.projectName ?? ''}/${spec.version}`)) || 1
  for (let at = desc + appDescBytes; at < segmentEnd; at++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    image[at] = state & 0xff
  }

  image[checksumOffset] = xorChecksum(image.subarray(desc, segmentEnd))
  image.set(sha256(image.subarray(0, checksumOffset + 1)), checksumOffset + 1)
  return image
}

/**
 * The same image stamped with another esp_app_desc_t.version, its checksum and SHA-256 made right again:
 * a second, distinct and valid image from one real build (what a re-release of the same code is).
 * Bytes after the image (a signature sector, padding) are kept as they were.
 */
export function withAppVersion(image: Uint8Array, version: string): Uint8Array {
  const parsed = parseAppImage(image, { sha256 })
  if (!parsed.ok) throw new Error(`not an app image: ${parsed.error.message}`)
  if (!parsed.image.appDescription) throw new Error('the image has no esp_app_desc_t to stamp a version into')
  const out = image.slice()
  const first = parsed.image.segments[0]!
  writeField(out, first.dataOffset + 16, 32, version)
  let checksum = ESP_CHECKSUM_SEED
  for (const segment of parsed.image.segments) checksum ^= xorChecksum(out.subarray(segment.dataOffset, segment.dataOffset + segment.length)) ^ ESP_CHECKSUM_SEED
  const checksumOffset = parsed.image.imageLength - 1 - (parsed.image.hashAppended ? 32 : 0)
  out[checksumOffset] = checksum
  if (parsed.image.hashAppended) out.set(sha256(out.subarray(0, checksumOffset + 1)), checksumOffset + 1)
  return out
}

/** A fixed-size char[] field of esp_app_desc_t: the text, NUL-padded (no NUL when it fills the field). */
function writeField(target: Uint8Array, at: number, size: number, text: string): void {
  const bytes = textEncoder.encode(text)
  if (bytes.length > size) throw new RangeError(`"${text}" is ${bytes.length} bytes; the field holds ${size}`)
  target.fill(0, at, at + size)
  target.set(bytes, at)
}

function xorChecksum(data: Uint8Array): number {
  let checksum = ESP_CHECKSUM_SEED
  for (const byte of data) checksum ^= byte
  return checksum
}

function crc(bytes: Uint8Array): number {
  let h = 0x811c9dc5
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193)
  return h >>> 0
}
