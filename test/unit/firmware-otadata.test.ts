// otadata against the images in shared/fixtures/esp-idf/otadata, which were made with the formula of
// ESP-IDF's otatool.py (binascii.crc32(pack('<I', seq), 0xFFFFFFFF)), the same as the bootloader's
// esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4). The README calls them a cross-check, not ground truth, so the
// CRC is also held to zlib's and the selection rules to the IDF sources they follow.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { crc32 as zlibCrc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { crc32Le, toHex } from '../../shared/domain/firmware/checksums'
import {
  blankOtadata,
  bootPartition,
  decodeOtadata,
  encodeOtaSelectEntry,
  markActiveOtaState,
  otaImageStates,
  otaSelectCrc,
  otadataSectorSize,
  otadataSize,
  selectOtaSlot,
  type OtaImageState,
} from '../../shared/domain/firmware/otadata'
import { espIdfPartitionTables, parsePartitionCsv } from '../../shared/domain/firmware/partition-table'
import { errorOf, must } from '../support/outcomes'

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures/esp-idf/otadata')
const readBytes = (name: string) => new Uint8Array(readFileSync(path.join(fixtures, name)))
const vectors = JSON.parse(readFileSync(path.join(fixtures, 'otadata_vectors.json'), 'utf8')) as { crc_of_seq: Record<string, string> }

const twoSlots = { otaSlotCount: 2 }

/** Two entries written straight into an otadata image, for states the fixtures do not cover. */
function otadataWith(...entries: ({ otaSeq: number; state: OtaImageState; crc?: number } | null)[]): Uint8Array {
  const out = blankOtadata()
  entries.forEach((entry, index) => {
    if (!entry) return
    const bytes = encodeOtaSelectEntry({ otaSeq: entry.otaSeq, otaState: otaImageStates[entry.state] })
    if (entry.crc !== undefined) new DataView(bytes.buffer).setUint32(28, entry.crc, true)
    out.set(bytes, index * otadataSectorSize)
  })
  return out
}

describe('CRC-32 with the ROM’s seed semantics', () => {
  it('gives the CRC of each sequence number in otadata_vectors.json', () => {
    for (const [seq, crc] of Object.entries(vectors.crc_of_seq)) {
      expect(otaSelectCrc(Number(seq)).toString(16).padStart(8, '0'), `seq ${seq}`).toBe(crc)
    }
    expect(otaSelectCrc(1)).toBe(0x4743989a)
  })

  it('agrees with zlib.crc32(data, seed) on random data and seeds', () => {
    let state = 12345
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0)
    for (let round = 0; round < 300; round++) {
      const data = Uint8Array.from({ length: next() % 600 }, () => next() & 0xff)
      const seed = round % 3 === 0 ? 0 : round % 3 === 1 ? 0xffffffff : next()
      expect(crc32Le(seed, data), `round ${round}`).toBe(zlibCrc32(data, seed))
    }
  })
})

