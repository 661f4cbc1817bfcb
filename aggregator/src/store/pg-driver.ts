/**
 * The `pg` driver of {@link Database}: the only file that imports `pg`.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { Database, Queryable } from './db.ts'

// timestamptz and timestamp come back as Date (the default); int8 as string
// (the default) — SQL casts counts explicitly so both drivers agree.

/** Options of {@link openPg}. */
export interface PgOptions {
  /** How long a new connection may take. Default 10 s; the replica's is shorter, so a read falls back quickly. */
  connectTimeoutMs?: number
  /** application_name of the sessions (pg_stat_activity). Default: pg's (none). */
  applicationName?: string
}

/** Opens a pool on a PostgreSQL server. */
export function openPg(url: string, max: number, opts: PgOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    ...(opts.applicationName !== undefined ? { application_name: opts.applicationName } : {})
  })
  // Without a listener, an idle client's error (a server restart) would crash
  // the process (node-postgres docs, "Pool" → "error" event).
  pool.on('error', () => {})
  const q =
    (c: pg.Pool | pg.PoolClient): Queryable['query'] =>
    async (sql, params) => {
      const r = await c.query(sql, params as unknown[] | undefined)
      return { rows: r.rows, rowCount: r.rowCount ?? 0 }
    }
  const copy =
    (c: pg.PoolClient): Queryable['copyIn'] =>
    async (target, data) => {
      await pipeline(Readable.from([Buffer.from(data, 'utf8')]), c.query(copyFrom(`COPY ${target} FROM STDIN`)))
    }
  const on = (c: pg.PoolClient): Queryable => ({ query: q(c), copyIn: copy(c) })
  // A checked-out client has no pool listener: when the server goes away
  // (restart, crash) its 'error' event would be uncaught and kill the
  // process. Listen while it is out, and destroy it on release if it broke
  // (issue 9, test/faults/db-restart.test.ts).
  const checkout = async (): Promise<{ client: pg.PoolClient; lost: () => Error | null; release: () => void }> => {
    const client = await pool.connect()
    let broken: Error | null = null
    const onError = (err: Error): void => {
      broken = err
    }
    client.on('error', onError)
    return {
      client,
      lost: () => broken,
      release: () => {
        client.removeListener('error', onError)
        client.release(broken ?? undefined)
      }
    }
  }
  return {
    kind: 'pg',
    query: q(pool),
    async copyIn(target, data) {
      const { client, release } = await checkout()
      try {
        await copy(client)(target, data)
      } finally {
        release()
      }
    },
    async exec(sql) {
      await pool.query(sql)
    },
    async transaction(fn) {
      const { client, lost, release } = await checkout()
      try {
        await client.query('BEGIN')
        const value = await fn(on(client))
        await client.query('COMMIT')
        return value
      } catch (err) {
        if (lost() === null) await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        release()
      }
    },
    async withAdvisoryLock(key, fn) {
      const { client, lost, release } = await checkout()
      let locked = false
      try {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key])
        locked = r.rows[0].ok
        if (!locked) return { ran: false }
        return { ran: true, value: await fn(on(client)) }
      } finally {
        if (locked && lost() === null) await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {})
        release()
      }
    },
    async close() {
      await pool.end()
    }
  }
}
