// ESP-IDF partition tables, read and written the way ESP-IDF's gen_esp32part.py (v1.5) reads and writes
// them, so that a table typed into the console, a table a build produced and a table read back from a
// device all mean the same bytes. The fixtures under shared/fixtures/esp-idf/partition_table were made by
// that tool and the unit tests hold this module to them byte for byte.
//
// Where the console is stricter than the tool, it says so in words instead of silently doing something
// else: a name longer than 16 bytes is refused (the tool truncates it), and every problem in a table is
// reported, not only the first.

import { Md5, md5, toHex } from './checksums'

export type PartitionTableOutcome<T> = { ok: true; value: T } | { ok: false; error: string }

/** CONFIG_PARTITION_TABLE_OFFSET's default: the table sits in the flash sector at 0x8000. */
export const defaultPartitionTableOffset = 0x8000
/** The table owns one whole 4 KiB sector, so the first partition can start at offset + 0x1000. */
export const partitionTableSectorSize = 0x1000
/** Entries plus the MD5 row must stay under 0xC00 bytes; the rest of the sector is left for a signature. */
export const partitionTableMaxLength = 0xc00
export const partitionEntrySize = 32
/** Longest name an entry can hold: 16 bytes, with no terminator needed when all 16 are used. */
export const partitionNameMaxBytes = 16
/** First OTA app subtype: ota_0 is 0x10, ota_15 is 0x1F. */
export const otaAppSubtypeFirst = 0x10
export const otaAppSlotsMax = 16

// Little-endian 0x50AA: bytes AA 50 open every entry; EB EB opens the MD5 row.
const entryMagic = [0xaa, 0x50] as const
const md5RowMagic = [0xeb, 0xeb] as const

/** Partition types by their CSV keyword. Other values (0x40–0xFE for a project's own) are written as numbers. */
export const partitionTypes = { bootloader: 0x02, partition_table: 0x03, app: 0x00, data: 0x01 } as const
export type PartitionTypeName = keyof typeof partitionTypes

const appType = partitionTypes.app
const dataType = partitionTypes.data
const bootloaderType = partitionTypes.bootloader
const partitionTableType = partitionTypes.partition_table

const appSubtypes: [string, number][] = [
  ['factory', 0x00],
  ['test', 0x20],
  ...Array.from({ length: otaAppSlotsMax }, (_, slot): [string, number] => [`ota_${slot}`, otaAppSubtypeFirst + slot]),
  // TEE firmware slots (ESP32-C6 and later with the TEE framework).
  ['tee_0', 0x30],
  ['tee_1', 0x31],
]

/**
 * Subtype keywords per type, kept in sync with esp_partition_subtype_t (and with gen_esp32part's SUBTYPES,
 * whose insertion order decides nothing here because no two keywords of one type share a value).
 */
const subtypeKeywords: ReadonlyMap<number, ReadonlyMap<string, number>> = new Map([
  [bootloaderType, new Map([['primary', 0x00], ['ota', 0x01], ['recovery', 0x02]])],
  [partitionTableType, new Map([['primary', 0x00], ['ota', 0x01]])],
  [appType, new Map(appSubtypes)],
  [
    dataType,
    new Map([
      ['ota', 0x00],
      ['phy', 0x01],
      ['nvs', 0x02],
      ['coredump', 0x03],
      ['nvs_keys', 0x04],
      ['efuse', 0x05],
      ['undefined', 0x06],
      ['esphttpd', 0x80],
      ['fat', 0x81],
      ['spiffs', 0x82],
      ['littlefs', 0x83],
      ['tee_ota', 0x90],
    ]),
  ],
])

const typeKeywords: ReadonlyMap<string, number> = new Map(Object.entries(partitionTypes))

const dataSubtype = {
  ota: 0x00,
  nvs: 0x02,
  coredump: 0x03,
  undefined: 0x06,
  teeOta: 0x90,
} as const

/** One row of the table, as the bootloader and esp_partition see it. */
export interface Partition {
  /** The label, at most 16 bytes of UTF-8. */
  name: string
  type: number
  subtype: number
  offset: number
  size: number
  /** Flag bit 0: contents are encrypted when flash encryption is on. */
  encrypted: boolean
  /** Flag bit 1: esp_partition refuses writes (data partitions only). */
  readonly: boolean
  /** CSV line the row came from, for messages; absent when decoded from binary or built in code. */
  line?: number
}

export interface PartitionTable {
  /** In table order, which is also the order esp_partition_find walks them. */
  partitions: readonly Partition[]
}

export interface PartitionTableOptions {
  /** CONFIG_PARTITION_TABLE_OFFSET; 0x8000 unless the project moved the table (a larger bootloader). */
  partitionTableOffset?: number
  /** Flash size in bytes; when given, every partition must end inside it (gen_esp32part --flash-size). */
  flashSize?: number
  /** Write and check the 0xEBEB MD5 row (default true; false is gen_esp32part --disable-md5sum). */
  md5?: boolean
  /** Secure Boot v1 needs app sizes in whole 64 KiB blocks; v2 and none need whole 4 KiB sectors. */
  secureBoot?: 'v1' | 'v2'
  /** Where the chip's ROM loads the bootloader (0x1000 on ESP32 and ESP32-S2, 0x0 on later chips); needed only by `bootloader` rows. */
  primaryBootloaderOffset?: number
  /** Needed only by a `bootloader, recovery` row. */
  recoveryBootloaderOffset?: number
  /** Values for `$NAME` / `${NAME}` in the CSV, which the IDF tool takes from the build environment. */
  variables?: Readonly<Record<string, string>>
  /** Check the table's rules before accepting it (default true, as gen_esp32part does without --no-verify). */
  verify?: boolean
}

