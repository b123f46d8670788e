import { createHash, randomBytes } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { silentLogger, type Logger } from '../log'
import { decideRange } from './delivery-range'
import { TokenBucket, type BandwidthGrant } from './delivery-token-bucket'

/**
 * The OTA file server inside the core: devices fetch signed images from it over HTTP(S) with byte
 * ranges, each with its own download token, so a download cut off at 73% resumes at 73%.
 *
 * Admission is a bounded wait, then 503. A device over the concurrency limit is held in a short queue
 * rather than refused at once, because a refusal costs an ESP32 a new connection and, over HTTPS, a new
 * TLS handshake (about a second of CPU and tens of KB of heap), and esp_https_ota treats any 5xx as a
 * failed update that the application's own retry loop repeats later, ignoring Retry-After. The wait is
 * bounded in time below esp_http_client's default 5 s receive timeout, so a held device is answered
 * (503 with Retry-After for clients that read it, such as curl) before it gives up on its own, and in
 * length, so a stampede cannot hold unbounded sockets. Resumes go ahead of fresh starts: a device with
 * half an image in its passive slot is closest to done, and esp_https_ota's partial-download mode asks
 * for every 64 KB slice with a new request that would otherwise queue behind every device yet to start.
 */
export interface DeliveryServerOptions {
  /** Address to bind; the default is loopback, as every listener of the console starts. */
  host?: string
  /** 0 picks a free port. */
  port?: number
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** Downloads sending at once; more wait in the queue. */
  maxConcurrent?: number
  /** Requests that may wait for a slot; beyond that, 503 at once. */
  maxQueued?: number
  /** Longest a request waits for a slot before it gets 503; keep it under the devices' receive timeout. */
  maxQueueWaitMs?: number
  /** Base of the Retry-After on a 503; each answer adds up to as much again so a cohort comes back spread out. */
  retryAfterSeconds?: number
  /** One cap for all downloads together (the site's uplink); 0 or undefined for none. */
  bandwidthBytesPerSecond?: number
  /** A socket that moves no bytes this long is closed: a device that lost power leaves no FIN behind. 0: never. */
  idleTimeoutMs?: number
  /** Pending connections the kernel keeps; a cohort told to update at once connects at once. */
  backlog?: number
  /** Wall clock (ms since the epoch) for token expiry. */
  now?: () => number
  log?: Logger
}

/** An image to serve. Its signature was verified by the caller; here only size and SHA-256 are checked. */
export interface DeliveryArtifact {
  /** Letters, digits, `.`, `_` and `-`: it appears in the URL as `<id>.bin`. */
  id: string
  filePath?: string
  bytes?: Uint8Array
  /** Hex SHA-256 of the image; it is also the ETag. */
  sha256: string
  size: number
}

export interface PublishedArtifact {
  id: string
  sha256: string
  size: number
  etag: string
}

export interface DownloadTokenRequest {
  deviceId: string
  artifactId: string
  /** ms since the epoch. Checked when a request arrives; a download under way is not cut by it. */
  expiresAt: number
}

/**
 * How far a device's latest download got, as the server sent it: bytes handed to the socket, so it
 * runs ahead of the device by what the network buffers. The device's own report is the authority.
 */
export interface DeviceDownloadProgress {
  deviceId: string
  artifactId: string
  size: number
  /** End of the bytes sent by the device's latest request: where a resume would start. */
  offset: number
  /** offset / size × 100. */
  percent: number
  /** Bytes sent to it for this artifact over every request, resends included. */
  bytesSent: number
  /** Requests of it sending now. */
  active: number
  updatedAt: number
}

export interface DeliveryStats {
  active: number
  queued: number
  peakActive: number
  maxConcurrent: number
  bytesServed: number
  /** Responses sent to the last byte. */
  completed: number
  /** Responses cut before their last byte: revoked, superseded, or the device went away. */
  cut: number
  /** 503s: the queue was full or a request waited too long. */
  refusedBusy: number
  /** 403s: unknown, expired, revoked, or another artifact's token. */
  refusedToken: number
  devices: DeviceDownloadProgress[]
}

