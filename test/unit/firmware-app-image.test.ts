// The ESP image reader against tools nobody here wrote. shared/fixtures/esptool/expected holds
// `esptool --chip X image_info --version 2` output (esptool v4.12.0) for each image; every line esptool
// prints is read back out of that text and compared with what parseAppImage returns, and the test fails
// if esptool printed something it did not compare. Images without an image_info text are checked against
// how they were made: the signed bootloaders against the unsigned one they were signed from, the
// elf2image outputs against their ELF, the 48-byte headers against esptool's own write_flash tests.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ESP_IMAGE_MAX_SEGMENTS,
  checkImageFitsPartition,
  checkImageForChip,
  parseAppImage,
  type AppImage,
  type AppImageResult,
  type ImageError,
} from '../../shared/domain/firmware/app-image'
import { ESP_CHIPS, formatChipRevision, type EspChipName } from '../../shared/domain/firmware/chips'

const esptool = path.join(import.meta.dirname, '../../../shared/fixtures/esptool')
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())
const read = (...parts: string[]) => new Uint8Array(readFileSync(path.join(esptool, ...parts)))
const parse = (bytes: Uint8Array): AppImageResult => parseAppImage(bytes, { sha256 })

function parsed(bytes: Uint8Array): AppImage {
  const result = parse(bytes)
  if (!result.ok) throw new Error(`expected an image, got: ${result.error.message}`)
  return result.image
}

function refused(result: AppImageResult | ReturnType<typeof checkImageForChip>): ImageError {
  if (result.ok) throw new Error('expected a refusal, got ok')
  expect(result.error.message.length).toBeGreaterThan(20)
  return result.error
}

/** Image files live in images/, images/ram_helloworld/ and secure_images/; expected/ names them by base name. */
function imagePath(fileName: string): string[] {
  for (const dir of [['images'], ['images', 'ram_helloworld'], ['secure_images']]) {
    if (readdirSync(path.join(esptool, ...dir)).includes(fileName)) return [...dir, fileName]
  }
  throw new Error(`no fixture image named ${fileName}`)
}

// --- esptool's image_info --version 2 text, read back into values -------------------------------------

interface SegmentRow {
  index: number
  length: number
  loadAddress: number
  fileOffset: number
  memoryTypes: string[]
}

interface EsptoolImageInfo {
  fileSize: number
  /** The --chip argument, upper-cased, as esptool puts it in its titles ("ESP32C3"). */
  chipArgument: string
  /** Title → field → value. Fields are removed as the test compares them; leftovers fail the test. */
  sections: Map<string, Map<string, string>>
  segments: SegmentRow[]
}

function readImageInfo(text: string): EsptoolImageInfo {
  const lines = text.split('\n')
  const sections = new Map<string, Map<string, string>>()
  const segments: SegmentRow[] = []
  let fileSize = -1
  let current: Map<string, string> | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const underline = lines[i + 1]
    if (underline && /^=+$/.test(underline) && underline.length === line.length) {
      current = new Map()
      sections.set(line, current)
      i++
      continue
    }
    const size = /^File size: (\d+) \(bytes\)$/.exec(line)
    if (size) fileSize = Number(size[1])
    const row = /^\s*(\d+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s{2}(.*)$/.exec(line)
    if (row) {
      segments.push({
        index: Number(row[1]),
        length: parseInt(row[2] as string, 16),
        loadAddress: parseInt(row[3] as string, 16),
        fileOffset: parseInt(row[4] as string, 16),
        memoryTypes: (row[5] as string).split(', ').filter(Boolean),
      })
      continue
    }
    if (!current || /^(Segment {3}Length|-------)/.test(line) || line.trim() === '') continue
    const colon = line.indexOf(': ')
    if (colon > 0) current.set(line.slice(0, colon), line.slice(colon + 2))
    else current.set(line, '') // "Entry point not set"
  }
  const header = [...sections.keys()].find((title) => title.endsWith(' image header'))
  if (!header) throw new Error('no image header section')
  return { fileSize, chipArgument: header.slice(0, -' image header'.length), sections, segments }
}

function take(info: EsptoolImageInfo, section: string, field: string): string | undefined {
  const fields = info.sections.get(`${section}`)
  const value = fields?.get(field)
  fields?.delete(field)
  return value
}

