import type { FlashJobRow, FlashJobState, PortRow } from '../../../../shared/contract'

// The Bench screen's view model: pure functions over the ports and jobs the core pushes, with no DOM
// and no store, unit-tested on their own (test/unit/renderer/bench-model.test.ts).

export type PortRows = Readonly<Record<string, PortRow>>
export type JobRows = Readonly<Record<string, FlashJobRow>>

// ---- Ports -------------------------------------------------------------------------------------

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

/** "/dev/ttyUSB2" before "/dev/ttyUSB10", "COM3" before "COM12". */
export const comparePaths = (a: string, b: string): number => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)

export function sortedPorts(ports: PortRows): PortRow[] {
  return Object.values(ports).sort((a, b) => comparePaths(a.path, b.path))
}

const activeStates: ReadonlySet<FlashJobState> = new Set(['queued', 'connecting', 'writing', 'verifying', 'resetting'])

export function isJobActive(state: FlashJobState): boolean {
  return activeStates.has(state)
}

/** The job running on a port, if the core says one is and it has not finished. */
export function activeJobOf(port: PortRow, jobs: JobRows): FlashJobRow | null {
  if (port.jobId === null) return null
  const job = jobs[String(port.jobId)]
  return job && isJobActive(job.state) ? job : null
}

/** A port is busy while a job uses it; a job we have no row for yet counts as running. */
export function isPortBusy(port: PortRow, jobs: JobRows): boolean {
  if (port.jobId === null) return false
  const job = jobs[String(port.jobId)]
  return job === undefined || isJobActive(job.state)
}

export function freePortPaths(ports: PortRows, jobs: JobRows): string[] {
  return sortedPorts(ports)
    .filter((port) => !isPortBusy(port, jobs))
    .map((port) => port.path)
}

/** Ports unplugged since they were ticked leave the selection; the same array comes back if none did. */
export function pruneSelection(selected: readonly string[], ports: PortRows): readonly string[] {
  const kept = selected.filter((path) => path in ports)
  return kept.length === selected.length ? selected : kept
}

export function toggleInSelection(selected: readonly string[], path: string, included: boolean): readonly string[] {
  const has = selected.includes(path)
  if (included === has) return selected
  return included ? [...selected, path].sort(comparePaths) : selected.filter((item) => item !== path)
}

/**
 * What a Flash press sends: ticked ports that are still plugged in and free, in path order, so the
 * first port gets the first number of the serial-number pattern.
 */
export function portsToFlash(selected: readonly string[], ports: PortRows, jobs: JobRows): string[] {
  return selected.filter((path) => ports[path] !== undefined && !isPortBusy(ports[path], jobs)).sort(comparePaths)
}

/** Why Flash cannot be pressed yet, in the order the engineer would fix it; null when it can. */
export function flashBlocker(input: { connected: boolean; recipe: string | null; recipeSaved: boolean; unsavedChanges: boolean; ports: number; starting: boolean }): string | null {
  if (input.starting) return 'Starting the batch…'
  if (!input.connected) return 'The console host is not connected; Flash works again once it is.'
  if (!input.recipe || !input.recipeSaved) return 'Choose a saved recipe, or save the one you built.'
  if (input.unsavedChanges) return `Save the changes to "${input.recipe}" first: Flash writes the saved recipe.`
  if (input.ports === 0) return 'Tick the ports of the boards to flash (or "Select all free ports").'
  return null
}

// ---- Jobs --------------------------------------------------------------------------------------

