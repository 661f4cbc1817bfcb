/**
 * Names on the dashboard (issue 14, item 5): the overview's country list,
 * the country page (title, network filter, events), the event page and the
 * measurement pages show "Iran (IR)" and "AS197207 Mobile Communication
 * Company of Iran PLC" beside the codes, the bare code when there is no
 * name (ZZ, AS0), and a hostile name as text.
 *
 * No real name in the ASN database holds a `<`, so one private-use ASN
 * (AS64512, never in it) is given a hostile name in the loaded table for
 * this file, as if the database had shipped it.
 */
import t from 'tap'
import { registerProbe, sampleMeasurement, testApp } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'
import { insertRows, type Row } from '../timeline/rows.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { asnNames } from '../../aggregator/src/geoip.ts'

const H = 3600_000
const HOSTILE = 'Evil <img src=x onerror=alert(1)> "net"'
const ESCAPED = 'Evil &lt;img src=x onerror=alert(1)&gt; &quot;net&quot;'
const MCI = 'Mobile Communication Company of Iran PLC'

t.test(`names on the dashboard (${testDriver()})`, async t => {
  asnNames().set(64512, HOSTILE)
  t.teardown(() => {
    asnNames().delete(64512)
  })
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  const now = Math.floor(Date.now() / H) * H
  const rows: Row[] = []
  for (let h = -20; h <= 0; h++) {
    for (const [asn, probe] of [
      ['AS197207', 'a'],
      ['AS64512', 'b'],
      ['AS0', 'c']
    ]) {
      const blocked = h >= -10
      rows.push({ t: new Date(now + h * H - 50 * 60_000), asn, probe, domain: 'www.facebook.com', anomaly: blocked, confirmed: blocked && asn === 'AS197207', blocking_type: blocked ? 'dns' : null })
    }
    rows.push({ t: new Date(now + h * H - 40 * 60_000), cc: 'ZZ', asn: 'AS0', probe: 'z', domain: 'www.facebook.com' })
  }
  await insertRows(tdb.db, rows)
  await drainDirty(tdb.db)

  const page = async (url: string): Promise<string> => {
    const r = await app.inject({ url })
    t.equal(r.statusCode, 200, `${url} answers 200`)
    t.notMatch(r.body, '<img', `${url}: a name never becomes an element`)
    return r.body
  }

  const overview = await page('/')
  t.match(overview, '<a href="/country/IR">Iran (IR)</a>', 'the overview names the country')
  t.match(overview, '<a href="/country/ZZ">ZZ</a>', 'ZZ has no name: the code alone')

  const country = await page('/country/IR?period=1d')
  t.match(country, '<h1>Iran (IR)</h1>')
  t.match(country, `<option value="AS197207">AS197207 ${MCI}</option>`)
  t.match(country, `<option value="AS64512">AS64512 ${ESCAPED}</option>`, 'the hostile name is escaped in the filter')
  t.match(country, '<option value="AS0">AS0</option>', 'AS0 alone')
  t.match(country, `<span class="network">AS64512 ${ESCAPED}</span>`, 'the events table names the networks, escaped')
  t.match(await page('/country/ZZ?period=1d'), '<h1>ZZ</h1>')

  const events = (await app.inject({ url: '/api/v1/events?probe_cc=IR' })).json().results
  t.equal(events.length, 1, 'one event')
  const ev = await page(`/event/${events[0].event_id as string}`)
  t.match(ev, /<h1>Blocking of <span class="target" id="event-target">www\.facebook\.com<\/span> in Iran \(IR\)<\/h1>/)
  t.match(ev, /id="event-asns"><span class="network">AS0<\/span>; <span class="network">AS197207 Mobile Communication Company of Iran PLC<\/span>; <span class="network">AS64512 Evil &lt;img/)

  // The measurement pages read documents that came in through ingest.
  const probe = await registerProbe(app)
  const docs = [
    sampleMeasurement(probe.probe_id, { probe_asn: 'AS64512' }),
    sampleMeasurement(probe.probe_id, { probe_asn: 'AS197207', probe_network_name: 'what the probe says' }),
    sampleMeasurement(probe.probe_id, { probe_cc: 'ZZ', probe_asn: 'AS0' }),
    sampleMeasurement(probe.probe_id, { probe_asn: 'AS4200000001', probe_network_name: 'A network the database does not know' })
  ]
  const up = await app.inject({ method: 'POST', url: '/api/v1/measurements', payload: docs, headers: { authorization: `Bearer ${probe.token}` } })
  t.equal(up.json().accepted, docs.length, up.body.slice(0, 300))
  const [hostileUid, mciUid, zzUid, privateUid] = docs.map(d => d.measurement_uid as string)
  t.match(await page(`/measurement/${hostileUid}`), `id="network">Iran (IR) · AS64512 ${ESCAPED}</dd>`)
  t.match(await page(`/measurement/${mciUid}`), `id="network">Iran (IR) · AS197207 ${MCI}</dd>`, "the database's name over the probe's")
  t.match(await page(`/measurement/${zzUid}`), 'id="network">ZZ · AS0</dd>', 'unknown codes stand alone')
  t.match(await page(`/measurement/${privateUid}`), 'id="network">Iran (IR) · AS4200000001 A network the database does not know</dd>', "else the probe's own name")
  const list = await page('/measurements?probe_cc=IR&probe_asn=AS64512')
  t.match(list, `IR AS64512 ${ESCAPED}`, 'the measurements list names the network, escaped')
})
