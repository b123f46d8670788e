import type { Statement } from 'better-sqlite3'
import type { AuditEntry, AuditOutcome } from '../../shared/contract'
import type { EventHub } from './event-hub'
import { ContractFailure } from './failure'
import type { OpenStore } from './store/store'

export interface AuditRecord {
  actor: string
  action: string
  target: string
  outcome: AuditOutcome
  detail?: string
}

interface Row {
  id: number
  at: number
  actor: string
  action: string
  target: string
  outcome: AuditOutcome
  detail: string
}

/**
 * Who did what, when, with which outcome. Operator actions are recorded in the same transaction as
 * their effect, so the log never shows something that did not happen, nor misses something that did.
 */
export class AuditLog {
  private readonly insert: Statement | null
  private readonly page: Statement | null

  constructor(
    private readonly store: OpenStore | null,
    private readonly events: EventHub,
    private readonly now: () => number,
  ) {
    this.insert =
      store?.db.prepare('INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)') ?? null
    this.page =
      store?.db.prepare('SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?') ?? null
  }

  /**
   * Runs `effect` and records it as one transaction. Without a working store the action is refused:
   * an operator action that cannot be accounted for does not happen.
   */
  perform<T>(record: Omit<AuditRecord, 'outcome'>, effect: () => T): T {
    const store = this.requireStore(record.action)
    const { result, entry } = store.writer.now(() => {
      const result = effect()
      return { result, entry: this.write({ ...record, outcome: 'ok' }) }
    })
    this.events.emit('audit.appended', entry)
    return result
  }

  /** Records an action that was refused or failed, so attempts are visible too. */
  note(record: AuditRecord): void {
    if (!this.store) return
    const entry = this.store.writer.now(() => this.write(record))
    this.events.emit('audit.appended', entry)
  }

  list(limit: number, beforeId = Number.MAX_SAFE_INTEGER): AuditEntry[] {
    if (!this.page) return []
    return this.page.all(beforeId, limit) as Row[]
  }

  private write(record: AuditRecord): AuditEntry {
    const at = this.now()
    const detail = record.detail ?? ''
    const info = this.insert!.run(at, record.actor, record.action, record.target, record.outcome, detail)
    return { id: Number(info.lastInsertRowid), at, actor: record.actor, action: record.action, target: record.target, outcome: record.outcome, detail }
  }

  private requireStore(action: string): OpenStore {
    if (!this.store) {
      throw new ContractFailure('UNAVAILABLE', `Cannot ${action}: the store is down, so the action could not be recorded. See Settings › Store.`)
    }
    return this.store
  }
}
