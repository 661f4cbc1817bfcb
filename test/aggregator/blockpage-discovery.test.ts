/**
 * Blockpage discovery without the lab (issue 15, Deliver 2): documents built
 * here are ingested through the API and judged there; discovery proposes the
 * page one network serves for many domains, never a page the control also
 * sees (a CDN's error page) nor a site's own page; a promotion adds the
 * fingerprint to the stored list and rescoring confirms the history.
 * The lab's end-to-end run is test/lab/blockpage-discovery.test.ts.
 */
import t from 'tap'
import { bodySketch } from '../../shared/src/verdict/similarity.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { uuidv7 } from '../../shared/src/uid.ts'
import { testDriver } from '../helpers/db.ts'
import { registerProbe, testApp } from '../helpers/aggregator-app.ts'

const BLOCKPAGE = '<html><head><title>Notice</title></head><body><p>This page is not available.</p></body></html>\n'
const CDN_ERROR =
  '<!doctype html><html><head><title>Origin unreachable</title></head><body><h1>Origin unreachable</h1><p>The origin server of this site did not answer the edge in time. Reference 7f3a. Served by the ExampleCDN edge network.</p></body></html>'
const RESTRICTED = '<html><head><title>Restricted</title></head><body><p>Access to this address is restricted by order of the regulator.</p></body></html>'

/** A page with words of its own: what a site shows one network and not another (regional editions). */
const regionalPage = (domain: string, n: number): string =>
  `<html><head><title>Regional edition</title></head><body><p>${domain}: ${Array.from({ length: 40 }, (_, k) => `w${(n * 977 + k * 131) % 10007}`).join(' ')}</p></body></html>`

/** A site's own page: long enough for a sketch, unlike any other site's. */
const sitePage = (domain: string): string =>
  `<!doctype html><html><head><title>${domain} home</title></head><body><h1>Welcome to ${domain}</h1>` +
  `<p>Latest stories from ${domain}: the council met on Tuesday, the river rose again, and ${domain} readers sent in their photographs of the harvest festival.</p></body></html>`

const ADDR = (domain: string): string => `198.51.100.${((domain.length * 7) % 250) + 1}`

/** web_connectivity test keys: DNS consistent, connect ok, the probe got `probeBody`, the control `controlBody` (with its sketch, as our control sends). */
function keys(domain: string, probeBody: string, controlBody: string, probeStatus = 200, controlStatus = 200): Record<string, unknown> {
  const ip = ADDR(domain)
  return {
    queries: [{ hostname: domain, query_type: 'A', engine: 'system', failure: null, answers: [{ answer_type: 'A', ipv4: ip }] }],
    dns_experiment_failure: null,
    tcp_connect: [{ ip, port: 80, status: { success: true, failure: null, blocked: false } }],
    requests: [
      {
        request: { url: `http://${domain}/`, method: 'GET', headers: {}, body: '' },
        response: { code: probeStatus, headers: { 'Content-Type': 'text/html', Date: 'x' }, body: probeBody },
        failure: null
      }
    ],
    http_experiment_failure: null,
    control: {
      dns: { failure: null, addrs: [ip] },
      tcp_connect: { [`${ip}:80`]: { status: true, failure: null } },
      http_request: {
        body_length: controlBody.length,
        failure: null,
        title: /<title>([^<]*)<\/title>/.exec(controlBody)?.[1] ?? '',
        headers: { 'Content-Type': 'text/html' },
        status_code: controlStatus,
        x_body_sketch: bodySketch(controlBody)
      }
    },
    control_failure: null
  }
}

function doc(probeId: string, asn: string, domain: string, hoursAgo: number, tk: Record<string, unknown>): Record<string, unknown> {
  const at = Date.now() - hoursAgo * 3600_000
  return {
    data_format_version: '0.2.0',
    measurement_uid: uuidv7(at),
    measurement_start_time: formatOoniTime(at),
    test_start_time: formatOoniTime(at),
    probe_cc: 'XX',
    probe_asn: asn,
    probe_ip: '127.0.0.1',
    probe_id: probeId,
    report_id: `r-${asn}`,
    input: `http://${domain}/`,
    test_name: 'web_connectivity',
    test_version: '0.1.0',
    software_name: 'blockwatch',
    software_version: '0.1.0',
    annotations: { category_code: 'NEWS' },
    test_keys: tk
  }
}

