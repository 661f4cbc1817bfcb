/**
 * The load test at OONI's rate (issue 18, item 5): `npm run bench -- load`.
 *
 * Everything on the machine's two cores: a private PostgreSQL primary and a
 * streaming replica of it (test/helpers/pg-cluster.ts: initdb, pg_basebackup
 * -R, a second postmaster), two aggregator instances (aggregator-server.ts,
 * the app `serve` builds, with the replica as DATABASE_READ_URL and the jobs
 * on, as shipped), and this process as every client:
 *
 *  - uploads: 60 measurements a second (OONI's busy hour), one document a
 *    request as OONI's probes submit them, from 200 registered probes, sent
 *    on a fixed schedule whatever the answers take (open loop), alternating
 *    between the two instances as a balancer would;
 *  - 20 researcher clients, each a loop of measurement lists, aggregations,
 *    timelines and event lists with a think time between requests (0.5 to
 *    1.5 s), and one export each at a random moment;
 *  - event freshness: a probe uploads three confirmed blockpage
 *    measurements of a new domain (an event starts), the API is polled
 *    until the event is listed; then it uploads the ok measurements that end
 *    it, and the API is polled until the event has an end. The time from
 *    the upload's answer to the API showing it is the freshness, read
 *    through the replica like any researcher's.
 *
 * Before the clock starts the primary is loaded with a month of measurements
 * through the bulk import path, the event job's backlog drained, and the
 * replica caught up.
 *
 * Figures: per-route p50/p95/p99 latency and errors (any answer but 2xx,
 * or no answer within 60 s), event freshness, replica lag sampled from
 * /metrics, and the machine's load average sampled every 5 s.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { cpus, loadavg } from 'node:os'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { openDatabase } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { startPgCluster, startPgReplica, pgClusterUnavailable, type PgCluster } from '../../test/helpers/pg-cluster.ts'
import type { BenchContext, BenchResult } from './context.ts'
import { docStream, drawProbe, outcomeOf, population, realisticDoc, smallDoc, type Probe } from './generate.ts'
import { JsonChild, REPO, fmt, nowMs, percentile, prng, sleep, tsNode } from './util.ts'

/** Options of {@link runLoad}; cli.ts reads them from the environment. */
export interface LoadOptions {
  /** How long the clients run, seconds (BENCH_LOAD_SECONDS, default 600). */
  durationS: number
  /** Measurements loaded before the clock starts (default 200,000 × BENCH_SCALE). */
  preloadRows: number
}

const UPLOADS_PER_S = 60
const UPLOAD_PROBES = 200
const RESEARCHERS = 20
const THINK_MS = [500, 1500] as const
const REQUEST_TIMEOUT_MS = 60_000
const POLL_MS = 200
/** Uploads the client keeps open at once; past this it skips (and counts) scheduled ones instead of piling up sockets. */
const MAX_UPLOADS_IN_FLIGHT = 500
const DAY = 86400_000

/** CPU seconds (user + system) a process has used, with its reaped children's; 0 when it is gone. Linux /proc, 100 ticks a second. */
function cpuSeconds(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14–17 of stat (utime, stime, cutime, cstime), counted from after the command name.
    const [ut, st, cut, cst] = [f[11], f[12], f[13], f[14]].map(Number)
    return (ut! + st! + (withChildren ? cut! + cst! : 0)) / 100
  } catch {
    return 0
  }
}

/** CPU seconds of a PostgreSQL cluster: the postmaster, its reaped children and the live ones. */
function clusterCpuSeconds(dataDir: string): number {
  let postmaster: number
  try {
    postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  } catch {
    return 0
  }
  let total = cpuSeconds(postmaster, true)
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === postmaster) total += cpuSeconds(Number(d))
    } catch {}
  }
  return total
}

/** One route's samples. */
interface RouteStats {
  ms: number[]
  errors: number
  statuses: Record<string, number>
}

