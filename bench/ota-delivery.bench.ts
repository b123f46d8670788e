import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { DeliveryServer } from '../electron/core/ota/delivery-server'
import { median } from './processes'

// A cohort of devices fetching one image at once over loopback. Both servers run in this process and
// the devices in another (bench/ota-delivery-client.mjs), so the client's work does not share the
// server's event loop. The baseline is the least Node does to serve a file: node:http piping
// fs.createReadStream, no tokens, no ranges, no limits. The console's server runs with maxConcurrent
// at the cohort's size and no bandwidth cap, so what is measured is the cost of its own machinery.
const downloads = Number(process.env.OTA_DELIVERY_DOWNLOADS ?? 1000)
const rounds = Number(process.env.OTA_DELIVERY_ROUNDS ?? 5)
const imageSize = 1_500_000
const warmupDownloads = 100
const sampleEvery = 50

interface ClientReport {
  downloads: number
  complete: number
  bytes: number
  elapsedMs: number
  statuses: Record<string, number>
  errors: string[]
  verified: number
  mismatched: number
  p50Ms: number
  p99Ms: number
}

interface Round extends ClientReport {
  mbPerSecond: number
  cpuSeconds: number
  rss: Peak
  heap: Peak
  buffers: Peak
}

interface Peak {
  before: number
  peak: number
  after: number
}

export async function otaDelivery(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ota-delivery-'))
  const image = randomBytes(imageSize)
  const sha256 = createHash('sha256').update(image).digest('hex')
  const imagePath = join(dir, 'image.bin')
  writeFileSync(imagePath, image)

  const plain = await startPlainStatic(imagePath, imageSize)
  const delivery = new DeliveryServer({ port: 0, maxConcurrent: downloads, maxQueued: downloads })
  try {
    await delivery.start()
    await delivery.publish({ id: 'bench-image', filePath: imagePath, sha256, size: imageSize })
    const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/image.bin`
    // One token per device, as a rollout issues them.
    const consoleUrls = Array.from({ length: downloads }, (_, i) =>
      delivery.urlFor(delivery.issueToken({ deviceId: `BENCH-${i}`, artifactId: 'bench-image', expiresAt: Date.now() + 3_600_000 })),
    )
    const plan = (name: string, urls: string[]) => {
      const path = join(dir, `${name}.json`)
      writeFileSync(path, JSON.stringify({ urls, size: imageSize, sha256, sampleEvery }))
      return path
    }
    const plans = {
      plain: plan('plain', Array(downloads).fill(plainUrl)),
      console: plan('console', consoleUrls),
      plainWarmup: plan('plain-warmup', Array(warmupDownloads).fill(plainUrl)),
      consoleWarmup: plan('console-warmup', consoleUrls.slice(0, warmupDownloads)),
    }

    // Warm both (JIT, page cache, the kernel's socket memory) before anything is measured.
    await runClient(plans.plainWarmup)
    await runClient(plans.consoleWarmup)

    const plainRounds: Round[] = []
    const consoleRounds: Round[] = []
    for (let round = 0; round < rounds; round++) {
      // Alternate, starting with each in turn, so drift in the machine's load hits both alike.
      const order = round % 2 === 0 ? (['plain', 'console'] as const) : (['console', 'plain'] as const)
      for (const which of order) {
        const result = await measure(plans[which])
        check(which, result, sha256)
        ;(which === 'plain' ? plainRounds : consoleRounds).push(result)
        console.log(`  round ${round + 1} ${which === 'plain' ? 'plain static' : 'console     '}: ${describeRound(result)}`)
        await until(() => delivery.stats().active === 0)
      }
    }

    const ours = median(consoleRounds.map((r) => r.mbPerSecond))
    const base = median(plainRounds.map((r) => r.mbPerSecond))
    const pairRatios = consoleRounds.map((r, i) => r.mbPerSecond / plainRounds[i]!.mbPerSecond)
    const stats = delivery.stats()
    const peakBuffers = Math.max(...consoleRounds.map((r) => r.buffers.peak))
    const peakRss = Math.max(...consoleRounds.map((r) => r.rss.peak))
    const plainPeakRss = Math.max(...plainRounds.map((r) => r.rss.peak))
    const plainPeakBuffers = Math.max(...plainRounds.map((r) => r.buffers.peak))
    console.log(`  image ${(imageSize / 1e6).toFixed(1)} MB of random bytes; ${downloads} concurrent downloads a round (${(downloads * imageSize / 1e9).toFixed(2)} GB), client in its own process with http.Agent({ maxSockets: Infinity }); ${rounds} rounds each, alternating, after a ${warmupDownloads}-download warm-up`)
    console.log(`  plain static (node:http + fs.createReadStream): median ${base.toFixed(0)} MB/s (${spreadOf(plainRounds)})`)
    console.log(`  console DeliveryServer (tokens, ranges, per-device progress; maxConcurrent ${downloads}, no cap): median ${ours.toFixed(0)} MB/s (${spreadOf(consoleRounds)})`)
    console.log(`  console / plain per round: ${pairRatios.map((r) => r.toFixed(2)).join(', ')}; server and client share this machine's 2 cores, so single rounds swing by tens of percent: read the medians and the CPU per GB`)
    console.log(`  server memory (this process, collected before each round): console peak Buffers ${mib(peakBuffers)} MiB, plain ${mib(plainPeakBuffers)} MiB; the console's read buffers are one per download in flight (${downloads} × 64 KiB = ${mib(downloads * 65536)} MiB) plus as many spares at most, reused rather than left to the collector`)
    console.log(`  process rss: peak ${mib(peakRss)} MiB in console rounds, ${mib(plainPeakRss)} MiB in plain rounds (rss is process-wide and the allocator keeps freed pages, so it shows the order of rounds too); ${mib(consoleRounds.at(-1)!.rss.after)} MiB after the last console round`)
    console.log(`  server CPU per GB served: console ${(median(consoleRounds.map((r) => r.cpuSeconds / (r.bytes / 1e9)))).toFixed(2)} s, plain ${(median(plainRounds.map((r) => r.cpuSeconds / (r.bytes / 1e9)))).toFixed(2)} s`)
    console.log(`  server-side progress: ${stats.devices.filter((d) => d.percent === 100).length} of ${stats.devices.length} devices at 100%, ${stats.completed} responses completed, ${stats.cut} cut, peak ${stats.peakActive} at once`)
    const ratio = ours / base
    return `ota-delivery: ratio=${ratio.toFixed(2)} (console ${ours.toFixed(0)} MB/s / plain static ${base.toFixed(0)} MB/s; higher is better, aim ≥ 0.8${ratio >= 0.8 ? '' : ' MISSED'}); ${downloads} concurrent downloads of ${(imageSize / 1e6).toFixed(1)} MB, per-round ratios ${Math.min(...pairRatios).toFixed(2)}–${Math.max(...pairRatios).toFixed(2)}; server peak rss ${mib(peakRss)} MiB, Buffers ${mib(peakBuffers)} MiB`
  } finally {
    await delivery.stop()
    await new Promise<void>((resolve) => {
      plain.close(() => resolve())
      plain.closeAllConnections()
    })
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The baseline: any GET gets the file, streamed from disk. */
function startPlainStatic(path: string, size: number): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
    createReadStream(path).pipe(response)
  })
  // The same backlog as the console's server: a thousand connections arrive in one burst.
  return new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, () => resolve(server)))
}

