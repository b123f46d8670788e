// ESP-IDF NVS partition images: written byte for byte the way nvs_partition_gen.py lays them out (format
// version 2 with multi-page blobs, or version 1 with single-page blobs), and read back the way the board
// and nvs_tool.py see them. Pure: files named in a CSV come through a resolver the caller passes in.
//
// Layout (components/nvs_flash): a partition is 4096-byte pages. Each page holds a 32-byte header
// (state, sequence number, format version, CRC32), a 32-byte entry state bitmap (2 bits per entry) and
// 126 entries of 32 bytes. An entry is namespace index, type, span, chunk index, CRC32, a 16-byte key and
// 8 bytes of data; strings and blobs continue in the following `span - 1` entries.

import { concatBytes } from '../rom-bootloader/bytes'
import { crc32Le } from './checksums'
import { parseNvsCsv, type NvsCsvRow, type NvsOutcome } from './nvs-csv'

export { parseNvsCsv, type NvsCsvRow, type NvsOutcome } from './nvs-csv'

export const NVS_PAGE_SIZE = 4096
export const NVS_ENTRY_SIZE = 32
export const NVS_ENTRIES_PER_PAGE = 126
/** nvs_partition_gen.py keeps one page empty for garbage collection and needs two more for data. */
export const NVS_MIN_PARTITION_SIZE = 0x3000
/** Longest key: 15 characters and a terminating NUL fill the 16-byte key field. */
export const NVS_MAX_KEY_LENGTH = 15
/** Longest string (its NUL included) in format version 2; the generator's own limit. */
export const NVS_MAX_STRING_BYTES = 4000
/** Longest string or blob in format version 1, where a value must fit in one page. */
export const NVS_MAX_V1_VALUE_BYTES = 1984

export type NvsFormatVersion = 1 | 2
export type NvsPrimitiveEncoding = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64'
export type NvsEncoding = NvsPrimitiveEncoding | 'string' | 'hex2bin' | 'base64' | 'binary'
/** Item types as the NVS library names them (nvs_types.hpp), including the two halves of a v2 blob. */
export type NvsItemType = NvsPrimitiveEncoding | 'string' | 'blob' | 'blob_data' | 'blob_index'
/** What an application reads back: a v1 blob and a v2 multi-page blob are both `blob`. */
export type NvsValueType = NvsPrimitiveEncoding | 'string' | 'blob'

const PRIMITIVE_ENCODINGS: readonly NvsPrimitiveEncoding[] = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64']
const VARIABLE_ENCODINGS = ['string', 'hex2bin', 'base64', 'binary'] as const
const ENCODINGS: readonly NvsEncoding[] = [...PRIMITIVE_ENCODINGS, ...VARIABLE_ENCODINGS]

const TYPE_CODES: Record<NvsItemType, number> = {
  u8: 0x01,
  i8: 0x11,
  u16: 0x02,
  i16: 0x12,
  u32: 0x04,
  i32: 0x14,
  u64: 0x08,
  i64: 0x18,
  string: 0x21,
  blob: 0x41,
  blob_data: 0x42,
  blob_index: 0x48,
}
const TYPE_BY_CODE = new Map<number, NvsItemType>(Object.entries(TYPE_CODES).map(([name, code]) => [code, name as NvsItemType]))

const PAGE_ACTIVE = 0xfffffffe
const PAGE_FULL = 0xfffffffc
const PAGE_STATES = new Map<number, NvsPageState>([
  [0xffffffff, 'empty'],
  [PAGE_ACTIVE, 'active'],
  [PAGE_FULL, 'full'],
  [0xfffffff8, 'erasing'],
  [0x00000000, 'corrupt'],
])
const VERSION_BYTE: Record<NvsFormatVersion, number> = { 1: 0xff, 2: 0xfe }
const CHUNK_ANY = 0xff
/** Chunk indexes 0..127 belong to a blob's version 0; the generator always starts there. */
const MAX_BLOB_CHUNKS = 128
/** Namespace indexes are one byte; 0 is the namespace table itself and 255 is "any". */
const MAX_NAMESPACES = 254
const ENTRY_TABLE_OFFSET = 64
/** Bounds the memory a mistyped size can ask for; no ESP32 flash chip is larger. */
const MAX_PARTITION_SIZE = 128 * 1024 * 1024

// ---------------------------------------------------------------------------------------------------
// Generating

export interface NvsGenerateOptions {
  /** Partition size in bytes, as in the partition table: a multiple of 4096, at least 0x3000. */
  size: number
  /** 2 (default) writes multi-page blobs; 1 writes single-page blobs for IDF older than v4.0. */
  version?: NvsFormatVersion
  /** Reads a `file` row's value (a path as written in the CSV). Throw or return undefined when unreadable. */
  readFile?: (path: string) => Uint8Array | undefined
  /** An nvs_keys partition for NVS encryption. Not supported: giving one is refused. */
  nvsKeys?: Uint8Array
}

/** One value the bench station writes for a board, for example `{namespace: 'wifi', key: 'ssid', type: 'string', value: 'plant-7'}`. */
export interface NvsEntry {
  namespace: string
  key: string
  type: NvsEncoding
  /** Integers as number, bigint or decimal text; `string`, `hex2bin`, `base64` as text; `binary` as bytes (or text, stored as UTF-8). */
  value: string | number | bigint | Uint8Array
}

/** Builds a partition image from the CSV that nvs_partition_gen.py reads. */
export function generateNvsPartitionFromCsv(csv: string, options: NvsGenerateOptions): NvsOutcome<Uint8Array> {
  const rows = parseNvsCsv(csv)
  if (!rows.ok) return rows
  return generateNvsPartition(rows.value, options)
}

