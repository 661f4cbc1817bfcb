/**
 * The pure parts: bucket states (one named case per rule), event matching,
 * poisoning (registration cohorts, the outlier flag) and where an edge is
 * reported, without a database.
 */
import t from 'tap'
import { bucketState, type BucketCounts } from '../../aggregator/src/timeline/states.ts'
import { DETECT, detectBlocking, edgeBracket, edgeTime, matchEvents, type Episode, type ProbeHourRow, type ProbeInfo } from '../../aggregator/src/timeline/detect.ts'

const H = 3600_000
const DAY = 24 * H
const T0 = Date.parse('2009-05-20T00:00:00Z')

const counts = (over: Partial<BucketCounts>): BucketCounts => ({
  measurement_count: 0,
  ok_count: 0,
  anomaly_count: 0,
  confirmed_count: 0,
  failure_count: 0,
  down_count: 0,
  unreachable_count: 0,
  probe_count: 1,
  anomalous_probe_count: 0,
  ...over
})

t.test('bucket states', async t => {
  const cases: Array<[string, Partial<BucketCounts>, string]> = [
    ['emptyBucket', {}, 'insufficient'],
    ['onlyFailures', { measurement_count: 3, failure_count: 3 }, 'insufficient'],
    ['outageUnreachable', { measurement_count: 4, failure_count: 3, unreachable_count: 2, ok_count: 1 }, 'insufficient'],
    ['singleOkIsThin', { measurement_count: 1, ok_count: 1 }, 'insufficient'],
    ['twoOk', { measurement_count: 2, ok_count: 2 }, 'ok'],
    ['siteDown', { measurement_count: 4, ok_count: 4, down_count: 3 }, 'down'],
    ['confirmedHalf', { measurement_count: 2, ok_count: 1, confirmed_count: 1, anomalous_probe_count: 1 }, 'blocked'],
    ['twoProbesAnomalous', { measurement_count: 4, anomaly_count: 4, probe_count: 2, anomalous_probe_count: 2 }, 'blocked'],
    ['loneProbeAnomalous', { measurement_count: 4, anomaly_count: 4, anomalous_probe_count: 1 }, 'likely_blocked'],
    ['oneSourceManyProbes', { measurement_count: 50, anomaly_count: 50, probe_count: 50, anomalous_probe_count: 50, anomalous_source_count: 1 }, 'likely_blocked'],
    ['loneFalsePositiveInTwo', { measurement_count: 2, ok_count: 1, anomaly_count: 1, anomalous_probe_count: 1 }, 'ok'],
    ['partial', { measurement_count: 10, ok_count: 6, anomaly_count: 4, probe_count: 5, anomalous_probe_count: 2 }, 'impaired'],
    ['background5pc', { measurement_count: 100, ok_count: 95, anomaly_count: 5, probe_count: 50, anomalous_probe_count: 5 }, 'ok']
  ]
  for (const [name, c, want] of cases) t.equal(bucketState(counts(c)), want, name)
})

function row(hour: number, asn: string, probe: string, anomalous: boolean, n = 2): ProbeHourRow {
  const t0 = T0 + hour * H
  return {
    hour: t0,
    asn,
    region: '',
    probe,
    n,
    ok: anomalous ? 0 : n,
    anomaly: anomalous ? n : 0,
    confirmed: 0,
    failure: 0,
    down: 0,
    unreachable: 0,
    first_anomaly: anomalous ? t0 + 60_000 : null,
    last_anomaly: anomalous ? t0 + 1_860_000 : null,
    first_unreachable: null,
    last_unreachable: null,
    sample_uid: anomalous ? `0uid-${probe}-${hour}` : null,
    blocking_type: anomalous ? 'dns' : null
  }
}

t.test('poisoning: probes registered together are one source; established probes flag outliers', async t => {
  // Ten fresh probes of one cohort in one network say "blocked" for 10 hours.
  const rows: ProbeHourRow[] = []
  const probes = new Map<string, ProbeInfo>()
  for (let i = 0; i < 10; i++) {
    probes.set(`x${i}`, { first_seen: T0 + 90 * H, source: 'reg:AS1:2009-05-23T18:00' })
    for (let h = 100; h < 110; h++) rows.push(row(h, 'AS1', `x${i}`, true))
  }
  t.same(detectBlocking(rows, probes), [], 'one cohort in one network makes no event')

  // The same flood from two cohorts in two networks, while four established
  // probes in those networks keep seeing the target (outvoted: 20 against 4).
  for (let i = 0; i < 10; i++) {
    probes.set(`y${i}`, { first_seen: T0 + 90 * H, source: 'reg:AS2:2009-05-23T18:05' })
    for (let h = 100; h < 110; h++) rows.push(row(h, 'AS2', `y${i}`, true))
  }
  for (const [asn, p] of [
    ['AS1', 'e1'],
    ['AS1', 'e2'],
    ['AS2', 'e3'],
    ['AS2', 'e4']
  ]) {
    probes.set(p, { first_seen: T0, source: p })
    for (let h = 0; h < 120; h++) rows.push(row(h, asn, p, false))
  }
  const eps = detectBlocking(rows, probes)
  t.equal(eps.length, 1, 'two cohorts in two networks make an event')
  t.equal(eps[0].source_count, 2)
  t.equal(eps[0].probe_count, 20)
  t.equal(eps[0].outlier, true, 'established probes disagree: outlier')
  t.match(eps[0].outlier_reason, /established probe sources/)
  t.ok(eps[0].confidence < 0.5)
})

