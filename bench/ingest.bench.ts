import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { createCore, silentLogger } from '../electron/core'

// The virtual fleet runs in its own process, as real devices would, publishing DDATA as fast as the
// broker drains it. Both runs use an aedes broker inside the measuring process, so the only difference
// is what consumes the messages: a bare subscriber that counts them, or the whole console.
const seconds = Number(process.env.INGEST_SECONDS ?? 15)
const warmupSeconds = 3
const nodes = 20
const devices = 5

export async function ingest(): Promise<string> {
  const ours = await measureConsole()
  const bare = await measureBare()
  const ceiling = await measureTap()
  console.log(`  fleet: ${nodes} edge nodes × ${devices} devices in burst mode, a separate process; ${seconds} s measured after ${warmupSeconds} s warm-up`)
  console.log(`  bare mqtt subscriber (counts messages):  ${bare.messages.toFixed(0)} msg/s`)
  console.log(`  in-process counter on the broker (what the fleet can publish): ${ceiling.messages.toFixed(0)} msg/s`)
  console.log(`  console (decode, host state, history):  ${ours.messages.toFixed(0)} msg/s = ${ours.metrics.toFixed(0)} metric updates/s; aim ≥ 50,000 and ≥ 0.8 of bare`)
  console.log(`  console / in-process counter: ${(ours.messages / ceiling.messages).toFixed(2)} (the console reads the embedded broker in-process, as this counter does)`)
  console.log(`  console memory: heap ${mb(ours.heapStart)} → ${mb(ours.heapEnd)} MB, rss ${mb(ours.rssStart)} → ${mb(ours.rssEnd)} MB (INGEST_SECONDS=300 for the 5-minute run)`)
  return `ingest: ratio=${(ours.messages / bare.messages).toFixed(2)} (console ${ours.messages.toFixed(0)} msg/s, ${ours.metrics.toFixed(0)} metric updates/s / bare subscriber ${bare.messages.toFixed(0)} msg/s; higher is better)`
}

async function measureBare(): Promise<{ messages: number }> {
  const aedes = await Aedes.createBroker({ concurrency: 0 })
  const server = createServer(aedes.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  const subscriber = await mqtt.connectAsync(url, { protocolVersion: 4 })
  let count = 0
  subscriber.on('message', () => count++)
  await subscriber.subscribeAsync('spBv1.0/#', { qos: 1 })
  const fleet = startFleet(url)
  try {
    const rate = await rateOver(() => count)
    return { messages: rate }
  } finally {
    await stopFleet(fleet)
    await subscriber.endAsync()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
  }
}

/**
 * The ceiling: a counter subscribed inside the broker's process, as the console's host is. The bare
 * subscriber pays for a loopback MQTT session the console does not use with its own broker.
 */
async function measureTap(): Promise<{ messages: number }> {
  const aedes = await Aedes.createBroker({ concurrency: 0 })
  const server = createServer(aedes.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  let count = 0
  await new Promise<void>((resolve) =>
    aedes.subscribe(
      'spBv1.0/#',
      (_packet, done) => {
        count++
        done()
      },
      resolve,
    ),
  )
  const fleet = startFleet(url)
  try {
    return { messages: await rateOver(() => count) }
  } finally {
    await stopFleet(fleet)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
  }
}

async function measureConsole() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ingest-'))
  const core = createCore({ dataDir, host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
  try {
    while (core.health().services.broker.state !== 'up') await sleep(20)
    const fleet = startFleet(core.broker.url!)
    try {
      const stats = core.fleet.stats
      const heapStart = process.memoryUsage().heapUsed
      const rssStart = process.memoryUsage().rss
      const startMetrics = { value: 0 }
      const messages = await rateOver(() => stats.messages, () => (startMetrics.value = stats.metricUpdates))
      const metrics = (stats.metricUpdates - startMetrics.value) / seconds
      return { messages, metrics, heapStart, heapEnd: process.memoryUsage().heapUsed, rssStart, rssEnd: process.memoryUsage().rss }
    } finally {
      await stopFleet(fleet)
    }
  } finally {
    await core.dispose()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Messages per second over the measured window, after the warm-up. */
async function rateOver(count: () => number, onStart?: () => void): Promise<number> {
  await sleep(warmupSeconds * 1000)
  const start = count()
  onStart?.()
  await sleep(seconds * 1000)
  return (count() - start) / seconds
}

function startFleet(url: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'simulator/fleet/cli.ts', '--nodes', String(nodes), '--devices', String(devices), '--burst', '--max-in-flight', '8', '--broker', url], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

async function stopFleet(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const mb = (bytes: number) => (bytes / 1048576).toFixed(0)
