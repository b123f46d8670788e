import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FirmwareFile, Recipe } from '../../../shared/contract'
import { checkRecipe, serialFromPattern, type LoadedRegion } from '../../../shared/domain/bench/recipe'
import { parseAppImage } from '../../../shared/domain/firmware/app-image'
import { decodeNvsPartition } from '../../../shared/domain/firmware/nvs'
import { decodeOtadata } from '../../../shared/domain/firmware/otadata'
import { decodePartitionTable } from '../../../shared/domain/firmware/partition-table'
import { ContractFailure } from '../failure'
import type { OpenStore } from '../store/store'

export const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest())

interface RecipeRow {
  name: string
  regions: string
  serial_pattern: string
  baud: number
  updated_at: number
}

/**
 * Firmware files kept by content in the data folder, and the recipes that place them. Every file is
 * read before it is kept, so the list says what each one is, and a recipe is checked when saved.
 */
export class FirmwareStore {
  private readonly dir: string

  constructor(
    private readonly store: OpenStore,
    dataDir: string,
    private readonly now: () => number,
  ) {
    this.dir = join(dataDir, 'firmware')
  }

  import(fileName: string, bytes: Uint8Array): FirmwareFile {
    if (bytes.length === 0) throw new ContractFailure('INVALID_PARAMS', `${fileName} is empty.`)
    const digest = Buffer.from(sha256(bytes)).toString('hex')
    const { summary, kind, chip } = summarise(bytes)
    mkdirSync(this.dir, { recursive: true })
    // Written aside and renamed, so a crash never leaves half a file under a name that claims its hash.
    const file = join(this.dir, `${digest}.bin`)
    writeFileSync(`${file}.part`, bytes)
    renameSync(`${file}.part`, file)
    const row: FirmwareFile = { sha256: digest, fileName, size: bytes.length, importedAt: this.now(), summary, kind, chip }
    this.store.writer.now(() =>
      this.store.db
        .prepare('INSERT INTO firmware_files (sha256, file_name, size, imported_at, summary, kind, chip) VALUES (@sha256, @fileName, @size, @importedAt, @summary, @kind, @chip) ON CONFLICT (sha256) DO UPDATE SET file_name = excluded.file_name, imported_at = excluded.imported_at')
        .run(row),
    )
    return row
  }

  list(): FirmwareFile[] {
    return this.store.db.prepare('SELECT sha256, file_name AS fileName, size, imported_at AS importedAt, summary, kind, chip FROM firmware_files ORDER BY imported_at DESC').all() as FirmwareFile[]
  }