function takeMatch(info: EsptoolImageInfo, section: string, field: string, pattern: RegExp): RegExpExecArray {
  const value = take(info, section, field)
  const match = value === undefined ? null : pattern.exec(value)
  if (!match) throw new Error(`${section} / ${field}: ${value} does not match ${pattern}`)
  return match
}

const revision = (major: string | undefined, minor: string | undefined) => Number(major) * 100 + Number(minor)
/** esptool prints eFuse block revisions as major.minor without the v. */
const blockRevision = (full: number) => `${Math.floor(full / 100)}.${full % 100}`

/** Compares everything esptool printed for one image with the parse, and returns what was left over. */
function compareWithEsptool(image: AppImage, info: EsptoolImageInfo): Map<string, Map<string, string>> {
  const chip = info.chipArgument
  const header = `${chip} image header`
  const extended = `${chip} extended image header`
  const footer = `${chip} image footer`

  expect(image.fileLength).toBe(info.fileSize)
  expect(image.chip?.replace('-', '').toUpperCase()).toBe(chip)

  // esptool prints its own format version for ESP32-family images, not a byte of the file: this reader
  // reads that one format.
  expect(take(info, header, 'Image version')).toBe('1')
  if (info.sections.get(header)?.has('Entry point not set')) {
    take(info, header, 'Entry point not set')
    expect(image.entryPoint).toBe(0)
  } else {
    expect(image.entryPoint).toBe(parseInt(takeMatch(info, header, 'Entry point', /^0x([0-9a-f]+)$/)[1] as string, 16))
  }
  expect(image.segments.length).toBe(Number(take(info, header, 'Segments')))
  expect(image.flashSize.name).toBe(take(info, header, 'Flash size'))
  expect(image.flashFrequency.name).toBe(take(info, header, 'Flash freq'))
  expect(image.flashMode.name).toBe(take(info, header, 'Flash mode'))

  const wp = takeMatch(info, extended, 'WP pin', /^0x([0-9a-f]+)( \(disabled\))?$/)
  expect(image.wpPin).toBe(parseInt(wp[1] as string, 16))
  expect(image.wpPinDisabled).toBe(wp[2] !== undefined)
  const drive = Object.fromEntries(
    (take(info, extended, 'Flash pins drive settings') ?? '').split(', ').map((pair) => {
      const [name, value] = pair.split(': ')
      return [name, parseInt((value ?? '').slice(2), 16)]
    }),
  )
  expect(image.flashPinDrive).toEqual({ clk: drive.clk_drv, q: drive.q_drv, d: drive.d_drv, cs0: drive.cs0_drv, hd: drive.hd_drv, wp: drive.wp_drv })
  const chipId = takeMatch(info, extended, 'Chip ID', /^(\d+) \((.+)\)$/)
  expect(image.chipId).toBe(Number(chipId[1]))
  expect(image.chip).toBe(chipId[2])
  const min = takeMatch(info, extended, 'Minimal chip revision', /^v(\d+)\.(\d+), \(legacy min_rev = (\d+)\)$/)
  expect(image.minChipRevisionFull).toBe(revision(min[1], min[2]))
  expect(image.legacyMinChipRevision).toBe(Number(min[3]))
  const max = takeMatch(info, extended, 'Maximal chip revision', /^v(\d+)\.(\d+)$/)
  expect(image.maxChipRevisionFull).toBe(revision(max[1], max[2]))

  expect(image.segments.map(({ index, length, loadAddress, fileOffset, memoryTypes }) => ({ index, length, loadAddress, fileOffset, memoryTypes }))).toEqual(
    info.segments,
  )

  // Parsing refuses a bad checksum or digest, so every image that parsed is one esptool calls valid.
  expect(image.checksum).toBe(parseInt(takeMatch(info, footer, 'Checksum', /^0x([0-9a-f]+) \(valid\)$/)[1] as string, 16))
  if (info.sections.get(footer)?.has('Validation hash')) {
    expect(image.hashAppended).toBe(true)
    expect(image.validationHash).toBe(takeMatch(info, footer, 'Validation hash', /^([0-9a-f]{64}) \(valid\)$/)[1])
  } else {
    expect(image.hashAppended).toBe(false)
    expect(image.validationHash).toBeUndefined()
  }

  const app = 'Application information'
  if (info.sections.has(app)) {
    const desc = image.appDescription
    expect(desc).toBeDefined()
    expect(image.kind).toBe('application')
    expect(desc?.projectName).toBe(take(info, app, 'Project name'))
    expect(desc?.version).toBe(take(info, app, 'App version'))
    expect(`${desc?.compileDate} ${desc?.compileTime}`).toBe(take(info, app, 'Compile time'))
    expect(desc?.appElfSha256).toBe(take(info, app, 'ELF file SHA256'))
    expect(desc?.idfVersion).toBe(take(info, app, 'ESP-IDF'))
    expect(blockRevision(desc?.minEfuseBlockRevisionFull ?? -1)).toBe(take(info, app, 'Minimal eFuse block revision'))
    expect(blockRevision(desc?.maxEfuseBlockRevisionFull ?? -1)).toBe(take(info, app, 'Maximal eFuse block revision'))
    const mmu = take(info, app, 'MMU page size') // printed only for ESP-IDF v5.4 and later
    if (mmu !== undefined) expect(`${(desc?.mmuPageSize ?? 0) / 1024} KB`).toBe(mmu)
    expect(desc?.secureVersion).toBe(Number(take(info, app, 'Secure version')))
  } else {
    expect(image.appDescription).toBeUndefined()
  }

  const boot = 'Bootloader information'
  if (info.sections.has(boot)) {
    const desc = image.bootloaderDescription
    expect(desc).toBeDefined()
    expect(image.kind).toBe('bootloader')
    expect(desc?.version).toBe(Number(take(info, boot, 'Bootloader version')))
    expect(desc?.idfVersion).toBe(take(info, boot, 'ESP-IDF'))
    expect(desc?.compileDateTime).toBe(take(info, boot, 'Compile time'))
  } else {
    expect(image.bootloaderDescription).toBeUndefined()
  }

  take(info, 'Segments information', '') // the section holds only the table read above
  return new Map([...info.sections].filter(([, fields]) => fields.size > 0))
}

