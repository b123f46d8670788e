// The ESP chip families an image header can name, as esptool knows them. The image header carries a
// chip id (esp_chip_id_t), not a name; everything else here is what esptool's per-chip target classes
// say about that id (esptool/targets/*.py): the flash-frequency nibble's meaning, the address map that
// `image_info` uses to label segments, and how the legacy min_rev byte is read.
// Ids checked against shared/fixtures/esptool: 0, 2, 5 (esptool's own image_info output), 9 and 5
// (esp32s3_header.bin, esp32c3_header_min_rev.bin), 13 (esptool elf2image --chip esp32c6).

export type EspChipName =
  | 'ESP32'
  | 'ESP32-S2'
  | 'ESP32-S3'
  | 'ESP32-C3'
  | 'ESP32-C2'
  | 'ESP32-C6'
  | 'ESP32-H2'
  | 'ESP32-P4'
  | 'ESP32-C5'
  | 'ESP32-C61'

/** One row of esptool's MEMORY_MAP: [start, end) and the name `image_info` prints for it. */
export interface MemoryRegion {
  readonly start: number
  readonly end: number
  readonly type: string
}

export interface EspChip {
  readonly name: EspChipName
  /** `chip_id` in the extended image header (esp_chip_id_t). */
  readonly imageChipId: number
  /** Low nibble of header byte 3 → esptool's label. Chip-specific: 0x0 is 40m on an ESP32 but 30m on an ESP32-C2. */
  readonly flashFrequencies: ReadonlyMap<number, string>
  /** In esptool's order, because `image_info` lists a segment's memory types in this order. */
  readonly memoryMap: readonly MemoryRegion[]
  /**
   * The one-byte `min_chip_rev` predates major/minor revisions. ESP-IDF (and esptool's write_flash)
   * read it as the minor revision on the ESP32-C3 and as the major revision everywhere else.
   */
  readonly legacyMinRevisionIs: 'major' | 'minor'
}

const region = (start: number, end: number, type: string): MemoryRegion => ({ start, end, type })
const frequencies = (entries: [number, string][]) => new Map(entries)

// esptool's ESP32ROM.FLASH_FREQUENCY, inherited by every chip that does not override it.
const ESP32_FREQUENCIES = frequencies([
  [0xf, '80m'],
  [0x0, '40m'],
  [0x1, '26m'],
  [0x2, '20m'],
])
// ESP32-C6 ROM has a wrong MSPI divider, so esptool writes 0x0 for both 80m and 40m; its image_info
// prints the first key that matches, 80m. Kept as esptool shows it.
const ESP32C6_FREQUENCIES = frequencies([
  [0x0, '80m'],
  [0x2, '20m'],
])

const ESP32C6_MEMORY_MAP = [
  region(0x00000000, 0x00010000, 'PADDING'),
  region(0x42800000, 0x43000000, 'DROM'),
  region(0x40800000, 0x40880000, 'DRAM'),
  region(0x40800000, 0x40880000, 'BYTE_ACCESSIBLE'),
  region(0x4004ac00, 0x40050000, 'DROM_MASK'),
  region(0x40000000, 0x4004ac00, 'IROM_MASK'),
  region(0x42000000, 0x42800000, 'IROM'),
  region(0x40800000, 0x40880000, 'IRAM'),
  region(0x50000000, 0x50004000, 'RTC_IRAM'),
  region(0x50000000, 0x50004000, 'RTC_DRAM'),
  region(0x600fe000, 0x60100000, 'MEM_INTERNAL2'),
]

