/**
 * Benchmark 2: ingest throughput. Realistic documents from `blockwatch
 * simulate`'s generator (its demo scenario, with more probes per network)
 * are POSTed to /api/v1/measurements in
 * batches of 500 by several probes at once, into real PostgreSQL, through an
 * aggregator process of its own (aggregator-server.ts) with its event job
 * running. In the same run, the same documents are written by a raw COPY
 * into an unpartitioned table (uid, time, cc, asn, test_name, input, jsonb)
 * with no index: the ceiling of what PostgreSQL takes on this machine.
 * Runs alternate (ingest, COPY, ingest, COPY …) on emptied tables; the
 * ratio is taken per pair, then the median.
 *
 * Where the CPU goes (issue 13): during each API run, the CPU time of the
 * aggregator process and of the database's backends (from /proc); then, in
 * this process over the same documents, each step of prepare (JSON parse,
 * validate, scrub, judge with the fingerprints, COPY serialisation); and on
 * one connection, each statement of the write path (COPY into the staging
 * table, the insert (deduplicating on the partition key), the rollup trigger — the insert timed
 * with `blockwatch.rollups` off and on), with the backend's CPU time.
 */
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import type { BenchContext, BenchResult } from './context.ts'
import { scaled } from './context.ts'
import { loadScenario, scenarioStartMs } from '../../aggregator/src/simulate/scenario.ts'
import { generate } from '../../aggregator/src/simulate/generate.ts'
import { buildDoc } from '../../aggregator/src/simulate/docs.ts'
import { registerProbes } from '../../aggregator/src/simulate/post.ts'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { dropDatabase, recreateDatabase, serverFacts } from './pg.ts'
import { JsonChild, REPO, RssSampler, fmt, mb, median, nowMs, tsNode } from './util.ts'
import { parseBatch } from '../../aggregator/src/ingest/body.ts'
import { MAX_NESTING_DEPTH, nestingDepth, prepareMeasurement } from '../../aggregator/src/ingest/prepare.ts'
import { copyLine, type MeasurementRow } from '../../aggregator/src/store/measurements.ts'
import { SCRUBBED_PROBE_IP, validateMeasurement, type Measurement } from '../../shared/src/measurement.ts'
import { scoreMeasurement } from '../../shared/src/scoring.ts'
import { parseOoniTime } from '../../shared/src/time.ts'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'

const DB = 'blockwatch_bench_ingest'
/** Documents per request, as the issue asks. */
export const BATCH = 500
/** Requests in flight at once: several probes uploading together. */
export const UPLOADERS = 4

const RAW_TABLE = `CREATE TABLE IF NOT EXISTS bench_raw (
  uid text NOT NULL, time timestamptz NOT NULL, cc text NOT NULL, asn text NOT NULL,
  test_name text NOT NULL, input text, doc jsonb NOT NULL)`

/** Escapes a value for COPY's text format. */
function copyText(v: string | null): string {
  if (v === null) return '\\N'
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
}

async function resetTables(c: pg.Client): Promise<void> {
  await c.query('TRUNCATE measurements, tl_hour, tl_day, tl_probes, tl_dirty, tl_events, bench_raw')
  await c.query('VACUUM ANALYZE')
}