const imageInfoFiles = readdirSync(path.join(esptool, 'expected'))
  .filter((file) => file.endsWith('.image_info.txt'))
  .sort()

describe('parseAppImage against esptool image_info', () => {
  it('has fixtures to compare with', () => {
    expect(imageInfoFiles.length).toBeGreaterThanOrEqual(8)
  })

  for (const file of imageInfoFiles) {
    const imageName = file.slice(0, -'.image_info.txt'.length)
    it(`${imageName}: every field esptool prints`, () => {
      const info = readImageInfo(readFileSync(path.join(esptool, 'expected', file), 'utf8'))
      const image = parsed(read(...imagePath(imageName)))
      const leftOver = compareWithEsptool(image, info)
      expect(Object.fromEntries([...leftOver].map(([title, fields]) => [title, Object.fromEntries(fields)]))).toEqual({})
    })
  }

  it('knows every chip id esptool named, and ids are unique', () => {
    const named = new Map<string, number>()
    for (const file of imageInfoFiles) {
      const match = /^Chip ID: (\d+) \((.+)\)$/m.exec(readFileSync(path.join(esptool, 'expected', file), 'utf8'))
      if (match) named.set(match[2] as string, Number(match[1]))
    }
    expect(named.size).toBeGreaterThanOrEqual(3)
    for (const [name, id] of named) expect(ESP_CHIPS[name as EspChipName].imageChipId).toBe(id)
    const ids = Object.values(ESP_CHIPS).map((chip) => chip.imageChipId)
    expect(new Set(ids).size).toBe(ids.length)
  })
})

