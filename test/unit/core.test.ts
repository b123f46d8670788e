import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultSettings, publicSettings, type AuditEntry, type EventName, type Settings, type StreamDiff, type ServiceState } from '../../shared/contract'
import { createCore, silentLogger, type CallContext, type Core } from '../../electron/core'
import { databaseFileName } from '../../electron/core/store/store'

let dir: string
const cores: Core[] = []
const ada: CallContext = { actor: 'ada', via: 'session' }

function start(dataDir = join(dir, 'data')): Core {
  const core = createCore({ dataDir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
  cores.push(core)
  return core
}

async function stop(core: Core): Promise<void> {
  await core.dispose()
  cores.splice(cores.indexOf(core), 1)
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-core-'))
})

afterEach(async () => {
  for (const core of cores.splice(0)) await core.dispose()
  rmSync(dir, { recursive: true, force: true })
})

describe('createCore settings', () => {
  it('persists settings.update across dispose and recreate on the same data folder', async () => {
    const first = start()
    const outcome = await first.dispatch('settings.update', { siteName: '  Plant North  ', pushRateHz: 8 }, ada)
    expect(outcome).toEqual({ ok: true, value: publicSettings({ ...defaultSettings, siteName: 'Plant North', pushRateHz: 8 }) })
    await stop(first)

    const second = start()
    expect(await second.dispatch('settings.get', {}, ada)).toEqual({ ok: true, value: publicSettings({ ...defaultSettings, siteName: 'Plant North', pushRateHz: 8 }) })
  })

  it('records the change in the audit log under the calling actor', async () => {
    const core = start()
    await core.dispatch('settings.update', { theme: 'light' }, ada)
    await core.dispatch('settings.update', { operatorName: 'Bob' }, { actor: 'grace', via: 'token' })
    const list = await core.dispatch('audit.list', {}, ada)
    expect(list.ok).toBe(true)
    const entries = (list as { value: AuditEntry[] }).value
    expect(entries).toHaveLength(2)
    expect(entries[0]).toMatchObject({ actor: 'grace', action: 'change settings', target: 'operatorName', outcome: 'ok' })
    expect(entries[1]).toMatchObject({ actor: 'ada', action: 'change settings', target: 'theme', outcome: 'ok', detail: 'theme="light"' })
  })

  it('keeps the broker password inside the core: never answered, never emitted, never in the audit log', async () => {
    const core = start()
    const emitted: unknown[] = []
    core.events.subscribe((event, payload) => emitted.push({ event, payload }))
    const outcome = await core.dispatch('settings.update', { mqttUsername: 'console', mqttPassword: 's3cret-pass' }, ada)
    expect(JSON.stringify(outcome)).not.toContain('s3cret-pass')
    expect(outcome).toMatchObject({ ok: true, value: { mqttUsername: 'console', secretsSet: { mqttPassword: true } } })
    expect(JSON.stringify(emitted)).not.toContain('s3cret-pass')
    const audit = await core.dispatch('audit.list', {}, ada)
    expect(JSON.stringify(audit)).not.toContain('s3cret-pass')
    expect(audit).toMatchObject({ ok: true, value: [{ detail: 'mqttUsername="console" mqttPassword=(changed)' }] })
    expect(core.settings.get().mqttPassword).toBe('s3cret-pass')
  })

  it('does not audit an update that changes nothing', async () => {
    const core = start()
    await core.dispatch('settings.update', { theme: defaultSettings.theme }, ada)
    expect(await core.dispatch('audit.list', {}, ada)).toEqual({ ok: true, value: [] })
  })

  it('emits settings.changed and audit.appended to subscribers', async () => {
    const core = start()
    const seen: { event: EventName; payload: unknown }[] = []
    const unsubscribe = core.events.subscribe((event, payload) => seen.push({ event, payload }))
    await core.dispatch('settings.update', { siteName: 'Dock 4' }, ada)
    const changed = seen.filter((e) => e.event === 'settings.changed')
    expect(changed).toHaveLength(1)
    expect((changed[0]!.payload as Settings).siteName).toBe('Dock 4')
    const appended = seen.filter((e) => e.event === 'audit.appended')
    expect(appended).toHaveLength(1)
    expect(appended[0]!.payload).toMatchObject({ actor: 'ada', target: 'siteName' })
    unsubscribe()
    await core.dispatch('settings.update', { siteName: 'Dock 5' }, ada)
    expect(seen.filter((e) => e.event === 'settings.changed')).toHaveLength(1)
  })

  it('refuses invalid patches with INVALID_PARAMS and writes no audit entry', async () => {
    const core = start()
    for (const patch of [{ pushRateHz: 99 }, { colour: 'blue' }, {}, { theme: 'sepia' }, { sessionHours: 'long' }]) {
      const outcome = await core.dispatch('settings.update', patch, ada)
      expect(outcome, JSON.stringify(patch)).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS' } })
    }
    expect(await core.dispatch('audit.list', {}, ada)).toEqual({ ok: true, value: [] })
    expect(await core.dispatch('settings.get', {}, ada)).toEqual({ ok: true, value: publicSettings(defaultSettings) })
  })

  it('falls back to the default for an invalid stored value without losing the other stored settings', async () => {
    const first = start()
    await first.dispatch('settings.update', { siteName: 'Plant A', theme: 'light' }, ada)
    await stop(first)
    const db = new Database(join(dir, 'data', databaseFileName))
    db.prepare("INSERT INTO settings (key, value) VALUES ('pushRateHz', '99'), ('sessionHours', 'not json'), ('retired', '1')").run()
    db.close()

    const second = start()
    expect(second.settings.get()).toEqual({ ...defaultSettings, siteName: 'Plant A', theme: 'light' })
    expect(second.settings.get().pushRateHz).toBe(4)
  })

  it('answers settings.update with UNAVAILABLE when the store is down, and settings.get with defaults', async () => {
    const file = join(dir, 'plain-file')
    writeFileSync(file, 'x')
    const core = start(file)
    expect(core.health().services.store.state).toBe('down')
    const outcome = await core.dispatch('settings.update', { siteName: 'x' }, ada)
    expect(outcome).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } })
    expect(await core.dispatch('settings.get', {}, ada)).toEqual({ ok: true, value: publicSettings(defaultSettings) })
    expect(await core.dispatch('audit.list', {}, ada)).toEqual({ ok: true, value: [] })
  })
})

