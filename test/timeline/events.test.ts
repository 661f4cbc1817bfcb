/**
 * Rollups, bucket states and event detection, from measurement rows
 * inserted with SQL (as ingest stores them), through the event job.
 */
import t from 'tap'
import { freshDb, testDriver } from '../helpers/db.ts'
import { insertRows, type Row } from './rows.ts'
import { drainDirty } from '../../aggregator/src/timeline/job.ts'
import { queryEvents, queryTimeline } from '../../aggregator/src/timeline/store.ts'
import { toSeries } from '../../aggregator/src/routes/timelines.ts'

const H = 3600_000
const T0 = Date.parse('2009-05-20T00:00:00Z')

/** A seeded PRNG (mulberry32), so that the background noise is the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Net {
  asn: string
  probes: string[]
  region?: string
}

/** Two measurements an hour per probe, from `fromH` to `toH` hours after T0. */
function series(nets: Net[], domain: string, fromH: number, toH: number, blocked: (asn: string, probe: string, tMs: number) => false | 'anomaly' | 'confirmed', fp = 0.05, seed = 1): Row[] {
  const r = rng(seed)
  const rows: Row[] = []
  for (const n of nets) {
    for (const p of n.probes) {
      for (let m = fromH * 60; m < toH * 60; m += 30) {
        const tMs = T0 + m * 60_000 + Math.floor(r() * 60_000)
        const b = blocked(n.asn, p, tMs)
        const noise = b === false && r() < fp
        rows.push({ t: new Date(tMs), asn: n.asn, probe: p, region: n.region ?? null, domain, anomaly: b !== false || noise, confirmed: b === 'confirmed' })
      }
    }
  }
  return rows
}

async function insertAll(db: Parameters<typeof insertRows>[0], rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await insertRows(db, rows.slice(i, i + 500))
}

const within = (a: string | null, bMs: number, tolMs = H): boolean => a !== null && Math.abs(Date.parse(a) - bMs) <= tolMs

const NETS: Net[] = [
  { asn: 'AS197207', probes: ['a1'], region: 'IR-23' },
  { asn: 'AS44244', probes: ['b1'], region: 'IR-07' },
  { asn: 'AS58224', probes: ['c1'] }
]