// ---------------------------------------------------------------------------------------------------------
// Names

/** The CSV keyword for a type, or its decimal value (as gen_esp32part prints unknown types). */
export function partitionTypeName(type: number): string {
  for (const [name, value] of typeKeywords) if (value === type) return name
  return String(type)
}

/** The CSV keyword for a subtype of `type`, or its decimal value. */
export function partitionSubtypeName(type: number, subtype: number): string {
  for (const [name, value] of subtypeKeywords.get(type) ?? []) if (value === subtype) return name
  return String(subtype)
}

/** Type and subtype from keywords or numbers; null when a keyword is unknown. */
export function partitionTypeValue(type: PartitionTypeName | number | string): number | null {
  if (typeof type === 'number') return Number.isInteger(type) ? type : null
  return typeKeywords.get(type) ?? pythonInt(type) ?? null
}

export function partitionSubtypeValue(type: number, subtype: string | number): number | null {
  if (typeof subtype === 'number') return Number.isInteger(subtype) ? subtype : null
  return subtypeKeywords.get(type)?.get(subtype) ?? pythonInt(subtype) ?? null
}

// ---------------------------------------------------------------------------------------------------------
// CSV

/**
 * Reads a partition table CSV: `name, type, subtype, offset, size, flags` per line, `#` comments, blank
 * lines, an optional UTF-8 BOM, sizes like `1M`, `24K`, `0x6000` or `4096`. Empty offsets are placed after
 * the previous partition, aligned to 64 KiB for apps and 4 KiB for everything else, starting right after
 * the table's own sector (0x9000 by default). Unless `verify` is false, the result must also pass
 * {@link partitionTableProblems}.
 */
export function parsePartitionCsv(text: string, options: PartitionTableOptions = {}): PartitionTableOutcome<PartitionTable> {
  if (typeof text !== 'string') return fail('A partition table CSV must be given as text.')
  const optionProblem = optionsProblem(options)
  if (optionProblem) return fail(optionProblem)
  const tableOffset = options.partitionTableOffset ?? defaultPartitionTableOffset

  // A BOM is how Windows editors mark UTF-8; gen_esp32part decodes with utf-8-sig so it never reaches a name.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text
  const drafts: Draft[] = []
  const lines = source.split(pythonLineBreak)
  let sawRow = false
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1
    const expanded = expandVariables(lines[index] ?? '', options.variables ?? {})
    const line = pythonStrip(expanded)
    if (line.startsWith('#') || line.length === 0) continue
    const unknownVariable = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(line)
    if (unknownVariable) return fail(`Line ${lineNumber}: unknown variable $${unknownVariable[1]}; pass its value in the variables option.`)
    const fields = `${line},,,,`.split(',').map(pythonStrip)
    // The IDF tool wants the header commented out; an uncommented one is accepted here as a courtesy.
    if (!sawRow && /^name$/i.test(fields[0] ?? '') && /^type$/i.test(fields[1] ?? '')) {
      sawRow = true
      continue
    }
    sawRow = true
    const draft = parseCsvRow(fields, lineNumber, tableOffset, options)
    if (!draft.ok) return fail(`Line ${lineNumber}: ${draft.error}`)
    drafts.push(draft.value)
  }

  // Fill in missing offsets and turn negative sizes ("ends at") into lengths, in file order.
  const tableEnd = tableOffset + partitionTableSectorSize
  let lastEnd = tableEnd
  const partitions: Partition[] = []
  for (const draft of drafts) {
    const isPrimaryLayoutRow = (draft.type === bootloaderType || draft.type === partitionTableType) && draft.subtype === 0x00
    if (!isPrimaryLayoutRow) {
      if (draft.offset !== undefined && draft.offset < lastEnd) {
        return fail(
          lastEnd === tableEnd
            ? `Line ${draft.line}: ${label(draft)} is set at ${hex(draft.offset)}, but the partition table occupies the sector ${hex(tableOffset)}–${hex(tableEnd)}; use ${hex(tableEnd)} or higher.`
            : `Line ${draft.line}: ${label(draft)} is set at ${hex(draft.offset)}, but the partition before it ends at ${hex(lastEnd)}.`,
        )
      }
      if (draft.offset === undefined) {
        const alignment = offsetAlignment(draft.type)
        if (lastEnd % alignment !== 0) lastEnd += alignment - (lastEnd % alignment)
        draft.offset = lastEnd
      }
    }
    const offset = draft.offset ?? 0
    if (draft.size < 0) draft.size = -draft.size - offset
    lastEnd = offset + draft.size
    partitions.push({ ...draft, offset })
  }

  const table: PartitionTable = { partitions }
  return checked(table, options)
}

/** The CSV gen_esp32part prints for a table: its two comment lines, then one compact row per partition. */
export function partitionTableToCsv(table: PartitionTable): string {
  const rows = ['# ESP-IDF Partition Table', '# Name, Type, SubType, Offset, Size, Flags']
  for (const p of table.partitions) {
    rows.push(
      [
        p.name,
        partitionTypeName(p.type),
        partitionSubtypeName(p.type, p.subtype),
        `0x${p.offset.toString(16)}`,
        csvSize(p.size),
        flagNames(p).join(':'),
      ].join(','),
    )
  }
  return `${rows.join('\n')}\n`
}

// ---------------------------------------------------------------------------------------------------------
// Binary

