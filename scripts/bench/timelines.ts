/**
 * Benchmarks 3, 4 and 5 on one loaded database (issue 13's targets):
 *
 * 3. Timelines at scale. Small documents (generate.ts smallDoc) are loaded
 *    through the bulk import path (ingestBatch with source "import", what
 *    `aggregator import` and `import-ooni` call, rollup trigger and all).
 *    Then, with the aggregator in its own process (jobs off, so nothing else
 *    runs), p50 and p95 of:
 *    - a country timeline over a year by day (GET /api/v1/timelines), the
 *      rollup query it runs (queryTimeline over tl_day, through a Database),
 *      (a) the same counts from the raw measurements table and (b) DuckDB
 *      over the same rows exported to Parquet;
 *    - one domain's timeline over a year by day, the same four ways;
 *    - the OONI-style aggregation (GET /api/v1/aggregation, axis_x
 *      measurement_start_time by day, axis_y domain), aggregate() alone
 *      (which says whether the rollups answered), the same question forced
 *      onto measurements, and DuckDB;
 *    - the database's bytes per measurement, table by table;
 *    - the country and domain timelines again on a second population of
 *      400 domains at the same row count (BENCH_D400_ROWS, 0 skips it).
 * 4. Event detection: every series queued (markAllDirty) and drained by the
 *    event job's own code inside the aggregator process; then freshness:
 *    the seconds from the POST of a new confirmed anomaly until its bucket
 *    and its event appear through the API, over 20 injections (and 4 late
 *    uploads), under 800 documents/s of background ingest over 400 domains,
 *    the event job as shipped (timelineJobs, every 250 ms).
 * 5. The aggregator's RSS throughout 3 and 4.
 */
import { mkdirSync, rmSync, statSync, createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { DuckDBInstance } from '@duckdb/node-api'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { aggregate } from '../../aggregator/src/store/aggregation.ts'
import { parseFilters } from '../../aggregator/src/query/filters.ts'
import { queryTimeline, queryTimelineRaw } from '../../aggregator/src/timeline/store.ts'
import type { Database } from '../../aggregator/src/store/db.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import type { BenchContext, BenchResult } from './context.ts'
import { scaled } from './context.ts'
import { docStream, population, smallDoc, type Population, type Probe } from './generate.ts'
import { databaseSize, dropDatabase, recreateDatabase, serverFacts } from './pg.ts'
import { sizeBreakdown } from './sizes.ts'
import { JsonChild, REPO, RssSampler, fmt, mb, median, nowMs, percentile, prng, sleep, thin, tsNode } from './util.ts'

const DB = 'blockwatch_bench'
const DAY = 86400_000
/** Documents per ingestBatch call while loading. */
const LOAD_CHUNK = 5000
/** Queries per comparison (p50/p95 are over these). */
const QUERIES = 20

interface Latencies {
  p50: number
  p95: number
  n: number
}
const lat = (xs: number[]): Latencies => ({ p50: percentile(xs, 50), p95: percentile(xs, 95), n: xs.length })
const fmtLat = (l: Latencies): string => `${fmt(l.p50, 1)} / ${fmt(l.p95, 1)}`

/** The timeline over raw measurements: what the rollup query returns, computed from `measurements`. */
const RAW_TIMELINE_SQL = `SELECT coalesce(domain, '') AS domain, test_name,
    date_trunc('day', measurement_start_time AT TIME ZONE 'UTC') AS time,
    count(*)::int AS measurement_count,
    count(*) FILTER (WHERE NOT failure AND NOT anomaly AND NOT confirmed)::int AS ok_count,
    count(*) FILTER (WHERE NOT failure AND anomaly AND NOT confirmed)::int AS anomaly_count,
    count(*) FILTER (WHERE NOT failure AND confirmed)::int AS confirmed_count,
    count(*) FILTER (WHERE failure)::int AS failure_count,
    count(DISTINCT coalesce(probe_id, 'r:' || coalesce(report_id, measurement_uid)))::int AS probe_count
  FROM measurements WHERE probe_cc = $1 AND measurement_start_time >= $2 AND measurement_start_time < $3
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`

/** The same for one domain (the series index, measurements_series_time, leads with probe_cc and coalesce(domain, '')). */
const RAW_DOMAIN_TIMELINE_SQL = RAW_TIMELINE_SQL.replace('WHERE probe_cc = $1 AND', "WHERE probe_cc = $1 AND coalesce(domain, '') = $4 AND")

const duckTimeline = (file: string, cc: string, since: string, until: string, domain?: string): string => `SELECT coalesce(domain, '') AS domain, test_name,
    date_trunc('day', measurement_start_time) AS time,
    count(*) AS measurement_count,
    count(*) FILTER (WHERE NOT failure AND NOT anomaly AND NOT confirmed) AS ok_count,
    count(*) FILTER (WHERE NOT failure AND anomaly AND NOT confirmed) AS anomaly_count,
    count(*) FILTER (WHERE NOT failure AND confirmed) AS confirmed_count,
    count(*) FILTER (WHERE failure) AS failure_count,
    count(DISTINCT probe_id) AS probe_count
  FROM read_parquet('${file}') WHERE probe_cc = '${cc}'${domain === undefined ? '' : ` AND domain = '${domain}'`} AND measurement_start_time >= TIMESTAMPTZ '${since}' AND measurement_start_time < TIMESTAMPTZ '${until}'
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`

const duckAggregation = (
  file: string,
  cc: string,
  since: string,
  until: string
): string => `SELECT strftime(date_trunc('day', measurement_start_time), '%Y-%m-%dT%H:%M:%SZ') AS measurement_start_time, domain,
    count(*) FILTER (WHERE failure) AS failure_count,
    count(*) FILTER (WHERE confirmed AND NOT failure) AS confirmed_count,
    count(*) FILTER (WHERE anomaly AND NOT confirmed AND NOT failure) AS anomaly_count,
    count(*) FILTER (WHERE NOT anomaly AND NOT confirmed AND NOT failure) AS ok_count,
    count(*) AS measurement_count
  FROM read_parquet('${file}') WHERE probe_cc = '${cc}' AND test_name = 'web_connectivity'
    AND measurement_start_time >= TIMESTAMPTZ '${since}' AND measurement_start_time < TIMESTAMPTZ '${until}'
  GROUP BY 1, 2 ORDER BY 1, 2`

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url)
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

