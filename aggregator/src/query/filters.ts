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
 */
import { parseTimeParam } from '../../../shared/src/time.ts'
import { badParam } from '../errors.ts'
import type { MeasurementFilters } from '../store/filters.ts'

// No NUL: PostgreSQL text cannot hold one, so it could never match anyway.
const text = (description: string, maxLength = 2048) => ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\x00]*$', description })

/** A comma-separated list of `item` (empty pieces are ignored, as OONI's commasplit does). */
const listPattern = (item: string): string => `^(?:${item})?(?:,(?:${item})?)*$`

/** Patterns of single values, shared by every route's schema (one source for what the server enforces). */
export const PATTERNS = {
  cc: '^[A-Za-z]{2}$',
  asn: '^(?:AS|as)?\\d{1,10}$',
  region: '^[A-Z]{2}-[A-Z0-9]{1,3}$',
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
  until: SCHEMAS.time('end of the period, exclusive (as OONI\'s): a date (2024-01-31 stops at its midnight, so that day is left out) or a timestamp'),
  anomaly: SCHEMAS.bool('only measurements with (true) or without (false) an anomaly'),
  confirmed: SCHEMAS.bool('only confirmed (true) or unconfirmed (false) blocking'),
  failure: SCHEMAS.bool('only failed (true) or usable (false) measurements')
} as const

/** Parsed filter values (as the query string gives them; lists still comma-separated). */
export type Filters = Partial<Record<keyof typeof FILTER_PROPERTIES, string>>

/** The pieces of a comma-separated list, without empty ones or repeats, in order. */
export function listOf (v: string | undefined): string[] {
  if (v === undefined) return []
  return [...new Set(v.split(',').map(s => s.trim()).filter(s => s !== ''))]
}

/** An ASN as stored: `AS` and the number without leading zeros. */
export function normalAsn (v: string): string {
  return 'AS' + String(Number(v.replace(/^as/i, '')))
}

/** A boolean filter's value (true, True, 1, …). */
export function boolOf (v: string): boolean {
  return v.toLowerCase() === 'true' || v === '1'
}

/**
 * Parses a `since`/`until` value as UTC: a date (its midnight), an OONI
 * timestamp, or an ISO 8601 timestamp (without an offset it is UTC, as
 * OONI reads it). Null when it is none of these.
 */
export function parseUtcTime (v: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v)
  if (m !== null) return parseTimeParam(`${m[1]}T${m[2]}${m[3] ?? ':00'}${m[4] ?? 'Z'}`)
  return parseTimeParam(v)
}

/**
 * Parses since/until; throws a 400 naming the parameter. `until` is always
 * exclusive (`untilExclusive` stays for callers written when a date-only
 * until included its day).
 */
export function timeRange (f: Filters): { since: Date | null, until: Date | null, untilExclusive: boolean } {
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
export function parseFilters (f: Filters): MeasurementFilters {
  const out: MeasurementFilters = {}
  const list = (v: string | undefined, norm: (s: string) => string): string[] | undefined => v === undefined ? undefined : listOf(v).map(norm)
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
