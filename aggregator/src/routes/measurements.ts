/**
 * The researcher API (public, read-only, rate-limited), on OONI's contract
 * (ooni/backend, oonimeasurements routers/v1; docs/api.md lists where we
 * depart from it and why):
 * - GET /api/v1/measurements: filtered, ordered, paged by offset (OONI's)
 *   or by cursor (ours, follow next_url); JSON, CSV or NDJSON, streamed in
 *   chunks so that a page or an export of millions of rows runs in
 *   constant memory;
 * - GET /api/v1/measurements/{uid}: the full document with our verdict;
 * - GET /api/v1/aggregation: OONI's counts by axis_x/axis_y;
 * - GET /api/v1/raw_measurement and /api/v1/measurement_meta (ooni.ts).
 * probe_id is never shown: a monthly pseudonym stands in for it.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import type { AppOptions } from '../app.ts'
import { badParam, notFound } from '../errors.ts'
import { countryName, networkName } from '../names.ts'
import { loadPseudonymSecret, probePseudonym } from '../pseudonym.ts'
import { FILTER_PROPERTIES, SCHEMAS, parseFilters, type Filters } from '../query/filters.ts'
import type { MeasurementFilters } from '../store/filters.ts'
import { listMeasurements, measurementByUid, type MeasurementSummary } from '../store/measurements.ts'
import { AGGREGATION_AXES, AGGREGATION_COUNTS, TIME_AXES, aggregate, allowedGrains, type AggregationAxis, type AggregationGrain, type AggregationRow } from '../store/aggregation.ts'
import ooniRoutes from './ooni.ts'
import { isoSeconds, scoresOf } from '../present/measurement.ts'

/** Rows per page of JSON by default (OONI's), and at most per request (OONI's too). */
export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 1_000_000
/** @deprecated JSON pages are streamed now; kept for callers of the old name. */
export const MAX_JSON_LIMIT = MAX_LIMIT
/** Rows read per query while streaming a page or an export. */
export const EXPORT_CHUNK_ROWS = 1000

/** The columns of one result, in CSV order (names last, so that older readers by position still work). */
export const RESULT_FIELDS = [
  'measurement_uid',
  'report_id',
  'input',
  'domain',
  'category_code',
  'test_name',
  'measurement_start_time',
  'probe_cc',
  'probe_asn',
  'probe_region',
  'probe',
  'blocking_type',
  'anomaly',
  'confirmed',
  'failure',
  'measurement_url',
  'probe_cc_name',
  'probe_network_name'
] as const

/** A stored row, as the list and lookup queries read it (store/measurements.ts). */
export type Row = MeasurementSummary