/** Times fn `n` times after one warm-up; ms each. */
async function repeat(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  await fn(-1)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t = nowMs()
    await fn(i)
    out.push(nowMs() - t)
  }
  return out
}

/** Loads `total` small documents through ingestBatch, two batches in flight. */
async function load(ctx: BenchContext, url: string, pop: Population, total: number): Promise<{ seconds: number; rate: number; dirty: number }> {
  const db = await openDatabase({ databaseUrl: url, poolSize: 4 })
  try {
    await migrate(db)
    const fingerprints = await loadFingerprintsDir(join(REPO, '../shared/data/blocking-fingerprints'), 'ooni-blocking-fingerprints')
    const stream = docStream(pop, 'small', 3)
    let issued = 0
    let done = 0
    const t0 = nowMs()
    let lastLog = t0
    await Promise.all(
      [0, 1].map(async () => {
        while (issued < total) {
          const n = Math.min(LOAD_CHUNK, total - issued)
          issued += n
          const r = await ingestBatch(
            db,
            stream.take(n).map(doc => ({ doc })),
            { fingerprints, nowMs: Date.now() },
            undefined,
            'import'
          )
          if (r.rejected.length > 0) throw new Error(`import rejected ${r.rejected.length}: ${JSON.stringify(r.rejected[0])}`)
          done += n
          if (nowMs() - lastLog > 30_000) {
            lastLog = nowMs()
            const rate = done / ((lastLog - t0) / 1000)
            ctx.log(`timelines: loaded ${fmt(done)} of ${fmt(total)} (${fmt(rate)}/s, ${fmt((total - done) / rate / 60, 1)} min to go)`)
          }
        }
      })
    )
    const seconds = (nowMs() - t0) / 1000
    // The event job is off while loading: what it would have drained goes.
    const dirty = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM tl_dirty')).rows[0]!.n)
    await db.query('TRUNCATE tl_dirty')
    await db.query('VACUUM ANALYZE')
    return { seconds, rate: total / seconds, dirty }
  } finally {
    await db.close()
  }
}

/** Exports the extracted columns to Parquet through DuckDB (CSV from COPY first); returns the file and timings. */
async function exportParquet(url: string, dir: string): Promise<{ file: string; bytes: number; seconds: number }> {
  const t0 = nowMs()
  const csv = join(dir, 'measurements.csv')
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await pipeline(
      c.query(
        copyTo(`COPY (SELECT measurement_uid, measurement_start_time, probe_cc, probe_asn, probe_region, probe_id, test_name, input, domain,
      category_code, blocking_type, anomaly, confirmed, failure FROM measurements) TO STDOUT WITH (FORMAT csv, HEADER true)`)
      ),
      createWriteStream(csv)
    )
  } finally {
    await c.end()
  }
  const file = join(dir, 'measurements.parquet')
  const inst = await DuckDBInstance.create(':memory:')
  const conn = await inst.connect()
  await conn.run(`COPY (SELECT * FROM read_csv('${csv}', header = true, types = {'measurement_start_time': 'TIMESTAMPTZ'}) ORDER BY probe_cc, measurement_start_time)
    TO '${file}' (FORMAT parquet, COMPRESSION zstd)`)
  conn.closeSync()
  inst.closeSync()
  rmSync(csv)
  return { file, bytes: statSync(file).size, seconds: (nowMs() - t0) / 1000 }
}

/** Options of runTimelines(). */
export interface TimelineRunOptions {
  timelines: boolean
  events: boolean
}

/** A second database for the 400-domain population. */
const DB_D400 = 'blockwatch_bench_d400'

/** The test list of the freshness background and of the second population (issue 13: ≥ 400 domains). */
const MANY_DOMAINS = 400

type TimelineKey = 'api_timeline' | 'sql_rollup_timeline' | 'sql_raw_timeline' | 'api_domain_timeline' | 'sql_rollup_domain_timeline' | 'sql_raw_domain_timeline'

