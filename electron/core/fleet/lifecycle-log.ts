import type { Statement } from 'better-sqlite3'
import type { LifecycleEntry } from '../../../shared/contract'
import type { OpenStore } from '../store/store'

const dayMs = 86_400_000

/**
 * Connects, deaths, rebirths, reboots with their reasons: the story of each device. Appends go
 * through the writer's batches; reboots in the last 24 h are counted in memory for the fleet table.
 */
export class LifecycleLog {
  private readonly insert: Statement
  private readonly listForDevice: Statement
  /** Reboot times per device key, trimmed to the last day. */
  private readonly reboots = new Map<string, number[]>()

  constructor(
    private readonly store: OpenStore,
    now: number,
  ) {
    this.insert = store.db.prepare('INSERT INTO lifecycle_events (at, device_key, kind, detail) VALUES (?, ?, ?, ?)')
    this.listForDevice = store.db.prepare(
      "SELECT id, at, device_key AS key, kind, detail FROM lifecycle_events WHERE device_key = ? OR device_key LIKE ? ESCAPE '\\' ORDER BY at DESC, id DESC LIMIT ?",
    )
    const since = now - dayMs
    const rows = store.db.prepare("SELECT device_key AS key, at FROM lifecycle_events WHERE kind IN ('reboot', 'crash') AND at >= ? ORDER BY at").all(since) as { key: string; at: number }[]
    for (const row of rows) this.countReboot(row.key, row.at)
  }

  append(at: number, key: string, kind: string, detail: string): void {
    if (kind === 'reboot' || kind === 'crash') this.countReboot(key, at)
    this.store.writer.enqueue(() => this.insert.run(at, key, kind, detail))
  }

  /** A node's own events and those of the devices behind it, newest first. */
  list(key: string, limit = 200): LifecycleEntry[] {
    this.store.writer.flush()
    return this.listForDevice.all(key, `${escapeLike(key)}/%`, limit) as LifecycleEntry[]
  }

  rebootsInLastDay(key: string, now: number): number {
    const times = this.reboots.get(key)
    if (!times) return 0
    while (times.length > 0 && times[0]! < now - dayMs) times.shift()
    return times.length
  }

  private countReboot(key: string, at: number): void {
    const times = this.reboots.get(key)
    if (times) times.push(at)
    else this.reboots.set(key, [at])
  }
}

// Device keys are Sparkplug ids, which may hold % or _; LIKE must take them literally.
const escapeLike = (text: string) => text.replace(/[%_\\]/g, '\\$&')
