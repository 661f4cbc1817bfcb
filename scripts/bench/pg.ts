/**
 * The benchmarks' own PostgreSQL databases (blockwatch_bench_*), created
 * fresh and dropped afterwards on the server the machine runs
 * (127.0.0.1:5432, user postgres). The test databases are never touched.
 */
import pg from 'pg'

/** The server, without a database name. BENCH_PG_URL overrides (cli.ts reads it). */
export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432'

const NAME_RE = /^blockwatch_bench[a-z0-9_]*$/

/** The URL of database `name` on the server of `serverUrl`. */
export function dbUrl(serverUrl: string, name: string): string {
  const u = new URL(serverUrl)
  u.pathname = '/' + name
  return u.toString()
}

async function admin<T>(serverUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: dbUrl(serverUrl, 'postgres') })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** Drops (if present) and creates database `name`; only blockwatch_bench* names are accepted. */
export async function recreateDatabase(serverUrl: string, name: string): Promise<string> {
  if (!NAME_RE.test(name)) throw new Error(`benchmark databases are named blockwatch_bench…, got ${JSON.stringify(name)}`)
  await admin(serverUrl, async c => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.query(`CREATE DATABASE ${name}`)
  })
  return dbUrl(serverUrl, name)
}

/** Drops database `name` if present. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  if (!NAME_RE.test(name)) throw new Error(`benchmark databases are named blockwatch_bench…, got ${JSON.stringify(name)}`)
  await admin(serverUrl, async c => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
}

/** Whether database `name` exists. */
export async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  return await admin(serverUrl, async c => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1)
}

/** The server's version and the settings that matter for these figures. */
export async function serverFacts(serverUrl: string): Promise<Record<string, string>> {
  return await admin(serverUrl, async c => {
    const out: Record<string, string> = {}
    out.version = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v
    for (const s of ['shared_buffers', 'work_mem', 'max_wal_size', 'synchronous_commit', 'max_parallel_workers_per_gather']) {
      out[s] = (await c.query<{ v: string }>('SELECT current_setting($1) AS v', [s])).rows[0]!.v
    }
    return out
  })
}

/** The on-disk size of a database, bytes. */
export async function databaseSize(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return Number((await c.query<{ n: string }>('SELECT pg_database_size(current_database())::text AS n')).rows[0]!.n)
  } finally {
    await c.end()
  }
}
