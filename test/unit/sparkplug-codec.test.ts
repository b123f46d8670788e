// The Sparkplug B codec against two decoders nobody here wrote: Eclipse Tahu's JS codec (the `.json`
// next to each vector) and protoc (the `.protoc.txt`). Test names cite the tck-id of
// shared/fixtures/sparkplug/spec_tck_assertions.tsv that they prove.
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { create, fromBinary, isFieldSet, toBinary } from '@bufbuild/protobuf'
import type { MessageInitShape } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import type { DataSet, DataTypeName, Metric, Payload, PropertySet, ScalarValue, Template, TypedValue } from '../../shared/domain/sparkplug/payload'
import { dataTypeCodes } from '../../shared/domain/sparkplug/payload'
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_HOST_STATE_BYTES,
  SparkplugDecodeError,
  SparkplugEncodeError,
  decodePayload,
  encodeHostState,
  encodePayload,
  parseHostState,
} from '../../shared/wire/sparkplug'
import { PayloadSchema } from '../../shared/wire/sparkplug/sparkplug_b_pb'

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures/sparkplug')
const vectorNames = readdirSync(fixtures)
  .filter((file) => file.endsWith('.bin'))
  .map((file) => file.slice(0, -'.bin'.length))
  .sort()

interface Vector {
  name: string
  bin: Uint8Array
  json: { topic: string; encoder_input: TahuJson; hex: string; tahu_decoded: TahuJson & { TAHU_JS_DECODE_ERROR?: string } }
  protoc: TextMessage
}

const vectors: Vector[] = vectorNames.map((name) => ({
  name,
  bin: new Uint8Array(readFileSync(path.join(fixtures, `${name}.bin`))),
  json: JSON.parse(readFileSync(path.join(fixtures, `${name}.json`), 'utf8')),
  protoc: parseTextFormat(readFileSync(path.join(fixtures, `${name}.protoc.txt`), 'utf8')),
}))
const vector = (name: string) => vectors.find((v) => v.name === name)!

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const fromHex = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'))
type RawInit = MessageInitShape<typeof PayloadSchema>
/** Bytes from the generated schema: how the tests write payloads the model refuses to express. */
const raw = (init: RawInit) => toBinary(PayloadSchema, create(PayloadSchema, init))

function refusal(bytes: Uint8Array, options?: Parameters<typeof decodePayload>[1]): string {
  try {
    decodePayload(bytes, options)
  } catch (error) {
    expect(error).toBeInstanceOf(SparkplugDecodeError)
    return (error as SparkplugDecodeError).reason
  }
  throw new Error(`decoded without complaint: ${hex(bytes)}`)
}

/** Decoding never throws anything but SparkplugDecodeError, whatever the bytes. */
function decodesOrRefuses(bytes: Uint8Array): void {
  try {
    decodePayload(bytes)
  } catch (error) {
    if (!(error instanceof SparkplugDecodeError)) throw new Error(`${hex(bytes)} threw ${String(error)}`, { cause: error })
    expect(error.reason.length).toBeGreaterThan(10)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tahu's JSON shape (encoder_input and tahu_decoded) to the console's model

type TahuJson = Record<string, unknown>
type TahuLong = { $long: string; unsigned: boolean }
const isLong = (v: unknown): v is TahuLong => typeof v === 'object' && v !== null && '$long' in v
const toBig = (v: unknown) => BigInt(isLong(v) ? v.$long : (v as number))
const bigTypes = new Set(['Int64', 'UInt64', 'DateTime'])

function tahuValue(type: string, value: unknown): TypedValue['value'] {
  if (value === null || value === undefined) return null
  if (bigTypes.has(type)) return toBig(value)
  if (type === 'DataSet') {
    const d = value as { columns: string[]; types: DataTypeName[]; rows: unknown[][] }
    return { columns: d.columns, types: d.types, rows: d.rows.map((row) => row.map((cell, c) => tahuValue(d.types[c]!, cell) as ScalarValue)) } satisfies DataSet
  }
  if (type === 'Template') {
    const t = value as { version?: string; templateRef?: string; isDefinition: boolean; metrics?: TahuJson[]; parameters?: TahuJson[] }
    const template: Template = {
      isDefinition: t.isDefinition,
      metrics: (t.metrics ?? []).map(tahuMetric),
      parameters: (t.parameters ?? []).map((p) => ({ name: p.name as string, type: p.type, value: tahuValue(p.type as string, p.value) }) as Template['parameters'][number]),
    }
    // Tahu (protobufjs) reports an absent string as "".
    if (t.version) template.version = t.version
    if (t.templateRef) template.templateRef = t.templateRef
    return template
  }
  return value as TypedValue['value']
}

function tahuMetric(m: TahuJson): Metric {
  const metric = { type: m.type, value: m.isNull ? null : tahuValue(m.type as string, m.value) } as Metric
  if (m.name !== undefined) metric.name = m.name as string
  if (m.alias !== undefined) metric.alias = toBig(m.alias)
  if (m.timestamp !== undefined) metric.timestamp = toBig(m.timestamp)
  if (m.properties !== undefined) {
    metric.properties = Object.entries(m.properties as Record<string, { type: string; value: unknown }>).map(
      ([key, p]) => ({ key, type: p.type, value: tahuValue(p.type, p.value) }) as PropertySet[number],
    )
  }
  return metric
}

function tahuPayload(p: TahuJson): Payload {
  const payload: Payload = { metrics: ((p.metrics as TahuJson[] | undefined) ?? []).map(tahuMetric) }
  if (p.timestamp !== undefined) payload.timestamp = toBig(p.timestamp)
  if (p.seq !== undefined) payload.seq = toBig(p.seq)
  return payload
}

// ---------------------------------------------------------------------------------------------------------
// protoc's text format, and a field-by-field comparison of the model against it

type TextValue = string | { bytes: Buffer } | TextMessage
type TextMessage = Map<string, TextValue[]>

function parseTextFormat(text: string): TextMessage {
  const root: TextMessage = new Map()
  const stack = [root]
  const add = (key: string, value: TextValue) => {
    const top = stack[stack.length - 1]!
    top.set(key, [...(top.get(key) ?? []), value])
  }
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '') continue
    if (line === '}') {
      stack.pop()
      continue
    }
    const open = /^(\w+) \{$/.exec(line)
    if (open) {
      const child: TextMessage = new Map()
      add(open[1]!, child)
      stack.push(child)
      continue
    }
    const field = /^(\w+): (.*)$/.exec(line)
    if (!field) throw new Error(`unexpected protoc line: ${line}`)
    const value = field[2]!
    add(field[1]!, value.startsWith('"') ? { bytes: unescapeC(value.slice(1, -1)) } : value)
  }
  return root
}

function unescapeC(text: string): Buffer {
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      out.push(...Buffer.from(text[i]!, 'utf8'))
      continue
    }
    const c = text[++i]!
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, '"': 34, "'": 39, '\\': 92 }
    if (c in simple) out.push(simple[c]!)
    else if (c === 'x') {
      out.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      const octal = /^[0-7]{1,3}/.exec(text.slice(i))![0]
      out.push(parseInt(octal, 8))
      i += octal.length - 1
    }
  }
  return Buffer.from(out)
}