/**
 * The 0xC00-byte image flashed at the table offset: 32-byte entries, the MD5 row (0xEBEB, 14 × 0xFF, then
 * the MD5 of every entry before it), and 0xFF up to 0xC00 so the sector can be signed.
 */
export function encodePartitionTable(table: PartitionTable, options: PartitionTableOptions = {}): PartitionTableOutcome<Uint8Array> {
  const optionProblem = optionsProblem(options)
  if (optionProblem) return fail(optionProblem)
  const problems = options.verify === false ? encodabilityProblems(table) : partitionTableProblems(table, options)
  if (problems.length > 0) return fail(problems.join('\n'))

  const withMd5 = options.md5 ?? true
  const used = table.partitions.length * partitionEntrySize + (withMd5 ? partitionEntrySize : 0)
  if (used >= partitionTableMaxLength) {
    const most = Math.floor((partitionTableMaxLength - 1 - (withMd5 ? partitionEntrySize : 0)) / partitionEntrySize)
    return fail(
      `${table.partitions.length} partitions make a ${used}-byte table; it must stay under ${partitionTableMaxLength} bytes (0xC00), so at most ${most} partitions fit.`,
    )
  }

  const out = new Uint8Array(partitionTableMaxLength).fill(0xff)
  table.partitions.forEach((p, index) => {
    const at = index * partitionEntrySize
    out.set(entryMagic, at)
    out[at + 2] = p.type
    out[at + 3] = p.subtype
    writeUint32Le(out, at + 4, p.offset)
    writeUint32Le(out, at + 8, p.size)
    const name = utf8Encode(p.name) ?? new Uint8Array()
    out.fill(0, at + 12, at + 28)
    out.set(name, at + 12)
    writeUint32Le(out, at + 28, (p.encrypted ? 1 : 0) | (p.readonly ? 2 : 0))
  })
  if (withMd5) {
    const entriesEnd = table.partitions.length * partitionEntrySize
    out.set(md5RowMagic, entriesEnd)
    out.set(md5(out.subarray(0, entriesEnd)), entriesEnd + 16)
  }
  return { ok: true, value: out }
}

/**
 * Reads a binary partition table (the 0xC00 bytes, or the whole 4 KiB sector as read from flash). Rows are
 * read up to the end marker (32 × 0xFF); an MD5 row is checked against the entries before it. Unless
 * `verify` is false, the table must then pass {@link partitionTableProblems}, as gen_esp32part requires.
 */
export function decodePartitionTable(bytes: Uint8Array, options: PartitionTableOptions = {}): PartitionTableOutcome<PartitionTable> {
  if (!(bytes instanceof Uint8Array)) return fail('A binary partition table must be given as bytes.')
  const optionProblem = optionsProblem(options)
  if (optionProblem) return fail(optionProblem)
  const checkMd5 = options.md5 ?? true
  // The MD5 covers every entry row before it, as gen_esp32part feeds them to hashlib one by one.
  const hasher = new Md5()
  const partitions: Partition[] = []

  for (let at = 0; at < bytes.length; at += partitionEntrySize) {
    const row = bytes.subarray(at, at + partitionEntrySize)
    if (row.length !== partitionEntrySize) {
      return fail(`The partition table ends ${row.length} bytes into a 32-byte entry at ${hex(at)} without an end marker (a row of 32 × 0xFF).`)
    }
    if (row.every((b) => b === 0xff)) {
      if (partitions.length === 0) return fail('The partition table holds no entries: its first row is already the end marker (erased flash).')
      return checked({ partitions }, options)
    }
    if (checkMd5 && row[0] === md5RowMagic[0] && row[1] === md5RowMagic[1]) {
      const computed = hasher.digest()
      const stored = row.subarray(16)
      if (!equalBytes(stored, computed)) {
        return fail(
          `The partition table's MD5 does not match its entries (stored ${toHex(stored)}, computed ${toHex(computed)}): the table is damaged or was edited without its checksum.`,
        )
      }
      continue
    }
    hasher.update(row)
    if (row[0] !== entryMagic[0] || row[1] !== entryMagic[1]) {
      const found = ((row[0] ?? 0) | ((row[1] ?? 0) << 8)).toString(16).padStart(4, '0').toUpperCase()
      return fail(`Entry ${partitions.length} at ${hex(at)} starts with 0x${found} instead of the partition magic 0x50AA: this is not a partition table, or it is damaged.`)
    }
    const nameField = row.subarray(12, 28)
    const nul = nameField.indexOf(0)
    const name = decodeUtf8(nul === -1 ? nameField : nameField.subarray(0, nul))
    if (name === null) return fail(`Entry ${partitions.length} at ${hex(at)} has a name that is not valid UTF-8.`)
    const flags = readUint32Le(row, 28)
    partitions.push({
      name,
      type: row[2] ?? 0,
      subtype: row[3] ?? 0,
      offset: readUint32Le(row, 4),
      size: readUint32Le(row, 8),
      encrypted: (flags & 1) !== 0,
      readonly: (flags & 2) !== 0,
    })
  }
  return fail('The partition table has no end marker (a row of 32 × 0xFF) before its data runs out.')
}

/**
 * A file of either kind, told apart as gen_esp32part does: bytes AA 50 at the start mean binary, anything
 * else is CSV text (UTF-8, or UTF-16/32 with a byte-order mark).
 */
