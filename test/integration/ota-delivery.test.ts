import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeliveryServer, type DeliveryServerOptions } from '../../electron/core/ota/delivery-server'
import { selfSignedLoopbackCertificate } from '../support/certificates'

// The OTA file server against Node's own HTTP client on loopback, as a device's esp_http_client would
// meet it: whole downloads, a download cut at 73% and resumed, ranges, tokens, limits and TLS.

let dir: string
let servers: DeliveryServer[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ota-delivery-'))
  servers = []
})

afterEach(async () => {
  await Promise.all(servers.map((server) => server.stop()))
  rmSync(dir, { recursive: true, force: true })
})

interface Image {
  id: string
  filePath: string
  bytes: Buffer
  sha256: string
  size: number
}

function makeImage(id: string, size: number): Image {
  const bytes = randomBytes(size)
  const filePath = join(dir, `${id}.bin`)
  writeFileSync(filePath, bytes)
  return { id, filePath, bytes, sha256: sha256(bytes), size }
}

async function serve(image: Image, options: DeliveryServerOptions = {}): Promise<DeliveryServer> {
  const server = new DeliveryServer({ port: 0, ...options })
  servers.push(server)
  await server.start()
  await server.publish({ id: image.id, filePath: image.filePath, sha256: image.sha256, size: image.size })
  return server
}

function tokenUrl(server: DeliveryServer, deviceId: string, artifactId: string, expiresAt = Date.now() + 60_000): string {
  return server.urlFor(server.issueToken({ deviceId, artifactId, expiresAt }))
}

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** The whole body arrived: false when the client or the server cut it. */
  complete: boolean
}

interface FetchOptions {
  method?: string
  headers?: Record<string, string>
  ca?: Buffer
  /** Destroy the socket once this many body bytes have arrived, keeping exactly those. */
  cutAfter?: number
  onData?: (received: number) => void
}

/** One request on its own connection (no agent), resolving however it ends. */
function fetchBody(url: string, options: FetchOptions = {}): Promise<Reply> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, ca: options.ca }, (res) => {
      const chunks: Buffer[] = []
      let received = 0
      let cut = false
      res.on('data', (chunk: Buffer) => {
        if (cut) return
        if (options.cutAfter !== undefined && received + chunk.length >= options.cutAfter) {
          chunks.push(chunk.subarray(0, options.cutAfter - received))
          received = options.cutAfter
          cut = true
          req.destroy()
          return
        }
        chunks.push(chunk)
        received += chunk.length
        options.onData?.(received)
      })
      res.on('error', () => {})
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete && !cut }))
    })
    req.on('error', (error) => {
      if (!req.destroyed || !('code' in error) || error.code !== 'ECONNRESET') reject(error)
    })
    req.end()
  })
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('Condition not met in time')
    await sleep(10)
  }
}

