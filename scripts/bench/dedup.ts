/**
 * Deduplication before and after migration 0104 (issue 18, item 2), in one
 * run: the same documents ingested by two checkouts of the repository, each
 * into a fresh PostgreSQL database. For each: the time to store N small
 * documents (batches of 1,000, one after another), the time to send them
 * all again (every one a duplicate), and the bytes that deduplication costs
 * (measurement_uids before; the per-partition uid index after) and that the
 * measurements take in all.
 *
 *   node --import tsx scripts/bench/dedup.ts --before DIR --after DIR [--rows N]
 *
 * DIR is a checkout (a git worktree) of the repository; PostgreSQL from
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { docStream, population } from './generate.ts'

const { values } = parseArgs({ options: { before: { type: 'string' }, after: { type: 'string' }, rows: { type: 'string' } } })
if (values.before === undefined || values.after === undefined) {
  process.stderr.write('usage: dedup.ts --before DIR --after DIR [--rows N]\n')
  process.exit(2)
}
const ROWS = Number(values.rows ?? 200_000)
const BASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const DAY = 86_400_000

interface Figures {
  label: string
  storeS: number
  resendS: number
  dedupBytes: number
  totalBytes: number
  accepted: number
  duplicates: number
}

async function measure(label: string, dir: string): Promise<Figures> {
  const root = resolve(dir)
  const { openDatabase } = await import(join(root, 'aggregator/src/store/db.ts'))
  const { migrate } = await import(join(root, 'aggregator/src/store/migrate.ts'))
  const { ingestBatch } = await import(join(root, 'aggregator/src/ingest/ingest.ts'))
  // Checkouts before 2026-12-02 have the loader in shared/src/fingerprints.ts, later ones in netx/fingerprints.ts.
  const fpModule = await import(join(root, 'shared/src/fingerprints.ts'))
  const { loadFingerprintsDir } = fpModule.loadFingerprintsDir !== undefined ? fpModule : await import(join(root, 'shared/src/netx/fingerprints.ts'))
  const name = 'bw_dedup_' + randomBytes(4).toString('hex')
  const admin = new pg.Client({ connectionString: BASE })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const u = new URL(BASE)
  u.pathname = '/' + name
  const db = await openDatabase({ databaseUrl: u.toString(), poolSize: 2 })
  try {
    await migrate(db)
    const fingerprints = await loadFingerprintsDir(join(root, '../shared/data/blocking-fingerprints'), 'bench')
    const sinceMs = Date.UTC(2026, 0, 1)
    const pop = population({ sinceMs, untilMs: sinceMs + 90 * DAY, probes: 500, countries: 20, domains: 60, seed: 11 })
    const stream = docStream(pop, 'small', 5)
    const docs = stream.take(ROWS)
    const pass = async (): Promise<{ s: number; accepted: number; duplicates: number }> => {
      const t0 = performance.now()
      let accepted = 0
      let duplicates = 0
      for (let i = 0; i < docs.length; i += 1000) {
        const r = await ingestBatch(
          db,
          docs.slice(i, i + 1000).map((doc: unknown) => ({ doc })),
          { fingerprints, nowMs: sinceMs + 120 * DAY },
          undefined,
          'import'
        )
        accepted += r.accepted
        duplicates += r.duplicates
      }
      return { s: (performance.now() - t0) / 1000, accepted, duplicates }
    }
    const first = await pass()
    const again = await pass()
    await db.query('VACUUM ANALYZE')
    const size = async (sql: string): Promise<number> => Number((await db.query(sql)).rows[0]?.b ?? 0)
    const uidsTable = await size("SELECT coalesce(pg_total_relation_size(to_regclass('measurement_uids')), 0) AS b")
    const uidIndex = await size(`SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) AS b FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'measurements_%measurement_uid_idx' OR c.relname LIKE 'measurements_%_uid%'`)
    const parts = await size(`SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) AS b FROM pg_inherits WHERE inhparent = 'measurements'::regclass`)
    return { label, storeS: first.s, resendS: again.s, dedupBytes: uidsTable + uidIndex, totalBytes: parts + uidsTable, accepted: first.accepted, duplicates: again.duplicates }
  } finally {
    await db.close()
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

const rows: Figures[] = []
const order =
  process.env.DEDUP_ORDER === 'after-first'
    ? ([
        ['after (partition keys, 0104)', values.after],
        ['before (measurement_uids)', values.before]
      ] as const)
    : ([
        ['before (measurement_uids)', values.before],
        ['after (partition keys, 0104)', values.after]
      ] as const)
for (const [label, dir] of order) {
  process.stderr.write(`dedup: ${label}: ${ROWS} documents…\n`)
  rows.push(await measure(label, dir))
}
const f = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
process.stdout.write(
  [
    `| code | store ${ROWS.toLocaleString('en-US')} (s) | docs/s | resend all (s) | dedup bytes / measurement | measurements, all bytes / measurement |`,
    '|---|---|---|---|---|---|',
    ...rows.map(r => `| ${r.label} | ${f(r.storeS)} | ${f(r.accepted / r.storeS, 0)} | ${f(r.resendS)} | ${f(r.dedupBytes / r.accepted)} | ${f(r.totalBytes / r.accepted)} |`)
  ].join('\n') + '\n'
)
for (const r of rows) if (r.accepted !== ROWS || r.duplicates !== ROWS) process.stderr.write(`dedup: ${r.label}: accepted ${r.accepted}, duplicates ${r.duplicates} of ${ROWS}\n`)
