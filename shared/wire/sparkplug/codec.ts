// Sparkplug B payloads (the protobuf of sparkplug_b.proto) to and from the console's model in
// shared/domain/sparkplug/payload.ts.
//
// Why not fromBinary/toBinary of the generated sparkplug_b_pb.ts: this runs on the ingest path (tens of
// thousands of metric updates a second on two cores). The reflection decoder builds a message object and a
// oneof wrapper per metric and then we would build the model object again; reading the wire straight into
// the model allocates only what the model keeps. Doing it by hand also lets a refusal say which metric and
// which rule ("metric 3 has unknown datatype 99"), and lets the encoder write Tahu's exact bytes. The
// generated schema stays the reference: the tests decode every vector with it too, and it is re-exported
// (index.ts) for tools that need raw messages, such as a simulator that must send malformed payloads.
//
// Regenerate sparkplug_b_pb.ts after changing sparkplug_b.proto:
//   protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es --es_out=shared/wire/sparkplug \
//     --es_opt=target=ts,import_extension=none -I shared/wire/sparkplug sparkplug_b.proto
// (scripts/generate-sparkplug.sh runs exactly this.)
//
// Wire rules that the specification leaves to implementations, settled here after Eclipse Tahu, whose
// encoder produced the reference vectors in shared/fixtures/sparkplug:
// - Int8/Int16/Int32 travel in the uint32 int_value, negative values sign-extended to 32 bits (Int8 -67 is
//   4294967229). Decoding also accepts the value sign-extended to 64 bits, or in long_value, because other
//   encoders do that; anything outside the type's range is refused rather than wrapped.
// - UInt32 is written to long_value as Tahu does (the spec's table says uint32; both are read).
// - Int64 is two's complement in the uint64 long_value. UInt64 and DateTime are unsigned, kept as bigint.
// - Arrays (Sparkplug 3.0) are packed little-endian in bytes_value; BooleanArray is a uint32 LE count then
//   the bits, first value in the high bit of the first byte; StringArray is NUL-terminated UTF-8 strings.
//   DateTimeArray elements are read unsigned, like a DateTime metric.
// - An empty DataSetValue is a null cell: the schema has no other way to say it.
//
// Decoded payloads re-encode to the same bytes when the sender wrote fields in schema order, as Tahu and
// every protobuf library do. They do not when the input had unknown fields (skipped), a repeated singular
// field or embedded message (the last one wins, where protobuf would merge messages), a value next to
// is_null (the value is dropped), a metric with neither (read as null), a DataSet without num_of_columns,
// a Template without is_definition (read as false), a packed `types` field, or a type that had to be
// inferred (below).
import { BinaryWriter, getTextEncoding } from '@bufbuild/protobuf/wire'
import type {
  DataSet,
  DataTypeName,
  MetaData,
  Metric,
  Payload,
  PropertySet,
  ScalarValue,
  Template,
  TemplateParameter,
  TypedValue,
} from '../../domain/sparkplug/payload'
import { dataTypeCodes } from '../../domain/sparkplug/payload'

/**
 * Largest payload decodePayload reads unless told otherwise: 1 MiB. An ESP32 node's birth certificate is a
 * few KiB, so this leaves room for gateways with thousands of metrics, while MQTT would carry up to 256 MB:
 * the limit keeps one faulty or hostile publisher from costing the ingest path a large allocation. Hosts
 * that accept File metrics or huge DataSets raise it per call.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024

/** Templates in templates and property sets in property sets are limited so hostile nesting cannot exhaust the stack. */
export const MAX_NESTING_DEPTH = 32

/**
 * The bytes are not a Sparkplug B payload the console can use. `reason` says why in words an operator can
 * act on, naming the part concerned ("metric 3 has unknown datatype 99"); metrics, members, rows and
 * properties are counted from 0, as in the payload's arrays.
 */
export class SparkplugDecodeError extends Error {
  override readonly name = 'SparkplugDecodeError'
  readonly reason: string
  constructor(reason: string) {
    super(reason)
    this.reason = reason
  }
}

/** The model handed to encodePayload cannot be written as Sparkplug B (a value out of its type's range, a wrong type…). */
export class SparkplugEncodeError extends Error {
  override readonly name = 'SparkplugEncodeError'
  readonly reason: string
  constructor(reason: string) {
    super(reason)
    this.reason = reason
  }
}

export interface DecodeOptions {
  /** Refuse longer payloads. Default DEFAULT_MAX_PAYLOAD_BYTES. */
  maxBytes?: number
  /**
   * The type of a metric that arrives without a datatype. Sparkplug 3.0 says NDATA, DDATA, NCMD and DCMD
   * SHOULD NOT repeat it (tck-id-payloads-metric-datatype-not-req): only the birth certificate knows it, so
   * the host passes a lookup by name or alias. Without an answer the payload is refused: guessing would
   * read Int8 -67 as UInt32 4294967229. Members of templates, template parameters and property values
   * without a type get the type their protobuf field implies (int_value → UInt32, long_value → UInt64…),
   * which keeps every bit.
   */
  datatypeOf?: (name: string | undefined, alias: bigint | undefined) => DataTypeName | undefined
}

// ---------------------------------------------------------------------------------------------------------
// Shared tables

const typeNames: (DataTypeName | undefined)[] = []
for (const [name, code] of Object.entries(dataTypeCodes)) typeNames[code] = name as DataTypeName

const T = dataTypeCodes

/** Types a DataSet column or a template parameter may have: the basic types, and UUID which is a string. */
const isBasicType = (code: number) => code >= T.Int8 && code <= T.UUID
const isMetricType = (code: number) => (code >= T.Int8 && code <= T.Template) || (code >= T.Int8Array && code <= T.DateTimeArray)
const isPropertyType = (code: number) => isBasicType(code) || code === T.PropertySet || code === T.PropertySetList

/** Which member of a value oneof was set, the same numbering in all four messages that have one. */
const enum Kind {
  None = 0,
  Int = 1,
  Long = 2,
  Float = 3,
  Double = 4,
  Bool = 5,
  String = 6,
  Bytes = 7,
  DataSet = 8,
  Template = 9,
  PropertySet = 10,
  PropertySetList = 11,
  Extension = 12,
}

const kindFieldNames = ['', 'int_value', 'long_value', 'float_value', 'double_value', 'boolean_value', 'string_value', 'bytes_value', 'dataset_value', 'template_value', 'propertyset_value', 'propertysets_value', 'extension_value']
const kindWireTypes = [0, 0, 0, 5, 1, 0, 2, 2, 2, 2, 2, 2, 2]

