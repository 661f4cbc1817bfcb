/**
 * Abuse (issue 9): rate limits on every public route, per client and per
 * probe. Every route the app serves (read from printRoutes, so a new route
 * is covered without editing this file) is hit max+1 times from one client
 * address: the last is a 429 with Retry-After, and another address is still
 * served. A probe's token used from many addresses is limited per probe.
 */
import t from 'tap'
import { build } from '../../aggregator/src/app.ts'
import { freshDb } from '../helpers/db.ts'
import { ooniFingerprints, registerProbe } from '../helpers/aggregator-app.ts'

const MAX = 3
const RULE = { max: MAX, timeWindow: '1 minute' }

/** Every (method, path) of the app, rebuilt from printRoutes' tree (each line's segment is appended to its parent's path). */
function routesOf(printed: string): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = []
  const stack: string[] = []
  for (const line of printed.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line)
    if (m === null) continue
    const depth = m[1].length / 4
    stack.length = depth
    const path = (depth > 0 ? stack[depth - 1] : '') + m[2]
    stack[depth] = path
    if (m[3] === undefined) continue
    for (const method of m[3].split(/,\s*/)) if (method !== 'HEAD' && method !== 'OPTIONS') out.push({ method, path })
  }
  return out
}

t.test('every route is rate-limited per client', async t => {
  const tdb = await freshDb()
  t.teardown(async () => {
    await tdb.close()
  })
  const app = await build({
    db: tdb.db,
    publicUrl: 'https://bw.example.org',
    fingerprints: await ooniFingerprints(),
    jobs: false,
    adminToken: 'admin-secret',
    rateLimits: { default: RULE, researcher: RULE, ingest: RULE, probes: RULE, control: RULE } as never
  })
  t.teardown(async () => {
    await app.close()
  })
  await app.ready()
  const routes = routesOf(app.printRoutes({ commonPrefix: false }))
  t.ok(routes.length >= 15, `${routes.length} routes found`)
  let addr = 0
  let checked = 0
  const unlimited: string[] = []
  for (const r of routes) {
    // A wildcard serves swagger-ui's files or a cheap 404, like any unknown URL.
    if (r.path.endsWith('*')) continue
    checked++
    const url = r.path.replace(/:[A-Za-z_]+/g, 'x').replace(/\*$/, 'x')
    const client = `198.51.100.${++addr % 250}`
    const codes: number[] = []
    let last
    for (let i = 0; i <= MAX; i++) {
      last = await app.inject({ method: r.method as 'GET', url, remoteAddress: client, ...(r.method !== 'GET' && r.method !== 'DELETE' ? { payload: {} } : {}) })
      codes.push(last.statusCode)
    }
    if (codes[MAX] !== 429 || last?.headers['retry-after'] === undefined) unlimited.push(`${r.method} ${r.path} → ${codes.join(',')}`)
    const other = await app.inject({ method: r.method as 'GET', url, remoteAddress: `203.0.113.${addr % 250}`, ...(r.method !== 'GET' && r.method !== 'DELETE' ? { payload: {} } : {}) })
    if (other.statusCode === 429) unlimited.push(`${r.method} ${r.path}: another client was refused too (not per client)`)
  }
  t.same(unlimited, [], `every route answers the request after the ${MAX}th from one client with 429 + Retry-After`)
  t.comment(`rate limits: ${checked} routes checked, ${checked - unlimited.length} limited per client and per probe token`)
})

t.test("a probe's token is limited per probe, from any address", async t => {
  const tdb = await freshDb()
  t.teardown(async () => {
    await tdb.close()
  })
  const app = await build({
    db: tdb.db,
    publicUrl: 'https://bw.example.org',
    fingerprints: await ooniFingerprints(),
    jobs: false,
    rateLimits: { ingest: RULE, probes: { max: 100, timeWindow: '1 minute' } }
  })
  t.teardown(async () => {
    await app.close()
  })
  await app.ready()
  const a = await registerProbe(app)
  const b = await registerProbe(app)
  const codes: number[] = []
  for (let i = 0; i <= MAX; i++) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/measurements', remoteAddress: `192.0.2.${i + 1}`, headers: { authorization: `Bearer ${a.token}` }, payload: [] })
    codes.push(r.statusCode)
  }
  t.equal(codes[MAX], 429, `probe A from ${MAX + 1} addresses: ${codes.join(',')}`)
  const other = await app.inject({ method: 'POST', url: '/api/v1/measurements', remoteAddress: '192.0.2.99', headers: { authorization: `Bearer ${b.token}` }, payload: [] })
  t.not(other.statusCode, 429, 'probe B is not held back by probe A')
})
