/** What to send for a GET, from its Range and If-Range headers (RFC 9110 §13.1.5, §14). */
export type RangeDecision =
  | { kind: 'full' }
  /** Inclusive byte offsets, as Content-Range writes them. */
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

/**
 * One range or the whole image. A device resuming asks for `bytes=N-` (esp_https_ota's resumption) or
 * for fixed slices `bytes=N-M` (its partial download mode); nothing in the field asks for several
 * ranges at once, so a multi-range request gets the whole image, which RFC 9110 allows, rather than a
 * multipart body no OTA client would parse.
 */
export function decideRange(range: string | undefined, ifRange: string | undefined, etag: string, size: number): RangeDecision {
  if (range === undefined) return { kind: 'full' }
  // If-Range must name the current image exactly (strong comparison); a date, a weak tag or an old
  // hash means the device holds bytes of some other build, so it gets this one whole.
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'full' }
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range)
  // Syntax we do not understand is ignored, not refused (RFC 9110 §14.2).
  if (!match) return { kind: 'full' }
  const [, first, last] = match as unknown as [string, string, string]
  if (first === '' && last === '') return { kind: 'full' }
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return { kind: 'full' }
  if (start >= size) return { kind: 'unsatisfiable' }
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  return { kind: 'partial', start, end }
}
