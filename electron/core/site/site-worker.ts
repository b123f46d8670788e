// The site's heavy work on a thread of its own: coverage over millions of cells, placement with its HiGHS
// solve, and reading survey files of up to 50 MB. On the core's thread each would stall MQTT ingest, the
// WebSocket and the OTA file server for as long as it ran; here the core only waits for the answer.
//
// Started by SiteWorkerClient (site-worker-client.ts); built next to the hosts as out/main/site-worker.js.
// It is handed plain data (the plan and catalogue as the core read them from SQLite) and never opens the
// store. Checks that refuse a request with a contract error stay in the core, so refusals read as before.

import { performance } from 'node:perf_hooks'
import { parentPort } from 'node:worker_threads'
import type { SiteCoverageView, SitePlacementView } from '../../../shared/contract'
import { buildCoverageGrid } from '../../../shared/domain/site/grid'
import { computeCoverage, type CoverageResult } from '../../../shared/domain/site/coverage'
import type { SiteImportResult } from '../../../shared/domain/site/import-report'
import type { Catalogue, SiteModel } from '../../../shared/domain/site/model'
import { planPlacement } from '../../../shared/domain/site/placement'
import { coveragePng } from './coverage-png'
import { coverageView } from './coverage-view'
import { importSiteFile } from './kml-import'
import { solveMinCover } from './placement-exact'

export interface PlacementRequest {
  cellSizeM: number
  targetShare: number
  kinds: ('camera' | 'sensor')[]
  minimiseCost: boolean
  exact: boolean
}

/** The plan to compute on; its grid's size has already been checked by the core. */
interface SiteInput {
  site: SiteModel
  catalogue: Catalogue
  cellSizeM: number
}

/** What each kind of request carries and what it is answered with. */
export interface SiteWork {
  coverage: { request: SiteInput & { targetHeightM?: number; revision: number }; reply: SiteCoverageView }
  /** The coverage itself, for the exports that draw it; its typed arrays travel back transferred, not copied. */
  'coverage-export': { request: SiteInput; reply: { coverage: CoverageResult; png: Uint8Array } }
  placement: { request: SiteInput & PlacementRequest & { revision: number }; reply: SitePlacementView }
  import: { request: { fileName: string; bytes: Uint8Array }; reply: SiteImportResult }
}

export type SiteWorkKind = keyof SiteWork

export interface SiteWorkMessage<K extends SiteWorkKind = SiteWorkKind> {
  id: number
  kind: K
  request: SiteWork[K]['request']
}

export type SiteWorkAnswer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string; stack?: string } }

interface Answer<T> {
  value: T
  /** Buffers handed over to the core rather than copied: the worker has no further use for them. */
  transfer?: ArrayBuffer[]
}

/**
 * The integer program proves an optimum in well under a second up to about this size; beyond it HiGHS can
 * take minutes, and the greedy cover with its Lagrangian bound is the answer.
 */
const exactLimits = { candidates: 60, elements: 5_000, timeLimitS: 5 }

