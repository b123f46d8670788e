import { EmptyState } from '../../shell/EmptyState'
import { useConsole } from '../../state/store'

export function FleetSection() {
  const broker = useConsole((state) => state.services.broker)
  return (
    <EmptyState
      title="Fleet"
      holds="Every device that reports over MQTT / Sparkplug B: online, offline or stale, with firmware, signal strength, reboots and crashes, and the commands you can send it."
      status={broker ? `Broker: ${broker.detail}` : 'Waiting for the console host…'}
      start={<p>Devices will appear here as soon as they publish their birth certificates to the console's broker, or to the site's broker the console is pointed at.</p>}
    />
  )
}
