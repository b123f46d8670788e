import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { WebSocket } from 'ws'
import { median, spread, startServer } from './processes'

const inFlight = 32
const seconds = 2
const rounds = 3

/** Round trips per second of a small query (settings.get) against a bare ws echo server. */
export async function contract(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-contract-'))
  const host = await startServer(['out/main/server.js', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir])
  const echo = await startServer(['bench/baselines/echo-server.mjs'])
  try {
    const ours: number[] = []
    const base: number[] = []
    for (let round = 0; round < rounds; round++) {
      ours.push(await requestsPerSecond(host.url.replace('http', 'ws') + 'ws', host.url))
      base.push(await requestsPerSecond(echo.url.replace('http', 'ws') + 'ws', echo.url))
    }
    const oursMedian = median(ours)
    const baseMedian = median(base)
    console.log(`  settings.get over WebSocket, ${inFlight} in flight: median ${oursMedian.toFixed(0)} req/s (${spread(ours)}) over ${rounds} rounds of ${seconds} s`)
    console.log(`  bare ws echo of the same frame:               median ${baseMedian.toFixed(0)} msg/s (${spread(base)}); aim for at least 0.5 of it`)
    return `contract: ratio=${(oursMedian / baseMedian).toFixed(2)} (console ${oursMedian.toFixed(0)} req/s / ws echo ${baseMedian.toFixed(0)} msg/s; higher is better)`
  } finally {
    await host.stop()
    await echo.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function requestsPerSecond(url: string, origin: string): Promise<number> {
  const socket = new WebSocket(url, { origin: origin.replace(/\/$/, '') })
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  let id = 0
  let answered = 0
  let running = true
  const send = () => socket.send(JSON.stringify({ id: ++id, method: 'settings.get', params: {} }))
  socket.on('message', () => {
    answered++
    if (running) send()
  })
  const started = performance.now()
  for (let i = 0; i < inFlight; i++) send()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  running = false
  const elapsed = (performance.now() - started) / 1000
  socket.close()
  return answered / elapsed
}
