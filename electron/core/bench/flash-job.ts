import { createHash } from 'node:crypto'
import type { BindingInterface } from '@serialport/bindings-interface'
import type { FlashedRegion, FlashJobRow, ReadBackRegion } from '../../../shared/contract'
import { checkRecipe, type LoadedRegion } from '../../../shared/domain/bench/recipe'
import { nvsImageFor } from '../../../shared/domain/firmware/nvs'
import { findPartition } from '../../../shared/domain/firmware/partition-table'
import { padFlashImage } from '../../../shared/domain/rom-bootloader/flash-plan'
import type { PortIdentity } from '../../../shared/domain/rom-bootloader/reset'
import { EspLoader } from '../flasher/esp-loader'
import { FlasherError } from '../flasher/flasher-error'
import { SerialLink } from '../flasher/serial-link'
import { sha256 } from './firmware-store'

/** The ROM loader always starts at 115200 baud; the stub is then asked for the recipe's rate. */
const romBaud = 115200

export interface FlashJobInput {
  port: string
  identity: PortIdentity & { syncHint: string }
  regions: LoadedRegion[]
  serial: string
  batchId: number
  baud: number
  binding?: BindingInterface
  /** The Sparkplug group written into the board's identity with its serial. */
  group: string
  signal: AbortSignal
  /** Regions already verified on this board by an earlier run of the job: checked by MD5 and skipped if intact. */
  resume: boolean
}

export type JobUpdate = Partial<Pick<FlashJobRow, 'state' | 'phase' | 'written' | 'total' | 'bytesPerSecond' | 'secondsLeft' | 'chip' | 'mac' | 'regions' | 'error'>>

/**
 * Flashes one board: connect, identify, check the recipe against the board, upload the stub, write
 * each region compressed and verify it by MD5, reset into the app. Reports as it goes; never reports
 * a region it did not verify.
 */
