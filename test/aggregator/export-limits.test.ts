/**
 * Only a few exports at a time (issue 14, item 3): past the limit the
 * answer is 429 with Retry-After and AGG_ERR_EXPORT_BUSY, and a slot comes
 * back when an export ends and when its client goes away in the middle.
 * A real server on loopback; the export is large enough (about 40 MB) that
 * a client that stops reading holds it open.
 */
import t from 'tap'
import { get, type ClientRequest, type IncomingMessage } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { testApp } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'

const ROWS = 20_000

t.test(`exports past the limit get 429, and slots come back, on ${testDriver()}`, async t => {
  const { app, tdb, close } = await testApp({ pseudonymSecret: 'k', maxExports: 1 })
  t.teardown(close)
  await tdb.db.query("SELECT ensure_measurement_partition('2024-01-15 00:00:00+00')")
  await tdb.db.query(`INSERT INTO measurements (measurement_uid, measurement_start_time, report_id, probe_cc, probe_asn, probe_id, test_name, input, domain,
      category_code, blocking_type, anomaly, confirmed, failure, scoring_version, fingerprints_version, doc)
    SELECT 'u' || lpad(i::text, 6, '0'), timestamptz '2024-01-01 00:00:00+00' + i * interval '10 seconds', 'r', 'IR', 'AS197207', 'p' || (i % 7),
      'web_connectivity', 'https://site' || i || '.example/', 'site' || i || '.example', 'NEWS', NULL, false, false, false, 1, 'v',
      jsonb_build_object('measurement_uid', 'u' || lpad(i::text, 6, '0'), 'probe_id', 'p' || (i % 7), 'body', repeat('x', 2000))
    FROM generate_series(1, ${ROWS}) i`)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/measurements/export`

  // Exports one after the other: each frees its slot when it ends.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${base}?format=jsonl.gz&limit=3000`)
    t.equal(res.status, 200, `export ${i + 1} of 2 in a row`)
    await res.arrayBuffer()
  }

  // A client that reads the first bytes and then stops holds the only slot.
  const { req, res } = await new Promise<{ req: ClientRequest; res: IncomingMessage }>((resolve, reject) => {
    const req = get(`${base}?format=jsonl`, res => {
      res.once('data', () => {
        res.pause()
        resolve({ req, res })
      })
    })
    req.on('error', reject)
  })
  t.equal(res.statusCode, 200)
  const busy = await fetch(`${base}?format=parquet`)
  t.equal(busy.status, 429, 'a second export while the first streams: 429')
  t.equal(busy.headers.get('retry-after'), '30', 'with Retry-After')
  t.match(await busy.json(), { code: 'AGG_ERR_EXPORT_BUSY' }, 'and the code that says why')

  // The client goes away mid-export: the server notices and frees the slot.
  req.on('error', () => {})
  req.destroy()
  let status = 0
  for (let i = 0; i < 100 && status !== 200; i++) {
    const r = await fetch(`${base}?format=jsonl&limit=1`)
    status = r.status
    await r.arrayBuffer()
    if (status !== 200) await sleep(100)
  }
  t.equal(status, 200, 'after the client disconnects, the slot is free again')

  // A refused request (bad parameter) never takes a slot.
  for (let i = 0; i < 3; i++) t.equal((await fetch(`${base}?format=xml`)).status, 400)
  const after = await fetch(`${base}?format=jsonl&limit=5`)
  t.equal(after.status, 200, 'refused requests left the slot free')
  t.equal((await after.text()).trim().split('\n').length, 5)
})