// field number → Kind, per message. The six scalar members are consecutive in each.
const metricKinds = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Kind.Int, Kind.Long, Kind.Float, Kind.Double, Kind.Bool, Kind.String, Kind.Bytes, Kind.DataSet, Kind.Template, Kind.Extension]
const propertyKinds = [0, 0, 0, Kind.Int, Kind.Long, Kind.Float, Kind.Double, Kind.Bool, Kind.String, Kind.PropertySet, Kind.PropertySetList, Kind.Extension]
const parameterKinds = [0, 0, 0, Kind.Int, Kind.Long, Kind.Float, Kind.Double, Kind.Bool, Kind.String, Kind.Extension]
const cellKinds = [0, Kind.Int, Kind.Long, Kind.Float, Kind.Double, Kind.Bool, Kind.String, Kind.Extension]

/** The type a value's protobuf field implies, for nested values sent without a type. Lossless, never signed. */
const impliedTypes: number[] = [0, T.UInt32, T.UInt64, T.Float, T.Double, T.Boolean, T.String, T.Bytes, T.DataSet, T.Template, T.PropertySet, T.PropertySetList, 0]

// ---------------------------------------------------------------------------------------------------------
// Refusals. Thrown inside the codec as a plain object (no stack to capture on hostile input) and given the
// path of the part concerned on the way out: "template member 1 of metric 4 has unknown datatype 99".

class Fault {
  subject = ''
  constructor(readonly detail: string) {}
}

function within(error: unknown, part: string): unknown {
  if (error instanceof Fault) error.subject = error.subject ? `${error.subject} of ${part}` : part
  return error
}

const describe = (fault: Fault, whole: string) => `${fault.subject || whole} ${fault.detail}`

// ---------------------------------------------------------------------------------------------------------
// Reading

let utf8: ((bytes: Uint8Array, strict?: boolean) => string) | undefined

class Reader {
  readonly buf: Uint8Array
  readonly view: DataView
  pos = 0
  /** End of the message being read; every read checks against it, so a field cannot run into its parent. */
  end: number
  /** The last varint, as unsigned 32-bit halves. */
  lo = 0
  hi = 0

  constructor(buf: Uint8Array) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.end = buf.length
  }

  cut(): Fault {
    return new Fault(`is cut short: a field at byte ${this.pos} runs past the end of its message at byte ${this.end}`)
  }

  varint(): void {
    const buf = this.buf
    const end = this.end
    let pos = this.pos
    let lo = 0
    let b: number
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.cut()
      b = buf[pos++]!
      lo |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        this.lo = lo >>> 0
        this.hi = 0
        return
      }
    }
    if (pos >= end) throw this.cut()
    b = buf[pos++]!
    lo |= (b & 0x0f) << 28
    let hi = (b & 0x70) >> 4
    if (b >= 0x80) {
      for (let shift = 3; ; shift += 7) {
        if (shift > 31) throw new Fault(`is not a protobuf message: a varint at byte ${this.pos} is longer than 10 bytes`)
        if (pos >= end) throw this.cut()
        b = buf[pos++]!
        hi |= (b & 0x7f) << shift
        if (b < 0x80) break
      }
    }
    this.pos = pos
    this.lo = lo >>> 0
    this.hi = hi >>> 0
  }

  /** A uint32 field: protobuf keeps the low 32 bits of a longer varint. */
  uint32(): number {
    const pos = this.pos
    if (pos < this.end) {
      const b = this.buf[pos]!
      if (b < 0x80) {
        this.pos = pos + 1
        return b
      }
    }
    this.varint()
    return this.lo
  }

  bool(): boolean {
    this.varint()
    return this.lo !== 0 || this.hi !== 0
  }

  uint64(): bigint {
    this.varint()
    return u64(this.lo, this.hi)
  }

  /** The tag of the next field, as field number << 3 | wire type. */
  tag(): number {
    const at = this.pos
    const tag = this.uint32()
    if (this.pos - at > 5 || (this.pos - at === 5 && this.buf[this.pos - 1]! > 0x0f) || tag >>> 3 === 0) {
      throw new Fault(`is not a protobuf message: no valid field tag at byte ${at}`)
    }
    if ((tag & 7) > 5) throw new Fault(`is not a protobuf message: wire type ${tag & 7} at byte ${at}`)
    return tag
  }

  /** Reads a length prefix and checks that many bytes are there. */
  length(): number {
    const at = this.pos
    this.varint()
    if (this.hi !== 0 || this.lo > this.end - this.pos) {
      this.pos = at
      throw new Fault(`is cut short: a field at byte ${at} claims more bytes than its message has (it ends at byte ${this.end})`)
    }
    return this.lo
  }

  /** Enters a length-delimited embedded message; returns the end to restore with leave(). */
  enter(): number {
    const len = this.length()
    const outer = this.end
    this.end = this.pos + len
    return outer
  }

  leave(outer: number): void {
    this.end = outer
  }

  fixed(size: number): number {
    const at = this.pos
    if (size > this.end - at) throw this.cut()
    this.pos = at + size
    return at
  }

  float(): number {
    return this.view.getFloat32(this.fixed(4), true)
  }

  double(): number {
    return this.view.getFloat64(this.fixed(8), true)
  }

  string(): string {
    const len = this.length()
    const start = this.pos
    this.pos = start + len
    return readUtf8(this.buf, start, start + len)
  }

  skip(wireType: number, field: number, depth: number): void {
    switch (wireType) {
      case 0:
        this.varint()
        return
      case 1:
        this.fixed(8)
        return
      case 2: {
        const len = this.length()
        this.pos += len
        return
      }
      case 5:
        this.fixed(4)
        return
      case 3: {
        // A proto2 group: only ever an unknown field here, skipped whole.
        if (depth >= MAX_NESTING_DEPTH) throw new Fault(`nests more than ${MAX_NESTING_DEPTH} levels deep`)
        for (;;) {
          if (this.pos >= this.end) throw this.cut()
          const tag = this.tag()
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field) break
            return
          }
          this.skip(tag & 7, tag >>> 3, depth + 1)
        }
        throw new Fault(`is not a protobuf message: a group ends with the wrong field number at byte ${this.pos}`)
      }
      default:
        throw new Fault(`is not a protobuf message: wire type ${wireType} at byte ${this.pos}`)
    }
  }

  /** Refuses a known field sent with the wrong wire type rather than misreading it. */
  expect(wireType: number, want: number, field: string): void {
    if (wireType !== want) throw new Fault(`is not a Sparkplug B message: its field ${field} has wire type ${wireType}, the schema says ${want}`)
  }
}