const work: { [K in SiteWorkKind]: (request: SiteWork[K]['request']) => Answer<SiteWork[K]['reply']> | Promise<Answer<SiteWork[K]['reply']>> } = {
  coverage: ({ site, catalogue, cellSizeM, targetHeightM, revision }) => {
    const started = performance.now()
    const coverage = computeCoverage(site, catalogue, buildCoverageGrid(site, { cellSizeM }), targetHeightM === undefined ? {} : { targetHeightM })
    return { value: coverageView(site, coverage, revision, performance.now() - started) }
  },

  'coverage-export': ({ site, catalogue, cellSizeM }) => {
    const coverage = computeCoverage(site, catalogue, buildCoverageGrid(site, { cellSizeM }))
    const png = coveragePng(coverage)
    const { grid } = coverage
    return { value: { coverage, png }, transfer: buffersOf(coverage.seenBy, coverage.dori, coverage.rssiDbm, coverage.blindSpotLabels, grid.demand, grid.inBoundary, png) }
  },

  /** Greedy cover over the mounting points still free, and for small sites the proved optimum beside it. */
  placement: async ({ site, catalogue, cellSizeM, targetShare, kinds: wantedKinds, minimiseCost, exact: proveOptimum, revision }) => {
    const started = performance.now()
    const grid = buildCoverageGrid(site, { cellSizeM })
    // Cells the devices already placed see are not gaps: placement adds to the plan, it does not redo it.
    const existing = computeCoverage(site, catalogue, grid)
    const kinds = new Set<string>(wantedKinds)
    const occupied = new Map(site.devices.map((device) => [device.mountingPointId, device.id]))
    const wanted = site.mountingPoints.filter((mount) => mount.allowedKinds.some((kind) => kinds.has(kind)))
    const skipped = wanted.flatMap((mount) => (occupied.has(mount.id) ? [`Mounting point ${mount.id} already carries device ${occupied.get(mount.id)}.`] : []))
    const partNumbers = catalogue.filter((part) => kinds.has(part.kind)).map((part) => part.partNumber)
    const free = { ...site, mountingPoints: wanted.filter((mount) => !occupied.has(mount.id)) }
    const plan = planPlacement(free, catalogue, grid, { partNumbers, alreadySeen: existing.seenBy, targetShare, minimiseCost })
    const { instance, result } = plan
    let exact: SitePlacementView['exact'] = null
    if (proveOptimum && instance.elementCount === 0) exact = { status: 'optimal', nodes: 0, solveMs: 0 }
    else if (proveOptimum && instance.candidateCount <= exactLimits.candidates && instance.elementCount <= exactLimits.elements) {
      const costs = minimiseCost ? Float64Array.from(plan.candidates, (candidate) => candidate.costEur) : undefined
      const solved = await solveMinCover(instance, { targetShare, timeLimitS: exactLimits.timeLimitS, ...(costs ? { costs } : {}) })
      exact = { status: solved.status, nodes: solved.chosen.length, solveMs: solved.solveMs }
    }
    return {
      value: {
        revision,
        proposal: plan.proposal,
        curve: result.curve,
        reachedTarget: result.reachedTarget,
        objective: minimiseCost ? 'price' : 'devices',
        lowerBound: result.lowerBound,
        exact,
        skipped: [...skipped, ...plan.skipped],
        computeMs: performance.now() - started,
      },
    }
  },

  import: ({ fileName, bytes }) => {
    const result = importSiteFile(fileName, bytes)
    return { value: result, transfer: result.ok ? buffersOf(...result.overlays.map((overlay) => (overlay.image.kind === 'embedded' ? overlay.image.bytes : null))) : [] }
  },
}

/** Each buffer once (two views of one buffer cannot both be listed), and never a shared one. */
function buffersOf(...views: (ArrayBufferView | null)[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>()
  for (const view of views) if (view && view.buffer instanceof ArrayBuffer) buffers.add(view.buffer)
  return [...buffers]
}

async function answer(message: SiteWorkMessage): Promise<{ answer: SiteWorkAnswer; transfer: ArrayBuffer[] }> {
  try {
    const { value, transfer = [] } = await (work[message.kind] as (request: unknown) => Answer<unknown> | Promise<Answer<unknown>>)(message.request)
    return { answer: { id: message.id, ok: true, value }, transfer }
  } catch (error) {
    return { answer: failed(message.id, error), transfer: [] }
  }
}

/** A bug or a grid the domain refuses: the core raises it again, and the dispatcher reports it as before. */
function failed(id: number, error: unknown): SiteWorkAnswer {
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error))
  return { id, ok: false, error: { name, message, ...(stack ? { stack } : {}) } }
}

const port = parentPort
if (!port) throw new Error('site-worker runs as a worker thread: start it through SiteWorkerClient, not by importing it.')
port.on('message', (message: SiteWorkMessage) => {
  void answer(message).then(({ answer, transfer }) => {
    try {
      port.postMessage(answer, transfer)
    } catch (error) {
      // An answer that cannot be cloned is a bug to report, not a reason for the request to wait forever.
      port.postMessage(failed(message.id, error))
    }
  })
})
