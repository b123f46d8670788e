// The CSV that ESP-IDF's nvs_partition_gen.py reads (key,type,encoding,value), split into rows the way
// that tool splits it, so a factory CSV written for the IDF tool means the same thing here.

export type NvsOutcome<T> = { ok: true; value: T } | { ok: false; error: string }

/** One record of the CSV, before its type or encoding is checked. */
export interface NvsCsvRow {
  /** Physical line (1-based) where the record starts, for error messages. */
  line: number
  key: string
  type: string
  encoding: string
  value: string
}

const REQUIRED_COLUMNS = ['key', 'type', 'encoding', 'value'] as const

/**
 * Splits the generator's CSV into rows. Mirrors its reader: a physical line whose first character is `#`
 * is dropped before CSV parsing (even inside a quoted value, as the tool filters lines, not records), the
 * first remaining record names the columns, blank records are skipped, and quoted values may span lines.
 */
export function parseNvsCsv(text: string): NvsOutcome<NvsCsvRow[]> {
  // Python opens the file in text mode: universal newlines. A BOM would otherwise become part of `key`.
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  const physical = normalised.split('\n')
  const kept: { text: string; line: number }[] = []
  physical.forEach((lineText, index) => {
    const isLastEmpty = index === physical.length - 1 && lineText === ''
    if (isLastEmpty || lineText.startsWith('#')) return
    kept.push({ text: lineText, line: index + 1 })
  })

  const records = splitRecords(kept)
  if (!records.ok) return records
  const [header, ...body] = records.value.filter((record) => !(record.fields.length === 1 && record.fields[0] === ''))
  if (!header) return { ok: false, error: 'The CSV has no header line; the first line must be key,type,encoding,value.' }
  const columns = header.fields.map((name) => name.trim())
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name))
  if (missing.length > 0) {
    return {
      ok: false,
      error: `CSV line ${header.line}: the header must name the columns key,type,encoding,value (missing ${missing.join(', ')}).`,
    }
  }

  const rows: NvsCsvRow[] = []
  for (const record of body) {
    const cell = (name: (typeof REQUIRED_COLUMNS)[number]): string | undefined => record.fields[columns.indexOf(name)]
    const key = cell('key')
    const type = cell('type')
    const encoding = cell('encoding')
    const value = cell('value')
    if (key === undefined || type === undefined || encoding === undefined || value === undefined) {
      return {
        ok: false,
        error: `CSV line ${record.line}: ${record.fields.length} field(s); every row needs key,type,encoding,value (a namespace row leaves the last two empty: "name,namespace,,").`,
      }
    }
    rows.push({ line: record.line, key, type, encoding, value })
  }
  return { ok: true, value: rows }
}

interface CsvRecord {
  line: number
  fields: string[]
}

/** Python's csv "excel" dialect: `"` opens a quoted field only at the start of a field, `""` is a quote. */
function splitRecords(lines: readonly { text: string; line: number }[]): NvsOutcome<CsvRecord[]> {
  const records: CsvRecord[] = []
  let fields: string[] = []
  let field = ''
  let inQuotes = false
  let fieldStarted = false
  let startLine = 0

  for (const { text, line } of lines) {
    if (!inQuotes) {
      fields = []
      field = ''
      fieldStarted = false
      startLine = line
    } else {
      field += '\n'
    }
    for (let i = 0; i < text.length; i++) {
      const char = text[i] as string
      if (inQuotes) {
        if (char === '"') {
          if (text[i + 1] === '"') {
            field += '"'
            i++
          } else {
            inQuotes = false
          }
        } else {
          field += char
        }
      } else if (char === ',') {
        fields.push(field)
        field = ''
        fieldStarted = false
      } else if (char === '"' && !fieldStarted) {
        inQuotes = true
        fieldStarted = true
      } else {
        field += char
        fieldStarted = true
      }
    }
    if (!inQuotes) {
      fields.push(field)
      records.push({ line: startLine, fields })
    }
  }
  if (inQuotes) return { ok: false, error: `CSV line ${startLine}: a quoted value is never closed.` }
  return { ok: true, value: records }
}
