import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ArtifactView } from '../../../shared/contract'
import { sha256 } from '../bench/firmware-store'
import { ContractFailure } from '../failure'
import type { OpenStore } from '../store/store'
import { importArtifact, verifyArtifact, type ArtifactManifest } from './artifact'
import { openFileReleaseKey, type ReleaseKey } from './release-key'

interface ArtifactRow {
  sha256: string
  file_name: string
  imported_at: number
  operator: string
  manifest: string
}

/**
 * Firmware images kept for updates, each with a manifest signed by the site's release key. An image is
 * verified when it is imported and again whenever it is read to be served: a file changed on disk is
 * refused, never sent to a device.
 */
export class ArtifactStore {
  private readonly dir: string
  private key: ReleaseKey | null = null

  constructor(
    private readonly store: OpenStore,
    private readonly dataDir: string,
    private readonly now: () => number,
  ) {
    this.dir = join(dataDir, 'artifacts')
  }

  import(fileName: string, bytes: Uint8Array, operator: string, minimumVersion?: string): ArtifactView {
    const imported = importArtifact(bytes, { sha256, now: this.now, releaseKey: this.releaseKey(), ...(minimumVersion ? { minimumVersion } : {}) })
    if (!imported.ok) throw new ContractFailure('INVALID_PARAMS', `${fileName}: ${imported.error.message}`)
    const manifest = imported.manifest
    keepFile(this.dir, `${manifest.sha256}.bin`, bytes, fileName)
    const importedAt = this.now()
    this.store.writer.now(() =>
      this.store.db
        .prepare('INSERT INTO ota_artifacts (sha256, file_name, imported_at, operator, manifest) VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO UPDATE SET file_name = excluded.file_name')
        .run(manifest.sha256, fileName, importedAt, operator, JSON.stringify(manifest)),
    )
    return view({ sha256: manifest.sha256, file_name: fileName, imported_at: importedAt, operator, manifest: JSON.stringify(manifest) })
  }

  list(): ArtifactView[] {
    return (this.store.db.prepare('SELECT * FROM ota_artifacts ORDER BY imported_at DESC').all() as ArtifactRow[]).map(view)
  }

  /** The image and its manifest, verified again against the release key: what a delivery may serve. */
  readVerified(digest: string): { bytes: Uint8Array; manifest: ArtifactManifest; file: string } {
    const row = this.store.db.prepare('SELECT * FROM ota_artifacts WHERE sha256 = ?').get(digest) as ArtifactRow | undefined
    if (!row) throw new ContractFailure('NOT_FOUND', `No artifact ${digest.slice(0, 12)}…; import the image first.`)
    const manifest = JSON.parse(row.manifest) as ArtifactManifest
    const file = join(this.dir, `${digest}.bin`)
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(readFileSync(file))
    } catch {
      throw new ContractFailure('NOT_FOUND', `${row.file_name} is missing from the data folder; import it again.`)
    }
    const checked = verifyArtifact(bytes, manifest, this.releaseKey().publicKeyPem)
    if (!checked.ok) throw new ContractFailure('CONFLICT', `${row.file_name} failed verification and will not be served: ${checked.error.message}`)
    return { bytes, manifest, file }
  }

  /** Created on first use: a console that never updates firmware never makes a key. */
  private releaseKey(): ReleaseKey {
    this.key ??= openFileReleaseKey(this.dataDir)
    return this.key
  }
}

/** Errors that mean the data folder cannot take the file, not that the console is broken. */
const noRoom: Record<string, string> = {
  ENOSPC: 'the disk holding the data folder is full',
  EDQUOT: "the data folder's disk quota is used up",
  EROFS: 'the data folder is on a read-only disk',
}

/**
 * Written beside its final name and renamed, so a crash or a full disk never leaves half an image under
 * the name the manifest points at; what was written of a failed copy is removed.
 */
function keepFile(dir: string, name: string, bytes: Uint8Array, fileName: string): void {
  const file = join(dir, name)
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${file}.part`, bytes)
    renameSync(`${file}.part`, file)
  } catch (error) {
    rmSync(`${file}.part`, { force: true })
    const why = noRoom[(error as NodeJS.ErrnoException).code ?? '']
    if (why) throw new ContractFailure('UNAVAILABLE', `${fileName} was not imported: ${why} (${dir}). Free some space and import it again; nothing was kept.`)
    throw error
  }
}

function view(row: ArtifactRow): ArtifactView {
  const manifest = JSON.parse(row.manifest) as ArtifactManifest
  return {
    sha256: row.sha256,
    fileName: row.file_name,
    version: manifest.version,
    project: manifest.project,
    chip: manifest.chip,
    idf: manifest.idf,
    size: manifest.size,
    importedAt: row.imported_at,
    operator: row.operator,
    keyId: manifest.keyId,
    signedAt: manifest.signedAt,
    secureBootBlocks: manifest.secureBoot.blocks.map((block) => ({ scheme: block.scheme, publicKeyDigest: block.publicKeyDigest })),
  }
}
