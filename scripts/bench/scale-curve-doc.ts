/**
 * The scale run's section of docs/benchmarks.md, from the lines
 * scripts/bench/scale-curve.ts appended to scripts/bench/scale-curve.json
 * (one a step): how the timeline and aggregation answers and the bytes per
 * measurement change as the rows grow.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, fmt } from './util.ts'

interface Lat {
  p50: number
  p95: number
}
interface Step {
  at: string
  measurements: number
  load_docs_per_s: number
  country_timeline_ms: Lat
  domain_timeline_ms: Lat
  aggregation_rollup_ms: Lat
  aggregation_raw_ms: Lat
  bytes_per_measurement: number
  bytes_by_table: Record<string, number>
  rollup_rows: Record<string, number>
}

const lat = (l: Lat): string => `${fmt(l.p50, 1)} / ${fmt(l.p95, 1)}`

/** The section, or '' before any scale run. */
export function scaleCurveMarkdown(): string {
  const file = join(REPO, 'scripts/bench/scale-curve.json')
  if (!existsSync(file)) return ''
  const steps = readFileSync(file, 'utf8')
    .split('\n')
    .filter(l => l.trim() !== '')
    .map(l => JSON.parse(l) as Step)
  if (steps.length === 0) return ''
  const first = steps[0]
  const last = steps[steps.length - 1]
  const ratio = last.country_timeline_ms.p95 / first.country_timeline_ms.p95
  return [
    '## Scale run (issue 13)',
    '',
    `The timeline benchmark's population (40 countries, 2,000 probes, 60 domains, one year, seed 42) loaded through the bulk import path in steps of ${fmt(first.measurements)}, by \`node --import=tsx scripts/bench/scale-curve.ts 10000000 1000000\` (\`--resume\` goes on from where a run stopped), started ${first.at.slice(0, 16).replace('T', ' ')} UTC. After each step, inside one process (no HTTP): a country's year by day as the timelines route builds it (rollup query, series with states, JSON text), one domain's, and the country's aggregation by day × domain from the rollups and from measurements, 20 times each round the five largest countries; then the bytes of every table. The run stopped at ${fmt(last.measurements)} of the 10,000,000 asked, for want of time on this shared machine.`,
    '',
    '| measurements | load (docs/s, since the run began) | country timeline p50 / p95 (ms) | one domain p50 / p95 (ms) | aggregation, rollups (ms) | aggregation, measurements (ms) | bytes a measurement | tl_hour rows | tl_day rows |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...steps.map(
      s =>
        `| ${fmt(s.measurements)} | ${fmt(s.load_docs_per_s)} | ${lat(s.country_timeline_ms)} | ${lat(s.domain_timeline_ms)} | ${lat(s.aggregation_rollup_ms)} | ${lat(s.aggregation_raw_ms)} | ${fmt(s.bytes_per_measurement)} | ${fmt(s.rollup_rows.tl_hour ?? 0)} | ${fmt(s.rollup_rows.tl_day ?? 0)} |`
    ),
    '',
    `From ${fmt(first.measurements)} to ${fmt(last.measurements)} measurements (×${fmt(last.measurements / first.measurements, 1)}) the country timeline's p95 went ×${fmt(ratio, 2)} (the issue's bound from 1 M to 10 M: ×1.5): a country's year by day reads its series × days from tl_day whatever the volume. tl_day grew ×${fmt((last.rollup_rows.tl_day ?? 0) / Math.max(1, first.rollup_rows.tl_day ?? 0), 2)}, filling towards series × days; tl_hour grew ×${fmt((last.rollup_rows.tl_hour ?? 0) / Math.max(1, first.rollup_rows.tl_hour ?? 0), 2)}, since at this density most hours still hold one measurement per network or subdivision. The numbers were taken by the code that started the run, before the bucket times were formatted by PostgreSQL (measured once on the 1 M database while the next step loaded: the country query's round trip went from about 250 to 140–220 ms).`
  ].join('\n')
}
