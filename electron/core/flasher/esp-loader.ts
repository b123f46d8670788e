import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { deflateSync } from 'node:zlib'
import { parseBootMessage, syncFailureHint } from '../../../shared/domain/rom-bootloader/boot-log'
import {
  chipDetectMagicRegAddr,
  detectChip,
  expectedResponseDataLength,
  formatFlashSize,
  formatMacAddress,
  macAddressFromEfuse,
  parseFlashId,
  parseSecurityInfo,
  spiFlashCommandPlan,
  spiFlashRdid,
  type ChipDefinition,
  type LoaderTarget,
  type RegisterWrite,
} from '../../../shared/domain/rom-bootloader/chips'
import {
  changeBaudrateCommand,
  encodeCommand,
  encodeReadFlashAck,
  eraseRegionCommand,
  eraseRegionProblem,
  flashMd5Command,
  isStubGreeting,
  memEndCommand,
  parseFlashMd5,
  readFlashCommand,
  readRegCommand,
  spiAttachCommand,
  spiSetParamsCommand,
  type LoaderCommand,
} from '../../../shared/domain/rom-bootloader/commands'
import { flashBeginTimeoutMs, loaderTimeoutsMs, loaderTimeoutsMsPerMb, padFlashImage, planFlashWrite, planRamDownload, timeoutForSizeMs } from '../../../shared/domain/rom-bootloader/flash-plan'
import { commandOpcodes, decodeResponse, type BootloaderResponse } from '../../../shared/domain/rom-bootloader/packets'
import { hardReset, resetSequencesFor, type PortIdentity, type ResetSequence } from '../../../shared/domain/rom-bootloader/reset'
import { FlasherError } from './flasher-error'
import type { SerialLink } from './serial-link'

export interface BoardIdentity {
  chip: ChipDefinition
  mac: string
  flashId: number
  /** Bytes, from the JEDEC capacity byte; null when the flash does not say. */
  flashSize: number | null
  /** FLASH_CRYPT_CNT has an odd number of bits set: the bootloader decrypts what it reads from flash. */
  flashEncrypted: boolean
}

export interface WriteProgress {
  /** Bytes of the image (uncompressed) sent so far, and in all. */
  written: number
  total: number
}

const syncAttemptsPerReset = 7

/**
 * A session with one board's loader over a serial link: reset into download mode, sync, identify,
 * upload esptool's flasher stub, then write, verify and read flash. Each step either succeeds or
 * throws a FlasherError that says what the engineer can do about it.
 */
export class EspLoader {
  private target: LoaderTarget | null = null
  /** The stub answers SYNC with 0, the ROM with 0x20120707: a board left in the stub by an earlier session. */
  private stubAlreadyRunning = false

  constructor(
    private readonly link: SerialLink,
    private readonly port: PortIdentity & { syncHint?: string },
    private readonly signal?: AbortSignal,
  ) {}

  get loaderTarget(): LoaderTarget {
    if (!this.target) throw new Error('The loader is not identified yet.')
    return this.target
  }

  /**
   * Resets the board into its ROM loader with each of the sequences its bridge may need, and syncs.
   * A port that refuses DTR/RTS (a pseudo-terminal, an adapter without them) is synced as it is: the
   * engineer must have held BOOT.
   */
  async connect(): Promise<void> {
    const sequences: (ResetSequence | null)[] = [...resetSequencesFor(this.port)]
    for (const sequence of sequences) {
      this.checkCancelled()
      if (sequence && !(await this.applyReset(sequence))) {
        // No control lines: one patient attempt without a reset, then give up with the hint.
        if (await this.trySync(syncAttemptsPerReset * 2)) return
        break
      }
      if (await this.trySync(syncAttemptsPerReset)) return
    }
    const boot = parseBootMessage(this.link.noise)
    const hint = boot ? syncFailureHint(boot) : (this.port.syncHint ?? 'Hold BOOT (GPIO0) and press EN (RST), then try again.')
    throw new FlasherError('no-sync', `The board on ${this.link.path} did not answer the bootloader's SYNC. ${hint}`)
  }

