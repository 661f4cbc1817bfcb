import t from 'tap'
import { gzipSync } from 'node:zlib'
import { testDriver } from '../helpers/db.ts'
import { registerProbe, sampleMeasurement, testApp, webKeys } from '../helpers/aggregator-app.ts'

t.test(`ingest on ${testDriver()}: register, upload, duplicates, mixed batches`, async t => {
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const auth = { authorization: `Bearer ${token}` }

  const good = [sampleMeasurement(probeId), sampleMeasurement(probeId, { input: 'https://blocked.example/', test_keys: webKeys('https://blocked.example/', 'dns') })]
  let r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: auth, payload: good })
  t.equal(r.statusCode, 200, r.body)
  t.same(r.json(), { accepted: 2, duplicates: 0, rejected: [] })

  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: auth, payload: good })
  t.same(r.json(), { accepted: 0, duplicates: 2, rejected: [] }, 'a re-upload stores nothing twice')
  const n = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements')
  t.equal(n.rows[0].n, 2)
  const stored = await tdb.db.query<{ doc: { probe_ip: string }; anomaly: boolean; blocking_type: string | null; domain: string; category_code: string }>(
    'SELECT doc, anomaly, blocking_type, domain, category_code FROM measurements ORDER BY domain'
  )
  t.same(
    stored.rows.map(x => [x.doc.probe_ip, x.anomaly, x.blocking_type, x.domain, x.category_code]),
    [
      ['127.0.0.1', true, 'dns', 'blocked.example', 'NEWS'],
      ['127.0.0.1', false, null, 'www.example.org', 'NEWS']
    ],
    'probe_ip scrubbed, scored, columns extracted'
  )

  const future = sampleMeasurement(probeId, { measurement_start_time: '2999-01-01 00:00:00' })
  const mixed = [
    sampleMeasurement(probeId),
    { ...sampleMeasurement(probeId), probe_cc: 'Iran' },
    sampleMeasurement(probeId, { test_name: 'made_up_test' }),
    future,
    sampleMeasurement('someone-else'),
    (() => {
      const m = sampleMeasurement(probeId)
      delete m.probe_asn
      return m
    })(),
    sampleMeasurement(probeId, { test_keys: null })
  ]
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: auth, payload: mixed })
  t.equal(r.statusCode, 200)
  const body = r.json()
  t.equal(body.accepted, 2, 'the good ones are kept')
  t.same(
    body.rejected.map((x: { index: number }) => x.index),
    [1, 2, 3, 4, 5]
  )
  t.match(body.rejected[0].error, /^probe_cc:/)
  t.match(body.rejected[1].error, /^test_name:/)
  t.match(body.rejected[2].error, /^measurement_start_time:.*future|ahead/)
  t.match(body.rejected[3].error, /^probe_id:/)
  t.match(body.rejected[4].error, /probe_asn/)
  t.equal(body.rejected[1].measurement_uid, mixed[2].measurement_uid)

  // NDJSON with gzip, one broken line
  const nd = [JSON.stringify(sampleMeasurement(probeId)), '{broken', JSON.stringify(sampleMeasurement(probeId))].join('\n') + '\n'
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }, payload: gzipSync(nd) })
  t.equal(r.statusCode, 200, r.body)
  t.equal(r.json().accepted, 2)
  t.match(r.json().rejected, [{ index: 1, error: /line 2: not valid JSON/ }])

  const metrics = await app.inject({ url: '/metrics' })
  t.match(metrics.body, /blockwatch_measurements_rejected_total\{source="api",reason="unknown_test_name"\} 1/)
  t.match(metrics.body, /blockwatch_measurements_ingested_total\{source="api"\} 6/)
})

t.test('ingest refuses what it must, with 4xx naming the field', async t => {
  const { app, close } = await testApp()
  t.teardown(close)
  const { token } = await registerProbe(app)
  const auth = { authorization: `Bearer ${token}` }
  let r = await app.inject({ method: 'POST', url: '/api/v1/measurements', payload: [] })
  t.equal(r.statusCode, 401)
  t.match(r.json().message, /probe token/)
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: 'Bearer nope' }, payload: [] })
  t.equal(r.statusCode, 401)
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, 'content-type': 'application/json' }, payload: '[{"a": ' })
  t.equal(r.statusCode, 400)
  t.equal(r.json().field, 'body')
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"a": 1}' })
  t.equal(r.statusCode, 200, 'one NDJSON line is a batch of one')
  t.match(r.json().rejected[0].error, /data_format_version|measurement_start_time/)
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, 'content-type': 'application/json' }, payload: Buffer.alloc(11 * 1024 * 1024, 0x20) })
  t.equal(r.statusCode, 413)
  t.equal(r.json().field, 'body')
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, payload: 'not gzip at all' })
  t.equal(r.statusCode, 400)
  r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'br' }, payload: '[]' })
  t.equal(r.statusCode, 415)
})

