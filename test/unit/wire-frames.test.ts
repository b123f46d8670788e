import { describe, expect, it } from 'vitest'
import { largeRequestBytes, maxRequestBytes, parseRequestFrame, salvageId } from '../../shared/contract'

function codeOf(text: string): string | undefined {
  const outcome = parseRequestFrame(text)
  return outcome.ok ? undefined : outcome.error.code
}

describe('parseRequestFrame', () => {
  it('accepts a well-formed request and passes its parts through', () => {
    expect(parseRequestFrame('{"id":3,"method":"settings.get","params":{"a":[1]}}')).toEqual({
      ok: true,
      value: { id: 3, method: 'settings.get', params: { a: [1] } },
    })
    expect(parseRequestFrame('{"id":"x","method":"m"}')).toEqual({ ok: true, value: { id: 'x', method: 'm', params: undefined } })
  })

  it('refuses malformed JSON with BAD_FRAME', () => {
    for (const text of ['{"id":1,', 'not json', '', '{id:1,method:"x"}']) expect(codeOf(text), text).toBe('BAD_FRAME')
  })

  it('refuses arrays and non-object JSON with BAD_FRAME', () => {
    for (const text of ['[]', '[{"id":1,"method":"x"}]', '42', '"hello"', 'null', 'true']) expect(codeOf(text), text).toBe('BAD_FRAME')
  })

  it('refuses a request missing its id or method, or with the wrong types, with BAD_FRAME', () => {
    expect(codeOf('{"method":"settings.get"}')).toBe('BAD_FRAME')
    expect(codeOf('{"id":1}')).toBe('BAD_FRAME')
    expect(codeOf('{"id":null,"method":"x"}')).toBe('BAD_FRAME')
    expect(codeOf('{"id":{},"method":"x"}')).toBe('BAD_FRAME')
    expect(codeOf('{"id":1,"method":5}')).toBe('BAD_FRAME')
  })

  it('refuses a request over 1 MiB with TOO_LARGE, but accepts one just under', () => {
    const envelope = (fill: number) => JSON.stringify({ id: 1, method: 'x', params: 'a'.repeat(fill) })
    const overhead = envelope(0).length
    expect(parseRequestFrame(envelope(maxRequestBytes - overhead)).ok).toBe(true)
    expect(codeOf(envelope(maxRequestBytes - overhead + 1))).toBe('TOO_LARGE')
    expect(maxRequestBytes).toBe(1024 * 1024)
  })

  it('lets a firmware import carry a whole image, up to its own limit, and no other method', () => {
    const image = 'A'.repeat(3 * 1024 * 1024)
    expect(parseRequestFrame(JSON.stringify({ id: 1, method: 'bench.importFirmware', params: { fileName: 'app.bin', data: image } })).ok).toBe(true)
    expect(codeOf(JSON.stringify({ id: 1, method: 'settings.update', params: { siteName: image } }))).toBe('TOO_LARGE')
    expect(codeOf(JSON.stringify({ id: 1, method: 'bench.importFirmware', params: { data: 'A'.repeat(largeRequestBytes['bench.importFirmware']!) } }))).toBe('TOO_LARGE')
  })

  it('counts bytes, not UTF-16 units: multi-byte text under the limit in .length but over it in bytes is TOO_LARGE', () => {
    const threeByte = JSON.stringify({ id: 1, method: 'x', params: '€'.repeat(400_000) })
    expect(threeByte.length).toBeLessThan(maxRequestBytes)
    expect(Buffer.byteLength(threeByte)).toBeGreaterThan(maxRequestBytes)
    expect(codeOf(threeByte)).toBe('TOO_LARGE')

    const astral = JSON.stringify({ id: 1, method: 'x', params: '😀'.repeat(300_000) })
    expect(astral.length).toBeLessThan(maxRequestBytes)
    expect(Buffer.byteLength(astral)).toBeGreaterThan(maxRequestBytes)
    expect(codeOf(astral)).toBe('TOO_LARGE')

    // Same characters, fewer of them: under the limit in bytes too, so accepted.
    const fits = JSON.stringify({ id: 1, method: 'x', params: '€'.repeat(300_000) })
    expect(Buffer.byteLength(fits)).toBeLessThan(maxRequestBytes)
    expect(parseRequestFrame(fits).ok).toBe(true)
  })
})

describe('salvageId', () => {
  it('recovers numeric and string ids from broken frames', () => {
    expect(salvageId('{"id": 42, "method": ')).toBe(42)
    expect(salvageId('{"id":-7,')).toBe(-7)
    expect(salvageId('{"method":"x","id":"req-9"')).toBe('req-9')
    expect(salvageId('{"id":"with \\"quote\\"",')).toBe('with "quote"')
  })

  it('returns null when there is no usable id', () => {
    expect(salvageId('garbage')).toBeNull()
    expect(salvageId('{"id": null}')).toBeNull()
    expect(salvageId('{"id": {"nested": 1}}')).toBeNull()
    expect(salvageId(`${' '.repeat(5000)}{"id":1}`)).toBeNull()
  })
})
