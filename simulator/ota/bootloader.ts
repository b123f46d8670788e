// What a virtual ESP32 holds in flash and how it starts from it: ESP-IDF's two_ota partition table at
// 0x8000 of a 4 MB chip, the factory app, ota_0/ota_1 and the two-sector otadata, read back at every boot
// by a second-stage bootloader built with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE. The bootloader here does
// what bootloader_utility.c does, in its order, with the console's own readers of each format
// (shared/domain/firmware), so the simulator cannot boot anything a device would refuse:
//   1. read the partition table and otadata from flash;
//   2. every otadata copy still PENDING_VERIFY belongs to an image that was started and never confirmed
//      itself: mark it ABORTED (its own sector only);
//   3. the selectable copy with the highest sequence picks the slot; a copy in state NEW is being started
//      for the first time: mark it PENDING_VERIFY;
//   4. load the selected app, checking the image as esp_image_load does (header, checksum, SHA-256, chip);
//      if it does not load, work back through the lower OTA slots to the factory app, then forward.
// Every otadata write erases one sector and programs one 32-byte entry, so a power cut can only ever
// damage the copy being written, never the other one: that is what keeps the last good slot bootable.
import {
  checkImageForChip,
  parseAppImage,
  type AppImage,
} from '../../shared/domain/firmware/app-image'
import type { EspChipName } from '../../shared/domain/firmware/chips'
import {
  bootPartition,
  decodeOtadata,
  encodeOtaSelectEntry,
  markActiveOtaState,
  otaImageStates,
  otaSelectEntrySize,
  otadataSectorSize,
  otadataSize,
  selectOtaSlot,
  type OtaImageState,
  type Otadata,
} from '../../shared/domain/firmware/otadata'
import {
  decodePartitionTable,
  defaultPartitionTableOffset,
  encodePartitionTable,
  espIdfPartitionTables,
  findPartition,
  otaAppPartitions,
  otaSlotOf,
  parsePartitionCsv,
  partitionTableMaxLength,
  type Partition,
  type PartitionTable,
} from '../../shared/domain/firmware/partition-table'
import { sha256, sha256Hex } from './app-image'
import { defaultFlashSize, flashSectorSize, type SpiFlash } from './flash'

/** "Factory app, two OTA definitions" (menuconfig's CONFIG_PARTITION_TABLE_TWO_OTA) on a 4 MB module. */
export const twoOtaPartitionTable: PartitionTable = (() => {
  const parsed = parsePartitionCsv(espIdfPartitionTables.two_ota, { flashSize: defaultFlashSize })
  if (!parsed.ok) throw new Error(`ESP-IDF's two_ota table does not parse: ${parsed.error}`)
  return parsed.value
})()

export type AppSlotName = 'factory' | `ota_${number}`

export interface FlashLayout {
  table: PartitionTable
  otadata: Partition
  factory: Partition | undefined
  /** ota_0, ota_1…, as esp_ota_get_app_partition_count counts them. */
  slots: Partition[]
}

/** The layout the bootloader reads from the partition table in flash. */
export function readFlashLayout(flash: SpiFlash): { ok: true; value: FlashLayout } | { ok: false; error: string } {
  const decoded = decodePartitionTable(flash.read(defaultPartitionTableOffset, partitionTableMaxLength), { flashSize: flash.size })
  if (!decoded.ok) return { ok: false, error: `partition table: ${decoded.error}` }
  try {
    return { ok: true, value: layoutOf(decoded.value) }
  } catch (error) {
    return { ok: false, error: (error as Error).message }
  }
}

export function layoutOf(table: PartitionTable): FlashLayout {
  const otadata = findPartition(table, { type: 'data', subtype: 'ota' })
  if (!otadata) throw new Error('the partition table has no otadata partition, so it cannot do OTA')
  return { table, otadata, factory: findPartition(table, { type: 'app', subtype: 'factory' }), slots: otaAppPartitions(table) }
}

export interface BenchFlashOptions {
  /** The image `idf.py flash` puts in the factory partition. */
  image: Uint8Array
  /** Where the node runs at its first power-on: 'factory' (otadata erased, as the bench leaves it) or an OTA slot already confirmed. */
  initialSlot?: AppSlotName
  table?: PartitionTable
}

