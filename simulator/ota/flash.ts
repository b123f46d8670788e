// The SPI NOR flash of a virtual ESP32: what survives a reset. It behaves as NOR flash does, because the
// OTA design leans on exactly these properties: an erase sets a whole 4 KiB sector to 0xFF, programming
// can only clear bits (so a write over unerased bytes ANDs into them, as it would on the chip), and a power
// cut in the middle of either leaves the bytes half done. Sectors are stored only once written, so a
// fleet of 4 MB nodes costs what their images cost, not 4 MB each.

export const flashSectorSize = 0x1000
export const defaultFlashSize = 4 * 1024 * 1024

/** Thrown out of the flash operation during which the power was cut: nothing after it runs. */
export class PowerLossError extends Error {
  override name = 'PowerLossError'
}

/**
 * Where a power cut falls: the operation with this index (0 = the next erase-of-one-sector or program
 * call) is cut, `fraction` of it done. A cut program has written its first bytes; a cut erase has set a
 * scattered share of the sector's bytes to 0xFF and left the rest as they were, as an interrupted erase
 * pulse leaves a sector neither old nor erased.
 */
export interface PowerCutPlan {
  afterOps: number
  /** 0 ≤ fraction < 1. */
  fraction: number
}

export interface FlashStats {
  /** Operations a power cut can fall into: one per sector erased, one per program call. */
  operations: number
  /** Sectors erased. */
  erases: number
  /** Bytes programmed. */
  programmed: number
  /** Power cuts that hit an operation. */
  cuts: number
}

export class SpiFlash {
  readonly size: number
  readonly stats: FlashStats = { operations: 0, erases: 0, programmed: 0, cuts: 0 }
  private readonly sectors = new Map<number, Uint8Array>()
  private cut: { remaining: number; fraction: number } | null = null

  constructor(size = defaultFlashSize) {
    if (!Number.isInteger(size) || size <= 0 || size % flashSectorSize !== 0) throw new RangeError(`flash size must be whole 4 KiB sectors, not ${size}`)
    this.size = size
  }

  /** A copy of `length` bytes at `offset`; never-written sectors read 0xFF. */
  read(offset: number, length: number): Uint8Array {
    this.checkRange(offset, length)
    const out = new Uint8Array(length).fill(0xff)
    let at = offset
    while (at < offset + length) {
      const index = Math.floor(at / flashSectorSize)
      const start = at - index * flashSectorSize
      const count = Math.min(flashSectorSize - start, offset + length - at)
      const sector = this.sectors.get(index)
      if (sector) out.set(sector.subarray(start, start + count), at - offset)
      at += count
    }
    return out
  }

  /** Erases whole sectors (esp_flash_erase_range): the range must start and end on a sector boundary. */
  erase(offset: number, length: number): void {
    this.checkRange(offset, length)
    if (offset % flashSectorSize !== 0 || length % flashSectorSize !== 0) {
      throw new RangeError(`erase must cover whole 4 KiB sectors: 0x${offset.toString(16)} + 0x${length.toString(16)}`)
    }
    for (let index = offset / flashSectorSize; index < (offset + length) / flashSectorSize; index++) {
      const cutFraction = this.takeOperation()
      if (cutFraction !== null) {
        const sector = this.sector(index)
        for (let i = 0; i < flashSectorSize; i++) if (scatter(index * flashSectorSize + i) < cutFraction) sector[i] = 0xff
        this.powerLost()
      }
      this.sectors.delete(index)
      this.stats.erases++
    }
  }

  /** Programs bytes (esp_flash_write): each byte is ANDed into what the cells hold, as NOR flash does. */
  program(offset: number, bytes: Uint8Array): void {
    this.checkRange(offset, bytes.length)
    const cutFraction = this.takeOperation()
    const count = cutFraction === null ? bytes.length : Math.floor(bytes.length * cutFraction)
    for (let i = 0; i < count; ) {
      const at = offset + i
      const index = Math.floor(at / flashSectorSize)
      const start = at - index * flashSectorSize
      const run = Math.min(flashSectorSize - start, count - i)
      const sector = this.sector(index)
      for (let k = 0; k < run; k++) sector[start + k] = (sector[start + k] as number) & (bytes[i + k] as number)
      i += run
    }
    this.stats.programmed += count
    if (cutFraction !== null) this.powerLost()
  }

  /** Arms a power cut inside a coming operation (fault injection and the power-cut property tests). */
  armPowerCut(plan: PowerCutPlan): void {
    if (!Number.isInteger(plan.afterOps) || plan.afterOps < 0) throw new RangeError(`afterOps must be a whole number ≥ 0, not ${plan.afterOps}`)
    this.cut = { remaining: plan.afterOps, fraction: Math.min(Math.max(plan.fraction, 0), 0.999) }
  }

  /** Takes back an armed cut that no operation reached; true when there was one. */
  disarmPowerCut(): boolean {
    const armed = this.cut !== null
    this.cut = null
    return armed
  }

  get powerCutArmed(): boolean {
    return this.cut !== null
  }

  /** Sectors that hold anything but 0xFF (what the model costs in memory). */
  get sectorsInUse(): number {
    return this.sectors.size
  }

  private takeOperation(): number | null {
    this.stats.operations++
    if (!this.cut) return null
    if (this.cut.remaining > 0) {
      this.cut.remaining--
      return null
    }
    const fraction = this.cut.fraction
    this.cut = null
    return fraction
  }

  private powerLost(): never {
    this.stats.cuts++
    throw new PowerLossError('power lost during a flash operation')
  }

  private sector(index: number): Uint8Array {
    let sector = this.sectors.get(index)
    if (!sector) {
      sector = new Uint8Array(flashSectorSize).fill(0xff)
      this.sectors.set(index, sector)
    }
    return sector
  }

  private checkRange(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`flash access 0x${offset.toString(16)} + ${length} is outside the ${this.size}-byte chip`)
    }
  }
}

/** A fixed pseudo-random value in [0, 1) per byte address, so a cut erase is reproducible. */
function scatter(address: number): number {
  let z = Math.imul(address ^ 0x9e3779b9, 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return ((z ^ (z >>> 16)) >>> 0) / 4294967296
}