/** Runs the load test; its section of docs/benchmarks.md is the result's markdown. */
export async function runLoad(ctx: BenchContext, o: LoadOptions): Promise<BenchResult> {
  const unavailable = pgClusterUnavailable()
  if (unavailable !== null) throw new Error(`the load test needs a private PostgreSQL cluster: ${unavailable}`)
  const t0 = nowMs()
  const at = new Date().toISOString()
  // Durable like a production primary (fsync on), unlike the fault tests' clusters.
  const settings = { fsync: 'on', full_page_writes: 'on', shared_buffers: '256MB', max_connections: 200 }
  const primary = await startPgCluster({ settings })
  let replica: PgCluster | undefined
  const children: JsonChild[] = []
  try {
    ctx.log('load: primary started; loading')
    const url = await primary.createDatabase('bw_load')
    const untilMs = Date.now()
    const pop = population({ sinceMs: untilMs - 30 * DAY, untilMs, probes: 2000, countries: 40, domains: 60, seed: 18 })
    const fingerprints = await loadFingerprintsDir(`${REPO}../shared/data/blocking-fingerprints`, 'ooni-blocking-fingerprints')
    const db = await openDatabase({ databaseUrl: url, poolSize: 4 })
    let preload = { seconds: 0, rows: 0 }
    try {
      await migrate(db)
      const tl = nowMs()
      const stream = docStream(pop, 'small', 5)
      for (let done = 0; done < o.preloadRows; ) {
        const n = Math.min(5000, o.preloadRows - done)
        await ingestBatch(
          db,
          stream.take(n).map(doc => ({ doc })),
          { fingerprints, nowMs: Date.now() },
          undefined,
          'import'
        )
        done += n
      }
      await drainDirty(db, { fingerprints: async () => fingerprints })
      preload = { seconds: (nowMs() - tl) / 1000, rows: o.preloadRows }
      ctx.log(`load: ${fmt(o.preloadRows)} measurements loaded and their events computed in ${fmt(preload.seconds)} s`)
    } finally {
      await db.close()
    }
    replica = await startPgReplica(primary, { settings })
    const readUrl = replica.url('bw_load')
    ctx.log('load: replica started')

    for (const label of ['agg-1', 'agg-2']) children.push(new JsonChild(tsNode('./aggregator-server.ts', [url, '--read-url', readUrl]), { label }))
    const bases: string[] = []
    for (const c of children) bases.push((await c.next<{ url: string }>()).url)
    ctx.log(`load: instances at ${bases.join(', ')}`)
    let rr = 0
    const base = (): string => bases[rr++ % bases.length]!

    const stats = new Map<string, RouteStats>()
    const record = (route: string, ms: number, status: number | string): void => {
      let s = stats.get(route)
      if (s === undefined) {
        s = { ms: [], errors: 0, statuses: {} }
        stats.set(route, s)
      }
      s.ms.push(ms)
      s.statuses[String(status)] = (s.statuses[String(status)] ?? 0) + 1
      if (typeof status !== 'number' || status < 200 || status > 299) s.errors++
    }
    /** One request, timed to the end of its body; never throws. */
    const call = async (route: string | null, url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> => {
      const t = nowMs()
      try {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
        const body = await res.text()
        if (route !== null) record(route, nowMs() - t, res.status)
        return { status: res.status, body }
      } catch (err) {
        if (route !== null) record(route, nowMs() - t, (err as Error).name === 'TimeoutError' ? 'timeout' : 'network')
        return { status: 0, body: String(err) }
      }
    }
    const register = async (id: string): Promise<string> => {
      const r = await call(null, `${base()}/api/v1/probes/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ probe_id: id, software_name: 'ooniprobe-cli', software_version: '3.22.0' })
      })
      if (r.status !== 201) throw new Error(`register ${id} answered ${r.status}: ${r.body.slice(0, 300)}`)
      return (JSON.parse(r.body) as { token: string }).token
    }
    const upload = async (route: string | null, token: string, docs: unknown[]): Promise<number> =>
      (await call(route, `${base()}/api/v1/measurements`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(docs) })).status

    const rnd = prng(7)
    const probes: Array<{ probe: Probe; token: string }> = []
    const seen = new Set<string>()
    while (probes.length < UPLOAD_PROBES) {
      const p = drawProbe(pop, rnd)
      if (seen.has(p.id)) continue
      seen.add(p.id)
      probes.push({ probe: p, token: await register(p.id) })
    }
    const eventProbe: Probe = { id: 'load-events-ir', cc: 'IR', asn: 'AS197207', region: 'IR-23' }
    const eventToken = await register(eventProbe.id)

    // CPU used by each part of the stack over the run (whatever else the machine runs).
    const cpuNow = (): Record<string, number> => ({
      aggregators: children.reduce((a, c) => a + cpuSeconds(c.pid, true), 0),
      primary: clusterCpuSeconds(primary.dir),
      replica: clusterCpuSeconds(replica!.dir),
      client: cpuSeconds(process.pid)
    })
    const cpu0 = cpuNow()
    const startMs = nowMs()
    const endMs = startMs + o.durationS * 1000
    const running = (): boolean => nowMs() < endMs
    const load: number[][] = []
    const lag: Array<{ seconds: number; bytes: number }> = []
    const sampler = setInterval(() => {
      load.push(loadavg().map(x => Math.round(x * 100) / 100))
      void (async () => {
        const m = await call(null, `${bases[0]!}/metrics`)
        const get = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(m.body)?.[1] ?? Number.NaN)
        lag.push({ seconds: get('blockwatch_replica_lag_seconds'), bytes: get('blockwatch_replica_lag_bytes') })
      })()
    }, 5000)
    load.push(loadavg().map(x => Math.round(x * 100) / 100))
    ctx.log(
      `load: clients start for ${o.durationS} s (load average ${loadavg()
        .map(x => x.toFixed(1))
        .join(' / ')})`
    )

    // Uploads: open loop, one document a request, on a fixed schedule.
    let sent = 0
    let inFlight = 0
    let skipped = 0
    const uploads: Array<Promise<unknown>> = []
    const uploader = (async () => {
      const urnd = prng(11)
      for (let k = 0; ; k++) {
        const due = startMs + (k * 1000) / UPLOADS_PER_S
        if (due >= endMs) break
        if (due > nowMs()) await sleep(due - nowMs())
        if (inFlight >= MAX_UPLOADS_IN_FLIGHT) {
          skipped++
          continue
        }
        const { probe, token } = probes[Math.floor(urnd() * probes.length)]!
        const domain = pop.domains[Math.floor(urnd() * pop.domains.length)]!
        const t = Date.now() - Math.floor(urnd() * 2 * 3600_000)
        const doc = realisticDoc(probe, domain, t, outcomeOf(pop, probe, domain, t, urnd), urnd)
        inFlight++
        sent++
        uploads.push(
          upload('POST /api/v1/measurements', token, [doc]).finally(() => {
            inFlight--
          })
        )
      }
      await Promise.all(uploads)
    })()

    // Researchers: closed loops with think time; one export each.
    const researcher = async (i: number): Promise<void> => {
      const r = prng(100 + i)
      const exportAt = startMs + (0.1 + 0.8 * r()) * o.durationS * 1000
      let exported = false
      const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + 'Z'
      while (running()) {
        const cc = drawProbe(pop, r).cc
        const domain = pop.domains[Math.floor(r() * pop.domains.length)]!
        const b = base()
        if (!exported && nowMs() >= exportAt) {
          exported = true
          await call('GET /api/v1/measurements/export', `${b}/api/v1/measurements/export?probe_cc=${cc}&since=${iso(Date.now() - 7 * DAY)}&format=jsonl.gz`)
        } else {
          const x = r()
          if (x < 0.3) {
            await call('GET /api/v1/measurements', `${b}/api/v1/measurements?probe_cc=${cc}${r() < 0.5 ? `&domain=${domain}` : ''}&limit=50`)
          } else if (x < 0.55) {
            await call(
              'GET /api/v1/aggregation',
              `${b}/api/v1/aggregation?probe_cc=${cc}&since=${iso(Date.now() - 30 * DAY)}&until=${iso(Date.now())}&axis_x=measurement_start_day${r() < 0.5 ? `&domain=${domain}` : ''}`
            )
          } else if (x < 0.8) {
            await call('GET /api/v1/timelines', `${b}/api/v1/timelines?probe_cc=${cc}&time_grain=${r() < 0.5 ? 'hour' : 'day'}${r() < 0.7 ? `&domain=${domain}` : ''}`)
          } else {
            await call('GET /api/v1/events', `${b}/api/v1/events?probe_cc=${cc}`)
          }
        }
        await sleep(THINK_MS[0] + r() * (THINK_MS[1] - THINK_MS[0]))
      }
    }
    const researchers = Promise.all(
      Array.from({ length: RESEARCHERS }, async (_, i) => {
        await researcher(i)
      })
    )

    // Event freshness: start an event, wait for it; end it, wait for that.
    const fresh: { start: number[]; end: number[]; missed: number } = { start: [], end: [], missed: 0 }
    const freshness = (async () => {
      const frnd = prng(23)
      for (let n = 0; running(); n++) {
        const domain = `ev${n}.load.example`
        const t0 = Date.now() - 9 * 3600_000
        const waitFor = async (done: (e: { end_time?: string | null; ongoing?: boolean }) => boolean): Promise<number> => {
          const t = nowMs()
          while (nowMs() - t < 60_000) {
            const r = await call(null, `${base()}/api/v1/events?probe_cc=IR&domain=${domain}`)
            if (r.status === 200) {
              const list = (JSON.parse(r.body) as { results: Array<{ end_time?: string | null; ongoing?: boolean }> }).results
              if (list.length > 0 && done(list[0]!)) return (nowMs() - t) / 1000
            }
            await sleep(POLL_MS)
          }
          fresh.missed++
          return 60
        }
        // Three confirmed blockpages minutes apart: the detector opens a phase at three anomalies, one confirmed blockpage makes it an event.
        const starts = [0, 1, 2].map(j => smallDoc(eventProbe, domain, t0 + j * 300_000, 'confirmed', frnd))
        if ((await upload('POST /api/v1/measurements (event probe)', eventToken, starts)) !== 200) continue
        fresh.start.push(await waitFor(() => true))
        // Eight hourly ok measurements: the score falls back to 0 and the
        // network shows over six hours of data after the last anomaly (its
        // hour counts from the hour's start), which ends it.
        // Realistic documents: ingest judges the evidence, and a small 'ok'
        // document carries none (it would count as a failure, not as ok).
        const ends = [1, 2, 3, 4, 5, 6, 7, 8].map(h => realisticDoc(eventProbe, domain, t0 + h * 3600_000, 'ok', frnd))
        if ((await upload('POST /api/v1/measurements (event probe)', eventToken, ends)) !== 200) continue
        fresh.end.push(await waitFor(e => (e.end_time ?? null) !== null || e.ongoing === false))
        ctx.log(`load: event ${n}: visible after ${fmt(fresh.start.at(-1)!, 2)} s, its end after ${fmt(fresh.end.at(-1)!, 2)} s`)
        await sleep(1000)
      }
    })()

    await Promise.all([uploader, researchers, freshness])
    clearInterval(sampler)
    const wallS = (nowMs() - startMs) / 1000
    const cpu1 = cpuNow()
    const cpuUsed = Object.fromEntries(Object.keys(cpu0).map(k => [k, cpu1[k]! - cpu0[k]!]))
    const answered = stats.get('POST /api/v1/measurements')?.ms.length ?? 0
    const stored = stats.get('POST /api/v1/measurements')?.statuses['200'] ?? 0
    load.push(loadavg().map(x => Math.round(x * 100) / 100))
    ctx.log(`load: clients done after ${fmt(wallS)} s`)

    const routes = [...stats.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([route, s]) => ({
        route,
        requests: s.ms.length,
        errors: s.errors,
        statuses: s.statuses,
        p50_ms: percentile(s.ms, 50),
        p95_ms: percentile(s.ms, 95),
        p99_ms: percentile(s.ms, 99),
        max_ms: Math.max(...s.ms)
      }))
    // Sent within the run's duration: the schedule's rate, unless the client fell behind.
    const achieved = sent / o.durationS
    const load1 = load.map(l => l[0]!)
    const lagS = lag.map(l => l.seconds).filter(Number.isFinite)
    const lagB = lag.map(l => l.bytes).filter(Number.isFinite)
    const totalErrors = routes.reduce((a, r) => a + r.errors, 0)
    const data = {
      duration_s: o.durationS,
      wall_s: wallS,
      preload,
      uploads: { scheduled_per_s: UPLOADS_PER_S, achieved_per_s: achieved, sent, answered, stored, skipped_client_side: skipped, probes: UPLOAD_PROBES },
      cpu_seconds: cpuUsed,
      researchers: RESEARCHERS,
      think_ms: THINK_MS,
      routes,
      freshness: { start_s: fresh.start, end_s: fresh.end, missed: fresh.missed },
      replica_lag: lag,
      loadavg_samples: load,
      loadavg_1min: { min: Math.min(...load1), median: percentile(load1, 50), max: Math.max(...load1) },
      cpus: cpus().length,
      targets: [
        { what: 'load test: errors over every route', target: '0', measured: String(totalErrors), met: totalErrors === 0 },
        { what: "load test: uploads kept at OONI's busy hour", target: `${UPLOADS_PER_S}/s`, measured: `${fmt(achieved, 1)}/s`, met: achieved >= UPLOADS_PER_S * 0.98 }
      ]
    }
    const f2 = (x: number): string => fmt(x, 0)
    const pct = (xs: number[], p: number): string => (xs.length === 0 ? 'n/a' : fmt(percentile(xs, p), 2))
    const markdown = [
      `${fmt(o.durationS / 60, 1)} minutes, everything on the same ${cpus().length} cores: a PostgreSQL 15 primary and a streaming replica of it (private clusters, fsync on, shared_buffers 256MB), two aggregator instances (the app \`serve\` builds, jobs on, researcher and dashboard reads on the replica through DATABASE_READ_URL), and one client process. Load average (1 min) over the run: min ${fmt(Math.min(...load1), 1)}, median ${fmt(percentile(load1, 50), 1)}, max ${fmt(Math.max(...load1), 1)} — other people's work shared the machine.`,
      '',
      `Before the clock: ${fmt(preload.rows)} measurements over 30 days (40 countries, 60 domains) loaded through the bulk import path and their events computed (${fmt(preload.seconds)} s). Then, for the run: **uploads scheduled at ${UPLOADS_PER_S} measurements a second** (${fmt(sent)} sent, ${fmt(achieved, 1)}/s; ${fmt(skipped)} scheduled ones skipped while ${MAX_UPLOADS_IN_FLIGHT} were waiting for an answer), one realistic web_connectivity document (~3 KB) a request from ${UPLOAD_PROBES} probes, alternating between the instances, on a fixed schedule whatever the answers took; **${RESEARCHERS} researcher clients**, each looping over measurement lists (30%), aggregations over 30 days (25%), timelines (25%, hourly or daily, per country or per domain) and event lists (20%) with ${THINK_MS[0] / 1000}–${THINK_MS[1] / 1000} s of think time, plus one jsonl.gz export of a country's last 7 days each.`,
      '',
      '| route | requests | errors | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...routes.map(
        r =>
          `| ${r.route} | ${fmt(r.requests)} | ${r.errors}${
            r.errors > 0
              ? ` (${Object.entries(r.statuses)
                  .filter(([k]) => !/^2/.test(k))
                  .map(([k, v]) => `${k}: ${v}`)
                  .join(', ')})`
              : ''
          } | ${fmt(r.p50_ms, 1)} | ${fmt(r.p95_ms, 1)} | ${fmt(r.p99_ms, 1)} | ${f2(r.max_ms)} |`
      ),
      '',
      `**CPU** used over the run (user + system, from /proc, whatever else ran beside): aggregators ${fmt(cpuUsed.aggregators!)} s, primary ${fmt(cpuUsed.primary!)} s, replica ${fmt(cpuUsed.replica!)} s, this client ${fmt(cpuUsed.client!)} s, in ${fmt(wallS)} s of wall time on ${cpus().length} cores: the stack got ${fmt((cpuUsed.aggregators! + cpuUsed.primary! + cpuUsed.replica!) / wallS, 2)} cores on average. ${fmt(stored)} uploads were stored (${fmt(stored / o.durationS, 1)}/s).`,
      '',
      `**Errors: ${totalErrors}** (any answer but 2xx, or none within ${REQUEST_TIMEOUT_MS / 1000} s). The clients stopped after ${fmt(o.durationS)} s; the last answers came ${fmt(wallS - o.durationS)} s later.`,
      '',
      `**Event freshness**, read through the replica: a probe uploads three confirmed blockpage measurements of a new domain and the API is polled every ${POLL_MS} ms until GET /api/v1/events lists the event; then it uploads the eight hourly ok measurements that end it and the API is polled until the event has an end. ${fresh.start.length} events: start visible p50 ${pct(fresh.start, 50)} s, p95 ${pct(fresh.start, 95)} s, max ${pct(fresh.start, 100)} s; end visible p50 ${pct(fresh.end, 50)} s, p95 ${pct(fresh.end, 95)} s, max ${pct(fresh.end, 100)} s${fresh.missed > 0 ? `; ${fresh.missed} not seen within 60 s (counted as 60 s)` : ''}.`,
      '',
      `**Replica lag** (blockwatch_replica_lag_*, sampled every 5 s from /metrics): ${lagS.length} samples, seconds p50 ${pct(lagS, 50)}, p95 ${pct(lagS, 95)}, max ${pct(lagS, 100)}; bytes p50 ${pct(lagB, 50)}, max ${pct(lagB, 100)}.`,
      '',
      'Reproduce: `npm run bench -- load` (10 minutes after the load; `BENCH_LOAD_SECONDS=60 BENCH_SCALE=0.05 npm run bench -- load` for a smoke run).'
    ].join('\n')
    return { name: 'load', at, scale: ctx.scale, seconds: (nowMs() - t0) / 1000, data, markdown }
  } finally {
    for (const c of children) await c.stop().catch(() => 0)
    if (replica !== undefined) await replica.destroy()
    await primary.destroy()
  }
}
