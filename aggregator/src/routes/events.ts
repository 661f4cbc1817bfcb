/**
 * Routes: GET /api/v1/events (blocking and outage events that overlap a
 * window, JSON or CSV) and GET /api/v1/events/{event_id}.
 * See docs/api.md, "Timelines, events, feeds, reports".
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { getEvent, queryEvents, type EventRecord } from '../timeline/store.ts'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import {
  ASN_RE, DOMAIN_RE, TEST_NAME_RE, boolParam, ccParam, enumParam, intParam, patternParam, sendParamError, timeParam, wantsCsv,
  type Query
} from './timeline-params.ts'

export const EVENT_CSV_COLUMNS = ['event_id', 'kind', 'probe_cc', 'domain', 'test_name', 'start_time', 'end_time', 'ongoing',
  'blocking_type', 'probe_asns', 'probe_regions', 'measurement_count', 'anomaly_count', 'confirmed_count', 'probe_count',
  'source_count', 'fingerprints', 'confidence', 'rule', 'outlier', 'outlier_reason', 'sample_measurement_urls'] as const

/** The public link of a measurement. */
export function measurementUrl (publicUrl: string, uid: string): string {
  return `${publicUrl}/api/v1/measurements/${encodeURIComponent(uid)}`
}

/** An event as the API shows it: the stored record plus links on PUBLIC_URL. */
export function eventJson (e: EventRecord, publicUrl: string): EventRecord & { url: string, sample_measurement_urls: string[] } {
  return {
    ...e,
    url: `${publicUrl}/api/v1/events/${e.event_id}`,
    sample_measurement_urls: e.evidence.sample_measurement_uids.map(u => measurementUrl(publicUrl, u))
  }
}

/** One CSV row of an event. */
export function eventCsvRow (e: EventRecord, publicUrl: string): string {
  const j = eventJson(e, publicUrl)
  const rec: Record<string, unknown> = {
    ...j,
    ...j.evidence,
    probe_asns: j.probe_asns.join(' '),
    probe_regions: j.probe_regions.join(' '),
    fingerprints: j.evidence.fingerprints.join(' '),
    sample_measurement_urls: j.sample_measurement_urls.join(' ')
  }
  return EVENT_CSV_COLUMNS.map(c => csvSafeCell(rec[c])).join(',')
}

export default async function eventsRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/api/v1/events', {
    schema: {
      summary: 'Blocking and outage events overlapping a window, JSON or CSV',
      tags: ['timelines'],
      querystring: { type: 'object', properties: { probe_cc: { type: 'string', description: 'IR' }, probe_asn: { type: 'string', description: 'an affected network' }, domain: { type: 'string', description: 'www.facebook.com' }, test_name: { type: 'string', description: 'web_connectivity' }, kind: { type: 'string', description: 'blocking or outage' }, since: { type: 'string', description: 'date or timestamp' }, until: { type: 'string', description: 'date or timestamp' }, ongoing: { type: 'string', description: 'true or false' }, limit: { type: 'string', description: '1..10000, default 100' }, offset: { type: 'string', description: 'paging' }, format: { type: 'string', description: 'json or csv' } } }
    }
  }, async (req, reply) => {
    try {
      const q = req.query as Query
      const limit = intParam(q, 'limit', 100, 1, 10000)
      const offset = intParam(q, 'offset', 0, 0, 1_000_000)
      const filters = {
        probe_cc: ccParam(q),
        probe_asn: patternParam(q, 'probe_asn', ASN_RE, 'AS197207'),
        domain: patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase(),
        test_name: patternParam(q, 'test_name', TEST_NAME_RE, 'web_connectivity'),
        kind: enumParam(q, 'kind', ['blocking', 'outage'] as const),
        since: timeParam(q, 'since'),
        until: timeParam(q, 'until'),
        ongoing: boolParam(q, 'ongoing')
      }
      const csv = wantsCsv(q, req.headers.accept)
      const events = await queryEvents(opts.db, { ...filters, limit, offset })
      if (csv) {
        const body = [EVENT_CSV_COLUMNS.join(','), ...events.map(e => eventCsvRow(e, opts.publicUrl))].join('\r\n') + '\r\n'
        return await reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="events.csv"').send(body)
      }
      const meta: Record<string, unknown> = { count: events.length, limit, offset }
      for (const [k, v] of Object.entries(filters)) if (v !== undefined) meta[k] = v instanceof Date ? v.toISOString() : v
      if (events.length === limit) {
        const u = new URL(opts.publicUrl + req.url)
        u.searchParams.set('offset', String(offset + limit))
        meta.next_url = u.toString()
      }
      return { metadata: meta, results: events.map(e => eventJson(e, opts.publicUrl)) }
    } catch (err) {
      return await sendParamError(reply, err)
    }
  })

  app.get<{ Params: { id: string } }>('/api/v1/events/:id', { schema: { summary: 'One event', tags: ['timelines'] } }, async (req, reply) => {
    const id = req.params.id
    if (!/^[0-9a-f-]{36}$/.test(id)) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no event ${JSON.stringify(id.slice(0, 60))}` })
    const e = await getEvent(opts.db, id)
    if (e === null) return await reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no event ${id}` })
    return eventJson(e, opts.publicUrl)
  })
}
