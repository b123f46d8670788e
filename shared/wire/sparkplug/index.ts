export { DEFAULT_MAX_PAYLOAD_BYTES, MAX_NESTING_DEPTH, SparkplugDecodeError, SparkplugEncodeError, decodePayload, encodePayload } from './codec'
export type { DecodeOptions } from './codec'
export { MAX_HOST_STATE_BYTES, encodeHostState, parseHostState } from './state'
export type { HostState } from './state'
// The generated protobuf schema, for tools that need raw messages the model cannot express (a simulator
// sending deliberately malformed payloads, a raw-message view): create/toBinary from @bufbuild/protobuf.
export * as sparkplugProto from './sparkplug_b_pb'
