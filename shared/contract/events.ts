import type { FlashJobRow, PortRow } from './bench'
import type { EventName } from './channels'
import type { FleetRow } from './fleet'
import type { RolloutSummary } from './ota'
import type { AuditEntry, ServiceState, StreamDiff } from './model'
import type { PublicSettings } from './settings'
import type { SiteChange } from './site'

export interface EventPayloads {
  /** Coalesced: the state of each service, keyed by service name. */
  services: StreamDiff<ServiceState>
  'settings.changed': PublicSettings
  'audit.appended': AuditEntry
  /** Coalesced: one row per edge node and device, keyed by `group/edge[/device]`. */
  fleet: StreamDiff<FleetRow>
  /** Coalesced: serial ports as they are plugged and unplugged, keyed by path. */
  ports: StreamDiff<PortRow>
  /** Coalesced: flash jobs of this session and unfinished ones, keyed by job id. */
  'bench.jobs': StreamDiff<FlashJobRow>
  /** Coalesced: every rollout's summary, keyed by rollout id. */
  'ota.rollouts': StreamDiff<RolloutSummary>
  /** The site plan or its catalogue changed (an import, a save, an opened file): screens showing an older one reload. */
  'site.changed': SiteChange
}

// The compiler checks that every event name has a payload type and no payload type lacks a name.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
export const eventsAreComplete: Exact<keyof EventPayloads, EventName> = true
