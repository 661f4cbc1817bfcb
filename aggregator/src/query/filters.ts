/**
 * The researcher API's filters, shared by /api/v1/measurements,
 * /api/v1/aggregation and the exports: a JSON Schema for the query string
 * (fastify checks it, and /openapi.json shows it) and the parser that turns
 * the checked strings into typed filters (parseFilters). The SQL they make
 * is built in the store (store/filters.ts), every value as a parameter.
 *
 * Value forms follow OONI's API (ooni/backend, oonimeasurements
 * routers/v1): probe_cc, probe_asn, test_name, domain and category_code
 * take comma-separated lists; probe_asn is `AS123` or `123`; `since` is
 * inclusive and `until` exclusive, a date meaning its midnight (UTC).
 * See docs/api.md, "Parameters".
 *
 * The second half holds the query schemas of the timeline, event, feed and
 * report routes and the helpers that read their checked values: every
 * route's schema is in this one module, and the route's fastify schema is
 * what both validation and /openapi.json read.
 */
import { parseTimeParam } from '../../../shared/src/time.ts'
import { REGION_PATTERN } from '../../../shared/src/region.ts'
import { AggError, badParam } from '../errors.ts'
import type { MeasurementFilters } from '../store/filters.ts'

// No NUL: PostgreSQL text cannot hold one, so it could never match anyway.
const text = (description: string, maxLength = 2048) => ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\x00]*$', description })

/** A comma-separated list of `item` (empty pieces are ignored, as OONI's commasplit does). */
const listPattern = (item: string): string => `^(?:${item})?(?:,(?:${item})?)*$`

/** Patterns of single values, shared by every route's schema (one source for what the server enforces). */
export const PATTERNS = {
  cc: '^[A-Za-z]{2}$',
  asn: '^(?:AS|as)?\\d{1,10}$',
  region: REGION_PATTERN,
  domain: '^[A-Za-z0-9_.:\\[\\]-]{1,253}$',
  testName: '^[a-z0-9_]{1,64}$',
  categoryCode: '^[A-Za-z0-9_]{1,64}$',
  /** A date, an OONI timestamp or an ISO 8601 timestamp (UTC when it has no offset). */
  time: '^\\d{4}-\\d{2}-\\d{2}(?:[T ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?(?:Z|[+-]\\d{2}:?\\d{2})?)?$'
} as const

/** JSON Schema pieces the route schemas share. */
export const SCHEMAS = {
  cc: (description = 'ISO 3166-1 alpha-2 country code, e.g. IR') => ({ type: 'string', pattern: PATTERNS.cc, description }),
  asn: (description = 'network: AS197207 or 197207') => ({ type: 'string', pattern: PATTERNS.asn, description }),
  region: (description = 'ISO 3166-2 subdivision, e.g. IR-23') => ({ type: 'string', pattern: PATTERNS.region, description }),
  domain: (description = 'host name, e.g. www.example.org') => ({ type: 'string', pattern: PATTERNS.domain, description }),
  testName: (description = 'e.g. web_connectivity') => ({ type: 'string', pattern: PATTERNS.testName, description }),
  time: (description: string) => ({ type: 'string', maxLength: 40, pattern: PATTERNS.time, description }),
  bool: (description: string) => ({ type: 'string', enum: ['true', 'false', 'True', 'False', 'TRUE', 'FALSE', '1', '0'], description }),
  int: (description: string, minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum, description }),
  enum: (values: readonly string[], description: string) => ({ type: 'string', enum: [...values], description })
}

/**
 * Query parameters that links pasted in social media carry (utm_*, fbclid):
 * HTML pages and feeds accept and ignore them; every other route refuses
 * them like any unknown parameter.
 */
export const TRACKING_PARAMETERS = { '^utm_[a-z_]{1,40}$': { type: 'string' }, '^(?:fbclid|gclid|mc_eid)$': { type: 'string' } }