/** Keyed by name so the compiler proves every EspChipName has a row. */
export const ESP_CHIPS: Readonly<Record<EspChipName, EspChip>> = {
  'ESP32': {
    name: 'ESP32',
    imageChipId: 0,
    flashFrequencies: ESP32_FREQUENCIES,
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x3f400000, 0x3f800000, 'DROM'),
      region(0x3f800000, 0x3fc00000, 'EXTRAM_DATA'),
      region(0x3ff80000, 0x3ff82000, 'RTC_DRAM'),
      region(0x3ff90000, 0x40000000, 'BYTE_ACCESSIBLE'),
      region(0x3ffae000, 0x40000000, 'DRAM'),
      region(0x3ffe0000, 0x3ffffffc, 'DIRAM_DRAM'),
      region(0x40000000, 0x40070000, 'IROM'),
      region(0x40070000, 0x40078000, 'CACHE_PRO'),
      region(0x40078000, 0x40080000, 'CACHE_APP'),
      region(0x40080000, 0x400a0000, 'IRAM'),
      region(0x400a0000, 0x400bfffc, 'DIRAM_IRAM'),
      region(0x400c0000, 0x400c2000, 'RTC_IRAM'),
      region(0x400d0000, 0x40400000, 'IROM'),
      region(0x50000000, 0x50002000, 'RTC_DATA'),
    ],
  },
  'ESP32-S2': {
    name: 'ESP32-S2',
    imageChipId: 2,
    flashFrequencies: ESP32_FREQUENCIES,
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x3f000000, 0x3ff80000, 'DROM'),
      region(0x3f500000, 0x3ff80000, 'EXTRAM_DATA'),
      region(0x3ff9e000, 0x3ffa0000, 'RTC_DRAM'),
      region(0x3ff9e000, 0x40000000, 'BYTE_ACCESSIBLE'),
      region(0x3ff9e000, 0x40072000, 'MEM_INTERNAL'),
      region(0x3ffb0000, 0x40000000, 'DRAM'),
      region(0x40000000, 0x4001a100, 'IROM_MASK'),
      region(0x40020000, 0x40070000, 'IRAM'),
      region(0x40070000, 0x40072000, 'RTC_IRAM'),
      region(0x40080000, 0x40800000, 'IROM'),
      region(0x50000000, 0x50002000, 'RTC_DATA'),
    ],
  },
  'ESP32-C3': {
    name: 'ESP32-C3',
    imageChipId: 5,
    flashFrequencies: ESP32_FREQUENCIES,
    legacyMinRevisionIs: 'minor',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x3c000000, 0x3c800000, 'DROM'),
      region(0x3fc80000, 0x3fce0000, 'DRAM'),
      region(0x3fc88000, 0x3fd00000, 'BYTE_ACCESSIBLE'),
      region(0x3ff00000, 0x3ff20000, 'DROM_MASK'),
      region(0x40000000, 0x40060000, 'IROM_MASK'),
      region(0x42000000, 0x42800000, 'IROM'),
      region(0x4037c000, 0x403e0000, 'IRAM'),
      region(0x50000000, 0x50002000, 'RTC_IRAM'),
      region(0x50000000, 0x50002000, 'RTC_DRAM'),
      region(0x600fe000, 0x60100000, 'MEM_INTERNAL2'),
    ],
  },
  'ESP32-S3': {
    name: 'ESP32-S3',
    imageChipId: 9,
    flashFrequencies: ESP32_FREQUENCIES,
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x3c000000, 0x3d000000, 'DROM'),
      region(0x3d000000, 0x3e000000, 'EXTRAM_DATA'),
      region(0x600fe000, 0x60100000, 'RTC_DRAM'),
      region(0x3fc88000, 0x3fd00000, 'BYTE_ACCESSIBLE'),
      region(0x3fc88000, 0x403e2000, 'MEM_INTERNAL'),
      region(0x3fc88000, 0x3fd00000, 'DRAM'),
      region(0x40000000, 0x4001a100, 'IROM_MASK'),
      region(0x40370000, 0x403e0000, 'IRAM'),
      region(0x600fe000, 0x60100000, 'RTC_IRAM'),
      region(0x42000000, 0x42800000, 'IROM'),
      region(0x50000000, 0x50002000, 'RTC_DATA'),
    ],
  },
  'ESP32-C2': {
    name: 'ESP32-C2',
    imageChipId: 12,
    flashFrequencies: frequencies([
      [0xf, '60m'],
      [0x0, '30m'],
      [0x1, '20m'],
      [0x2, '15m'],
    ]),
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x3c000000, 0x3c400000, 'DROM'),
      region(0x3fca0000, 0x3fce0000, 'DRAM'),
      region(0x3fc88000, 0x3fd00000, 'BYTE_ACCESSIBLE'),
      region(0x3ff00000, 0x3ff50000, 'DROM_MASK'),
      region(0x40000000, 0x40090000, 'IROM_MASK'),
      region(0x42000000, 0x42400000, 'IROM'),
      region(0x4037c000, 0x403c0000, 'IRAM'),
    ],
  },
  'ESP32-C6': {
    name: 'ESP32-C6',
    imageChipId: 13,
    flashFrequencies: ESP32C6_FREQUENCIES,
    legacyMinRevisionIs: 'major',
    memoryMap: ESP32C6_MEMORY_MAP,
  },
  'ESP32-H2': {
    name: 'ESP32-H2',
    imageChipId: 16,
    flashFrequencies: frequencies([
      [0xf, '48m'],
      [0x0, '24m'],
      [0x1, '16m'],
      [0x2, '12m'],
    ]),
    legacyMinRevisionIs: 'major',
    // esptool's ESP32H2ROM inherits the ESP32-C6 map unchanged.
    memoryMap: ESP32C6_MEMORY_MAP,
  },
  'ESP32-P4': {
    name: 'ESP32-P4',
    imageChipId: 18,
    flashFrequencies: ESP32_FREQUENCIES,
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x40000000, 0x4c000000, 'DROM'),
      region(0x4ff00000, 0x4ffa0000, 'DRAM'),
      region(0x4ff00000, 0x4ffa0000, 'BYTE_ACCESSIBLE'),
      region(0x4fc00000, 0x4fc20000, 'DROM_MASK'),
      region(0x4fc00000, 0x4fc20000, 'IROM_MASK'),
      region(0x40000000, 0x4c000000, 'IROM'),
      region(0x4ff00000, 0x4ffa0000, 'IRAM'),
      region(0x50108000, 0x50110000, 'RTC_IRAM'),
      region(0x50108000, 0x50110000, 'RTC_DRAM'),
      region(0x600fe000, 0x60100000, 'MEM_INTERNAL2'),
    ],
  },
  'ESP32-C5': {
    name: 'ESP32-C5',
    imageChipId: 23,
    flashFrequencies: frequencies([
      [0xf, '80m'],
      [0x0, '40m'],
      [0x2, '20m'],
    ]),
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x42000000, 0x44000000, 'DROM'),
      region(0x40800000, 0x40860000, 'DRAM'),
      region(0x40800000, 0x40860000, 'BYTE_ACCESSIBLE'),
      region(0x4003a000, 0x40040000, 'DROM_MASK'),
      region(0x40000000, 0x4003a000, 'IROM_MASK'),
      region(0x42000000, 0x44000000, 'IROM'),
      region(0x40800000, 0x40860000, 'IRAM'),
      region(0x50000000, 0x50004000, 'RTC_IRAM'),
      region(0x50000000, 0x50004000, 'RTC_DRAM'),
      region(0x600fe000, 0x60100000, 'MEM_INTERNAL2'),
    ],
  },
  'ESP32-C61': {
    name: 'ESP32-C61',
    imageChipId: 20,
    flashFrequencies: ESP32C6_FREQUENCIES,
    legacyMinRevisionIs: 'major',
    memoryMap: [
      region(0x00000000, 0x00010000, 'PADDING'),
      region(0x41800000, 0x42000000, 'DROM'),
      region(0x40800000, 0x40860000, 'DRAM'),
      region(0x40800000, 0x40860000, 'BYTE_ACCESSIBLE'),
      region(0x4004ac00, 0x40050000, 'DROM_MASK'),
      region(0x40000000, 0x4004ac00, 'IROM_MASK'),
      region(0x41000000, 0x41800000, 'IROM'),
      region(0x40800000, 0x40860000, 'IRAM'),
      region(0x50000000, 0x50004000, 'RTC_IRAM'),
      region(0x50000000, 0x50004000, 'RTC_DRAM'),
      region(0x600fe000, 0x60100000, 'MEM_INTERNAL2'),
    ],
  },
}