t.test('matchEvents keeps ids by overlap', async t => {
  const ep = (start: number, end: number | null): Episode => ({
    kind: 'blocking',
    start,
    end,
    last: end ?? start,
    asns: [],
    regions: [],
    blocking_type: null,
    measurement_count: 0,
    anomaly_count: 0,
    confirmed_count: 0,
    probe_count: 0,
    source_count: 0,
    sample_uids: [],
    confidence: 0,
    rule: 'networks',
    outlier: false,
    outlier_reason: null
  })
  const stored = [
    { event_id: 'a', start: T0, end: T0 + DAY },
    { event_id: 'b', start: T0 + 5 * DAY, end: null }
  ]
  t.same(matchEvents([ep(T0 + H, T0 + DAY + H), ep(T0 + 5 * DAY - H, null), ep(T0 + 9 * DAY, T0 + 10 * DAY)], stored), ['a', 'b', null])
  t.same(matchEvents([ep(T0 + 4 * DAY, T0 + 7 * DAY), ep(T0 + 4 * DAY + H, T0 + 4 * DAY + 2 * H)], stored), ['b', null], 'each stored id goes to one episode, the one that overlaps it most')
})

t.test('an edge is reported halfway between the last ok and the first anomalous measurement', async t => {
  const MIN = 60_000
  // One measurement an hour: p1 at :10, p2 at :40; the block begins at 12:25,
  // so p2's 11:40 and p1's 12:10 are the last ok ones, p2's 12:40 the first anomalous.
  const one = (probe: string, hour: number, minute: number, anomalous: boolean): ProbeHourRow => {
    const at = T0 + hour * H + minute * MIN
    return {
      ...row(hour, 'AS1', probe, anomalous, 1),
      first_anomaly: anomalous ? at : null,
      last_anomaly: anomalous ? at : null,
      first_ok: anomalous ? null : at,
      last_ok: anomalous ? null : at
    }
  }
  const rows: ProbeHourRow[] = []
  for (let h = 8; h < 16; h++) {
    rows.push(one('p1', h, 10, h >= 13), one('p2', h, 40, h >= 12))
  }
  const b = edgeBracket(rows, T0 + 12 * H, 'start')
  t.same(b, { anomalous: T0 + 12 * H + 40 * MIN, ok: T0 + 12 * H + 10 * MIN, measured: true }, 'bracketed by p1 at 12:10 and p2 at 12:40')
  t.equal(edgeTime(rows, T0 + 12 * H, 'start'), T0 + 12 * H + 25 * MIN, 'reported at 12:25')
  t.equal(edgeTime(rows, T0 + 12 * H, 'start', { ...DETECT, EDGE_AT: 'anomalous' }), T0 + 12 * H + 40 * MIN, "EDGE_AT 'anomalous': at 12:40")
  const unmeasured = rows.map(({ first_ok: _f, last_ok: _l, ...r }) => r)
  t.equal(edgeTime(unmeasured, T0 + 12 * H, 'start'), T0 + 12 * H + 40 * MIN, 'rows without ok times: the first anomalous measurement')

  // A false positive of p2 at 11:40, before p1's ok measurement at 12:10, is passed over.
  const fp = rows.map(r => (r.probe === 'p2' && r.hour === T0 + 11 * H ? one('p2', 11, 40, true) : r))
  t.equal(edgeTime(fp, T0 + 12 * H, 'start'), T0 + 12 * H + 25 * MIN, "a false positive before another probe's ok measurement changes nothing")

  // p1's anomaly at 12:10 is an http-failure, its block from 13:10 on dns:
  // not the block. Were it dns, nothing would tell it apart from the block.
  const kinds = rows.map(r => (r.probe === 'p1' && r.hour === T0 + 12 * H ? { ...one('p1', 12, 10, true), blocking_type: 'http-failure' } : r))
  t.same(edgeBracket(kinds, T0 + 12 * H, 'start'), { anomalous: T0 + 12 * H + 40 * MIN, ok: T0 + 11 * H + 40 * MIN, measured: true }, 'another kind of anomaly beside the block is passed over')
  const same = rows.map(r => (r.probe === 'p1' && r.hour === T0 + 12 * H ? one('p1', 12, 10, true) : r))
  t.equal(edgeBracket(same, T0 + 12 * H, 'start')?.anomalous, T0 + 12 * H + 10 * MIN, 'the same kind is taken for the block')
})