/** The filter parameters, as JSON Schema properties. */
export const FILTER_PROPERTIES = {
  probe_cc: { type: 'string', maxLength: 2000, pattern: listPattern('[A-Za-z]{2}'), description: 'ISO 3166-1 alpha-2 country codes, comma separated: IR or IR,RU' },
  probe_asn: { type: 'string', maxLength: 2000, pattern: listPattern('(?:AS|as)?\\d{1,10}'), description: 'networks, comma separated: AS197207, 197207 or AS197207,AS44244' },
  probe_region: { type: 'string', pattern: '^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$', description: 'ISO 3166-2 subdivision, e.g. IR-23 (ours; OONI has none)' },
  domain: { type: 'string', minLength: 1, maxLength: 4000, pattern: listPattern('[A-Za-z0-9_.:\\[\\]-]{1,253}'), description: 'host names, comma separated: www.example.org or a.org,b.org' },
  input: text('the target URL, verbatim (never split on commas: URLs hold them)'),
  category_code: { type: 'string', maxLength: 2000, pattern: listPattern('[A-Za-z0-9_]{1,64}'), description: 'Citizen Lab categories, comma separated: NEWS or NEWS,HUMR' },
  test_name: { type: 'string', maxLength: 2000, pattern: listPattern('[a-z0-9_]{1,64}'), description: 'test names, comma separated: web_connectivity or signal,telegram' },
  report_id: text('the report (one run of one test by one probe)', 200),
  since: SCHEMAS.time('start of the period, inclusive: a date (2024-01-31, its midnight UTC) or a timestamp (2024-01-31T10:00:00Z; UTC without an offset)'),
  until: SCHEMAS.time("end of the period, exclusive (as OONI's): a date (2024-01-31 stops at its midnight, so that day is left out) or a timestamp"),
  anomaly: SCHEMAS.bool('only measurements with (true) or without (false) an anomaly'),
  confirmed: SCHEMAS.bool('only confirmed (true) or unconfirmed (false) blocking'),
  failure: SCHEMAS.bool('only failed (true) or usable (false) measurements')
} as const

/** Parsed filter values (as the query string gives them; lists still comma-separated). */
export type Filters = Partial<Record<keyof typeof FILTER_PROPERTIES, string>>

/** The pieces of a comma-separated list, without empty ones or repeats, in order. */
export function listOf(v: string | undefined): string[] {
  if (v === undefined) return []
  return [
    ...new Set(
      v
        .split(',')
        .map(s => s.trim())
        .filter(s => s !== '')
    )
  ]
}

/** An ASN as stored: `AS` and the number without leading zeros. */
export function normalAsn(v: string): string {
  return 'AS' + String(Number(v.replace(/^as/i, '')))
}

/** A boolean filter's value (true, True, 1, …). */
export function boolOf(v: string): boolean {
  return v.toLowerCase() === 'true' || v === '1'
}

/**
 * Parses a `since`/`until` value as UTC: a date (its midnight), an OONI
 * timestamp, or an ISO 8601 timestamp (without an offset it is UTC, as
 * OONI reads it). Null when it is none of these.
 */
export function parseUtcTime(v: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v)
  if (m !== null) return parseTimeParam(`${m[1]}T${m[2]}${m[3] ?? ':00'}${m[4] ?? 'Z'}`)
  return parseTimeParam(v)
}

/**
 * Parses since/until; throws a 400 naming the parameter. `until` is always
 * exclusive (`untilExclusive` stays for callers written when a date-only
 * until included its day).
 */
export function timeRange(f: Filters): { since: Date | null; until: Date | null; untilExclusive: boolean } {
  const parse = (name: 'since' | 'until'): Date | null => {
    const v = f[name]
    if (v === undefined) return null
    const d = parseUtcTime(v)
    if (d === null) throw badParam(name, `${JSON.stringify(v.slice(0, 40))} is neither a date (2024-01-31) nor a timestamp (2024-01-31T10:00:00Z)`)
    return d
  }
  const since = parse('since')
  const until = parse('until')
  if (since !== null && until !== null && since > until) throw badParam('since', `${f.since ?? ''} is after until (${f.until ?? ''})`)
  return { since, until, untilExclusive: true }
}

/**
 * Parses the filter parameters into the store's typed filters: lists split
 * and normalised, times parsed (a 400 naming the parameter when one is not
 * a time, or since is after until), flags as booleans. The store builds the
 * SQL from these (store/filters.ts).
 */
export function parseFilters(f: Filters): MeasurementFilters {
  const out: MeasurementFilters = {}
  const list = (v: string | undefined, norm: (s: string) => string): string[] | undefined => (v === undefined ? undefined : listOf(v).map(norm))
  const same = (s: string): string => s
  out.probe_cc = list(f.probe_cc, s => s.toUpperCase())
  out.probe_asn = list(f.probe_asn, normalAsn)
  out.probe_region = f.probe_region?.toUpperCase()
  out.domain = list(f.domain, d => d.toLowerCase().replace(/\.$/, ''))
  out.input = f.input
  out.category_code = list(f.category_code, same)
  out.test_name = list(f.test_name, same)
  out.report_id = f.report_id
  for (const flag of ['anomaly', 'confirmed', 'failure'] as const) {
    if (f[flag] !== undefined) out[flag] = boolOf(f[flag])
  }
  const { since, until } = timeRange(f)
  if (since !== null) out.since = since
  if (until !== null) out.until = until
  for (const k of Object.keys(out) as Array<keyof MeasurementFilters>) if (out[k] === undefined) delete out[k]
  return out
}

