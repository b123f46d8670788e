// A fleet of virtual ESP32 edge nodes on one broker: what demo mode, the integration tests and the
// ingest benchmark start when they need the field on the other end of the wire.
import type { OtaOptions } from '../ota/ota-device'
import { systemClock, type Clock } from './clock'
import { emptyCounters, VirtualEdgeNode, type Fault, type FaultRates, type NodeCounters, type NodeEvent } from './edge-node'
import { createRandom } from './random'

export interface VirtualFleetOptions {
  /** mqtt://host:port (or mqtts://, ws://) of the broker the nodes connect to. */
  brokerUrl: string
  /** Sparkplug group id. Default 'Plant1'. */
  groupId?: string
  /** Edge node ids are the prefix and a zero-padded number from 1: 'esp32-001'. Default 'esp32-'. */
  nodeIdPrefix?: string
  /** Default 1. */
  nodes?: number
  /** Devices per edge node ('Sensor01'…). Default 1. */
  devicesPerNode?: number
  /** DDATA messages per device per second. Default 1. Ignored in burst mode. */
  rateHz?: number
  /** Same seed, same fleet: ids, firmware, sensor baselines, and the random faults. Default 1. */
  seed?: number
  /** Time source for timestamps and every timer. Default: the system clock. */
  clock?: Clock
  /** Primary host id: nodes wait for its STATE online before birth, and start over when it goes offline. */
  hostId?: string
  /** Random faults; inject single ones with `fleet.node(id).inject(...)`. */
  faults?: FaultRates
  /** Publish DDATA as fast as each connection drains, with at most maxInFlight (default 64) unwritten messages per node. */
  burst?: boolean | { maxInFlight?: number }
  /** NDATA with the diagnostics that changed, this often. Default 10 000 ms; 0 turns NDATA off. */
  diagnosticsIntervalMs?: number
  /** Each device also reports Sensors/Humidity. Default true. */
  humidity?: boolean
  /** Mean rate at which each device's door opens by itself (for 5–45 s). Default 4; 0 leaves doors to setDoor(). */
  doorOpensPerHour?: number
  /** Default: a seeded mix, most nodes on 1.4.2 and a few behind, as a real fleet mid-rollout. */
  firmwareVersion?: string | ((nodeIndex: number) => string)
  username?: string
  password?: string
  /** MQTT keepalive. Default 30 s. */
  keepaliveS?: number
  /** First reconnect delay after a lost link (jittered, doubling per failure up to 30 s). Default 2000 ms. */
  reconnectDelayMs?: number
  /** Time from a reset to the next CONNECT. Default 3000 ms. */
  bootDelayMs?: number
  /** How many nodes open their first connection at the same time. Default 50. */
  connectConcurrency?: number
  /**
   * Give every node a 4 MB flash with ESP-IDF's two_ota layout and the OTA protocol (simulator/ota):
   * `true` for the defaults, or the options. Off by default.
   */
  ota?: boolean | OtaOptions
  onEvent?: (event: NodeEvent) => void
}

export interface FleetCounters extends NodeCounters {
  nodes: number
  /** Nodes with a live MQTT session. */
  connected: number
  /** Nodes that have published their births in the current session. */
  online: number
}

export interface VirtualFleet {
  readonly groupId: string
  readonly nodes: readonly VirtualEdgeNode[]
  /** A node by edge node id or by index (0-based). */
  node(id: string | number): VirtualEdgeNode
  /** Injects one fault into one node. */
  inject(node: string | number, fault: Fault): void
  /** Totals over every node, taken now. */
  counters(): FleetCounters
  /** Every node publishes NDEATH and disconnects. */
  stop(): Promise<void>
}

const defaultFirmware = (random: ReturnType<typeof createRandom>) => {
  const roll = random.next()
  return roll < 0.8 ? '1.4.2' : roll < 0.95 ? '1.4.1' : '1.3.7'
}

