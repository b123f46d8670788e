import type { BindingInterface } from '@serialport/bindings-interface'
import type { FlashJobRow, FlashJobState, ReadBackRegion } from '../../../shared/contract'
import { checkDeviceId, nextSequence, serialFromPattern } from '../../../shared/domain/bench/recipe'
import type { AuditLog } from '../audit-log'
import type { EventHub } from '../event-hub'
import { ContractFailure } from '../failure'
import { FlasherError } from '../flasher/flasher-error'
import type { Logger } from '../log'
import type { OpenStore } from '../store/store'
import { FirmwareStore } from './firmware-store'
import { readBackRegions, runFlashJob, type JobUpdate } from './flash-job'
import { PortWatcher } from './port-watcher'

export interface BenchServiceOptions {
  store: OpenStore
  dataDir: string
  events: EventHub
  audit: AuditLog
  log: Logger
  now: () => number
  /** Ports to show besides USB ones (`--serial-port`): pseudo-terminals, RS-485 adapters. */
  extraPorts: readonly string[]
  /** Another serialport binding (emulated boards in tests). */
  binding?: BindingInterface
  portScanMs?: number
  /** The Sparkplug group flashed boards are given (Settings → Bench). */
  group: () => string
  /** A board flashed and verified: the fleet expects it under this group and id. */
  flashed: (group: string, serial: string, firmware: string) => void
}

interface JobDbRow {
  id: number
  batch_id: number
  port: string
  recipe: string
  serial: string
  state: FlashJobState
  phase: string
  chip: string | null
  mac: string | null
  error_code: string | null
  error_message: string | null
  regions: string
  started_at: number | null
  finished_at: number | null
  operator: string
}

const finished: ReadonlySet<FlashJobState> = new Set(['done', 'failed', 'cancelled'])

/**
 * The bench station: ports, firmware, recipes, and flash jobs run one per port, logged in SQLite as
 * they go so a batch interrupted by a sleep, a crash or an unplugged board can be resumed.
 */
export class BenchService {
  readonly ports: PortWatcher
  readonly firmware: FirmwareStore
  private readonly running = new Map<number, { controller: AbortController; done: Promise<void> }>()
  private readonly rows = new Map<number, FlashJobRow>()
  /** Ports being read back, which a new job must not open at the same time. */
  private readonly readingBack = new Set<string>()

  constructor(private readonly options: BenchServiceOptions) {
    this.ports = new PortWatcher({ events: options.events, log: options.log, extraPaths: options.extraPorts, ...(options.binding ? { binding: options.binding } : {}), ...(options.portScanMs ? { intervalMs: options.portScanMs } : {}) })
    this.firmware = new FirmwareStore(options.store, options.dataDir, options.now)
    // A job the console was running when it stopped did not finish: say so, and offer the resume.
    options.store.writer.now(() =>
      options.store.db
        .prepare(`UPDATE flash_jobs SET state = 'failed', error_code = 'interrupted', error_message = ?, finished_at = ? WHERE state NOT IN ('done', 'failed', 'cancelled')`)
        .run('The console stopped during this job (the laptop slept, or the console was closed). Resume the batch to finish it.', options.now()),
    )
    for (const row of this.unfinishedRows()) this.publish(row)
    this.ports.start()
  }

