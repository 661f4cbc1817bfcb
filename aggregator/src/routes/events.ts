/**
 * Routes: GET /api/v1/events (blocking and outage events that overlap a
 * window, JSON or CSV) and GET /api/v1/events/{event_id}.
 * See docs/api.md, "Timelines, events, feeds, reports".
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { getEvent, queryEvents, type EventRecord } from '../store/timeline.ts'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import { notFound } from '../errors.ts'
import { countryName, networkNames } from '../names.ts'
import {
  ASN_RE, DOMAIN_RE, TEST_NAME_RE, boolParam, ccParam, enumParam, intParam, patternParam, sendParamError, timeParam, wantsCsv,
  EVENTS_QUERY, type Query
} from './timeline-params.ts'

export const EVENT_CSV_COLUMNS = ['event_id', 'kind', 'probe_cc', 'domain', 'test_name', 'start_time', 'end_time', 'ongoing',
  'blocking_type', 'probe_asns', 'probe_regions', 'measurement_count', 'anomaly_count', 'confirmed_count', 'probe_count',
  'source_count', 'fingerprints', 'confidence', 'rule', 'outlier', 'outlier_reason', 'sample_measurement_urls'] as const

/** The public link of a measurement. */
export function measurementUrl (publicUrl: string, uid: string): string {
  return `${publicUrl}/api/v1/measurements/${encodeURIComponent(uid)}`
}

/** An event as the API shows it. */
export type EventJson = EventRecord & {
  /** The country's name beside probe_cc, null for ZZ and unassigned codes. */
  probe_cc_name: string | null
  /** Each affected network's name by ASN, beside probe_asns (null when the ASN database does not know it). */
  probe_network_names: Record<string, string | null>
  url: string
  sample_measurement_urls: string[]
}

/**
 * An event as the API shows it: the stored record, the names beside its
 * codes (right after them, so that a reader of the JSON sees them together),
 * and links on PUBLIC_URL.
 */
export function eventJson (e: EventRecord, publicUrl: string): EventJson {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) {
    out[k] = v
    if (k === 'probe_cc') out.probe_cc_name = countryName(e.probe_cc)
    if (k === 'probe_asns') out.probe_network_names = networkNames(e.probe_asns)
  }
  out.url = `${publicUrl}/api/v1/events/${e.event_id}`
  out.sample_measurement_urls = e.evidence.sample_measurement_uids.map(u => measurementUrl(publicUrl, u))
  return out as unknown as EventJson
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
      querystring: EVENTS_QUERY
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
    if (!/^[0-9a-f-]{36}$/.test(id)) throw notFound(`no event ${JSON.stringify(id.slice(0, 60))}`)
    const e = await getEvent(opts.db, id)
    if (e === null) throw notFound(`no event ${id}`)
    return eventJson(e, opts.publicUrl)
  })
}
