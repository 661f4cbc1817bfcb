/**
 * The timelines, events, feed and report routes: contracts through inject(),
 * over rows inserted with SQL and events computed by the job's function.
 */
import t from 'tap'
import { testApp } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'
import { insertRows, type Row } from './rows.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'

const H = 3600_000
const T0 = Date.parse('2009-05-20T00:00:00Z')

function rows(): Row[] {
  const out: Row[] = []
  for (let h = 0; h < 60; h++) {
    for (const [asn, probe, region] of [
      ['AS197207', 'a', 'IR-23'],
      ['AS44244', 'b', null],
      ['AS58224', 'c', 'IR-07']
    ] as const) {
      for (const m of [5, 35]) {
        const blocked = h >= 10 && h < 30
        out.push({
          t: new Date(T0 + h * H + m * 60_000),
          asn,
          probe,
          region,
          domain: 'www.facebook.com',
          anomaly: blocked,
          confirmed: blocked && asn === 'AS197207',
          blocking_type: blocked ? 'dns' : null
        })
        out.push({ t: new Date(T0 + h * H + m * 60_000 + 1000), asn, probe, region, domain: 'www.example.com' })
        if (asn === 'AS58224')
          out.push({ t: new Date(T0 + h * H + m * 60_000 + 2000), asn, probe, region, domain: 'web.telegram.org', anomaly: h >= 20 && h < 30, blocking_type: h >= 20 && h < 30 ? 'tls' : null })
      }
    }
  }
  return out
}