/** Removes and returns the values of one field, so that a message can be checked for fields nobody explained. */
function take(message: TextMessage, key: string): TextValue[] {
  const values = message.get(key) ?? []
  message.delete(key)
  return values
}
function takeOne(message: TextMessage, key: string): TextValue | undefined {
  const values = take(message, key)
  expect(values.length, `protoc shows ${key} ${values.length} times`).toBeLessThanOrEqual(1)
  return values[0]
}
const text = (v: TextValue | undefined) => (v === undefined ? undefined : Buffer.from((v as { bytes: Uint8Array }).bytes).toString('utf8'))
const scalar = (v: TextValue | undefined) => v as string | undefined
const bigOf = (v: TextValue | undefined) => (v === undefined ? undefined : BigInt(scalar(v)!))
const protocFloat = (v: string) => ({ nan: NaN, inf: Infinity, '-inf': -Infinity })[v] ?? Number(v)
const allExplained = (message: TextMessage, where: string) => expect([...message.keys()], `${where}: fields protoc shows and the model lacks`).toEqual([])

/** The range of each integer type, so that a raw wire value cannot pass for a decoded one (4294967229 for Int8 -67). */
const integerRanges: Record<string, [bigint, bigint]> = {
  Int8: [-(2n ** 7n), 2n ** 7n - 1n],
  Int16: [-(2n ** 15n), 2n ** 15n - 1n],
  Int32: [-(2n ** 31n), 2n ** 31n - 1n],
  Int64: [-(2n ** 63n), 2n ** 63n - 1n],
  UInt8: [0n, 2n ** 8n - 1n],
  UInt16: [0n, 2n ** 16n - 1n],
  UInt32: [0n, 2n ** 32n - 1n],
  UInt64: [0n, 2n ** 64n - 1n],
  DateTime: [0n, 2n ** 64n - 1n],
}
function expectInRange(type: string, value: unknown, where: string): void {
  const [min, max] = integerRanges[type]!
  expect(typeof value, `${where}: ${type} as a JavaScript value`).toBe(bigTypes.has(type) ? 'bigint' : 'number')
  const n = BigInt(value as number | bigint)
  expect(n >= min && n <= max, `${where}: ${type} ${n} in range`).toBe(true)
}

const valueFields = ['int_value', 'long_value', 'float_value', 'double_value', 'boolean_value', 'string_value', 'bytes_value', 'dataset_value', 'template_value', 'propertyset_value', 'propertysets_value']
const int32Carried = new Set(['Int8', 'Int16', 'Int32', 'UInt8', 'UInt16', 'UInt32'])

/** Checks a decoded value against the one oneof member protoc shows, independently of how our encoder picks it. */
function expectValueMatches(type: string, value: unknown, message: TextMessage, where: string): void {
  const present = valueFields.filter((f) => message.has(f))
  if (value === null) {
    expect(present, `${where}: a null carries no value`).toEqual([])
    return
  }
  expect(present, `${where}: exactly one value`).toHaveLength(1)
  const field = present[0]!
  const shown = takeOne(message, field)!
  switch (field) {
    case 'int_value':
      expect(int32Carried.has(type), `${where}: ${type} in int_value`).toBe(true)
      // uint32 on the wire: signed types appear as their 32-bit two's complement.
      expect(BigInt(scalar(shown)!), where).toBe(BigInt.asUintN(32, BigInt(value as number)))
      expectInRange(type, value, where)
      break
    case 'long_value':
      expect(int32Carried.has(type) || bigTypes.has(type), `${where}: ${type} in long_value`).toBe(true)
      expect(BigInt(scalar(shown)!), where).toBe(BigInt.asUintN(64, BigInt(value as number | bigint)))
      expectInRange(type, value, where)
      break
    case 'float_value':
      expect(type, where).toBe('Float')
      expect(value, where).toBe(Math.fround(protocFloat(scalar(shown)!)))
      break
    case 'double_value':
      expect(type, where).toBe('Double')
      expect(value, where).toBe(protocFloat(scalar(shown)!))
      break
    case 'boolean_value':
      expect(String(value), where).toBe(scalar(shown))
      break
    case 'string_value':
      expect(value, where).toBe(text(shown))
      break
    case 'bytes_value':
      expect(Buffer.from(value as Uint8Array).equals(Buffer.from((shown as { bytes: Uint8Array }).bytes)), where).toBe(true)
      break
    case 'dataset_value':
      expectDataSetMatches(value as DataSet, shown as TextMessage, where)
      break
    case 'template_value':
      expectTemplateMatches(value as Template, shown as TextMessage, where)
      break
    case 'propertyset_value':
      expectPropertySetMatches(value as PropertySet, shown as TextMessage, where)
      break
    default:
      throw new Error(`${where}: ${field} not checked`)
  }
}

function expectMetricMatches(m: Metric, message: TextMessage, where: string): void {
  expect(m.name, `${where} name`).toBe(text(takeOne(message, 'name')))
  expect(m.alias, `${where} alias`).toBe(bigOf(takeOne(message, 'alias')))
  expect(m.timestamp, `${where} timestamp`).toBe(bigOf(takeOne(message, 'timestamp')))
  expect(dataTypeCodes[m.type], `${where} datatype`).toBe(Number(scalar(takeOne(message, 'datatype'))))
  const flag = (key: string) => {
    const shown = scalar(takeOne(message, key))
    return shown === undefined ? undefined : shown === 'true'
  }
  expect(m.isHistorical, `${where} is_historical`).toBe(flag('is_historical'))
  expect(m.isTransient, `${where} is_transient`).toBe(flag('is_transient'))
  const metadata = takeOne(message, 'metadata') as TextMessage | undefined
  if (metadata === undefined) expect(m.metadata, `${where} metadata`).toBeUndefined()
  else {
    expect(m.metadata?.contentType, `${where} content_type`).toBe(text(takeOne(metadata, 'content_type')))
    expect(m.metadata?.size, `${where} size`).toBe(bigOf(takeOne(metadata, 'size')))
    allExplained(metadata, `${where} metadata`)
  }
  const isNull = scalar(takeOne(message, 'is_null')) === 'true'
  expect(m.value === null, `${where} is_null`).toBe(isNull)
  const properties = takeOne(message, 'properties')
  if (properties === undefined) expect(m.properties, `${where} properties`).toBeUndefined()
  else expectPropertySetMatches(m.properties!, properties as TextMessage, `${where} properties`)
  expectValueMatches(m.type, m.value, message, where)
  allExplained(message, where)
}

