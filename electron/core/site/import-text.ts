// Bytes to text for KML and GeoJSON, and the one check on XML text that has to happen before any parser
// sees it: DOCTYPE and ENTITY declarations.

import type { SiteImportError } from '../../../shared/domain/site/import-report'

export type DecodedText = { ok: true; text: string; warnings: string[] } | { ok: false; error: SiteImportError }

const utf8Bom = [0xef, 0xbb, 0xbf]

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b)
}

/** The encoding an XML document announces, by BOM, by byte pattern or by its declaration (XML 1.0, appendix F). */
function xmlEncoding(bytes: Uint8Array): string {
  if (startsWith(bytes, utf8Bom)) return 'utf-8'
  if (startsWith(bytes, [0xff, 0xfe])) return 'utf-16le'
  if (startsWith(bytes, [0xfe, 0xff])) return 'utf-16be'
  if (startsWith(bytes, [0x3c, 0x00])) return 'utf-16le'
  if (startsWith(bytes, [0x00, 0x3c])) return 'utf-16be'
  // The declaration is ASCII in every encoding a KML writer would pick once UTF-16 is ruled out.
  let prefix = ''
  for (let i = 0; i < Math.min(bytes.length, 200); i++) prefix += String.fromCharCode(bytes[i]!)
  const declared = /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(prefix)
  return declared?.[1]?.toLowerCase() ?? 'utf-8'
}

function decode(bytes: Uint8Array, encoding: string, what: string): DecodedText {
  let strict: InstanceType<typeof TextDecoder>
  try {
    strict = new TextDecoder(encoding, { fatal: true })
  } catch {
    return { ok: false, error: { code: 'encoding', message: `The ${what} is encoded as "${encoding}", which the console cannot read. Save it as UTF-8. Nothing was imported.` } }
  }
  try {
    return { ok: true, text: strict.decode(bytes), warnings: [] }
  } catch {
    // Files that say UTF-8 but hold a few Latin-1 bytes are common; importing them with the bad bytes
    // marked is more useful than refusing, as long as nobody is left unaware.
    const text = new TextDecoder(encoding).decode(bytes)
    return { ok: true, text, warnings: [`The ${what} is not valid ${strict.encoding}: some bytes could not be read and show as "\uFFFD" in names and descriptions.`] }
  }
}

export function decodeXml(bytes: Uint8Array): DecodedText {
  return decode(bytes, xmlEncoding(bytes), 'KML')
}

/** RFC 8259: JSON exchanged between systems is UTF-8. */
export function decodeJson(bytes: Uint8Array): DecodedText {
  return decode(bytes, 'utf-8', 'GeoJSON')
}

/** The first meaningful byte after a BOM and whitespace (skipping the zero bytes of UTF-16), to tell XML from JSON. */
export function firstSignificantChar(bytes: Uint8Array): string | null {
  let i = startsWith(bytes, utf8Bom) ? 3 : startsWith(bytes, [0xff, 0xfe]) || startsWith(bytes, [0xfe, 0xff]) ? 2 : 0
  for (; i < Math.min(bytes.length, 4096); i++) {
    const b = bytes[i]!
    if (b === 0x00 || b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue
    return String.fromCharCode(b)
  }
  return null
}

export function lineAndColumn(text: string, index: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }
  return { line, column: index - lineStart + 1 }
}

/**
 * Finds a markup declaration (DOCTYPE, ENTITY, ELEMENT, ATTLIST, NOTATION) outside comments and CDATA.
 * KML never needs one, and a DOCTYPE is how entity expansion ("billion laughs") and external entities
 * (reading local files) get in, so such a document is refused before it is parsed. A description that
 * quotes an HTML page with "<!DOCTYPE html>" inside CDATA is text, not a declaration, and passes.
 * One pass over the text, no backtracking.
 */
export function findMarkupDeclaration(text: string): { declaration: string; index: number } | null {
  let from = 0
  for (;;) {
    const i = text.indexOf('<!', from)
    if (i === -1) return null
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9)
      if (end === -1) return null // unterminated: the parser reports it
      from = end + 3
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4)
      if (end === -1) return null
      from = end + 3
    } else {
      const declared = /^<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)\b/i.exec(text.slice(i, i + 24))
      if (declared) return { declaration: declared[1]!.toUpperCase(), index: i }
      from = i + 2
    }
  }
}