  /** `names`: each board's id from the site plan, in port order; without them the recipe's pattern numbers the boards from `firstSeq`. */
  async flash(recipeName: string, ports: readonly string[], firstSeq: number, actor: string, names?: readonly string[]): Promise<{ batchId: number; jobIds: number[] }> {
    const recipe = this.firmware.recipe(recipeName)
    const regions = this.firmware.load(recipe)
    await this.ports.scan()
    const unknown = ports.filter((port) => !this.ports.has(port))
    if (unknown.length > 0) throw new ContractFailure('NOT_FOUND', `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not plugged in (any more). Pick from the list of ports.`)
    const busy = ports.filter((port) => this.readingBack.has(port) || [...this.running.keys()].some((id) => this.rows.get(id)?.port === port))
    if (busy.length > 0) throw new ContractFailure('CONFLICT', `${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} already being flashed.`)
    if (new Set(ports).size !== ports.length) throw new ContractFailure('INVALID_PARAMS', 'A port is listed twice.')
    if (names && names.length !== ports.length) throw new ContractFailure('INVALID_PARAMS', `${ports.length} port(s) but ${names.length} planned node name(s): pick one planned node per board.`)
    if (names && new Set(names).size !== names.length) throw new ContractFailure('INVALID_PARAMS', 'A planned node is listed twice: each board needs its own.')
    const serials = ports.map((_, index) => (names ? checkDeviceId(names[index]!) : serialFromPattern(recipe.serialPattern, firstSeq + index)))
    const bad = serials.find((serial) => !serial.ok)
    if (bad && !bad.ok) throw new ContractFailure('INVALID_PARAMS', bad.error)
    // One identity per board: a serial already flashed onto a board is not handed out again.
    const taken = this.options.store.db.prepare(`SELECT serial, mac FROM flash_jobs WHERE state = 'done' AND serial = ?`)
    const reused = serials.map((serial) => taken.get((serial as { serial: string }).serial) as { serial: string; mac: string | null } | undefined).find(Boolean)
    if (reused) {
      const remedy = names ? 'Pick a planned node that has not been flashed yet.' : `Start from board ${this.nextSeq(recipeName).firstSeq}, or change the serial-number pattern.`
      throw new ContractFailure('CONFLICT', `${reused.serial} was already given to a board${reused.mac ? ` (MAC ${reused.mac})` : ''}. ${remedy}`)
    }

    const db = this.options.store.db
    const batchId = (((db.prepare('SELECT max(batch_id) AS id FROM flash_jobs').get() as { id: number | null }).id ?? 0) as number) + 1
    const insert = db.prepare(`INSERT INTO flash_jobs (batch_id, port, recipe, serial, state, phase, regions, operator, created_at) VALUES (?, ?, ?, ?, 'queued', 'Waiting to start', '[]', ?, ?)`)
    const jobIds = this.options.audit.perform(
      { actor, action: 'flash boards', target: recipe.name, detail: `batch ${batchId}: ${ports.map((port, i) => `${port} → ${(serials[i] as { serial: string }).serial}`).join(', ')}` },
      () => ports.map((port, i) => Number(insert.run(batchId, port, recipe.name, (serials[i] as { serial: string }).serial, actor, this.options.now()).lastInsertRowid)),
    )
    for (const id of jobIds) this.start(id, regions, recipe.baud, false)
    return { batchId, jobIds }
  }

  nextSeq(recipeName: string): { firstSeq: number } {
    const recipe = this.firmware.recipe(recipeName)
    const given = (this.options.store.db.prepare(`SELECT serial FROM flash_jobs WHERE state = 'done'`).all() as { serial: string }[]).map((row) => row.serial)
    return { firstSeq: nextSequence(recipe.serialPattern, given) }
  }

  cancel(jobId: number): { cancelled: boolean } {
    const running = this.running.get(jobId)
    if (!running) return { cancelled: false }
    running.controller.abort()
    return { cancelled: true }
  }

  resume(batchId: number, actor: string): { jobIds: number[] } {
    const rows = (this.options.store.db.prepare(`SELECT * FROM flash_jobs WHERE batch_id = ? AND state != 'done'`).all(batchId) as JobDbRow[]).map(toRow)
    if (rows.length === 0) throw new ContractFailure('NOT_FOUND', `Batch ${batchId} has nothing left to flash.`)
    const active = rows.filter((row) => this.running.has(row.id))
    if (active.length > 0) throw new ContractFailure('CONFLICT', `Batch ${batchId} is still running on ${active.map((row) => row.port).join(', ')}.`)
    const recipe = this.firmware.recipe(rows[0]!.recipe)
    const regions = this.firmware.load(recipe)
    this.options.audit.perform({ actor, action: 'resume flashing', target: recipe.name, detail: `batch ${batchId}: ${rows.map((row) => row.serial).join(', ')}` }, () => {})
    for (const row of rows) {
      this.options.store.writer.now(() => this.options.store.db.prepare(`UPDATE flash_jobs SET state = 'queued', error_code = NULL, error_message = NULL WHERE id = ?`).run(row.id))
      this.start(row.id, regions, recipe.baud, true)
    }
    return { jobIds: rows.map((row) => row.id) }
  }

  jobs(limit: number): FlashJobRow[] {
    return (this.options.store.db.prepare('SELECT * FROM flash_jobs ORDER BY id DESC LIMIT ?').all(limit) as JobDbRow[]).map((row) => this.rows.get(row.id) ?? toRow(row))
  }

  /** Reads a finished job's regions back from its board (still on the same port) and compares them. */
  async readBack(jobId: number): Promise<{ regions: ReadBackRegion[] }> {
    const stored = this.options.store.db.prepare('SELECT * FROM flash_jobs WHERE id = ?').get(jobId) as JobDbRow | undefined
    if (!stored) throw new ContractFailure('NOT_FOUND', `No flash job ${jobId}.`)
    const job = toRow(stored)
    if (job.state !== 'done') throw new ContractFailure('CONFLICT', `Job ${jobId} did not finish; there is nothing verified to read back. Resume its batch first.`)
    if (this.readingBack.has(job.port) || [...this.running.keys()].some((id) => this.rows.get(id)?.port === job.port)) {
      throw new ContractFailure('CONFLICT', `${job.port} is busy; read back when it is free.`)
    }
    this.readingBack.add(job.port)
    try {
      return { regions: await readBackRegions(job, this.ports.identity(job.port), new AbortController().signal, this.options.binding) }
    } catch (error) {
      if (error instanceof FlasherError) throw new ContractFailure('UNAVAILABLE', error.message)
      throw error
    } finally {
      this.readingBack.delete(job.port)
    }
  }