/** Builds a partition image from CSV rows already split (see parseNvsCsv). */
export function generateNvsPartition(rows: readonly NvsCsvRow[], options: NvsGenerateOptions): NvsOutcome<Uint8Array> {
  const settings = checkOptions(options)
  if (!settings.ok) return settings
  const items = prepareCsvRows(rows, settings.value.version, options.readFile)
  if (!items.ok) return items
  return writePartition(items.value, settings.value.size, settings.value.version)
}

/**
 * The image that gives one board its own values (device id, Wi-Fi credentials, claim certificate…).
 * Entries are grouped by namespace in the order each namespace first appears, because a namespace written
 * twice would get two indexes and the board would only ever open the first.
 */
export function nvsImageFor(entries: readonly NvsEntry[], size: number, options: { version?: NvsFormatVersion } = {}): NvsOutcome<Uint8Array> {
  const settings = checkOptions({ size, ...options })
  if (!settings.ok) return settings
  const version = settings.value.version
  if (!Array.isArray(entries)) return { ok: false, error: 'Entries must be a list of {namespace, key, type, value}.' }

  const byNamespace = new Map<string, { entry: NvsEntry; where: string }[]>()
  for (const [index, entry] of entries.entries()) {
    const where = `entry ${index + 1}${typeof entry?.namespace === 'string' && typeof entry?.key === 'string' ? ` (${entry.namespace}/${entry.key})` : ''}`
    if (typeof entry !== 'object' || entry === null) return { ok: false, error: `${where}: not an object.` }
    if (typeof entry.namespace !== 'string') return { ok: false, error: `${where}: namespace must be text.` }
    if (typeof entry.key !== 'string') return { ok: false, error: `${where}: key must be text.` }
    const group = byNamespace.get(entry.namespace) ?? []
    group.push({ entry, where })
    byNamespace.set(entry.namespace, group)
  }

  const items: PreparedItem[] = []
  for (const [namespace, group] of byNamespace) {
    const name = checkKey(namespace, `${group[0]?.where ?? 'entry'}: namespace`)
    if (name) return { ok: false, error: name }
    items.push({ kind: 'namespace', name: namespace, where: `namespace ${namespace}` })
    const seen = new Set<string>()
    for (const { entry, where } of group) {
      if (seen.has(entry.key)) return { ok: false, error: `${where}: key ${entry.key} appears twice in namespace ${namespace}.` }
      seen.add(entry.key)
      const item = prepareEntry(entry, where, version)
      if (!item.ok) return item
      items.push(item.value)
    }
  }
  return writePartition(items, settings.value.size, version)
}

function checkOptions(options: NvsGenerateOptions): NvsOutcome<{ size: number; version: NvsFormatVersion }> {
  if (options.nvsKeys !== undefined) {
    return {
      ok: false,
      error:
        'NVS encryption (an nvs_keys partition, XTS-AES) is not supported here: generate the image unencrypted, or encrypt it with nvs_partition_gen.py encrypt.',
    }
  }
  const version = options.version ?? 2
  if (version !== 1 && version !== 2) return { ok: false, error: `NVS format version must be 1 or 2, not ${String(version)}.` }
  const size = options.size
  if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) {
    return { ok: false, error: `Partition size must be a positive whole number of bytes, not ${String(size)}.` }
  }
  if (size % NVS_PAGE_SIZE !== 0) return { ok: false, error: `Partition size ${hex(size)} is not a multiple of 4096 (0x1000).` }
  if (size < NVS_MIN_PARTITION_SIZE) {
    return { ok: false, error: `Partition size ${hex(size)} is too small: NVS needs at least 0x3000 bytes (two data pages and one empty page).` }
  }
  if (size > MAX_PARTITION_SIZE) return { ok: false, error: `Partition size ${hex(size)} is larger than any flash chip this console programs (128 MiB).` }
  return { ok: true, value: { size, version } }
}

// What the writer lays out: already checked, already converted to bytes.
type PreparedItem =
  | { kind: 'namespace'; name: string; where: string }
  | { kind: 'primitive'; key: string; encoding: NvsPrimitiveEncoding; value: bigint; where: string }
  | { kind: 'string'; key: string; bytes: Uint8Array; where: string }
  | { kind: 'blob'; key: string; bytes: Uint8Array; where: string }

function prepareCsvRows(
  rows: readonly NvsCsvRow[],
  version: NvsFormatVersion,
  readFile: NvsGenerateOptions['readFile'],
): NvsOutcome<PreparedItem[]> {
  const items: PreparedItem[] = []
  const namespaces = new Set<string>()
  let keysInNamespace: Set<string> | null = null
  for (const row of rows) {
    const where = `CSV line ${row.line} (${row.key})`
    const keyProblem = checkKey(row.key, `CSV line ${row.line}`)
    if (keyProblem) return { ok: false, error: keyProblem }
    const type = row.type.trim()
    if (type === 'namespace') {
      // The tool would give a repeated name a second index, and the board would only open the first.
      if (namespaces.has(row.key)) {
        return { ok: false, error: `${where}: namespace ${row.key} is declared twice; put all of its keys under one namespace row.` }
      }
      namespaces.add(row.key)
      keysInNamespace = new Set()
      items.push({ kind: 'namespace', name: row.key, where })
      continue
    }
    if (type !== 'data' && type !== 'file') {
      return { ok: false, error: `${where}: unknown type "${row.type}"; the type column takes namespace, data or file.` }
    }
    if (keysInNamespace === null) {
      return { ok: false, error: `${where}: a namespace row must come before the first data or file row.` }
    }
    if (keysInNamespace.has(row.key)) return { ok: false, error: `${where}: key ${row.key} appears twice in the same namespace.` }
    keysInNamespace.add(row.key)

    const encoding = row.encoding.trim().toLowerCase()
    if (!isEncoding(encoding)) {
      return { ok: false, error: `${where}: unknown encoding "${row.encoding}"; use one of ${ENCODINGS.join(', ')}.` }
    }
    if (type === 'data') {
      const item = prepareValue(row.key, encoding, row.value, where, version)
      if (!item.ok) return item
      items.push(item.value)
      continue
    }
    if (isPrimitive(encoding)) {
      return { ok: false, error: `${where}: a file row takes string, hex2bin, base64 or binary encoding, not ${encoding}.` }
    }
    if (!readFile) return { ok: false, error: `${where}: file rows need a file reader, and none was given.` }
    let contents: Uint8Array | undefined
    try {
      contents = readFile(row.value)
    } catch (error) {
      return { ok: false, error: `${where}: cannot read file ${row.value}: ${error instanceof Error ? error.message : String(error)}` }
    }
    if (!(contents instanceof Uint8Array)) return { ok: false, error: `${where}: cannot read file ${row.value}.` }
    const item = prepareFileValue(row.key, encoding, contents, where, version)
    if (!item.ok) return item
    items.push(item.value)
  }
  return { ok: true, value: items }
}

