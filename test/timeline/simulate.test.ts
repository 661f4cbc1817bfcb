/**
 * Scenario tests through the real ingest API: `blockwatch simulate`'s
 * generator and poster against a listening aggregator with its event job
 * running, at 1 probe per network and at 50. Every scripted episode must be
 * found with its start and end within one hour of the truth, nothing else
 * reported, and late uploads and outages must come out as specified.
 */
import t from 'tap'
import { testApp } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'
import { generate, type PlanItem, type TruthEpisode } from '../../aggregator/src/simulate/generate.ts'
import { postPlan, registerProbes } from '../../aggregator/src/simulate/post.ts'
import { validateScenario, scenarioStartMs, type Scenario } from '../../aggregator/src/simulate/scenario.ts'
import type { EventRecord } from '../../aggregator/src/timeline/store.ts'
import { timelineJobRunner, type TimelineSeries } from '../../aggregator/src/routes/timelines.ts'

const H = 3600_000
const FB = 'https://www.facebook.com/'
const TW = 'https://twitter.com/'
const TG = 'https://web.telegram.org/'

function scenario(intervalMinutes: number): Scenario {
  return validateScenario({
    name: 'test-small',
    start: '2026-01-05T00:00:00Z',
    duration_hours: 36,
    interval_minutes: intervalMinutes,
    background_fp_rate: 0.05,
    seed: 7,
    countries: [
      {
        cc: 'IR',
        networks: [
          { asn: 'AS197207', probes: 1, regions: ['IR-23'] },
          { asn: 'AS44244', probes: 1, regions: ['IR-07'] },
          { asn: 'AS58224', probes: 1 }
        ]
      }
    ],
    targets: [{ input: FB }, { input: TW }, { input: TG }],
    episodes: [
      { name: 'facebook national blockpage, flapping', cc: 'IR', targets: [FB], technique: 'dns_blockpage', start_hour: 4, end_hour: 18, flapping: { on_minutes: 120, off_minutes: 60 } },
      { name: 'twitter on two networks', cc: 'IR', asns: ['AS197207', 'AS44244'], targets: [TW], technique: 'tcp_ip', start_hour: 8, end_hour: 22 },
      { name: 'telegram on one network', cc: 'IR', asns: ['AS58224'], targets: [TG], technique: 'tls', start_hour: 12, end_hour: 20 }
    ],
    outages: [{ cc: 'IR', asns: ['AS197207', 'AS44244'], start_hour: 24, end_hour: 27, upload_after_hours: 1 }],
    upload_delays: [{ cc: 'IR', asns: ['AS44244'], from_hour: 8, to_hour: 14, delay_hours: 14 }]
  })
}

const near = (iso: string | null, ms: number): boolean => iso !== null && Math.abs(Date.parse(iso) - ms) <= H
const fmt = (ms: number): string => new Date(ms).toISOString()

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<{ value: T | undefined; ms: number }> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v !== undefined || Date.now() - t0 > timeoutMs) return { value: v, ms: Date.now() - t0 }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

