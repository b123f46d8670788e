import { regionRoles, type FirmwareFile, type ParamsIn, type Recipe } from '../../../../shared/contract'
import { serialFromPattern } from '../../../../shared/domain/bench/recipe'
import { chipByName } from '../../../../shared/domain/rom-bootloader/chips'
import { formatOffset } from './bench-model'

// The recipe being built or edited on the Bench screen: pure functions from one draft to the next, so
// the form stays a plain view and the rules (default offsets, what a file reads as) are tested alone.

export type RegionRole = (typeof regionRoles)[number]

export interface DraftRegion {
  /** Stable across edits, for React keys and focus. */
  key: number
  role: RegionRole
  /** As typed: "0x10000" or "65536". */
  offsetText: string
  /** '' until a file is chosen. */
  sha256: string
  /** Set once the engineer picks the role: a chosen file no longer changes it. */
  roleChosen: boolean
  /** Set once the engineer types an offset: role and chip no longer change it. */
  offsetEdited: boolean
}

export interface RecipeDraft {
  name: string
  regions: DraftRegion[]
  serialPattern: string
  baud: number
  nextKey: number
}

export const baudRates = [115200, 230400, 460800, 921600, 1500000, 2000000] as const
export const defaultBaud = 921600
export const defaultSerialPattern = 'NODE-{seq:4}'

export const roleLabels: Record<RegionRole, string> = {
  bootloader: 'Bootloader',
  'partition-table': 'Partition table',
  otadata: 'OTA data (otadata)',
  app: 'Application',
  nvs: 'NVS',
  data: 'Other data',
}

/** Where ESP-IDF's default layouts put each part; `data` has no usual place. */
const usualOffsets: Record<Exclude<RegionRole, 'bootloader' | 'data'>, number> = {
  'partition-table': 0x8000,
  nvs: 0x9000,
  otadata: 0xd000,
  app: 0x10000,
}

export const bootloaderHint = 'The bootloader goes at 0x1000 on ESP32 and ESP32-S2, at 0x0 on ESP32-S3, -C2, -C3, -C6 and -H2.'

/** The usual offset of a role; the bootloader's depends on the chip (0x1000 on ESP32 and ESP32-S2). */
export function defaultOffset(role: RegionRole, chip: string | null): number | null {
  if (role === 'bootloader') return (chip ? chipByName(chip)?.bootloaderOffset : undefined) ?? 0x0
  if (role === 'data') return null
  return usualOffsets[role]
}

/** The chip the draft's files are for: the first one that says. */
export function chipOfDraft(draft: RecipeDraft, firmware: readonly FirmwareFile[]): string | null {
  for (const region of draft.regions) {
    const file = firmware.find((item) => item.sha256 === region.sha256)
    const chip = file?.chip ?? null
    if (chip) return chip
  }
  return null
}

export type OffsetParse = { ok: true; value: number } | { ok: false; error: string }

/** "0x10000", "0X1_0000" is not accepted; "65536" is. */
export function parseOffset(text: string): OffsetParse {
  const trimmed = text.trim()
  if (trimmed === '') return { ok: false, error: 'Give the offset, in hex (0x10000) or decimal (65536).' }
  let value: number
  if (/^0x[0-9a-f]+$/i.test(trimmed)) value = parseInt(trimmed.slice(2), 16)
  else if (/^\d+$/.test(trimmed)) value = Number(trimmed)
  else return { ok: false, error: `"${trimmed}" is not an offset: write it in hex (0x10000) or decimal (65536).` }
  if (!Number.isSafeInteger(value) || value > 0x10000000) return { ok: false, error: `${trimmed} is past the end of any ESP32 flash (256 MB at most).` }
  return { ok: true, value }
}

/** Said beside an offset that parses but will be refused: flash is erased in 4 KB sectors. */
export function offsetWarning(text: string): string | null {
  const parsed = parseOffset(text)
  if (!parsed.ok) return parsed.error
  if (parsed.value % 0x1000 !== 0) return `${formatOffset(parsed.value)} is not on a 4 KB flash sector (a multiple of 0x1000).`
  return null
}

export function newDraft(): RecipeDraft {
  return {
    name: '',
    regions: [{ key: 1, role: 'app', offsetText: formatOffset(usualOffsets.app), sha256: '', roleChosen: false, offsetEdited: false }],
    serialPattern: defaultSerialPattern,
    baud: defaultBaud,
    nextKey: 2,
  }
}

export function draftFromRecipe(recipe: Recipe): RecipeDraft {
  return {
    name: recipe.name,
    regions: recipe.regions.map((region, index) => ({
      key: index + 1,
      role: region.role,
      offsetText: formatOffset(region.offset),
      sha256: region.sha256,
      roleChosen: true,
      offsetEdited: true,
    })),
    serialPattern: recipe.serialPattern,
    baud: recipe.baud,
    nextKey: recipe.regions.length + 1,
  }
}