  async identify(): Promise<BoardIdentity> {
    let securityInfo = null
    // ESP32's ROM does not know GET_SECURITY_INFO: its refusal is part of the detection.
    try {
      // 20 bytes, or 12 on an ESP32-S2, whose ROM predates the chip id: the frame's length tells.
      // Short: a ROM that does not know the command may answer under another opcode, or not at all.
      const response = await this.command({ name: 'GET_SECURITY_INFO' }, { dataLength: (frame) => (frame.length - 8 >= 22 ? 20 : 12), timeoutMs: 500, allowFailure: true })
      if (!response.failure) {
        const parsed = parseSecurityInfo(response.payload)
        if (parsed.ok) securityInfo = parsed.info
      }
    } catch (error) {
      if (!(error instanceof FlasherError) || error.code !== 'timeout') throw error
    }
    const magic = await this.readReg(chipDetectMagicRegAddr).catch(() => null)
    const detection = detectChip({ securityInfo, magicValue: magic })
    if (!detection.ok) throw new FlasherError('unsupported-chip', detection.detail)
    this.target = { chip: detection.chip, loader: this.stubAlreadyRunning ? 'stub' : 'rom' }
    const mac = formatMacAddress(macAddressFromEfuse(await this.readReg(detection.chip.macEfuse.high), await this.readReg(detection.chip.macEfuse.low)))
    await this.command(spiAttachCommand(this.target), { timeoutMs: loaderTimeoutsMs.default })
    const flashId = await this.readFlashId()
    const flashSize = parseFlashId(flashId).sizeBytes ?? null
    const flashEncrypted = securityInfo !== null && popCount(securityInfo.flashCryptCnt) % 2 === 1
    return { chip: detection.chip, mac, flashId, flashSize, flashEncrypted }
  }

  /**
   * Uploads esptool's flasher stub into RAM and waits for its "OHAI" — unless the board is still in
   * the stub from an earlier session (a port without reset lines leaves it there), as esptool does.
   */
  async runStub(): Promise<void> {
    const target = this.loaderTarget
    if (this.stubAlreadyRunning) {
      this.target = { chip: target.chip, loader: 'stub' }
      return
    }
    const stub = loadStub(target.chip)
    for (const [bytes, address] of [
      [stub.text, stub.textStart],
      [stub.data, stub.dataStart],
    ] as const) {
      const plan = planRamDownload(bytes, address)
      await this.command(plan.begin, { timeoutMs: loaderTimeoutsMs.default })
      for (const packet of plan.packets) await this.command(packet, { timeoutMs: loaderTimeoutsMs.default })
    }
    await this.send(memEndCommand(stub.entry))
    // The ROM answers MEM_END, then the stub says hello; either may come first on a busy line.
    const deadline = Date.now() + loaderTimeoutsMs.default
    for (;;) {
      const frame = await this.link.nextFrame(Math.max(1, deadline - Date.now()))
      if (isStubGreeting(frame)) break
    }
    this.target = { chip: target.chip, loader: 'stub' }
    await this.command(spiAttachCommand(this.target), { timeoutMs: loaderTimeoutsMs.default })
  }

  async changeBaud(baud: number): Promise<void> {
    if (baud === this.link.baud) return
    await this.command(changeBaudrateCommand(this.loaderTarget, baud, this.link.baud), { timeoutMs: loaderTimeoutsMs.default })
    await this.link.setBaud(baud)
    // esptool waits for the UART to settle at the new rate before the next command.
    await new Promise((resolve) => setTimeout(resolve, 50))
    this.link.discardFrames()
  }

  async setFlashSize(bytes: number): Promise<void> {
    await this.command(spiSetParamsCommand(bytes), { timeoutMs: loaderTimeoutsMs.default })
  }

  /**
   * Writes one region compressed, then has the loader hash what it wrote and compares: a region is
   * only reported written when its MD5 matches. Returns the MD5 of what is now in flash.
   */
  async writeRegion(offset: number, image: Uint8Array, onProgress: (progress: WriteProgress) => void, flashSize?: number): Promise<{ md5: string }> {
    const target = this.loaderTarget
    const padded = padFlashImage(image)
    const deflated = deflateSync(padded, { level: 9 })
    const planned = planFlashWrite({ target, offset, image: padded, deflated, ...(flashSize ? { flashSize } : {}) })
    if (!planned.ok) throw new FlasherError(planned.reason === 'does-not-fit' ? 'does-not-fit' : 'bad-image', planned.detail)
    const plan = planned.plan
    await this.command(plan.begin, { timeoutMs: flashBeginTimeoutMs(plan, target) })
    const perPacket = plan.imageSize / plan.packetCount
    onProgress({ written: 0, total: image.length })
    for (const packet of plan.packets) {
      this.checkCancelled()
      await this.command(packet, { timeoutMs: timeoutForSizeMs(loaderTimeoutsMsPerMb.eraseWrite, perPacket) })
      onProgress({ written: Math.min(image.length, Math.round((packet.sequence + 1) * perPacket)), total: image.length })
    }
    const expected = createHash('md5').update(plan.image).digest('hex')
    const md5 = await this.flashMd5(offset, plan.imageSize)
    if (md5 !== expected) {
      throw new FlasherError('verify-failed', `Verification failed at 0x${offset.toString(16)}: the board holds MD5 ${md5}, the image is ${expected}. Flash again; if it repeats, lower the baud or change the cable.`)
    }
    return { md5 }
  }