export async function runFlashJob(input: FlashJobInput, report: (update: JobUpdate) => void): Promise<{ chip: string; mac: string; flashSize: number | null; firmware: string }> {
  report({ state: 'connecting', phase: `Opening ${input.port}…` })
  const link = await SerialLink.open({ path: input.port, baud: romBaud, ...(input.binding ? { binding: input.binding } : {}) })
  try {
    const loader = new EspLoader(link, input.identity, input.signal)
    report({ phase: 'Resetting the board into its bootloader and syncing…' })
    await loader.connect()
    report({ phase: 'Identifying the chip…' })
    const board = await loader.identify()
    report({ chip: board.chip.name, mac: board.mac, phase: `${board.chip.name} ${board.mac}, ${board.flashSize ? `${board.flashSize / 1048576} MB flash` : 'flash size unknown'}` })

    if (board.flashEncrypted) {
      throw new FlasherError(
        'flash-encrypted',
        `Flash encryption is enabled on this ${board.chip.name}: a plaintext image written now would not boot. Flash it with images encrypted for this board (idf.py encrypted-flash); the console does not encrypt images yet. Nothing was written.`,
      )
    }
    const checked = checkRecipe(input.regions, sha256, { chip: board.chip.name, bootloaderOffset: board.chip.bootloaderOffset, flashSize: board.flashSize })
    if (!checked.ok) throw new FlasherError(checked.wrongChip ? 'wrong-chip' : 'does-not-fit', checked.problems.join(' '))
    const regions = [...input.regions]
    // Each board's own identity in its NVS partition, unless the recipe brings an NVS image itself.
    const nvsPartition = checked.table ? findPartition(checked.table, { name: 'nvs' }) : undefined
    if (nvsPartition && !regions.some((region) => region.role === 'nvs')) {
      const nvs = nvsImageFor(
        [
          { namespace: 'identity', key: 'device_id', type: 'string', value: input.serial },
          { namespace: 'identity', key: 'group', type: 'string', value: input.group },
          { namespace: 'identity', key: 'batch', type: 'u32', value: input.batchId },
        ],
        nvsPartition.size,
      )
      if (!nvs.ok) throw new FlasherError('bad-image', `The identity for ${input.serial} does not fit the NVS partition: ${nvs.error}`)
      regions.push({ role: 'nvs', offset: nvsPartition.offset, fileName: `identity ${input.serial} (NVS)`, bytes: nvs.value })
    }

    report({ phase: 'Starting the flasher stub…' })
    await loader.runStub()
    await loader.changeBaud(input.baud)
    if (board.flashSize) await loader.setFlashSize(board.flashSize)

    const total = regions.reduce((sum, region) => sum + region.bytes.length, 0)
    const done: FlashedRegion[] = []
    const started = Date.now()
    let before = 0
    report({ state: 'writing', total, written: 0 })
    for (const [index, region] of regions.entries()) {
      const digest = createHash('sha256').update(region.bytes).digest('hex')
      const where = `${region.fileName} (${index + 1} of ${regions.length}) at 0x${region.offset.toString(16)}`
      if (input.resume) {
        report({ state: 'verifying', phase: `Checking ${where} from the earlier run…` })
        const image = padFlashImage(region.bytes)
        const present = await loader.flashMd5(region.offset, image.length)
        if (present === createHash('md5').update(image).digest('hex')) {
          done.push({ fileName: region.fileName, offset: region.offset, size: region.bytes.length, sha256: digest, md5: present })
          before += region.bytes.length
          report({ regions: [...done], written: before })
          continue
        }
      }
      report({ state: 'writing', phase: `Writing ${where}` })
      const { md5 } = await loader.writeRegion(
        region.offset,
        region.bytes,
        ({ written }) => {
          const sent = before + written
          const seconds = (Date.now() - started) / 1000
          const rate = seconds > 0.2 ? sent / seconds : null
          report({ written: sent, bytesPerSecond: rate === null ? null : Math.round(rate), secondsLeft: rate ? Math.ceil((total - sent) / rate) : null })
          if (written === region.bytes.length) report({ state: 'verifying', phase: `Verifying ${where} by MD5…` })
        },
        board.flashSize ?? undefined,
      )
      before += region.bytes.length
      done.push({ fileName: region.fileName, offset: region.offset, size: region.bytes.length, sha256: digest, md5 })
      report({ regions: [...done] })
    }
    report({ state: 'resetting', phase: 'Resetting into the application…', secondsLeft: 0 })
    const reset = await loader.resetIntoApp()
    report({ phase: reset ? 'Flashed, verified and reset into the application.' : 'Flashed and verified. This port has no reset lines: press EN (RST) to start the application.' })
    const app = checked.regions.find((check) => check.region.role === 'app')?.image?.appDescription
    return { chip: board.chip.name, mac: board.mac, flashSize: board.flashSize, firmware: app?.version ?? '' }
  } finally {
    await link.close().catch(() => {})
  }
}

/**
 * Connects to the board a job flashed, reads each of its regions back through the stub and compares
 * the SHA-256 with what was written: the check an engineer runs on a board that behaves oddly later.
 */
export async function readBackRegions(job: Pick<FlashJobRow, 'port' | 'regions'>, identity: PortIdentity & { syncHint: string }, signal: AbortSignal, binding?: BindingInterface): Promise<ReadBackRegion[]> {
  const link = await SerialLink.open({ path: job.port, baud: romBaud, ...(binding ? { binding } : {}) })
  try {
    const loader = new EspLoader(link, identity, signal)
    await loader.connect()
    await loader.identify()
    await loader.runStub()
    const results: ReadBackRegion[] = []
    for (const region of job.regions) {
      const bytes = await loader.readFlash(region.offset, region.size)
      const digest = createHash('sha256').update(bytes).digest('hex')
      results.push({ fileName: region.fileName, offset: region.offset, size: region.size, sha256: digest, matches: digest === region.sha256 })
    }
    await loader.resetIntoApp()
    return results
  } finally {
    await link.close().catch(() => {})
  }
}
