export * from './stream-diff'
export * from './sparkplug/topic'
export * from './sparkplug/host-state'
// The mutable EdgeNode/Device records stay inside the host; callers read them through the views.
export {
  MetricState,
  RecentList,
  deviceRef,
  nodeRef,
  valueKindOf,
  type DeviceView,
  type EdgeNodeView,
  type MetricQuality,
  type MetricValue,
  type ProtocolError,
  type ProtocolErrorReason,
  type RebirthReason,
  type SessionStatus,
  type SparkplugRef,
  type ValueKind,
} from './sparkplug/edge-node'
export * from './sparkplug/rebirth-throttle'
export * from './sparkplug/host-application'
