/**
 * Two aggregator instances on one PostgreSQL ingest the same measurements at
 * once: none is stored twice, and between them every one is counted exactly
 * once as accepted. On PGlite (one process owns the database) the two apps
 * share one connection.
 */
import t from 'tap'
import { freshDb, testDriver } from '../helpers/db.ts'
import { registerProbe, sampleMeasurement, testApp } from '../helpers/aggregator-app.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'

t.test(`two instances ingest the same measurements concurrently, on ${testDriver()}`, async t => {
  const tdb = await freshDb()
  t.teardown(tdb.close)
  const a = await testApp({}, tdb)
  t.teardown(a.close)
  const otherDb = testDriver() === 'pg' ? await openDatabase({ databaseUrl: tdb.url, poolSize: 5 }) : tdb.db
  if (otherDb !== tdb.db)
    t.teardown(async () => {
      await otherDb.close()
    })
  const b = await testApp({ db: otherDb }, { ...tdb, db: otherDb })
  t.teardown(b.close)

  const { probe_id: probeId, token } = await registerProbe(a.app)
  // 600 measurements over three months (three partitions created concurrently),
  // sent as overlapping batches in different orders to both instances.
  const months = ['2023-11', '2023-12', '2024-01']
  const docs = Array.from({ length: 600 }, (_, i) => sampleMeasurement(probeId, { measurement_start_time: `${months[i % 3]}-0${1 + (i % 9)} 10:00:00` }))
  const shuffled = (seed: number): typeof docs => [...docs].sort((x, y) => ((docs.indexOf(x) * seed) % 601) - ((docs.indexOf(y) * seed) % 601))
  const batches = [docs, shuffled(7), [...docs].reverse(), shuffled(13)]
  const replies = await Promise.all(
    batches.flatMap((batch, i) =>
      [0, 200, 400].map(off =>
        (i % 2 === 0 ? a : b).app.inject({
          method: 'POST',
          url: '/api/v1/measurements',
          headers: { authorization: `Bearer ${token}` },
          payload: batch.slice(off, off + 200)
        })
      )
    )
  )
  let accepted = 0
  let duplicates = 0
  for (const r of replies) {
    t.equal(r.statusCode, 200, r.body.slice(0, 200))
    accepted += r.json().accepted
    duplicates += r.json().duplicates
  }
  t.equal(accepted, docs.length, 'each measurement accepted exactly once')
  t.equal(duplicates, docs.length * (batches.length - 1), 'every repeat counted as a duplicate')
  const n = await tdb.db.query<{ n: number; u: number }>('SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS u FROM measurements')
  t.same(n.rows[0], { n: docs.length, u: docs.length }, 'nothing stored twice')
  const parts = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'measurements'::regclass")
  t.equal(parts.rows[0].n, 3)
})

t.test('the database down: 503 with Retry-After, never 500', async t => {
  const tdb = await freshDb()
  const { app, close } = await testApp({}, tdb)
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const ok = await app.inject({ url: '/readyz' })
  t.equal(ok.statusCode, 200)
  if (testDriver() === 'pg') {
    await tdb.close() // drops the database under the running app
  } else {
    await tdb.db.close()
  }
  for (const req of [
    { method: 'POST' as const, url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: [sampleMeasurement(probeId)] },
    { method: 'GET' as const, url: '/api/v1/measurements' },
    { method: 'GET' as const, url: '/api/v1/measurements?format=csv' },
    { method: 'GET' as const, url: '/api/v1/aggregation' },
    { method: 'POST' as const, url: '/api/v1/probes/register', payload: { software_name: 'x', software_version: '1' } }
  ]) {
    const r = await app.inject(req)
    t.equal(r.statusCode, 503, `${req.method} ${req.url}: ${r.body}`)
    t.ok(Number(r.headers['retry-after']) > 0, 'with Retry-After')
  }
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 503)
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200)
})

t.test('rate limits: 429 with Retry-After on researcher routes', async t => {
  const { app, close } = await testApp({ rateLimits: { researcher: { max: 3, timeWindow: '1 minute' } } })
  t.teardown(close)
  const codes: number[] = []
  let last
  for (let i = 0; i < 5; i++) {
    last = await app.inject({ url: '/api/v1/aggregation' })
    codes.push(last.statusCode)
  }
  t.same(codes, [200, 200, 200, 429, 429])
  t.ok(Number(last?.headers['retry-after']) > 0)
  t.equal(last?.json().code, 'AGG_ERR_RATE_LIMITED')
})

t.test('the API is described at /openapi.json, with a docs page', async t => {
  const { app, close } = await testApp()
  t.teardown(close)
  const spec = await app.inject({ url: '/openapi.json' })
  t.equal(spec.statusCode, 200)
  t.ok(spec.json().paths['/api/v1/measurements'], 'the API is described')
  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
})