function readUtf8(buf: Uint8Array, start: number, stop: number): string {
  // Names and short strings are nearly always ASCII; building them directly avoids a subarray and a
  // TextDecoder call per string.
  if (stop - start <= 24) {
    let text = ''
    for (let i = start; i < stop; i++) {
      const b = buf[i]!
      if (b >= 0x80) return readUtf8Strict(buf, start, stop)
      text += String.fromCharCode(b)
    }
    return text
  }
  return readUtf8Strict(buf, start, stop)
}

function readUtf8Strict(buf: Uint8Array, start: number, stop: number): string {
  utf8 ??= getTextEncoding().decodeUtf8
  try {
    return utf8(buf.subarray(start, stop), true)
  } catch {
    // Replacing bad bytes would let two different names read the same; the spec says UTF-8.
    throw new Fault(`has a string at byte ${start} that is not valid UTF-8`)
  }
}

function u64(lo: number, hi: number): bigint {
  if (hi === 0) return BigInt(lo)
  // Timestamps (about 2^40) take this branch: one BigInt from an exact double.
  if (hi < 0x200000) return BigInt(hi * 4294967296 + lo)
  return (BigInt(hi) << 32n) | BigInt(lo)
}

function i64(lo: number, hi: number): bigint {
  if (hi < 0x80000000) return u64(lo, hi)
  if (hi >= 0xffe00000) return BigInt((hi | 0) * 4294967296 + lo)
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo))
}

/**
 * Decodes a Sparkplug B payload. Every failure is a SparkplugDecodeError with a readable reason.
 *
 * An empty buffer is a valid protobuf message with no fields, and decodes to `{ metrics: [] }`, as protoc
 * and Tahu read it. Whether a payload without timestamp or seq is acceptable depends on the message type
 * (tck-id-payloads-ndeath-seq forbids a seq where tck-id-payloads-ddata-seq demands one), which the topic
 * says and the codec does not know: the host state machine checks that.
 */
export function decodePayload(bytes: Uint8Array, options?: DecodeOptions): Payload {
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  if (!(bytes instanceof Uint8Array)) throw new SparkplugDecodeError('payload is not a byte array')
  if (bytes.length > maxBytes) throw new SparkplugDecodeError(`payload of ${bytes.length} bytes is over the limit of ${maxBytes}`)
  try {
    return readPayload(new Reader(bytes), options?.datatypeOf)
  } catch (error) {
    if (error instanceof Fault) throw new SparkplugDecodeError(describe(error, 'payload'))
    // A defect in this file must still reach the caller as a refusal of this payload, not crash ingest.
    throw new SparkplugDecodeError(`payload could not be read: ${error instanceof Error ? error.message : String(error)}`)
  }
}

type Resolver = DecodeOptions['datatypeOf']

function readPayload(r: Reader, resolve: Resolver): Payload {
  const metrics: Metric[] = []
  const payload: Payload = { metrics }
  while (r.pos < r.end) {
    const tag = r.tag()
    const wt = tag & 7
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, 0, 'timestamp')
        payload.timestamp = r.uint64()
        break
      case 2: {
        r.expect(wt, 2, 'metrics')
        const outer = r.enter()
        try {
          metrics.push(readMetric(r, resolve, 0))
        } catch (error) {
          throw within(error, `metric ${metrics.length}`)
        }
        r.leave(outer)
        break
      }
      case 3:
        r.expect(wt, 0, 'seq')
        payload.seq = r.uint64()
        break
      case 4:
        r.expect(wt, 2, 'uuid')
        payload.uuid = r.string()
        break
      case 5: {
        r.expect(wt, 2, 'body')
        const len = r.length()
        // A copy: the caller's buffer may be reused by the MQTT client once the message is handled.
        payload.body = r.buf.slice(r.pos, r.pos + len)
        r.pos += len
        break
      }
      default:
        r.skip(wt, tag >>> 3, 0)
    }
  }
  return payload
}

function readMetric(r: Reader, resolve: Resolver, depth: number): Metric {
  if (depth >= MAX_NESTING_DEPTH) throw new Fault(`nests more than ${MAX_NESTING_DEPTH} levels deep`)
  let name: string | undefined
  let alias: bigint | undefined
  let timestamp: bigint | undefined
  let datatype = -1
  let isHistorical: boolean | undefined
  let isTransient: boolean | undefined
  let isNull = false
  let metadata: MetaData | undefined
  let properties: PropertySet | undefined
  let kind = Kind.None
  let valueAt = 0
  while (r.pos < r.end) {
    const tag = r.tag()
    const field = tag >>> 3
    const wt = tag & 7
    switch (field) {
      case 1:
        r.expect(wt, 2, 'name')
        name = r.string()
        break
      case 2:
        r.expect(wt, 0, 'alias')
        alias = r.uint64()
        break
      case 3:
        r.expect(wt, 0, 'timestamp')
        timestamp = r.uint64()
        break
      case 4:
        r.expect(wt, 0, 'datatype')
        datatype = r.uint32()
        break
      case 5:
        r.expect(wt, 0, 'is_historical')
        isHistorical = r.bool()
        break
      case 6:
        r.expect(wt, 0, 'is_transient')
        isTransient = r.bool()
        break
      case 7:
        r.expect(wt, 0, 'is_null')
        isNull = r.bool()
        break
      case 8: {
        r.expect(wt, 2, 'metadata')
        const outer = r.enter()
        metadata = readMetaData(r)
        r.leave(outer)
        break
      }
      case 9: {
        r.expect(wt, 2, 'properties')
        const outer = r.enter()
        properties = readPropertySet(r, depth + 1)
        r.leave(outer)
        break
      }
      default: {
        const k = metricKinds[field]
        if (k === undefined) {
          r.skip(wt, field, depth)
          break
        }
        // The value is read once the datatype is known, which the wire does not promise to send first.
        r.expect(wt, kindWireTypes[k]!, kindFieldNames[k]!)
        kind = k
        valueAt = r.pos
        r.skip(wt, field, depth)
      }
    }
  }

  if (datatype < 0) {
    const resolved = resolve?.(name, alias)
    if (resolved !== undefined) datatype = T[resolved] ?? 0
    else if (depth > 0 && kind !== Kind.None) datatype = impliedTypes[kind]!
    else if (depth > 0) throw new Fault(`has neither a datatype nor a value`)
    else {
      const which = alias !== undefined ? `alias ${alias}` : name !== undefined ? `'${name}'` : 'no name or alias'
      throw new Fault(`(${which}) has no datatype, and no birth certificate gave one`)
    }
  }
  const type = typeNames[datatype]
  if (type === undefined) throw new Fault(`has unknown datatype ${datatype}`)
  if (!isMetricType(datatype)) throw new Fault(`has datatype ${type}, which only a property value may have`)

  let value: TypedValue['value'] = null
  if (!isNull && kind !== Kind.None) {
    const end = r.pos
    r.pos = valueAt
    value = readValue(r, kind, datatype, depth)
    r.pos = end
  }

  const metric = { type, value } as Metric
  if (name !== undefined) metric.name = name
  if (alias !== undefined) metric.alias = alias
  if (timestamp !== undefined) metric.timestamp = timestamp
  if (isHistorical !== undefined) metric.isHistorical = isHistorical
  if (isTransient !== undefined) metric.isTransient = isTransient
  if (metadata !== undefined) metric.metadata = metadata
  if (properties !== undefined) metric.properties = properties
  return metric
}