const defaults = {
  host: '127.0.0.1',
  maxConcurrent: 64,
  maxQueued: 256,
  maxQueueWaitMs: 3000,
  retryAfterSeconds: 10,
  idleTimeoutMs: 30_000,
  backlog: 1024,
}

// Unlimited downloads read in the size fs streams use; the page cache makes larger reads no faster.
const fullChunk = 64 * 1024
const idPattern = /^[A-Za-z0-9._-]{1,128}$/
const pathPattern = /^\/ota\/([^/?]+)\/([^/?]+)\.bin(?:\?.*)?$/
const forbiddenText = 'This download link is not valid: unknown, expired or revoked token.\n'

interface Artifact extends PublishedArtifact {
  handle?: FileHandle
  bytes?: Buffer
  /** Read failures are logged once per artifact, not once per request. */
  failed: boolean
}

interface Token {
  deviceId: string
  artifactId: string
  expiresAt: number
  downloads: Set<Download>
}

interface Download {
  res: ServerResponse
  socket: Socket
  token: Token
  artifact: Artifact
  start: number
  /** Exclusive. */
  end: number
  partial: boolean
  state: 'queued' | 'active' | 'closed'
  queueTimer?: NodeJS.Timeout
  grant?: BandwidthGrant
  /** Wakes the pump when it waits for 'drain' and the response closes instead. */
  wake?: () => void
  progress?: DeviceDownloadProgress
  /** Status headers, written when the download leaves the queue. */
  headers: Record<string, string | number>
  sentAll: boolean
}

export class DeliveryServer {
  private readonly options: Required<Omit<DeliveryServerOptions, 'tls' | 'bandwidthBytesPerSecond' | 'port'>> & { port: number }
  private readonly server: Server
  private readonly protocol: 'http' | 'https'
  private readonly bucket: TokenBucket | null
  private readonly chunkSize: number
  private readonly artifacts = new Map<string, Artifact>()
  private readonly tokens = new Map<string, Token>()
  private readonly progress = new Map<string, DeviceDownloadProgress>()
  private readonly active = new Set<Download>()
  private readonly resumeQueue: Download[] = []
  private readonly freshQueue: Download[] = []
  // Read buffers back from the socket, for the next read of any download: without them a cohort
  // leaves a 64 KB buffer of garbage per chunk sent and the collector, not the downloads, sets the
  // memory high-water mark. Never more than one per download slot, and none once no download runs.
  private readonly spareBuffers: Buffer[] = []
  private counters = { peakActive: 0, bytesServed: 0, completed: 0, cut: 0, refusedBusy: 0, refusedToken: 0 }
  private issuedSinceSweep = 0
  private stopping = false
  private started = false

  constructor(options: DeliveryServerOptions = {}) {
    this.options = {
      host: options.host ?? defaults.host,
      port: options.port ?? 0,
      maxConcurrent: options.maxConcurrent ?? defaults.maxConcurrent,
      maxQueued: options.maxQueued ?? defaults.maxQueued,
      maxQueueWaitMs: options.maxQueueWaitMs ?? defaults.maxQueueWaitMs,
      retryAfterSeconds: options.retryAfterSeconds ?? defaults.retryAfterSeconds,
      idleTimeoutMs: options.idleTimeoutMs ?? defaults.idleTimeoutMs,
      backlog: options.backlog ?? defaults.backlog,
      now: options.now ?? Date.now,
      log: options.log ?? silentLogger,
    }
    if (!(this.options.maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be at least 1')
    // A queued request moves no bytes: the idle timeout would close it before the queue answers it.
    if (this.options.idleTimeoutMs > 0 && this.options.maxQueueWaitMs >= this.options.idleTimeoutMs) throw new RangeError('maxQueueWaitMs must be shorter than idleTimeoutMs')
    const rate = options.bandwidthBytesPerSecond ?? 0
    if (rate > 0) {
      // Under a cap every download must get bytes often, or a device's 5 s receive timeout fires while
      // the others spend the budget: a chunk is about half a second of one download's fair share.
      this.chunkSize = Math.round(Math.min(fullChunk, Math.max(1024, rate / this.options.maxConcurrent / 2)))
      // A burst of a tenth of a second after a quiet spell, so the cap holds over any second.
      this.bucket = new TokenBucket(rate, Math.max(this.chunkSize, rate / 10))
    } else {
      this.chunkSize = fullChunk
      this.bucket = null
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res)
    this.server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler)
    this.protocol = options.tls ? 'https' : 'http'
    this.server.setTimeout(this.options.idleTimeoutMs, (socket) => socket.destroy())
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('The OTA delivery server was already started')
    this.started = true
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host: this.options.host, port: this.options.port, backlog: this.options.backlog }, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    this.options.log.info(`OTA delivery listening at ${this.origin}`)
  }

