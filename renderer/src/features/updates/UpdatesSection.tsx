import { EmptyState } from '../../shell/EmptyState'

export function UpdatesSection() {
  return (
    <EmptyState
      title="Updates"
      holds="Signed firmware artifacts and staged rollouts: a canary first, then growing phases, each watched by a health gate that pauses the rollout when the fleet gets worse."
      status="Staged updates are not in this version yet."
      start={<p>You will import an ESP-IDF application image; the console checks and signs it, then you choose the devices and the phases.</p>}
    />
  )
}