/** Reads the value whose field starts at r.pos, as the given Sparkplug type. */
function readValue(r: Reader, kind: Kind, code: number, depth: number): TypedValue['value'] {
  switch (code) {
    case T.Int8:
      return smallSigned(r, kind, code, 8)
    case T.Int16:
      return smallSigned(r, kind, code, 16)
    case T.Int32:
      return smallSigned(r, kind, code, 32)
    case T.UInt8:
      return smallUnsigned(r, kind, code, 0xff)
    case T.UInt16:
      return smallUnsigned(r, kind, code, 0xffff)
    case T.UInt32:
      return smallUnsigned(r, kind, code, 0xffffffff)
    case T.Int64:
      if (kind !== Kind.Long) break
      r.varint()
      return i64(r.lo, r.hi)
    case T.UInt64:
    case T.DateTime:
      if (kind !== Kind.Long) break
      return r.uint64()
    case T.Float:
      if (kind !== Kind.Float) break
      return r.float()
    case T.Double:
      if (kind !== Kind.Double) break
      return r.double()
    case T.Boolean:
      if (kind !== Kind.Bool) break
      return r.bool()
    case T.String:
    case T.Text:
    case T.UUID:
      if (kind !== Kind.String) break
      return r.string()
    case T.Bytes:
    case T.File: {
      if (kind !== Kind.Bytes) break
      const len = r.length()
      return r.buf.slice(r.pos, (r.pos += len))
    }
    case T.DataSet: {
      if (kind !== Kind.DataSet) break
      const outer = r.enter()
      const dataSet = readDataSet(r, depth)
      r.leave(outer)
      return dataSet
    }
    case T.Template: {
      if (kind !== Kind.Template) break
      const outer = r.enter()
      const template = readTemplate(r, depth + 1)
      r.leave(outer)
      return template
    }
    case T.PropertySet: {
      if (kind !== Kind.PropertySet) break
      const outer = r.enter()
      const set = readPropertySet(r, depth + 1)
      r.leave(outer)
      return set
    }
    case T.PropertySetList: {
      if (kind !== Kind.PropertySetList) break
      const outer = r.enter()
      const list = readPropertySetList(r, depth + 1)
      r.leave(outer)
      return list
    }
    default:
      if (code >= T.Int8Array && code <= T.DateTimeArray) {
        if (kind !== Kind.Bytes) break
        return readArray(r, code)
      }
  }
  if (kind === Kind.Extension) throw new Fault(`carries an extension_value, which this console cannot read`)
  throw new Fault(`is ${typeNames[code]} but carries ${kindFieldNames[kind]}`)
}

function smallSigned(r: Reader, kind: Kind, code: number, bits: number): number {
  if (kind !== Kind.Int && kind !== Kind.Long) throw new Fault(`is ${typeNames[code]} but carries ${kindFieldNames[kind]}`)
  r.varint()
  const value = r.lo | 0
  const min = -(2 ** (bits - 1))
  // Accepted: the value itself, or a negative one sign-extended to 32 bits (Tahu) or to 64 bits (an int32
  // encoder); int_value is a uint32, so there only the low 32 bits count, as protoc reads it.
  const fits = value >= min && value <= -min - 1
  const wide = kind === Kind.Int || r.hi === 0 || (r.hi === 0xffffffff && value < 0)
  if (fits && wide) return value
  throw new Fault(`is ${typeNames[code]} but its value ${u64(r.lo, kind === Kind.Int ? 0 : r.hi)} does not fit`)
}

function smallUnsigned(r: Reader, kind: Kind, code: number, max: number): number {
  if (kind !== Kind.Int && kind !== Kind.Long) throw new Fault(`is ${typeNames[code]} but carries ${kindFieldNames[kind]}`)
  r.varint()
  if (r.lo <= max && (kind === Kind.Int || r.hi === 0)) return r.lo
  throw new Fault(`is ${typeNames[code]} but its value ${u64(r.lo, kind === Kind.Int ? 0 : r.hi)} does not fit`)
}

const arrayWidths: Record<number, number> = {
  [T.Int8Array]: 1,
  [T.Int16Array]: 2,
  [T.Int32Array]: 4,
  [T.Int64Array]: 8,
  [T.UInt8Array]: 1,
  [T.UInt16Array]: 2,
  [T.UInt32Array]: 4,
  [T.UInt64Array]: 8,
  [T.FloatArray]: 4,
  [T.DoubleArray]: 8,
  [T.DateTimeArray]: 8,
}

