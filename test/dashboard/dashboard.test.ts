/**
 * The dashboard (issue 8) against a seeded aggregator: measurements go
 * through the real registration and ingest API, the real timeline job turns
 * them into events, and every page is checked first through inject (what
 * the HTML says) and then in headless Chromium with playwright-core (what a
 * visitor sees and clicks: country → bar → measurements, country → event →
 * measurement), saving a screenshot of every page under docs/img/.
 *
 * A target named `<img src=x onerror=alert(1)>` is seeded and must render as
 * text on every page, with no dialog ever firing. Probe ids must never
 * appear on a public page.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { loopbackPage, noChromium } from '../helpers/browser.ts'
import type { FastifyInstance } from 'fastify'
import { build } from '../../aggregator/src/app.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { SOFTWARE_NAME } from '../../shared/src/software.ts'
import { freshDb } from '../helpers/db.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const XSS = '<img src=x onerror=alert(1)>'
const ESCAPED = '&lt;img src=x onerror=alert(1)&gt;'
const ADMIN = 'admin-token-for-dashboard-tests'
const PUBLIC_URL = 'http://dashboard.test'
const HOUR = 3_600_000
const IMG_DIR = join(REPO_ROOT, 'docs/img/')

interface Target {
  input: string
  host: string
  category: string
  blockedFrom?: number
  blockedTo?: number
  confirmed?: boolean
}
/** Hours are relative to the current hour; blocked from..to inclusive. */
const TARGETS: Target[] = [
  { input: 'https://news.example.org/', host: 'news.example.org', category: 'NEWS', blockedFrom: -30, blockedTo: 0 },
  { input: XSS, host: XSS, category: 'HUMR', blockedFrom: -20, blockedTo: 0 },
  { input: 'https://video.example.net/', host: 'video.example.net', category: 'MMED', blockedFrom: -44, blockedTo: -34, confirmed: true },
  { input: 'https://ok.example.com/', host: 'ok.example.com', category: 'GRP' }
]
const PROBES = [
  { asn: 'AS1001', region: 'IR-23' },
  { asn: 'AS1002', region: 'IR-07' },
  { asn: 'AS1002', region: 'IR-23' }
]

const ooniTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

/** A web_connectivity document as blockwatch's probe writes it: DNS tampered with (NXDOMAIN, or the IR blockpage address) or clean. */
function webDoc(target: Target, probeId: string, p: (typeof PROBES)[number], cc: string, at: number, blocked: boolean): Record<string, unknown> {
  const ip = '198.51.100.7'
  const answer = blocked && target.confirmed === true ? '10.10.34.36' : ip
  const nx = blocked && target.confirmed !== true
  // The XSS-named target's server is hostile too: its title, headers and body.
  const hostile = target.host === XSS
  const title = hostile ? XSS : 'Example'
  return {
    data_format_version: '0.2.0',
    measurement_start_time: ooniTime(at),
    probe_cc: cc,
    probe_asn: p.asn,
    probe_region: p.region,
    probe_id: probeId,
    probe_network_name: 'Example Telecom',
    report_id: `r-${probeId.slice(0, 8)}`,
    test_name: 'web_connectivity',
    test_version: '0.5.0',
    input: target.input,
    software_name: SOFTWARE_NAME,
    software_version: '0.1.0',
    annotations: { category_code: target.category },
    test_keys: {
      domain: target.host,
      queries: [{ hostname: target.host, query_type: 'A', engine: 'udp', failure: nx ? 'dns_nxdomain_error' : null, answers: nx ? [] : [{ answer_type: 'A', ipv4: answer }] }],
      dns_experiment_failure: nx ? 'dns_nxdomain_error' : null,
      tcp_connect: blocked ? [] : [{ ip, port: 443, status: { success: true, failure: null, blocked: false } }],
      tls_handshakes: blocked ? [] : [{ address: `${ip}:443`, server_name: target.host, failure: null }],
      requests: blocked
        ? []
        : [
            {
              failure: null,
              request: { url: target.input, method: 'GET', headers: {} },
              response: {
                code: 200,
                headers: { 'Content-Type': 'text/html', ...(hostile ? { 'X-Note': XSS } : {}) },
                body: `<html><title>${title}</title>${hostile ? '<script>alert(2)</script>' : 'hello'}</html>`
              }
            }
          ],
      http_experiment_failure: null,
      control_failure: null,
      control: {
        dns: { addrs: [ip], failure: null },
        tcp_connect: { [`${ip}:443`]: { status: true, failure: null } },
        tls_handshake: { [`${ip}:443`]: { server_name: target.host, status: true, failure: null } },
        http_request: { status_code: 200, body_length: 40, title, headers: { 'Content-Type': 'text/html' }, failure: null }
      },
      blocking: blocked ? 'dns' : false,
      accessible: !blocked
    }
  }
}

