/**
 * A fresh, migrated database for one test file. With DATABASE_URL set (CI),
 * it creates a database of its own on that server and drops it afterwards,
 * so that test files running in parallel never share state. Without it, it
 * uses an in-memory PGlite. TEST_DB=pglite forces PGlite.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDatabase, type Database } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'

export interface TestDb { db: Database, url: string, close: () => Promise<void> }

/** The driver the tests run on: "pg" when DATABASE_URL is set and TEST_DB is not "pglite". */
export function testDriver (): 'pg' | 'pglite' {
  return process.env.TEST_DB !== 'pglite' && (process.env.DATABASE_URL ?? '') !== '' ? 'pg' : 'pglite'
}

/** Opens a fresh migrated database. Call close() in t.teardown. */
export async function freshDb (opts: { migrate?: boolean } = {}): Promise<TestDb> {
  let db: Database
  let url = ''
  let drop = async (): Promise<void> => {}
  if (testDriver() === 'pg') {
    const base = new URL(process.env.DATABASE_URL!)
    const name = 'bw_t_' + randomBytes(6).toString('hex')
    const admin = new pg.Client({ connectionString: base.toString() })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const u = new URL(base.toString()); u.pathname = '/' + name
    url = u.toString()
    db = await openDatabase({ databaseUrl: url, poolSize: 5 })
    drop = async () => {
      const a = new pg.Client({ connectionString: base.toString() })
      await a.connect()
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
    }
  } else {
    db = await openDatabase({ dataDir: 'memory://' })
  }
  if (opts.migrate !== false) await migrate(db)
  return { db, url, close: async () => { await db.close(); await drop() } }
}