function readArray(r: Reader, code: number): number[] | bigint[] | boolean[] | string[] {
  const len = r.length()
  const start = r.pos
  r.pos += len
  const view = r.view
  if (code === T.BooleanArray) {
    if (len < 4) throw new Fault(`is BooleanArray but has ${len} bytes, fewer than its 4-byte count`)
    const count = view.getUint32(start, true)
    const bytes = Math.ceil(count / 8)
    if (len - 4 !== bytes) throw new Fault(`is BooleanArray of ${count} values but carries ${len - 4} bytes of bits, not ${bytes}`)
    const out = new Array<boolean>(count)
    const buf = r.buf
    for (let i = 0; i < count; i++) out[i] = (buf[start + 4 + (i >> 3)]! & (0x80 >> (i & 7))) !== 0
    return out
  }
  if (code === T.StringArray) {
    const out: string[] = []
    const buf = r.buf
    const stop = start + len
    let from = start
    for (let i = start; i < stop; i++) {
      if (buf[i] === 0) {
        out.push(readUtf8(buf, from, i))
        from = i + 1
      }
    }
    if (from !== stop) throw new Fault(`is StringArray but its last string is not NUL-terminated`)
    return out
  }
  const width = arrayWidths[code]!
  if (len % width !== 0) throw new Fault(`is ${typeNames[code]} but its ${len} bytes are not a whole number of ${width}-byte values`)
  const count = len / width
  switch (code) {
    case T.Int64Array:
    case T.UInt64Array:
    case T.DateTimeArray: {
      const out = new Array<bigint>(count)
      const signed = code === T.Int64Array
      for (let i = 0; i < count; i++) out[i] = signed ? view.getBigInt64(start + i * 8, true) : view.getBigUint64(start + i * 8, true)
      return out
    }
    default: {
      const out = new Array<number>(count)
      for (let i = 0, at = start; i < count; i++, at += width) {
        switch (code) {
          case T.Int8Array:
            out[i] = view.getInt8(at)
            break
          case T.Int16Array:
            out[i] = view.getInt16(at, true)
            break
          case T.Int32Array:
            out[i] = view.getInt32(at, true)
            break
          case T.UInt8Array:
            out[i] = view.getUint8(at)
            break
          case T.UInt16Array:
            out[i] = view.getUint16(at, true)
            break
          case T.UInt32Array:
            out[i] = view.getUint32(at, true)
            break
          case T.FloatArray:
            out[i] = view.getFloat32(at, true)
            break
          default:
            out[i] = view.getFloat64(at, true)
        }
      }
      return out
    }
  }
}

function readMetaData(r: Reader): MetaData {
  const meta: MetaData = {}
  while (r.pos < r.end) {
    const tag = r.tag()
    const wt = tag & 7
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, 0, 'is_multi_part')
        meta.isMultiPart = r.bool()
        break
      case 2:
        r.expect(wt, 2, 'content_type')
        meta.contentType = r.string()
        break
      case 3:
        r.expect(wt, 0, 'size')
        meta.size = r.uint64()
        break
      case 4:
        r.expect(wt, 0, 'seq')
        meta.seq = r.uint64()
        break
      case 5:
        r.expect(wt, 2, 'file_name')
        meta.fileName = r.string()
        break
      case 6:
        r.expect(wt, 2, 'file_type')
        meta.fileType = r.string()
        break
      case 7:
        r.expect(wt, 2, 'md5')
        meta.md5 = r.string()
        break
      case 8:
        r.expect(wt, 2, 'description')
        meta.description = r.string()
        break
      default:
        r.skip(wt, tag >>> 3, 0)
    }
  }
  return meta
}

function readPropertySet(r: Reader, depth: number): PropertySet {
  if (depth >= MAX_NESTING_DEPTH) throw new Fault(`nests more than ${MAX_NESTING_DEPTH} levels deep`)
  const keys: string[] = []
  const set: PropertySet = []
  while (r.pos < r.end) {
    const tag = r.tag()
    const wt = tag & 7
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, 2, 'keys')
        keys.push(r.string())
        break
      case 2: {
        r.expect(wt, 2, 'values')
        const outer = r.enter()
        try {
          set.push(readPropertyValue(r, depth))
        } catch (error) {
          throw within(error, `property ${set.length}`)
        }
        r.leave(outer)
        break
      }
      default:
        r.skip(wt, tag >>> 3, depth)
    }
  }
  if (keys.length !== set.length) {
    throw new Fault(`has a property set of ${keys.length} keys and ${set.length} values (tck-id-payloads-propertyset-keys-array-size)`)
  }
  for (let i = 0; i < keys.length; i++) set[i]!.key = keys[i]!
  return set
}

function readPropertyValue(r: Reader, depth: number): PropertySet[number] {
  let datatype = -1
  let isNull = false
  let kind = Kind.None
  let valueAt = 0
  while (r.pos < r.end) {
    const tag = r.tag()
    const field = tag >>> 3
    const wt = tag & 7
    if (field === 1) {
      r.expect(wt, 0, 'type')
      datatype = r.uint32()
    } else if (field === 2) {
      r.expect(wt, 0, 'is_null')
      isNull = r.bool()
    } else {
      const k = propertyKinds[field]
      if (k !== undefined) {
        r.expect(wt, kindWireTypes[k]!, kindFieldNames[k]!)
        kind = k
        valueAt = r.pos
      }
      r.skip(wt, field, depth)
    }
  }
  if (datatype < 0) {
    if (kind === Kind.None) throw new Fault(`has neither a type nor a value`)
    datatype = impliedTypes[kind]!
  }
  const type = typeNames[datatype]
  if (type === undefined) throw new Fault(`has unknown type ${datatype}`)
  if (!isPropertyType(datatype)) throw new Fault(`has type ${type}, which a property value cannot have (tck-id-payloads-metric-propertyvalue-type-value)`)
  let value: TypedValue['value'] = null
  if (!isNull && kind !== Kind.None) {
    const end = r.pos
    r.pos = valueAt
    value = readValue(r, kind, datatype, depth)
    r.pos = end
  }
  return { key: '', type, value } as PropertySet[number]
}

function readPropertySetList(r: Reader, depth: number): PropertySet[] {
  const list: PropertySet[] = []
  while (r.pos < r.end) {
    const tag = r.tag()
    const wt = tag & 7
    if (tag >>> 3 === 1) {
      r.expect(wt, 2, 'propertyset')
      const outer = r.enter()
      try {
        list.push(readPropertySet(r, depth + 1))
      } catch (error) {
        throw within(error, `property set ${list.length}`)
      }
      r.leave(outer)
    } else r.skip(wt, tag >>> 3, depth)
  }
  return list
}

function readTemplate(r: Reader, depth: number): Template {
  const metrics: Metric[] = []
  const parameters: TemplateParameter[] = []
  const template: Template = { isDefinition: false, metrics, parameters }
  while (r.pos < r.end) {
    const tag = r.tag()
    const wt = tag & 7
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, 2, 'version')
        template.version = r.string()
        break
      case 2: {
        r.expect(wt, 2, 'metrics')
        const outer = r.enter()
        try {
          metrics.push(readMetric(r, undefined, depth))
        } catch (error) {
          throw within(error, `template member ${metrics.length}`)
        }
        r.leave(outer)
        break
      }
      case 3: {
        r.expect(wt, 2, 'parameters')
        const outer = r.enter()
        try {
          parameters.push(readParameter(r, depth))
        } catch (error) {
          throw within(error, `template parameter ${parameters.length}`)
        }
        r.leave(outer)
        break
      }
      case 4:
        r.expect(wt, 2, 'template_ref')
        template.templateRef = r.string()
        break
      case 5:
        r.expect(wt, 0, 'is_definition')
        template.isDefinition = r.bool()
        break
      default:
        r.skip(wt, tag >>> 3, depth)
    }
  }
  return template
}

