import { failure, type ContractError, type Outcome } from './errors'
import type { EventName } from './channels'

/** What a client sends over the WebSocket. */
export interface RequestFrame {
  id: number | string
  method: string
  params?: unknown
}

/** What the host sends back: a reply to one request, or an event pushed to every screen. */
export type ReplyFrame =
  | { id: number | string | null; ok: true; value: unknown }
  | { id: number | string | null; ok: false; error: ContractError }
export interface EventFrame {
  event: EventName
  payload: unknown
}
export type HostFrame = ReplyFrame | EventFrame

/** Requests larger than this are refused with TOO_LARGE; the connection stays open. */
export const maxRequestBytes = 1024 * 1024

/** Methods that carry a file: a firmware image of up to 16 MB, a site file, base64 in JSON. */
export const largeRequestBytes: Readonly<Record<string, number>> = { 'bench.importFirmware': 24 * 1024 * 1024, 'site.import': 31 * 1024 * 1024, 'ota.importArtifact': 24 * 1024 * 1024 }

export function parseRequestFrame(text: string): Outcome<RequestFrame> {
  // Length in UTF-16 units is a lower bound of the byte length, so a cheap first check suffices
  // for the refusal and the exact count is only taken near the limit.
  if (text.length > maxRequestBytes || utf8Length(text) > maxRequestBytes) {
    const limit = largeRequestBytes[salvageMethod(text) ?? ''] ?? maxRequestBytes
    if (text.length > limit || utf8Length(text) > limit) {
      return failure('TOO_LARGE', `Request is larger than ${limit} bytes; send less data per request.`)
    }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return failure('BAD_FRAME', 'Request is not valid JSON.')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return failure('BAD_FRAME', 'Request must be a JSON object {"id", "method", "params"}.')
  }
  const { id, method, params } = value as Record<string, unknown>
  if (!(typeof id === 'number' || typeof id === 'string')) {
    return failure('BAD_FRAME', 'Request needs an "id" (number or string) to match its reply.')
  }
  if (typeof method !== 'string') {
    return failure('BAD_FRAME', 'Request needs a "method" string.')
  }
  return { ok: true, value: { id, method, params } }
}

/** A best-effort id from a frame that failed to parse, so the client can still match the error. */
export function salvageId(text: string): number | string | null {
  const match = /"id"\s*:\s*("(?:[^"\\]|\\.){0,64}"|-?\d{1,15})/.exec(text.slice(0, 4096))
  if (!match?.[1]) return null
  try {
    return JSON.parse(match[1]) as number | string
  } catch {
    return null
  }
}

/** The method of a large frame, read before parsing it: only a method named near the start counts. */
function salvageMethod(text: string): string | null {
  return /"method"\s*:\s*"([a-zA-Z.]{1,64})"/.exec(text.slice(0, 256))?.[1] ?? null
}

function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}
