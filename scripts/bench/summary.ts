/**
 * The parts of docs/benchmarks.md that are not one benchmark's section:
 * the introduction (how to reproduce) and the summary of targets.
 */
import type { Machine } from './report.ts'
import type { BenchResult } from './context.ts'

export const INTRO = `# Benchmarks

Speed and memory of the probe and the aggregator, side by side with what
users would otherwise pick (issue 10). Every figure below is written by
\`npm run bench\` (scripts/bench/), which reproduces it on this kind of
machine; \`BENCH_SCALE=0.01 npm run bench\` is a quick run, and
\`npm run bench -- ingest\` runs one benchmark and keeps the other sections.
The raw figures of the last run of each are in scripts/bench/results.json.

The machine is shared by several developers: figures are medians over
repeated runs, and every comparison is a ratio measured within the same run.
PostgreSQL runs with its Debian defaults (see each section), on the same
two cores as everything else.`

/** The summary table of targets, from the stored results. */
export function summaryMarkdown (s: { machine: Machine, results: Record<string, BenchResult> }): string {
  const lines = ['## Targets', '', '| benchmark | target | measured | verdict |', '|---|---|---|---|']
  for (const r of Object.values(s.results)) {
    const targets = (r.data.targets ?? []) as Array<{ what: string, target: string, measured: string, met: boolean | null }>
    for (const t of targets) lines.push(`| ${r.name} | ${t.what}: ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**missed**'} |`)
  }
  return lines.join('\n')
}
