import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HostConfigError, type HeadlessHost } from '../../electron/server/host'
import { Client, makeWorkspace, refusedUpgrade, startHost, wsUrl } from './support'

let workspace: ReturnType<typeof makeWorkspace>
const hosts: HeadlessHost[] = []
const clients: Client[] = []
const password = 'correct horse'
const token = 'script-token-0123456789'

async function start(): Promise<HeadlessHost> {
  const host = await startHost({ listen: '127.0.0.2', dataDir: workspace.dataDir, rendererDir: workspace.rendererDir, secrets: { password, token } })
  hosts.push(host)
  return host
}

function login(host: HeadlessHost, form: Record<string, string>): Promise<Response> {
  return fetch(new URL('/login', host.url), {
    method: 'POST',
    body: new URLSearchParams(form),
    redirect: 'manual',
  })
}

async function signIn(host: HeadlessHost, name: string): Promise<string> {
  const response = await login(host, { name, password })
  expect(response.status).toBe(303)
  const cookie = response.headers.get('set-cookie') ?? ''
  return cookie.split(';')[0]!
}

beforeEach(() => {
  workspace = makeWorkspace('console-auth-')
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const host of hosts.splice(0)) await host.close()
  workspace.remove()
})

describe('authentication', () => {
  it('refuses to listen beyond loopback without a secret, naming CONSOLE_PASSWORD', async () => {
    const attempt = startHost({ listen: '127.0.0.2', dataDir: workspace.dataDir, rendererDir: workspace.rendererDir })
    await expect(attempt).rejects.toBeInstanceOf(HostConfigError)
    await expect(attempt).rejects.toThrow(/CONSOLE_PASSWORD/)
  })

  it('refuses anonymous API calls, pages and WebSocket upgrades', async () => {
    const host = await start()
    const api = await fetch(new URL('/api/settings.get', host.url))
    expect(api.status).toBe(401)
    expect(await api.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } })
    const page = await fetch(host.url, { redirect: 'manual' })
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/login')
    expect(await refusedUpgrade(wsUrl(host))).toBe(401)
    // /healthz stays open for monitoring; the login page is served.
    expect((await fetch(new URL('/healthz', host.url))).status).toBe(200)
    expect((await fetch(new URL('/login', host.url))).status).toBe(200)
  })

  it('refuses a wrong password with 401 and no cookie', async () => {
    const host = await start()
    const response = await login(host, { name: 'ada', password: 'wrong horse' })
    expect(response.status).toBe(401)
    expect(response.headers.get('set-cookie')).toBeNull()
    const noName = await login(host, { name: '  ', password })
    expect(noName.status).toBe(401)
    expect(noName.headers.get('set-cookie')).toBeNull()
  })

  it('signs in with the right password and a name: HttpOnly SameSite=Strict cookie that works for /api and /ws', async () => {
    const host = await start()
    const response = await login(host, { name: 'Ada', password })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    const setCookie = response.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^console_session=[^;]+;/)
    expect(setCookie).toMatch(/;\s*HttpOnly/i)
    expect(setCookie).toMatch(/;\s*SameSite=Strict/i)
    const cookie = setCookie.split(';')[0]!

    const api = await fetch(new URL('/api/settings.get', host.url), { headers: { cookie } })
    expect(api.status).toBe(200)
    const page = await fetch(host.url, { headers: { cookie }, redirect: 'manual' })
    expect(page.status).toBe(200)

    const client = await Client.connect(wsUrl(host), { headers: { cookie } })
    clients.push(client)
    const whoami = await client.call('session.whoami')
    expect(whoami).toMatchObject({ ok: true, value: { actor: 'Ada', via: 'session', sessionExpiresAt: expect.any(Number) } })
    await client.call('settings.update', { theme: 'light' })
    const audit = await fetch(new URL('/api/audit.list?limit=1', host.url), { headers: { cookie } })
    expect(await audit.json()).toMatchObject([{ actor: 'Ada', target: 'theme' }])
  })

  it('accepts the Bearer token for /api and refuses a wrong one', async () => {
    const host = await start()
    const ok = await fetch(new URL('/api/session.whoami', host.url), { headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ actor: 'api-token', via: 'token' })
    const wrong = await fetch(new URL('/api/session.whoami', host.url), { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
  })

  it('keeps a session across a host restart on the same data folder', async () => {
    const first = await start()
    const cookie = await signIn(first, 'Grace')
    await first.close()
    hosts.splice(0)

    const second = await start()
    const response = await fetch(new URL('/api/session.whoami', second.url), { headers: { cookie } })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ actor: 'Grace', via: 'session' })
  })

  it('revokes the session on POST /logout', async () => {
    const host = await start()
    const cookie = await signIn(host, 'Ada')
    expect((await fetch(new URL('/api/settings.get', host.url), { headers: { cookie } })).status).toBe(200)
    const out = await fetch(new URL('/logout', host.url), { method: 'POST', headers: { cookie }, redirect: 'manual' })
    expect(out.status).toBe(303)
    expect(out.headers.get('location')).toBe('/login')
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/)
    expect((await fetch(new URL('/api/settings.get', host.url), { headers: { cookie } })).status).toBe(401)
    expect(await refusedUpgrade(wsUrl(host), { headers: { cookie } })).toBe(401)
  })

  it('treats a malformed session cookie as no session: 401, and the host keeps serving', async () => {
    const host = await start()
    for (const cookie of ['console_session=%', 'console_session=%E0%A4%A']) {
      const api = await fetch(new URL('/api/settings.get', host.url), { headers: { cookie } })
      expect(api.status, cookie).toBe(401)
      expect(await refusedUpgrade(wsUrl(host), { headers: { cookie } })).toBe(401)
      const out = await fetch(new URL('/logout', host.url), { method: 'POST', headers: { cookie }, redirect: 'manual' })
      expect(out.status, cookie).toBe(303)
    }
    const cookie = await signIn(host, 'Ada')
    expect((await fetch(new URL('/api/settings.get', host.url), { headers: { cookie } })).status).toBe(200)
  })

  it('throttles the login form after 10 wrong passwords from one address', async () => {
    const host = await start()
    for (let i = 0; i < 10; i++) expect((await login(host, { name: 'x', password: `guess ${i}` })).status).toBe(401)
    const blocked = await login(host, { name: 'x', password })
    expect(blocked.status).toBe(429)
    expect(blocked.headers.get('set-cookie')).toBeNull()
  })
})
