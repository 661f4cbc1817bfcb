/**
 * shared/src/scoring.ts: OONI's rules for anomaly, confirmed and failure,
 * one named case per rule.
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
  data_format_version: '0.2.0', measurement_start_time: '2024-01-01 00:00:00', probe_cc: 'IR', probe_asn: 'AS1',
  test_name: 'web_connectivity', input: 'https://x.example/', test_keys: tk as Measurement['test_keys'], ...over
})
const dnsAnswer = (ip: string): unknown => ({ queries: [{ answers: [{ answer_type: 'A', ipv4: ip }] }] })
const flags = (d: Measurement, verdict?: VerdictFn): [boolean, boolean, boolean] => {
  const s = scoreMeasurement(d, fp, verdict)
  return [s.anomaly, s.confirmed, s.failure]
}

const cases: Array<[string, Measurement, [boolean, boolean, boolean]]> = [
  ['noBlocking', doc({ blocking: false, accessible: true }), [false, false, false]],
  ['dnsBlockingReported', doc({ blocking: 'dns', accessible: false }), [true, false, false]],
  ['natFingerprintConfirms', doc({ blocking: 'dns', accessible: false, ...dnsAnswer('10.10.34.36') as object }), [true, true, false]],
  ['natFingerprintConfirmsAnyCountry', doc({ blocking: false, accessible: true, ...dnsAnswer('10.10.34.36') as object }, { probe_cc: 'DE' }), [true, true, false]],
  ['prodFingerprintOtherCountry', doc({ blocking: 'dns', accessible: false, ...dnsAnswer('1.2.3.4') as object }), [true, false, false]],
  ['prodFingerprintExpectedCountry', doc({ blocking: 'dns', accessible: false, ...dnsAnswer('1.2.3.4') as object }, { probe_cc: 'TR' }), [true, true, false]],
  ['fpScopeNeverConfirms', doc({ blocking: false, accessible: true, ...dnsAnswer('5.6.7.8') as object }), [false, false, false]],
  ['headerFingerprintOnRedirect', doc({ blocking: false, accessible: true, requests: [{ response: { headers: { Location: 'http://block.example/x' }, body: '' } }] }), [true, true, false]],
  ['base64HeaderDoesNotCrash', doc({ blocking: 'http-failure', accessible: false, requests: [{ response: { headers: { Location: { format: 'base64', data: Buffer.from('http://block.example/').toString('base64') } } } }] }), [true, true, false]],
  ['testKeysNull', doc(null), [false, false, true]],
  ['testKeysMissing', (() => { const d = doc({}); delete d.test_keys; return d })(), [false, false, true]],
  ['blockingNullIsFailure', doc({ blocking: null, accessible: null }), [false, false, true]],
  ['unknownFailureIsFailure', doc({ blocking: 'http-failure', accessible: false, http_experiment_failure: 'unknown_failure: boom' }), [true, false, true]],
  ['unsupportedTestIsFailure', doc({ anything: 1 }, { test_name: 'lantern' }), [false, false, true]],
  ['weirdShapeNeverThrows', doc({ queries: 'nope', requests: [null, 3, { response: 'x' }], blocking: 'dns' }), [true, false, false]]
]
for (const [name, d, want] of cases) {
  t.same(flags(d), want, name)
}

t.test('our own measurements are re-judged with the verdict code; others keep their own', async t => {
  const verdict: VerdictFn = () => ({ blocking: 'tcp_ip', accessible: false, fingerprints: [] })
  const ours = doc({ blocking: false, accessible: true }, { software_name: 'blockwatch' })
  const theirs = doc({ blocking: false, accessible: true }, { software_name: 'ooniprobe' })
  t.same(flags(ours, verdict), [true, false, false])
  t.equal(scoreMeasurement(ours, fp, verdict).blocking_type, 'tcp_ip')
  t.same(flags(theirs, verdict), [false, false, false])
  t.same(flags(ours, () => null), [false, false, false], 'a verdict that cannot judge falls back to the document')
})