export function readPartitionTable(
  bytes: Uint8Array,
  options: PartitionTableOptions = {},
): PartitionTableOutcome<{ table: PartitionTable; format: 'binary' | 'csv' }> {
  if (!(bytes instanceof Uint8Array)) return fail('A partition table file must be given as bytes.')
  if (bytes[0] === entryMagic[0] && bytes[1] === entryMagic[1]) {
    const decoded = decodePartitionTable(bytes, options)
    return decoded.ok ? { ok: true, value: { table: decoded.value, format: 'binary' } } : decoded
  }
  const text = decodeText(bytes)
  if (!text.ok) return text
  const parsed = parsePartitionCsv(text.value, options)
  return parsed.ok ? { ok: true, value: { table: parsed.value, format: 'csv' } } : parsed
}

// ---------------------------------------------------------------------------------------------------------
// Rules

/**
 * Everything wrong with a table, in words, empty when it is sound. These are gen_esp32part's checks
 * (alignment, overlaps, the table's own sector, unique names, one 8 KiB otadata, NVS size, read-only
 * rules, flash size) plus the entry limits of the binary format.
 */
export function partitionTableProblems(table: PartitionTable, options: PartitionTableOptions = {}): string[] {
  const problems = encodabilityProblems(table)
  // The rules below read every field; entries of the wrong shape have been reported and stop here.
  if (!Array.isArray(table?.partitions) || !table.partitions.every(hasPartitionShape)) return problems
  const tableOffset = options.partitionTableOffset ?? defaultPartitionTableOffset
  const tableEnd = tableOffset + partitionTableSectorSize

  for (const p of table.partitions) {
    const offsetAlign = offsetAlignment(p.type)
    if (p.offset % offsetAlign !== 0) {
      problems.push(
        p.type === appType
          ? `${label(p)} is an app at ${hex(p.offset)}, which is not on a 64 KiB boundary (a multiple of 0x10000): the flash cache maps app images in 64 KiB pages.`
          : `${label(p)} starts at ${hex(p.offset)}, which is not on a 4 KiB flash sector boundary (a multiple of 0x1000): erasing it would erase part of its neighbour.`,
      )
    }
    if (p.type === appType) {
      const sizeAlign = options.secureBoot === 'v1' ? 0x10000 : 0x1000
      if (p.size % sizeAlign !== 0) {
        problems.push(
          options.secureBoot === 'v1'
            ? `${label(p)} is ${hex(p.size)} bytes; with Secure Boot v1 an app partition must be a whole number of 64 KiB blocks (0x10000), because the signature sits at the end of the last block.`
            : `${label(p)} is ${hex(p.size)} bytes; an app partition must be a whole number of 4 KiB flash sectors (0x1000).`,
        )
      }
    }
    if (p.type === dataType && (p.subtype === dataSubtype.ota || p.subtype === dataSubtype.coredump) && p.readonly) {
      problems.push(
        `${label(p)} is flagged readonly, but ${partitionSubtypeName(p.type, p.subtype)} data is always written on the device (by OTA updates or the panic handler).`,
      )
    }
    if (p.type === dataType && p.subtype === dataSubtype.nvs && p.size < 0x3000 && !p.readonly) {
      problems.push(
        `${label(p)} is an NVS partition of ${hex(p.size)} bytes; read/write NVS needs at least 0x3000 (three sectors, one kept free for page moves), or flag it readonly.`,
      )
    }
  }

  const byName = new Map<string, Partition[]>()
  for (const p of table.partitions) byName.set(p.name, [...(byName.get(p.name) ?? []), p])
  for (const [name, sharing] of byName) {
    if (sharing.length < 2) continue
    const where = sharing.every((p) => p.line !== undefined) ? ` (lines ${sharing.map((p) => p.line).join(', ')})` : ''
    problems.push(`${sharing.length} partitions are named ${name || '(empty)'}${where}; partition names must be unique.`)
  }

  let previous: Partition | undefined
  for (const p of [...table.partitions].sort((a, b) => a.offset - b.offset)) {
    const isPrimaryLayoutRow = (p.type === bootloaderType || p.type === partitionTableType) && p.subtype === 0x00
    if (p.offset < tableEnd && !isPrimaryLayoutRow) {
      problems.push(`${describe(p)} starts below ${hex(tableEnd)}: the partition table occupies the sector ${hex(tableOffset)}–${hex(tableEnd)}.`)
    }
    if (previous && p.offset < previous.offset + previous.size) problems.push(`${describe(previous)} overlaps ${describe(p)}.`)
    previous = p
  }

  for (const [subtype, what] of [
    [dataSubtype.ota, 'otadata (data, ota)'],
    [dataSubtype.teeOta, 'TEE otadata (data, tee_ota)'],
  ] as const) {
    const found = table.partitions.filter((p) => p.type === dataType && p.subtype === subtype)
    if (found.length > 1) problems.push(`There are ${found.length} ${what} partitions (${found.map(label).join(', ')}); there may be only one.`)
    const only = found.length === 1 ? found[0] : undefined
    if (only && only.size !== 0x2000) {
      problems.push(`${label(only)} is ${what} of ${hex(only.size)} bytes; it must be exactly 0x2000: two 4 KiB sectors, one per copy of the boot selection.`)
    }
  }

  if (options.flashSize !== undefined) {
    for (const p of table.partitions) {
      if (p.offset + p.size > options.flashSize) problems.push(`${describe(p)} ends beyond the ${flashSizeName(options.flashSize)} flash (${hex(options.flashSize)}).`)
    }
  }
  return problems
}

