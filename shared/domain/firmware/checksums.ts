// The two checksums the ESP-IDF flash layout relies on, in plain TypeScript because shared/domain may not
// reach node:crypto or zlib: MD5 guards the partition table (its 0xEBEB row) and esptool's flash
// verification; CRC-32 guards each otadata entry. Both are checked in the unit tests against Node's own.

/** Per-round left-rotation amounts of RFC 1321, four per round. */
const md5Shifts = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21] as const

/** RFC 1321's table T[i] = floor(|sin(i + 1)| · 2^32), written out so no floating point is involved. */
const md5Constants = new Uint32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
])

/**
 * Incremental MD5, so a flasher can hash a multi-megabyte image as it streams it without holding a second
 * copy. Like Python's hashlib, `digest()` does not end the hash: more data may follow, which is how
 * gen_esp32part checks an MD5 row in the middle of the rows it is still reading.
 */
export class Md5 {
  private readonly state = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476])
  private readonly block = new Uint8Array(64)
  private readonly words = new Uint32Array(16)
  private blockLength = 0
  private totalLength = 0

  update(data: Uint8Array): this {
    let offset = 0
    this.totalLength += data.length
    if (this.blockLength > 0) {
      const take = Math.min(64 - this.blockLength, data.length)
      this.block.set(data.subarray(0, take), this.blockLength)
      this.blockLength += take
      offset = take
      if (this.blockLength < 64) return this
      this.compress(this.block, 0)
      this.blockLength = 0
    }
    for (; offset + 64 <= data.length; offset += 64) this.compress(data, offset)
    if (offset < data.length) {
      this.block.set(data.subarray(offset), 0)
      this.blockLength = data.length - offset
    }
    return this
  }

  /** The MD5 of everything so far, as 16 bytes. */
  digest(): Uint8Array {
    const final = new Md5()
    final.state.set(this.state)
    final.block.set(this.block)
    final.blockLength = this.blockLength
    final.totalLength = this.totalLength
    // Padding: one 0x80 byte, zeros up to 56 mod 64, then the message length in bits as 64-bit little endian.
    const padLength = this.blockLength < 56 ? 56 - this.blockLength : 120 - this.blockLength
    const tail = new Uint8Array(padLength + 8)
    tail[0] = 0x80
    writeUint32Le(tail, padLength, (this.totalLength * 8) % 0x1_0000_0000)
    writeUint32Le(tail, padLength + 4, Math.floor(this.totalLength / 0x2000_0000) >>> 0)
    final.update(tail)
    const out = new Uint8Array(16)
    for (let i = 0; i < 4; i++) writeUint32Le(out, i * 4, final.state[i] ?? 0)
    return out
  }

  private compress(source: Uint8Array, offset: number): void {
    const x = this.words
    for (let i = 0; i < 16; i++) {
      const p = offset + i * 4
      x[i] = ((source[p] ?? 0) | ((source[p + 1] ?? 0) << 8) | ((source[p + 2] ?? 0) << 16) | ((source[p + 3] ?? 0) << 24)) >>> 0
    }
    let a = this.state[0] ?? 0
    let b = this.state[1] ?? 0
    let c = this.state[2] ?? 0
    let d = this.state[3] ?? 0
    for (let i = 0; i < 64; i++) {
      let f: number
      let g: number
      if (i < 16) {
        f = (b & c) | (~b & d)
        g = i
      } else if (i < 32) {
        f = (d & b) | (~d & c)
        g = (5 * i + 1) % 16
      } else if (i < 48) {
        f = b ^ c ^ d
        g = (3 * i + 5) % 16
      } else {
        f = c ^ (b | ~d)
        g = (7 * i) % 16
      }
      const sum = (a + f + (md5Constants[i] ?? 0) + (x[g] ?? 0)) >>> 0
      const shift = md5Shifts[(i >> 4) * 4 + (i % 4)] ?? 0
      a = d
      d = c
      c = b
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) >>> 0
    }
    this.state[0] = (this.state[0] ?? 0) + a
    this.state[1] = (this.state[1] ?? 0) + b
    this.state[2] = (this.state[2] ?? 0) + c
    this.state[3] = (this.state[3] ?? 0) + d
  }
}

/** MD5 of `data` as 16 bytes. */
export function md5(data: Uint8Array): Uint8Array {
  return new Md5().update(data).digest()
}

/** Lower-case hex of some bytes, as checksums are printed by esptool and gen_esp32part. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}

/** Reflected CRC-32 (IEEE 802.3, polynomial 0x04C11DB7 reversed), one entry per byte value. */
const crc32Table = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/**
 * ESP-IDF's `esp_rom_crc32_le(crc, buf, len)`: the ROM inverts the seed on the way in and the result on the
 * way out, so the seed is the CRC of whatever came before (zlib's `crc32(buf, seed)` means the same thing).
 * A fresh CRC-32 is `crc32Le(0, data)`; otadata entries use seed 0xFFFFFFFF, which is why their CRC is not
 * the plain CRC-32 of the sequence number.
 */
export function crc32Le(seed: number, data: Uint8Array): number {
  let crc = ~seed >>> 0
  for (const byte of data) crc = (crc32Table[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8)
  return ~crc >>> 0
}

function writeUint32Le(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value & 0xff
  target[offset + 1] = (value >>> 8) & 0xff
  target[offset + 2] = (value >>> 16) & 0xff
  target[offset + 3] = (value >>> 24) & 0xff
}
