/**
 * The aggregator as the benchmarks run it: a process of its own (so that its
 * RSS can be read), the same build() that `blockwatch aggregator serve`
 * runs, on a benchmark database, listening on 127.0.0.1 on a free port.
 * The only differences from `serve`: rate limits raised (a benchmark sends
 * far more than one client would), request logging off, and a control
 * channel on stdin for the work the benchmark times inside this process
 * (recomputing every event, as the event job would).
 *
 * argv: DATABASE_URL [--no-jobs] [--read-url URL]
 * (--read-url: a streaming replica for the researcher reads, as
 * DATABASE_READ_URL gives `serve`; the load test runs two instances so.)
 * stdout: one JSON line per message: {ready, url} first, then one reply per command.
 * stdin commands (JSON lines): {"cmd":"recompute"} → {recompute_ms, series, events}.
 */
import { createInterface } from 'node:readline'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { build } from '../../aggregator/src/app.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { markAllDirty } from '../../aggregator/src/store/measurements.ts'
import { loadPseudonymSecret } from '../../aggregator/src/pseudonym.ts'
import { REPO, nowMs } from './util.ts'

const [databaseUrl, ...flags] = process.argv.slice(2)
if (databaseUrl === undefined) throw new Error('usage: aggregator-server.ts DATABASE_URL [--no-jobs] [--read-url URL]')
const jobs = !flags.includes('--no-jobs')
const readAt = flags.indexOf('--read-url')
const readUrl = readAt >= 0 ? flags[readAt + 1] : undefined

const db = await openDatabase({ databaseUrl, poolSize: 10, readUrl })
await migrate(db)
// As server.ts does: made on the primary before any read (a replica refuses the INSERT).
const pseudonymSecret = await loadPseudonymSecret(db)
const fingerprints = await loadFingerprintsDir(`${REPO}../shared/data/blocking-fingerprints`, 'ooni-blocking-fingerprints')
const many = { max: 1_000_000, timeWindow: '1 minute' }
const app = await build({ db, publicUrl: 'http://127.0.0.1', logger: false, jobs, fingerprints, rateLimits: { researcher: many, ingest: many, probes: many }, pseudonymSecret })
await app.listen({ host: '127.0.0.1', port: 0 })
const addr = app.server.address()
const port = typeof addr === 'object' && addr !== null ? addr.port : 0
process.stdout.write(JSON.stringify({ ready: true, url: `http://127.0.0.1:${port}`, pid: process.pid }) + '\n')

createInterface({ input: process.stdin }).on('line', line => {
  void (async () => {
    const msg = JSON.parse(line) as { cmd: string }
    if (msg.cmd === 'recompute') {
      // Every series queued from its first day (markAllDirty, as `rescore` and
      // the upgrade queue them), then the job's own drain.
      const t0 = nowMs()
      const series = await markAllDirty(db)
      const markMs = nowMs() - t0
      await drainDirty(db, { fingerprints: async () => fingerprints })
      const events = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM tl_events')).rows[0]!.n)
      process.stdout.write(JSON.stringify({ recompute_ms: nowMs() - t0, mark_ms: markMs, series, events }) + '\n')
    } else {
      process.stdout.write(JSON.stringify({ error: `unknown command ${msg.cmd}` }) + '\n')
    }
  })().catch(err => {
    process.stdout.write(JSON.stringify({ error: String(err) }) + '\n')
  })
})

process.once('SIGTERM', () => {
  void (async () => {
    await app.close()
    await db.close()
    process.exit(0)
  })()
})
