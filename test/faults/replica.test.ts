/**
 * A read replica (issue 18, item 1): `blockwatch aggregator serve` with
 * DATABASE_URL on a private primary and DATABASE_READ_URL on a real
 * streaming replica of it (pg_basebackup -R, a second postmaster on another
 * loopback port; test/helpers/pg-cluster.ts).
 *
 * Reads are shown to go to the replica by pausing its replay
 * (pg_wal_replay_pause): a measurement stored on the primary after the pause
 * is missing from GET /api/v1/measurements until replay resumes. Meanwhile a
 * probe registered after the pause uploads (its token is read on the
 * primary), and /metrics shows the lag. Then the replica is stopped: the API
 * keeps answering 200 from the primary and the log says it fell back; once
 * the replica is started again, the log says so and reads return to it
 * (pausing replay hides new rows again).
 */
import t from 'tap'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { pgClusterUnavailable, startPgCluster, startPgReplica } from '../helpers/pg-cluster.ts'
import { serveAggregator, type ServedAggregator } from '../helpers/serve.ts'
import { sampleMeasurement } from '../helpers/aggregator-app.ts'

const skip = pgClusterUnavailable()

/** Starts `blockwatch aggregator serve` with JSON logs; resolves once it listens. */
async function serve(env: Record<string, string>): Promise<ServedAggregator> {
  return await serveAggregator(env, ['--log-format', 'json'])
}

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls `cond` every 200 ms for up to `ms`; true once it held. */
async function waitFor(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return true
    await sleep(200)
  }
  return await cond()
}