const T_START = Date.now()
for (const perNetwork of (process.env.BW_SIM_SCALES ?? '1,50').split(',').map(Number)) {
  t.test(`scenario at ${perNetwork} probe(s) per network, through the ingest API (${testDriver()})`, async t => {
    const { app, tdb, close } = await testApp({
      jobs: true,
      rateLimits: { ingest: { max: 1_000_000, timeWindow: '1 minute' }, probes: { max: 1_000_000, timeWindow: '1 minute' }, researcher: { max: 1_000_000, timeWindow: '1 minute' } }
    })
    t.comment(`app built at ${Date.now() - T_START} ms`)
    t.teardown(async () => {
      const c0 = Date.now()
      await close()
      t.comment(`closed in ${Date.now() - c0} ms`)
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const addr = app.server.address()
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`

    const sc = scenario(perNetwork === 1 ? 30 : 360)
    const startMs = scenarioStartMs(sc, Date.now())
    const plan = generate(sc, startMs, { probesPerNetwork: perNetwork })
    // Probes of one network registered in one minute count as one source:
    // keep the registrations inside one minute.
    if (perNetwork > 1 && new Date().getUTCSeconds() > 45) await new Promise(resolve => setTimeout(resolve, (61 - new Date().getUTCSeconds()) * 1000))
    const t1 = Date.now()
    const creds = await registerProbes(url, plan)
    t.comment(`registered ${plan.probes.length} in ${Date.now() - t1} ms`)
    const truth = (name: string): TruthEpisode => plan.truth.find(x => x.name === name)!
    const events = async (q = ''): Promise<EventRecord[]> => (await app.inject({ url: `/api/v1/events?probe_cc=IR${q}` })).json().results
    const settled = async (): Promise<void> => {
      // The job claims dirty series before recomputing them: wait for an
      // empty queue, then for the run in flight, and check again.
      const w = await until(async () => {
        const dirty = async (): Promise<number> => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM tl_dirty')).rows[0].n
        if ((await dirty()) > 0) return undefined
        await timelineJobRunner(tdb.db)?.runNow('timeline-events')
        return (await dirty()) === 0 ? true : undefined
      }, 60_000)
      t.comment(`settled in ${w.ms} ms`)
    }

    // 1. Everything uploaded on time.
    const cut = startMs + 23 * H
    const onTime: PlanItem[] = plan.items.filter(it => it.upload < cut)
    const late: PlanItem[] = plan.items.filter(it => it.upload >= cut)
    t.ok(late.some(it => it.outcome.kind === 'outage') && late.some(it => it.outcome.kind === 'blocked'), 'the plan has late outage and blocking measurements')
    const t0 = Date.now()
    let r = await postPlan(url, sc, plan, creds, onTime)
    t.comment(`posted ${onTime.length} in ${Date.now() - t0} ms`)
    t.equal(r.rejected, 0, `no rejections: ${r.firstErrors.join('; ')}`)
    t.equal(r.accepted + r.duplicates, onTime.length, 'every measurement stored (a retried batch counts as duplicates)')
    await settled()
    t.equal((await events('&kind=outage')).length, 0, 'no outage before its measurements arrive')
    const twBefore = await events('&domain=twitter.com')
    t.equal(twBefore.length, 1, 'twitter is already an event')

    // 2. The late uploads: the outage and the delayed part of the twitter block.
    const post = Date.now()
    r = await postPlan(url, sc, plan, creds, late)
    t.equal(r.rejected, 0, `no rejections: ${r.firstErrors.join('; ')}`)
    const tl = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&domain=www.facebook.com&since=${fmt(startMs + 24 * H)}&until=${fmt(startMs + 27 * H)}` })
    const out: TimelineSeries[] = tl.json().results
    const cut1 = out.filter(s => s.probe_asn === 'AS197207' || s.probe_asn === 'AS44244')
    t.ok(cut1.length === 2 && cut1.every(s => s.buckets.every(b => b.state === 'insufficient')), 'outage buckets are insufficient as soon as they arrive')
    const seen = await until(async () => (await events('&kind=outage'))[0], 5000)
    t.ok(seen.value !== undefined, `the late outage shows as an event within 5 s of its upload (${Date.now() - post} ms after the upload began, ${seen.ms} ms after it ended)`)
    await settled()

    const all = await events()
    const found = (name: string, domain: string | null): EventRecord | undefined => {
      const tr = truth(name)
      const list = all.filter(e => e.domain === domain && e.kind === tr.kind)
      t.equal(list.length, 1, `${name}: one event`)
      const e = list[0]
      if (e === undefined) return undefined
      t.ok(near(e.start_time, tr.start), `${name}: start ${e.start_time} vs truth ${fmt(tr.start)}`)
      t.ok(near(e.end_time, tr.end), `${name}: end ${e.end_time} vs truth ${fmt(tr.end)}`)
      t.same(e.probe_asns, tr.asns, `${name}: networks`)
      return e
    }
    t.comment(`checks at ${Date.now() - T_START} ms`)
    const fb = found('facebook national blockpage, flapping', 'www.facebook.com')
    t.equal(fb?.rule, 'confirmed')
    t.ok(fb?.evidence.fingerprints.includes('ooni.ir_10dot10_ipv4_1') === true, `fingerprints: ${fb?.evidence.fingerprints.join(', ')}`)
    const tw = found('twitter on two networks', 'twitter.com')
    t.equal(tw?.event_id, twBefore[0]?.event_id, "the late uploads kept the event's id")
    t.equal(tw?.blocking_type, 'tcp_ip')
    found('outage 1', null)
    t.equal(all.length, 3, `nothing else is reported: ${all.map(e => `${e.kind} ${e.domain ?? ''}`).join(', ')}`)

    // The episode confined to one network: likely_blocked buckets, no event.
    const tg = truth('telegram on one network')
    const res = await app.inject({ url: `/api/v1/timelines?probe_cc=IR&by=asn&probe_asn=AS58224&domain=web.telegram.org&since=${fmt(tg.start + H)}&until=${fmt(tg.end - H)}` })
    const series: TimelineSeries[] = res.json().results
    t.ok(
      series.length === 1 && series[0].buckets.length >= 5 && series[0].buckets.every(b => b.state === 'likely_blocked'),
      `one network, one source: likely_blocked (${series[0]?.buckets.map(b => b.state).join(' ')})`
    )
  })
}