/**
 * The flash as a bench flasher leaves it, plus (for a node already in the field) one earlier update
 * confirmed in `initialSlot`: partition table at 0x8000, the image in factory (and in the slot), otadata.
 */
export function flashAsShipped(flash: SpiFlash, options: BenchFlashOptions): void {
  const table = options.table ?? twoOtaPartitionTable
  const layout = layoutOf(table)
  const encoded = encodePartitionTable(table, { flashSize: flash.size })
  if (!encoded.ok) throw new Error(encoded.error)
  flash.erase(defaultPartitionTableOffset, flashSectorSize)
  flash.program(defaultPartitionTableOffset, encoded.value)
  const write = (partition: Partition) => {
    if (options.image.length > partition.size) throw new RangeError(`the image (${options.image.length} bytes) does not fit ${partition.name}`)
    flash.erase(partition.offset, Math.ceil(options.image.length / flashSectorSize) * flashSectorSize)
    flash.program(partition.offset, options.image)
  }
  if (layout.factory) write(layout.factory)
  flash.erase(layout.otadata.offset, otadataSize)
  const slot = options.initialSlot ?? 'factory'
  if (slot === 'factory') return
  const partition = layout.slots.find((p) => p.name === slot)
  if (!partition) throw new RangeError(`the partition table has no ${slot}`)
  write(partition)
  const selected = selectOtaSlot(undefined, otaSlotOf(partition)!, { otaSlotCount: layout.slots.length, state: 'VALID' })
  if (!selected.ok) throw new Error(selected.error)
  writeOtadata(flash, layout, selected.value)
}

export function readOtadata(flash: SpiFlash, layout: FlashLayout): Uint8Array {
  return flash.read(layout.otadata.offset, otadataSize)
}

/**
 * Writes a new otadata image the way ESP-IDF writes it (write_otadata, rewrite_ota_seq): each copy that
 * changed gets its sector erased and its 32-byte entry programmed; a copy that did not change is not
 * touched. The shared encoders only ever change one copy at a time.
 */
export function writeOtadata(flash: SpiFlash, layout: FlashLayout, next: Uint8Array): void {
  const current = readOtadata(flash, layout)
  for (const copy of [0, 1] as const) {
    const at = copy * otadataSectorSize
    const entry = next.subarray(at, at + otaSelectEntrySize)
    if (sameBytes(current.subarray(at, at + otadataSectorSize), next.subarray(at, at + otadataSectorSize))) continue
    flash.erase(layout.otadata.offset + at, otadataSectorSize)
    if (!entry.every((byte) => byte === 0xff)) flash.program(layout.otadata.offset + at, entry)
  }
}

export interface LoadedApp {
  partition: Partition
  image: AppImage
  /** SHA-256 of the image bytes (header to appended digest): the file's SHA-256 when nothing follows the image. */
  sha256: string
}

export type BootResult =
  | {
      ok: true
      layout: FlashLayout
      /** The app that runs. */
      app: LoadedApp
      /** otadata after the bootloader's own writes. */
      otadata: Otadata
      /** State of the otadata copy that selected the running slot; null when otadata did not select it (factory, or a fallback). */
      otaState: OtaImageState | null
      /** otadata copies this boot marked ABORTED: images that were started and never confirmed. */
      aborted: (0 | 1)[]
      /** Apps the bootloader tried before the one that runs, and why each did not load. */
      refused: { partition: string; reason: string }[]
    }
  | { ok: false; error: string }

export interface BootloaderOptions {
  chip: EspChipName
}

