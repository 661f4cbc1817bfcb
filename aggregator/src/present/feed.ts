/**
 * The Atom feed of events (RFC 4287): one entry when an event starts and
 * one when it ends, titles and summaries in words with names beside codes.
 * An entry links to the event's page on the dashboard (HTML, for people),
 * with the API's JSON as a second alternate. Ids are tag: URIs (RFC 4151)
 * made of the event's id alone: a feed reader that has seen an entry still
 * knows it when the server moves (PUBLIC_URL changes) or its links do.
 */
import type { EventRecord } from '../store/timeline.ts'
import { eventApiUrl, eventPageUrl, measurementUrl } from './events.ts'
import { countryLabel } from '../names.ts'
import { networksText } from '../timeline/report.ts'

/** Escapes text for XML content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')
}

/** The tagging entity of our ids (RFC 4151): a name and the year it was first used for them; never changes. */
export const TAG_PREFIX = 'tag:blockwatch,2026:'

/** The id of an event's start or end entry. */
export function entryId(eventId: string, phase: 'start' | 'end'): string {
  return `${TAG_PREFIX}event:${eventId}:${phase}`
}

/** The id of a feed: its filters, in a fixed order, without the server's address. */
export function feedId(filters: Record<string, string | undefined>): string {
  const q = Object.keys(filters)
    .sort()
    .filter(k => filters[k] !== undefined)
    .map(k => `${k}=${encodeURIComponent(filters[k]!)}`)
    .join('&')
  return `${TAG_PREFIX}feed:events${q === '' ? '' : '?' + q}`
}

/** A one-line description of an event, for titles. */
export function eventTitle(e: EventRecord, phase: 'start' | 'end'): string {
  const where = countryLabel(e.probe_cc)
  if (e.kind === 'outage') {
    const networks = e.probe_asns.length > 0 ? `: ${networksText(e.probe_asns)}` : ''
    return phase === 'start' ? `Network outage in ${where}${networks}` : `Network outage in ${where} ended${networks}`
  }
  const how = e.blocking_type !== null ? `, ${e.blocking_type}` : ''
  return phase === 'start' ? `${e.domain ?? '?'} blocked in ${where}: ${e.test_name ?? '?'}${how}` : `${e.domain ?? '?'} no longer blocked in ${where}: ${e.test_name ?? '?'}${how}`
}

function summary(e: EventRecord, phase: 'start' | 'end'): string {
  const ev = e.evidence
  const when = phase === 'start' ? `Since ${e.start_time}` : `From ${e.start_time} to ${e.end_time ?? '?'}`
  const what = e.kind === 'outage' ? 'measurements that reached neither the target nor the control' : `anomalous measurements (${ev.confirmed_count} confirmed by a blockpage fingerprint)`
  return (
    `${when}: ${ev.anomaly_count + ev.confirmed_count} ${what} ` +
    `from ${ev.probe_count} probes (${ev.source_count} independent) in ${countryLabel(e.probe_cc)}, ${networksText(e.probe_asns) || 'no network'}` +
    `${e.probe_regions.length > 0 ? ` (${e.probe_regions.join(', ')})` : ''}; confidence ${e.confidence}` +
    `${e.outlier ? `; flagged as a possible outlier: ${e.outlier_reason ?? ''}` : ''}.`
  )
}

/** Builds the Atom document. `id` is the feed's own (see {@link feedId}); `selfUrl` where it is served. */
export function atomFeed(events: EventRecord[], publicUrl: string, selfUrl: string, title: string, id: string = feedId({})): string {
  const entries: Array<{ id: string; updated: string; published: string; e: EventRecord; phase: 'start' | 'end' }> = []
  for (const e of events) {
    entries.push({ id: entryId(e.event_id, 'start'), updated: e.detected_at, published: e.start_time, e, phase: 'start' })
    if (e.end_time !== null) entries.push({ id: entryId(e.event_id, 'end'), updated: e.ended_at ?? e.updated_at, published: e.end_time, e, phase: 'end' })
  }
  entries.sort((a, b) => b.updated.localeCompare(a.updated) || a.id.localeCompare(b.id))
  const updated = entries[0]?.updated ?? new Date(0).toISOString()
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${xmlEscape(id)}</id>`,
    `  <title>${xmlEscape(title)}</title>`,
    `  <updated>${updated}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xmlEscape(selfUrl)}"/>`,
    '  <author><name>blockwatch</name></author>',
    '  <generator>blockwatch</generator>'
  ]
  for (const x of entries) {
    out.push(
      '  <entry>',
      `    <id>${xmlEscape(x.id)}</id>`,
      `    <title>${xmlEscape(eventTitle(x.e, x.phase))}</title>`,
      `    <updated>${x.updated}</updated>`,
      `    <published>${x.published}</published>`,
      `    <link rel="alternate" type="text/html" href="${xmlEscape(eventPageUrl(publicUrl, x.e.event_id))}"/>`,
      `    <link rel="alternate" type="application/json" href="${xmlEscape(eventApiUrl(publicUrl, x.e.event_id))}"/>`,
      ...x.e.evidence.sample_measurement_uids.slice(0, 3).map(u => `    <link rel="related" type="application/json" href="${xmlEscape(measurementUrl(publicUrl, u))}"/>`),
      `    <category term="${x.e.kind}"/>`,
      `    <summary>${xmlEscape(summary(x.e, x.phase))}</summary>`,
      '  </entry>'
    )
  }
  out.push('</feed>')
  return out.join('\n') + '\n'
}
