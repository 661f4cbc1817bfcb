/**
 * Group commit (issue 18, aggregator/src/ingest/group-commit.ts): many
 * single-document uploads at once are written in a few transactions, and
 * each request still gets its own answer: accepted, duplicate (of a stored
 * row or of another request in the same batch), refused (an invalid
 * document, a revoked probe), or the batch's failure; nothing is lost and
 * nothing is stored twice. Runs on PostgreSQL and on PGlite.
 */
import t from 'tap'
import { testDriver } from '../helpers/db.ts'
import { registerProbe, sampleMeasurement, testApp } from '../helpers/aggregator-app.ts'

/** The group sizes' histogram from /metrics: how many batches, how many uploads in them. */
const groupStats = (metrics: string): { batches: number; uploads: number } => ({
  batches: Number(/^blockwatch_ingest_upload_group_size_count (\d+)/m.exec(metrics)?.[1] ?? 0),
  uploads: Number(/^blockwatch_ingest_upload_group_size_sum (\d+)/m.exec(metrics)?.[1] ?? 0)
})

// One app and database for the file (each subtest uses its own probes and inputs).
const { app, tdb, close } = await testApp({ groupCommit: { windowMs: 50, maxRows: 500, maxInFlight: 2 }, logger: false })
t.teardown(close)

t.test(`group commit on ${testDriver()}: concurrent single uploads, duplicates and one invalid document`, async t => {
  const probes = await Promise.all([0, 1, 2, 3, 4].map(async i => await registerProbe(app, `gc-probe-${i}`)))
  const post = async (token: string, docs: unknown[]): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${token}` }, payload: docs })
    return { status: r.statusCode, body: r.json() }
  }
  // One document stored before: uploaded again below, it is a duplicate.
  const earlier = sampleMeasurement(probes[0]!.probe_id, { input: 'https://earlier.example/' })
  t.same((await post(probes[0]!.token, [earlier])).body, { accepted: 1, duplicates: 0, rejected: [] })

  // 40 requests of one document each, all at once.
  interface Req {
    token: string
    doc: Record<string, unknown>
    expect: 'accepted' | 'duplicate' | 'invalid'
  }
  const reqs: Req[] = []
  for (let i = 0; i < 30; i++) {
    const p = probes[i % probes.length]!
    reqs.push({ token: p.token, doc: sampleMeasurement(p.probe_id, { input: `https://site-${i}.example/` }), expect: 'accepted' })
  }
  // The same document sent twice in the same moment: stored once.
  const twice = sampleMeasurement(probes[1]!.probe_id, { input: 'https://twice.example/' })
  reqs.push({ token: probes[1]!.token, doc: twice, expect: 'accepted' })
  reqs.push({ token: probes[1]!.token, doc: { ...twice }, expect: 'duplicate' })
  reqs.push({ token: probes[0]!.token, doc: earlier, expect: 'duplicate' })
  // Invalid: a country that is not a code.
  const invalid = { ...sampleMeasurement(probes[2]!.probe_id), probe_cc: 'Iran' }
  reqs.push({ token: probes[2]!.token, doc: invalid, expect: 'invalid' })
  for (let i = 30; i < 36; i++) {
    const p = probes[i % probes.length]!
    reqs.push({ token: p.token, doc: sampleMeasurement(p.probe_id, { input: `https://site-${i}.example/` }), expect: 'accepted' })
  }
  const before = groupStats((await app.inject({ url: '/metrics' })).body)
  const answers = await Promise.all(reqs.map(async r => await post(r.token, [r.doc])))

  // Which of the two copies of `twice` is stored is the batch's order; exactly one is.
  const twiceAnswers = answers.filter((_, i) => reqs[i]!.doc.measurement_uid === twice.measurement_uid).map(a => a.body)
  t.same(
    twiceAnswers.map(b => [b.accepted, b.duplicates]).sort(),
    [
      [0, 1],
      [1, 0]
    ],
    'a document sent twice at once: one request stores it, the other is told it is a duplicate'
  )
  answers.forEach((a, i) => {
    const r = reqs[i]!
    t.equal(a.status, 200, `request ${i}: 200`)
    if (r.doc.measurement_uid === twice.measurement_uid) return
    if (r.expect === 'accepted') t.same(a.body, { accepted: 1, duplicates: 0, rejected: [] }, `request ${i}: accepted`)
    else if (r.expect === 'duplicate') t.same(a.body, { accepted: 0, duplicates: 1, rejected: [] }, `request ${i}: a duplicate`)
    else
      t.match(a.body, { accepted: 0, duplicates: 0, rejected: [{ index: 0, measurement_uid: r.doc.measurement_uid, error: /^probe_cc:/ }] }, `request ${i}: the invalid one refused, naming the field`)
  })

  const stored = await tdb.db.query<{ measurement_uid: string; n: number }>('SELECT measurement_uid, count(*)::int AS n FROM measurements GROUP BY 1')
  const expected = new Set([earlier, twice, ...reqs.filter(r => r.expect === 'accepted').map(r => r.doc)].map(d => d.measurement_uid as string))
  t.equal(stored.rows.length, expected.size, 'every accepted document stored')
  t.same(new Set(stored.rows.map(r => r.measurement_uid)), expected, 'and nothing else')
  t.ok(
    stored.rows.every(r => r.n === 1),
    'none twice'
  )
  const uploaded = await tdb.db.query<{ probe_id: string; last_upload_at: Date | null }>("SELECT probe_id, last_upload_at FROM probes WHERE probe_id LIKE 'gc-probe-%'")
  t.equal(uploaded.rows.length, probes.length)
  t.ok(
    uploaded.rows.every(r => r.last_upload_at !== null),
    'every probe has its last upload time'
  )

  const after = groupStats((await app.inject({ url: '/metrics' })).body)
  t.equal(after.uploads - before.uploads, reqs.length, 'every upload went through a batch')
  t.ok(after.batches - before.batches < reqs.length / 4, `grouped: ${reqs.length} uploads in ${after.batches - before.batches} transactions`)
  t.match((await app.inject({ url: '/metrics' })).body, /blockwatch_measurements_ingested_total\{source="api"\} 38\b/)
})