t.test(`a national block is one event; noise, lone probes and gaps behave (${testDriver()})`, async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  // facebook: national DNS block from hour 30 to hour 60, flapping (2 h on, 1 h off): the last on-period ends at hour 59.
  const on = (tMs: number): boolean => tMs >= T0 + 30 * H && tMs < T0 + 60 * H && Math.floor((tMs - T0 - 30 * H) / H) % 3 !== 2
  await insertAll(
    db,
    series(NETS, 'www.facebook.com', 0, 96, (_a, _p, tMs) => (on(tMs) ? 'anomaly' : false), 0.05, 1)
  )
  // twitter: background noise only.
  await insertAll(
    db,
    series(NETS, 'twitter.com', 0, 96, () => false, 0.05, 2)
  )
  // telegram: one probe in one network, unconfirmed, hours 40–50.
  await insertAll(
    db,
    series(NETS, 'telegram.org', 0, 96, (asn, _p, tMs) => (asn === 'AS44244' && tMs >= T0 + 40 * H && tMs < T0 + 50 * H ? 'anomaly' : false), 0.05, 3)
  )
  // signal: a gap (no data at all) in the middle of a block in two networks.
  await insertAll(
    db,
    series(NETS.slice(0, 2), 'signal.org', 0, 96, (_a, _p, tMs) => (tMs >= T0 + 20 * H && tMs < T0 + 70 * H ? 'anomaly' : false), 0, 4).filter(r => {
      const h = (new Date(r.t).getTime() - T0) / H
      return h < 35 || h >= 50
    })
  )
  await drainDirty(db)

  const events = await queryEvents(db, { probe_cc: 'IR', limit: 100 })
  const byDomain = (d: string) => events.filter(e => e.domain === d)
  t.equal(byDomain('twitter.com').length, 0, '5% background noise makes no event')
  t.equal(byDomain('telegram.org').length, 0, 'a lone unconfirmed probe makes no event')
  const fb = byDomain('www.facebook.com')
  t.equal(fb.length, 1, 'a flapping national block is one event')
  t.ok(within(fb[0]?.start_time, T0 + 30 * H), `start ${fb[0]?.start_time} within an hour of the truth`)
  t.ok(within(fb[0]?.end_time, T0 + 59 * H), `end ${fb[0]?.end_time} within an hour of the truth`)
  t.same(fb[0]?.probe_asns, ['AS197207', 'AS44244', 'AS58224'], 'it lists its networks')
  t.same(fb[0]?.probe_regions, ['IR-07', 'IR-23'])
  t.equal(fb[0]?.kind, 'blocking')
  t.equal(fb[0]?.blocking_type, 'dns')
  const sig = byDomain('signal.org')
  t.equal(sig.length, 1, 'a gap does not end a block')
  t.ok(within(sig[0]?.start_time, T0 + 20 * H) && within(sig[0]?.end_time, T0 + 70 * H), 'and the event spans it')
  t.equal(events.length, 2, 'nothing else is reported')

  // The lone probe's buckets are likely_blocked at the network level.
  const tg = toSeries('IR', await queryTimeline(db, { probe_cc: 'IR', domain: 'telegram.org', since: new Date(T0 + 40 * H), until: new Date(T0 + 50 * H), time_grain: 'hour', by: 'asn' }))
  const lone = tg.find(s => s.probe_asn === 'AS44244')!
  t.ok(
    lone.buckets.every(b => b.state === 'likely_blocked'),
    "the lone probe's buckets are likely_blocked"
  )
  t.ok(tg.filter(s => s.probe_asn !== 'AS44244').every(s => s.buckets.every(b => b.state !== 'blocked')))
  // Country-level buckets of the block are blocked; hours without data are absent, never ok.
  const fbc = toSeries('IR', await queryTimeline(db, { probe_cc: 'IR', domain: 'www.facebook.com', since: new Date(T0 + 30 * H), until: new Date(T0 + 32 * H), time_grain: 'hour', by: 'cc' }))
  t.same(
    fbc[0].buckets.map(b => b.state),
    ['blocked', 'blocked']
  )
  t.equal(fbc[0].buckets[0].probe_count, 3)
  const gap = toSeries('IR', await queryTimeline(db, { probe_cc: 'IR', domain: 'signal.org', since: new Date(T0 + 36 * H), until: new Date(T0 + 48 * H), time_grain: 'hour', by: 'cc' }))
  t.equal(gap.length, 0, 'a gap has no buckets')

  // Rescore: the event keeps its id when its evidence changes.
  const id = fb[0].event_id
  await db.query(
    `UPDATE measurements SET anomaly = false WHERE domain = 'www.facebook.com' AND probe_asn = 'AS58224'
    AND measurement_start_time < $1`,
    [new Date(T0 + 40 * H).toISOString()]
  )
  await drainDirty(db)
  const after = await queryEvents(db, { probe_cc: 'IR', domain: 'www.facebook.com', limit: 10 })
  t.equal(after.length, 1)
  t.equal(after[0].event_id, id, 'event_id survives a rescore')

  // Day grain.
  const day = toSeries('IR', await queryTimeline(db, { probe_cc: 'IR', domain: 'www.facebook.com', since: new Date(T0), until: new Date(T0 + 96 * H), time_grain: 'day', by: 'cc' }))
  t.equal(day[0].buckets.length, 4)
  t.equal(day[0].buckets[0].measurement_count, 3 * 48)
})