// ---------------------------------------------------------------------------
// The timeline, event, feed and report routes (formerly routes/timeline-params.ts).
// Their schemas (below) are the one source of what each route accepts: fastify
// checks them and /openapi.json shows them. The helpers turn the checked strings
// into typed values and check what a schema cannot (since before until).
// Semantics as the filters above: `until` exclusive, probe_asn `AS123` or `123`.
// ---------------------------------------------------------------------------

/** A bad query parameter: 400 AGG_ERR_BAD_PARAM, the message naming it. */
export class ParamError extends AggError {
  constructor(field: string, message: string) {
    super('AGG_ERR_BAD_PARAM', 400, message.startsWith(field) ? message : `${field}: ${message}`, { field })
    this.name = 'ParamError'
  }
}

/** The query string, as fastify hands it over. */
export type Query = Record<string, string | string[] | undefined>

/** One string parameter (the last, when repeated), or undefined. */
export function param(q: Query, name: string): string | undefined {
  const v = q[name]
  const s = Array.isArray(v) ? v[v.length - 1] : v
  return s === undefined || s === '' ? undefined : s
}

/** A country code: two letters, upper-cased. */
export function ccParam(q: Query, name = 'probe_cc', required = false): string | undefined {
  const v = param(q, name)
  if (v === undefined) {
    if (required) throw new ParamError(name, `${name} is required: a two-letter country code such as IR`)
    return undefined
  }
  if (!/^[A-Za-z]{2}$/.test(v)) throw new ParamError(name, `${name} must be a two-letter country code such as IR, got ${JSON.stringify(v.slice(0, 40))}`)
  return v.toUpperCase()
}

/** A parameter matched against a pattern; an ASN (ASN_RE) comes back as stored, `AS197207`. */
export function patternParam(q: Query, name: string, re: RegExp, example: string): string | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (!re.test(v)) throw new ParamError(name, `${name} must look like ${example}, got ${JSON.stringify(v.slice(0, 60))}`)
  return re === ASN_RE ? normalAsn(v) : v
}

/** One of the given values. */
export function enumParam<T extends string>(q: Query, name: string, values: readonly T[], def?: T): T | undefined {
  const v = param(q, name)
  if (v === undefined) return def
  if (!(values as readonly string[]).includes(v)) throw new ParamError(name, `${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`)
  return v as T
}

/** A date or timestamp (2009-05-23, "2009-05-23 10:00:00", ISO 8601; UTC without an offset). */
export function timeParam(q: Query, name: string): Date | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  const d = parseUtcTime(v)
  if (d === null) throw new ParamError(name, `${name} must be a date (2009-05-23) or a timestamp (2009-05-23T10:00:00Z), got ${JSON.stringify(v.slice(0, 40))}`)
  return d
}

/** A boolean: true or false. */
export function boolParam(q: Query, name: string): boolean | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (v !== 'true' && v !== 'false') throw new ParamError(name, `${name} must be true or false, got ${JSON.stringify(v.slice(0, 40))}`)
  return v === 'true'
}

/** A whole number within [min, max]. */
export function intParam(q: Query, name: string, def: number, min: number, max: number): number {
  const v = param(q, name)
  if (v === undefined) return def
  const n = Number(v)
  if (!/^\d+$/.test(String(v)) || n < min || n > max) throw new ParamError(name, `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 40))}`)
  return n
}

/**
 * Refuses a timeline window that is empty or longer than its grain allows
 * (92 days by the hour, 3660 by the day or longer): the timelines route and
 * the dashboard's charts ask the rollups the same question.
 */
export function checkTimelineWindow(since: Date, until: Date, grain: 'hour' | 'day' | 'week' | 'month'): void {
  if (since.getTime() >= until.getTime()) throw new ParamError('since', 'since must be before until')
  const maxDays = grain === 'hour' ? 92 : 3660
  if (until.getTime() - since.getTime() > maxDays * 86_400_000) {
    throw new ParamError('since', `a ${grain} timeline spans at most ${maxDays} days; narrow since/until or use time_grain=day`)
  }
}

/** Domain names (the schemas' pattern; the rollups store them lower-cased). */
export const DOMAIN_RE = new RegExp(PATTERNS.domain)
/** Test names. */
export const TEST_NAME_RE = new RegExp(PATTERNS.testName)
/** ASNs: "AS197207" or "197207" (OONI's forms); asnParam normalises them. */
export const ASN_RE = new RegExp(PATTERNS.asn)
/** ISO 3166-2 subdivisions ("IR-23"). */
export const REGION_RE = new RegExp(PATTERNS.region)

