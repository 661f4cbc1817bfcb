/**
 * Writing measurements: the fast path shared by ingest, `import`,
 * `import-ooni` and `rescore`. One batch is three statements whatever its
 * size, with the rows passed as arrays and spread by unnest():
 *  1. create the month partitions the batch needs (outside the transaction);
 *  2. claim the uids in measurement_uids (ON CONFLICT DO NOTHING), which
 *     returns only the ones that were new;
 *  3. insert those rows into measurements, in the same transaction.
 * Two aggregator instances writing the same uid serialise on the uid's
 * primary key in step 2: the second waits for the first to commit, then
 * finds it there and counts a duplicate.
 *
 * Creating a partition locks the whole measurements table. Were it to queue
 * behind a batch that waits on a uid held by a later batch, which itself
 * queues behind the creation, the three would deadlock; so every batch holds
 * a shared advisory lock and creation takes it exclusively first: it waits
 * only for batches that already run, and new ones wait before taking any uid.
 */
import type { Database, Queryable } from './db.ts'

/** One measurement ready to store: the extracted columns and the document. */
export interface MeasurementRow {
  measurement_uid: string
  measurement_start_time: Date
  report_id: string | null
  probe_cc: string
  probe_asn: string
  probe_region: string | null
  probe_id: string | null
  test_name: string
  input: string | null
  domain: string | null
  category_code: string | null
  blocking_type: string | null
  anomaly: boolean
  confirmed: boolean
  failure: boolean
  scoring_version: number
  fingerprints_version: string
  /** The stored document, serialised (probe_ip already scrubbed). */
  doc_json: string
}

/** What a batch did: which uids were new and which were already stored (or repeated in the batch). */
export interface BatchResult { inserted: string[], duplicates: string[] }

const monthKey = (d: Date): string => d.toISOString().slice(0, 7)

/** The advisory lock between batches (shared) and partition creation (exclusive). */
export const PARTITION_LOCK = 0x626c6b02 // "blk" + 2

/** Remembers the partitions this process has made sure of, so most batches skip step 1. */
const knownMonths = new WeakMap<Database, Set<string>>()

/** Makes sure the month partitions for these times exist. */
export async function ensurePartitions (db: Database, times: Date[]): Promise<void> {
  let known = knownMonths.get(db)
  if (known === undefined) { known = new Set(); knownMonths.set(db, known) }
  const missing = new Map<string, Date>()
  for (const t of times) {
    const k = monthKey(t)
    if (!known.has(k) && !missing.has(k)) missing.set(k, t)
  }
  if (missing.size === 0) return
  await db.transaction(async tx => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK])
    await tx.query('SELECT ensure_measurement_partition(t) FROM unnest($1::timestamptz[]) AS t', [[...missing.values()].map(d => d.toISOString())])
  })
  for (const k of missing.keys()) known.add(k)
}

/** Inserts a batch; rows whose uid is already stored (or repeated) are counted as duplicates, never stored twice. */
export async function insertMeasurements (db: Database, rows: MeasurementRow[]): Promise<BatchResult> {
  if (rows.length === 0) return { inserted: [], duplicates: [] }
  // Repeats inside the batch are duplicates of their first occurrence. Sorting
  // by uid makes concurrent batches lock uids in one order (no deadlock).
  const unique = new Map<string, MeasurementRow>()
  const duplicates: string[] = []
  for (const r of rows) {
    if (unique.has(r.measurement_uid)) duplicates.push(r.measurement_uid)
    else unique.set(r.measurement_uid, r)
  }
  const sorted = [...unique.values()].sort((a, b) => a.measurement_uid < b.measurement_uid ? -1 : a.measurement_uid > b.measurement_uid ? 1 : 0)
  await ensurePartitions(db, sorted.map(r => r.measurement_start_time))
  const inserted = await db.transaction(async tx => {
    await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [PARTITION_LOCK])
    const claimed = await tx.query<{ measurement_uid: string }>(
      `INSERT INTO measurement_uids (measurement_uid, measurement_start_time)
       SELECT * FROM unnest($1::text[], $2::timestamptz[])
       ON CONFLICT DO NOTHING RETURNING measurement_uid`,
      [sorted.map(r => r.measurement_uid), sorted.map(r => r.measurement_start_time.toISOString())])
    const fresh = new Set(claimed.rows.map(r => r.measurement_uid))
    const toWrite = sorted.filter(r => fresh.has(r.measurement_uid))
    if (toWrite.length > 0) await writeRows(tx, toWrite)
    return toWrite.map(r => r.measurement_uid)
  })
  const insertedSet = new Set(inserted)
  for (const r of sorted) if (!insertedSet.has(r.measurement_uid)) duplicates.push(r.measurement_uid)
  return { inserted, duplicates }
}

