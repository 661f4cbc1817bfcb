/**
 * The timeline tables (migration 0103): the SQL that reads the rollups
 * (tl_hour, tl_day), reads and writes events, and reads the windows of
 * measurements the event job recomputes from. Timelines read only the
 * rollups; the detector reads a series' measurements from its dirty point
 * on, through the series index, using the verdict columns stored at ingest.
 */
import { type Queryable, reader } from './db.ts'
import { uuidv7 } from '../../../shared/src/uid.ts'
import type { BucketCounts } from '../timeline/states.ts'
import type { Episode, ProbeHourRow, ProbeInfo } from '../timeline/detect.ts'
import { confirmsCensorship, fingerprintsByName, type FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { enqueueEventChanges, retractEvents } from './webhooks.ts'
import { eventChanges } from '../webhooks/changes.ts'

const ms = (v: unknown): number | null => (v === null || v === undefined ? null : new Date(v as string).getTime())

interface RawProbeHour {
  hour: string
  probe_asn: string
  probe_region: string
  probe_key: string
  n: number
  ok: number
  anomaly: number
  confirmed: number
  failure: number
  down: number
  unreachable: number
  first_anomaly: string | null
  last_anomaly: string | null
  first_unreachable: string | null
  last_unreachable: string | null
  first_ok: string | null
  last_ok: string | null
  sample_uid: string | null
  blocking_type: string | null
}

function toRow(r: RawProbeHour): ProbeHourRow {
  return {
    hour: ms(r.hour)!,
    asn: r.probe_asn,
    region: r.probe_region,
    probe: r.probe_key,
    n: Number(r.n),
    ok: Number(r.ok),
    anomaly: Number(r.anomaly),
    confirmed: Number(r.confirmed),
    failure: Number(r.failure),
    down: Number(r.down),
    unreachable: Number(r.unreachable),
    first_anomaly: ms(r.first_anomaly),
    last_anomaly: ms(r.last_anomaly),
    first_unreachable: ms(r.first_unreachable),
    last_unreachable: ms(r.last_unreachable),
    first_ok: ms(r.first_ok),
    last_ok: ms(r.last_ok),
    sample_uid: r.sample_uid,
    blocking_type: r.blocking_type
  }
}

/** A series' rows per probe and hour, from measurements (the detector's input). */
const PROBE_HOUR_SELECT = `SELECT date_trunc('hour', measurement_start_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
    probe_asn, coalesce(probe_region, '') AS probe_region, coalesce(probe_id, 'r:' || coalesce(report_id, measurement_uid)) AS probe_key,
    count(*)::int AS n,
    (count(*) FILTER (WHERE NOT failure AND NOT anomaly AND NOT confirmed))::int AS ok,
    (count(*) FILTER (WHERE NOT failure AND anomaly AND NOT confirmed))::int AS anomaly,
    (count(*) FILTER (WHERE NOT failure AND confirmed))::int AS confirmed,
    (count(*) FILTER (WHERE failure))::int AS failure,
    (count(*) FILTER (WHERE NOT failure AND down))::int AS down,
    (count(*) FILTER (WHERE failure AND unreachable))::int AS unreachable,
    min(measurement_start_time) FILTER (WHERE NOT failure AND (anomaly OR confirmed)) AS first_anomaly,
    max(measurement_start_time) FILTER (WHERE NOT failure AND (anomaly OR confirmed)) AS last_anomaly,
    min(measurement_start_time) FILTER (WHERE failure AND unreachable) AS first_unreachable,
    max(measurement_start_time) FILTER (WHERE failure AND unreachable) AS last_unreachable,
    min(measurement_start_time) FILTER (WHERE NOT failure AND NOT anomaly AND NOT confirmed AND NOT down) AS first_ok,
    max(measurement_start_time) FILTER (WHERE NOT failure AND NOT anomaly AND NOT confirmed AND NOT down) AS last_ok,
    max(CASE WHEN confirmed THEN '1' ELSE '0' END || measurement_uid) FILTER (WHERE NOT failure AND (anomaly OR confirmed)) AS sample_uid,
    max(blocking_type) FILTER (WHERE NOT failure AND (anomaly OR confirmed)) AS blocking_type
  FROM measurements`
const PROBE_HOUR_GROUP = 'GROUP BY 1, 2, 3, 4'

/** One series' (country × domain × test_name) rows per probe and hour, from `since` on. */
export async function loadSeriesRows(q: Queryable, cc: string, domain: string, testName: string, since = new Date(0)): Promise<ProbeHourRow[]> {
  const r = await q.query<RawProbeHour>(
    `/* bw:timeline.loadSeriesRows */ ${PROBE_HOUR_SELECT}
    WHERE probe_cc = $1 AND coalesce(domain, '') = $2 AND test_name = $3 AND measurement_start_time >= $4 ${PROBE_HOUR_GROUP}`,
    [cc, domain, testName, since.toISOString()]
  )
  return r.rows.map(toRow)
}

/** One country's rows summed over every target, per probe and hour, from `since` on (for outages). */
export async function loadCountryRows(q: Queryable, cc: string, since = new Date(0)): Promise<ProbeHourRow[]> {
  const r = await q.query<RawProbeHour>(
    `/* bw:timeline.loadCountryRows */ ${PROBE_HOUR_SELECT}
    WHERE probe_cc = $1 AND measurement_start_time >= $2 ${PROBE_HOUR_GROUP}`,
    [cc, since.toISOString()]
  )
  return r.rows.map(row => ({ ...toRow(row), sample_uid: null, blocking_type: null }))
}

/** The start and end of one series' stored events (to choose the window a recomputation starts from). */
export async function seriesEventSpans(q: Queryable, kind: 'blocking' | 'outage', cc: string, domain: string, testName: string): Promise<Array<{ start: number; end: number | null }>> {
  const r = await q.query<{ start_time: string; end_time: string | null }>(
    '/* bw:timeline.seriesEventSpans */ SELECT start_time, end_time FROM tl_events WHERE kind = $1 AND probe_cc = $2 AND domain = $3 AND test_name = $4',
    [kind, cc, domain, testName]
  )
  return r.rows.map(x => ({ start: ms(x.start_time)!, end: ms(x.end_time) }))
}

/**
 * What the detector knows of the given probes: their history, and their
 * source (probes that registered within the same minute from the same
 * network count as one; see docs/methodology.md).
 */
export async function loadProbes(q: Queryable, keys: string[]): Promise<Map<string, ProbeInfo>> {
  const out = new Map<string, ProbeInfo>()
  if (keys.length === 0) return out
  const r = await q.query<{ probe_key: string; source: string; first_seen: string }>(
    '/* bw:timeline.loadProbes */ SELECT probe_key, source, first_seen FROM tl_probes WHERE probe_key = ANY($1::text[])',
    [keys]
  )
  for (const row of r.rows) out.set(row.probe_key, { first_seen: ms(row.first_seen)!, source: row.source })
  return out
}

/** A stored event, as the API shows it. */
export interface EventRecord {
  event_id: string
  kind: 'blocking' | 'outage'
  probe_cc: string
  domain: string | null
  test_name: string | null
  start_time: string
  end_time: string | null
  ongoing: boolean
  last_anomaly_time: string
  blocking_type: string | null
  probe_asns: string[]
  probe_regions: string[]
  evidence: {
    measurement_count: number
    anomaly_count: number
    confirmed_count: number
    probe_count: number
    source_count: number
    fingerprints: string[]
    sample_measurement_uids: string[]
  }
  confidence: number
  rule: string
  outlier: boolean
  outlier_reason: string | null
  detected_at: string
  ended_at: string | null
  updated_at: string
}

interface RawEvent {
  event_id: string
  kind: 'blocking' | 'outage'
  probe_cc: string
  domain: string
  test_name: string
  start_time: string
  end_time: string | null
  last_anomaly: string
  blocking_type: string | null
  asns: string[]
  regions: string[]
  measurement_count: number
  anomaly_count: number
  confirmed_count: number
  probe_count: number
  source_count: number
  fingerprints: string[]
  sample_uids: string[]
  confidence: number
  rule: string
  outlier: boolean
  outlier_reason: string | null
  detected_at: string
  ended_at: string | null
  updated_at: string
}

const iso = (v: unknown): string => new Date(v as string).toISOString()

function toEvent(r: RawEvent): EventRecord {
  return {
    event_id: r.event_id,
    kind: r.kind,
    probe_cc: r.probe_cc.trim(),
    domain: r.domain === '' ? null : r.domain,
    test_name: r.test_name === '' ? null : r.test_name,
    start_time: iso(r.start_time),
    end_time: r.end_time === null ? null : iso(r.end_time),
    ongoing: r.end_time === null,
    last_anomaly_time: iso(r.last_anomaly),
    blocking_type: r.blocking_type,
    probe_asns: r.asns,
    probe_regions: r.regions,
    evidence: {
      measurement_count: Number(r.measurement_count),
      anomaly_count: Number(r.anomaly_count),
      confirmed_count: Number(r.confirmed_count),
      probe_count: Number(r.probe_count),
      source_count: Number(r.source_count),
      fingerprints: r.fingerprints,
      sample_measurement_uids: r.sample_uids
    },
    confidence: Number(r.confidence),
    rule: r.rule,
    outlier: r.outlier,
    outlier_reason: r.outlier_reason,
    detected_at: iso(r.detected_at),
    ended_at: r.ended_at === null ? null : iso(r.ended_at),
    updated_at: iso(r.updated_at)
  }
}

/**
 * The censorship-confirming fingerprints of a few confirmed sample
 * measurements, from the names stored with them at ingest: those that
 * confirm in the measurement's country by the list scoring uses, or all of
 * them without a list. The samples are of the series' country: filtering
 * on it too reads one shard on Citus (docs/scale.md) and changes nothing here.
 */
async function fingerprintsOf(q: Queryable, cc: string, uids: string[], fp: FingerprintDb | undefined): Promise<string[]> {
  if (uids.length === 0) return []
  const r = await q.query<{ fingerprints: string[] | null; probe_cc: string }>(
    `/* bw:timeline.fingerprintsOf */ SELECT fingerprints, probe_cc FROM measurements
     WHERE probe_cc = $2 AND measurement_uid = ANY($1::text[]) AND confirmed`,
    [uids.slice(0, 5), cc]
  )
  const byName = fp === undefined ? undefined : fingerprintsByName(fp)
  const names = new Set<string>()
  for (const row of r.rows) {
    for (const name of row.fingerprints ?? []) {
      const f = byName?.get(name)
      if (byName === undefined || (f !== undefined && confirmsCensorship(f, row.probe_cc.trim()))) names.add(name)
    }
  }
  return [...names].sort()
}

/**
 * Replaces the stored events of one series that reach into the window the
 * episodes were detected in (ongoing, or ending at or after `from`) by the
 * detected episodes, keeping the event_id of every stored event an episode
 * matches. Events that ended before the window stay as they are.
 */
export async function saveEpisodes(
  tx: Queryable,
  kind: 'blocking' | 'outage',
  cc: string,
  domain: string,
  testName: string,
  episodes: Episode[],
  match: (eps: Episode[], stored: Array<{ event_id: string; start: number; end: number | null }>) => Array<string | null>,
  fp?: FingerprintDb,
  from = new Date(0)
): Promise<void> {
  const stored = (
    await tx.query<{ event_id: string; start_time: string; end_time: string | null; asns: string[] }>(
      `/* bw:timeline.saveEpisodes */ SELECT event_id, start_time, end_time, asns FROM tl_events WHERE kind = $1 AND probe_cc = $2 AND domain = $3 AND test_name = $4
       AND (end_time IS NULL OR end_time >= $5) FOR UPDATE`,
      [kind, cc, domain, testName, from.toISOString()]
    )
  ).rows
  const ids = match(
    episodes,
    stored.map(s => ({ event_id: s.event_id, start: ms(s.start_time)!, end: ms(s.end_time) }))
  )
  const keep = new Set(ids.filter((x): x is string => x !== null))
  const gone = stored.map(s => s.event_id).filter(id => !keep.has(id))
  // Deleting an event retracts it: webhooks hear of it in this transaction.
  await retractEvents(tx, gone)
  const eventIds = episodes.map((_, i) => ids[i] ?? uuidv7())
  for (let i = 0; i < episodes.length; i++) {
    const e = episodes[i]
    const fingerprints = e.confirmed_count > 0 ? await fingerprintsOf(tx, cc, e.sample_uids, fp) : []
    const values = [
      eventIds[i],
      kind,
      cc,
      domain,
      testName,
      new Date(e.start).toISOString(),
      e.end === null ? null : new Date(e.end).toISOString(),
      new Date(e.last).toISOString(),
      e.blocking_type,
      e.asns,
      e.regions,
      e.measurement_count,
      e.anomaly_count,
      e.confirmed_count,
      e.probe_count,
      e.source_count,
      fingerprints,
      e.sample_uids,
      e.confidence,
      e.rule,
      e.outlier,
      e.outlier_reason
    ]
    await tx.query(
      `/* bw:timeline.saveEpisodes */ INSERT INTO tl_events AS ev (event_id, kind, probe_cc, domain, test_name, start_time, end_time, last_anomaly, blocking_type,
        asns, regions, measurement_count, anomaly_count, confirmed_count, probe_count, source_count,
        fingerprints, sample_uids, confidence, rule, outlier, outlier_reason, ended_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text[], $11::text[], $12, $13, $14, $15, $16, $17::text[], $18::text[], $19, $20, $21, $22,
        CASE WHEN $7::timestamptz IS NULL THEN NULL ELSE now() END)
      ON CONFLICT (event_id) DO UPDATE SET
        start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, last_anomaly = EXCLUDED.last_anomaly,
        blocking_type = EXCLUDED.blocking_type, asns = EXCLUDED.asns, regions = EXCLUDED.regions,
        measurement_count = EXCLUDED.measurement_count, anomaly_count = EXCLUDED.anomaly_count,
        confirmed_count = EXCLUDED.confirmed_count, probe_count = EXCLUDED.probe_count, source_count = EXCLUDED.source_count,
        fingerprints = EXCLUDED.fingerprints, sample_uids = EXCLUDED.sample_uids, confidence = EXCLUDED.confidence,
        rule = EXCLUDED.rule, outlier = EXCLUDED.outlier, outlier_reason = EXCLUDED.outlier_reason,
        ended_at = CASE WHEN EXCLUDED.end_time IS NULL THEN NULL ELSE coalesce(ev.ended_at, now()) END,
        updated_at = now()
      WHERE (ev.start_time, ev.end_time, ev.last_anomaly, ev.asns, ev.regions, ev.measurement_count, ev.confirmed_count, ev.probe_count, ev.outlier, ev.rule,
          ev.fingerprints)
        IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.last_anomaly, EXCLUDED.asns, EXCLUDED.regions,
          EXCLUDED.measurement_count, EXCLUDED.confirmed_count, EXCLUDED.probe_count, EXCLUDED.outlier, EXCLUDED.rule, EXCLUDED.fingerprints)`,
      values
    )
  }
  // Started, ended, reopened, networks changed: enqueued with the change (transactional outbox).
  await enqueueEventChanges(
    tx,
    eventChanges(
      stored.map(s => ({ event_id: s.event_id, end: ms(s.end_time), asns: s.asns })),
      episodes.map((e, i) => ({ event_id: eventIds[i], end: e.end, asns: e.asns }))
    )
  )
}

/** Filters of GET /api/v1/events. */
export interface EventQuery {
  probe_cc?: string
  probe_asn?: string
  domain?: string
  test_name?: string
  kind?: 'blocking' | 'outage'
  since?: Date
  until?: Date
  ongoing?: boolean
  limit: number
  offset?: number
}

/** The events that overlap the window and match the filters, newest first. */
export async function queryEvents(q: Queryable, f: EventQuery): Promise<EventRecord[]> {
  const where: string[] = []
  const params: unknown[] = []
  const add = (sql: string, v: unknown): void => {
    params.push(v)
    where.push(sql.replace('?', `$${params.length}`))
  }
  if (f.probe_cc !== undefined) add('probe_cc = ?', f.probe_cc)
  if (f.probe_asn !== undefined) add('? = ANY(asns)', f.probe_asn)
  if (f.domain !== undefined) add('domain = ?', f.domain)
  if (f.test_name !== undefined) add('test_name = ?', f.test_name)
  if (f.kind !== undefined) add('kind = ?', f.kind)
  if (f.until !== undefined) add('start_time < ?', f.until.toISOString())
  if (f.since !== undefined) add('(end_time IS NULL OR end_time >= ?)', f.since.toISOString())
  if (f.ongoing === true) where.push('end_time IS NULL')
  if (f.ongoing === false) where.push('end_time IS NOT NULL')
  params.push(f.limit, f.offset ?? 0)
  const r = await reader(q).query<RawEvent>(
    `/* bw:timeline.queryEvents */ SELECT * FROM tl_events ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY start_time DESC, event_id LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params
  )
  return r.rows.map(toEvent)
}

/** One event, or null. */
export async function getEvent(q: Queryable, id: string): Promise<EventRecord | null> {
  const r = await reader(q).query<RawEvent>('/* bw:timeline.getEvent */ SELECT * FROM tl_events WHERE event_id = $1', [id])
  return r.rows.length === 0 ? null : toEvent(r.rows[0])
}

/** Grouping of GET /api/v1/timelines. */
export type TimelineBy = 'cc' | 'asn' | 'region'

/** Bucket widths of GET /api/v1/timelines. */
export type TimelineGrain = 'hour' | 'day' | 'week' | 'month'

/** Filters of GET /api/v1/timelines. */
export interface TimelineQuery {
  probe_cc: string
  probe_asn?: string
  probe_region?: string
  domain?: string
  test_name?: string
  since: Date
  until: Date
  time_grain: TimelineGrain
  by: TimelineBy
}

/** One bucket of one series, before its state is derived. */
export interface TimelineRow extends BucketCounts {
  probe_asn: string | null
  probe_region: string | null
  domain: string | null
  test_name: string
  time: string
}

/** The counts of a timeline row, in the order of the timelines CSV (present/series.ts). */
export const COUNT_COLUMNS = [
  'measurement_count',
  'ok_count',
  'anomaly_count',
  'confirmed_count',
  'failure_count',
  'down_count',
  'unreachable_count',
  'probe_count',
  'anomalous_probe_count',
  'anomalous_source_count'
] as const

function toTimelineRow(f: TimelineQuery, x: Record<string, unknown>): TimelineRow {
  const row = {
    probe_asn: f.by === 'asn' ? String(x.level) : null,
    probe_region: f.by === 'region' ? (x.level === '' ? null : String(x.level)) : null,
    domain: x.domain === '' ? null : String(x.domain),
    test_name: String(x.test_name),
    time: String(x.time)
  } as TimelineRow
  for (const c of COUNT_COLUMNS) row[c] = Number(x[c])
  return row
}

/** The level of rollup rows a timeline reads: its grouping, or the one filter on a level. */
function rollupLevel(f: TimelineQuery): { lvl: 'c' | 'a' | 'r'; lkey?: string } | null {
  const asn = f.by === 'asn' || f.probe_asn !== undefined
  const region = f.by === 'region' || f.probe_region !== undefined
  if (asn && region) return null // networks × subdivisions is not a rollup
  if (asn) return { lvl: 'a', lkey: f.probe_asn }
  if (region) return { lvl: 'r', lkey: f.probe_region }
  return { lvl: 'c', lkey: '' }
}

/** The expression of a bucket of `grain` over a timestamptz column. */
const bucketOf = (grain: TimelineGrain, col: string): string => `date_trunc('${grain}', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`

/**
 * A bucket's start as the API writes it (ISO 8601, UTC, milliseconds), made
 * by PostgreSQL: parsing 20,000 timestamps into Dates and back costs more in
 * Node than the index-only scan that reads them.
 */
const isoOf = (expr: string): string => `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/**
 * The buckets that hold measurements, ordered by series then time, read
 * from the rollups: hours from tl_hour, days from tl_day, weeks and months
 * summed from tl_day (distinct counts by the union of the days' sets).
 * The one combination no rollup holds (networks and subdivisions at once)
 * is answered from measurements (queryTimelineRaw).
 */
export async function queryTimeline(q: Queryable, f: TimelineQuery): Promise<TimelineRow[]> {
  const level = rollupLevel(f)
  if (level === null) return await queryTimelineRaw(q, f)
  const table = f.time_grain === 'hour' ? 'tl_hour' : 'tl_day'
  const params: unknown[] = [level.lvl, f.probe_cc]
  const where = ['lvl = $1', 'probe_cc = $2']
  const add = (col: string, v: string | undefined): void => {
    if (v !== undefined) {
      params.push(v)
      where.push(`${col} = $${params.length}`)
    }
  }
  add('lkey', level.lkey)
  add('domain', f.domain)
  add('test_name', f.test_name)
  // Buckets that start inside [since, until), as the raw query counts measurements.
  params.push(f.since.toISOString(), f.until.toISOString())
  const from = `$${params.length - 1}::timestamptz`
  const to = `$${params.length}::timestamptz`
  const levelCol = f.by === 'cc' ? "''" : 'lkey'
  let sql: string
  if (f.time_grain === 'hour' || f.time_grain === 'day') {
    // Each row is a bucket: bounds on the bucket are bounds on its measurements.
    // Every column read is in the primary key's INCLUDE list: an index-only scan.
    sql = `/* bw:timeline.queryTimeline */ SELECT ${levelCol} AS level, domain, test_name, ${isoOf('bucket')} AS time,
        n AS measurement_count, ok AS ok_count, anomaly AS anomaly_count, confirmed AS confirmed_count, failure AS failure_count,
        down AS down_count, unreachable AS unreachable_count, probe_count, anomalous_probe_count, anomalous_source_count
      FROM ${table} WHERE ${where.join(' AND ')} AND bucket >= ${from} AND bucket < ${to}
      ORDER BY domain, test_name, 1, bucket`
  } else {
    // Days inside [since, until) summed into weeks or months; a partial first
    // or last week counts only its days inside the period.
    sql = `/* bw:timeline.queryTimeline */ SELECT ${levelCol} AS level, domain, test_name, ${isoOf(bucketOf(f.time_grain, 'bucket'))} AS time,
        sum(n)::int AS measurement_count, sum(ok)::int AS ok_count, sum(anomaly)::int AS anomaly_count, sum(confirmed)::int AS confirmed_count,
        sum(failure)::int AS failure_count, sum(down)::int AS down_count, sum(unreachable)::int AS unreachable_count,
        tl_card(tl_cat(probes)) AS probe_count, tl_card(tl_cat(anomalous_probes)) AS anomalous_probe_count,
        tl_card(tl_cat(anomalous_sources)) AS anomalous_source_count
      FROM tl_day WHERE ${where.join(' AND ')} AND bucket >= ${from} AND bucket < ${to}
      GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 1, 4`
  }
  const r = await reader(q).query<Record<string, unknown>>(sql, params)
  return r.rows.map(x => toTimelineRow(f, x))
}

/**
 * The same question asked of the raw measurements: what queryTimeline
 * answers for the combinations no rollup holds, and the reference the
 * property test holds the rollups to. Buckets hold the measurements whose
 * time lies in [since, until), rounded to whole days for day and coarser
 * grains and to whole hours for hours, as the rollups' buckets are.
 */
export async function queryTimelineRaw(q: Queryable, f: TimelineQuery): Promise<TimelineRow[]> {
  const params: unknown[] = [f.probe_cc]
  const where = ['m.probe_cc = $1']
  const add = (col: string, v: string | undefined): void => {
    if (v !== undefined) {
      params.push(v)
      where.push(`${col} = $${params.length}`)
    }
  }
  add('m.probe_asn', f.probe_asn)
  add("coalesce(m.probe_region, '')", f.probe_region)
  add("coalesce(m.domain, '')", f.domain)
  add('m.test_name', f.test_name)
  const unit = f.time_grain === 'hour' ? 'hour' : 'day'
  params.push(f.since.toISOString(), f.until.toISOString())
  where.push(`${bucketOf(unit, 'm.measurement_start_time')} >= $${params.length - 1}::timestamptz`, `${bucketOf(unit, 'm.measurement_start_time')} < $${params.length}::timestamptz`)
  const level = f.by === 'asn' ? 'm.probe_asn' : f.by === 'region' ? "coalesce(m.probe_region, '')" : "''"
  const anomalous = 'NOT m.failure AND (m.anomaly OR m.confirmed)'
  const r = await reader(q).query<Record<string, unknown>>(
    `/* bw:timeline.queryTimelineRaw */ SELECT ${level} AS level, coalesce(m.domain, '') AS domain, m.test_name,
      ${isoOf(bucketOf(f.time_grain, 'm.measurement_start_time'))} AS time,
      count(*)::int AS measurement_count,
      (count(*) FILTER (WHERE NOT m.failure AND NOT m.anomaly AND NOT m.confirmed))::int AS ok_count,
      (count(*) FILTER (WHERE NOT m.failure AND m.anomaly AND NOT m.confirmed))::int AS anomaly_count,
      (count(*) FILTER (WHERE NOT m.failure AND m.confirmed))::int AS confirmed_count,
      (count(*) FILTER (WHERE m.failure))::int AS failure_count,
      (count(*) FILTER (WHERE NOT m.failure AND m.down))::int AS down_count,
      (count(*) FILTER (WHERE m.failure AND m.unreachable))::int AS unreachable_count,
      count(DISTINCT p.id)::int AS probe_count,
      (count(DISTINCT p.id) FILTER (WHERE ${anomalous}))::int AS anomalous_probe_count,
      (count(DISTINCT p.source_id) FILTER (WHERE ${anomalous}))::int AS anomalous_source_count
    FROM measurements m JOIN tl_probes p ON p.probe_key = coalesce(m.probe_id, 'r:' || coalesce(m.report_id, m.measurement_uid))
    WHERE ${where.join(' AND ')}
    GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 1, 4`,
    params
  )
  return r.rows.map(x => toTimelineRow(f, x))
}

/** One row the event job claimed from the queue (tl_dirty). */
export interface DirtyRow {
  kind: 'blocking' | 'outage'
  probe_cc: string
  domain: string
  test_name: string
  since: string
  anomalous: boolean
}

/**
 * Claims (deletes and returns) the queued rows of up to `n` series whose
 * rows are all (`anomalous` false) or partly (true) anomalous, oldest
 * first, among those queued for at least `settleMs`. Rows of an ingest
 * that has not committed are invisible here and stay queued.
 */
export async function claimDirty(q: Queryable, anomalous: boolean, n: number, settleMs: number): Promise<DirtyRow[]> {
  return (
    await q.query<DirtyRow>(
      `/* bw:timeline.claimDirty */ WITH picked AS (
       SELECT kind, probe_cc, domain, test_name FROM tl_dirty GROUP BY 1, 2, 3, 4
       HAVING bool_or(anomalous) = $2 AND min(marked_at) <= clock_timestamp() - $3::int * interval '1 millisecond'
       ORDER BY min(marked_at) LIMIT $1)
     DELETE FROM tl_dirty d USING picked p
     WHERE d.kind = p.kind AND d.probe_cc = p.probe_cc AND d.domain = p.domain AND d.test_name = p.test_name
     RETURNING d.kind, d.probe_cc, d.domain, d.test_name, d.since::text AS since, d.anomalous`,
      [n, anomalous, settleMs]
    )
  ).rows
}

/**
 * Claims (deletes and returns) the queued rows of up to `n` series whose
 * rows are all (`anomalous` false) or partly (true) anomalous, queued for
 * at least `settleMs`, and which have (`nearEvent` true) or have not
 * (false) a stored event their new rows may change: one still open, or
 * ended less than `gapMs` before the series' earliest dirty point. Oldest
 * first. The event job's priorities (timeline/job.ts processDirty).
 */
export async function claimDirtyNear(q: Queryable, anomalous: boolean, nearEvent: boolean, n: number, settleMs: number, gapMs: number): Promise<DirtyRow[]> {
  return (
    await q.query<DirtyRow>(
      `/* bw:timeline.claimDirtyNear */ WITH settled AS (
       SELECT d.kind, d.probe_cc, d.domain, d.test_name, min(d.since) AS since, min(d.marked_at) AS marked FROM tl_dirty d GROUP BY 1, 2, 3, 4
       HAVING bool_or(d.anomalous) = $2 AND min(d.marked_at) <= clock_timestamp() - $3::int * interval '1 millisecond'),
     near AS (
       SELECT DISTINCT s.kind, s.probe_cc, s.domain, s.test_name FROM settled s
       JOIN tl_events e ON e.kind = s.kind AND e.probe_cc = s.probe_cc AND e.domain = s.domain AND e.test_name = s.test_name
       WHERE e.end_time IS NULL OR e.end_time >= s.since - $4::int * interval '1 millisecond'),
     picked AS (
       SELECT s.kind, s.probe_cc, s.domain, s.test_name FROM settled s
       LEFT JOIN near n ON n.kind = s.kind AND n.probe_cc = s.probe_cc AND n.domain = s.domain AND n.test_name = s.test_name
       WHERE (n.kind IS NOT NULL) = $5
       ORDER BY s.marked LIMIT $1)
     DELETE FROM tl_dirty d USING picked p
     WHERE d.kind = p.kind AND d.probe_cc = p.probe_cc AND d.domain = p.domain AND d.test_name = p.test_name
     RETURNING d.kind, d.probe_cc, d.domain, d.test_name, d.since::text AS since, d.anomalous`,
      [n, anomalous, settleMs, gapMs, nearEvent]
    )
  ).rows
}

/** Queues a series again from `sinceMs` (-Infinity: from its start), after a recomputation failed. */
export async function requeueDirty(q: Queryable, d: { kind: string; probe_cc: string; domain: string; test_name: string; anomalous: boolean }, sinceMs: number): Promise<void> {
  await q.query('/* bw:timeline.requeueDirty */ INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since, anomalous) VALUES ($1, $2, $3, $4, $5::timestamptz, $6)', [
    d.kind,
    d.probe_cc,
    d.domain,
    d.test_name,
    Number.isFinite(sinceMs) ? new Date(sinceMs).toISOString() : '-infinity',
    d.anomalous
  ])
}
