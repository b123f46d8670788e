import type { Settings } from '../../../shared/contract'
import { startVirtualFleet, type VirtualFleet } from '../../../simulator/fleet/fleet'
import type { Logger } from '../log'

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
          groupId: 'Demo',
          nodeIdPrefix: 'esp32-',
          nodes: wanted.nodes,
          devicesPerNode: wanted.devices,
          rateHz: 1,
          hostId: wanted.hostId,
          // A demo must start at once, not after a simulated boot.
          bootDelayMs: 0,
        })
        this.running = wanted
        this.log.info(`Demo fleet: ${wanted.nodes} edge nodes with ${wanted.devices} devices each on ${wanted.url}`)
      } catch (error) {
        this.log.warn(`Demo fleet did not start: ${(error as Error).message}`)
      }
    })
    return this.chain
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