/** The timeline questions of one loaded database, through the API and directly. */
async function timeTimelines(
  apiUrl: string,
  db: Database,
  direct: pg.Client,
  ccOf: (i: number) => string,
  domainOf: (i: number) => string,
  sinceMs: number,
  untilMs: number
): Promise<Record<TimelineKey, Latencies>> {
  const sinceIso = new Date(sinceMs).toISOString()
  const untilIso = new Date(untilMs).toISOString()
  const q = `since=${encodeURIComponent(sinceIso)}&until=${encodeURIComponent(untilIso)}`
  const base = { since: new Date(sinceMs), until: new Date(untilMs), time_grain: 'day' as const, by: 'cc' as const }
  return {
    api_timeline: lat(await repeat(QUERIES, async i => await getJson(`${apiUrl}/api/v1/timelines?probe_cc=${ccOf(i)}&time_grain=day&${q}`))),
    sql_rollup_timeline: lat(await repeat(QUERIES, async i => await queryTimeline(db, { ...base, probe_cc: ccOf(i) }))),
    sql_raw_timeline: lat(await repeat(QUERIES, async i => await direct.query(RAW_TIMELINE_SQL, [ccOf(i), sinceIso, untilIso]))),
    api_domain_timeline: lat(await repeat(QUERIES, async i => await getJson(`${apiUrl}/api/v1/timelines?probe_cc=${ccOf(i)}&domain=${domainOf(i)}&time_grain=day&${q}`))),
    sql_rollup_domain_timeline: lat(await repeat(QUERIES, async i => await queryTimeline(db, { ...base, probe_cc: ccOf(i), domain: domainOf(i) }))),
    sql_raw_domain_timeline: lat(await repeat(QUERIES, async i => await direct.query(RAW_DOMAIN_TIMELINE_SQL, [ccOf(i), sinceIso, untilIso, domainOf(i)])))
  }
}

