// The site worker's life seen from the core: the real worker (its TypeScript source, as in every test that
// builds the core) raising the domain's errors as before, and stand-in workers that die or hang, so the
// core's answer to each is seen: a clear refusal, a new worker for the next request, no thread left behind.

import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../electron/core'
import { ContractFailure } from '../../electron/core/failure'
import { SiteWorkerClient } from '../../electron/core/site/site-worker-client'
import type { SiteModel } from '../../shared/domain/site/model'

const clients: SiteWorkerClient[] = []
const client = (options: Omit<ConstructorParameters<typeof SiteWorkerClient>[0], 'log'> = {}) => {
  const made = new SiteWorkerClient({ log: silentLogger, ...options })
  clients.push(made)
  return made
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((made) => made.dispose()))
})

/** A worker module given as source text: Node starts workers from data: URLs as from files. */
const standIn = (source: string) => new URL(`data:text/javascript,${encodeURIComponent(`import { parentPort } from 'node:worker_threads'\n${source}`)}`)

/** Answers every import with a refusal of its own, and dies on anything else. */
const diesOnCoverage = standIn(`parentPort.on('message', ({ id, kind }) => {
  if (kind !== 'import') process.exit(3)
  parentPort.postMessage({ id, ok: true, value: { ok: false, error: { code: 'empty', message: 'answered by the stand-in' } } })
})`)
const neverAnswers = standIn(`parentPort.on('message', () => {})`)

const yard: SiteModel = {
  name: 'yard',
  origin: { lat: 48.137154, lon: 11.576124 },
  boundary: [{ x: 0, y: 0 }, { x: 30, y: 0 }, { x: 30, y: 20 }, { x: 0, y: 20 }],
  zones: [],
  obstructions: [],
  mountingPoints: [],
  devices: [],
}

async function refusal(outcome: Promise<unknown>): Promise<Error> {
  try {
    await outcome
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the request to fail')
}

/** Threads of this process, from Linux's own count. */
const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1])

describe('the site worker', () => {
  it('computes on the real worker, and raises the domain\'s refusal as the core thread would have', async () => {
    const worker = client()
    const coverage = await worker.run('coverage', { site: yard, catalogue: [], cellSizeM: 1, revision: 7 })
    expect(coverage).toMatchObject({ revision: 7, grid: { cols: 30, rows: 20 }, radio: null })
    const error = await refusal(worker.run('coverage', { site: yard, catalogue: [], cellSizeM: 0.1, revision: 7 }))
    expect(error).not.toBeInstanceOf(ContractFailure)
    expect(error).toMatchObject({ name: 'RangeError', message: 'Cell size 0.1 m is below the 0.5 m the grid supports.' })
  })

  it('fails the requests a dying worker held, saying what it was doing, and starts a new one for the next', async () => {
    const worker = client({ entry: diesOnCoverage })
    const [coverage, file] = await Promise.all([
      refusal(worker.run('coverage', { site: yard, catalogue: [], cellSizeM: 1, revision: 1 })),
      refusal(worker.run('import', { fileName: 'yard.kml', bytes: new Uint8Array(8) })),
    ])
    expect(coverage).toBeInstanceOf(ContractFailure)
    expect(coverage).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^The site worker stopped while computing coverage \(exit code 3\)\. It starts again with the next request/) })
    // The import was queued behind the coverage on the same thread, and went down with it.
    expect(file).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('while reading the site file (exit code 3)') })

    expect(await worker.run('import', { fileName: 'yard.kml', bytes: new Uint8Array(8) })).toEqual({ ok: false, error: { code: 'empty', message: 'answered by the stand-in' } })
  })

  it('stops a request that runs too long together with its worker, and tells the others why', async () => {
    const worker = client({ entry: neverAnswers, timeoutMs: 200 })
    const [placement, coverage] = await Promise.all([
      refusal(worker.run('placement', { site: yard, catalogue: [], cellSizeM: 1, revision: 1, targetShare: 1, kinds: ['camera'], minimiseCost: false, exact: false })),
      refusal(worker.run('coverage', { site: yard, catalogue: [], cellSizeM: 1, revision: 1 })),
    ])
    expect(placement).toMatchObject({ code: 'TIMEOUT', message: 'Planning placements took longer than 200 ms, so it was stopped. Try coarser cells or a smaller file.' })
    expect(coverage).toMatchObject({ code: 'UNAVAILABLE', message: 'The site worker was restarted while computing coverage, because planning placements took too long. Try again.' })
  })

  it('fails what is still waiting on dispose, leaves no thread behind, and takes no more requests', async () => {
    const before = threads()
    const worker = client({ entry: neverAnswers })
    const waiting = refusal(worker.run('coverage', { site: yard, catalogue: [], cellSizeM: 1, revision: 1 }))
    expect(threads()).toBeGreaterThan(before)
    await worker.dispose()
    expect(await waiting).toMatchObject({ code: 'UNAVAILABLE', message: 'The console is shutting down, so computing coverage was not finished.' })
    expect(threads()).toBe(before)
    expect(await refusal(worker.run('import', { fileName: 'late.kml', bytes: new Uint8Array(1) }))).toMatchObject({ code: 'UNAVAILABLE', message: 'The console is shutting down, so it is not reading the site file any more.' })
  })
})
