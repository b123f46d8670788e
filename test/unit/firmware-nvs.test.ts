// NVS images against two tools nobody here wrote: the binaries that ESP-IDF's nvs_partition_gen.py made
// from its sample CSVs (byte for byte), and nvs_tool.py's reading of them and of a real v1 image that the
// IDF host tests load (shared/fixtures/esp-idf/nvs, see shared/fixtures/README.md).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  decodeNvsPartition,
  generateNvsPartition,
  generateNvsPartitionFromCsv,
  nvsImageFor,
  nvsToolMinimal,
  parseNvsCsv,
  type NvsEntry,
  type NvsFormatVersion,
  type NvsPartitionDump,
} from '../../shared/domain/firmware/nvs'

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures/esp-idf/nvs')
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(fixtures, name)))
const readText = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8')
// The tool is run from inside nvs/, so the CSV's testdata/ paths are relative to it.
const readFixtureFile = (file: string): Uint8Array => read(file)

// Sizes and versions as shared/fixtures/README.md records how each expected binary was made.
const generated: { csv: string; expected: string; size: number; version: NvsFormatVersion }[] = [
  { csv: 'sample_singlepage_blob.csv', expected: 'sample_singlepage_blob.nvs.bin', size: 0x3000, version: 2 },
  { csv: 'sample_singlepage_blob.csv', expected: 'sample_singlepage_blob.v1.nvs.bin', size: 0x3000, version: 1 },
  { csv: 'sample_multipage_blob.csv', expected: 'sample_multipage_blob.nvs.bin', size: 0x4000, version: 2 },
]

const toolDumps: { image: string; json: string }[] = [
  { image: 'expected/sample_singlepage_blob.nvs.bin', json: 'expected/sample_singlepage_blob.nvs.nvs_tool.json' },
  { image: 'expected/sample_singlepage_blob.v1.nvs.bin', json: 'expected/sample_singlepage_blob.v1.nvs.nvs_tool.json' },
  { image: 'expected/sample_multipage_blob.nvs.bin', json: 'expected/sample_multipage_blob.nvs.nvs_tool.json' },
  { image: 'part_old_blob_format.bin', json: 'expected/part_old_blob_format.nvs_tool.json' },
]

function decoded(image: Uint8Array): NvsPartitionDump {
  const result = decodeNvsPartition(image)
  if (!result.ok) throw new Error(result.error)
  return result.value
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `first difference at 0x${i.toString(16)}: got ${a[i]?.toString(16)}, expected ${b[i]?.toString(16)}`
  }
  return 'identical'
}

describe('nvs_partition_gen.py output, byte for byte', () => {
  for (const { csv, expected, size, version } of generated) {
    it(`${csv} at 0x${size.toString(16)}, version ${version} = expected/${expected}`, () => {
      const result = generateNvsPartitionFromCsv(readText(csv), { size, version, readFile: readFixtureFile })
      if (!result.ok) throw new Error(result.error)
      const want = read(`expected/${expected}`)
      expect(result.value.length).toBe(want.length)
      expect(firstDifference(result.value, want)).toBe('identical')
    })
  }

  it('version 2 is the default, as in the tool', () => {
    const result = generateNvsPartitionFromCsv(readText('sample_multipage_blob.csv'), { size: 0x4000, readFile: readFixtureFile })
    expect(result.ok && firstDifference(result.value, read('expected/sample_multipage_blob.nvs.bin'))).toBe('identical')
  })

  it('leaves every page it did not need as the tool does: a full header, no entries, and the last page erased', () => {
    const result = generateNvsPartitionFromCsv('key,type,encoding,value\nns,namespace,,\nk,data,u8,1\n', { size: 0x5000 })
    if (!result.ok) throw new Error(result.error)
    const dump = decoded(result.value)
    expect(dump.pages.map((page) => (page.blank ? 'blank' : `${page.state}#${page.sequence}`))).toEqual(['full#0', 'full#1', 'full#2', 'full#3', 'blank'])
    expect(result.value.subarray(0x4000).every((byte) => byte === 0xff)).toBe(true)
    expect(dump.items).toEqual([{ namespace: 'ns', key: 'k', type: 'u8', value: 1 }])
  })
})

