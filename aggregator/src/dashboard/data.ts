/**
 * What the dashboard's pages read, and from where: the same store queries
 * and presenters the API routes call (issue 16, item 4), typed, with no
 * detour through HTTP and no JSON to parse again. The pages depend on the
 * small view types here (Series, BwEvent), built from the store's records.
 *
 * `seriesOf` and `eventOf` at the end read the API's JSON answers instead
 * (GET /api/v1/timelines, /api/v1/events): no page uses them; they stay
 * for a client that holds those answers, and their tests.
 */
import type { Queryable } from '../store/db.ts'
import { queryEvents, type EventQuery, type EventRecord, type TimelineQuery } from '../store/timeline.ts'
import { findEvent } from '../present/events.ts'
import { timelineSeries, type TimelineSeries } from '../present/series.ts'

/** One bucket of a timeline. */
export interface Bucket {
  /** Start of the bucket, ms since the epoch. */
  t: number
  ok: number
  anomaly: number
  confirmed: number
  failure: number
  /** blocked, likely_blocked, impaired, ok, insufficient or down. */
  state: string
}

/** One timeline: a target (domain × test) in a region. */
export interface Series {
  /** The target's domain, or `(all)` for a series without one (a network test). */
  domain: string
  test_name: string
  probe_asn?: string
  probe_region?: string
  buckets: Bucket[]
}

/** One blocking or outage event. */
export interface BwEvent {
  event_id: string
  kind: string
  probe_cc: string
  domain: string
  test_name: string
  start_time: string
  end_time: string | null
  blocking_type: string
  asns: string[]
  regions: string[]
  measurement_count?: number
  probe_count?: number
  fingerprints: string[]
  confidence?: number | string
  /** Why it is an event (confirmed, networks, history, outage). */
  rule?: string
  /** Set when the detector flags the event as an outlier, with its reason. */
  outlier?: string
  /** Some of the measurements behind it. */
  sample_uids: string[]
  /** The stored record, for the evidence section. */
  raw: Record<string, unknown>
}

/** A stored event as the pages show it. */
export function eventFromRecord(e: EventRecord): BwEvent {
  return {
    event_id: e.event_id,
    kind: e.kind,
    probe_cc: e.probe_cc,
    domain: e.domain ?? '',
    test_name: e.test_name ?? '',
    start_time: e.start_time,
    end_time: e.end_time,
    blocking_type: e.blocking_type ?? '',
    asns: e.probe_asns,
    regions: e.probe_regions,
    measurement_count: e.evidence.measurement_count,
    probe_count: e.evidence.probe_count,
    fingerprints: e.evidence.fingerprints,
    confidence: e.confidence,
    rule: e.rule,
    outlier: e.outlier ? (e.outlier_reason ?? 'yes') : undefined,
    sample_uids: e.evidence.sample_measurement_uids,
    raw: { ...e }
  }
}

/** A series from the timeline presenter (present/series.ts), as the charts draw it. */
export function seriesFromTimeline(s: TimelineSeries): Series {
  return {
    domain: s.domain ?? '(all)',
    test_name: s.test_name,
    probe_asn: s.probe_asn ?? undefined,
    probe_region: s.probe_region ?? undefined,
    buckets: s.buckets.map(b => ({ t: Date.parse(b.time), ok: b.ok_count, anomaly: b.anomaly_count, confirmed: b.confirmed_count, failure: b.failure_count, state: b.state }))
  }
}

/** The events GET /api/v1/events would answer for these filters, newest first. */
export async function loadEvents(db: Queryable, f: EventQuery): Promise<BwEvent[]> {
  return (await queryEvents(db, f)).map(eventFromRecord)
}

/** One event by id, or undefined when there is none (or the id is no event id). */
export async function loadEvent(db: Queryable, id: string): Promise<BwEvent | undefined> {
  const e = await findEvent(db, id)
  return e === null ? undefined : eventFromRecord(e)
}

