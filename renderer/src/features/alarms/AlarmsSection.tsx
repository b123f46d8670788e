import { EmptyState } from '../../shell/EmptyState'

export function AlarmsSection() {
  return (
    <EmptyState
      title="Alarms"
      holds="Alarms raised from the fleet's health, to acknowledge, shelve (for a time, with a reason) and hand over at shift change — and sent on to OPC UA, Modbus, e-mail and webhooks."
      status="Alarms are not in this version yet."
      start={<p>Alarm rules will be written against the metrics devices report in the Fleet section.</p>}
    />
  )
}
