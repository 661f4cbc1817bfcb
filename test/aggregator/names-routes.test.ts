/**
 * Names beside codes (issue 14, item 5) in the timeline, event, feed and
 * report replies: the country's name from ISO 3166, each network's from the
 * offline ASN database. Unknown codes (ZZ, AS0) get null in JSON and stand
 * alone in text; names stay text in Atom, HTML and Markdown.
 *
 * Two real names from the ASN database carry characters that markup acts on:
 * AS19031 "CU*Answers, Inc." (emphasis in Markdown, a comma inside a list)
 * and AS10278 "Cable & Wireless (Barbados) Limited". No real name holds a
 * `<`, so one private-use ASN (AS64512, never in the database) is given a
 * hostile name in the loaded table for this file, as if the database had
 * shipped it.
 */
import t from 'tap'
import { testApp } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'
import { insertRows, type Row } from '../timeline/rows.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { asnNames } from '../../aggregator/src/geoip.ts'

const H = 3600_000
const T0 = Date.parse('2009-05-20T00:00:00Z')
const HOSTILE = 'Evil <img src=x onerror=alert(1)> *Net* [x](javascript:alert(2)) | #1'
const MCI = 'Mobile Communication Company of Iran PLC'
const NETWORKS = [
  ['AS197207', 'a'],
  ['AS19031', 'b'],
  ['AS64512', 'c'],
  ['AS0', 'd'],
  ['AS10278', 'e']
] as const

function rows(): Row[] {
  const out: Row[] = []
  for (let h = 0; h < 30; h++) {
    for (const [asn, probe] of NETWORKS) {
      for (const m of [5, 35]) {
        const blocked = h >= 10 && h < 20
        out.push({ t: new Date(T0 + h * H + m * 60_000), asn, probe, domain: 'www.facebook.com', anomaly: blocked, confirmed: blocked && asn === 'AS197207', blocking_type: blocked ? 'dns' : null })
      }
    }
    // A country ISO 3166 does not name (OONI's "unknown").
    out.push({ t: new Date(T0 + h * H + 60_000), cc: 'ZZ', asn: 'AS0', probe: 'z', domain: 'www.facebook.com' })
  }
  return out
}