describe('createCore events', () => {
  it('gives a new subscriber the full snapshot of every stream at once, the empty fleet too', () => {
    const core = start()
    const seen: { event: EventName; payload: unknown }[] = []
    core.events.subscribe((event, payload) => seen.push({ event, payload }))
    expect(seen.map((entry) => entry.event)).toEqual(['services', 'fleet', 'ports', 'bench.jobs', 'ota.rollouts'])
    // A screen that reconnected drops the rows it held when this empty snapshot arrives.
    expect(seen[1]!.payload).toEqual({ set: {}, deleted: [] })
    const diff = seen[0]!.payload as StreamDiff<ServiceState>
    expect(Object.keys(diff.set).sort()).toEqual(['broker', 'host', 'store'])
    expect(diff.set.store!.state).toBe('up')
    expect(diff.set.broker!.state).toBe('off')
    expect(diff.deleted).toEqual([])
  })

  it('reports the store as down in the snapshot when it could not open', () => {
    const file = join(dir, 'plain-file')
    writeFileSync(file, 'x')
    const core = start(file)
    let diff: StreamDiff<ServiceState> | undefined
    core.events.subscribe((event, payload) => {
      if (event === 'services') diff = payload as StreamDiff<ServiceState>
    })
    expect(diff?.set.store).toMatchObject({ state: 'down', detail: expect.stringContaining('--data-dir') })
  })

  it('answers session.whoami with the call context', async () => {
    const core = start()
    expect(await core.dispatch('session.whoami', {}, { actor: 'ada', via: 'session', sessionExpiresAt: 99 })).toEqual({
      ok: true,
      value: { actor: 'ada', via: 'session', sessionExpiresAt: 99 },
    })
  })
})