export const jobStateLabels: Record<FlashJobState, string> = {
  queued: 'Queued',
  connecting: 'Connecting',
  writing: 'Writing',
  verifying: 'Verifying',
  resetting: 'Resetting',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

/** Newest batch first; within a batch, in the order of its serial numbers (Flash sends ports in path order). */
export function sortedJobs(jobs: JobRows): FlashJobRow[] {
  return Object.values(jobs).sort((a, b) => b.batchId - a.batchId || a.id - b.id)
}

export interface BatchView {
  batchId: number
  recipe: string
  jobs: FlashJobRow[]
  counts: Record<'active' | 'done' | 'failed' | 'cancelled', number>
}

export function batchesOf(sorted: readonly FlashJobRow[]): BatchView[] {
  const batches: BatchView[] = []
  for (const job of sorted) {
    let batch = batches[batches.length - 1]
    if (!batch || batch.batchId !== job.batchId) {
      batch = { batchId: job.batchId, recipe: job.recipe, jobs: [], counts: { active: 0, done: 0, failed: 0, cancelled: 0 } }
      batches.push(batch)
    }
    batch.jobs.push(job)
    if (isJobActive(job.state)) batch.counts.active++
    else batch.counts[job.state as 'done' | 'failed' | 'cancelled']++
  }
  return batches
}

/** A batch can be resumed when something in it did not finish and nothing in it still runs. */
export function canResume(batch: BatchView): boolean {
  return batch.counts.active === 0 && batch.counts.failed + batch.counts.cancelled > 0
}

export function batchSummary(batch: BatchView): string {
  const parts = [`${batch.counts.done} of ${batch.jobs.length} done`]
  if (batch.counts.active > 0) parts.push(`${batch.counts.active} running`)
  if (batch.counts.failed > 0) parts.push(`${batch.counts.failed} failed`)
  if (batch.counts.cancelled > 0) parts.push(`${batch.counts.cancelled} cancelled`)
  return parts.join(' · ')
}

/** Ids of jobs that were running in `before` and have finished in `after`. */
export function newlyFinished(before: JobRows, after: JobRows): number[] {
  if (before === after) return []
  const ids: number[] = []
  for (const key in after) {
    const was = before[key]
    const now = after[key]!
    if (!isJobActive(now.state) && (!was || isJobActive(was.state))) ids.push(now.id)
  }
  return ids
}

/** The <progress> value and max. Rows read back from the log have no total: their bytes are the whole. */
export function progressOf(job: Pick<FlashJobRow, 'state' | 'written' | 'total'>): { value: number; max: number } {
  const max = job.total > 0 ? job.total : Math.max(job.written, 1)
  if (job.state === 'done') return { value: max, max }
  return { value: Math.min(Math.max(job.written, 0), max), max }
}

export function percentOf(job: Pick<FlashJobRow, 'state' | 'written' | 'total'>): number {
  const { value, max } = progressOf(job)
  return Math.floor((value / max) * 100)
}

// ---- Words and numbers -------------------------------------------------------------------------

/** "812 B", "412 KB", "1.2 MB": flash sizes are binary, as esptool prints them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024, bytes < 10 * 1024 ? 1 : 0)} KB`
  return `${trim(bytes / (1024 * 1024), 1)} MB`
}

export function formatTransfer(job: Pick<FlashJobRow, 'state' | 'written' | 'total'>): string {
  if (job.total <= 0) return job.written > 0 ? formatBytes(job.written) : '—'
  return `${formatBytes(Math.min(job.written, job.total))} of ${formatBytes(job.total)}`
}

export function formatSpeed(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null || bytesPerSecond <= 0) return '—'
  const kb = bytesPerSecond / 1024
  return `${trim(kb, kb < 10 ? 1 : 0)} KB/s`
}

export function formatSecondsLeft(seconds: number | null): string {
  if (seconds === null) return '—'
  if (seconds <= 0) return 'under 1 s'
  if (seconds < 60) return `${Math.ceil(seconds)} s left`
  const minutes = Math.floor(seconds / 60)
  return `${minutes} min ${String(Math.ceil(seconds % 60)).padStart(2, '0')} s left`
}

export function formatOffset(offset: number): string {
  return `0x${offset.toString(16)}`
}

/** "4 MB", "512 KB". */
export function formatFlashSize(bytes: number | null): string {
  if (bytes === null) return 'flash size unknown'
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB flash` : `${bytes / 1024} KB flash`
}

/** "303a:1001" and what else the USB descriptor says. */
export function describeUsb(usb: PortRow['usb']): string {
  if (!usb) return 'not a USB device'
  const parts = [`USB ${usb.vendorId}:${usb.productId}`]
  if (usb.manufacturer) parts.push(usb.manufacturer)
  if (usb.serialNumber) parts.push(`S/N ${usb.serialNumber}`)
  return parts.join(' · ')
}

export function formatWhen(at: number | null): string {
  return at === null ? '—' : new Date(at).toLocaleString()
}

function trim(value: number, digits: number): string {
  return String(Number(value.toFixed(digits)))
}