describe('images esptool made or signed (no image_info text of their own)', () => {
  it('the Secure Boot v2 signatures leave the image itself as espsecure found it', () => {
    // secure_images/README.md: each signed bootloader is `espsecure sign_data -v 2 … bootloader_unsigned_v2.bin`.
    const unsignedBytes = read('secure_images', 'bootloader_unsigned_v2.bin')
    const unsigned = parsed(unsignedBytes)
    const signedFiles = readdirSync(path.join(esptool, 'secure_images')).filter((f) => /^bootloader_.*signed_v2.*\.bin$/.test(f) && !f.includes('unsigned'))
    expect(signedFiles.length).toBeGreaterThanOrEqual(4)
    for (const file of signedFiles) {
      const bytes = read('secure_images', file)
      const image = parsed(bytes)
      expect({ ...image, fileLength: 0 }, file).toEqual({ ...unsigned, fileLength: 0 })
      expect(bytes.subarray(0, image.imageLength)).toEqual(unsignedBytes.subarray(0, unsigned.imageLength))
      // The signature sector sits past the image, and the whole file is what has to fit the partition.
      expect(image.fileLength).toBeGreaterThan(image.imageLength)
    }
  })

  for (const log of readdirSync(path.join(esptool, 'expected')).filter((f) => f.endsWith('.elf2image.log'))) {
    const name = log.slice(0, -'.elf2image.log'.length)
    it(`${name}.elf2image.bin: chip from the elf2image log, segments from the ELF`, () => {
      const chipArgument = /Creating (\S+) image/.exec(readFileSync(path.join(esptool, 'expected', log), 'utf8'))?.[1]
      const image = parsed(read('expected', `${name}.elf2image.bin`))
      const elf = read('elf2image', `${name}.elf`)
      expect(image.chip?.replace('-', '').toLowerCase()).toBe(chipArgument)
      expect(image.hashAppended).toBe(true) // elf2image appends the digest by default
      const bytes = read('expected', `${name}.elf2image.bin`)
      for (const segment of image.segments) {
        const data = bytes.subarray(segment.dataOffset, segment.dataOffset + segment.length)
        if (image.appDescription && segment.index === 0) {
          // elf2image writes the ELF's own SHA-256 into app_elf_sha256; the rest is the ELF's .flash.appdesc.
          expect(image.appDescription.appElfSha256).toBe(Buffer.from(sha256(elf)).toString('hex'))
          expect(Buffer.from(elf).indexOf(Buffer.from(data.subarray(0, 144)))).toBeGreaterThan(0)
          expect(Buffer.from(elf).indexOf(Buffer.from(data.subarray(176)))).toBeGreaterThan(0)
        } else {
          expect(Buffer.from(elf).indexOf(Buffer.from(data)), `segment ${segment.index}`).toBeGreaterThan(0)
        }
      }
    })
  }

  it('pin drive nibbles: low nibble first (every fixture has 0 there, so a patched header shows the order)', () => {
    // esptool's load_extended_header: clk_drv, q_drv = split_byte(byte 9), split_byte(n) = (n & 0xF, n >> 4).
    const bytes = read('images', 'esp32s3_header.bin') // no appended digest, so the header can be patched
    bytes.set([0x21, 0x43, 0x65], 9)
    expect(parsed(bytes).flashPinDrive).toEqual({ clk: 1, q: 2, d: 3, cs0: 4, hd: 5, wp: 6 })
  })

  it('esp32c6-appdesc: the app description sits in the first segment even where esptool would label it IROM', () => {
    const image = parsed(read('expected', 'esp32c6-appdesc.elf2image.bin'))
    expect(image.kind).toBe('application')
    expect(image.segments[0]?.memoryTypes).toEqual(['IROM'])
    // Unwritten fields are 0xFF in this test ELF: read as numbers, not refused.
    expect(image.appDescription?.secureVersion).toBe(0xffffffff)
    expect(image.appDescription?.mmuPageSize).toBeUndefined()
  })
})

