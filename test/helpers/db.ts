/**
 * A fresh, migrated database for one test. With DATABASE_URL set (CI), it
 * creates a database of its own on that server and drops it afterwards, so
 * that test files running in parallel never share state. Without it, it
 * uses PGlite. TEST_DB=pglite forces PGlite.
 *
 * Both are made from a migrated template, because making them from nothing
 * is what used to dominate the suite's time (docs/benchmarks.md, "Test
 * suite"):
 * - PostgreSQL: `CREATE DATABASE … TEMPLATE bw_tpl_<key>`, a database
 *   migrated once per server and set of migrations.
 * - PGlite: starting one from nothing runs initdb in WASM (15–30 s on the
 *   shared 2-core machine). A migrated data folder is made once per machine
 *   and set of migrations and kept as a tarball under $TMPDIR/blockwatch-test/;
 *   each process loads it into an in-memory PGlite (3–5 s), and a database that a test has closed
 *   is emptied (TRUNCATE, sequences reset) and handed to the next test of
 *   the same file (milliseconds). A database whose schema a test changed
 *   (other than the month partitions ingest adds, which are dropped) is
 *   closed rather than reused.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { openDatabase, type Database } from '../../aggregator/src/store/db.ts'
import { openPglite } from '../../aggregator/src/store/pglite-driver.ts'
import { listMigrations, migrate } from '../../aggregator/src/store/migrate.ts'
import { REPO_ROOT } from './paths.ts'

export interface TestDb {
  db: Database
  url: string
  close: () => Promise<void>
}

/** The driver the tests run on: "pg" when DATABASE_URL is set and TEST_DB is not "pglite". */
export function testDriver(): 'pg' | 'pglite' {
  return process.env.TEST_DB !== 'pglite' && (process.env.DATABASE_URL ?? '') !== '' ? 'pg' : 'pglite'
}

/** Opens a fresh database, migrated unless `migrate: false`. Call close() in t.teardown. */
export async function freshDb(opts: { migrate?: boolean } = {}): Promise<TestDb> {
  const migrated = opts.migrate !== false
  return testDriver() === 'pg' ? await freshPg(migrated) : await freshPglite(migrated)
}

/** Names the migrations as they are now: templates are rebuilt when a file is added or changed. */
function migrationsKey(extra: string): string {
  const h = createHash('sha256').update(extra)
  for (const m of listMigrations()) h.update(`${m.version}\0${m.name}\0${m.sql}\0`)
  return h.digest('hex').slice(0, 12)
}

// ---- PostgreSQL ------------------------------------------------------------

const TEMPLATE_LOCK = 0x626c6b74 // "blkt"

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

function dbUrl(name: string): string {
  const u = new URL(process.env.DATABASE_URL!)
  u.pathname = '/' + name
  return u.toString()
}

let pgTemplate: Promise<string> | undefined
/** The migrated template database on this server, made on first use (under an advisory lock, so one process makes it). */
async function pgTemplateName(): Promise<string> {
  return await (pgTemplate ??= withAdmin(async admin => {
    const name = 'bw_tpl_' + migrationsKey('pg')
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK])
    try {
      if ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1) return name
      // Built under another name and renamed once migrated: a template is never seen half made.
      const build = `${name}_b${randomBytes(3).toString('hex')}`
      await admin.query(`CREATE DATABASE ${build}`)
      const db = await openDatabase({ databaseUrl: dbUrl(build), poolSize: 2 })
      try {
        await migrate(db)
      } finally {
        await db.close()
      }
      await admin.query(`ALTER DATABASE ${build} RENAME TO ${name}`)
      // Templates of older migration sets are of no further use.
      const old = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'bw\\_tpl\\_%' AND datname <> $1", [name])
      for (const r of old.rows) await admin.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`).catch(() => {})
      return name
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK])
    }
  }).catch(err => {
    pgTemplate = undefined
    throw err
  }))
}

async function freshPg(migrated: boolean): Promise<TestDb> {
  const name = 'bw_t_' + randomBytes(6).toString('hex')
  const template = migrated ? ` TEMPLATE ${await pgTemplateName()}` : ''
  await withAdmin(async admin => {
    await admin.query(`CREATE DATABASE ${name}${template}`)
    // A throw-away database needs no durability: a commit returns before its
    // WAL reaches the disk (4-5 ms a commit here otherwise), for every
    // session on it, the commands and servers the test starts included.
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`)
  })
  const url = dbUrl(name)
  const db = await openDatabase({ databaseUrl: url, poolSize: 5 })
  const drop = async (): Promise<void> => {
    await withAdmin(async a => {
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    })
  }
  return {
    db,
    url,
    close: async () => {
      await db.close()
      await drop()
    }
  }
}

// ---- PGlite ----------------------------------------------------------------

const CACHE = join(tmpdir(), 'blockwatch-test')
const pgliteVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string }).version

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * The template (migrated or not) as a tarball of its data folder, made once
 * per machine. The first process to need it makes it under a lock file; the
 * others wait.
 */
async function pgliteTemplate(migrated: boolean): Promise<string> {
  const tar = join(CACHE, `pglite-${pgliteVersion}-${migrated ? migrationsKey('pglite') : 'empty'}.tar`)
  const lock = tar + '.lock'
  mkdirSync(CACHE, { recursive: true })
  for (;;) {
    if (existsSync(tar)) return tar
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' })
    } catch {
      const owner = Number(readFileSync(lock, 'utf8').trim() || '0')
      if (owner > 0 && !alive(owner)) rmSync(lock, { force: true })
      await sleep(200)
      continue
    }
    try {
      if (existsSync(tar)) return tar
      const build = `${tar}.b${process.pid}`
      rmSync(build, { recursive: true, force: true })
      const db = await openDatabase({ dataDir: build })
      try {
        if (migrated) await migrate(db)
      } finally {
        await db.close()
      }
      const raw = new PGlite(build)
      await raw.waitReady
      try {
        writeFileSync(`${tar}.tmp`, Buffer.from(await (await raw.dumpDataDir('none')).arrayBuffer()))
      } finally {
        await raw.close()
      }
      rmSync(build, { recursive: true, force: true })
      renameSync(`${tar}.tmp`, tar)
      return tar
    } finally {
      rmSync(lock, { force: true })
    }
  }
}