function readParameter(r: Reader, depth: number): TemplateParameter {
  let name: string | undefined
  let datatype = -1
  let kind = Kind.None
  let valueAt = 0
  while (r.pos < r.end) {
    const tag = r.tag()
    const field = tag >>> 3
    const wt = tag & 7
    if (field === 1) {
      r.expect(wt, 2, 'name')
      name = r.string()
    } else if (field === 2) {
      r.expect(wt, 0, 'type')
      datatype = r.uint32()
    } else {
      const k = parameterKinds[field]
      if (k !== undefined) {
        r.expect(wt, kindWireTypes[k]!, kindFieldNames[k]!)
        kind = k
        valueAt = r.pos
      }
      r.skip(wt, field, depth)
    }
  }
  if (name === undefined) throw new Fault(`has no name (tck-id-payloads-template-parameter-name-required)`)
  if (datatype < 0) {
    if (kind === Kind.None) throw new Fault(`has neither a type nor a value`)
    datatype = impliedTypes[kind]!
  }
  const type = typeNames[datatype]
  if (type === undefined) throw new Fault(`has unknown type ${datatype}`)
  if (!isBasicType(datatype)) throw new Fault(`has type ${type}, which a template parameter cannot have (tck-id-payloads-template-parameter-type-value)`)
  let value: TypedValue['value'] = null
  if (kind !== Kind.None) {
    const end = r.pos
    r.pos = valueAt
    value = readValue(r, kind, datatype, depth)
    r.pos = end
  }
  return { name, type, value } as TemplateParameter
}

function readDataSet(r: Reader, depth: number): DataSet {
  // Two passes: rows can only be read once the column types are known, and the wire does not promise
  // that `types` comes before `rows`.
  const start = r.pos
  let numOfColumns: bigint | undefined
  const columns: string[] = []
  const codes: number[] = []
  while (r.pos < r.end) {
    const tag = r.tag()
    const wt = tag & 7
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, 0, 'num_of_columns')
        numOfColumns = r.uint64()
        break
      case 2:
        r.expect(wt, 2, 'columns')
        columns.push(r.string())
        break
      case 3:
        if (wt === 2) {
          // A packed repeated uint32, which protobuf parsers must accept even in proto2.
          const outer = r.enter()
          while (r.pos < r.end) codes.push(r.uint32())
          r.leave(outer)
        } else {
          r.expect(wt, 0, 'types')
          codes.push(r.uint32())
        }
        break
      default:
        r.skip(wt, tag >>> 3, depth)
    }
  }
  if (columns.length !== codes.length) {
    throw new Fault(`has a DataSet of ${columns.length} column names and ${codes.length} column types (tck-id-payloads-dataset-column-num-headers)`)
  }
  if (numOfColumns !== undefined && numOfColumns !== BigInt(columns.length)) {
    throw new Fault(`has a DataSet whose num_of_columns ${numOfColumns} is not its ${columns.length} columns (tck-id-payloads-dataset-column-size)`)
  }
  const types: DataTypeName[] = []
  for (let c = 0; c < codes.length; c++) {
    const code = codes[c]!
    const name = typeNames[code]
    if (name === undefined || !isBasicType(code)) {
      throw new Fault(`has DataSet column ${c} of ${name ? `type ${name}` : `unknown type ${code}`}, not a basic type (tck-id-payloads-dataset-types-value)`)
    }
    types.push(name)
  }

  const rows: ScalarValue[][] = []
  const end = r.pos
  r.pos = start
  while (r.pos < end) {
    const tag = r.tag()
    const wt = tag & 7
    if (tag >>> 3 !== 4) {
      r.skip(wt, tag >>> 3, depth)
      continue
    }
    r.expect(wt, 2, 'rows')
    const outer = r.enter()
    const row: ScalarValue[] = []
    while (r.pos < r.end) {
      const rowTag = r.tag()
      const rowWt = rowTag & 7
      if (rowTag >>> 3 !== 1) {
        r.skip(rowWt, rowTag >>> 3, depth)
        continue
      }
      r.expect(rowWt, 2, 'elements')
      const column = row.length
      if (column >= codes.length) throw new Fault(`has DataSet row ${rows.length} with more than its ${codes.length} columns`)
      const cellOuter = r.enter()
      try {
        row.push(readCell(r, codes[column]!, depth))
      } catch (error) {
        throw within(error, `DataSet row ${rows.length} column ${column}`)
      }
      r.leave(cellOuter)
    }
    if (row.length !== codes.length) throw new Fault(`has DataSet row ${rows.length} with ${row.length} values for ${codes.length} columns`)
    rows.push(row)
    r.leave(outer)
  }
  return { columns, types, rows }
}

function readCell(r: Reader, code: number, depth: number): ScalarValue {
  let kind = Kind.None
  let valueAt = 0
  while (r.pos < r.end) {
    const tag = r.tag()
    const field = tag >>> 3
    const wt = tag & 7
    const k = cellKinds[field]
    if (k !== undefined && k !== Kind.None) {
      r.expect(wt, kindWireTypes[k]!, kindFieldNames[k]!)
      kind = k
      valueAt = r.pos
    }
    r.skip(wt, field, depth)
  }
  if (kind === Kind.None) return null
  if (kind === Kind.Extension) throw new Fault(`carries an extension_value, not one of uint32, uint64, float, double, bool or string (tck-id-payloads-template-dataset-value)`)
  const end = r.pos
  r.pos = valueAt
  const value = readValue(r, kind, code, depth) as ScalarValue
  r.pos = end
  return value
}

// ---------------------------------------------------------------------------------------------------------
// Writing. Field order is the schema's, which is also Tahu's, so the reference vectors come out byte for byte.

let utf8Encode: ((text: string) => Uint8Array) | undefined

/**
 * Encodes a payload. Throws SparkplugEncodeError when a value cannot be written as its declared type
 * (out of range, wrong JavaScript type, a type the place does not allow).
 *
 * A null value is written as is_null with no value, as tck-id-operational-behavior-data-publish-nbirth-values
 * demands. Every metric carries its datatype, as Tahu writes it, although Sparkplug 3.0 lets DATA messages
 * leave it out.
 */