function prepareEntry(entry: NvsEntry, where: string, version: NvsFormatVersion): NvsOutcome<PreparedItem> {
  const keyProblem = checkKey(entry.key, where)
  if (keyProblem) return { ok: false, error: keyProblem }
  if (!isEncoding(entry.type)) return { ok: false, error: `${where}: unknown type "${String(entry.type)}"; use one of ${ENCODINGS.join(', ')}.` }
  const { key, type, value } = entry
  if (isPrimitive(type)) {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) return { ok: false, error: `${where}: ${type} needs a whole number, not ${value}.` }
      return preparePrimitive(key, type, BigInt(value), where)
    }
    if (typeof value === 'bigint') return preparePrimitive(key, type, value, where)
    if (typeof value === 'string') return prepareValue(key, type, value, where, version)
    return { ok: false, error: `${where}: ${type} needs a number.` }
  }
  if (type === 'binary' && value instanceof Uint8Array) return sized({ kind: 'blob', key, bytes: value.slice(), where }, version)
  if (typeof value !== 'string') return { ok: false, error: `${where}: ${type} needs text${type === 'binary' ? ' or bytes' : ''}.` }
  return prepareValue(key, type, value, where, version)
}

/** A `data` row: the value is text in the CSV. */
function prepareValue(key: string, encoding: NvsEncoding, value: string, where: string, version: NvsFormatVersion): NvsOutcome<PreparedItem> {
  if (isPrimitive(encoding)) {
    // The tool reads integers with Python's int(): decimal only, surrounding blanks and `_` separators allowed.
    if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(value)) return { ok: false, error: `${where}: ${encoding} value "${value}" is not a decimal integer.` }
    return preparePrimitive(key, encoding, BigInt(value.trim().replace(/_/g, '').replace(/^\+/, '')), where)
  }
  switch (encoding) {
    case 'string':
      return sized({ kind: 'string', key, bytes: withNul(encodeUtf8(value)), where }, version)
    case 'binary':
      return sized({ kind: 'blob', key, bytes: encodeUtf8(value), where }, version)
    case 'hex2bin': {
      const bytes = decodeHex(value)
      if (!bytes.ok) return { ok: false, error: `${where}: ${bytes.error}` }
      return sized({ kind: 'blob', key, bytes: bytes.value, where }, version)
    }
    case 'base64': {
      const bytes = decodeBase64(value)
      if (!bytes.ok) return { ok: false, error: `${where}: ${bytes.error}` }
      return sized({ kind: 'blob', key, bytes: bytes.value, where }, version)
    }
  }
}

/** A `file` row: the file's bytes are the value, read as text for hex2bin and base64. */
function prepareFileValue(
  key: string,
  encoding: 'string' | 'hex2bin' | 'base64' | 'binary',
  contents: Uint8Array,
  where: string,
  version: NvsFormatVersion,
): NvsOutcome<PreparedItem> {
  switch (encoding) {
    case 'binary':
      return sized({ kind: 'blob', key, bytes: contents.slice(), where }, version)
    case 'string':
      if (decodeUtf8(contents, true) === null) return { ok: false, error: `${where}: the file is not valid UTF-8 text.` }
      return sized({ kind: 'string', key, bytes: withNul(contents), where }, version)
    case 'hex2bin':
    case 'base64':
      return prepareValue(key, encoding, latin1(contents), where, version)
  }
}

function preparePrimitive(key: string, encoding: NvsPrimitiveEncoding, value: bigint, where: string): NvsOutcome<PreparedItem> {
  const bits = BigInt(primitiveWidth(encoding) * 8)
  const signed = encoding.startsWith('i')
  const min = signed ? -(1n << (bits - 1n)) : 0n
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n
  if (value < min || value > max) return { ok: false, error: `${where}: ${value} is out of range for ${encoding} (${min}..${max}).` }
  return { ok: true, value: { kind: 'primitive', key, encoding, value, where } }
}

/** The generator's size limits, checked before layout so the message names the row. */
function sized(item: PreparedItem & { kind: 'string' | 'blob' }, version: NvsFormatVersion): NvsOutcome<PreparedItem> {
  const length = item.bytes.length
  const what = item.kind === 'string' ? `string of ${length} bytes (its NUL included)` : `blob of ${length} bytes`
  if (version === 1 && length > NVS_MAX_V1_VALUE_BYTES) {
    return { ok: false, error: `${item.where}: ${what} is longer than the ${NVS_MAX_V1_VALUE_BYTES} bytes format version 1 allows.` }
  }
  if (item.kind === 'string' && length > NVS_MAX_STRING_BYTES) {
    return { ok: false, error: `${item.where}: ${what} is longer than the ${NVS_MAX_STRING_BYTES} bytes NVS allows for a string.` }
  }
  // nvs_partition_gen.py never lets a single-page value reach a page's last entry, so 125 data entries
  // (3969..4000 bytes) cannot be placed even on an empty page: it fails there, and so do we.
  if ((item.kind === 'string' || version === 1) && entriesFor(length) + 1 >= NVS_ENTRIES_PER_PAGE) {
    return { ok: false, error: `${item.where}: ${what} does not fit in one page as nvs_partition_gen.py lays it out (at most 3968 bytes).` }
  }
  return { ok: true, value: item }
}