/** What the binary format cannot hold at all: these are refused even with `verify: false`. */
function encodabilityProblems(table: PartitionTable): string[] {
  const problems: string[] = []
  if (!table || !Array.isArray(table.partitions)) return ['A partition table needs a list of partitions.']
  for (const p of table.partitions) {
    if (!hasPartitionShape(p)) {
      problems.push('A partition entry is not a {name, type, subtype, offset, size, encrypted, readonly} record.')
      continue
    }
    const name = utf8Encode(p.name)
    if (name === null) problems.push(`${label(p)}: the name contains a lone UTF-16 surrogate and cannot be written as UTF-8.`)
    else if (name.length > partitionNameMaxBytes) {
      problems.push(`${label(p)}: the name is ${name.length} bytes; a partition name holds at most ${partitionNameMaxBytes} bytes of UTF-8.`)
    }
    if (!isByte(p.type)) problems.push(`${label(p)}: type ${String(p.type)} is out of range; a partition type is one byte (0–0xFF).`)
    if (!isByte(p.subtype)) problems.push(`${label(p)}: subtype ${String(p.subtype)} is out of range; a subtype is one byte (0–0xFF).`)
    if (!isUint32(p.offset)) problems.push(`${label(p)}: offset ${numberText(p.offset)} does not fit the 32-bit offset field.`)
    if (!isUint32(p.size)) problems.push(`${label(p)}: size ${numberText(p.size)} does not fit the 32-bit size field.`)
    else if (isUint32(p.offset) && p.offset + p.size > 0x1_0000_0000) problems.push(`${label(p)}: it ends beyond the 4 GiB that 32-bit flash offsets can address.`)
  }
  return problems
}

function hasPartitionShape(p: unknown): p is Partition {
  if (p === null || typeof p !== 'object') return false
  const q = p as Record<string, unknown>
  return (
    typeof q.name === 'string' &&
    ['type', 'subtype', 'offset', 'size'].every((key) => typeof q[key] === 'number') &&
    typeof q.encrypted === 'boolean' &&
    typeof q.readonly === 'boolean'
  )
}

// ---------------------------------------------------------------------------------------------------------
// Lookups for OTA and flashing

export type PartitionQuery =
  | { name: string }
  | { type: PartitionTypeName | number; subtype?: string | number }

/** All partitions matching a query, in table order (esp_partition_find). */
export function findPartitions(table: PartitionTable, query: PartitionQuery): Partition[] {
  if ('name' in query) return table.partitions.filter((p) => p.name === query.name)
  const type = partitionTypeValue(query.type)
  if (type === null) return []
  const subtype = query.subtype === undefined ? undefined : partitionSubtypeValue(type, query.subtype)
  if (subtype === null) return []
  return table.partitions.filter((p) => p.type === type && (subtype === undefined || p.subtype === subtype))
}

/** The first partition matching a query (esp_partition_find_first), or undefined. */
export function findPartition(table: PartitionTable, query: PartitionQuery): Partition | undefined {
  return findPartitions(table, query)[0]
}

/**
 * The OTA app slots the running app can select, ota_0 upwards. Like esp_ota_get_app_partition_count, the
 * count stops at the first missing slot, because otadata's sequence number is taken modulo this count.
 */
export function otaAppPartitions(table: PartitionTable): Partition[] {
  const slots: Partition[] = []
  for (let slot = 0; slot < otaAppSlotsMax; slot++) {
    const p = table.partitions.find((q) => q.type === appType && q.subtype === otaAppSubtypeFirst + slot)
    if (!p) break
    slots.push(p)
  }
  return slots
}

/** The OTA slot number of an app partition (ota_3 → 3), or null for factory, test and non-apps. */
export function otaSlotOf(partition: Partition): number | null {
  const slot = partition.subtype - otaAppSubtypeFirst
  return partition.type === appType && slot >= 0 && slot < otaAppSlotsMax ? slot : null
}

/**
 * Where the next OTA image goes when `running` is the app now running: the OTA slot after it, wrapping to
 * ota_0, and ota_0 when the factory app runs (esp_ota_get_next_update_partition).
 */
export function nextUpdatePartition(table: PartitionTable, running: Partition | undefined): Partition | undefined {
  const slots = otaAppPartitions(table)
  const at = running ? slots.findIndex((p) => p.offset === running.offset && p.subtype === running.subtype) : -1
  return at === -1 ? slots[0] : slots[(at + 1) % slots.length]
}

/** The offset where the last partition ends: the least flash the table needs (gen_esp32part's flash_size). */
export function partitionTableEnd(table: PartitionTable): number {
  let end = 0
  for (const p of table.partitions) end = Math.max(end, p.offset + p.size)
  return end
}

/** Whether an image of `imageLength` bytes fits `partition`, with the bytes to spare when it does. */
export function checkFitsPartition(partition: Partition, imageLength: number): PartitionTableOutcome<{ spareBytes: number }> {
  if (!Number.isSafeInteger(imageLength) || imageLength < 0) return fail(`An image length must be a whole number of bytes, not ${String(imageLength)}.`)
  if (imageLength === 0) return fail(`The image for ${label(partition)} is empty.`)
  if (imageLength > partition.size) {
    return fail(
      `The image is ${grouped(imageLength)} bytes but ${describe(partition)} holds ${grouped(partition.size)} bytes (${csvSize(partition.size)}): ${grouped(imageLength - partition.size)} bytes too many.`,
    )
  }
  return { ok: true, value: { spareBytes: partition.size - imageLength } }
}