t.test('confirmed blockpages, history and outages', async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  // One probe, one network, confirmed blockpage: an event.
  await insertAll(
    db,
    series(NETS, 'www.bbc.com', 0, 48, (asn, _p, tMs) => (asn === 'AS58224' && tMs >= T0 + 10 * H && tMs < T0 + 20 * H ? 'confirmed' : false), 0, 5)
  )
  // Two long-standing probes in one network: an event (history rule).
  const one: Net[] = [{ asn: 'AS12880', probes: ['h1', 'h2'] }]
  await insertAll(
    db,
    series(one, 'www.dw.com', 0, 120, (_a, _p, tMs) => (tMs >= T0 + 90 * H && tMs < T0 + 100 * H ? 'anomaly' : false), 0, 6)
  )
  // Two fresh probes in one network: no event.
  const fresh: Net[] = [{ asn: 'AS12880', probes: ['n1', 'n2'] }]
  await insertAll(
    db,
    series(fresh, 'www.rferl.org', 80, 120, (_a, _p, tMs) => (tMs >= T0 + 90 * H && tMs < T0 + 100 * H ? 'anomaly' : false), 0, 7)
  )
  // Outage: probes in two networks reach neither targets nor control for 5 hours; uploaded late.
  const outage = (asn: string, probe: string, h: number): Row => ({
    t: new Date(T0 + h * H + 60_000),
    asn,
    probe,
    domain: 'www.bbc.com',
    failure: true,
    test_keys: { blocking: null, accessible: null, control_failure: 'generic_timeout_error', http_experiment_failure: 'generic_timeout_error' }
  })
  const late: Row[] = []
  for (let h = 30; h < 35; h++)
    for (const p of [
      ['AS197207', 'a1'],
      ['AS44244', 'b1']
    ]) {
      late.push(outage(p[0], p[1], h))
      late.push(outage(p[0], p[1], h + 0.5))
    }
  await db.query(
    `DELETE FROM measurements WHERE domain = 'www.bbc.com' AND probe_asn IN ('AS197207', 'AS44244')
    AND measurement_start_time >= $1 AND measurement_start_time < $2`,
    [new Date(T0 + 30 * H).toISOString(), new Date(T0 + 35 * H).toISOString()]
  )
  await drainDirty(db)
  t.equal((await queryEvents(db, { kind: 'outage', limit: 10 })).length, 0, 'no outage before the late upload')
  await insertRows(db, late)
  await drainDirty(db)

  const events = await queryEvents(db, { probe_cc: 'IR', limit: 100 })
  const bbc = events.filter(e => e.domain === 'www.bbc.com')
  t.equal(bbc.length, 1, 'one confirmed blockpage is enough')
  t.equal(bbc[0]?.rule, 'confirmed')
  t.same(bbc[0]?.probe_asns, ['AS58224'])
  const dw = events.filter(e => e.domain === 'www.dw.com')
  t.equal(dw.length, 1, 'two probes with 3 days of history make an event')
  t.equal(dw[0]?.rule, 'history')
  t.equal(events.filter(e => e.domain === 'www.rferl.org').length, 0, 'two fresh probes in one network do not')
  const out = events.filter(e => e.kind === 'outage')
  t.equal(out.length, 1, 'the late outage is found')
  t.ok(within(out[0]?.start_time, T0 + 30 * H) && within(out[0]?.end_time, T0 + 35 * H), `outage ${out[0]?.start_time} – ${out[0]?.end_time}`)
  t.same(out[0]?.probe_asns, ['AS197207', 'AS44244'])
  const buckets = toSeries('IR', await queryTimeline(db, { probe_cc: 'IR', domain: 'www.bbc.com', since: new Date(T0 + 30 * H), until: new Date(T0 + 35 * H), time_grain: 'hour', by: 'asn' }))
  t.ok(
    buckets.filter(s => s.probe_asn !== 'AS58224').every(s => s.buckets.every(b => b.state === 'insufficient')),
    'outage buckets are insufficient'
  )
  t.equal(events.length, 3, 'nothing else is reported')
})