describe('page boundaries, placed where the tool places them', () => {
  const filler = (count: number): string => Array.from({ length: count }, (_, i) => `k${i},data,u8,${i & 0xff}`).join('\n')
  const written = (dump: NvsPartitionDump, page: number): string[] =>
    (dump.pages[page]?.entries ?? []).filter((entry) => entry.state === 'written').map((entry) => `${entry.slot}:${entry.type}:${entry.key}:${entry.span}`)

  it('moves a string that would reach the last entry of a page to the next page', () => {
    // Namespace + 120 u8 leave entries 121..125: exactly a 5-entry string, but the tool never uses entry 125 for it.
    const result = generateNvsPartitionFromCsv(`key,type,encoding,value\nns,namespace,,\n${filler(120)}\ns,data,string,${'x'.repeat(99)}\n`, { size: 0x3000 })
    if (!result.ok) throw new Error(result.error)
    const dump = decoded(result.value)
    expect(written(dump, 0)).toHaveLength(121)
    expect(written(dump, 1)).toEqual(['0:string:s:5'])
    expect(dump.items.at(-1)?.value).toBe('x'.repeat(99))
  })

  it('starts a version 2 blob in the last entry of a page with an empty chunk, as the tool does, and still reads it back', () => {
    const blob = Uint8Array.from({ length: 100 }, (_, i) => i)
    const result = generateNvsPartitionFromCsv(`key,type,encoding,value\nns,namespace,,\n${filler(124)}\nb,file,binary,b.bin\n`, {
      size: 0x3000,
      readFile: () => blob,
    })
    if (!result.ok) throw new Error(result.error)
    const dump = decoded(result.value)
    expect(written(dump, 0).at(-1)).toBe('125:blob_data:b:1')
    expect(written(dump, 1)).toEqual(['0:blob_data:b:5', '5:blob_index:b:1'])
    expect(dump.pages[1]?.entries[1]?.value).toEqual({ size: 100, chunkCount: 2, chunkStart: 0 })
    expect(dump.items.at(-1)?.value).toEqual(blob)
    expect(dump.problems).toEqual([])
  })

  it('puts the blob index on the next page when the last chunk leaves no whole entry', () => {
    // Namespace + 3 u8 leave 122 entries: a chunk of 121 entries fills them, so the index moves on.
    const blob = new Uint8Array(121 * 32).fill(7)
    const result = generateNvsPartitionFromCsv(`key,type,encoding,value\nns,namespace,,\n${filler(3)}\nb,file,binary,b.bin\n`, { size: 0x3000, readFile: () => blob })
    if (!result.ok) throw new Error(result.error)
    const dump = decoded(result.value)
    expect(written(dump, 0).at(-1)).toBe('4:blob_data:b:122')
    expect(written(dump, 1)).toEqual(['0:blob_index:b:1'])
    expect(dump.items.at(-1)?.value).toEqual(blob)
  })
})

describe('reading a partition the way nvs_tool.py does', () => {
  for (const { image, json } of toolDumps) {
    it(`${image} agrees with ${json}`, () => {
      const dump = decoded(read(image))
      expect(nvsToolMinimal(dump)).toEqual(JSON.parse(readText(json)))
      expect(dump.problems).toEqual([])
    })
  }

  it('reassembles the multi-page blob the board reads from its chunks and index', () => {
    const dump = decoded(read('expected/sample_multipage_blob.nvs.bin'))
    const bin = dump.items.find((item) => item.key === 'binFileKey')
    expect(bin?.type).toBe('blob')
    expect(bin?.value).toEqual(read('testdata/sample_multipage_blob.bin'))
    expect(dump.namespaces).toEqual([{ index: 1, name: 'dummyNamespace' }])
    expect(dump.items.map((item) => item.key)).toEqual([
      'dummyU8Key',
      'dummyI8Key',
      'dummyU16Key',
      'dummyU32Key',
      'dummyI32Key',
      'dummyStringKey',
      'dummyHex2BinKey',
      'dummyBase64Key',
      'hexFileKey',
      'base64FileKey',
      'stringFileKey',
      'blobFileAKey',
      'blobFileBKey',
      'binFileKey',
    ])
  })

  it('reads the real v1 image the IDF host test loads, old blob format included', () => {
    const dump = decoded(read('part_old_blob_format.bin'))
    expect(dump.pages[0]?.state).toBe('active')
    expect(dump.pages[0]?.version).toBe(1)
    expect(dump.items.find((item) => item.key === 'dummyHex2BinKey')).toEqual({
      namespace: 'dummyNamespace',
      key: 'dummyHex2BinKey',
      type: 'blob',
      value: Uint8Array.from([0x01, 0x02, 0x03, 0xab, 0xcd, 0xef]),
    })
    expect(dump.items.find((item) => item.key === 'dummyI32Key')?.value).toBe(-2147483648)
  })

  it('reports a damaged entry instead of showing it, as the board would erase it', () => {
    const image = read('expected/sample_singlepage_blob.nvs.bin').slice()
    image[0x40 + 32 * 1 + 24] = 0x7e // dummyU8Key's value, without fixing its CRC
    const dump = decoded(image)
    expect(dump.items.some((item) => item.key === 'dummyU8Key')).toBe(false)
    expect(dump.problems.join('\n')).toMatch(/entry 1 \(dummyU8Key\): entry CRC does not match/)
  })

  it('says a partition whose entries all fail their CRC may be encrypted', () => {
    const image = read('expected/sample_singlepage_blob.nvs.bin').slice()
    for (let at = 0x40; at < 0x1000; at++) image[at] = (image[at] as number) ^ 0x5a
    const dump = decoded(image)
    expect(dump.problems.join('\n')).toMatch(/may be encrypted/)
  })

  it('refuses an image that is not whole pages', () => {
    expect(decodeNvsPartition(new Uint8Array(100))).toEqual({ ok: false, error: expect.stringMatching(/not a whole number of 4096-byte pages/) })
    expect(decodeNvsPartition(new Uint8Array(0))).toEqual({ ok: false, error: 'The NVS image is empty.' })
  })
})

