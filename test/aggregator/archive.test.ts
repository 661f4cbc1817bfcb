/**
 * Retention to Parquet (issue 18, item 3): `blockwatch aggregator archive
 * --before YYYY-MM` detaches whole months, writes each as Parquet with the
 * export's columns, checks the file's row count, drops the month; rollups
 * stay; an archived month refuses what falls in it; a run killed between
 * writing a file and dropping its month finishes on the next run.
 * The command runs as a process of its own against PostgreSQL.
 */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { duck } from '../helpers/duckdb.ts'
import { ooniFingerprints, sampleMeasurement, webKeys } from '../helpers/aggregator-app.ts'
import { BLOCKWATCH_BIN } from '../helpers/paths.ts'

const BIN = BLOCKWATCH_BIN
const NOW = Date.UTC(2024, 6, 1)

/** `count` documents in a month (1-based), half of them blocked by DNS. */
function monthDocs(month: number, count: number, tag: string): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, i) => {
    const ms = Date.UTC(2024, month - 1, 1 + (i % 27), i % 24)
    const input = `https://site${i % 5}.example.org/`
    return sampleMeasurement(null, {
      measurement_uid: `arch-${tag}-${month}-${i}`,
      input,
      measurement_start_time: formatOoniTime(ms),
      test_start_time: formatOoniTime(ms),
      test_keys: webKeys(input, i % 2 === 0 ? 'dns' : undefined)
    })
  })
}

