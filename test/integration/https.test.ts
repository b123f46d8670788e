import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { silentLogger } from '../../electron/core'
import { startHeadlessHost, type HeadlessHost } from '../../electron/server/host'
import { selfSignedLoopbackCertificate } from '../support/certificates'

let dir: string
let host: HeadlessHost
let cert: Buffer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'console-https-'))
  const pair = selfSignedLoopbackCertificate(dir)
  cert = pair.cert
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>')
  host = await startHeadlessHost({
    listen: '127.0.0.1',
    port: 0,
    mqttPort: 0,
    dataDir: join(dir, 'data'),
    rendererDir: dir,
    tls: pair,
    log: silentLogger,
  })
})

afterAll(async () => {
  await host.close()
  rmSync(dir, { recursive: true, force: true })
})

it('serves the console and the contract over HTTPS and WSS when given a certificate', async () => {
  expect(host.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
  const health = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    request(new URL('healthz', host.url), { ca: cert }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
      .on('error', reject)
      .end()
  })
  expect(health.status).toBe(200)
  expect(JSON.parse(health.body)).toMatchObject({ host: { kind: 'headless', url: host.url }, services: { store: { state: 'up' } } })

  const socket = new WebSocket(`${host.url.replace('https', 'wss')}ws`, { ca: cert })
  const reply = await new Promise<unknown>((resolve, reject) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { id?: number }
      if (frame.id === 1) resolve(frame)
    })
    socket.once('open', () => socket.send(JSON.stringify({ id: 1, method: 'settings.get' })))
    socket.once('error', reject)
  })
  socket.close()
  expect(reply).toMatchObject({ id: 1, ok: true, value: { theme: 'dark' } })
})

it('refuses a client that does not trust the certificate, rather than falling back to plain HTTP', async () => {
  await expect(fetch(new URL('healthz', host.url))).rejects.toThrow()
})
