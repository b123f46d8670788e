// The otadata partition (data, ota): how an ESP-IDF device decides which OTA slot boots. It holds two
// copies of esp_ota_select_entry_t, each alone in its own 4 KiB sector so that a power cut while one is
// rewritten leaves the other intact. The copy with the highest valid sequence number wins, and its
// sequence number picks the slot: ota_((seq - 1) mod number of OTA slots). Decoding follows the bootloader
// (bootloader_common_get_active_otadata); encoding follows esp_ota_set_boot_partition, so the console and
// the simulator write exactly what a device would have written.
//
// Entry layout, little endian:  0 ota_seq u32 | 4 seq_label[20] | 24 ota_state u32 | 28 crc u32

import { crc32Le } from './checksums'
import { findPartition, otaAppPartitions, otaAppSlotsMax, type Partition, type PartitionTable } from './partition-table'

export type OtadataOutcome<T> = { ok: true; value: T } | { ok: false; error: string }

export const otadataSize = 0x2000
export const otadataSectorSize = 0x1000
export const otaSelectEntrySize = 32
export const otaSeqLabelLength = 20
/** An erased sequence number: the entry has never been written. */
const erasedSeq = 0xffff_ffff

/** esp_ota_img_states_t. UNDEFINED is also what erased flash reads as. */
export const otaImageStates = {
  NEW: 0x0,
  PENDING_VERIFY: 0x1,
  VALID: 0x2,
  INVALID: 0x3,
  ABORTED: 0x4,
  UNDEFINED: 0xffff_ffff,
} as const
export type OtaImageState = keyof typeof otaImageStates

export interface OtaSelectEntry {
  otaSeq: number
  /** Unused by current ESP-IDF; kept so a rewrite preserves it as the device does. */
  seqLabel: Uint8Array
  /** The raw state word. */
  otaState: number
  /** Its name, or null when the word is none of esp_ota_img_states_t. */
  state: OtaImageState | null
  crc: number
  /** The CRC matches ota_seq (esp_rom_crc32_le with seed 0xFFFFFFFF over its 4 bytes). */
  crcValid: boolean
  /** All 32 bytes read 0xFF: never written since the sector was erased. */
  erased: boolean
  /**
   * The bootloader may pick this copy (bootloader_common_ota_select_valid): the sequence number is set,
   * the state is neither INVALID nor ABORTED, and the CRC is right.
   */
  selectable: boolean
}

export interface Otadata {
  entries: readonly [OtaSelectEntry, OtaSelectEntry]
  /** The copy the bootloader follows (the selectable one with the higher sequence number), or null when neither is. */
  activeEntry: 0 | 1 | null
  /**
   * The OTA slot that boots (N of ota_N), or null when no copy is selectable or there are no OTA slots:
   * then the bootloader falls back to the factory app, or to ota_0 when there is no factory app.
   */
  bootSlot: number | null
  /** The state of the active copy as the bootloader will act on it, or null when there is none. */
  bootState: OtaImageState | null
  /**
   * Copies the bootloader marks ABORTED before choosing, when app rollback is enabled: an image still
   * PENDING_VERIFY at boot never confirmed itself, so the device rolls back to the other copy.
   */
  abortedAtBoot: (0 | 1)[]
}

export interface OtadataOptions {
  /** How many OTA app slots the partition table has, counted from ota_0 (see otaAppPartitions). */
  otaSlotCount: number
  /** CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE on the device. */
  appRollbackEnabled?: boolean
}

/** The CRC an entry must carry for `otaSeq`: esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4). */
export function otaSelectCrc(otaSeq: number): number {
  return crc32Le(0xffff_ffff, uint32Le(otaSeq))
}

/** An erased otadata partition: both sectors 0xFF, which boots the factory app. */
export function blankOtadata(): Uint8Array {
  return new Uint8Array(otadataSize).fill(0xff)
}