/** Whether the client asked for CSV (format=csv, or an Accept of text/csv without format). */
export function wantsCsv(q: Query, accept: string | undefined): boolean {
  const f = enumParam(q, 'format', ['json', 'csv'] as const)
  if (f !== undefined) return f === 'csv'
  return accept !== undefined && /\btext\/csv\b/.test(accept) && !/application\/json/.test(accept)
}

const FORMAT = SCHEMAS.enum(['json', 'csv'], 'json (default) or csv; without it, an Accept of text/csv chooses csv')
const SINCE = SCHEMAS.time('a date (2009-05-23) or a timestamp (2009-05-23T10:00:00Z); inclusive')
const UNTIL = SCHEMAS.time('a date (its midnight) or a timestamp; exclusive')

/** The query string of GET /api/v1/timelines: the one source of what the route accepts. */
export const TIMELINES_QUERY = {
  type: 'object',
  additionalProperties: false,
  required: ['probe_cc'],
  properties: {
    probe_cc: SCHEMAS.cc('required: ISO 3166-1 alpha-2 country code, e.g. IR'),
    probe_asn: SCHEMAS.asn(),
    probe_region: SCHEMAS.region(),
    domain: SCHEMAS.domain(),
    test_name: SCHEMAS.testName(),
    since: SCHEMAS.time('a date or timestamp; inclusive. Default: 7 days (hour), 90 (day), 365 (week) or 730 (month) before until'),
    until: SCHEMAS.time('a date (its midnight) or timestamp; exclusive. Default: the next whole hour'),
    time_grain: SCHEMAS.enum(['hour', 'day', 'week', 'month'], 'hour (default), day, week (ISO weeks, from Monday) or month'),
    by: SCHEMAS.enum(['cc', 'asn', 'region'], 'cc (default), asn or region'),
    format: FORMAT
  }
} as const

/** The query string of GET /api/v1/events. */
export const EVENTS_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    probe_cc: SCHEMAS.cc(),
    probe_asn: SCHEMAS.asn('an affected network: AS197207 or 197207'),
    domain: SCHEMAS.domain(),
    test_name: SCHEMAS.testName(),
    kind: SCHEMAS.enum(['blocking', 'outage'], 'blocking or outage'),
    since: SINCE,
    until: UNTIL,
    ongoing: SCHEMAS.enum(['true', 'false'], 'true: only events without an end; false: only ended ones'),
    limit: SCHEMAS.int('events a page, default 100', 1, 10000),
    offset: SCHEMAS.int('events to skip, default 0', 0, 1_000_000),
    format: FORMAT
  }
} as const

/** The query string of GET /api/v1/feeds/events.atom (tracking parameters are ignored). */
export const FEED_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    probe_cc: SCHEMAS.cc(),
    kind: SCHEMAS.enum(['blocking', 'outage'], 'blocking or outage'),
    domain: SCHEMAS.domain()
  },
  patternProperties: TRACKING_PARAMETERS
} as const

/** The query string of GET /api/v1/reports/{cc} (an HTML page too: tracking parameters are ignored). */
export const REPORT_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: SCHEMAS.time('a date or timestamp, inclusive (default: 30 days before until)'),
    until: SCHEMAS.time('a date (its midnight) or timestamp, exclusive (default: the next whole hour)'),
    format: SCHEMAS.enum(['json', 'md', 'html'], 'json (default), md or html')
  },
  patternProperties: TRACKING_PARAMETERS
} as const

/** The query string of GET /api/v1/reports/{cc}/chart.svg. */
export const CHART_QUERY = {
  type: 'object',
  additionalProperties: false,
  required: ['domain'],
  properties: {
    domain: SCHEMAS.domain('required: the target, e.g. www.facebook.com'),
    test_name: SCHEMAS.testName('default web_connectivity'),
    since: SINCE,
    until: UNTIL
  }
} as const

/** The {cc} of the report routes. */
export const REPORT_PARAMS = { type: 'object', properties: { cc: SCHEMAS.cc('ISO 3166-1 alpha-2 country code, e.g. IR') } } as const

/** The {id} of GET /api/v1/events/{id}: any other form is answered 404, as an id that is not there. */
export const EVENT_PARAMS = { type: 'object', properties: { id: { type: 'string', maxLength: 200, description: 'event_id, a UUID' } } } as const

/** A route without query parameters. */
export const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} } as const
