// The OTA side of one virtual ESP32, across its resets: what lives in flash (slots, otadata), what lives
// in NVS (where the OTA job stands) and what one boot of the application does with them. It speaks the
// console's protocol (shared/domain/ota/protocol.ts) through a host, the edge node, which carries the
// reports in NBIRTH and NDATA and performs the resets this asks for. Nothing here knows about MQTT, so the
// boot and rollback logic can be driven by a test directly.
//
// The application does what ESP-IDF's esp_https_ota and esp_ota_ops do on a device built with app
// rollback: it downloads into the passive slot (erasing sector by sector ahead of the writes), resumes
// after a lost link with a Range request from the bytes already in the slot, checks size, SHA-256 and the
// image itself, and then waits. Only `install` writes otadata (state NEW) and restarts; the bootloader
// turns NEW into PENDING_VERIFY; the new image confirms itself (VALID) once its self-test passes, or
// never does, and the bootloader goes back at the next reset.
//
// What survives a reset: the flash and the NVS record (NVS is written atomically, as ESP-IDF's NVS is
// designed to be). What does not: how far a download got, which ESP-IDF keeps in RAM only, so a reset in
// the middle of a download ends that job (`failed`, `interrupted`) and the next download starts at byte 0.
import { checkImageForChip, parseAppImage } from '../../shared/domain/firmware/app-image'
import type { EspChipName } from '../../shared/domain/firmware/chips'
import { decodeOtadata, markActiveOtaState, selectOtaSlot, type OtaImageState } from '../../shared/domain/firmware/otadata'
import { nextUpdatePartition, otaSlotOf, type Partition } from '../../shared/domain/firmware/partition-table'
import {
  parseOtaCommand,
  parseOtaError,
  type DeviceOtaState,
  type DownloadCommand,
  type OtaErrorCode,
  type OtaReport,
} from '../../shared/domain/ota/protocol'
import { every, type Clock } from '../fleet/clock'
import { crashReasons, type RebootReason } from '../fleet/metrics'
import type { Random } from '../fleet/random'
import { buildAppImage, sha256, sha256Hex } from './app-image'
import {
  flashAsShipped,
  readFlashLayout,
  readOtadata,
  runBootloader,
  slotOfEntry,
  writeOtadata,
  type AppSlotName,
  type BootResult,
  type FlashLayout,
} from './bootloader'
import { flashSectorSize, PowerLossError, SpiFlash } from './flash'
import { httpImageFetcher, type FetchHandle, type ImageFetcher } from './http-fetch'

/** The moments of an update where a power cut is worth injecting, in the order an update passes them. */
export const otaSteps = ['download', 'downloaded', 'install', 'otadata-write', 'reboot', 'verify', 'mark-valid'] as const
export type OtaStep = (typeof otaSteps)[number]

/** OTA faults on demand, one node at a time. */
export type OtaFault =
  /**
   * The power goes: now, or when the node next reaches `at` — in the middle of a slot write (download), while
   * it waits for install (downloaded), before otadata is written (install), in the middle of the otadata
   * write, of the bootloader's otadata write (reboot), of the self-test (verify) or of writing VALID (mark-valid).
   */
  | { kind: 'power-cut'; at?: OtaStep | 'now'; offMs?: number }
  /** The image server stops sending: the node's read times out and it resumes with a Range request. */
  | { kind: 'stall' }
  /** The next new image panics on its first boot, whatever it is. */
  | { kind: 'boot-crash' }

/** Random OTA faults, seeded per node. */
export interface OtaFaultRates {
  /** Chance, at each step of an update (see otaSteps), that the power is cut there. */
  powerCut?: number
  /** Chance per second while downloading that Wi-Fi drops (MQTT and the HTTP download both go). */
  linkDrop?: number
  /** Chance per second while downloading that the server stops sending. */
  stall?: number
  /** Chance that a new image panics on its first boot. */
  bootCrash?: number
}

