/**
 * The SQL behind full-document exports (GET /api/v1/measurements/export and
 * `blockwatch aggregator export`): one chunk of rows at a time, in primary-key
 * order (measurement_start_time, measurement_uid), each chunk starting after
 * the last row of the one before (keyset paging), so that a chunk costs the
 * same at the millionth row as at the first. See docs/api.md ("Exports").
 */
import { type Queryable, reader } from './db.ts'
import type { Where } from './filters.ts'

/** One exported row: the envelope and verdict columns, and the document as JSON text. */
export interface ExportRow {
  measurement_uid: string
  report_id: string | null
  input: string | null
  domain: string | null
  category_code: string | null
  test_name: string
  measurement_start_time: Date
  probe_cc: string
  probe_asn: string
  probe_region: string | null
  /** Never leaves the server: the export shows its monthly pseudonym. */
  probe_id: string | null
  software_name: string | null
  software_version: string | null
  anomaly: boolean
  confirmed: boolean
  failure: boolean
  blocking_type: string | null
  down: boolean
  unreachable: boolean
  verdict_reason: string | null
  scoring_version: number
  fingerprints_version: string
  /**
   * The stored document as PostgreSQL prints jsonb, without its probe_id,
   * probe_ip and probe keys: the exporter adds the scrubbed values as text,
   * so that a document is never parsed in Node.
   */
  doc_text: string
  /** measurement_start_time as PostgreSQL prints it: the exact keyset position (a Date would drop microseconds). */
  start_key: string
}

/** Where the next chunk starts: after this (start time text, uid). */
export type ExportCursor = readonly [string, string]

/**
 * Reads up to `n` rows matching `where` after `after` (from the start when
 * null), in (measurement_start_time, measurement_uid) order. `where` is a
 * filtersWhere() clause; its parameters are copied, not changed. `table` is
 * `measurements`, or one month's table detached from it (the archive's,
 * store/archive.ts): a name this code makes, never a client's.
 */
export async function readExportChunk(q: Queryable, where: Where, after: ExportCursor | null, n: number, table = 'measurements'): Promise<ExportRow[]> {
  const params = [...where.params]
  let sql = where.sql
  if (after !== null) {
    params.push(after[0], after[1])
    sql += ` AND (measurement_start_time, measurement_uid) > ($${params.length - 1}::timestamptz, $${params.length}::text)`
  }
  params.push(n)
  // The researcher's export reads the replica; the archive's detached months
  // (another table) are read where they were detached, on the primary.
  const r = await (table === 'measurements' ? reader(q) : q).query<ExportRow>(
    `/* bw:export.readExportChunk */ SELECT measurement_uid, report_id, input, domain, category_code, test_name,
      measurement_start_time, measurement_start_time::text AS start_key, probe_cc, probe_asn, probe_region, probe_id,
      doc->>'software_name' AS software_name, doc->>'software_version' AS software_version,
      anomaly, confirmed, failure, blocking_type, down, unreachable, verdict_reason, scoring_version, fingerprints_version,
      (doc - 'probe_id' - 'probe_ip' - 'probe')::text AS doc_text
    FROM ${table} WHERE ${sql}
    ORDER BY measurement_start_time, measurement_uid LIMIT $${params.length}`,
    params
  )
  return r.rows.map(row => ({ ...row, measurement_start_time: new Date(row.measurement_start_time) }))
}
