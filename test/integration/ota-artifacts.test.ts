import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import { ArtifactStore } from '../../electron/core/ota/artifact-store'
import { databaseFileName, openStore } from '../../electron/core/store/store'
import type { ArtifactView } from '../../shared/contract'

const images = join(import.meta.dirname, '../../../shared/fixtures/esptool/images')
const blink = readFileSync(join(images, 'esp_idf_blink_esp32s2.bin'))
const operator = { actor: 'ada', via: 'local' } as const
let dir: string
let core: Core

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-artifacts-'))
  core = createCore({ dataDir: dir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
})

afterEach(async () => {
  await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const importing = (fileName: string, bytes: Buffer, minimumVersion?: string) =>
  core.dispatch('ota.importArtifact', { fileName, data: bytes.toString('base64'), ...(minimumVersion ? { minimumVersion } : {}) }, operator)

describe('update images', () => {
  it('imports a real ESP-IDF app with a signed manifest, keeps the release key encrypted, and lists it', async () => {
    const outcome = await importing('blink.bin', blink)
    expect(outcome.ok).toBe(true)
    const artifact = (outcome as { value: ArtifactView }).value
    expect(artifact).toMatchObject({ fileName: 'blink.bin', chip: 'ESP32-S2', size: blink.length, operator: 'ada', secureBootBlocks: [] })
    expect(artifact.version).toBeTruthy()
    expect(await core.dispatch('ota.artifacts', {}, operator)).toMatchObject({ ok: true, value: [{ sha256: artifact.sha256 }] })
    // The private key is nowhere in the database or the answer; its file is not plain PEM.
    expect(readFileSync(join(dir, databaseFileName)).includes('PRIVATE KEY')).toBe(false)
    expect(JSON.stringify(outcome)).not.toMatch(/PRIVATE|BEGIN/)
    expect(existsSync(join(dir, 'release-key.enc'))).toBe(true)
    expect(readFileSync(join(dir, 'release-key.enc')).includes('PRIVATE KEY')).toBe(false)
  })

  it('refuses a bootloader, a damaged image and a downgrade, each with its reason', async () => {
    expect(await importing('bootloader.bin', readFileSync(join(images, 'bootloader_esp32.bin')))).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', message: expect.stringContaining('bootloader.bin') } })
    const damaged = Buffer.from(blink)
    damaged[5000] = damaged[5000]! ^ 0xff
    expect(await importing('damaged.bin', damaged)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/checksum|SHA-256/i) } })
    expect(await importing('old.bin', blink, '99.0.0')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/99\.0\.0/) } })
    expect(await core.dispatch('ota.artifacts', {}, operator)).toEqual({ ok: true, value: [] })
  })

  it('verifies an image again before serving it, and refuses one changed on disk', async () => {
    const artifact = ((await importing('blink.bin', blink)) as { value: ArtifactView }).value
    await core.dispose()
    const store = openStore({ dataDir: dir, log: silentLogger })
    try {
      const artifacts = new ArtifactStore(store.open!, dir, Date.now)
      expect(artifacts.readVerified(artifact.sha256).manifest.version).toBe(artifact.version)
      const file = join(dir, 'artifacts', `${artifact.sha256}.bin`)
      const changed = readFileSync(file)
      changed[100] = changed[100]! ^ 1
      writeFileSync(file, changed)
      expect(() => artifacts.readVerified(artifact.sha256)).toThrow(/failed verification and will not be served/)
    } finally {
      store.close()
      core = createCore({ dataDir: dir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
    }
  })

  it('refuses an import on a full disk with what to do, keeping nothing half-written', async (context) => {
    // A real full file system: a 64 KiB tmpfs where the images go (it needs root, as on CI).
    const artifactsDir = join(dir, 'artifacts')
    mkdirSync(artifactsDir)
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', artifactsDir], { stdio: 'ignore' })
    } catch {
      context.skip('mounting a small tmpfs needs root; the full-disk path is not exercised here')
    }
    try {
      const outcome = await importing('blink.bin', blink)
      expect(outcome).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', message: expect.stringMatching(/blink\.bin was not imported: the disk holding the data folder is full.*Free some space/) } })
      expect(readdirSync(artifactsDir)).toEqual([])
      expect(await core.dispatch('ota.artifacts', {}, operator)).toEqual({ ok: true, value: [] })
    } finally {
      execFileSync('umount', [artifactsDir])
    }
  })
})
