import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../electron/core'
import { migrations } from '../../electron/core/store/migrations'
import { databaseFileName, openStore, type Store } from '../../electron/core/store/store'

let dir: string
const opened: Store[] = []

function open(dataDir: string, now?: () => number): Store {
  const store = openStore({ dataDir, log: silentLogger, ...(now ? { now } : {}) })
  opened.push(store)
  return store
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-store-'))
})

afterEach(() => {
  for (const store of opened.splice(0)) store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('openStore', () => {
  it('creates a WAL database in a new data folder and records every migration', () => {
    const dataDir = join(dir, 'nested', 'data')
    const store = open(dataDir, () => 1234)
    expect(store.state.state).toBe('up')
    expect(store.file).toBe(join(dataDir, databaseFileName))
    expect(existsSync(store.file)).toBe(true)
    const db = store.open!.db
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    const rows = db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, name: m.name, applied_at: 1234 })))
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name)
    expect(tables).toEqual(expect.arrayContaining(['audit_log', 'settings', 'sessions', 'schema_migrations']))
  })

  it('reopens an existing database without re-running migrations or losing data', () => {
    const first = open(dir, () => 1)
    first.open!.db.prepare("INSERT INTO settings (key, value) VALUES ('theme', '\"light\"')").run()
    first.close()
    opened.length = 0
    const second = open(dir, () => 2)
    expect(second.state.state).toBe('up')
    const db = second.open!.db
    expect(db.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
      migrations.map((m) => ({ version: m.version, applied_at: 1 })),
    )
    expect(db.prepare('SELECT value FROM settings WHERE key = ?').get('theme')).toEqual({ value: '"light"' })
  })

  it('sets a damaged database aside byte for byte and starts a fresh one (degraded)', () => {
    const garbage = Buffer.from('this is certainly not an SQLite database file\n'.repeat(200))
    writeFileSync(join(dir, databaseFileName), garbage)
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678)
    const store = open(dir, () => at)
    expect(store.state.state).toBe('degraded')
    const kept = readdirSync(dir).filter((name) => name.startsWith(`${databaseFileName}.corrupt-`))
    expect(kept).toEqual([`${databaseFileName}.corrupt-2026-01-02T03-04-05-678Z`])
    expect(readFileSync(join(dir, kept[0]!)).equals(garbage)).toBe(true)
    expect(store.state.detail).toContain(kept[0])
    // The fresh database works.
    const db = store.open!.db
    store.open!.writer.now(() => db.prepare("INSERT INTO settings (key, value) VALUES ('siteName', '\"Plant\"')").run())
    expect(db.prepare('SELECT COUNT(*) AS n FROM settings').get()).toEqual({ n: 1 })
    expect((db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n).toBe(migrations.length)
  })

  it('refuses (down) a database written by a newer version and leaves the file untouched', () => {
    const file = join(dir, databaseFileName)
    const newer = new Database(file)
    newer.pragma('journal_mode = WAL')
    newer.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
    newer.prepare('INSERT INTO schema_migrations VALUES (999, ?, 1)').run('from the future')
    newer.exec('CREATE TABLE future_things (x)')
    newer.close()
    const before = readFileSync(file)

    const store = open(dir)
    expect(store.state.state).toBe('down')
    expect(store.open).toBeNull()
    expect(store.state.detail).toMatch(/newer version/)
    expect(store.state.detail).toContain('999')
    store.close()

    expect(readFileSync(file).equals(before)).toBe(true)
    expect(readdirSync(dir).filter((name) => name.includes('corrupt'))).toEqual([])
    const check = new Database(file, { readonly: true })
    expect(check.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 999 }])
    check.close()
  })

  it('leaves a newer database in its own journal mode: the refusal comes before anything is written', () => {
    const file = join(dir, databaseFileName)
    const newer = new Database(file)
    newer.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
    newer.prepare('INSERT INTO schema_migrations VALUES (999, ?, 1)').run('rollback journal, from the future')
    newer.close()
    const before = readFileSync(file)
    // Header bytes 18 and 19: 1 = rollback journal, 2 = WAL.
    expect([before[18], before[19]]).toEqual([1, 1])
    const store = open(dir)
    expect(store.state.state).toBe('down')
    store.close()
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('reports down, mentioning --data-dir, when the data folder is a regular file', () => {
    const file = join(dir, 'not-a-folder')
    writeFileSync(file, 'plain file')
    for (const dataDir of [file, join(file, 'data')]) {
      const store = open(dataDir)
      expect(store.state.state).toBe('down')
      expect(store.open).toBeNull()
      expect(store.state.detail).toContain('--data-dir')
      expect(store.state.detail).toContain(dataDir)
    }
    expect(readFileSync(file, 'utf8')).toBe('plain file')
  })
})