  /** `http(s)://host:port` as bound; devices on the LAN need urlFor() with the address they can reach. */
  get origin(): string {
    const address = this.server.address() as AddressInfo | null
    if (!address) throw new Error('The OTA delivery server is not listening')
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `${this.protocol}://${host}:${address.port}`
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** The URL a device fetches with this token; `host` replaces the bound address (e.g. 0.0.0.0). */
  urlFor(token: string, host?: string): string {
    const entry = this.tokens.get(token)
    if (!entry) throw new Error('Unknown download token')
    const origin = host ? `${this.protocol}://${host}:${this.port}` : this.origin
    return `${origin}${downloadPath(token, entry.artifactId)}`
  }

  /**
   * Makes an image downloadable once its bytes are what the caller says: size and SHA-256 are checked
   * here, reading the file in slices, so a truncated copy or a file swapped after verification is
   * refused rather than served to a fleet. The file stays open, so a rename over it later changes
   * nothing that is served.
   */
  async publish(artifact: DeliveryArtifact): Promise<PublishedArtifact> {
    if (!idPattern.test(artifact.id)) throw new Error(`Artifact id "${artifact.id}" may hold only letters, digits, ".", "_" and "-" (1 to 128)`)
    const sha256 = artifact.sha256.toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`Artifact ${artifact.id}: sha256 must be 64 hex digits`)
    if (!Number.isSafeInteger(artifact.size) || artifact.size <= 0) throw new Error(`Artifact ${artifact.id}: size must be a positive whole number of bytes`)
    if ((artifact.filePath === undefined) === (artifact.bytes === undefined)) throw new Error(`Artifact ${artifact.id}: give either filePath or bytes`)

    const existing = this.artifacts.get(artifact.id)
    if (existing) return sameOrRefuse(existing, sha256, artifact.size)

    let entry: Artifact
    if (artifact.bytes) {
      // A copy, so the caller reusing its buffer cannot change what devices receive.
      const bytes = Buffer.from(artifact.bytes)
      checkContent(artifact.id, bytes.length, createHash('sha256').update(bytes).digest('hex'), artifact.size, sha256)
      entry = { id: artifact.id, sha256, size: artifact.size, etag: `"${sha256}"`, bytes, failed: false }
    } else {
      const handle = await open(artifact.filePath!, 'r')
      try {
        const { size } = await handle.stat()
        checkContent(artifact.id, size, size === artifact.size ? await hashFile(handle, size) : '', artifact.size, sha256)
      } catch (error) {
        await handle.close()
        throw error
      }
      entry = { id: artifact.id, sha256, size: artifact.size, etag: `"${sha256}"`, handle, failed: false }
    }
    const raced = this.artifacts.get(artifact.id)
    if (raced) {
      await entry.handle?.close()
      return sameOrRefuse(raced, sha256, artifact.size)
    }
    this.artifacts.set(entry.id, entry)
    return describe(entry)
  }