describe('downloads', () => {
  it('serves the whole image with its length, ETag and byte ranges on offer', async () => {
    const image = makeImage('fw-1.2.0', 1_500_000)
    const server = await serve(image)
    const reply = await fetchBody(tokenUrl(server, 'PUMP-001', image.id))
    expect(reply.status).toBe(200)
    expect(reply.complete).toBe(true)
    expect(reply.headers['content-length']).toBe(String(image.size))
    expect(reply.headers['accept-ranges']).toBe('bytes')
    expect(reply.headers.etag).toBe(`"${image.sha256}"`)
    expect(sha256(reply.body)).toBe(image.sha256)
    expect(server.stats().devices).toEqual([expect.objectContaining({ deviceId: 'PUMP-001', artifactId: image.id, offset: image.size, percent: 100, active: 0 })])
    expect(server.stats()).toMatchObject({ completed: 1, bytesServed: image.size })
  })

  it('serves 50 downloads at once with every byte right (read buffers are reused between downloads)', async () => {
    const image = makeImage('fw-many', 1_000_000)
    const server = await serve(image)
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => fetchBody(tokenUrl(server, `PUMP-2${i}`, image.id), i % 2 ? { headers: { range: `bytes=${i * 1000}-` } } : {})))
    replies.forEach((reply, i) => expect(reply.body.equals(image.bytes.subarray(i % 2 ? i * 1000 : 0))).toBe(true))
  })

  it('resumes a download cut off at 73% from that byte, and the joined image matches', async () => {
    const image = makeImage('fw-resume', 4_000_000)
    const server = await serve(image)
    const url = tokenUrl(server, 'PUMP-002', image.id)
    const cutAt = Math.floor(image.size * 0.73)

    const first = await fetchBody(url, { cutAfter: cutAt })
    expect(first.status).toBe(200)
    expect(first.complete).toBe(false)
    expect(first.body.length).toBe(cutAt)
    await until(() => server.stats().active === 0)

    // What esp_https_ota sends when it resumes: the offset it wrote up to, and the image it holds.
    const rest = await fetchBody(url, { headers: { range: `bytes=${cutAt}-`, 'if-range': first.headers.etag! } })
    expect(rest.status).toBe(206)
    expect(rest.headers['content-range']).toBe(`bytes ${cutAt}-${image.size - 1}/${image.size}`)
    expect(rest.headers['content-length']).toBe(String(image.size - cutAt))
    expect(sha256(Buffer.concat([first.body, rest.body]))).toBe(image.sha256)
    expect(server.stats().devices[0]).toMatchObject({ deviceId: 'PUMP-002', offset: image.size, percent: 100 })
  })

  it('serves a closed range bytes=N-M and a suffix range exactly', async () => {
    const image = makeImage('fw-slices', 300_000)
    const server = await serve(image)
    const url = tokenUrl(server, 'PUMP-003', image.id)
    const slice = await fetchBody(url, { headers: { range: 'bytes=65536-131071' } })
    expect(slice.status).toBe(206)
    expect(slice.headers['content-range']).toBe(`bytes 65536-131071/${image.size}`)
    expect(slice.body.equals(image.bytes.subarray(65536, 131072))).toBe(true)
    const tail = await fetchBody(url, { headers: { range: 'bytes=-1000' } })
    expect(tail.status).toBe(206)
    expect(tail.body.equals(image.bytes.subarray(image.size - 1000))).toBe(true)
    const clamped = await fetchBody(url, { headers: { range: `bytes=${image.size - 10}-${image.size + 5000}` } })
    expect(clamped.headers['content-range']).toBe(`bytes ${image.size - 10}-${image.size - 1}/${image.size}`)
    expect(clamped.body.length).toBe(10)
  })

  it('sends the whole image when If-Range names another build', async () => {
    const image = makeImage('fw-if-range', 200_000)
    const server = await serve(image)
    const stale = `"${'0'.repeat(64)}"`
    const reply = await fetchBody(tokenUrl(server, 'PUMP-004', image.id), { headers: { range: 'bytes=100000-', 'if-range': stale } })
    expect(reply.status).toBe(200)
    expect(reply.headers['content-range']).toBeUndefined()
    expect(reply.headers['content-length']).toBe(String(image.size))
    expect(sha256(reply.body)).toBe(image.sha256)
  })

  it('answers 416 with the size for a range past the end', async () => {
    const image = makeImage('fw-416', 10_000)
    const server = await serve(image)
    const reply = await fetchBody(tokenUrl(server, 'PUMP-005', image.id), { headers: { range: `bytes=${image.size}-` } })
    expect(reply.status).toBe(416)
    expect(reply.headers['content-range']).toBe(`bytes */${image.size}`)
    expect(reply.headers['content-length']).toBe(String(reply.body.length))
  })

  it('answers HEAD with the length and no body, ignoring Range', async () => {
    const image = makeImage('fw-head', 123_456)
    const server = await serve(image)
    const reply = await fetchBody(tokenUrl(server, 'PUMP-006', image.id), { method: 'HEAD', headers: { range: 'bytes=10-' } })
    expect(reply.status).toBe(200)
    expect(reply.headers['content-length']).toBe(String(image.size))
    expect(reply.headers.etag).toBe(`"${image.sha256}"`)
    expect(reply.body.length).toBe(0)
  })

  it('answers 404 off the download path and 405 to other methods', async () => {
    const image = makeImage('fw-paths', 1000)
    const server = await serve(image)
    const url = tokenUrl(server, 'PUMP-007', image.id)
    expect((await fetchBody(`${server.origin}/ota/${image.id}.bin`)).status).toBe(404)
    expect((await fetchBody(`${server.origin}/`)).status).toBe(404)
    const post = await fetchBody(url, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('GET, HEAD')
  })
})

