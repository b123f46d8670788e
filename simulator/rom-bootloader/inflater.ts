// FLASH_DEFL_DATA blocks are consecutive pieces of one zlib stream (esptool deflates the whole image, then
// cuts the result into blocks), so a loader cannot inflate a block on its own: it keeps one decompressor
// for the whole write, as the ROM's tinfl and the stub do. Node has no synchronous streaming inflate, so
// this wraps zlib's stream and hands back, for each block, the bytes that block completed.

import { constants, createInflate, type Inflate } from 'node:zlib'

export type InflateResult = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly detail: string }

export class StreamingInflater {
  private readonly stream: Inflate
  private output: Buffer[] = []
  private failure: Error | null = null

  constructor() {
    this.stream = createInflate()
    this.stream.on('data', (chunk: Buffer) => this.output.push(chunk))
    // A corrupt stream or a bad Adler-32 at its end (the ROM's 0x0B/0x0C, the stub's 0xC7).
    this.stream.on('error', (error: Error) => {
      this.failure ??= error
    })
  }

  /** Inflates the next piece of the stream; bytes after the stream's end are ignored, as tinfl does. */
  async push(piece: Uint8Array): Promise<InflateResult> {
    if (this.failure) return { ok: false, detail: this.failure.message }
    await new Promise<void>((resolve) => {
      const onError = (): void => resolve()
      this.stream.once('error', onError)
      this.stream.write(piece, (error) => {
        if (error) {
          resolve()
          return
        }
        // A sync flush makes zlib hand over everything this piece completes, not just what filled its buffer.
        this.stream.flush(constants.Z_SYNC_FLUSH, () => {
          this.stream.off('error', onError)
          resolve()
        })
      })
    })
    // Output pushed while the flush ran may reach 'data' listeners on the next tick.
    await new Promise<void>((resolve) => setImmediate(resolve))
    // Set by the 'error' listener while this method awaited, which the compiler cannot see.
    const failure = this.failure as Error | null
    if (failure) return { ok: false, detail: failure.message }
    const bytes = this.output.length === 1 ? this.output[0]! : Buffer.concat(this.output)
    this.output = []
    return { ok: true, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) }
  }

  close(): void {
    this.stream.destroy()
  }
}
