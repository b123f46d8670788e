// Little-endian word helpers for the bootloader wire format. Every multi-byte field in a bootloader packet
// is little-endian (serial-protocol.rst, "Command Packet"), so everything here reads and writes LE.

export const maxU32 = 0xffffffff

export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= maxU32
}

export function readU16LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8)) >>> 0
}

export function readU32LE(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
}

export function writeU16LE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff
  bytes[at + 1] = (value >>> 8) & 0xff
}

export function writeU32LE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff
  bytes[at + 1] = (value >>> 8) & 0xff
  bytes[at + 2] = (value >>> 16) & 0xff
  bytes[at + 3] = (value >>> 24) & 0xff
}

/** The struct.pack('<I…') of esptool: consecutive little-endian 32-bit words. */
export function packWords(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4)
  words.forEach((word, i) => writeU32LE(out, i * 4, word))
  return out
}

export function unpackWords(bytes: Uint8Array, count: number, at = 0): number[] {
  const words: number[] = []
  for (let i = 0; i < count; i++) words.push(readU32LE(bytes, at + i * 4))
  return words
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

export { toHex } from '../firmware/checksums'

export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`
}

export function hex8(value: number): string {
  return `0x${(value & 0xff).toString(16).padStart(2, '0')}`
}
