/**
 * Strict parameters on every route (issue 14): an unknown query parameter
 * or a malformed value is a 400 in the one error shape, naming the
 * parameter, never a 200. The routes come from /openapi.json, so a route
 * added later is covered without touching this file; the malformed values
 * are derived from each parameter's own schema (what Swagger UI shows is
 * what the server enforces). HTML pages and feeds ignore tracking
 * parameters.
 */
import t from 'tap'
import { testDriver } from '../helpers/db.ts'
import { testApp } from '../helpers/aggregator-app.ts'

interface Param {
  in: string
  name: string
  required?: boolean
  schema?: { type?: string; enum?: string[]; pattern?: string; minimum?: number; maximum?: number }
}
type Operation = { parameters?: Param[] }

/** A value for a path parameter that its schema accepts. */
function pathValue(p: Param): string {
  if (p.schema?.enum !== undefined) return p.schema.enum[0]
  const re = new RegExp(p.schema?.pattern ?? '')
  return ['IR', 'global', 'wh_0000000000000000', '00000000-0000-0000-0000-000000000000', 'bp-000000000000', 'p1', 'x'].find(v => re.test(v)) ?? 'x'
}

/** Values the parameter's schema refuses (checked against the schema itself before use). */
function badValues(p: Param): string[] {
  const s = p.schema ?? {}
  if (s.enum !== undefined) return ['no-such-value']
  if (s.type === 'integer') return ['abc', ...(s.maximum !== undefined ? [String(s.maximum + 1)] : []), ...(s.minimum !== undefined ? [String(s.minimum - 1)] : [])]
  if (s.pattern !== undefined) {
    const re = new RegExp(s.pattern)
    return ['bad\u0000value', '<script>', '!!!', 'x'.repeat(3000)].filter(v => !re.test(v)).slice(0, 2)
  }
  return []
}

const isError = (b: Record<string, unknown>, field: string): boolean =>
  typeof b.error === 'string' &&
  b.error.startsWith(`${field}: `) &&
  b.message === b.error &&
  b.field === field &&
  b.statusCode === 400 &&
  b.v === 0 &&
  typeof b.code === 'string' &&
  /^AGG_ERR_/.test(b.code)

t.test(`every route refuses unknown and malformed parameters, on ${testDriver()}`, async t => {
  const { app, close } = await testApp({
    rateLimits: {
      researcher: { max: 100_000, timeWindow: '1 minute' },
      default: { max: 100_000, timeWindow: '1 minute' },
      probes: { max: 100_000, timeWindow: '1 minute' },
      ingest: { max: 100_000, timeWindow: '1 minute' }
    }
  })
  t.teardown(close)
  const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> }
  // The API's routes (HTML pages and their static files are the dashboard's, which ignores what it does not know).
  const routes = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/'))
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })))
  t.ok(routes.length >= 20, `${routes.length} routes in /openapi.json`)
  for (const must of [
    '/api/v1/measurements',
    '/api/v1/aggregation',
    '/api/v1/raw_measurement',
    '/api/v1/measurement_meta',
    '/api/v1/timelines',
    '/api/v1/events',
    '/api/v1/feeds/events.atom',
    '/api/v1/reports/{cc}'
  ]) {
    t.ok(doc.paths[must]?.get !== undefined, `${must} is documented`)
  }
  let malformed = 0
  for (const { path, method, op } of routes) {
    const params = op.parameters ?? []
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathValue(params.find(p => p.in === 'path' && p.name === name) ?? { in: 'path', name })))
    const required = params.filter(p => p.in === 'query' && p.required === true)
    // A valid value for each required parameter, so that only the unknown one is wrong.
    const base = required.map(p => `${p.name}=${p.schema?.enum?.[0] ?? (p.name === 'probe_cc' ? 'IR' : 'www.example.org')}`)
    const unknown = await app.inject({ method: method as 'GET', url: `${url}?${[...base, 'bw_no_such_param=1'].join('&')}` })
    t.equal(unknown.statusCode, 400, `${method} ${path}?bw_no_such_param=1: ${unknown.body.slice(0, 200)}`)
    const ub = unknown.json()
    t.ok(isError(ub, 'bw_no_such_param') && ub.code === 'AGG_ERR_UNKNOWN_PARAM', `${method} ${path}: the one error shape, naming the parameter`)
    const accepted = params.filter(p => p.in === 'query').map(p => p.name)
    for (const name of accepted) t.ok(String(ub.error).includes(name), `${method} ${path}: the message lists ${name}`)
    for (const p of params.filter(p => p.in === 'query')) {
      for (const v of badValues(p)) {
        const others = base.filter(b => !b.startsWith(`${p.name}=`))
        const r = await app.inject({ method: method as 'GET', url: `${url}?${[...others, `${p.name}=${encodeURIComponent(v)}`].join('&')}` })
        malformed++
        if (r.statusCode !== 400 || !isError(r.json(), p.name)) t.fail(`${method} ${path}?${p.name}=${JSON.stringify(v.slice(0, 20))}: ${r.statusCode} ${r.body.slice(0, 200)}`)
      }
      const sample = p.schema?.enum?.[0] ?? (p.name === 'probe_cc' ? 'IR' : undefined)
      if (sample !== undefined && method === 'GET') {
        const others = base.filter(b => !b.startsWith(`${p.name}=`))
        const twice = await app.inject({ url: `${url}?${[...others, `${p.name}=${sample}`, `${p.name}=${sample}`].join('&')}` })
        if (twice.statusCode !== 400 || !isError(twice.json(), p.name)) t.fail(`${path}: ${p.name} given twice: ${twice.statusCode} ${twice.body.slice(0, 200)}`)
      }
    }
  }
  t.ok(malformed > 100, `${malformed} malformed values refused with 400 naming the parameter`)
  for (const url of ['/healthz?x=1', '/readyz?x=1', '/metrics?x=1']) {
    t.equal((await app.inject({ url })).statusCode, 400, `${url}: refused too`)
  }

  // Messages say what is accepted.
  let r = await app.inject({ url: '/api/v1/aggregation?axis_x=country' })
  t.match(r.json().error, /^axis_x: must be one of measurement_start_day, probe_cc, probe_asn, domain, input, test_name, category_code, blocking_type/)
  r = await app.inject({ url: '/api/v1/measurements?probe_cc=Iran' })
  t.match(r.json().error, /^probe_cc: "Iran" is not accepted; expected ISO 3166-1 alpha-2 country codes, comma separated/)
  r = await app.inject({ url: '/api/v1/measurements?limit=-1' })
  t.match(r.json().error, /^limit: must be .*from 0 to 1000000/)

  // Tracking parameters: ignored by pages and feeds, refused by the API.
  for (const url of ['/api/v1/feeds/events.atom?utm_source=mastodon&fbclid=abc', '/api/v1/reports/IR?format=html&utm_campaign=x', '/country/IR?utm_source=x', '/?fbclid=y']) {
    t.equal((await app.inject({ url })).statusCode, 200, `${url}: tracking parameters ignored`)
  }
  r = await app.inject({ url: '/api/v1/events?utm_source=x' })
  t.equal(r.statusCode, 400, 'the API refuses them')
})