function expectPropertySetMatches(set: PropertySet, message: TextMessage, where: string): void {
  const keys = take(message, 'keys').map(text)
  const values = take(message, 'values') as TextMessage[]
  expect(set.map((p) => p.key), `${where} keys`).toEqual(keys)
  set.forEach((p, i) => {
    const v = values[i]!
    expect(dataTypeCodes[p.type], `${where} ${p.key} type`).toBe(Number(scalar(takeOne(v, 'type'))))
    expect(p.value === null, `${where} ${p.key} is_null`).toBe(scalar(takeOne(v, 'is_null')) === 'true')
    expectValueMatches(p.type, p.value, v, `${where} ${p.key}`)
    allExplained(v, `${where} ${p.key}`)
  })
  allExplained(message, where)
}

function expectDataSetMatches(d: DataSet, message: TextMessage, where: string): void {
  expect(BigInt(d.columns.length), `${where} num_of_columns`).toBe(bigOf(takeOne(message, 'num_of_columns')))
  expect(d.columns, `${where} columns`).toEqual(take(message, 'columns').map(text))
  expect(d.types.map((t) => dataTypeCodes[t]), `${where} types`).toEqual(take(message, 'types').map(Number))
  const rows = take(message, 'rows') as TextMessage[]
  expect(d.rows.length, `${where} rows`).toBe(rows.length)
  d.rows.forEach((row, r) => {
    const elements = take(rows[r]!, 'elements') as TextMessage[]
    expect(row.length).toBe(elements.length)
    row.forEach((cell, c) => {
      expectValueMatches(d.types[c]!, cell, elements[c]!, `${where} row ${r} column ${c}`)
      allExplained(elements[c]!, `${where} row ${r} column ${c}`)
    })
    allExplained(rows[r]!, `${where} row ${r}`)
  })
  allExplained(message, where)
}

function expectTemplateMatches(t: Template, message: TextMessage, where: string): void {
  expect(t.version, `${where} version`).toBe(text(takeOne(message, 'version')))
  expect(t.templateRef, `${where} template_ref`).toBe(text(takeOne(message, 'template_ref')))
  expect(String(t.isDefinition), `${where} is_definition`).toBe(scalar(takeOne(message, 'is_definition')))
  const members = take(message, 'metrics') as TextMessage[]
  expect(t.metrics.length, `${where} members`).toBe(members.length)
  t.metrics.forEach((m, i) => expectMetricMatches(m, members[i]!, `${where} member ${i}`))
  const parameters = take(message, 'parameters') as TextMessage[]
  expect(t.parameters.length, `${where} parameters`).toBe(parameters.length)
  t.parameters.forEach((p, i) => {
    const shown = parameters[i]!
    expect(p.name).toBe(text(takeOne(shown, 'name')))
    expect(dataTypeCodes[p.type]).toBe(Number(scalar(takeOne(shown, 'type'))))
    expectValueMatches(p.type, p.value, shown, `${where} parameter ${i}`)
    allExplained(shown, `${where} parameter ${i}`)
  })
  allExplained(message, where)
}

function expectPayloadMatchesProtoc(p: Payload, shown: TextMessage): void {
  const message: TextMessage = structuredClone(shown)
  expect(p.timestamp, 'timestamp').toBe(bigOf(takeOne(message, 'timestamp')))
  expect(p.seq, 'seq').toBe(bigOf(takeOne(message, 'seq')))
  expect(p.uuid, 'uuid').toBe(text(takeOne(message, 'uuid')))
  const body = takeOne(message, 'body') as { bytes: Uint8Array } | undefined
  expect(p.body && hex(p.body), 'body').toBe(body && hex(body.bytes))
  const metrics = take(message, 'metrics') as TextMessage[]
  expect(p.metrics.length, 'metrics').toBe(metrics.length)
  p.metrics.forEach((m, i) => expectMetricMatches(m, metrics[i]!, `metric ${i}`))
  allExplained(message, 'payload')
}

// ---------------------------------------------------------------------------------------------------------

