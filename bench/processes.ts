import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'

export interface Served {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts a server process and resolves once it prints the URL it listens at. */
export function startServer(args: string[], timeoutMs = 15_000): Promise<Served> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')} printed no URL within ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /https?:\/\/\S+?\//.exec(output)?.[0]
      if (!url) return
      clearTimeout(timer)
      child.stdout.off('data', onData)
      resolve({
        url,
        child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`))
    })
  })
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Spread of repeated runs, so a reader can tell a real change from this machine's noise. */
export function spread(values: number[]): string {
  return `min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}`
}

/** A TCP port that was free a moment ago on 127.0.0.1, for a child process that cannot report its own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** The p-th percentile (0–100) by nearest rank, so a figure is always one that was measured. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export interface SimulatedFleet {
  child: ChildProcess
  /** The simulator's latest status line (`npm run simulate` prints one every few seconds). */
  status(): string
  /** Every status line so far, with when it arrived (performance.now() of this process). */
  statusLines(): { at: number; text: string }[]
  /** SIGSTOP: its connections stay open and nothing is published, until resume() or the broker's keep-alive runs out. */
  pause(): void
  resume(): void
  /** SIGTERM (after a SIGCONT), then SIGKILL if it has not exited within `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>
}

/** Runs `simulator/fleet/cli.ts` in its own process, as real devices would be. */
export function startSimulatedFleet(args: string[]): SimulatedFleet {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/fleet/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: { at: number; text: string }[] = []
  let errors = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push({ at: performance.now(), text })
  })
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)))
  return {
    child,
    status: () => `${lines.at(-1)?.text ?? ''}${errors ? `\n${errors}` : ''}`,
    statusLines: () => [...lines],
    pause: () => void (child.exitCode === null && child.kill('SIGSTOP')),
    resume: () => void (child.exitCode === null && child.kill('SIGCONT')),
    stop: (graceMs = 10_000) =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        child.once('exit', () => {
          clearTimeout(timer)
          done()
        })
        child.kill('SIGCONT')
        child.kill('SIGTERM')
      }),
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN where there is no /proc. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

/** A process and all its descendants (e.g. a browser's renderer and GPU processes), from /proc; just `pid` where there is none. */
export function processTree(pid: number | undefined): number[] {
  if (pid === undefined) return []
  const children = new Map<number, number[]>()
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue
      try {
        const parent = Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
        children.set(parent, [...(children.get(parent) ?? []), Number(name)])
      } catch {
        // Gone between the listing and the read.
      }
    }
  } catch {
    return [pid]
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []))
  return tree
}
