/**
 * `aggregator migrate` upgrades a database of the schema before issue 13 in
 * place: a dump made with that schema and its own ingest code
 * (test/fixtures/db/schema-0102.sql.gz) is restored, migrated and upgraded;
 * every row then carries the current judgement, the rollups answer as the
 * measurements do, and the events come back.
 */
import t from 'tap'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { upgradeData } from '../../aggregator/src/commands/migrate.ts'
import { listMigrations, migrate } from '../../aggregator/src/store/migrate.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { queryTimeline, queryTimelineRaw, queryEvents } from '../../aggregator/src/timeline/store.ts'
import { SCORING_VERSION } from '../../shared/src/scoring.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { ooniFingerprints } from '../helpers/aggregator-app.ts'
import { REPO_ROOT } from '../helpers/paths.ts'

const DUMP = join(REPO_ROOT, 'test/fixtures/db/schema-0102.sql.gz')

t.test(`a dump of the 0102 schema migrates and upgrades in place (${testDriver()})`, async t => {
  const tdb = await freshDb({ migrate: false })
  t.teardown(tdb.close)
  const db = tdb.db
  await db.exec(gunzipSync(readFileSync(DUMP)).toString('utf8'))
  const before = await db.query<{ version: number }>('SELECT max(version)::int AS version FROM schema_migrations')
  t.equal(before.rows[0].version, 102, 'the dump is at 0102')
  const count = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM measurements')).rows[0].n)
  t.equal(count, 374)
  const oldEvents = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tl_events')).rows[0].n

  t.same(
    await migrate(db),
    listMigrations()
      .map(m => m.version)
      .filter(v => v > 102),
    'the migrations after 0102 apply, 0103 among them'
  )
  const fp = await ooniFingerprints()
  const totals = await upgradeData(db, fp)
  t.equal(totals?.scanned, count, 'every row judged again')
  t.equal(await upgradeData(db, fp), null, 'a second run has nothing to do')

  const stale = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements WHERE scoring_version <> $1', [SCORING_VERSION])
  t.equal(stale.rows[0].n, 0, 'no row keeps the old scoring version')
  const none = await db.query<{ down: boolean; verdict_reason: string | null; anomaly: boolean }>("SELECT down, verdict_reason, anomaly FROM measurements WHERE probe_asn = 'AS6855'")
  t.same(none.rows, [{ down: true, verdict_reason: 'down', anomaly: false }], 'requests_none gets its verdict columns')
  const reasons = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM measurements WHERE test_name = 'web_connectivity' AND verdict_reason IS NULL AND doc->'test_keys' <> 'null'::jsonb")
  t.equal(reasons.rows[0].n, 0, 'every judged web_connectivity row has its reason')
  const outage = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements WHERE unreachable')
  t.ok(outage.rows[0].n > 0, `the outage's measurements are unreachable (${outage.rows[0].n})`)

  for (const by of ['cc', 'asn', 'region'] as const) {
    for (const time_grain of ['hour', 'day'] as const) {
      const f = { probe_cc: 'IR', since: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-02-01T00:00:00Z'), time_grain, by }
      const rows = await queryTimeline(db, f)
      t.ok(rows.length > 0, `${by}/${time_grain}: buckets`)
      t.same(rows, await queryTimelineRaw(db, f), `${by}/${time_grain}: the rebuilt rollups answer as the measurements`)
    }
  }

  await drainDirty(db, { fingerprints: async () => fp })
  const events = await queryEvents(db, { probe_cc: 'IR', limit: 100 })
  t.equal(events.length, oldEvents, `the events come back (${events.length})`)
  t.ok(
    events.some(e => e.kind === 'outage'),
    'the outage among them'
  )
  t.ok(
    events.some(e => e.domain === 'www.facebook.com' && e.evidence.confirmed_count > 0 && e.evidence.fingerprints.length > 0),
    'the confirmed block, with its fingerprint'
  )
})
