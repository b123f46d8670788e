// One virtual ESP32 running a Sparkplug B 3.0 edge node with N devices. It behaves as field firmware
// does (Will first, births after the host is online, aliases only in data, one seq across N and D
// messages) and misbehaves on demand, so the console can be tested against what real fleets do.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Metric, Payload, PropertySet } from '../../shared/domain/sparkplug/payload'
import { decodePayload, encodePayload, parseHostState, type HostState } from '../../shared/wire/sparkplug'
import { isOtaCommand, otaBirthMetrics, otaDataMetrics } from '../ota/metrics'
import { OtaDevice, type OtaFault, type OtaOptions } from '../ota/ota-device'
import { every, type Clock } from './clock'
import { DeviceModel } from './device'
import {
  crashReasons,
  crashTasks,
  deviceMetricAlias,
  deviceMetrics,
  linkLossCauses,
  nodeMetrics,
  type CrashReason,
  type DeviceMetricKey,
  type DisconnectCause,
  type MetricSpec,
  type RebootReason,
} from './metrics'
import type { Random } from './random'

export type EdgeNodeState = 'stopped' | 'booting' | 'connecting' | 'waiting-for-host' | 'online' | 'offline'

/** Random faults. Node events are a chance per node per second; message faults a chance per DATA message. */
export interface FaultRates {
  /** Link lost without a clean death: the socket is destroyed and the broker publishes the Will. */
  drop?: number
  /** Reboot with a non-crash reason (ESP_RST_POWERON, ESP_RST_BROWNOUT, ESP_RST_SW). */
  reboot?: number
  /** Panic or watchdog reset with a core dump summary in the next NBIRTH. */
  crash?: number
  /** The application hangs: no publishes, connection kept. Lasts `silenceMs`. */
  silence?: number
  silenceMs?: number
  /** Skip one seq number. */
  gap?: number
  /** Swap this DATA message with the next one. */
  reorder?: number
  /** Send undecodable bytes on a DDATA topic (no seq consumed). */
  malformed?: number
  /** Each node's clock is off by a seeded amount in [-skew, +skew] ms. */
  skew?: number
}

/** A fault injected from code, on one node, now. */
export type Fault =
  | { kind: 'drop'; cause?: DisconnectCause }
  | { kind: 'gap' }
  | { kind: 'reorder' }
  | { kind: 'malformed'; deviceId?: string }
  | { kind: 'skew'; ms: number }
  | { kind: 'reboot'; reason?: RebootReason; offMs?: number }
  | { kind: 'crash'; reason?: CrashReason; task?: string; pc?: number; offMs?: number }
  | { kind: 'silence'; ms?: number }
  | { kind: 'resume' }
  | OtaFault

export interface NodeCounters {
  NBIRTH: number
  DBIRTH: number
  NDATA: number
  DDATA: number
  /** NDEATHs the node published itself before a clean disconnect (Wills sent by the broker are `drops` and crashes). */
  NDEATH: number
  /** Metric values carried in NDATA and DDATA. */
  metrics: number
  bytes: number
  connects: number
  drops: number
  reboots: number
  crashes: number
  gaps: number
  reorders: number
  malformed: number
  silences: number
  rebirths: number
  commands: number
  /** Commands that did not decode or named nothing writable. */
  badCommands: number
}

export const emptyCounters = (): NodeCounters => ({
  NBIRTH: 0,
  DBIRTH: 0,
  NDATA: 0,
  DDATA: 0,
  NDEATH: 0,
  metrics: 0,
  bytes: 0,
  connects: 0,
  drops: 0,
  reboots: 0,
  crashes: 0,
  gaps: 0,
  reorders: 0,
  malformed: 0,
  silences: 0,
  rebirths: 0,
  commands: 0,
  badCommands: 0,
})

export interface NodeEvent {
  edgeNodeId: string
  kind: 'connected' | 'born' | 'lost' | 'reconnecting' | 'reboot' | 'crash' | 'host-offline' | 'fault' | 'command' | 'error' | 'ota'
  detail?: string
}

export interface EdgeNodeOptions {
  brokerUrl: string
  groupId: string
  edgeNodeId: string
  deviceIds: string[]
  /** DDATA messages per device per second (timer mode). */
  rateHz: number
  random: Random
  clock: Clock
  /** Primary host id: births wait for `spBv1.0/STATE/<hostId>` online (Sparkplug 3.0). */
  hostId?: string
  faults?: FaultRates
  /** Publish DDATA as fast as the connection drains, at most `maxInFlight` unwritten messages. */
  burst?: { maxInFlight: number }
  /** How often NDATA carries the diagnostics that changed. */
  diagnosticsIntervalMs: number
  humidity: boolean
  doorOpensPerHour: number
  firmwareVersion: string
  hardware: string
  username?: string
  password?: string
  keepaliveS: number
  /** First reconnect delay; doubles per failed attempt up to 30 s, with jitter so a fleet does not storm. */
  reconnectDelayMs: number
  /** Time from reset to the first CONNECT (boot, Wi-Fi association, DHCP). */
  bootDelayMs: number
  /** Flash with A/B slots and the OTA protocol (simulator/ota); off unless given. */
  ota?: OtaOptions
  onEvent?: (event: NodeEvent) => void
}

