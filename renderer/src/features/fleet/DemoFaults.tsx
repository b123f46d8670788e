import type { DemoFault } from '../../../../shared/contract'
import { useConsole } from '../../state/store'
import type { CommandOutcome } from './fleet-slice'

const faults: { fault: DemoFault; label: string; title: string }[] = [
  { fault: 'power-cut', label: 'Cut power', title: 'Off for a minute with no NDEATH: the broker sends its Will, the metrics go STALE' },
  { fault: 'crash', label: 'Crash', title: 'A panic: reboots at once and reports a crash summary in its next birth' },
  { fault: 'wifi-drop', label: 'Drop Wi-Fi', title: 'The link drops (beacon timeout); the node reconnects with a new bdSeq' },
  { fault: 'hang', label: 'Hang', title: 'Connected but silent, with no death: flagged silent after the configured time' },
  { fault: 'resume', label: 'Resume', title: 'The hung application carries on' },
]

/**
 * Training: make a demo edge node fail the way real ones do, so operators learn what each failure
 * looks like on the console before they meet it on a plant. Only the demo fleet's nodes take these.
 */
export function DemoFaults(props: { nodeKey: string; onOutcome(outcome: CommandOutcome): void }) {
  const play = useConsole((state) => state.playDemoFault)
  return (
    <section className="panel" aria-labelledby="demo-faults">
      <h3 id="demo-faults">Demo fleet: play a fault on {props.nodeKey}</h3>
      <div className="button-row">
        {faults.map(({ fault, label, title }) => (
          <button key={fault} type="button" title={title} data-testid={`demo-fault-${fault}`} onClick={() => void play(props.nodeKey, fault).then(props.onOutcome)}>
            {label}
          </button>
        ))}
      </div>
    </section>
  )
}
