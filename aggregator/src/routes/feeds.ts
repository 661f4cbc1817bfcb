/**
 * Routes: GET /api/v1/feeds/events.atom, an Atom feed (RFC 4287) of events
 * with one entry when an event starts and one when it ends. Titles and
 * summaries name countries and networks beside their codes ("Iran (IR)",
 * "AS197207 Mobile Communication Company of Iran PLC"): a feed reader shows
 * them to people, not scripts.
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { queryEvents, type EventRecord } from '../store/timeline.ts'
import { DOMAIN_RE, FEED_QUERY, ccParam, enumParam, patternParam, sendParamError, type Query } from './timeline-params.ts'
import { measurementUrl } from './events.ts'
import { countryLabel } from '../names.ts'
import { networksText } from '../timeline/report.ts'

/** Escapes text for XML content and attribute values. */
export function xmlEscape (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** A one-line description of an event, for titles. */
export function eventTitle (e: EventRecord, phase: 'start' | 'end'): string {
  const where = countryLabel(e.probe_cc)
  if (e.kind === 'outage') {
    const networks = e.probe_asns.length > 0 ? `: ${networksText(e.probe_asns)}` : ''
    return phase === 'start' ? `Network outage in ${where}${networks}` : `Network outage in ${where} ended${networks}`
  }
  const how = e.blocking_type !== null ? `, ${e.blocking_type}` : ''
  return phase === 'start'
    ? `${e.domain ?? '?'} blocked in ${where}: ${e.test_name ?? '?'}${how}`
    : `${e.domain ?? '?'} no longer blocked in ${where}: ${e.test_name ?? '?'}${how}`
}

function summary (e: EventRecord, phase: 'start' | 'end'): string {
  const ev = e.evidence
  const when = phase === 'start' ? `Since ${e.start_time}` : `From ${e.start_time} to ${e.end_time ?? '?'}`
  const what = e.kind === 'outage' ? 'measurements that reached neither the target nor the control' : `anomalous measurements (${ev.confirmed_count} confirmed by a blockpage fingerprint)`
  return `${when}: ${ev.anomaly_count + ev.confirmed_count} ${what} ` +
    `from ${ev.probe_count} probes (${ev.source_count} independent) in ${countryLabel(e.probe_cc)}, ${networksText(e.probe_asns) || 'no network'}` +
    `${e.probe_regions.length > 0 ? ` (${e.probe_regions.join(', ')})` : ''}; confidence ${e.confidence}` +
    `${e.outlier ? `; flagged as a possible outlier: ${e.outlier_reason ?? ''}` : ''}.`
}

/** Builds the Atom document. */
export function atomFeed (events: EventRecord[], publicUrl: string, selfUrl: string, title: string): string {
  const entries: Array<{ id: string, updated: string, published: string, e: EventRecord, phase: 'start' | 'end' }> = []
  for (const e of events) {
    entries.push({ id: `${publicUrl}/api/v1/events/${e.event_id}#start`, updated: e.detected_at, published: e.start_time, e, phase: 'start' })
    if (e.end_time !== null) entries.push({ id: `${publicUrl}/api/v1/events/${e.event_id}#end`, updated: e.ended_at ?? e.updated_at, published: e.end_time, e, phase: 'end' })
  }
  entries.sort((a, b) => b.updated.localeCompare(a.updated) || a.id.localeCompare(b.id))
  const updated = entries[0]?.updated ?? new Date(0).toISOString()
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${xmlEscape(selfUrl)}</id>`,
    `  <title>${xmlEscape(title)}</title>`,
    `  <updated>${updated}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlEscape(selfUrl)}"/>`,
    '  <author><name>blockwatch</name></author>',
    '  <generator>blockwatch</generator>'
  ]
  for (const x of entries) {
    const link = `${publicUrl}/api/v1/events/${x.e.event_id}`
    out.push('  <entry>',
      `    <id>${xmlEscape(x.id)}</id>`,
      `    <title>${xmlEscape(eventTitle(x.e, x.phase))}</title>`,
      `    <updated>${x.updated}</updated>`,
      `    <published>${x.published}</published>`,
      `    <link rel="alternate" type="application/json" href="${xmlEscape(link)}"/>`,
      ...x.e.evidence.sample_measurement_uids.slice(0, 3).map(u => `    <link rel="related" type="application/json" href="${xmlEscape(measurementUrl(publicUrl, u))}"/>`),
      `    <category term="${x.e.kind}"/>`,
      `    <summary>${xmlEscape(summary(x.e, x.phase))}</summary>`,
      '  </entry>')
  }
  out.push('</feed>')
  return out.join('\n') + '\n'
}

export default async function feedsRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/api/v1/feeds/events.atom', {
    schema: {
      summary: 'Atom feed: one entry when an event starts, one when it ends',
      tags: ['timelines'],
      querystring: FEED_QUERY
    }
  }, async (req, reply) => {
    try {
      const q = req.query as Query
      const probeCc = ccParam(q)
      const kind = enumParam(q, 'kind', ['blocking', 'outage'] as const)
      const domain = patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase()
      const events = await queryEvents(opts.db, { probe_cc: probeCc, kind, domain, limit: 100 })
      const self = new URL(opts.publicUrl + '/api/v1/feeds/events.atom')
      if (probeCc !== undefined) self.searchParams.set('probe_cc', probeCc)
      if (kind !== undefined) self.searchParams.set('kind', kind)
      if (domain !== undefined) self.searchParams.set('domain', domain)
      const title = `blockwatch: ${kind ?? 'blocking and outage'} events${domain !== undefined ? ` for ${domain}` : ''}${probeCc !== undefined ? ` in ${countryLabel(probeCc)}` : ''}`
      return await reply.type('application/atom+xml; charset=utf-8').send(atomFeed(events, opts.publicUrl, self.toString(), title))
    } catch (err) {
      return await sendParamError(reply, err)
    }
  })
}
