/**
 * Parquet exports and `blockwatch aggregator export` (issue 14, item 3), run
 * as a user runs them: the aggregator's own `serve` and `export` commands in
 * processes of their own, on a database filled through ingest. DuckDB reads
 * the Parquet file back: standard column types, the same rows, typed
 * columns equal to the stored ones, each document equal to the stored one
 * scrubbed. The command writes the same bytes as the route for the same
 * filters, and a bad flag exits 2 naming it.
 *
 * (The server runs in a child process rather than through app.inject: tap's
 * TypeScript loader cannot resolve the Parquet library's subpath exports on
 * Node 20, while the `blockwatch` command's loader, tsx, can.)
 */
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatOoniTime } from '../../shared/src/time.ts'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { probePseudonym } from '../../aggregator/src/pseudonym.ts'
import { openDatabase, type Database } from '../../aggregator/src/store/db.ts'
import { migrate } from '../../aggregator/src/store/migrate.ts'
import { duck } from '../helpers/duckdb.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'
import { ooniFingerprints, sampleMeasurement, webKeys } from '../helpers/aggregator-app.ts'
import { BLOCKWATCH_BIN } from '../helpers/paths.ts'

const BIN = BLOCKWATCH_BIN
const SECRET = 'export-files-secret'
const GENERATED = 1234

type Doc = Record<string, unknown>
interface Stored {
  measurement_uid: string
  probe_id: string | null
  t: Date
  probe_cc: string
  probe_asn: string
  anomaly: boolean
  confirmed: boolean
  failure: boolean
  down: boolean
  unreachable: boolean
  verdict_reason: string | null
  blocking_type: string | null
  scoring_version: number
  doc: Doc
}

const scrubbed = (s: Stored): Doc => {
  const { probe_id: _p, ...rest } = s.doc
  return { ...rest, probe_ip: '127.0.0.1', probe: probePseudonym(SECRET, s.probe_id, s.t) }
}

