// A node-serialport binding whose ports are emulated boards in this process. A socat pty carries bytes but
// refuses DTR and RTS ("Inappropriate ioctl for device"), so the console's reset sequences (esptool's
// classic and tight resets, the hard reset after flashing) can only be exercised through this: set()
// drives the board's auto-reset circuit and update() tells it the host's baud rate.
//
//   const binding = new EmulatedBoardBinding()
//   binding.register('/dev/ttyEMU0', new EmulatedBoard({ startIn: 'app' }))
//   const port = new SerialPortStream({ binding, path: '/dev/ttyEMU0', baudRate: 115200 })

import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface'
import type { EmulatedBoard } from './emulated-board'

/** What the port list shows for an emulated board: a CP2102N bridge, the one on most ESP32 dev kits. */
export interface EmulatedPortIdentity {
  readonly manufacturer?: string
  readonly serialNumber?: string
  /** Hex without 0x, as serialport lists them ("10c4"). */
  readonly vendorId?: string
  readonly productId?: string
}

const cp2102n: Required<Omit<EmulatedPortIdentity, 'serialNumber'>> = { manufacturer: 'Silicon Labs', vendorId: '10c4', productId: 'ea60' }

/** serialport's contract: reads pending when the port closes fail with `canceled`, anything else is a disconnect. */
class CanceledError extends Error {
  readonly canceled = true
}

interface Registration {
  readonly board: EmulatedBoard
  readonly info: PortInfo
  open: EmulatedPort | null
}

export class EmulatedBoardBinding implements BindingInterface<EmulatedPort> {
  private readonly ports = new Map<string, Registration>()

  /** Makes `board` openable at `path`. Returns a function that removes it (closing an open port as unplugged). */
  register(path: string, board: EmulatedBoard, identity: EmulatedPortIdentity = {}): () => void {
    if (this.ports.has(path)) throw new Error(`${path} already has a board.`)
    const info: PortInfo = {
      path,
      manufacturer: identity.manufacturer ?? cp2102n.manufacturer,
      serialNumber: identity.serialNumber ?? board.macAddress.replaceAll(':', ''),
      pnpId: undefined,
      locationId: undefined,
      vendorId: identity.vendorId ?? cp2102n.vendorId,
      productId: identity.productId ?? cp2102n.productId,
    }
    this.ports.set(path, { board, info, open: null })
    return () => {
      const registration = this.ports.get(path)
      if (registration?.board !== board) return
      registration.open?.disconnect(new Error(`${path} was removed.`))
      this.ports.delete(path)
    }
  }

  async list(): Promise<PortInfo[]> {
    return [...this.ports.values()].map((registration) => ({ ...registration.info }))
  }

  async open(options: OpenOptions): Promise<EmulatedPort> {
    if (!options?.path) throw new TypeError('"path" is not a valid port')
    if (!options.baudRate) throw new TypeError('"baudRate" is not a valid baudRate')
    const registration = this.ports.get(options.path)
    if (!registration) throw new Error(`Error: No such file or directory, cannot open ${options.path}`)
    if (registration.board.mode === 'unplugged' || registration.board.mode === 'closed') {
      throw new Error(`Error: No such file or directory, cannot open ${options.path}`)
    }
    if (registration.open) throw new Error(`Error Resource temporarily unavailable Cannot lock port`)
    const openOptions: Required<OpenOptions> = {
      dataBits: 8,
      lock: true,
      stopBits: 1,
      parity: 'none',
      rtscts: false,
      xon: false,
      xoff: false,
      xany: false,
      hupcl: true,
      ...options,
    }
    const port = new EmulatedPort(registration.board, openOptions, () => {
      registration.open = null
    })
    registration.open = port
    return port
  }
}

export class EmulatedPort implements BindingPortInterface {
  isOpen = true
  private readonly received: Uint8Array[] = []
  private receivedBytes = 0
  private pendingRead: { wake(): void; fail(error: Error): void } | null = null
  private failure: Error | null = null
  private readonly unsubscribe: (() => void)[] = []

  constructor(
    private readonly board: EmulatedBoard,
    readonly openOptions: Required<OpenOptions>,
    private readonly onClosed: () => void,
  ) {
    this.unsubscribe.push(
      board.onOutput((bytes) => {
        this.received.push(bytes)
        this.receivedBytes += bytes.length
        this.pendingRead?.wake()
      }),
      board.onEvent((event) => {
        if (event.kind === 'unplugged') this.disconnect(Object.assign(new Error('Device disconnected: the board was unplugged'), { disconnected: true }))
      }),
    )
    board.setHostBaudRate(openOptions.baudRate)
    // Opening a tty on Linux or macOS asserts DTR and RTS. Both asserted moves neither EN nor GPIO0 on the
    // auto-reset circuit, which is why opening a port does not reset the board.
    board.setControlLines({ dtr: true, rts: true })
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open')
    this.finish()
    // hupcl drops both lines on close; again neither EN nor GPIO0 moves.
    if (this.openOptions.hupcl) this.board.setControlLines({ dtr: false, rts: false })
    this.pendingRead?.fail(new CanceledError('port is closed'))
  }

  /** The board went away under an open port: pending and later reads fail, which serialport reports as a disconnect. */
  disconnect(error: Error): void {
    if (!this.isOpen) return
    this.failure = error
    this.pendingRead?.fail(error)
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw new CanceledError('Read canceled')
    while (this.receivedBytes === 0) {
      if (this.failure) throw this.failure
      await new Promise<void>((resolve, reject) => {
        this.pendingRead = {
          wake: () => {
            this.pendingRead = null
            resolve()
          },
          fail: (error) => {
            this.pendingRead = null
            reject(error)
          },
        }
      })
    }
    let bytesRead = 0
    while (bytesRead < length && this.received.length > 0) {
      const head = this.received[0]!
      const take = Math.min(head.length, length - bytesRead)
      buffer.set(head.subarray(0, take), offset + bytesRead)
      bytesRead += take
      if (take === head.length) this.received.shift()
      else this.received[0] = head.subarray(take)
    }
    this.receivedBytes -= bytesRead
    return { buffer, bytesRead }
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open')
    if (this.failure) throw this.failure
    this.board.receive(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length))
  }

  async update(options: UpdateOptions): Promise<void> {
    if (typeof options?.baudRate !== 'number' || options.baudRate <= 0) throw new TypeError('"options.baudRate" is not a number')
    if (!this.isOpen) throw new Error('Port is not open')
    this.openOptions.baudRate = options.baudRate
    this.board.setHostBaudRate(options.baudRate)
  }

  async set(options: SetOptions): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open')
    if (this.failure) throw this.failure
    this.board.setControlLines({
      ...(options.dtr === undefined ? {} : { dtr: options.dtr }),
      ...(options.rts === undefined ? {} : { rts: options.rts }),
    })
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw new Error('Port is not open')
    return { cts: false, dsr: false, dcd: false }
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw new Error('Port is not open')
    return { baudRate: this.openOptions.baudRate }
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open')
    this.received.length = 0
    this.receivedBytes = 0
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open')
  }

  private finish(): void {
    this.isOpen = false
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe()
    this.board.setHostBaudRate(null)
    this.onClosed()
  }
}
