import type { LifecycleEntry } from '../../../../shared/contract'
import { formatAgo } from './fleet-format'

const kindLabels: Record<string, string> = {
  online: 'Online',
  offline: 'Offline',
  stale: 'Stale',
  silent: 'Silent',
  'rebirth-requested': 'Rebirth requested',
  reboot: 'Reboot',
  crash: 'Crash',
  'protocol-error': 'Protocol error',
  command: 'Command',
}

/** The device's story, newest first; a node's list includes the devices behind it, so those are named. */
export function LifecycleTimeline(props: { entries: LifecycleEntry[]; deviceKey: string; now: number }) {
  if (props.entries.length === 0) {
    return <p className="hint">Nothing recorded yet. Births, deaths, reboots, crashes and commands will be listed here.</p>
  }
  const entries = [...props.entries].sort((a, b) => b.at - a.at || b.id - a.id)
  return (
    <ol className="lifecycle">
      {entries.map((entry) => (
        <li key={entry.id} className={`kind-${entry.kind}`} data-testid="lifecycle-entry" data-kind={entry.kind}>
          <time dateTime={new Date(entry.at).toISOString()} title={new Date(entry.at).toLocaleString()}>
            {formatAgo(entry.at, props.now)}
          </time>
          <span className="lifecycle-kind">{kindLabels[entry.kind] ?? entry.kind}</span>
          <span className="lifecycle-detail">
            {entry.detail}
            {entry.key !== props.deviceKey && <span className="hint"> · {behind(entry.key, props.deviceKey)}</span>}
          </span>
        </li>
      ))}
    </ol>
  )
}

/** A device behind this node by its own id ("Sensor01"), anything else by its whole key. */
function behind(key: string, nodeKey: string): string {
  return key.startsWith(`${nodeKey}/`) ? key.slice(nodeKey.length + 1) : key
}
