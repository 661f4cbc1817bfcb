/**
 * The researcher API's filters, shared by /api/v1/measurements and
 * /api/v1/aggregation: a JSON Schema for the query string (fastify checks
 * it) and the SQL WHERE clause they make. Every value reaches SQL as a
 * parameter, never as text, so quotes and other SQL metacharacters in a
 * filter are only ever compared, never run.
 */
import { parseTimeParam } from '../../../shared/src/time.ts'
import { badRequest } from '../errors.ts'

// No NUL: PostgreSQL text cannot hold one, so it could never match anyway.
const text = (description: string, maxLength = 2048) => ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\x00]*$', description })
const bool = (description: string) => ({ type: 'string', enum: ['true', 'false'], description })

/** The filter parameters, as JSON Schema properties. */
export const FILTER_PROPERTIES = {
  probe_cc: { type: 'string', pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2 country code, e.g. IR' },
  probe_asn: { type: 'string', pattern: '^(AS|as)?\\d{1,10}$', description: 'network, e.g. AS197207 or 197207' },
  probe_region: { type: 'string', pattern: '^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$', description: 'ISO 3166-2 subdivision, e.g. IR-23' },
  domain: text('host name of the target, e.g. www.example.org', 253),
  input: text('the target URL, verbatim'),
  category_code: text('Citizen Lab category, e.g. NEWS', 64),
  test_name: { type: 'string', pattern: '^[a-z0-9_]{1,64}$', description: 'e.g. web_connectivity' },
  since: text('start of the period: a date (2024-01-31) or a timestamp (2024-01-31T10:00:00Z); inclusive', 40),
  until: text('end of the period: a date (whole day included) or a timestamp (inclusive)', 40),
  anomaly: bool('only measurements with (true) or without (false) an anomaly'),
  confirmed: bool('only confirmed (true) or unconfirmed (false) blocking'),
  failure: bool('only failed (true) or usable (false) measurements')
} as const

/** Parsed filter values. */
export type Filters = Partial<Record<keyof typeof FILTER_PROPERTIES, string>>

/** A WHERE clause and its parameters; `next` is the next free parameter number. */
export interface Where { sql: string, params: unknown[] }

/** Parses since/until; throws a 400 naming the parameter. */
export function timeRange (f: Filters): { since: Date | null, until: Date | null, untilExclusive: boolean } {
  const parse = (name: 'since' | 'until'): Date | null => {
    const v = f[name]
    if (v === undefined) return null
    const d = parseTimeParam(v)
    if (d === null) throw badRequest(`query.${name}`, `${JSON.stringify(v.slice(0, 40))} is neither a date (2024-01-31) nor a timestamp (2024-01-31T10:00:00Z)`)
    return d
  }
  const since = parse('since')
  let until = parse('until')
  let untilExclusive = false
  if (until !== null && /^\d{4}-\d{2}-\d{2}$/.test(f.until ?? '')) {
    // A date as `until` includes that whole day.
    until = new Date(until.getTime() + 24 * 3600 * 1000)
    untilExclusive = true
  }
  if (since !== null && until !== null && since > until) throw badRequest('query.since', 'is after until')
  return { since, until, untilExclusive }
}

/** Builds the WHERE clause of the filters (without the word WHERE; "TRUE" when none). */
export function filtersWhere (f: Filters, params: unknown[] = []): Where {
  const clauses: string[] = []
  const add = (sql: string, value: unknown): void => { params.push(value); clauses.push(sql.replace('?', `$${params.length}`)) }
  if (f.probe_cc !== undefined) add('probe_cc = ?', f.probe_cc.toUpperCase())
  if (f.probe_asn !== undefined) add('probe_asn = ?', 'AS' + f.probe_asn.replace(/^as/i, ''))
  if (f.probe_region !== undefined) add('probe_region = ?', f.probe_region.toUpperCase())
  if (f.domain !== undefined) add('domain = ?', f.domain.toLowerCase().replace(/\.$/, ''))
  if (f.input !== undefined) add('input = ?', f.input)
  if (f.category_code !== undefined) add('category_code = ?', f.category_code)
  if (f.test_name !== undefined) add('test_name = ?', f.test_name)
  for (const flag of ['anomaly', 'confirmed', 'failure'] as const) {
    if (f[flag] !== undefined) add(`${flag} = ?`, f[flag] === 'true')
  }
  const { since, until, untilExclusive } = timeRange(f)
  if (since !== null) add('measurement_start_time >= ?', since.toISOString())
  if (until !== null) add(untilExclusive ? 'measurement_start_time < ?' : 'measurement_start_time <= ?', until.toISOString())
  return { sql: clauses.length === 0 ? 'TRUE' : clauses.join(' AND '), params }
}