export function encodePayload(payload: Payload): Uint8Array {
  const w = new BinaryWriter()
  try {
    if (payload.timestamp !== undefined) u64Field(w, 8, payload.timestamp, 'timestamp')
    payload.metrics.forEach((metric, i) => {
      try {
        w.uint32(18).fork()
        writeMetric(w, metric, 0)
        w.join()
      } catch (error) {
        throw within(error, `metric ${i}`)
      }
    })
    if (payload.seq !== undefined) u64Field(w, 24, payload.seq, 'seq')
    if (payload.uuid !== undefined) w.uint32(34).string(payload.uuid)
    if (payload.body !== undefined) w.uint32(42).bytes(payload.body)
  } catch (error) {
    if (error instanceof Fault) throw new SparkplugEncodeError(describe(error, 'payload'))
    throw error
  }
  return w.finish()
}

const U64_MAX = (1n << 64n) - 1n
const I64_MIN = -(1n << 63n)
const I64_MAX = (1n << 63n) - 1n

function u64Field(w: BinaryWriter, tag: number, value: bigint, what: string): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) throw new Fault(`has ${what} ${String(value)}, not a uint64 bigint`)
  w.uint32(tag).uint64(value)
}

function typeCode(type: string, allowed: (code: number) => boolean, place: string): number {
  const code = (dataTypeCodes as Record<string, number>)[type]
  if (code === undefined) throw new Fault(`has unknown type ${String(type)}`)
  if (!allowed(code)) throw new Fault(`has type ${type}, which ${place} cannot have`)
  return code
}

function writeMetric(w: BinaryWriter, m: Metric, depth: number): void {
  if (depth >= MAX_NESTING_DEPTH) throw new Fault(`nests more than ${MAX_NESTING_DEPTH} levels deep`)
  if (m.name !== undefined) w.uint32(10).string(m.name)
  if (m.alias !== undefined) u64Field(w, 16, m.alias, 'alias')
  if (m.timestamp !== undefined) u64Field(w, 24, m.timestamp, 'timestamp')
  const code = typeCode(m.type, isMetricType, 'a metric')
  w.uint32(32).uint32(code)
  if (m.isHistorical !== undefined) w.uint32(40).bool(m.isHistorical)
  if (m.isTransient !== undefined) w.uint32(48).bool(m.isTransient)
  if (m.value === undefined) throw new Fault(`has no value (null is how a metric says is_null)`)
  if (m.value === null) w.uint32(56).bool(true)
  if (m.metadata !== undefined) {
    w.uint32(66).fork()
    writeMetaData(w, m.metadata)
    w.join()
  }
  if (m.properties !== undefined) {
    w.uint32(74).fork()
    writePropertySet(w, m.properties, depth + 1)
    w.join()
  }
  if (m.value === null) return
  const value = m.value
  switch (code) {
    case T.Bytes:
    case T.File:
      if (!(value instanceof Uint8Array)) throw new Fault(`is ${m.type} but its value is not a Uint8Array`)
      w.uint32(130).bytes(value)
      return
    case T.DataSet:
      w.uint32(138).fork()
      writeDataSet(w, value as DataSet)
      w.join()
      return
    case T.Template:
      w.uint32(146).fork()
      writeTemplate(w, value as Template, depth + 1)
      w.join()
      return
    default:
      if (code >= T.Int8Array) {
        w.uint32(130).bytes(packArray(code, value))
        return
      }
      writeScalar(w, 9, code, value)
  }
}

/**
 * Writes a basic-type value. `base` is the field number before int_value in the message at hand (the six
 * scalar members are consecutive in Metric, PropertyValue, Parameter and DataSetValue).
 */
function writeScalar(w: BinaryWriter, base: number, code: number, value: unknown): void {
  const intTag = (base + 1) << 3
  const longTag = (base + 2) << 3
  switch (code) {
    case T.Int8:
      w.uint32(intTag).uint32(integer(value, code, -0x80, 0x7f) >>> 0)
      return
    case T.Int16:
      w.uint32(intTag).uint32(integer(value, code, -0x8000, 0x7fff) >>> 0)
      return
    case T.Int32:
      w.uint32(intTag).uint32(integer(value, code, -0x80000000, 0x7fffffff) >>> 0)
      return
    case T.UInt8:
      w.uint32(intTag).uint32(integer(value, code, 0, 0xff))
      return
    case T.UInt16:
      w.uint32(intTag).uint32(integer(value, code, 0, 0xffff))
      return
    case T.UInt32:
      // long_value, as Tahu writes it; the varint bytes are the same as a uint32's.
      w.uint32(longTag).uint32(integer(value, code, 0, 0xffffffff))
      return
    case T.Int64:
      w.uint32(longTag).int64(big(value, code, I64_MIN, I64_MAX))
      return
    case T.UInt64:
    case T.DateTime:
      w.uint32(longTag).uint64(big(value, code, 0n, U64_MAX))
      return
    case T.Float:
      w.uint32(((base + 3) << 3) | 5).float(float32(value))
      return
    case T.Double:
      w.uint32(((base + 4) << 3) | 1).double(number(value, code))
      return
    case T.Boolean:
      if (typeof value !== 'boolean') throw new Fault(`is Boolean but its value is ${typeof value}`)
      w.uint32((base + 5) << 3).bool(value)
      return
    case T.String:
    case T.Text:
    case T.UUID:
      if (typeof value !== 'string') throw new Fault(`is ${typeNames[code]} but its value is ${typeof value}`)
      w.uint32(((base + 6) << 3) | 2).string(value)
      return
    default:
      throw new Fault(`has type ${typeNames[code]}, which has no place here`)
  }
}

function number(value: unknown, code: number): number {
  if (typeof value !== 'number') throw new Fault(`is ${typeNames[code]} but its value is ${typeof value}`)
  return value
}

function integer(value: unknown, code: number, min: number, max: number): number {
  const n = number(value, code)
  if (!Number.isInteger(n) || n < min || n > max) throw new Fault(`is ${typeNames[code]} but its value ${n} does not fit`)
  return n
}

function float32(value: unknown): number {
  const n = number(value, T.Float)
  // A finite double beyond float32's range would become Infinity without anyone noticing.
  if (Number.isFinite(n) && !Number.isFinite(Math.fround(n))) throw new Fault(`is Float but its value ${n} does not fit`)
  return n
}

function big(value: unknown, code: number, min: bigint, max: bigint): bigint {
  if (typeof value !== 'bigint') throw new Fault(`is ${typeNames[code]} but its value is ${typeof value}, not bigint`)
  if (value < min || value > max) throw new Fault(`is ${typeNames[code]} but its value ${value} does not fit`)
  return value
}

