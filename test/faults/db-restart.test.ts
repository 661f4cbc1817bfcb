/**
 * Fault (issue 9): PostgreSQL restarted in the middle of a heavy ingest.
 *
 * Several probes upload their outboxes at once to an aggregator on a private
 * cluster (test/helpers/pg-cluster.ts) while the cluster is crashed
 * (immediate stop) and restarted, twice. Clients must get 503 with
 * Retry-After while the database is away, never a 500; the probes' uploaders
 * retry; at the end every measurement is stored exactly once.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from '../../aggregator/src/app.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { Outbox } from '../../probe/src/outbox/outbox.ts'
import { flush } from '../../probe/src/upload/uploader.ts'
import type { Measurement } from '../../shared/src/measurement.ts'
import { pgClusterUnavailable, startPgCluster } from '../helpers/pg-cluster.ts'
import { sampleMeasurement } from '../helpers/aggregator-app.ts'

const PROBES = 4
const PER_PROBE = 500
const BATCH = 20

const skip = pgClusterUnavailable()

t.test('PostgreSQL restarted mid-ingest: 503 + Retry-After, then every measurement stored exactly once', { skip: skip ?? false }, async t => {
  const cluster = await startPgCluster()
  t.teardown(async () => {
    await cluster.destroy()
  })
  const url = await cluster.createDatabase('bw_fault_restart')
  const db = await openDatabase({ databaseUrl: url, poolSize: 8 })
  t.teardown(async () => {
    await db.close()
  })
  await migrate(db)

  const app = await build({
    db,
    publicUrl: 'http://127.0.0.1',
    jobs: false,
    rateLimits: { ingest: { max: 1_000_000, timeWindow: '1 minute' }, probes: { max: 1000, timeWindow: '1 minute' } }
  })
  const statuses = new Map<number, number>()
  let missingRetryAfter = 0
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/api/v1/measurements')) {
      statuses.set(reply.statusCode, (statuses.get(reply.statusCode) ?? 0) + 1)
      if (reply.statusCode === 503 && reply.getHeader('retry-after') === undefined) missingRetryAfter++
    }
    return payload
  })
  const internalErrors: string[] = []
  app.addHook('onError', async (_req, reply, err) => {
    if (reply.statusCode >= 500 && reply.statusCode !== 503) internalErrors.push(`${(err as { code?: string }).code ?? ''} ${err.message}`)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
  })
  const addr = app.server.address()
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`

  // Probes and their outboxes, filled before the upload starts.
  const dir = mkdtempSync(join(tmpdir(), 'bw-fault-restart-'))
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const probes: Array<{ id: string; token: string; outbox: Outbox; uids: string[] }> = []
  for (let p = 0; p < PROBES; p++) {
    const res = await fetch(`${base}/api/v1/probes/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ software_name: 'blockwatch', software_version: '0.1.0' })
    })
    t.equal(res.status, 201)
    const { probe_id: id, token } = (await res.json()) as { probe_id: string; token: string }
    const outbox = Outbox.open(join(dir, `probe-${p}`))
    t.teardown(() => {
      outbox.close()
    })
    const uids: string[] = []
    for (let i = 0; i < PER_PROBE; i++) {
      const m = sampleMeasurement(id, { input: `https://site-${i % 50}.example/` }) as unknown as Measurement
      outbox.add(m, false)
      uids.push(m.measurement_uid as string)
    }
    probes.push({ id, token, outbox, uids })
  }

  const abort = new AbortController()
  const deadline = setTimeout(() => {
    abort.abort()
  }, 150_000)
  t.teardown(() => {
    clearTimeout(deadline)
  })
  const uploads = probes.map(
    async p =>
      await flush(
        p.outbox,
        {
          aggregatorUrl: base,
          token: p.token,
          probeId: p.id,
          http: { timeoutMs: 20_000 },
          batchSize: BATCH,
          baseBackoffMs: 100,
          maxBackoffMs: 2000,
          signal: abort.signal
        },
        true
      )
  )

  // Crash the database twice while batches are flowing.
  const accepted = (): number => statuses.get(200) ?? 0
  const waitFor = async (cond: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms
    while (!cond() && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 20))
  }
  const restarts: number[] = []
  for (let k = 0; k < 2; k++) {
    const before = accepted()
    await waitFor(() => accepted() >= before + 5, 30_000)
    const t0 = Date.now()
    await cluster.stop('immediate')
    await new Promise(resolve => setTimeout(resolve, 1500))
    await cluster.start()
    restarts.push(Date.now() - t0)
  }

  const results = await Promise.all(uploads)
  t.ok(
    results.every(r => r.empty),
    'every outbox emptied'
  )
  const all = new Set(probes.flatMap(p => p.uids))
  const rows = await db.query<{ n: number; distinct_n: number }>('SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS distinct_n FROM measurements')
  const claimed = await db.query<{ n: number }>('SELECT count(DISTINCT (measurement_start_time, measurement_uid))::int AS n FROM measurements')
  const stored = await db.query<{ measurement_uid: string }>('SELECT measurement_uid FROM measurements')
  const missing = [...all].filter(u => !stored.rows.some(r => r.measurement_uid === u))
  t.equal(rows.rows[0].n, all.size, 'as many rows as measurements written')
  t.equal(rows.rows[0].distinct_n, all.size, 'no measurement stored twice')
  t.equal(claimed.rows[0].n, all.size, 'one row per dedup key (time, uid)')
  t.same(missing, [], 'none missing')
  const st = Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0]))
  const fiveHundreds = [...statuses].filter(([s]) => s >= 500 && s !== 503).reduce((a, [, n]) => a + n, 0)
  t.equal(fiveHundreds, 0, 'no 5xx other than 503')
  t.same(internalErrors, [], 'no internal error')
  t.ok((statuses.get(503) ?? 0) > 0, 'the outage was answered with 503')
  t.equal(missingRetryAfter, 0, 'every 503 carries Retry-After')
  const uploaded = results.reduce((a, r) => a + r.uploaded, 0)
  const dups = results.reduce((a, r) => a + r.duplicates, 0)
  t.comment(
    `db-restart: ${PROBES} probes × ${PER_PROBE} measurements, ${restarts.length} crashes (down ${restarts.join(', ')} ms); replies ${JSON.stringify(st)}; stored ${rows.rows[0].n} (accepted ${uploaded}, duplicates on retry ${dups}), lost 0`
  )
})
