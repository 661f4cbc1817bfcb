/**
 * The shapes the dashboard reads from the timelines and events APIs
 * (issue 7), normalised: the pages depend on these small types, not on the
 * exact field names of the API answers.
 */
import { getJson, type Api, num, resultsOf, str, strList, type ApiResult } from './api.ts'

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
  /** Everything the API returned, for the evidence section. */
  raw: Record<string, unknown>
}

const TIME_KEYS = ['bucket_start', 'bucket', 'time', 't', 'ts', 'start', 'hour', 'day', 'measurement_start_day']

function toMs (v: unknown): number | undefined {
  if (typeof v === 'number') return v > 1e11 ? v : v * 1000
  if (typeof v === 'string' && v !== '') {
    const ms = new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(v) ? v.replace(' ', 'T') + 'Z' : v).getTime()
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

function bucketOf (row: Record<string, unknown>): Bucket | undefined {
  let t: number | undefined
  for (const k of TIME_KEYS) { t = toMs(row[k]); if (t !== undefined) break }
  if (t === undefined) return undefined
  return {
    t,
    ok: num(row, 'ok', 'ok_count') ?? 0,
    anomaly: num(row, 'anomaly', 'anomaly_count') ?? 0,
    confirmed: num(row, 'confirmed', 'confirmed_count') ?? 0,
    failure: num(row, 'failure', 'failure_count') ?? 0,
    state: str(row, 'state') ?? 'insufficient'
  }
}

/** Normalises a timelines answer: series with nested buckets, or flat bucket rows grouped by target. */
export function seriesOf (body: unknown): Series[] {
  const rows = resultsOf(body)
  const byKey = new Map<string, Series>()
  for (const row of rows) {
    const domain = str(row, 'domain') ?? '(all)'
    const test = str(row, 'test_name') ?? ''
    const asn = str(row, 'probe_asn')
    const region = str(row, 'probe_region')
    const key = JSON.stringify([domain, test, asn ?? '', region ?? ''])
    let s = byKey.get(key)
    if (s === undefined) {
      s = { domain, test_name: test, probe_asn: asn, probe_region: region, buckets: [] }
      byKey.set(key, s)
    }
    const nested = Array.isArray(row.buckets) ? row.buckets : Array.isArray(row.timeline) ? row.timeline : undefined
    if (nested !== undefined) {
      for (const b of nested) if (typeof b === 'object' && b !== null) { const x = bucketOf(b as Record<string, unknown>); if (x !== undefined) s.buckets.push(x) }
    } else {
      const x = bucketOf(row)
      if (x !== undefined) s.buckets.push(x)
    }
  }
  const out = [...byKey.values()]
  for (const s of out) s.buckets.sort((a, b) => a.t - b.t)
  return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.test_name.localeCompare(b.test_name))
}

/** Normalises one event row. */
export function eventOf (row: Record<string, unknown>): BwEvent | undefined {
  const id = str(row, 'event_id', 'id')
  if (id === undefined) return undefined
  const ev = (typeof row.evidence === 'object' && row.evidence !== null ? row.evidence : {}) as Record<string, unknown>
  const end = row.end_time
  return {
    event_id: id,
    kind: str(row, 'kind') ?? 'blocking',
    probe_cc: str(row, 'probe_cc', 'cc') ?? '',
    domain: str(row, 'domain') ?? '',
    test_name: str(row, 'test_name') ?? '',
    start_time: str(row, 'start_time') ?? '',
    end_time: typeof end === 'string' && end !== '' ? end : null,
    blocking_type: str(row, 'blocking_type') ?? '',
    asns: strList(row, 'probe_asns', 'asns', 'affected_asns'),
    regions: strList(row, 'probe_regions', 'subdivisions', 'regions', 'affected_regions'),
    measurement_count: num(ev, 'measurement_count', 'measurements') ?? num(row, 'measurement_count'),
    probe_count: num(ev, 'probe_count', 'probes') ?? num(row, 'probe_count'),
    fingerprints: strList(ev, 'fingerprints', 'confirming_fingerprints').concat(strList(row, 'fingerprints')),
    confidence: num(row, 'confidence') ?? str(row, 'confidence'),
    rule: str(row, 'rule'),
    outlier: row.outlier === true ? (str(row, 'outlier_reason') ?? 'yes') : undefined,
    sample_uids: strList(ev, 'sample_measurement_uids', 'sample_uids').concat(strList(row, 'sample_uids')),
    raw: row
  }
}

/** GET /api/v1/events with filters, normalised. */
export async function fetchEvents (app: Api, params: Record<string, string | undefined>): Promise<ApiResult<BwEvent[]>> {
  const r = await getJson(app, '/api/v1/events', params)
  if (!r.ok) return r
  return { ok: true, status: r.status, body: resultsOf(r.body).map(eventOf).filter((e): e is BwEvent => e !== undefined) }
}

/** One event by id: /api/v1/events/{id} when the API has it, else found in the list. */
export async function fetchEvent (app: Api, id: string): Promise<ApiResult<BwEvent>> {
  const r = await getJson<Record<string, unknown>>(app, `/api/v1/events/${encodeURIComponent(id)}`)
  if (r.ok) {
    const row = (typeof r.body.event === 'object' && r.body.event !== null ? r.body.event : r.body) as Record<string, unknown>
    const e = eventOf(row)
    if (e !== undefined) return { ok: true, status: 200, body: e }
  }
  const list = await fetchEvents(app, {})
  if (!list.ok) return list
  const e = list.body.find(x => x.event_id === id)
  return e === undefined ? { ok: false, status: 404, error: `There is no event ${id}.` } : { ok: true, status: 200, body: e }
}