async function post(url: string, token: string, body: string): Promise<{ accepted: number; duplicates: number; rejected: unknown[] }> {
  const res = await fetch(`${url}/api/v1/measurements`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${text.slice(0, 300)}`)
  return JSON.parse(text) as { accepted: number; duplicates: number; rejected: unknown[] }
}

/** CPU time (user + system) a process has used, ms; null once it is gone. */
function procCpuMs(pid: number): number | null {
  try {
    // Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses; clock ticks of 10 ms.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return null
  }
}

/** The backends serving database `name` (not `except`). */
async function backendPids(c: pg.Client, name: string, except: number): Promise<number[]> {
  return (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [name, except])).rows.map(r => r.pid)
}

/** CPU-ms per document of each step of prepare, timed in this process over the same documents (the second of two passes). */
function nodeSteps(bodies: string[], fingerprints: FingerprintDb): Record<string, number> {
  const nowFixed = Date.now()
  let out: Record<string, number> = {}
  for (let pass = 0; pass < 2; pass++) {
    const cpu: Record<string, number> = {}
    const wall: Record<string, number> = {}
    let n = 0
    const step = <T>(name: string, fn: () => T): T => {
      const c0 = process.cpuUsage()
      const w0 = performance.now()
      const v = fn()
      const c = process.cpuUsage(c0)
      cpu[name] = (cpu[name] ?? 0) + (c.user + c.system) / 1000
      wall[name] = (wall[name] ?? 0) + performance.now() - w0
      return v
    }
    const rows: MeasurementRow[] = []
    for (const body of bodies) {
      const docs = step('JSON parse', () => parseBatch(body).map(it => ('doc' in it ? it.doc : null)))
      n += docs.length
      step('validate', () => {
        for (const d of docs) {
          nestingDepth(d, MAX_NESTING_DEPTH)
          validateMeasurement(d)
          parseOoniTime((d as Measurement).measurement_start_time)
        }
      })
      const scrubbed = step('scrub and serialise the stored document', () =>
        docs.map(d => {
          const x = { ...(d as Record<string, unknown>), probe_ip: SCRUBBED_PROBE_IP }
          JSON.stringify(x)
          return x
        })
      )
      step('judge (verdict and fingerprints)', () => {
        for (const d of scrubbed) scoreMeasurement(d as unknown as Measurement, fingerprints)
      })
      const prepared = step('prepare, whole (the steps above in one call)', () => docs.map(d => prepareMeasurement(d, { fingerprints, nowMs: nowFixed })))
      for (const p of prepared) if ('row' in p) rows.push(p.row)
      step('COPY serialisation', () => {
        for (const r of rows.splice(0)) copyLine(r)
      })
    }
    out = {}
    for (const k of Object.keys(cpu)) {
      out[`${k} cpu`] = cpu[k]! / n
      out[`${k} wall`] = wall[k]! / n
    }
  }
  return out
}

/** The stored columns in copyLine's order (aggregator/src/store/measurements.ts COLUMNS). */
const STORED = [
  'measurement_uid',
  'measurement_start_time',
  'report_id',
  'probe_cc',
  'probe_asn',
  'probe_region',
  'probe_id',
  'test_name',
  'input',
  'domain',
  'category_code',
  'blocking_type',
  'anomaly',
  'confirmed',
  'failure',
  'down',
  'unreachable',
  'verdict_reason',
  'fingerprints',
  'scoring_version',
  'fingerprints_version',
  'doc'
].join(', ')

/**
 * The write path of insertMeasurements, statement by statement on one
 * connection, for every batch: COPY into the staging table,
 * the insert into measurements (its indexes), COMMIT. Run with the rollup
 * trigger off, then on: the difference in the insert is the trigger's.
 * Wall and backend CPU ms per document.
 */
async function pgSteps(url: string, batches: MeasurementRow[][], reset: (c: pg.Client) => Promise<void>): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const out: Record<string, number> = {}
  try {
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    const total = batches.reduce((a, b) => a + b.length, 0)
    for (const rollups of ['off', 'on']) {
      await reset(c)
      await c.query("SELECT set_config('blockwatch.rollups', $1, false)", [rollups])
      const acc: Record<string, { wall: number; cpu: number }> = {}
      const timed = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
        const c0 = procCpuMs(pid)!
        const w0 = nowMs()
        await fn()
        const a = acc[name] ?? (acc[name] = { wall: 0, cpu: 0 })
        a.wall += nowMs() - w0
        a.cpu += procCpuMs(pid)! - c0
      }
      for (const rows of batches) {
        const sorted = [...rows].sort((a, b) => (a.measurement_uid < b.measurement_uid ? -1 : 1))
        const data = sorted.map(copyLine).join('')
        await c.query('BEGIN')
        await c.query('SELECT bw_ingest_open()')
        await timed('COPY into staging', async () => {
          await pipeline(Readable.from([Buffer.from(data)]), c.query(copyFrom(`COPY bw_ingest (${STORED}) FROM STDIN`)))
        })
        // Deduplication is the insert's own ON CONFLICT on the month partition's key (migration 0104).
        await timed(
          rollups === 'off' ? 'insert into measurements (heap, indexes)' : 'insert with the rollup trigger',
          async () =>
            await c.query(`INSERT INTO measurements (${STORED})
          SELECT ${STORED} FROM bw_ingest ORDER BY measurement_start_time, measurement_uid ON CONFLICT DO NOTHING`)
        )
        await timed('COMMIT', async () => await c.query('COMMIT'))
      }
      for (const [k, v] of Object.entries(acc)) {
        out[`${rollups}: ${k} wall`] = v.wall / total
        out[`${rollups}: ${k} cpu`] = v.cpu / total
      }
    }
    out['rollup trigger wall'] = out['on: insert with the rollup trigger wall']! - out['off: insert into measurements (heap, indexes) wall']!
    out['rollup trigger cpu'] = out['on: insert with the rollup trigger cpu']! - out['off: insert into measurements (heap, indexes) cpu']!
    return out
  } finally {
    await c.end()
  }
}

/** Runs the ingest benchmark. */
export async function runIngest(ctx: BenchContext): Promise<BenchResult> {
  const t0 = nowMs()
  const total = Math.ceil(scaled(ctx, 30_000, 1000) / BATCH) * BATCH
  const url = await recreateDatabase(ctx.serverUrl, DB)
  // The simulator's demo scenario, with enough probes per network for `total` documents.
  const scenario = loadScenario('demo')
  const perProbe = 30240 / 15
  const plan = generate(scenario, scenarioStartMs(scenario, Date.now()), { probesPerNetwork: Math.max(1, Math.ceil(total / perProbe / 6)) })
  if (plan.items.length < total) throw new Error(`the simulator planned ${plan.items.length} documents, fewer than ${total}`)
  ctx.log(`ingest: ${fmt(total)} documents from the simulator (${plan.probes.length} probes)`)
  const byProbe = new Map<number, typeof plan.items>()
  for (const it of plan.items.slice(0, total)) {
    const list = byProbe.get(it.probe) ?? []
    list.push(it)
    byProbe.set(it.probe, list)
  }
  const server = new JsonChild(tsNode('./aggregator-server.ts', [url]), { label: 'aggregator' })
  const admin = new pg.Client({ connectionString: url })
  try {
    const ready = await server.next<{ url: string }>()
    await admin.connect()
    await admin.query(RAW_TABLE)
    const creds = await registerProbes(ready.url, plan)
    // Batches of BATCH documents, each from one probe (a probe uploading its backlog).
    const batches: Array<{ token: string; docs: Array<Record<string, unknown>> }> = []
    for (const [probe, items] of byProbe) {
      for (let i = 0; i < items.length; i += BATCH) {
        batches.push({
          token: creds[probe]!.token,
          docs: items.slice(i, i + BATCH).map(it => buildDoc(scenario, plan.probes[probe]!, creds[probe]!.probe_id, it) as unknown as Record<string, unknown>)
        })
      }
    }
    const bodies = batches.map(b => JSON.stringify(b.docs))
    const bytes = bodies.reduce((a, s) => a + Buffer.byteLength(s), 0)
    // The COPY payload, built before the clock starts (as the HTTP bodies are).
    const copyRows = batches.flatMap(b =>
      b.docs.map(
        d =>
          [d.measurement_uid as string, d.measurement_start_time as string, d.probe_cc as string, d.probe_asn as string, d.test_name as string, (d.input ?? null) as string | null, JSON.stringify(d)]
            .map(copyText)
            .join('\t') + '\n'
      )
    )
    const copyChunks: Buffer[] = []
    for (let i = 0; i < copyRows.length; i += BATCH) copyChunks.push(Buffer.from(copyRows.slice(i, i + BATCH).join('')))
    // One untimed batch first, so that the month partitions exist and both sides are warm.
    // Building the bodies can outlast the server's keep-alive: the kept socket
    // may be closed under this first request ("fetch failed"); once more then
    // (a repeat of an untimed batch stores nothing twice: uids are idempotent).
    await post(ready.url, batches[0]!.token, bodies[0]!).catch(async (err: Error) => {
      if (err.message !== 'fetch failed') throw err
      ctx.log(`ingest: the warm-up batch failed (${String((err as Error & { cause?: unknown }).cause ?? err)}); once more`)
      return await post(ready.url, batches[0]!.token, bodies[0]!)
    })

    const ingestRates: number[] = []
    const copyRates: number[] = []
    const ratios: number[] = []
    const rssPeaks: number[] = []
    const nodeCpu: number[] = []
    const pgCpu: number[] = []
    const adminPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
    for (let run = 0; run < ctx.runs; run++) {
      await resetTables(admin)
      const rss = new RssSampler(server.pid, 200)
      const node0 = procCpuMs(server.pid)!
      const pg0 = new Map((await backendPids(admin, DB, adminPid)).map(pid => [pid, procCpuMs(pid) ?? 0]))
      let next = 0
      let accepted = 0
      const ti = nowMs()
      await Promise.all(
        Array.from({ length: UPLOADERS }, async () => {
          while (next < bodies.length) {
            const b = next++
            const r = await post(ready.url, batches[b]!.token, bodies[b]!)
            accepted += r.accepted
            if (r.rejected.length > 0) throw new Error(`ingest rejected ${r.rejected.length} documents: ${JSON.stringify(r.rejected[0])}`)
          }
        })
      )
      const ingestMs = nowMs() - ti
      rssPeaks.push(rss.stop().peak)
      nodeCpu.push((procCpuMs(server.pid)! - node0) / total)
      pgCpu.push((await backendPids(admin, DB, adminPid)).reduce((a, pid) => a + Math.max(0, (procCpuMs(pid) ?? 0) - (pg0.get(pid) ?? 0)), 0) / total)
      if (accepted !== bodies.reduce((a, _b, i) => a + batches[i]!.docs.length, 0)) throw new Error(`ingest accepted ${accepted} of ${total}`)

      const tc = nowMs()
      await pipeline(Readable.from(copyChunks), admin.query(copyFrom('COPY bench_raw (uid, time, cc, asn, test_name, input, doc) FROM STDIN')))
      const copyMs = nowMs() - tc
      const ingestRate = total / (ingestMs / 1000)
      const copyRate = total / (copyMs / 1000)
      ingestRates.push(ingestRate)
      copyRates.push(copyRate)
      ratios.push(ingestRate / copyRate)
      ctx.log(`ingest run ${run + 1}/${ctx.runs}: ${fmt(ingestRate)} docs/s through the API, ${fmt(copyRate)} docs/s by COPY (×${(ingestRate / copyRate).toFixed(2)})`)
    }
    ctx.log('ingest: timing the steps of prepare in this process, and the write path statement by statement')
    const fingerprints = await loadFingerprintsDir(join(REPO, '../shared/data/blocking-fingerprints'), 'ooni-blocking-fingerprints')
    const node = nodeSteps(bodies, fingerprints)
    const preparedBatches = batches.map(b => b.docs.map(d => prepareMeasurement(d, { fingerprints, nowMs: Date.now() })).flatMap(p => ('row' in p ? [p.row] : [])))
    const pgs = await pgSteps(url, preparedBatches, resetTables)
    const facts = await serverFacts(ctx.serverUrl)
    const data = {
      documents: total,
      batch: BATCH,
      uploaders: UPLOADERS,
      avg_doc_bytes: Math.round(bytes / total),
      ingest_docs_per_s: ingestRates,
      copy_docs_per_s: copyRates,
      ratios,
      median_ingest_docs_per_s: median(ingestRates),
      median_copy_docs_per_s: median(copyRates),
      median_ratio: median(ratios),
      aggregator_peak_rss_bytes: Math.max(...rssPeaks),
      aggregator_cpu_ms_per_doc: nodeCpu,
      postgres_backends_cpu_ms_per_doc: pgCpu,
      node_steps_ms_per_doc: node,
      postgres_steps_ms_per_doc: pgs,
      postgres: facts,
      targets: [
        {
          what: 'ingest through the API ÷ COPY into an unindexed table',
          target: '≥ 0.6×',
          measured: `${median(ratios).toFixed(2)}× (${fmt(median(ingestRates))} vs ${fmt(median(copyRates))} docs/s); CPU a document: aggregator ${fmt(median(nodeCpu), 2)} ms, PostgreSQL backends ${fmt(median(pgCpu), 2)} ms (steps in section 2)`,
          met: median(ratios) >= 0.6
        },
        { what: 'aggregator peak RSS during ingest', target: '≤ 300 MB', measured: `${mb(Math.max(...rssPeaks))} MB`, met: Math.max(...rssPeaks) <= 300e6 }
      ]
    }
    const ok = median(ratios) >= 0.6
    const ms = (x: number | undefined): string => fmt(x ?? NaN, 3)
    const nodeNames = ['JSON parse', 'validate', 'scrub and serialise the stored document', 'judge (verdict and fingerprints)', 'COPY serialisation', 'prepare, whole (the steps above in one call)']
    const pgNames: Array<[string, string]> = [
      ['COPY into staging', 'off: COPY into staging'],
      ['insert into measurements (heap, indexes, dedup; trigger off)', 'off: insert into measurements (heap, indexes)'],
      ['rollup trigger (insert with it on − off)', 'rollup trigger'],
      ['COMMIT', 'on: COMMIT']
    ]
    const markdown = [
      `${fmt(total)} documents (${fmt(Math.round(bytes / total))} bytes each on average, web_connectivity from \`blockwatch simulate\`'s generator, demo scenario) in batches of up to ${BATCH} from one probe each, ${UPLOADERS} uploads in flight, into PostgreSQL ${facts.version} through POST /api/v1/measurements (the aggregator in its own process, event job on). The COPY baseline writes the same documents into an unpartitioned, unindexed table (uid, time, cc, asn, test_name, input, jsonb) in the same database, right after each ingest run.`,
      '',
      '| run | ingest (docs/s) | COPY (docs/s) | ratio |',
      '|---|---:|---:|---:|',
      ...ingestRates.map((r, i) => `| ${i + 1} | ${fmt(r)} | ${fmt(copyRates[i]!)} | ${ratios[i]!.toFixed(2)} |`),
      `| **median** | **${fmt(median(ingestRates))}** | **${fmt(median(copyRates))}** | **${median(ratios).toFixed(2)}** |`,
      '',
      `Aggregator peak RSS during ingest: ${mb(Math.max(...rssPeaks))} MB (target ≤ 300 MB: **${Math.max(...rssPeaks) <= 300e6 ? 'met' : 'missed'}**).${Math.max(...rssPeaks) <= 300e6 ? '' : ' {{miss:rss}}'}`,
      '',
      `**CPU a document during the API runs** (from /proc, run by run): the aggregator process ${nodeCpu.map(x => fmt(x, 2)).join(', ')} ms; the database's backends ${pgCpu.map(x => fmt(x, 2)).join(', ')} ms. A run of ${fmt(total)} documents at the median rate lasts ${fmt(total / median(ingestRates), 1)} s on 2 cores, i.e. ${fmt(2000 / median(ingestRates), 2)} core-ms a document in all.`,
      '',
      'Where it goes, step by step, ms a document. Node: each step of prepare timed in the benchmark process (process.cpuUsage and performance.now) over the same documents, second of two passes. PostgreSQL: the write path statement by statement on one connection in batches of ' +
        BATCH +
        " (wall time, and the backend's CPU from /proc in 10 ms ticks summed over the batches), once with `blockwatch.rollups` off and once on; the trigger is the difference of the inserts.",
      '',
      '| step | CPU (ms) | wall (ms) |',
      '|---|---:|---:|',
      ...nodeNames.map(k => `| Node: ${k} | ${ms(node[`${k} cpu`])} | ${ms(node[`${k} wall`])} |`),
      ...pgNames.map(([label, k]) => `| PostgreSQL: ${label} | ${ms(pgs[`${k} cpu`])} | ${ms(pgs[`${k} wall`])} |`),
      '',
      `Target ≥ 0.6× COPY: **${ok ? 'met' : 'missed'}** (${median(ratios).toFixed(2)}×).${ok ? '' : ' {{miss:ingest}}'}`
    ].join('\n')
    return { name: 'ingest', at: new Date().toISOString(), scale: ctx.scale, seconds: (nowMs() - t0) / 1000, data, markdown }
  } finally {
    await admin.end().catch(() => {})
    await server.stop()
    if (!ctx.keepDb) await dropDatabase(ctx.serverUrl, DB)
  }
}
