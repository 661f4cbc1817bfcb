/**
 * Deduplication that does not grow without bound (issue 18, item 2): a
 * measurement is a duplicate when its month partition already holds its
 * (measurement_start_time, measurement_uid). Checked here:
 * - a duplicate is caught on both sides of a month boundary, also when it
 *   is resent a month later, by upload and by import;
 * - two aggregator instances ingesting the same documents at once store
 *   each once (PostgreSQL: PGlite has one connection);
 * - the keys live and die with their partition: nothing outside the month
 *   partitions grows with every measurement.
 */
import t from 'tap'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { ooniFingerprints, registerProbe, sampleMeasurement, testApp } from '../helpers/aggregator-app.ts'

const BOUNDARY = Date.UTC(2024, 0, 31, 23, 59, 59) // the last second of January
const docAt = (uid: string, ms: number): Record<string, unknown> =>
  sampleMeasurement(null, { measurement_uid: uid, measurement_start_time: formatOoniTime(ms), test_start_time: formatOoniTime(ms), report_id: 'r-' + uid })

t.test(`a duplicate is caught across a month boundary, resent a month later, on ${testDriver()}`, async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  const fingerprints = await ooniFingerprints()
  const docs = [docAt('dedup-jan', BOUNDARY), docAt('dedup-feb', BOUNDARY + 1000), docAt('dedup-feb-2', BOUNDARY + 3600_000)]
  const first = await ingestBatch(
    db,
    docs.map(doc => ({ doc })),
    { fingerprints, nowMs: BOUNDARY + 7200_000 },
    undefined,
    'import'
  )
  t.match(first, { accepted: 3, duplicates: 0, rejected: [] })
  const parts = await db.query<{ p: string; n: number }>(`SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM measurements WHERE measurement_uid LIKE 'dedup-%' GROUP BY 1 ORDER BY 1`)
  t.same(
    parts.rows,
    [
      { p: 'measurements_2024_01', n: 1 },
      { p: 'measurements_2024_02', n: 2 }
    ],
    'the boundary splits them across two partitions'
  )

  // Resent 35 days later, with a new document in the batch: only that one is new.
  const again = await ingestBatch(
    db,
    [...docs, docAt('dedup-new', BOUNDARY + 7200_000)].map(doc => ({ doc })),
    { fingerprints, nowMs: BOUNDARY + 35 * 86_400_000 },
    undefined,
    'import'
  )
  t.match(again, { accepted: 1, duplicates: 3, rejected: [] })
  // Repeated inside one batch: the first counts, the others are duplicates.
  const repeated = await ingestBatch(
    db,
    [docAt('dedup-rep', BOUNDARY), docAt('dedup-rep', BOUNDARY)].map(doc => ({ doc })),
    { fingerprints, nowMs: BOUNDARY + 7200_000 },
    undefined,
    'import'
  )
  t.match(repeated, { accepted: 1, duplicates: 1 })
  const n = await db.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d FROM measurements WHERE measurement_uid LIKE 'dedup-%'`)
  t.same(n.rows[0], { n: 5, d: 5 }, 'each stored once')

  // The keys belong to their partition: no table outside the partitions holds one row per measurement.
  const uidsTable = await db.query<{ t: string | null }>("SELECT to_regclass('measurement_uids')::text AS t")
  t.equal(uidsTable.rows[0].t, null, 'no global uid table')
  await db.query('DROP TABLE measurements_2024_01')
  const afterDrop = await ingestBatch(db, [{ doc: docs[0] }], { fingerprints, nowMs: BOUNDARY + 35 * 86_400_000 }, undefined, 'import')
  t.match(afterDrop, { accepted: 1, duplicates: 0 }, 'a dropped month took its keys with it (what archiving relies on)')
})

t.test('the upload route: a resent measurement is a duplicate, and found by uid', async t => {
  const { app, close } = await testApp()
  t.teardown(close)
  const { probe_id: probeId, token } = await registerProbe(app)
  const now = Date.now()
  const doc: Record<string, unknown> = { ...sampleMeasurement(probeId), measurement_start_time: formatOoniTime(now - 86_400_000) }
  const post = async (): Promise<unknown> => (await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: [doc] })).json()
  t.same(await post(), { accepted: 1, duplicates: 0, rejected: [] })
  t.same(await post(), { accepted: 0, duplicates: 1, rejected: [] })
  const one = await app.inject({ url: `/api/v1/measurements/${doc.measurement_uid as string}` })
  t.equal(one.statusCode, 200)
  t.equal((one.json() as { measurement_uid: string }).measurement_uid, doc.measurement_uid)
})

t.test('two instances ingesting the same documents at once store each once', { skip: testDriver() === 'pglite' ? 'PGlite serves one connection' : false }, async t => {
  const a = await freshDb()
  t.teardown(a.close)
  const { openDatabase } = await import('../../aggregator/src/store/db.ts')
  const b = await openDatabase({ databaseUrl: a.url, poolSize: 5 })
  t.teardown(async () => {
    await b.close()
  })
  const fingerprints = await ooniFingerprints()
  // 600 documents over four months (December to March), sent as 6 batches by each instance, in opposite orders.
  const docs = Array.from({ length: 600 }, (_, i) => docAt(`two-${i}`, BOUNDARY - 40 * 86_400_000 + i * 4 * 3600_000))
  const batches = Array.from({ length: 6 }, (_, k) => docs.slice(k * 100, (k + 1) * 100))
  const run = async (db: typeof b, order: typeof batches): Promise<{ accepted: number; duplicates: number; rejected: number }> => {
    const sum = { accepted: 0, duplicates: 0, rejected: 0 }
    await Promise.all(
      order.map(async batch => {
        const r = await ingestBatch(
          db,
          batch.map(doc => ({ doc })),
          { fingerprints, nowMs: BOUNDARY + 70 * 86_400_000 },
          undefined,
          'import'
        )
        sum.accepted += r.accepted
        sum.duplicates += r.duplicates
        sum.rejected += r.rejected.length
      })
    )
    return sum
  }
  const [ra, rb] = await Promise.all([run(a.db, batches), run(b, [...batches].reverse())])
  t.equal(ra.rejected + rb.rejected, 0, 'none refused')
  t.equal(ra.accepted + rb.accepted, 600, 'every document accepted by exactly one instance')
  t.equal(ra.duplicates + rb.duplicates, 600, 'and counted a duplicate by the other')
  const n = await a.db.query<{ n: number; d: number; months: number }>(
    "SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d, count(DISTINCT tableoid)::int AS months FROM measurements WHERE measurement_uid LIKE 'two-%'"
  )
  t.same(n.rows[0], { n: 600, d: 600, months: 4 })
})