describe('checkImageForChip', () => {
  const chipOf = (image: AppImage) => image.chip as EspChipName

  it('accepts each fixture image on its own chip and refuses it on every other', () => {
    for (const file of imageInfoFiles) {
      const image = parsed(read(...imagePath(file.slice(0, -'.image_info.txt'.length))))
      for (const chip of Object.keys(ESP_CHIPS) as EspChipName[]) {
        const result = checkImageForChip(image, chip)
        if (chip === image.chip) expect(result.ok).toBe(true)
        else expect(refused(result).kind).toBe('wrong-chip')
      }
    }
  })

  it('says which chip the image is for and which the board is', () => {
    const image = parsed(read('images', 'bootloader_esp32c3.bin'))
    const error = refused(checkImageForChip(image, 'ESP32-S3'))
    expect(error).toMatchObject({ kind: 'wrong-chip', imageChip: 'ESP32-C3', boardChip: 'ESP32-S3' })
    expect(error.message).toContain('ESP32-C3')
    expect(error.message).toContain('ESP32-S3')
  })

  it('names an unknown chip id rather than guessing', () => {
    const bytes = read('images', 'esp32s3_header.bin') // no appended digest, so the header can be patched
    new DataView(bytes.buffer).setUint16(12, 99, true)
    const image = parsed(bytes)
    expect(image.chip).toBeUndefined()
    expect(image.flashFrequency).toEqual({ code: image.flashFrequency.code })
    expect(image.segments[0]?.memoryTypes).toEqual([])
    const error = refused(checkImageForChip(image, 'ESP32-S3'))
    expect(error).toMatchObject({ kind: 'wrong-chip', imageChipId: 99, boardChip: 'ESP32-S3' })
    expect(error.message).toContain('chip id 99')
  })

  it('legacy min_rev (esptool test_write_image_for_another_revision: esp32s3_header.bin "requires chip revision 10")', () => {
    const image = parsed(read('images', 'esp32s3_header.bin'))
    const error = refused(checkImageForChip(image, 'ESP32-S3', { major: 0, minor: 2 }))
    expect(error).toMatchObject({ kind: 'unsupported-chip-revision', rule: 'legacy major', minimum: 10 })
    expect(checkImageForChip(image, 'ESP32-S3', { major: 10, minor: 0 }).ok).toBe(true)
  })

  it('full revision fields (esptool test_flash_with_min_max_rev: "range [v2.55 - max rev not set]")', () => {
    const image = parsed(read('images', 'esp32c3_header_min_rev.bin'))
    expect(formatChipRevision(image.minChipRevisionFull)).toBe('v2.55')
    const error = refused(checkImageForChip(image, 'ESP32-C3', { major: 0, minor: 4 }))
    expect(error).toMatchObject({ kind: 'unsupported-chip-revision', rule: 'full', minimum: 255, maximum: undefined })
    expect(error.message).toContain('v2.55')
    expect(error.message).toContain('v0.4')
    expect(checkImageForChip(image, 'ESP32-C3', { major: 2, minor: 55 }).ok).toBe(true)
    expect(checkImageForChip(image, 'ESP32-C3', { major: 9, minor: 0 }).ok).toBe(true)
  })

  it('revision limits read from esptool output: Secure Boot v2 bootloader needs ESP32 v3, v5.2 bootloader stops at v3.99', () => {
    const signed = readImageInfo(readFileSync(path.join(esptool, 'expected', 'bootloader_signed_v2_rsa.bin.image_info.txt'), 'utf8'))
    const legacyMin = Number(takeMatch(signed, 'ESP32 extended image header', 'Minimal chip revision', /legacy min_rev = (\d+)/)[1])
    const sbv2 = parsed(read('secure_images', 'bootloader_signed_v2_rsa.bin'))
    expect(refused(checkImageForChip(sbv2, chipOf(sbv2), { major: legacyMin - 1, minor: 0 }))).toMatchObject({ rule: 'legacy major', minimum: legacyMin })
    expect(checkImageForChip(sbv2, chipOf(sbv2), { major: legacyMin, minor: 0 }).ok).toBe(true)

    const v52 = readImageInfo(readFileSync(path.join(esptool, 'expected', 'bootloader_esp32_v5_2.bin.image_info.txt'), 'utf8'))
    const max = takeMatch(v52, 'ESP32 extended image header', 'Maximal chip revision', /^v(\d+)\.(\d+)$/)
    const bootloader = parsed(read('images', 'bootloader_esp32_v5_2.bin'))
    const beyond = { major: Number(max[1]) + 1, minor: 0 }
    expect(refused(checkImageForChip(bootloader, chipOf(bootloader), beyond))).toMatchObject({ rule: 'full', maximum: revision(max[1], max[2]) })
    expect(checkImageForChip(bootloader, chipOf(bootloader), { major: Number(max[1]), minor: Number(max[2]) }).ok).toBe(true)
  })
})

describe('checkImageFitsPartition', () => {
  it('refuses an image larger than its partition and says by how much', () => {
    const bytes = read('images', 'esp_idf_blink_esp32s2.bin')
    expect(checkImageFitsPartition(bytes.length, bytes.length).ok).toBe(true)
    const error = refused(checkImageFitsPartition(bytes.length, 0x10000))
    expect(error).toMatchObject({ kind: 'image-too-large', imageBytes: bytes.length, partitionBytes: 0x10000 })
    expect(error.message).toContain(String(bytes.length))
    expect(error.message).toContain('0x10000')
    expect(error.message).toContain(String(bytes.length - 0x10000))
  })

  it('refuses sizes that are not byte counts instead of comparing NaN', () => {
    for (const [image, partition] of [
      [Number.NaN, 4096],
      [-1, 4096],
      [1.5, 4096],
      [10, Number.POSITIVE_INFINITY],
    ] as const) {
      expect(refused(checkImageFitsPartition(image, partition)).kind).toBe('invalid-size')
    }
  })
})

