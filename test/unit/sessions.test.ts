import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../electron/core'
import { SessionStore } from '../../electron/core/sessions'
import { openStore, type Store } from '../../electron/core/store/store'

let dir: string
let clock: number
const stores: Store[] = []
const now = () => clock

function sessionsOn(): { store: Store; sessions: SessionStore } {
  const store = openStore({ dataDir: dir, log: silentLogger, now })
  stores.push(store)
  expect(store.state.state).toBe('up')
  return { store, sessions: new SessionStore(store.open, now) }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-sessions-'))
  clock = 1_000_000
})

afterEach(() => {
  for (const store of stores.splice(0)) store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('SessionStore', () => {
  it('verifies a token it created and nothing else', () => {
    const { sessions } = sessionsOn()
    const { token, session } = sessions.create('ada', 2)
    expect(session).toEqual({ actor: 'ada', expiresAt: clock + 2 * 3_600_000 })
    expect(token.length).toBeGreaterThanOrEqual(32)
    expect(sessions.verify(token)).toEqual(session)
    expect(sessions.verify(`${token}x`)).toBeNull()
    expect(sessions.verify(undefined)).toBeNull()
    expect(sessions.verify('')).toBeNull()
    expect(sessions.create('ada', 2).token).not.toBe(token)
  })

  it('stops verifying a session once it has expired', () => {
    const { sessions } = sessionsOn()
    const { token } = sessions.create('ada', 1)
    clock += 3_600_000 - 1
    expect(sessions.verify(token)?.actor).toBe('ada')
    clock += 1
    expect(sessions.verify(token)).toBeNull()
    clock -= 10 // even if the clock goes back, the expired session was removed
    expect(sessions.verify(token)).toBeNull()
  })

  it('stops verifying a revoked session', () => {
    const { sessions } = sessionsOn()
    const a = sessions.create('ada', 1)
    const b = sessions.create('bob', 1)
    sessions.revoke(a.token)
    expect(sessions.verify(a.token)).toBeNull()
    expect(sessions.verify(b.token)?.actor).toBe('bob')
  })

  it('keeps sessions across reopening the store, and purges expired ones', () => {
    const first = sessionsOn()
    const long = first.sessions.create('ada', 10)
    const short = first.sessions.create('bob', 1)
    first.store.close()
    stores.length = 0

    clock += 2 * 3_600_000
    const second = sessionsOn()
    second.sessions.purgeExpired()
    expect(second.sessions.verify(long.token)).toEqual({ actor: 'ada', expiresAt: long.session.expiresAt })
    expect(second.sessions.verify(short.token)).toBeNull()
    expect(second.store.open!.db.prepare('SELECT actor FROM sessions').all()).toEqual([{ actor: 'ada' }])
  })

  it('stores only a hash of the token, never the token itself', () => {
    const { store, sessions } = sessionsOn()
    const { token } = sessions.create('ada', 1)
    const rows = store.open!.db.prepare('SELECT * FROM sessions').all() as Record<string, unknown>[]
    expect(rows).toHaveLength(1)
    const dump = JSON.stringify(rows)
    expect(dump).not.toContain(token)
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('keeps sessions in memory when there is no store', () => {
    const sessions = new SessionStore(null, now)
    const { token } = sessions.create('ada', 1)
    expect(sessions.verify(token)?.actor).toBe('ada')
    sessions.revoke(token)
    expect(sessions.verify(token)).toBeNull()
  })
})
