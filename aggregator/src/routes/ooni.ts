/**
 * OONI's single-measurement routes (ooni/backend, oonimeasurements
 * routers/v1/measurements.py), on our store:
 * - GET /api/v1/raw_measurement: the stored document, by measurement_uid,
 *   or by report_id and input;
 * - GET /api/v1/measurement_meta: OONI's meta shape (probe_asn a number,
 *   scores a JSON string), with the document as a string when full=true.
 * Unlike OONI, a measurement that is not there is a 404, never a 200 with
 * an empty body. The stored document never shows probe_id.
 * See docs/api.md, "GET /api/v1/raw_measurement".
 */
import type { FastifyInstance } from 'fastify'
import type { RateLimitRule } from '../app.ts'
import { badParam, notFound } from '../errors.ts'
import { countryName, networkName } from '../names.ts'
import { SCHEMAS } from '../query/filters.ts'
import { measurementDocByReport, measurementDocByUid, type MeasurementWithDoc } from '../store/measurements.ts'
import { isoSeconds, scoresOf } from '../present/measurement.ts'

const LOOKUP_PROPERTIES = {
  measurement_uid: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\x00]+$', description: 'the measurement; or give report_id (and input)' },
  report_id: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\x00]+$', description: 'the report, when measurement_uid is not given' },
  input: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[^\\x00]+$', description: "with report_id: the measurement's input (leave out for tests without one)" }
} as const

type Lookup = { measurement_uid?: string; report_id?: string; input?: string }
type Stored = MeasurementWithDoc

/** The stored row a lookup names, or a 404; a 400 when it names none. */
async function findMeasurement(app: FastifyInstance, q: Lookup): Promise<Stored> {
  let row: Stored | undefined
  if (q.measurement_uid !== undefined) {
    // A uid stored twice (a probe reusing one in another month) answers with the first stored.
    row = await measurementDocByUid(app.db, q.measurement_uid)
  } else if (q.report_id !== undefined) {
    // OONI's: a report's measurement without input is the one with input '' (ours: null).
    row = await measurementDocByReport(app.db, q.report_id, q.input)
  } else {
    throw badParam(q.input !== undefined ? 'report_id' : 'measurement_uid', 'give measurement_uid, or report_id (with input for a test that has one)')
  }
  if (row === undefined) {
    const what =
      q.measurement_uid !== undefined
        ? `measurement_uid ${JSON.stringify(q.measurement_uid.slice(0, 128))}`
        : `report_id ${JSON.stringify((q.report_id ?? '').slice(0, 200))}${q.input !== undefined ? ` and input ${JSON.stringify(q.input.slice(0, 200))}` : ' without input (give input for a test that has one)'}`
    throw notFound(`no measurement for ${what}`)
  }
  return row
}

/** The document as stored, without probe_id (never shown). */
function publicDoc(row: Stored): Record<string, unknown> {
  const doc = typeof row.doc === 'string' ? (JSON.parse(row.doc) as Record<string, unknown>) : { ...row.doc }
  delete doc.probe_id
  return doc
}

/** "2024-01-31 10:00:00" (a document's time) as OONI's meta writes it, or null. */
function metaTime(v: unknown): string | null {
  if (typeof v !== 'string') return null
  const d = new Date(v.replace(' ', 'T') + (/[Zz]|[+-]\d\d:?\d\d$/.test(v) ? '' : 'Z'))
  return Number.isNaN(d.getTime()) ? null : isoSeconds(d)
}

/** Registers the two routes on the researcher API's rate limit. */
export default function ooniRoutes(app: FastifyInstance, opts: { rateLimit: RateLimitRule }): void {
  app.get(
    '/api/v1/raw_measurement',
    {
      config: { rateLimit: opts.rateLimit },
      schema: {
        summary: "One measurement's document, as stored (OONI's /api/v1/raw_measurement)",
        tags: ['researchers'],
        description: 'By measurement_uid, or by report_id and input. 404 when there is none (OONI answers {} with 200).',
        querystring: { type: 'object', additionalProperties: false, properties: LOOKUP_PROPERTIES }
      }
    },
    async (req, reply) => {
      const row = await findMeasurement(app, req.query as Lookup)
      return await reply.type('application/json; charset=utf-8').send(JSON.stringify(publicDoc(row)))
    }
  )

  app.get(
    '/api/v1/measurement_meta',
    {
      config: { rateLimit: opts.rateLimit },
      schema: {
        summary: "One measurement's metadata (OONI's /api/v1/measurement_meta)",
        tags: ['researchers'],
        description:
          "OONI's fields (probe_asn a number, scores a JSON string) plus probe_cc_name and probe_network_name; full=true adds raw_measurement, the document as a JSON string. 404 when there is none.",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...LOOKUP_PROPERTIES, full: SCHEMAS.bool('true: include the document (raw_measurement, a JSON string)') }
        }
      }
    },
    async req => {
      const q = req.query as Lookup & { full?: string }
      const row = await findMeasurement(app, q)
      const doc = publicDoc(row)
      const full = q.full !== undefined && (q.full.toLowerCase() === 'true' || q.full === '1')
      return {
        input: row.input,
        measurement_start_time: isoSeconds(row.measurement_start_time),
        measurement_uid: row.measurement_uid,
        report_id: row.report_id,
        test_name: row.test_name,
        test_start_time: metaTime(doc.test_start_time),
        probe_asn: Number(row.probe_asn.replace(/^AS/i, '')),
        probe_cc: row.probe_cc,
        probe_cc_name: countryName(row.probe_cc),
        probe_network_name: networkName(row.probe_asn),
        scores: JSON.stringify(scoresOf(row)),
        anomaly: row.anomaly,
        confirmed: row.confirmed,
        failure: row.failure,
        category_code: row.category_code,
        ...(full ? { raw_measurement: JSON.stringify(doc) } : {})
      }
    }
  )
}
