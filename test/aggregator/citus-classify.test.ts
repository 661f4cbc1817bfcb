/**
 * The Citus classifier (test/helpers/citus-classify.ts) on hand-written
 * statements of each class, so that test/faults/citus-statements.test.ts
 * holds docs/scale.md to verdicts that are themselves checked.
 */
import t from 'tap'
import { classify, loadParser, statementName } from '../helpers/citus-classify.ts'

const cases: Array<[string, string]> = [
  // One shard group.
  ['router', 'SELECT * FROM tl_day WHERE lvl = $1 AND probe_cc = $2 AND bucket >= $3'],
  ['router', 'SELECT m.doc FROM measurements m JOIN tl_probes p ON p.probe_key = m.probe_id WHERE m.probe_cc = $1::bpchar'],
  ['router', 'SELECT event_id FROM tl_events WHERE kind = $1 AND probe_cc = $2 FOR UPDATE'],
  ['router', 'INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since) VALUES ($1, $2, $3, $4, $5)'],
  ['router', 'SELECT m.x FROM measurements m JOIN tl_events e ON e.probe_cc = m.probe_cc WHERE e.probe_cc = $1'],
  // Several shards, each runs it.
  ['pushdown', 'SELECT probe_cc, count(*) FROM measurements WHERE measurement_start_time >= $1 GROUP BY probe_cc'],
  ['pushdown', 'SELECT doc FROM measurements WHERE measurement_uid = $1 ORDER BY ingested_at LIMIT 1'],
  ['pushdown', 'SELECT * FROM measurements WHERE probe_cc IN ($1, $2)'],
  ['pushdown', 'SELECT m.x FROM measurements m JOIN tl_events e ON e.probe_cc = m.probe_cc AND e.domain = m.domain'],
  ['pushdown', 'DELETE FROM tl_hour WHERE n <= 0'],
  // Through the coordinator.
  ['coordinator', 'INSERT INTO measurements (measurement_uid, probe_cc) SELECT measurement_uid, probe_cc FROM bw_ingest ON CONFLICT DO NOTHING'],
  ['coordinator', 'SELECT tl_card(tl_cat(probes)) FROM tl_day GROUP BY domain'],
  ['coordinator', 'WITH p AS (SELECT kind, probe_cc FROM tl_dirty GROUP BY 1, 2 ORDER BY min(marked_at) LIMIT 5) DELETE FROM tl_dirty d USING p WHERE d.kind = p.kind AND d.probe_cc = p.probe_cc'],
  ['coordinator', 'INSERT INTO webhook_deliveries (webhook_id, event_id) SELECT w.webhook_id, e.event_id FROM webhooks w JOIN tl_events e ON e.event_id = ANY($1)'],
  ['coordinator', "INSERT INTO tl_dirty (kind, probe_cc) SELECT 'blocking', probe_cc FROM tl_day GROUP BY 2 UNION ALL SELECT 'outage', probe_cc FROM tl_day GROUP BY 2"],
  ['coordinator', 'WITH e AS (DELETE FROM tl_events WHERE event_id = ANY($1) RETURNING *) INSERT INTO webhook_deliveries (event_id) SELECT event_id FROM e'],
  // No distributed table.
  ['reference', 'SELECT probe_id FROM probes WHERE token_hash = $1'],
  ['reference', 'SELECT pg_advisory_xact_lock($1)'],
  ['ddl', 'ALTER TABLE measurements DETACH PARTITION measurements_2024_01'],
  ['ddl', 'BEGIN'],
  // Refused on several shards.
  ['needs-change', 'SELECT event_id FROM tl_events WHERE kind = $1 FOR UPDATE'],
  ['needs-change', 'SELECT m.x FROM measurements m JOIN tl_events e ON e.event_id = m.measurement_uid'],
  ['needs-change', 'SELECT array_agg(DISTINCT probe_id) FROM measurements GROUP BY domain'],
  ['needs-change', 'SELECT probe_cc, count(*) FROM tl_day GROUP BY GROUPING SETS ((probe_cc), (domain))'],
  [
    'needs-change',
    'WITH mine AS (SELECT trim(probe_cc) AS probe_cc FROM measurements GROUP BY 1) SELECT * FROM mine m CROSS JOIN LATERAL (SELECT count(*) FROM measurements h WHERE h.probe_cc = m.probe_cc::bpchar) o'
  ],
  ['needs-change', 'SELECT * FROM measurements m WHERE EXISTS (SELECT 1 FROM tl_events e WHERE e.domain = m.domain)'],
  ['needs-change', 'UPDATE tl_dirty SET marked_at = clock_timestamp() WHERE kind = $1'],
  ['needs-change', 'UPDATE measurements SET probe_cc = $1 WHERE measurement_uid = $2']
]

t.test('each statement gets its Citus class', async t => {
  await loadParser()
  for (const [want, sql] of cases) {
    const got = classify(sql)
    t.equal(got.verdict, want, `${want}: ${sql.slice(0, 90)} (${got.reason})`)
  }
})

t.test('statements are named by their comment, or by what they are', async t => {
  await loadParser()
  t.equal(statementName('/* bw:store.fn */ SELECT 1', true), 'store.fn')
  t.equal(statementName('BEGIN', true), 'utility: BEGIN')
  t.equal(statementName('SELECT pg_try_advisory_lock($1) AS ok', true), 'sql: SELECT pg_try_advisory_lock($1) AS ok')
  t.equal(
    statementName('INSERT INTO tl_hour AS r (lvl) SELECT s.cc FROM (SELECT st.* FROM tl_batch st JOIN tl_probes p ON p.probe_key = st.probe_key) s', false),
    'nested: INSERT tl_hour ← tl_batch, tl_probes'
  )
  t.equal(statementName('EXISTS (SELECT $1 FROM archived_months WHERE month = start_month)', false), 'nested: expression archived_months')
  t.equal(statementName(`SELECT ${'x, '.repeat(60)}y FROM t`, true), null, 'a long statement without a comment has no name')
})