  /** A download token for one device and one artifact: 32 random bytes, base64url. */
  issueToken(request: DownloadTokenRequest): string {
    if (typeof request.deviceId !== 'string' || request.deviceId.length === 0) throw new Error('A download token needs a device id')
    if (!this.artifacts.has(request.artifactId)) throw new Error(`Artifact ${request.artifactId} is not published`)
    if (!Number.isFinite(request.expiresAt) || request.expiresAt <= this.options.now()) throw new Error('A download token must expire in the future')
    if (++this.issuedSinceSweep >= 256) this.sweepExpired()
    const token = randomBytes(32).toString('base64url')
    this.tokens.set(token, { deviceId: request.deviceId, artifactId: request.artifactId, expiresAt: request.expiresAt, downloads: new Set() })
    return token
  }

  /** Refuses the token from now on and cuts its downloads under way; returns how many were cut. */
  revokeToken(token: string): number {
    const entry = this.tokens.get(token)
    if (!entry) return 0
    this.tokens.delete(token)
    let cut = 0
    for (const download of [...entry.downloads]) {
      if (download.state === 'queued') {
        this.dequeue(download)
        this.refuseToken(download.res)
      } else {
        this.cut(download)
        cut++
      }
    }
    return cut
  }

  /**
   * Stops serving an artifact (an aborted rollout): every token for it is revoked, downloads under way
   * are cut mid-body, so the device sees a failed download rather than an image the operator withdrew.
   * Returns how many downloads were cut.
   */
  async revokeArtifact(artifactId: string): Promise<number> {
    let cut = 0
    for (const [token, entry] of this.tokens) if (entry.artifactId === artifactId) cut += this.revokeToken(token)
    const artifact = this.artifacts.get(artifactId)
    this.artifacts.delete(artifactId)
    // FileHandle.close waits for reads still in the thread pool, so no read lands on a reused fd.
    await artifact?.handle?.close()
    return cut
  }

  stats(): DeliveryStats {
    return {
      active: this.active.size,
      queued: this.resumeQueue.length + this.freshQueue.length,
      maxConcurrent: this.options.maxConcurrent,
      ...this.counters,
      devices: [...this.progress.values()].map((entry) => ({ ...entry, percent: (entry.offset / entry.size) * 100 })),
    }
  }