t.test('registration, check-in and revocation', async t => {
  const { app, tdb, close } = await testApp({
    geoLookup: addr => (addr === '5.160.0.1' ? { probe_cc: 'IR', probe_asn: 'AS42337', network_name: 'Respina' } : { probe_cc: null, probe_asn: null, network_name: null })
  })
  t.teardown(close)
  const p = await registerProbe(app, 'probe-one')
  t.equal(p.probe_id, 'probe-one')
  t.match(p.token, /^bwp_/)
  const row = await tdb.db.query<{ token_hash: string }>('SELECT token_hash FROM probes')
  t.not(row.rows[0].token_hash, p.token, 'the token is stored hashed')
  let r = await app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: { probe_id: 'probe-one', software_name: 'x', software_version: '1' } })
  t.equal(r.statusCode, 409, 'a taken probe_id is refused')
  r = await app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: { software_name: 'x' } })
  t.equal(r.statusCode, 400)
  t.equal(r.json().field, 'body.software_version')

  r = await app.inject({
    method: 'POST',
    url: '/api/v1/check-in',
    remoteAddress: '5.160.0.1',
    headers: { authorization: `Bearer ${p.token}` },
    payload: { pending_uploads: { measurements: 12, bytes: 3400 } }
  })
  t.equal(r.statusCode, 200, r.body)
  const ci = r.json()
  t.equal(ci.probe_cc, 'IR')
  t.equal(ci.probe_asn, 'AS42337')
  t.equal(ci.probe_ip, '5.160.0.1', 'told to the probe, for scrubbing')
  t.ok(Math.abs(Date.parse(ci.server_time) - Date.now()) < 60_000)
  t.same(ci.target_lists, {})
  const probe = await tdb.db.query<Record<string, unknown>>('SELECT * FROM probes')
  t.notMatch(JSON.stringify(probe.rows), /5\.160\.0\.1/, 'the address is not stored')
  t.equal(probe.rows[0].pending_measurements, 12)

  r = await app.inject({
    method: 'PUT',
    url: '/api/v1/target-lists/IR',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'text/csv' },
    payload: 'url,category_code,category_description,date_added,source,notes\nhttps://a.example/,NEWS,News,2020-01-01,,\n'
  })
  t.equal(r.statusCode, 403, 'a probe token is not the admin token')
  r = await app.inject({
    method: 'PUT',
    url: '/api/v1/target-lists/IR',
    headers: { authorization: 'Bearer admin-secret', 'content-type': 'text/csv' },
    payload: 'url,category_code,category_description,date_added,source,notes\nhttps://a.example/,NEWS,News,2020-01-01,,\n'
  })
  t.equal(r.statusCode, 200, r.body)
  r = await app.inject({ method: 'POST', url: '/api/v1/check-in', remoteAddress: '5.160.0.1', headers: { authorization: `Bearer ${p.token}` } })
  t.match(r.json().target_lists, { IR: { rows: 1, url: 'https://bw.example.org/api/v1/target-lists/IR' } })
  r = await app.inject({ method: 'GET', url: '/api/v1/target-lists/IR', headers: { authorization: `Bearer ${p.token}` } })
  t.match(r.body, /a\.example/)

  r = await app.inject({ method: 'POST', url: '/api/v1/admin/probes/probe-one/revoke', headers: { authorization: `Bearer ${p.token}` } })
  t.equal(r.statusCode, 403)
  r = await app.inject({ method: 'POST', url: '/api/v1/admin/probes/probe-one/revoke', headers: { authorization: 'Bearer admin-secret' } })
  t.equal(r.statusCode, 200)
  r = await app.inject({ method: 'POST', url: '/api/v1/check-in', headers: { authorization: `Bearer ${p.token}` } })
  t.equal(r.statusCode, 403)
  t.match(r.json().message, /revoked/)
})
