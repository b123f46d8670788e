// Partition tables against ESP-IDF's own gen_esp32part.py: every expected file under
// shared/fixtures/esp-idf/partition_table was produced by that tool (see shared/fixtures/README.md), so a
// byte-for-byte match here means a table made by the console is the table an IDF build would flash.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Md5, crc32Le, md5, toHex } from '../../shared/domain/firmware/checksums'
import {
  checkFitsFlash,
  checkFitsPartition,
  checkImageFitsTable,
  decodePartitionTable,
  encodePartitionTable,
  espIdfPartitionTables,
  findPartition,
  findPartitions,
  nextUpdatePartition,
  otaAppPartitions,
  otaSlotOf,
  parsePartitionCsv,
  partitionSubtypeName,
  partitionTableEnd,
  partitionTableProblems,
  partitionTableToCsv,
  partitionTypeName,
  readPartitionTable,
  type EspIdfPartitionTableName,
  type Partition,
  type PartitionTable,
  type PartitionTableOptions,
} from '../../shared/domain/firmware/partition-table'
import { seededRandom } from '../../shared/domain/seeded-random'
import { errorOf, must } from '../support/outcomes'

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures')
const tables = path.join(fixtures, 'esp-idf/partition_table')
const readBytes = (file: string) => new Uint8Array(readFileSync(file))
const readText = (file: string) => readFileSync(file, 'utf8')

const MB = 1024 * 1024
// The expected files were generated with --flash-size 4MB.
const asGenerated: PartitionTableOptions = { flashSize: 4 * MB }

const builtinNames = Object.keys(espIdfPartitionTables) as EspIdfPartitionTableName[]


function randomBytes(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256))
}

describe('MD5 (pure, for the partition table checksum row)', () => {
  it('matches the RFC 1321 test suite', () => {
    const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0))
    expect(toHex(md5(ascii('')))).toBe('d41d8cd98f00b204e9800998ecf8427e')
    expect(toHex(md5(ascii('abc')))).toBe('900150983cd24fb0d6963f7d28e17f72')
    expect(toHex(md5(ascii('message digest')))).toBe('f96b697d7cb7938d525a2f31aaf161d0')
    expect(toHex(md5(ascii('12345678901234567890123456789012345678901234567890123456789012345678901234567890')))).toBe(
      '57edf4a22be3c955ac49da2e2107b67a',
    )
  })

  it('agrees with node:crypto on random inputs of every length around the block and padding edges', () => {
    const random = seededRandom(0x5eed)
    const lengths = [...Array.from({ length: 200 }, (_, i) => i), 511, 512, 513, 1023, 1024, 4096, 65_537, 300_001]
    for (const length of lengths) {
      const data = randomBytes(random, length)
      expect(toHex(md5(data)), `length ${length}`).toBe(createHash('md5').update(data).digest('hex'))
    }
  })

  it('gives the same digest however the input is split across update() calls', () => {
    const random = seededRandom(42)
    for (let round = 0; round < 50; round++) {
      const data = randomBytes(random, Math.floor(random() * 2000))
      const hasher = new Md5()
      for (let at = 0; at < data.length; ) {
        const take = Math.floor(random() * 150)
        hasher.update(data.subarray(at, at + take))
        at += take
      }
      expect(toHex(hasher.digest())).toBe(createHash('md5').update(data).digest('hex'))
    }
  })

  it('can digest midway and keep hashing, as hashlib can', () => {
    const hasher = new Md5().update(Uint8Array.of(1, 2, 3))
    expect(toHex(hasher.digest())).toBe(createHash('md5').update(Uint8Array.of(1, 2, 3)).digest('hex'))
    hasher.update(new Uint8Array(100).fill(7))
    const all = Uint8Array.from([1, 2, 3, ...new Uint8Array(100).fill(7)])
    expect(toHex(hasher.digest())).toBe(createHash('md5').update(all).digest('hex'))
  })

  it('exports the CRC used by otadata alongside (checked in firmware-otadata.test.ts)', () => {
    expect(crc32Le(0, new Uint8Array())).toBe(0)
  })
})