  async flashMd5(offset: number, size: number): Promise<string> {
    const target = this.loaderTarget
    const response = await this.command(flashMd5Command(offset, size), {
      dataLength: expectedResponseDataLength('SPI_FLASH_MD5', target),
      timeoutMs: timeoutForSizeMs(loaderTimeoutsMsPerMb.md5, size),
    })
    const parsed = parseFlashMd5(response.payload, target.loader)
    if (!parsed.ok) throw new FlasherError('loader-error', parsed.detail)
    return parsed.md5
  }

  /**
   * Reads flash back through the stub (READ_FLASH): data packets acknowledged as they come, then the
   * stub's MD5 of what it sent, checked against what arrived.
   */
  async readFlash(offset: number, length: number, onProgress?: (read: number) => void): Promise<Uint8Array> {
    if (this.loaderTarget.loader !== 'stub') throw new FlasherError('loader-error', 'Reading flash back needs the flasher stub; run it first.')
    await this.command(readFlashCommand(offset, length), { timeoutMs: loaderTimeoutsMs.default })
    const data = new Uint8Array(length)
    let received = 0
    while (received < length) {
      this.checkCancelled()
      const packet = await this.link.nextFrame(loaderTimeoutsMs.default)
      if (received + packet.length > length) throw new FlasherError('loader-error', `The board sent more than the ${length} bytes asked for.`)
      data.set(packet, received)
      received += packet.length
      await this.link.send(encodeReadFlashAck(received))
      onProgress?.(received)
    }
    const digest = await this.link.nextFrame(loaderTimeoutsMs.default)
    const expected = createHash('md5').update(data).digest()
    if (digest.length !== 16 || !expected.equals(digest)) {
      throw new FlasherError('verify-failed', `The flash read back from 0x${offset.toString(16)} arrived damaged (its MD5 does not match the board's). Lower the baud and read again.`)
    }
    return data
  }

  /** Erases whole sectors (stub ERASE_REGION), or the whole chip (ERASE_FLASH) when no range is given. */
  async erase(range?: { offset: number; size: number }): Promise<void> {
    if (this.loaderTarget.loader !== 'stub') throw new FlasherError('loader-error', 'Erasing needs the flasher stub; run it first.')
    if (!range) {
      await this.command({ name: 'ERASE_FLASH' }, { timeoutMs: loaderTimeoutsMs.chipErase })
      return
    }
    const problem = eraseRegionProblem(range.offset, range.size)
    if (problem) throw new FlasherError('does-not-fit', problem)
    await this.command(eraseRegionCommand(range.offset, range.size), { timeoutMs: timeoutForSizeMs(loaderTimeoutsMsPerMb.eraseRegion, range.size) })
  }

  /** Leaves the loader and starts the application: the reset lines if the port has them. */
  async resetIntoApp(): Promise<boolean> {
    await this.link.drain()
    return this.applyReset(hardReset())
  }

  // ---- the command layer ---------------------------------------------------------------------------

  private async send(command: LoaderCommand): Promise<void> {
    const encoded = encodeCommand(command)
    if (!encoded.ok) throw new FlasherError('loader-error', encoded.detail)
    await this.link.send(encoded.packet)
  }

