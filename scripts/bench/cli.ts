/**
 * `blockwatch bench` (`npm run bench`): runs the benchmarks of issue 10 and
 * writes docs/benchmarks.md. The only bench file that reads argv or the
 * environment.
 *
 *   npm run bench                       every benchmark, full size (≤ 60 min)
 *   BENCH_SCALE=0.01 npm run bench      a quick run (sizes × 0.01)
 *   npm run bench -- ingest timelines   some of them (the others' sections are kept)
 */
import { parseArgs } from 'node:util'
import { scaled, type BenchContext, type BenchResult } from './context.ts'
import { DEFAULT_SERVER_URL } from './pg.ts'
import { machine, saveResult, writeDoc, writeSection, loadResults } from './report.ts'
import { summaryMarkdown, INTRO } from './summary.ts'

const HELP = `blockwatch bench — speed and memory of the probe and the aggregator (issue 10)

Usage: blockwatch bench [probe] [ingest] [timelines] [events] [edges] [export] [load] [startup] [options]
       (no name: the first six; timelines and events share one loaded database;
       load, the 10-minute load test at OONI's rate, and startup, the
       commands' start-up compiled and through tsx, run only when named)

Options:
  --runs N       repetitions of each timed run; medians are over these (default 3)
  --keep-db      keep the benchmark databases (blockwatch_bench*) afterwards
  --doc-only     rewrite docs/benchmarks.md from scripts/bench/results.json

Environment:
  BENCH_SCALE    1 (default) is the full run; 0.01 a quick one
  BENCH_TIMELINE_ROWS  measurements loaded for timelines and events (default 1,000,000 × BENCH_SCALE)
  BENCH_D400_ROWS      measurements of the second, 400-domain population (default: the same; 0 skips it)
  BENCH_LOAD_SECONDS  how long the load test's clients run (default 600)
  BENCH_PG_URL   the PostgreSQL server (default ${DEFAULT_SERVER_URL}); the
                 benchmarks create and drop their own databases there

Examples:
  npm run bench                              the full run (at most 60 minutes)
  BENCH_SCALE=0.01 npm run bench -- ingest   a quick run of one benchmark
  BENCH_LOAD_SECONDS=60 BENCH_SCALE=0.05 npm run bench -- load   a smoke run of the load test

Results: scripts/bench/results.json, and docs/benchmarks.md.
`

const NAMES = ['probe', 'ingest', 'timelines', 'events', 'edges', 'export', 'load', 'startup'] as const
type Name = (typeof NAMES)[number]
/** What runs when no name is given: all but the load test, which takes 10 minutes of its own and private clusters. */
const DEFAULT_NAMES: readonly Name[] = NAMES.filter(n => n !== 'load' && n !== 'startup')

/** Runs `blockwatch bench …`; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { runs: { type: 'string' }, 'keep-db': { type: 'boolean' }, 'doc-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }
  })
  if (values.help === true) {
    process.stdout.write(HELP)
    return 0
  }
  const unknown = positionals.filter(p => !(NAMES as readonly string[]).includes(p))
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; one of ${NAMES.join(', ')}\n`)
    return 2
  }
  const scale = Number(process.env.BENCH_SCALE ?? '1')
  if (!(scale > 0 && scale <= 1)) {
    process.stderr.write(`bench: BENCH_SCALE must be a number in (0, 1], got ${JSON.stringify(process.env.BENCH_SCALE)}\n`)
    return 2
  }
  const runs = Number(values.runs ?? '3')
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
    process.stderr.write(`bench: --runs must be a whole number from 1 to 20, got ${JSON.stringify(values.runs)}\n`)
    return 2
  }
  const ctx: BenchContext = {
    scale,
    runs,
    serverUrl: process.env.BENCH_PG_URL ?? DEFAULT_SERVER_URL,
    keepDb: values['keep-db'] === true,
    log: msg => {
      process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`)
    }
  }
  const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? '600')
  if (!(Number.isInteger(loadSeconds) && loadSeconds >= 10)) {
    process.stderr.write(`bench: BENCH_LOAD_SECONDS must be a whole number of seconds, at least 10, got ${JSON.stringify(process.env.BENCH_LOAD_SECONDS)}\n`)
    return 2
  }
  const wanted: Name[] = positionals.length === 0 ? [...DEFAULT_NAMES] : (positionals as Name[])
  const write = (): void => {
    writeDoc(INTRO, summaryMarkdown(loadResults()))
  }
  if (values['doc-only'] === true) {
    write()
    return 0
  }
  let failed = 0
  const m = machine()
  const record = (r: BenchResult): void => {
    saveResult(r, m)
    write()
    ctx.log(`${r.name}: done in ${Math.round(r.seconds)} s; docs/benchmarks.md updated`)
  }
  const tryRun = async (name: string, fn: () => Promise<BenchResult | BenchResult[]>): Promise<void> => {
    try {
      const r = await fn()
      for (const x of Array.isArray(r) ? r : [r]) record(x)
    } catch (err) {
      failed++
      ctx.log(`${name}: FAILED: ${(err as Error).stack ?? String(err)}`)
    }
  }
  if (wanted.includes('probe')) await tryRun('probe', async () => await (await import('./probe.ts')).runProbe(ctx))
  if (wanted.includes('ingest')) await tryRun('ingest', async () => await (await import('./ingest.ts')).runIngest(ctx))
  if (wanted.includes('timelines') || wanted.includes('events')) {
    await tryRun('timelines/events', async () => await (await import('./timelines.ts')).runTimelines(ctx, { timelines: wanted.includes('timelines'), events: wanted.includes('events') }))
  }
  if (wanted.includes('edges')) await tryRun('edges', async () => await (await import('./edges.ts')).runEdgesBench(ctx))
  if (wanted.includes('export')) await tryRun('export', async () => await (await import('./export.ts')).runExport(ctx))
  if (wanted.includes('startup')) {
    // Its own section only, as the load test's.
    try {
      const r = await (await import('./startup.ts')).runStartup(ctx)
      saveResult(r, m)
      writeSection('startup')
      ctx.log(`startup: done in ${Math.round(r.seconds)} s; docs/benchmarks.md section 10 updated`)
    } catch (err) {
      failed++
      ctx.log(`startup: FAILED: ${(err as Error).stack ?? String(err)}`)
    }
  }
  if (wanted.includes('load')) {
    // Its own section only: writeDoc() would drop the hand-written ones.
    try {
      const r = await (await import('./load.ts')).runLoad(ctx, { durationS: loadSeconds, preloadRows: scaled(ctx, 200_000, 2000) })
      saveResult(r, m)
      writeSection('load')
      ctx.log(`load: done in ${Math.round(r.seconds)} s; docs/benchmarks.md section 9 updated`)
    } catch (err) {
      failed++
      ctx.log(`load: FAILED: ${(err as Error).stack ?? String(err)}`)
    }
  }
  return failed > 0 ? 1 : 0
}
