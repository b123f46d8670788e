import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest'
import type { Logger } from '../../electron/core/log'
import { WriteQueue } from '../../electron/core/store/write-queue'

let dir: string
let db: Database.Database
let log: { info: Mock<Logger['info']>; warn: Mock<Logger['warn']>; error: Mock<Logger['error']> }

const count = () => (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n
const insert = (value: number) => () => {
  db.prepare('INSERT INTO readings (value) VALUES (?)').run(value)
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-wq-'))
  db = new Database(join(dir, 'q.db'))
  db.pragma('journal_mode = WAL')
  db.exec('CREATE TABLE readings (id INTEGER PRIMARY KEY, value INTEGER NOT NULL CHECK (value >= 0))')
  log = { info: vi.fn<Logger['info']>(), warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() }
})

afterEach(() => {
  vi.useRealTimers()
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('WriteQueue', () => {
  it('commits many queued writes together in one transaction on flush', () => {
    const queue = new WriteQueue(db, log, { maxBatch: 10_000, maxDelayMs: 60_000 })
    const transaction = vi.spyOn(db, 'transaction')
    for (let i = 0; i < 500; i++) queue.enqueue(insert(i))
    expect(queue.pending).toBe(500)
    expect(count()).toBe(0)
    queue.flush()
    expect(count()).toBe(500)
    expect(queue.pending).toBe(0)
    expect(transaction).toHaveBeenCalledTimes(1)
    queue.close()
  })

  it('flushes on its own once maxBatch writes are waiting', () => {
    const queue = new WriteQueue(db, log, { maxBatch: 5, maxDelayMs: 60_000 })
    for (let i = 0; i < 4; i++) queue.enqueue(insert(i))
    expect(count()).toBe(0)
    queue.enqueue(insert(4))
    expect(count()).toBe(5)
    expect(queue.pending).toBe(0)
    queue.close()
  })

  it('flushes on its own after maxDelayMs', () => {
    vi.useFakeTimers()
    const queue = new WriteQueue(db, log, { maxBatch: 1000, maxDelayMs: 50 })
    queue.enqueue(insert(1))
    queue.enqueue(insert(2))
    vi.advanceTimersByTime(49)
    expect(count()).toBe(0)
    vi.advanceTimersByTime(1)
    expect(count()).toBe(2)
    queue.close()
  })

  it('now() commits queued writes first, then its own, and returns its result', () => {
    const queue = new WriteQueue(db, log, { maxBatch: 1000, maxDelayMs: 60_000 })
    queue.enqueue(insert(1))
    queue.enqueue(insert(2))
    const seenBefore = queue.now(() => {
      const seen = count()
      insert(3)()
      return seen
    })
    expect(seenBefore).toBe(2)
    expect(count()).toBe(3)
    expect(db.prepare('SELECT value FROM readings ORDER BY id').all()).toEqual([{ value: 1 }, { value: 2 }, { value: 3 }])
    queue.close()
  })

  it('keeps the other writes of a batch when one of them fails, and logs the failure', () => {
    const queue = new WriteQueue(db, log, { maxBatch: 1000, maxDelayMs: 60_000 })
    queue.enqueue(insert(1))
    queue.enqueue(insert(-1)) // violates the CHECK constraint
    queue.enqueue(() => {
      throw new Error('broken write')
    })
    queue.enqueue(insert(3))
    queue.flush()
    expect(db.prepare('SELECT value FROM readings ORDER BY id').all()).toEqual([{ value: 1 }, { value: 3 }])
    expect(log.error).toHaveBeenCalledTimes(2)
    expect(log.warn).toHaveBeenCalledTimes(1)
    queue.close()
  })

  it('a failing now() write rolls back only itself', () => {
    const queue = new WriteQueue(db, log, { maxBatch: 1000, maxDelayMs: 60_000 })
    queue.enqueue(insert(1))
    expect(() =>
      queue.now(() => {
        insert(2)()
        insert(-5)()
      }),
    ).toThrow()
    expect(db.prepare('SELECT value FROM readings').all()).toEqual([{ value: 1 }])
    queue.close()
  })

  it('close() drains what is queued and refuses later writes', () => {
    const queue = new WriteQueue(db, log, { maxBatch: 1000, maxDelayMs: 60_000 })
    for (let i = 0; i < 3; i++) queue.enqueue(insert(i))
    queue.close()
    expect(count()).toBe(3)
    expect(() => queue.enqueue(insert(9))).toThrow(/closed/)
    expect(() => queue.now(() => insert(9)())).toThrow(/closed/)
    expect(count()).toBe(3)
  })
})