t.test(
  'archive months to Parquet, keep the rollups, refuse the archived months, resume after a kill',
  { skip: testDriver() === 'pglite' ? 'the command runs in a process of its own: PostgreSQL only' : false },
  async t => {
    const { db, url, close } = await freshDb()
    t.teardown(close)
    const dir = mkdtempSync(join(tmpdir(), 'bw-archive-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const fingerprints = await ooniFingerprints()
    const ingest = async (docs: Array<Record<string, unknown>>): Promise<Awaited<ReturnType<typeof ingestBatch>>> =>
      await ingestBatch(
        db,
        docs.map(doc => ({ doc })),
        { fingerprints, nowMs: NOW },
        undefined,
        'import'
      )
    t.match(await ingest([...monthDocs(1, 40, 'a'), ...monthDocs(2, 30, 'a'), ...monthDocs(3, 20, 'a')]), { accepted: 90, rejected: [] })
    const rollups = async (): Promise<unknown[]> =>
      (await db.query(`SELECT lvl, probe_cc, lkey, domain, test_name, bucket::text, n, ok, anomaly, confirmed, failure FROM tl_day ORDER BY 1, 2, 3, 4, 5, 6`)).rows
    const before = await rollups()
    const archive = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [BIN, 'aggregator', 'archive', '--dir', dir, ...args], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', ...env } })

    const bad = archive(['--before', '2024-13'])
    t.equal(bad.status, 2, 'a bad month is a usage error')
    t.match(bad.stderr, /--before must be a month as YYYY-MM/)
    const dry = archive(['--before', '2024-03', '--dry-run'])
    t.match(dry.stdout, /would archive 2024-01\n.*would archive 2024-02\n/s)

    const run = archive(['--before', '2024-03'])
    t.equal(run.status, 0, String(run.stderr))
    t.match(run.stdout, /2024-01: 40 measurements → .*measurements-2024-01\.parquet/)
    t.match(run.stdout, /2024-02: 30 measurements/)
    const parts = await db.query<{ jan: string | null; feb: string | null; mar: string | null }>(
      "SELECT to_regclass('measurements_2024_01')::text AS jan, to_regclass('measurements_2024_02')::text AS feb, to_regclass('measurements_2024_03')::text AS mar"
    )
    t.same(parts.rows[0], { jan: null, feb: null, mar: 'measurements_2024_03' }, 'the archived months are dropped, the next one stays')
    t.same(await rollups(), before, 'the rollups (timelines) are kept as they were')

    const jan = await duck(`SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d, min(measurement_start_time)::text AS lo, max(measurement_start_time)::text AS hi,
    sum(CASE WHEN anomaly THEN 1 ELSE 0 END)::int AS anomalies FROM read_parquet('${join(dir, 'measurements-2024-01.parquet')}')`)
    t.match(jan[0], { n: 40, d: 40, anomalies: 20 }, 'DuckDB reads the month back: every row once, the verdicts with them')
    t.match(String(jan[0].lo), /^2024-01-01/)
    t.match(String(jan[0].hi), /^2024-01-27/)
    const docs = await duck(`SELECT count(*)::int AS n FROM read_parquet('${join(dir, 'measurements-2024-0*.parquet')}') WHERE json_extract_string(doc, '$.measurement_uid') = measurement_uid`)
    t.equal(docs[0].n, 70, 'both files hold whole documents')

    // Frozen: nothing more is stored in an archived month, and the reply says why.
    const late = await ingest([...monthDocs(1, 2, 'late'), ...monthDocs(3, 2, 'late')])
    t.equal(late.accepted, 2, 'the month still in the database takes its documents')
    t.equal(late.rejected.length, 2)
    t.match(late.rejected[0], { index: 0, measurement_uid: 'arch-late-1-0', error: /measurement_start_time: the month 2024-01 is archived/ })
    t.equal((await db.query("SELECT to_regclass('measurements_2024_01')::text AS t")).rows[0].t, null, 'no partition was made again for it')
    t.match(archive(['--before', '2024-03']).stdout, /nothing before 2024-03 to archive \(2 months archived already\)/)

    // Killed after writing March's file, before dropping March: the next run finishes March, April and May.
    t.match(await ingest([...monthDocs(4, 25, 'b'), ...monthDocs(5, 15, 'b')]), { accepted: 40 })
    const afterLate = await rollups()
    const child = spawn(process.execPath, [BIN, 'aggregator', 'archive', '--dir', dir, '--before', '2024-06'], {
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent', BLOCKWATCH_ARCHIVE_PAUSE: 'written' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const exited = new Promise(resolve => child.once('exit', resolve))
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stderr }).on('line', l => {
        if (/paused after written/.test(l)) resolve()
      })
      child.once('exit', code => reject(new Error(`archive exited (${code}) before pausing`)))
    })
    child.kill('SIGKILL')
    await exited
    const mid = await db.query<{ month: string; state: string }>("SELECT to_char(month, 'YYYY-MM') AS month, state FROM archived_months WHERE month >= '2024-03-01' ORDER BY 1")
    t.same(mid.rows, [{ month: '2024-03', state: 'written' }], 'killed between the file and the drop')
    t.ok(existsSync(join(dir, 'measurements-2024-03.parquet')))
    t.equal((await db.query("SELECT to_regclass('measurements_2024_03')::text AS t")).rows[0].t, 'measurements_2024_03', 'its table is still there')
    const resumed = archive(['--before', '2024-06'])
    t.equal(resumed.status, 0, String(resumed.stderr))
    t.match(resumed.stdout, /2024-03: 22 measurements.*\n.*2024-04: 25 measurements.*\n.*2024-05: 15 measurements/s)
    const states = await db.query<{ month: string; state: string; rows: string }>("SELECT to_char(month, 'YYYY-MM') AS month, state, rows::text FROM archived_months ORDER BY 1")
    t.same(
      states.rows.map(r => [r.month, r.state, r.rows]),
      [
        ['2024-01', 'done', '40'],
        ['2024-02', 'done', '30'],
        ['2024-03', 'done', '22'],
        ['2024-04', 'done', '25'],
        ['2024-05', 'done', '15']
      ]
    )
    const mar = await duck(`SELECT count(*)::int AS n, count(DISTINCT measurement_uid)::int AS d FROM read_parquet('${join(dir, 'measurements-2024-03.parquet')}')`)
    t.match(mar[0], { n: 22, d: 22 }, 'March once, after the kill and the second run')
    t.equal((await db.query("SELECT count(*)::int AS n FROM measurements WHERE measurement_uid LIKE 'arch-%'")).rows[0].n, 0, 'nothing before June stays in the database')
    t.same(await rollups(), afterLate, 'the rollups are still kept')
    // migrate's upgrade rebuilds the rollups from measurements: the archived months' rows stay.
    await db.query('SELECT tl_rebuild()')
    t.same(await rollups(), afterLate, "a rebuild keeps the archived months' rollups")
    // Frozen for rescore too, and it says so.
    const rescore = spawnSync(process.execPath, [BIN, 'aggregator', 'rescore', '--quiet'], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' } })
    t.equal(rescore.status, 0, String(rescore.stderr))
    t.match(rescore.stdout, /5 archived months skipped, frozen as their Parquet files hold them: 2024-01, 2024-02, 2024-03, 2024-04, 2024-05/)
  }
)
