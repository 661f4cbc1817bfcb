/**
 * The simulator's documents are valid measurements and score as intended,
 * the scenario format rejects bad fields by name, and the shipped demo
 * loads and generates.
 */
import t from 'tap'
import { validateMeasurement } from '../../shared/src/measurement.ts'
import { scoreMeasurement } from '../../shared/src/scoring.ts'
import { buildDoc } from '../../aggregator/src/simulate/docs.ts'
import { generate, type Outcome, type PlanItem } from '../../aggregator/src/simulate/generate.ts'
import { loadScenario, scenarioStartMs, validateScenario } from '../../aggregator/src/simulate/scenario.ts'
import { ooniFingerprints } from '../helpers/aggregator-app.ts'

t.test('documents validate and score as their outcome says', async t => {
  const fp = await ooniFingerprints()
  const sc = loadScenario('demo')
  const plan = generate(sc, scenarioStartMs(sc, Date.parse('2026-11-20T12:34:00Z')))
  const probe = plan.probes.find(p => p.cc === 'IR')!
  const doc = (outcome: Outcome, input = 0): ReturnType<typeof buildDoc> => {
    const item: PlanItem = { probe: probe.index, target: input, t: plan.startMs + 3600_000, upload: plan.startMs + 3600_000, outcome }
    return buildDoc(sc, probe, 'p-1', item)
  }
  const cases: Array<[string, Outcome, { anomaly: boolean; confirmed: boolean; failure: boolean; blocking_type: string | null }]> = [
    ['ok', { kind: 'ok' }, { anomaly: false, confirmed: false, failure: false, blocking_type: null }],
    ['falsePositive', { kind: 'fp' }, { anomaly: true, confirmed: false, failure: false, blocking_type: 'http-failure' }],
    ['dnsNxdomain', { kind: 'blocked', technique: 'dns' }, { anomaly: true, confirmed: false, failure: false, blocking_type: 'dns' }],
    ['dnsNationalBlockpage', { kind: 'blocked', technique: 'dns_blockpage', blockpage_ip: '10.10.34.36' }, { anomaly: true, confirmed: true, failure: false, blocking_type: 'dns' }],
    ['tcpTimeout', { kind: 'blocked', technique: 'tcp_ip' }, { anomaly: true, confirmed: false, failure: false, blocking_type: 'tcp_ip' }],
    ['tlsReset', { kind: 'blocked', technique: 'tls' }, { anomaly: true, confirmed: false, failure: false, blocking_type: 'tls' }],
    ['httpBlockpage', { kind: 'blocked', technique: 'http_blockpage' }, { anomaly: true, confirmed: true, failure: false, blocking_type: 'http-diff' }],
    ['siteDown', { kind: 'blocked', technique: 'down' }, { anomaly: false, confirmed: false, failure: false, blocking_type: null }],
    ['outage', { kind: 'outage' }, { anomaly: false, confirmed: false, failure: true, blocking_type: null }]
  ]
  for (const [name, outcome, want] of cases) {
    const d = doc(outcome)
    t.same(validateMeasurement(d), [], `${name}: valid`)
    const s = scoreMeasurement(d, fp)
    t.same({ anomaly: s.anomaly, confirmed: s.confirmed, failure: s.failure, blocking_type: s.blocking_type }, want, `${name}: scored`)
  }
  t.equal(doc({ kind: 'ok' }).probe_ip, '127.0.0.1')
  t.equal(doc({ kind: 'ok' }).measurement_start_time.length, 19)
  t.equal(doc({ kind: 'ok' }).measurement_uid, doc({ kind: 'ok' }).measurement_uid, 'uids are deterministic')
})

t.test('the demo generates its truth', async t => {
  const sc = loadScenario('demo')
  const plan = generate(sc, Date.parse('2026-11-18T00:00:00Z'))
  t.equal(plan.probes.length, 15)
  t.ok(plan.items.length > 20000)
  t.ok(
    plan.items.every((it, i) => i === 0 || plan.items[i - 1].upload <= it.upload),
    'items come in upload order'
  )
  t.equal(plan.truth.filter(x => x.kind === 'outage').length, 1)
  const outageUploads = plan.items.filter(it => it.outcome.kind === 'outage').map(it => it.upload)
  t.ok(Math.min(...outageUploads) >= plan.startMs + 117 * 3600_000, 'outage measurements are uploaded after the outage')
  const fb = plan.truth.find(x => x.domain === 'www.facebook.com')!
  t.equal(new Date(fb.end).toISOString(), '2026-11-22T03:30:00.000Z', 'the truth ends with the last "on" period')
})

t.test('scenario errors name the field', async t => {
  const base = {
    name: 's',
    start: '-1d',
    duration_hours: 24,
    countries: [{ cc: 'IR', networks: [{ asn: 'AS1', probes: 1 }] }],
    targets: [{ input: 'https://a.example/' }]
  }
  t.doesNotThrow(() => validateScenario(base))
  t.throws(() => validateScenario({ ...base, start: 'yesterday' }), /scenario start:/)
  t.throws(() => validateScenario({ ...base, countries: [{ cc: 'Iran', networks: [] }] }), /countries\[0\]\.cc/)
  t.throws(() => validateScenario({ ...base, targets: [{ input: 'dns://a.example' }] }), /targets\[0\]\.input/)
  t.throws(() => validateScenario({ ...base, episodes: [{ cc: 'IR', asns: ['AS2'], targets: ['https://a.example/'], technique: 'dns', start_hour: 1, end_hour: 2 }] }), /episodes\[0\]\.asns/)
  t.throws(() => validateScenario({ ...base, episodes: [{ cc: 'IR', targets: ['https://a.example/'], technique: 'carrier-pigeon', start_hour: 1, end_hour: 2 }] }), /episodes\[0\]\.technique/)
  t.throws(() => validateScenario({ ...base, outages: [{ cc: 'IR', start_hour: 5, end_hour: 30 }] }), /outages\[0\]/)
})
