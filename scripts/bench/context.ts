/**
 * What every benchmark receives from the command line (cli.ts), and the
 * shape of what it hands back for docs/benchmarks.md.
 */

/** Settings of one `npm run bench`. */
export interface BenchContext {
  /** BENCH_SCALE: 1 is the full run; 0.01 a quick one. Sizes are scaled, run counts are not. */
  scale: number
  /** Repetitions of each timed run (medians are over these). Default 3. */
  runs: number
  /** The PostgreSQL server, without a database name. */
  serverUrl: string
  /** Keep the benchmark databases afterwards (to re-run queries without reloading). */
  keepDb: boolean
  /** Progress lines on stderr. */
  log: (msg: string) => void
}

/** One benchmark's figures: `data` is kept as JSON, `markdown` goes into docs/benchmarks.md. */
export interface BenchResult {
  name: string
  /** When it ran (ISO). */
  at: string
  /** The scale it ran at. */
  scale: number
  /** How long the whole benchmark took, seconds. */
  seconds: number
  data: Record<string, unknown>
  markdown: string
}

/** Scales a size, never below `min`. */
export const scaled = (ctx: BenchContext, full: number, min: number): number => Math.max(min, Math.round(full * ctx.scale))