t.test(`blockpage discovery on ${testDriver()}: proposed with its evidence, promoted, history confirmed`, async t => {
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const admin = { authorization: 'Bearer admin-secret' }

  const blocked = ['news-one.example', 'www.rights.example', 'forum.example', 'video.example', 'opposition.example']
  const cdnSites = ['shop.example', 'blog.example', 'recipes.example', 'maps.example']
  const docs: Array<Record<string, unknown>> = []
  // AS64500 serves one page for five unrelated domains, twice each; the control sees each site.
  blocked.forEach((d, i) => {
    docs.push(doc(probeId, 'AS64500', d, 30 + i, keys(d, BLOCKPAGE, sitePage(d))))
    docs.push(doc(probeId, 'AS64500', d, 3 + i, keys(d, BLOCKPAGE, sitePage(d))))
  })
  // The same sites from AS64501 are fine: the pages the probes saw as the sites' own.
  blocked.forEach((d, i) => {
    docs.push(doc(probeId, 'AS64501', d, 5 + i, keys(d, sitePage(d), sitePage(d))))
  })
  // Healthy sites in AS64500.
  for (const d of ['healthy.example', 'healthy-2.example']) docs.push(doc(probeId, 'AS64500', d, 2, keys(d, sitePage(d), sitePage(d))))
  // AS64502: a CDN's error page for four sites whose control saw the site,
  // and the same page for one site where the control saw it too (judged ok:
  // only the network's other controls can tell discovery it is no blockpage).
  cdnSites.forEach((d, i) => {
    docs.push(doc(probeId, 'AS64502', d, 4 + i, keys(d, CDN_ERROR, sitePage(d), 504)))
  })
  docs.push(doc(probeId, 'AS64502', 'cdn-down.example', 6, keys('cdn-down.example', CDN_ERROR, CDN_ERROR, 504, 504)))
  // AS64503: a page served for two domains only, and pages that differ by site.
  for (const d of ['a.example', 'b.example']) docs.push(doc(probeId, 'AS64503', d, 7, keys(d, RESTRICTED, sitePage(d))))
  ;['c.example', 'd.example', 'e.example', 'f.example'].forEach((d, i) => {
    docs.push(doc(probeId, 'AS64503', d, 8, keys(d, regionalPage(d, i), sitePage(d))))
  })

  // AS0 (an unknown network) is no one network: its pages are never grouped.
  for (const d of ['g.example', 'h.example', 'i.example', 'j.example']) docs.push(doc(probeId, 'AS0', d, 9, keys(d, RESTRICTED, sitePage(d))))

  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: docs })
  t.equal(up.statusCode, 200, up.body)
  t.equal(up.json().accepted, docs.length)
  const reasons = await tdb.db.query<{ probe_asn: string; verdict_reason: string; n: number }>('SELECT probe_asn, verdict_reason, count(*)::int AS n FROM measurements GROUP BY 1, 2 ORDER BY 1, 2')
  t.comment(JSON.stringify(reasons.rows))
  t.equal(reasons.rows.find(r => r.probe_asn === 'AS64500' && r.verdict_reason === 'http_diff')?.n, 10, 'the blocked measurements are http-diff anomalies, unconfirmed')
  t.equal(reasons.rows.find(r => r.probe_asn === 'AS64502' && r.verdict_reason === 'http_diff')?.n, 4, 'the CDN error page differs from the control for four sites')
  t.equal(reasons.rows.find(r => r.probe_asn === 'AS64502' && r.verdict_reason === 'ok')?.n, 1, "and is the control's page for the fifth")
  t.equal(reasons.rows.find(r => r.probe_asn === 'AS64503' && r.verdict_reason === 'http_diff')?.n, 6, 'two restricted pages, four regional ones')
  t.equal(reasons.rows.find(r => r.probe_asn === 'AS0' && r.verdict_reason === 'http_diff')?.n, 4, 'four restricted pages from an unknown network')

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/blockpage-candidates' })).statusCode, 401, 'the list needs the admin token')
  t.equal(
    (await app.inject({ method: 'POST', url: '/api/v1/admin/blockpage-candidates/discover', headers: { authorization: `Bearer ${token}` } })).statusCode,
    403,
    'a probe token is not the admin token'
  )

  const run = await app.inject({ method: 'POST', url: '/api/v1/admin/blockpage-candidates/discover', headers: admin })
  t.equal(run.statusCode, 200, run.body)
  const list = await app.inject({ method: 'GET', url: '/api/v1/admin/blockpage-candidates', headers: admin })
  const results = list.json().results as Array<Record<string, any>>
  t.equal(results.length, 1, `one candidate: ${JSON.stringify(results.map(r => [r.title, r.domains]))}`)
  const c = results[0]
  t.equal(c.title, 'Notice')
  t.equal(c.pattern, 'This page is not available.', "the pattern: the page's longest text, in every member page and no site page")
  t.same(c.networks, [{ probe_cc: 'XX', probe_asn: 'AS64500', measurements: 10, domains: ['forum.example', 'news-one.example', 'opposition.example', 'rights.example', 'video.example'] }])
  t.same(c.countries, ['XX'])
  t.equal(c.measurements, 10)
  t.equal(c.sample_uids.length, 5, 'one sample per domain')
  t.ok(Date.parse(c.first_seen) < Date.now() - 30 * 3600_000 && Date.parse(c.last_seen) > Date.now() - 8 * 3600_000, `first ${String(c.first_seen)}, last ${String(c.last_seen)}`)
  t.notOk('member_uids' in c, 'the members stay server-side')
  t.notOk(
    results.some(r => r.title === 'Origin unreachable'),
    'a page the control also sees (a CDN error page) is no candidate'
  )

  // The dashboard's admin page lists it, escaped, behind the admin token.
  const pageAnon = await app.inject({ method: 'GET', url: '/blockpages' })
  t.equal(pageAnon.statusCode, 200)
  t.notMatch(pageAnon.body, 'This page is not available', 'nothing without the token')
  const page = await app.inject({ method: 'POST', url: '/blockpages', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=admin-secret' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-security-policy'], "script-src 'self'")
  t.match(page.body, c.id)
  t.match(page.body, '&lt;title&gt;Notice&lt;/title&gt;', 'the excerpt is escaped')
  t.match(page.body, 'AS64500')
  const wrong = await app.inject({ method: 'POST', url: '/blockpages', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${token}` })
  t.equal(wrong.statusCode, 403, 'a probe token does not open it')

  // A pattern in a site's own page would claim healthy sites: refused.
  const bad = await app.inject({ method: 'POST', url: `/api/v1/admin/blockpage-candidates/${String(c.id)}/promote`, headers: admin, payload: { pattern: '</title></head><body>' } })
  t.equal(bad.statusCode, 400, bad.body)
  t.match(bad.json().message, /judged ok/)

  // A pattern with an address in it would send that address to every probe with the list: refused.
  const addr = await app.inject({ method: 'POST', url: `/api/v1/admin/blockpage-candidates/${String(c.id)}/promote`, headers: admin, payload: { pattern: 'blocked for 203.0.113.9' } })
  t.equal(addr.statusCode, 400, addr.body)
  t.match(addr.json().message, /IP address/)

  const promoted = await app.inject({ method: 'POST', url: `/api/v1/admin/blockpage-candidates/${String(c.id)}/promote`, headers: admin, payload: {} })
  t.equal(promoted.statusCode, 200, promoted.body)
  const p = promoted.json()
  t.equal(p.fingerprint.scope, 'isp', 'one network: scope isp')
  t.same(p.fingerprint.expected_countries, ['XX'])
  t.ok(p.rescore.changed >= 10, `rescored: ${JSON.stringify(p.rescore)}`)
  const fps = await app.inject({ method: 'GET', url: '/api/v1/fingerprints', headers: admin })
  t.equal(fps.json().version, p.version, 'the stored list is the new one')
  t.equal(fps.json().http, (await app.fingerprints.get()).http.length)

  const confirmed = await app.inject({ method: 'GET', url: '/api/v1/measurements?probe_asn=AS64500&confirmed=true&limit=100' })
  t.equal(confirmed.json().results.length, 10, 'every past measurement of the blockpage is confirmed')
  const rows = await tdb.db.query<{ domain: string; confirmed: boolean; anomaly: boolean; fingerprints: string[] | null }>('SELECT domain, confirmed, anomaly, fingerprints FROM measurements')
  for (const r of rows.rows) {
    if (blocked.includes(r.domain) && r.fingerprints !== null) continue
    t.notOk(r.confirmed, `${r.domain}: not confirmed`)
  }
  t.equal(rows.rows.filter(r => r.confirmed).length, 10, 'only those')
  t.ok(
    rows.rows.filter(r => r.domain.startsWith('healthy')).every(r => !r.anomaly),
    'healthy sites stay ok'
  )

  // Once confirmed, the page is no longer proposed.
  await app.inject({ method: 'POST', url: '/api/v1/admin/blockpage-candidates/discover', headers: admin })
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/blockpage-candidates', headers: admin })).json().results.length, 0, 'no candidate left')
})