t.test(`group commit on ${testDriver()}: a probe revoked while its token is cached is refused in the batch, the others are not`, async t => {
  const good = await registerProbe(app, 'gc-good')
  const bad = await registerProbe(app, 'gc-bad')
  const post = async (p: { probe_id: string; token: string }): Promise<{ statusCode: number; json: () => Record<string, unknown> }> =>
    await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${p.token}` }, payload: [sampleMeasurement(p.probe_id)] })
  t.equal((await post(bad)).statusCode, 200, 'its token is now cached')
  const revoke = await app.inject({ method: 'POST', url: '/api/v1/admin/probes/gc-bad/revoke', headers: { authorization: 'Bearer admin-secret' } })
  t.equal(revoke.statusCode, 200)
  const answers = await Promise.all([post(good), post(bad), post(good), post(bad)])
  t.same(
    answers.map(a => a.statusCode),
    [200, 403, 200, 403]
  )
  t.match(answers[1]!.json(), { code: 'AGG_ERR_FORBIDDEN', message: 'probe gc-bad was revoked; its token is refused' }, 'the same body as an uncached revoked token')
  t.equal((await post(bad)).statusCode, 403, 'and afterwards')
  const n = await tdb.db.query<{ probe_id: string; n: number }>("SELECT probe_id, count(*)::int AS n FROM measurements WHERE probe_id IN ('gc-good', 'gc-bad') GROUP BY 1 ORDER BY 1")
  t.same(n.rows, [
    { probe_id: 'gc-bad', n: 1 },
    { probe_id: 'gc-good', n: 2 }
  ])
})

t.test(`group commit on ${testDriver()}: a failing batch answers every request in it, and one bad row fails only its own request`, async t => {
  const p = await registerProbe(app, 'gc-fail')
  // A real database error for chosen rows: a trigger the test adds. 53300
  // (too many connections) is the database failing; 23514 (a check) is the
  // row's own fault.
  await tdb.db.exec(`CREATE FUNCTION gc_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.input = 'https://outage.example/' THEN RAISE EXCEPTION 'simulated outage' USING ERRCODE = '53300'; END IF;
      IF NEW.input = 'https://bad-row.example/' THEN RAISE EXCEPTION 'simulated bad row' USING ERRCODE = '23514'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER gc_poison BEFORE INSERT ON measurements FOR EACH ROW EXECUTE FUNCTION gc_poison();`)
  const post = async (input: string): Promise<{ statusCode: number; json: () => Record<string, unknown> }> =>
    await app.inject({ method: 'POST', url: '/api/v1/measurements', headers: { authorization: `Bearer ${p.token}` }, payload: [sampleMeasurement(p.probe_id, { input })] })

  let answers = await Promise.all(['https://a.example/', 'https://outage.example/', 'https://b.example/'].map(post))
  t.same(
    answers.map(a => a.statusCode),
    [503, 503, 503],
    'the database failing: every request of the batch is told (503), none is lost silently'
  )
  t.match(answers[0]!.json(), { code: 'AGG_ERR_DB_UNAVAILABLE' })
  let n = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM measurements WHERE probe_id = 'gc-fail'")
  t.equal(n.rows[0]!.n, 0, 'and nothing of it is stored')

  answers = await Promise.all(['https://a.example/', 'https://bad-row.example/', 'https://b.example/'].map(post))
  t.same(
    answers.map(a => a.statusCode),
    [200, 500, 200],
    'a row the database refuses fails its own request only'
  )
  t.same(answers[0]!.json(), { accepted: 1, duplicates: 0, rejected: [] })
  n = await tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM measurements WHERE probe_id = 'gc-fail'")
  t.equal(n.rows[0]!.n, 2, 'the two good ones stored, once each')
})
