/**
 * The migration runner: applies aggregator/migrations/NNNN-name.sql in order,
 * once each, recording them in schema_migrations. The same runner and the
 * same files serve PostgreSQL and PGlite. Several instances starting at once
 * serialise on an advisory lock.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Database } from './db.ts'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
const MIGRATION_LOCK = 0x626c6b01 // "blk" + 1

/** One migration file. */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** Lists the migrations in a folder, sorted by version. */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter(f => /^\d{4}-[a-z0-9-]+\.sql$/.test(f))
    .sort()
    .map(f => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(dir + f, 'utf8') }))
}

/** Applies every pending migration; returns the versions it applied. */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<number[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
  const applied: number[] = []
  const wanted = listMigrations(dir)
  for (;;) {
    const r = await db.withAdvisoryLock(MIGRATION_LOCK, async conn => {
      const done = new Set((await conn.query<{ version: number }>('/* bw:migrate.migrate */ SELECT version FROM schema_migrations')).rows.map(r => Number(r.version)))
      for (const m of wanted) {
        if (done.has(m.version)) continue
        await db.transaction(async tx => {
          // A transaction's statements run one by one: split on the marker
          // lines the files use, so that pg and PGlite both accept them.
          for (const stmt of splitStatements(m.sql)) await tx.query(stmt)
          await tx.query('/* bw:migrate.migrate */ INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
        })
        applied.push(m.version)
      }
    })
    if (r.ran) return applied
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/**
 * Splits a migration script into statements at lines that hold only `;`
 * or end with `;` outside a dollar-quoted body. Keep `$$` bodies (functions)
 * on their own, ended by `$$;` or `$$ LANGUAGE …;`.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = []
  let cur = ''
  let inDollar = false
  for (const line of sql.split('\n')) {
    const stripped = line.replace(/--.*$/, '')
    const dollars = (stripped.match(/\$\$/g) ?? []).length
    if (dollars % 2 === 1) inDollar = !inDollar
    cur += line + '\n'
    if (!inDollar && /;\s*$/.test(stripped)) {
      if (cur.trim() !== '') out.push(cur.trim())
      cur = ''
    }
  }
  if (cur.replace(/--.*$/gm, '').trim() !== '') out.push(cur.trim())
  return out
}
