import { existsSync } from 'node:fs'
import type { BindingInterface, PortInfo } from '@serialport/bindings-interface'
import { SerialPort } from 'serialport'
import type { PortRow } from '../../../shared/contract'
import { identifyBridge } from '../../../shared/domain/bench/usb-serial'
import type { PortIdentity } from '../../../shared/domain/rom-bootloader/reset'
import type { EventHub } from '../event-hub'
import type { Logger } from '../log'

export interface PortWatcherOptions {
  events: EventHub
  log: Logger
  /** Ports the OS does not list as USB (a pseudo-terminal, an RS-485 adapter): shown while they exist. */
  extraPaths: readonly string[]
  binding?: BindingInterface
  intervalMs?: number
}

/**
 * Serial ports as they come and go. Operating systems have no portable plug event, so the list is
 * read every second; only USB ports are shown (built-in UARTs such as /dev/ttyS0 never carry a
 * board), plus paths the operator named.
 */
export class PortWatcher {
  private readonly rows = new Map<string, PortRow>()
  private readonly infos = new Map<string, PortInfo>()
  private timer: NodeJS.Timeout | null = null
  private scanning: Promise<void> | null = null

  constructor(private readonly options: PortWatcherOptions) {}

  start(): void {
    void this.scan()
    this.timer = setInterval(() => void this.scan(), this.options.intervalMs ?? 1000)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Reads the port list now (also what `bench.ports` answers after). */
  scan(): Promise<void> {
    this.scanning ??= this.read().finally(() => (this.scanning = null))
    return this.scanning
  }

  list(): PortRow[] {
    return [...this.rows.values()].sort((a, b) => a.path.localeCompare(b.path))
  }

  has(path: string): boolean {
    return this.rows.has(path)
  }

  /** What the reset sequences need to know about the port, and what to say if the board is silent. */
  identity(path: string): PortIdentity & { syncHint: string } {
    const info = this.infos.get(path)
    const vendorId = info?.vendorId ? parseInt(info.vendorId, 16) : undefined
    const productId = info?.productId ? parseInt(info.productId, 16) : undefined
    return { ...(vendorId !== undefined ? { vendorId } : {}), ...(productId !== undefined ? { productId } : {}), syncHint: identifyBridge(info?.vendorId, info?.productId).syncHint }
  }

  update(path: string, change: Partial<Pick<PortRow, 'probed' | 'jobId'>>): void {
    const row = this.rows.get(path)
    if (!row) return
    const next = { ...row, ...change }
    this.rows.set(path, next)
    this.options.events.set('ports', path, next)
  }

  private async read(): Promise<void> {
    let listed: PortInfo[]
    try {
      listed = await (this.options.binding ? this.options.binding.list() : SerialPort.list())
    } catch (error) {
      this.options.log.warn(`Serial ports could not be listed: ${(error as Error).message}`)
      return
    }
    const present = new Map<string, PortInfo>()
    for (const info of listed) if (info.vendorId || this.options.extraPaths.includes(info.path)) present.set(info.path, info)
    for (const path of this.options.extraPaths) if (!present.has(path) && (this.options.binding || existsSync(path))) present.set(path, { path } as PortInfo)

    for (const path of [...this.rows.keys()]) {
      if (present.has(path)) continue
      this.rows.delete(path)
      this.infos.delete(path)
      this.options.events.delete('ports', path)
    }
    for (const [path, info] of present) {
      if (this.rows.has(path)) continue
      const bridge = identifyBridge(info.vendorId, info.productId)
      const row: PortRow = {
        path,
        name: bridge.name,
        usb: info.vendorId && info.productId ? { vendorId: info.vendorId.toLowerCase(), productId: info.productId.toLowerCase(), serialNumber: info.serialNumber ?? null, manufacturer: info.manufacturer ?? null } : null,
        syncHint: bridge.syncHint,
        probed: null,
        jobId: null,
      }
      this.infos.set(path, info)
      this.rows.set(path, row)
      this.options.events.set('ports', path, row)
    }
  }
}
