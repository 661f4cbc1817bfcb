/**
 * The PGlite driver of {@link Database}: embedded PostgreSQL (WASM), one
 * connection, no server to install. The only file that imports PGlite.
 */
import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import type { Database, Queryable } from './db.ts'

/**
 * Opens (creating when needed) an embedded database in `dataDir`. `load`, a
 * tarball from PGlite's dumpDataDir(), fills a new database instead of
 * initdb (the tests' migrated template: test/helpers/db.ts).
 */
export async function openPglite(dataDir: string, load?: Blob): Promise<Database> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true })
  const db = new PGlite(dataDir, load !== undefined ? { loadDataDir: load } : {})
  await db.waitReady
  // PGlite has one connection: statements from concurrent requests would
  // interleave inside a transaction, so every use is queued. Inside
  // transaction(fn), use the `tx` it is given, never the database itself.
  let tail: Promise<unknown> = Promise.resolve()
  const serial = async <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => {})
    return await run
  }
  const raw: Queryable['query'] = async (sql, params) => {
    const r = await db.query(sql, params as unknown[] | undefined)
    // biome-ignore lint/suspicious/noExplicitAny: Queryable's rows are typed by each caller's generic; PGlite returns unknown[]
    return { rows: r.rows as any[], rowCount: r.affectedRows ?? r.rows.length }
  }
  // PGlite reads COPY … FROM '/dev/blob' from the blob given with the query.
  const rawCopy: Queryable['copyIn'] = async (target, data) => {
    await db.query(`COPY ${target} FROM '/dev/blob'`, [], { blob: new Blob([data]) })
  }
  return {
    kind: 'pglite',
    query: async (sql, params) => await serial(async () => await raw(sql, params)),
    copyIn: async (target, data) => {
      await serial(async () => {
        await rawCopy(target, data)
      })
    },
    async exec(sql) {
      await serial(async () => {
        await db.exec(sql)
      })
    },
    async transaction(fn) {
      return await serial(async () => {
        await db.exec('BEGIN')
        try {
          const value = await fn({ query: raw, copyIn: rawCopy })
          await db.exec('COMMIT')
          return value
        } catch (err) {
          await db.exec('ROLLBACK').catch(() => {})
          throw err
        }
      })
    },
    async withAdvisoryLock(_key, fn) {
      // One process owns a PGlite directory, so there is no one to race.
      const query: Queryable['query'] = async (sql, params) => await serial(async () => await raw(sql, params))
      const copyIn: Queryable['copyIn'] = async (target, data) => {
        await serial(async () => {
          await rawCopy(target, data)
        })
      }
      return { ran: true as const, value: await fn({ query, copyIn }) }
    },
    async close() {
      await serial(async () => {
        await db.close()
      })
    }
  }
}