describe('per-board images for the bench station', () => {
  const certificate = Uint8Array.from({ length: 5200 }, (_, i) => (i * 131 + 7) & 0xff)
  const board: NvsEntry[] = [
    { namespace: 'device', key: 'device_id', type: 'string', value: 'esp32-7c9ebd4a1f20' },
    { namespace: 'wifi', key: 'ssid', type: 'string', value: 'Plant-7 Halle 3' },
    { namespace: 'wifi', key: 'psk', type: 'string', value: 'correct horse battery staple' },
    { namespace: 'device', key: 'claim_cert', type: 'binary', value: certificate },
    { namespace: 'device', key: 'boot_count', type: 'u32', value: 0 },
    { namespace: 'device', key: 'site_offset', type: 'i64', value: -1234567890123n },
    { namespace: 'device', key: 'serial', type: 'u64', value: '18446744073709551615' },
    { namespace: 'wifi', key: 'channel', type: 'u8', value: 11 },
    { namespace: 'wifi', key: 'bssid', type: 'hex2bin', value: 'A4CF12005E01' },
    { namespace: 'wifi', key: 'token', type: 'base64', value: 'MTIzYWJj' },
  ]

  it('round-trips through the decoder, grouped by namespace', () => {
    const image = nvsImageFor(board, 0x6000)
    if (!image.ok) throw new Error(image.error)
    expect(image.value.length).toBe(0x6000)
    const dump = decoded(image.value)
    expect(dump.problems).toEqual([])
    expect(dump.namespaces).toEqual([
      { index: 1, name: 'device' },
      { index: 2, name: 'wifi' },
    ])
    expect(dump.items).toEqual([
      { namespace: 'device', key: 'device_id', type: 'string', value: 'esp32-7c9ebd4a1f20' },
      { namespace: 'device', key: 'claim_cert', type: 'blob', value: certificate },
      { namespace: 'device', key: 'boot_count', type: 'u32', value: 0 },
      { namespace: 'device', key: 'site_offset', type: 'i64', value: -1234567890123n },
      { namespace: 'device', key: 'serial', type: 'u64', value: 18446744073709551615n },
      { namespace: 'wifi', key: 'ssid', type: 'string', value: 'Plant-7 Halle 3' },
      { namespace: 'wifi', key: 'psk', type: 'string', value: 'correct horse battery staple' },
      { namespace: 'wifi', key: 'channel', type: 'u8', value: 11 },
      { namespace: 'wifi', key: 'bssid', type: 'blob', value: Uint8Array.from([0xa4, 0xcf, 0x12, 0x00, 0x5e, 0x01]) },
      { namespace: 'wifi', key: 'token', type: 'blob', value: Uint8Array.from([0x31, 0x32, 0x33, 0x61, 0x62, 0x63]) },
    ])
  })

  it('writes the same bytes as the CSV path for the same values', () => {
    const csv = [
      'key,type,encoding,value',
      'device,namespace,,',
      'device_id,data,string,esp32-7c9ebd4a1f20',
      'claim_cert,file,binary,cert.der',
      'wifi,namespace,,',
      'ssid,data,string,"Plant-7, Halle 3"',
    ].join('\n')
    const fromCsv = generateNvsPartitionFromCsv(csv, { size: 0x4000, readFile: () => certificate })
    const fromEntries = nvsImageFor(
      [
        { namespace: 'device', key: 'device_id', type: 'string', value: 'esp32-7c9ebd4a1f20' },
        { namespace: 'device', key: 'claim_cert', type: 'binary', value: certificate },
        { namespace: 'wifi', key: 'ssid', type: 'string', value: 'Plant-7, Halle 3' },
      ],
      0x4000,
    )
    expect(fromCsv.ok && fromEntries.ok && firstDifference(fromCsv.value, fromEntries.value)).toBe('identical')
  })

  it('keeps a version 1 image to single-page blobs', () => {
    const image = nvsImageFor([{ namespace: 'device', key: 'claim_cert', type: 'binary', value: certificate.subarray(0, 1500) }], 0x3000, { version: 1 })
    if (!image.ok) throw new Error(image.error)
    const dump = decoded(image.value)
    expect(dump.pages[0]?.entries.map((entry) => entry.type).filter(Boolean)).toContain('blob')
    expect(dump.items[0]?.value).toEqual(certificate.subarray(0, 1500))
  })

  it('puts a non-ASCII Wi-Fi name through as UTF-8', () => {
    const image = nvsImageFor([{ namespace: 'wifi', key: 'ssid', type: 'string', value: 'Büro ☕ 2' }], 0x3000)
    expect(image.ok && decoded(image.value).items[0]?.value).toBe('Büro ☕ 2')
  })
})

