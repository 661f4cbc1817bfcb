/**
 * Events as the API shows them (JSON and CSV rows): the stored record, the
 * names beside its codes, and links on PUBLIC_URL. Used by the events
 * route, feeds, block reports and the dashboard.
 */
import { getEvent, type EventRecord } from '../store/timeline.ts'
import type { Queryable } from '../store/db.ts'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import { countryName, networkNames } from '../names.ts'

/** The columns of the events CSV, in order. */
export const EVENT_CSV_COLUMNS = [
  'event_id',
  'kind',
  'probe_cc',
  'domain',
  'test_name',
  'start_time',
  'end_time',
  'ongoing',
  'blocking_type',
  'probe_asns',
  'probe_regions',
  'measurement_count',
  'anomaly_count',
  'confirmed_count',
  'probe_count',
  'source_count',
  'fingerprints',
  'confidence',
  'rule',
  'outlier',
  'outlier_reason',
  'sample_measurement_urls'
] as const

/** An event id's form (a UUID): anything else is no event, answered without a query. */
export const EVENT_ID_RE = /^[0-9a-f-]{36}$/

/** One event by id, or null when there is none; used by GET /api/v1/events/{id} and the dashboard's event page. */
export async function findEvent(db: Queryable, id: string): Promise<EventRecord | null> {
  return EVENT_ID_RE.test(id) ? await getEvent(db, id) : null
}

/** The public link of an event in the API (JSON). */
export function eventApiUrl(publicUrl: string, id: string): string {
  return `${publicUrl}/api/v1/events/${encodeURIComponent(id)}`
}

/** The public link of an event's page on the dashboard (HTML, dashboard/pages/event.ts). */
export function eventPageUrl(publicUrl: string, id: string): string {
  return `${publicUrl}/event/${encodeURIComponent(id)}`
}

/** The public link of a measurement. */
export function measurementUrl(publicUrl: string, uid: string): string {
  return `${publicUrl}/api/v1/measurements/${encodeURIComponent(uid)}`
}

/** An event as the API shows it. */
export type EventJson = EventRecord & {
  /** The country's name beside probe_cc, null for ZZ and unassigned codes. */
  probe_cc_name: string | null
  /** Each affected network's name by ASN, beside probe_asns (null when the ASN database does not know it). */
  probe_network_names: Record<string, string | null>
  /** The event in the API (JSON). */
  url: string
  /** The event's page on the dashboard (HTML), for people: what reports and feeds link to. */
  page_url: string
  sample_measurement_urls: string[]
}

/**
 * An event as the API shows it: the stored record, the names beside its
 * codes (right after them, so that a reader of the JSON sees them together),
 * and links on PUBLIC_URL.
 */
export function eventJson(e: EventRecord, publicUrl: string): EventJson {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e)) {
    out[k] = v
    if (k === 'probe_cc') out.probe_cc_name = countryName(e.probe_cc)
    if (k === 'probe_asns') out.probe_network_names = networkNames(e.probe_asns)
  }
  out.url = eventApiUrl(publicUrl, e.event_id)
  out.page_url = eventPageUrl(publicUrl, e.event_id)
  out.sample_measurement_urls = e.evidence.sample_measurement_uids.map(u => measurementUrl(publicUrl, u))
  return out as unknown as EventJson
}

/** One CSV row of an event. */
export function eventCsvRow(e: EventRecord, publicUrl: string): string {
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
