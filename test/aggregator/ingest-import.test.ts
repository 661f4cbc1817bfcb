/**
 * `import-ooni`, `import` and `rescore` as a user runs them: a gzipped JSONL
 * of the real OONI samples imports once (a second run finds only
 * duplicates), and rescore after a fingerprint update flips rows in place.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { freshDb, testDriver } from '../helpers/db.ts'
import { FINGERPRINTS, OONI_SAMPLES } from '../helpers/paths.ts'
import { openDatabase, type Database } from '../../aggregator/src/store/db.ts'
import { main as importOoni } from '../../aggregator/src/commands/import-ooni.ts'
import { main as importProbe } from '../../aggregator/src/commands/import.ts'
import { main as rescore } from '../../aggregator/src/commands/rescore.ts'
import { sampleMeasurement } from '../helpers/aggregator-app.ts'

t.test(`import-ooni, import and rescore on ${testDriver()}`, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-import-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let open: () => Promise<Database>
  if (testDriver() === 'pg') {
    const tdb = await freshDb({ migrate: false })
    await tdb.db.close()
    t.teardown(async () => {
      await tdb.close().catch(() => {})
    })
    process.env.DATABASE_URL = tdb.url
    open = async () => await openDatabase({ databaseUrl: tdb.url })
  } else {
    process.env.DATABASE_URL = ''
    process.env.BLOCKWATCH_DATA_DIR = join(dir, 'pglite')
    open = async () => await openDatabase({ dataDir: join(dir, 'pglite') })
  }
  delete process.env.FINGERPRINTS_DIR
  const files = readdirSync(OONI_SAMPLES).filter(f => f.endsWith('.json'))
  const jsonl = files.map(f => JSON.stringify(JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')))).join('\n') + '\n'
  const gz = join(dir, 'ooni.jsonl.gz')
  writeFileSync(gz, gzipSync(jsonl))

  t.equal(await importOoni([gz, '--quiet']), 0)
  let db = await open()
  const count = async (): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements')).rows[0].n
  const stored = await count()
  t.ok(stored >= files.length - 2, 'every sample is stored (report1blocked.json repeats report1.json)')
  await db.close()
  t.equal(await importOoni([gz, '--quiet']), 0, 'a second import runs')
  db = await open()
  t.equal(await count(), stored, 'and stores nothing twice')
  let n = await db.query<{ n: number; confirmed: number }>('SELECT count(*)::int AS n, count(*) FILTER (WHERE confirmed)::int AS confirmed FROM measurements')
  t.equal(n.rows[0].confirmed, 0, 'without fingerprints nothing is confirmed')
  await db.close()

  process.env.FINGERPRINTS_DIR = FINGERPRINTS
  t.equal(await rescore(['--quiet']), 0)
  db = await open()
  n = await db.query<{ n: number; confirmed: number }>('SELECT count(*)::int AS n, count(*) FILTER (WHERE confirmed)::int AS confirmed FROM measurements')
  t.same(n.rows[0], { n: stored, confirmed: 3 }, 'rescore updates rows in place with the new list')
  const v = await db.query<{ v: string }>('SELECT DISTINCT fingerprints_version AS v FROM measurements')
  t.same(
    v.rows.map(r => r.v),
    [`dir:${FINGERPRINTS}`]
  )
  await db.close()

  // A probe's export file: plain JSONL, one line broken.
  const exp = join(dir, 'export.jsonl')
  const m = sampleMeasurement('p1')
  writeFileSync(exp, JSON.stringify(m) + '\n{oops\n' + JSON.stringify(sampleMeasurement('p1')) + '\n')
  t.equal(await importProbe([exp, '--quiet']), 0)
  t.equal(await importProbe([exp, '--quiet']), 0)
  db = await open()
  n = await db.query('SELECT count(*)::int AS n FROM measurements WHERE probe_id = $1', ['p1'])
  t.equal(n.rows[0].n, 2)
  await db.close()
  t.equal(await importOoni([]), 2, 'no file is a usage error')
})