describe('bad input is refused with a reason, never thrown', () => {
  const header = 'key,type,encoding,value\n'
  const refusal = (csv: string, options: { size?: number; version?: NvsFormatVersion; readFile?: (file: string) => Uint8Array } = {}): string => {
    const result = generateNvsPartitionFromCsv(csv, { size: 0x3000, ...options })
    return result.ok ? 'accepted' : result.error
  }

  it('a key longer than 15 characters', () => {
    expect(refusal(`${header}ns,namespace,,\nsixteen_chars_ab,data,u8,1\n`)).toMatch(/CSV line 3: key "sixteen_chars_ab" is 16 characters; NVS keys are at most 15/)
    expect(refusal(`${header}fifteen_chars_a,namespace,,\n`)).toBe('accepted')
  })

  it('an unknown type or encoding', () => {
    expect(refusal(`${header}ns,namespace,,\nk,blob,u8,1\n`)).toMatch(/unknown type "blob"/)
    expect(refusal(`${header}ns,namespace,,\nk,data,float,1.5\n`)).toMatch(/unknown encoding "float"/)
    expect(nvsImageFor([{ namespace: 'ns', key: 'k', type: 'f32' as never, value: 1 }], 0x3000)).toEqual({
      ok: false,
      error: expect.stringMatching(/entry 1 \(ns\/k\): unknown type "f32"/),
    })
  })

  it('a value out of range for its integer type', () => {
    expect(refusal(`${header}ns,namespace,,\nk,data,u8,256\n`)).toMatch(/CSV line 3 \(k\): 256 is out of range for u8 \(0\.\.255\)/)
    expect(refusal(`${header}ns,namespace,,\nk,data,i8,-129\n`)).toMatch(/out of range for i8/)
    expect(refusal(`${header}ns,namespace,,\nk,data,u32,0x10\n`)).toMatch(/"0x10" is not a decimal integer/)
    expect(nvsImageFor([{ namespace: 'ns', key: 'k', type: 'u16', value: 70000 }], 0x3000)).toEqual({
      ok: false,
      error: expect.stringMatching(/70000 is out of range for u16/),
    })
    expect(nvsImageFor([{ namespace: 'ns', key: 'k', type: 'u8', value: 1.5 }], 0x3000)).toEqual({ ok: false, error: expect.stringMatching(/whole number/) })
  })

  it('a string longer than 4000 bytes, or too long for one page as the tool lays it out', () => {
    expect(refusal(`${header}ns,namespace,,\nk,data,string,${'x'.repeat(4000)}\n`)).toMatch(/string of 4001 bytes .* longer than the 4000 bytes/)
    expect(refusal(`${header}ns,namespace,,\nk,data,string,${'x'.repeat(3990)}\n`)).toMatch(/does not fit in one page/)
    expect(refusal(`${header}ns,namespace,,\nk,data,string,${'x'.repeat(3967)}\n`)).toBe('accepted')
    expect(refusal(`${header}ns,namespace,,\nk,data,string,${'x'.repeat(1984)}\n`, { version: 1 })).toMatch(/1985 bytes .* format version 1 allows/)
  })

  it('data that does not fit the partition size', () => {
    const csv = `${header}ns,namespace,,\nbig,file,binary,big.bin\n`
    expect(refusal(csv, { readFile: () => new Uint8Array(9000) })).toMatch(
      /CSV line 3 \(big\): the data does not fit in a 0x3000-byte partition \(2 pages for data; the last page stays empty\)/,
    )
    expect(refusal(csv, { size: 0x5000, readFile: () => new Uint8Array(9000) })).toBe('accepted')
  })

  it('a partition size the tool would refuse', () => {
    expect(refusal(`${header}ns,namespace,,\n`, { size: 0x2000 })).toMatch(/at least 0x3000/)
    expect(refusal(`${header}ns,namespace,,\n`, { size: 0x3100 })).toMatch(/not a multiple of 4096/)
  })

  it('data before any namespace', () => {
    expect(refusal(`${header}k,data,u8,1\n`)).toMatch(/CSV line 2 \(k\): a namespace row must come before the first data or file row/)
  })

  it('an unreadable file, or a file row with no reader', () => {
    const csv = `${header}ns,namespace,,\ncert,file,binary,/nonexistent/cert.der\n`
    expect(
      refusal(csv, {
        readFile: (file) => {
          throw new Error(`ENOENT: no such file, open '${file}'`)
        },
      }),
    ).toMatch(/cannot read file \/nonexistent\/cert.der: ENOENT/)
    expect(refusal(csv)).toMatch(/file rows need a file reader/)
    expect(refusal(csv, { readFile: () => undefined as unknown as Uint8Array })).toMatch(/cannot read file/)
  })

  it('malformed hex, base64 or UTF-8 file text', () => {
    expect(refusal(`${header}ns,namespace,,\nk,data,hex2bin,abc\n`)).toMatch(/3 hex digits; it needs an even number/)
    expect(refusal(`${header}ns,namespace,,\nk,data,hex2bin,zz\n`)).toMatch(/not hex digits/)
    expect(refusal(`${header}ns,namespace,,\nk,data,base64,MTIzYWI\n`)).toMatch(/incorrect padding/)
    expect(refusal(`${header}ns,namespace,,\nk,file,string,bad.txt\n`, { readFile: () => Uint8Array.from([0xff, 0xfe]) })).toMatch(/not valid UTF-8/)
  })

  it('encryption, which is out of scope', () => {
    const result = generateNvsPartitionFromCsv(`${header}ns,namespace,,\n`, { size: 0x3000, nvsKeys: new Uint8Array(4096) })
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/NVS encryption .* is not supported/) })
  })

  it('a repeated namespace or key, which the board could not read back', () => {
    expect(refusal(`${header}a,namespace,,\nk,data,u8,1\nb,namespace,,\na,namespace,,\n`)).toMatch(/namespace a is declared twice/)
    expect(refusal(`${header}a,namespace,,\nk,data,u8,1\nk,data,u8,2\n`)).toMatch(/key k appears twice/)
    expect(nvsImageFor([{ namespace: 'a', key: 'k', type: 'u8', value: 1 }, { namespace: 'a', key: 'k', type: 'u8', value: 2 }], 0x3000)).toEqual({
      ok: false,
      error: expect.stringMatching(/key k appears twice/),
    })
  })

  it('a CSV without the header or with short rows', () => {
    expect(parseNvsCsv('# only a comment\n')).toEqual({ ok: false, error: expect.stringMatching(/no header line/) })
    expect(refusal('name,type\nns,namespace\n')).toMatch(/header must name the columns/)
    expect(refusal(`${header}ns,namespace,,\nk,data,u8\n`)).toMatch(/CSV line 3: 3 field\(s\)/)
    expect(refusal(`${header}ns,namespace,,\nk,data,string,"open\n`)).toMatch(/quoted value is never closed/)
  })

  it('rows already split still need their namespace first', () => {
    expect(generateNvsPartition([{ line: 1, key: 'k', type: 'data', encoding: 'u8', value: '1' }], { size: 0x3000 })).toEqual({
      ok: false,
      error: expect.stringMatching(/namespace row must come before/),
    })
  })
})