/** Finds the partition for an image and checks that the image fits it. */
export function checkImageFitsTable(
  table: PartitionTable,
  query: PartitionQuery,
  imageLength: number,
): PartitionTableOutcome<{ partition: Partition; spareBytes: number }> {
  const partition = findPartition(table, query)
  if (!partition) return fail(`The partition table has no ${queryText(query)} partition.`)
  const fits = checkFitsPartition(partition, imageLength)
  return fits.ok ? { ok: true, value: { partition, spareBytes: fits.value.spareBytes } } : fits
}

/** Whether the whole table fits a flash chip of `flashSize` bytes. */
export function checkFitsFlash(table: PartitionTable, flashSize: number): PartitionTableOutcome<{ spareBytes: number }> {
  if (!Number.isSafeInteger(flashSize) || flashSize <= 0) return fail(`A flash size must be a positive number of bytes, not ${String(flashSize)}.`)
  const end = partitionTableEnd(table)
  if (end > flashSize) {
    const last = [...table.partitions].sort((a, b) => b.offset + b.size - (a.offset + a.size))[0]
    return fail(
      `The partitions need ${hex(end)} bytes of flash (${(end / 0x100000).toFixed(1)}MB) but the chip has ${flashSizeName(flashSize)}${last ? `; ${describe(last)} ends past it` : ''}.`,
    )
  }
  return { ok: true, value: { spareBytes: flashSize - end } }
}

// ---------------------------------------------------------------------------------------------------------
// ESP-IDF's built-in tables (components/partition_table/*.csv), as menuconfig's CONFIG_PARTITION_TABLE_TYPE offers them.

export type EspIdfPartitionTableName =
  | 'singleapp'
  | 'singleapp_large'
  | 'singleapp_coredump'
  | 'two_ota'
  | 'two_ota_coredump'
  | 'two_ota_encr_nvs'

export const espIdfPartitionTables: Readonly<Record<EspIdfPartitionTableName, string>> = {
  singleapp: `# Name,   Type, SubType, Offset,  Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x6000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
`,
  singleapp_large: `# Name,   Type, SubType, Offset,  Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x6000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1500K,
`,
  singleapp_coredump: `# Name,   Type, SubType, Offset,  Size
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,           ,  0x6000
phy_init, data, phy,           ,  0x1000
factory,  app,  factory,       ,  1M
coredump, data, coredump,      ,  64K
`,
  two_ota: `# Name,   Type, SubType, Offset,   Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x4000,
otadata,  data, ota,     ,        0x2000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
ota_0,    app,  ota_0,   ,        1M,
ota_1,    app,  ota_1,   ,        1M,
`,
  two_ota_coredump: `# Name,   Type, SubType, Offset,   Size
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,         0x4000
otadata,  data, ota,     ,         0x2000
phy_init, data, phy,     ,         0x1000
factory,  0,    0,       ,         1M
coredump, data, coredump,,         64K
ota_0,    0,    ota_0,   ,         1M
ota_1,    0,    ota_1,   ,         1M
`,
  two_ota_encr_nvs: `# Name,   Type, SubType, Offset,   Size, Flags
# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap
nvs,      data, nvs,     ,        0x4000,
otadata,  data, ota,     ,        0x2000,
phy_init, data, phy,     ,        0x1000,
factory,  app,  factory, ,        1M,
ota_0,    app,  ota_0,   ,        1M,
ota_1,    app,  ota_1,   ,        1M,
nvs_key,  data, nvs_keys,,        0x1000, encrypted
`,
}

// ---------------------------------------------------------------------------------------------------------
// CSV rows

interface Draft extends Omit<Partition, 'offset' | 'line'> {
  offset: number | undefined
  line: number
}

function parseCsvRow(fields: string[], line: number, tableOffset: number, options: PartitionTableOptions): PartitionTableOutcome<Draft> {
  const [name = '', typeText = '', subtypeText = '', offsetText = '', sizeText = '', flagsText = ''] = fields

  if (typeText === '') return fail('the type is empty; use app, data, bootloader, partition_table or a number.')
  const type = parseIntField(typeText, typeKeywords)
  if (type === undefined) return fail(`type "${typeText}" is not app, data, bootloader, partition_table or a number.`)

  let subtype: number
  if (subtypeText === '') {
    if (type === appType) return fail(`${name || 'this app partition'} has no subtype; an app partition needs factory, ota_0…ota_15 or test.`)
    subtype = dataSubtype.undefined
  } else {
    const keywords = subtypeKeywords.get(type)
    const parsed = parseIntField(subtypeText, keywords)
    if (parsed === undefined) {
      return fail(
        keywords
          ? `subtype "${subtypeText}" is not known for ${partitionTypeName(type)} partitions; use one of ${[...keywords.keys()].join(', ')} or a number.`
          : `subtype "${subtypeText}" must be a number: type ${partitionTypeName(type)} has no named subtypes.`,
      )
    }
    subtype = parsed
  }

  let offset: number | undefined
  if (type === bootloaderType && subtype === 0x00) {
    if (options.primaryBootloaderOffset === undefined) return fail('a primary bootloader row needs the primaryBootloaderOffset option (0x1000 on ESP32 and ESP32-S2, 0x0 on later chips).')
    offset = options.primaryBootloaderOffset
  } else if (type === bootloaderType && subtype === 0x02) {
    if (options.recoveryBootloaderOffset === undefined) return fail('a recovery bootloader row needs the recoveryBootloaderOffset option.')
    offset = options.recoveryBootloaderOffset
  } else if (type === partitionTableType && subtype === 0x00) {
    offset = tableOffset
  } else if (offsetText !== '') {
    offset = parseIntField(offsetText)
    if (offset === undefined) return fail(`offset "${offsetText}" is not a number (write 0x9000, 36864 or 36K).`)
  }

  let size: number
  if (type === bootloaderType) {
    // The bootloader region is whatever lies between where the ROM loads it and the partition table.
    if (options.primaryBootloaderOffset === undefined) return fail('a bootloader row needs the primaryBootloaderOffset option to know its size.')
    size = tableOffset - options.primaryBootloaderOffset
  } else if (type === partitionTableType) {
    size = partitionTableSectorSize
  } else {
    if (sizeText === '') return fail(`${name || 'this partition'} has no size.`)
    const parsed = parseIntField(sizeText)
    if (parsed === undefined) return fail(`size "${sizeText}" is not a number (write 0x6000, 24576, 24K or 1M).`)
    size = parsed
  }

  let encrypted = false
  let readonly = false
  for (const flag of flagsText.split(':')) {
    if (flag === 'encrypted') encrypted = true
    else if (flag === 'readonly') readonly = true
    else if (flag.length > 0) return fail(`unknown flag "${flag}"; the flags are encrypted and readonly, separated by ":" without spaces.`)
  }
  return { ok: true, value: { name, type, subtype, offset, size, encrypted, readonly, line } }
}

