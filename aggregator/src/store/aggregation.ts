/**
 * GET /api/v1/aggregation's counts (OONI's mutually exclusive counts by up
 * to two axes). Answered from the rollups (tl_hour, tl_day) whenever the
 * filters and axes are among their dimensions (country, network or
 * subdivision, domain, test_name, time at hour grain or coarser) and the
 * period falls on their bucket boundaries; from measurements otherwise
 * (category_code, input, blocking_type, report_id, the flags).
 * Both give the same counts for the same question (test/aggregator/store-rollup-property.test.ts).
 *
 * Time buckets are OONI's (its ClickHouse toStartOfHour, toDate,
 * toStartOfWeek in its default mode 0, toStartOfMonth, and the year's
 * first day): weeks start on Sunday. On OONI's axis, measurement_start_day,
 * an hour is written `2024-01-31T10:00:00Z` and every coarser bucket
 * `2024-01-31`; on our older axis name, measurement_start_time, every
 * bucket is a timestamp (`2024-01-31T00:00:00Z`), as it always was.
 */
import { filtersWhere, type MeasurementFilters } from './filters.ts'
import { type Queryable, reader } from './db.ts'

/** OONI's axes, in its order, then ours: measurement_start_time (today's name of the time axis) and probe_region. */
export const AGGREGATION_AXES = ['measurement_start_day', 'probe_cc', 'probe_asn', 'domain', 'input', 'test_name', 'category_code', 'blocking_type', 'measurement_start_time', 'probe_region'] as const
export type AggregationAxis = (typeof AGGREGATION_AXES)[number]

/** The time axes (OONI's name and ours). */
export const TIME_AXES: readonly AggregationAxis[] = ['measurement_start_day', 'measurement_start_time']

/** Time grains of the time axis. */
export type AggregationGrain = 'hour' | 'day' | 'week' | 'month' | 'year'

/** The counts, in OONI's order. */
export const AGGREGATION_COUNTS = ['anomaly_count', 'confirmed_count', 'failure_count', 'ok_count', 'measurement_count'] as const

/** One result row: the axes' values and the counts. */
export type AggregationRow = Record<string, string | number | null>

/** Where an aggregation was answered from (shown to tests and benchmarks). */
export type AggregationSource = 'rollup' | 'measurements'

/** The start of `col`'s bucket, in UTC, as a timestamp without time zone. */
function bucketStart(grain: AggregationGrain, col: string): string {
  const utc = `(${col} AT TIME ZONE 'UTC')`
  // ClickHouse's toStartOfWeek (mode 0): the Sunday on or before the day (dow: Sunday = 0).
  if (grain === 'week') return `(date_trunc('day', ${utc}) - extract(dow from ${utc})::int * interval '1 day')`
  return `date_trunc('${grain}', ${utc})`
}

/** The bucket's label as the axis writes it. */
function timeLabel(axis: AggregationAxis, grain: AggregationGrain, col: string): string {
  const format = axis === 'measurement_start_time' || grain === 'hour' ? 'YYYY-MM-DD"T"HH24:MI:SS"Z"' : 'YYYY-MM-DD'
  return `to_char(${bucketStart(grain, col)}, '${format}')`
}

const ROLLUP_FILTERS = new Set(['probe_cc', 'probe_asn', 'probe_region', 'domain', 'test_name', 'since', 'until'])
const ROLLUP_AXES = new Set<AggregationAxis>(['measurement_start_day', 'measurement_start_time', 'probe_cc', 'probe_asn', 'probe_region', 'domain', 'test_name'])

/** The rollup query for this question, or null when no rollup can answer it exactly. */
function rollupQuery(f: MeasurementFilters, axes: AggregationAxis[], grain: AggregationGrain): { sql: string; params: unknown[] } | null {
  if (Object.entries(f).some(([k, v]) => v !== undefined && !ROLLUP_FILTERS.has(k))) return null
  if (axes.some(a => !ROLLUP_AXES.has(a))) return null
  const ccs = f.probe_cc ?? []
  const asns = f.probe_asn ?? []
  const asn = asns.length > 0 || axes.includes('probe_asn')
  const region = f.probe_region !== undefined || axes.includes('probe_region')
  if (asn && region) return null
  // A network's rows are keyed under their country: without one, the raw index on probe_asn is the way in.
  if (asns.length > 0 && ccs.length === 0) return null
  const table = grain === 'hour' ? 'tl_hour' : 'tl_day'
  const unit = grain === 'hour' ? 3600_000 : 86_400_000
  const since = f.since ?? null
  const until = f.until ?? null
  // Buckets hold whole hours or days: the period must start and end on their bounds.
  if (since !== null && since.getTime() % unit !== 0) return null
  if (until !== null && until.getTime() % unit !== 0) return null
  const params: unknown[] = [asn ? 'a' : region ? 'r' : 'c']
  const where = ['lvl = $1']
  const add = (sql: string, v: unknown): void => {
    params.push(v)
    where.push(`${sql} $${params.length}`)
  }
  const anyOf = (col: string, values: string[]): void => {
    if (values.length === 0) return
    const refs = values.map(v => {
      params.push(v)
      return `$${params.length}`
    })
    where.push(values.length === 1 ? `${col} = ${refs[0]}` : `${col} IN (${refs.join(', ')})`)
  }
  anyOf('probe_cc', ccs)
  anyOf('lkey', asns)
  if (f.probe_region !== undefined) add('lkey =', f.probe_region)
  anyOf('domain', f.domain ?? [])
  anyOf('test_name', f.test_name ?? [])
  if (since !== null) add('bucket >=', since.toISOString())
  if (until !== null) add('bucket <', until.toISOString())
  const expr = (a: AggregationAxis): string =>
    (
      ({
        measurement_start_day: timeLabel(a, grain, 'bucket'),
        measurement_start_time: timeLabel(a, grain, 'bucket'),
        probe_cc: 'probe_cc',
        probe_asn: 'lkey',
        probe_region: "nullif(lkey, '')",
        domain: "nullif(domain, '')",
        test_name: 'test_name'
      }) as Record<string, string>
    )[a]
  const select = [
    ...axes.map(a => `${expr(a)} AS ${a}`),
    'coalesce(sum(anomaly), 0)::bigint::text AS anomaly_count',
    'coalesce(sum(confirmed), 0)::bigint::text AS confirmed_count',
    'coalesce(sum(failure), 0)::bigint::text AS failure_count',
    'coalesce(sum(ok), 0)::bigint::text AS ok_count',
    'coalesce(sum(n), 0)::bigint::text AS measurement_count'
  ]
  return { sql: `/* bw:aggregation.rollupQuery */ SELECT ${select.join(', ')} FROM ${table} WHERE ${where.join(' AND ')}${groupOrder(axes, 'lkey')}`, params }
}

