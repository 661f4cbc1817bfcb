/**
 * The dashboard in the one HTTP layer (issue 16, item 4): its pages have a
 * rate limit of their own, counted per viewer address (a page view is one
 * request however many queries the page makes, and it no longer spends the
 * researcher API's limit), and their errors are the app's one error,
 * rendered as an HTML page with the same status, Retry-After and code.
 * /readyz answers a database that is gone with the one error body.
 */
import t from 'tap'
import { testApp, registerProbe, sampleMeasurement } from '../helpers/aggregator-app.ts'
import { freshDb, testDriver } from '../helpers/db.ts'

const DASHBOARD = { max: 3, timeWindow: '1 minute' }
const RESEARCHER = { max: 3, timeWindow: '1 minute' }

t.test("the dashboard limit counts page views per viewer, apart from the API's", async t => {
  const { app, close } = await testApp({ rateLimits: { dashboard: DASHBOARD, researcher: RESEARCHER, default: { max: 1000, timeWindow: '1 minute' } } })
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: [sampleMeasurement(probeId)] })
  t.equal(up.statusCode, 200, up.body)

  const viewer = '198.51.100.20'
  // The country page reads events, timelines and four filter lists: through
  // inject() that was seven researcher requests a view; now it is one page view.
  for (let i = 0; i < DASHBOARD.max; i++) {
    const r = await app.inject({ url: '/country/IR', remoteAddress: viewer })
    t.equal(r.statusCode, 200, `page view ${i + 1} of ${DASHBOARD.max}`)
  }
  const api = await app.inject({ url: '/api/v1/events?probe_cc=IR', remoteAddress: viewer })
  t.equal(api.statusCode, 200, "the page views spent none of the viewer's researcher API limit")

  const over = await app.inject({ url: '/', remoteAddress: viewer })
  t.equal(over.statusCode, 429, 'the next page view, of any page, is refused')
  t.ok(Number(over.headers['retry-after']) > 0, `with Retry-After (${String(over.headers['retry-after'])})`)
  t.match(over.headers['content-type'], /^text\/html/, 'as an HTML page: a viewer is a browser')
  t.match(String(over.headers['content-security-policy']), /script-src 'self'/, "with the dashboard's policy")
  t.match(over.body, /<code id="error-code">AGG_ERR_RATE_LIMITED<\/code>/, 'naming the one error code')
  t.match(over.body, /<p class="notice" id="error-text">Too many pages were asked for from your address in a short time\. Try again in \d+ s\.<\/p>/, 'what went wrong, in words')
  t.match(over.body, /<code lang="en" dir="ltr" id="error-message">Rate limit exceeded, retry in \d+ (minute|seconds?)<\/code>/, "and the one error's message as the details")

  const other = await app.inject({ url: '/', remoteAddress: '203.0.113.20' })
  t.equal(other.statusCode, 200, 'another viewer is still served')
  const css = await app.inject({ url: '/dashboard/static/dashboard.css', remoteAddress: viewer })
  t.equal(css.statusCode, 200, "static files are not page views (the app's default limit covers them)")
})

t.test('without a dashboard rule, the pages take the default one', async t => {
  const { app, close } = await testApp({ rateLimits: { default: { max: 2, timeWindow: '1 minute' }, researcher: { max: 1000, timeWindow: '1 minute' } } })
  t.teardown(close)
  const codes: number[] = []
  for (let i = 0; i < 3; i++) codes.push((await app.inject({ url: '/probes', remoteAddress: '192.0.2.30' })).statusCode)
  t.same(codes, [200, 200, 429])
})

t.test("a page's bad parameter is the one error, as a page naming the parameter", async t => {
  const { app, close } = await testApp()
  t.teardown(close)
  const r = await app.inject({ url: '/country/IR?probe_asn=ASN197207' })
  t.equal(r.statusCode, 400)
  t.match(r.headers['content-type'], /^text\/html/)
  t.match(r.body, /id="error-message">probe_asn: &quot;ASN197207&quot; is not accepted/)
  t.match(r.body, /<code id="error-code">AGG_ERR_BAD_PARAM<\/code>/)
  const unknown = await app.inject({ url: '/measurements?probe_cc=IR&colour=red' })
  t.equal(unknown.statusCode, 400)
  t.match(unknown.body, /id="error-message">colour: unknown parameter; [^<]*probe_cc/)
  t.match(unknown.body, /AGG_ERR_UNKNOWN_PARAM/)
  const cursor = await app.inject({ url: '/measurements?cursor=bm90LWEtY3Vyc29y' })
  t.equal(cursor.statusCode, 400, 'a cursor the page did not make')
  t.match(cursor.body, /id="error-message">cursor: not a cursor/)
  const empty = await app.inject({ url: '/country/IR?probe_asn=&probe_region=&test_name=&category_code=&period=7d&utm_source=x' })
  t.equal(empty.statusCode, 200, 'the form\'s "all" (empty values) and tracking parameters are accepted')
  const window = await app.inject({ url: '/country/IR?since=2026-01-10&until=2026-01-01' })
  t.equal(window.statusCode, 400, 'a window that ends before it starts')
  t.match(window.body, /id="error-message">since must be before until/)
})

t.test('/readyz: 503 in the one error body when the database is gone', async t => {
  const tdb = await freshDb()
  const { app, close } = await testApp({}, tdb)
  t.teardown(close)
  t.same((await app.inject({ url: '/readyz' })).json(), { status: 'ok', database: testDriver() })
  if (testDriver() === 'pg') await tdb.close()
  else await tdb.db.close()
  const r = await app.inject({ url: '/readyz' })
  t.equal(r.statusCode, 503)
  t.equal(r.headers['retry-after'], '5')
  t.same(r.json(), { error: 'the database does not answer; retry later', code: 'AGG_ERR_DB_UNAVAILABLE', message: 'the database does not answer; retry later', statusCode: 503, v: 0 })
})
