import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test as base, type Page } from '@playwright/test'

const root = resolve(import.meta.dirname, '../..')
const serverScript = join(root, 'out/main/server.js')

export interface HostProcess {
  url: string
  port: number
  dataDir: string
  /** Sends SIGTERM and waits for the process to exit. Safe to call twice. */
  stop(): Promise<void>
}

export interface HostStartOptions {
  /** 0 (the default) lets the host pick a free port. */
  port?: number
  /** Reuse a data folder (e.g. for a restart); otherwise a fresh temporary one is made. */
  dataDir?: string
  env?: Record<string, string>
  args?: string[]
  /** How long to wait for the URL line. */
  timeoutMs?: number
}

/** Spawns `node out/main/server.js` and resolves once it prints the URL it serves. */
export async function startHost(options: HostStartOptions = {}): Promise<HostProcess> {
  const dataDir = options.dataDir ?? makeDataDir()
  const child = spawn(process.execPath, [serverScript, '--port', String(options.port ?? 0), '--mqtt-port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    cwd: root,
    env: { ...process.env, CONSOLE_PASSWORD: '', CONSOLE_TOKEN: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))

  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = ''
    const timer = setTimeout(() => fail(new Error(`The host printed no URL within ${options.timeoutMs ?? 15_000} ms.`)), options.timeoutMs ?? 15_000)
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`))
    }
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk
      const match = /https?:\/\/\S+\//.exec(stdout)
      if (match) {
        clearTimeout(timer)
        resolveUrl(match[0])
      }
    })
    child.once('exit', (code, signal) => fail(new Error(`The host exited (code ${code}, signal ${signal}) before printing its URL.`)))
    child.once('error', fail)
  })

  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    stop: () => stopChild(child, exited),
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 10_000).unref())
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL')
    await exited
  }
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'console-e2e-'))
}

/** A port that was free a moment ago: listen on 0, note the port, close. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

export const screenshotDir = join(root, 'test-results/screenshots')

/**
 * The console scrolls inside <main>, so Playwright's fullPage shows only the viewport. Grow the
 * viewport until <main> no longer scrolls, take the picture, and put the viewport back.
 */
export async function screenshotWhole(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize()!
  const main = page.locator('main')
  const overflow =
    (await main.count()) === 0
      ? 0
      : await main.evaluate((main: { scrollHeight: number; clientHeight: number }) => Math.max(0, main.scrollHeight - main.clientHeight))
  if (overflow > 0) await page.setViewportSize({ width: viewport.width, height: viewport.height + overflow })
  try {
    await page.screenshot({ path: join(screenshotDir, name), fullPage: true })
  } finally {
    if (overflow > 0) await page.setViewportSize(viewport)
  }
}

interface HostFixtures {
  /** Starts hosts for this test; every one is stopped and every data folder removed afterwards. */
  hosts: {
    start(options?: HostStartOptions): Promise<HostProcess>
    /** A temporary data folder removed after the test. */
    dataDir(): string
  }
  /** One loopback host on a fresh data folder, with the page's errors collected. */
  host: HostProcess
  pageErrors: Error[]
}

export const test = base.extend<HostFixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright fixtures destructure their dependencies
  hosts: async ({}, use) => {
    const started: HostProcess[] = []
    const dirs = new Set<string>()
    await use({
      async start(options = {}) {
        const dataDir = options.dataDir ?? makeDataDir()
        dirs.add(dataDir)
        const host = await startHost({ ...options, dataDir })
        started.push(host)
        return host
      },
      dataDir() {
        const dir = makeDataDir()
        dirs.add(dir)
        return dir
      },
    })
    await Promise.all(started.map((host) => host.stop()))
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  },
  host: async ({ hosts }, use) => {
    await use(await hosts.start())
  },
  pageErrors: async ({ page }, use) => {
    const errors: Error[] = []
    page.on('pageerror', (error) => errors.push(error))
    await use(errors)
  },
})

export { expect } from '@playwright/test'
