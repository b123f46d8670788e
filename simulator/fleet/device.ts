// The physics behind one virtual device: a cold-room style temperature that rises while its door is
// open and relaxes after, a humidity that follows it, and a relay the host can switch. Time-based and
// solved exactly between samples, so the curve is the same at 1 Hz, at 50 Hz or under a manual clock.
import type { Random } from './random'

/** Time constants (s) of the exponential approach: the room warms faster than it recovers. */
const tauOpenS = 12
const tauClosedS = 45

export interface DeviceReading {
  temperature: number
  humidity: number
  doorOpen: boolean
  relay: boolean
}

export class DeviceModel {
  doorOpen = false
  relay = false
  private readonly baseTemperature: number
  /** How far the temperature climbs toward when the door stays open (°C). */
  private readonly doorSpike: number
  private readonly baseHumidity: number
  private excess = 0
  private lastMs: number
  /** When a door opened by chance closes again; null while a caller holds it. */
  private doorCloseAtMs: number | null = null

  constructor(
    readonly deviceId: string,
    private readonly random: Random,
    nowMs: number,
    /** Mean rate of doors opened by chance (people going in and out). */
    private readonly doorOpensPerHour = 4,
  ) {
    this.baseTemperature = random.between(2, 8)
    this.doorSpike = random.between(6, 10)
    this.baseHumidity = random.between(45, 65)
    this.relay = random.chance(0.3)
    this.lastMs = nowMs
  }

  /** Opens or closes the door now; an open door stays open until closed, or for `forMs` if given. */
  setDoor(open: boolean, nowMs: number, forMs?: number): void {
    this.advance(nowMs, false)
    this.doorOpen = open
    this.doorCloseAtMs = open && forMs !== undefined ? nowMs + forMs : null
  }

  /** Brings the model to `nowMs` and takes a reading. */
  sample(nowMs: number): DeviceReading {
    this.advance(nowMs, true)
    const temperature = round(this.baseTemperature + this.excess + this.random.normal() * 0.05, 2)
    const humidity = round(clamp(this.baseHumidity + this.excess * 1.5 + this.random.normal() * 0.3, 0, 100), 1)
    return { temperature, humidity, doorOpen: this.doorOpen, relay: this.relay }
  }

  private advance(nowMs: number, chanceEvents: boolean): void {
    const startMs = this.lastMs
    while (this.lastMs < nowMs) {
      const closesInside = this.doorOpen && this.doorCloseAtMs !== null && this.doorCloseAtMs < nowMs
      const untilMs = closesInside ? (this.doorCloseAtMs as number) : nowMs
      const dtS = (untilMs - this.lastMs) / 1000
      const target = this.doorOpen ? this.doorSpike : 0
      const tau = this.doorOpen ? tauOpenS : tauClosedS
      this.excess = target + (this.excess - target) * Math.exp(-dtS / tau)
      this.lastMs = untilMs
      if (closesInside) {
        this.doorOpen = false
        this.doorCloseAtMs = null
      }
    }
    // Chance events are decided once per sample over the elapsed time, which keeps the draw count (and
    // so the seeded sequence) independent of how finely time was cut.
    if (chanceEvents && this.doorOpensPerHour > 0 && !this.doorOpen && nowMs > startMs) {
      const p = 1 - Math.exp((-this.doorOpensPerHour / 3600) * ((nowMs - startMs) / 1000))
      if (this.random.chance(p)) this.setDoor(true, nowMs, this.random.between(5_000, 45_000))
    }
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}