describe('ESP-IDF built-in tables: CSV → binary → CSV against gen_esp32part.py', () => {
  it('carries each built-in table exactly as ESP-IDF ships it', () => {
    expect(builtinNames.sort()).toEqual(
      ['singleapp', 'singleapp_coredump', 'singleapp_large', 'two_ota', 'two_ota_coredump', 'two_ota_encr_nvs'].sort(),
    )
    for (const name of builtinNames) expect(espIdfPartitionTables[name], name).toBe(readText(path.join(tables, `partitions_${name}.csv`)))
  })

  for (const name of builtinNames) {
    it(`${name}: the binary equals expected/partitions_${name}.bin byte for byte`, () => {
      const table = must(parsePartitionCsv(espIdfPartitionTables[name], asGenerated))
      const binary = must(encodePartitionTable(table, asGenerated))
      const expected = readBytes(path.join(tables, `expected/partitions_${name}.bin`))
      expect(binary.length).toBe(0xc00)
      expect(toHex(binary)).toBe(toHex(expected))
    })

    it(`${name}: decoding the expected binary prints expected/partitions_${name}.roundtrip.csv`, () => {
      const decoded = must(decodePartitionTable(readBytes(path.join(tables, `expected/partitions_${name}.bin`)), asGenerated))
      expect(partitionTableToCsv(decoded)).toBe(readText(path.join(tables, `expected/partitions_${name}.roundtrip.csv`)))
      // And the printed CSV reads back to the same binary, as it does with the IDF tool.
      const reparsed = must(parsePartitionCsv(partitionTableToCsv(decoded), asGenerated))
      expect(toHex(must(encodePartitionTable(reparsed)))).toBe(toHex(readBytes(path.join(tables, `expected/partitions_${name}.bin`))))
    })
  }

  it('places empty offsets after the table sector at 0x9000, apps on 64 KiB and data on 4 KiB', () => {
    const table = must(parsePartitionCsv(espIdfPartitionTables.two_ota_coredump))
    expect(table.partitions.map((p) => [p.name, p.offset, p.size])).toEqual([
      ['nvs', 0x9000, 0x4000],
      ['otadata', 0xd000, 0x2000],
      ['phy_init', 0xf000, 0x1000],
      ['factory', 0x10000, 0x100000],
      ['coredump', 0x110000, 0x10000],
      ['ota_0', 0x120000, 0x100000],
      ['ota_1', 0x220000, 0x100000],
    ])
  })

  it('moves everything when the table offset moves (a larger bootloader)', () => {
    const table = must(parsePartitionCsv(espIdfPartitionTables.singleapp, { partitionTableOffset: 0xa000 }))
    expect(table.partitions.map((p) => p.offset)).toEqual([0xb000, 0x11000, 0x20000])
  })
})

describe('UTF-8 names and the byte-order mark', () => {
  const expected = () => readBytes(path.join(tables, 'partitions.bin'))

  it('encodes the BOM CSV to partitions.bin (the BOM never reaches the first name)', () => {
    const read = must(readPartitionTable(readBytes(path.join(tables, 'partitions-utf8-bom.csv'))))
    expect(read.format).toBe('csv')
    expect(read.table.partitions[0]?.name).toBe('nvs')
    expect(toHex(must(encodePartitionTable(read.table)))).toBe(toHex(expected()))
  })

  it('encodes the same CSV without a BOM to the same bytes', () => {
    const read = must(readPartitionTable(readBytes(path.join(tables, 'partitions-utf8_without-bom.csv'))))
    expect(toHex(must(encodePartitionTable(read.table)))).toBe(toHex(expected()))
  })

  it('accepts the BOM when the CSV arrives already decoded as a string', () => {
    const text = readText(path.join(tables, 'partitions-utf8-bom.csv'))
    expect(text.startsWith('\uFEFF')).toBe(true)
    expect(toHex(must(encodePartitionTable(must(parsePartitionCsv(text)))))).toBe(toHex(expected()))
  })

  it('decodes partitions.bin with its Cyrillic name intact', () => {
    const decoded = must(readPartitionTable(expected()))
    expect(decoded.format).toBe('binary')
    expect(decoded.table.partitions.map((p) => p.name)).toEqual(['nvs', 'phy_инит_', 'factory'])
    expect(partitionTableToCsv(decoded.table)).toBe(
      '# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\nnvs,data,nvs,0x9000,24K,\nphy_инит_,data,phy,0xf000,4K,\nfactory,app,factory,0x10000,1M,\n',
    )
  })

  it('decodes the legacy binary whose first name kept the BOM bytes, and shows them', () => {
    const legacy = must(decodePartitionTable(readBytes(path.join(tables, 'partitions-utf8-bom.bin'))))
    expect(legacy.partitions[0]?.name).toBe('\uFEFFnvs')
    expect(legacy.partitions.slice(1).map((p) => p.name)).toEqual(['phy_инит_', 'factory'])
  })

  it('reads UTF-16 CSV with a byte-order mark, as the IDF tool does', () => {
    const text = readText(path.join(tables, 'partitions-utf8_without-bom.csv'))
    const utf16 = new Uint8Array(2 + text.length * 2)
    utf16.set([0xff, 0xfe])
    for (let i = 0; i < text.length; i++) {
      utf16[2 + i * 2] = text.charCodeAt(i) & 0xff
      utf16[3 + i * 2] = text.charCodeAt(i) >> 8
    }
    expect(toHex(must(encodePartitionTable(must(readPartitionTable(utf16)).table)))).toBe(toHex(expected()))
  })
})

