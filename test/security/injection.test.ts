/**
 * Hostile input (issue 9), on the way out: attacker-controlled strings
 * uploaded in measurements (input, report_id, category_code, test_keys,
 * software fields) and given at registration must come out escaped on every
 * dashboard page, report and feed, and neutralised in CSV exports (no cell
 * starting with = + - @ that a spreadsheet would run as a formula).
 */
import t from 'tap'
import { readCsv } from '../../shared/src/csv.ts'
import { registerProbe, sampleMeasurement, testApp } from '../helpers/aggregator-app.ts'

const XSS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', "'><svg onload=alert(3)>", '</title><script>alert(4)</script>', ']]></content><script>alert(5)</script>']
const FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", '-2+3', '@SUM(1+1)', '=1+1']

/** Raw markup that must never appear unescaped. */
const RAW = /<script>alert|<img src=x onerror|<svg onload|href="javascript:|src="javascript:/i

t.test('attacker strings: escaped on pages, reports and feeds; neutralised in CSV', async t => {
  const { app, close } = await testApp({
    rateLimits: {
      ingest: { max: 10_000, timeWindow: '1 minute' },
      probes: { max: 10_000, timeWindow: '1 minute' },
      default: { max: 10_000, timeWindow: '1 minute' },
      researcher: { max: 10_000, timeWindow: '1 minute' }
    } as never
  })
  t.teardown(close)
  // The registration fields are the operator's: they show on the probes page.
  const reg = await app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: { software_name: XSS[0].slice(0, 60), software_version: XSS[1].slice(0, 60), platform: XSS[2] } })
  const { probe_id: probeId, token } = reg.statusCode === 201 ? (reg.json() as { probe_id: string; token: string }) : await registerProbe(app)
  const docs = [
    ...XSS.map((x, i) =>
      sampleMeasurement(probeId, {
        input: `https://x${i}.example/${encodeURIComponent(x)}?q=${x}`,
        report_id: x,
        annotations: { category_code: x, note: x },
        test_keys: { blocking: 'http-diff', accessible: false, title: x, requests: [{ response: { body: x, headers: { Server: x } } }], failure: x }
      })
    ),
    sampleMeasurement(probeId, { input: 'javascript:alert(6)', report_id: 'js' }),
    ...FORMULAS.map((f, i) => sampleMeasurement(probeId, { input: `https://f${i}.example/`, report_id: f, annotations: { category_code: f }, test_keys: { blocking: 'dns', accessible: false } }))
  ]
  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: docs })
  t.equal(up.statusCode, 200)
  const stored = up.json() as { accepted: number }
  t.ok(stored.accepted >= XSS.length + FORMULAS.length, `${stored.accepted} hostile measurements stored`)

  const list = await app.inject({ url: '/api/v1/measurements?probe_cc=IR&limit=100' })
  const uids = (list.json() as { results: Array<{ measurement_uid: string }> }).results.map(r => r.measurement_uid)
  const pages = [
    '/',
    '/country/IR',
    '/measurements?probe_cc=IR',
    ...uids.map(u => `/measurement/${u}`),
    '/api/v1/reports/IR',
    '/api/v1/feeds/events.atom',
    '/api/v1/events?probe_cc=IR',
    `/country/${encodeURIComponent(XSS[0])}`,
    `/measurement/${encodeURIComponent(XSS[1])}`,
    `/event/${encodeURIComponent(XSS[2])}`,
    `/measurements?probe_cc=${encodeURIComponent(XSS[0])}&domain=${encodeURIComponent(XSS[1])}`
  ]
  const unescaped: string[] = []
  let checked = 0
  for (const p of pages) {
    const r = await app.inject({ url: p })
    if (r.statusCode >= 500) {
      unescaped.push(`${p}: ${r.statusCode}`)
      continue
    }
    checked++
    const type = String(r.headers['content-type'] ?? '')
    if (/html|xml|svg/.test(type) && RAW.test(r.body)) unescaped.push(`${p} (${type}): ${RAW.exec(r.body)?.[0]}`)
  }
  // The probe operators' page shows the operator's own registration fields.
  const probesPage = await app.inject({ method: 'POST', url: '/probes', payload: `token=${encodeURIComponent(token)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  if (probesPage.statusCode < 500) {
    checked++
    if (RAW.test(probesPage.body)) unescaped.push(`/probes: ${RAW.exec(probesPage.body)?.[0]}`)
  } else unescaped.push(`/probes: ${probesPage.statusCode}`)
  t.same(unescaped, [], `${checked} pages, reports and feeds carry no live attacker markup`)

  // CSV exports: parse them and look at every cell.
  const exports = ['/api/v1/measurements?probe_cc=IR&format=csv', '/api/v1/timelines?probe_cc=IR&format=csv', '/api/v1/events?probe_cc=IR&format=csv']
  const dangerous: string[] = []
  let cells = 0
  let neutralised = 0
  for (const e of exports) {
    const r = await app.inject({ url: e })
    if (r.statusCode !== 200) {
      dangerous.push(`${e}: HTTP ${r.statusCode}`)
      continue
    }
    for await (const rec of readCsv(r.body)) {
      for (const cell of rec.fields) {
        cells++
        if (/^[=+\-@\t\r]/.test(cell)) dangerous.push(`${e} line ${rec.line}: ${cell.slice(0, 40)}`)
        if (/^'[=+\-@]/.test(cell)) neutralised++
      }
    }
  }
  t.same(dangerous, [], `${cells} CSV cells, none starts with = + - @`)
  t.ok(neutralised >= FORMULAS.length, `${neutralised} formula cells neutralised with a leading apostrophe`)
  t.comment(
    `injection: ${XSS.length} markup payloads × ${checked} pages/feeds, 0 unescaped; ${FORMULAS.length} formula payloads, ${cells} CSV cells in ${exports.length} exports, ${neutralised} neutralised, 0 live`
  )
})

/** A DNS-blocked web_connectivity measurement of a target named `name` (a domain no URL could carry). */
function blockedNamed(probeId: string, name: string, at: number): Record<string, unknown> {
  const ip = '198.51.100.7'
  return sampleMeasurement(probeId, {
    input: name,
    measurement_start_time: new Date(at).toISOString().slice(0, 19).replace('T', ' '),
    test_keys: {
      domain: name,
      queries: [{ hostname: name, query_type: 'A', engine: 'udp', failure: 'dns_nxdomain_error', answers: [] }],
      dns_experiment_failure: 'dns_nxdomain_error',
      tcp_connect: [],
      requests: [],
      http_experiment_failure: null,
      control_failure: null,
      control: {
        dns: { addrs: [ip], failure: null },
        tcp_connect: { [`${ip}:443`]: { status: true, failure: null } },
        http_request: { status_code: 200, body_length: 40, title: 'x', headers: {}, failure: null }
      }
    }
  })
}

t.test('the Markdown report escapes the names probes and target lists control (issue 15)', async t => {
  const { app, close } = await testApp()
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const names = ['<svg onload=alert(7)>', '[click](javascript:alert(8))', '<img src=x onerror=alert(9)>|cell', 'a\n# heading <b>b</b>', '`code`*em*_x_ ![i](http://evil.example/x.png)']
  const now = Date.now()
  const docs = names.flatMap(n => [0, 1, 2].map(k => blockedNamed(probeId, n, now - (k + 1) * 3600_000)))
  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: docs })
  t.equal(up.json().accepted, docs.length, 'the hostile targets are stored')
  const md = await app.inject({ url: '/api/v1/reports/IR?format=md' })
  t.equal(md.statusCode, 200)
  const body = md.body
  t.ok(body.includes('## \\<svg onload=alert(7)\\> — web\\_connectivity'), 'the heading names the target, escaped')
  // What a Markdown renderer acts on, once backslash escapes are taken out:
  // no HTML tag, no link or image but ours, no line a name started.
  const live = body.replace(/\\[\s\S]/g, '')
  t.notMatch(live, /<(?!https?:\/\/[^\s<>]+>)/, 'no < outside our own autolinks')
  t.notMatch(live, /\]\(javascript|\[click\]|!\[i\]/, 'no link or image from a name')
  t.notMatch(body, /^# heading/m, 'a line break in a name starts no line')
  for (const n of names) t.notOk(body.includes(n), `${JSON.stringify(n)} never appears raw`)
})
