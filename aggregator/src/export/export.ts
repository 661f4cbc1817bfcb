/**
 * Full-document exports, shared by GET /api/v1/measurements/export and
 * `blockwatch aggregator export` so that both write the same bytes: rows are
 * read by keyset in chunks (store/export.ts), only as fast as the reader of
 * the returned stream takes the bytes, so memory does not grow with the
 * size of the export. See docs/api.md ("Exports").
 */
import { Readable, pipeline } from 'node:stream'
import { createGzip } from 'node:zlib'
import { filtersWhere, type MeasurementFilters } from '../store/filters.ts'
import type { Queryable } from '../store/db.ts'
import { readExportChunk, type ExportCursor, type ExportRow } from '../store/export.ts'
import { jsonlText } from './jsonl.ts'

/** The formats, with the Content-Type and file name each is served with. */
export const EXPORT_FORMATS = {
  jsonl: { type: 'application/x-ndjson; charset=utf-8', filename: 'measurements.jsonl' },
  'jsonl.gz': { type: 'application/gzip', filename: 'measurements.jsonl.gz' },
  parquet: { type: 'application/vnd.apache.parquet', filename: 'measurements.parquet' }
} as const

/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = keyof typeof EXPORT_FORMATS

/** Rows read per query. */
export const EXPORT_CHUNK_ROWS = 1000

/** What to export and how. */
export interface ExportOptions {
  format: ExportFormat
  /** The researcher API's filters, parsed (query/filters.ts parseFilters). */
  filters: MeasurementFilters
  /** At most this many rows. Default: every matching row. */
  limit?: number
  /** The key of probe pseudonyms (pseudonym.ts). */
  secret: string
  /** Rows per query. Default {@link EXPORT_CHUNK_ROWS}. */
  chunkRows?: number
  /** Parquet: at most this many rows a row group. Default ROW_GROUP_ROWS (parquet.ts). */
  rowGroupRows?: number
  /** Told the number of rows of each chunk as it is handed to the writer (progress, totals). */
  onChunk?: (rows: number) => void
}

/**
 * Opens an export: reads the first chunk (so that a bad filter or a
 * database that does not answer fails here, before any byte is sent) and
 * returns the stream of the file's bytes. Destroying the stream stops the
 * reads.
 */
export async function openExport(db: Queryable, o: ExportOptions): Promise<Readable> {
  const where = filtersWhere(o.filters)
  const chunkRows = o.chunkRows ?? EXPORT_CHUNK_ROWS
  const limit = o.limit ?? Infinity
  const first = await readExportChunk(db, where, null, Math.min(chunkRows, limit))
  async function* chunks(): AsyncGenerator<ExportRow[]> {
    let rows = first
    let left = limit
    for (;;) {
      if (rows.length === 0) return
      o.onChunk?.(rows.length)
      yield rows
      left -= rows.length
      if (rows.length < chunkRows || left <= 0) return
      const last = rows[rows.length - 1]
      const after: ExportCursor = [last.start_key, last.measurement_uid]
      rows = await readExportChunk(db, where, after, Math.min(chunkRows, left))
    }
  }
  if (o.format === 'parquet') {
    // Loaded on first use: the server starts without the Parquet library,
    // and so do tests that never ask for Parquet (docs/architecture.md).
    const { parquetBytes } = await import('./parquet.ts')
    return Readable.from(parquetBytes(chunks(), o.secret, o.rowGroupRows), { objectMode: false })
  }
  const text = Readable.from(jsonlText(chunks(), o.secret), { objectMode: false })
  if (o.format === 'jsonl') return text
  // pipeline() destroys each side when the other fails or is destroyed, so
  // that a reader who goes away stops the reads; the error reaches the
  // returned stream's own listeners.
  return pipeline(text, createGzip(), () => {})
}
