/**
 * Routes: GET /api/v1/events (blocking and outage events that overlap a
 * window, JSON or CSV) and GET /api/v1/events/{event_id}.
 * See docs/api.md, "Timelines, events, feeds, reports".
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { queryEvents } from '../store/timeline.ts'
import { EVENT_CSV_COLUMNS, eventCsvRow, eventJson, findEvent } from '../present/events.ts'
import { notFound } from '../errors.ts'
import { ASN_RE, DOMAIN_RE, TEST_NAME_RE, boolParam, ccParam, enumParam, intParam, patternParam, timeParam, wantsCsv, EVENTS_QUERY, EVENT_PARAMS, type Query } from '../query/filters.ts'

export default async function eventsRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get(
    '/api/v1/events',
    {
      schema: {
        summary: 'Blocking and outage events overlapping a window, JSON or CSV',
        tags: ['timelines'],
        querystring: EVENTS_QUERY
      }
    },
    async (req, reply) => {
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
    }
  )

  app.get<{ Params: { id: string } }>('/api/v1/events/:id', { schema: { summary: 'One event', tags: ['timelines'], params: EVENT_PARAMS } }, async req => {
    const id = req.params.id
    const e = await findEvent(opts.db, id)
    if (e === null) throw notFound(`no event ${JSON.stringify(id.slice(0, 60))}`)
    return eventJson(e, opts.publicUrl)
  })
}
