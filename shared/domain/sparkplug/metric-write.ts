import type { DataTypeName, TypedValue } from './payload'

/** Integer ranges of the Sparkplug integer types that fit a JS number exactly. */
const integerRanges: Partial<Record<DataTypeName, [number, number]>> = {
  Int8: [-128, 127],
  Int16: [-32_768, 32_767],
  Int32: [-2_147_483_648, 2_147_483_647],
  UInt8: [0, 255],
  UInt16: [0, 65_535],
  UInt32: [0, 4_294_967_295],
}

const bigRanges: Partial<Record<DataTypeName, [bigint, bigint]>> = {
  Int64: [-(2n ** 63n), 2n ** 63n - 1n],
  UInt64: [0n, 2n ** 64n - 1n],
  DateTime: [0n, 2n ** 64n - 1n],
}

export type WriteCheck = { ok: true; value: TypedValue } | { ok: false; reason: string }

/**
 * Turns what an operator typed into the value a device declared in its birth, or says why not.
 * A write is sent to a machine: nothing is rounded, clamped or guessed.
 */
export function typedWrite(metric: string, type: DataTypeName, input: number | boolean | string): WriteCheck {
  const refuse = (expected: string): WriteCheck => ({ ok: false, reason: `${metric} is ${type}: ${expected}, not ${JSON.stringify(input)}.` })
  if (type === 'Boolean') {
    if (typeof input === 'boolean') return { ok: true, value: { type, value: input } }
    if (input === 'true' || input === 'false') return { ok: true, value: { type, value: input === 'true' } }
    return refuse('send true or false')
  }
  if (type === 'String' || type === 'Text' || type === 'UUID') {
    return typeof input === 'string' ? { ok: true, value: { type, value: input } } : refuse('send text')
  }
  if (type === 'Float' || type === 'Double') {
    const number = typeof input === 'number' ? input : typeof input === 'string' && input.trim() !== '' ? Number(input) : Number.NaN
    if (!Number.isFinite(number)) return refuse('send a number')
    return { ok: true, value: { type, value: number } }
  }
  const range = integerRanges[type]
  if (range) {
    const number = typeof input === 'number' ? input : typeof input === 'string' && /^-?\d+$/.test(input.trim()) ? Number(input) : Number.NaN
    if (!Number.isInteger(number)) return refuse('send a whole number')
    if (number < range[0] || number > range[1]) return refuse(`send a whole number from ${range[0]} to ${range[1]}`)
    return { ok: true, value: { type: type as 'Int8', value: number } }
  }
  const bigRange = bigRanges[type]
  if (bigRange) {
    const text = typeof input === 'number' && Number.isSafeInteger(input) ? String(input) : typeof input === 'string' ? input.trim() : ''
    if (!/^-?\d+$/.test(text)) return refuse('send a whole number (as text when it is larger than 2^53)')
    const big = BigInt(text)
    if (big < bigRange[0] || big > bigRange[1]) return refuse(`send a whole number from ${bigRange[0]} to ${bigRange[1]}`)
    return { ok: true, value: { type: type as 'Int64', value: big } }
  }
  return { ok: false, reason: `${metric} is ${type}: the console does not write ${type} values.` }
}
