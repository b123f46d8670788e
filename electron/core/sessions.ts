import { createHash, randomBytes } from 'node:crypto'
import type { Statement } from 'better-sqlite3'
import type { OpenStore } from './store/store'

export interface Session {
  actor: string
  expiresAt: number
}

/**
 * Login sessions of the headless host. Only a hash of each token is kept, so a copy of the database
 * does not let anyone in; sessions survive a host restart, so screens reconnect without a new login.
 * Without a store they live in memory only.
 */
export class SessionStore {
  private readonly memory = new Map<string, Session>()
  private readonly insert: Statement | null
  private readonly select: Statement | null
  private readonly remove: Statement | null
  private readonly purge: Statement | null

  constructor(
    private readonly store: OpenStore | null,
    private readonly now: () => number,
  ) {
    const db = store?.db
    this.insert = db?.prepare('INSERT INTO sessions (token_hash, actor, created_at, expires_at) VALUES (?, ?, ?, ?)') ?? null
    this.select = db?.prepare('SELECT actor, expires_at AS expiresAt FROM sessions WHERE token_hash = ?') ?? null
    this.remove = db?.prepare('DELETE FROM sessions WHERE token_hash = ?') ?? null
    this.purge = db?.prepare('DELETE FROM sessions WHERE expires_at <= ?') ?? null
  }

  create(actor: string, hours: number): { token: string; session: Session } {
    const token = randomBytes(32).toString('base64url')
    const session: Session = { actor, expiresAt: this.now() + Math.round(hours * 3_600_000) }
    const hash = hashToken(token)
    if (this.store) this.store.writer.now(() => this.insert!.run(hash, actor, this.now(), session.expiresAt))
    else this.memory.set(hash, session)
    return { token, session }
  }

  verify(token: string | undefined): Session | null {
    if (!token) return null
    const hash = hashToken(token)
    const session = this.select ? (this.select.get(hash) as Session | undefined) : this.memory.get(hash)
    if (!session) return null
    if (session.expiresAt <= this.now()) {
      this.revoke(token)
      return null
    }
    return session
  }

  revoke(token: string): void {
    const hash = hashToken(token)
    this.memory.delete(hash)
    if (this.store) this.store.writer.now(() => this.remove!.run(hash))
  }

  purgeExpired(): void {
    const now = this.now()
    for (const [hash, session] of this.memory) if (session.expiresAt <= now) this.memory.delete(hash)
    if (this.store) this.store.writer.now(() => this.purge!.run(now))
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