/**
 * gen_esp32part's parse_int: a trailing K or M (any case, repeatable) multiplies by 1024 or 1024², the rest
 * is read like Python's int(x, 0) (0x…, 0o…, 0b…, decimal, `_` between digits), and failing that a keyword.
 */
function parseIntField(raw: string, keywords?: ReadonlyMap<string, number>): number | undefined {
  const lower = raw.toLowerCase()
  for (const [suffix, multiplier] of [['k', 1024], ['m', 1024 * 1024]] as const) {
    if (lower.endsWith(suffix)) {
      const inner = parseIntField(raw.slice(0, -1), keywords)
      return inner === undefined ? undefined : inner * multiplier
    }
  }
  return pythonInt(raw) ?? keywords?.get(lower)
}

const pythonIntPattern = /^([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|0[oO]((?:_?[0-7])+)|0[bB]((?:_?[01])+)|([1-9](?:_?[0-9])*|0(?:_?0)*))$/

/** Python's int(text, 0): the base comes from the prefix, and a decimal may not start with 0 unless it is 0. */
function pythonInt(text: string): number | undefined {
  const match = pythonIntPattern.exec(pythonStrip(text))
  if (!match) return undefined
  const [, sign, hexDigits, octalDigits, binaryDigits, decimalDigits] = match
  const [digits, radix] =
    hexDigits !== undefined ? [hexDigits, 16] : octalDigits !== undefined ? [octalDigits, 8] : binaryDigits !== undefined ? [binaryDigits, 2] : [decimalDigits ?? '0', 10]
  const magnitude = parseInt(digits.replaceAll('_', ''), radix)
  return sign === '-' ? -magnitude : magnitude
}

/** Characters Python's str.strip() removes; unlike String.trim it keeps U+FEFF and removes U+001C–U+001F and U+0085. */
const pythonSpace = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const pythonStripPattern = new RegExp(`^[${pythonSpace}]+|[${pythonSpace}]+$`, 'g')
function pythonStrip(text: string): string {
  return text.replace(pythonStripPattern, '')
}

/** The line boundaries of Python's str.splitlines, which include the ASCII file/group/record separators. */
// eslint-disable-next-line no-control-regex -- U+001C–U+001E end lines for the IDF tool, so they must here too
const pythonLineBreak = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/

/** os.path.expandvars: `$NAME` and `${NAME}` are replaced when known and left alone when not. */
function expandVariables(line: string, variables: Readonly<Record<string, string>>): string {
  return line.replace(/\$(\w+|\{[^}]*\})/g, (whole, reference: string) => {
    const name = reference.startsWith('{') ? reference.slice(1, -1) : reference
    return Object.hasOwn(variables, name) ? (variables[name] ?? whole) : whole
  })
}

function checked(table: PartitionTable, options: PartitionTableOptions): PartitionTableOutcome<PartitionTable> {
  const problems = options.verify === false ? encodabilityProblems(table) : partitionTableProblems(table, options)
  return problems.length > 0 ? fail(problems.join('\n')) : { ok: true, value: table }
}