const COLUMNS: Array<[keyof MeasurementRow, string, string]> = [
  ['measurement_uid', 'measurement_uid', 'text'],
  ['measurement_start_time', 'measurement_start_time', 'timestamptz'],
  ['report_id', 'report_id', 'text'],
  ['probe_cc', 'probe_cc', 'text'],
  ['probe_asn', 'probe_asn', 'text'],
  ['probe_region', 'probe_region', 'text'],
  ['probe_id', 'probe_id', 'text'],
  ['test_name', 'test_name', 'text'],
  ['input', 'input', 'text'],
  ['domain', 'domain', 'text'],
  ['category_code', 'category_code', 'text'],
  ['blocking_type', 'blocking_type', 'text'],
  ['anomaly', 'anomaly', 'bool'],
  ['confirmed', 'confirmed', 'bool'],
  ['failure', 'failure', 'bool'],
  ['scoring_version', 'scoring_version', 'int'],
  ['fingerprints_version', 'fingerprints_version', 'text'],
  ['doc_json', 'doc', 'jsonb']
]

const INSERT_SQL = `INSERT INTO measurements (${COLUMNS.map(c => c[1]).join(', ')})
  SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${c[2]}[]`).join(', ')})`

async function writeRows (tx: Queryable, rows: MeasurementRow[]): Promise<void> {
  const params = COLUMNS.map(([key]) => rows.map(r => {
    const v = r[key]
    return v instanceof Date ? v.toISOString() : v
  }))
  await tx.query(INSERT_SQL, params)
}

/** The columns a rescore changes. */
export interface RescoredRow {
  measurement_uid: string
  measurement_start_time: Date
  blocking_type: string | null
  anomaly: boolean
  confirmed: boolean
  failure: boolean
  scoring_version: number
  fingerprints_version: string
}

/** Updates the flags of stored rows in place (so that triggers on measurements see it), keeping their uids. */
export async function updateScores (db: Database, rows: RescoredRow[]): Promise<number> {
  if (rows.length === 0) return 0
  const r = await db.transaction(async tx => await tx.query(
    `UPDATE measurements m SET blocking_type = u.blocking_type, anomaly = u.anomaly, confirmed = u.confirmed,
       failure = u.failure, scoring_version = u.scoring_version, fingerprints_version = u.fingerprints_version
     FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bool[], $5::bool[], $6::bool[], $7::int[], $8::text[])
       AS u(measurement_uid, measurement_start_time, blocking_type, anomaly, confirmed, failure, scoring_version, fingerprints_version)
     WHERE m.measurement_start_time = u.measurement_start_time AND m.measurement_uid = u.measurement_uid
       AND (m.anomaly, m.confirmed, m.failure, m.blocking_type, m.scoring_version, m.fingerprints_version)
         IS DISTINCT FROM (u.anomaly, u.confirmed, u.failure, u.blocking_type, u.scoring_version, u.fingerprints_version)`,
    [rows.map(x => x.measurement_uid), rows.map(x => x.measurement_start_time.toISOString()), rows.map(x => x.blocking_type),
      rows.map(x => x.anomaly), rows.map(x => x.confirmed), rows.map(x => x.failure), rows.map(x => x.scoring_version), rows.map(x => x.fingerprints_version)]))
  return r.rowCount
}