t.test(`Parquet exports and the export command, on ${testDriver()}`, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-export-files-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, PSEUDONYM_SECRET: SECRET, LOG_LEVEL: 'silent', FINGERPRINTS_DIR: '' }
  let db: Database
  if (testDriver() === 'pg') {
    const tdb = await freshDb()
    t.teardown(tdb.close)
    db = tdb.db
    env.DATABASE_URL = tdb.url
  } else {
    env.DATABASE_URL = ''
    env.BLOCKWATCH_DATA_DIR = join(dir, 'pglite')
    db = await openDatabase({ dataDir: env.BLOCKWATCH_DATA_DIR })
    await migrate(db)
  }

  const samples = readdirSync(OONI_SAMPLES)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')) as Doc)
  const ccs = ['IR', 'RU', 'DE', 'BR']
  const base = Date.UTC(2024, 2, 1)
  const generated = Array.from({ length: GENERATED }, (_, i) =>
    sampleMeasurement(`probe-${i % 4}`, {
      measurement_start_time: formatOoniTime(base + Math.floor(i / 3) * 3600_000),
      probe_cc: ccs[i % 4],
      input: `https://site${i % 30}.example/`,
      test_keys: webKeys(`https://site${i % 30}.example/`, i % 7 === 0 ? 'dns_blockpage' : undefined)
    })
  )
  const r0 = await ingestBatch(
    db,
    [...samples, ...generated].map(doc => ({ doc })),
    { fingerprints: await ooniFingerprints(), nowMs: Date.now() },
    undefined,
    'import'
  )
  t.same(r0.rejected, [], 'every document is accepted')
  const stored = (
    await db.query<Stored>(`SELECT measurement_uid, probe_id, measurement_start_time AS t, probe_cc, probe_asn, anomaly, confirmed, failure,
    down, unreachable, verdict_reason, blocking_type, scoring_version, doc FROM measurements ORDER BY measurement_start_time, measurement_uid`)
  ).rows.map(s => ({ ...s, t: new Date(s.t), doc: typeof s.doc === 'string' ? (JSON.parse(s.doc) as Doc) : s.doc }))
  if (testDriver() === 'pglite') await db.close() // one process at a time on a PGlite folder

  const blockwatch = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    await new Promise(resolve => {
      execFile(process.execPath, [BIN, ...args], { env, timeout: 240_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
      })
    })

  // The command.
  const cliPq = join(dir, 'cli.parquet')
  let r = await blockwatch(['aggregator', 'export', '--format', 'parquet', '--output', cliPq, '--probe-cc', 'IR,RU', '--anomaly', 'true'])
  const want = stored.filter(s => ['IR', 'RU'].includes(s.probe_cc) && s.anomaly)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, `export: ${want.length} measurements written to ${cliPq} (parquet)\n`)
  t.same(
    (await duck(`SELECT measurement_uid FROM read_parquet('${cliPq}')`)).map(x => x.measurement_uid),
    want.map(s => s.measurement_uid),
    'the command writes the rows the filters select'
  )
  const cliGz = join(dir, 'cli.jsonl.gz')
  r = await blockwatch(['aggregator', 'export', '--format', 'jsonl.gz', '--output', cliGz, '--since', '2024-03-02', '--limit', '100'])
  t.equal(r.code, 0, r.stderr)
  const bad: Array<[string[], RegExp]> = [
    [['--format', 'xml', '--output', 'x'], /--format must be one of jsonl, jsonl\.gz, parquet, got "xml"/],
    [['--format', 'jsonl'], /--output FILE is needed/],
    [['--format', 'jsonl', '--output', join(dir, 'x'), '--probe-cc', 'Iran'], /--probe-cc is not in the accepted form, got "Iran"/],
    [['--format', 'jsonl', '--output', join(dir, 'x'), '--since', 'yesterday'], /--since is not in the accepted form/],
    [['--format', 'jsonl', '--output', join(dir, 'x'), '--since', '2024-03-05', '--until', '2024-03-01'], /--since: 2024-03-05 is after until/],
    [['--format', 'jsonl', '--output', join(dir, 'x'), '--limit', '0'], /--limit must be a whole number/],
    [['--format', 'jsonl', '--output', join(dir, 'x'), '--probe_cc', 'IR'], /probe_cc/]
  ]
  const refusals = await Promise.all(bad.map(async ([args]) => await blockwatch(['aggregator', 'export', ...args])))
  for (const [i, [args, message]] of bad.entries()) {
    const b = refusals[i]
    t.equal(b.code, 2, `${args.join(' ')}: exit 2`)
    t.match(b.stderr, message, `${args.join(' ')}: the error names the flag`)
  }
  t.notOk(existsSync(join(dir, 'x')), 'a refused export writes no file')

  // The route, on a server of its own.
  const server = spawn(process.execPath, [BIN, 'aggregator', 'serve', '--port', '0', '--host', '127.0.0.1'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  const stopped = new Promise(resolve => server.once('exit', resolve))
  t.teardown(async () => {
    server.kill('SIGTERM')
    await stopped
  })
  const url = await new Promise<string>((resolve, reject) => {
    let err = ''
    server.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      const m = /listening on (http:\/\/\S+)/.exec(err)
      if (m !== null) resolve(m[1])
    })
    server.once('exit', code => {
      reject(new Error(`serve exited ${code}: ${err}`))
    })
  })
  const get = async (q: string): Promise<{ status: number; type: string | null; disposition: string | null; body: Buffer }> => {
    const res = await fetch(`${url}/api/v1/measurements/export?${q}`)
    return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), body: Buffer.from(await res.arrayBuffer()) }
  }

  const all = await get('format=parquet')
  t.equal(all.status, 200)
  t.equal(all.type, 'application/vnd.apache.parquet')
  t.equal(all.disposition, 'attachment; filename="measurements.parquet"')
  const pq = join(dir, 'all.parquet')
  writeFileSync(pq, all.body)
  const types = Object.fromEntries((await duck(`DESCRIBE SELECT * FROM read_parquet('${pq}')`)).map(x => [x.column_name, x.column_type]))
  t.same(
    types,
    {
      measurement_uid: 'VARCHAR',
      report_id: 'VARCHAR',
      input: 'VARCHAR',
      domain: 'VARCHAR',
      category_code: 'VARCHAR',
      test_name: 'VARCHAR',
      measurement_start_time: 'TIMESTAMP WITH TIME ZONE',
      probe_cc: 'VARCHAR',
      probe_asn: 'VARCHAR',
      probe_region: 'VARCHAR',
      probe: 'VARCHAR',
      software_name: 'VARCHAR',
      software_version: 'VARCHAR',
      anomaly: 'BOOLEAN',
      confirmed: 'BOOLEAN',
      failure: 'BOOLEAN',
      blocking_type: 'VARCHAR',
      down: 'BOOLEAN',
      unreachable: 'BOOLEAN',
      verdict_reason: 'VARCHAR',
      scoring_version: 'INTEGER',
      fingerprints_version: 'VARCHAR',
      doc: 'JSON'
    },
    'standard logical types: STRING, TIMESTAMP (UTC), BOOLEAN, INT32, JSON'
  )
  const legacy = await duck(`SELECT name, converted_type FROM parquet_schema('${pq}') WHERE name IN ('doc', 'measurement_start_time', 'probe_cc') ORDER BY name`)
  t.same(
    legacy.map(x => [x.name, x.converted_type]),
    [
      ['doc', 'JSON'],
      ['measurement_start_time', 'TIMESTAMP_MILLIS'],
      ['probe_cc', 'UTF8']
    ],
    'the legacy converted types beside the logical ones, for older readers'
  )
  const rows = await duck(`SELECT measurement_uid, epoch_ms(measurement_start_time)::VARCHAR AS t_ms, probe_cc, probe_asn, probe, anomaly, confirmed, failure,
    down, unreachable, verdict_reason, blocking_type, scoring_version, doc::VARCHAR AS doc FROM read_parquet('${pq}')`)
  t.same(
    rows.map(x => x.measurement_uid),
    stored.map(s => s.measurement_uid),
    'the same uids, oldest first'
  )
  t.same(
    rows.map(x => [Number(x.t_ms), x.probe_cc, x.probe_asn, x.anomaly, x.confirmed, x.failure, x.down, x.unreachable, x.verdict_reason, x.blocking_type, x.scoring_version]),
    stored.map(s => [s.t.getTime(), s.probe_cc, s.probe_asn, s.anomaly, s.confirmed, s.failure, s.down, s.unreachable, s.verdict_reason, s.blocking_type, s.scoring_version]),
    'typed columns equal the stored ones'
  )
  t.ok(rows.some(x => x.confirmed === true) && rows.some(x => x.anomaly === false), 'both verdicts are present')
  t.same(
    rows.map(x => x.probe),
    stored.map(s => probePseudonym(SECRET, s.probe_id, s.t)),
    'probe: the monthly pseudonym'
  )
  t.same(
    rows.map(x => JSON.parse(String(x.doc))),
    stored.map(scrubbed),
    'doc: the stored document, scrubbed'
  )
  t.notOk(all.body.includes('probe-1'), 'no probe id anywhere in the file')
  const inside = await duck(`SELECT count(*)::INT AS n FROM read_parquet('${pq}') WHERE (doc->>'$.probe_ip') = '127.0.0.1' AND (doc->>'$.probe_id') IS NULL`)
  t.equal(inside[0].n, stored.length, 'DuckDB queries inside the JSON column')

  const filtered = await get('format=parquet&probe_cc=IR,RU&anomaly=true')
  t.ok(filtered.body.equals(readFileSync(cliPq)), 'the command and the route write the same Parquet bytes for the same filters')
  const gz = await get('format=jsonl.gz&since=2024-03-02&limit=100')
  t.ok(gz.body.equals(readFileSync(cliGz)), 'and the same JSONL.gz bytes')
  const refused = await get('format=parquet&unknown=1')
  t.equal(refused.status, 400, 'an unknown parameter is refused')
})
