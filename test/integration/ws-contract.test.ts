import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { defaultSettings, maxRequestBytes, publicSettings } from '../../shared/contract'
import type { HeadlessHost } from '../../electron/server/host'
import { Client, makeWorkspace, refusedUpgrade, startHost, wsUrl } from './support'

let workspace: ReturnType<typeof makeWorkspace>
let host: HeadlessHost
const clients: Client[] = []

async function connect(): Promise<Client> {
  const client = await Client.connect(wsUrl(host))
  clients.push(client)
  return client
}

beforeAll(async () => {
  workspace = makeWorkspace('console-ws-')
  host = await startHost({ dataDir: workspace.dataDir, rendererDir: workspace.rendererDir })
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
})

afterAll(async () => {
  await host.close()
  workspace.remove()
})

describe('WebSocket contract', () => {
  it('sends a services snapshot on connect', async () => {
    const client = await connect()
    const frame = await client.next((f) => f.event === 'services')
    const payload = frame.payload as { set: Record<string, { state: string }>; deleted: string[] }
    expect(Object.keys(payload.set).sort()).toEqual(['broker', 'host', 'store'])
    expect(payload.set.store!.state).toBe('up')
    expect(payload.set.host!.state).toBe('up')
  })

  it('answers settings.get with the settings', async () => {
    const client = await connect()
    const reply = await client.call('settings.get')
    expect(reply).toMatchObject({ ok: true, value: { theme: expect.any(String), pushRateHz: expect.any(Number) } })
    expect(Object.keys(reply.value as object).sort()).toEqual(Object.keys(publicSettings(defaultSettings)).sort())
  })

  it('answers malformed JSON with BAD_FRAME and keeps serving the same connection', async () => {
    const client = await connect()
    client.sendRaw('{"id": 77, "method": ')
    const bad = await client.reply(77)
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } })
    client.sendRaw('total garbage')
    expect(await client.reply(null)).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } })
    expect(await client.call('settings.get')).toMatchObject({ ok: true })
    expect(client.socket.readyState).toBe(client.socket.OPEN)
  })

  it('answers an unknown method with UNKNOWN_METHOD', async () => {
    const client = await connect()
    const reply = await client.call('fleet.selfDestruct', {})
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD', message: expect.stringContaining('settings.get') } })
  })

  it('answers wrong parameter types with INVALID_PARAMS and issue paths', async () => {
    const client = await connect()
    const reply = await client.call('audit.list', { limit: 'lots' })
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMS', issues: [{ path: 'limit' }] } })
  })

  it('answers a 10 MB request with TOO_LARGE and the connection stays up', async () => {
    const client = await connect()
    const huge = JSON.stringify({ id: 'huge', method: 'settings.update', params: { siteName: 'x'.repeat(10 * 1024 * 1024) } })
    expect(huge.length).toBeGreaterThan(maxRequestBytes)
    client.sendRaw(huge)
    expect(await client.reply('huge')).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } })
    expect(await client.call('settings.get')).toMatchObject({ ok: true })
    expect(((await client.call('settings.get')).value as { siteName: string }).siteName).toBe('')
  })

  it('answers a binary frame with BAD_FRAME and keeps the connection', async () => {
    const client = await connect()
    client.sendRaw(Buffer.from(JSON.stringify({ id: 5, method: 'settings.get' })), true)
    const reply = await client.next((f) => f.event === undefined && f.ok === false)
    expect(reply).toMatchObject({ id: null, ok: false, error: { code: 'BAD_FRAME' } })
    expect(await client.call('settings.get')).toMatchObject({ ok: true })
  })

  it('tells a second client about a settings change made by the first', async () => {
    const first = await connect()
    const second = await connect()
    const reply = await first.call('settings.update', { siteName: 'Plant West' })
    expect(reply).toMatchObject({ ok: true, value: { siteName: 'Plant West' } })
    const changed = await second.next((f) => f.event === 'settings.changed')
    expect(changed.payload).toMatchObject({ siteName: 'Plant West' })
    const appended = await second.next((f) => f.event === 'audit.appended')
    expect(appended.payload).toMatchObject({ action: 'change settings', target: 'siteName', outcome: 'ok' })
  })

  it('refuses a connection from a foreign Origin', async () => {
    expect(await refusedUpgrade(wsUrl(host), { origin: 'https://evil.example' })).toBe(403)
    // The console's own origin is fine.
    const own = await Client.connect(wsUrl(host), { origin: new URL(host.url).origin })
    clients.push(own)
    expect(await own.call('settings.get')).toMatchObject({ ok: true })
  })

  it('refuses an upgrade on a path other than /ws', async () => {
    expect(await refusedUpgrade(`${wsUrl(host)}/other`)).toBe(404)
  })
})