/**
 * A one-segment ESP32-S3 image with the header of esp32s3_header.bin and no digest, for shapes no fixture
 * has. The footer is written from the format description, independently of the parser.
 */
function buildImage(loadAddress: number, data: Uint8Array): Uint8Array {
  const header = read('images', 'esp32s3_header.bin').subarray(0, 24)
  const end = 24 + 8 + data.length
  const bytes = new Uint8Array(end + (16 - (end % 16)))
  bytes.set(header)
  bytes[14] = 0 // legacy min_rev: irrelevant here
  const view = new DataView(bytes.buffer)
  view.setUint32(24, loadAddress, true)
  view.setUint32(28, data.length, true)
  bytes.set(data, 32)
  bytes[bytes.length - 1] = data.reduce((x, byte) => x ^ byte, 0xef)
  return bytes
}

describe('bad input is refused with a reason, never thrown', () => {
  const blink = () => read('images', 'esp_idf_blink_esp32s2.bin')
  const patch = (bytes: Uint8Array, at: number, value: number) => {
    const copy = bytes.slice()
    copy[at] = value
    return copy
  }

  it('empty file', () => {
    expect(refused(parse(new Uint8Array(0))).kind).toBe('empty')
  })

  it('bad magic: one_kb.bin is "invalid magic number: 0xed" (fixtures README)', () => {
    const error = refused(parse(read('images', 'one_kb.bin')))
    expect(error).toMatchObject({ kind: 'bad-magic', found: 0xed })
    expect(error.message).toContain('0xed')
  })

  it('bad magic: a partition table is called one', () => {
    const error = refused(parse(read('images', 'partitions_singleapp.bin')))
    expect(error).toMatchObject({ kind: 'bad-magic', found: 0xaa, looksLike: 'partition table' })
    expect(error.message).toContain('partition table')
  })

  it('truncated anywhere before the end of the image', () => {
    const bytes = read('images', 'ram_helloworld', 'helloworld-esp32.bin')
    const image = parsed(bytes)
    const kinds = new Set<string>()
    for (let length = 1; length < image.imageLength; length++) {
      const error = refused(parse(bytes.subarray(0, length)))
      kinds.add(error.kind)
      expect(['truncated-header', 'truncated-segment', 'truncated-footer']).toContain(error.kind)
    }
    expect([...kinds].sort()).toEqual(['truncated-footer', 'truncated-header', 'truncated-segment'])
  })

  it('truncated: names the segment and how much is missing', () => {
    const bytes = blink()
    const image = parsed(bytes)
    const third = image.segments[2] as AppImage['segments'][number]
    const error = refused(parse(bytes.subarray(0, third.dataOffset + 10)))
    expect(error).toMatchObject({ kind: 'truncated-segment', segment: 2, part: 'data', declaredLength: third.length, available: 10 })
    expect(error.message).toContain('segment 2')
    expect(refused(parse(bytes.subarray(0, image.imageLength - 1)))).toMatchObject({ kind: 'truncated-footer', part: 'SHA-256' })
  })

  it('a flipped bit in segment data is a checksum mismatch, with both values', () => {
    const bytes = blink()
    const image = parsed(bytes)
    const at = (image.segments[3]?.dataOffset ?? 0) + 100
    const error = refused(parse(patch(bytes, at, (bytes[at] as number) ^ 0x04)))
    expect(error).toMatchObject({ kind: 'checksum-mismatch', stored: image.checksum, calculated: image.checksum ^ 0x04 })
    expect(error.message).toContain(`0x${image.checksum.toString(16)}`)
    expect(error.message).toContain(`0x${(image.checksum ^ 0x04).toString(16)}`)
  })

  it('changes the XOR checksum cannot see are caught by the SHA-256', () => {
    const bytes = blink()
    const image = parsed(bytes)
    // The checksum covers segment data only: a patched header byte (flash frequency here) ...
    const header = refused(parse(patch(bytes, 3, (bytes[3] as number) ^ 0x0f)))
    expect(header).toMatchObject({ kind: 'sha256-mismatch', stored: image.validationHash })
    // ... and two flips of the same bit cancel out in the XOR.
    const a = (image.segments[0]?.dataOffset ?? 0) + 300
    const b = (image.segments[4]?.dataOffset ?? 0) + 7
    const twice = patch(patch(bytes, a, (bytes[a] as number) ^ 0x80), b, (bytes[b] as number) ^ 0x80)
    const error = refused(parse(twice))
    expect(error.kind).toBe('sha256-mismatch')
    expect(error.message).toContain(image.validationHash)
  })

  it('the SHA-256 the caller passes is the one that decides', () => {
    const bytes = blink()
    expect(refused(parseAppImage(bytes, { sha256: () => new Uint8Array(32) })).kind).toBe('sha256-mismatch')
  })

  it('zero segments', () => {
    expect(refused(parse(patch(blink(), 1, 0))).kind).toBe('no-segments')
  })

  it('segment count absurd', () => {
    expect(refused(parse(patch(blink(), 1, 200)))).toMatchObject({ kind: 'too-many-segments', count: 200, max: ESP_IMAGE_MAX_SEGMENTS })
    expect(refused(parse(patch(blink(), 1, ESP_IMAGE_MAX_SEGMENTS + 1))).kind).toBe('too-many-segments')
  })

  it('segment length past the end of the file', () => {
    const bytes = blink()
    const image = parsed(bytes)
    const second = image.segments[1] as AppImage['segments'][number]
    new DataView(bytes.buffer).setUint32(second.fileOffset + 4, 0xfffffff0, true)
    const error = refused(parse(bytes))
    expect(error).toMatchObject({ kind: 'truncated-segment', segment: 1, part: 'data', declaredLength: 0xfffffff0 })
    expect(error.message).toContain('0xfffffff0')
  })

  it('segment length the bootloader refuses (not a multiple of 4)', () => {
    const bytes = read('images', 'esp32s3_header.bin')
    new DataView(bytes.buffer).setUint32(24 + 4, 2, true)
    expect(refused(parse(bytes))).toMatchObject({ kind: 'bad-segment-length', segment: 0, length: 2, reason: 'not a multiple of 4' })
  })

  it('hash_appended that is neither 0 nor 1', () => {
    expect(refused(parse(patch(blink(), 23, 2)))).toMatchObject({ kind: 'bad-hash-appended-flag', value: 2 })
  })

  it('an app description cut short by its segment is refused, not half-read', () => {
    const data = new Uint8Array(16)
    new DataView(data.buffer).setUint32(0, 0xabcd5432, true) // esp_app_desc_t magic word
    expect(refused(parse(buildImage(0x3c000020, data)))).toMatchObject({ kind: 'truncated-app-description', segmentLength: 16 })
  })

  it('a one-byte bootloader description magic counts only in DRAM', () => {
    const data = new Uint8Array(80)
    data[0] = 0x50 // esp_bootloader_desc_t magic byte
    data.set([...'v5.2'].map((c) => c.charCodeAt(0)), 8)
    const inDram = parsed(buildImage(0x3fc88000, data)) // ESP32-S3 DRAM
    expect(inDram.kind).toBe('bootloader')
    expect(inDram.bootloaderDescription?.idfVersion).toBe('v5.2')
    expect(parsed(buildImage(0x42000020, data)).kind).toBe('unidentified') // ESP32-S3 IROM
  })

  it('reads a view into a larger buffer the same as a fresh array', () => {
    const bytes = blink()
    const padded = new Uint8Array(bytes.length + 11)
    padded.set(bytes, 7)
    expect(parsed(padded.subarray(7, 7 + bytes.length))).toEqual(parsed(bytes))
  })

  it('random damage never throws', () => {
    let seed = 0x2545f491
    const random = () => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return (seed >>> 0) / 0x100000000
    }
    const sources = [read('images', 'bootloader_esp32.bin'), read('images', 'ram_helloworld', 'helloworld-esp32.bin'), read('images', 'esp32s3_header.bin')]
    for (let round = 0; round < 2000; round++) {
      const source = sources[round % sources.length] as Uint8Array
      const bytes = source.slice(0, Math.floor(random() * (source.length + 1)))
      for (let flips = Math.floor(random() * 4); flips > 0 && bytes.length > 0; flips--) {
        bytes[Math.floor(random() * Math.min(bytes.length, 48))] = Math.floor(random() * 256)
      }
      const result = parse(bytes)
      if (!result.ok) expect(result.error.message).not.toBe('')
    }
  })
})