export interface OtaOptions {
  /** Where the node runs at first power-on. Default 'ota_0' (a node that has had one update); 'factory' is a node fresh off the bench. */
  initialSlot?: AppSlotName
  /** The module's chip: images for another one are refused, as the bootloader would. Default ESP32. */
  chip?: EspChipName
  /** PEM certificate(s) trusted for https:// image URLs (the site CA, or the server's own self-signed certificate). */
  ca?: string | Buffer | readonly (string | Buffer)[]
  /** Accept any HTTPS certificate. */
  insecure?: boolean
  /** Where image bytes come from. Default: HTTP(S) with `ca` / `insecure`. */
  fetch?: ImageFetcher
  /** No byte for this long ends a download attempt (esp_http_client's timeout_ms). Default 10 000. */
  stallTimeoutMs?: number
  /** First wait before a download attempt is retried with Range; doubles per failure, up to 30 s. Default 2000. */
  retryDelayMs?: number
  /** Attempts in a row without a byte before the job fails with download-failed. Default 5. */
  maxRetries?: number
  /** From `installing` to the otadata write (esp_ota_set_boot_partition verifies the image first). Default 300. */
  installMs?: number
  /** From the new image's first birth to its verdict. Default 2000. */
  selfTestMs?: number
  /** From reset to the panic of an image that crashes on boot. Default 400. */
  crashAfterMs?: number
  /** Images whose esp_app_desc_t version matches panic on their first boot. Default /crash/i. */
  crashingVersion?: RegExp
  /** Images with these SHA-256s (of the image file) panic on their first boot. */
  crashingSha256s?: readonly string[]
  /** Images whose version matches run but fail their self-test and invalidate themselves. Default /self-?test-?fail/i. */
  selfTestFailingVersion?: RegExp
  /** Size of the segment data of the image the node ships with. Default 64 KiB. */
  imageBytes?: number
  faults?: OtaFaultRates
}

export interface OtaDeviceHost {
  /** Something the console should hear now (an NDATA when the node is online; the next NBIRTH has it anyway). */
  report(report: OtaReport): void
  /** The node must reset: esp_restart (ESP_RST_SW), a panic, or the power went (ESP_RST_POWERON). */
  reset(reason: RebootReason, offMs?: number): void
  /** Wi-Fi is lost (a random link-drop fault): the MQTT session goes with it. */
  dropLink(): void
  event?(detail: string): void
}

export interface OtaDeviceOptions extends OtaOptions {
  clock: Clock
  random: Random
  /** Version of the image the node ships with. */
  firmwareVersion: string
  host: OtaDeviceHost
}

/** The OTA job as NVS keeps it. */
export interface OtaRecord {
  state: DeviceOtaState
  job: string
  /** OTA/Error text; '' for none. */
  error: string
  progress: number
  /** What the job brings and where it goes. */
  target?: { slot: string; url: string; size: number; sha256: string; version: string }
  /** What ran when the job began: where a failed update comes back to. */
  from?: { slot: string; version: string }
}

export interface OtaStats {
  downloads: number
  /** Download attempts that asked for a Range (resumes). */
  resumes: number
  bytesWritten: number
  installs: number
  succeeded: number
  rolledBack: number
  failed: number
  powerCuts: number
  boots: number
}

interface DownloadRun {
  command: DownloadCommand
  slot: Partition
  /** Bytes of the image in the slot: RAM only, lost at a reset. */
  written: number
  /** Flash address up to which the slot has been erased for this download. */
  erasedEnd: number
  /** Bytes of the current response to drop because they are already in the slot. */
  skip: number
  attempt: number
  failuresInARow: number
  handle: FetchHandle | null
  stalled: boolean
  /** A power cut waits at this byte of the image. */
  cutAt: number | null
  lastPercent: number
  lastReportAt: number
  cancelStall: (() => void) | null
  cancelTicker: (() => void) | null
}

interface AppSession {
  alive: boolean
  boot: Extract<BootResult, { ok: true }>
  layout: FlashLayout
  timers: Set<() => void>
  download: DownloadRun | null
  verifying: boolean
  selfTestStarted: boolean
  selfTestFails: boolean
}

const maxRetryDelayMs = 30_000

export class OtaDevice {
  readonly flash = new SpiFlash()
  readonly chip: EspChipName
  readonly stats: OtaStats = { downloads: 0, resumes: 0, bytesWritten: 0, installs: 0, succeeded: 0, rolledBack: 0, failed: 0, powerCuts: 0, boots: 0 }

  private readonly options: OtaDeviceOptions
  private readonly clock: Clock
  private readonly random: Random
  private readonly host: OtaDeviceHost
  private readonly fetch: ImageFetcher
  private nvs: OtaRecord = { state: 'idle', job: '', error: '', progress: 0 }
  private session: AppSession | null = null
  private lastBoot: Extract<BootResult, { ok: true }> | null = null
  private bootFailure: string | null = null
  private pendingCut: { at: OtaStep; offMs?: number } | null = null
  private cutOffMs: number | undefined
  private crashNextImage = false
  /** The image the node shipped with: it boots, whatever its version says, or the node could never start. */
  private readonly shippedSha256: string