/** One pass of the second-stage bootloader. A cut flash write throws PowerLossError out of it. */
export function runBootloader(flash: SpiFlash, options: BootloaderOptions): BootResult {
  const read = readFlashLayout(flash)
  if (!read.ok) return read
  const layout = read.value
  const slotCount = layout.slots.length
  let otadata = readOtadata(flash, layout)

  const first = decodeOtadata(otadata, { otaSlotCount: slotCount, appRollbackEnabled: true })
  if (!first.ok) return { ok: false, error: `otadata: ${first.error}` }
  for (const copy of first.value.abortedAtBoot) {
    const entry = first.value.entries[copy]
    const next = otadata.slice()
    next.fill(0xff, copy * otadataSectorSize, (copy + 1) * otadataSectorSize)
    next.set(encodeOtaSelectEntry({ otaSeq: entry.otaSeq, seqLabel: entry.seqLabel, otaState: otaImageStates.ABORTED }), copy * otadataSectorSize)
    writeOtadata(flash, layout, next)
    otadata = next
  }

  let chosen = bootPartition(layout.table, otadata, { appRollbackEnabled: true })
  if (!chosen.ok) return { ok: false, error: chosen.error }
  if (chosen.value.otadata.bootState === 'NEW') {
    const next = markActiveOtaState(otadata, 'PENDING_VERIFY')
    if (!next.ok) return { ok: false, error: next.error }
    writeOtadata(flash, layout, next.value)
    otadata = next.value
    chosen = bootPartition(layout.table, otadata, { appRollbackEnabled: false })
    if (!chosen.ok) return { ok: false, error: chosen.error }
  }
  const selected = chosen.value.partition
  const selectedByOtadata = chosen.value.otadata.bootSlot !== null

  const refused: { partition: string; reason: string }[] = []
  for (const partition of loadOrder(layout, selected)) {
    const loaded = loadApp(flash, partition, options.chip)
    if (!loaded.ok) {
      refused.push({ partition: partition.name, reason: loaded.error })
      continue
    }
    const final = decodeOtadata(otadata, { otaSlotCount: slotCount })
    if (!final.ok) return { ok: false, error: final.error }
    const otaState = selectedByOtadata && partition === selected ? final.value.bootState : null
    return { ok: true, layout, app: loaded.value, otadata: final.value, otaState, aborted: [...first.value.abortedAtBoot], refused }
  }
  return { ok: false, error: `no bootable app: ${refused.map((r) => `${r.partition} (${r.reason})`).join('; ')}` }
}

/** Reads and checks the app in a partition as esp_image_load would before jumping to it. */
export function loadApp(flash: SpiFlash, partition: Partition, chip: EspChipName): { ok: true; value: LoadedApp } | { ok: false; error: string } {
  // Read as much as the image needs, not the whole 1 MB slot: a window that grows while the reader says
  // the image runs past it, so a fleet rebooting at once does not churn a megabyte per node.
  let length = Math.min(partition.size, 128 * 1024)
  let bytes = flash.read(partition.offset, length)
  let parsed = parseAppImage(bytes, { sha256 })
  while (!parsed.ok && parsed.error.kind.startsWith('truncated-') && length < partition.size) {
    length = Math.min(partition.size, length * 4)
    bytes = flash.read(partition.offset, length)
    parsed = parseAppImage(bytes, { sha256 })
  }
  if (!parsed.ok) return { ok: false, error: parsed.error.message }
  if (parsed.image.kind !== 'application') return { ok: false, error: 'not an application image (no esp_app_desc_t)' }
  const fits = checkImageForChip(parsed.image, chip)
  if (!fits.ok) return { ok: false, error: fits.error.message }
  return { ok: true, value: { partition, image: parsed.image, sha256: sha256Hex(bytes.subarray(0, parsed.image.imageLength)) } }
}

/** bootloader_utility_load_boot_image: the selected app, then down to the factory app, then the OTA slots above. */
function loadOrder(layout: FlashLayout, selected: Partition): Partition[] {
  const start = otaSlotOf(selected)
  if (start === null) return [selected, ...layout.slots.filter((p) => p !== selected)]
  const down = layout.slots.slice(0, start + 1).reverse()
  const up = layout.slots.slice(start + 1)
  return [...down, ...(layout.factory ? [layout.factory] : []), ...up]
}

/** The OTA slot an otadata copy points at, or null when the copy is blank. */
export function slotOfEntry(otadata: Otadata, copy: 0 | 1, slotCount: number): number | null {
  const entry = otadata.entries[copy]
  if (entry.erased || entry.otaSeq === 0xffff_ffff || slotCount === 0) return null
  return ((entry.otaSeq - 1) >>> 0) % slotCount
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
