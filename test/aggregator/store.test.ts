import t from 'tap'
import { freshDb, testDriver } from '../helpers/db.ts'
import { migrate, listMigrations, splitStatements } from '../../aggregator/src/store/migrate.ts'

t.test(`migrations apply once, on ${testDriver()}`, async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  t.same(await migrate(db), [], 'a second run applies nothing')
  const r = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
  t.same(
    r.rows.map(x => Number(x.version)),
    listMigrations().map(m => m.version)
  )
})

t.test("measurements are partitioned by month and deduplicated by their month partition's key (time, uid)", async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  const part = await db.query<{ p: string }>("SELECT ensure_measurement_partition('2009-05-23 10:00:00+00') AS p")
  t.equal(part.rows[0].p, 'measurements_2009_05')
  const insert = async (uid: string): Promise<number> =>
    await db.transaction(async tx => {
      const fresh = await tx.query(
        `INSERT INTO measurements (measurement_uid, measurement_start_time, probe_cc, probe_asn, test_name,
      anomaly, confirmed, failure, scoring_version, fingerprints_version, doc)
      VALUES ($1, $2, 'IR', 'AS197207', 'web_connectivity', true, false, false, 1, 'test', $3) ON CONFLICT DO NOTHING RETURNING measurement_uid`,
        [uid, '2009-05-23 10:00:00+00', JSON.stringify({ a: 1 })]
      )
      return fresh.rows.length
    })
  t.equal(await insert('u1'), 1)
  t.equal(await insert('u1'), 0, 'the duplicate is not stored')
  const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements_2009_05')
  t.equal(n.rows[0].n, 1)
  await t.rejects(
    db.transaction(async tx => {
      await tx.query('SELECT 1/0')
    }),
    /division by zero/
  )
})

t.test('splitStatements keeps dollar-quoted bodies whole', async t => {
  const parts = splitStatements('CREATE TABLE a (x int);\nCREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND\n$$ LANGUAGE plpgsql;\n-- trailing comment\n')
  t.equal(parts.length, 2)
  t.match(parts[1], /RETURN 1;\nEND/)
})