  constructor(options: OtaDeviceOptions) {
    this.options = options
    this.clock = options.clock
    this.random = options.random
    this.host = options.host
    this.chip = options.chip ?? 'ESP32'
    this.fetch = options.fetch ?? httpImageFetcher({ ...(options.ca ? { ca: options.ca } : {}), ...(options.insecure ? { insecure: true } : {}) })
    const image = buildAppImage({ version: options.firmwareVersion, chip: this.chip, ...(options.imageBytes !== undefined ? { payloadBytes: options.imageBytes } : {}) })
    flashAsShipped(this.flash, { image, initialSlot: options.initialSlot ?? 'ota_0' })
    this.shippedSha256 = sha256Hex(image)
  }

  /** The OTA job as NVS holds it now. */
  get record(): Readonly<OtaRecord> {
    return this.nvs
  }

  /** What the last boot started; null before the first boot or when nothing could boot. */
  get running(): { slot: string; version: string; otaState: OtaImageState | null; sha256: string } | null {
    const boot = this.lastBoot
    if (!boot) return null
    return { slot: boot.app.partition.name, version: boot.app.image.appDescription?.version ?? '', otaState: boot.otaState, sha256: boot.app.sha256 }
  }

  /** Why the last boot found nothing to run (a bricked node); null when it booted. */
  get bricked(): string | null {
    return this.bootFailure
  }

  /** Every OTA metric, for an NBIRTH. */
  birthReport(): OtaReport {
    const running = this.running
    return {
      state: this.nvs.state,
      job: this.nvs.job,
      progress: this.nvs.progress,
      error: parseOtaError(this.nvs.error),
      ...(running ? { firmwareVersion: running.version, runningSlot: running.slot } : {}),
    }
  }

  // ---- boot ------------------------------------------------------------------------------------------

  /**
   * A reset ends here: the bootloader runs, then the application looks at where its OTA job stood.
   * 'halt' when the application will not reach the network (it is about to panic, or nothing boots,
   * or the power went during the bootloader's own write); the host has been told to reset if it must.
   */
  boot(resetReason: RebootReason): 'run' | 'halt' {
    this.endSession()
    this.stats.boots++
    const layout = readFlashLayout(this.flash)
    const cutHere = layout.ok && this.bootloaderWillWrite(layout.value) && this.takeCut('reboot')
    if (cutHere) this.flash.armPowerCut({ afterOps: this.random.int(0, 1), fraction: this.random.next() })
    let result: BootResult
    try {
      result = runBootloader(this.flash, { chip: this.chip })
    } catch (error) {
      if (!(error instanceof PowerLossError)) throw error
      this.event('power cut during the bootloader’s otadata write')
      this.powerLost()
      return 'halt'
    } finally {
      // A cut armed for this boot and not reached is dropped; one armed from outside (a test's hand on
      // the power switch) stays armed for whatever flash operation comes next.
      if (cutHere) this.flash.disarmPowerCut()
    }
    if (!result.ok) {
      this.lastBoot = null
      this.bootFailure = result.error
      this.event(`nothing to boot: ${result.error}`)
      return 'halt'
    }
    this.bootFailure = null
    this.lastBoot = result
    for (const refused of result.refused) this.event(`bootloader skipped ${refused.partition}: ${refused.reason}`)
    const session: AppSession = {
      alive: true,
      boot: result,
      layout: result.layout,
      timers: new Set(),
      download: null,
      verifying: false,
      selfTestStarted: false,
      selfTestFails: false,
    }
    this.session = session
    const version = result.app.image.appDescription?.version ?? ''
    const firstBoot = result.otaState === 'PENDING_VERIFY'
    // A broken image panics at every start; the injected and random boot crashes hit a new image's first one.
    const broken =
      result.app.sha256 !== this.shippedSha256 &&
      ((this.options.crashingVersion ?? /crash/i).test(version) || (this.options.crashingSha256s ?? []).includes(result.app.sha256))
    const crashes = broken || (firstBoot && (this.crashNextImage || this.random.chance(this.options.faults?.bootCrash ?? 0)))
    if (firstBoot) this.crashNextImage = false
    if (crashes) {
      // Panics in its init, before Wi-Fi: it never gets as far as its own OTA code.
      this.event(`${result.app.partition.name} (${version}) panics on boot`)
      this.after(this.options.crashAfterMs ?? 400, () => {
        this.endSession()
        this.host.reset('ESP_RST_PANIC')
      })
      return 'halt'
    }
    session.selfTestFails = (this.options.selfTestFailingVersion ?? /self-?test-?fail/i).test(version)
    this.judgeJobAtBoot(session, resetReason)
    return 'run'
  }

