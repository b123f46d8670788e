import { defaultSettings, publicSettings, secretSettingKeys, settingsSchema, type Settings, type SettingsPatch } from '../../shared/contract'
import type { AuditLog } from './audit-log'
import type { EventHub } from './event-hub'
import type { Logger } from './log'
import type { OpenStore } from './store/store'

/** Typed, validated settings persisted one key per row, so adding a setting needs no migration. */
export class SettingsService {
  private current: Settings
  private readonly listeners = new Set<(next: Settings, previous: Settings) => void>()

  constructor(
    private readonly store: OpenStore | null,
    private readonly audit: AuditLog,
    private readonly events: EventHub,
    log: Logger,
  ) {
    this.current = store ? load(store, log) : defaultSettings
  }

  get(): Settings {
    return this.current
  }

  update(patch: SettingsPatch, actor: string): Settings {
    const next = settingsSchema.parse({ ...this.current, ...patch })
    const changed = (Object.keys(patch) as (keyof Settings)[]).filter((key) => next[key] !== this.current[key])
    if (changed.length === 0) return this.current
    const upsert = this.store?.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
    this.audit.perform(
      { actor, action: 'change settings', target: changed.join(', '), detail: changed.map((key) => `${key}=${isSecret(key) ? '(changed)' : JSON.stringify(next[key])}`).join(' ') },
      () => {
        for (const key of changed) upsert!.run(key, JSON.stringify(next[key]))
      },
    )
    const previous = this.current
    this.current = next
    this.events.emit('settings.changed', publicSettings(next))
    for (const listener of this.listeners) listener(next, previous)
    return next
  }

  /** Services that follow settings (the broker, the demo fleet) restart from here. */
  onChange(listener: (next: Settings, previous: Settings) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

const isSecret = (key: string) => (secretSettingKeys as readonly string[]).includes(key)

function load(store: OpenStore, log: Logger): Settings {
  const rows = store.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[]
  const stored: Record<string, unknown> = {}
  for (const { key, value } of rows) {
    try {
      stored[key] = JSON.parse(value)
    } catch {
      log.warn(`Setting ${key} is not valid JSON; using its default.`)
    }
  }
  // Validate key by key: one bad stored value falls back to its default without losing the others.
  const settings: Record<string, unknown> = { ...defaultSettings }
  for (const [key, value] of Object.entries(stored)) {
    if (!(key in defaultSettings)) continue
    const parsed = settingsSchema.safeParse({ ...defaultSettings, [key]: value })
    if (parsed.success) settings[key] = parsed.data[key as keyof Settings]
    else log.warn(`Stored setting ${key} is invalid; using its default.`)
  }
  return settings as Settings
}
