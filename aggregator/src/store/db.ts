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
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number }>
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
  withAdvisoryLock<T>(key: number, fn: (conn: Queryable) => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>
  close(): Promise<void>
  /**
   * Where researcher and dashboard reads go: a streaming replica
   * (DATABASE_READ_URL) while it answers, this database otherwise. Unset
   * when no replica is configured. Store functions reach it through
   * {@link reader}; nothing that writes, or must see a write just made (a
   * probe's token, its check-in), goes there.
   */
  readonly reader?: Reader
  /** The replica's state, for /metrics and the logs; unset without a replica (store/replica.ts). */
  readonly replica?: ReplicaStatus
}

/** What a replica can do: read. */
export interface Reader {
  query: Queryable['query']
}

/** A replica's state as the metrics show it. */
export interface ReplicaStatus {
  /** True while reads go to the replica, false while they fall back to the primary. */
  readonly inUse: boolean
  /** Measures how far the replica is behind the primary; null when it does not answer. */
  lag: () => Promise<ReplicaLag | null>
  /** Where fall-back and recovery are logged (the app's logger once it exists; stderr before). */
  logger: ReplicaLogger
}

/** How far a replica is behind (store/replica.ts says how each is measured). */
export interface ReplicaLag {
  seconds: number
  bytes: number
}

/** The two levels the replica logs at (a pino/fastify logger fits). */
export interface ReplicaLogger {
  warn: (obj: Record<string, unknown>, msg: string) => void
  info: (obj: Record<string, unknown>, msg: string) => void
}

/**
 * The handle a researcher or dashboard read should use: the replica when `q`
 * is a {@link Database} with one, else `q` itself (the primary, PGlite, or a
 * transaction's or job's connection, which must stay where it is).
 */
export function reader(q: Queryable): Reader {
  return (q as { reader?: Reader }).reader ?? q
}

/** Options for {@link openDatabase}. */
export interface OpenOptions {
  /** A postgres:// URL. Empty or unset selects PGlite. */
  databaseUrl?: string | undefined
  /** Where PGlite keeps its files. Default `./data/pglite`; `memory://` keeps nothing. */
  dataDir?: string
  /** pg pool size. Default 10. */
  poolSize?: number
  /**
   * A postgres:// URL of a streaming replica of databaseUrl, for researcher
   * and dashboard reads (DATABASE_READ_URL). Empty or unset: every read goes
   * to databaseUrl. Refused with PGlite, which has no replicas.
   */
  readUrl?: string | undefined
}

/** Opens the database the options select. */
export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  const readUrl = opts.readUrl ?? ''
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    const { openPg } = await import('./pg-driver.ts')
    const primary = openPg(opts.databaseUrl, opts.poolSize ?? 10)
    if (readUrl === '') return primary
    const { withReplica } = await import('./replica.ts')
    return withReplica(primary, openPg(readUrl, opts.poolSize ?? 10, { connectTimeoutMs: 5000, applicationName: 'blockwatch-reader' }))
  }
  if (readUrl !== '') throw new Error('DATABASE_READ_URL is set but DATABASE_URL is not: PGlite has no replicas; set DATABASE_URL to the primary, or unset DATABASE_READ_URL')
  const { openPglite } = await import('./pglite-driver.ts')
  return await openPglite(opts.dataDir ?? './data/pglite')
}

/** Resolves when the database answers a trivial statement (readiness checks). */
export async function ping(q: Queryable): Promise<void> {
  await q.query('SELECT 1')
}