describe('esptool’s 2016 partitions_singleapp.bin (no MD5 row, no end marker)', () => {
  const old = () => readBytes(path.join(fixtures, 'esptool/images/partitions_singleapp.bin'))

  it('is refused as gen_esp32part refuses it: there is no end marker', () => {
    expect(errorOf(decodePartitionTable(old()))).toMatch(/no end marker/)
  })

  it('decodes once the end marker a flash read would show is appended', () => {
    const sector = new Uint8Array(0x1000).fill(0xff)
    sector.set(old())
    const table = must(decodePartitionTable(sector))
    expect(partitionTableToCsv(table)).toBe(
      '# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\nfactory,app,factory,0x10000,1M,\nrfdata,data,phy,0x110000,256K,\nwifidata,data,nvs,0x150000,256K,\n',
    )
  })
})

describe('CSV details the IDF tool accepts', () => {
  it('reads sizes and offsets in hex, decimal, octal, binary, with underscores and K/M suffixes in any case', () => {
    const csv = [
      'a, data, nvs, 0x9000, 0x3_000',
      'b, data, 0x99, 49152, 4k',
      'c, data, fat, 0o150000, 0b1000000000000',
      'd, 0x40, 7, , 1m',
      'e, data, spiffs, , 2K',
    ].join('\n')
    const table = must(parsePartitionCsv(csv))
    expect(table.partitions.map((p) => [p.name, p.type, p.subtype, p.offset, p.size])).toEqual([
      ['a', 1, 2, 0x9000, 0x3000],
      ['b', 1, 0x99, 0xc000, 0x1000],
      ['c', 1, 0x81, 0xd000, 0x1000],
      ['d', 0x40, 7, 0xe000, 0x100000],
      ['e', 1, 0x82, 0x10e000, 0x800],
    ])
    expect(partitionTableToCsv(table).split('\n').slice(2, 7)).toEqual([
      'a,data,nvs,0x9000,12K,',
      'b,data,153,0xc000,4K,',
      'c,data,fat,0xd000,4K,',
      'd,64,7,0xe000,1M,',
      'e,data,spiffs,0x10e000,2K,',
    ])
  })

  it('knows every subtype keyword of the current tool, including littlefs and the OTA slots', () => {
    const csv = [
      'otadata, data, ota, , 0x2000',
      'phy, data, phy, , 0x1000',
      'nvs, data, nvs, , 0x3000',
      'core, data, coredump, , 64K',
      'keys, data, nvs_keys, , 4K, encrypted',
      'efuse_em, data, efuse, , 8K',
      'undef, data, undefined, , 4K',
      'http, data, esphttpd, , 4K',
      'fat, data, fat, , 4K',
      'spiffs, data, spiffs, , 4K',
      'lfs, data, littlefs, , 4K, readonly',
      'blank, data, , , 4K',
      'factory, app, factory, , 1M',
      'test, app, test, , 1M',
      ...Array.from({ length: 16 }, (_, i) => `ota_${i}, app, ota_${i}, , 64K`),
    ].join('\n')
    const table = must(parsePartitionCsv(csv))
    expect(table.partitions.map((p) => partitionSubtypeName(p.type, p.subtype))).toEqual([
      'ota',
      'phy',
      'nvs',
      'coredump',
      'nvs_keys',
      'efuse',
      'undefined',
      'esphttpd',
      'fat',
      'spiffs',
      'littlefs',
      'undefined',
      'factory',
      'test',
      ...Array.from({ length: 16 }, (_, i) => `ota_${i}`),
    ])
    expect(table.partitions.find((p) => p.name === 'lfs')).toMatchObject({ readonly: true, encrypted: false })
    expect(table.partitions.find((p) => p.name === 'keys')).toMatchObject({ readonly: false, encrypted: true })
    expect(otaAppPartitions(table)).toHaveLength(16)
  })

  it('writes flag bits 0 (encrypted) and 1 (readonly) and reads them back', () => {
    const table = must(parsePartitionCsv('keys, data, nvs_keys, , 4K, encrypted:readonly\nnvs, data, nvs, , 8K, readonly'))
    const binary = must(encodePartitionTable(table))
    expect(binary.subarray(28, 32)).toEqual(Uint8Array.of(3, 0, 0, 0))
    expect(binary.subarray(60, 64)).toEqual(Uint8Array.of(2, 0, 0, 0))
    const back = must(decodePartitionTable(binary))
    expect(partitionTableToCsv(back)).toContain('keys,data,nvs_keys,0x9000,4K,encrypted:readonly\nnvs,data,nvs,0xa000,8K,readonly\n')
  })

  it('accepts an uncommented header line, CRLF line ends, trailing comment columns and the extra flags column', () => {
    const csv = 'Name, Type, SubType, Offset, Size, Flags\r\nnvs, data, nvs, 0x9000, 0x6000, , # keeps Wi-Fi credentials\r\n\r\n  # indented comment\r\nfactory, app, factory, 0x10000, 1M\r\n'
    const table = must(parsePartitionCsv(csv))
    expect(table.partitions.map((p) => p.name)).toEqual(['nvs', 'factory'])
    expect(table.partitions[1]?.line).toBe(5)
  })

  it('turns a negative size into "ends at" like the IDF tool', () => {
    const table = must(parsePartitionCsv('nvs, data, nvs, 0x9000, -0x10000'))
    expect(table.partitions[0]).toMatchObject({ offset: 0x9000, size: 0x7000 })
  })

  it('expands $VARIABLES from the options and names the unknown ones', () => {
    const table = must(parsePartitionCsv('nvs, data, nvs, $NVS_OFFSET, ${NVS_SIZE}', { variables: { NVS_OFFSET: '0x9000', NVS_SIZE: '24K' } }))
    expect(table.partitions[0]).toMatchObject({ offset: 0x9000, size: 0x6000 })
    expect(errorOf(parsePartitionCsv('$PART_NAME, data, nvs, , 24K'))).toBe('Line 1: unknown variable $PART_NAME; pass its value in the variables option.')
  })

  it('places the primary bootloader and partition table rows from the options', () => {
    const csv = 'bootloader, bootloader, primary, N/A, N/A\npartition_table, partition_table, primary, N/A, N/A\nnvs, data, nvs, , 24K\nfactory, app, factory, , 1M'
    expect(errorOf(parsePartitionCsv(csv))).toMatch(/^Line 1: .*primaryBootloaderOffset/)
    const table = must(parsePartitionCsv(csv, { primaryBootloaderOffset: 0x0 }))
    expect(table.partitions.map((p) => [p.name, p.type, p.offset, p.size])).toEqual([
      ['bootloader', 2, 0x0, 0x8000],
      ['partition_table', 3, 0x8000, 0x1000],
      ['nvs', 1, 0x9000, 0x6000],
      ['factory', 0, 0x10000, 0x100000],
    ])
    expect(partitionTableToCsv(table)).toContain('bootloader,bootloader,primary,0x0,32K,\npartition_table,partition_table,primary,0x8000,4K,\n')
  })
})

