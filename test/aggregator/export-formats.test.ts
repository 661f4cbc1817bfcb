/**
 * GET /api/v1/measurements/export (issue 14, item 3), JSONL and JSONL.gz: the
 * real OONI samples and a few thousand generated measurements go in through
 * ingest and come out oldest first, each document equal to the stored one
 * with the probe scrubbed as on every public route, and DuckDB reads them
 * back. Filters and limit narrow the export; unknown parameters are
 * refused. Parquet and the CLI: export-files.test.ts.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { formatOoniTime } from '../../shared/src/time.ts'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { probePseudonym } from '../../aggregator/src/pseudonym.ts'
import { testDriver } from '../helpers/db.ts'
import { duck } from '../helpers/duckdb.ts'
import { OONI_SAMPLES } from '../helpers/paths.ts'
import { ooniFingerprints, sampleMeasurement, testApp, webKeys } from '../helpers/aggregator-app.ts'

const SECRET = 'export-test-secret'
/** Generated measurements: more than two chunks of 1000, so that keyset paging crosses chunk boundaries. */
const GENERATED = 2345

type Doc = Record<string, unknown>
interface Stored {
  measurement_uid: string
  probe_id: string | null
  t: Date
  probe_cc: string
  anomaly: boolean
  confirmed: boolean
  failure: boolean
  down: boolean
  verdict_reason: string | null
  doc: Doc
}

/** What an export must carry for a stored document: no probe_id, probe_ip 127.0.0.1, the monthly pseudonym as `probe`. */
function scrubbed(s: Stored): Doc {
  const { probe_id: _p, ...rest } = s.doc
  return { ...rest, probe_ip: '127.0.0.1', probe: probePseudonym(SECRET, s.probe_id, s.t) }
}