/** A new row takes the first part of a usual ESP-IDF layout the recipe lacks, at its usual place. */
export function addRegion(draft: RecipeDraft, firmware: readonly FirmwareFile[]): RecipeDraft {
  const present = new Set(draft.regions.map((region) => region.role))
  const role = (['bootloader', 'partition-table', 'app', 'otadata'] as const).find((candidate) => !present.has(candidate)) ?? 'data'
  const offset = defaultOffset(role, chipOfDraft(draft, firmware))
  const region: DraftRegion = { key: draft.nextKey, role, offsetText: offset === null ? '' : formatOffset(offset), sha256: '', roleChosen: false, offsetEdited: false }
  return { ...draft, regions: [...draft.regions, region], nextKey: draft.nextKey + 1 }
}

export function removeRegion(draft: RecipeDraft, key: number): RecipeDraft {
  return { ...draft, regions: draft.regions.filter((region) => region.key !== key) }
}

export function setRegionRole(draft: RecipeDraft, key: number, role: RegionRole, firmware: readonly FirmwareFile[]): RecipeDraft {
  return withDefaults(updateRegion(draft, key, (region) => ({ ...region, role, roleChosen: true })), firmware)
}

export function setRegionOffset(draft: RecipeDraft, key: number, offsetText: string): RecipeDraft {
  // Clearing the field hands it back to the defaults.
  return updateRegion(draft, key, (region) => ({ ...region, offsetText, offsetEdited: offsetText.trim() !== '' }))
}

/** Choosing a file also names its role, unless the engineer chose one: a partition table goes to 0x8000. */
export function setRegionFile(draft: RecipeDraft, key: number, sha256: string, firmware: readonly FirmwareFile[]): RecipeDraft {
  const file = firmware.find((item) => item.sha256 === sha256)
  const guessed = file && file.kind !== 'damaged' ? file.kind : null
  return withDefaults(
    updateRegion(draft, key, (region) => ({ ...region, sha256, role: !region.roleChosen && guessed ? guessed : region.role })),
    firmware,
  )
}

/** Offsets nobody typed follow their role and the chip the files are for. */
export function withDefaults(draft: RecipeDraft, firmware: readonly FirmwareFile[]): RecipeDraft {
  const chip = chipOfDraft(draft, firmware)
  let changed = false
  const regions = draft.regions.map((region) => {
    if (region.offsetEdited) return region
    const offset = defaultOffset(region.role, chip)
    if (offset === null) return region
    const offsetText = formatOffset(offset)
    if (offsetText === region.offsetText) return region
    changed = true
    return { ...region, offsetText }
  })
  return changed ? { ...draft, regions } : draft
}

function updateRegion(draft: RecipeDraft, key: number, change: (region: DraftRegion) => DraftRegion): RecipeDraft {
  return { ...draft, regions: draft.regions.map((region) => (region.key === key ? change(region) : region)) }
}

export type SaveParams = ParamsIn<'bench.saveRecipe'>

/** The draft as `bench.saveRecipe` takes it, or what to fix first; the core checks the rest. */
export function draftToParams(draft: RecipeDraft): { ok: true; params: SaveParams } | { ok: false; problems: string[] } {
  const problems: string[] = []
  const name = draft.name.trim()
  if (!name) problems.push('Give the recipe a name.')
  if (draft.regions.length === 0) problems.push('Add at least one file to flash.')
  const regions: SaveParams['regions'] = []
  draft.regions.forEach((region, index) => {
    const label = `File ${index + 1} (${roleLabels[region.role].toLowerCase()})`
    const offset = parseOffset(region.offsetText)
    if (!offset.ok) problems.push(`${label}: ${offset.error}`)
    if (!region.sha256) problems.push(`${label}: choose which kept file goes there.`)
    if (offset.ok && region.sha256) regions.push({ role: region.role, offset: offset.value, sha256: region.sha256 })
  })
  const serial = serialFromPattern(draft.serialPattern.trim(), 1)
  if (!serial.ok) problems.push(serial.error)
  if (problems.length > 0) return { ok: false, problems }
  return { ok: true, params: { name, regions, serialPattern: draft.serialPattern.trim(), baud: draft.baud } }
}

/** Whether the draft says what the saved recipe says (Flash writes the saved one). */
export function draftMatches(draft: RecipeDraft, recipe: Recipe | undefined): boolean {
  if (!recipe) return false
  if (draft.name.trim() !== recipe.name || draft.serialPattern.trim() !== recipe.serialPattern || draft.baud !== recipe.baud) return false
  if (draft.regions.length !== recipe.regions.length) return false
  return draft.regions.every((region, index) => {
    const saved = recipe.regions[index]!
    const offset = parseOffset(region.offsetText)
    return region.role === saved.role && region.sha256 === saved.sha256 && offset.ok && offset.value === saved.offset
  })
}

/** The identities of the first two boards, as the core will make them. */
export function serialPreview(pattern: string, firstSeq: number): { ok: true; serials: string[] } | { ok: false; error: string } {
  const serials: string[] = []
  for (const seq of [firstSeq, firstSeq + 1]) {
    const made = serialFromPattern(pattern.trim(), seq)
    if (!made.ok) return made
    serials.push(made.serial)
  }
  return { ok: true, serials }
}

/** One identity per port, in the order Flash sends them; null where the pattern cannot make one. */
export function identitiesFor(ports: readonly string[], pattern: string, firstSeq: number): { port: string; serial: string | null }[] {
  return ports.map((port, index) => {
    const made = serialFromPattern(pattern.trim(), firstSeq + index)
    return { port, serial: made.ok ? made.serial : null }
  })
}