describe('Sparkplug B reference vectors', () => {
  it('has the vectors the fixtures README lists, at the expected path', () => {
    expect(vectorNames).toEqual([
      'dataset',
      'dataset_int32_tahu_js_cannot_decode',
      'dbirth',
      'ddata_alias',
      'ddeath',
      'nbirth_basic',
      'ncmd_rebirth',
      'ndata_null',
      'ndeath',
      'template_udt',
    ])
    for (const v of vectors) expect(hex(v.bin), v.name).toBe(v.json.hex)
  })

  describe.each(vectorNames)('%s', (name) => {
    const v = vector(name)

    it('reads the same payload as protoc, field by field', () => {
      expectPayloadMatchesProtoc(decodePayload(v.bin), v.protoc)
    })

    // Tahu JS cannot read an Int32 DataSet column (see below): protoc alone is the reference there.
    if (!v.json.tahu_decoded.TAHU_JS_DECODE_ERROR) {
      it("reads the same payload as Tahu's own decoder", () => {
        expect(decodePayload(v.bin)).toEqual(tahuPayload(v.json.tahu_decoded))
      })
    }

    it('writes back the exact bytes it read', () => {
      expect(hex(encodePayload(decodePayload(v.bin)))).toBe(hex(v.bin))
    })

    it("writes Tahu's bytes from the values Tahu was given", () => {
      expect(hex(encodePayload(tahuPayload(v.json.encoder_input)))).toBe(hex(v.bin))
    })

    it('agrees with the generated schema, which also writes these bytes back unchanged', () => {
      const message = fromBinary(PayloadSchema, v.bin)
      expect(hex(toBinary(PayloadSchema, message))).toBe(hex(v.bin))
      // Absent proto2 fields read as their defaults there.
      expect(decodePayload(v.bin).metrics.map((m) => [m.name ?? '', m.alias ?? 0n, dataTypeCodes[m.type]])).toEqual(
        message.metrics.map((m) => [m.name, m.alias, m.datatype]),
      )
    })
  })

  it('confirms Tahu JS cannot read an Int32 DataSet column, which the console reads as protoc does', () => {
    const v = vector('dataset_int32_tahu_js_cannot_decode')
    expect(v.json.tahu_decoded.TAHU_JS_DECODE_ERROR).toMatch(/Invalid DataSetValue/)
    const value = decodePayload(v.bin).metrics[0]!.value as DataSet
    expect(value).toEqual({ columns: ['Id', 'Label'], types: ['Int32', 'String'], rows: [[1, 'one'], [2, 'two']] })
  })

  it('reads a negative Int8 that Tahu sign-extended into 32 bits as -67, and writes it back as 4294967229', () => {
    const rssi = decodePayload(vector('nbirth_basic').bin).metrics.find((m) => m.name === 'RSSI')!
    expect(rssi).toMatchObject({ type: 'Int8', value: -67, alias: 4n })
    const bytes = encodePayload({ metrics: [{ alias: 4n, type: 'Int8', value: -67 }] })
    expect(fromBinary(PayloadSchema, bytes).metrics[0]!.value).toEqual({ case: 'intValue', value: 4294967229 })
  })

  it('reads Int16 -32768, UInt16 65535, UInt32 4294967295 and a negative Int64 counter without loss', () => {
    const dbirth = decodePayload(vector('dbirth').bin).metrics
    expect(dbirth.find((m) => m.name === 'Inputs/B')).toMatchObject({ type: 'Int16', value: -32768 })
    expect(dbirth.find((m) => m.name === 'Outputs/C')).toMatchObject({ type: 'UInt16', value: 65535 })
    expect(dbirth.find((m) => m.name === 'Counter')).toMatchObject({ type: 'Int64', value: -9007199254740991n })
    const nbirth = decodePayload(vector('nbirth_basic').bin).metrics
    expect(nbirth.find((m) => m.name === 'Errors')).toMatchObject({ type: 'UInt32', value: 4294967295 })
    expect(nbirth.find((m) => m.name === 'LastBoot')).toMatchObject({ type: 'DateTime', value: 1699999940000n })
  })

  it("reads the NBIRTH's bdSeq and a Node Control/Rebirth of false (tck-id-payloads-nbirth-bdseq, tck-id-payloads-nbirth-rebirth-req)", () => {
    const nbirth = decodePayload(vector('nbirth_basic').bin)
    expect(nbirth.seq).toBe(0n)
    expect(nbirth.metrics.find((m) => m.name === 'bdSeq')).toMatchObject({ type: 'Int64', value: 0n })
    expect(nbirth.metrics.find((m) => m.name === 'Node Control/Rebirth')).toMatchObject({ type: 'Boolean', value: false })
  })

  it('keeps the sequence number absent from an NDEATH and an NCMD, in and out (tck-id-payloads-ndeath-seq, tck-id-payloads-ncmd-seq)', () => {
    for (const name of ['ndeath', 'ncmd_rebirth']) {
      const payload = decodePayload(vector(name).bin)
      expect(payload.seq, name).toBeUndefined()
      expect('seq' in payload, name).toBe(false)
      expect(isFieldSet(fromBinary(PayloadSchema, encodePayload(payload)), PayloadSchema.field.seq), name).toBe(false)
    }
  })

  it('reads a DDATA that names its metrics by alias only (tck-id-payloads-alias-data-cmd-requirement)', () => {
    const metrics = decodePayload(vector('ddata_alias').bin).metrics
    expect(metrics).toEqual([
      { alias: 10n, timestamp: 1700000000020n, type: 'Boolean', value: false },
      { alias: 15n, timestamp: 1700000000020n, type: 'Float', value: 22.25 },
    ])
    for (const m of metrics) expect('name' in m).toBe(false)
  })

  it("reads a metric's property set in order (engUnit, engHigh) and a null metric", () => {
    const setpoint = decodePayload(vector('dbirth').bin).metrics.find((m) => m.name === 'Setpoint')!
    expect(setpoint.properties).toEqual([
      { key: 'engUnit', type: 'String', value: 'degC' },
      { key: 'engHigh', type: 'Double', value: 100 },
    ])
    expect(decodePayload(vector('ndata_null').bin).metrics[0]).toEqual({ alias: 2n, timestamp: 1700000000040n, type: 'Float', value: null })
  })

  it('reads a template definition and its instance (tck-id-payloads-template-definition-is-definition, tck-id-payloads-template-instance-ref)', () => {
    const [, definition, instance] = decodePayload(vector('template_udt').bin).metrics
    expect(definition).toEqual({
      name: '_types_/Motor',
      type: 'Template',
      value: {
        version: 'v1.0',
        isDefinition: true,
        metrics: [
          { name: 'RPM', type: 'Int32', value: 0 },
          { name: 'Running', type: 'Boolean', value: false },
        ],
        parameters: [{ name: 'ratedKW', type: 'Float', value: 0 }],
      },
    })
    expect((definition!.value as Template).templateRef).toBeUndefined()
    expect(instance!.value).toMatchObject({ isDefinition: false, templateRef: '_types_/Motor', parameters: [{ name: 'ratedKW', type: 'Float', value: 7.5 }] })
  })
})

