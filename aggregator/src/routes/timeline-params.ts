/**
 * Query-string parsing shared by the timeline, event, feed and report
 * routes. The route schemas (fastify, ajv) refuse unknown parameters and
 * malformed values first; these helpers turn the values into typed ones and
 * check what a schema cannot (since before until). Every error is an
 * AggError, answered in the one error shape (http-errors.ts).
 */
import type { FastifyReply } from 'fastify'
import { AggError } from '../errors.ts'
import { PATTERNS, SCHEMAS, TRACKING_PARAMETERS, normalAsn, parseUtcTime } from '../query/filters.ts'

/** A bad query parameter: 400 AGG_ERR_BAD_PARAM, the message naming it. */
export class ParamError extends AggError {
  constructor (field: string, message: string) {
    super('AGG_ERR_BAD_PARAM', 400, message.startsWith(field) ? message : `${field}: ${message}`, { field })
    this.name = 'ParamError'
  }
}

/** The query string, as fastify hands it over. */
export type Query = Record<string, string | string[] | undefined>

/** One string parameter (the last, when repeated), or undefined. */
export function param (q: Query, name: string): string | undefined {
  const v = q[name]
  const s = Array.isArray(v) ? v[v.length - 1] : v
  return s === undefined || s === '' ? undefined : s
}

/** A country code: two letters, upper-cased. */
export function ccParam (q: Query, name = 'probe_cc', required = false): string | undefined {
  const v = param(q, name)
  if (v === undefined) {
    if (required) throw new ParamError(name, `${name} is required: a two-letter country code such as IR`)
    return undefined
  }
  if (!/^[A-Za-z]{2}$/.test(v)) throw new ParamError(name, `${name} must be a two-letter country code such as IR, got ${JSON.stringify(v.slice(0, 40))}`)
  return v.toUpperCase()
}

/** A parameter matched against a pattern; an ASN (ASN_RE) comes back as stored, `AS197207`. */
export function patternParam (q: Query, name: string, re: RegExp, example: string): string | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (!re.test(v)) throw new ParamError(name, `${name} must look like ${example}, got ${JSON.stringify(v.slice(0, 60))}`)
  return re === ASN_RE ? normalAsn(v) : v
}

/** One of the given values. */
export function enumParam<T extends string> (q: Query, name: string, values: readonly T[], def?: T): T | undefined {
  const v = param(q, name)
  if (v === undefined) return def
  if (!(values as readonly string[]).includes(v)) throw new ParamError(name, `${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`)
  return v as T
}

/** A date or timestamp (2009-05-23, "2009-05-23 10:00:00", ISO 8601; UTC without an offset). */
export function timeParam (q: Query, name: string): Date | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  const d = parseUtcTime(v)
  if (d === null) throw new ParamError(name, `${name} must be a date (2009-05-23) or a timestamp (2009-05-23T10:00:00Z), got ${JSON.stringify(v.slice(0, 40))}`)
  return d
}

/** A boolean: true or false. */
export function boolParam (q: Query, name: string): boolean | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (v !== 'true' && v !== 'false') throw new ParamError(name, `${name} must be true or false, got ${JSON.stringify(v.slice(0, 40))}`)
  return v === 'true'
}

/** A whole number within [min, max]. */
export function intParam (q: Query, name: string, def: number, min: number, max: number): number {
  const v = param(q, name)
  if (v === undefined) return def
  const n = Number(v)
  if (!/^\d+$/.test(String(v)) || n < min || n > max) throw new ParamError(name, `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 40))}`)
  return n
}

/** Domain names (the schemas' pattern; the rollups store them lower-cased). */
export const DOMAIN_RE = new RegExp(PATTERNS.domain)
/** Test names. */
export const TEST_NAME_RE = new RegExp(PATTERNS.testName)
/** ASNs: "AS197207" or "197207" (OONI's forms); asnParam normalises them. */
export const ASN_RE = new RegExp(PATTERNS.asn)
/** ISO 3166-2 subdivisions ("IR-23"). */
export const REGION_RE = new RegExp(PATTERNS.region)

/**
 * Rethrows the error, so that the app's one error handler answers it in the
 * one shape. Kept so that the routes' `catch (err) { return await
 * sendParamError(reply, err) }` blocks stay as they are.
 */
export async function sendParamError (_reply: FastifyReply, err: unknown): Promise<FastifyReply> {
  throw err
}

/** Whether the client asked for CSV (format=csv, or an Accept of text/csv without format). */
export function wantsCsv (q: Query, accept: string | undefined): boolean {
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

/** A route without query parameters. */
export const NO_QUERY = { type: 'object', additionalProperties: false, properties: {} } as const