  /** The node has published its births: a new image starts its self-test now. */
  online(): void {
    const session = this.session
    if (!session?.alive || !session.verifying || session.selfTestStarted) return
    session.selfTestStarted = true
    const selfTestMs = this.options.selfTestMs ?? 2000
    if (this.takeCut('verify')) this.after(this.random.int(0, Math.max(0, selfTestMs - 1)), () => this.powerLost())
    this.after(selfTestMs, () => this.selfTest(session))
  }

  /** The node is going down (any reset, or stopped): the application and everything it had in RAM end. */
  reset(): void {
    this.endSession()
  }

  /** Wi-Fi is gone: the HTTP connection dies with it and the download tries again later with Range. */
  linkLost(): void {
    const run = this.session?.download
    if (run?.handle) this.retry(run, 'Wi-Fi lost')
  }

  inject(fault: OtaFault): void {
    switch (fault.kind) {
      case 'power-cut': {
        if (fault.at === undefined || fault.at === 'now') {
          this.cutOffMs = fault.offMs
          this.powerLost()
          return
        }
        this.pendingCut = { at: fault.at, ...(fault.offMs !== undefined ? { offMs: fault.offMs } : {}) }
        // Steps the node is already in take the cut now rather than at the next update.
        if (fault.at === 'downloaded' && this.nvs.state === 'downloaded' && this.session) {
          this.takeCut('downloaded')
          this.powerLost()
        } else if (fault.at === 'verify' && this.session?.selfTestStarted && this.session.verifying) {
          this.takeCut('verify')
          this.powerLost()
        }
        return
      }
      case 'stall': {
        const run = this.session?.download
        if (!run?.handle) return
        run.stalled = true
        run.handle.pause()
        return
      }
      case 'boot-crash':
        this.crashNextImage = true
        return
    }
  }

  // ---- commands --------------------------------------------------------------------------------------

  /** The text of an OTA/Command metric. Refused (and nothing done) when it is not one of the protocol's commands. */
  command(text: string): { ok: true } | { ok: false; detail: string } {
    const parsed = parseOtaCommand(text)
    if (!parsed.ok) return parsed
    const session = this.session
    if (!session?.alive) return { ok: false, detail: 'the application is not running' }
    const command = parsed.command
    const held = this.nvs.job === command.job
    const state = this.nvs.state
    switch (command.op) {
      case 'download':
        if (held) {
          // A resent command: say again where this job stands, do not start it over.
          this.host.report({ state, job: command.job, progress: this.nvs.progress, error: parseOtaError(this.nvs.error) })
        } else if (state === 'installing' || state === 'rebooting' || state === 'verifying') {
          // esp_ota_begin refuses while the running image is not confirmed; the job in hand is not disturbed.
          this.host.report({ state: 'failed', job: command.job, error: parseOtaError(`busy: ${state} ${this.nvs.job}`) })
        } else {
          this.startDownload(session, command)
        }
        return { ok: true }
      case 'install':
        if (!held) {
          this.host.report({ state: 'failed', job: command.job, error: parseOtaError(`not-downloaded: this node holds ${this.nvs.job === '' ? 'no job' : `${this.nvs.job} (${state})`}`) })
        } else if (state === 'downloaded') {
          this.install(session)
        } else if (state === 'downloading') {
          this.failJob(session, 'not-downloaded', `install came at ${this.nvs.progress}% of the download`)
        } else if (state === 'failed' || state === 'idle') {
          this.host.report({ state, job: command.job, progress: this.nvs.progress, error: parseOtaError(this.nvs.error) })
        }
        // Past downloaded (installing … rolled-back): a resent install, already acted on.
        return { ok: true }
      case 'cancel':
        if (held && (state === 'downloading' || state === 'downloaded')) this.cancel(session)
        return { ok: true }
    }
  }

  // ---- download --------------------------------------------------------------------------------------

