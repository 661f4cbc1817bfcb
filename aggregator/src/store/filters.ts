/**
 * The researcher API's filters as typed values, and the WHERE clause over
 * measurements they make. The HTTP layer parses the query string into a
 * {@link MeasurementFilters} (query/filters.ts); only this module turns one
 * into SQL. Every value reaches SQL as a parameter, never as text.
 */

/**
 * Parsed filters: lists already split and normalised (country codes upper
 * case, ASNs `AS123`, domains lower case without a final dot), times as
 * Dates (`since` inclusive, `until` exclusive), flags as booleans.
 */
export interface MeasurementFilters {
  probe_cc?: string[]
  probe_asn?: string[]
  probe_region?: string
  domain?: string[]
  input?: string
  category_code?: string[]
  test_name?: string[]
  report_id?: string
  since?: Date
  until?: Date
  anomaly?: boolean
  confirmed?: boolean
  failure?: boolean
}

/** A WHERE clause and its parameters. */
export interface Where {
  sql: string
  params: unknown[]
}

/** Builds the WHERE clause of the filters over measurements (without the word WHERE; "TRUE" when none). */
export function filtersWhere(f: MeasurementFilters, params: unknown[] = []): Where {
  const clauses: string[] = []
  const add = (sql: string, value: unknown): void => {
    params.push(value)
    clauses.push(sql.replace('?', `$${params.length}`))
  }
  /** `col = $n`, or `col IN ($n, $m, …)` for several values. */
  const anyOf = (col: string, values: string[] | undefined): void => {
    if (values === undefined || values.length === 0) return
    const refs = values.map(v => {
      params.push(v)
      return `$${params.length}`
    })
    clauses.push(values.length === 1 ? `${col} = ${refs[0]}` : `${col} IN (${refs.join(', ')})`)
  }
  anyOf('probe_cc', f.probe_cc)
  anyOf('probe_asn', f.probe_asn)
  if (f.probe_region !== undefined) add('probe_region = ?', f.probe_region)
  anyOf('domain', f.domain)
  if (f.input !== undefined) add('input = ?', f.input)
  anyOf('category_code', f.category_code)
  anyOf('test_name', f.test_name)
  if (f.report_id !== undefined) add('report_id = ?', f.report_id)
  for (const flag of ['anomaly', 'confirmed', 'failure'] as const) {
    if (f[flag] !== undefined) add(`${flag} = ?`, f[flag])
  }
  if (f.since !== undefined) add('measurement_start_time >= ?', f.since.toISOString())
  if (f.until !== undefined) add('measurement_start_time < ?', f.until.toISOString())
  return { sql: clauses.length === 0 ? 'TRUE' : clauses.join(' AND '), params }
}
