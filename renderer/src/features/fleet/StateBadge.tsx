import type { DeviceState } from '../../../../shared/contract'
import { stateLabels, stateMeanings } from './fleet-format'

/** A state as a coloured mark and its word: colour is never the only sign. */
export function StateBadge(props: { state: DeviceState; testId?: string }) {
  return (
    <span className={`device-state state-${props.state}`} data-state={props.state} data-testid={props.testId} title={stateMeanings[props.state]}>
      <span className="mark" aria-hidden="true" />
      {stateLabels[props.state]}
    </span>
  )
}