  private startDownload(session: AppSession, command: DownloadCommand): void {
    this.abandonDownload(session)
    const running = session.boot.app
    const slot = nextUpdatePartition(session.layout.table, running.partition)
    this.stats.downloads++
    this.persist({
      state: 'downloading',
      job: command.job,
      error: '',
      progress: 0,
      ...(slot ? { target: { slot: slot.name, url: command.url, size: command.size, sha256: command.sha256, version: command.version } } : {}),
      from: { slot: running.partition.name, version: running.image.appDescription?.version ?? '' },
    })
    this.host.report({ state: 'downloading', job: command.job, progress: 0, error: null })
    if (!slot) return this.failJob(session, 'flash-error', 'the partition table has no OTA slot to download into')
    if (command.size > slot.size) return this.failJob(session, 'image-invalid', `${command.size} bytes do not fit ${slot.name} (${slot.size} bytes)`)
    const run: DownloadRun = {
      command,
      slot,
      written: 0,
      erasedEnd: slot.offset,
      skip: 0,
      attempt: 0,
      failuresInARow: 0,
      handle: null,
      stalled: false,
      cutAt: this.takeCut('download') ? this.random.int(0, command.size - 1) : null,
      lastPercent: 0,
      lastReportAt: this.clock.now(),
      cancelStall: null,
      cancelTicker: null,
    }
    session.download = run
    const rates = this.options.faults
    if (rates?.linkDrop || rates?.stall) {
      run.cancelTicker = every(this.clock, 1000, 1000, () => {
        if (session.download !== run || !run.handle) return
        if (this.random.chance(rates.linkDrop ?? 0)) this.host.dropLink()
        else if (this.random.chance(rates.stall ?? 0)) this.inject({ kind: 'stall' })
      })
    }
    this.event(`downloading ${command.job} (${command.version}, ${command.size} bytes) into ${slot.name}`)
    this.attempt(session, run)
  }

  private attempt(session: AppSession, run: DownloadRun): void {
    const token = ++run.attempt
    const current = () => session.alive && session.download === run && run.attempt === token
    run.stalled = false
    if (run.written > 0) this.stats.resumes++
    run.handle = this.fetch(
      { url: run.command.url, from: run.written },
      {
        start: ({ offset, total }) => {
          if (!current()) return
          if (total !== run.command.size) return this.failJob(session, 'size-mismatch', `the server offers ${total} bytes, the command says ${run.command.size}`)
          if (offset > run.written) return this.retry(run, `the server answered from byte ${offset}, not ${run.written}`)
          // A server that ignores Range sends the file from 0: skip what is already in the slot.
          run.skip = run.written - offset
        },
        data: (chunk) => {
          if (!current() || run.stalled) return
          this.onData(session, run, chunk)
        },
        end: () => {
          if (!current()) return
          if (run.written === run.command.size) this.completeDownload(session, run)
          else this.retry(run, `the response ended at byte ${run.written} of ${run.command.size}`)
        },
        fail: (reason) => {
          if (current()) this.retry(run, reason)
        },
      },
    )
    this.watchForStall(session, run)
  }

  private onData(session: AppSession, run: DownloadRun, chunk: Uint8Array): void {
    let bytes = chunk
    if (run.skip > 0) {
      const skipped = Math.min(run.skip, bytes.length)
      run.skip -= skipped
      bytes = bytes.subarray(skipped)
    }
    this.watchForStall(session, run)
    if (bytes.length === 0) return
    const size = run.command.size
    if (run.written + bytes.length > size) return this.failJob(session, 'size-mismatch', `the server sent more than ${size} bytes`)
    if (this.pendingCut?.at === 'download' && this.takeCut('download')) run.cutAt = run.written + this.random.int(0, bytes.length - 1)
    const wrote = this.guard(() => {
      // OTA_WITH_SEQUENTIAL_WRITES: each sector is erased just before the first write into it, never twice,
      // so bytes already written before a lost link stay where they are.
      const end = run.slot.offset + run.written + bytes.length
      while (run.erasedEnd < end) {
        this.flash.erase(run.erasedEnd, flashSectorSize)
        run.erasedEnd += flashSectorSize
      }
      if (run.cutAt !== null && run.cutAt < run.written + bytes.length) {
        this.flash.armPowerCut({ afterOps: 0, fraction: (run.cutAt - run.written) / bytes.length })
        run.cutAt = null
      }
      this.flash.program(run.slot.offset + run.written, bytes)
    })
    if (!wrote) return
    run.written += bytes.length
    run.failuresInARow = 0
    this.stats.bytesWritten += bytes.length
    const percent = Math.floor((run.written * 100) / size)
    const now = this.clock.now()
    // At most one report per 10 points or per second, so a fast link does not flood the broker and a
    // slow one still shows movement well inside the console's progress timeout.
    if (percent < 100 && percent > run.lastPercent && (percent - run.lastPercent >= 10 || now - run.lastReportAt >= 1000)) {
      run.lastPercent = percent
      run.lastReportAt = now
      this.nvs = { ...this.nvs, progress: percent }
      this.host.report({ progress: percent })
    }
  }