function optionsProblem(options: PartitionTableOptions): string | null {
  if (options === null || typeof options !== 'object') return 'Partition table options must be an object.'
  const tableOffset = options.partitionTableOffset ?? defaultPartitionTableOffset
  if (!isUint32(tableOffset) || tableOffset % partitionTableSectorSize !== 0) {
    return `The partition table offset ${numberText(tableOffset)} must be a multiple of 0x1000 (a flash sector).`
  }
  for (const key of ['flashSize', 'primaryBootloaderOffset', 'recoveryBootloaderOffset'] as const) {
    const value = options[key]
    if (value !== undefined && !isUint32(value)) return `The ${key} option must be a whole number of bytes, not ${numberText(value)}.`
  }
  return null
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

function offsetAlignment(type: number): number {
  return type === appType ? 0x10000 : 0x1000
}

/** Sizes as gen_esp32part prints them: whole MiB as `1M`, whole KiB as `24K`, anything else in hex. */
function csvSize(size: number): string {
  if (size % 0x100000 === 0) return `${size / 0x100000}M`
  if (size % 0x400 === 0) return `${size / 0x400}K`
  return `0x${size.toString(16)}`
}

function flagNames(p: Partition): string[] {
  return [...(p.encrypted ? ['encrypted'] : []), ...(p.readonly ? ['readonly'] : [])]
}

function label(p: { name: string }): string {
  return p.name === '' ? '(unnamed partition)' : p.name
}

function describe(p: Partition): string {
  return `${label(p)} (${hex(p.offset)}–${hex(p.offset + p.size)})`
}

function queryText(query: PartitionQuery): string {
  if ('name' in query) return `"${query.name}"`
  const type = typeof query.type === 'number' ? partitionTypeName(query.type) : query.type
  return query.subtype === undefined ? type : `${type}/${String(query.subtype)}`
}

function flashSizeName(bytes: number): string {
  return bytes % 0x100000 === 0 ? `${bytes / 0x100000}MB` : `${hex(bytes)}-byte`
}

function hex(value: number): string {
  return value < 0 ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`
}

function numberText(value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) ? hex(value) : String(value)
}

function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error }
}

// ---------------------------------------------------------------------------------------------------------
// Bytes and text (no TextEncoder/TextDecoder here: shared/domain is compiled without DOM or Node types)

function isByte(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xff
}

function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff
}

function readUint32Le(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0
}

function writeUint32Le(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff
  bytes[at + 1] = (value >>> 8) & 0xff
  bytes[at + 2] = (value >>> 16) & 0xff
  bytes[at + 3] = (value >>> 24) & 0xff
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i])
}

/** UTF-8 bytes of a string, or null when it holds a lone surrogate (Python's strict encoder refuses those). */
function utf8Encode(text: string): Uint8Array | null {
  const out: number[] = []
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0
    if (cp >= 0xd800 && cp <= 0xdfff) return null
    if (cp < 0x80) out.push(cp)
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f))
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f))
  }
  return Uint8Array.from(out)
}

/** Strict UTF-8 (no overlong forms, surrogates or values above U+10FFFF), or null. */
function decodeUtf8(bytes: Uint8Array): string | null {
  const codePoints: number[] = []
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] ?? 0
    let need: number
    let cp: number
    let min: number
    if (lead < 0x80) {
      codePoints.push(lead)
      i++
      continue
    } else if (lead >= 0xc2 && lead <= 0xdf) [need, cp, min] = [1, lead & 0x1f, 0x80]
    else if (lead >= 0xe0 && lead <= 0xef) [need, cp, min] = [2, lead & 0x0f, 0x800]
    else if (lead >= 0xf0 && lead <= 0xf4) [need, cp, min] = [3, lead & 0x07, 0x10000]
    else return null
    for (let k = 1; k <= need; k++) {
      const next = bytes[i + k]
      if (next === undefined || (next & 0xc0) !== 0x80) return null
      cp = (cp << 6) | (next & 0x3f)
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null
    codePoints.push(cp)
    i += need + 1
  }
  return fromCodePoints(codePoints)
}

/** UTF-16 code units (BOM already removed); null on an odd length or a lone surrogate. */
function decodeUtf16(bytes: Uint8Array, littleEndian: boolean): string | null {
  if (bytes.length % 2 !== 0) return null
  const codePoints: number[] = []
  const unit = (i: number) => (littleEndian ? (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) : ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0))
  for (let i = 0; i < bytes.length; i += 2) {
    const high = unit(i)
    if (high >= 0xdc00 && high <= 0xdfff) return null
    if (high >= 0xd800 && high <= 0xdbff) {
      if (i + 2 >= bytes.length) return null
      const low = unit(i + 2)
      if (low < 0xdc00 || low > 0xdfff) return null
      codePoints.push(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))
      i += 2
    } else codePoints.push(high)
  }
  return fromCodePoints(codePoints)
}

function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string | null {
  if (bytes.length % 4 !== 0) return null
  const codePoints: number[] = []
  for (let i = 0; i < bytes.length; i += 4) {
    const cp = littleEndian ? readUint32Le(bytes, i) : readUint32Le(Uint8Array.from([bytes[i + 3] ?? 0, bytes[i + 2] ?? 0, bytes[i + 1] ?? 0, bytes[i] ?? 0]), 0)
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null
    codePoints.push(cp)
  }
  return fromCodePoints(codePoints)
}

function fromCodePoints(codePoints: number[]): string {
  let out = ''
  for (let i = 0; i < codePoints.length; i += 4096) out += String.fromCodePoint(...codePoints.slice(i, i + 4096))
  return out
}

/** CSV bytes to text the way gen_esp32part picks the encoding: by byte-order mark, else UTF-8. */
function decodeText(bytes: Uint8Array): PartitionTableOutcome<string> {
  const starts = (...prefix: number[]) => prefix.every((b, i) => bytes[i] === b)
  // UTF-32 LE's mark begins with UTF-16 LE's, so it is tested first.
  const [text, encoding] = starts(0xef, 0xbb, 0xbf)
    ? [decodeUtf8(bytes.subarray(3)), 'UTF-8']
    : starts(0xff, 0xfe, 0x00, 0x00)
      ? [decodeUtf32(bytes.subarray(4), true), 'UTF-32']
      : starts(0x00, 0x00, 0xfe, 0xff)
        ? [decodeUtf32(bytes.subarray(4), false), 'UTF-32']
        : starts(0xff, 0xfe)
          ? [decodeUtf16(bytes.subarray(2), true), 'UTF-16']
          : starts(0xfe, 0xff)
            ? [decodeUtf16(bytes.subarray(2), false), 'UTF-16']
            : [decodeUtf8(bytes), 'UTF-8']
  return text === null ? fail(`The file is neither a binary partition table (it does not start with AA 50) nor valid ${encoding} CSV text.`) : { ok: true, value: text }
}
