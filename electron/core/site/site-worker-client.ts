import { Worker } from 'node:worker_threads'
import { ContractFailure } from '../failure'
import type { Logger } from '../log'
import type { SiteWork, SiteWorkAnswer, SiteWorkKind, SiteWorkMessage } from './site-worker'

export interface SiteWorkerOptions {
  /** The built worker, out/main/site-worker.js. Absent (tests, tsx runs), its TypeScript source runs through tsx. */
  entry?: URL
  log: Logger
  /** A request still running after this long is stopped with the worker, which starts afresh for the next. */
  timeoutMs?: number
}

interface Pending {
  worker: Worker
  kind: SiteWorkKind
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

/** The largest plans finish in seconds; this long means the worker is stuck, not busy. */
const defaultTimeoutMs = 120_000

const doing: Record<SiteWorkKind, string> = {
  coverage: 'computing coverage',
  'coverage-export': 'computing coverage for the export',
  placement: 'planning placements',
  import: 'reading the site file',
}

/**
 * The core's side of site-worker.ts: one worker thread, started on the first request and kept for the next
 * (HiGHS loads once), answering requests by id in whatever order they finish. A worker that dies fails the
 * requests it held with a message saying so, and the next request starts a new one; dispose stops it.
 */
export class SiteWorkerClient {
  private worker: Worker | null = null
  /** Every thread not yet exited, the current one and any still stopping, so dispose can wait for all. */
  private readonly running = new Set<Worker>()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private disposed = false

  constructor(private readonly options: SiteWorkerOptions) {}

  run<K extends SiteWorkKind>(kind: K, request: SiteWork[K]['request']): Promise<SiteWork[K]['reply']> {
    if (this.disposed) return Promise.reject(new ContractFailure('UNAVAILABLE', `The console is shutting down, so it is not ${doing[kind]} any more.`))
    const worker = this.worker ?? this.start()
    const id = this.nextId++
    const timeoutMs = this.options.timeoutMs ?? defaultTimeoutMs
    return new Promise((resolve, reject) => {
      const pending: Pending = { worker, kind, resolve: resolve as (value: unknown) => void, reject, timer: setTimeout(() => this.timedOut(pending, timeoutMs), timeoutMs) }
      pending.timer.unref()
      this.pending.set(id, pending)
      const message: SiteWorkMessage<K> = { id, kind, request }
      try {
        worker.postMessage(message)
      } catch (error) {
        // Something that cannot be cloned to another thread: a bug here, not a reason to stop the worker.
        this.settle(id, pending)
        reject(error as Error)
      }
    })
  }

  /** Fails what is still waiting and stops every thread this client started. */
  async dispose(): Promise<void> {
    this.disposed = true
    for (const worker of this.running) this.settleAll(worker, (pending) => new ContractFailure('UNAVAILABLE', `The console is shutting down, so ${doing[pending.kind]} was not finished.`))
    this.worker = null
    await Promise.all([...this.running].map((worker) => worker.terminate()))
  }

  private start(): Worker {
    const worker = this.options.entry ? new Worker(this.options.entry) : workerFromSource()
    // The core's own servers keep the process alive; an idle worker must not keep a finished one running.
    worker.unref()
    this.worker = worker
    this.running.add(worker)
    let crash: Error | null = null
    worker.on('message', (answer: SiteWorkAnswer) => {
      const pending = this.pending.get(answer.id)
      if (!pending || pending.worker !== worker) return
      this.settle(answer.id, pending)
      if (answer.ok) pending.resolve(answer.value)
      else pending.reject(Object.assign(new Error(answer.error.message), { name: answer.error.name, ...(answer.error.stack ? { stack: answer.error.stack } : {}) }))
    })
    // Always followed by 'exit': kept so the exit can say why.
    worker.on('error', (error) => {
      crash = error
    })
    worker.on('exit', (code) => {
      this.running.delete(worker)
      if (this.worker === worker) this.worker = null
      if (this.disposed) return
      const cause = crash ? crash.message : `exit code ${code}`
      const held = [...this.pending.values()].filter((pending) => pending.worker === worker).length
      if (held > 0 || crash) this.options.log.error(`The site worker stopped (${cause}); it starts again with the next request.`, crash ?? undefined)
      this.settleAll(worker, (pending) => new ContractFailure('UNAVAILABLE', `The site worker stopped while ${doing[pending.kind]} (${cause}). It starts again with the next request: try again, and if it stops again, try coarser cells or a smaller file.`))
    })
    return worker
  }

  /** A stuck worker holds up every request after it: it is stopped, and the next request starts a new one. */
  private timedOut(late: Pending, timeoutMs: number): void {
    this.options.log.warn(`The site worker was stopped: ${doing[late.kind]} took longer than ${seconds(timeoutMs)}.`)
    this.stop(late.worker, (pending) =>
      pending === late
        ? new ContractFailure('TIMEOUT', `${capitalised(doing[late.kind])} took longer than ${seconds(timeoutMs)}, so it was stopped. Try coarser cells or a smaller file.`)
        : new ContractFailure('UNAVAILABLE', `The site worker was restarted while ${doing[pending.kind]}, because ${doing[late.kind]} took too long. Try again.`),
    )
  }

  /** Fails the worker's requests with `reason`, then terminates it; the next request starts a new one. */
  private stop(worker: Worker, reason: (pending: Pending) => Error): void {
    this.settleAll(worker, reason)
    if (this.worker === worker) this.worker = null
    void worker.terminate()
  }

  private settleAll(worker: Worker, reason: (pending: Pending) => Error): void {
    for (const [id, pending] of this.pending) {
      if (pending.worker !== worker) continue
      const error = reason(pending)
      this.settle(id, pending)
      pending.reject(error)
    }
  }

  private settle(id: number, pending: Pending): void {
    clearTimeout(pending.timer)
    this.pending.delete(id)
  }
}

/**
 * Run from TypeScript there is no built worker, so tsx compiles the source inside the thread. It registers
 * itself there: Node 20 does not apply `--import tsx` in a worker's execArgv to the worker's own loader.
 */
function workerFromSource(): Worker {
  const tsx = import.meta.resolve('tsx/esm/api')
  const source = new URL('./site-worker.ts', import.meta.url).href
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}) })`, { eval: true })
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