  /**
   * Sends a command and reads frames until the answer to it: stray answers (to extra SYNCs, say) are
   * skipped, as the protocol document says a host should.
   */
  private async command(
    command: LoaderCommand,
    options: { timeoutMs: number; dataLength?: number | ((frame: Uint8Array) => number); allowFailure?: boolean },
  ): Promise<BootloaderResponse> {
    this.checkCancelled()
    await this.send(command)
    const opcode = commandOpcodes[command.name]
    const deadline = Date.now() + options.timeoutMs
    for (;;) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new FlasherError('timeout', `The board did not answer ${command.name} within ${options.timeoutMs} ms. Lower the baud, or check the cable and power.`)
      const frame = await this.link.nextFrame(remaining).catch((error: unknown) => {
        if (error instanceof FlasherError && error.code === 'timeout') {
          throw new FlasherError('timeout', `The board did not answer ${command.name} within ${options.timeoutMs} ms. Lower the baud, or check the cable and power.`)
        }
        throw error
      })
      const dataLength = typeof options.dataLength === 'function' ? options.dataLength(frame) : (options.dataLength ?? 0)
      const decoded = decodeResponse(frame, { dataLength })
      if (!decoded.ok || decoded.response.command !== opcode) continue
      const response = decoded.response
      if (response.failure && !options.allowFailure) {
        throw new FlasherError('loader-error', `The board refused ${command.name}: ${response.failure.message} (0x${response.failure.code.toString(16).padStart(2, '0')}).`)
      }
      return response
    }
  }

  private async readReg(address: number): Promise<number> {
    return (await this.command(readRegCommand(address), { timeoutMs: loaderTimeoutsMs.default })).value
  }

  private async writeRegs(writes: readonly RegisterWrite[]): Promise<void> {
    for (const write of writes) await this.command({ name: 'WRITE_REG', writes: [write] }, { timeoutMs: loaderTimeoutsMs.default })
  }

  /** The JEDEC id through the SPI peripheral's user command registers, as esptool reads it. */
  private async readFlashId(): Promise<number> {
    const planned = spiFlashCommandPlan(this.loaderTarget.chip, spiFlashRdid, 24)
    if (!planned.ok) throw new FlasherError('loader-error', planned.detail)
    const plan = planned.plan
    // One command at a time: the loader answers in order and the link has one reader.
    const saved: RegisterWrite[] = []
    for (const address of plan.saveRegisters) saved.push({ address, value: await this.readReg(address) })
    await this.writeRegs(plan.setup)
    await this.writeRegs([plan.start])
    for (let poll = 0; poll < 10; poll++) {
      if (((await this.readReg(plan.busyRegister)) & plan.busyMask) === 0) break
    }
    const id = ((await this.readReg(plan.resultRegister)) & plan.resultMask) >>> 0
    await this.writeRegs(saved)
    return id
  }

  private async trySync(attempts: number): Promise<boolean> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      this.checkCancelled()
      this.link.discardFrames()
      try {
        const answer = await this.command({ name: 'SYNC' }, { timeoutMs: loaderTimeoutsMs.sync })
        this.stubAlreadyRunning = answer.value === 0
        // The ROM answers one SYNC up to eight times; let the rest arrive and drop them.
        await new Promise((resolve) => setTimeout(resolve, 20))
        this.link.discardFrames()
        return true
      } catch (error) {
        if (!(error instanceof FlasherError) || error.code !== 'timeout') throw error
      }
    }
    return false
  }

  private async applyReset(sequence: ResetSequence): Promise<boolean> {
    for (const step of sequence.steps) {
      if (!(await this.link.setLines(step))) return false
      if (step.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, step.delayMs))
    }
    return true
  }

  private checkCancelled(): void {
    if (this.signal?.aborted) throw new FlasherError('cancelled', 'Cancelled by the operator; the board keeps what was written and the job can be resumed.')
  }
}

interface FlasherStub {
  entry: number
  text: Uint8Array
  textStart: number
  data: Uint8Array
  dataStart: number
}

const stubs = new Map<string, FlasherStub>()

/**
 * esptool's flasher stub for a chip, from the esptool-js package (Apache-2.0), which ships the same
 * binaries esptool builds: faster writes than the ROM, and READ_FLASH and ERASE for read-back.
 */
function loadStub(chip: ChipDefinition): FlasherStub {
  const file = chip.name.toLowerCase().replace('-', '')
  const cached = stubs.get(file)
  if (cached) return cached
  const root = dirname(createRequire(import.meta.url).resolve('esptool-js/package.json'))
  const json = JSON.parse(readFileSync(join(root, 'lib/targets/stub_flasher', `${file}.json`), 'utf8')) as { entry: number; text: string; text_start: number; data: string; data_start: number }
  const stub = {
    entry: json.entry,
    text: new Uint8Array(Buffer.from(json.text, 'base64')),
    textStart: json.text_start,
    data: new Uint8Array(Buffer.from(json.data, 'base64')),
    dataStart: json.data_start,
  }
  stubs.set(file, stub)
  return stub
}

export { formatFlashSize }

function popCount(value: number): number {
  let count = 0
  for (let bits = value; bits !== 0; bits &= bits - 1) count++
  return count
}
