import type { SiteOutputs } from './site-outputs'

/**
 * The bill of materials as a spreadsheet opens it: RFC 4180 CSV (CRLF line ends, fields with a comma,
 * quote or line break quoted, quotes doubled), a header row, one row per part number in the outputs'
 * order, and a total row. Prices in euros with two decimals and a point, whatever the reader's locale.
 */

const header = ['Part number', 'Name', 'Kind', 'Quantity', 'Unit price (EUR)', 'Line total (EUR)', 'Devices']

/**
 * One CSV field. Part names and device ids come from user files, and a spreadsheet runs a cell that starts
 * with = + - @ (or a tab or CR before one) as a formula (CSV injection, OWASP): such a cell gets a leading
 * apostrophe, which spreadsheets show as text and do not evaluate.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

const euros = (value: number) => value.toFixed(2)

export function bomCsv(outputs: SiteOutputs): string {
  const rows = [
    header,
    ...outputs.bom.map((line) => [line.partNumber, line.partName, line.kind ?? 'not in catalogue', String(line.quantity), euros(line.unitPriceEur), euros(line.totalPriceEur), line.deviceIds.join(' ')]),
    ['Total', '', '', String(outputs.bom.reduce((sum, line) => sum + line.quantity, 0)), '', euros(outputs.totalPriceEur), ''],
  ]
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('')
}