describe('refusals, in words', () => {
  const twoOta = () => must(parsePartitionCsv(espIdfPartitionTables.two_ota))
  const withPartitions = (edit: (partitions: Partition[]) => void): PartitionTable => {
    const partitions = twoOta().partitions.map((p) => ({ ...p }))
    edit(partitions)
    return { partitions }
  }

  it('names both partitions and their ranges when two overlap', () => {
    const table = withPartitions((ps) => {
      const ota1 = ps.find((p) => p.name === 'ota_1')
      if (ota1) ota1.offset = 0x100000
    })
    expect(partitionTableProblems(table)).toEqual(['factory (0x10000–0x110000) overlaps ota_1 (0x100000–0x200000).', 'ota_1 (0x100000–0x200000) overlaps ota_0 (0x110000–0x210000).'])
    expect(errorOf(encodePartitionTable(table))).toContain('overlaps')
  })

  it('says where the earlier partition ends when a CSV offset runs into it', () => {
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, 0x9000, 0x6000\nphy, data, phy, 0xe000, 0x1000'))).toBe(
      'Line 2: phy is set at 0xe000, but the partition before it ends at 0xf000.',
    )
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, 0x8000, 0x6000'))).toBe(
      'Line 1: nvs is set at 0x8000, but the partition table occupies the sector 0x8000–0x9000; use 0x9000 or higher.',
    )
  })

  it('refuses an app that is not on a 64 KiB boundary and says why', () => {
    const error = errorOf(parsePartitionCsv('nvs, data, nvs, , 24K\nfactory, app, factory, 0x11000, 1M'))
    expect(error).toBe('factory is an app at 0x11000, which is not on a 64 KiB boundary (a multiple of 0x10000): the flash cache maps app images in 64 KiB pages.')
  })

  it('refuses data off a 4 KiB sector, and app sizes that are not whole sectors (whole 64 KiB with Secure Boot v1)', () => {
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, 0x9800, 24K'))).toMatch(/^nvs starts at 0x9800, which is not on a 4 KiB flash sector boundary/)
    expect(errorOf(parsePartitionCsv('factory, app, factory, , 0x100800'))).toBe(
      'factory is 0x100800 bytes; an app partition must be a whole number of 4 KiB flash sectors (0x1000).',
    )
    expect(must(parsePartitionCsv('factory, app, factory, , 1500K')).partitions).toHaveLength(1)
    expect(errorOf(parsePartitionCsv('factory, app, factory, , 1500K', { secureBoot: 'v1' }))).toMatch(/Secure Boot v1/)
  })

  it('refuses duplicate names, listing the lines', () => {
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, , 24K\nnvs, data, fat, , 24K'))).toBe('2 partitions are named nvs (lines 1, 2); partition names must be unique.')
  })

  it('refuses a name longer than the 16 bytes an entry holds (the IDF tool would cut it short)', () => {
    expect(errorOf(parsePartitionCsv('exactly16bytes__, data, nvs, , 24K\nseventeen_bytes__, data, fat, , 4K'))).toBe(
      'seventeen_bytes__: the name is 17 bytes; a partition name holds at most 16 bytes of UTF-8.',
    )
    // Multi-byte characters count as bytes, not characters.
    expect(errorOf(parsePartitionCsv('настройки_, data, nvs, , 24K'))).toMatch(/the name is 19 bytes/)
    const ok = must(encodePartitionTable(must(parsePartitionCsv('exactly16bytes__, data, nvs, , 24K'))))
    expect(must(decodePartitionTable(ok)).partitions[0]?.name).toBe('exactly16bytes__')
  })

  it('refuses unknown types, subtypes, flags and numbers, naming the line', () => {
    expect(errorOf(parsePartitionCsv('nvs, dta, nvs, , 24K'))).toBe('Line 1: type "dta" is not app, data, bootloader, partition_table or a number.')
    expect(errorOf(parsePartitionCsv('# comment\nfactory, app, ota_16, , 1M'))).toMatch(/^Line 2: subtype "ota_16" is not known for app partitions; use one of factory, test, ota_0, /)
    expect(errorOf(parsePartitionCsv('mine, 0x40, custom, , 4K'))).toBe('Line 1: subtype "custom" must be a number: type 64 has no named subtypes.')
    expect(errorOf(parsePartitionCsv('factory, app, , , 1M'))).toMatch(/^Line 1: factory has no subtype/)
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, , 24K, encrypted: readonly'))).toBe(
      'Line 1: unknown flag " readonly"; the flags are encrypted and readonly, separated by ":" without spaces.',
    )
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, 0x9000, 24KB'))).toBe('Line 1: size "24KB" is not a number (write 0x6000, 24576, 24K or 1M).')
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, 09000, 24K'))).toMatch(/^Line 1: offset "09000" is not a number/)
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, 0x9000'))).toBe('Line 1: nvs has no size.')
    expect(errorOf(parsePartitionCsv('nvs'))).toMatch(/^Line 1: the type is empty/)
    expect(errorOf(parsePartitionCsv('big, 0x100, 0, , 4K'))).toBe('big: type 256 is out of range; a partition type is one byte (0–0xFF).')
  })

  it('refuses partitions beyond the flash size', () => {
    const error = errorOf(parsePartitionCsv(espIdfPartitionTables.two_ota, { flashSize: 2 * MB }))
    expect(error).toBe(
      'ota_0 (0x110000–0x210000) ends beyond the 2MB flash (0x200000).\nota_1 (0x210000–0x310000) ends beyond the 2MB flash (0x200000).',
    )
    expect(must(checkFitsFlash(twoOta(), 4 * MB)).spareBytes).toBe(4 * MB - 0x310000)
    expect(errorOf(checkFitsFlash(twoOta(), 2 * MB))).toBe(
      'The partitions need 0x310000 bytes of flash (3.1MB) but the chip has 2MB; ota_1 (0x210000–0x310000) ends past it.',
    )
  })

  it('applies the otadata, NVS and read-only rules of the current IDF tool', () => {
    expect(errorOf(parsePartitionCsv('otadata, data, ota, , 4K'))).toBe(
      'otadata is otadata (data, ota) of 0x1000 bytes; it must be exactly 0x2000: two 4 KiB sectors, one per copy of the boot selection.',
    )
    expect(errorOf(parsePartitionCsv('a, data, ota, , 8K\nb, data, ota, , 8K'))).toBe('There are 2 otadata (data, ota) partitions (a, b); there may be only one.')
    expect(errorOf(parsePartitionCsv('nvs, data, nvs, , 8K'))).toMatch(/^nvs is an NVS partition of 0x2000 bytes; read\/write NVS needs at least 0x3000/)
    expect(must(parsePartitionCsv('nvs, data, nvs, , 8K, readonly')).partitions[0]?.readonly).toBe(true)
    expect(errorOf(parsePartitionCsv('otadata, data, ota, , 8K, readonly'))).toMatch(/^otadata is flagged readonly, but ota data is always written/)
  })

  it('lists every problem, not just the first', () => {
    const problems = partitionTableProblems({
      partitions: [
        { name: 'nvs', type: 1, subtype: 2, offset: 0x8000, size: 0x2000, encrypted: false, readonly: false },
        { name: 'factory', type: 0, subtype: 0, offset: 0x11000, size: 0x100000, encrypted: false, readonly: false },
        { name: 'factory', type: 0, subtype: 0x10, offset: 0x120000, size: 0x100000, encrypted: false, readonly: false },
      ],
    })
    expect(problems).toHaveLength(4)
    expect(problems.join('\n')).toMatch(/0x3000[\s\S]*64 KiB boundary[\s\S]*named factory[\s\S]*starts below 0x9000/)
  })

  it('refuses more entries than fit under 0xC00 bytes with the MD5 row', () => {
    const rows = Array.from({ length: 95 }, (_, i) => `p${i}, data, fat, , 4K`).join('\n')
    const table = must(parsePartitionCsv(rows))
    expect(errorOf(encodePartitionTable(table))).toBe('95 partitions make a 3072-byte table; it must stay under 3072 bytes (0xC00), so at most 94 partitions fit.')
    expect(must(encodePartitionTable({ partitions: table.partitions.slice(0, 94) }))).toHaveLength(0xc00)
    expect(must(encodePartitionTable(table, { md5: false }))).toHaveLength(0xc00)
  })
})

