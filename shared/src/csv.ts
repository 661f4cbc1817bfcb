/**
 * A small RFC 4180 CSV reader, shared by the target-list and fingerprint
 * loaders. It reads a stream of text chunks and yields one record at a time,
 * with the line number where the record starts, so that a list of 100,000
 * rows is never held in memory and every error can name its line.
 */

/** One parsed CSV record: its fields and the 1-based line where it starts. */
export interface CsvRecord {
  fields: string[]
  line: number
  /** Set when the record is malformed (for example an unterminated quote). */
  error?: string
}

/**
 * Parses CSV text. Accepts a whole string or an async iterable of chunks
 * (a `fs.createReadStream(file, 'utf8')`, for example).
 */
export async function* readCsv(source: string | AsyncIterable<string | Buffer>, opts: { multiline?: boolean } = {}): AsyncGenerator<CsvRecord> {
  // Line-oriented files (target lists) set multiline: false, so that one
  // stray quote spoils only its own row, not every row up to the next quote.
  const multiline = opts.multiline ?? true
  let fields: string[] = []
  let field = ''
  let inQuotes = false
  let quoteJustClosed = false
  let line = 1
  let recordLine = 1
  let pendingCR = false
  let error: string | undefined

  const chunks: AsyncIterable<string | Buffer> | Iterable<string> = typeof source === 'string' ? [source] : source
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? raw : raw.toString('utf8')
    const out: CsvRecord[] = []
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]
      if (pendingCR) {
        pendingCR = false
        if (c === '\n') continue
      }
      if (inQuotes && !multiline && (c === '\n' || c === '\r')) {
        inQuotes = false
        error ??= 'unterminated quoted field'
      }
      if (inQuotes) {
        if (c === '"') {
          // A quote at the very end of a chunk may be the first of an escaped
          // pair: quoteJustClosed lets the next chunk's first character decide.
          if (chunk[i + 1] === '"') {
            field += '"'
            i++
          } else {
            inQuotes = false
            quoteJustClosed = true
          }
        } else {
          if (c === '\n') line++
          field += c
        }
        continue
      }
      if (quoteJustClosed && c === '"') {
        // "" split across two chunks: an escaped quote inside the field
        field += '"'
        inQuotes = true
        quoteJustClosed = false
        continue
      }
      if (c === ',') {
        fields.push(field)
        field = ''
        quoteJustClosed = false
      } else if (c === '\n' || c === '\r') {
        fields.push(field)
        out.push(finish(fields, recordLine, error))
        fields = []
        field = ''
        error = undefined
        quoteJustClosed = false
        line++
        recordLine = line
        if (c === '\r') pendingCR = true
      } else if (c === '"' && field === '' && !quoteJustClosed) {
        inQuotes = true
      } else {
        if (quoteJustClosed && error === undefined) error = `unexpected character ${JSON.stringify(c)} after a closing quote`
        field += c
      }
    }
    yield* out
  }
  if (inQuotes) error = 'unterminated quoted field'
  if (field !== '' || fields.length > 0 || inQuotes) {
    fields.push(field)
    yield finish(fields, recordLine, error)
  }
}

function finish(fields: string[], line: number, error: string | undefined): CsvRecord {
  return error === undefined ? { fields, line } : { fields, line, error }
}

/** Quotes one CSV cell when it needs quoting. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  const s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * Makes a cell safe to open in a spreadsheet: a leading `=`, `+`, `-`, `@`,
 * tab or carriage return would be read as a formula (CSV injection), so such
 * cells get a leading apostrophe, the convention spreadsheets recognise.
 */
export function csvSafeCell(value: unknown): string {
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(value)) return csvCell(`'${value}`)
  return csvCell(value)
}
