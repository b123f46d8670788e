import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import type { SiteVersion } from '../../shared/contract'

const kml = join(import.meta.dirname, '../../../shared/fixtures/kml/togeojson-v7')
const operator = { actor: 'ada', via: 'local' } as const
let dir: string
let core: Core

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'site-service-'))
  core = createCore({ dataDir: dir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
})

afterEach(async () => {
  await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const data = (file: string) => readFileSync(join(kml, file)).toString('base64')

describe('site import through the contract', () => {
  it('keeps each import as a version, with its report, across a restart, and audits it', async () => {
    expect(await core.dispatch('site.current', {}, operator)).toEqual({ ok: true, value: null })
    const first = await core.dispatch('site.import', { fileName: 'addresses.kml', data: data('addresses.kml') }, operator)
    expect(first.ok).toBe(true)
    const version = (first as { value: SiteVersion }).value
    expect(version.version).toBe(1)
    expect(version.report.skipped.length).toBeGreaterThan(0)
    expect(version.report.skipped[0]!.reason).toMatch(/no coordinates/)
    expect(version.collection.features.length).toBe(version.report.imported.length)

    await core.dispose()
    core = createCore({ dataDir: dir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
    expect(await core.dispatch('site.current', {}, operator)).toMatchObject({ ok: true, value: { version: 1, fileName: 'addresses.kml', operator: 'ada' } })
    expect(await core.dispatch('audit.list', { limit: 1 }, operator)).toMatchObject({ ok: true, value: [{ action: 'import site', target: 'addresses.kml', outcome: 'ok' }] })
  })

  it('refuses a hostile or unreadable file with the reason, and the current version stays as it was', async () => {
    await core.dispatch('site.import', { fileName: 'addresses.kml', data: data('addresses.kml') }, operator)
    const laughs = Buffer.from('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><kml>&lol2;</kml>').toString('base64')
    expect(await core.dispatch('site.import', { fileName: 'laughs.kml', data: laughs }, operator)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', message: expect.stringMatching(/DOCTYPE|entit/i) } })
    expect(await core.dispatch('site.import', { fileName: 'bad.kml', data: data('bad.kml') }, operator)).toMatchObject({ ok: false, error: { message: expect.stringContaining('Nothing in bad.kml could be used') } })
    expect(await core.dispatch('site.import', { fileName: 'broken.kml', data: Buffer.from('<kml><Placemark>').toString('base64') }, operator)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    expect(await core.dispatch('site.current', {}, operator)).toMatchObject({ ok: true, value: { version: 1, fileName: 'addresses.kml' } })
  })
})
