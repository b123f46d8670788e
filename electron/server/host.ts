import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { userInfo } from 'node:os'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  failure,
  isMethodName,
  methods,
  parseRequestFrame,
  salvageId,
  type ContractError,
  type ErrorCode,
  type HostFrame,
} from '../../shared/contract'
import { createCore, product, stderrLogger, type Core, type Logger } from '../core'
import { Authenticator, readCookie, sessionCookie, type Secrets } from './auth'
import { isLoopbackOnly, urlHost } from './listen-address'
import { loginPage } from './login-page'
import { readRendererFile } from './static-files'

export interface HostOptions {
  listen: string
  port: number
  dataDir: string
  rendererDir: string
  secrets?: Secrets
  tls?: { cert: Buffer; key: Buffer }
  log?: Logger
  /** Embedded MQTT broker port for this run, over the setting. */
  mqttPort?: number
  /** OTA file server port for this run; 0 or absent picks a free one. */
  otaPort?: number
  /** Serial ports to offer on the Bench besides USB ones. */
  serialPorts?: string[]
  /** The built site worker; absent when the host runs from TypeScript (tests), see CoreConfig.siteWorker. */
  siteWorker?: URL
}

export interface HeadlessHost {
  url: string
  core: Core
  close(): Promise<void>
}

/** A refusal to start that the operator can act on (printed as one line, exit code 2). */
export class HostConfigError extends Error {}

/** Frames above this close the socket outright (ws 1009); below it, oversized requests get TOO_LARGE. */
const hardFrameLimit = 32 * 1024 * 1024

const securityHeaders = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self' ws: wss:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
}

const httpStatus: Record<ErrorCode, number> = {
  BAD_FRAME: 400,
  UNKNOWN_METHOD: 404,
  INVALID_PARAMS: 400,
  TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
  NOT_FOUND: 404,
  CONFLICT: 409,
  TIMEOUT: 504,
  DISCONNECTED: 503,
  INTERNAL: 500,
}