function checkKey(key: string, where: string): string | null {
  if (key.length === 0) return `${where}: the key is empty.`
  if (!/^[\x20-\x7e]*$/.test(key)) return `${where}: key "${key}" must be printable ASCII.`
  if (key.length > NVS_MAX_KEY_LENGTH) return `${where}: key "${key}" is ${key.length} characters; NVS keys are at most ${NVS_MAX_KEY_LENGTH}.`
  return null
}

// ---------------------------------------------------------------------------------------------------
// Laying out pages, exactly as nvs_partition_gen.py does

class PartitionFull extends Error {}
class LayoutRefused extends Error {}

class PageImage {
  readonly bytes = new Uint8Array(NVS_PAGE_SIZE).fill(0xff)
  entryCount = 0

  constructor(sequence: number, version: NvsFormatVersion) {
    const view = new DataView(this.bytes.buffer)
    view.setUint32(0, PAGE_ACTIVE, true)
    view.setUint32(4, sequence, true)
    this.bytes[8] = VERSION_BYTE[version]
    // The header CRC leaves out the state word, which changes as the page fills without a rewrite.
    view.setUint32(28, crc32(this.bytes.subarray(4, 28)), true)
  }

  get isActive(): boolean {
    return new DataView(this.bytes.buffer).getUint32(0, true) === PAGE_ACTIVE
  }

  markFull(): void {
    new DataView(this.bytes.buffer).setUint32(0, PAGE_FULL, true)
  }

  /** Writes `data` from the next free entry and marks `entries` entries written (bits 10 in the bitmap). */
  write(data: Uint8Array, entries: number): void {
    this.bytes.set(data, ENTRY_TABLE_OFFSET + NVS_ENTRY_SIZE * this.entryCount)
    for (let i = 0; i < entries; i++) {
      const bit = this.entryCount * 2
      const at = 32 + (bit >> 3)
      this.bytes[at] = (this.bytes[at] as number) & ~(1 << (bit & 7))
      this.entryCount++
    }
  }
}

class PartitionWriter {
  private readonly pages: PageImage[] = []
  private current: PageImage
  private unallocated: number
  private namespaceCount = 0

  constructor(
    private readonly size: number,
    private readonly version: NvsFormatVersion,
  ) {
    // The last page stays erased so NVS always has somewhere to move live entries when it frees a page.
    this.unallocated = size - NVS_PAGE_SIZE
    this.current = this.newPage()
  }

  private newPage(): PageImage {
    if (this.pages.length > 0 && this.current.isActive) this.current.markFull()
    if (this.unallocated === 0) throw new PartitionFull()
    this.unallocated -= NVS_PAGE_SIZE
    const page = new PageImage(this.pages.length, this.version)
    this.pages.push(page)
    this.current = page
    return page
  }

  add(item: PreparedItem): void {
    switch (item.kind) {
      case 'namespace':
        if (this.namespaceCount === MAX_NAMESPACES) throw new LayoutRefused(`${item.where}: more than ${MAX_NAMESPACES} namespaces.`)
        this.namespaceCount++
        this.writePrimitive(item.name, 'u8', BigInt(this.namespaceCount), 0)
        return
      case 'primitive':
        this.writePrimitive(item.key, item.encoding, item.value, this.namespaceCount)
        return
      case 'string':
      case 'blob':
        this.writeVariable(item, this.namespaceCount)
    }
  }

  /** The generator marks every page it allocated full, and the kept-empty page stays erased. */
  finish(): Uint8Array {
    while (this.unallocated > 0) this.newPage()
    if (this.current.isActive) this.current.markFull()
    const image = new Uint8Array(this.size).fill(0xff)
    this.pages.forEach((page, index) => image.set(page.bytes, index * NVS_PAGE_SIZE))
    return image
  }

  private writePrimitive(key: string, encoding: NvsPrimitiveEncoding, value: bigint, namespaceIndex: number): void {
    if (this.current.entryCount >= NVS_ENTRIES_PER_PAGE) this.newPage()
    const entry = entryHeader(namespaceIndex, TYPE_CODES[encoding], 1, key)
    const width = primitiveWidth(encoding)
    let bits = BigInt.asUintN(width * 8, value)
    for (let i = 0; i < width; i++) {
      entry[24 + i] = Number(bits & 0xffn)
      bits >>= 8n
    }
    sealEntry(entry)
    this.current.write(entry, 1)
  }

  private writeVariable(item: PreparedItem & { kind: 'string' | 'blob' }, namespaceIndex: number): void {
    const dataEntries = entriesFor(item.bytes.length)
    const multiPage = this.version === 2 && item.kind === 'blob'
    const used = this.current.entryCount
    if (used >= NVS_ENTRIES_PER_PAGE || (used + dataEntries + 1 >= NVS_ENTRIES_PER_PAGE && !multiPage)) this.newPage()
    if (multiPage) {
      this.writeMultiPageBlob(item, namespaceIndex)
      return
    }
    const entry = entryHeader(namespaceIndex, TYPE_CODES[item.kind], dataEntries + 1, item.key)
    const view = new DataView(entry.buffer)
    view.setUint16(24, item.bytes.length, true)
    view.setUint32(28, crc32(item.bytes), true)
    sealEntry(entry)
    this.current.write(entry, 1)
    this.current.write(item.bytes, dataEntries)
  }