  private watchForStall(session: AppSession, run: DownloadRun): void {
    run.cancelStall?.()
    const timeout = this.options.stallTimeoutMs ?? 10_000
    run.cancelStall = this.clock.schedule(timeout, () => {
      run.cancelStall = null
      if (session.alive && session.download === run && run.handle) this.retry(run, `no data for ${timeout} ms`)
    })
  }

  private retry(run: DownloadRun, reason: string): void {
    const session = this.session
    if (!session || session.download !== run) return
    // The link went after the last byte but before the response's end: esp_https_ota is done once it has
    // the image's length, and a Range from there (`bytes=<size>-`) could only be answered 416.
    if (run.written === run.command.size) return this.completeDownload(session, run)
    this.stopAttempt(run)
    run.failuresInARow++
    const maxRetries = this.options.maxRetries ?? 5
    if (run.failuresInARow > maxRetries) return this.failJob(session, 'download-failed', `${reason} (${run.failuresInARow} attempts in a row without a byte)`)
    const delay = Math.min(maxRetryDelayMs, (this.options.retryDelayMs ?? 2000) * 2 ** (run.failuresInARow - 1))
    this.event(`download of ${run.command.job} stopped at ${run.written} bytes (${reason}); Range request in ${delay} ms`)
    this.after(delay, () => {
      if (session.download === run) this.attempt(session, run)
    })
  }

  private completeDownload(session: AppSession, run: DownloadRun): void {
    this.stopAttempt(run)
    run.cancelTicker?.()
    const { command, slot } = run
    // What landed in the slot is what counts, not what went over the wire: read it back.
    const bytes = this.flash.read(slot.offset, command.size)
    const digest = sha256Hex(bytes)
    if (digest !== command.sha256) return this.failJob(session, 'checksum-mismatch', `${slot.name} holds ${digest}, the command says ${command.sha256}`)
    const problem = this.imageProblem(bytes)
    if (problem) return this.failJob(session, 'image-invalid', problem)
    session.download = null
    this.persist({ ...this.nvs, state: 'downloaded', progress: 100, error: '' })
    this.host.report({ state: 'downloaded', job: command.job, progress: 100 })
    this.event(`downloaded ${command.job} into ${slot.name}; waiting for install`)
    // While it waits for install: a console that is up sends install within milliseconds, so the cut comes
    // at the next turn, and is dropped if the node has already moved on (it would otherwise fall in the
    // install, a step of its own).
    if (this.takeCut('downloaded')) {
      this.after(0, () => {
        if (this.nvs.state === 'downloaded' && this.nvs.job === command.job) this.powerLost()
      })
    }
  }

  /** esp_ota_end / esp_image_verify: is this a bootable app image for this chip? */
  private imageProblem(bytes: Uint8Array): string | null {
    const parsed = parseAppImage(bytes, { sha256 })
    if (!parsed.ok) return parsed.error.message
    if (parsed.image.kind !== 'application') return 'not an application image (no esp_app_desc_t)'
    const fits = checkImageForChip(parsed.image, this.chip)
    return fits.ok ? null : fits.error.message
  }

  private cancel(session: AppSession): void {
    const run = session.download
    this.abandonDownload(session)
    const target = this.nvs.target
    const slot = run?.slot ?? session.layout.slots.find((p) => p.name === target?.slot)
    const end = run ? run.erasedEnd : slot && target ? slot.offset + Math.ceil(target.size / flashSectorSize) * flashSectorSize : 0
    if (slot && !this.guard(() => end > slot.offset && this.flash.erase(slot.offset, end - slot.offset))) return
    this.persist({ ...this.nvs, state: 'idle', progress: 0, error: 'cancelled' })
    this.host.report({ state: 'idle', job: this.nvs.job, progress: 0, error: parseOtaError('cancelled') })
    this.event(`cancelled ${this.nvs.job}`)
  }

  /** Stops this download for good (another job, a cancel, a failure); what it wrote stays until erased. */
  private abandonDownload(session: AppSession): void {
    const run = session.download
    if (!run) return
    this.stopAttempt(run)
    run.cancelTicker?.()
    session.download = null
  }

  private stopAttempt(run: DownloadRun): void {
    run.cancelStall?.()
    run.cancelStall = null
    run.handle?.abort()
    run.handle = null
  }

