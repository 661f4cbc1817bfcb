/**
 * The verdict in words (issue 8), on real OONI documents whose outcome OONI's
 * own pipeline established (../shared/data/ooni-measurements/README.md).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { explainMeasurement, failureInWords } from '../../aggregator/src/dashboard/explain.ts'
import { FINGERPRINTS, OONI_SAMPLES } from '../helpers/paths.ts'

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(OONI_SAMPLES + name, 'utf8'))
const fp = await loadFingerprintsDir(FINGERPRINTS)

t.test('DNS blocking confirmed by a national fingerprint (bug_352, IR)', async t => {
  const e = explainMeasurement(sample('bug_352.json'), { anomaly: true, confirmed: true, failure: false, blocking_type: 'dns' }, fp)
  t.equal(e.outcome, 'confirmed')
  t.match(e.headline, /ooni\.ir_10dot10_ipv4_1/)
  t.match(e.failedStep ?? '', /^DNS: .*10\.10\.34\.36.*inconsistent/)
  t.ok(e.fingerprints.some(f => f.name === 'ooni.ir_10dot10_ipv4_1' && f.confirms))
  t.match(e.control.join(' '), /control resolved .*91\.198\.174\.192/)
})

t.test('a blockpage seen only in a redirect (ID, archive.org)', async t => {
  const e = explainMeasurement(sample('20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json'), { anomaly: true, confirmed: true, failure: false }, fp)
  t.equal(e.outcome, 'confirmed')
  t.ok(
    e.fingerprints.some(f => f.name === 'ooni.id_lamanlabuh_kominfo' && f.confirms),
    'the Location header fingerprint'
  )
  t.match(e.steps.find(s => s.step === 'HTTP')?.probe ?? '', /redirecting to http:\/\/lamanlabuh\.aduankonten\.id\//)
  t.match(e.control.join(' '), /control got HTTP 200/)
})

t.test('a failed control makes a failure, not blocking (bug_351)', async t => {
  const e = explainMeasurement(sample('bug_351.json'), { anomaly: true, confirmed: false, failure: true, blocking_type: 'http-failure' }, fp)
  t.equal(e.outcome, 'failure')
  t.match(e.headline, /^Failure/)
  t.match(e.failedStep ?? '', /^HTTP/)
})

t.test('null test_keys: nothing to explain but why', async t => {
  const e = explainMeasurement(sample('test_keys_none.json'), { failure: true })
  t.equal(e.outcome, 'failure')
  t.match(e.headline, /test_keys is missing/)
})

t.test('other tests list their step failures by where they are', async t => {
  const e = explainMeasurement({ test_name: 'x', probe_cc: 'IT', test_keys: { failure: 'connection_reset', control: { failure: 'ignored' } } }, { anomaly: true })
  t.same(
    e.steps.map(s => s.step),
    ['test_keys.failure']
  )
  t.match(e.steps[0].probe, /reset/)
  const ok = explainMeasurement(sample('signal_022.json'), { anomaly: false, confirmed: false, failure: false })
  t.equal(ok.outcome, 'ok')
  t.equal(ok.failedStep, null)
})

t.test('failure strings in words', async t => {
  t.equal(failureInWords('connection_reset'), 'the connection was reset (connection_reset)')
  t.match(failureInWords('unknown_failure: boom'), /unexpected error/)
  t.equal(failureInWords('something_new'), 'something_new')
})

t.test('the stored judgement is read, not made again (issue 13)', async t => {
  const doc = sample('bug_352.json')
  // The columns say what ingest concluded; the explanation must not judge the document itself.
  const e = explainMeasurement(doc, { anomaly: true, confirmed: true, failure: false, blocking_type: 'dns', verdict_reason: 'dns_blockpage_fingerprint', fingerprints: ['ooni.ir_10dot10_ipv4_1'] }, fp)
  t.equal(e.reason, 'dns_blockpage_fingerprint')
  t.same(
    e.fingerprints.map(f => [f.name, f.confirms]),
    [['ooni.ir_10dot10_ipv4_1', true]]
  )
  const other = explainMeasurement(doc, { anomaly: false, confirmed: false, failure: false, verdict_reason: 'ok', fingerprints: null }, fp)
  t.equal(other.reason, 'ok', 'a stored reason wins over what the document would give')
  t.same(other.fingerprints, [], 'and so do the stored fingerprints')
  const down = explainMeasurement(sample('requests_none.json'), { anomaly: false, confirmed: false, failure: false, down: true, verdict_reason: 'down', fingerprints: null }, fp)
  t.match(down.headline, /target is down/)
})

t.test('an AAAA query without an answer is not a failed DNS step (issue 15)', async t => {
  const doc = {
    test_name: 'web_connectivity',
    probe_cc: 'DE',
    input: 'https://v4only.example/',
    test_keys: {
      queries: [
        { hostname: 'v4only.example', query_type: 'A', failure: null, answers: [{ answer_type: 'A', ipv4: '192.0.2.10' }] },
        { hostname: 'v4only.example', query_type: 'AAAA', failure: 'dns_no_answer', answers: [] }
      ],
      dns_experiment_failure: null,
      dns_consistency: 'consistent',
      tcp_connect: [{ ip: '192.0.2.10', port: 443, status: { success: true, failure: null } }],
      requests: [{ request: { url: 'https://v4only.example/' }, response: { code: 200, headers: {}, body: 'hi' }, failure: null }]
    }
  }
  const e = explainMeasurement(doc, { anomaly: false, confirmed: false, failure: false, verdict_reason: 'ok', fingerprints: null }, fp)
  t.equal(e.steps.find(s => s.step === 'DNS')?.failed, false)
  t.equal(e.headline, 'No blocking: every step succeeded.')
  const nx = explainMeasurement({ ...doc, test_keys: { ...doc.test_keys, queries: [{ hostname: 'v4only.example', query_type: 'A', failure: 'dns_nxdomain_error', answers: [] }] } }, { anomaly: true })
  t.equal(nx.steps.find(s => s.step === 'DNS')?.failed, true, 'a failed A query still is')
})
