/**
 * The scale run of issue 13: loads the timeline benchmark's small documents
 * (the same population as benchmark 3: 40 countries, 2,000 probes, 60
 * domains, one year, seed 42) through the bulk import path in steps, and
 * after each step times, inside one process, what a researcher asks:
 * - a country's year by day as GET /api/v1/timelines builds it (the rollup
 *   query, the series with their states, and the JSON text);
 * - one domain's year by day, the same way;
 * - the OONI-style aggregation (a country's year, axis_x day × axis_y
 *   domain) from the rollups, and the same aggregation from measurements;
 * and the database's bytes per measurement, by table. Each step appends a
 * line to scripts/bench/scale-curve.json, so a run cut short keeps the
 * steps it finished.
 *
 *   node --import=tsx scripts/bench/scale-curve.ts [total] [step] [--resume]
 *   (default 10,000,000 in steps of 1,000,000; BENCH_PG_URL picks the server;
 *   --resume goes on loading a database an earlier run left, from where it
 *   stopped: the document stream is deterministic)
 */
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { toSeries } from '../../aggregator/src/routes/timelines.ts'
import { aggregate } from '../../aggregator/src/store/aggregation.ts'
import { parseFilters } from '../../aggregator/src/query/filters.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { queryTimeline } from '../../aggregator/src/timeline/store.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { docStream, population } from './generate.ts'
import { DEFAULT_SERVER_URL, recreateDatabase } from './pg.ts'
import { REPO, nowMs, percentile } from './util.ts'

const DAY = 86400_000
const QUERIES = 20
const OUT = join(REPO, 'scripts/bench/scale-curve.json')