t.test(`timelines, events, feeds and reports (${testDriver()})`, async t => {
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  const all = rows()
  for (let i = 0; i < all.length; i += 500) await insertRows(tdb.db, all.slice(i, i + 500))
  await drainDirty(tdb.db)
  const since = new Date(T0).toISOString()
  const until = new Date(T0 + 60 * H).toISOString()

  // Timelines
  let r = await app.inject({ url: `/api/v1/timelines?probe_cc=ir&domain=www.facebook.com&since=${since}&until=${until}` })
  t.equal(r.statusCode, 200, r.body.slice(0, 200))
  let body = r.json()
  t.equal(body.results.length, 1)
  t.equal(body.results[0].buckets.length, 60)
  t.equal(body.results[0].buckets[12].state, 'blocked')
  t.equal(body.results[0].buckets[40].state, 'ok')
  t.match(body.results[0].buckets[12], { measurement_count: 6, anomaly_count: 4, confirmed_count: 2, probe_count: 3, anomalous_probe_count: 3 })
  r = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=region&time_grain=day&since=${since}&until=${until}&test_name=web_connectivity` })
  body = r.json()
  t.same(body.results.map((s: { probe_region: string | null; domain: string }) => `${s.domain} ${s.probe_region}`).sort(), [
    'web.telegram.org IR-07',
    'www.example.com IR-07',
    'www.example.com IR-23',
    'www.example.com null',
    'www.facebook.com IR-07',
    'www.facebook.com IR-23',
    'www.facebook.com null'
  ])
  r = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&format=csv&since=${since}&until=${until}` })
  t.equal(r.headers['content-type'], 'text/csv; charset=utf-8')
  const lines = r.body.trim().split('\r\n')
  t.equal(
    lines[0],
    'probe_cc,probe_asn,probe_region,domain,test_name,time,state,measurement_count,ok_count,anomaly_count,confirmed_count,failure_count,down_count,unreachable_count,probe_count,anomalous_probe_count,anomalous_source_count'
  )
  t.equal(lines.length, 1 + 2 * 3 * 60 + 60)
  for (const [q, field] of [
    ['', 'probe_cc'],
    ['probe_cc=Iran', 'probe_cc'],
    ['probe_cc=IR&by=city', 'by'],
    ['probe_cc=IR&since=yesterday', 'since'],
    ['probe_cc=IR&probe_asn=ASN197207', 'probe_asn'],
    ["probe_cc=IR&domain=x'%20OR%201=1--", 'domain'],
    ['probe_cc=IR&time_grain=fortnight', 'time_grain'],
    ['probe_cc=IR&probe_cc=RU', 'probe_cc'],
    ['probe_cc=IR&utm_source=x', 'utm_source']
  ]) {
    r = await app.inject({ url: `/api/v1/timelines?${q}` })
    t.equal(r.statusCode, 400, q)
    t.equal(r.json().field, field, `${q} names ${field}`)
    t.match(r.json(), { error: new RegExp(`^${field}: `), code: /^AGG_ERR_(BAD|UNKNOWN)_PARAM$/, statusCode: 400, v: 0 }, `${q}: the one error shape`)
  }
  const bare = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&probe_asn=197207&since=${since}&until=${until}` })
  const prefixed = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&probe_asn=AS197207&since=${since}&until=${until}` })
  t.ok(prefixed.json().results.length > 0)
  t.same(bare.json().results, prefixed.json().results, "probe_asn=197207 is AS197207, as in OONI's API")

  // Events
  r = await app.inject({ url: '/api/v1/events?probe_cc=IR' })
  body = r.json()
  t.equal(body.results.length, 1)
  const e = body.results[0]
  t.match(e, { kind: 'blocking', probe_cc: 'IR', domain: 'www.facebook.com', test_name: 'web_connectivity', ongoing: false, blocking_type: 'dns', rule: 'confirmed', outlier: false })
  t.same(e.probe_asns, ['AS197207', 'AS44244', 'AS58224'])
  t.same(e.probe_regions, ['IR-07', 'IR-23'])
  t.ok(Math.abs(Date.parse(e.start_time) - (T0 + 10 * H)) <= H && Math.abs(Date.parse(e.end_time) - (T0 + 30 * H)) <= H)
  t.match(e.url, /^https:\/\/bw\.example\.org\/api\/v1\/events\//)
  t.match(e.sample_measurement_urls[0], /^https:\/\/bw\.example\.org\/api\/v1\/measurements\//)
  t.equal((await app.inject({ url: `/api/v1/events/${e.event_id}` })).json().event_id, e.event_id)
  t.equal((await app.inject({ url: '/api/v1/events/00000000-0000-7000-8000-000000000000' })).statusCode, 404)
  t.equal((await app.inject({ url: '/api/v1/events?probe_cc=IR&ongoing=true' })).json().results.length, 0)
  t.equal((await app.inject({ url: `/api/v1/events?probe_cc=IR&since=${new Date(T0 + 40 * H).toISOString()}` })).json().results.length, 0, 'windows after the event do not overlap it')
  t.equal((await app.inject({ url: `/api/v1/events?probe_cc=IR&until=${new Date(T0 + 12 * H).toISOString()}` })).json().results.length, 1, 'windows that overlap it do')
  t.equal((await app.inject({ url: '/api/v1/events?kind=outage' })).json().results.length, 0)
  t.equal((await app.inject({ url: '/api/v1/events?ongoing=maybe' })).json().field, 'ongoing')
  r = await app.inject({ url: '/api/v1/events?probe_cc=IR&format=csv' })
  t.match(r.body, /^event_id,kind,probe_cc,domain,test_name,start_time,end_time,ongoing,/)
  t.match(r.body, /,AS197207 AS44244 AS58224,IR-07 IR-23,/)

  // Feed
  r = await app.inject({ url: '/api/v1/feeds/events.atom?probe_cc=IR' })
  t.equal(r.headers['content-type'], 'application/atom+xml; charset=utf-8')
  t.match(r.body, /^<\?xml version="1\.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom">/)
  t.equal((r.body.match(/<entry>/g) ?? []).length, 2, 'one entry for the start, one for the end')
  // Entry ids are tag: URIs of the event alone (issue 17, item 6), so that
  // they outlive a change of PUBLIC_URL (test/dashboard/monitors.test.ts).
  t.match(r.body, `<id>tag:blockwatch,2026:event:${e.event_id}:start</id>`)
  t.match(r.body, `<id>tag:blockwatch,2026:event:${e.event_id}:end</id>`)
  t.match(r.body, `<link rel="alternate" type="text/html" href="https://bw.example.org/event/${e.event_id}"/>`, "the entry links to the event's page")
  t.match(r.body, `<link rel="alternate" type="application/json" href="https://bw.example.org/api/v1/events/${e.event_id}"/>`, 'and to its JSON')
  t.match(r.body, '<title>www.facebook.com blocked in Iran (IR): web_connectivity, dns</title>')

  // Reports
  r = await app.inject({ url: `/api/v1/reports/IR?since=${since}&until=${until}` })
  t.equal(r.statusCode, 200, r.body.slice(0, 300))
  body = r.json()
  t.equal(body.summary.event_count, 1)
  t.same(
    body.targets.map((x: { domain: string; flagged_networks: string[]; event_ids: string[] }) => [x.domain, x.flagged_networks, x.event_ids.length]),
    [
      ['web.telegram.org', ['AS58224'], 0],
      ['www.facebook.com', ['AS197207', 'AS44244', 'AS58224'], 1]
    ],
    "the blocked targets, and the lone network's"
  )
  t.match(body.targets[1].chart_svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  t.match(
    body.summary.text,
    /1 blocking event affected 1 target: www\.facebook\.com\. Measurements also suggest blocking, without enough evidence for an event, of web\.telegram\.org \(AS58224 Iran Telecommunication Company PJS\)/
  )
  t.ok(body.methodology.caveats.length > 3)
  r = await app.inject({ url: `/api/v1/reports/IR?since=${since}&until=${until}&format=md` })
  t.equal(r.headers['content-type'], 'text/markdown; charset=utf-8')
  t.match(r.body, /^# Blocking report: Iran \(IR\)/)
  t.match(r.body, /!\[Timeline of www\.facebook\.com in Iran \(IR\)\]\(https:\/\/bw\.example\.org\/api\/v1\/reports\/IR\/chart\.svg\?domain=www\.facebook\.com/)
  t.match(r.body, /\(https:\/\/bw\.example\.org\/api\/v1\/measurements\//)
  t.match(r.body, /## Methodology/)
  r = await app.inject({ url: `/api/v1/reports/IR?since=${since}&until=${until}&format=html` })
  t.match(r.body, /<!doctype html>/)
  t.match(r.body, /<svg/)
  r = await app.inject({ url: `/api/v1/reports/IR/chart.svg?domain=www.facebook.com&since=${since}&until=${until}` })
  t.equal(r.headers['content-type'], 'image/svg+xml; charset=utf-8')
  t.match(r.body, /AS44244/)
  t.equal((await app.inject({ url: '/api/v1/reports/IRN' })).statusCode, 400)
  t.equal((await app.inject({ url: '/api/v1/reports/IR?format=pdf' })).json().field, 'format')
  t.equal((await app.inject({ url: '/api/v1/reports/methodology.md' })).statusCode, 200)
})