/** Runs benchmarks 3 and 4 (and 5) on one database. */
export async function runTimelines(ctx: BenchContext, o: TimelineRunOptions): Promise<BenchResult[]> {
  const t0 = nowMs()
  // 1,000,000 at full scale, not 10,000,000: see FULL_ROWS_REASON.
  const total = scaled(ctx, Number(process.env.BENCH_TIMELINE_ROWS ?? FULL_ROWS), 20_000)
  const d400Rows = process.env.BENCH_D400_ROWS !== undefined ? Number(process.env.BENCH_D400_ROWS) : total
  const now = Date.now()
  const untilMs = Math.floor((now - 3600_000) / DAY) * DAY
  const sinceMs = untilMs - 365 * DAY
  const pop = population({ sinceMs, untilMs, probes: 2000, countries: 40, domains: 60, seed: 42 })
  const popMany = population({ sinceMs, untilMs, probes: 2000, countries: 40, domains: MANY_DOMAINS, seed: 42 })
  const url = await recreateDatabase(ctx.serverUrl, DB)
  const dir = join(tmpdir(), 'blockwatch-bench')
  mkdirSync(dir, { recursive: true })
  const results: BenchResult[] = []
  let server: JsonChild | null = null
  let direct: pg.Client | null = null
  let db: Database | null = null
  try {
    ctx.log(`timelines: loading ${fmt(total)} small documents through the bulk import path`)
    const loaded = await load(ctx, url, pop, total)
    const dbBytes = await databaseSize(url)
    const sizes = await sizeBreakdown(url)
    ctx.log(`timelines: loaded at ${fmt(loaded.rate)} docs/s; database ${mb(dbBytes)} MB`)
    direct = new pg.Client({ connectionString: url })
    direct.on('error', () => {})
    await direct.connect()
    db = await openDatabase({ databaseUrl: url, poolSize: 2 })
    const counts = (
      await direct.query<{ m: string; h: string; d: string }>(`SELECT (SELECT count(*) FROM measurements)::text AS m,
      (SELECT count(*) FROM tl_hour)::text AS h, (SELECT count(*) FROM tl_day)::text AS d`)
    ).rows[0]!
    const rows = Number(counts.m)
    // The five largest countries; each query round goes through them in turn.
    const top = (await direct.query<{ probe_cc: string; n: number }>(`SELECT probe_cc, count(*)::int AS n FROM measurements GROUP BY 1 ORDER BY 2 DESC LIMIT 5`)).rows
    const sinceIso = new Date(sinceMs).toISOString()
    const untilIso = new Date(untilMs).toISOString()
    const cc = (i: number): string => top[((i % top.length) + top.length) % top.length]!.probe_cc
    const domainIn =
      (p: Population) =>
      (i: number): string =>
        p.domains[(((i * 7) % p.domains.length) + p.domains.length) % p.domains.length]!

    server = new JsonChild(tsNode('./aggregator-server.ts', [url, '--no-jobs']), { label: 'aggregator' })
    const ready = await server.next<{ url: string }>()
    const rss = new RssSampler(server.pid, 250)
    const phases: Array<{ phase: string; peak_rss: number }> = []
    const phaseMark = (phase: string): void => {
      phases.push({ phase, peak_rss: Math.max(0, ...rss.samples.slice(phaseStart).map(s => s.rss)) })
      phaseStart = rss.samples.length
    }
    let phaseStart = 0

    if (o.timelines) {
      ctx.log('timelines: timing queries')
      const T = await timeTimelines(ready.url, db, direct, cc, domainIn(pop), sinceMs, untilMs)
      // The aggregation over whole days: `until` as a date includes that day, so the period ends on a day's bound and the rollups can answer.
      const aggFilters = (i: number): Record<string, string> => ({
        probe_cc: cc(i),
        test_name: 'web_connectivity',
        since: sinceIso.slice(0, 10),
        until: new Date(untilMs - DAY).toISOString().slice(0, 10)
      })
      const aggQs = (i: number): string => new URLSearchParams({ ...aggFilters(i), axis_x: 'measurement_start_time', axis_y: 'domain', time_grain: 'day' }).toString()
      const apiAggregation = await repeat(QUERIES, async i => await getJson(`${ready.url}/api/v1/aggregation?${aggQs(i)}`))
      const sources = new Set<string>()
      const sqlAggregation = await repeat(QUERIES, async i => {
        sources.add((await aggregate(db!, parseFilters(aggFilters(i)), ['measurement_start_time', 'domain'], 'day')).source)
      })
      const sqlRawAggregation = await repeat(QUERIES, async i => await aggregate(db!, parseFilters(aggFilters(i)), ['measurement_start_time', 'domain'], 'day', 'measurements'))
      phaseMark('queries')
      // The rollup answer and the raw one agree (the property test checks this at small scale; here once at full size).
      const same =
        JSON.stringify((await aggregate(db, parseFilters(aggFilters(0)), ['measurement_start_time', 'domain'], 'day')).rows) ===
        JSON.stringify((await aggregate(db, parseFilters(aggFilters(0)), ['measurement_start_time', 'domain'], 'day', 'measurements')).rows)
      const tlSame =
        JSON.stringify(await queryTimeline(db, { probe_cc: cc(0), since: new Date(sinceMs), until: new Date(untilMs), time_grain: 'day', by: 'cc' })) ===
        JSON.stringify(await queryTimelineRaw(db, { probe_cc: cc(0), since: new Date(sinceMs), until: new Date(untilMs), time_grain: 'day', by: 'cc' }))
      ctx.log('timelines: exporting Parquet for DuckDB')
      const pq = await exportParquet(url, dir)
      const inst = await DuckDBInstance.create(':memory:')
      const duck = await inst.connect()
      const duckTl = await repeat(QUERIES, async i => await duck.runAndReadAll(duckTimeline(pq.file, cc(i), sinceIso, untilIso)))
      const duckDomainTl = await repeat(QUERIES, async i => await duck.runAndReadAll(duckTimeline(pq.file, cc(i), sinceIso, untilIso, domainIn(pop)(i))))
      const duckAgg = await repeat(QUERIES, async i => await duck.runAndReadAll(duckAggregation(pq.file, cc(i), sinceIso, untilIso)))
      duck.closeSync()
      inst.closeSync()
      rmSync(pq.file)
      const L = {
        ...T,
        duckdb_timeline: lat(duckTl),
        duckdb_domain_timeline: lat(duckDomainTl),
        api_aggregation: lat(apiAggregation),
        sql_aggregation: lat(sqlAggregation),
        sql_raw_aggregation: lat(sqlRawAggregation),
        duckdb_aggregation: lat(duckAgg)
      }

      // The same timelines over a second population of 400 domains, same row count.
      let many: { rows: number; load_docs_per_s: number; database_bytes: number; tl_day_rows: number; latencies_ms: Record<TimelineKey, Latencies> } | null = null
      if (d400Rows > 0) {
        ctx.log(`timelines: loading ${fmt(d400Rows)} documents over ${MANY_DOMAINS} domains`)
        const url2 = await recreateDatabase(ctx.serverUrl, DB_D400)
        const server2Rss: { peak: number } = { peak: 0 }
        try {
          const loaded2 = await load(ctx, url2, popMany, d400Rows)
          const bytes2 = await databaseSize(url2)
          const s2 = new JsonChild(tsNode('./aggregator-server.ts', [url2, '--no-jobs']), { label: 'aggregator-400' })
          const db2 = await openDatabase({ databaseUrl: url2, poolSize: 2 })
          const direct2 = new pg.Client({ connectionString: url2 })
          await direct2.connect()
          try {
            const ready2 = await s2.next<{ url: string }>()
            const rss2 = new RssSampler(s2.pid, 250)
            const top2 = (await direct2.query<{ probe_cc: string }>(`SELECT probe_cc FROM measurements GROUP BY 1 ORDER BY count(*) DESC LIMIT 5`)).rows
            const cc2 = (i: number): string => top2[((i % top2.length) + top2.length) % top2.length]!.probe_cc
            ctx.log('timelines: timing queries over 400 domains')
            const T2 = await timeTimelines(ready2.url, db2, direct2, cc2, domainIn(popMany), sinceMs, untilMs)
            server2Rss.peak = rss2.stop().peak
            const d2 = Number((await direct2.query<{ n: string }>('SELECT count(*)::text AS n FROM tl_day')).rows[0]!.n)
            many = { rows: d400Rows, load_docs_per_s: loaded2.rate, database_bytes: bytes2, tl_day_rows: d2, latencies_ms: T2 }
          } finally {
            await direct2.end().catch(() => {})
            await db2.close()
            await s2.stop()
          }
        } finally {
          if (!ctx.keepDb) await dropDatabase(ctx.serverUrl, DB_D400)
        }
        phases.push({ phase: `queries, ${MANY_DOMAINS} domains (its own aggregator process)`, peak_rss: server2Rss.peak })
      }

      const source = [...sources].join(', ')
      const tlMet = L.api_timeline.p95 < 50 && L.api_timeline.p95 < L.sql_raw_timeline.p95 && L.api_timeline.p95 < L.duckdb_timeline.p95
      const domMet = L.api_domain_timeline.p95 < 10
      const aggMet = L.api_aggregation.p95 < 100 && L.api_aggregation.p95 < L.sql_raw_aggregation.p95 && L.api_aggregation.p95 < L.duckdb_aggregation.p95
      const perRow = dbBytes / rows
      const bytesMet = perRow <= 1000
      const at = `at ${fmt(rows)} rows`
      const manyNote = many === null ? '' : `; ${MANY_DOMAINS} domains: p95 ${fmt(many.latencies_ms.api_timeline!.p95, 1)} ms`
      const manyDomNote = many === null ? '' : `; ${MANY_DOMAINS} domains: p95 ${fmt(many.latencies_ms.api_domain_timeline!.p95, 1)} ms`
      const misses = [...(tlMet ? [] : ['{{miss:timeline}}']), ...(domMet ? [] : ['{{miss:domain}}']), ...(aggMet ? [] : ['{{miss:aggregation}}']), ...(bytesMet ? [] : ['{{miss:bytes}}'])]
      const data = {
        measurements: rows,
        tl_hour_rows: Number(counts.h),
        tl_day_rows: Number(counts.d),
        load_seconds: loaded.seconds,
        load_docs_per_s: loaded.rate,
        dirty_rows_after_load: loaded.dirty,
        database_bytes: dbBytes,
        bytes_per_measurement: perRow,
        sizes,
        parquet_bytes: pq.bytes,
        parquet_export_seconds: pq.seconds,
        countries: top,
        latencies_ms: L,
        aggregation_source: source,
        rollup_equals_raw: { aggregation: same, timeline: tlSame },
        many_domains: many,
        targets: [
          {
            what: 'country timeline, a year by day (API, 60 domains)',
            target: 'p95 < 50 ms, faster than raw SQL and DuckDB; report 400 domains',
            measured: `p95 ${fmt(L.api_timeline.p95, 1)} ms (raw SQL ${fmt(L.sql_raw_timeline.p95, 1)}, DuckDB ${fmt(L.duckdb_timeline.p95, 1)}) ${at}${manyNote}`,
            met: tlMet
          },
          {
            what: "one domain's timeline, a year by day (API)",
            target: 'p95 < 10 ms',
            measured: `p95 ${fmt(L.api_domain_timeline.p95, 1)} ms (its query alone ${fmt(L.sql_rollup_domain_timeline.p95, 1)}) ${at}${manyDomNote}`,
            met: domMet
          },
          {
            what: "aggregation, a country's year, axis_x day × axis_y domain (API)",
            target: 'p95 < 100 ms, faster than raw SQL and DuckDB',
            measured: `p95 ${fmt(L.api_aggregation.p95, 1)} ms from ${source} (raw SQL ${fmt(L.sql_raw_aggregation.p95, 1)}, DuckDB ${fmt(L.duckdb_aggregation.p95, 1)}) ${at}`,
            met: aggMet
          },
          {
            what: 'database bytes per small measurement, indexes and rollups included',
            target: '≤ 1,000',
            measured: `${fmt(perRow)} (${mb(dbBytes)} MB for ${fmt(rows)}; breakdown in section 3)`,
            met: bytesMet
          }
        ]
      }
      const rowsOf = (c: string): string => fmt(top.find(t => t.probe_cc === c)?.n ?? 0)
      const manyRow = (k: TimelineKey): string => (many === null ? '' : ` ${fmtLat(many.latencies_ms[k]!)} |`)
      const manyHead = many === null ? '' : ` ${MANY_DOMAINS} domains: p50 / p95 (ms) |`
      const manySep = many === null ? '' : '---:|'
      const dash = many === null ? '' : ' – |'
      results.push({
        name: 'timelines',
        at: new Date().toISOString(),
        scale: ctx.scale,
        seconds: (nowMs() - t0) / 1000,
        data,
        markdown: [
          `${fmt(rows)} measurements (small web_connectivity documents: ${pop.ccs.length} countries, ${fmt(pop.probes.length)} probes, ${pop.domains.length} domains, one year) loaded through the bulk import path (\`ingestBatch\`, as \`aggregator import\` and \`import-ooni\` run it: COPY into staging, one INSERT … SELECT, the rollup trigger) at **${fmt(loaded.rate)} documents/s** (${fmt(loaded.seconds / 60, 1)} min), two batches of ${fmt(LOAD_CHUNK)} in flight, the event job off (the ${fmt(loaded.dirty)} rows it left in tl_dirty were then emptied, as the job would have). Rollups: ${fmt(Number(counts.h))} tl_hour rows and ${fmt(Number(counts.d))} tl_day rows (country, network and subdivision levels). ${FULL_ROWS_REASON}`,
          '',
          `**Database: ${mb(dbBytes)} MB, ${fmt(perRow)} bytes a measurement**, indexes and rollups included:`,
          '',
          '| table | MB | bytes a measurement | rows |',
          '|---|---:|---:|---:|',
          ...sizes.map(r => `| ${r.what} | ${mb(r.bytes)} | ${fmt(r.bytes / rows)} | ${r.rows === null ? '' : fmt(r.rows)} |`),
          '',
          `Queries go round the five largest countries (${top.map(t => `${t.probe_cc} ${rowsOf(t.probe_cc)}`).join(', ')} measurements; one domain's timeline takes one of the 60 domains in each), ${QUERIES} each after a warm-up, over ${sinceIso.slice(0, 10)} … ${untilIso.slice(0, 10)}. API figures are HTTP round trips to the aggregator process; "query alone" calls the function the route calls (queryTimeline, aggregate) through a Database of its own; raw SQL is a GROUP BY over \`measurements\` through \`pg\`; DuckDB reads a Parquet file of the same rows (${mb(pq.bytes)} MB, zstd, exported in ${fmt(pq.seconds)} s).${many === null ? ' The 400-domain population was not loaded (BENCH_D400_ROWS=0).' : ` The ${MANY_DOMAINS}-domain column is a second database of ${fmt(many.rows)} measurements drawn the same way over ${MANY_DOMAINS} domains (loaded at ${fmt(many.load_docs_per_s)} documents/s; ${mb(many.database_bytes)} MB; ${fmt(many.tl_day_rows)} tl_day rows), with its own aggregator process.`}`,
          '',
          `| query | 60 domains: p50 / p95 (ms) |${manyHead}`,
          `|---|---:|${manySep}`,
          `| country timeline, a year by day: GET /api/v1/timelines | **${fmtLat(L.api_timeline)}** |${manyRow('api_timeline')}`,
          `| … its query alone (queryTimeline: tl_day) | ${fmtLat(L.sql_rollup_timeline)} |${manyRow('sql_rollup_timeline')}`,
          `| (a) the same timeline from raw \`measurements\`, SQL | ${fmtLat(L.sql_raw_timeline)} |${manyRow('sql_raw_timeline')}`,
          `| (b) the same timeline in DuckDB over Parquet | ${fmtLat(L.duckdb_timeline)} |${dash}`,
          `| one domain's timeline, a year by day: GET /api/v1/timelines | **${fmtLat(L.api_domain_timeline)}** |${manyRow('api_domain_timeline')}`,
          `| … its query alone (queryTimeline: tl_day) | ${fmtLat(L.sql_rollup_domain_timeline)} |${manyRow('sql_rollup_domain_timeline')}`,
          `| (a) the same from raw \`measurements\`, SQL | ${fmtLat(L.sql_raw_domain_timeline)} |${manyRow('sql_raw_domain_timeline')}`,
          `| (b) the same in DuckDB over Parquet | ${fmtLat(L.duckdb_domain_timeline)} |${dash}`,
          `| OONI-style aggregation (a country's year, axis_x day, axis_y domain): GET /api/v1/aggregation | **${fmtLat(L.api_aggregation)}** |${dash}`,
          `| … its query alone (aggregate(): answered from ${source}) | ${fmtLat(L.sql_aggregation)} |${dash}`,
          `| (a) the same aggregation from raw \`measurements\` (aggregate() forced onto measurements) | ${fmtLat(L.sql_raw_aggregation)} |${dash}`,
          `| (b) the same aggregation in DuckDB over Parquet | ${fmtLat(L.duckdb_aggregation)} |${dash}`,
          '',
          `The aggregation was answered from **${source}**; its rows ${same ? 'equal' : '**differ from**'} those of the same question asked of measurements, and the country timeline's ${tlSame ? 'equal' : '**differ from**'} queryTimelineRaw's (one country, checked once in this run).`,
          '',
          `Targets — country timeline p95 < 50 ms and faster than both: **${tlMet ? 'met' : 'missed'}**; one domain's timeline p95 < 10 ms: **${domMet ? 'met' : 'missed'}**; aggregation p95 < 100 ms and faster than both: **${aggMet ? 'met' : 'missed'}**; ≤ 1,000 bytes a measurement: **${bytesMet ? 'met' : 'missed'}**.`,
          ...misses.flatMap(m => ['', m])
        ].join('\n')
      })
    }

    if (o.events) {
      ctx.log('events: recomputing every event from scratch')
      const recomputes: Array<{ recompute_ms: number; series: number; events: number }> = []
      // Repeated while the repetitions stay under a minute in all (one at full scale).
      const reps = ctx.runs
      for (let i = 0; i < reps && (i === 0 || recomputes.reduce((a, r) => a + r.recompute_ms, 0) < 60_000); i++) {
        server.send({ cmd: 'recompute' })
        const r = await server.next<{ recompute_ms: number; series: number; events: number; error?: string }>()
        if (r.error !== undefined) throw new Error(`recompute failed: ${r.error}`)
        recomputes.push(r)
        ctx.log(`events: recompute ${i + 1}/${reps}: ${fmt(r.recompute_ms / 1000, 1)} s for ${fmt(r.series)} series, ${fmt(r.events)} events`)
      }
      phaseMark('recompute')
      await server.stop()
      rss.stop()
      const beforeFresh = rss.samples.slice()
      // Freshness: a new aggregator process with its event job as shipped.
      server = new JsonChild(tsNode('./aggregator-server.ts', [url]), { label: 'aggregator' })
      const live = await server.next<{ url: string }>()
      const rss2 = new RssSampler(server.pid, 250)
      const fresh = await freshness(ctx, live.url, popMany)
      const rssFresh = rss2.stop()
      phases.push({ phase: `freshness (ingest at ${fmt(fresh.background_docs_per_s)} documents/s and polling)`, peak_rss: Math.max(0, ...rssFresh.samples.map(s => s.rss)) })
      const recomputeMs = median(recomputes.map(r => r.recompute_ms))
      const ev = fresh.samples.map(s => s.event_s)
      const bk = fresh.samples.map(s => s.bucket_s)
      const lateEv = fresh.late.map(s => s.event_s)
      const evP95 = percentile(ev, 95)
      const bkP95 = percentile(bk, 95)
      const lateP95 = percentile(lateEv, 95)
      const freshMet = evP95 <= 5 && bkP95 <= 1 && lateP95 <= 5 && ev.every(Number.isFinite)
      const allRss = [...beforeFresh, ...rssFresh.samples.map(s => ({ t: s.t + (beforeFresh.at(-1)?.t ?? 0), rss: s.rss }))]
      const queryPeak = Math.max(0, ...phases.filter(p => p.phase.startsWith('queries') || p.phase.startsWith('freshness')).map(p => p.peak_rss))
      const peak = Math.max(...phases.map(p => p.peak_rss))
      const rssMet = queryPeak <= 300e6
      const rowsN = Number(counts.m)
      results.push({
        name: 'events',
        at: new Date().toISOString(),
        scale: ctx.scale,
        seconds: (nowMs() - t0) / 1000,
        data: {
          measurements: rowsN,
          recomputes,
          recompute_ms_median: recomputeMs,
          freshness: fresh,
          bucket_s_p50: percentile(bk, 50),
          bucket_s_p95: bkP95,
          event_s_p50: percentile(ev, 50),
          event_s_p95: evP95,
          late_event_s_p95: lateP95,
          aggregator_rss_phases: phases,
          aggregator_rss_samples: thin(allRss, 40),
          targets: [
            {
              what: `freshness: new confirmed anomaly to its event, p95 over ${ev.length} injections, under ${fmt(fresh.background_docs_per_s)} docs/s of ingest over ${MANY_DOMAINS} domains`,
              target: '≤ 5 s p95; its bucket ≤ 1 s',
              measured: `event p95 ${fmt(evP95, 2)} s (p50 ${fmt(percentile(ev, 50), 2)}); bucket p95 ${fmt(bkP95, 2)} s; late uploads: event p95 ${fmt(lateP95, 2)} s, at ${fmt(rowsN)} rows`,
              met: freshMet
            },
            {
              what: 'aggregator peak RSS during ingest and queries',
              target: '≤ 300 MB',
              measured: `${mb(queryPeak)} MB (queries and freshness's ingest; the from-scratch recompute ${mb(phases.find(p => p.phase === 'recompute')?.peak_rss ?? 0)} MB; ingest benchmark in section 2)`,
              met: rssMet
            }
          ]
        },
        markdown: [
          `On the ${fmt(rowsN)} measurements of benchmark 3.`,
          '',
          `**Recompute every event from scratch** (markAllDirty queues every series from its first day, then the event job's own drain, drainDirty, inside the aggregator process): ${recomputes.map(r => `${fmt(r.recompute_ms / 1000, 1)} s`).join(', ')} (median **${fmt(recomputeMs / 1000, 1)} s**) for ${fmt(recomputes[0]?.series ?? 0)} series (country × domain × test, plus one outage series per country), giving ${fmt(recomputes[0]?.events ?? 0)} events.`,
          '',
          `**Freshness under continuous ingest.** While ${fmt(fresh.background_docs_per_s)} documents/s (paced at ${fmt(BG_DOCS_PER_S)}) stream in through POST /api/v1/measurements in batches of ${fresh.background_batch} from ${fresh.background_probes} probes over ${MANY_DOMAINS} domains (every batch queues about ${fmt(MANY_DOMAINS * (1 - (1 - 1 / MANY_DOMAINS) ** fresh.background_batch))} series), a probe posts three confirmed blockpage measurements of a new domain, made minutes apart (the detector opens a phase at three anomalies, and one confirmed blockpage makes it an event), and the API is polled every ${POLL_MS} ms until its bucket (GET /api/v1/timelines) and its event (GET /api/v1/events) appear; ${fresh.samples.length} times for measurements made now, ${fresh.late.length} times for measurements made 3 days earlier and uploaded late. The event job runs as shipped (timelineJobs: every 250 ms, anomalous series first, looping while work is queued).`,
          '',
          '| injections | bucket p50 / p95 (s) | event p50 / p95 (s) | event max (s) |',
          '|---|---:|---:|---:|',
          `| ${fresh.samples.length} new | ${fmt(percentile(bk, 50), 2)} / **${fmt(bkP95, 2)}** | ${fmt(percentile(ev, 50), 2)} / **${fmt(evP95, 2)}** | ${fmt(Math.max(...ev), 2)} |`,
          `| ${fresh.late.length} late (3 days) | ${fmt(
            percentile(
              fresh.late.map(s => s.bucket_s),
              50
            ),
            2
          )} / ${fmt(
            percentile(
              fresh.late.map(s => s.bucket_s),
              95
            ),
            2
          )} | ${fmt(percentile(lateEv, 50), 2)} / ${fmt(lateP95, 2)} | ${fmt(Math.max(...lateEv), 2)} |`,
          '',
          `Event times one by one (s): ${ev.map(x => fmt(x, 2)).join(', ')}; late: ${lateEv.map(x => fmt(x, 2)).join(', ')}.`,
          '',
          `Target ≤ 5 s p95, bucket ≤ 1 s: **${freshMet ? 'met' : 'missed'}**.${freshMet ? '' : ' {{miss:freshness}}'}`,
          '',
          '### 5. Aggregator memory during 3 and 4',
          '',
          '| phase | peak RSS (MB) |',
          '|---|---:|',
          ...phases.map(p => `| ${p.phase} | ${mb(p.peak_rss)} |`),
          '',
          `RSS over time (s → MB): ${thin(allRss, 16)
            .map(s => `${fmt(s.t)}→${mb(s.rss)}`)
            .join(', ')}.`,
          '',
          `Target ≤ 300 MB during ingest and queries: **${rssMet ? 'met' : 'missed'}** (${mb(queryPeak)} MB; overall peak ${mb(peak)} MB).${rssMet ? '' : ' {{miss:rss}}'}`
        ].join('\n')
      })
    } else {
      rss.stop()
    }
    return results
  } catch (err) {
    ctx.log(`timelines/events: ${(err as Error).stack ?? String(err)}`)
    throw err
  } finally {
    await direct?.end().catch(() => {})
    await db?.close()
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
    if (!ctx.keepDb) await dropDatabase(ctx.serverUrl, DB)
    void serverFacts
  }
}

