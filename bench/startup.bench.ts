import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { median, spread, startServer } from './processes'

const runs = 7

/** From process start to the first page served, the console against a bare Node server. */
export async function startup(): Promise<string> {
  const consoleTimes: number[] = []
  const baselineTimes: number[] = []
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-startup-'))
    try {
      // Alternate the two so drift in the machine's load hits both alike.
      consoleTimes.push(await timeFirstPage(['out/main/server.js', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir]))
      baselineTimes.push(await timeFirstPage(['bench/baselines/static-server.mjs', 'out/renderer/index.html']))
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
  const ours = median(consoleTimes)
  const base = median(baselineTimes)
  console.log(`  headless host, process start to first page: median ${ours.toFixed(0)} ms (${spread(consoleTimes)}) over ${runs} runs; aim < 1500 ms`)
  console.log(`  bare node:http serving the same page:       median ${base.toFixed(0)} ms (${spread(baselineTimes)})`)
  return `startup: ratio=${(ours / base).toFixed(2)} (console ${ours.toFixed(0)} ms / bare node ${base.toFixed(0)} ms; lower is better; target ${ours < 1500 ? 'met' : 'MISSED'})`
}

async function timeFirstPage(args: string[]): Promise<number> {
  const started = performance.now()
  const served = await startServer(args)
  try {
    const response = await fetch(served.url)
    await response.text()
    if (!response.ok) throw new Error(`${served.url} answered ${response.status}`)
    return performance.now() - started
  } finally {
    await served.stop()
  }
}