describe('what the encoder writes', () => {
  it('writes a null metric as is_null with no value (tck-id-operational-behavior-data-publish-nbirth-values)', () => {
    const message = fromBinary(PayloadSchema, encodePayload({ metrics: [{ name: 'Temperature', alias: 2n, type: 'Float', value: null }] }))
    expect(message.metrics[0]!.isNull).toBe(true)
    expect(message.metrics[0]!.value.case).toBeUndefined()
  })

  it('always writes is_definition, false included (tck-id-payloads-template-is-definition)', () => {
    const instance: Template = { isDefinition: false, templateRef: '_types_/Motor', metrics: [], parameters: [] }
    const message = fromBinary(PayloadSchema, encodePayload({ metrics: [{ name: 'Motor1', type: 'Template', value: instance }] }))
    const value = message.metrics[0]!.value
    expect(value.case).toBe('templateValue')
    if (value.case === 'templateValue') expect(value.value.isDefinition).toBe(false)
    expect(hex(encodePayload({ metrics: [{ name: 'M', type: 'Template', value: instance }] }))).toMatch(/2800$/)
  })

  it('writes a Quality property as an Int32 int_value (tck-id-payloads-propertyset-quality-value-type, tck-id-payloads-propertyset-quality-value-value)', () => {
    const bytes = encodePayload({ metrics: [{ alias: 1n, type: 'Double', value: 1.5, properties: [{ key: 'Quality', type: 'Int32', value: 192 }] }] })
    const properties = fromBinary(PayloadSchema, bytes).metrics[0]!.properties!
    expect(properties.keys).toEqual(['Quality'])
    expect(properties.values[0]!.type).toBe(3)
    expect(properties.values[0]!.value).toEqual({ case: 'intValue', value: 192 })
  })

  it('writes a DataSet with matching columns, types and num_of_columns (tck-id-payloads-dataset-column-size, tck-id-payloads-dataset-types-num)', () => {
    const dataSet: DataSet = { columns: ['a', 'b', 'c'], types: ['Int64', 'Boolean', 'Text'], rows: [[-1n, true, 'x'], [null, null, null]] }
    const value = fromBinary(PayloadSchema, encodePayload({ metrics: [{ name: 'T', type: 'DataSet', value: dataSet }] })).metrics[0]!.value
    if (value.case !== 'datasetValue') throw new Error(value.case)
    expect(value.value.numOfColumns).toBe(3n)
    expect(value.value.types).toEqual([4, 11, 14])
    expect(value.value.rows[0]!.elements.map((e) => e.value)).toEqual([
      { case: 'longValue', value: 18446744073709551615n },
      { case: 'booleanValue', value: true },
      { case: 'stringValue', value: 'x' },
    ])
    // A null cell has nowhere else to go: an empty DataSetValue.
    expect(value.value.rows[1]!.elements.map((e) => e.value.case)).toEqual([undefined, undefined, undefined])
  })

  it.each([
    // Sparkplug 3.0's worked examples that agree with its own rule of packed little-endian values.
    ['Int16Array', [-30000, 30000], 'd08a3075'],
    ['Int32Array', [-1, 315338746], 'fffffffffaafcb12'],
    ['UInt8Array', [23, 250], '17fa'],
    ['UInt16Array', [30, 52360], '1e0088cc'],
    ['UInt32Array', [52, 3293969225], '3400000049fb55c4'],
    ['UInt64Array', [52n, 16444743074749521625n], '3400000000000000d99e02d1b27637e4'],
    ['BooleanArray', [false, false, true, true, false, true, false, false, true, true, false, true], '0c00000034d0'],
    ['StringArray', ['ABC', 'hello'], '41424300' + '68656c6c6f00'],
    // The spec's examples for these contradict its rule (Int8 -23 is 0xe9, not 0xef; its Float and Double
    // bytes are big-endian; its DateTime example is 12 bytes for two 8-byte values). The rule wins.
    ['Int8Array', [-23, 123], 'e97b'],
    ['FloatArray', [1.23, 89.341].map(Math.fround), 'a4709d3f98aeb242'],
    ['DoubleArray', [12.354213, 1022.9123213], 'd7a205685bb52840' + '8e171c6f4cf78f40'],
    ['DateTimeArray', [1256102875335n, 1656107875000n], 'c7d0907524010000' + 'b8bab89781010000'],
    ['Int64Array', [-1n, 2n], 'ffffffffffffffff' + '0200000000000000'],
  ] as const)('packs a %s little-endian into bytes_value, as Sparkplug 3.0 says', (type, value, bytes) => {
    const metric = { alias: 1n, type, value: [...value] } as Metric
    const message = fromBinary(PayloadSchema, encodePayload({ metrics: [metric] })).metrics[0]!
    expect(message.datatype).toBe(dataTypeCodes[type])
    expect(message.value.case).toBe('bytesValue')
    expect(hex(message.value.value as Uint8Array)).toBe(bytes)
    expect(decodePayload(encodePayload({ metrics: [metric] })).metrics[0]).toEqual(metric)
  })

  it.each<[string, Metric]>([
    ['Int8 of 128', { alias: 1n, type: 'Int8', value: 128 }],
    ['UInt16 of -1', { alias: 1n, type: 'UInt16', value: -1 }],
    ['Int32 of 1.5', { alias: 1n, type: 'Int32', value: 1.5 }],
    ['UInt64 above 2^64', { alias: 1n, type: 'UInt64', value: 1n << 64n }],
    ['Int64 given as a number', { alias: 1n, type: 'Int64', value: 5 as unknown as bigint }],
    ['Float beyond float32', { alias: 1n, type: 'Float', value: 1e39 }],
    ['PropertySet as a metric', { alias: 1n, type: 'PropertySet', value: [] }],
    ['StringArray with a NUL inside', { alias: 1n, type: 'StringArray', value: ['a\0b'] }],
    ['negative alias', { alias: -1n, type: 'Boolean', value: true }],
  ])('refuses to write a %s, naming the metric', (_, metric) => {
    expect(() => encodePayload({ metrics: [{ alias: 0n, type: 'Boolean', value: true }, metric] })).toThrow(SparkplugEncodeError)
    try {
      encodePayload({ metrics: [{ alias: 0n, type: 'Boolean', value: true }, metric] })
    } catch (error) {
      expect((error as SparkplugEncodeError).reason).toMatch(/^metric 1 /)
    }
  })
})