/** Measurements at BENCH_SCALE=1 (override: BENCH_TIMELINE_ROWS). */
export const FULL_ROWS = 1_000_000
export const FULL_ROWS_REASON = 'The issue asks for 10 million; the full run loads 1 million (BENCH_TIMELINE_ROWS=10000000 loads 10 million, run separately).'

const POLL_MS = 100
/** Background ingest during freshness (issue 13: 800 documents/s). */
const BG_DOCS_PER_S = 800
const BG_BATCH = 200
/** Injections of a new anomaly (issue 13: p95 over ≥ 20), and late ones. */
const INJECTIONS = 20
const LATE_INJECTIONS = 4

interface Fresh {
  bucket_s: number
  event_s: number
}

/** Posts new anomalies under paced background ingest and times their appearance in the API. */
async function freshness(
  ctx: BenchContext,
  base: string,
  pop: Population
): Promise<{ samples: Fresh[]; late: Fresh[]; background_docs_per_s: number; background_batch: number; background_probes: number }> {
  const rnd = prng(99)
  const register = async (id: string): Promise<string> => {
    const res = await fetch(`${base}/api/v1/probes/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ probe_id: id, software_name: 'ooniprobe-cli', software_version: '3.22.0' })
    })
    if (res.status !== 200 && res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`)
    return ((await res.json()) as { token: string }).token
  }
  const upload = async (token: string, docs: unknown[]): Promise<void> => {
    const res = await fetch(`${base}/api/v1/measurements`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(docs) })
    const text = await res.text()
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${text.slice(0, 300)}`)
  }
  // Background: probes of the population uploading batches of small documents
  // made in the last hours over all the domains, one batch every
  // BG_BATCH / BG_DOCS_PER_S seconds (two in flight at most when behind).
  const bgProbes = pop.probes.filter((_, i) => i % 50 === 0).slice(0, 40)
  const bgTokens = await Promise.all(bgProbes.map(async p => await register(`fresh-bg-${p.id}`)))
  let stop = false
  let bgDocs = 0
  let k = 0
  const periodMs = (BG_BATCH / BG_DOCS_PER_S) * 1000
  const tb = nowMs()
  const worker = async (): Promise<void> => {
    while (!stop) {
      const mine = k++
      const due = tb + mine * periodMs
      if (due > nowMs()) await sleep(due - nowMs())
      if (stop) break
      const i = mine % bgProbes.length
      const p: Probe = { ...bgProbes[i]!, id: `fresh-bg-${bgProbes[i]!.id}` }
      const docs = Array.from({ length: BG_BATCH }, () => {
        const domain = pop.domains[Math.floor(rnd() * pop.domains.length)]!
        const t = Date.now() - Math.floor(rnd() * 6 * 3600_000)
        return smallDoc(p, domain, t, rnd() < 0.05 ? 'anomaly' : 'ok', rnd)
      })
      await upload(bgTokens[i]!, docs)
      bgDocs += BG_BATCH
    }
  }
  const background = Promise.all([worker(), worker()])
  await sleep(5000)
  const probe: Probe = { id: 'fresh-ir', cc: 'IR', asn: 'AS197207', region: 'IR-23' }
  const token = await register(probe.id)
  const one = async (label: string, tMs: number): Promise<Fresh> => {
    const domain = `${label}.fresh.example`
    // A probe's upload showing a new block: three confirmed blockpage
    // measurements a few minutes apart (the detector opens a phase at three
    // anomalies, DETECT.PHASE_ON; one confirmed blockpage then makes it an event).
    const docs = [0, 1, 2].map(j => smallDoc(probe, domain, tMs - j * 300_000, 'confirmed', rnd))
    const since = new Date(tMs - 3600_000).toISOString()
    const until = new Date(tMs + 3600_000).toISOString()
    const t = nowMs()
    await upload(token, docs)
    let bucket = NaN
    let event = NaN
    const deadline = t + 60_000
    while ((Number.isNaN(bucket) || Number.isNaN(event)) && nowMs() < deadline) {
      if (Number.isNaN(bucket)) {
        const tl = (await getJson(`${base}/api/v1/timelines?probe_cc=IR&domain=${domain}&time_grain=hour&since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`)) as {
          results: unknown[]
        }
        if (tl.results.length > 0) bucket = (nowMs() - t) / 1000
      }
      if (Number.isNaN(event)) {
        const ev = (await getJson(`${base}/api/v1/events?probe_cc=IR&domain=${domain}`)) as { results: unknown[] }
        if (ev.results.length > 0) event = (nowMs() - t) / 1000
      }
      if (Number.isNaN(bucket) || Number.isNaN(event)) await sleep(POLL_MS)
    }
    ctx.log(`events: freshness ${label}: bucket ${fmt(bucket, 2)} s, event ${fmt(event, 2)} s`)
    // Not seen within a minute counts as a minute (a miss, never dropped from the p95).
    return { bucket_s: Number.isNaN(bucket) ? 60 : bucket, event_s: Number.isNaN(event) ? 60 : event }
  }
  const samples: Fresh[] = []
  const late: Fresh[] = []
  try {
    for (let i = 0; i < INJECTIONS; i++) {
      samples.push(await one(`new${i}`, Date.now() - 1000))
      await sleep(500 + Math.floor(rnd() * 1000))
    }
    for (let i = 0; i < LATE_INJECTIONS; i++) {
      late.push(await one(`late${i}`, Date.now() - 3 * DAY))
      await sleep(500 + Math.floor(rnd() * 1000))
    }
  } finally {
    stop = true
    await background
  }
  return { samples, late, background_docs_per_s: Math.round(bgDocs / ((nowMs() - tb) / 1000)), background_batch: BG_BATCH, background_probes: bgProbes.length }
}
