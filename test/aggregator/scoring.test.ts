/**
 * shared/src/scoring.ts: OONI's rules for anomaly, confirmed and failure,
 * one named case per rule, applied to the verdict a judge reached (here a
 * judge that reads the verdict straight from the test keys, so that each
 * case can state it), and the rule that the verdict code judges every
 * document of its kinds, whoever made it.
 */
import t from 'tap'
import type { Measurement } from '../../shared/src/measurement.ts'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import { scoreMeasurement, type VerdictFn } from '../../shared/src/scoring.ts'

const fp: FingerprintDb = {
  version: 't',
  dns: new Map([
    ['10.10.34.36', { name: 'nat_ir', scope: 'nat', location_found: 'dns', pattern_type: 'full', pattern: '10.10.34.36', expected_countries: ['IR'], confidence_no_fp: 10 }],
    ['1.2.3.4', { name: 'prod_tr', scope: 'prod', location_found: 'dns', pattern_type: 'full', pattern: '1.2.3.4', expected_countries: ['TR'], confidence_no_fp: 5 }],
    ['5.6.7.8', { name: 'false_pos', scope: 'fp', location_found: 'dns', pattern_type: 'full', pattern: '5.6.7.8', expected_countries: ['IR'], confidence_no_fp: 0 }]
  ]),
  http: [{ name: 'hdr_block', scope: 'isp', location_found: 'header.location', pattern_type: 'prefix', pattern: 'http://block.example', expected_countries: [], confidence_no_fp: 5 }]
}

const doc = (tk: unknown, over: Partial<Measurement> = {}): Measurement => ({
  data_format_version: '0.2.0',
  measurement_start_time: '2024-01-01 00:00:00',
  probe_cc: 'IR',
  probe_asn: 'AS1',
  test_name: 'web_connectivity',
  input: 'https://x.example/',
  test_keys: tk as Measurement['test_keys'],
  ...over
})
const dnsAnswer = (ip: string): unknown => ({ queries: [{ answers: [{ answer_type: 'A', ipv4: ip }] }] })
/** A judge that takes blocking and accessible from the test keys as given (the cases state the verdict). */
const stated: VerdictFn = d => {
  const tk = (d.test_keys ?? {}) as Record<string, unknown>
  return { blocking: tk.blocking ?? null, accessible: 'accessible' in tk ? tk.accessible : true, fingerprints: [] }
}
const flags = (d: Measurement, verdict: VerdictFn = stated): [boolean, boolean, boolean] => {
  const s = scoreMeasurement(d, fp, verdict)
  return [s.anomaly, s.confirmed, s.failure]
}

const cases: Array<[string, Measurement, [boolean, boolean, boolean]]> = [
  ['noBlocking', doc({ blocking: false, accessible: true }), [false, false, false]],
  ['dnsBlockingReported', doc({ blocking: 'dns', accessible: false }), [true, false, false]],
  ['natFingerprintConfirms', doc({ blocking: 'dns', accessible: false, ...(dnsAnswer('10.10.34.36') as object) }), [true, true, false]],
  ['natFingerprintConfirmsAnyCountry', doc({ blocking: false, accessible: true, ...(dnsAnswer('10.10.34.36') as object) }, { probe_cc: 'DE' }), [true, true, false]],
  ['prodFingerprintOtherCountry', doc({ blocking: 'dns', accessible: false, ...(dnsAnswer('1.2.3.4') as object) }), [true, false, false]],
  ['prodFingerprintExpectedCountry', doc({ blocking: 'dns', accessible: false, ...(dnsAnswer('1.2.3.4') as object) }, { probe_cc: 'TR' }), [true, true, false]],
  ['fpScopeNeverConfirms', doc({ blocking: false, accessible: true, ...(dnsAnswer('5.6.7.8') as object) }), [false, false, false]],
  ['headerFingerprintOnRedirect', doc({ blocking: false, accessible: true, requests: [{ response: { headers: { Location: 'http://block.example/x' }, body: '' } }] }), [true, true, false]],
  [
    'base64HeaderDoesNotCrash',
    doc({ blocking: 'http-failure', accessible: false, requests: [{ response: { headers: { Location: { format: 'base64', data: Buffer.from('http://block.example/').toString('base64') } } } }] }),
    [true, true, false]
  ],
  ['testKeysNull', doc(null), [false, false, true]],
  [
    'testKeysMissing',
    (() => {
      const d = doc({})
      delete d.test_keys
      return d
    })(),
    [false, false, true]
  ],
  ['blockingNullIsFailure', doc({ blocking: null, accessible: null }), [false, false, true]],
  ['unknownFailureIsFailure', doc({ blocking: 'http-failure', accessible: false, http_experiment_failure: 'unknown_failure: boom' }), [true, false, true]],
  ['unsupportedTestIsFailure', doc({ anything: 1 }, { test_name: 'lantern' }), [false, false, true]],
  ['weirdShapeNeverThrows', doc({ queries: 'nope', requests: [null, 3, { response: 'x' }], blocking: 'dns' }), [true, false, false]]
]
for (const [name, d, want] of cases) {
  t.same(flags(d), want, name)
}

t.test("every document of a judged kind gets the verdict code's judgement, never the keys its probe wrote", async t => {
  const verdict: VerdictFn = () => ({ blocking: 'tcp_ip', accessible: false, fingerprints: [], reason: 'tcp_timeout' })
  const ours = doc({ blocking: false, accessible: true }, { software_name: 'blockwatch' })
  const theirs = doc({ blocking: false, accessible: true }, { software_name: 'ooniprobe' })
  t.same(flags(ours, verdict), [true, false, false])
  t.same(flags(theirs, verdict), [true, false, false], 'an imported OONI document too')
  t.match(scoreMeasurement(theirs, fp, verdict), { blocking_type: 'tcp_ip', reason: 'tcp_timeout', down: false })
  t.same(
    flags(ours, () => null),
    [false, false, true],
    'a verdict that cannot judge a web_connectivity document makes it a failure'
  )
  const legacy = doc({ connection: 'connection_refused_error' }, { test_name: 'tcp_connect', software_name: 'ooniprobe' })
  t.same(
    flags(legacy, () => null),
    [true, false, false],
    "OONI's legacy tcp_connect, which the verdict code cannot read, gets OONI's rule"
  )
})

t.test('down and unreachable are judged once, with the rest', async t => {
  const down: VerdictFn = () => ({ blocking: false, accessible: false, fingerprints: [], reason: 'down' })
  t.match(scoreMeasurement(doc({}), fp, down), { anomaly: false, failure: false, down: true, unreachable: false, reason: 'down' })
  const cut = doc({ control_failure: 'generic_timeout_error', dns_experiment_failure: 'generic_timeout_error' })
  t.match(
    scoreMeasurement(cut, fp, () => ({ blocking: null, accessible: null, fingerprints: [] })),
    { failure: true, unreachable: true, down: false }
  )
  t.match(scoreMeasurement(doc({ control_failure: 'generic_timeout_error' }), fp, stated), { unreachable: false }, 'the control alone failing is not unreachable')
  t.match(scoreMeasurement(doc({ signal_backend_status: 'ok' }, { test_name: 'signal' }), fp), { reason: null, down: false }, "OONI's kinds have no reason")
})