  /**
   * Version 2 blob: data chunks fill what is left of the current page and continue on new pages, then a
   * blob index entry records the size and chunk count. Mirrors the generator's split points exactly,
   * including a zero-length chunk when a page has only its last entry left.
   */
  private writeMultiPageBlob(item: PreparedItem & { kind: 'blob' }, namespaceIndex: number): void {
    const total = item.bytes.length
    let offset = 0
    let chunkCount = 0
    for (;;) {
      if (chunkCount === MAX_BLOB_CHUNKS) {
        throw new LayoutRefused(`${item.where}: blob of ${total} bytes needs more than ${MAX_BLOB_CHUNKS} chunks, more than NVS can index.`)
      }
      const tailroom = (NVS_ENTRIES_PER_PAGE - this.current.entryCount - 1) * NVS_ENTRY_SIZE
      const chunkSize = Math.min(tailroom, total - offset)
      const chunk = item.bytes.subarray(offset, offset + chunkSize)
      const chunkEntries = entriesFor(chunkSize)
      const entry = entryHeader(namespaceIndex, TYPE_CODES.blob_data, chunkEntries + 1, item.key, chunkCount)
      const view = new DataView(entry.buffer)
      view.setUint16(24, chunkSize, true)
      view.setUint32(28, crc32(chunk), true)
      sealEntry(entry)
      this.current.write(entry, 1)
      this.current.write(chunk, chunkEntries)
      chunkCount++
      offset += chunkSize
      const remaining = total - offset
      if (remaining > 0 || tailroom - chunkSize < NVS_ENTRY_SIZE) this.newPage()
      if (remaining === 0) break
    }
    const index = entryHeader(namespaceIndex, TYPE_CODES.blob_index, 1, item.key)
    new DataView(index.buffer).setUint32(24, total, true)
    index[28] = chunkCount
    index[29] = 0 // chunk start: version 0 of the blob
    sealEntry(index)
    this.current.write(index, 1)
  }
}

function writePartition(items: readonly PreparedItem[], size: number, version: NvsFormatVersion): NvsOutcome<Uint8Array> {
  const writer = new PartitionWriter(size, version)
  for (const item of items) {
    try {
      writer.add(item)
    } catch (error) {
      if (error instanceof PartitionFull) {
        const dataPages = size / NVS_PAGE_SIZE - 1
        return {
          ok: false,
          error: `${item.where}: the data does not fit in a ${hex(size)}-byte partition (${dataPages} pages for data; the last page stays empty). Use a larger partition.`,
        }
      }
      if (error instanceof LayoutRefused) return { ok: false, error: error.message }
      throw error
    }
  }
  return { ok: true, value: writer.finish() }
}

function entryHeader(namespaceIndex: number, typeCode: number, span: number, key: string, chunkIndex = CHUNK_ANY): Uint8Array {
  const entry = new Uint8Array(NVS_ENTRY_SIZE).fill(0xff)
  entry[0] = namespaceIndex
  entry[1] = typeCode
  entry[2] = span
  entry[3] = chunkIndex
  entry.fill(0, 8, 24)
  for (let i = 0; i < key.length; i++) entry[8 + i] = key.charCodeAt(i)
  return entry
}

/** The entry CRC covers everything but itself: bytes 0..3 and 8..31. */
function sealEntry(entry: Uint8Array): void {
  new DataView(entry.buffer).setUint32(4, entryCrc(entry), true)
}

function entryCrc(entry: Uint8Array): number {
  const covered = new Uint8Array(28)
  covered.set(entry.subarray(0, 4), 0)
  covered.set(entry.subarray(8, 32), 4)
  return crc32(covered)
}

// ---------------------------------------------------------------------------------------------------
// Reading

export type NvsPageState = 'empty' | 'active' | 'full' | 'erasing' | 'corrupt' | 'invalid'
export type NvsEntryState = 'empty' | 'written' | 'erased' | 'illegal'

export interface NvsBlobIndex {
  size: number
  chunkCount: number
  chunkStart: number
}

export interface NvsEntryDump {
  /** 0..125 within the page. */
  slot: number
  state: NvsEntryState
  /** All 32 bytes are 0xFF. */
  blank: boolean
  namespaceIndex: number
  typeCode: number
  type: NvsItemType | null
  span: number
  chunkIndex: number
  /** Null when the key field is not ASCII (as nvs_tool.py treats it). */
  key: string | null
  headerCrcValid: boolean
  /** Integer value; for string, blob and blob_data the bytes the entry carries; for blob_index its fields. */
  value: number | bigint | Uint8Array | NvsBlobIndex | null
  /** For string, blob and blob_data: whether the bytes match the entry's data CRC. */
  dataCrcValid: boolean | null
}

export interface NvsPageDump {
  address: number
  /** The whole header is 0xFF: a page never used since the last erase. */
  blank: boolean
  state: NvsPageState
  sequence: number
  /** 1 or 2 from the version byte (0xFF, 0xFE); anything else as nvs_tool computes it (256 - byte). */
  version: number
  headerCrcValid: boolean
  entries: NvsEntryDump[]
}

export interface NvsItem {
  namespace: string
  key: string
  type: NvsValueType
  /** u64 and i64 as bigint; string as text (trailing NULs dropped); blob as bytes. */
  value: number | bigint | string | Uint8Array
}

export interface NvsPartitionDump {
  pages: NvsPageDump[]
  /** Namespace index → name, from the namespace entries. */
  namespaces: { index: number; name: string }[]
  /** What the board's application reads: valid written entries of active and full pages, blobs reassembled. */
  items: NvsItem[]
  /** Everything the board would ignore or repair, in words for the operator. */
  problems: string[]
}

