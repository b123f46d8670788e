import type { DemoFault, Settings } from '../../../shared/contract'
import type { Fault } from '../../../simulator/fleet/edge-node'
import { startVirtualFleet, type VirtualFleet } from '../../../simulator/fleet/fleet'
import { ContractFailure } from '../failure'
import type { Logger } from '../log'

const demoGroup = 'Demo'

/** Each trainer's fault as the simulator plays it, and how the audit log describes it. */
const faults: Record<DemoFault, { fault: Fault; words: string }> = {
  // A minute off is long enough to watch the node go offline and its metrics STALE, and short
  // enough that the demo heals itself.
  'power-cut': { fault: { kind: 'reboot', reason: 'ESP_RST_POWERON', offMs: 60_000 }, words: 'power cut for 60 s (no NDEATH; the broker sends the Will)' },
  crash: { fault: { kind: 'crash', reason: 'ESP_RST_PANIC', offMs: 3_000 }, words: 'panic and reboot (core dump, crash summary in the next NBIRTH)' },
  'wifi-drop': { fault: { kind: 'drop', cause: 'WIFI_REASON_BEACON_TIMEOUT' }, words: 'Wi-Fi link lost (beacon timeout), reconnects with a new bdSeq' },
  hang: { fault: { kind: 'silence' }, words: 'application hung: connected but silent until resumed' },
  resume: { fault: { kind: 'resume' }, words: 'application resumed' },
}

/**
 * The virtual fleet started inside the console when the operator turns on the demo, so a new user
 * sees a living fleet within seconds. It is the same simulator the tests use, on the console's broker.
 */
export class DemoFleet {
  private fleet: VirtualFleet | null = null
  private running: { url: string; nodes: number; devices: number; hostId: string } | null = null
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly log: Logger) {}

  /** Starts, restarts or stops the demo so it matches the settings and the broker's address. */
  follow(settings: Settings, brokerUrl: string | null): Promise<void> {
    const wanted = settings.demoFleet && brokerUrl ? { url: brokerUrl, nodes: settings.demoFleetNodes, devices: settings.demoFleetDevices, hostId: settings.sparkplugHostId } : null
    this.chain = this.chain.then(async () => {
      if (JSON.stringify(wanted) === JSON.stringify(this.running)) return
      await this.stopNow()
      if (!wanted) return
      try {
        this.fleet = await startVirtualFleet({
          brokerUrl: wanted.url,
          groupId: demoGroup,
          nodeIdPrefix: 'esp32-',
          nodes: wanted.nodes,
          devicesPerNode: wanted.devices,
          rateHz: 1,
          hostId: wanted.hostId,
          // A demo must start at once, not after a simulated boot.
          bootDelayMs: 0,
          // A/B slots and the OTA protocol, so a new user can try a rollout on the Updates screen.
          ota: true,
        })
        this.running = wanted
        this.log.info(`Demo fleet: ${wanted.nodes} edge nodes with ${wanted.devices} devices each on ${wanted.url}`)
      } catch (error) {
        this.log.warn(`Demo fleet did not start: ${(error as Error).message}`)
      }
    })
    return this.chain
  }

  /** Makes one demo edge node fail as a real one would; refused for anything that is not the demo. */
  inject(key: string, fault: DemoFault): { node: string; words: string } {
    const [groupId, edgeNodeId] = key.split('/') as [string, string]
    if (!this.fleet) throw new ContractFailure('UNAVAILABLE', 'The demo fleet is not running. Turn it on in Settings → Demo fleet.')
    if (groupId !== demoGroup || !this.fleet.nodes.some((node) => node.edgeNodeId === edgeNodeId)) {
      throw new ContractFailure('NOT_FOUND', `${groupId}/${edgeNodeId} is not a node of the demo fleet; faults can only be played on group ${demoGroup}.`)
    }
    const { fault: played, words } = faults[fault]
    this.fleet.inject(edgeNodeId, played)
    return { node: `${groupId}/${edgeNodeId}`, words }
  }

  /** The running virtual fleet, for tests that inject faults into it. */
  get virtualFleet(): VirtualFleet | null {
    return this.fleet
  }

  stop(): Promise<void> {
    this.chain = this.chain.then(() => this.stopNow())
    return this.chain
  }

  private async stopNow(): Promise<void> {
    const fleet = this.fleet
    this.fleet = null
    this.running = null
    if (fleet) await fleet.stop()
  }
}
