import { checkImageForChip, parseAppImage, type AppImage } from '../firmware/app-image'
import type { EspChipName } from '../firmware/chips'
import { decodePartitionTable, type Partition, type PartitionTable } from '../firmware/partition-table'

/**
 * A flashing recipe: what goes where on a board, saved once and reused for a whole batch. The roles
 * say what each file is, so the console can check it before a byte goes out: an app against the
 * detected chip and its partition, a partition table for overlaps, everything against the flash size.
 */
export type RegionRole = 'bootloader' | 'partition-table' | 'otadata' | 'app' | 'nvs' | 'data'

export interface RecipeRegion {
  role: RegionRole
  offset: number
  /** What the engineer called the file, for logs and errors. */
  fileName: string
}

export interface LoadedRegion extends RecipeRegion {
  bytes: Uint8Array
}

export interface RegionCheck {
  region: LoadedRegion
  image: AppImage | null
}

export type RecipeCheck =
  | { ok: true; regions: RegionCheck[]; table: PartitionTable | null }
  /** `wrongChip`: an image is built for another chip than the board's, the error an engineer most needs told apart. */
  | { ok: false; problems: string[]; wrongChip: boolean }

export interface BoardFacts {
  chip: EspChipName
  /** The bootloader's place on this chip: 0x1000 on ESP32 and ESP32-S2, 0x0 on the others. */
  bootloaderOffset: number
  flashSize: number | null
}

const hex = (value: number) => `0x${value.toString(16)}`

/**
 * Everything that can be known about a recipe before (and, with `board`, once) a board is connected.
 * Problems are sentences that name the file and say what to change.
 */
export function checkRecipe(regions: readonly LoadedRegion[], sha256: (bytes: Uint8Array) => Uint8Array, board?: BoardFacts): RecipeCheck {
  const problems: string[] = []
  let wrongChip = false
  if (regions.length === 0) return { ok: false, problems: ['The recipe has no files to flash.'], wrongChip }

  const sorted = [...regions].sort((a, b) => a.offset - b.offset)
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1]!
    const after = sorted[i]!
    if (before.offset + before.bytes.length > after.offset) {
      problems.push(`${before.fileName} (${hex(before.offset)}–${hex(before.offset + before.bytes.length)}) overlaps ${after.fileName} at ${hex(after.offset)}.`)
    }
  }

  let table: PartitionTable | null = null
  const tableRegion = regions.find((region) => region.role === 'partition-table')
  if (tableRegion) {
    const decoded = decodePartitionTable(tableRegion.bytes)
    if (decoded.ok) table = decoded.value
    else problems.push(`${tableRegion.fileName} is not a valid partition table: ${decoded.error}`)
  }

  const checks: RegionCheck[] = []
  for (const region of regions) {
    if (region.bytes.length === 0) {
      problems.push(`${region.fileName} is empty.`)
      continue
    }
    if (region.offset % 0x1000 !== 0) problems.push(`${region.fileName} starts at ${hex(region.offset)}, which is not on a 4 KB flash sector.`)
    let image: AppImage | null = null
    if (region.role === 'app' || region.role === 'bootloader') {
      const parsed = parseAppImage(region.bytes, { sha256 })
      if (!parsed.ok) {
        problems.push(`${region.fileName}: ${parsed.error.message}`)
      } else {
        image = parsed.image
        if (board) {
          const fits = checkImageForChip(image, board.chip)
          if (!fits.ok) {
            problems.push(`${region.fileName}: ${fits.error.message}`)
            wrongChip ||= fits.error.kind === 'wrong-chip'
          }
        }
      }
    }
    if (region.role === 'bootloader' && board && region.offset !== board.bootloaderOffset) {
      problems.push(`${region.fileName} is a bootloader at ${hex(region.offset)}, but an ${board.chip} boots from ${hex(board.bootloaderOffset)}.`)
    }
    if (table && (region.role === 'app' || region.role === 'nvs' || region.role === 'otadata')) {
      const partition = partitionAt(table, region.offset)
      if (!partition) {
        problems.push(`${region.fileName} at ${hex(region.offset)} is not at the start of any partition of ${tableRegion!.fileName}.`)
      } else if (region.bytes.length > partition.size) {
        problems.push(`${region.fileName} is ${region.bytes.length} bytes, larger than its partition "${partition.name}" (${partition.size} bytes) by ${region.bytes.length - partition.size}.`)
      }
    }
    if (board?.flashSize && region.offset + region.bytes.length > board.flashSize) {
      problems.push(`${region.fileName} ends at ${hex(region.offset + region.bytes.length)}, past the board's ${board.flashSize / 1048576} MB flash.`)
    }
    checks.push({ region, image })
  }
  if (table && board?.flashSize) {
    const last = table.partitions.reduce((end, partition) => Math.max(end, partition.offset + partition.size), 0)
    if (last > board.flashSize) problems.push(`${tableRegion!.fileName} needs ${last / 1048576} MB of flash; the board has ${board.flashSize / 1048576} MB.`)
  }
  return problems.length > 0 ? { ok: false, problems, wrongChip } : { ok: true, regions: checks, table }
}

function partitionAt(table: PartitionTable, offset: number): Partition | undefined {
  return table.partitions.find((partition) => partition.offset === offset)
}

/**
 * The identity each board of a batch gets, from a pattern such as `PLANT1-{seq:4}`: `{seq}` or
 * `{seq:N}` is the board's number in the batch (zero-padded to N digits), counted from `first`.
 */
export function serialFromPattern(pattern: string, sequence: number): { ok: true; serial: string } | { ok: false; error: string } {
  if (!/\{seq(:\d+)?\}/.test(pattern)) return { ok: false, error: `The serial-number pattern "${pattern}" has no {seq}: every board would get the same identity.` }
  return checkDeviceId(pattern.replace(/\{seq(?::(\d+))?\}/g, (_, width: string | undefined) => String(sequence).padStart(Number(width ?? 0), '0')))
}

/** A board's identity becomes its Sparkplug edge node id and its NVS key: a short, plain name. */
export function checkDeviceId(serial: string): { ok: true; serial: string } | { ok: false; error: string } {
  if (!/^[A-Za-z0-9._-]{1,32}$/.test(serial)) return { ok: false, error: `"${serial}" is not a usable device id: use 1–32 letters, digits, '.', '_' or '-'.` }
  return { ok: true, serial }
}

/** The board number a serial was made with by `pattern`, or null if the pattern did not make it. */
export function sequenceOfSerial(pattern: string, serial: string): number | null {
  const parts = pattern.split(/\{seq(?::\d+)?\}/)
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`^${parts.map(escape).join('(\\d+)')}$`).exec(serial)
  if (!match || match.length < 2) return null
  const numbers = match.slice(1).map(Number)
  return numbers.every((n) => n === numbers[0]) ? numbers[0]! : null
}

/** The first board number after every serial already given with this pattern. */
export function nextSequence(pattern: string, givenSerials: readonly string[]): number {
  let highest = 0
  for (const serial of givenSerials) {
    const sequence = sequenceOfSerial(pattern, serial)
    if (sequence !== null && sequence > highest) highest = sequence
  }
  return highest + 1
}
