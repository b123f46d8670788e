// The Sparkplug 3.0 host application STATE message on spBv1.0/STATE/<host_id>: not protobuf but UTF-8 JSON
// with exactly two members, online and timestamp (tck-id-payloads-state-birth-payload,
// tck-id-payloads-state-will-message-payload). Edge nodes decide whether their primary host is up from it,
// so a STATE we cannot read exactly is refused, never half-read.
import { getTextEncoding } from '@bufbuild/protobuf/wire'
import { SparkplugDecodeError, SparkplugEncodeError } from './codec'

export interface HostState {
  online: boolean
  /** Milliseconds since the epoch, UTC. The birth repeats the timestamp of the Will registered at CONNECT. */
  timestamp: number
}

/** A STATE is about 45 bytes; anything much longer is not one. */
export const MAX_HOST_STATE_BYTES = 1024

/** `{"online":true,"timestamp":1700000000000}` as UTF-8, members in the order the specification shows them. */
export function encodeHostState(state: HostState): Uint8Array {
  if (typeof state.online !== 'boolean') throw new SparkplugEncodeError(`STATE online must be a boolean, not ${typeof state.online}`)
  if (!Number.isSafeInteger(state.timestamp) || state.timestamp < 0) {
    throw new SparkplugEncodeError(`STATE timestamp must be milliseconds since the epoch, not ${String(state.timestamp)}`)
  }
  return getTextEncoding().encodeUtf8(JSON.stringify({ online: state.online, timestamp: state.timestamp }))
}

/** Reads a STATE payload; anything but a JSON object of a boolean online and an integer timestamp is a SparkplugDecodeError. */
export function parseHostState(bytes: Uint8Array): HostState {
  if (!(bytes instanceof Uint8Array)) throw new SparkplugDecodeError('STATE payload is not a byte array')
  if (bytes.length > MAX_HOST_STATE_BYTES) throw new SparkplugDecodeError(`STATE payload of ${bytes.length} bytes is over the limit of ${MAX_HOST_STATE_BYTES}`)
  let text: string
  try {
    text = getTextEncoding().decodeUtf8(bytes, true)
  } catch {
    throw new SparkplugDecodeError('STATE payload is not UTF-8 text')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new SparkplugDecodeError(`STATE payload is not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SparkplugDecodeError('STATE payload is not a JSON object with online and timestamp')
  }
  const extra = Object.keys(parsed).filter((key) => key !== 'online' && key !== 'timestamp')
  if (extra.length > 0) throw new SparkplugDecodeError(`STATE payload has members other than online and timestamp: ${extra.join(', ')}`)
  const { online, timestamp } = parsed as { online?: unknown; timestamp?: unknown }
  if (typeof online !== 'boolean') throw new SparkplugDecodeError(`STATE online is ${online === undefined ? 'missing' : JSON.stringify(online)}, not true or false`)
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new SparkplugDecodeError(`STATE timestamp is ${timestamp === undefined ? 'missing' : JSON.stringify(timestamp)}, not milliseconds since the epoch`)
  }
  return { online, timestamp }
}
