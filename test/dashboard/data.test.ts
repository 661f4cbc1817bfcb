/** The dashboard's readings of the timelines and events answers, and the country page's windows (issue 8). */
import t from 'tap'
import { eventOf, seriesOf } from '../../aggregator/src/dashboard/data.ts'
import { windowOf } from '../../aggregator/src/dashboard/pages/country.ts'

t.test('timeline series with nested buckets, as GET /api/v1/timelines answers', async t => {
  const s = seriesOf({
    metadata: {},
    results: [
      {
        probe_cc: 'IR',
        probe_asn: null,
        probe_region: null,
        domain: 'a.example',
        test_name: 'web_connectivity',
        buckets: [
          { time: '2026-11-25T01:00:00.000Z', state: 'blocked', ok_count: 0, anomaly_count: 2, confirmed_count: 1, failure_count: 0 },
          { time: '2026-11-25T00:00:00.000Z', state: 'ok', ok_count: 3, anomaly_count: 0, confirmed_count: 0, failure_count: 1 }
        ]
      },
      { domain: null, test_name: 'tcp_connect', buckets: [] }
    ]
  })
  t.equal(s.length, 2)
  t.same(
    s.find(x => x.domain === 'a.example')?.buckets,
    [
      { t: Date.parse('2026-11-25T00:00:00Z'), ok: 3, anomaly: 0, confirmed: 0, failure: 1, state: 'ok' },
      { t: Date.parse('2026-11-25T01:00:00Z'), ok: 0, anomaly: 2, confirmed: 1, failure: 0, state: 'blocked' }
    ],
    'in time order'
  )
  t.equal(s.find(x => x.test_name === 'tcp_connect')?.domain, '(all)')
})

t.test('flat bucket rows are grouped by target', async t => {
  const s = seriesOf([
    { domain: 'b', test_name: 'x', time: '2026-11-25 00:00:00', ok: 1 },
    { domain: 'b', test_name: 'x', time: '2026-11-25 01:00:00', anomaly: 1, state: 'likely_blocked' }
  ])
  t.equal(s.length, 1)
  t.equal(s[0].buckets.length, 2)
  t.equal(s[0].buckets[0].state, 'insufficient', 'a bucket without a state is never ok')
})

t.test('an event as GET /api/v1/events answers', async t => {
  const e = eventOf({
    event_id: 'e1',
    kind: 'blocking',
    probe_cc: 'IR',
    domain: 'a.example',
    test_name: 'web_connectivity',
    start_time: '2026-11-24T00:00:00Z',
    end_time: null,
    ongoing: true,
    blocking_type: 'dns',
    probe_asns: ['AS1', 'AS2'],
    probe_regions: ['IR-23'],
    evidence: { measurement_count: 10, probe_count: 3, fingerprints: ['fp1'], sample_measurement_uids: ['u1'] },
    confidence: 0.8,
    rule: 'networks',
    outlier: false
  })!
  t.match(e, {
    event_id: 'e1',
    end_time: null,
    asns: ['AS1', 'AS2'],
    regions: ['IR-23'],
    measurement_count: 10,
    probe_count: 3,
    fingerprints: ['fp1'],
    sample_uids: ['u1'],
    rule: 'networks',
    outlier: undefined
  })
  t.equal(eventOf({ kind: 'blocking' }), undefined, 'no id, no event')
})

t.test('windows: a period ends at the next hour; hour grain up to a week', async t => {
  const now = new Date('2026-11-25T10:20:00Z')
  t.same(windowOf({}, now), { since: '2026-11-18T11:00:00.000Z', until: '2026-11-25T11:00:00.000Z', grain: 'hour', label: 'last 7 days' })
  t.equal(windowOf({ period: '30d' }, now).grain, 'day')
  t.equal(windowOf({ period: 'bogus' }, now).label, 'last 7 days')
  const w = windowOf({ since: '2026-11-01', until: '2026-11-03' }, now)
  t.equal(w.since, '2026-11-01T00:00:00.000Z')
  t.equal(w.grain, 'hour')
  t.equal(windowOf({ since: 'not a date' }, now).label, 'last 7 days')
})