/**
 * One client run, with this process's CPU and memory sampled while it lasts. Both servers share this
 * process, so a collection first keeps one server's garbage out of the other's figures.
 */
async function measure(planPath: string): Promise<Round> {
  collectGarbage()
  // ArrayBuffers are freed by a background sweeper after the collection; let it finish.
  await new Promise((resolve) => setTimeout(resolve, 200))
  const before = process.memoryUsage()
  const peak = { rss: before.rss, heap: before.heapUsed, buffers: before.arrayBuffers }
  const sampler = setInterval(() => {
    const now = process.memoryUsage()
    peak.rss = Math.max(peak.rss, now.rss)
    peak.heap = Math.max(peak.heap, now.heapUsed)
    peak.buffers = Math.max(peak.buffers, now.arrayBuffers)
  }, 20)
  const cpuBefore = process.cpuUsage()
  try {
    const report = await runClient(planPath)
    const cpu = process.cpuUsage(cpuBefore)
    const after = process.memoryUsage()
    return {
      ...report,
      mbPerSecond: report.bytes / 1e6 / (report.elapsedMs / 1000),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rss: { before: before.rss, peak: peak.rss, after: after.rss },
      heap: { before: before.heapUsed, peak: peak.heap, after: after.heapUsed },
      buffers: { before: before.arrayBuffers, peak: peak.buffers, after: after.arrayBuffers },
    }
  } finally {
    clearInterval(sampler)
  }
}

function runClient(planPath: string): Promise<ClientReport> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'ota-delivery-client.mjs'), planPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let errors = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      try {
        if (code !== 0) throw new Error(`exit ${code}`)
        resolve(JSON.parse(output) as ClientReport)
      } catch (error) {
        reject(new Error(`The download client failed (${(error as Error).message}):\n${errors}${output}`))
      }
    })
  })
}

/** A figure from a round that lost or corrupted downloads would be meaningless: stop instead. */
function check(which: string, round: Round, sha256: string): void {
  if (round.complete !== round.downloads || round.mismatched > 0 || round.verified === 0) {
    throw new Error(`${which}: ${round.complete} of ${round.downloads} downloads complete, ${round.verified} sampled hashes matched ${sha256.slice(0, 12)}…, ${round.mismatched} did not; statuses ${JSON.stringify(round.statuses)} ${round.errors.join('; ')}`)
  }
}

function describeRound(r: Round): string {
  return `${(r.bytes / 1e6).toFixed(0)} MB in ${(r.elapsedMs / 1000).toFixed(2)} s = ${r.mbPerSecond.toFixed(0)} MB/s; per download p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms; ${r.verified} sampled SHA-256 match; server CPU ${r.cpuSeconds.toFixed(2)} s; rss ${mib(r.rss.before)} → peak ${mib(r.rss.peak)} → ${mib(r.rss.after)} MiB, heap ${mib(r.heap.before)} → ${mib(r.heap.peak)} → ${mib(r.heap.after)} MiB, Buffers ${mib(r.buffers.before)} → peak ${mib(r.buffers.peak)} MiB`
}

function spreadOf(results: Round[]): string {
  const values = results.map((r) => r.mbPerSecond)
  return `min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}`
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
}

// The bench runs under tsx without --expose-gc; the flag can still be set, and gc() taken from a new context.
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(0)
