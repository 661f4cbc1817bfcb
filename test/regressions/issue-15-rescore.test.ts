/**
 * Issue 15: `rescore` reported 79 verdicts changed when 2 had. A rescore
 * with a new fingerprint list that confirms exactly two stored measurements
 * reports `changed: 2` and the rest as restamped (only their versions
 * stamped), and a second run with the same list touches nothing.
 */
import t from 'tap'
import { ingestBatch } from '../../aggregator/src/ingest/ingest.ts'
import { rescoreAll } from '../../aggregator/src/commands/rescore.ts'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import { freshDb, testDriver } from '../helpers/db.ts'
import { sampleMeasurement, webKeys } from '../helpers/aggregator-app.ts'

t.test(`rescore counts changed verdicts apart from restamped rows, on ${testDriver()}`, async t => {
  const tdb = await freshDb()
  t.teardown(tdb.close)
  const before: FingerprintDb = { version: 'list-1', dns: new Map(), http: [] }
  const after: FingerprintDb = {
    version: 'list-2',
    dns: new Map([['10.10.34.36', { name: 'nat_ir_dns', scope: 'nat', location_found: 'dns', pattern_type: 'full', pattern: '10.10.34.36', expected_countries: ['IR'], confidence_no_fp: 10 }]]),
    http: []
  }
  const docs: Array<Record<string, unknown>> = []
  for (let i = 0; i < 40; i++) {
    const input = `https://site${i}.example/`
    // Two answer with the address only list-2 knows; four more are blocked in ways no fingerprint names.
    const technique = i === 7 || i === 23 ? 'dns_blockpage' : i % 10 === 3 ? 'tcp_ip' : undefined
    docs.push(sampleMeasurement(`p${i % 4}`, { input, test_keys: webKeys(input, technique), measurement_uid: `issue15-${String(i).padStart(2, '0')}` }))
  }
  const stored = await ingestBatch(
    tdb.db,
    docs.map(doc => ({ doc })),
    { fingerprints: before, nowMs: Date.now() }
  )
  t.equal(stored.accepted, 40, 'all stored')
  const confirmedBefore = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM measurements WHERE confirmed')
  t.equal(confirmedBefore.rows[0].n, 0, 'list-1 confirms nothing')

  const totals = await rescoreAll(tdb.db, after, { chunk: 16 })
  t.same(totals, { scanned: 40, changed: 2, restamped: 38, archivedMonths: [] }, 'two verdicts changed, the rest only restamped')
  const confirmed = await tdb.db.query<{ measurement_uid: string }>('SELECT measurement_uid FROM measurements WHERE confirmed ORDER BY measurement_uid')
  t.same(
    confirmed.rows.map(r => r.measurement_uid),
    ['issue15-07', 'issue15-23'],
    'the two now confirmed'
  )
  const versions = await tdb.db.query<{ v: string; n: number }>('SELECT fingerprints_version AS v, count(*)::int AS n FROM measurements GROUP BY 1')
  t.same(versions.rows, [{ v: 'list-2', n: 40 }], 'every row stamped with the new list')

  t.same(await rescoreAll(tdb.db, after), { scanned: 40, changed: 0, restamped: 0, archivedMonths: [] }, 'the same list again changes and stamps nothing')
})