/** Reads both copies and works out which slot the bootloader will start. */
export function decodeOtadata(bytes: Uint8Array, options: OtadataOptions): OtadataOutcome<Otadata> {
  const problem = bytesProblem(bytes) ?? slotCountProblem(options)
  if (problem) return fail(problem)
  const entries = [readEntry(bytes, 0), readEntry(bytes, otadataSectorSize)] as const

  const abortedAtBoot: (0 | 1)[] = []
  const asBootSees = (entry: OtaSelectEntry, index: 0 | 1): OtaSelectEntry => {
    if (!options.appRollbackEnabled || entry.state !== 'PENDING_VERIFY') return entry
    abortedAtBoot.push(index)
    return { ...entry, otaState: otaImageStates.ABORTED, state: 'ABORTED', selectable: false }
  }
  const effective = [asBootSees(entries[0], 0), asBootSees(entries[1], 1)] as const
  const activeEntry = activeCopy(effective[0], effective[1])
  const active = activeEntry === null ? undefined : effective[activeEntry]
  const bootSlot = active && options.otaSlotCount > 0 ? ((active.otaSeq - 1) >>> 0) % options.otaSlotCount : null
  return {
    ok: true,
    value: { entries, activeEntry, bootSlot, bootState: bootSlot === null ? null : (active?.state ?? null), abortedAtBoot },
  }
}

/**
 * The otadata after selecting `slot` as the boot slot, written the way esp_ota_set_boot_partition does in
 * current ESP-IDF: when the active copy already points at the slot only its state is rewritten; otherwise
 * the smallest sequence number that maps to the slot and is not below the active one goes into the other
 * copy (copy 0 when neither is active). The chosen sector is erased and rewritten, the other kept as is.
 * `state` defaults to UNDEFINED, which IDF writes when app rollback is disabled; with rollback enabled IDF
 * writes NEW, and the bootloader turns it into PENDING_VERIFY on the first boot.
 * (Selecting the factory app erases otadata: that is {@link blankOtadata}.)
 */
export function selectOtaSlot(
  current: Uint8Array | undefined,
  slot: number,
  options: OtadataOptions & { state?: OtaImageState },
): OtadataOutcome<Uint8Array> {
  const source = current ?? blankOtadata()
  const problem = bytesProblem(source) ?? slotCountProblem(options) ?? stateProblem(options.state)
  if (problem) return fail(problem)
  const count = options.otaSlotCount
  if (!Number.isInteger(slot) || slot < 0 || slot >= count) {
    return fail(`OTA slot ${String(slot)} does not exist: the partition table has ${count} OTA slot${count === 1 ? '' : 's'}${count > 0 ? ` (ota_0${count > 1 ? `…ota_${count - 1}` : ''})` : ''}.`)
  }

  const entries = [readEntry(source, 0), readEntry(source, otadataSectorSize)] as const
  const active = activeCopy(entries[0], entries[1])
  let target: 0 | 1
  let seq: number
  if (active === null) {
    target = 0
    seq = slot + 1
  } else if (((entries[active].otaSeq - 1) >>> 0) % count === slot) {
    target = active
    seq = entries[active].otaSeq
  } else {
    // compute_ota_seq_for_target_slot: base + i·count for the smallest i that reaches the active seq.
    const activeSeq = entries[active].otaSeq
    const base = (slot + 1) % count
    seq = activeSeq <= base ? base : base + Math.ceil((activeSeq - base) / count) * count
    target = active === 0 ? 1 : 0
  }
  if (seq >= erasedSeq) return fail('The OTA sequence number would reach 0xFFFFFFFF, which reads as erased; erase otadata and select the slot again.')

  const out = source.slice()
  out.fill(0xff, target * otadataSectorSize, (target + 1) * otadataSectorSize)
  out.set(
    encodeOtaSelectEntry({ otaSeq: seq, seqLabel: entries[target].seqLabel, otaState: otaImageStates[options.state ?? 'UNDEFINED'] }),
    target * otadataSectorSize,
  )
  return { ok: true, value: out }
}

/**
 * The otadata after the running app confirms or rejects itself: the active copy's state is rewritten in
 * place (esp_ota_mark_app_valid_cancel_rollback writes VALID, esp_ota_mark_app_invalid_rollback writes
 * INVALID). Refused when no copy is active, as on a device running its factory app.
 */
export function markActiveOtaState(current: Uint8Array, state: OtaImageState): OtadataOutcome<Uint8Array> {
  const problem = bytesProblem(current) ?? stateProblem(state)
  if (problem) return fail(problem)
  const entries = [readEntry(current, 0), readEntry(current, otadataSectorSize)] as const
  const active = activeCopy(entries[0], entries[1])
  if (active === null) return fail('No otadata copy is active (the device runs its factory app), so there is no OTA image to mark.')
  const out = current.slice()
  const entry = entries[active]
  out.fill(0xff, active * otadataSectorSize, (active + 1) * otadataSectorSize)
  out.set(encodeOtaSelectEntry({ otaSeq: entry.otaSeq, seqLabel: entry.seqLabel, otaState: otaImageStates[state] }), active * otadataSectorSize)
  return { ok: true, value: out }
}

