/**
 * The `pg` driver of {@link Database}: the only file that imports `pg`.
 */
import pg from 'pg'
import type { Database, Queryable } from './db.ts'

// timestamptz and timestamp come back as Date (the default); int8 as string
// (the default) — SQL casts counts explicitly so both drivers agree.

/** Opens a pool on a PostgreSQL server. */
export function openPg (url: string, max: number): Database {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 })
  // Without a listener, an idle client's error (a server restart) would crash
  // the process (node-postgres docs, "Pool" → "error" event).
  pool.on('error', () => {})
  const q = (c: pg.Pool | pg.PoolClient): Queryable['query'] => async (sql, params) => {
    const r = await c.query(sql, params as unknown[] | undefined)
    return { rows: r.rows, rowCount: r.rowCount ?? 0 }
  }
  return {
    kind: 'pg',
    query: q(pool),
    async exec (sql) { await pool.query(sql) },
    async transaction (fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const value = await fn({ query: q(client) })
        await client.query('COMMIT')
        return value
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    async withAdvisoryLock (key, fn) {
      const client = await pool.connect()
      let locked = false
      try {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key])
        locked = r.rows[0].ok
        if (!locked) return { ran: false }
        return { ran: true, value: await fn({ query: q(client) }) }
      } finally {
        if (locked) await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {})
        client.release()
      }
    },
    async close () { await pool.end() }
  }
}
