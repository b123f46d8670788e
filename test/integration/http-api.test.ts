import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { product } from '../../electron/core'
import type { HeadlessHost } from '../../electron/server/host'
import { Client, indexHtml, makeWorkspace, rawGet, startHost, wsUrl } from './support'

let workspace: ReturnType<typeof makeWorkspace>
let host: HeadlessHost

const get = (path: string, init?: RequestInit) => fetch(new URL(path, host.url), init)

beforeAll(async () => {
  workspace = makeWorkspace('console-http-')
  // Files beside the renderer folder that must never be served.
  writeFileSync(join(workspace.root, 'package.json'), '{"secret":"outside the renderer"}')
  writeFileSync(join(workspace.root, 'secret.txt'), 'outside the renderer')
  host = await startHost({ dataDir: workspace.dataDir, rendererDir: workspace.rendererDir })
  // Three audit entries to page through.
  const client = await Client.connect(wsUrl(host))
  for (const siteName of ['A', 'B', 'C']) expect(await client.call('settings.update', { siteName })).toMatchObject({ ok: true })
  await client.close()
})

afterAll(async () => {
  await host.close()
  workspace.remove()
})

describe('HTTP', () => {
  it('GET /healthz reports version and services', async () => {
    const response = await get('/healthz')
    expect(response.status).toBe(200)
    const body = (await response.json()) as { status: string; version: string; services: Record<string, { state: string }> }
    expect(body.status).toBe('ok')
    expect(body.version).toBe(product.version)
    expect(body.services.store!.state).toBe('up')
    expect(Object.keys(body.services).sort()).toEqual(['broker', 'host', 'store'])
  })

  it('GET /api/settings.get returns the settings as JSON', async () => {
    const response = await get('/api/settings.get')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await response.json()).toMatchObject({ siteName: 'C' })
  })

  it('GET /api/audit.list?limit=2 returns the two newest entries', async () => {
    const response = await get('/api/audit.list?limit=2')
    expect(response.status).toBe(200)
    const entries = (await response.json()) as { detail: string }[]
    expect(entries.map((e) => e.detail)).toEqual(['siteName="C"', 'siteName="B"'])
    const all = (await (await get('/api/audit.list')).json()) as unknown[]
    expect(all).toHaveLength(3)
  })

  it('GET of a method that changes something is 403 FORBIDDEN and changes nothing', async () => {
    const response = await get('/api/settings.update?siteName=%22Hacked%22')
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ error: { code: 'FORBIDDEN' } })
    expect(await (await get('/api/settings.get')).json()).toMatchObject({ siteName: 'C' })
  })

  it('POST to a read-only method is 403 too', async () => {
    const response = await get('/api/settings.get', { method: 'POST' })
    expect(response.status).toBe(403)
  })

  it('GET /api/nope is 404 UNKNOWN_METHOD', async () => {
    const response = await get('/api/nope')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 'UNKNOWN_METHOD' } })
  })

  it('GET /api/audit.list?limit=abc is 400 INVALID_PARAMS', async () => {
    const response = await get('/api/audit.list?limit=abc')
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'INVALID_PARAMS', issues: [{ path: 'limit' }] } })
  })

  it('does not serve files outside the renderer folder', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/..%2f..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/..%5csecret.txt']) {
      const response = await rawGet(host.url, path)
      expect(response.status, path).toBe(404)
      expect(response.body, path).not.toContain('outside the renderer')
    }
  })

  it('serves the index with a content-security-policy header', async () => {
    const response = await get('/')
    expect(response.status).toBe(200)
    expect(await response.text()).toBe(indexHtml)
    const csp = response.headers.get('content-security-policy')
    expect(csp).toContain("default-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('answers a missing file with 404', async () => {
    expect((await get('/missing.js')).status).toBe(404)
  })
})
