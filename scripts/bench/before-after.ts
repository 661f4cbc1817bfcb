/**
 * The "Before and after issue 13" table of docs/benchmarks.md, from two
 * stored runs at the same scale, on the same machine, back to back:
 * scripts/bench/issue-13/before.json (the results.json of the benchmarks
 * at 2d2fe70, the storage before issue 13, run from a worktree) and
 * scripts/bench/issue-13/after.json (today's benchmarks, copied from
 * results.json right after their run). Nothing here measures: it only
 * lays the two side by side.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, fmt, mb } from './util.ts'

const DIR = join(REPO, 'scripts/bench/issue-13')

interface Lat {
  p50: number
  p95: number
}
// biome-ignore lint/suspicious/noExplicitAny: a benchmark's result document, read field by field as it was written
type Data = Record<string, any>
interface Run {
  results: Record<string, { at: string; scale: number; data: Data; machine: { loadavg_at_start: number[] } }>
}

const lat = (l: Lat | undefined): string => (l === undefined ? '–' : `${fmt(l.p50, 1)} / ${fmt(l.p95, 1)}`)
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.max(1, Math.ceil((p / 100) * s.length)) - 1] ?? NaN
}

/** The section, or '' when either run is missing. */
export function beforeAfterMarkdown(): string {
  const bf = join(DIR, 'before.json')
  const af = join(DIR, 'after.json')
  if (!existsSync(bf) || !existsSync(af)) return ''
  const b = (JSON.parse(readFileSync(bf, 'utf8')) as Run).results
  const a = (JSON.parse(readFileSync(af, 'utf8')) as Run).results
  const bi = b.ingest!.data
  const ai = a.ingest!.data
  const bt = b.timelines!.data
  const at = a.timelines!.data
  const be = b.events!.data
  const ae = a.events!.data
  const bl = bt.latencies_ms as Record<string, Lat>
  const al = at.latencies_ms as Record<string, Lat>
  const bFresh = be.freshness.samples as Array<{ event_s: number; bucket_s: number }>
  const aFresh = ae.freshness.samples as Array<{ event_s: number; bucket_s: number }>
  const peak = (d: Data, name: string): number =>
    Math.max(
      0,
      ...(d.aggregator_rss_phases as Array<{ phase: string; peak_rss: number }>).filter(p => p.phase === name || (name === 'freshness' && p.phase.startsWith('freshness'))).map(p => p.peak_rss)
    )
  const rows: Array<[string, string, string]> = [
    ['ingest through the API (docs/s, median of 3)', fmt(bi.median_ingest_docs_per_s), fmt(ai.median_ingest_docs_per_s)],
    ['COPY into an unindexed table, same run (docs/s)', fmt(bi.median_copy_docs_per_s), fmt(ai.median_copy_docs_per_s)],
    ['**ingest ÷ COPY**', bi.median_ratio.toFixed(2), ai.median_ratio.toFixed(2)],
    ['aggregator peak RSS during ingest (MB)', mb(bi.aggregator_peak_rss_bytes), mb(ai.aggregator_peak_rss_bytes)],
    ['bulk import load (docs/s)', fmt(bt.load_docs_per_s), fmt(at.load_docs_per_s)],
    ['**database bytes per measurement**', fmt(bt.database_bytes / bt.measurements), fmt(at.database_bytes / at.measurements)],
    ['rollup rows', `${fmt(bt.rollup_rows)} (tl_probe_hour)`, `${fmt(at.tl_hour_rows)} tl_hour + ${fmt(at.tl_day_rows)} tl_day`],
    ['**country timeline, a year by day, API: p50 / p95 (ms)**', lat(bl.api_timeline), lat(al.api_timeline)],
    ['… its rollup query alone', lat(bl.sql_rollup_timeline), lat(al.sql_rollup_timeline)],
    ['… raw SQL over measurements', lat(bl.sql_raw_timeline), lat(al.sql_raw_timeline)],
    ['… DuckDB over Parquet', lat(bl.duckdb_timeline), lat(al.duckdb_timeline)],
    ["**one domain's timeline, a year by day, API**", '– (not measured before)', lat(al.api_domain_timeline)],
    ['country timeline with 400 domains, API', '– (not measured before)', at.many_domains === null || at.many_domains === undefined ? '– (not run)' : lat(at.many_domains.latencies_ms.api_timeline)],
    ["**aggregation, a country's year, day × domain, API**", lat(bl.api_aggregation), lat(al.api_aggregation)],
    ['… answered from', 'measurements', String(at.aggregation_source)],
    ['… raw SQL over measurements', lat(bl.sql_raw_aggregation), lat(al.sql_raw_aggregation)],
    ['… DuckDB over Parquet', lat(bl.duckdb_aggregation), lat(al.duckdb_aggregation)],
    ['recompute every event from scratch (s, median)', fmt(be.recompute_ms_median / 1000, 1), fmt(ae.recompute_ms_median / 1000, 1)],
    [
      '**freshness: event p50 / p95 (s)**',
      `${fmt(
        pct(
          bFresh.map(s => s.event_s),
          50
        ),
        2
      )} / ${fmt(
        pct(
          bFresh.map(s => s.event_s),
          95
        ),
        2
      )} (${bFresh.length} injections, ${fmt(be.freshness.background_docs_per_s)} docs/s over 60 domains)`,
      `${fmt(
        pct(
          aFresh.map(s => s.event_s),
          50
        ),
        2
      )} / ${fmt(
        pct(
          aFresh.map(s => s.event_s),
          95
        ),
        2
      )} (${aFresh.length} injections, ${fmt(ae.freshness.background_docs_per_s)} docs/s over 400 domains)`
    ],
    [
      'freshness: bucket p95 (s)',
      fmt(
        pct(
          bFresh.map(s => s.bucket_s),
          95
        ),
        2
      ),
      fmt(
        pct(
          aFresh.map(s => s.bucket_s),
          95
        ),
        2
      )
    ],
    ['aggregator peak RSS: queries, 60 domains (MB)', mb(peak(be, 'queries')), mb(peak(ae, 'queries'))],
    ['aggregator peak RSS: freshness, ingest and polling (MB)', mb(peak(be, 'freshness')), mb(peak(ae, 'freshness'))]
  ]
  const when = (r: Run['results']): string => `${r.ingest!.at.slice(0, 16).replace('T', ' ')}–${r.events!.at.slice(11, 16)} UTC, load average ${r.ingest!.machine.loadavg_at_start.join(' / ')}`
  return [
    '## Before and after issue 13',
    '',
    `Same machine, same hour, BENCH_SCALE=${b.ingest!.scale} (${fmt(bt.measurements)} measurements for the timelines, ${fmt(bi.documents)} documents for ingest), run back to back: **before** is the benchmarks of 2d2fe70 (the storage before 6113280, run from a worktree: \`BENCH_SCALE=0.2 node scripts/blockwatch.js bench ingest timelines events\`; ${when(b)}), **after** is the benchmarks of this change on the storage of 6113280 … daed8ef (HEAD 90ad54e; \`BENCH_SCALE=0.2 npm run bench -- ingest timelines events\`; ${when(a)}). The sections above were measured later, at 1 M rows, on the storage of b827af1, whose rollup primary key also carries every count (96d24dc). Their results.json are kept in scripts/bench/issue-13/, and scripts/bench/before-after.ts writes this table from them. The before benchmark measured freshness its own way (5 injections, background ingest back to back, not paced, 60 domains); the after one as issue 13 asks (section 4). The machine was shared with other developers' test runs during both, more busily during the after run: the COPY baseline, the same work both times, ran at ${fmt(bi.median_copy_docs_per_s)} then ${fmt(ai.median_copy_docs_per_s)} documents/s (×${(ai.median_copy_docs_per_s / bi.median_copy_docs_per_s).toFixed(2)}), so compare the ratios and the query figures within a column rather than absolute rates across columns.`,
    '',
    '| measure | before | after |',
    '|---|---:|---:|',
    ...rows.map(([w, x, y]) => `| ${w} | ${x} | ${y} |`)
  ].join('\n')
}