  /** Waits for running jobs (tests, shutdown after a cancel). */
  async settled(): Promise<void> {
    await Promise.all([...this.running.values()].map((job) => job.done))
  }

  async dispose(): Promise<void> {
    this.ports.stop()
    for (const job of this.running.values()) job.controller.abort()
    await this.settled()
  }

  private start(id: number, regions: Parameters<typeof runFlashJob>[0]['regions'], baud: number, resume: boolean): void {
    const row = toRow(this.options.store.db.prepare('SELECT * FROM flash_jobs WHERE id = ?').get(id) as JobDbRow)
    const controller = new AbortController()
    const startedAt = this.options.now()
    let current: FlashJobRow = { ...row, state: 'queued', error: null, startedAt, finishedAt: null, written: 0, total: 0, bytesPerSecond: null, secondsLeft: null }
    this.publish(current)
    this.ports.update(row.port, { jobId: id })
    const report = (update: JobUpdate) => {
      current = { ...current, ...update }
      // What is on the port is known as soon as the board is identified, whatever happens next.
      if (update.chip && update.mac) this.ports.update(row.port, { probed: { chip: update.chip, mac: update.mac, flashSize: null } })
      this.publish(current)
      if (update.state || update.chip) this.persist(current)
    }
    const group = this.options.group()
    const done = runFlashJob({ port: row.port, identity: this.ports.identity(row.port), regions, serial: row.serial, group, batchId: row.batchId, baud, signal: controller.signal, resume, ...(this.options.binding ? { binding: this.options.binding } : {}) }, report)
      .then((board) => {
        this.ports.update(row.port, { probed: { chip: board.chip, mac: board.mac, flashSize: board.flashSize } })
        this.options.flashed(group, row.serial, board.firmware)
        report({ state: 'done' })
      })
      .catch((error: unknown) => {
        const failure = error instanceof FlasherError ? { code: error.code, message: error.message } : { code: 'internal', message: `Unexpected: ${(error as Error).message}` }
        if (!(error instanceof FlasherError)) this.options.log.error(`Flash job ${id} on ${row.port}: ${(error as Error).stack ?? String(error)}`)
        report({ state: failure.code === 'cancelled' ? 'cancelled' : 'failed', error: failure, phase: failure.code === 'cancelled' ? 'Cancelled' : 'Stopped' })
      })
      .finally(() => {
        current = { ...current, finishedAt: this.options.now() }
        this.persist(current)
        this.publish(current)
        this.running.delete(id)
        this.ports.update(row.port, { jobId: null })
      })
    this.running.set(id, { controller, done })
  }

  private persist(row: FlashJobRow): void {
    this.options.store.writer.now(() =>
      this.options.store.db
        .prepare('UPDATE flash_jobs SET state = ?, phase = ?, chip = ?, mac = ?, error_code = ?, error_message = ?, regions = ?, started_at = ?, finished_at = ? WHERE id = ?')
        .run(row.state, row.phase, row.chip, row.mac, row.error?.code ?? null, row.error?.message ?? null, JSON.stringify(row.regions), row.startedAt, row.finishedAt, row.id),
    )
  }

  private publish(row: FlashJobRow): void {
    this.rows.set(row.id, row)
    this.options.events.set('bench.jobs', String(row.id), row)
  }

  private unfinishedRows(): FlashJobRow[] {
    const batches = this.options.store.db.prepare(`SELECT DISTINCT batch_id FROM flash_jobs WHERE state != 'done' ORDER BY batch_id DESC LIMIT 5`).all() as { batch_id: number }[]
    return batches.flatMap(({ batch_id }) => (this.options.store.db.prepare('SELECT * FROM flash_jobs WHERE batch_id = ?').all(batch_id) as JobDbRow[]).map(toRow))
  }
}

function toRow(row: JobDbRow): FlashJobRow {
  const regions = JSON.parse(row.regions) as FlashJobRow['regions']
  return {
    id: row.id,
    batchId: row.batch_id,
    port: row.port,
    recipe: row.recipe,
    serial: row.serial,
    state: row.state,
    phase: row.phase,
    written: finished.has(row.state) ? regions.reduce((sum, region) => sum + region.size, 0) : 0,
    total: 0,
    bytesPerSecond: null,
    secondsLeft: null,
    chip: row.chip,
    mac: row.mac,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    regions,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    operator: row.operator,
  }
}
