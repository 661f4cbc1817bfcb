/**
 * The SQL of retention to Parquet (`blockwatch aggregator archive`, issue
 * 18; migration 0105). A month goes through three recorded states, each
 * step safe to run again, so that a run killed anywhere resumes:
 *   detach → (detached) → write and verify the file → (written) → drop → (done).
 * Partition creation and detaching share PARTITION_LOCK, so a batch that
 * is writing into a month finishes before the month is detached, and the
 * month's row in archived_months (committed with the detach) makes
 * ensure_measurement_partition refuse it afterwards.
 */
import type { Database, Queryable } from './db.ts'
import { readExportChunk, type ExportCursor, type ExportRow } from './export.ts'
import { PARTITION_LOCK } from './measurements.ts'

/** A month's archiving state. */
export type ArchiveState = 'detached' | 'written' | 'done'

/** One archived (or being archived) month, as recorded. */
export interface ArchivedMonth {
  month: string
  state: ArchiveState
  rows: number | null
  file: string | null
  bytes: number | null
}

/** The partition table of a month ("2024-01" → measurements_2024_01). */
export const partitionOf = (month: string): string => `measurements_${month.replace('-', '_')}`

/** Every month recorded in archived_months, oldest first ("YYYY-MM"). */
export async function archivedMonths(q: Queryable): Promise<ArchivedMonth[]> {
  const r = await q.query<{ month: string; state: ArchiveState; rows: string | null; file: string | null; bytes: string | null }>(
    "/* bw:archive.archivedMonths */ SELECT to_char(month, 'YYYY-MM') AS month, state, rows::text, file, bytes::text FROM archived_months ORDER BY month"
  )
  return r.rows.map(x => ({ month: x.month, state: x.state, rows: x.rows === null ? null : Number(x.rows), file: x.file, bytes: x.bytes === null ? null : Number(x.bytes) }))
}

/** The months whose partitions are attached and end before `before` (a month, "YYYY-MM"), oldest first. */
export async function attachedMonthsBefore(q: Queryable, before: string): Promise<string[]> {
  const r = await q.query<{ month: string }>(
    `/* bw:archive.attachedMonthsBefore */ SELECT to_char(to_date(substr(c.relname, 14), 'YYYY_MM'), 'YYYY-MM') AS month
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'measurements'::regclass AND c.relname ~ '^measurements_[0-9]{4}_[0-9]{2}$'
        AND to_date(substr(c.relname, 14), 'YYYY_MM') < to_date($1, 'YYYY-MM')
      ORDER BY 1`,
    [before]
  )
  return r.rows.map(x => x.month)
}

/**
 * Detaches a month's partition and records it (state detached), in one
 * transaction; nothing happens when it is recorded already. Waits for
 * batches that are writing (PARTITION_LOCK), as partition creation does.
 */
export async function detachMonth(db: Database, month: string): Promise<void> {
  await db.transaction(async tx => {
    await tx.query('/* bw:archive.detachMonth */ SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK])
    const ins = await tx.query("/* bw:archive.detachMonth */ INSERT INTO archived_months (month, state) VALUES (to_date($1, 'YYYY-MM'), 'detached') ON CONFLICT DO NOTHING RETURNING month", [month])
    if (ins.rows.length === 0) return
    const attached = await tx.query(`/* bw:archive.detachMonth */ SELECT 1 FROM pg_inherits WHERE inhparent = 'measurements'::regclass AND inhrelid = to_regclass($1)`, [partitionOf(month)])
    if (attached.rows.length > 0) await tx.query(`/* bw:archive.detachMonth */ ALTER TABLE measurements DETACH PARTITION ${partitionOf(month)}`)
  })
}

/** Rows in a detached month's table, or null when the table is gone. */
export async function detachedRowCount(q: Queryable, month: string): Promise<number | null> {
  const exists = await q.query<{ t: string | null }>('/* bw:archive.detachedRowCount */ SELECT to_regclass($1)::text AS t', [partitionOf(month)])
  if (exists.rows[0].t === null) return null
  const r = await q.query<{ n: string }>(`/* bw:archive.detachedRowCount */ SELECT count(*)::text AS n FROM ${partitionOf(month)}`)
  return Number(r.rows[0].n)
}

/**
 * Reads up to `n` rows of a detached month after `after` (a (time text,
 * uid) keyset position, null for the start), in key order, with an
 * export's columns, so that the export's Parquet writer writes them.
 */
export async function readDetachedChunk(q: Queryable, month: string, after: ExportCursor | null, n: number): Promise<ExportRow[]> {
  if (!/^\d{4}-\d{2}$/.test(month)) throw new Error(`not a month: ${month}`)
  return await readExportChunk(q, { sql: 'TRUE', params: [] }, after, n, partitionOf(month))
}

/** Records a month's verified file (state written). */
export async function markWritten(q: Queryable, month: string, file: string, rows: number, bytes: number): Promise<void> {
  await q.query("/* bw:archive.markWritten */ UPDATE archived_months SET state = 'written', file = $2, rows = $3, bytes = $4 WHERE month = to_date($1, 'YYYY-MM') AND state = 'detached'", [
    month,
    file,
    rows,
    bytes
  ])
}

/** Drops a written month's table and records it done, in one transaction. */
export async function dropMonth(db: Database, month: string): Promise<void> {
  await db.transaction(async tx => {
    await tx.query(`/* bw:archive.dropMonth */ DROP TABLE IF EXISTS ${partitionOf(month)}`)
    await tx.query("/* bw:archive.dropMonth */ UPDATE archived_months SET state = 'done', finished_at = now() WHERE month = to_date($1, 'YYYY-MM') AND state = 'written'", [month])
  })
}

/** The archived months among these times' months ("YYYY-MM"), for ingest to refuse. */
export async function archivedAmong(q: Queryable, times: Date[]): Promise<Set<string>> {
  const months = [...new Set(times.map(t => t.toISOString().slice(0, 7)))]
  if (months.length === 0) return new Set()
  const r = await q.query<{ month: string }>(
    "/* bw:archive.archivedAmong */ SELECT to_char(month, 'YYYY-MM') AS month FROM archived_months WHERE month = ANY(SELECT to_date(m, 'YYYY-MM') FROM unnest($1::text[]) AS m)",
    [months]
  )
  return new Set(r.rows.map(x => x.month))
}
