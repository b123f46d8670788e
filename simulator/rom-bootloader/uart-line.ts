// The wire between a USB-UART bridge and the chip, as far as timing goes: 8N1 framing puts ten bit times
// on the line per byte, so neither direction moves more than baud / 10 bytes a second. A socat pty moves
// bytes as fast as the kernel copies them whatever baud the port is set to, and an in-process binding
// faster still, so without this an emulated board would flash a megabyte in milliseconds and every
// throughput figure, timeout and progress bar measured against it would be meaningless.
//
// One timer serves both directions and runs only while bytes are queued (about one wake-up every 2 ms
// then, none when idle). Each tick moves the bytes the elapsed time has paid for, so timer jitter
// changes the chunk sizes, not the rate.

/** How often the line wakes up while bytes are queued. */
import { concatBytes } from '../../shared/domain/rom-bootloader/bytes'

export const uartTickMs = 2

/**
 * The most a direction may carry over from a late tick. An event loop that stalled for 30 ms then
 * catches up in one burst, as a real UART FIFO would drain, but a long stall never turns into an
 * instantaneous megabyte.
 */
const maxCatchUpMs = 50

type QueueItem = { readonly bytes: Uint8Array } | { readonly action: () => void }

/** Bytes on the wire in one direction, in order, with actions (a baud rate switch) between them. */
export class UartDirection {
  private items: QueueItem[] = []
  /** Bytes of items[0] already delivered. */
  private headOffset = 0
  private queuedBytes = 0
  /** Fractional bytes the line has paid for but not yet moved. */
  credit = 0
  /** When this direction last earned credit: credit accrues only while bytes wait. */
  creditedAt = 0

  constructor(
    private readonly deliver: (bytes: Uint8Array) => void,
    private readonly onQueued: (direction: UartDirection) => void,
  ) {}

  /** Bytes waiting to cross. */
  get pending(): number {
    return this.queuedBytes
  }

  get idle(): boolean {
    return this.items.length === 0
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    const wasIdle = this.idle
    this.items.push({ bytes })
    this.queuedBytes += bytes.length
    if (wasIdle) this.onQueued(this)
  }

  /** Runs `action` once every byte queued before it has crossed the line (e.g. switch baud after a reply). */
  pushAction(action: () => void): void {
    const wasIdle = this.idle
    this.items.push({ action })
    if (wasIdle) this.onQueued(this)
  }

  /** Drops everything in flight, as a reset drops a UART FIFO. */
  clear(): void {
    this.items = []
    this.headOffset = 0
    this.queuedBytes = 0
    this.credit = 0
  }

  /** Moves up to `budget` bytes (and every action reached on the way) to the other end. */
  move(budget: number): number {
    let moved = 0
    let parts: Uint8Array[] = []
    let partsLength = 0
    const flush = (): void => {
      if (partsLength === 0) return
      const chunk = parts.length === 1 ? parts[0]! : concatBytes(parts)
      parts = []
      partsLength = 0
      this.deliver(chunk)
    }
    while (this.items.length > 0) {
      const head = this.items[0]!
      if ('action' in head) {
        // Bytes before the action leave first: the far end must see them at the old rate.
        flush()
        this.items.shift()
        head.action()
        continue
      }
      if (moved >= budget) break
      const available = head.bytes.length - this.headOffset
      const take = Math.min(available, budget - moved)
      parts.push(head.bytes.subarray(this.headOffset, this.headOffset + take))
      partsLength += take
      moved += take
      this.queuedBytes -= take
      if (take === available) {
        this.items.shift()
        this.headOffset = 0
      } else {
        this.headOffset += take
      }
    }
    flush()
    return moved
  }
}

export interface UartLineOptions {
  readonly baud: number
  /** False moves bytes on the next turn of the event loop, as fast as the host reads them. */
  readonly paced: boolean
  /** Bytes arriving at the chip's RX pin. */
  readonly toBoard: (bytes: Uint8Array) => void
  /** Bytes arriving at the host's RX pin. */
  readonly toHost: (bytes: Uint8Array) => void
}

/** Both directions of one serial link, paced at the chip's current baud rate. */
export class UartLine {
  readonly toBoard: UartDirection
  readonly toHost: UartDirection
  private baudRate: number
  private readonly paced: boolean
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null
  private closed = false

  constructor(options: UartLineOptions) {
    this.baudRate = options.baud
    this.paced = options.paced
    const onQueued = (direction: UartDirection): void => {
      direction.creditedAt = performance.now()
      direction.credit = 0
      this.schedule()
    }
    this.toBoard = new UartDirection(options.toBoard, onQueued)
    this.toHost = new UartDirection(options.toHost, onQueued)
  }

  get baud(): number {
    return this.baudRate
  }

  set baud(baud: number) {
    this.baudRate = baud
  }

  /** Stops the timer and drops whatever was in flight. */
  close(): void {
    this.closed = true
    this.toBoard.clear()
    this.toHost.clear()
    this.cancel()
  }

  private cancel(): void {
    if (this.timer === null) return
    if (this.paced) clearTimeout(this.timer as NodeJS.Timeout)
    else clearImmediate(this.timer as NodeJS.Immediate)
    this.timer = null
  }

  private schedule(): void {
    if (this.timer !== null || this.closed) return
    this.timer = this.paced ? setTimeout(this.tick, uartTickMs) : setImmediate(this.tick)
  }

  private readonly tick = (): void => {
    this.timer = null
    if (this.closed) return
    const now = performance.now()
    for (const direction of [this.toBoard, this.toHost]) {
      if (direction.idle) continue
      if (!this.paced) {
        direction.move(Number.POSITIVE_INFINITY)
        continue
      }
      const bytesPerMs = this.baudRate / 10 / 1000
      const elapsedMs = Math.min(now - direction.creditedAt, maxCatchUpMs)
      direction.creditedAt = now
      direction.credit += elapsedMs * bytesPerMs
      const whole = Math.floor(direction.credit)
      direction.credit -= direction.move(whole)
      // Credit left over with nothing queued would let the next burst start early.
      if (direction.idle) direction.credit = 0
      else direction.credit = Math.min(direction.credit, maxCatchUpMs * bytesPerMs)
    }
    if (!this.toBoard.idle || !this.toHost.idle) this.schedule()
  }
}