describe('tokens', () => {
  it('refuses an unknown token, one for another artifact, an expired one and a revoked one with 403', async () => {
    let now = Date.now()
    const image = makeImage('fw-a', 5000)
    const other = makeImage('fw-b', 5000)
    const server = await serve(image, { now: () => now })
    await server.publish({ id: other.id, bytes: other.bytes, sha256: other.sha256, size: other.size })

    const unknown = await fetchBody(`${server.origin}/ota/${randomBytes(32).toString('base64url')}/${image.id}.bin`)
    expect(unknown.status).toBe(403)
    expect(unknown.body.toString()).toMatch(/not valid/)

    const forOther = server.issueToken({ deviceId: 'PUMP-010', artifactId: other.id, expiresAt: now + 60_000 })
    expect((await fetchBody(`${server.origin}/ota/${forOther}/${image.id}.bin`)).status).toBe(403)
    expect((await fetchBody(server.urlFor(forOther))).status).toBe(200)

    const expiring = tokenUrl(server, 'PUMP-011', image.id, now + 1000)
    expect((await fetchBody(expiring)).status).toBe(200)
    now += 1000
    expect((await fetchBody(expiring)).status).toBe(403)

    const token = server.issueToken({ deviceId: 'PUMP-012', artifactId: image.id, expiresAt: now + 60_000 })
    const url = server.urlFor(token)
    expect((await fetchBody(url)).status).toBe(200)
    server.revokeToken(token)
    expect((await fetchBody(url)).status).toBe(403)
    expect(server.stats().refusedToken).toBe(4)
  })

  it('issues unguessable tokens of 32 random bytes, one per device and artifact', async () => {
    const image = makeImage('fw-tokens', 1000)
    const server = await serve(image)
    const tokens = new Set(Array.from({ length: 100 }, (_, i) => server.issueToken({ deviceId: `D${i}`, artifactId: image.id, expiresAt: Date.now() + 60_000 })))
    expect(tokens.size).toBe(100)
    for (const token of tokens) expect(Buffer.from(token, 'base64url').length).toBe(32)
    expect(() => server.issueToken({ deviceId: 'D', artifactId: 'not-published', expiresAt: Date.now() + 60_000 })).toThrow(/not published/)
    expect(() => server.issueToken({ deviceId: 'D', artifactId: image.id, expiresAt: Date.now() - 1 })).toThrow(/future/)
  })

  it('cuts a download in flight when its token is revoked', async () => {
    const image = makeImage('fw-revoke', 2_000_000)
    const server = await serve(image, { bandwidthBytesPerSecond: 400_000 })
    const token = server.issueToken({ deviceId: 'PUMP-013', artifactId: image.id, expiresAt: Date.now() + 60_000 })
    let received = 0
    const reply = fetchBody(server.urlFor(token), { onData: (bytes) => (received = bytes) })
    await until(() => received > 100_000)
    expect(server.revokeToken(token)).toBe(1)
    const cut = await reply
    expect(cut.status).toBe(200)
    expect(cut.complete).toBe(false)
    expect(cut.body.length).toBeLessThan(image.size / 2)
    expect(server.stats()).toMatchObject({ active: 0, cut: 1, completed: 0 })
  })

  it('cuts every download of an artifact when the artifact is revoked, and serves it no more', async () => {
    const image = makeImage('fw-abort', 2_000_000)
    const server = await serve(image, { bandwidthBytesPerSecond: 400_000 })
    const urls = ['PUMP-020', 'PUMP-021', 'PUMP-022'].map((device) => tokenUrl(server, device, image.id))
    let received = 0
    const replies = urls.map((url) => fetchBody(url, { onData: (bytes) => (received = Math.max(received, bytes)) }))
    await until(() => received > 50_000 && server.stats().active === 3)
    expect(await server.revokeArtifact(image.id)).toBe(3)
    for (const reply of await Promise.all(replies)) expect(reply.complete).toBe(false)
    expect((await fetchBody(urls[0]!)).status).toBe(403)
  })

  it('lets a new request from a device replace its old connection (Wi-Fi dropped without a FIN)', async () => {
    const image = makeImage('fw-supersede', 400_000)
    const server = await serve(image, { bandwidthBytesPerSecond: 300_000, maxConcurrent: 1 })
    const url = tokenUrl(server, 'PUMP-030', image.id)
    let received = 0
    const stale = fetchBody(url, { onData: (bytes) => (received = bytes) })
    await until(() => received > 50_000)
    const resumed = fetchBody(url, { headers: { range: `bytes=${received}-` } })
    expect((await stale).complete).toBe(false)
    const reply = await resumed
    expect(reply.status).toBe(206)
    expect(reply.complete).toBe(true)
  })
})