describe('decoding: which slot boots', () => {
  it('blank otadata selects nothing, so the bootloader starts the factory app', () => {
    const decoded = must(decodeOtadata(readBytes('otadata_blank.bin'), twoSlots))
    expect(decoded).toMatchObject({ activeEntry: null, bootSlot: null, bootState: null })
    expect(decoded.entries.map((e) => [e.erased, e.selectable, e.state])).toEqual([
      [true, false, 'UNDEFINED'],
      [true, false, 'UNDEFINED'],
    ])
  })

  it('seq 1 in the first copy boots ota_0', () => {
    const decoded = must(decodeOtadata(readBytes('otadata_seq1_boot_ota0.bin'), twoSlots))
    expect(decoded).toMatchObject({ activeEntry: 0, bootSlot: 0, bootState: 'UNDEFINED' })
    expect(decoded.entries[0]).toMatchObject({ otaSeq: 1, crc: 0x4743989a, crcValid: true, selectable: true, erased: false })
    expect(decoded.entries[1]).toMatchObject({ erased: true, selectable: false })
  })

  it('seq 1 and seq 2 boot ota_1: the higher valid sequence wins', () => {
    const decoded = must(decodeOtadata(readBytes('otadata_seq2_boot_ota1.bin'), twoSlots))
    expect(decoded).toMatchObject({ activeEntry: 1, bootSlot: 1 })
    expect(decoded.entries.map((e) => e.otaSeq)).toEqual([1, 2])
  })

  it('maps the sequence number onto the slots modulo their count', () => {
    const image = otadataWith({ otaSeq: 7, state: 'VALID' }, { otaSeq: 6, state: 'VALID' })
    expect(must(decodeOtadata(image, { otaSlotCount: 2 })).bootSlot).toBe(0)
    expect(must(decodeOtadata(image, { otaSlotCount: 3 })).bootSlot).toBe(0)
    expect(must(decodeOtadata(image, { otaSlotCount: 4 })).bootSlot).toBe(2)
    // No OTA slots in the table: the bootloader uses the factory app whatever otadata says.
    expect(must(decodeOtadata(image, { otaSlotCount: 0 })).bootSlot).toBeNull()
    // seq 0 wraps like the C code's unsigned (seq - 1).
    expect(must(decodeOtadata(otadataWith({ otaSeq: 0, state: 'VALID' }), { otaSlotCount: 2 })).bootSlot).toBe(0xffffffff % 2)
  })

  it('ignores a copy with a wrong CRC, or marked INVALID or ABORTED', () => {
    const badCrc = must(decodeOtadata(otadataWith({ otaSeq: 1, state: 'VALID' }, { otaSeq: 2, state: 'VALID', crc: 0x12345678 }), twoSlots))
    expect(badCrc.entries[1]).toMatchObject({ crcValid: false, selectable: false })
    expect(badCrc).toMatchObject({ activeEntry: 0, bootSlot: 0 })

    for (const state of ['INVALID', 'ABORTED'] as const) {
      const decoded = must(decodeOtadata(otadataWith({ otaSeq: 1, state: 'VALID' }, { otaSeq: 2, state }), twoSlots))
      expect(decoded, state).toMatchObject({ activeEntry: 0, bootSlot: 0, bootState: 'VALID' })
    }
    const bothRejected = must(decodeOtadata(otadataWith({ otaSeq: 1, state: 'INVALID' }, { otaSeq: 2, state: 'ABORTED' }), twoSlots))
    expect(bothRejected).toMatchObject({ activeEntry: null, bootSlot: null })
  })

  it('with app rollback, an image still PENDING_VERIFY at boot is aborted and the device rolls back', () => {
    const image = otadataWith({ otaSeq: 1, state: 'VALID' }, { otaSeq: 2, state: 'PENDING_VERIFY' })
    expect(must(decodeOtadata(image, twoSlots))).toMatchObject({ bootSlot: 1, bootState: 'PENDING_VERIFY', abortedAtBoot: [] })
    expect(must(decodeOtadata(image, { ...twoSlots, appRollbackEnabled: true }))).toMatchObject({
      activeEntry: 0,
      bootSlot: 0,
      bootState: 'VALID',
      abortedAtBoot: [1],
    })
    // A NEW image is still tried: the bootloader only turns it into PENDING_VERIFY.
    const fresh = otadataWith({ otaSeq: 1, state: 'VALID' }, { otaSeq: 2, state: 'NEW' })
    expect(must(decodeOtadata(fresh, { ...twoSlots, appRollbackEnabled: true }))).toMatchObject({ bootSlot: 1, bootState: 'NEW' })
  })

  it('names state words it does not know as null and keeps the raw value', () => {
    const image = blankOtadata()
    image.set(encodeOtaSelectEntry({ otaSeq: 1, otaState: 0x77 }), 0)
    const decoded = must(decodeOtadata(image, twoSlots))
    expect(decoded.entries[0]).toMatchObject({ otaState: 0x77, state: null, selectable: true })
  })
})

