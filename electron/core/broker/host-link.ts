import { readFileSync } from 'node:fs'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { answerOwnHostState, hostStateBirth, hostStateDeath, hostStateWill, type HostStatePublish } from '../../../shared/domain/sparkplug/host-state'
import { hostStateTopic } from '../../../shared/domain/sparkplug/topic'
import { encodeHostState } from '../../../shared/wire/sparkplug'

export interface HostLinkOptions {
  url: string
  /** Sparkplug host id: its STATE topic is spBv1.0/STATE/<hostId>. */
  hostId: string
  username?: string
  password?: string
  clientCertFile?: string
  clientKeyFile?: string
  caFile?: string
  /**
   * Read the fleet's messages through this session (an external broker), or only the host's own
   * STATE topic because the embedded broker hands the fleet over in-process.
   */
  fleetVia?: 'session' | 'in-process'
  /** Milliseconds between reconnect attempts after a lost or refused connection. */
  reconnectMs?: number
  now?: () => number
}

export type HostLinkStatus =
  | { state: 'connecting'; detail: string }
  | { state: 'up'; detail: string }
  | { state: 'down'; detail: string }

export interface HostLink {
  /** Publishes a command (NCMD/DCMD); resolves once the broker has it (QoS 0 needs no ack). */
  publish(topic: string, payload: Uint8Array, qos?: 0 | 1): Promise<void>
  close(): Promise<void>
}

export interface HostLinkHandlers {
  message(topic: string, payload: Buffer): void
  status(status: HostLinkStatus): void
}

/** How long a closing session waits for the broker to acknowledge its STATE death. */
const closeGraceMs = 2000

const stateBytes = (publish: HostStatePublish) => Buffer.from(encodeHostState(publish.json))
const asWill = (publish: HostStatePublish) => ({ topic: publish.topic, payload: stateBytes(publish), qos: publish.qos, retain: publish.retain })

/**
 * The console's own MQTT session as a Sparkplug host application: Will first, then subscriptions,
 * then the STATE birth with the Will's timestamp, on every (re)connection.
 */
export function openHostLink(options: HostLinkOptions, handlers: HostLinkHandlers): HostLink {
  const now = options.now ?? Date.now
  const topic = hostStateTopic(options.hostId)
  // The birth must repeat the timestamp of the Will in the CONNECT that opened this session
  // (tck-id-host-topic-phid-birth-payload-timestamp), so each connection attempt gets a fresh one.
  let willTimestamp = now()
  const clientOptions: IClientOptions = {
    protocolVersion: 4,
    // tck-id-message-flow-phid-sparkplug-clean-session-311
    clean: true,
    clientId: `${options.hostId}-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: options.reconnectMs ?? 3000,
    connectTimeout: 10_000,
    resubscribe: false,
    will: asWill(hostStateWill(options.hostId, willTimestamp)),
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    ...tlsMaterial(options),
  }
  let closing = false
  // A closed link stays silent: its last gasps must not overwrite the state of the next one.
  const report = (status: HostLinkStatus) => {
    if (!closing) handlers.status(status)
  }
  report({ state: 'connecting', detail: `Connecting to ${redact(options.url)}…` })
  const client: MqttClient = mqtt.connect(options.url, clientOptions)

  client.on('reconnect', () => {
    willTimestamp = now()
    client.options.will = asWill(hostStateWill(options.hostId, willTimestamp))
    report({ state: 'connecting', detail: `Reconnecting to ${redact(options.url)}…` })
  })
  client.on('connect', () => {
    lastProblem = null
    // tck-id-host-topic-phid-birth-sub-required, then tck-id-host-topic-phid-birth-required. With the
    // embedded broker the fleet's topics are already tapped in-process, before this session exists.
    client.subscribe(options.fleetVia === 'in-process' ? [topic] : ['spBv1.0/#'], { qos: 1 }, (error) => {
      if (error) {
        report({ state: 'down', detail: `The broker at ${redact(options.url)} refused the Sparkplug subscription: ${error.message}` })
        return
      }
      publishBirth()
    })
  })
  client.on('message', (messageTopic, payload) => {
    if (messageTopic === topic) {
      // Another session's Will (or a stale retained message) said we are offline: say otherwise at once
      // (tck-id-message-flow-hid-sparkplug-state-message-delivered).
      if (answerOwnHostState(options.hostId, willTimestamp, parseJson(payload))) publishBirth()
      return
    }
    handlers.message(messageTopic, payload)
  })
  // The error says why (refused, wrong password); the 'offline' that follows must not hide it.
  let lastProblem: string | null = null
  const retrying = `retrying every ${Math.round((clientOptions.reconnectPeriod ?? 3000) / 1000)} s`
  client.on('error', (error) => {
    lastProblem = describeConnectError(error, options.url)
    report({ state: 'down', detail: lastProblem })
  })
  client.on('offline', () => {
    report({ state: 'down', detail: lastProblem ? `${lastProblem} (${retrying})` : `Lost the broker at ${redact(options.url)}; ${retrying}.` })
  })

  function publishBirth() {
    const birth = hostStateBirth(options.hostId, willTimestamp)
    client.publish(birth.topic, stateBytes(birth), { qos: birth.qos, retain: birth.retain }, (error) => {
      if (error) report({ state: 'down', detail: `Could not publish the host STATE: ${error.message}` })
      else report({ state: 'up', detail: `Sparkplug host "${options.hostId}" on ${redact(options.url)}` })
    })
  }

  return {
    publish(commandTopic, payload, qos = 0) {
      return new Promise((resolve, reject) => {
        if (!client.connected) {
          reject(new Error(`Not connected to the broker at ${redact(options.url)}.`))
          return
        }
        client.publish(commandTopic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos }, (error) => (error ? reject(error) : resolve()))
      })
    },
    async close() {
      closing = true
      let acknowledged = false
      if (client.connected) {
        // A clean stop says offline explicitly: the broker does not send the Will on a DISCONNECT.
        // A broker that died or hangs never acknowledges, and mqtt.js would keep the death queued
        // across reconnects for ever: give it a moment, then go without it (the Will says the same).
        const death = hostStateDeath(options.hostId, willTimestamp)
        acknowledged = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), closeGraceMs)
          client.publish(death.topic, stateBytes(death), { qos: death.qos, retain: death.retain }, (error) => {
            clearTimeout(timer)
            resolve(!error)
          })
        })
      }
      // Forced unless the broker answered: a graceful end waits for acknowledgements that will not come.
      await client.endAsync(!acknowledged)
    },
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch {
    return null
  }
}

function tlsMaterial(options: HostLinkOptions): Partial<IClientOptions> {
  const material: Partial<IClientOptions> = {}
  if (options.caFile) material.ca = readFileSync(options.caFile)
  if (options.clientCertFile) material.cert = readFileSync(options.clientCertFile)
  if (options.clientKeyFile) material.key = readFileSync(options.clientKeyFile)
  return material
}

/** Never show credentials that were written into a URL. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//')
}

function describeConnectError(error: Error & { code?: string | number }, url: string): string {
  const where = redact(url)
  switch (error.code) {
    case 'ECONNREFUSED':
      return `Nothing answers at ${where}: is the broker running, and is the port right?`
    case 'ENOTFOUND':
      return `Cannot find the host of ${where}: check the name or use its IP address.`
    case 4:
    case 5:
      return `The broker at ${where} refused the console's credentials: check the user name, password or client certificate in Settings.`
    default:
      return `Broker ${where}: ${error.message}`
  }
}
