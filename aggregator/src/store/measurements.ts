/**
 * Writing measurements: the fast path shared by ingest, `import`,
 * `import-ooni` and `rescore`. One batch is a few statements whatever its
 * size:
 *  1. create the month partitions the batch needs (outside the transaction);
 *  2. COPY the rows into a temporary staging table (bw_ingest, emptied at
 *     commit), in COPY's text format: no array literal to build and parse;
 *  3. one statement inserts the rows into measurements, in key order, ON
 *     CONFLICT DO NOTHING: a row whose (measurement_start_time,
 *     measurement_uid) is already stored is a duplicate (migration 0104:
 *     deduplication by month partition). The rollup trigger runs once.
 * Two aggregator instances writing the same measurement serialise on its
 * primary key in step 3: the second waits for the first to commit, then
 * finds it there and counts a duplicate.
 *
 * Creating a partition locks the whole measurements table. Were it to queue
 * behind a batch that waits on a uid held by a later batch, which itself
 * queues behind the creation, the three would deadlock; so every batch holds
 * a shared advisory lock and creation takes it exclusively first: it waits
 * only for batches that already run, and new ones wait before taking any uid.
 */
import { type Database, type Queryable, reader } from './db.ts'
import { filtersWhere, type MeasurementFilters } from './filters.ts'
import { recordUploads } from './probes.ts'

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
  down: boolean
  unreachable: boolean
  verdict_reason: string | null
  /** The names of every fingerprint that matched; null when none. */
  fingerprints: string[] | null
  scoring_version: number
  fingerprints_version: string
  /** The stored document, serialised (probe_ip already scrubbed). */
  doc_json: string
}

/** What a batch did: which uids were new and which were already stored (or repeated in the batch). */
export interface BatchResult {
  inserted: string[]
  duplicates: string[]
}

const monthKey = (d: Date): string => d.toISOString().slice(0, 7)

/** The advisory lock between batches (shared) and partition creation (exclusive). */
export const PARTITION_LOCK = 0x626c6b02 // "blk" + 2

/** Remembers the partitions this process has made sure of, so most batches skip step 1. */
const knownMonths = new WeakMap<Database, Set<string>>()