describe('encoding: selecting a slot as esp_ota_set_boot_partition does', () => {
  it('blank → ota_0 writes otadata_seq1_boot_ota0.bin byte for byte', () => {
    const written = must(selectOtaSlot(readBytes('otadata_blank.bin'), 0, twoSlots))
    expect(toHex(written)).toBe(toHex(readBytes('otadata_seq1_boot_ota0.bin')))
    expect(toHex(must(selectOtaSlot(undefined, 0, twoSlots)))).toBe(toHex(written))
  })

  it('then ota_1 writes otadata_seq2_boot_ota1.bin byte for byte', () => {
    const written = must(selectOtaSlot(readBytes('otadata_seq1_boot_ota0.bin'), 1, twoSlots))
    expect(toHex(written)).toBe(toHex(readBytes('otadata_seq2_boot_ota1.bin')))
  })

  it('alternates copies and climbs the sequence through repeated updates, always booting the chosen slot', () => {
    for (const otaSlotCount of [1, 2, 3, 5, 16]) {
      let image = blankOtadata()
      let lastSeq = 0
      let lastCopy: number | null = null
      for (let update = 0; update < 40; update++) {
        const slot = (update * 7 + 3) % otaSlotCount
        const before = must(decodeOtadata(image, { otaSlotCount }))
        image = must(selectOtaSlot(image, slot, { otaSlotCount, state: 'NEW' }))
        const after = must(decodeOtadata(image, { otaSlotCount }))
        expect(after.bootSlot, `count ${otaSlotCount}, update ${update}`).toBe(slot)
        expect(after.bootState).toBe('NEW')
        const seq = after.entries[after.activeEntry ?? 0].otaSeq
        expect(seq).toBeGreaterThanOrEqual(lastSeq)
        if (before.bootSlot !== slot && lastCopy !== null) expect(after.activeEntry).not.toBe(lastCopy)
        lastSeq = seq
        lastCopy = after.activeEntry
      }
    }
  })

  it('rewrites only the state of the active copy when the slot is already selected', () => {
    const seq2 = readBytes('otadata_seq2_boot_ota1.bin')
    const again = must(selectOtaSlot(seq2, 1, { ...twoSlots, state: 'NEW' }))
    expect(again.subarray(0, otadataSectorSize)).toEqual(seq2.subarray(0, otadataSectorSize))
    expect(must(decodeOtadata(again, twoSlots)).entries[1]).toMatchObject({ otaSeq: 2, state: 'NEW' })
  })

  it('goes back to ota_0 with seq 3 in the first copy', () => {
    const back = must(decodeOtadata(must(selectOtaSlot(readBytes('otadata_seq2_boot_ota1.bin'), 0, twoSlots)), twoSlots))
    expect(back.entries.map((e) => e.otaSeq)).toEqual([3, 2])
    expect(back).toMatchObject({ activeEntry: 0, bootSlot: 0 })
  })

  it('marks the running image VALID or INVALID in place, and INVALID rolls back', () => {
    const pending = must(selectOtaSlot(readBytes('otadata_seq1_boot_ota0.bin'), 1, { ...twoSlots, state: 'PENDING_VERIFY' }))
    const confirmed = must(markActiveOtaState(pending, 'VALID'))
    expect(must(decodeOtadata(confirmed, { ...twoSlots, appRollbackEnabled: true }))).toMatchObject({ bootSlot: 1, bootState: 'VALID' })
    const rejected = must(markActiveOtaState(pending, 'INVALID'))
    expect(must(decodeOtadata(rejected, twoSlots))).toMatchObject({ activeEntry: 0, bootSlot: 0 })
    expect(errorOf(markActiveOtaState(blankOtadata(), 'VALID'))).toMatch(/factory app/)
  })

  it('refuses what a device would refuse, in words, without throwing', () => {
    expect(errorOf(selectOtaSlot(undefined, 2, twoSlots))).toBe('OTA slot 2 does not exist: the partition table has 2 OTA slots (ota_0…ota_1).')
    expect(errorOf(selectOtaSlot(undefined, 0, { otaSlotCount: 0 }))).toBe('OTA slot 0 does not exist: the partition table has 0 OTA slots.')
    expect(errorOf(selectOtaSlot(undefined, 0, { otaSlotCount: 17 }))).toMatch(/from 0 to 16/)
    expect(errorOf(selectOtaSlot(new Uint8Array(0x1000), 0, twoSlots))).toBe('otadata is 4096 bytes; the partition is exactly 0x2000 (two 4 KiB sectors).')
    expect(errorOf(selectOtaSlot(undefined, 0, { ...twoSlots, state: 'DONE' as OtaImageState }))).toMatch(/^Unknown OTA image state DONE/)
    expect(errorOf(decodeOtadata('not bytes' as unknown as Uint8Array, twoSlots))).toBe('otadata must be given as bytes.')
    expect(errorOf(decodeOtadata(blankOtadata(), undefined as unknown as { otaSlotCount: number }))).toMatch(/number of OTA slots/)
    const nearTheEnd = otadataWith({ otaSeq: 0xfffffffe, state: 'VALID' })
    expect(errorOf(selectOtaSlot(nearTheEnd, 0, twoSlots))).toMatch(/would reach 0xFFFFFFFF/)
    expect(blankOtadata()).toHaveLength(otadataSize)
  })
})

describe('the partition that boots, from table and otadata together', () => {
  const twoOta = must(parsePartitionCsv(espIdfPartitionTables.two_ota))

  it('follows otadata to ota_0 and ota_1 and falls back to factory when it is blank', () => {
    expect(must(bootPartition(twoOta, readBytes('otadata_blank.bin'))).partition.name).toBe('factory')
    expect(must(bootPartition(twoOta, readBytes('otadata_seq1_boot_ota0.bin'))).partition.name).toBe('ota_0')
    expect(must(bootPartition(twoOta, readBytes('otadata_seq2_boot_ota1.bin'))).partition.name).toBe('ota_1')
  })

  it('falls back to ota_0 when there is no factory app', () => {
    const noFactory = must(parsePartitionCsv('nvs, data, nvs, , 16K\notadata, data, ota, , 8K\nota_0, app, ota_0, , 1M\nota_1, app, ota_1, , 1M'))
    expect(must(bootPartition(noFactory, blankOtadata())).partition.name).toBe('ota_0')
    expect(errorOf(bootPartition({ partitions: [] }, blankOtadata()))).toMatch(/no app partition to boot/)
  })
})