t.test(`names in timelines, events, feeds and reports (${testDriver()})`, async t => {
  asnNames().set(64512, HOSTILE)
  t.teardown(() => {
    asnNames().delete(64512)
  })
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  await insertRows(tdb.db, rows())
  await drainDirty(tdb.db)
  const window = `since=${new Date(T0).toISOString()}&until=${new Date(T0 + 30 * H).toISOString()}`

  await t.test('timelines: probe_cc_name and probe_network_name beside the codes', async t => {
    let r = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&${window}` })
    t.equal(r.statusCode, 200, r.body.slice(0, 200))
    const body = r.json()
    t.equal(body.metadata.probe_cc_name, 'Iran')
    const byAsn = Object.fromEntries(body.results.map((s: { probe_asn: string; probe_network_name: string | null }) => [s.probe_asn, s]))
    t.same(Object.keys(byAsn).sort(), ['AS0', 'AS10278', 'AS19031', 'AS197207', 'AS64512'])
    t.match(byAsn.AS197207, { probe_cc: 'IR', probe_cc_name: 'Iran', probe_asn: 'AS197207', probe_network_name: MCI })
    t.equal(byAsn.AS19031.probe_network_name, 'CU*Answers, Inc.')
    t.equal(byAsn.AS64512.probe_network_name, HOSTILE, 'JSON carries the name as it is; escaping is for markup')
    t.equal(byAsn.AS0.probe_network_name, null, 'AS0 has no name')
    t.same(Object.keys(byAsn.AS197207).slice(0, 4), ['probe_cc', 'probe_cc_name', 'probe_asn', 'probe_network_name'], 'each name right after its code')

    r = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&${window}` })
    t.match(r.json().results[0], { probe_cc_name: 'Iran', probe_asn: null, probe_network_name: null }, 'a country-level series has no network')
    r = await app.inject({ url: `/api/v1/timelines?probe_cc=ZZ&${window}` })
    t.equal(r.json().metadata.probe_cc_name, null)
    t.equal(r.json().results[0].probe_cc_name, null, 'ZZ has no name')
    r = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&format=csv&${window}` })
    t.match(r.body.split('\r\n')[0], /^probe_cc,probe_asn,probe_region,domain,/, 'the CSV keeps its columns')
  })

  let eventId = ''
  await t.test('events: probe_cc_name and probe_network_names by ASN', async t => {
    const r = await app.inject({ url: '/api/v1/events?probe_cc=IR' })
    const e = r.json().results[0]
    eventId = e.event_id
    t.equal(e.probe_cc_name, 'Iran')
    t.same(e.probe_asns, ['AS0', 'AS10278', 'AS19031', 'AS197207', 'AS64512'])
    t.same(e.probe_network_names, { AS0: null, AS10278: 'Cable & Wireless (Barbados) Limited', AS19031: 'CU*Answers, Inc.', AS197207: MCI, AS64512: HOSTILE })
    const keys = Object.keys(e)
    t.equal(keys.indexOf('probe_cc_name'), keys.indexOf('probe_cc') + 1)
    t.equal(keys.indexOf('probe_network_names'), keys.indexOf('probe_asns') + 1)
    t.same((await app.inject({ url: `/api/v1/events/${e.event_id}` })).json().probe_network_names, e.probe_network_names, 'one event, same names')
    t.match((await app.inject({ url: '/api/v1/events?probe_cc=IR&format=csv' })).body, /^event_id,kind,probe_cc,domain,/, 'the CSV keeps its columns')
  })

  await t.test('Atom feed: names in titles and summaries, escaped', async t => {
    const r = await app.inject({ url: '/api/v1/feeds/events.atom?probe_cc=IR' })
    t.equal(r.statusCode, 200)
    t.match(r.body, '<title>blockwatch: blocking and outage events in Iran (IR)</title>')
    t.match(r.body, '<title>www.facebook.com blocked in Iran (IR): web_connectivity, dns</title>')
    t.match(r.body, `AS197207 ${MCI}`)
    t.match(r.body, 'AS19031 CU*Answers, Inc.; ', 'networks separated by semicolons: names carry commas')
    t.match(r.body, 'AS10278 Cable &amp; Wireless (Barbados) Limited')
    t.match(r.body, 'AS64512 Evil &lt;img src=x onerror=alert(1)&gt;')
    t.notMatch(r.body, '<img', 'the hostile name is text')
    t.match(r.body, /in Iran \(IR\), AS0; AS10278/, 'AS0 stands alone')
  })

  await t.test('reports: JSON fields, Markdown and HTML escaped', async t => {
    let r = await app.inject({ url: `/api/v1/reports/IR?${window}` })
    const body = r.json()
    t.equal(body.probe_cc_name, 'Iran')
    t.match(body.summary.text, /measurements from Iran \(IR\)\./)
    t.equal(body.events[0].probe_network_names.AS197207, MCI)
    const target = body.targets.find((x: { domain: string }) => x.domain === 'www.facebook.com')
    t.ok(target, 'the blocked target is reported')
    t.same(target.flagged_network_names, Object.fromEntries(target.flagged_networks.map((a: string) => [a, body.events[0].probe_network_names[a]])), 'a name for each flagged network')
    t.match(target.chart_svg, 'Iran (IR), all networks', 'the chart names its rows')
    t.notMatch(target.chart_svg, '<img', 'the chart keeps the hostile name as text')

    r = await app.inject({ url: `/api/v1/reports/IR?${window}&format=md` })
    t.match(r.body, /^# Blocking report: Iran \(IR\), /)
    t.match(r.body, `AS197207 ${MCI}`)
    t.match(r.body, 'AS19031 CU\\*Answers, Inc.', 'the * of a real name is escaped')
    t.match(r.body, 'AS10278 Cable \\& Wireless (Barbados) Limited')
    t.match(
      r.body,
      'AS64512 Evil \\<img src=x onerror=alert(1)\\> \\*Net\\* \\[x\\](javascript:alert(2)) \\| \\#1',
      'every character Markdown acts on in the hostile name is escaped, so it stays in its table cell'
    )
    t.notMatch(r.body, /[^\\]<img/)
    const row = r.body.split('\n').find(l => l.includes('AS64512'))!
    t.equal(row.replace(/\\\|/g, '').split('|').length, 10, 'the event row keeps its 8 cells')

    r = await app.inject({ url: `/api/v1/reports/IR?${window}&format=html` })
    t.match(r.body, '<h1>Blocking report: Iran (IR), ')
    t.match(r.body, '<title>Blocking report: Iran (IR)</title>')
    t.match(r.body, 'AS10278 Cable &amp; Wireless (Barbados) Limited')
    t.match(r.body, 'AS64512 Evil &lt;img src=x onerror=alert(1)&gt;')
    t.notMatch(r.body, '<img', 'no element from a name')

    r = await app.inject({ url: `/api/v1/reports/ZZ?${window}` })
    t.equal(r.json().probe_cc_name, null)
    t.match(r.json().summary.text, /measurements from ZZ\./, 'ZZ stands alone')
    r = await app.inject({ url: `/api/v1/reports/ZZ?${window}&format=md` })
    t.match(r.body, /^# Blocking report: ZZ, /)
    t.ok(eventId)
  })
})