function packArray(code: number, value: unknown): Uint8Array {
  const type = typeNames[code]!
  if (!Array.isArray(value)) throw new Fault(`is ${type} but its value is not an array`)
  if (code === T.BooleanArray) {
    const out = new Uint8Array(4 + Math.ceil(value.length / 8))
    new DataView(out.buffer).setUint32(0, value.length, true)
    value.forEach((bit, i) => {
      if (typeof bit !== 'boolean') throw new Fault(`is BooleanArray but element ${i} is ${typeof bit}`)
      if (bit) out[4 + (i >> 3)]! |= 0x80 >> (i & 7)
    })
    return out
  }
  if (code === T.StringArray) {
    utf8Encode ??= getTextEncoding().encodeUtf8
    const parts = value.map((text, i) => {
      if (typeof text !== 'string') throw new Fault(`is StringArray but element ${i} is ${typeof text}`)
      if (text.includes('\0')) throw new Fault(`is StringArray but element ${i} contains NUL, which ends a string on the wire`)
      return utf8Encode!(text)
    })
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length + 1, 0))
    let at = 0
    for (const part of parts) {
      out.set(part, at)
      at += part.length + 1
    }
    return out
  }
  const width = arrayWidths[code]!
  const out = new Uint8Array(value.length * width)
  const view = new DataView(out.buffer)
  value.forEach((element: unknown, i) => {
    const at = i * width
    try {
      switch (code) {
        case T.Int8Array:
          view.setInt8(at, integer(element, T.Int8, -0x80, 0x7f))
          break
        case T.Int16Array:
          view.setInt16(at, integer(element, T.Int16, -0x8000, 0x7fff), true)
          break
        case T.Int32Array:
          view.setInt32(at, integer(element, T.Int32, -0x80000000, 0x7fffffff), true)
          break
        case T.UInt8Array:
          view.setUint8(at, integer(element, T.UInt8, 0, 0xff))
          break
        case T.UInt16Array:
          view.setUint16(at, integer(element, T.UInt16, 0, 0xffff), true)
          break
        case T.UInt32Array:
          view.setUint32(at, integer(element, T.UInt32, 0, 0xffffffff), true)
          break
        case T.Int64Array:
          view.setBigInt64(at, big(element, T.Int64, I64_MIN, I64_MAX), true)
          break
        case T.UInt64Array:
          view.setBigUint64(at, big(element, T.UInt64, 0n, U64_MAX), true)
          break
        case T.DateTimeArray:
          view.setBigUint64(at, big(element, T.DateTime, 0n, U64_MAX), true)
          break
        case T.FloatArray:
          view.setFloat32(at, float32(element), true)
          break
        default:
          view.setFloat64(at, number(element, T.Double), true)
      }
    } catch (error) {
      throw within(error, `element ${i}`)
    }
  })
  return out
}

function writeMetaData(w: BinaryWriter, meta: MetaData): void {
  if (meta.isMultiPart !== undefined) w.uint32(8).bool(meta.isMultiPart)
  if (meta.contentType !== undefined) w.uint32(18).string(meta.contentType)
  if (meta.size !== undefined) u64Field(w, 24, meta.size, 'metadata size')
  if (meta.seq !== undefined) u64Field(w, 32, meta.seq, 'metadata seq')
  if (meta.fileName !== undefined) w.uint32(42).string(meta.fileName)
  if (meta.fileType !== undefined) w.uint32(50).string(meta.fileType)
  if (meta.md5 !== undefined) w.uint32(58).string(meta.md5)
  if (meta.description !== undefined) w.uint32(66).string(meta.description)
}

function writePropertySet(w: BinaryWriter, set: PropertySet, depth: number): void {
  if (depth >= MAX_NESTING_DEPTH) throw new Fault(`nests more than ${MAX_NESTING_DEPTH} levels deep`)
  for (const property of set) w.uint32(10).string(property.key)
  set.forEach((property, i) => {
    try {
      w.uint32(18).fork()
      const code = typeCode(property.type, isPropertyType, 'a property value')
      w.uint32(8).uint32(code)
      if (property.value === null) w.uint32(16).bool(true)
      else if (code === T.PropertySet) {
        w.uint32(74).fork()
        writePropertySet(w, property.value as PropertySet, depth + 1)
        w.join()
      } else if (code === T.PropertySetList) {
        w.uint32(82).fork()
        for (const inner of property.value as PropertySet[]) {
          w.uint32(10).fork()
          writePropertySet(w, inner, depth + 1)
          w.join()
        }
        w.join()
      } else writeScalar(w, 2, code, property.value)
      w.join()
    } catch (error) {
      throw within(error, `property ${i} ('${property.key}')`)
    }
  })
}

function writeTemplate(w: BinaryWriter, template: Template, depth: number): void {
  if (template.version !== undefined) w.uint32(10).string(template.version)
  template.metrics.forEach((metric, i) => {
    try {
      w.uint32(18).fork()
      writeMetric(w, metric, depth)
      w.join()
    } catch (error) {
      throw within(error, `template member ${i}`)
    }
  })
  template.parameters.forEach((parameter, i) => {
    try {
      w.uint32(26).fork()
      const code = typeCode(parameter.type, isBasicType, 'a template parameter')
      w.uint32(10).string(parameter.name)
      w.uint32(16).uint32(code)
      if (parameter.value !== null) writeScalar(w, 2, code, parameter.value)
      w.join()
    } catch (error) {
      throw within(error, `template parameter ${i}`)
    }
  })
  if (template.templateRef !== undefined) w.uint32(34).string(template.templateRef)
  // Always written, false included: tck-id-payloads-template-is-definition.
  w.uint32(40).bool(template.isDefinition)
}

function writeDataSet(w: BinaryWriter, dataSet: DataSet): void {
  const { columns, types, rows } = dataSet
  if (columns.length !== types.length) {
    throw new Fault(`has a DataSet of ${columns.length} column names and ${types.length} column types (tck-id-payloads-dataset-column-num-headers)`)
  }
  const codes = types.map((type, c) => {
    try {
      return typeCode(type, isBasicType, 'a DataSet column')
    } catch (error) {
      throw within(error, `DataSet column ${c}`)
    }
  })
  w.uint32(8).uint32(columns.length)
  for (const column of columns) w.uint32(18).string(column)
  for (const code of codes) w.uint32(24).uint32(code)
  rows.forEach((row, r) => {
    if (row.length !== codes.length) throw new Fault(`has DataSet row ${r} with ${row.length} values for ${codes.length} columns`)
    w.uint32(34).fork()
    row.forEach((cell, c) => {
      try {
        w.uint32(10).fork()
        if (cell !== null) writeScalar(w, 0, codes[c]!, cell)
        w.join()
      } catch (error) {
        throw within(error, `DataSet row ${r} column ${c}`)
      }
    })
    w.join()
  })
}