/** One 32-byte esp_ota_select_entry_t with its CRC computed. */
export function encodeOtaSelectEntry(entry: { otaSeq: number; otaState: number; seqLabel?: Uint8Array }): Uint8Array {
  const out = new Uint8Array(otaSelectEntrySize).fill(0xff)
  out.set(uint32Le(entry.otaSeq), 0)
  if (entry.seqLabel) out.set(entry.seqLabel.subarray(0, otaSeqLabelLength), 4)
  out.set(uint32Le(entry.otaState), 24)
  out.set(uint32Le(otaSelectCrc(entry.otaSeq)), 28)
  return out
}

/**
 * The partition the bootloader will start, given the table and the otadata read from the device: the OTA
 * slot otadata selects, else the factory app, else ota_0, else the test app.
 */
export function bootPartition(
  table: PartitionTable,
  otadata: Uint8Array,
  options: { appRollbackEnabled?: boolean } = {},
): OtadataOutcome<{ partition: Partition; otadata: Otadata }> {
  const slots = otaAppPartitions(table)
  const decoded = decodeOtadata(otadata, { otaSlotCount: slots.length, appRollbackEnabled: options.appRollbackEnabled })
  if (!decoded.ok) return decoded
  const chosen =
    decoded.value.bootSlot !== null
      ? slots[decoded.value.bootSlot]
      : (findPartition(table, { type: 'app', subtype: 'factory' }) ?? slots[0] ?? findPartition(table, { type: 'app', subtype: 'test' }))
  if (!chosen) return fail('The partition table has no app partition to boot (no factory, OTA or test app).')
  return { ok: true, value: { partition: chosen, otadata: decoded.value } }
}

/** bootloader_common_get_active_otadata: the selectable copy with the higher sequence (copy 0 on a tie). */
function activeCopy(first: OtaSelectEntry, second: OtaSelectEntry): 0 | 1 | null {
  if (first.selectable && second.selectable) return Math.max(first.otaSeq, second.otaSeq) === first.otaSeq ? 0 : 1
  if (first.selectable) return 0
  if (second.selectable) return 1
  return null
}

function readEntry(bytes: Uint8Array, at: number): OtaSelectEntry {
  const raw = bytes.subarray(at, at + otaSelectEntrySize)
  const otaSeq = readUint32Le(raw, 0)
  const otaState = readUint32Le(raw, 24)
  const crc = readUint32Le(raw, 28)
  const crcValid = crc === otaSelectCrc(otaSeq)
  const state = (Object.keys(otaImageStates) as OtaImageState[]).find((name) => otaImageStates[name] === otaState) ?? null
  const rejected = otaSeq === erasedSeq || otaState === otaImageStates.INVALID || otaState === otaImageStates.ABORTED
  return {
    otaSeq,
    seqLabel: raw.slice(4, 4 + otaSeqLabelLength),
    otaState,
    state,
    crc,
    crcValid,
    erased: raw.every((b) => b === 0xff),
    selectable: !rejected && crcValid,
  }
}

function bytesProblem(bytes: unknown): string | null {
  if (!(bytes instanceof Uint8Array)) return 'otadata must be given as bytes.'
  if (bytes.length !== otadataSize) return `otadata is ${bytes.length} bytes; the partition is exactly 0x2000 (two 4 KiB sectors).`
  return null
}

function slotCountProblem(options: OtadataOptions | undefined): string | null {
  const count = options?.otaSlotCount
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > otaAppSlotsMax) {
    return `The number of OTA slots must be a whole number from 0 to ${otaAppSlotsMax}, not ${String(count)}.`
  }
  return null
}

function stateProblem(state: unknown): string | null {
  if (state === undefined || (typeof state === 'string' && Object.hasOwn(otaImageStates, state))) return null
  return `Unknown OTA image state ${String(state)}; use one of ${Object.keys(otaImageStates).join(', ')}.`
}

function uint32Le(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff)
}

function readUint32Le(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24)) >>> 0
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error }
}
