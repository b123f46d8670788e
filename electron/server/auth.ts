import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { CallContext, Session } from '../core'
import type { SessionStore } from '../core/sessions'

export const sessionCookie = 'console_session'

export interface Secrets {
  /** What people type on the login page. */
  password?: string
  /** What scripts send as `Authorization: Bearer …`. Also accepted on the login page. */
  token?: string
}

export type Caller = { ok: true; context: CallContext } | { ok: false }

/**
 * Decides who a request comes from. Without secrets (a loopback-only host) everyone on this machine
 * is the local operator; with secrets, a request needs a valid session cookie or bearer token.
 */
export class Authenticator {
  private readonly failures = new Map<string, { count: number; since: number }>()

  constructor(
    private readonly secrets: Secrets,
    private readonly sessions: SessionStore,
    private readonly localActor: () => string,
    private readonly now: () => number = Date.now,
  ) {}

  get required(): boolean {
    return Boolean(this.secrets.password || this.secrets.token)
  }

  identify(request: IncomingMessage): Caller {
    if (!this.required) return { ok: true, context: { actor: this.localActor(), via: 'local' } }
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]
    if (bearer && this.secrets.token && same(bearer, this.secrets.token)) {
      return { ok: true, context: { actor: 'api-token', via: 'token' } }
    }
    const session = this.sessionOf(request)
    return session ? { ok: true, context: { actor: session.actor, via: 'session', sessionExpiresAt: session.expiresAt } } : { ok: false }
  }

  sessionOf(request: IncomingMessage): Session | null {
    return this.sessions.verify(readCookie(request, sessionCookie))
  }

  /** Checks a login attempt; throttled per address so a password cannot be guessed at speed. */
  checkLogin(address: string, secret: string): 'ok' | 'wrong' | 'throttled' {
    const now = this.now()
    const record = this.failures.get(address)
    if (record && now - record.since > 60_000) this.failures.delete(address)
    const current = this.failures.get(address)
    if (current && current.count >= 10) return 'throttled'
    const valid = [this.secrets.password, this.secrets.token].some((known) => known !== undefined && same(secret, known))
    if (valid) {
      this.failures.delete(address)
      return 'ok'
    }
    this.failures.set(address, { count: (current?.count ?? 0) + 1, since: current?.since ?? now })
    return 'wrong'
  }
}

export function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key !== name) continue
    // A malformed escape (`%`, `%E0%A4%A`) is no session, not an error that reaches the caller.
    try {
      return decodeURIComponent(rest.join('='))
    } catch {
      return undefined
    }
  }
  return undefined
}

// Comparing digests keeps the comparison constant-time whatever the lengths.
function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