  /** The job ends in `failed`; a half-written or wrong image is erased so nothing can ever select it. */
  private failJob(session: AppSession, code: OtaErrorCode, detail: string): void {
    const run = session.download
    this.abandonDownload(session)
    if (run && run.erasedEnd > run.slot.offset && !this.guard(() => this.flash.erase(run.slot.offset, run.erasedEnd - run.slot.offset))) return
    this.stats.failed++
    const text = `${code}: ${detail}`
    this.persist({ ...this.nvs, state: 'failed', error: text })
    this.host.report({ state: 'failed', job: this.nvs.job, error: parseOtaError(text) })
    this.event(`${this.nvs.job} failed: ${text}`)
  }

  // ---- install and verify ----------------------------------------------------------------------------

  private install(session: AppSession): void {
    this.stats.installs++
    this.persist({ ...this.nvs, state: 'installing', error: '' })
    this.host.report({ state: 'installing', job: this.nvs.job })
    const installMs = this.options.installMs ?? 300
    if (this.takeCut('install')) this.after(this.random.int(0, Math.max(0, installMs - 1)), () => this.powerLost())
    this.after(installMs, () => this.writeBootSlot(session))
  }

  /** esp_ota_set_boot_partition: check the image once more, then point otadata at its slot (state NEW). */
  private writeBootSlot(session: AppSession): void {
    const target = this.nvs.target!
    const slot = session.layout.slots.find((p) => p.name === target.slot)
    const slotIndex = slot ? otaSlotOf(slot) : null
    if (!slot || slotIndex === null) return this.failJob(session, 'flash-error', `${target.slot} is not an OTA slot of this partition table`)
    const bytes = this.flash.read(slot.offset, target.size)
    if (sha256Hex(bytes) !== target.sha256) return this.failJob(session, 'flash-error', `${slot.name} no longer holds the downloaded image`)
    const problem = this.imageProblem(bytes)
    if (problem) return this.failJob(session, 'image-invalid', problem)
    const next = selectOtaSlot(readOtadata(this.flash, session.layout), slotIndex, { otaSlotCount: session.layout.slots.length, state: 'NEW' })
    if (!next.ok) return this.failJob(session, 'flash-error', next.error)
    if (this.takeCut('otadata-write')) this.flash.armPowerCut({ afterOps: this.random.int(0, 1), fraction: this.random.next() })
    if (!this.guard(() => writeOtadata(this.flash, session.layout, next.value))) return
    this.persist({ ...this.nvs, state: 'rebooting' })
    this.host.report({ state: 'rebooting', job: this.nvs.job })
    this.event(`otadata now selects ${slot.name}; restarting`)
    this.after(100, () => {
      this.endSession()
      this.host.reset('ESP_RST_SW')
    })
  }

  /** Where the job stood when the node went down, and what the bootloader made of it. */
  private judgeJobAtBoot(session: AppSession, resetReason: RebootReason): void {
    const record = this.nvs
    const running = session.boot.app
    const version = running.image.appDescription?.version ?? ''
    switch (record.state) {
      case 'downloading':
        // The bytes in the slot survive, but how many there are lived in RAM: ESP-IDF starts over.
        this.persist({ ...record, state: 'failed', error: `interrupted: ${resetReason} during the download at ${record.progress}%` })
        this.stats.failed++
        return
      case 'installing':
      case 'rebooting':
      case 'verifying': {
        const target = record.target
        if (target && running.partition.name === target.slot) {
          if (session.boot.otaState === 'VALID') {
            // Confirmed before the reset, which came before NVS heard of it.
            this.succeed()
          } else {
            // PENDING_VERIFY; or a state word a cut erase garbled, which the bootloader accepts because
            // otadata's CRC covers the sequence number only: confirm it properly either way.
            session.verifying = true
            this.persist({ ...record, state: 'verifying', error: '' })
          }
          return
        }
        if (record.state === 'installing') {
          this.persist({ ...record, state: 'failed', error: `interrupted: ${resetReason} while installing; otadata still selects ${running.partition.name}` })
          this.stats.failed++
          return
        }
        const code = this.rollbackCode(session, target, resetReason)
        this.stats.rolledBack++
        this.persist({
          ...record,
          state: 'rolled-back',
          error: `${code}: ${target?.slot ?? 'the new image'} (${target?.version ?? '?'}) ended with ${resetReason} before confirming itself; back on ${running.partition.name} (${version})`,
        })
        this.event(`rolled back to ${running.partition.name} (${version}): ${code}`)
        return
      }
      default:
        return
    }
  }

