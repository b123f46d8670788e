// SLIP framing of the ESP ROM / stub serial bootloader (serial-protocol.rst, "Low Level Protocol").
// Each packet starts and ends with 0xC0; inside it 0xC0 travels as 0xDB 0xDC and 0xDB as 0xDB 0xDD.
// The same decoder serves the console's flasher (reading the chip) and the simulated board (reading the
// flasher), so it never throws: a bad escape is an event, and bytes between frames (the ROM boot log,
// "waiting for download", a panic dump) come back as noise for the console to show.

export const slipEnd = 0xc0
export const slipEsc = 0xdb
export const slipEscEnd = 0xdc
export const slipEscEsc = 0xdd

/**
 * The largest unescaped frame the decoder holds before it gives up on a frame: an 8-byte packet header
 * plus the 65535-byte maximum of the 16-bit size field. Bounds memory when a port streams garbage with
 * no closing 0xC0.
 */
export const defaultMaxSlipFrameLength = 8 + 0xffff

/** Frames a packet for the wire: 0xC0, the payload with 0xC0 and 0xDB escaped, 0xC0. */
export function slipEncode(payload: Uint8Array): Uint8Array {
  let escapes = 0
  for (const byte of payload) if (byte === slipEnd || byte === slipEsc) escapes++
  const out = new Uint8Array(payload.length + escapes + 2)
  let at = 0
  out[at++] = slipEnd
  for (const byte of payload) {
    if (byte === slipEnd) {
      out[at++] = slipEsc
      out[at++] = slipEscEnd
    } else if (byte === slipEsc) {
      out[at++] = slipEsc
      out[at++] = slipEscEsc
    } else {
      out[at++] = byte
    }
  }
  out[at] = slipEnd
  return out
}

export type SlipFrameErrorReason = 'invalid-escape' | 'frame-too-long'

export type SlipEvent =
  /** A complete packet with the escapes removed. */
  | { readonly kind: 'frame'; readonly payload: Uint8Array }
  /** Bytes that arrived outside any frame, in order; contiguous noise within one chunk is one event. */
  | { readonly kind: 'noise'; readonly bytes: Uint8Array }
  /** A frame was dropped; `partial` is what had been unescaped of it. The decoder resynchronises on the next 0xC0. */
  | { readonly kind: 'frame-error'; readonly reason: SlipFrameErrorReason; readonly detail: string; readonly partial: Uint8Array }

type DecoderState = 'outside' | 'inside' | 'escape' | 'discard'

export interface SlipDecoderOptions {
  readonly maxFrameLength?: number
}

/**
 * Streaming SLIP decoder: push chunks as the port delivers them, in any split, and get complete frames.
 *
 * Two tolerances that esptool's reader does not have, both so that a console attaching mid-stream or a
 * board rebooting mid-frame does not wedge the session:
 * - an empty frame (0xC0 0xC0) is read as "that 0xC0 was a start", because no bootloader packet is empty
 *   and a reader that joined mid-frame otherwise mistakes the next frame's start for an end;
 * - after a frame error, bytes up to the next 0xC0 belong to the dropped frame, not to the noise.
 */
export class SlipDecoder {
  private state: DecoderState = 'outside'
  private buffer = new Uint8Array(256)
  private length = 0
  private readonly maxFrameLength: number

  constructor(options: SlipDecoderOptions = {}) {
    const max = options.maxFrameLength ?? defaultMaxSlipFrameLength
    this.maxFrameLength = Number.isInteger(max) && max > 0 ? max : defaultMaxSlipFrameLength
  }

  /** True while a frame has started and not yet ended, e.g. after a chunk that split a frame. */
  get inFrame(): boolean {
    return this.state === 'inside' || this.state === 'escape'
  }

  /** Unescaped bytes of the frame in progress. */
  get pendingLength(): number {
    return this.inFrame ? this.length : 0
  }

  /** Forgets any partial frame, as esptool's flush_input does after a baud rate change. */
  reset(): void {
    this.state = 'outside'
    this.length = 0
  }

  push(chunk: Uint8Array): SlipEvent[] {
    const events: SlipEvent[] = []
    let noiseStart = -1
    const flushNoise = (end: number): void => {
      if (noiseStart >= 0) {
        events.push({ kind: 'noise', bytes: chunk.slice(noiseStart, end) })
        noiseStart = -1
      }
    }

    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!
      switch (this.state) {
        case 'outside':
          if (byte === slipEnd) {
            flushNoise(i)
            this.state = 'inside'
            this.length = 0
          } else if (noiseStart < 0) {
            noiseStart = i
          }
          break
        case 'inside':
          if (byte === slipEnd) {
            if (this.length > 0) {
              events.push({ kind: 'frame', payload: this.buffer.slice(0, this.length) })
              this.state = 'outside'
              this.length = 0
            }
          } else if (byte === slipEsc) {
            this.state = 'escape'
          } else {
            this.append(byte, events)
          }
          break
        case 'escape':
          if (byte === slipEscEnd) {
            this.state = 'inside'
            this.append(slipEnd, events)
          } else if (byte === slipEscEsc) {
            this.state = 'inside'
            this.append(slipEsc, events)
          } else {
            events.push({
              kind: 'frame-error',
              reason: 'invalid-escape',
              detail: `Invalid SLIP escape (0xdb, 0x${byte.toString(16).padStart(2, '0')}) after ${this.length} bytes of a frame.`,
              partial: this.buffer.slice(0, this.length),
            })
            this.length = 0
            // An unescaped 0xC0 right after 0xDB still marks where the sender thought the frame ended.
            this.state = byte === slipEnd ? 'outside' : 'discard'
          }
          break
        case 'discard':
          if (byte === slipEnd) this.state = 'outside'
          break
      }
    }
    if (this.state === 'outside') flushNoise(chunk.length)
    return events
  }

  private append(byte: number, events: SlipEvent[]): void {
    if (this.length >= this.maxFrameLength) {
      events.push({
        kind: 'frame-error',
        reason: 'frame-too-long',
        detail: `A SLIP frame passed ${this.maxFrameLength} bytes without a closing 0xC0; dropped it.`,
        partial: this.buffer.slice(0, this.length),
      })
      this.length = 0
      this.state = 'discard'
      return
    }
    if (this.length === this.buffer.length) {
      const grown = new Uint8Array(Math.min(this.buffer.length * 2, this.maxFrameLength))
      grown.set(this.buffer)
      this.buffer = grown
    }
    this.buffer[this.length++] = byte
  }
}

/** Decodes a whole byte string at once (tests, traces): the frames, the noise and the errors in order. */
export function slipDecodeAll(bytes: Uint8Array, options?: SlipDecoderOptions): SlipEvent[] {
  return new SlipDecoder(options).push(bytes)
}