interface Session {
  client: MqttClient
  bdSeq: number
  connected: boolean
  /** Closed on purpose (stop, reboot, host offline): the close handler must not reconnect. */
  closing: boolean
  hostOnline: boolean
  subscribed: boolean
  /** Set when the node itself cut the link (a fault), so the close reports that cause. */
  lostCause?: DisconnectCause
}

const maxReconnectDelayMs = 30_000
const reorderHoldMs = 1000

export class VirtualEdgeNode {
  readonly groupId: string
  readonly edgeNodeId: string
  readonly deviceIds: readonly string[]
  readonly counters: NodeCounters = emptyCounters()
  /** The node's flash, bootloader and OTA job, when OTA is on. */
  readonly ota: OtaDevice | null

  private readonly options: EdgeNodeOptions
  private readonly random: Random
  private readonly clock: Clock
  private readonly devices: DeviceModel[]
  private readonly topics: { nbirth: string; ndeath: string; ndata: string; ncmd: string; dcmd: string; state?: string; dbirth: string[]; ddata: string[] }

  private currentState: EdgeNodeState = 'stopped'
  private session: Session | null = null
  private nextBdSeq = 0
  private seq = 0
  private stopped = true
  private silentUntil: number | null = null
  private skewMs = 0
  private pendingGap = false
  private pendingReorder = false
  private held: { topic: string; bytes: Uint8Array; kind: 'NDATA' | 'DDATA'; metrics: number } | null = null
  private cancelHeld: (() => void) | null = null
  private cancelReconnect: (() => void) | null = null
  private cancelBoot: (() => void) | null = null
  private cancelSilence: (() => void) | null = null
  private sessionTimers: (() => void)[] = []
  private cancelFaultTick: (() => void) | null = null
  private failedAttempts = 0
  private lastHostTimestamp = -Infinity
  /** Timestamp of the host STATE the current births answered. */
  private bornForHost = -Infinity
  private firstConnect: { resolve: () => void; reject: (error: Error) => void } | null = null

  // What the firmware knows about itself; reset on every boot except what lives in flash.
  private bootMs: number
  private rebootReason: RebootReason = 'ESP_RST_POWERON'
  private reconnectAttempts = 0
  private disconnectCause: DisconnectCause = 'NONE'
  private freeHeap = 0
  private minFreeHeap = 0
  private rssi: number
  private readonly rssiHome: number
  private readonly heapAtBoot: number
  private flashWear: number
  private coreDump: { task: string; pc: number } | null = null
  private readonly mac: string
  private lastDiagnostics: { freeHeap: number; minFreeHeap: number; rssi: number; flashWear: number } | null = null
  private publishedDevice: { doorOpen: boolean; relay: boolean }[] = []

  // Burst mode state.
  private inFlight = 0
  /** Bumped whenever the session's publishing restarts, so write callbacks of an older run are ignored. */
  private burstRun = 0
  private burstCursor = 0
  private pumpQueued = false

  constructor(options: EdgeNodeOptions) {
    this.options = options
    this.groupId = options.groupId
    this.edgeNodeId = options.edgeNodeId
    this.deviceIds = [...options.deviceIds]
    this.random = options.random
    this.clock = options.clock
    const base = `spBv1.0/${options.groupId}`
    this.topics = {
      nbirth: `${base}/NBIRTH/${options.edgeNodeId}`,
      ndeath: `${base}/NDEATH/${options.edgeNodeId}`,
      ndata: `${base}/NDATA/${options.edgeNodeId}`,
      ncmd: `${base}/NCMD/${options.edgeNodeId}`,
      dcmd: `${base}/DCMD/${options.edgeNodeId}`,
      dbirth: options.deviceIds.map((id) => `${base}/DBIRTH/${options.edgeNodeId}/${id}`),
      ddata: options.deviceIds.map((id) => `${base}/DDATA/${options.edgeNodeId}/${id}`),
      ...(options.hostId ? { state: `spBv1.0/STATE/${options.hostId}` } : {}),
    }
    const now = this.clock.now()
    this.devices = options.deviceIds.map((id) => new DeviceModel(id, this.random.fork(`device:${id}`), now, options.doorOpensPerHour))
    this.mac = Array.from({ length: 6 }, (_, i) => (i === 0 ? 0x24 : this.random.int(0, 255)).toString(16).padStart(2, '0')).join(':').toUpperCase()
    this.rssiHome = this.random.int(-80, -52)
    this.rssi = this.rssiHome
    this.heapAtBoot = this.random.int(150_000, 240_000)
    this.flashWear = Math.round(this.random.between(0.5, 35) * 100) / 100
    const skew = options.faults?.skew ?? 0
    if (skew > 0) this.skewMs = Math.round(this.random.between(-skew, skew))
    this.bootMs = now
    this.resetBootState()
    // A fork of its own, so turning OTA on leaves every other random draw of the node as it was.
    this.ota = options.ota
      ? new OtaDevice({
          ...options.ota,
          clock: this.clock,
          random: this.random.fork('ota'),
          firmwareVersion: options.firmwareVersion,
          host: {
            report: (report) => {
              if (this.canPublish()) this.publishData(this.topics.ndata, otaDataMetrics(report), 'NDATA')
            },
            reset: (reason, offMs) => {
              if ((crashReasons as readonly string[]).includes(reason)) this.crash(reason as CrashReason, { task: 'main', offMs })
              else this.reboot(reason, offMs)
            },
            dropLink: () => this.inject({ kind: 'drop' }),
            event: (detail) => this.emit('ota', detail),
          },
        })
      : null
  }