describe('input the console refuses, always as SparkplugDecodeError with a reason', () => {
  it('reads an empty buffer as an empty payload, as protoc does, and writes an empty payload as no bytes', () => {
    expect(decodePayload(new Uint8Array(0))).toEqual({ metrics: [] })
    expect(encodePayload({ metrics: [] })).toHaveLength(0)
  })

  it('refuses a payload over the size limit, 1 MiB unless told otherwise', () => {
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(1024 * 1024)
    expect(refusal(new Uint8Array(DEFAULT_MAX_PAYLOAD_BYTES + 1))).toBe('payload of 1048577 bytes is over the limit of 1048576')
    const atTheLimit = encodePayload({ metrics: [], body: new Uint8Array(DEFAULT_MAX_PAYLOAD_BYTES - 4) })
    expect(atTheLimit).toHaveLength(DEFAULT_MAX_PAYLOAD_BYTES)
    expect(decodePayload(atTheLimit).body).toHaveLength(DEFAULT_MAX_PAYLOAD_BYTES - 4)
    expect(refusal(vector('dbirth').bin, { maxBytes: 100 })).toBe('payload of 225 bytes is over the limit of 100')
  })

  it('refuses text that is not protobuf, such as a STATE message read as a payload', () => {
    expect(refusal(new TextEncoder().encode('{"online":true,"timestamp":1700000000000}'))).toMatch(/^payload is (not a protobuf message|cut short)/)
    expect(refusal(fromHex('0f'))).toBe('payload is not a protobuf message: wire type 7 at byte 0')
    expect(refusal(fromHex('00'))).toMatch(/^payload is not a protobuf message: no valid field tag at byte 0/)
  })

  it('refuses every truncation of every vector that cuts a field, never with another error', () => {
    for (const v of vectors) {
      for (let length = 0; length < v.bin.length; length++) decodesOrRefuses(v.bin.subarray(0, length))
    }
    expect(refusal(vector('dbirth').bin.subarray(0, 40))).toMatch(/^payload is cut short: a field at byte \d+ claims more bytes than its message has/)
    expect(refusal(fromHex('0880d095'))).toMatch(/^payload is cut short/)
  })

  it('survives random bytes and bit flips in every vector without any other kind of error', () => {
    let seed = 0x5eed
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 80))
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256)
      decodesOrRefuses(bytes)
    }
    for (const v of vectors) {
      for (let i = 0; i < 300; i++) {
        const bytes = v.bin.slice()
        bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8)
        decodesOrRefuses(bytes)
      }
    }
  })

  it('refuses a metric with an unknown datatype, naming the metric (tck-id-payloads-metric-datatype-value)', () => {
    const bytes = raw({ metrics: [{ alias: 1n, datatype: 11, value: { case: 'booleanValue', value: true } }, { alias: 2n, datatype: 99, value: { case: 'intValue', value: 1 } }] })
    expect(refusal(bytes)).toBe('metric 1 has unknown datatype 99')
  })

  it('refuses a value in the wrong field for its datatype', () => {
    expect(refusal(raw({ metrics: [{ alias: 1n, datatype: 9, value: { case: 'intValue', value: 1 } }] }))).toBe('metric 0 is Float but carries int_value')
    expect(refusal(raw({ metrics: [{ alias: 1n, datatype: 4, value: { case: 'stringValue', value: '1' } }] }))).toBe('metric 0 is Int64 but carries string_value')
    expect(refusal(raw({ metrics: [{ alias: 1n, datatype: 12, value: { case: 'extensionValue', value: {} } }] }))).toBe(
      'metric 0 carries an extension_value, which this console cannot read',
    )
  })

  it('refuses an integer outside its type rather than wrapping it', () => {
    expect(refusal(raw({ metrics: [{ alias: 1n, datatype: 1, value: { case: 'intValue', value: 200 } }] }))).toBe('metric 0 is Int8 but its value 200 does not fit')
    expect(refusal(raw({ metrics: [{ alias: 1n, datatype: 6, value: { case: 'intValue', value: 70000 } }] }))).toBe('metric 0 is UInt16 but its value 70000 does not fit')
    expect(refusal(raw({ metrics: [{ alias: 1n, datatype: 7, value: { case: 'longValue', value: 1n << 32n } }] }))).toBe(
      'metric 0 is UInt32 but its value 4294967296 does not fit',
    )
  })

  it('reads the other encodings of small integers that Sparkplug encoders use', () => {
    // UInt32 in int_value, as the specification's table has it (Tahu writes long_value).
    expect(decodePayload(raw({ metrics: [{ alias: 1n, datatype: 7, value: { case: 'intValue', value: 4294967295 } }] })).metrics[0]!.value).toBe(4294967295)
    // Int8 -67 sign-extended to 64 bits, as an int32 encoder writes it: 10-byte varint in int_value.
    expect(decodePayload(fromHex('120f 1001 2001 50 bdffffffffffffffff01')).metrics[0]!.value).toBe(-67)
    // Int16 -2 in long_value as a 64-bit two's complement.
    expect(decodePayload(raw({ metrics: [{ alias: 1n, datatype: 2, value: { case: 'longValue', value: 2n ** 64n - 2n } }] })).metrics[0]!.value).toBe(-2)
  })

  it('refuses a DDATA metric without datatype unless the birth certificate supplies it (tck-id-payloads-metric-datatype-not-req)', () => {
    const bytes = raw({ seq: 3n, metrics: [{ alias: 4n, timestamp: 1n, value: { case: 'intValue', value: 4294967229 } }] })
    expect(refusal(bytes)).toBe('metric 0 (alias 4) has no datatype, and no birth certificate gave one')
    const births = new Map<bigint, DataTypeName>([[4n, 'Int8']])
    expect(decodePayload(bytes, { datatypeOf: (_, alias) => births.get(alias!) }).metrics[0]).toEqual({ alias: 4n, timestamp: 1n, type: 'Int8', value: -67 })
    expect(refusal(bytes, { datatypeOf: () => undefined })).toMatch(/alias 4/)
  })

  it('reads a property value or template member sent without a type as the type its field implies, keeping every bit', () => {
    const property = raw({ metrics: [{ alias: 1n, datatype: 11, value: { case: 'booleanValue', value: true }, properties: { keys: ['Quality'], values: [{ value: { case: 'intValue', value: 192 } }] } }] })
    expect(decodePayload(property).metrics[0]!.properties).toEqual([{ key: 'Quality', type: 'UInt32', value: 192 }])
    const member = raw({ metrics: [{ alias: 2n, datatype: 19, value: { case: 'templateValue', value: { isDefinition: false, templateRef: 'T', metrics: [{ name: 'RPM', value: { case: 'longValue', value: 2n ** 64n - 1n } }] } } }] })
    expect((decodePayload(member).metrics[0]!.value as Template).metrics).toEqual([{ name: 'RPM', type: 'UInt64', value: 2n ** 64n - 1n }])
  })

  it('refuses a property set whose keys and values differ in number (tck-id-payloads-propertyset-keys-array-size, tck-id-payloads-propertyset-values-array-size)', () => {
    const bytes = raw({ metrics: [{ alias: 1n, datatype: 11, value: { case: 'booleanValue', value: true }, properties: { keys: ['a', 'b'], values: [{ type: 12, value: { case: 'stringValue', value: 'x' } }] } }] })
    expect(refusal(bytes)).toBe('metric 0 has a property set of 2 keys and 1 values (tck-id-payloads-propertyset-keys-array-size)')
  })

  it('refuses a property value of a type properties cannot have (tck-id-payloads-metric-propertyvalue-type-value)', () => {
    const bytes = raw({ metrics: [{ alias: 1n, datatype: 11, value: { case: 'booleanValue', value: true }, properties: { keys: ['a'], values: [{ type: 19 }] } }] })
    expect(refusal(bytes)).toBe('property 0 of metric 0 has type Template, which a property value cannot have (tck-id-payloads-metric-propertyvalue-type-value)')
  })

  it('refuses a DataSet whose columns and types differ in number (tck-id-payloads-dataset-column-num-headers, tck-id-payloads-dataset-types-num)', () => {
    const bytes = raw({ metrics: [{ name: 'T', datatype: 16, value: { case: 'datasetValue', value: { numOfColumns: 2n, columns: ['a', 'b'], types: [7] } } }] })
    expect(refusal(bytes)).toBe('metric 0 has a DataSet of 2 column names and 1 column types (tck-id-payloads-dataset-column-num-headers)')
  })

  it('refuses a DataSet column that is not of a basic type (tck-id-payloads-dataset-types-value)', () => {
    const bytes = raw({ metrics: [{ name: 'T', datatype: 16, value: { case: 'datasetValue', value: { numOfColumns: 1n, columns: ['a'], types: [19] } } }] })
    expect(refusal(bytes)).toBe('metric 0 has DataSet column 0 of type Template, not a basic type (tck-id-payloads-dataset-types-value)')
  })

  it('refuses a DataSet value that is none of uint32, uint64, float, double, bool or string (tck-id-payloads-template-dataset-value)', () => {
    const bytes = raw({
      metrics: [{ name: 'T', datatype: 16, value: { case: 'datasetValue', value: { numOfColumns: 1n, columns: ['a'], types: [7], rows: [{ elements: [{ value: { case: 'extensionValue', value: {} } }] }] } } }],
    })
    expect(refusal(bytes)).toMatch(/^DataSet row 0 column 0 of metric 0 carries an extension_value.*\(tck-id-payloads-template-dataset-value\)$/)
  })

  it('refuses a DataSet row with the wrong number of values', () => {
    const bytes = raw({
      metrics: [{ name: 'T', datatype: 16, value: { case: 'datasetValue', value: { numOfColumns: 2n, columns: ['a', 'b'], types: [7, 12], rows: [{ elements: [{ value: { case: 'longValue', value: 1n } }] }] } } }],
    })
    expect(refusal(bytes)).toBe('metric 0 has DataSet row 0 with 1 values for 2 columns')
  })

  it('refuses a template parameter without a name (tck-id-payloads-template-parameter-name-required)', () => {
    const bytes = raw({ metrics: [{ name: 'M', datatype: 19, value: { case: 'templateValue', value: { isDefinition: true, parameters: [{ type: 9, value: { case: 'floatValue', value: 1 } }] } } }] })
    expect(refusal(bytes)).toBe('template parameter 0 of metric 0 has no name (tck-id-payloads-template-parameter-name-required)')
  })

  it('names the template member at fault inside a template', () => {
    const bytes = raw({ metrics: [{ name: 'M', datatype: 19, value: { case: 'templateValue', value: { isDefinition: true, metrics: [{ name: 'ok', datatype: 11 }, { name: 'bad', datatype: 42 }] } } }] })
    expect(refusal(bytes)).toBe('template member 1 of metric 0 has unknown datatype 42')
  })

  it('refuses templates nested deeper than the limit instead of exhausting the stack', () => {
    let template: RawInit['metrics'] = [{ name: 'leaf', datatype: 11, value: { case: 'booleanValue', value: true } }]
    for (let i = 0; i < 40; i++) template = [{ name: `level ${i}`, datatype: 19, value: { case: 'templateValue', value: { isDefinition: true, metrics: template } } }]
    expect(refusal(raw({ metrics: template }))).toMatch(/nests more than 32 levels deep$/)
  })

  it('refuses a metric name that is not UTF-8', () => {
    expect(refusal(fromHex('1206 0a02c328 200b'))).toBe('metric 0 has a string at byte 4 that is not valid UTF-8')
  })

  it('refuses array bytes that do not fit their type', () => {
    const arrayMetric = (datatype: number, bytes: string) => raw({ metrics: [{ alias: 1n, datatype, value: { case: 'bytesValue', value: fromHex(bytes) } }] })
    expect(refusal(arrayMetric(24, '010203'))).toBe('metric 0 is Int32Array but its 3 bytes are not a whole number of 4-byte values')
    expect(refusal(arrayMetric(32, '0c00000034'))).toBe('metric 0 is BooleanArray of 12 values but carries 1 bytes of bits, not 2')
    expect(refusal(arrayMetric(32, 'ffffff'))).toBe('metric 0 is BooleanArray but has 3 bytes, fewer than its 4-byte count')
    expect(refusal(arrayMetric(33, '41424300 6869'))).toBe('metric 0 is StringArray but its last string is not NUL-terminated')
  })

  it('refuses a known field sent with the wrong wire type instead of misreading it', () => {
    // timestamp (field 1) as a length-delimited field.
    expect(refusal(fromHex('0a0131'))).toBe('payload is not a Sparkplug B message: its field timestamp has wire type 2, the schema says 0')
  })

  it('skips fields it does not know, so later Sparkplug versions and extensions still read', () => {
    const known = raw({ seq: 1n, metrics: [{ alias: 1n, datatype: 11, value: { case: 'booleanValue', value: true } }] })
    const extended = new Uint8Array([...known, ...fromHex('f8 01 05'), ...fromHex('32 03 616263')])
    expect(decodePayload(extended)).toEqual(decodePayload(known))
  })
})