t.test(`exports carry whole documents in JSONL, JSONL.gz and Parquet, on ${testDriver()}`, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-export-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { app, tdb, close } = await testApp({ pseudonymSecret: SECRET })
  t.teardown(close)

  const samples = readdirSync(OONI_SAMPLES)
    .filter(f => f.endsWith('.json'))
    .sort()
    .map(f => JSON.parse(readFileSync(OONI_SAMPLES + f, 'utf8')) as Doc)
  const ccs = ['IR', 'RU', 'DE']
  const base = Date.UTC(2024, 0, 30, 12)
  const generated = Array.from({ length: GENERATED }, (_, i) =>
    sampleMeasurement(`probe-${i % 5}`, {
      // Seven at a time share a second: the keyset's tie-break on uid is exercised.
      measurement_start_time: formatOoniTime(base + Math.floor(i / 7) * 600_000),
      probe_cc: ccs[i % 3],
      input: `https://site${i % 40}.example/`,
      test_keys: webKeys(`https://site${i % 40}.example/`, i % 11 === 0 ? 'dns' : i % 13 === 0 ? 'dns_blockpage' : undefined)
    })
  )
  const r0 = await ingestBatch(
    tdb.db,
    [...samples, ...generated].map(doc => ({ doc })),
    { fingerprints: await ooniFingerprints(), nowMs: Date.now() },
    undefined,
    'import'
  )
  t.same(r0.rejected, [], 'every document is accepted')
  const stored = (
    await tdb.db.query<Stored>(`SELECT measurement_uid, probe_id, measurement_start_time AS t, probe_cc, anomaly, confirmed, failure, down,
    verdict_reason, doc FROM measurements ORDER BY measurement_start_time, measurement_uid`)
  ).rows.map(s => ({ ...s, t: new Date(s.t), doc: typeof s.doc === 'string' ? (JSON.parse(s.doc) as Doc) : s.doc }))
  t.ok(stored.length > GENERATED, `${stored.length} stored`)
  t.ok(
    stored.some(s => s.probe_id !== null),
    'some documents carry a probe_id to scrub'
  )

  // JSONL: one whole document a line, oldest first.
  const jsonl = await app.inject({ url: '/api/v1/measurements/export?format=jsonl' })
  t.equal(jsonl.statusCode, 200, jsonl.body.slice(0, 300))
  t.match(jsonl.headers['content-type'], /^application\/x-ndjson/)
  t.equal(jsonl.headers['content-disposition'], 'attachment; filename="measurements.jsonl"')
  const lines = jsonl.body.split('\n')
  t.equal(lines.pop(), '', 'the last line ends with a newline')
  t.equal(lines.length, stored.length, 'one line per stored measurement')
  const docs = lines.map(l => JSON.parse(l) as Doc)
  t.same(
    docs.map(d => d.measurement_uid),
    stored.map(s => s.measurement_uid),
    'the same uids, in (time, uid) order'
  )
  t.ok(
    docs.every(d => !('probe_id' in d) && d.probe_ip === '127.0.0.1'),
    'no probe_id and no probe address leaves'
  )
  t.notOk(jsonl.body.includes('probe-1"'), 'no probe id appears anywhere')
  t.same(docs, stored.map(scrubbed), 'each document is the stored one, scrubbed')
  t.same(await app.inject({ url: '/api/v1/measurements/export' }).then(r => r.body), jsonl.body, 'jsonl is the default format')

  // JSONL.gz: the same bytes, gzipped.
  const gz = await app.inject({ url: '/api/v1/measurements/export?format=jsonl.gz' })
  t.equal(gz.statusCode, 200)
  t.equal(gz.headers['content-type'], 'application/gzip')
  t.equal(gz.headers['content-disposition'], 'attachment; filename="measurements.jsonl.gz"')
  t.ok(gunzipSync(gz.rawPayload).equals(jsonl.rawPayload), 'gunzipped, the JSONL export byte for byte')

  // DuckDB reads the JSONL back.
  const jsonlFile = join(dir, 'm.jsonl')
  writeFileSync(jsonlFile, jsonl.rawPayload)
  const fromJson = await duck(`SELECT measurement_uid FROM read_json('${jsonlFile}', format = 'newline_delimited', maximum_object_size = 16777216) ORDER BY measurement_uid`)
  t.same(
    fromJson.map(r => r.measurement_uid),
    stored.map(s => s.measurement_uid).sort(),
    'DuckDB read_json finds the same uids'
  )

  // Filters narrow the export, as on /api/v1/measurements; limit cuts it.
  const uidsOf = (body: string): string[] =>
    body
      .trim()
      .split('\n')
      .filter(l => l !== '')
      .map(l => (JSON.parse(l) as Doc).measurement_uid as string)
  const ir = await app.inject({ url: '/api/v1/measurements/export?format=jsonl&probe_cc=IR&anomaly=true' })
  const irWant = stored.filter(s => s.probe_cc === 'IR' && s.anomaly).map(s => s.measurement_uid)
  t.ok(irWant.length > 0 && irWant.length < stored.length / 3)
  t.same(uidsOf(ir.body), irWant, 'probe_cc and anomaly narrow the export')
  const since = await app.inject({ url: '/api/v1/measurements/export?format=jsonl&since=2024-01-31T00:00:00Z&until=2024-01-31T12:05:00Z' })
  const sinceWant = stored.filter(s => s.t >= new Date('2024-01-31T00:00:00Z') && s.t < new Date('2024-01-31T12:05:00Z')).map(s => s.measurement_uid)
  t.ok(sinceWant.length > 0)
  t.same(uidsOf(since.body), sinceWant, 'since and until narrow the export')
  const limited = await app.inject({ url: '/api/v1/measurements/export?format=jsonl&limit=1500' })
  t.same(
    uidsOf(limited.body),
    stored.slice(0, 1500).map(s => s.measurement_uid),
    'limit: the oldest rows'
  )
  const none = await app.inject({ url: '/api/v1/measurements/export?format=jsonl.gz&probe_cc=ZZ' })
  t.equal(none.statusCode, 200)
  t.equal(gunzipSync(none.rawPayload).length, 0, 'an empty selection is an empty file')

  // Bad requests: 400 naming the parameter.
  for (const [q, field] of [
    ['format=csv', 'format'],
    ['report_idx=1', 'report_idx'],
    ['limit=0', 'limit'],
    ['probe_cc=Iran', 'probe_cc'],
    ['since=yesterday', 'since']
  ] as const) {
    const r = await app.inject({ url: `/api/v1/measurements/export?${q}` })
    t.equal(r.statusCode, 400, `${q}: 400`)
    t.match(r.body, field, `${q}: the error names ${field}`)
  }
})