  get state(): EdgeNodeState {
    return this.currentState
  }

  /** bdSeq of the current (or last) MQTT session: the one in its Will and its NBIRTH. */
  get bdSeq(): number {
    return this.session?.bdSeq ?? (this.nextBdSeq + 255) % 256
  }

  /** True while the application is hung by a `silence` fault. */
  get silent(): boolean {
    return this.silentUntil !== null
  }

  /** Boots and connects; resolves on the first CONNACK, rejects if that first attempt fails. */
  start(): Promise<void> {
    if (!this.stopped) return Promise.resolve()
    this.stopped = false
    const rates = this.options.faults
    if (rates && (rates.drop || rates.reboot || rates.crash || rates.silence)) {
      this.cancelFaultTick = every(this.clock, 1000, this.random.between(0, 1000), () => this.randomNodeFaults())
    }
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject }
      // With OTA the bootloader decides what runs; an image that does not come up reaches no broker.
      if (this.bootOta()) this.connect()
    })
  }

  /** Publishes NDEATH and disconnects cleanly, as a node being switched off by its operator would. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.cancelFaultTick?.()
    this.cancelFaultTick = null
    this.cancelReconnect?.()
    this.cancelBoot?.()
    this.cancelSilence?.()
    this.stopSessionTimers()
    this.dropHeld()
    this.ota?.reset()
    const session = this.session
    this.session = null
    this.setState('stopped')
    if (session) await this.closeCleanly(session)
  }

  /** Opens or closes a device's door now (the temperature follows); `forMs` closes it again by itself. */
  setDoor(device: string | number, open: boolean, forMs?: number): void {
    const index = this.deviceIndex(device)
    const model = this.devices[index]!
    model.setDoor(open, this.clock.now(), forMs)
    // A door contact is an interrupt on real nodes: report it now, not at the next sample.
    if (this.canPublish()) this.publishDeviceSample(index, false)
  }

  inject(fault: Fault): void {
    if (this.stopped) return
    this.emit('fault', fault.kind)
    switch (fault.kind) {
      case 'drop':
        this.drop(fault.cause ?? this.random.pick(linkLossCauses))
        return
      case 'gap':
        this.pendingGap = true
        return
      case 'reorder':
        this.pendingReorder = true
        return
      case 'malformed':
        this.sendMalformed(fault.deviceId === undefined ? this.random.int(0, this.devices.length - 1) : this.deviceIndex(fault.deviceId))
        return
      case 'skew':
        this.skewMs = fault.ms
        return
      case 'reboot':
        this.reboot(fault.reason ?? 'ESP_RST_SW', fault.offMs)
        return
      case 'crash':
        this.crash(fault.reason ?? 'ESP_RST_PANIC', fault)
        return
      case 'silence':
        this.goSilent(fault.ms)
        return
      case 'resume':
        this.resume()
        return
      case 'power-cut':
        if (this.ota) this.ota.inject(fault)
        else if (fault.at === undefined || fault.at === 'now') this.reboot('ESP_RST_POWERON', fault.offMs)
        return
      case 'stall':
      case 'boot-crash':
        this.ota?.inject(fault)
        return
    }
  }

  // ---- connection ----------------------------------------------------------------------------------

  private connect(): void {
    if (this.stopped) return
    this.cancelReconnect = null
    // tck-id-topics-nbirth-bdseq-increment: one bdSeq per CONNECT packet, kept across reboots as field
    // firmware keeps it in NVS, so a late Will from before a reset can never match the new session.
    const bdSeq = this.nextBdSeq
    this.nextBdSeq = (bdSeq + 1) % 256
    const will = encodePayload({ timestamp: BigInt(this.now()), metrics: [{ name: 'bdSeq', type: 'Int64', value: BigInt(bdSeq) }] })
    const clientOptions: IClientOptions = {
      protocolVersion: 4,
      clean: true,
      clientId: `${this.groupId}-${this.edgeNodeId}`.slice(0, 64),
      keepalive: this.options.keepaliveS,
      // The node owns its reconnects: each one needs a new Will with the next bdSeq.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: this.topics.ndeath, payload: toBuffer(will), qos: 1, retain: false },
      ...(this.options.username ? { username: this.options.username } : {}),
      ...(this.options.password ? { password: this.options.password } : {}),
    }
    this.setState('connecting')
    const client = mqtt.connect(this.options.brokerUrl, clientOptions)
    const session: Session = { client, bdSeq, connected: false, closing: false, hostOnline: false, subscribed: false }
    this.session = session
    let lastError: Error | null = null
    client.on('connect', () => this.onConnected(session))
    client.on('message', (topic, payload) => this.onMessage(session, topic, payload))
    client.on('error', (error) => {
      lastError = error
    })
    client.on('close', () => this.onClosed(session, lastError))
  }

  private onConnected(session: Session): void {
    if (session !== this.session) return
    session.connected = true
    this.failedAttempts = 0
    this.counters.connects++
    this.emit('connected', `bdSeq ${session.bdSeq}`)
    if (this.firstConnect) {
      this.firstConnect.resolve()
      this.firstConnect = null
    }
    // tck-id-message-flow-edge-node-ncmd-subscribe and -device-dcmd-subscribe: QoS 1, before any birth.
    const topics = [this.topics.ncmd, `${this.topics.dcmd}/+`, ...(this.topics.state ? [this.topics.state] : [])]
    session.client.subscribe(topics, { qos: 1 }, (error) => {
      if (session !== this.session || session.closing) return
      if (error) {
        this.emit('error', `subscribe failed: ${error.message}`)
        this.loseLink(session, 'MQTT_ERROR_TYPE_CONNECTION_REFUSED')
        return
      }
      session.subscribed = true
      if (!this.options.hostId || session.hostOnline) this.birth()
      else this.setState('waiting-for-host')
    })
  }

  private onClosed(session: Session, error: Error | null): void {
    if (session !== this.session) return
    this.session = null
    session.client.end(true)
    this.stopSessionTimers()
    this.dropHeld()
    if (this.firstConnect) {
      const reason = error?.message ?? 'connection closed before CONNACK'
      this.firstConnect.reject(new Error(`${this.edgeNodeId} cannot connect to ${this.options.brokerUrl}: ${reason}`))
      this.firstConnect = null
      this.stopped = true
      this.cancelFaultTick?.()
      this.setState('stopped')
      return
    }
    if (this.stopped || session.closing) return
    if (session.lostCause) this.disconnectCause = session.lostCause
    else if (session.connected) this.disconnectCause = 'MQTT_ERROR_TYPE_TCP_TRANSPORT'
    if (!session.connected) this.failedAttempts++
    this.emit('lost', error?.message ?? this.disconnectCause)
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    this.setState('offline')
    const base = Math.min(maxReconnectDelayMs, this.options.reconnectDelayMs * 2 ** this.failedAttempts)
    const delay = base * this.random.between(0.5, 1.5)
    this.reconnectAttempts++
    this.emit('reconnecting', `in ${Math.round(delay)} ms`)
    this.cancelReconnect = this.clock.schedule(delay, () => this.connect())
  }

  /** The link dies under the node: no NDEATH from it, the broker publishes the Will. */
  private drop(cause: DisconnectCause): void {
    // Wi-Fi carries the image download too.
    this.ota?.linkLost()
    const session = this.session
    if (!session || !session.connected) return
    this.counters.drops++
    this.loseLink(session, cause)
  }

  private loseLink(session: Session, cause: DisconnectCause): void {
    session.lostCause = cause
    // Destroying the socket is what a Wi-Fi loss looks like from the broker: no DISCONNECT, so the Will fires.
    session.client.stream.destroy()
  }

  private async closeCleanly(session: Session): Promise<void> {
    session.closing = true
    const client = session.client
    if (session.connected && client.connected) {
      // tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt311: NDEATH before DISCONNECT.
      const death = encodePayload({ timestamp: BigInt(this.now()), metrics: [{ name: 'bdSeq', type: 'Int64', value: BigInt(session.bdSeq) }] })
      this.counters.NDEATH++
      this.counters.bytes += death.byteLength
      await withTimeout(new Promise<void>((resolve) => client.publish(this.topics.ndeath, toBuffer(death), { qos: 1 }, () => resolve())), 2000)
      await withTimeout(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), 2000)
    }
    client.end(true)
  }

  // ---- Sparkplug session ---------------------------------------------------------------------------

  private onMessage(session: Session, topic: string, payload: Buffer): void {
    if (session !== this.session) return
    if (topic === this.topics.state) {
      this.onHostState(session, payload)
      return
    }
    if (this.silent) return
    this.counters.commands++
    let command: Payload
    try {
      command = decodePayload(payload)
    } catch {
      this.counters.badCommands++
      return
    }
    if (topic === this.topics.ncmd) this.onNodeCommand(command)
    else if (topic.startsWith(`${this.topics.dcmd}/`)) this.onDeviceCommand(topic.slice(this.topics.dcmd.length + 1), command)
  }

  private onHostState(session: Session, payload: Buffer): void {
    let state: HostState
    try {
      state = parseHostState(payload)
    } catch {
      // tck-id-message-flow-edge-node-birth-publish-phid-wait-online: only a readable online=true counts.
      return
    }
    // tck-id-message-flow-edge-node-birth-publish-phid-wait-timestamp: an older STATE is history, not news.
    if (state.timestamp < this.lastHostTimestamp) return
    this.lastHostTimestamp = state.timestamp
    if (state.online) {
      session.hostOnline = true
      if (session.subscribed && this.currentState === 'waiting-for-host') this.birth()
      // A newer online STATE while born means the host started a new session and may have missed our
      // births (its offline STATE never reached us): birth again rather than wait for its rebirth request.
      else if (this.currentState === 'online' && state.timestamp > this.bornForHost) this.birth()
      return
    }
    session.hostOnline = false
    if (this.currentState === 'online') {
      // tck-id-message-flow-edge-node-birth-publish-phid-offline: NDEATH, disconnect, start over; the
      // births then wait for the host to be back.
      this.emit('host-offline')
      this.disconnectCause = 'SPARKPLUG_HOST_OFFLINE'
      this.stopSessionTimers()
      this.dropHeld()
      this.session = null
      this.setState('offline')
      void this.closeCleanly(session).then(() => {
        if (!this.stopped && !this.session && !this.cancelBoot) this.scheduleReconnect()
      })
    }
  }

  private onNodeCommand(command: Payload): void {
    let understood = false
    for (const metric of command.metrics) {
      if (matches(metric, nodeMetrics.rebirth) && metric.value === true) {
        understood = true
        this.counters.rebirths++
        this.emit('command', 'rebirth')
        // tck-id-operational-behavior-data-commands-rebirth-action-1..3: stop data, full births, same bdSeq.
        if (this.currentState === 'online') this.birth()
      } else if (matches(metric, nodeMetrics.reboot) && metric.value === true) {
        this.emit('command', 'reboot')
        this.reboot('ESP_RST_SW')
        return
      } else if (this.ota && isOtaCommand(metric)) {
        const result = this.ota.command(metric.value)
        this.emit('command', result.ok ? `OTA ${metric.value}` : `OTA command refused: ${result.detail}`)
        if (!result.ok) return void this.counters.badCommands++
        understood = true
      }
    }
    if (!understood) this.counters.badCommands++
  }

  private onDeviceCommand(deviceId: string, command: Payload): void {
    const index = this.deviceIds.indexOf(deviceId)
    if (index < 0) {
      this.counters.badCommands++
      return
    }
    const relay = { name: deviceMetrics.relay.name, alias: deviceMetricAlias(index, 'relay') }
    let changed = false
    for (const metric of command.metrics) {
      if (matches(metric, relay) && metric.type === 'Boolean' && typeof metric.value === 'boolean') {
        this.devices[index]!.relay = metric.value
        changed = true
      } else {
        this.counters.badCommands++
      }
    }
    // A write is confirmed by the device reporting the new value, as field devices do.
    if (changed && this.canPublish()) this.publishDeviceSample(index, false)
  }

  private birth(): void {
    const session = this.session
    if (!session) return
    this.stopSessionTimers()
    this.dropHeld()
    this.pendingGap = false
    // tck-id-topics-nbirth-seq-num: every NBIRTH starts the node's sequence again at 0.
    this.seq = 0
    this.bornForHost = this.lastHostTimestamp
    const now = this.now()
    const timestamp = BigInt(now)
    this.send(this.topics.nbirth, { timestamp, seq: BigInt(this.takeSeq()), metrics: this.nodeBirthMetrics(session.bdSeq, timestamp) }, 'NBIRTH', 0)
    this.devices.forEach((device, index) => {
      const reading = device.sample(this.clock.now())
      this.publishedDevice[index] = { doorOpen: reading.doorOpen, relay: reading.relay }
      this.send(this.topics.dbirth[index]!, { timestamp, seq: BigInt(this.takeSeq()), metrics: this.deviceBirthMetrics(index, reading, timestamp) }, 'DBIRTH', 0)
    })
    this.lastDiagnostics = { freeHeap: this.freeHeap, minFreeHeap: this.minFreeHeap, rssi: this.rssi, flashWear: this.flashWear }
    this.setState('online')
    this.emit('born', `bdSeq ${session.bdSeq}`)
    this.startSessionTimers()
    this.ota?.online()
  }

  private nodeBirthMetrics(bdSeq: number, timestamp: bigint): Metric[] {
    const m = nodeMetrics
    const metrics: Metric[] = [
      metric(m.bdSeq, BigInt(bdSeq), timestamp),
      metric(m.rebirth, false, timestamp),
      metric(m.reboot, false, timestamp),
      metric(m.firmwareVersion, this.ota?.running?.version ?? this.options.firmwareVersion, timestamp),
      metric(m.hardware, this.options.hardware, timestamp),
      metric(m.mac, this.mac, timestamp),
      metric(m.rebootReason, this.rebootReason, timestamp),
      metric(m.uptime, this.uptimeS(), timestamp),
      metric(m.freeHeap, this.freeHeap, timestamp),
      metric(m.minFreeHeap, this.minFreeHeap, timestamp),
      metric(m.rssi, this.rssi, timestamp),
      metric(m.reconnectAttempts, this.reconnectAttempts, timestamp),
      metric(m.disconnectCause, this.disconnectCause, timestamp),
      metric(m.flashWear, this.flashWear, timestamp),
      metric(m.coreDumpPresent, this.coreDump !== null, timestamp),
    ]
    // The crash summary is read from the core dump partition, so it only exists when one is there.
    if (this.coreDump) metrics.push(metric(m.crashTask, this.coreDump.task, timestamp), metric(m.crashPc, this.coreDump.pc, timestamp))
    if (this.ota) metrics.push(...otaBirthMetrics(this.ota.birthReport(), timestamp))
    return metrics
  }

  private deviceBirthMetrics(index: number, reading: ReturnType<DeviceModel['sample']>, timestamp: bigint): Metric[] {
    const spec = (key: DeviceMetricKey): MetricSpec => ({ ...deviceMetrics[key], alias: deviceMetricAlias(index, key) })
    return [
      metric(spec('temperature'), reading.temperature, timestamp),
      ...(this.options.humidity ? [metric(spec('humidity'), reading.humidity, timestamp)] : []),
      metric(spec('doorOpen'), reading.doorOpen, timestamp),
      metric(spec('relay'), reading.relay, timestamp),
    ]
  }

  private startSessionTimers(): void {
    if (this.options.burst) {
      this.inFlight = 0
      this.queuePump()
    } else {
      const period = 1000 / this.options.rateHz
      // A random phase per node spreads a fleet's samples over the period instead of one spike per tick.
      this.sessionTimers.push(every(this.clock, period, this.random.between(0, period), () => this.sampleAll()))
    }
    const diag = this.options.diagnosticsIntervalMs
    if (diag > 0) this.sessionTimers.push(every(this.clock, diag, this.random.between(0, diag), () => this.publishDiagnostics()))
  }

  private stopSessionTimers(): void {
    for (const cancel of this.sessionTimers) cancel()
    this.sessionTimers = []
    this.inFlight = 0
    this.burstRun++
  }

  private sampleAll(): void {
    if (!this.canPublish()) return
    for (let index = 0; index < this.devices.length; index++) this.publishDeviceSample(index, true)
  }

  /** One DDATA by alias: the analog values on samples, door and relay only when they changed (report by exception). */
  private publishDeviceSample(index: number, withAnalog: boolean, onWritten?: () => void): boolean {
    const reading = this.devices[index]!.sample(this.clock.now())
    const published = this.publishedDevice[index]!
    const metrics: Metric[] = []
    if (withAnalog) {
      metrics.push({ alias: deviceMetricAlias(index, 'temperature'), type: 'Float', value: reading.temperature })
      if (this.options.humidity) metrics.push({ alias: deviceMetricAlias(index, 'humidity'), type: 'Float', value: reading.humidity })
    }
    if (reading.doorOpen !== published.doorOpen) {
      metrics.push({ alias: deviceMetricAlias(index, 'doorOpen'), type: 'Boolean', value: reading.doorOpen })
      published.doorOpen = reading.doorOpen
    }
    if (reading.relay !== published.relay) {
      metrics.push({ alias: deviceMetricAlias(index, 'relay'), type: 'Boolean', value: reading.relay })
      published.relay = reading.relay
    }
    if (metrics.length === 0) return false
    this.publishData(this.topics.ddata[index]!, metrics, 'DDATA', onWritten)
    return true
  }

  private publishDiagnostics(): void {
    this.evolveDiagnostics()
    if (!this.canPublish()) return
    const m = nodeMetrics
    const last = this.lastDiagnostics!
    const metrics: Metric[] = [{ alias: m.uptime.alias, type: 'UInt64', value: this.uptimeS() }]
    if (this.freeHeap !== last.freeHeap) metrics.push({ alias: m.freeHeap.alias, type: 'UInt32', value: this.freeHeap })
    if (this.minFreeHeap !== last.minFreeHeap) metrics.push({ alias: m.minFreeHeap.alias, type: 'UInt32', value: this.minFreeHeap })
    if (this.rssi !== last.rssi) metrics.push({ alias: m.rssi.alias, type: 'Int8', value: this.rssi })
    if (this.flashWear !== last.flashWear) metrics.push({ alias: m.flashWear.alias, type: 'Float', value: this.flashWear })
    this.lastDiagnostics = { freeHeap: this.freeHeap, minFreeHeap: this.minFreeHeap, rssi: this.rssi, flashWear: this.flashWear }
    this.publishData(this.topics.ndata, metrics, 'NDATA')
  }

  private evolveDiagnostics(): void {
    // RSSI wanders with a pull back toward where the node is mounted, inside what Wi-Fi really shows.
    const next = this.rssi + this.random.normal() * 1.5 + (this.rssiHome - this.rssi) * 0.1
    this.rssi = Math.round(Math.min(-45, Math.max(-90, next)))
    this.freeHeap = Math.max(20_000, Math.round(this.freeHeap + this.random.normal() * 1500 + (this.heapAtBoot - 8000 - this.freeHeap) * 0.05))
    this.minFreeHeap = Math.min(this.minFreeHeap, this.freeHeap)
    if (this.random.chance(0.05)) this.flashWear = Math.min(100, Math.round((this.flashWear + 0.01) * 100) / 100)
  }

  // ---- publishing ------------------------------------------------------------------------------------

  private canPublish(): boolean {
    return this.currentState === 'online' && !this.silent && this.session !== null
  }

  private publishData(topic: string, metrics: Metric[], kind: 'NDATA' | 'DDATA', onWritten?: () => void): void {
    const rates = this.options.faults
    if (this.pendingGap || (rates?.gap && this.random.chance(rates.gap))) {
      this.pendingGap = false
      this.takeSeq()
      this.counters.gaps++
    }
    const payload: Payload = { timestamp: BigInt(this.now()), seq: BigInt(this.takeSeq()), metrics }
    if (this.pendingReorder || (rates?.reorder && this.random.chance(rates.reorder))) {
      if (!this.held) {
        this.pendingReorder = false
        this.counters.reorders++
        this.held = { topic, bytes: encodePayload(payload), kind, metrics: metrics.length }
        // Nothing may follow (silence, a slow rate): send it late rather than never.
        this.cancelHeld = this.clock.schedule(reorderHoldMs, () => this.releaseHeld())
        onWritten?.()
        return
      }
    }
    this.send(topic, payload, kind, metrics.length, onWritten)
    this.releaseHeld()
    if (rates?.malformed && this.random.chance(rates.malformed)) this.sendMalformed(this.random.int(0, this.devices.length - 1))
  }

  private releaseHeld(): void {
    const held = this.held
    if (!held) return
    this.dropHeld()
    if (this.session?.connected) this.sendBytes(held.topic, held.bytes, held.kind, held.metrics)
  }

  private dropHeld(): void {
    this.cancelHeld?.()
    this.cancelHeld = null
    this.held = null
  }

  private sendMalformed(index: number): void {
    const session = this.session
    if (!session?.connected || this.devices.length === 0) return
    this.counters.malformed++
    session.client.publish(this.topics.ddata[index]!, Buffer.from(this.garbage()), { qos: 0 })
  }

  /** Bytes no protobuf decoder can accept, in the shapes corrupted payloads take in the field. */
  private garbage(): Uint8Array {
    const tail = Array.from({ length: this.random.int(4, 40) }, () => this.random.int(0, 255))
    switch (this.random.int(0, 2)) {
      case 0:
        // Field 1 with wire type 7, which does not exist.
        return Uint8Array.from([0x0f, ...tail])
      case 1:
        // A metrics field that claims more bytes than follow (a truncated frame).
        return Uint8Array.from([0x12, 0xc8, 0x01, ...tail.slice(0, 20)])
      default:
        // A varint that never ends.
        return Uint8Array.from([0x08, ...new Array<number>(11).fill(0xff)])
    }
  }

  private send(topic: string, payload: Payload, kind: 'NBIRTH' | 'DBIRTH' | 'NDATA' | 'DDATA', metricCount: number, onWritten?: () => void): void {
    this.sendBytes(topic, encodePayload(payload), kind, metricCount, onWritten)
  }

  private sendBytes(topic: string, bytes: Uint8Array, kind: 'NBIRTH' | 'DBIRTH' | 'NDATA' | 'DDATA', metricCount: number, onWritten?: () => void): void {
    const session = this.session
    if (!session) return
    this.counters[kind]++
    this.counters.bytes += bytes.byteLength
    if (kind === 'NDATA' || kind === 'DDATA') this.counters.metrics += metricCount
    // QoS 0 for births and data, as Sparkplug requires; the callback fires when the socket took it.
    session.client.publish(topic, toBuffer(bytes), { qos: 0 }, onWritten ? () => onWritten() : undefined)
  }

  private takeSeq(): number {
    const seq = this.seq
    this.seq = (seq + 1) % 256
    return seq
  }

  // ---- burst mode ------------------------------------------------------------------------------------

  private queuePump(): void {
    if (this.pumpQueued) return
    this.pumpQueued = true
    setImmediate(() => {
      this.pumpQueued = false
      this.pump()
    })
  }

  /**
   * Publishes while fewer than maxInFlight messages wait for the socket, a bounded batch per turn so
   * the event loop (and an in-process broker) keeps running; memory stays flat whatever the broker's pace.
   */
  private pump(): void {
    const burst = this.options.burst
    if (!burst || !this.canPublish() || this.devices.length === 0) return
    const run = this.burstRun
    const written = () => {
      if (run !== this.burstRun) return
      this.inFlight--
      this.queuePump()
    }
    let budget = burst.maxInFlight
    while (this.inFlight < burst.maxInFlight && budget-- > 0) {
      const index = this.burstCursor
      this.burstCursor = (this.burstCursor + 1) % this.devices.length
      this.inFlight++
      if (!this.publishDeviceSample(index, true, written)) this.inFlight--
    }
    if (this.inFlight < burst.maxInFlight) this.queuePump()
  }

  // ---- faults and resets -----------------------------------------------------------------------------

  private randomNodeFaults(): void {
    const rates = this.options.faults
    if (!rates || this.stopped || this.cancelBoot) return
    if (rates.crash && this.random.chance(rates.crash)) {
      this.inject({ kind: 'crash', reason: this.random.chance(0.7) ? 'ESP_RST_PANIC' : this.random.pick(crashReasons) })
    } else if (rates.reboot && this.random.chance(rates.reboot)) {
      this.inject({ kind: 'reboot', reason: this.random.pick(['ESP_RST_POWERON', 'ESP_RST_BROWNOUT', 'ESP_RST_SW'] as const) })
    } else if (rates.drop && this.session?.connected && this.random.chance(rates.drop)) {
      this.inject({ kind: 'drop' })
    } else if (rates.silence && !this.silent && this.currentState === 'online' && this.random.chance(rates.silence)) {
      this.inject({ kind: 'silence', ms: rates.silenceMs ?? 30_000 })
    }
  }

  private goSilent(ms?: number): void {
    this.cancelSilence?.()
    this.counters.silences++
    this.silentUntil = ms === undefined ? Infinity : this.clock.now() + ms
    this.cancelSilence = ms === undefined ? null : this.clock.schedule(ms, () => this.resume())
  }

  private resume(): void {
    this.cancelSilence?.()
    this.cancelSilence = null
    this.silentUntil = null
    if (this.options.burst && this.currentState === 'online') this.queuePump()
  }

  /**
   * A reset. ESP_RST_SW and ESP_RST_DEEPSLEEP are orderly (the firmware publishes NDEATH first); every
   * other reason is power, brown-out or a panic, where the broker learns of it from the Will.
   */
  private reboot(reason: RebootReason, offMs = this.options.bootDelayMs): void {
    if (this.stopped) return
    this.counters.reboots++
    this.emit(crashReasons.includes(reason as CrashReason) ? 'crash' : 'reboot', reason)
    this.stopSessionTimers()
    this.dropHeld()
    this.cancelReconnect?.()
    this.cancelReconnect = null
    this.cancelBoot?.()
    this.cancelSilence?.()
    this.cancelSilence = null
    this.silentUntil = null
    this.ota?.reset()
    const session = this.session
    this.session = null
    if (session) {
      if (reason === 'ESP_RST_SW' || reason === 'ESP_RST_DEEPSLEEP') {
        void this.closeCleanly(session)
      } else {
        session.closing = true
        session.client.stream.destroy()
        session.client.end(true)
      }
    }
    this.setState('booting')
    this.rebootReason = reason
    this.bootMs = this.clock.now() + offMs
    this.cancelBoot = this.clock.schedule(offMs, () => {
      this.cancelBoot = null
      this.resetBootState()
      if (this.bootOta()) this.connect()
    })
  }

  /** A panic or watchdog reset: the core dump's summary goes into the next NBIRTH. */
  private crash(reason: CrashReason, detail: { task?: string; pc?: number; offMs?: number | undefined } = {}): void {
    const pc = detail.pc ?? 0x400d0000 + this.random.int(0, 0x2ffff) * 4
    this.coreDump = { task: detail.task ?? this.random.pick(crashTasks), pc: pc >>> 0 }
    this.counters.crashes++
    this.reboot(reason, detail.offMs)
  }

  /** The bootloader and the start of the app; false when the app will not reach the network this time. */
  private bootOta(): boolean {
    return !this.ota || this.ota.boot(this.rebootReason) === 'run'
  }

  private resetBootState(): void {
    this.bootMs = this.clock.now()
    this.reconnectAttempts = 0
    this.failedAttempts = 0
    this.disconnectCause = 'NONE'
    this.freeHeap = this.heapAtBoot
    this.minFreeHeap = this.heapAtBoot
    this.lastHostTimestamp = -Infinity
  }

  // ---- helpers ---------------------------------------------------------------------------------------

  /** Whole milliseconds, as a node's clock gives them, and off by the skew fault if there is one. */
  private now(): number {
    return Math.floor(this.clock.now() + this.skewMs)
  }

  private uptimeS(): bigint {
    return BigInt(Math.max(0, Math.floor((this.clock.now() - this.bootMs) / 1000)))
  }

  private deviceIndex(device: string | number): number {
    const index = typeof device === 'number' ? device : this.deviceIds.indexOf(device)
    if (index < 0 || index >= this.devices.length) throw new Error(`${this.edgeNodeId} has no device ${String(device)}`)
    return index
  }

  private setState(state: EdgeNodeState): void {
    this.currentState = state
  }

  private emit(kind: NodeEvent['kind'], detail?: string): void {
    this.options.onEvent?.({ edgeNodeId: this.edgeNodeId, kind, ...(detail !== undefined ? { detail } : {}) })
  }
}

function metric(spec: MetricSpec, value: number | bigint | boolean | string, timestamp: bigint): Metric {
  const properties: PropertySet | undefined = spec.engUnit ? [{ key: 'engUnit', type: 'String', value: spec.engUnit }] : undefined
  return {
    name: spec.name,
    ...(spec.alias !== undefined ? { alias: spec.alias } : {}),
    timestamp,
    ...({ type: spec.type, value } as Pick<Metric, 'type' | 'value'>),
    ...(properties ? { properties } : {}),
  } as Metric
}

function matches(metric: Metric, spec: { name: string; alias?: bigint }): boolean {
  return metric.name === spec.name || (metric.alias !== undefined && metric.alias === spec.alias)
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    void promise.then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}
