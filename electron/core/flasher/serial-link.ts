import type { BindingInterface } from '@serialport/bindings-interface'
import { SerialPortStream } from '@serialport/stream'
import { SerialPort } from 'serialport'
import { bootLogText } from '../../../shared/domain/rom-bootloader/boot-log'
import type { ControlLines } from '../../../shared/domain/rom-bootloader/reset'
import { SlipDecoder, slipEncode } from '../../../shared/domain/rom-bootloader/slip'
import { FlasherError } from './flasher-error'

export interface SerialLinkOptions {
  path: string
  baud: number
  /** Another serialport binding (an emulated board in tests); the OS's by default. */
  binding?: BindingInterface
}

/** The last boot-log bytes kept, enough for the ROM's banner and "waiting for download". */
const noiseLimit = 4096

/**
 * One open serial port speaking SLIP frames: what the loader client reads and writes. Bytes outside
 * frames are the chip's boot log, kept so a board that never answers can be explained.
 */
export class SerialLink {
  private readonly decoder = new SlipDecoder()
  private readonly frames: Uint8Array[] = []
  private waiter: { resolve(frame: Uint8Array): void; reject(error: Error): void } | null = null
  private noiseBytes: number[] = []
  private closedBy: FlasherError | null = null

  private constructor(
    private readonly port: SerialPortStream,
    readonly path: string,
  ) {
    port.on('data', (chunk: Buffer) => this.take(chunk))
    port.on('close', (error: (Error & { disconnected?: boolean }) | null) => {
      this.fail(
        error?.disconnected
          ? new FlasherError('unplugged', `${path} disappeared: the board was unplugged or reset its USB. Plug it in again and resume the job.`)
          : new FlasherError('port-closed', `${path} was closed.`),
      )
    })
    port.on('error', (error: Error) => this.fail(new FlasherError('port-error', `${path}: ${error.message}`)))
  }

  static async open(options: SerialLinkOptions): Promise<SerialLink> {
    const port = options.binding
      ? new SerialPortStream({ binding: options.binding, path: options.path, baudRate: options.baud, autoOpen: false })
      : new SerialPort({ path: options.path, baudRate: options.baud, autoOpen: false })
    await new Promise<void>((resolve, reject) =>
      port.open((error) => (error ? reject(describeOpenError(options.path, error)) : resolve())),
    )
    return new SerialLink(port, options.path)
  }

  get baud(): number {
    return this.port.baudRate
  }

  /** The chip's boot messages since the link opened (or since the last `clearNoise`). */
  get noise(): string {
    return bootLogText(Uint8Array.from(this.noiseBytes))
  }

  clearNoise(): void {
    this.noiseBytes = []
  }

  async send(packet: Uint8Array): Promise<void> {
    if (this.closedBy) throw this.closedBy
    const framed = slipEncode(packet)
    await new Promise<void>((resolve, reject) => {
      this.port.write(Buffer.from(framed.buffer, framed.byteOffset, framed.byteLength), (error) => (error ? reject(this.closedBy ?? new FlasherError('port-error', `${this.path}: ${error.message}`)) : resolve()))
    })
  }

  /** Waits for the drain of everything written, so a baud change or a reset does not cut a packet. */
  drain(): Promise<void> {
    return new Promise((resolve) => this.port.drain(() => resolve()))
  }

  /** The next frame, or a timeout error; frames that arrived earlier are returned first. */
  nextFrame(timeoutMs: number): Promise<Uint8Array> {
    const ready = this.frames.shift()
    if (ready) return Promise.resolve(ready)
    if (this.closedBy) return Promise.reject(this.closedBy)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null
        reject(new FlasherError('timeout', `No answer from the board on ${this.path} within ${timeoutMs} ms.`))
      }, timeoutMs)
      this.waiter = {
        resolve: (frame) => {
          clearTimeout(timer)
          resolve(frame)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
    })
  }

  /** Forgets frames already received: stale answers to an earlier SYNC, for instance. */
  discardFrames(): void {
    this.frames.length = 0
  }

  /**
   * Sets DTR and RTS. Returns false when the port refuses (a pseudo-terminal, some RS-485 adapters),
   * so the caller can fall back to asking for the BOOT button.
   */
  async setLines(lines: ControlLines): Promise<boolean> {
    try {
      await new Promise<void>((resolve, reject) => this.port.set({ dtr: lines.dtr, rts: lines.rts }, (error) => (error ? reject(error) : resolve())))
      return true
    } catch {
      return false
    }
  }

  async setBaud(baud: number): Promise<void> {
    await this.drain()
    await new Promise<void>((resolve, reject) => this.port.update({ baudRate: baud }, (error) => (error ? reject(new FlasherError('port-error', `${this.path} cannot change to ${baud} baud: ${error.message}`)) : resolve())))
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return
    await new Promise<void>((resolve) => this.port.close(() => resolve()))
  }

  private take(chunk: Buffer): void {
    for (const event of this.decoder.push(chunk)) {
      if (event.kind === 'frame') {
        if (this.waiter) {
          const waiter = this.waiter
          this.waiter = null
          waiter.resolve(event.payload)
        } else {
          this.frames.push(event.payload)
        }
      } else if (event.kind === 'noise') {
        for (const byte of event.bytes) this.noiseBytes.push(byte)
        if (this.noiseBytes.length > noiseLimit) this.noiseBytes = this.noiseBytes.slice(-noiseLimit)
      }
      // A damaged frame is dropped; the command that expected it times out or is retried.
    }
  }

  private fail(error: FlasherError): void {
    if (this.closedBy) return
    this.closedBy = error
    const waiter = this.waiter
    this.waiter = null
    waiter?.reject(error)
  }
}

function describeOpenError(path: string, error: Error): FlasherError {
  const text = error.message
  if (/lock|busy|EBUSY|Resource temporarily unavailable/i.test(text)) {
    return new FlasherError('port-busy', `${path} is in use by another program (a serial monitor, another flasher, ModemManager). Close it and try again.`)
  }
  if (/ENOENT|No such file|cannot open|File not found/i.test(text)) {
    return new FlasherError('port-missing', `${path} does not exist: the board is unplugged, or the port has a new name. Pick it again from the list.`)
  }
  if (/EACCES|Permission denied/i.test(text)) {
    return new FlasherError('port-denied', `No permission to open ${path}. On Linux, add yourself to the "dialout" group (sudo usermod -aG dialout $USER) and log in again.`)
  }
  return new FlasherError('port-error', `Cannot open ${path}: ${text}`)
}
