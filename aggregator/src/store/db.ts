/**
 * The one small interface every part of the aggregator reaches the database
 * through, with two drivers that run the same SQL: real PostgreSQL through
 * `pg` (when DATABASE_URL is set and not empty) and PGlite, PostgreSQL
 * compiled to WASM, embedded in the process (otherwise), under ./data.
 *
 * Write SQL that both accept: cast counts to int or bigint::text explicitly,
 * since the drivers decode int8 differently.
 */

/** Anything that can run one parameterised statement, or feed one COPY … FROM. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[], rowCount: number }>
  /**
   * Runs `COPY table (columns) FROM STDIN` (`target` is `table (columns)`)
   * with `data` in COPY's text format: one line a row, tab-separated,
   * `\N` for null (see copyLine() in measurements.ts).
   */
  copyIn(target: string, data: string): Promise<void>
}

/** A database connection pool (pg) or an embedded database (PGlite). */
export interface Database extends Queryable {
  readonly kind: 'pg' | 'pglite'
  /** Runs a script of several statements, with no parameters (migrations). */
  exec(sql: string): Promise<void>
  /** Runs `fn` inside BEGIN … COMMIT on one connection; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Runs `fn` on one connection while holding the session-level advisory lock
   * `key`, or returns `{ ran: false }` at once when another session holds it.
   * Scheduled jobs use this so that only one aggregator instance runs each.
   */
  withAdvisoryLock<T>(key: number, fn: (conn: Queryable) => Promise<T>): Promise<{ ran: true, value: T } | { ran: false }>
  close(): Promise<void>
}

/** Options for {@link openDatabase}. */
export interface OpenOptions {
  /** A postgres:// URL. Empty or unset selects PGlite. */
  databaseUrl?: string | undefined
  /** Where PGlite keeps its files. Default `./data/pglite`; `memory://` keeps nothing. */
  dataDir?: string
  /** pg pool size. Default 10. */
  poolSize?: number
}

/** Opens the database the options select. */
export async function openDatabase (opts: OpenOptions = {}): Promise<Database> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    const { openPg } = await import('./pg-driver.ts')
    return openPg(opts.databaseUrl, opts.poolSize ?? 10)
  }
  const { openPglite } = await import('./pglite-driver.ts')
  return await openPglite(opts.dataDir ?? './data/pglite')
}

/** Resolves when the database answers a trivial statement (readiness checks). */
export async function ping (q: Queryable): Promise<void> {
  await q.query('SELECT 1')
}
