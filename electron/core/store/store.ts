import { mkdirSync, renameSync, existsSync, accessSync, constants } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { ServiceState } from '../../../shared/contract'
import type { Logger } from '../log'
import { migrations } from './migrations'
import { WriteQueue } from './write-queue'

export const databaseFileName = 'console.db'

export interface StoreOptions {
  dataDir: string
  log: Logger
  /** Path to a better-sqlite3 addon built for this runtime (Electron's ABI differs from Node's). */
  nativeBinding?: string
  now?: () => number
}

/** The store when it opened: a database and its one writer. */
export interface OpenStore {
  readonly db: Database.Database
  readonly writer: WriteQueue
}

export interface Store {
  /** Null when the data folder or database could not be used; `state` says why. */
  readonly open: OpenStore | null
  readonly state: ServiceState
  readonly file: string
  close(): void
}

/**
 * Opens (or creates) the console's database in the data folder. It never throws: a folder that
 * cannot be written or a database that cannot be read leaves the console running with the store
 * down or recovered, and `state.detail` tells the operator what happened and what to do.
 */
export function openStore(options: StoreOptions): Store {
  const { dataDir, log } = options
  const file = join(dataDir, databaseFileName)
  const now = options.now ?? Date.now

  try {
    mkdirSync(dataDir, { recursive: true })
    accessSync(dataDir, constants.W_OK)
  } catch (error) {
    return downStore(file, `The data folder ${dataDir} cannot be written (${codeOf(error)}). Start with --data-dir pointing at a writable folder, or fix its permissions.`)
  }

  let recoveredFrom: string | null = null
  let db: Database.Database
  try {
    db = openChecked(file, options.nativeBinding)
  } catch (error) {
    if (error instanceof NewerSchemaError) return downStore(file, error.message)
    if (!isCorruption(error)) return downStore(file, describeOpenError(file, error))
    // Keep the damaged file for the operator (or a recovery tool) and start a fresh database beside it.
    recoveredFrom = `${file}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`
    try {
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(file + suffix)) renameSync(file + suffix, recoveredFrom + suffix)
      }
      db = openChecked(file, options.nativeBinding)
    } catch (second) {
      return downStore(file, `The database ${file} is damaged and could not be set aside (${codeOf(second)}). Move it away by hand and restart.`)
    }
    log.warn(`Database ${file} was damaged; kept as ${recoveredFrom} and started a new one.`)
  }

  try {
    migrate(db, now)
  } catch (error) {
    db.close()
    return downStore(file, error instanceof Error ? error.message : String(error))
  }

  const open: OpenStore = { db, writer: new WriteQueue(db, log) }
  const state: ServiceState = recoveredFrom
    ? {
        state: 'degraded',
        detail: `The database was damaged. It was kept aside as ${recoveredFrom} and a new, empty one was started. Earlier history is in the kept file.`,
      }
    : { state: 'up', detail: `SQLite (WAL) at ${file}` }

  return {
    open,
    state,
    file,
    close() {
      open.writer.close()
      db.close()
    },
  }
}

function openChecked(file: string, nativeBinding: string | undefined): Database.Database {
  const db = new Database(file, nativeBinding ? { nativeBinding } : {})
  try {
    // Before anything writes (switching to WAL rewrites the header): a newer console's database is
    // refused untouched, so the operator can still open it with that version.
    refuseNewerSchema(db)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' })
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

class NewerSchemaError extends Error {}

function schemaVersion(db: Database.Database): number {
  const known = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).get()
  return known ? ((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0) : 0
}

function refuseNewerSchema(db: Database.Database): void {
  const current = schemaVersion(db)
  const latest = migrations.at(-1)?.version ?? 0
  if (current > latest) {
    throw new NewerSchemaError(
      `The database was written by a newer version of the console (schema ${current}, this version knows ${latest}). Update the console, or start with another --data-dir.`,
    )
  }
}

function migrate(db: Database.Database, now: () => number): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
  const current = schemaVersion(db)
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  for (const migration of migrations) {
    if (migration.version <= current) continue
    db.transaction(() => {
      db.exec(migration.sql)
      record.run(migration.version, migration.name, now())
    })()
  }
}

function isCorruption(error: unknown): boolean {
  const code = codeOf(error)
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT'
}

function describeOpenError(file: string, error: unknown): string {
  const code = codeOf(error)
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EROFS') {
    return `The database ${file} cannot be opened for writing (${code}). Start with --data-dir pointing at a writable folder, or fix its permissions.`
  }
  if (code === 'SQLITE_BUSY') return `The database ${file} is locked by another process: is another console running on this data folder?`
  return `The database ${file} could not be opened: ${error instanceof Error ? error.message : String(error)}`
}

function codeOf(error: unknown): string {
  return (error as { code?: string } | null)?.code ?? (error instanceof Error ? error.message : String(error))
}

function downStore(file: string, detail: string): Store {
  return { open: null, state: { state: 'down', detail }, file, close() {} }
}