describe('binary refusals', () => {
  const good = () => readBytes(path.join(tables, 'expected/partitions_two_ota.bin'))

  it('refuses a table whose MD5 row does not match its entries', () => {
    const bytes = good()
    bytes[4] = (bytes[4] ?? 0) ^ 0x10 // nvs offset 0x9000 → 0x9010
    expect(errorOf(decodePartitionTable(bytes))).toMatch(/^The partition table's MD5 does not match its entries \(stored [0-9a-f]{32}, computed [0-9a-f]{32}\)/)
    // gen_esp32part --disable-md5sum reads the same bytes without the check (and then refuses the MD5 row as an entry).
    expect(errorOf(decodePartitionTable(bytes, { md5: false }))).toMatch(/starts with 0xEBEB instead of the partition magic 0x50AA/)
  })

  it('refuses a damaged magic, a truncated entry, an erased sector and bad UTF-8 names', () => {
    const bytes = good()
    bytes[32] = 0
    expect(errorOf(decodePartitionTable(bytes))).toBe(
      'Entry 1 at 0x20 starts with 0x5000 instead of the partition magic 0x50AA: this is not a partition table, or it is damaged.',
    )
    expect(errorOf(decodePartitionTable(good().subarray(0, 100)))).toBe(
      'The partition table ends 4 bytes into a 32-byte entry at 0x60 without an end marker (a row of 32 × 0xFF).',
    )
    expect(errorOf(decodePartitionTable(new Uint8Array(0x1000).fill(0xff)))).toMatch(/holds no entries/)
    const badName = must(encodePartitionTable(must(parsePartitionCsv('nvs, data, nvs, , 24K')), { md5: false }))
    badName[12] = 0xc3
    expect(errorOf(decodePartitionTable(badName))).toBe('Entry 0 at 0x0 has a name that is not valid UTF-8.')
    expect(errorOf(readPartitionTable(Uint8Array.of(0xff, 0xff, 0x80)))).toMatch(/neither a binary partition table .* nor valid UTF-8 CSV text/)
  })

  it('never throws, whatever bytes or text it is given', () => {
    const random = seededRandom(7)
    const valid = good()
    for (let round = 0; round < 2000; round++) {
      const bytes = round % 2 === 0 ? randomBytes(random, Math.floor(random() * 200)) : valid.slice()
      if (round % 2 === 1) for (let k = 0; k < 3; k++) bytes[Math.floor(random() * 0x120)] = Math.floor(random() * 256)
      expect(() => readPartitionTable(bytes)).not.toThrow()
      expect(() => decodePartitionTable(bytes, { md5: round % 4 === 1 })).not.toThrow()
      const text = Array.from({ length: Math.floor(random() * 80) }, () => ',\n#0xkKmM $ab-_ ' [Math.floor(random() * 16)] ?? '').join('')
      expect(() => parsePartitionCsv(text)).not.toThrow()
    }
    expect(decodePartitionTable(undefined as unknown as Uint8Array).ok).toBe(false)
    expect(parsePartitionCsv(42 as unknown as string).ok).toBe(false)
    expect(encodePartitionTable({ partitions: [null as unknown as Partition] }).ok).toBe(false)
    expect(encodePartitionTable({ partitions: [{ name: 'x', type: 1, subtype: 1, offset: -1, size: 1.5, encrypted: false, readonly: false }] }).ok).toBe(false)
    expect(parsePartitionCsv('nvs, data, nvs, , 24K', { partitionTableOffset: 0x8001 }).ok).toBe(false)
  })

  it('round-trips random valid tables through the binary', () => {
    const random = seededRandom(99)
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(random() * 20)
      let offset = 0x9000
      const partitions: Partition[] = []
      for (let i = 0; i < count; i++) {
        const isApp = random() < 0.3
        if (isApp) offset = Math.ceil(offset / 0x10000) * 0x10000
        const size = (1 + Math.floor(random() * 64)) * 0x1000
        partitions.push({
          name: `p${i}${random() < 0.2 ? 'ü' : ''}`,
          type: isApp ? 0 : 1,
          subtype: isApp ? 0x10 + i : 0x80 + Math.floor(random() * 4),
          offset,
          size,
          encrypted: random() < 0.3,
          readonly: !isApp && random() < 0.3,
        })
        offset += size
      }
      const binary = must(encodePartitionTable({ partitions }))
      expect(must(decodePartitionTable(binary)).partitions).toEqual(partitions)
    }
  })
})

