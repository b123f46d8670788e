import { spawn, type ChildProcess } from 'node:child_process'

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
