/**
 * The researcher API (public, read-only, rate-limited):
 * - GET /api/v1/measurements: filtered, ordered, paged by cursor; JSON, CSV
 *   or NDJSON, streamed in chunks so an export of millions of rows runs in
 *   constant memory;
 * - GET /api/v1/measurements/{uid}: the full document;
 * - GET /api/v1/aggregation: OONI-compatible counts by axis_x/axis_y.
 * probe_id is never shown: a monthly pseudonym stands in for it.
 * See docs/api.md.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import type { AppOptions } from '../app.ts'
import { badRequest, notFound } from '../errors.ts'
import { loadPseudonymSecret, probePseudonym } from '../pseudonym.ts'
import { FILTER_PROPERTIES, filtersWhere, timeRange, type Filters } from '../query/filters.ts'
import { AGGREGATION_AXES, AGGREGATION_COUNTS, aggregate, type AggregationAxis } from '../store/aggregation.ts'

/** Rows per page of JSON, by default and at most. */
export const DEFAULT_LIMIT = 100
export const MAX_JSON_LIMIT = 1000
/** Rows read per query while streaming an export. */
export const EXPORT_CHUNK_ROWS = 1000

/** The columns of one result, in CSV order. */
export const RESULT_FIELDS = ['measurement_uid', 'report_id', 'input', 'domain', 'category_code', 'test_name', 'measurement_start_time',
  'probe_cc', 'probe_asn', 'probe_region', 'probe', 'blocking_type', 'anomaly', 'confirmed', 'failure', 'measurement_url'] as const

interface Row {
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

const SELECT_COLUMNS = 'measurement_uid, report_id, input, domain, category_code, test_name, measurement_start_time, probe_cc, probe_asn, probe_region, probe_id, blocking_type, anomaly, confirmed, failure'

/** An opaque cursor: the sort key of the last row of a page. */
function encodeCursor (row: Row): string {
  return Buffer.from(JSON.stringify([new Date(row.measurement_start_time).toISOString(), row.measurement_uid])).toString('base64url')
}
function decodeCursor (s: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'))
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]))) return [v[0], v[1]]
  } catch {}
  throw badRequest('query.cursor', 'not a cursor this API made; use the next_url of the previous page')
}