describe('lookups for OTA and flashing', () => {
  const table = () => must(parsePartitionCsv(espIdfPartitionTables.two_ota_encr_nvs))

  it('finds partitions by name, by type and subtype keyword or number', () => {
    expect(findPartition(table(), { name: 'otadata' })?.offset).toBe(0xd000)
    expect(findPartition(table(), { type: 'app', subtype: 'ota_1' })?.name).toBe('ota_1')
    expect(findPartition(table(), { type: 0, subtype: 0x10 })?.name).toBe('ota_0')
    expect(findPartition(table(), { type: 'data', subtype: 'nvs_keys' })?.encrypted).toBe(true)
    expect(findPartitions(table(), { type: 'app' }).map((p) => p.name)).toEqual(['factory', 'ota_0', 'ota_1'])
    expect(findPartition(table(), { type: 'data', subtype: 'spiffs' })).toBeUndefined()
    expect(findPartition(table(), { type: 'app', subtype: 'no_such_subtype' })).toBeUndefined()
    expect(findPartition(table(), { name: 'nope' })).toBeUndefined()
  })

  it('lists the OTA slots and picks the next update slot as esp_ota_get_next_update_partition does', () => {
    const t = table()
    const slots = otaAppPartitions(t)
    expect(slots.map((p) => p.name)).toEqual(['ota_0', 'ota_1'])
    expect(slots.map(otaSlotOf)).toEqual([0, 1])
    expect(otaSlotOf(findPartition(t, { name: 'factory' }) as Partition)).toBeNull()
    expect(nextUpdatePartition(t, findPartition(t, { name: 'factory' }))?.name).toBe('ota_0')
    expect(nextUpdatePartition(t, slots[0])?.name).toBe('ota_1')
    expect(nextUpdatePartition(t, slots[1])?.name).toBe('ota_0')
    expect(nextUpdatePartition(must(parsePartitionCsv(espIdfPartitionTables.singleapp)), undefined)).toBeUndefined()
  })

  it('checks that an image fits its partition, with the bytes to spare', () => {
    const ota0 = findPartition(table(), { name: 'ota_0' }) as Partition
    expect(must(checkFitsPartition(ota0, 0x100000)).spareBytes).toBe(0)
    expect(must(checkFitsPartition(ota0, 900_000)).spareBytes).toBe(0x100000 - 900_000)
    expect(errorOf(checkFitsPartition(ota0, 1_100_000))).toBe(
      'The image is 1,100,000 bytes but ota_0 (0x110000–0x210000) holds 1,048,576 bytes (1M): 51,424 bytes too many.',
    )
    expect(errorOf(checkFitsPartition(ota0, -1))).toMatch(/whole number of bytes/)
    expect(errorOf(checkFitsPartition(ota0, 0))).toBe('The image for ota_0 is empty.')
    expect(must(checkImageFitsTable(table(), { type: 'app', subtype: 'ota_1' }, 1000)).partition.name).toBe('ota_1')
    expect(errorOf(checkImageFitsTable(must(parsePartitionCsv(espIdfPartitionTables.singleapp)), { type: 'app', subtype: 'ota_0' }, 1000))).toBe(
      'The partition table has no app/ota_0 partition.',
    )
  })

  it('reports the flash the table needs and the keyword names', () => {
    expect(partitionTableEnd(table())).toBe(0x311000)
    expect(partitionTypeName(0)).toBe('app')
    expect(partitionTypeName(0x40)).toBe('64')
    expect(partitionSubtypeName(1, 0x83)).toBe('littlefs')
    expect(partitionSubtypeName(0, 0x1f)).toBe('ota_15')
  })
})
