// Response and event payload types of the contract.

export type ServiceName = 'host' | 'store' | 'broker'

export type ServiceStateName = 'up' | 'degraded' | 'down' | 'off'

export interface ServiceState {
  state: ServiceStateName
  /** One line for the operator: what is happening and, when not `up`, what to do. */
  detail: string
}

export interface Health {
  product: string
  version: string
  host: { kind: 'electron' | 'headless'; url?: string }
  startedAt: number
  services: Record<ServiceName, ServiceState>
}

export interface Identity {
  actor: string
  /** Where the actor came in: the desktop window, the local browser, or an authenticated session. */
  via: 'ipc' | 'local' | 'session' | 'token'
  sessionExpiresAt?: number
}

export type AuditOutcome = 'ok' | 'refused' | 'failed'

export interface AuditEntry {
  id: number
  at: number
  actor: string
  action: string
  target: string
  outcome: AuditOutcome
  detail: string
}

/** A coalesced change to a keyed collection (see shared/domain/stream-diff). */
export type { Diff as StreamDiff } from '../domain/stream-diff'
