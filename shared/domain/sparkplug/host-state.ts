// What the console publishes as a Sparkplug Host Application, described as data: the MQTT client in the
// core turns these into packets (JSON text for STATE, protobuf bytes for commands) and owns the order
// of CONNECT, SUBSCRIBE and PUBLISH.

import type { Metric, Payload } from './payload'
import { deviceCommandTopic, hostStateTopic, nodeCommandTopic } from './topic'

/** The JSON body of spBv1.0/STATE/<host_id> in Sparkplug 3.0. */
export interface HostStatePayload {
  online: boolean
  /** Milliseconds since the epoch, UTC. */
  timestamp: number
}

export interface HostStatePublish {
  topic: string
  json: HostStatePayload
  qos: 1
  retain: true
}

export interface CommandPublish {
  topic: string
  payload: Payload
  qos: 0
  retain: false
}

export const rebirthMetricName = 'Node Control/Rebirth'
export const bdSeqMetricName = 'bdSeq'

function hostState(hostId: string, online: boolean, timestamp: number): HostStatePublish {
  return { topic: hostStateTopic(hostId), json: { online, timestamp }, qos: 1, retain: true }
}

/**
 * The Will to put in every CONNECT. `connectTimestamp` is chosen once per connection attempt: the birth
 * and an intentional death on that connection repeat it, which is how edge nodes tell a late Will of an
 * old session from the current one (tck-id-host-topic-phid-birth-payload-timestamp).
 */
export function hostStateWill(hostId: string, connectTimestamp: number): HostStatePublish {
  return hostState(hostId, false, connectTimestamp)
}

/** Published right after the subscriptions are acknowledged, with the Will's timestamp. */
export function hostStateBirth(hostId: string, connectTimestamp: number): HostStatePublish {
  return hostState(hostId, true, connectTimestamp)
}

/**
 * Published before an intentional DISCONNECT, which makes the broker drop the Will. Same content as the
 * Will: 3.0 asks for the CONNECT's timestamp (tck-id-operational-behavior-host-application-connect-will-payload),
 * and that value is also a UTC time in milliseconds, which satisfies the looser death-payload statement.
 */
export function hostStateDeath(hostId: string, connectTimestamp: number): HostStatePublish {
  return hostState(hostId, false, connectTimestamp)
}

/** Reads a STATE body that has already been JSON-parsed; null when it is not a 3.0 STATE payload. */
export function readHostState(value: unknown): HostStatePayload | null {
  if (typeof value !== 'object' || value === null) return null
  const { online, timestamp } = value as { online?: unknown; timestamp?: unknown }
  if (typeof online !== 'boolean' || typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return null
  return { online, timestamp }
}

/**
 * What to do with a STATE message delivered on the console's own host id: when someone (a stale Will of
 * an earlier connection, another instance, an operator) says it is offline, the birth goes out again at
 * once with this connection's timestamp (tck-id-message-flow-hid-sparkplug-state-message-delivered).
 */
export function answerOwnHostState(hostId: string, connectTimestamp: number, received: unknown): HostStatePublish | null {
  const state = readHostState(received)
  if (state === null || state.online) return null
  return hostStateBirth(hostId, connectTimestamp)
}

/** NCMD: a timestamp, no seq (tck-id-payloads-ncmd-seq), QoS 0, not retained. */
export function nodeCommand(groupId: string, edgeNodeId: string, metrics: Metric[], now: number): CommandPublish {
  return { topic: nodeCommandTopic(groupId, edgeNodeId), payload: { timestamp: BigInt(Math.trunc(now)), metrics }, qos: 0, retain: false }
}

/** DCMD: a timestamp, no seq (tck-id-payloads-dcmd-seq), QoS 0, not retained. */
export function deviceCommand(groupId: string, edgeNodeId: string, deviceId: string, metrics: Metric[], now: number): CommandPublish {
  return {
    topic: deviceCommandTopic(groupId, edgeNodeId, deviceId),
    payload: { timestamp: BigInt(Math.trunc(now)), metrics },
    qos: 0,
    retain: false,
  }
}

/** The Rebirth request: NCMD with `Node Control/Rebirth` = true. */
export function rebirthCommand(groupId: string, edgeNodeId: string, now: number): CommandPublish {
  return nodeCommand(groupId, edgeNodeId, [{ name: rebirthMetricName, type: 'Boolean', value: true }], now)
}