describe('limits', () => {
  it('sends at most maxConcurrent at once; the rest wait their turn and then get the whole image', async () => {
    const image = makeImage('fw-limit', 128 * 1024)
    const server = await serve(image, { maxConcurrent: 3, bandwidthBytesPerSecond: 320 * 1024, maxQueueWaitMs: 15_000 })
    const samples: { active: number; queued: number }[] = []
    const sampler = setInterval(() => samples.push(server.stats()), 5)
    try {
      const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => fetchBody(tokenUrl(server, `PUMP-1${i}`, image.id))))
      for (const reply of replies) {
        expect(reply.status).toBe(200)
        expect(sha256(reply.body)).toBe(image.sha256)
      }
    } finally {
      clearInterval(sampler)
    }
    expect(Math.max(...samples.map((sample) => sample.active))).toBe(3)
    expect(Math.max(...samples.map((sample) => sample.queued))).toBe(2)
    expect(server.stats()).toMatchObject({ peakActive: 3, completed: 5, refusedBusy: 0 })
  })

  it('answers 503 with Retry-After when the queue is full or a request waited too long', async () => {
    const image = makeImage('fw-busy', 400_000)
    const server = await serve(image, { maxConcurrent: 1, maxQueued: 1, maxQueueWaitMs: 300, retryAfterSeconds: 5, bandwidthBytesPerSecond: 200_000 })
    let received = 0
    const first = fetchBody(tokenUrl(server, 'PUMP-040', image.id), { onData: (bytes) => (received = bytes) })
    await until(() => received > 0)
    const waited = fetchBody(tokenUrl(server, 'PUMP-041', image.id))
    await until(() => server.stats().queued === 1)
    const full = await fetchBody(tokenUrl(server, 'PUMP-042', image.id))
    expect(full.status).toBe(503)
    expect(Number(full.headers['retry-after'])).toBeGreaterThanOrEqual(5)
    expect(Number(full.headers['retry-after'])).toBeLessThanOrEqual(10)
    const started = Date.now()
    const timedOut = await waited
    expect(timedOut.status).toBe(503)
    expect(Date.now() - started).toBeLessThan(1000)
    expect((await first).complete).toBe(true)
    expect(server.stats().refusedBusy).toBe(2)
  })

  it('puts a resume ahead of fresh downloads in the queue', async () => {
    const image = makeImage('fw-priority', 100_000)
    const server = await serve(image, { maxConcurrent: 1, bandwidthBytesPerSecond: 200_000, maxQueueWaitMs: 10_000 })
    const order: string[] = []
    let received = 0
    const first = fetchBody(tokenUrl(server, 'PUMP-050', image.id), { onData: (bytes) => (received = bytes) })
    await until(() => received > 0)
    const fresh = fetchBody(tokenUrl(server, 'PUMP-051', image.id)).then((reply) => (order.push('fresh'), reply))
    await until(() => server.stats().queued === 1)
    const resume = fetchBody(tokenUrl(server, 'PUMP-052', image.id), { headers: { range: 'bytes=50000-' } }).then((reply) => (order.push('resume'), reply))
    await Promise.all([first, fresh, resume])
    expect(order).toEqual(['resume', 'fresh'])
  })

  it('holds the bandwidth cap within 15% over a few seconds, shared by every download', async () => {
    const image = makeImage('fw-cap', 1_000_000)
    const cap = 1_000_000
    const server = await serve(image, { bandwidthBytesPerSecond: cap })
    const started = performance.now()
    const replies = await Promise.all(['PUMP-060', 'PUMP-061', 'PUMP-062'].map((device) => fetchBody(tokenUrl(server, device, image.id))))
    const seconds = (performance.now() - started) / 1000
    for (const reply of replies) expect(sha256(reply.body)).toBe(image.sha256)
    const rate = (3 * image.size) / seconds
    expect(rate).toBeGreaterThan(cap * 0.85)
    expect(rate).toBeLessThan(cap * 1.15)
  })
})

