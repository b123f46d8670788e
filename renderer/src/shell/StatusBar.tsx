import type { ServiceState } from '../../../shared/contract'
import type { ConnectionState } from '../bridge'
import { useConsole } from '../state/store'

const connectionText: Record<ConnectionState, string> = {
  connecting: 'connecting…',
  open: 'connected',
  reconnecting: 'reconnecting…',
  'signed-out': 'signed out',
}

export function StatusBar() {
  const connection = useConsole((state) => state.connection)
  const hostKind = useConsole((state) => state.hostKind)
  const health = useConsole((state) => state.health)
  const broker = useConsole((state) => state.services.broker)
  const store = useConsole((state) => state.services.store)
  const hostState: ServiceState['state'] = connection === 'open' ? 'up' : connection === 'connecting' ? 'degraded' : 'down'
  const hostLabel = hostKind === 'electron' ? 'desktop' : (health?.host.url ?? location.host)
  return (
    <footer className="status-bar" aria-label="Status">
      <Pill name="Host" state={hostState} text={`${hostLabel} · ${connectionText[connection]}`} />
      <Pill name="Broker" state={broker?.state} text={broker?.state ?? '…'} title={broker?.detail} />
      <Pill name="Store" state={store?.state} text={store?.state ?? '…'} title={store?.detail} />
      <span className="version">{health ? `v${health.version}` : ''}</span>
    </footer>
  )
}

function Pill(props: { name: string; state: ServiceState['state'] | undefined; text: string; title?: string | undefined }) {
  return (
    <span className={`pill state-${props.state ?? 'unknown'}`} title={props.title} data-testid={`status-${props.name.toLowerCase()}`}>
      <span className="dot" aria-hidden="true" />
      {props.name}: {props.text}
    </span>
  )
}
