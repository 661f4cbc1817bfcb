/**
 * Timelines as the API shows them: bucket rows from the store grouped into
 * series with their states and the names beside the codes. Used by the
 * timelines route, the block reports and the dashboard alike.
 */
import { bucketState, type BucketCounts, type BucketState } from '../timeline/states.ts'
import { COUNT_COLUMNS, queryTimeline, type TimelineQuery, type TimelineRow } from '../store/timeline.ts'
import type { Queryable } from '../store/db.ts'
import { countryName, networkName } from '../names.ts'

/** One bucket of a series in the API: its counts (every one present), time and state. */
export interface TimelineBucket extends Required<BucketCounts> {
  time: string
  state: BucketState
}

/**
 * One series: a region × domain × test_name, with its buckets in time order.
 * Names sit beside the codes (null when unknown), so that a reader needs no
 * lookup table: the country's from ISO 3166, the network's from the offline
 * ASN database (names.ts).
 */
export interface TimelineSeries {
  probe_cc: string
  probe_cc_name: string | null
  probe_asn: string | null
  probe_network_name: string | null
  probe_region: string | null
  domain: string | null
  test_name: string
  buckets: TimelineBucket[]
}

/** Groups bucket rows (ordered by series then time) into series with states and names. */
export function toSeries(cc: string, rows: TimelineRow[]): TimelineSeries[] {
  const out: TimelineSeries[] = []
  const ccName = countryName(cc)
  let cur: TimelineSeries | undefined
  for (const r of rows) {
    if (cur === undefined || cur.probe_asn !== r.probe_asn || cur.probe_region !== r.probe_region || cur.domain !== r.domain || cur.test_name !== r.test_name) {
      cur = {
        probe_cc: cc,
        probe_cc_name: ccName,
        probe_asn: r.probe_asn,
        probe_network_name: r.probe_asn === null ? null : networkName(r.probe_asn),
        probe_region: r.probe_region,
        domain: r.domain,
        test_name: r.test_name,
        buckets: []
      }
      out.push(cur)
    }
    const { probe_asn: _a, probe_region: _r, domain: _d, test_name: _t, time, ...counts } = r
    cur.buckets.push({ time, state: bucketState(r), ...counts, anomalous_source_count: r.anomalous_source_count ?? r.anomalous_probe_count })
  }
  return out
}

/** The series of a timeline query, read from the rollups: what GET /api/v1/timelines answers and the dashboard draws. */
export async function timelineSeries(db: Queryable, q: TimelineQuery): Promise<TimelineSeries[]> {
  return toSeries(q.probe_cc, await queryTimeline(db, q))
}

/** The columns of the timelines CSV, in order. */
export const TIMELINE_CSV_COLUMNS = ['probe_cc', 'probe_asn', 'probe_region', 'domain', 'test_name', 'time', 'state', ...COUNT_COLUMNS] as const