export default async function measurementsRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  const limit = opts.rateLimits?.researcher ?? { max: 300, timeWindow: '1 minute' }
  let secret: Promise<string> | undefined
  const pseudonymSecret = async (): Promise<string> => {
    if (opts.pseudonymSecret !== undefined) return opts.pseudonymSecret
    secret ??= loadPseudonymSecret(app.db).catch(err => { secret = undefined; throw err })
    return await secret
  }
  const measurementUrl = (uid: string): string => `${opts.publicUrl}/api/v1/measurements/${encodeURIComponent(uid)}`

  const toResult = (r: Row, key: string): Record<string, unknown> => {
    const start = new Date(r.measurement_start_time)
    return {
      measurement_uid: r.measurement_uid,
      report_id: r.report_id,
      input: r.input,
      domain: r.domain,
      category_code: r.category_code,
      test_name: r.test_name,
      measurement_start_time: start.toISOString().replace('.000Z', 'Z'),
      probe_cc: r.probe_cc,
      probe_asn: r.probe_asn,
      probe_region: r.probe_region,
      probe: probePseudonym(key, r.probe_id, start),
      blocking_type: r.blocking_type,
      anomaly: r.anomaly,
      confirmed: r.confirmed,
      failure: r.failure,
      measurement_url: measurementUrl(r.measurement_uid)
    }
  }

  app.get('/api/v1/measurements', {
    config: { rateLimit: limit },
    schema: {
      summary: 'Search measurements',
      tags: ['researchers'],
      description: 'Filtered and ordered by measurement_start_time, paged by cursor (follow metadata.next_url). format=csv or ndjson streams every matching row unless limit is given.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...FILTER_PROPERTIES,
          order: { type: 'string', enum: ['asc', 'desc'], description: 'by measurement_start_time; default desc (newest first)' },
          order_by: { type: 'string', enum: ['measurement_start_time'], description: 'the only sort key (cursor paging needs a unique order)' },
          limit: { type: 'integer', minimum: 1, maximum: 100_000_000, description: `rows per page; JSON default ${DEFAULT_LIMIT}, at most ${MAX_JSON_LIMIT}; csv/ndjson default all` },
          cursor: { type: 'string', maxLength: 512, description: 'from next_url' },
          format: { type: 'string', enum: ['json', 'csv', 'ndjson'], description: 'default json' }
        }
      }
    }
  }, async (req, reply) => {
    const q = req.query as Filters & { order?: 'asc' | 'desc', limit?: number, cursor?: string, format?: 'json' | 'csv' | 'ndjson' }
    const format = q.format ?? 'json'
    if (format === 'json' && q.limit !== undefined && q.limit > MAX_JSON_LIMIT) throw badRequest('query.limit', `at most ${MAX_JSON_LIMIT} rows a JSON page; follow next_url, or use format=csv or ndjson for exports`)
    const desc = (q.order ?? 'desc') === 'desc'
    const pageLimit = q.limit ?? (format === 'json' ? DEFAULT_LIMIT : Infinity)
    const base = filtersWhere(q)
    const cursor = q.cursor !== undefined ? decodeCursor(q.cursor) : null
    const key = await pseudonymSecret()

    /** Reads up to `n` rows after `after`, in order. */
    const page = async (after: [string, string] | null, n: number): Promise<Row[]> => {
      const params = [...base.params]
      let where = base.sql
      if (after !== null) {
        params.push(after[0], after[1])
        where += ` AND (measurement_start_time, measurement_uid) ${desc ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::text)`
      }
      params.push(n)
      const dir = desc ? 'DESC' : 'ASC'
      const r = await app.db.query<Row>(`SELECT ${SELECT_COLUMNS} FROM measurements WHERE ${where}
        ORDER BY measurement_start_time ${dir}, measurement_uid ${dir} LIMIT $${params.length}`, params)
      return r.rows
    }
    const nextUrl = (last: Row): string => {
      const u = new URL(`${opts.publicUrl}/api/v1/measurements`)
      for (const [k, v] of Object.entries(q)) if (k !== 'cursor' && v !== undefined) u.searchParams.set(k, String(v))
      u.searchParams.set('cursor', encodeCursor(last))
      return u.toString()
    }

    if (format === 'json') {
      const rows = await page(cursor, pageLimit)
      const last = rows.at(-1)
      return {
        metadata: { count: rows.length, limit: pageLimit, order: desc ? 'desc' : 'asc', next_url: rows.length === pageLimit && last !== undefined ? nextUrl(last) : null },
        results: rows.map(r => toResult(r, key))
      }
    }
    // Exports: read chunk after chunk by keyset, only as fast as the client
    // takes them. The first chunk is read before replying, so that a database
    // failure still gets a proper 503 rather than a cut reply.
    const first = await page(cursor, Math.min(EXPORT_CHUNK_ROWS, pageLimit))
    async function * lines (): AsyncGenerator<string> {
      if (format === 'csv') yield RESULT_FIELDS.join(',') + '\r\n'
      let after = cursor
      let left = pageLimit
      let pending: Row[] | null = first
      while (left > 0) {
        const rows: Row[] = pending ?? await page(after, Math.min(EXPORT_CHUNK_ROWS, left))
        pending = null
        if (rows.length === 0) break
        let out = ''
        for (const r of rows) {
          const res = toResult(r, key)
          out += format === 'csv' ? RESULT_FIELDS.map(f => csvSafeCell(res[f])).join(',') + '\r\n' : JSON.stringify(res) + '\n'
        }
        yield out
        left -= rows.length
        after = [new Date(rows[rows.length - 1].measurement_start_time).toISOString(), rows[rows.length - 1].measurement_uid]
        if (rows.length < EXPORT_CHUNK_ROWS) break
      }
    }
    return await sendStream(reply, Readable.from(lines()), format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      format === 'csv' ? 'measurements.csv' : 'measurements.ndjson')
  })

  app.get('/api/v1/measurements/:uid', {
    config: { rateLimit: limit },
    schema: {
      summary: 'One measurement: the full document (probe_id replaced by its monthly pseudonym)',
      tags: ['researchers'],
      params: { type: 'object', properties: { uid: { type: 'string', minLength: 1, maxLength: 128 } } }
    }
  }, async (req) => {
    const { uid } = req.params as { uid: string }
    const r = await app.db.query<Row & { doc: Record<string, unknown>, scoring_version: number, fingerprints_version: string,
      down: boolean, unreachable: boolean, verdict_reason: string | null, fingerprints: string[] | null }>(
      `SELECT ${SELECT_COLUMNS}, doc, scoring_version, fingerprints_version, down, unreachable, verdict_reason, fingerprints FROM measurements
       WHERE measurement_uid = $1 AND measurement_start_time = (SELECT measurement_start_time FROM measurement_uids WHERE measurement_uid = $1)`, [uid])
    if (r.rows.length === 0) throw notFound(`uid: no measurement ${JSON.stringify(uid.slice(0, 128))}`)
    const row = r.rows[0]
    const key = await pseudonymSecret()
    const doc = typeof row.doc === 'string' ? JSON.parse(row.doc) as Record<string, unknown> : { ...row.doc }
    delete doc.probe_id
    return {
      ...toResult(row, key),
      scoring: { scoring_version: row.scoring_version, fingerprints_version: row.fingerprints_version },
      verdict: { reason: row.verdict_reason, down: row.down, unreachable: row.unreachable, fingerprints: row.fingerprints ?? [] },
      measurement: { ...doc, probe_ip: '127.0.0.1', probe: probePseudonym(key, row.probe_id, new Date(row.measurement_start_time)) }
    }
  })

  const AXES = AGGREGATION_AXES
  const GRAINS = ['hour', 'day', 'week', 'month', 'year', 'auto'] as const

  app.get('/api/v1/aggregation', {
    config: { rateLimit: limit },
    schema: {
      summary: 'Counts of measurements by up to two axes (OONI-compatible)',
      tags: ['researchers'],
      description: 'Counts are mutually exclusive: failure_count, confirmed_count (not failed), anomaly_count (neither confirmed nor failed), ok_count (the rest); measurement_count is their sum. Answered from the rollups when the filters and axes allow (country, network or subdivision, domain, test_name, time on hour or day bounds), else from the measurements.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...FILTER_PROPERTIES,
          axis_x: { type: 'string', enum: [...AXES] },
          axis_y: { type: 'string', enum: [...AXES] },
          time_grain: { type: 'string', enum: [...GRAINS], description: 'for the measurement_start_time axis; default auto' },
          format: { type: 'string', enum: ['json', 'csv'] }
        }
      }
    }
  }, async (req, reply) => {
    const q = req.query as Filters & { axis_x?: AggregationAxis, axis_y?: AggregationAxis, time_grain?: typeof GRAINS[number], format?: 'json' | 'csv' }
    if (q.axis_x !== undefined && q.axis_x === q.axis_y) throw badRequest('query.axis_y', 'must differ from axis_x')
    if (q.axis_x === undefined && q.axis_y !== undefined) throw badRequest('query.axis_x', 'set axis_x before axis_y')
    const grain = q.time_grain === undefined || q.time_grain === 'auto' ? autoGrain(q) : q.time_grain
    const axes = [q.axis_x, q.axis_y].filter((a): a is AggregationAxis => a !== undefined)
    const { axis_x: _x, axis_y: _y, time_grain: _g, format: _f, ...filters } = q
    const { rows } = await aggregate(app.db, filters, axes, grain)
    if (q.format === 'csv') {
      const cols = [...axes, ...AGGREGATION_COUNTS]
      const text = [cols.join(','), ...rows.map(o => cols.map(c => csvSafeCell(o[c])).join(','))].join('\r\n') + '\r\n'
      return await reply.type('text/csv; charset=utf-8').send(text)
    }
    return {
      dimension_count: axes.length,
      time_grain: axes.includes('measurement_start_time') ? grain : undefined,
      result: axes.length === 0 ? rows[0] : rows,
      v: 0
    }
  })
}

/** OONI's auto grain: finer for shorter periods. */
function autoGrain (f: Filters): 'hour' | 'day' | 'week' | 'month' {
  const { since, until } = timeRange(f)
  if (since === null || until === null) return 'day'
  const days = (until.getTime() - since.getTime()) / 86_400_000
  if (days <= 7) return 'hour'
  if (days <= 366) return 'day'
  if (days <= 3 * 366) return 'week'
  return 'month'
}

/** Sends a stream; an error after the first byte can only cut the reply short. */
async function sendStream (reply: FastifyReply, stream: Readable, type: string, filename: string): Promise<FastifyReply> {
  stream.on('error', err => { reply.log.error({ err }, 'export stream failed') })
  return await reply.type(type).header('content-disposition', `attachment; filename="${filename}"`).send(stream)
}