  read(digest: string): { fileName: string; bytes: Uint8Array } {
    const row = this.store.db.prepare('SELECT file_name AS fileName FROM firmware_files WHERE sha256 = ?').get(digest) as { fileName: string } | undefined
    if (!row) throw new ContractFailure('NOT_FOUND', `No firmware file ${digest.slice(0, 12)}… is kept; import it again.`)
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(readFileSync(join(this.dir, `${digest}.bin`)))
    } catch {
      throw new ContractFailure('NOT_FOUND', `${row.fileName} is missing from the data folder; import it again.`)
    }
    // A file changed on disk is not the file the recipe was checked with.
    if (Buffer.from(sha256(bytes)).toString('hex') !== digest) throw new ContractFailure('CONFLICT', `${row.fileName} changed on disk since it was imported; import it again.`)
    return { fileName: row.fileName, bytes }
  }

  saveRecipe(recipe: Omit<Recipe, 'updatedAt' | 'regions'> & { regions: Omit<Recipe['regions'][number], 'fileName'>[] }): Recipe {
    const loaded = this.load({ ...recipe, regions: recipe.regions.map((region) => ({ ...region, fileName: '' })) })
    const checked = checkRecipe(loaded, sha256)
    if (!checked.ok) throw new ContractFailure('INVALID_PARAMS', checked.problems.join(' '))
    const serial = serialFromPattern(recipe.serialPattern, 1)
    if (!serial.ok) throw new ContractFailure('INVALID_PARAMS', serial.error)
    const saved: Recipe = { ...recipe, regions: loaded.map(({ role, offset, fileName }, i) => ({ role, offset, fileName, sha256: recipe.regions[i]!.sha256 })), updatedAt: this.now() }
    this.store.writer.now(() =>
      this.store.db
        .prepare('INSERT INTO recipes (name, regions, serial_pattern, baud, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET regions = excluded.regions, serial_pattern = excluded.serial_pattern, baud = excluded.baud, updated_at = excluded.updated_at')
        .run(saved.name, JSON.stringify(saved.regions), saved.serialPattern, saved.baud, saved.updatedAt),
    )
    return saved
  }

  deleteRecipe(name: string): boolean {
    return this.store.writer.now(() => this.store.db.prepare('DELETE FROM recipes WHERE name = ?').run(name).changes > 0)
  }

  recipes(): Recipe[] {
    return (this.store.db.prepare('SELECT * FROM recipes ORDER BY name').all() as RecipeRow[]).map(fromRow)
  }

  recipe(name: string): Recipe {
    const row = this.store.db.prepare('SELECT * FROM recipes WHERE name = ?').get(name) as RecipeRow | undefined
    if (!row) throw new ContractFailure('NOT_FOUND', `No recipe "${name}". Save it on the Bench screen first.`)
    return fromRow(row)
  }

  /** The recipe's files, read and checked against their hashes. */
  load(recipe: Pick<Recipe, 'regions'>): LoadedRegion[] {
    return recipe.regions.map((region) => {
      const { fileName, bytes } = this.read(region.sha256)
      return { role: region.role, offset: region.offset, fileName, bytes }
    })
  }
}

function fromRow(row: RecipeRow): Recipe {
  return { name: row.name, regions: JSON.parse(row.regions) as Recipe['regions'], serialPattern: row.serial_pattern, baud: row.baud, updatedAt: row.updated_at }
}

/** What a file is, in one line for the list and as a recipe role: the first reading that fits. */
export function summarise(bytes: Uint8Array): Pick<FirmwareFile, 'summary' | 'kind' | 'chip'> {
  const image = parseAppImage(bytes, { sha256 })
  if (image.ok) {
    const { chip = null, kind, appDescription: app } = image.image
    const chipName = chip ?? `chip id ${image.image.chipId}`
    if (kind === 'application' && app) return { summary: `${chipName} app ${app.projectName} ${app.version} (IDF ${app.idfVersion})`, kind: 'app', chip }
    if (kind === 'bootloader') return { summary: `${chipName} bootloader, ${image.image.segments.length} segments`, kind: 'bootloader', chip }
    return { summary: `${chipName} image, ${image.image.segments.length} segments`, kind: 'app', chip }
  }
  const table = decodePartitionTable(bytes)
  if (table.ok) return { summary: `partition table, ${table.value.partitions.length} partitions (${table.value.partitions.map((p) => p.name).join(', ')})`, kind: 'partition-table', chip: null }
  if (bytes.length === 0x2000) {
    const otadata = decodeOtadata(bytes, { otaSlotCount: 2 })
    if (otadata.ok) return { summary: otadata.value.bootSlot === null ? 'otadata, blank (boots the factory app)' : `otadata, boots ota_${otadata.value.bootSlot}`, kind: 'otadata', chip: null }
  }
  if (bytes.length % 4096 === 0 && bytes.length >= 0x3000) {
    const nvs = decodeNvsPartition(bytes)
    if (nvs.ok && nvs.value.items.length > 0) return { summary: `NVS, ${nvs.value.items.length} keys in ${nvs.value.namespaces.length} namespaces`, kind: 'nvs', chip: null }
  }
  if (image.error.kind !== 'bad-magic') return { summary: `damaged image: ${image.error.message}`, kind: 'damaged', chip: null }
  return { summary: `data, ${bytes.length} bytes`, kind: 'data', chip: null }
}
