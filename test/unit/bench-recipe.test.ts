import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkRecipe, nextSequence, sequenceOfSerial, serialFromPattern, type LoadedRegion } from '../../shared/domain/bench/recipe'

const fixtures = join(import.meta.dirname, '../../../shared/fixtures')
const read = (path: string) => new Uint8Array(readFileSync(join(fixtures, path)))
const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())

const table: LoadedRegion = { role: 'partition-table', offset: 0x8000, fileName: 'partitions_singleapp.bin', bytes: read('esp-idf/partition_table/expected/partitions_singleapp.bin') }
const app: LoadedRegion = { role: 'app', offset: 0x10000, fileName: 'blink.bin', bytes: read('esptool/images/esp_idf_blink_esp32s2.bin') }
const s2 = { chip: 'ESP32-S2', bootloaderOffset: 0x1000, flashSize: 4 << 20 } as const

describe('checkRecipe', () => {
  it('accepts a real ESP32-S2 app in the factory partition of ESP-IDF’s single-app table, and reads the app', () => {
    const checked = checkRecipe([table, app], sha256, s2)
    expect(checked.ok).toBe(true)
    if (!checked.ok) return
    expect(checked.table?.partitions.map((p) => p.name)).toEqual(['nvs', 'phy_init', 'factory'])
    expect(checked.regions.find((r) => r.region.role === 'app')?.image?.appDescription?.projectName).toBeTruthy()
  })

  it('names the chip the image is for when the board is another one', () => {
    const checked = checkRecipe([table, app], sha256, { chip: 'ESP32-C3', bootloaderOffset: 0, flashSize: 4 << 20 })
    expect(checked).toMatchObject({ ok: false, wrongChip: true, problems: [expect.stringMatching(/blink\.bin: .*ESP32-S2.*ESP32-C3/)] })
  })

  it('refuses overlaps, an app bigger than its partition, a misplaced bootloader and a file past the flash', () => {
    const big: LoadedRegion = { ...app, fileName: 'big.bin', bytes: new Uint8Array(0x100001).fill(0xe9) }
    const bootloader: LoadedRegion = { role: 'bootloader', offset: 0x1000, fileName: 'bootloader_esp32c3.bin', bytes: read('esptool/images/bootloader_esp32c3.bin') }
    const overlap: LoadedRegion = { role: 'data', offset: 0x8800, fileName: 'blob.bin', bytes: new Uint8Array(0x1000) }
    const checked = checkRecipe([table, big, bootloader, overlap], sha256, { chip: 'ESP32-C3', bootloaderOffset: 0, flashSize: 1 << 20 })
    expect(checked.ok).toBe(false)
    if (checked.ok) return
    const text = checked.problems.join('\n')
    expect(text).toContain('partitions_singleapp.bin (0x8000–0x8c00) overlaps blob.bin at 0x8800')
    expect(text).toContain('larger than its partition "factory"')
    expect(text).toContain('an ESP32-C3 boots from 0x0')
    expect(text).toContain("past the board's 1 MB flash")
  })

  it('refuses an empty recipe and a damaged image before any board is connected', () => {
    expect(checkRecipe([], sha256)).toEqual({ ok: false, problems: ['The recipe has no files to flash.'], wrongChip: false })
    const damaged = app.bytes.slice()
    damaged[100] = damaged[100]! ^ 0xff
    expect(checkRecipe([{ ...app, bytes: damaged }], sha256)).toMatchObject({ ok: false, problems: [expect.stringMatching(/^blink\.bin: .*(checksum|SHA-256)/i)] })
  })
})

describe('serialFromPattern', () => {
  it('numbers boards from the pattern, padded as asked', () => {
    expect(serialFromPattern('PLANT1-{seq:4}', 7)).toEqual({ ok: true, serial: 'PLANT1-0007' })
    expect(serialFromPattern('N{seq}', 12)).toEqual({ ok: true, serial: 'N12' })
  })

  it('refuses a pattern that would give every board the same identity, or an unusable id', () => {
    expect(serialFromPattern('NODE', 1)).toMatchObject({ ok: false, error: expect.stringContaining('no {seq}') })
    expect(serialFromPattern('a b {seq}', 1)).toMatchObject({ ok: false, error: expect.stringContaining('not a usable device id') })
  })
})

describe('nextSequence', () => {
  it('reads the board number back from a serial, and proposes the next free one', () => {
    expect(sequenceOfSerial('PLANT1-{seq:4}', 'PLANT1-0007')).toBe(7)
    expect(sequenceOfSerial('PLANT1-{seq:4}', 'OTHER-0007')).toBeNull()
    expect(sequenceOfSerial('a.b{seq}', 'axb3')).toBeNull()
    expect(nextSequence('PUMP-{seq:3}', ['PUMP-001', 'PUMP-012', 'VALVE-099', 'PUMP-003'])).toBe(13)
    expect(nextSequence('PUMP-{seq:3}', [])).toBe(1)
  })
})
