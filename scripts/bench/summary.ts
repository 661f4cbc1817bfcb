/**
 * The parts of docs/benchmarks.md that are not one benchmark's section:
 * the introduction (how to reproduce) and the summary of targets.
 */
import type { Machine } from './report.ts'
import type { BenchResult } from './context.ts'
import { beforeAfterMarkdown } from './before-after.ts'
import { scaleCurveMarkdown } from './scale-curve-doc.ts'

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
export function summaryMarkdown(s: { machine: Machine; results: Record<string, BenchResult> }): string {
  const lines = ['## Targets', '', '| benchmark | target | measured | verdict |', '|---|---|---|---|']
  for (const r of Object.values(s.results)) {
    const targets = (r.data.targets ?? []) as Array<{ what: string; target: string; measured: string; met: boolean | null }>
    for (const t of targets) lines.push(`| ${r.name} | ${t.what}: ${t.target} | ${t.measured} | ${t.met === null ? 'reported' : t.met ? 'met' : '**missed**'} |`)
  }
  const ba = beforeAfterMarkdown()
  if (ba !== '') lines.push('', ba)
  const sc = scaleCurveMarkdown()
  if (sc !== '') lines.push('', sc)
  lines.push('', FIXES)
  return lines.join('\n')
}

/** Performance bugs these benchmarks found, fixed in commits of their own. */
export const FIXES = `## Fixed along the way

- **Probe: a TLS context per handshake** (fd92a75, probe/src/netx/tls.ts). With \`--ca\` (the lab, any private CA) every
  handshake built a new SecureContext, parsing the ~150 system roots again: about 100 ms of CPU a handshake.
  In the lab, 64 targets at concurrency 32 took 31 s (and, under a CPU profiler, 27 of 64 ended in false TLS or
  connect timeouts); after the fix, 6 s. The control vantage shares the code and the fix.
- **Ingest: fingerprint matching** (990923c, shared/src/fingerprints.ts). Every response body was searched once
  per body pattern (~1,300 in OONI's list); now one Aho-Corasick pass, with header patterns looked up by header
  name. Preparing a 3 KB document went from 2.7 ms to 0.7 ms, and a 512 KiB body is scanned once, not 1,300 times.

## Not measured as the issue asks, and why

- 10 million measurements for benchmarks 3 and 4 (issue 13's "p95 at 10 M ≤ 1.5× p95 at 1 M" and freshness at 10 M):
  the full run loads 1 million; \`BENCH_TIMELINE_ROWS=10000000\` runs it, separately. At the 1,000–2,700 documents/s
  the bulk path sustained here, 10 million take two to three hours of an otherwise idle machine. "Scale run (issue 13)"
  above shows how far scripts/bench/scale-curve.ts got in the time there was, step by step; section 3 gives the
  bytes by table to extrapolate from. Freshness at 10 M was not measured.
- The 400-domain population at 1 M rows: the full run of 2026-12-01 skipped it (BENCH_D400_ROWS=0) for time, after a
  first 1 M load was lost to a schema change landing mid-run; it was measured at 200,000 rows beside 60 domains at the
  same count (the before/after table's "400 domains" row, and scripts/bench/issue-13/after.json).
- Event edges (issue 13's last target) are section 6, measured by \`npm run bench -- edges\`, not by this run.
- 100,000 probe targets: the full run measures RSS over 10,000 (reason in section 1; \`BENCH_PROBE_LONG=100000\`).`
