// A firmware image is up to 16 MB. `btoa(String.fromCharCode(...bytes))` on the whole of it would
// pass millions of arguments (a RangeError) and build one huge binary string; encoding in chunks
// whose length is a multiple of 3 gives the same text, since no chunk but the last needs padding.
const chunkBytes = 3 * 0x2000

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = []
  for (let start = 0; start < bytes.length; start += chunkBytes) {
    const chunk = bytes.subarray(start, start + chunkBytes)
    parts.push(btoa(String.fromCharCode.apply(null, chunk as unknown as number[])))
  }
  return parts.join('')
}

/** The length of `bytesToBase64` of `size` bytes, without encoding them. */
export function base64Length(size: number): number {
  return Math.ceil(size / 3) * 4
}

/** The bytes of base64 text from the core (a coverage raster, an exported file), in a fresh ArrayBuffer. */
export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64)
  const bytes = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}
