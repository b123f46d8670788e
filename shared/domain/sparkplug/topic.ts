// Sparkplug B 3.0 topic names (specification §4.1). Everything a broker delivers under spBv1.0/# passes
// through parseSparkplugTopic before the host looks at it, so a malformed or hostile topic is refused here
// with a reason instead of creating a phantom edge node further in.

export const sparkplugNamespace = 'spBv1.0'

export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD'
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD'
export type SparkplugMessageType = NodeMessageType | DeviceMessageType

const nodeMessageTypes: ReadonlySet<string> = new Set<NodeMessageType>(['NBIRTH', 'NDEATH', 'NDATA', 'NCMD'])
const deviceMessageTypes: ReadonlySet<string> = new Set<DeviceMessageType>(['DBIRTH', 'DDEATH', 'DDATA', 'DCMD'])

export type SparkplugTopic =
  | { kind: 'node'; messageType: NodeMessageType; groupId: string; edgeNodeId: string }
  | { kind: 'device'; messageType: DeviceMessageType; groupId: string; edgeNodeId: string; deviceId: string }
  | { kind: 'state'; hostId: string }

export type TopicRefusalReason =
  | 'namespace'
  | 'message-type'
  | 'missing-device-id'
  | 'unexpected-device-id'
  | 'too-few-levels'
  | 'too-many-levels'
  | 'empty-id'
  | 'reserved-character'

export type TopicParseResult =
  | { ok: true; topic: SparkplugTopic }
  | { ok: false; reason: TopicRefusalReason; detail: string }

export type SparkplugIdProblem = 'empty-id' | 'reserved-character'

/**
 * Why a group, edge node, device or host id cannot stand in a Sparkplug topic, or null when it can.
 * `+` and `#` are MQTT wildcards and `/` a level separator (tck-id-topic-structure-namespace-valid-*);
 * U+0000 is forbidden in any MQTT topic name (MQTT 3.1.1 §1.5.3).
 */
export function sparkplugIdProblem(id: string): SparkplugIdProblem | null {
  if (id.length === 0) return 'empty-id'
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    // '#' 0x23, '+' 0x2B, '/' 0x2F, NUL
    if (c === 0x23 || c === 0x2b || c === 0x2f || c === 0) return 'reserved-character'
  }
  return null
}

function refuse(reason: TopicRefusalReason, detail: string): TopicParseResult {
  return { ok: false, reason, detail }
}

function idRefusal(what: string, id: string): TopicParseResult | null {
  const problem = sparkplugIdProblem(id)
  if (problem === null) return null
  return problem === 'empty-id'
    ? refuse('empty-id', `The ${what} is empty.`)
    : refuse('reserved-character', `The ${what} "${id}" contains one of + # / or NUL, which Sparkplug reserves.`)
}

export function parseSparkplugTopic(topic: string): TopicParseResult {
  const levels = topic.split('/')
  if (levels[0] !== sparkplugNamespace) {
    return refuse('namespace', `"${topic}" is not under ${sparkplugNamespace}/ (Sparkplug B 3.0).`)
  }
  if (levels[1] === 'STATE') {
    if (levels.length < 3) return refuse('too-few-levels', `"${topic}" has no host id after STATE.`)
    if (levels.length > 3) return refuse('too-many-levels', `"${topic}": a STATE topic is ${sparkplugNamespace}/STATE/<host_id>.`)
    const hostId = levels[2]!
    return idRefusal('host id', hostId) ?? { ok: true, topic: { kind: 'state', hostId } }
  }
  if (levels.length < 4) return refuse('too-few-levels', `"${topic}" needs a group id, a message type and an edge node id.`)
  if (levels.length > 5) return refuse('too-many-levels', `"${topic}" has ${levels.length} levels; Sparkplug topics have at most 5.`)
  const groupId = levels[1]!
  const messageType = levels[2]!
  const edgeNodeId = levels[3]!
  const isNode = nodeMessageTypes.has(messageType)
  if (!isNode && !deviceMessageTypes.has(messageType)) {
    return refuse('message-type', `"${messageType}" is not a Sparkplug message type.`)
  }
  const bad = idRefusal('group id', groupId) ?? idRefusal('edge node id', edgeNodeId)
  if (bad) return bad
  if (isNode) {
    // tck-id-topic-structure-namespace-device-id-non-associated-message-types
    if (levels.length === 5) return refuse('unexpected-device-id', `${messageType} is an edge node message and carries no device id.`)
    return { ok: true, topic: { kind: 'node', messageType: messageType as NodeMessageType, groupId, edgeNodeId } }
  }
  // tck-id-topic-structure-namespace-device-id-associated-message-types
  if (levels.length === 4) return refuse('missing-device-id', `${messageType} needs a device id after the edge node id.`)
  const deviceId = levels[4]!
  return (
    idRefusal('device id', deviceId) ?? {
      ok: true,
      topic: { kind: 'device', messageType: messageType as DeviceMessageType, groupId, edgeNodeId, deviceId },
    }
  )
}

/** Thrown when the console itself is about to publish on a topic it would refuse to receive. */
export class SparkplugTopicError extends Error {
  constructor(
    readonly reason: SparkplugIdProblem,
    message: string,
  ) {
    super(message)
    this.name = 'SparkplugTopicError'
  }
}

function checked(what: string, id: string): string {
  const problem = sparkplugIdProblem(id)
  if (problem !== null) {
    throw new SparkplugTopicError(problem, problem === 'empty-id' ? `The ${what} is empty.` : `The ${what} "${id}" contains one of + # / or NUL.`)
  }
  return id
}

export function formatSparkplugTopic(topic: SparkplugTopic): string {
  switch (topic.kind) {
    case 'state':
      return `${sparkplugNamespace}/STATE/${checked('host id', topic.hostId)}`
    case 'node':
      return `${sparkplugNamespace}/${checked('group id', topic.groupId)}/${topic.messageType}/${checked('edge node id', topic.edgeNodeId)}`
    case 'device':
      return `${sparkplugNamespace}/${checked('group id', topic.groupId)}/${topic.messageType}/${checked('edge node id', topic.edgeNodeId)}/${checked('device id', topic.deviceId)}`
  }
}

/** `spBv1.0/<group>/NCMD/<edge>` (tck-id-topics-ncmd-topic). */
export function nodeCommandTopic(groupId: string, edgeNodeId: string): string {
  return formatSparkplugTopic({ kind: 'node', messageType: 'NCMD', groupId, edgeNodeId })
}

/** `spBv1.0/<group>/DCMD/<edge>/<device>` (tck-id-topics-dcmd-topic). */
export function deviceCommandTopic(groupId: string, edgeNodeId: string, deviceId: string): string {
  return formatSparkplugTopic({ kind: 'device', messageType: 'DCMD', groupId, edgeNodeId, deviceId })
}

/** `spBv1.0/STATE/<host_id>` (tck-id-host-topic-phid-birth-topic, tck-id-host-topic-phid-death-topic). */
export function hostStateTopic(hostId: string): string {
  return formatSparkplugTopic({ kind: 'state', hostId })
}