/** GROUP BY the axes, ORDER BY them (a network by its number, as OONI's integer column sorts). */
const groupOrder = (axes: AggregationAxis[], asnColumn: string): string =>
  axes.length === 0 ? '' : ` GROUP BY ${axes.map((_, i) => i + 1).join(', ')} ORDER BY ${axes.map((a, i) => (a === 'probe_asn' ? `substr(${asnColumn}, 3)::bigint` : String(i + 1))).join(', ')}`

/** The same question asked of measurements. */
function rawQuery(f: MeasurementFilters, axes: AggregationAxis[], grain: AggregationGrain): { sql: string; params: unknown[] } {
  const where = filtersWhere(f)
  const expr = (a: AggregationAxis): string => (TIME_AXES.includes(a) ? timeLabel(a, grain, 'measurement_start_time') : a)
  const select = [
    ...axes.map(a => `${expr(a)} AS ${a}`),
    'count(*) FILTER (WHERE anomaly AND NOT confirmed AND NOT failure)::bigint::text AS anomaly_count',
    'count(*) FILTER (WHERE confirmed AND NOT failure)::bigint::text AS confirmed_count',
    'count(*) FILTER (WHERE failure)::bigint::text AS failure_count',
    'count(*) FILTER (WHERE NOT anomaly AND NOT confirmed AND NOT failure)::bigint::text AS ok_count',
    'count(*)::bigint::text AS measurement_count'
  ]
  return { sql: `/* bw:aggregation.rawQuery */ SELECT ${select.join(', ')} FROM measurements WHERE ${where.sql}${groupOrder(axes, 'probe_asn')}`, params: where.params }
}

/**
 * Counts measurements by up to two axes. `source` forces where from
 * ('measurements' for the reference answer); by default, the rollups when
 * they can answer. Axis values come back as stored (probe_asn `AS123`);
 * the route writes them in OONI's forms.
 */
export async function aggregate(
  q: Queryable,
  f: MeasurementFilters,
  axes: AggregationAxis[],
  grain: AggregationGrain,
  source?: AggregationSource
): Promise<{ rows: AggregationRow[]; source: AggregationSource }> {
  const rollup = source === 'measurements' ? null : rollupQuery(f, axes, grain)
  if (source === 'rollup' && rollup === null) throw new Error('no rollup answers this aggregation')
  const { sql, params } = rollup ?? rawQuery(f, axes, grain)
  const r = await reader(q).query<Record<string, string | null>>(sql, params)
  const rows = r.rows.map(row => {
    const o: AggregationRow = {}
    for (const a of axes) o[a] = a === 'probe_cc' && typeof row[a] === 'string' ? row[a].trim() : (row[a] ?? null)
    for (const c of AGGREGATION_COUNTS) o[c] = Number(row[c])
    return o
  })
  return { rows, source: rollup === null ? 'measurements' : 'rollup' }
}

/**
 * OONI's range rules for the time grain (oonimeasurements routers/v1/
 * aggregation.py, _resolve_time_grain): the grains each span of since…until
 * allows, the first being what `auto` picks. Spans are compared in whole
 * days, as OONI compares timedeltas: up to 7 days, up to 30, up to 365,
 * beyond.
 */
export const GRAIN_RANGES: ReadonlyArray<{ maxDays: number; grains: readonly AggregationGrain[] }> = [
  { maxDays: 7, grains: ['hour', 'day'] },
  { maxDays: 30, grains: ['day', 'week'] },
  { maxDays: 365, grains: ['day', 'week', 'month'] },
  { maxDays: Infinity, grains: ['day', 'week', 'month', 'year'] }
]

/** The grains allowed for a span of `ms` milliseconds (the first is `auto`'s). */
export function allowedGrains(ms: number): readonly AggregationGrain[] {
  const days = ms / 86_400_000
  return (GRAIN_RANGES.find(r => days <= r.maxDays) ?? GRAIN_RANGES[GRAIN_RANGES.length - 1]).grains
}
