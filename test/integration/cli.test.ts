import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Client } from './support'

const projectDir = resolve(import.meta.dirname, '../..')
const serverBundle = join(projectDir, 'out/main/server.js')
const nobody = { uid: 65534, gid: 65534 }

let dir: string
const children: ChildProcess[] = []
const servers: Server[] = []
const clients: Client[] = []

interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.CONSOLE_PASSWORD
  delete env.CONSOLE_TOKEN
  return env
}

function run(args: string[], options: SpawnOptions = {}): Run {
  // Every host here gets its own free broker port, so the tests never touch 1883.
  const child = spawn(process.execPath, [serverBundle, ...args, ...(args.includes('--mqtt-port') ? [] : ['--mqtt-port', '0'])], { cwd: projectDir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...options })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Resolves with the URL the host prints on stdout. */
function urlOf(process: Run, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`No URL printed. stderr: ${process.stderr()}`)), timeoutMs)
    const check = () => {
      const match = /(https?:\/\/[^\s]+\/)/.exec(process.stdout())
      if (match?.[1]) {
        clearTimeout(timer)
        resolveUrl(match[1])
      }
    }
    process.child.stdout!.on('data', check)
    process.exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`Exited with ${code} before printing a URL. stderr: ${process.stderr()}`))
    }, reject)
    check()
  })
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())])
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-cli-'))
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((done) => child.once('exit', done))
      child.kill('SIGKILL')
      await gone
    }
  }
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))))
  rmSync(dir, { recursive: true, force: true })
})

describe('headless host CLI', () => {
  it('prints its URL, and on SIGTERM exits 0 within 5 s with the last write in the database', async () => {
    const dataDir = join(dir, 'data')
    const host = run(['--port', '0', '--data-dir', dataDir])
    const url = await urlOf(host)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(host.stdout()).toContain(dataDir)

    const health = await fetch(new URL('/healthz', url))
    expect(health.status).toBe(200)

    const client = await Client.connect(`${url.replace(/^http/, 'ws')}ws`)
    clients.push(client)
    expect(await client.call('settings.update', { siteName: 'Last words' })).toMatchObject({ ok: true })

    const started = Date.now()
    host.child.kill('SIGTERM')
    const exit = await withTimeout(host.exited, 5000, 'Shutdown')
    expect(exit).toEqual({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(5000)

    const db = new Database(join(dataDir, 'console.db'), { readonly: true })
    try {
      expect(db.prepare("SELECT value FROM settings WHERE key = 'siteName'").get()).toEqual({ value: '"Last words"' })
      expect(db.prepare('SELECT action, target, outcome FROM audit_log ORDER BY id DESC LIMIT 1').get()).toEqual({
        action: 'change settings',
        target: 'siteName',
        outcome: 'ok',
      })
    } finally {
      db.close()
    }
  })

  it('survives a WebSocket upgrade carrying a malformed session cookie when a password is set', async () => {
    const host = run(['--port', '0', '--data-dir', join(dir, 'data')], { env: { ...cleanEnv(), CONSOLE_PASSWORD: 'correct horse' } })
    const url = await urlOf(host)
    const status = await new Promise<number>((done, reject) => {
      const socket = new WebSocket(`${url.replace(/^http/, 'ws')}ws`, { headers: { cookie: 'console_session=%' } })
      socket.on('unexpected-response', (_request, response) => {
        done(response.statusCode ?? 0)
        socket.terminate()
      })
      socket.on('open', () => reject(new Error('The upgrade was accepted')))
      socket.on('error', reject)
    })
    expect(status).toBe(401)
    expect((await fetch(new URL('/healthz', url))).status).toBe(200)
    expect(host.child.exitCode).toBeNull()
  })

  it('refuses --listen 0.0.0.0 without CONSOLE_PASSWORD: exit 2, one line on stderr, nothing started', async () => {
    const dataDir = join(dir, 'data')
    const host = run(['--listen', '0.0.0.0', '--port', '0', '--data-dir', dataDir])
    const exit = await withTimeout(host.exited, 10_000, 'Refusal')
    expect(exit.code).toBe(2)
    const lines = host.stderr().trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/CONSOLE_PASSWORD/)
    expect(host.stdout()).toBe('')
    // The host never got as far as opening its data folder.
    expect(existsSync(dataDir)).toBe(false)
  })

  it('exits 2 naming the port when the port is already in use', async () => {
    const blocker = createServer()
    servers.push(blocker)
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done))
    const port = (blocker.address() as { port: number }).port
    const host = run(['--port', String(port), '--data-dir', join(dir, 'data')])
    const exit = await withTimeout(host.exited, 10_000, 'Refusal')
    expect(exit.code).toBe(2)
    expect(host.stderr()).toContain(`Port ${port}`)
    expect(host.stdout()).toBe('')
  })

  it('exits 2 on --port abc', async () => {
    const host = run(['--port', 'abc', '--data-dir', join(dir, 'data')])
    const exit = await withTimeout(host.exited, 10_000, 'Refusal')
    expect(exit.code).toBe(2)
    expect(host.stderr()).toMatch(/--port must be a whole number/)
    expect(host.stdout()).toBe('')
  })

  it('starts on a read-only data folder with the store down (503) and a message naming --data-dir', async (context) => {
    const asRoot = process.getuid?.() === 0
    const options: SpawnOptions = {}
    if (asRoot) {
      // Root ignores permissions: run the host as nobody, if nobody can read the project.
      const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(serverBundle)}, require('fs').constants.R_OK); require(${JSON.stringify(join(projectDir, 'node_modules/better-sqlite3'))})`], {
        ...nobody,
        cwd: '/',
      })
      if (probe.status !== 0) {
        context.skip(`the project at ${projectDir} is not readable by uid 65534, so a read-only data folder cannot be tested as root: ${probe.stderr.toString().trim()}`)
        return
      }
      Object.assign(options, nobody)
      chmodSync(dir, 0o755)
    }
    const dataDir = join(dir, 'readonly')
    mkdirSync(dataDir)
    chmodSync(dataDir, 0o555)

    const host = run(['--port', '0', '--data-dir', dataDir], { ...options, env: { ...cleanEnv(), HOME: dir } })
    const url = await urlOf(host)
    const response = await fetch(new URL('/healthz', url))
    expect(response.status).toBe(503)
    const body = (await response.json()) as { status: string; services: { store: { state: string; detail: string } } }
    expect(body.status).toBe('down')
    expect(body.services.store.state).toBe('down')
    expect(body.services.store.detail).toContain('--data-dir')
    expect(existsSync(join(dataDir, 'console.db'))).toBe(false)

    host.child.kill('SIGTERM')
    expect((await withTimeout(host.exited, 5000, 'Shutdown')).code).toBe(0)
  })
})