const args = process.argv.slice(2).filter(a => !a.startsWith('--'))
const total = Number(args[0] ?? 10_000_000)
const step = Number(args[1] ?? 1_000_000)
const serverUrl = process.env.BENCH_PG_URL ?? DEFAULT_SERVER_URL
const log = (msg: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} scale: ${msg}\n`)
}

const resume = process.argv.includes('--resume')
const url = resume ? `${serverUrl.replace(/\/$/, '')}/blockwatch_bench_scale` : await recreateDatabase(serverUrl, 'blockwatch_bench_scale')
const db = await openDatabase({ databaseUrl: url, poolSize: 4 })
await migrate(db)
const fingerprints = await loadFingerprintsDir(join(REPO, '../shared/data/blocking-fingerprints'), 'ooni-blocking-fingerprints')
const untilMs = Math.floor((Date.now() - 3600_000) / DAY) * DAY
const sinceMs = untilMs - 365 * DAY
const pop = population({ sinceMs, untilMs, probes: 2000, countries: 40, domains: 60, seed: 42 })
const stream = docStream(pop, 'small', 3)
const since = new Date(sinceMs)
const until = new Date(untilMs)

async function time(fn: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await fn(-1)
  const xs: number[] = []
  for (let i = 0; i < QUERIES; i++) {
    const t = nowMs()
    await fn(i)
    xs.push(nowMs() - t)
  }
  return { p50: percentile(xs, 50), p95: percentile(xs, 95) }
}

let loaded = resume ? Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM measurements')).rows[0].n) : 0
// Load time before a resume is not known: the rate is that of the steps this run loads.
let loadSeconds = 0
const loadedBefore = loaded
for (let skipped = 0; skipped < loaded; skipped += Math.min(100_000, loaded - skipped)) stream.take(Math.min(100_000, loaded - skipped))
if (resume) log(`resuming after ${loaded} measurements`)
while (loaded < total) {
  const target = Math.min(total, (Math.floor(loaded / step) + 1) * step)
  const t0 = nowMs()
  let issued = loaded
  await Promise.all(
    [0, 1].map(async () => {
      while (issued < target) {
        const n = Math.min(5000, target - issued)
        issued += n
        const r = await ingestBatch(
          db,
          stream.take(n).map(doc => ({ doc })),
          { fingerprints, nowMs: Date.now() },
          undefined,
          'import'
        )
        if (r.rejected.length > 0) throw new Error(`rejected: ${JSON.stringify(r.rejected[0])}`)
      }
    })
  )
  loadSeconds += (nowMs() - t0) / 1000
  loaded = target
  // No event job runs here: its queue would only grow, and is not part of what a measurement costs.
  await db.query('DELETE FROM tl_dirty')
  await db.query('VACUUM ANALYZE')
  const top = (await db.query<{ probe_cc: string }>("SELECT probe_cc FROM tl_day WHERE lvl = 'c' GROUP BY 1 ORDER BY sum(n) DESC LIMIT 5")).rows.map(r => r.probe_cc)
  const cc = (i: number): string => top[((i % top.length) + top.length) % top.length]
  const country = await time(async i => JSON.stringify(toSeries(cc(i), await queryTimeline(db, { probe_cc: cc(i), since, until, time_grain: 'day', by: 'cc' }))))
  const domain = await time(async i =>
    JSON.stringify(toSeries(cc(i), await queryTimeline(db, { probe_cc: cc(i), since, until, time_grain: 'day', by: 'cc', domain: pop.domains[Math.abs(i) % pop.domains.length] })))
  )
  const f = (i: number): Record<string, string> => ({
    probe_cc: cc(i),
    test_name: 'web_connectivity',
    since: since.toISOString().slice(0, 10),
    until: new Date(untilMs - DAY).toISOString().slice(0, 10)
  })
  const aggRollup = await time(async i => await aggregate(db, parseFilters(f(i)), ['measurement_start_time', 'domain'], 'day'))
  const aggRaw = await time(async i => await aggregate(db, parseFilters(f(i)), ['measurement_start_time', 'domain'], 'day', 'measurements'))
  const sizes = (
    await db.query<{ name: string; bytes: string }>(`SELECT CASE WHEN c.relname LIKE 'measurements_%' AND c.relkind = 'r' THEN 'measurements (heap)'
      WHEN i.indrelid IS NOT NULL AND t.relname LIKE 'measurements_%' THEN 'measurements (indexes)'
      ELSE coalesce(t.relname, c.relname) END AS name, sum(pg_relation_size(c.oid))::text AS bytes
    FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i', 't')
    GROUP BY 1 ORDER BY 2 DESC`)
  ).rows
  const dbBytes = Number((await db.query<{ n: string }>('SELECT pg_database_size(current_database())::text AS n')).rows[0].n)
  const rollupRows = (await db.query<{ t: string; n: string }>("SELECT 'tl_hour' AS t, count(*)::text AS n FROM tl_hour UNION ALL SELECT 'tl_day', count(*)::text FROM tl_day")).rows
  const line = {
    at: new Date().toISOString(),
    measurements: loaded,
    load_docs_per_s: Math.round((loaded - loadedBefore) / loadSeconds),
    country_timeline_ms: country,
    domain_timeline_ms: domain,
    aggregation_rollup_ms: aggRollup,
    aggregation_raw_ms: aggRaw,
    bytes_per_measurement: Math.round(dbBytes / loaded),
    bytes_by_table: Object.fromEntries(sizes.map(r => [r.name, Math.round(Number(r.bytes) / loaded)])),
    rollup_rows: Object.fromEntries(rollupRows.map(r => [r.t, Number(r.n)])),
    countries: top
  }
  appendFileSync(OUT, JSON.stringify(line) + '\n')
  log(
    `${loaded}: load ${line.load_docs_per_s}/s, country p95 ${country.p95.toFixed(1)} ms, domain p95 ${domain.p95.toFixed(1)} ms, aggregation p95 ${aggRollup.p95.toFixed(1)} ms (raw ${aggRaw.p95.toFixed(1)}), ${line.bytes_per_measurement} B/measurement`
  )
}
await db.close()