/** An opaque cursor: the sort key of the last row of a page. */
function encodeCursor(row: Row): string {
  return Buffer.from(JSON.stringify([new Date(row.measurement_start_time).toISOString(), row.measurement_uid])).toString('base64url')
}
function decodeCursor(s: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) return [v[0], v[1]]
  } catch {}
  throw badParam('cursor', 'not a cursor this API made; use the next_url of the previous page')
}
/** OONI's continuation token, `YYYYmmddHHMMSS-<measurement_uid>`. */
function decodeCont(s: string): [string, string] {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-(.+)$/.exec(s)
  const t = m === null ? NaN : Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`)
  if (m === null || Number.isNaN(t)) throw badParam('cont', 'not a continuation token (YYYYmmddHHMMSS-measurement_uid); use the next_url of the previous page')
  return [new Date(t).toISOString(), m[7]]
}

/** download=true: OONI's Content-Disposition (`attachment; filename=…`). */
function attach(reply: FastifyReply, filename: string): void {
  void reply.header('content-disposition', `attachment; filename=${filename}`)
}

export default async function measurementsRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const limit = opts.rateLimits?.researcher ?? { max: 300, timeWindow: '1 minute' }
  let secret: Promise<string> | undefined
  const pseudonymSecret = async (): Promise<string> => {
    if (opts.pseudonymSecret !== undefined) return opts.pseudonymSecret
    secret ??= loadPseudonymSecret(app.db).catch(err => {
      secret = undefined
      throw err
    })
    return await secret
  }
  // OONI's measurement_url: the raw document.
  const measurementUrl = (uid: string): string => `${opts.publicUrl}/api/v1/raw_measurement?measurement_uid=${encodeURIComponent(uid)}`

  const toResult = (r: Row, key: string): Record<string, unknown> => {
    const start = new Date(r.measurement_start_time)
    return {
      measurement_uid: r.measurement_uid,
      report_id: r.report_id,
      input: r.input,
      domain: r.domain,
      category_code: r.category_code,
      test_name: r.test_name,
      measurement_start_time: isoSeconds(start),
      probe_cc: r.probe_cc,
      probe_cc_name: countryName(r.probe_cc),
      probe_asn: r.probe_asn,
      probe_network_name: networkName(r.probe_asn),
      probe_region: r.probe_region,
      probe: probePseudonym(key, r.probe_id, start),
      blocking_type: r.blocking_type,
      anomaly: r.anomaly,
      confirmed: r.confirmed,
      failure: r.failure,
      scores: scoresOf(r),
      measurement_url: measurementUrl(r.measurement_uid)
    }
  }

  ooniRoutes(app, { rateLimit: limit })

  app.get(
    '/api/v1/measurements',
    {
      config: { rateLimit: limit },
      schema: {
        summary: "Search measurements (OONI's /api/v1/measurements)",
        tags: ['researchers'],
        description:
          "Filtered and ordered by measurement_start_time. Page by offset (OONI's) or follow metadata.next_url (a cursor when no offset was given); next_url is null on the last page. format=csv or ndjson streams every matching row unless limit is given.",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...FILTER_PROPERTIES,
            order: SCHEMAS.enum(['desc', 'asc', 'DESC', 'ASC'], 'by measurement_start_time, then measurement_uid; default desc (newest first)'),
            order_by: SCHEMAS.enum(['measurement_start_time'], "the only sort key (OONI's too)"),
            limit: SCHEMAS.int(`rows per page; JSON default ${DEFAULT_LIMIT}; csv/ndjson default all`, 0, MAX_LIMIT),
            offset: SCHEMAS.int("rows to skip (OONI's paging); default 0", 0, 1_000_000_000),
            cursor: { type: 'string', minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$', description: 'from next_url (ours)' },
            cont: { type: 'string', minLength: 16, maxLength: 200, pattern: '^\\d{14}-[^\\x00]+$', description: "OONI's continuation token, YYYYmmddHHMMSS-measurement_uid" },
            format: SCHEMAS.enum(['json', 'csv', 'ndjson', 'JSON', 'CSV', 'NDJSON'], 'default json'),
            download: SCHEMAS.bool('true: ask the browser to save the reply (Content-Disposition)')
          }
        }
      }
    },
    async (req, reply) => {
      const q = req.query as Filters & { order?: string; order_by?: string; limit?: number; offset?: number; cursor?: string; cont?: string; format?: string; download?: string }
      const started = process.hrtime.bigint()
      const format = (q.format ?? 'json').toLowerCase() as 'json' | 'csv' | 'ndjson'
      const desc = (q.order ?? 'desc').toLowerCase() === 'desc'
      const offset = q.offset ?? 0
      const pageLimit = q.limit ?? (format === 'json' ? DEFAULT_LIMIT : Infinity)
      if (q.cursor !== undefined && q.cont !== undefined) throw badParam('cont', 'give cursor or cont, not both')
      const filters = parseFilters(q)
      const cursor = q.cursor !== undefined ? decodeCursor(q.cursor) : q.cont !== undefined ? decodeCont(q.cont) : null
      const key = await pseudonymSecret()

      /** Reads up to `n` rows after `after`, in order, skipping `skip`. */
      const page = async (after: [string, string] | null, n: number, skip: number): Promise<Row[]> => await listMeasurements(app.db, filters, { desc, after, limit: n, offset: skip })

      // Chunk after chunk by keyset, only as fast as the client takes them;
      // one row is read past the page, so that next_url is null exactly on
      // the last page. The first chunk is read before replying, so that a
      // database failure still gets a proper 503 rather than a cut reply.
      const state = { after: cursor, skip: offset, left: pageLimit, sent: 0, last: undefined as Row | undefined, more: false, done: false }
      const readChunk = async (): Promise<Row[]> => {
        const want = Math.min(EXPORT_CHUNK_ROWS, state.left + 1)
        const rows = await page(state.after, want, state.skip)
        state.skip = 0
        const take = rows.slice(0, Math.min(rows.length, state.left))
        state.left -= take.length
        state.sent += take.length
        if (take.length > 0) {
          state.last = take[take.length - 1]
          state.after = [new Date(state.last.measurement_start_time).toISOString(), state.last.measurement_uid]
        }
        if (rows.length > take.length) {
          state.more = pageLimit > 0
          state.done = true
        }
        if (rows.length < want || state.left === 0) state.done = true
        return take
      }
      const nextUrl = (): string | null => {
        if (!state.more || state.last === undefined) return null
        const u = new URL(`${opts.publicUrl}/api/v1/measurements`)
        for (const [k, v] of Object.entries(q)) if (v !== undefined && k !== 'cursor' && k !== 'cont' && k !== 'offset') u.searchParams.set(k, String(v))
        // OONI's paging stays offset paging; otherwise a cursor (exact under concurrent ingest).
        if (q.offset !== undefined) {
          u.searchParams.set('offset', String(offset + state.sent))
          if (q.cursor !== undefined) u.searchParams.set('cursor', q.cursor)
          if (q.cont !== undefined) u.searchParams.set('cont', q.cont)
        } else {
          u.searchParams.set('cursor', encodeCursor(state.last))
        }
        return u.toString()
      }
      const metadata = (): Record<string, unknown> => ({
        count: state.sent,
        current_page: cursor === null && pageLimit > 0 && Number.isFinite(pageLimit) ? Math.floor(offset / pageLimit) + 1 : -1,
        limit: Number.isFinite(pageLimit) ? pageLimit : null,
        next_url: nextUrl(),
        offset,
        order: desc ? 'desc' : 'asc',
        pages: -1,
        query_time: Number(process.hrtime.bigint() - started) / 1e9
      })

      const first = await readChunk()
      const line = (r: Row): string => {
        const res = toResult(r, key)
        return format === 'csv' ? RESULT_FIELDS.map(f => csvSafeCell(res[f])).join(',') + '\r\n' : JSON.stringify(res)
      }
      async function* chunks(): AsyncGenerator<string> {
        let rows: Row[] | null = first
        let n = 0
        if (format === 'csv') yield RESULT_FIELDS.join(',') + '\r\n'
        if (format === 'json') yield '{"results":['
        while (true) {
          rows ??= state.done ? [] : await readChunk()
          if (rows.length === 0 && state.done) break
          let out = ''
          for (const r of rows) {
            if (format === 'json') out += (n++ === 0 ? '' : ',') + line(r)
            else if (format === 'ndjson') out += line(r) + '\n'
            else out += line(r)
          }
          if (out !== '') yield out
          rows = null
          if (state.done) break
        }
        // JSON: the metadata comes last, once next_url is known (key order means nothing to a JSON reader).
        if (format === 'json') yield '],"metadata":' + JSON.stringify(metadata()) + '}'
      }
      const type = format === 'csv' ? 'text/csv; charset=utf-8' : format === 'ndjson' ? 'application/x-ndjson; charset=utf-8' : 'application/json; charset=utf-8'
      // Exports are attachments, as they always were; a JSON page only with download=true.
      if (format !== 'json' || q.download === 'true') attach(reply, `measurements.${format}`)
      const stream = Readable.from(chunks())
      stream.on('error', err => {
        reply.log.error({ err }, 'measurements stream failed')
      })
      return await reply.type(type).send(stream)
    }
  )

  app.get(
    '/api/v1/measurements/:uid',
    {
      config: { rateLimit: limit },
      schema: {
        summary: 'One measurement: the full document (probe_id replaced by its monthly pseudonym) with our verdict',
        tags: ['researchers'],
        params: { type: 'object', properties: { uid: { type: 'string', minLength: 1, maxLength: 128, description: 'measurement_uid' } } }
      }
    },
    async req => {
      const { uid } = req.params as { uid: string }
      const row = await measurementByUid(app.db, uid)
      if (row === undefined) throw notFound(`uid: no measurement ${JSON.stringify(uid.slice(0, 128))}`)
      const key = await pseudonymSecret()
      const doc = typeof row.doc === 'string' ? (JSON.parse(row.doc) as Record<string, unknown>) : { ...row.doc }
      delete doc.probe_id
      return {
        ...toResult(row, key),
        scoring: { scoring_version: row.scoring_version, fingerprints_version: row.fingerprints_version },
        verdict: { reason: row.verdict_reason, down: row.down, unreachable: row.unreachable, fingerprints: row.fingerprints ?? [] },
        measurement: { ...doc, probe_ip: '127.0.0.1', probe: probePseudonym(key, row.probe_id, new Date(row.measurement_start_time)) }
      }
    }
  )

  const GRAINS = ['hour', 'day', 'week', 'month', 'year', 'auto'] as const

  app.get(
    '/api/v1/aggregation',
    {
      config: { rateLimit: limit },
      schema: {
        summary: "Counts of measurements by up to two axes (OONI's /api/v1/aggregation)",
        tags: ['researchers'],
        description:
          "OONI's mutually exclusive counts: failure_count (failed), confirmed_count (confirmed, not failed), anomaly_count (anomaly, neither confirmed nor failed), ok_count (the rest); measurement_count is their sum. With since and until, time_grain follows OONI's range rules: up to 7 days hour or day; up to 30 day or week; up to 365 day, week or month; beyond, day, week, month or year; auto picks the first. Weeks start on Sunday (ClickHouse toStartOfWeek, mode 0).",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...FILTER_PROPERTIES,
            axis_x: SCHEMAS.enum(AGGREGATION_AXES, 'the first dimension; measurement_start_time is our older name of measurement_start_day, probe_region ours'),
            axis_y: SCHEMAS.enum(AGGREGATION_AXES, 'the second dimension'),
            time_grain: SCHEMAS.enum([...GRAINS, ...GRAINS.map(g => g.toUpperCase())], 'bucket of the time axis; default auto'),
            format: SCHEMAS.enum(['JSON', 'CSV', 'json', 'csv'], 'default JSON'),
            download: SCHEMAS.bool('true: Content-Disposition attachment (ooni-aggregate-data.csv or .json)')
          }
        }
      }
    },
    async (req, reply) => {
      const q = req.query as Filters & { axis_x?: AggregationAxis; axis_y?: AggregationAxis; time_grain?: string; format?: string; download?: string }
      if (q.axis_x !== undefined && q.axis_x === q.axis_y) throw badParam('axis_y', 'Axis X and Y cannot be the same')
      const axes = [q.axis_x, q.axis_y].filter((a): a is AggregationAxis => a !== undefined)
      if (axes.filter(a => TIME_AXES.includes(a)).length > 1) throw badParam('axis_y', 'one time axis at most (measurement_start_day, or its older name measurement_start_time)')
      const timeAxis = axes.find(a => TIME_AXES.includes(a))
      const { axis_x: _x, axis_y: _y, time_grain: _g, format: _f, download: _d, ...raw } = q
      const filters = parseFilters(raw)
      const grain = resolveGrain(filters, raw, (q.time_grain ?? 'auto').toLowerCase() as (typeof GRAINS)[number], timeAxis !== undefined)
      const { rows } = await aggregate(app.db, filters, axes, grain)
      const result = rows.map(r => ooniRow(r, axes))
      const csv = (q.format ?? 'JSON').toUpperCase() === 'CSV'
      if (q.download === 'true') attach(reply, `ooni-aggregate-data.${csv ? 'csv' : 'json'}`)
      if (csv) {
        // OONI's CSV: one column per key, sorted by name; probe_asn a number.
        const cols = [...new Set([...AGGREGATION_COUNTS, ...axes, ...result.flatMap(o => Object.keys(o))])].sort()
        const text = [cols.join(','), ...result.map(o => cols.map(c => csvSafeCell(o[c])).join(','))].join('\r\n') + '\r\n'
        return await reply.type('text/csv; charset=utf-8').send(text)
      }
      return {
        dimension_count: axes.length,
        ...(timeAxis !== undefined ? { time_grain: grain } : {}),
        result: axes.length === 0 ? result[0] : result,
        v: 0
      }
    }
  )
}

/** An aggregation row in OONI's forms: probe_asn a number; names beside probe_cc and probe_asn. */
function ooniRow(r: AggregationRow, axes: AggregationAxis[]): AggregationRow {
  const o: AggregationRow = { ...r }
  if (axes.includes('probe_asn') && typeof r.probe_asn === 'string') {
    o.probe_asn = Number(r.probe_asn.replace(/^AS/i, ''))
    o.probe_network_name = networkName(r.probe_asn)
  }
  if (axes.includes('probe_cc')) o.probe_cc_name = countryName(typeof r.probe_cc === 'string' ? r.probe_cc : null)
  return o
}

/**
 * The time grain: OONI's range rules when since and until are both given
 * (a span of zero or less is refused, a grain the span does not allow is
 * refused naming those it allows); any grain otherwise, auto being day.
 */
function resolveGrain(parsed: MeasurementFilters, f: Filters, asked: AggregationGrain | 'auto', timeAxis: boolean): AggregationGrain {
  const { since, until } = parsed
  if (since === undefined || until === undefined) return asked === 'auto' ? 'day' : asked
  const span = until.getTime() - since.getTime()
  if (span <= 0 && timeAxis) throw badParam('since', `Invalid since and until values: since (${f.since ?? ''}) must be before until (${f.until ?? ''})`)
  const allowed = allowedGrains(Math.max(span, 1))
  if (asked === 'auto') return allowed[0]
  if (timeAxis && !allowed.includes(asked)) {
    throw badParam('time_grain', `Choose time_grain between ${[...allowed, 'auto'].join(', ')} for the given time range (${Math.ceil(span / 86_400_000)} days); got ${asked}`)
  }
  return asked
}