  /** The protocol's reason for a rollback, from how the new image ended (esp_reset_reason of that reset). */
  private rollbackCode(session: AppSession, target: OtaRecord['target'], resetReason: RebootReason): OtaErrorCode {
    const slot = session.layout.slots.find((p) => p.name === target?.slot)
    const index = slot ? otaSlotOf(slot) : null
    const otadata = session.boot.otadata
    const invalidated = ([0, 1] as const).some((copy) => slotOfEntry(otadata, copy, session.layout.slots.length) === index && otadata.entries[copy].state === 'INVALID')
    if (invalidated) return 'self-test-failed'
    if ((crashReasons as readonly string[]).includes(resetReason) || resetReason === 'ESP_RST_WDT' || resetReason === 'ESP_RST_BROWNOUT') return 'boot-failed'
    return 'interrupted'
  }

  private selfTest(session: AppSession): void {
    if (session.selfTestFails) {
      // esp_ota_mark_app_invalid_rollback_and_reboot: INVALID, so no bootloader will ever pick it again.
      const next = markActiveOtaState(readOtadata(this.flash, session.layout), 'INVALID')
      if (!next.ok || !this.guard(() => writeOtadata(this.flash, session.layout, next.value))) return
      this.event(`${session.boot.app.partition.name} failed its self-test and invalidated itself`)
      this.endSession()
      this.host.reset('ESP_RST_SW')
      return
    }
    // esp_ota_mark_app_valid_cancel_rollback.
    const next = markActiveOtaState(readOtadata(this.flash, session.layout), 'VALID')
    if (!next.ok) return this.event(`cannot confirm the image: ${next.error}`)
    if (this.takeCut('mark-valid')) this.flash.armPowerCut({ afterOps: this.random.int(0, 1), fraction: this.random.next() })
    if (!this.guard(() => writeOtadata(this.flash, session.layout, next.value))) return
    session.verifying = false
    if (this.lastBoot) this.lastBoot = { ...this.lastBoot, otaState: 'VALID' }
    const version = session.boot.app.image.appDescription?.version ?? ''
    this.succeed()
    this.host.report({ state: 'succeeded', job: this.nvs.job, error: null, firmwareVersion: version, runningSlot: session.boot.app.partition.name })
    this.event(`${session.boot.app.partition.name} (${version}) confirmed itself`)
  }

  private succeed(): void {
    this.stats.succeeded++
    this.persist({ ...this.nvs, state: 'succeeded', progress: 100, error: '' })
  }

  // ---- faults and plumbing ---------------------------------------------------------------------------

  /** Whether the bootloader is about to write otadata (a NEW or PENDING_VERIFY copy is there). */
  private bootloaderWillWrite(layout: FlashLayout): boolean {
    const decoded = decodeOtadata(readOtadata(this.flash, layout), { otaSlotCount: layout.slots.length, appRollbackEnabled: true })
    return decoded.ok && (decoded.value.abortedAtBoot.length > 0 || decoded.value.bootState === 'NEW')
  }

  /** A power cut is due at this step: asked for on demand, or drawn from the random rate. */
  private takeCut(step: OtaStep): boolean {
    if (this.pendingCut?.at === step) {
      this.cutOffMs = this.pendingCut.offMs
      this.pendingCut = null
      return true
    }
    if (this.random.chance(this.options.faults?.powerCut ?? 0)) {
      this.cutOffMs = undefined
      this.event(`random power cut at ${step}`)
      return true
    }
    return false
  }

  private powerLost(): void {
    this.stats.powerCuts++
    const offMs = this.cutOffMs
    this.cutOffMs = undefined
    this.endSession()
    this.host.reset('ESP_RST_POWERON', offMs)
  }

  /** Runs flash writes; a power cut inside them ends the application there and then. */
  private guard(write: () => unknown): boolean {
    try {
      write()
      return true
    } catch (error) {
      if (!(error instanceof PowerLossError)) throw error
      this.powerLost()
      return false
    }
  }

  private persist(record: OtaRecord): void {
    this.nvs = record
  }

  private after(ms: number, run: () => void): void {
    const session = this.session
    if (!session) return
    const cancel = this.clock.schedule(ms, () => {
      session.timers.delete(cancel)
      if (session.alive) run()
    })
    session.timers.add(cancel)
  }

  private endSession(): void {
    const session = this.session
    if (!session) return
    session.alive = false
    for (const cancel of session.timers) cancel()
    session.timers.clear()
    this.abandonDownload(session)
    this.session = null
  }

  private event(detail: string): void {
    this.host.event?.(detail)
  }
}