/** Reads an NVS partition (as dumped from a board, or as generated) into pages, namespaces and values. */
export function decodeNvsPartition(image: Uint8Array): NvsOutcome<NvsPartitionDump> {
  if (!(image instanceof Uint8Array)) return { ok: false, error: 'An NVS image must be bytes.' }
  if (image.length === 0) return { ok: false, error: 'The NVS image is empty.' }
  if (image.length % NVS_PAGE_SIZE !== 0) {
    return { ok: false, error: `The NVS image is ${image.length} bytes, not a whole number of 4096-byte pages.` }
  }
  const pages: NvsPageDump[] = []
  for (let address = 0; address < image.length; address += NVS_PAGE_SIZE) {
    pages.push(decodePage(image.subarray(address, address + NVS_PAGE_SIZE), address))
  }
  const problems: string[] = []
  const live = pagesInUse(pages, problems)
  const namespaces = new Map<number, string>()
  for (const { entry } of validEntries(live, problems, false)) {
    if (entry.namespaceIndex === 0 && entry.type === 'u8' && entry.key !== null && typeof entry.value === 'number') {
      namespaces.set(entry.value, entry.key)
    }
  }
  const items = collectItems(live, namespaces, problems)
  return {
    ok: true,
    value: {
      pages,
      namespaces: [...namespaces].map(([index, name]) => ({ index, name })).sort((a, b) => a.index - b.index),
      items,
      problems,
    },
  }
}

function decodePage(bytes: Uint8Array, address: number): NvsPageDump {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stateWord = view.getUint32(0, true)
  const page: NvsPageDump = {
    address,
    blank: bytes.subarray(0, 32).every((byte) => byte === 0xff),
    state: PAGE_STATES.get(stateWord) ?? 'invalid',
    sequence: view.getUint32(4, true),
    version: 256 - (bytes[8] as number),
    headerCrcValid: view.getUint32(28, true) === crc32(bytes.subarray(4, 28)),
    entries: [],
  }
  const entryState = (slot: number): NvsEntryState => {
    const bits = ((bytes[32 + (slot >> 2)] as number) >> ((slot & 3) * 2)) & 3
    return bits === 3 ? 'empty' : bits === 2 ? 'written' : bits === 0 ? 'erased' : 'illegal'
  }
  const entryAt = (slot: number): Uint8Array => bytes.subarray(ENTRY_TABLE_OFFSET + slot * NVS_ENTRY_SIZE, ENTRY_TABLE_OFFSET + (slot + 1) * NVS_ENTRY_SIZE)

  // Walk as nvs_tool.py does: an entry's span says how many following entries hold its data.
  let slot = 0
  while (slot < NVS_ENTRIES_PER_PAGE) {
    const raw = entryAt(slot)
    const span = raw[2] === 0xff || raw[2] === 0 ? 1 : (raw[2] as number)
    const children: Uint8Array[] = []
    for (let child = slot + 1; child < slot + span && child < NVS_ENTRIES_PER_PAGE; child++) children.push(entryAt(child))
    page.entries.push(decodeEntry(raw, slot, entryState(slot), children))
    slot += span
  }
  return page
}

function decodeEntry(raw: Uint8Array, slot: number, state: NvsEntryState, children: Uint8Array[]): NvsEntryDump {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const typeCode = raw[1] as number
  const type = TYPE_BY_CODE.get(typeCode) ?? null
  let keyEnd = 24
  while (keyEnd > 8 && raw[keyEnd - 1] === 0) keyEnd--
  const keyBytes = raw.subarray(8, keyEnd)
  const key = keyBytes.every((byte) => byte < 0x80) ? latin1(keyBytes) : null

  let value: NvsEntryDump['value'] = null
  let dataCrcValid: boolean | null = null
  if (type !== null && key !== null) {
    if (isPrimitive(type)) {
      const width = primitiveWidth(type)
      let bits = 0n
      for (let i = width - 1; i >= 0; i--) bits = (bits << 8n) | BigInt(raw[24 + i] as number)
      const integer = type.startsWith('i') ? BigInt.asIntN(width * 8, bits) : bits
      value = width === 8 ? integer : Number(integer)
    } else if (type === 'blob_index') {
      value = { size: view.getUint32(24, true), chunkCount: raw[28] as number, chunkStart: raw[29] as number }
    } else {
      const size = view.getUint16(24, true)
      const joined = new Uint8Array(children.length * NVS_ENTRY_SIZE)
      children.forEach((child, index) => joined.set(child, index * NVS_ENTRY_SIZE))
      const data = joined.slice(0, size)
      value = data
      dataCrcValid = data.length === size && crc32(data) === view.getUint32(28, true)
    }
  }
  return {
    slot,
    state,
    blank: raw.every((byte) => byte === 0xff),
    namespaceIndex: raw[0] as number,
    typeCode,
    type,
    span: raw[2] as number,
    chunkIndex: raw[3] as number,
    key,
    headerCrcValid: view.getUint32(4, true) === entryCrc(raw),
    value,
    dataCrcValid,
  }
}

/** The pages the board reads items from, in sequence order; the rest explained in problems. */
function pagesInUse(pages: readonly NvsPageDump[], problems: string[]): NvsPageDump[] {
  const live: NvsPageDump[] = []
  for (const page of pages) {
    const where = `Page at ${hex(page.address)}`
    if (page.blank || page.state === 'empty') continue
    if (!page.headerCrcValid) problems.push(`${where}: header CRC does not match; the board treats the page as corrupt and erases it.`)
    else if (page.state === 'corrupt' || page.state === 'invalid') problems.push(`${where}: state is ${page.state}; the board erases it.`)
    else if (page.state === 'erasing') problems.push(`${where}: a garbage collection was interrupted while freeing this page; the board finishes moving its items at start-up.`)
    else if (page.version !== 1 && page.version !== 2) problems.push(`${where}: unknown NVS format version byte ${hex(256 - page.version)}.`)
    else live.push(page)
  }
  return live.sort((a, b) => a.sequence - b.sequence)
}