/** What an emptied database must look like: the template's relations, its sequences' values, and whether its tables are empty. */
interface Shape {
  relations: string
  sequences: Array<{ name: string; value: string; called: boolean }>
  tables: string[]
  empty: boolean
}

async function shape(db: Database): Promise<Shape> {
  const rel = await db.query<{ r: string }>(`SELECT string_agg(c.relkind::text || ':' || c.relname, ',' ORDER BY c.relname) AS r
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT c.relispartition AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`)
  const fns = await db.query<{ f: string }>(`SELECT string_agg(p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' || md5(p.prosrc), ',' ORDER BY 1) AS f
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`)
  const seqs = await db.query<{ name: string }>(`SELECT quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY 1`)
  const sequences = []
  for (const s of seqs.rows) {
    const v = (await db.query<{ value: string; called: boolean }>(`SELECT last_value::text AS value, is_called AS called FROM ${s.name}`)).rows[0]!
    sequences.push({ name: s.name, ...v })
  }
  const tabs = await db.query<{ name: string }>(`SELECT quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND NOT c.relispartition AND c.relkind IN ('r', 'p') AND c.relname <> 'schema_migrations' ORDER BY 1`)
  let empty = true
  for (const tb of tabs.rows) {
    if ((await db.query(`SELECT 1 FROM ${tb.name} LIMIT 1`)).rows.length > 0) empty = false
  }
  return { relations: `${rel.rows[0]?.r ?? ''}|${fns.rows[0]?.f ?? ''}`, sequences, tables: tabs.rows.map(r => r.name), empty }
}

/** One open PGlite database of this process and the shape it is reset to. */
interface Pooled {
  db: Database
  shape: Shape | null
}
const idle = new Map<boolean, Pooled[]>([
  [true, []],
  [false, []]
])
/** An open PGlite keeps the process from exiting: one left idle this long is closed. */
const IDLE_MS = 2000

/**
 * Empties a database a test has closed, back to its template's state.
 * False when that cannot be done safely (schema changed, data in the
 * template, the database closed by the test itself): it is then closed.
 */
async function reset(p: Pooled): Promise<boolean> {
  if (p.shape === null || !p.shape.empty) return false
  try {
    await p.db.exec('ROLLBACK').catch(() => {})
    await p.db.exec('DISCARD ALL')
    await p.db.query('SELECT pg_advisory_unlock_all()')
    // The month partitions that ingest adds are the only schema change a test may leave.
    const parts = await p.db.query<{ name: string }>(`SELECT quote_ident(c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relispartition AND c.relkind IN ('r', 'p')`)
    for (const r of parts.rows) await p.db.exec(`DROP TABLE IF EXISTS ${r.name} CASCADE`)
    if (p.shape.tables.length > 0) await p.db.exec(`TRUNCATE ${p.shape.tables.join(', ')} RESTART IDENTITY CASCADE`)
    for (const s of p.shape.sequences) await p.db.query(`SELECT setval('${s.name}', $1::bigint, $2)`, [s.value, s.called])
    const now = await shape(p.db)
    return now.empty && now.relations === p.shape.relations && JSON.stringify(now.sequences) === JSON.stringify(p.shape.sequences)
  } catch {
    return false
  }
}

/** A handle on a pooled database for one test: every call after close() fails, as on a closed database. */
function lease(p: Pooled, release: () => Promise<void>): Database {
  let open = true
  const check = (): void => {
    if (!open) throw new Error('PGlite is closed')
  }
  return {
    kind: p.db.kind,
    query: async (sql, params) => {
      check()
      return await p.db.query(sql, params)
    },
    copyIn: async (target, data) => {
      check()
      await p.db.copyIn(target, data)
    },
    exec: async sql => {
      check()
      await p.db.exec(sql)
    },
    transaction: async fn => {
      check()
      return await p.db.transaction(fn)
    },
    withAdvisoryLock: async (key, fn) => {
      check()
      return await p.db.withAdvisoryLock(key, fn)
    },
    close: async () => {
      if (open) {
        open = false
        await release()
      }
    }
  }
}

async function freshPglite(migrated: boolean): Promise<TestDb> {
  const pool = idle.get(migrated)!
  let p = pool.pop()
  if (p === undefined) {
    // In memory, as before: a database on disk writes several times slower.
    const db = await openPglite('memory://', new Blob([readFileSync(await pgliteTemplate(migrated))]))
    // Only migrated databases are reused: an unmigrated one is migrated by its test.
    p = { db, shape: migrated ? await shape(db) : null }
  }
  const pooled = p
  const release = async (): Promise<void> => {
    if (!(await reset(pooled))) {
      await pooled.db.close().catch(() => {})
      return
    }
    pool.push(pooled)
    setTimeout(() => {
      const i = pool.indexOf(pooled)
      if (i >= 0) {
        pool.splice(i, 1)
        void pooled.db.close().catch(() => {})
      }
    }, IDLE_MS).unref()
  }
  const db = lease(pooled, release)
  return {
    db,
    url: '',
    close: async () => {
      await db.close()
    }
  }
}