export async function startVirtualFleet(options: VirtualFleetOptions): Promise<VirtualFleet> {
  const count = options.nodes ?? 1
  const devicesPerNode = options.devicesPerNode ?? 1
  const rateHz = options.rateHz ?? 1
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`nodes must be a whole number of at least 1, not ${count}`)
  if (!Number.isInteger(devicesPerNode) || devicesPerNode < 0) throw new RangeError(`devicesPerNode must be a whole number of at least 0, not ${devicesPerNode}`)
  if (!(rateHz > 0)) throw new RangeError(`rateHz must be above 0, not ${rateHz}`)
  const groupId = options.groupId ?? 'Plant1'
  const prefix = options.nodeIdPrefix ?? 'esp32-'
  for (const [what, id] of [['groupId', groupId], ['nodeIdPrefix', prefix]] as const) {
    // Sparkplug ids are topic levels: these characters would change what the topic means.
    if (/[/+#]/.test(id)) throw new RangeError(`${what} may not contain '/', '+' or '#': ${id}`)
  }
  const clock = options.clock ?? systemClock
  const fleetRandom = createRandom(options.seed ?? 1)
  const burst = options.burst ? { maxInFlight: Math.max(1, (typeof options.burst === 'object' ? options.burst.maxInFlight : undefined) ?? 64) } : undefined
  const width = Math.max(3, String(count).length)
  const deviceWidth = Math.max(2, String(devicesPerNode).length)
  const deviceIds = Array.from({ length: devicesPerNode }, (_, i) => `Sensor${String(i + 1).padStart(deviceWidth, '0')}`)
  const ota = options.ota === true ? {} : options.ota || undefined

  const nodes = Array.from({ length: count }, (_, index) => {
    const random = fleetRandom.fork(`node:${index}`)
    const firmwareVersion =
      typeof options.firmwareVersion === 'function' ? options.firmwareVersion(index) : (options.firmwareVersion ?? defaultFirmware(random.fork('firmware')))
    return new VirtualEdgeNode({
      brokerUrl: options.brokerUrl,
      groupId,
      edgeNodeId: `${prefix}${String(index + 1).padStart(width, '0')}`,
      deviceIds,
      rateHz,
      random,
      clock,
      ...(options.hostId ? { hostId: options.hostId } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(burst ? { burst } : {}),
      diagnosticsIntervalMs: options.diagnosticsIntervalMs ?? 10_000,
      humidity: options.humidity ?? true,
      doorOpensPerHour: options.doorOpensPerHour ?? 4,
      firmwareVersion,
      hardware: 'ESP32-WROOM-32E',
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
      keepaliveS: options.keepaliveS ?? 30,
      reconnectDelayMs: options.reconnectDelayMs ?? 2000,
      bootDelayMs: options.bootDelayMs ?? 3000,
      ...(ota ? { ota } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    })
  })
  const byId = new Map(nodes.map((node) => [node.edgeNodeId, node]))

  const fleet: VirtualFleet = {
    groupId,
    nodes,
    node(id) {
      const node = typeof id === 'number' ? nodes[id] : byId.get(id)
      if (!node) throw new RangeError(`No virtual node ${String(id)} in this fleet`)
      return node
    },
    inject(id, fault) {
      fleet.node(id).inject(fault)
    },
    counters() {
      const total: FleetCounters = { ...emptyCounters(), nodes: nodes.length, connected: 0, online: 0 }
      for (const node of nodes) {
        for (const key of Object.keys(node.counters) as (keyof NodeCounters)[]) total[key] += node.counters[key]
        if (node.state === 'online' || node.state === 'waiting-for-host') total.connected++
        if (node.state === 'online') total.online++
      }
      return total
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()))
    },
  }

  // A bounded number of CONNECTs at once: a broker (and this process) handles a queue better than a wall.
  const concurrency = Math.max(1, options.connectConcurrency ?? 50)
  let next = 0
  const failures: Error[] = []
  const worker = async () => {
    while (next < nodes.length && failures.length === 0) {
      const node = nodes[next++]!
      try {
        await node.start()
      } catch (error) {
        failures.push(error as Error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, nodes.length) }, worker))
  if (failures.length > 0) {
    await fleet.stop()
    throw failures[0]
  }
  return fleet
}