describe('round trips of the model', () => {
  let seed = 42
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
  const bigIn = (min: bigint, max: bigint) => min + (BigInt(Math.floor(random() * 2 ** 53)) * (max - min)) / 2n ** 53n
  const strings = ['', 'a', 'Temperatur °C', 'Ünïcödé ✓', '😀 emoji', 'x'.repeat(100), 'line\nbreak', 'quote"back\\slash']

  const limits: Record<string, [number, number]> = {
    Int8: [-128, 127],
    Int16: [-32768, 32767],
    Int32: [-2147483648, 2147483647],
    UInt8: [0, 255],
    UInt16: [0, 65535],
    UInt32: [0, 4294967295],
  }
  const bigLimits: Record<string, [bigint, bigint]> = {
    Int64: [-(2n ** 63n), 2n ** 63n - 1n],
    UInt64: [0n, 2n ** 64n - 1n],
    DateTime: [0n, 2n ** 64n - 1n],
  }
  const float = () => pick([NaN, Infinity, -Infinity, 0, -0, 3.4028234663852886e38, Math.fround(random() * 1000 - 500), 1.401298464324817e-45])
  const double = () => pick([NaN, Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, random() * 1e6 - 5e5])

  function basic(type: string): ScalarValue {
    if (type in limits) {
      const [min, max] = limits[type]!
      return pick([min, max, 0, int(min, max)])
    }
    if (type in bigLimits) {
      const [min, max] = bigLimits[type]!
      return pick([min, max, 0n, bigIn(min, max)])
    }
    if (type === 'Float') return float()
    if (type === 'Double') return double()
    if (type === 'Boolean') return random() < 0.5
    return pick(strings)
  }
  const basicTypes = ['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'String', 'DateTime', 'Text', 'UUID'] as const

  function propertySet(depth: number): PropertySet {
    return Array.from({ length: int(0, 3) }, (_, i) => {
      const type = depth < 2 ? pick([...basicTypes, 'PropertySet', 'PropertySetList'] as const) : pick(basicTypes)
      const value =
        random() < 0.15
          ? null
          : type === 'PropertySet'
            ? propertySet(depth + 1)
            : type === 'PropertySetList'
              ? Array.from({ length: int(0, 2) }, () => propertySet(depth + 1))
              : basic(type)
      return { key: `k${i}`, type, value } as PropertySet[number]
    })
  }

  function value(type: DataTypeName, depth: number): TypedValue['value'] {
    if (random() < 0.1) return null
    switch (type) {
      case 'Bytes':
      case 'File':
        return Uint8Array.from({ length: int(0, 20) }, () => int(0, 255))
      case 'DataSet': {
        const types = Array.from({ length: int(1, 4) }, () => pick(basicTypes))
        return { columns: types.map((_, i) => `c${i}`), types, rows: Array.from({ length: int(0, 3) }, () => types.map((t) => (random() < 0.2 ? null : basic(t)))) }
      }
      case 'Template': {
        const isDefinition = random() < 0.5
        const template: Template = {
          isDefinition,
          metrics: Array.from({ length: int(0, 3) }, (_, i) => metric(depth + 1, i)),
          parameters: Array.from({ length: int(0, 2) }, (_, i) => {
            const t = pick(basicTypes)
            return { name: `p${i}`, type: t, value: random() < 0.2 ? null : basic(t) } as Template['parameters'][number]
          }),
        }
        if (random() < 0.5) template.version = 'v1'
        if (!isDefinition) template.templateRef = '_types_/Motor'
        return template
      }
      case 'Int8Array':
      case 'Int16Array':
      case 'Int32Array':
      case 'UInt8Array':
      case 'UInt16Array':
      case 'UInt32Array':
      case 'Int64Array':
      case 'UInt64Array':
      case 'DateTimeArray': {
        const element = type.replace('Array', '')
        return Array.from({ length: int(0, 6) }, () => basic(element)) as number[] | bigint[]
      }
      case 'FloatArray':
        return Array.from({ length: int(0, 6) }, float)
      case 'DoubleArray':
        return Array.from({ length: int(0, 6) }, double)
      case 'BooleanArray':
        return Array.from({ length: int(0, 20) }, () => random() < 0.5)
      case 'StringArray':
        return Array.from({ length: int(0, 4) }, () => pick(strings))
      default:
        return basic(type)
    }
  }

  const metricTypes = (Object.keys(dataTypeCodes) as DataTypeName[]).filter((t) => t !== 'PropertySet' && t !== 'PropertySetList')

  function metric(depth: number, i: number, type: DataTypeName = depth > 1 ? pick(basicTypes) : pick(metricTypes)): Metric {
    const m = { name: `m${i}`, type, value: value(type, depth) } as Metric
    if (random() < 0.6) m.alias = bigIn(0n, 2n ** 64n - 1n)
    if (random() < 0.7) m.timestamp = 1700000000000n + BigInt(i)
    if (random() < 0.2) m.isHistorical = random() < 0.5
    if (random() < 0.2) m.isTransient = random() < 0.5
    if (random() < 0.2) m.metadata = { isMultiPart: false, contentType: 'text/plain', size: 2n ** 64n - 1n, seq: 3n, fileName: 'a.txt', fileType: 'txt', md5: 'd41d8cd9', description: '{}' }
    if (random() < 0.3) m.properties = propertySet(0)
    return m
  }

  it.each(metricTypes)('returns the same %s metric from encode then decode, edge values and null included', (type) => {
    for (let i = 0; i < 60; i++) {
      const payload: Payload = { timestamp: 1700000000000n, seq: BigInt(i % 256), metrics: [metric(0, 0, type), metric(0, 1, type)] }
      const bytes = encodePayload(payload)
      expect(decodePayload(bytes)).toEqual(payload)
      expect(hex(encodePayload(decodePayload(bytes)))).toBe(hex(bytes))
      // The generated schema reads what we write, and writes it back identically.
      expect(hex(toBinary(PayloadSchema, fromBinary(PayloadSchema, bytes)))).toBe(hex(bytes))
    }
  })

  it('keeps the extremes exactly: UInt64 max, Int64 min, Int8 -128, float NaN, -0 and is_null', () => {
    const payload: Payload = {
      timestamp: 2n ** 64n - 1n,
      seq: 255n,
      uuid: 'sparkplug-b',
      body: new Uint8Array([0, 1, 255]),
      metrics: [
        { alias: 2n ** 64n - 1n, type: 'UInt64', value: 18446744073709551615n },
        { alias: 1n, type: 'Int64', value: -9223372036854775808n },
        { alias: 2n, type: 'Int8', value: -128 },
        { alias: 3n, type: 'Float', value: NaN },
        { alias: 4n, type: 'Double', value: -0 },
        { alias: 5n, type: 'DateTime', value: null },
        { alias: 6n, type: 'Int32', value: -2147483648 },
      ],
    }
    const decoded = decodePayload(encodePayload(payload))
    expect(decoded).toEqual(payload)
    expect(Object.is((decoded.metrics[4]!.value as number), -0)).toBe(true)
  })

  it('reads many metrics of one DDATA in order', () => {
    const metrics: Metric[] = Array.from({ length: 500 }, (_, i) => ({ alias: BigInt(i), timestamp: 1700000000000n + BigInt(i), type: 'Double', value: i / 4 }))
    expect(decodePayload(encodePayload({ timestamp: 1n, seq: 7n, metrics })).metrics).toEqual(metrics)
  })
})

describe('host application STATE (Sparkplug 3.0)', () => {
  const fixture = JSON.parse(readFileSync(path.join(fixtures, 'state_online.json'), 'utf8')) as { topic: string; payload_utf8: string; retain: boolean; qos: number }

  it('writes the birth exactly as the fixture has it (tck-id-payloads-state-birth-payload)', () => {
    expect(Buffer.from(encodeHostState({ online: true, timestamp: 1700000000000 })).toString('utf8')).toBe(fixture.payload_utf8)
    expect(parseHostState(new TextEncoder().encode(fixture.payload_utf8))).toEqual({ online: true, timestamp: 1700000000000 })
  })

  it('writes and reads the death certificate with online false (tck-id-payloads-state-will-message-payload)', () => {
    const bytes = encodeHostState({ online: false, timestamp: 1700000000001 })
    expect(Buffer.from(bytes).toString('utf8')).toBe('{"online":false,"timestamp":1700000000001}')
    expect(parseHostState(bytes)).toEqual({ online: false, timestamp: 1700000000001 })
  })

  it('reads a STATE with whitespace or its members the other way round', () => {
    expect(parseHostState(new TextEncoder().encode(' { "timestamp" : 5 , "online" : false } '))).toEqual({ online: false, timestamp: 5 })
  })

  it.each([
    ['', /^STATE payload is not JSON/],
    ['online', /^STATE payload is not JSON/],
    ['[true, 1]', /^STATE payload is not a JSON object/],
    ['null', /^STATE payload is not a JSON object/],
    ['{"online":"true","timestamp":1}', /^STATE online is "true", not true or false$/],
    ['{"timestamp":1}', /^STATE online is missing/],
    ['{"online":true}', /^STATE timestamp is missing/],
    ['{"online":true,"timestamp":-1}', /^STATE timestamp is -1/],
    ['{"online":true,"timestamp":1.5}', /^STATE timestamp is 1.5/],
    ['{"online":true,"timestamp":"1700000000000"}', /^STATE timestamp is "1700000000000"/],
    ['{"online":true,"timestamp":1e300}', /^STATE timestamp is 1e\+300/],
    ['{"online":true,"timestamp":1,"host":"x"}', /^STATE payload has members other than online and timestamp: host$/],
  ])('refuses %j as a STATE', (payload, reason) => {
    expect(() => parseHostState(new TextEncoder().encode(payload))).toThrow(SparkplugDecodeError)
    try {
      parseHostState(new TextEncoder().encode(payload))
    } catch (error) {
      expect((error as SparkplugDecodeError).reason).toMatch(reason)
    }
  })

  it('refuses a STATE that is not UTF-8, is a protobuf payload, or is too long', () => {
    expect(() => parseHostState(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow('STATE payload is not UTF-8 text')
    expect(() => parseHostState(vector('ndeath').bin)).toThrow(SparkplugDecodeError)
    expect(() => parseHostState(new Uint8Array(MAX_HOST_STATE_BYTES + 1).fill(0x20))).toThrow(`STATE payload of ${MAX_HOST_STATE_BYTES + 1} bytes is over the limit of ${MAX_HOST_STATE_BYTES}`)
  })

  it('refuses to write a STATE whose timestamp is not milliseconds since the epoch', () => {
    expect(() => encodeHostState({ online: true, timestamp: 1.5 })).toThrow(SparkplugEncodeError)
    expect(() => encodeHostState({ online: true, timestamp: Number.NaN })).toThrow(SparkplugEncodeError)
  })
})
