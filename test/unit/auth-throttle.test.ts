import { describe, expect, it } from 'vitest'
import { SessionStore } from '../../electron/core/sessions'
import { Authenticator } from '../../electron/server/auth'

function setup() {
  const clock = { t: 5_000_000 }
  const now = () => clock.t
  const auth = new Authenticator({ password: 'correct horse', token: 'script-token-123' }, new SessionStore(null, now), () => 'local', now)
  return { auth, clock }
}

describe('Authenticator.checkLogin', () => {
  it('accepts the password or the token', () => {
    const { auth } = setup()
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('ok')
    expect(auth.checkLogin('10.0.0.1', 'script-token-123')).toBe('ok')
    expect(auth.checkLogin('10.0.0.1', 'nope')).toBe('wrong')
    expect(auth.checkLogin('10.0.0.1', '')).toBe('wrong')
  })

  it('throttles an address after 10 failures within a minute, even for the right password', () => {
    const { auth, clock } = setup()
    for (let i = 0; i < 10; i++) {
      expect(auth.checkLogin('10.0.0.1', `guess-${i}`)).toBe('wrong')
      clock.t += 1000
    }
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('throttled')
    expect(auth.checkLogin('10.0.0.1', 'guess')).toBe('throttled')
    // Another address is not affected.
    expect(auth.checkLogin('10.0.0.2', 'correct horse')).toBe('ok')
  })

  it('does not throttle after 9 failures', () => {
    const { auth } = setup()
    for (let i = 0; i < 9; i++) auth.checkLogin('10.0.0.1', 'bad')
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('ok')
  })

  it('recovers once the minute since the first failure has passed', () => {
    const { auth, clock } = setup()
    const first = clock.t
    for (let i = 0; i < 10; i++) auth.checkLogin('10.0.0.1', 'bad')
    clock.t = first + 60_000
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('throttled')
    clock.t = first + 60_001
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('ok')
  })

  it('a successful login clears the failure count', () => {
    const { auth } = setup()
    for (let i = 0; i < 9; i++) auth.checkLogin('10.0.0.1', 'bad')
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('ok')
    for (let i = 0; i < 9; i++) expect(auth.checkLogin('10.0.0.1', 'bad')).toBe('wrong')
    expect(auth.checkLogin('10.0.0.1', 'correct horse')).toBe('ok')
  })
})
