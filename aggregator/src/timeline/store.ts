/**
 * The timeline tables (migration 0100): the SQL that reads the hourly
 * rollups and reads and writes events. Every query here reads the rollups
 * (tl_probe_hour, tl_probes, tl_events), never `measurements`, except for
 * the few sample documents an event cites, fetched by uid.
 */
import type { Database, Queryable } from '../store/db.ts'
import { uuidv7 } from '../../../shared/src/uid.ts'
import type { BucketCounts } from './states.ts'
import type { Episode, ProbeHourRow, ProbeInfo } from './detect.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { confirmsCensorship, type FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { matchFingerprints } from '../../../shared/src/scoring.ts'

const ms = (v: unknown): number | null => v === null || v === undefined ? null : new Date(v as string).getTime()

interface RawProbeHour {
  hour: string, probe_asn: string, probe_region: string, probe_key: string,
  n: number, ok: number, anomaly: number, confirmed: number, failure: number, down: number, unreachable: number,
  first_anomaly: string | null, last_anomaly: string | null, first_unreachable: string | null, last_unreachable: string | null,
  sample_uid: string | null, blocking_type: string | null
}

function toRow (r: RawProbeHour): ProbeHourRow {
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
    sample_uid: r.sample_uid,
    blocking_type: r.blocking_type
  }
}

/** All rollup rows of one series (country × domain × test_name). */
export async function loadSeriesRows (q: Queryable, cc: string, domain: string, testName: string): Promise<ProbeHourRow[]> {
  const r = await q.query<RawProbeHour>(`SELECT hour, probe_asn, probe_region, probe_key, n, ok, anomaly, confirmed, failure, down, unreachable,
      first_anomaly, last_anomaly, first_unreachable, last_unreachable, sample_uid, blocking_type
    FROM tl_probe_hour WHERE probe_cc = $1 AND domain = $2 AND test_name = $3`, [cc, domain, testName])
  return r.rows.map(toRow)
}

/** One country's rollup rows summed over every target, per probe and hour (for outages). */
export async function loadCountryRows (q: Queryable, cc: string): Promise<ProbeHourRow[]> {
  const r = await q.query<RawProbeHour>(`SELECT hour, probe_asn, probe_region, probe_key,
      sum(n)::int AS n, sum(ok)::int AS ok, sum(anomaly)::int AS anomaly, sum(confirmed)::int AS confirmed,
      sum(failure)::int AS failure, sum(down)::int AS down, sum(unreachable)::int AS unreachable,
      min(first_anomaly) AS first_anomaly, max(last_anomaly) AS last_anomaly,
      min(first_unreachable) AS first_unreachable, max(last_unreachable) AS last_unreachable,
      NULL AS sample_uid, NULL AS blocking_type
    FROM tl_probe_hour WHERE probe_cc = $1 GROUP BY hour, probe_asn, probe_region, probe_key`, [cc])
  return r.rows.map(toRow)
}

/**
 * What the detector knows of the given probes: their history, and their
 * source (probes that registered within the same minute from the same
 * network count as one; see docs/methodology.md).
 */
export async function loadProbes (q: Queryable, keys: string[]): Promise<Map<string, ProbeInfo>> {
  const out = new Map<string, ProbeInfo>()
  if (keys.length === 0) return out
  const r = await q.query<{ probe_key: string, source: string, first_seen: string }>(
    'SELECT probe_key, source, first_seen FROM tl_probes WHERE probe_key = ANY($1::text[])', [keys])
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
  event_id: string, kind: 'blocking' | 'outage', probe_cc: string, domain: string, test_name: string,
  start_time: string, end_time: string | null, last_anomaly: string, blocking_type: string | null,
  asns: string[], regions: string[], measurement_count: number, anomaly_count: number, confirmed_count: number,
  probe_count: number, source_count: number, fingerprints: string[], sample_uids: string[], confidence: number,
  rule: string, outlier: boolean, outlier_reason: string | null, detected_at: string, ended_at: string | null, updated_at: string
}

const iso = (v: unknown): string => new Date(v as string).toISOString()

