// The devices' side of the ota-delivery benchmark, in its own process so that receiving 1.5 GB does not
// share the server's event loop. Starts every download at once, counts bytes, hashes a sample, and
// prints one JSON line. Usage: node bench/ota-delivery-client.mjs PLAN.json
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent, get } from 'node:http'
import { performance } from 'node:perf_hooks'

const { urls, size, sha256, sampleEvery } = JSON.parse(readFileSync(process.argv[2], 'utf8'))
// One connection per download, opened at once, as a cohort of devices would.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity })

const started = performance.now()
const results = await Promise.all(urls.map((url, index) => download(url, index % sampleEvery === 0)))
const elapsedMs = Math.max(...results.map((result) => result.endedAt)) - started

const statuses = {}
for (const result of results) statuses[result.status] = (statuses[result.status] ?? 0) + 1
const durations = results.map((result) => result.endedAt - started).sort((a, b) => a - b)
const rank = (p) => durations[Math.min(durations.length - 1, Math.max(0, Math.ceil((p / 100) * durations.length) - 1))]
process.stdout.write(
  `${JSON.stringify({
    downloads: results.length,
    complete: results.filter((result) => result.status === 200 && result.bytes === size).length,
    bytes: results.reduce((sum, result) => sum + result.bytes, 0),
    elapsedMs,
    statuses,
    errors: results.filter((result) => result.error).map((result) => result.error).slice(0, 5),
    verified: results.filter((result) => result.hash === sha256).length,
    mismatched: results.filter((result) => result.hash !== undefined && result.hash !== sha256).length,
    p50Ms: rank(50),
    p99Ms: rank(99),
  })}\n`,
)

function download(url, verify) {
  return new Promise((resolve) => {
    let bytes = 0
    const hash = verify ? createHash('sha256') : undefined
    const done = (status, error) => resolve({ status, bytes, error, hash: hash && bytes === size ? hash.digest('hex') : undefined, endedAt: performance.now() })
    get(url, { agent }, (response) => {
      response.on('data', (chunk) => {
        bytes += chunk.length
        hash?.update(chunk)
      })
      response.on('end', () => done(response.statusCode))
      response.on('error', (error) => done(response.statusCode, error.message))
    }).on('error', (error) => done(0, error.message))
  })
}