/** The series GET /api/v1/timelines would answer, in domain and test order. */
export async function loadSeries(db: Queryable, q: TimelineQuery): Promise<Series[]> {
  const out = (await timelineSeries(db, q)).map(seriesFromTimeline)
  return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.test_name.localeCompare(b.test_name))
}

// ---------------------------------------------------------------------------
// Readers of the API's JSON answers (not used by the pages; see the top).

type Json = Record<string, unknown>

const text = (row: Json, name: string): string | undefined => {
  const v = row[name]
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined
}
const count = (row: Json, name: string): number | undefined => {
  const v = row[name]
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}
const texts = (row: Json, name: string): string[] => {
  const v = row[name]
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function toMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined
  const ms = Date.parse(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(v) ? v.replace(' ', 'T') + 'Z' : v)
  return Number.isNaN(ms) ? undefined : ms
}

/** A bucket of the timelines answer (`time`, `*_count`); older flat rows wrote the counts without `_count`. */
function bucketOf(row: Json): Bucket | undefined {
  const t = toMs(row.time)
  if (t === undefined) return undefined
  const n = (name: string): number => count(row, `${name}_count`) ?? count(row, name) ?? 0
  return { t, ok: n('ok'), anomaly: n('anomaly'), confirmed: n('confirmed'), failure: n('failure'), state: text(row, 'state') ?? 'insufficient' }
}

/** Reads a timelines answer ({results: series with buckets}, or an array of flat bucket rows) into series. */
export function seriesOf(body: unknown): Series[] {
  const rows: Json[] = Array.isArray(body) ? body : Array.isArray((body as Json | null)?.results) ? (body as { results: Json[] }).results : []
  const byKey = new Map<string, Series>()
  for (const row of rows) {
    const domain = text(row, 'domain') ?? '(all)'
    const test = text(row, 'test_name') ?? ''
    const asn = text(row, 'probe_asn')
    const region = text(row, 'probe_region')
    const key = JSON.stringify([domain, test, asn ?? '', region ?? ''])
    let s = byKey.get(key)
    if (s === undefined) {
      s = { domain, test_name: test, probe_asn: asn, probe_region: region, buckets: [] }
      byKey.set(key, s)
    }
    const buckets = Array.isArray(row.buckets) ? (row.buckets as Json[]) : [row]
    for (const b of buckets) {
      const x = bucketOf(b)
      if (x !== undefined) s.buckets.push(x)
    }
  }
  const out = [...byKey.values()]
  for (const s of out) s.buckets.sort((a, b) => a.t - b.t)
  return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.test_name.localeCompare(b.test_name))
}

/** Reads one event of the events answer (GET /api/v1/events/{id}); undefined without an event_id. */
export function eventOf(row: Json): BwEvent | undefined {
  const id = text(row, 'event_id')
  if (id === undefined) return undefined
  const ev = (typeof row.evidence === 'object' && row.evidence !== null ? row.evidence : {}) as Json
  return {
    event_id: id,
    kind: text(row, 'kind') ?? 'blocking',
    probe_cc: text(row, 'probe_cc') ?? '',
    domain: text(row, 'domain') ?? '',
    test_name: text(row, 'test_name') ?? '',
    start_time: text(row, 'start_time') ?? '',
    end_time: text(row, 'end_time') ?? null,
    blocking_type: text(row, 'blocking_type') ?? '',
    asns: texts(row, 'probe_asns'),
    regions: texts(row, 'probe_regions'),
    measurement_count: count(ev, 'measurement_count'),
    probe_count: count(ev, 'probe_count'),
    fingerprints: texts(ev, 'fingerprints'),
    confidence: count(row, 'confidence'),
    rule: text(row, 'rule'),
    outlier: row.outlier === true ? (text(row, 'outlier_reason') ?? 'yes') : undefined,
    sample_uids: texts(ev, 'sample_measurement_uids'),
    raw: row
  }
}