export async function startHeadlessHost(options: HostOptions): Promise<HeadlessHost> {
  const log = options.log ?? stderrLogger
  const secrets = options.secrets ?? {}
  if (!isLoopbackOnly(options.listen) && !secrets.password && !secrets.token) {
    throw new HostConfigError(
      `Refusing to listen on ${options.listen} without authentication: set CONSOLE_PASSWORD (or --password-file) or CONSOLE_TOKEN (or --token-file), or listen on 127.0.0.1.`,
    )
  }
  const scheme = options.tls ? 'https' : 'http'
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer()
  await listen(server, options.listen, options.port)
  const { port } = server.address() as AddressInfo
  const url = `${scheme}://${urlHost(options.listen)}:${port}/`

  const core = createCore({ dataDir: options.dataDir, host: { kind: 'headless', url }, log, ...(options.mqttPort !== undefined ? { mqttPort: options.mqttPort } : {}), ...(options.otaPort !== undefined ? { otaPort: options.otaPort } : {}), ...(options.serialPorts ? { serialPorts: options.serialPorts } : {}), ...(options.siteWorker ? { siteWorker: options.siteWorker } : {}) })
  const osUser = safeUserName()
  const localActor = () => core.settings.get().operatorName || osUser
  const auth = new Authenticator(secrets, core.sessions, localActor)
  const secureCookie = options.tls ? '; Secure' : ''

  const sendJson = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders })
    response.end(JSON.stringify(body))
  }
  const sendError = (response: ServerResponse, error: ContractError) => sendJson(response, httpStatus[error.code], { error })
  const sendHtml = (response: ServerResponse, status: number, html: string, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...securityHeaders, ...headers })
    response.end(html)
  }
  const redirect = (response: ServerResponse, location: string, headers: Record<string, string> = {}) => {
    response.writeHead(303, { location, ...headers })
    response.end()
  }

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const requestUrl = new URL(request.url ?? '/', 'http://host')
    const path = requestUrl.pathname
    const caller = auth.identify(request)

    if (path === '/healthz' && request.method === 'GET') {
      const health = core.health()
      const states = Object.values(health.services).map((service) => service.state)
      const status = states.includes('down') ? 'down' : states.includes('degraded') ? 'degraded' : 'ok'
      return sendJson(response, health.services.store.state === 'down' ? 503 : 200, { status, ...health })
    }
    if (path === '/login') {
      if (!auth.required) return redirect(response, '/')
      if (request.method === 'GET') return sendHtml(response, 200, loginPage(product.name))
      if (request.method === 'POST') return login(request, response)
    }
    if (path === '/logout' && request.method === 'POST') {
      const token = readCookie(request, sessionCookie)
      if (token) core.sessions.revoke(token)
      return redirect(response, auth.required ? '/login' : '/', { 'set-cookie': `${sessionCookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secureCookie}` })
    }
    if (path.startsWith('/api/')) {
      if (!caller.ok) return sendError(response, { code: 'UNAUTHENTICATED', message: 'Sign in at /login, or send Authorization: Bearer <token>.' })
      const method = path.slice('/api/'.length)
      if (!isMethodName(method)) return sendError(response, failure('UNKNOWN_METHOD', `There is no method ${JSON.stringify(method)}.`).error)
      if (request.method !== 'GET' || !methods[method].readOnly) {
        return sendError(response, { code: 'FORBIDDEN', message: `${method} changes the console; call it over the WebSocket at /ws. Only read-only methods are served as GET /api/<method>.` })
      }
      const outcome = await core.dispatch(method, queryParams(requestUrl.searchParams), caller.context)
      return outcome.ok ? sendJson(response, 200, outcome.value) : sendError(response, outcome.error)
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' })
      return response.end()
    }
    if (!caller.ok) return redirect(response, '/login')
    const file = await readRendererFile(options.rendererDir, path)
    if (!file) {
      if (path === '/') return sendHtml(response, 503, `<p>The console's screens are not built. Run <code>npm run build</code> and reload.</p>`)
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
      return response.end('Not found')
    }
    response.writeHead(200, {
      'content-type': file.type,
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...securityHeaders,
    })
    response.end(request.method === 'HEAD' ? undefined : file.body)
  }

  const login = async (request: IncomingMessage, response: ServerResponse) => {
    const body = await readBody(request, 16 * 1024).catch(() => null)
    if (body === null) return sendHtml(response, 413, loginPage(product.name, 'The sign-in form was too large.'))
    const form = new URLSearchParams(body)
    const name = (form.get('name') ?? '').trim().slice(0, 64)
    const verdict = auth.checkLogin(request.socket.remoteAddress ?? '?', form.get('password') ?? '')
    if (verdict !== 'ok' || !name) {
      const message =
        verdict === 'throttled' ? 'Too many attempts from this address. Wait a minute and try again.' : !name ? 'Enter your name.' : 'Wrong password or token.'
      return sendHtml(response, verdict === 'throttled' ? 429 : 401, loginPage(product.name, message))
    }
    const hours = core.settings.get().sessionHours
    const { token } = core.sessions.create(name, hours)
    redirect(response, '/', {
      'set-cookie': `${sessionCookie}=${token}; Path=/; Max-Age=${Math.round(hours * 3600)}; HttpOnly; SameSite=Strict${secureCookie}`,
    })
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handle(request, response).catch((error: unknown) => {
      log.error(`${request.method} ${request.url} failed`, error)
      if (!response.headersSent) sendError(response, { code: 'INTERNAL', message: 'The console failed to answer; the log has details.' })
      else response.destroy()
    })
  })

  const sockets = new WebSocketServer({ noServer: true, maxPayload: hardFrameLimit })
  server.on('upgrade', (request, socket, head) => {
    const refuse = (status: number, reason: string) => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
    }
    if (new URL(request.url ?? '/', 'http://host').pathname !== '/ws') return refuse(404, 'Not Found')
    // A page on another site must not be able to drive this console through the operator's browser.
    const origin = request.headers.origin
    if (origin && origin !== `${scheme}://${request.headers.host}`) return refuse(403, 'Forbidden')
    const caller = auth.identify(request)
    if (!caller.ok) return refuse(401, 'Unauthorized')
    sockets.handleUpgrade(request, socket, head, (ws) => serveSocket(ws, caller.context))
  })

  const serveSocket = (ws: WebSocket, context: Parameters<Core['dispatch']>[2]) => {
    let alive = true
    ws.on('pong', () => (alive = true))
    const heartbeat = setInterval(() => {
      if (!alive) return ws.terminate()
      alive = false
      ws.ping()
    }, 30_000)
    heartbeat.unref()
    const send = (frame: HostFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
    }
    const unsubscribe = core.events.subscribe((event, payload) => send({ event, payload }))
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send({ id: null, ...failure('BAD_FRAME', 'Binary frames are not part of the contract; send JSON text.') })
      const text = data.toString()
      const frame = parseRequestFrame(text)
      if (!frame.ok) return send({ id: salvageId(text), ...frame })
      const { id, method, params } = frame.value
      // A local operator's name can change while the socket is open; the audit log must use the current one.
      const current = context.via === 'local' ? { ...context, actor: localActor() } : context
      core.dispatch(method, params, current).then(
        (outcome) => send({ id, ...outcome }),
        (error: unknown) => send({ id, ...failure('INTERNAL', String(error)) }),
      )
    })
    ws.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
    })
    ws.on('error', (error) => log.warn(`WebSocket client error: ${error.message}`))
  }

  let closing: Promise<void> | null = null
  return {
    url,
    core,
    close() {
      closing ??= (async () => {
        for (const client of sockets.clients) client.close(1001, 'The console host is shutting down')
        sockets.close()
        server.closeIdleConnections()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          setTimeout(() => {
            server.closeAllConnections()
          }, 2000).unref()
        })
        await core.dispose()
      })()
      return closing
    },
  }
}

/** `?limit=5&beforeId=9` → `{limit: 5, beforeId: 9}`: values that parse as JSON are taken as such. */
function queryParams(search: URLSearchParams): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const [key, value] of search) {
    try {
      params[key] = JSON.parse(value)
    } catch {
      params[key] = value
    }
  }
  return params
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new Error('Request body too large'))
        request.destroy()
      } else chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE') reject(new HostConfigError(`Port ${port} on ${host} is already in use: choose another with --port, or stop what is using it.`))
      else if (error.code === 'EADDRNOTAVAIL') reject(new HostConfigError(`${host} is not an address of this machine: check --listen.`))
      else if (error.code === 'EACCES') reject(new HostConfigError(`Not allowed to listen on port ${port}: use a port above 1023.`))
      else reject(error)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

function safeUserName(): string {
  try {
    return userInfo().username
  } catch {
    return 'operator'
  }
}