  /**
   * Stops listening. Waiting requests get 503; downloads under way may finish for `graceMs`, then are
   * cut — which costs a device nothing but a resume from where it was.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    const closed = this.server.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve()
    for (const download of [...this.resumeQueue, ...this.freshQueue]) {
      this.dequeue(download)
      this.refuseBusy(download.res)
    }
    this.server.closeIdleConnections()
    const deadline = Date.now() + (options.graceMs ?? 0)
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    for (const download of [...this.active]) this.cut(download)
    this.server.closeAllConnections()
    this.bucket?.close()
    await closed
    await Promise.all([...this.artifacts.values()].map((artifact) => artifact.handle?.close()))
    this.artifacts.clear()
    this.tokens.clear()
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const match = pathPattern.exec(req.url ?? '')
    if (!match) return plain(res, 404, 'Not found.\n')
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Only GET and HEAD.\n', { allow: 'GET, HEAD' })
    if (this.stopping) return this.refuseBusy(res)
    const token = this.tokens.get(match[1]!)
    const artifact = token && this.artifacts.get(token.artifactId)
    if (!token || !artifact || token.artifactId !== match[2] || token.expiresAt <= this.options.now()) return this.refuseToken(res)

    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: artifact.etag,
      // The URL holds a credential: no cache or proxy may keep the response.
      'cache-control': 'private, no-store',
    }
    // Range is defined for GET only (RFC 9110 §14.2): HEAD describes the whole image.
    const decision = req.method === 'GET' ? decideRange(header(req, 'range'), header(req, 'if-range'), artifact.etag, artifact.size) : { kind: 'full' as const }
    if (decision.kind === 'unsatisfiable') return plain(res, 416, 'Range not satisfiable.\n', { 'content-range': `bytes */${artifact.size}`, etag: artifact.etag })
    const start = decision.kind === 'partial' ? decision.start : 0
    const end = decision.kind === 'partial' ? decision.end + 1 : artifact.size
    headers['content-length'] = end - start
    if (decision.kind === 'partial') headers['content-range'] = `bytes ${start}-${end - 1}/${artifact.size}`
    if (req.method === 'HEAD') {
      res.writeHead(200, headers)
      res.end()
      return
    }

    // A device runs one download at a time. A new request from it means the old connection is dead
    // even if no FIN arrived (Wi-Fi dropped mid-image), so the old one gives up its slot now rather
    // than when TCP notices minutes later. A request pipelined behind it on the same connection is
    // not such a sign, and cutting would take the new request down with the shared socket.
    for (const older of [...token.downloads]) {
      if (older.socket === req.socket) continue
      if (older.state === 'queued') {
        this.dequeue(older)
        older.res.destroy()
      } else this.cut(older)
    }

    const queued = this.resumeQueue.length + this.freshQueue.length
    const free = this.active.size < this.options.maxConcurrent && queued === 0
    if (!free && queued >= this.options.maxQueued) return this.refuseBusy(res)
    const download: Download = { res, socket: req.socket, token, artifact, start, end, partial: decision.kind === 'partial', state: 'queued', headers, sentAll: false }
    token.downloads.add(download)
    res.on('close', () => this.finish(download))
    if (free) return this.begin(download)
    ;(start > 0 ? this.resumeQueue : this.freshQueue).push(download)
    download.queueTimer = setTimeout(() => {
      this.dequeue(download)
      this.refuseBusy(res)
    }, this.options.maxQueueWaitMs)
  }

  private begin(download: Download): void {
    download.state = 'active'
    this.active.add(download)
    if (this.active.size > this.counters.peakActive) this.counters.peakActive = this.active.size
    const { token, artifact } = download
    let progress = this.progress.get(token.deviceId)
    if (!progress || progress.artifactId !== artifact.id) {
      progress = { deviceId: token.deviceId, artifactId: artifact.id, size: artifact.size, offset: 0, percent: 0, bytesSent: 0, active: 0, updatedAt: 0 }
      this.progress.set(token.deviceId, progress)
    }
    progress.offset = download.start
    progress.active++
    progress.updatedAt = this.options.now()
    download.progress = progress
    download.res.writeHead(download.partial ? 206 : 200, download.headers)
    void this.pump(download)
  }

  /**
   * Disk to socket one chunk at a time, waiting for 'drain': a download holds at most one chunk, and
   * only while it is read or in the socket's hands.
   */
  private async pump(download: Download): Promise<void> {
    const { res, artifact } = download
    const progress = download.progress!
    let position = download.start
    try {
      while (position < download.end) {
        const length = Math.min(this.chunkSize, download.end - position)
        const grant = this.bucket?.take(length)
        if (grant) {
          download.grant = grant
          await grant.granted
          download.grant = undefined
          if (download.state !== 'active') return
        }
        let chunk: Buffer
        let buffer: Buffer | undefined
        if (artifact.bytes) chunk = artifact.bytes.subarray(position, position + length)
        else {
          buffer = this.spareBuffers.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize)
          chunk = length === buffer.length ? buffer : buffer.subarray(0, length)
          const { bytesRead } = await artifact.handle!.read(chunk, 0, length, position)
          if (download.state !== 'active') return this.giveBack(buffer)
          if (bytesRead !== length) throw new Error(`${artifact.id} is shorter on disk than when it was published`)
        }
        // The socket's write callback is the moment it no longer reads the buffer (libuv is done with
        // it, or the write was dropped); only then may the next read fill it.
        const written = buffer && (() => this.giveBack(buffer))
        position += length
        this.counters.bytesServed += length
        progress.bytesSent += length
        progress.offset = position
        if (position === download.end) {
          progress.updatedAt = this.options.now()
          download.sentAll = true
          res.end(chunk, written)
          return
        }
        if (!res.write(chunk, written)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done)
              download.wake = undefined
              resolve()
            }
            download.wake = done
            res.once('drain', done)
          })
          if (download.state !== 'active') return
          progress.updatedAt = this.options.now()
        }
      }
    } catch (error) {
      if (download.state !== 'active') return
      if (!artifact.failed) {
        artifact.failed = true
        this.options.log.error(`OTA delivery could not read ${artifact.id}; its downloads are cut`, error)
      }
      this.cut(download)
    }
  }

  private giveBack(buffer: Buffer): void {
    if (this.spareBuffers.length < this.options.maxConcurrent) this.spareBuffers.push(buffer)
  }

  /** Ends a download mid-body: with Content-Length sent, the device sees a short read, not an image. */
  private cut(download: Download): void {
    download.res.destroy()
    this.finish(download)
  }

  private finish(download: Download): void {
    if (download.state === 'closed') return
    const wasActive = download.state === 'active'
    if (download.state === 'queued') this.dequeue(download)
    download.state = 'closed'
    download.token.downloads.delete(download)
    download.grant?.cancel()
    download.wake?.()
    if (wasActive) {
      this.active.delete(download)
      download.progress!.active--
      if (download.sentAll && download.res.writableFinished) this.counters.completed++
      else this.counters.cut++
      this.admit()
      // Between rollouts the console holds no read buffers.
      if (this.active.size === 0) this.spareBuffers.length = 0
    }
  }

  private dequeue(download: Download): void {
    clearTimeout(download.queueTimer)
    const queue = download.start > 0 ? this.resumeQueue : this.freshQueue
    const index = queue.indexOf(download)
    if (index >= 0) queue.splice(index, 1)
    download.state = 'closed'
    download.token.downloads.delete(download)
  }

  private admit(): void {
    while (!this.stopping && this.active.size < this.options.maxConcurrent) {
      const next = this.resumeQueue.shift() ?? this.freshQueue.shift()
      if (!next) return
      clearTimeout(next.queueTimer)
      this.begin(next)
    }
  }

  private refuseBusy(res: ServerResponse): void {
    this.counters.refusedBusy++
    const retryAfter = this.options.retryAfterSeconds + Math.floor(Math.random() * (this.options.retryAfterSeconds + 1))
    // Connection: close frees the socket; the device reconnects after its back-off anyway.
    plain(res, 503, `Busy: ${this.active.size} downloads under way. Retry after ${retryAfter} s.\n`, { 'retry-after': retryAfter, connection: 'close' })
  }

  private refuseToken(res: ServerResponse): void {
    this.counters.refusedToken++
    plain(res, 403, forbiddenText)
  }

  private sweepExpired(): void {
    this.issuedSinceSweep = 0
    const now = this.options.now()
    for (const [token, entry] of this.tokens) if (entry.expiresAt <= now && entry.downloads.size === 0) this.tokens.delete(token)
  }
}

/** `/ota/<token>/<artifactId>.bin`, the path a device is given. */
export function downloadPath(token: string, artifactId: string): string {
  return `/ota/${token}/${artifactId}.bin`
}

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string | number> = {}): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...extra })
  res.end(text)
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

async function hashFile(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(Math.min(size, 1 << 20))
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position)
    if (bytesRead === 0) break
    hash.update(buffer.subarray(0, bytesRead))
    position += bytesRead
  }
  return hash.digest('hex')
}

function checkContent(id: string, actualSize: number, actualSha256: string, size: number, sha256: string): void {
  if (actualSize !== size) throw new Error(`Artifact ${id} is ${actualSize} bytes, not the ${size} it was published as; not served`)
  if (actualSha256 !== sha256) throw new Error(`Artifact ${id}'s SHA-256 is ${actualSha256}, not ${sha256}; not served`)
}

function sameOrRefuse(existing: Artifact, sha256: string, size: number): PublishedArtifact {
  if (existing.sha256 !== sha256 || existing.size !== size) {
    throw new Error(`Artifact ${existing.id} is already published with other content; revoke it before publishing another image under that id`)
  }
  return describe(existing)
}

function describe(artifact: Artifact): PublishedArtifact {
  return { id: artifact.id, sha256: artifact.sha256, size: artifact.size, etag: artifact.etag }
}