function* validEntries(pages: readonly NvsPageDump[], problems: string[], report: boolean): Generator<{ page: NvsPageDump; entry: NvsEntryDump }> {
  for (const page of pages) {
    const written = page.entries.filter((entry) => entry.state === 'written')
    // With NVS encryption only the entries are encrypted: a sound header over entries none of which checks out.
    if (report && written.length > 0 && written.every((entry) => !entry.headerCrcValid)) {
      problems.push(`Page at ${hex(page.address)}: no written entry passes its CRC; the partition may be encrypted, and reading encrypted NVS is not supported.`)
      continue
    }
    for (const entry of written) {
      const where = `Page at ${hex(page.address)}, entry ${entry.slot}${entry.key === null ? '' : ` (${entry.key})`}`
      if (!entry.headerCrcValid) {
        if (report) problems.push(`${where}: entry CRC does not match; the board erases it.`)
      } else if (entry.type === null || entry.key === null) {
        if (report) problems.push(`${where}: unknown item type ${hex(entry.typeCode)} or a key that is not ASCII.`)
      } else if (entry.dataCrcValid === false) {
        if (report) problems.push(`${where}: data CRC does not match; the board erases it.`)
      } else {
        yield { page, entry }
      }
    }
  }
}

function collectItems(pages: readonly NvsPageDump[], namespaces: ReadonlyMap<number, string>, problems: string[]): NvsItem[] {
  const items: (NvsItem | { pending: NvsBlobIndex; namespaceIndex: number; namespace: string; key: string })[] = []
  const chunks = new Map<string, Uint8Array>()
  const claimedChunks = new Set<string>()
  const seen = new Set<string>()
  const chunkId = (namespaceIndex: number, key: string, chunk: number): string => `${namespaceIndex}\u0000${key}\u0000${chunk}`

  for (const { entry } of validEntries(pages, problems, true)) {
    if (entry.namespaceIndex === 0) continue
    const key = entry.key as string
    const type = entry.type as NvsItemType
    if (type === 'blob_data') {
      chunks.set(chunkId(entry.namespaceIndex, key, entry.chunkIndex), entry.value as Uint8Array)
      continue
    }
    const namespace = namespaces.get(entry.namespaceIndex)
    if (namespace === undefined) {
      problems.push(`Key ${key} belongs to namespace index ${entry.namespaceIndex}, which no namespace entry names; the board cannot open it.`)
      continue
    }
    const id = `${entry.namespaceIndex}\u0000${key}`
    if (seen.has(id)) {
      problems.push(`${namespace}/${key} is written more than once; the board reads the first copy.`)
      continue
    }
    seen.add(id)
    if (type === 'blob_index') {
      items.push({ pending: entry.value as NvsBlobIndex, namespaceIndex: entry.namespaceIndex, namespace, key })
    } else if (type === 'string') {
      items.push({ namespace, key, type, value: decodeUtf8(trimNuls(entry.value as Uint8Array), false) as string })
    } else {
      items.push({ namespace, key, type: type as NvsValueType, value: entry.value as number | bigint | Uint8Array })
    }
  }

  const result: NvsItem[] = []
  for (const item of items) {
    if (!('pending' in item)) {
      result.push(item)
      continue
    }
    const { size, chunkCount, chunkStart } = item.pending
    const parts: Uint8Array[] = []
    for (let chunk = chunkStart; chunk < chunkStart + chunkCount; chunk++) {
      const id = chunkId(item.namespaceIndex, item.key, chunk)
      const part = chunks.get(id)
      if (part) {
        parts.push(part)
        claimedChunks.add(id)
      }
    }
    const value = concatBytes(parts)
    if (parts.length !== chunkCount || value.length !== size) {
      problems.push(`${item.namespace}/${item.key}: blob index promises ${size} bytes in ${chunkCount} chunk(s), found ${value.length} bytes in ${parts.length}.`)
      continue
    }
    result.push({ namespace: item.namespace, key: item.key, type: 'blob', value })
  }
  const orphans = [...chunks.keys()].filter((id) => !claimedChunks.has(id))
  if (orphans.length > 0) problems.push(`${orphans.length} blob chunk(s) have no blob index; the board discards them.`)
  return result
}

/** One line of `nvs_tool.py -f json -d minimal`: every written data entry, a v2 blob chunk by chunk. */
export interface NvsToolRecord {
  namespace: string
  key: string | null
  /** nvs_tool.py's names: uint8_t … int64_t, string, blob, blob_data (or 0xNN for an unknown type). */
  encoding: string
  /** Integer, text for strings, base64 for blobs and blob chunks. */
  data: number | bigint | string | null
  state: 'Written'
  is_empty: boolean
}

const NVS_TOOL_TYPE_NAMES: Record<NvsItemType, string> = {
  u8: 'uint8_t',
  i8: 'int8_t',
  u16: 'uint16_t',
  i16: 'int16_t',
  u32: 'uint32_t',
  i32: 'int32_t',
  u64: 'uint64_t',
  i64: 'int64_t',
  string: 'string',
  blob: 'blob',
  blob_data: 'blob_data',
  blob_index: 'blob_index',
}

/**
 * The same list ESP-IDF's nvs_tool.py prints with `-f json -d minimal`, for checking against that tool.
 * Like it, this ignores CRCs and page states and walks pages in address order; decodeNvsPartition's
 * `items` are what a board reads.
 */
