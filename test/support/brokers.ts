// Real MQTT brokers for tests, on free loopback ports, always stopped by the caller.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, Socket, type AddressInfo, type Server } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { Aedes } from 'aedes'

export interface TestBroker {
  url: string
  port: number
  close(): Promise<void>
}

export async function startAedes(): Promise<TestBroker & { aedes: Aedes }> {
  const aedes = await Aedes.createBroker()
  const server = createServer(aedes.handle)
  const port = await listenOnFreePort(server)
  let closed: Promise<void> | null = null
  return {
    aedes,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    // Idempotent: a test may stop the broker itself and the cleanup stops it again.
    close: () =>
      (closed ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()))
        await new Promise<void>((resolve) => aedes.close(() => resolve()))
      })()),
  }
}

export const mosquittoPath = '/usr/sbin/mosquitto'
export const haveMosquitto = existsSync(mosquittoPath)

/** Debian's mosquitto on a free port; with `users`, anonymous clients are refused. */
export async function startMosquitto(options: { users?: Record<string, string> } = {}): Promise<TestBroker & { freeze(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'))
  const port = await freePort()
  // Started as root, mosquitto would drop to its own user and could not read our temp files.
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', `user ${userInfo().username}`]
  if (options.users) {
    const passwordFile = join(dir, 'passwd')
    writeFileSync(passwordFile, '')
    for (const [user, password] of Object.entries(options.users)) execFileSync('/usr/bin/mosquitto_passwd', ['-b', passwordFile, user, password])
    lines.push('allow_anonymous false', `password_file ${passwordFile}`)
  } else {
    lines.push('allow_anonymous true')
  }
  writeFileSync(join(dir, 'mosquitto.conf'), `${lines.join('\n')}\n`)
  const child: ChildProcess = spawn(mosquittoPath, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()))
  await waitForPort(port, () => `mosquitto did not start:\n${log}`)
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    // A broker that hangs: connections stay open and nothing answers (SIGSTOP).
    freeze: () => child.kill('SIGSTOP'),
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGCONT')
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function freePort(): Promise<number> {
  const server = createServer()
  const port = await listenOnFreePort(server)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function listenOnFreePort(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

async function waitForPort(port: number, explain: () => string): Promise<void> {
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
      socket.connect(port, '127.0.0.1')
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(explain())
}