interface Seeded {
  probeIds: string[]
  tokens: string[]
  eventIds: Record<string, string>
  xssUid: string
  xssOkUid: string
}

async function post(app: FastifyInstance, url: string, body: unknown, token?: string): Promise<any> {
  const res = await app.inject({ method: 'POST', url, payload: body as object, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
  return res.json()
}

/** Registers the probes, uploads 2 days of measurements through ingest, checks in, and waits for the events. */
async function seed(app: FastifyInstance): Promise<Seeded> {
  const now = Math.floor(Date.now() / HOUR) * HOUR
  const probeIds: string[] = []
  const tokens: string[] = []
  for (let i = 0; i < PROBES.length + 1; i++) {
    // The last probe's name is attacker-controlled text too.
    const reg = await post(app, '/api/v1/probes/register', { software_name: i === PROBES.length ? XSS : SOFTWARE_NAME, software_version: '0.1.0', platform: 'linux' })
    probeIds.push(reg.probe_id)
    tokens.push(reg.token)
  }
  let xssUid = ''
  for (let i = 0; i < PROBES.length; i++) {
    const docs: Array<Record<string, unknown>> = []
    for (let h = -47; h <= 0; h++) {
      for (const target of TARGETS) {
        const blocked = target.blockedFrom !== undefined && h >= target.blockedFrom && h <= target.blockedTo!
        // Spread the probes over the hour so that each measurement has its own time.
        docs.push(webDoc(target, probeIds[i], PROBES[i], 'IR', now + h * HOUR + (i * 7 + 3) * 60_000, blocked))
      }
    }
    const r = await post(app, '/api/v1/measurements', docs, tokens[i])
    if (r.accepted !== docs.length) throw new Error(`ingest accepted ${r.accepted} of ${docs.length}: ${JSON.stringify(r.rejected.slice(0, 2))}`)
  }
  // A second country, ok, from the fourth probe.
  const tr = []
  for (let h = -5; h <= 0; h++) tr.push(webDoc(TARGETS[3], probeIds[3], { asn: 'AS2001', region: 'TR-34' }, 'TR', now + h * HOUR + 60_000, false))
  await post(app, '/api/v1/measurements', tr, tokens[3])
  await post(app, '/api/v1/check-in', { probe_cc: 'IR', probe_asn: 'AS1001', software_name: SOFTWARE_NAME, software_version: '0.1.0', pending_uploads: { measurements: 17, bytes: 40960 } }, tokens[0])

  // The timeline job runs every second; events appear within seconds.
  const eventIds: Record<string, string> = {}
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const res = await app.inject({ url: '/api/v1/events?probe_cc=IR' })
    for (const e of res.json().results ?? []) eventIds[e.domain] = e.event_id
    if (Object.keys(eventIds).length >= 3) break
    await new Promise(resolve => setTimeout(resolve, 300))
  }
  const list = await app.inject({ url: `/api/v1/measurements?probe_cc=IR&anomaly=true&limit=500` })
  xssUid = list.json().results.find((m: any) => m.input === XSS)?.measurement_uid ?? ''
  const okList = await app.inject({ url: `/api/v1/measurements?probe_cc=IR&anomaly=false&limit=500` })
  const xssOkUid = okList.json().results.find((m: any) => m.input === XSS)?.measurement_uid ?? ''
  return { probeIds, tokens, eventIds, xssUid, xssOkUid }
}

const { db, close } = await freshDb()
t.teardown(close)
const app = await build({ db, publicUrl: PUBLIC_URL, adminToken: ADMIN, fingerprints: await loadFingerprintsDir(FINGERPRINTS), logger: false })
t.teardown(() => app.close())
const seedStart = Date.now()
const seeded = await seed(app)
t.comment(`seeded in ${Date.now() - seedStart} ms`)

/** Fetches a public page and checks the invariants every public page keeps. */
async function publicPage(t: Test, url: string): Promise<string> {
  const res = await app.inject({ url })
  t.equal(res.statusCode, 200, `${url} answers 200`)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(String(res.headers['content-security-policy']), /script-src 'self'/)
  t.notOk(res.body.includes('<img'), `${url}: no <img> element, the target is text`)
  t.notOk(res.body.includes('<script>alert'), `${url}: no script from a measured page`)
  for (const id of seeded.probeIds) t.notOk(res.body.includes(id), `${url}: never shows a probe id`)
  return res.body
}

t.test('the seed made the events the pages show', async t => {
  t.ok(seeded.eventIds['news.example.org'], 'ongoing event for news.example.org')
  t.ok(seeded.eventIds[XSS], 'ongoing event for the XSS-named target')
  t.ok(seeded.eventIds['video.example.net'], 'past event for video.example.net')
  t.ok(seeded.xssUid, 'an anomalous measurement of the XSS-named target')
})

t.test('overview: countries with ongoing events, last day counts', async t => {
  const body = await publicPage(t, '/')
  t.match(body, /<td><a href="\/country\/IR">Iran \(IR\)<\/a><\/td><td>2<\/td>/, 'IR, named, with its 2 ongoing events')
  t.ok(body.includes(ESCAPED), 'the XSS target is listed, escaped')
  t.match(body, /id="count-probes">4</, 'four probes measured in the last day')
  t.match(body, /href="\/country\/TR"/, 'a country without events is listed too')
})

t.test('country page: events, one chart per target, filters', async t => {
  const body = await publicPage(t, '/country/IR')
  t.match(body, /id="ongoing-events"/)
  t.match(body, /id="past-events"/)
  for (const target of ['news.example.org', 'video.example.net', 'ok.example.com']) t.match(body, `data-domain="${target}"`)
  t.ok(body.includes(`data-domain="${ESCAPED}"`))
  t.match(body, /<option value="AS1002">AS1002 Bytefilter LLC<\/option>/, 'network filter options, named')
  t.match(body, /<option value="IR-07">IR-07<\/option>/, 'subdivision filter options')
  t.match(body, /<option value="HUMR">HUMR<\/option>/, 'category filter options')
  const news = await publicPage(t, '/country/IR?category_code=NEWS&probe_asn=AS1001&period=30d')
  t.match(news, /data-domain="news\.example\.org"/)
  t.notMatch(news, /data-domain="ok\.example\.com"/, 'the category filter keeps its targets only')
  const bad = await app.inject({ url: '/country/I%3Cb%3E' })
  t.equal(bad.statusCode, 404)
})

t.test('event page: share link, evidence, exports', async t => {
  const id = seeded.eventIds[XSS]
  const body = await publicPage(t, `/event/${id}`)
  t.ok(body.includes(`value="${PUBLIC_URL}/event/${id}"`), 'the share link is on PUBLIC_URL')
  t.match(body, /id="event-asns"><span class="network">AS1001 Academy City Internet LLC<\/span>; <span class="network">AS1002 Bytefilter LLC<\/span></)
  for (const f of ['md', 'html', 'json']) t.match(body, new RegExp(`href="/api/v1/reports/IR\\?since=[^"]+format=${f}"`))
  t.ok(body.includes(ESCAPED))
  const past = await publicPage(t, `/event/${seeded.eventIds['video.example.net']}`)
  t.match(past, /From \d{4}-\d\d-\d\d/, 'a past event says when it ended')
  t.equal((await app.inject({ url: '/event/00000000-0000-0000-0000-000000000000' })).statusCode, 404)
})

t.test('measurement page: document and verdict in words, no probe id', async t => {
  const body = await publicPage(t, `/measurement/${seeded.xssUid}`)
  t.match(body, /id="failed-step">DNS: the lookup failed: the name does not exist \(NXDOMAIN\)/)
  t.match(body, /id="control-saw"><div>The control resolved 198\.51\.100\.7/)
  t.ok(body.includes(`titled &quot;${ESCAPED}&quot;`), "the control's page title, escaped")
  t.ok(body.includes(`<p class="target" id="target">${ESCAPED}</p>`))
  t.match(body, /id="network">Iran \(IR\) · AS100[12] (Academy City Internet LLC|Bytefilter LLC) · IR-\d\d</, 'the country and network named')
  const ok = await publicPage(t, `/measurement/${seeded.xssOkUid}`)
  t.ok(ok.includes('&lt;script&gt;alert(2)&lt;/script&gt;'), 'a hostile page body is shown as text')
  t.match(ok, /id="failed-step">none/)
  const list = await publicPage(t, `/measurements?probe_cc=IR&test_name=web_connectivity&anomaly=true`)
  t.match(list, /<table class="list" id="measurements">/)
  t.equal((await app.inject({ url: '/measurement/nope' })).statusCode, 404)
})

t.test('probe operators: the token holder and the admin only', async t => {
  const form = (token: string): Promise<any> =>
    app.inject({ method: 'POST', url: '/probes', payload: `token=${encodeURIComponent(token)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const get = await app.inject({ url: '/probes' })
  t.equal(get.statusCode, 200)
  for (const id of seeded.probeIds) t.notOk(get.body.includes(id), 'the form alone shows no probe')
  const own = await form(seeded.tokens[0])
  t.equal(own.statusCode, 200)
  t.equal(own.headers['cache-control'], 'no-store')
  t.ok(own.body.includes(seeded.probeIds[0]), 'its own probe id')
  t.match(own.body, /class="pending">17 \(40 KiB\)</, 'pending uploads from check-in')
  t.notMatch(own.body, /class="last-seen">—</, 'last seen from check-in')
  for (const id of seeded.probeIds.slice(1)) t.notOk(own.body.includes(id), 'no other probe')
  const admin = await form(ADMIN)
  for (const id of seeded.probeIds) t.ok(admin.body.includes(id), 'the admin sees every probe')
  t.ok(admin.body.includes(ESCAPED) && !admin.body.includes('<img'), 'a probe name is escaped')
  t.equal((await form('bwp_not-a-token')).statusCode, 401)
})

t.test('static files: uPlot from node_modules, unknown names refused', async t => {
  const u = await app.inject({ url: '/dashboard/static/uPlot.iife.min.js' })
  t.equal(u.statusCode, 200)
  t.match(u.headers['content-type'], /javascript/)
  t.equal((await app.inject({ url: '/dashboard/static/..%2Fhtml.ts' })).statusCode, 404)
  t.equal((await app.inject({ url: '/dashboard/static/constructor' })).statusCode, 404)
})

t.test('every HTML response carries a Content-Security-Policy: pages, the block report, swagger-ui (issue 15)', async t => {
  const urls = ['/', '/country/IR', `/event/${seeded.eventIds[XSS]}`, `/measurement/${seeded.xssUid}`, '/probes', '/api/v1/reports/IR?format=html', '/docs', '/docs/']
  for (const url of urls) {
    const res = await app.inject({ url })
    t.match(res.headers['content-type'], /^text\/html/, `${url} is HTML`)
    const csp = String(res.headers['content-security-policy'] ?? '')
    t.match(csp, /script-src 'self'(;|$)/, `${url}: scripts from the aggregator only`)
    t.match(csp, /object-src 'none'/, `${url}: no plugins`)
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${url}: nothing inline but by hash`)
  }
})

t.test('in Chromium: click through, no script runs, screenshots', { skip: noChromium }, async t => {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  const { page, offsite } = await loopbackPage(t, base)
  const dialogs: string[] = []
  page.on('dialog', d => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  const errors: string[] = []
  page.on('pageerror', e => {
    errors.push(e.message)
  })
  // Every HTML document the browser receives carries the policy, and the policy never blocks what the page needs.
  const noCsp: string[] = []
  let htmlResponses = 0
  page.on('response', r => {
    if (!/^text\/html/.test(r.headers()['content-type'] ?? '')) return
    htmlResponses++
    if (!/script-src 'self'/.test(r.headers()['content-security-policy'] ?? '')) noCsp.push(r.url())
  })
  const violations: string[] = []
  page.on('console', m => {
    if (/Content Security Policy/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`)
  })
  mkdirSync(IMG_DIR, { recursive: true })
  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: IMG_DIR + name, fullPage: true })
  }
  const noInjectedImages = async (where: string): Promise<void> => {
    t.equal(await page.locator('img').count(), 0, `${where}: no <img> element was created`)
  }

  // Overview → country.
  await page.goto(base + '/')
  t.equal(await page.locator('#ongoing-countries').getByText(XSS, { exact: false }).count(), 1, 'overview: the XSS target shows as text')
  await noInjectedImages('overview')
  await shot('dashboard-overview.png')
  await page.locator('#ongoing-countries a', { hasText: 'IR' }).click()
  await page.waitForURL(/\/country\/IR$/)
  await page.waitForSelector('body[data-charts-ready]')
  t.equal((await page.locator('figure.timeline canvas').count()) >= 4, true, 'one chart per target')
  t.equal(await page.locator('#ongoing-events td.target', { hasText: XSS }).count(), 1, 'country: the XSS target in ongoing events, as text')
  t.equal(await page.locator('#past-events td.target', { hasText: 'video.example.net' }).count(), 1, 'country: the past event')
  await noInjectedImages('country')
  await shot('dashboard-country.png')

  // A click on a bar of the news.example.org chart opens its measurements.
  await page.locator('figure.timeline[data-domain="news.example.org"]').scrollIntoViewIfNeeded()
  const point = await page.evaluate(() => {
    const w = globalThis as unknown as { bwCharts: Array<{ domain: string; plot: any; xs: number[]; totals: Array<number | null>; grain: number }> }
    const c = w.bwCharts.find(x => x.domain === 'news.example.org')!
    const i = c.totals.findLastIndex(v => v !== null && v > 0)
    const over = c.plot.over.getBoundingClientRect()
    return { x: over.left + c.plot.valToPos(c.xs[i] + c.grain / 2, 'x'), y: over.top + c.plot.valToPos((c.totals[i] ?? 0) / 2, 'y'), t: c.xs[i] }
  })
  await page.mouse.move(point.x, point.y)
  await page.mouse.click(point.x, point.y)
  await page.waitForURL(/\/measurements\?/)
  const url = new URL(page.url())
  t.equal(url.searchParams.get('domain'), 'news.example.org')
  t.equal(url.searchParams.get('since'), new Date(point.t * 1000).toISOString(), 'the bucket the bar stands for')
  t.equal(await page.locator('#measurements tbody tr').count(), 3, "the three probes' measurements of that hour")
  await shot('dashboard-measurements.png')

  // Country → event → measurement, along the XSS-named target.
  await page.goBack()
  await page.locator('#ongoing-events a', { hasText: XSS }).click()
  await page.waitForURL(/\/event\//)
  t.equal(await page.locator('#event-target').textContent(), XSS, 'event: the target, as text')
  t.equal(await page.locator('#share-link').inputValue(), `${PUBLIC_URL}/event/${seeded.eventIds[XSS]}`)
  t.equal(await page.locator('#exports a').count(), 3, 'Markdown, HTML and JSON exports')
  t.equal(await page.locator('#event-asns').textContent(), 'AS1001 Academy City Internet LLC; AS1002 Bytefilter LLC')
  await page.waitForSelector('body[data-charts-ready]')
  await noInjectedImages('event')
  await shot('dashboard-event.png')
  const md = await page.request.get(base + (await page.locator('#exports a', { hasText: 'Markdown' }).getAttribute('href'))!)
  t.equal(md.status(), 200, 'the Markdown export answers')

  await page.locator('#samples a').first().click()
  await page.waitForURL(/\/measurement\//)
  t.equal(await page.locator('#target').textContent(), XSS, 'measurement: the target, as text')
  t.match(await page.locator('#failed-step').textContent(), /^DNS: the lookup failed/)
  t.match(await page.locator('#control-saw').textContent(), /control resolved 198\.51\.100\.7/)
  t.match(await page.locator('#document').textContent(), /"test_name": "web_connectivity"/)
  await noInjectedImages('measurement')
  await shot('dashboard-measurement.png')

  // A hostile page's body, in the document, stays text.
  await page.goto(base + `/measurement/${seeded.xssOkUid}`)
  t.match(await page.locator('#document').textContent(), /<script>alert\(2\)<\/script>/)
  await noInjectedImages('measurement of a hostile page')

  // A confirmed measurement names its fingerprint.
  await page.goto(base + `/event/${seeded.eventIds['video.example.net']}`)
  await page.locator('#samples a').first().click()
  await page.waitForURL(/\/measurement\//)
  t.match(await page.locator('#fingerprint').textContent(), /ooni\.ir_10dot10_ipv4_1/, 'the matching fingerprint')

  // The probe operators' page, with the first probe's token.
  await page.goto(base + '/probes')
  await page.locator('input[name=token]').fill(seeded.tokens[0])
  await page.locator('form button').click()
  await page.waitForSelector('#probes')
  t.equal(await page.locator('#probes td.pending').textContent(), '17 (40 KiB)')
  await shot('dashboard-probes.png')

  // The block report's HTML (its inline stylesheet allowed by hash) and swagger-ui.
  const report = await page.goto(base + '/api/v1/reports/IR?format=html')
  t.match(report?.headers()['content-security-policy'] ?? '', /style-src 'self' 'sha256-/, 'the report allows its own stylesheet by hash')
  t.equal((await page.locator('figure svg').count()) >= 1, true, 'the report shows its charts')
  t.equal(
    await page
      .locator('table')
      .first()
      .evaluate(el => (globalThis as unknown as { getComputedStyle: (e: unknown) => { borderCollapse: string } }).getComputedStyle(el).borderCollapse),
    'collapse',
    "the report's stylesheet applies"
  )
  await page.goto(base + '/docs')
  await page.waitForSelector('.opblock')
  await page.locator('.opblock-summary').first().click()
  await page.waitForSelector('.opblock-body')
  t.ok((await page.locator('.opblock').count()) > 10, 'swagger-ui renders the API under its policy')
  t.same(noCsp, [], `${htmlResponses} HTML responses, each with a Content-Security-Policy`)
  t.same(violations, [], 'no Content-Security-Policy violation on any page')

  t.same(dialogs, [], 'no dialog ever fired')
  t.same(errors, [], 'no script error')
  t.same(offsite, [], 'nothing was fetched from outside the aggregator (works offline)')
})