const ALL_CHIPS: readonly EspChip[] = Object.values(ESP_CHIPS)

export function chipForImageId(imageChipId: number): EspChip | undefined {
  return ALL_CHIPS.find((chip) => chip.imageChipId === imageChipId)
}

/** The memory types esptool's image_info prints for a segment loaded at `address` (its start only). */
export function memoryTypesAt(chip: EspChip, address: number): string[] {
  return chip.memoryMap.filter((r) => r.start <= address && address < r.end).map((r) => r.type)
}

/**
 * Chip revisions as ESP-IDF stores them in `*_chip_rev_full`: major * 100 + minor, so v3.1 is 301.
 * esptool prints the minor part unpadded (v3.1, v3.99).
 */
export function formatChipRevision(full: number): string {
  return `v${Math.floor(full / 100)}.${full % 100}`
}

const chipNamesLongestFirst = (Object.keys(ESP_CHIPS) as EspChipName[]).sort((a, b) => b.length - a.length)

/**
 * The chip inside a module or board as a node names it in Properties/Hardware ("ESP32-WROOM-32E",
 * "ESP32-S3-WROOM-1", "esp32c6 devkit"): an update image must be built for exactly that chip. Null when the
 * name says no chip, so a rollout leaves such a node out instead of guessing.
 */
export function chipOfModule(hardware: string): EspChipName | null {
  const compact = hardware.toUpperCase().replace(/[\s_]/g, '-')
  for (const name of chipNamesLongestFirst) {
    const bare = name.replace('-', '')
    // Longest first, so "ESP32-C61" is not read as "ESP32-C6" and "ESP32-S3" not as "ESP32".
    const pattern = new RegExp(`(^|[^A-Z0-9])(${name}|${bare})(?![0-9]|-?[SCHP][0-9])`)
    if (pattern.test(compact)) return name
  }
  return null
}