t.test('reads from a streaming replica, lag on /metrics, fall back to the primary and back', { skip: skip ?? false }, async t => {
  const primary = await startPgCluster()
  t.teardown(async () => {
    await primary.destroy()
  })
  const url = await primary.createDatabase('bw_replica')
  const db = await openDatabase({ databaseUrl: url, poolSize: 2 })
  t.teardown(async () => {
    await db.close()
  })
  await migrate(db)
  const replica = await startPgReplica(primary)
  t.teardown(async () => {
    await replica.destroy()
  })
  t.equal((await replica.psql('SELECT pg_is_in_recovery()')).trim(), 't', 'the second server is a standby')

  const srv = await serve({ DATABASE_URL: url, DATABASE_READ_URL: replica.url('bw_replica') })
  t.teardown(() => {
    srv.child.kill('SIGTERM')
  })
  const base = srv.url

  // The pseudonym secret was made at start-up, on the primary: no researcher
  // read has to write it (the replica would refuse the INSERT).
  t.equal((await db.query('SELECT 1 FROM server_secrets WHERE name = $1', ['probe_pseudonym'])).rowCount, 1, 'pseudonym secret made at start-up')

  const register = async (): Promise<{ probe_id: string; token: string }> => {
    const r = await fetch(`${base}/api/v1/probes/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ software_name: 'blockwatch', software_version: '0.1.0' })
    })
    t.equal(r.status, 201, 'probe registered')
    return (await r.json()) as { probe_id: string; token: string }
  }
  /** Uploads one measurement; returns its uid. */
  const upload = async (p: { probe_id: string; token: string }, input: string): Promise<string> => {
    const m = sampleMeasurement(p.probe_id, { input })
    const r = await fetch(`${base}/api/v1/measurements`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` }, body: JSON.stringify([m]) })
    t.equal(r.status, 200, `upload of ${input} accepted (${await r.text()})`)
    return m.measurement_uid as string
  }
  /** The uids GET /api/v1/measurements lists (asserting 200). */
  const listed = async (): Promise<Set<string>> => {
    const r = await fetch(`${base}/api/v1/measurements?probe_cc=IR&limit=1000`)
    if (r.status !== 200) {
      t.fail(`GET /api/v1/measurements answered ${r.status}: ${await r.text()}`)
      return new Set()
    }
    const body = (await r.json()) as { results: Array<{ measurement_uid: string }> }
    return new Set(body.results.map(x => x.measurement_uid))
  }
  const metrics = async (): Promise<Record<string, number>> => {
    const text = await (await fetch(`${base}/metrics`)).text()
    const out: Record<string, number> = {}
    for (const m of text.matchAll(/^(blockwatch_replica_\w+) (\S+)$/gm)) out[m[1]] = Number(m[2])
    return out
  }

  // 1. With replay running, an upload shows up through the replica.
  const alice = await register()
  const a = await upload(alice, 'https://a.example/')
  t.ok(await waitFor(async () => (await listed()).has(a), 30_000), 'a measurement stored on the primary is listed once replayed')
  // A pool closes a connection idle for 10 s: read, then look (psql may start slowly on a loaded machine).
  const readerSessions = async (): Promise<number> => Number(await replica.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'blockwatch-reader'"))
  t.ok(
    await waitFor(async () => {
      await listed()
      return (await readerSessions()) > 0
    }, 30_000),
    'the aggregator has sessions on the replica'
  )
  t.equal((await metrics()).blockwatch_replica_reads, 1, 'metrics: reads go to the replica')

  // 2. Replay paused: what the primary stores now is invisible to the reads,
  //    but a new probe can register and upload at once (its token and
  //    check-in are read on the primary), and the lag shows on /metrics.
  await replica.psql('SELECT pg_wal_replay_pause()')
  const bob = await register()
  const checkIn = await fetch(`${base}/api/v1/check-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
    body: JSON.stringify({ probe_cc: 'IR', probe_asn: 'AS197207', software_name: 'blockwatch', software_version: '0.1.0', platform: 'linux' })
  })
  t.equal(checkIn.status, 200, `a probe registered during the pause checks in (${await checkIn.text()})`)
  const b = await upload(bob, 'https://b.example/')
  t.equal((await db.query('SELECT 1 FROM measurements WHERE measurement_uid = $1', [b])).rowCount, 1, 'b is on the primary')
  await sleep(1000)
  const paused = await listed()
  t.ok(paused.has(a), 'a is still listed')
  t.notOk(paused.has(b), 'b is not listed: the read went to the paused replica')
  const lagging = await metrics()
  t.ok(lagging.blockwatch_replica_lag_bytes > 0, `metrics: lag in bytes while paused (${lagging.blockwatch_replica_lag_bytes})`)
  t.ok(lagging.blockwatch_replica_lag_seconds > 0, `metrics: lag in seconds while paused (${lagging.blockwatch_replica_lag_seconds})`)
  await replica.psql('SELECT pg_wal_replay_resume()')
  t.ok(await waitFor(async () => (await listed()).has(b), 30_000), 'b is listed once replay resumes')
  t.ok(await waitFor(async () => (await metrics()).blockwatch_replica_lag_bytes === 0, 60_000), 'metrics: the lag returns to 0 bytes')

  // 3. The replica stops: reads fall back to the primary, and the log says so.
  await replica.stop('fast')
  const c = await upload(alice, 'https://c.example/')
  const fallback = await listed()
  t.ok(fallback.has(c), 'c is listed with the replica down: the read went to the primary')
  // The server's output reaches this process through a pipe, a moment after it is written.
  t.ok(await waitFor(() => /read replica \(DATABASE_READ_URL\) does not answer .*fall back to the primary/.test(srv.output()), 30_000), 'the log says reads fell back')
  for (const path of ['/api/v1/aggregation?probe_cc=IR&axis_x=measurement_start_day', `/api/v1/measurements/${a}`, '/api/v1/events', '/api/v1/timelines?probe_cc=IR', '/']) {
    const r = await fetch(base + path)
    t.equal(r.status, 200, `GET ${path} answers 200 with the replica down`)
  }
  const down = await metrics()
  t.equal(down.blockwatch_replica_reads, 0, 'metrics: reads fall back')
  t.ok(Number.isNaN(down.blockwatch_replica_lag_seconds), 'metrics: lag unknown while the replica is down')
  t.equal(srv.output().match(/does not answer/g)?.length, 1, 'the fall-back is logged once')

  // 4. The replica is back: the log says so, and reads return to it.
  await replica.start()
  t.ok(await waitFor(() => /read replica \(DATABASE_READ_URL\) answers again/.test(srv.output()), 90_000), 'the log says the replica answers again')
  t.equal((await metrics()).blockwatch_replica_reads, 1, 'metrics: reads go to the replica again')
  t.ok(await waitFor(async () => (await listed()).has(c), 30_000), 'the replica caught up')
  await replica.psql('SELECT pg_wal_replay_pause()')
  const d = await upload(alice, 'https://d.example/')
  await sleep(1000)
  t.notOk((await listed()).has(d), 'd is not listed while replay is paused: reads are on the replica again')
  await replica.psql('SELECT pg_wal_replay_resume()')
  t.ok(await waitFor(async () => (await listed()).has(d), 30_000), 'd is listed once replay resumes')

  t.notMatch(srv.output(), /203\.0\.113\.9/, 'no probe address in the logs')
})

t.test('DATABASE_READ_URL without DATABASE_URL (PGlite) is refused with the reason', async t => {
  const { serverConfig } = await import('../../aggregator/src/config.ts')
  t.throws(() => serverConfig({}, { DATABASE_READ_URL: 'postgres://replica/db' }), /PGlite .*has no replicas/)
  t.throws(() => serverConfig({}, { DATABASE_URL: 'postgres://primary/db', DATABASE_READ_URL: 'replica:5432' }), /DATABASE_READ_URL must be a postgres:\/\/ URL/)
  t.equal(serverConfig({}, { DATABASE_URL: 'postgres://primary/db', DATABASE_READ_URL: 'postgres://replica/db' }).databaseReadUrl, 'postgres://replica/db')
})
