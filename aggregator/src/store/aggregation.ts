/**
 * GET /api/v1/aggregation's counts (OONI's mutually exclusive counts by up
 * to two axes). Answered from the rollups (tl_hour, tl_day) whenever the
 * filters and axes are among their dimensions (country, network or
 * subdivision, domain, test_name, time at hour grain or coarser) and the
 * period falls on their bucket boundaries; from measurements otherwise.
 * Both give the same counts for the same question (test/aggregator/store-rollup-property.test.ts).
 */
import { filtersWhere, timeRange, type Filters } from '../query/filters.ts'
import type { Queryable } from './db.ts'

/** The axes of an aggregation. */
export const AGGREGATION_AXES = ['measurement_start_time', 'probe_cc', 'probe_asn', 'probe_region', 'domain', 'input', 'category_code', 'test_name', 'blocking_type'] as const
export type AggregationAxis = typeof AGGREGATION_AXES[number]

/** Time grains of the measurement_start_time axis. */
export type AggregationGrain = 'hour' | 'day' | 'week' | 'month' | 'year'

/** The counts, in OONI's order. */
export const AGGREGATION_COUNTS = ['anomaly_count', 'confirmed_count', 'failure_count', 'ok_count', 'measurement_count'] as const

/** One result row: the axes' values and the counts. */
export type AggregationRow = Record<string, string | number | null>

/** Where an aggregation was answered from (shown to tests and benchmarks). */
export type AggregationSource = 'rollup' | 'measurements'

const timeLabel = (grain: AggregationGrain, col: string): string =>
  `to_char(date_trunc('${grain}', ${col} AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`

const ROLLUP_FILTERS = new Set(['probe_cc', 'probe_asn', 'probe_region', 'domain', 'test_name', 'since', 'until'])
const ROLLUP_AXES = new Set<AggregationAxis>(['measurement_start_time', 'probe_cc', 'probe_asn', 'probe_region', 'domain', 'test_name'])

/** The rollup query for this question, or null when no rollup can answer it exactly. */
function rollupQuery (f: Filters, axes: AggregationAxis[], grain: AggregationGrain): { sql: string, params: unknown[] } | null {
  if (Object.entries(f).some(([k, v]) => v !== undefined && !ROLLUP_FILTERS.has(k))) return null
  if (axes.some(a => !ROLLUP_AXES.has(a))) return null
  const asn = f.probe_asn !== undefined || axes.includes('probe_asn')
  const region = f.probe_region !== undefined || axes.includes('probe_region')
  if (asn && region) return null
  // A network's rows are keyed under their country: without one, the raw index on probe_asn is the way in.
  if (f.probe_asn !== undefined && f.probe_cc === undefined) return null
  const table = grain === 'hour' ? 'tl_hour' : 'tl_day'
  const unit = grain === 'hour' ? 3600_000 : 86_400_000
  const { since, until, untilExclusive } = timeRange(f)
  // Buckets hold whole hours or days: the period must start and end on their bounds.
  if (since !== null && since.getTime() % unit !== 0) return null
  if (until !== null && (!untilExclusive || until.getTime() % unit !== 0)) return null
  const params: unknown[] = [asn ? 'a' : region ? 'r' : 'c']
  const where = ['lvl = $1']
  const add = (sql: string, v: unknown): void => { params.push(v); where.push(`${sql} $${params.length}`) }
  if (f.probe_cc !== undefined) add('probe_cc =', f.probe_cc.toUpperCase())
  if (f.probe_asn !== undefined) add('lkey =', 'AS' + f.probe_asn.replace(/^as/i, ''))
  if (f.probe_region !== undefined) add('lkey =', f.probe_region.toUpperCase())
  if (f.domain !== undefined) add('domain =', f.domain.toLowerCase().replace(/\.$/, ''))
  if (f.test_name !== undefined) add('test_name =', f.test_name)
  if (since !== null) add('bucket >=', since.toISOString())
  if (until !== null) add('bucket <', until.toISOString())
  const expr: Record<string, string> = {
    measurement_start_time: timeLabel(grain, 'bucket'),
    probe_cc: 'probe_cc',
    probe_asn: 'lkey',
    probe_region: "nullif(lkey, '')",
    domain: "nullif(domain, '')",
    test_name: 'test_name'
  }
  const select = [...axes.map(a => `${expr[a]} AS ${a}`),
    'coalesce(sum(anomaly), 0)::bigint::text AS anomaly_count', 'coalesce(sum(confirmed), 0)::bigint::text AS confirmed_count',
    'coalesce(sum(failure), 0)::bigint::text AS failure_count', 'coalesce(sum(ok), 0)::bigint::text AS ok_count',
    'coalesce(sum(n), 0)::bigint::text AS measurement_count']
  return { sql: `SELECT ${select.join(', ')} FROM ${table} WHERE ${where.join(' AND ')}${groupOrder(axes)}`, params }
}

const groupOrder = (axes: AggregationAxis[]): string => axes.length === 0
  ? ''
  : ` GROUP BY ${axes.map((_, i) => i + 1).join(', ')} ORDER BY ${axes.map((_, i) => i + 1).join(', ')}`

/** The same question asked of measurements. */
function rawQuery (f: Filters, axes: AggregationAxis[], grain: AggregationGrain): { sql: string, params: unknown[] } {
  const where = filtersWhere(f)
  const expr = (a: AggregationAxis): string => a === 'measurement_start_time' ? timeLabel(grain, 'measurement_start_time') : a
  const select = [...axes.map(a => `${expr(a)} AS ${a}`),
    'count(*) FILTER (WHERE anomaly AND NOT confirmed AND NOT failure)::bigint::text AS anomaly_count',
    'count(*) FILTER (WHERE confirmed AND NOT failure)::bigint::text AS confirmed_count',
    'count(*) FILTER (WHERE failure)::bigint::text AS failure_count',
    'count(*) FILTER (WHERE NOT anomaly AND NOT confirmed AND NOT failure)::bigint::text AS ok_count',
    'count(*)::bigint::text AS measurement_count']
  return { sql: `SELECT ${select.join(', ')} FROM measurements WHERE ${where.sql}${groupOrder(axes)}`, params: where.params }
}

/**
 * Counts measurements by up to two axes. `source` forces where from
 * ('measurements' for the reference answer); by default, the rollups when
 * they can answer.
 */
export async function aggregate (q: Queryable, f: Filters, axes: AggregationAxis[], grain: AggregationGrain,
  source?: AggregationSource): Promise<{ rows: AggregationRow[], source: AggregationSource }> {
  const rollup = source === 'measurements' ? null : rollupQuery(f, axes, grain)
  if (source === 'rollup' && rollup === null) throw new Error('no rollup answers this aggregation')
  const { sql, params } = rollup ?? rawQuery(f, axes, grain)
  const r = await q.query<Record<string, string | null>>(sql, params)
  const rows = r.rows.map(row => {
    const o: AggregationRow = {}
    for (const a of axes) o[a] = a === 'probe_cc' && typeof row[a] === 'string' ? row[a].trim() : row[a] ?? null
    for (const c of AGGREGATION_COUNTS) o[c] = Number(row[c])
    return o
  })
  return { rows, source: rollup === null ? 'measurements' : 'rollup' }
}
