import { request as httpRequest } from 'node:http'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocket, type ClientOptions } from 'ws'
import { silentLogger } from '../../electron/core'
import { startHeadlessHost, type HeadlessHost, type HostOptions } from '../../electron/server/host'

export interface Frame {
  id?: number | string | null
  ok?: boolean
  value?: unknown
  error?: { code: string; message: string; issues?: { path: string; message: string }[] }
  event?: string
  payload?: unknown
}

export const indexHtml = '<!doctype html><title>ESP Fleet Console test</title>'

/** A temp folder with a renderer (index.html) and a data folder beside it. */
export function makeWorkspace(prefix: string): { root: string; rendererDir: string; dataDir: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const rendererDir = join(root, 'renderer')
  mkdirSync(rendererDir)
  writeFileSync(join(rendererDir, 'index.html'), indexHtml)
  return { root, rendererDir, dataDir: join(root, 'data'), remove: () => rmSync(root, { recursive: true, force: true }) }
}

export function startHost(options: Partial<HostOptions> & Pick<HostOptions, 'dataDir' | 'rendererDir'>): Promise<HeadlessHost> {
  return startHeadlessHost({ listen: '127.0.0.1', port: 0, mqttPort: 0, log: silentLogger, ...options })
}

export function wsUrl(host: HeadlessHost): string {
  return `${host.url.replace(/^http/, 'ws')}ws`
}

/** A WebSocket client that keeps every frame it receives. */
export class Client {
  readonly frames: Frame[] = []
  private waiters: { match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = []
  private nextId = 1

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame
      this.frames.push(frame)
      for (const waiter of [...this.waiters]) {
        if (waiter.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          waiter.resolve(frame)
        }
      }
    })
  }

  static connect(url: string, options: ClientOptions = {}): Promise<Client> {
    const socket = new WebSocket(url, options)
    const client = new Client(socket)
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client))
      socket.once('error', reject)
    })
  }

  /** Resolves with the first frame (already received or still to come) that matches. */
  next(match: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const seen = this.frames.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('No matching frame arrived')), timeoutMs)
      this.waiters.push({
        match,
        resolve: (frame) => {
          clearTimeout(timer)
          resolve(frame)
        },
      })
    })
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary })
  }

  reply(id: number | string | null): Promise<Frame> {
    return this.next((frame) => frame.event === undefined && frame.id === id)
  }

  call(method: string, params?: unknown): Promise<Frame> {
    const id = this.nextId++
    this.socket.send(JSON.stringify(params === undefined ? { id, method } : { id, method, params }))
    return this.reply(id)
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve())
      this.socket.close()
    })
  }
}

/** Resolves with the HTTP status of a refused upgrade (or rejects if the upgrade succeeded). */
export function refusedUpgrade(url: string, options: ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options)
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0)
      socket.terminate()
    })
    socket.on('open', () => {
      socket.close()
      reject(new Error('The upgrade was accepted'))
    })
    socket.on('error', (error) => reject(error))
  })
}

/** A raw GET that sends the path exactly as given (fetch would normalise dot segments away). */
export function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    httpRequest({ hostname, port, path, method: 'GET' }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
      .on('error', reject)
      .end()
  })
}
