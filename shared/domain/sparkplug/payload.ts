// The Sparkplug B payload as the console thinks about it: typed metric values, 64-bit quantities as
// bigint so nothing a device sends is rounded. shared/wire turns bytes into this and back; the host
// state machine, the simulator and the screens only ever see this shape.

/** Sparkplug B 3.0 data type codes (specification §6.4.16). */
export const dataTypeCodes = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const

export type DataTypeName = keyof typeof dataTypeCodes

export type NumberTypeName = 'Int8' | 'Int16' | 'Int32' | 'UInt8' | 'UInt16' | 'UInt32' | 'Float' | 'Double'
export type BigIntTypeName = 'Int64' | 'UInt64' | 'DateTime'
export type StringTypeName = 'String' | 'Text' | 'UUID'
export type NumberArrayTypeName = 'Int8Array' | 'Int16Array' | 'Int32Array' | 'UInt8Array' | 'UInt16Array' | 'UInt32Array' | 'FloatArray' | 'DoubleArray'
export type BigIntArrayTypeName = 'Int64Array' | 'UInt64Array' | 'DateTimeArray'

/** A value with its Sparkplug type. `value: null` is a metric sent with is_null. */
export type TypedValue =
  | { type: NumberTypeName; value: number | null }
  | { type: BigIntTypeName; value: bigint | null }
  | { type: 'Boolean'; value: boolean | null }
  | { type: StringTypeName; value: string | null }
  | { type: 'Bytes' | 'File'; value: Uint8Array | null }
  | { type: 'DataSet'; value: DataSet | null }
  | { type: 'Template'; value: Template | null }
  | { type: 'PropertySet'; value: PropertySet | null }
  | { type: 'PropertySetList'; value: PropertySet[] | null }
  | { type: NumberArrayTypeName; value: number[] | null }
  | { type: BigIntArrayTypeName; value: bigint[] | null }
  | { type: 'BooleanArray'; value: boolean[] | null }
  | { type: 'StringArray'; value: string[] | null }

export type ScalarValue = number | bigint | boolean | string | null

export interface DataSet {
  columns: string[]
  /** Column types by name, one per column. */
  types: DataTypeName[]
  rows: ScalarValue[][]
}

export interface Template {
  version?: string
  /** The definition this instance refers to; absent on a definition. */
  templateRef?: string
  isDefinition: boolean
  metrics: Metric[]
  parameters: TemplateParameter[]
}

export type TemplateParameter = { name: string } & TypedValue

/** Property sets keep their order so a decoded payload encodes back to the same bytes. */
export type PropertySet = Array<{ key: string } & TypedValue>

export interface MetaData {
  isMultiPart?: boolean
  contentType?: string
  size?: bigint
  seq?: bigint
  fileName?: string
  fileType?: string
  md5?: string
  description?: string
}

export type Metric = {
  name?: string
  alias?: bigint
  /** Milliseconds since the epoch. */
  timestamp?: bigint
  isHistorical?: boolean
  isTransient?: boolean
  metadata?: MetaData
  properties?: PropertySet
} & TypedValue

export interface Payload {
  /** Milliseconds since the epoch. */
  timestamp?: bigint
  metrics: Metric[]
  /** 0–255 per edge node; absent on NDEATH. */
  seq?: bigint
  uuid?: string
  body?: Uint8Array
}