describe('publishing', () => {
  it('refuses a file whose size or SHA-256 is not the one given', async () => {
    const image = makeImage('fw-check', 50_000)
    const server = new DeliveryServer()
    servers.push(server)
    await expect(server.publish({ id: image.id, filePath: image.filePath, sha256: image.sha256, size: image.size + 1 })).rejects.toThrow(/50000 bytes/)
    await expect(server.publish({ id: image.id, filePath: image.filePath, sha256: sha256(Buffer.from('other')), size: image.size })).rejects.toThrow(/SHA-256/)
    await expect(server.publish({ id: image.id, bytes: image.bytes.subarray(1), sha256: image.sha256, size: image.size })).rejects.toThrow(/bytes/)
    await expect(server.publish({ id: '../etc', bytes: image.bytes, sha256: image.sha256, size: image.size })).rejects.toThrow(/letters/)
    await server.publish({ id: image.id, filePath: image.filePath, sha256: image.sha256, size: image.size })
    await expect(server.publish({ id: image.id, bytes: Buffer.from('x'), sha256: sha256(Buffer.from('x')), size: 1 })).rejects.toThrow(/already published/)
  })

  it('serves what was published even if the file is replaced afterwards', async () => {
    const image = makeImage('fw-swap', 100_000)
    const server = await serve(image)
    rmSync(image.filePath)
    writeFileSync(image.filePath, randomBytes(image.size))
    const reply = await fetchBody(tokenUrl(server, 'PUMP-070', image.id))
    expect(sha256(reply.body)).toBe(image.sha256)
  })
})

describe('TLS', () => {
  it('serves and resumes over HTTPS with a self-signed certificate', async () => {
    const tls = selfSignedLoopbackCertificate(dir)
    const cert = tls.cert
    const image = makeImage('fw-tls', 1_000_000)
    const server = await serve(image, { tls })
    const url = tokenUrl(server, 'PUMP-080', image.id)
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/ota\//)
    const head = await fetchBody(url, { ca: cert, cutAfter: 300_000 })
    const rest = await fetchBody(url, { ca: cert, headers: { range: 'bytes=300000-', 'if-range': `"${image.sha256}"` } })
    expect(rest.status).toBe(206)
    expect(sha256(Buffer.concat([head.body, rest.body]))).toBe(image.sha256)
    await expect(fetchBody(url)).rejects.toThrow()
  })
})