function toEvent (r: RawEvent): EventRecord {
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
 * The censorship-confirming fingerprints that match a few sample documents
 * (read by uid), with the list scoring uses; without a list, the names a
 * document carries in test_keys.fingerprints.
 */
async function fingerprintsOf (q: Queryable, uids: string[], fp: FingerprintDb | undefined): Promise<string[]> {
  if (uids.length === 0) return []
  const r = await q.query<{ doc: Measurement, probe_cc: string }>(
    'SELECT doc, probe_cc FROM measurements WHERE measurement_uid = ANY($1::text[]) AND confirmed', [uids.slice(0, 5)])
  const names = new Set<string>()
  for (const row of r.rows) {
    const tk = row.doc.test_keys
    if (tk === null || tk === undefined || typeof tk !== 'object') continue
    if (fp !== undefined) {
      for (const m of matchFingerprints(tk as Record<string, unknown>, fp)) if (confirmsCensorship(m, row.probe_cc.trim())) names.add(m.name)
    } else if (Array.isArray((tk as Record<string, unknown>).fingerprints)) {
      for (const f of (tk as { fingerprints: unknown[] }).fingerprints) {
        const name = typeof f === 'string' ? f : (f as { name?: unknown })?.name
        if (typeof name === 'string') names.add(name)
      }
    }
  }
  return [...names].sort()
}

/**
 * Replaces the stored events of one series by the detected episodes,
 * keeping the event_id of every stored event an episode matches.
 */
export async function saveEpisodes (tx: Queryable, kind: 'blocking' | 'outage', cc: string, domain: string, testName: string,
  episodes: Episode[], match: (eps: Episode[], stored: Array<{ event_id: string, start: number, end: number | null }>) => Array<string | null>,
  fp?: FingerprintDb): Promise<void> {
  const stored = (await tx.query<{ event_id: string, start_time: string, end_time: string | null }>(
    `SELECT event_id, start_time, end_time FROM tl_events WHERE kind = $1 AND probe_cc = $2 AND domain = $3 AND test_name = $4 FOR UPDATE`,
    [kind, cc, domain, testName])).rows
  const ids = match(episodes, stored.map(s => ({ event_id: s.event_id, start: ms(s.start_time)!, end: ms(s.end_time) })))
  const keep = new Set(ids.filter((x): x is string => x !== null))
  const gone = stored.map(s => s.event_id).filter(id => !keep.has(id))
  if (gone.length > 0) await tx.query('DELETE FROM tl_events WHERE event_id = ANY($1::text[])', [gone])
  for (let i = 0; i < episodes.length; i++) {
    const e = episodes[i]
    const fingerprints = e.confirmed_count > 0 ? await fingerprintsOf(tx, e.sample_uids, fp) : []
    const values = [
      ids[i] ?? uuidv7(), kind, cc, domain, testName, new Date(e.start).toISOString(),
      e.end === null ? null : new Date(e.end).toISOString(), new Date(e.last).toISOString(), e.blocking_type,
      e.asns, e.regions, e.measurement_count, e.anomaly_count, e.confirmed_count, e.probe_count, e.source_count,
      fingerprints, e.sample_uids, e.confidence, e.rule, e.outlier, e.outlier_reason
    ]
    await tx.query(`INSERT INTO tl_events AS ev (event_id, kind, probe_cc, domain, test_name, start_time, end_time, last_anomaly, blocking_type,
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
      WHERE (ev.start_time, ev.end_time, ev.last_anomaly, ev.asns, ev.regions, ev.measurement_count, ev.confirmed_count, ev.probe_count, ev.outlier, ev.rule)
        IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.last_anomaly, EXCLUDED.asns, EXCLUDED.regions,
          EXCLUDED.measurement_count, EXCLUDED.confirmed_count, EXCLUDED.probe_count, EXCLUDED.outlier, EXCLUDED.rule)`, values)
  }
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
export async function queryEvents (q: Queryable, f: EventQuery): Promise<EventRecord[]> {
  const where: string[] = []
  const params: unknown[] = []
  const add = (sql: string, v: unknown): void => { params.push(v); where.push(sql.replace('?', `$${params.length}`)) }
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
  const r = await q.query<RawEvent>(`SELECT * FROM tl_events ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
    ORDER BY start_time DESC, event_id LIMIT $${params.length - 1} OFFSET $${params.length}`, params)
  return r.rows.map(toEvent)
}

/** One event, or null. */
export async function getEvent (q: Queryable, id: string): Promise<EventRecord | null> {
  const r = await q.query<RawEvent>('SELECT * FROM tl_events WHERE event_id = $1', [id])
  return r.rows.length === 0 ? null : toEvent(r.rows[0])
}

/** Grouping of GET /api/v1/timelines. */
export type TimelineBy = 'cc' | 'asn' | 'region'

/** Filters of GET /api/v1/timelines. */
export interface TimelineQuery {
  probe_cc: string
  probe_asn?: string
  probe_region?: string
  domain?: string
  test_name?: string
  since: Date
  until: Date
  time_grain: 'hour' | 'day'
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

/** The buckets that hold measurements, ordered by series then time. */
export async function queryTimeline (q: Queryable, f: TimelineQuery): Promise<TimelineRow[]> {
  const params: unknown[] = [f.probe_cc, f.since.toISOString(), f.until.toISOString()]
  const where = ['probe_cc = $1', 'hour >= $2', 'hour < $3']
  const add = (col: string, v: string | undefined): void => { if (v !== undefined) { params.push(v); where.push(`${col} = $${params.length}`) } }
  add('probe_asn', f.probe_asn)
  add('probe_region', f.probe_region)
  add('domain', f.domain)
  add('test_name', f.test_name)
  const level = f.by === 'asn' ? 'probe_asn' : f.by === 'region' ? 'probe_region' : "''"
  const bucket = f.time_grain === 'day' ? "date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'" : 'hour'
  const r = await q.query<Record<string, unknown>>(`SELECT ${level} AS level, domain, test_name, ${bucket} AS time,
      sum(n)::int AS measurement_count, sum(ok)::int AS ok_count, sum(anomaly)::int AS anomaly_count,
      sum(confirmed)::int AS confirmed_count, sum(failure)::int AS failure_count, sum(down)::int AS down_count,
      sum(unreachable)::int AS unreachable_count, count(DISTINCT probe_key)::int AS probe_count,
      count(DISTINCT probe_key) FILTER (WHERE anomaly + confirmed > 0)::int AS anomalous_probe_count,
      count(DISTINCT (SELECT p.source FROM tl_probes p WHERE p.probe_key = h.probe_key)) FILTER (WHERE anomaly + confirmed > 0)::int AS anomalous_source_count
    FROM tl_probe_hour h WHERE ${where.join(' AND ')}
    GROUP BY 1, 2, 3, 4 ORDER BY 2, 3, 1, 4`, params)
  return r.rows.map(x => ({
    probe_asn: f.by === 'asn' ? String(x.level) : null,
    probe_region: f.by === 'region' ? (x.level === '' ? null : String(x.level)) : null,
    domain: x.domain === '' ? null : String(x.domain),
    test_name: String(x.test_name),
    time: iso(x.time),
    measurement_count: Number(x.measurement_count),
    ok_count: Number(x.ok_count),
    anomaly_count: Number(x.anomaly_count),
    confirmed_count: Number(x.confirmed_count),
    failure_count: Number(x.failure_count),
    down_count: Number(x.down_count),
    unreachable_count: Number(x.unreachable_count),
    probe_count: Number(x.probe_count),
    anomalous_probe_count: Number(x.anomalous_probe_count),
    anomalous_source_count: Number(x.anomalous_source_count)
  }))
}

/** Marks every series of a country dirty (after a change of rules, say). */
export async function markCountryDirty (db: Database, cc: string): Promise<void> {
  await db.query(`INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since)
    SELECT DISTINCT 'blocking', probe_cc, domain, test_name, '-infinity'::timestamptz FROM tl_probe_hour WHERE probe_cc = $1
    UNION SELECT 'outage', $1, '', '', '-infinity'::timestamptz
    ON CONFLICT (kind, probe_cc, domain, test_name) DO UPDATE SET marked_at = now()`, [cc])
}