export function nvsToolMinimal(dump: NvsPartitionDump): NvsToolRecord[] {
  const namespaces = new Map<number, string>()
  for (const page of dump.pages) {
    for (const entry of page.entries) {
      if (entry.state === 'written' && entry.namespaceIndex === 0 && typeof entry.value === 'number' && entry.key !== null) {
        namespaces.set(entry.value, entry.key)
      }
    }
  }
  const records: NvsToolRecord[] = []
  for (const page of dump.pages) {
    for (const entry of page.entries) {
      if (entry.state !== 'written' || entry.namespaceIndex === 0 || entry.type === 'blob_index') continue
      const namespace = namespaces.get(entry.namespaceIndex)
      if (namespace === undefined) continue
      let data: NvsToolRecord['data'] = null
      if (entry.value instanceof Uint8Array) {
        data = entry.type === 'string' ? decodeUtf8(trimNuls(entry.value), false) : encodeBase64(entry.value)
      } else if (typeof entry.value === 'number' || typeof entry.value === 'bigint') {
        data = typeof entry.value === 'bigint' && entry.value >= BigInt(Number.MIN_SAFE_INTEGER) && entry.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(entry.value) : entry.value
      }
      records.push({
        namespace,
        key: entry.key,
        encoding: entry.type === null ? `0x${entry.typeCode.toString(16).padStart(2, '0')}` : NVS_TOOL_TYPE_NAMES[entry.type],
        data,
        state: 'Written',
        is_empty: entry.blank,
      })
    }
  }
  return records
}

// ---------------------------------------------------------------------------------------------------
// Small helpers. The domain has no TextEncoder, Buffer or zlib, so UTF-8, base64 and CRC32 are here.

function isEncoding(value: unknown): value is NvsEncoding {
  return typeof value === 'string' && (ENCODINGS as readonly string[]).includes(value)
}

function isPrimitive(value: string): value is NvsPrimitiveEncoding {
  return (PRIMITIVE_ENCODINGS as readonly string[]).includes(value)
}

function primitiveWidth(encoding: NvsPrimitiveEncoding): number {
  return TYPE_CODES[encoding] & 0x0f
}

function entriesFor(bytes: number): number {
  return Math.ceil(bytes / NVS_ENTRY_SIZE)
}

function hex(value: number): string {
  return `0x${value.toString(16)}`
}

/** Bytes as one character each: how the tool reads a hex or base64 file before decoding it. */
function latin1(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += String.fromCharCode(byte)
  return out
}

function withNul(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1)
  out.set(bytes)
  return out
}

function trimNuls(bytes: Uint8Array): Uint8Array {
  let end = bytes.length
  while (end > 0 && bytes[end - 1] === 0) end--
  return bytes.subarray(0, end)
}


/** CRC-32 as `zlib.crc32(data, 0xFFFFFFFF)` in the IDF tools. */
const crc32 = (data: Uint8Array) => crc32Le(0xffffffff, data)

function decodeHex(text: string): NvsOutcome<Uint8Array> {
  // The tool strips surrounding blanks and needs an even number of hex digits.
  const digits = text.trim()
  if (digits.length % 2 !== 0) return { ok: false, error: `hex2bin value has ${digits.length} hex digits; it needs an even number.` }
  if (!/^[0-9a-fA-F]*$/.test(digits)) return { ok: false, error: 'hex2bin value has characters that are not hex digits.' }
  const out = new Uint8Array(digits.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16)
  return { ok: true, value: out }
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

function decodeBase64(text: string): NvsOutcome<Uint8Array> {
  // Line breaks and blanks are ignored (a certificate file has them); anything else outside base64 is refused.
  const compact = text.replace(/\s+/g, '')
  const match = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(compact)
  if (!match) return { ok: false, error: 'base64 value has characters outside the base64 alphabet.' }
  if (compact.length % 4 !== 0) return { ok: false, error: 'base64 value has incorrect padding (its length is not a multiple of 4).' }
  const body = match[1] as string
  const out = new Uint8Array(Math.floor((body.length * 6) / 8))
  let buffer = 0
  let bits = 0
  let at = 0
  for (const char of body) {
    buffer = (buffer << 6) | BASE64_ALPHABET.indexOf(char)
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[at++] = (buffer >> bits) & 0xff
    }
  }
  return { ok: true, value: out }
}

function encodeBase64(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number
    const b = bytes[i + 1]
    const c = bytes[i + 2]
    const triple = (a << 16) | ((b ?? 0) << 8) | (c ?? 0)
    out += BASE64_ALPHABET[(triple >> 18) & 63]
    out += BASE64_ALPHABET[(triple >> 12) & 63]
    out += b === undefined ? '=' : BASE64_ALPHABET[(triple >> 6) & 63]
    out += c === undefined ? '=' : BASE64_ALPHABET[triple & 63]
  }
  return out
}

function encodeUtf8(text: string): Uint8Array {
  const out: number[] = []
  for (const char of text) {
    let code = char.codePointAt(0) as number
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd // a lone surrogate, as TextEncoder does
    if (code < 0x80) out.push(code)
    else if (code < 0x800) out.push(0xc0 | (code >> 6), 0x80 | (code & 63))
    else if (code < 0x10000) out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63))
    else out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63))
  }
  return Uint8Array.from(out)
}

/** Strict returns null on malformed UTF-8; otherwise malformed bytes become U+FFFD. */
function decodeUtf8(bytes: Uint8Array, strict: true): string | null
function decodeUtf8(bytes: Uint8Array, strict: false): string
function decodeUtf8(bytes: Uint8Array, strict: boolean): string | null {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const lead = bytes[i] as number
    const need = lead < 0x80 ? 0 : lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : -1
    let code = need === 0 ? lead : need === 1 ? lead & 0x1f : need === 2 ? lead & 0x0f : lead & 0x07
    let valid = need >= 0
    for (let k = 1; valid && k <= need; k++) {
      const next = bytes[i + k]
      if (next === undefined || (next & 0xc0) !== 0x80) valid = false
      else code = (code << 6) | (next & 0x3f)
    }
    if (valid && need > 0) {
      const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000
      if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) valid = false
    }
    if (!valid) {
      if (strict) return null
      out += '\ufffd'
      i++
      continue
    }
    out += String.fromCodePoint(code)
    i += need + 1
  }
  return out
}