/** Makes sure the month partitions for these times exist. */
export async function ensurePartitions(db: Database, times: Date[]): Promise<void> {
  let known = knownMonths.get(db)
  if (known === undefined) {
    known = new Set()
    knownMonths.set(db, known)
  }
  const missing = new Map<string, Date>()
  for (const t of times) {
    const k = monthKey(t)
    if (!known.has(k) && !missing.has(k)) missing.set(k, t)
  }
  if (missing.size === 0) return
  await db.transaction(async tx => {
    await tx.query('/* bw:measurements.ensurePartitions */ SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK])
    await tx.query('/* bw:measurements.ensurePartitions */ SELECT ensure_measurement_partition(t) FROM unnest($1::timestamptz[]) AS t', [[...missing.values()].map(d => d.toISOString())])
  })
  for (const k of missing.keys()) known.add(k)
}

/** A row's key: two rows with the same key are the same measurement. */
const rowKey = (r: { measurement_uid: string; measurement_start_time: Date | string }): string => `${r.measurement_uid}\u0000${new Date(r.measurement_start_time).getTime()}`

/**
 * Writes rows inside the caller's transaction, which holds PARTITION_LOCK
 * shared, has called bw_ingest_open() and whose partitions exist: per row, in the order given, true when
 * stored and false when a duplicate (already stored, or repeated earlier in
 * `rows`: the first occurrence is the one stored).
 */
async function writeRows(tx: Queryable, rows: MeasurementRow[]): Promise<boolean[]> {
  // Inserting in key order makes concurrent batches take the keys in one
  // order (no deadlock).
  const unique = new Map<string, MeasurementRow>()
  for (const r of rows) {
    const key = rowKey(r)
    if (!unique.has(key)) unique.set(key, r)
  }
  if (unique.size === 0) return []
  const sorted = [...unique.values()].sort((a, b) => (a.measurement_uid < b.measurement_uid ? -1 : a.measurement_uid > b.measurement_uid ? 1 : 0))
  await tx.copyIn(`bw_ingest (${NAMES})`, sorted.map(copyLine).join(''))
  const r = await tx.query<{ measurement_uid: string; measurement_start_time: Date | string }>(INSERT_SQL)
  const inserted = new Set(r.rows.map(rowKey))
  return rows.map(row => {
    const key = rowKey(row)
    // Only the first occurrence of a key may claim the stored row.
    if (unique.get(key) === row && inserted.has(key)) return true
    return false
  })
}

/**
 * Runs `write` in a transaction holding PARTITION_LOCK shared, once the
 * partitions of `times` exist; when a month partition this process knew was
 * dropped since (by another process), forgets what it knew, makes sure
 * again, and writes once more.
 */
async function withPartitions<T>(db: Database, times: Date[], write: (tx: Queryable) => Promise<T>): Promise<T> {
  await ensurePartitions(db, times)
  const attempt = async (): Promise<T> =>
    await db.transaction(async tx => {
      // One round trip: the lock, and the staging table emptied and ready (writeRows).
      await tx.query('/* bw:measurements.insertMeasurements */ SELECT pg_advisory_xact_lock_shared($1), bw_ingest_open()', [PARTITION_LOCK])
      return await write(tx)
    })
  try {
    return await attempt()
  } catch (err) {
    if ((err as { code?: string }).code !== '23514' || !/no partition/.test((err as Error).message)) throw err
    knownMonths.delete(db)
    await ensurePartitions(db, times)
    return await attempt()
  }
}

/** Inserts a batch; rows whose uid is already stored (or repeated) are counted as duplicates, never stored twice. */
export async function insertMeasurements(db: Database, rows: MeasurementRow[]): Promise<BatchResult> {
  if (rows.length === 0) return { inserted: [], duplicates: [] }
  const stored = await withPartitions(
    db,
    rows.map(r => r.measurement_start_time),
    async tx => await writeRows(tx, rows)
  )
  const inserted: string[] = []
  const duplicates: string[] = []
  for (let i = 0; i < rows.length; i++) (stored[i] ? inserted : duplicates).push(rows[i]!.measurement_uid)
  return { inserted, duplicates }
}

/** What became of the rows of several probes' uploads written together ({@link insertUploads}). */
export interface UploadsResult {
  /** Per row, in the order given: true when stored, false when a duplicate or its probe's token was refused. */
  stored: boolean[]
  /** The probes whose uploads were taken (registered, not revoked); their last upload time is now. */
  active: Set<string>
  /** The probes that were revoked (their rows are not stored). */
  revoked: Set<string>
}

/**
 * Writes the uploads of several probes in one transaction (group commit,
 * routes/ingest.ts): each probe is checked again under a row lock (a
 * revocation that committed since its token was looked up is seen here, and
 * one that comes later waits for this commit), the active probes' last
 * upload time is set, and only their rows are written. `rows[i].probe_id`
 * names the uploading probe.
 */
export async function insertUploads(db: Database, rows: MeasurementRow[], probeIds: string[]): Promise<UploadsResult> {
  return await withPartitions(
    db,
    rows.map(r => r.measurement_start_time),
    async tx => {
      const { active, revoked } = await recordUploads(tx, probeIds)
      const keep = rows.filter(r => r.probe_id !== null && active.has(r.probe_id))
      const written = await writeRows(tx, keep)
      const storedOf = new Map<MeasurementRow, boolean>()
      for (let i = 0; i < keep.length; i++) storedOf.set(keep[i]!, written[i]!)
      return { stored: rows.map(r => storedOf.get(r) ?? false), active, revoked }
    }
  )
}

/** The stored columns, in COPY order: the row's key and the column's name. */
const COLUMNS: Array<[keyof MeasurementRow, string]> = [
  ['measurement_uid', 'measurement_uid'],
  ['measurement_start_time', 'measurement_start_time'],
  ['report_id', 'report_id'],
  ['probe_cc', 'probe_cc'],
  ['probe_asn', 'probe_asn'],
  ['probe_region', 'probe_region'],
  ['probe_id', 'probe_id'],
  ['test_name', 'test_name'],
  ['input', 'input'],
  ['domain', 'domain'],
  ['category_code', 'category_code'],
  ['blocking_type', 'blocking_type'],
  ['anomaly', 'anomaly'],
  ['confirmed', 'confirmed'],
  ['failure', 'failure'],
  ['down', 'down'],
  ['unreachable', 'unreachable'],
  ['verdict_reason', 'verdict_reason'],
  ['fingerprints', 'fingerprints'],
  ['scoring_version', 'scoring_version'],
  ['fingerprints_version', 'fingerprints_version'],
  ['doc_json', 'doc']
]

const NAMES = COLUMNS.map(c => c[1]).join(', ')
const INSERT_SQL = `/* bw:measurements.insertMeasurements */ INSERT INTO measurements (${NAMES})
  SELECT ${NAMES} FROM bw_ingest ORDER BY measurement_start_time, measurement_uid
  ON CONFLICT DO NOTHING
  RETURNING measurement_uid, measurement_start_time`

const SPECIAL = /[\\\t\n\r]/
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** One value in COPY's text format. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N'
  let s: string
  if (typeof v === 'string') s = v
  else if (typeof v === 'boolean') return v ? 't' : 'f'
  else if (v instanceof Date) return v.toISOString()
  else if (Array.isArray(v)) s = '{' + v.map(x => '"' + String(x).replace(/["\\]/g, c => '\\' + c) + '"').join(',') + '}'
  else s = String(v)
  return SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, c => ESCAPES[c]) : s
}

/** One row in COPY's text format, newline included. */
export function copyLine(r: MeasurementRow): string {
  let line = ''
  for (let i = 0; i < COLUMNS.length; i++) line += (i === 0 ? '' : '\t') + copyValue(r[COLUMNS[i][0]])
  return line + '\n'
}

/** The columns a rescore changes: everything the verdict code decides. */
export type RescoredRow = Pick<
  MeasurementRow,
  | 'measurement_uid'
  | 'measurement_start_time'
  | 'blocking_type'
  | 'anomaly'
  | 'confirmed'
  | 'failure'
  | 'down'
  | 'unreachable'
  | 'verdict_reason'
  | 'fingerprints'
  | 'scoring_version'
  | 'fingerprints_version'
>

/** What a rescore of some rows did. */
export interface RescoreResult {
  /** Rows whose stored judgement (flags, blocking type, down, unreachable, reason, fingerprints) changed. */
  changed: number
  /** Rows whose judgement stayed and whose versions were brought up to date. */
  restamped: number
}

/**
 * Updates the judgement of stored rows in place (so that the rollup trigger
 * sees the change), keeping their uids; rows already up to date are left
 * alone. `rollups: false` leaves the rollups behind, for a rebuild.
 */
export async function updateScores(db: Database, rows: RescoredRow[], opts: { rollups?: boolean } = {}): Promise<RescoreResult> {
  if (rows.length === 0) return { changed: 0, restamped: 0 }
  const r = await db.transaction(async tx => {
    // Off only for the upgrade, which rebuilds the rollups afterwards (rebuildRollups).
    if (opts.rollups === false) await tx.query("/* bw:measurements.updateScores */ SELECT set_config('blockwatch.rollups', 'off', true)")
    return await tx.query<{ changed: boolean }>(
      `/* bw:measurements.updateScores */ WITH u AS (
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bool[], $5::bool[], $6::bool[], $7::bool[], $8::bool[], $9::text[],
         $10::text[], $11::int[], $12::text[])
         AS u(measurement_uid, measurement_start_time, blocking_type, anomaly, confirmed, failure, down, unreachable, verdict_reason,
           fingerprints, scoring_version, fingerprints_version)),
     old AS (
       SELECT m.measurement_uid, (m.anomaly, m.confirmed, m.failure, m.blocking_type, m.down, m.unreachable, m.verdict_reason, m.fingerprints)
         IS DISTINCT FROM (u.anomaly, u.confirmed, u.failure, u.blocking_type, u.down, u.unreachable, u.verdict_reason,
           CASE WHEN u.fingerprints IS NULL THEN NULL ELSE string_to_array(u.fingerprints, chr(31)) END) AS changed
       FROM measurements m JOIN u ON m.measurement_start_time = u.measurement_start_time AND m.measurement_uid = u.measurement_uid)
     UPDATE measurements m SET blocking_type = u.blocking_type, anomaly = u.anomaly, confirmed = u.confirmed, failure = u.failure,
       down = u.down, unreachable = u.unreachable, verdict_reason = u.verdict_reason,
       fingerprints = CASE WHEN u.fingerprints IS NULL THEN NULL ELSE string_to_array(u.fingerprints, chr(31)) END,
       scoring_version = u.scoring_version, fingerprints_version = u.fingerprints_version
     FROM u JOIN old USING (measurement_uid)
     WHERE m.measurement_start_time = u.measurement_start_time AND m.measurement_uid = u.measurement_uid
       AND (old.changed OR (m.scoring_version, m.fingerprints_version) IS DISTINCT FROM (u.scoring_version, u.fingerprints_version))
     RETURNING old.changed`,
      [
        rows.map(x => x.measurement_uid),
        rows.map(x => x.measurement_start_time.toISOString()),
        rows.map(x => x.blocking_type),
        rows.map(x => x.anomaly),
        rows.map(x => x.confirmed),
        rows.map(x => x.failure),
        rows.map(x => x.down),
        rows.map(x => x.unreachable),
        rows.map(x => x.verdict_reason),
        rows.map(x => (x.fingerprints === null ? null : x.fingerprints.join('\x1f'))),
        rows.map(x => x.scoring_version),
        rows.map(x => x.fingerprints_version)
      ]
    )
  })
  const changed = r.rows.filter(x => x.changed).length
  return { changed, restamped: r.rows.length - changed }
}

/**
 * Rebuilds every rollup from measurements (migration 0103's tl_rebuild),
 * holding ingest off meanwhile, and queues every series for its events.
 */
export async function rebuildRollups(db: Database): Promise<void> {
  await db.transaction(async tx => {
    await tx.query('/* bw:measurements.rebuildRollups */ SELECT tl_rebuild()')
    await markAllDirty(tx)
  })
}

/** Queues every series (and every country's outages) for its events, from its first measurement on. */
export async function markAllDirty(q: Queryable, cc?: string): Promise<number> {
  const r = await q.query(
    `/* bw:measurements.markAllDirty */ INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since, anomalous)
    SELECT 'blocking', probe_cc, domain, test_name, min(bucket), bool_or(anomalous_probes IS NOT NULL) FROM tl_day
    WHERE lvl = 'c' AND ($1::text IS NULL OR probe_cc = $1) GROUP BY 2, 3, 4
    UNION ALL SELECT 'outage', probe_cc, '', '', min(bucket), false FROM tl_day
    WHERE lvl = 'c' AND ($1::text IS NULL OR probe_cc = $1) GROUP BY 2`,
    [cc ?? null]
  )
  return r.rowCount
}

/** Rows judged by another scoring version than `version`. */
export async function staleRows(db: Queryable, version: number): Promise<number> {
  const r = await db.query<{ n: string }>('/* bw:measurements.staleRows */ SELECT count(*)::bigint::text AS n FROM measurements WHERE scoring_version <> $1', [version])
  return Number(r.rows[0].n)
}

/** A stored measurement's envelope and verdict, as the list and lookup routes read it. */
export interface MeasurementSummary {
  measurement_uid: string
  report_id: string | null
  input: string | null
  domain: string | null
  category_code: string | null
  test_name: string
  measurement_start_time: Date | string
  probe_cc: string
  probe_asn: string
  probe_region: string | null
  probe_id: string | null
  blocking_type: string | null
  anomaly: boolean
  confirmed: boolean
  failure: boolean
}

/** A summary with its stored document (an object, or JSON text on some drivers). */
export type MeasurementWithDoc = MeasurementSummary & { doc: Record<string, unknown> | string }

/** A summary with its document and every stored verdict column. */
export type MeasurementDetail = MeasurementSummary & {
  doc: Record<string, unknown> | string
  scoring_version: number
  fingerprints_version: string
  down: boolean
  unreachable: boolean
  verdict_reason: string | null
  fingerprints: string[] | null
}

/** The columns of a MeasurementSummary. */
const SUMMARY_COLUMNS =
  'measurement_uid, report_id, input, domain, category_code, test_name, measurement_start_time, probe_cc, probe_asn, probe_region, probe_id, blocking_type, anomaly, confirmed, failure'

/** Where a page of the measurement list starts and how long it is. */
export interface PageOptions {
  /** Newest first (true) or oldest first. */
  desc: boolean
  /** The sort key (measurement_start_time as ISO, measurement_uid) of the row before the page, or null. */
  after: readonly [string, string] | null
  /** Rows to read. */
  limit: number
  /** Rows to skip first (OONI's offset paging). */
  offset: number
}

/** Reads one page of the filtered measurements, by (measurement_start_time, measurement_uid). */
export async function listMeasurements(q: Queryable, f: MeasurementFilters, p: PageOptions): Promise<MeasurementSummary[]> {
  const { sql: base, params } = filtersWhere(f)
  let where = base
  if (p.after !== null) {
    params.push(p.after[0], p.after[1])
    where += ` AND (measurement_start_time, measurement_uid) ${p.desc ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::text)`
  }
  params.push(p.limit)
  const dir = p.desc ? 'DESC' : 'ASC'
  let sql = `/* bw:measurements.listMeasurements */ SELECT ${SUMMARY_COLUMNS} FROM measurements WHERE ${where}
    ORDER BY measurement_start_time ${dir}, measurement_uid ${dir} LIMIT $${params.length}`
  if (p.offset > 0) {
    params.push(p.offset)
    sql += ` OFFSET $${params.length}`
  }
  return (await reader(q).query<MeasurementSummary>(sql, params)).rows
}

/** One measurement by uid, with everything stored about it; a uid stored twice answers with the first stored. */
export async function measurementByUid(q: Queryable, uid: string): Promise<MeasurementDetail | undefined> {
  const r = await reader(q).query<MeasurementDetail>(
    `/* bw:measurements.measurementByUid */ SELECT ${SUMMARY_COLUMNS}, doc, scoring_version, fingerprints_version, down, unreachable, verdict_reason, fingerprints FROM measurements
     WHERE measurement_uid = $1 ORDER BY ingested_at, measurement_start_time LIMIT 1`,
    [uid]
  )
  return r.rows[0]
}

/** One measurement and its document by uid (the first stored, as above). */
export async function measurementDocByUid(q: Queryable, uid: string): Promise<MeasurementWithDoc | undefined> {
  const r = await reader(q).query<MeasurementWithDoc>(
    `/* bw:measurements.measurementDocByUid */ SELECT ${SUMMARY_COLUMNS}, doc FROM measurements WHERE measurement_uid = $1
    ORDER BY ingested_at, measurement_start_time LIMIT 1`,
    [uid]
  )
  return r.rows[0]
}

/**
 * A report's first measurement of `input`, with its document; without
 * input, the one without (OONI's '' is our null).
 */
export async function measurementDocByReport(q: Queryable, reportId: string, input: string | undefined): Promise<MeasurementWithDoc | undefined> {
  const r =
    input !== undefined
      ? await reader(q).query<MeasurementWithDoc>(
          `/* bw:measurements.measurementDocByReport */ SELECT ${SUMMARY_COLUMNS}, doc FROM measurements WHERE report_id = $1 AND input = $2
        ORDER BY measurement_start_time, measurement_uid LIMIT 1`,
          [reportId, input]
        )
      : await reader(q).query<MeasurementWithDoc>(
          `/* bw:measurements.measurementDocByReport */ SELECT ${SUMMARY_COLUMNS}, doc FROM measurements WHERE report_id = $1 AND coalesce(input, '') = ''
        ORDER BY measurement_start_time, measurement_uid LIMIT 1`,
          [reportId]
        )
  return r.rows[0]
}

/** Measurements and distinct probes per country since a time. Probe ids are counted, never returned. */
export async function countsSince(q: Queryable, since: Date): Promise<Array<{ probe_cc: string; measurements: number; probes: number }>> {
  const r = await reader(q).query<{ probe_cc: string; measurements: number; probes: number }>(
    `/* bw:measurements.countsSince */ SELECT probe_cc, count(*)::int AS measurements, count(DISTINCT probe_id)::int AS probes
       FROM measurements WHERE measurement_start_time >= $1
      GROUP BY probe_cc ORDER BY probe_cc`,
    [since.toISOString()]
  )
  return r.rows
}

/** Distinct probes over all countries since a time (a probe that moved counts once). */
export async function probesSince(q: Queryable, since: Date): Promise<number> {
  const r = await reader(q).query<{ n: number }>('/* bw:measurements.probesSince */ SELECT count(DISTINCT probe_id)::int AS n FROM measurements WHERE measurement_start_time >= $1', [
    since.toISOString()
  ])
  return r.rows[0]?.n ?? 0
}

/** Which rows a rescore reads: all, or only those judged by another scoring or fingerprint version. */
export interface RescoreScope {
  stale?: { scoringVersion: number; fingerprintsVersion: string }
}

/** The number of rows in a rescore's scope. */
export async function countForRescore(q: Queryable, s: RescoreScope): Promise<number> {
  const r = await q.query<{ n: string }>(
    `/* bw:measurements.countForRescore */ SELECT count(*)::bigint::text AS n FROM measurements WHERE TRUE ${s.stale !== undefined ? 'AND (scoring_version <> $1 OR fingerprints_version <> $2)' : ''}`,
    s.stale !== undefined ? [s.stale.scoringVersion, s.stale.fingerprintsVersion] : []
  )
  return Number(r.rows[0].n)
}

/** The next `n` documents of a rescore's scope after the key `after`, in key order. */
export async function docsForRescore(
  q: Queryable,
  s: RescoreScope,
  after: readonly [string, string],
  n: number
): Promise<Array<{ measurement_uid: string; measurement_start_time: Date | string; doc: unknown }>> {
  const params: unknown[] = [after[0], after[1]]
  if (s.stale !== undefined) params.push(s.stale.scoringVersion, s.stale.fingerprintsVersion)
  params.push(n)
  const r = await q.query<{ measurement_uid: string; measurement_start_time: Date | string; doc: unknown }>(
    `/* bw:measurements.docsForRescore */ SELECT measurement_uid, measurement_start_time, doc FROM measurements
     WHERE (measurement_start_time, measurement_uid) > ($1::timestamptz, $2::text) ${s.stale !== undefined ? 'AND (scoring_version <> $3 OR fingerprints_version <> $4)' : ''}
     ORDER BY measurement_start_time, measurement_uid LIMIT $${params.length}`,
    params
  )
  return r.rows
}
