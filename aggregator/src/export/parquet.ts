/**
 * Exports as Apache Parquet, written row group by row group as chunks of rows
 * arrive (hyparquet-writer; docs/architecture.md says why that library), so
 * that memory holds one row group, never the file. Typed columns carry the
 * envelope and the verdict; `doc` carries the whole scrubbed document as
 * text of logical type JSON. Only standard logical types are used (STRING,
 * TIMESTAMP in UTC, JSON), each with its legacy converted type beside it, so
 * that DuckDB, pyarrow and R's arrow read the same columns.
 * The columns are listed in docs/api.md ("Exports").
 */
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer'
import type { ExportRow } from '../store/export.ts'
import { probePseudonym } from '../pseudonym.ts'
import { scrubbedDocument } from './document.ts'

/** A row group is written when it reaches this many rows… */
export const ROW_GROUP_ROWS = 50_000
/** …or this many bytes of document text, whichever comes first (documents range from 400 bytes to hundreds of KiB). */
export const ROW_GROUP_DOC_BYTES = 16 * 1024 * 1024

type Kind = 'string' | 'timestamp' | 'boolean' | 'int32' | 'json'

const ELEMENTS: Record<Kind, Omit<SchemaElement, 'name' | 'repetition_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
  boolean: { type: 'BOOLEAN' },
  int32: { type: 'INT32' },
  // The JSON converted type is added to the file's schema at the end: see finish() below.
  json: { type: 'BYTE_ARRAY', logical_type: { type: 'JSON' } }
}

/** One column: its name, type, whether it may be null, and its value in a row. */
interface Column {
  name: string
  kind: Kind
  nullable: boolean
  value: (r: ExportRow, probe: string | null) => unknown
}

const col = (name: keyof ExportRow, kind: Kind, nullable: boolean): Column => ({ name, kind, nullable, value: r => r[name] })

/** The columns, in file order. */
export const PARQUET_COLUMNS: readonly Column[] = [
  col('measurement_uid', 'string', false),
  col('report_id', 'string', true),
  col('input', 'string', true),
  col('domain', 'string', true),
  col('category_code', 'string', true),
  col('test_name', 'string', false),
  col('measurement_start_time', 'timestamp', false),
  col('probe_cc', 'string', false),
  col('probe_asn', 'string', false),
  col('probe_region', 'string', true),
  { name: 'probe', kind: 'string', nullable: true, value: (_r, probe) => probe },
  col('software_name', 'string', true),
  col('software_version', 'string', true),
  col('anomaly', 'boolean', false),
  col('confirmed', 'boolean', false),
  col('failure', 'boolean', false),
  col('blocking_type', 'string', true),
  col('down', 'boolean', false),
  col('unreachable', 'boolean', false),
  col('verdict_reason', 'string', true),
  col('scoring_version', 'int32', false),
  col('fingerprints_version', 'string', false)
]

/** The Parquet schema of an export; `final` adds the JSON converted type the footer needs. */
function schema(final: boolean): SchemaElement[] {
  const cols = [...PARQUET_COLUMNS.map(c => ({ name: c.name, kind: c.kind, nullable: c.nullable })), { name: 'doc', kind: 'json' as const, nullable: false }]
  return [
    { name: 'schema', num_children: cols.length },
    ...cols.map(c => ({
      name: c.name,
      ...ELEMENTS[c.kind],
      ...(final && c.kind === 'json' ? { converted_type: 'JSON' as const } : {}),
      repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const)
    }))
  ]
}

/** A ByteWriter that hands out what it has written after each row group, instead of keeping the file. */
class ChunkedWriter extends ByteWriter {
  #out: Buffer[] = []
  flush(): void {
    if (this.index === 0) return
    this.#out.push(Buffer.from(new Uint8Array(this.buffer, 0, this.index))) // a copy: the buffer is reused
    this.index = 0
  }

  /** The bytes written since the last take(). */
  take(): Buffer {
    this.flush()
    const b = Buffer.concat(this.#out)
    this.#out = []
    return b
  }
}

/**
 * Turns chunks of rows into the bytes of one Parquet file: the header
 * first, then one row group each time enough rows have arrived, then the
 * footer. It pulls a chunk only when its reader wants more bytes.
 */
export async function* parquetBytes(chunks: AsyncIterable<ExportRow[]>, secret: string, rowGroupRows = ROW_GROUP_ROWS): AsyncGenerator<Buffer> {
  const writer = new ChunkedWriter(1 << 20)
  const pw = new ParquetWriter({ writer, schema: schema(false), codec: 'SNAPPY', createdBy: 'blockwatch' })
  yield writer.take() // the magic number that opens the file
  let rows: ExportRow[] = []
  let docBytes = 0
  const writeGroup = (): Buffer => {
    const probes = rows.map(r => probePseudonym(secret, r.probe_id, r.measurement_start_time))
    const columnData: ColumnSource[] = PARQUET_COLUMNS.map(c => ({ name: c.name, data: rows.map((r, i) => c.value(r, probes[i]) ?? null) }))
    // A document's min and max would be whole documents in the footer: no statistics for it.
    columnData.push({ name: 'doc', data: rows.map(r => scrubbedDocument(r, secret)), statistics: false })
    void pw.write({ columnData, rowGroupSize: rows.length })
    rows = []
    docBytes = 0
    return writer.take()
  }
  for await (const chunk of chunks) {
    for (const r of chunk) {
      rows.push(r)
      docBytes += r.doc_text.length
      if (rows.length >= rowGroupRows || docBytes >= ROW_GROUP_DOC_BYTES) yield writeGroup()
    }
  }
  if (rows.length > 0) yield writeGroup()
  // The documents were written as plain UTF-8 bytes (the writer would
  // otherwise parse and print each one again as JSON); the footer declares
  // them JSON, with both the logical and the converted type.
  pw.schema = schema(true)
  void pw.finish()
  yield writer.take()
}
