/**
 * Webhook alerts' outbox (issue 17): which changes of an event the event
 * job's save enqueues, for which webhooks (filters by country, network,
 * domain and type), in the same transaction as the change. Events are
 * saved through saveEpisodes, the one place the job writes them.
 */
import t from 'tap'
import { freshDb, testDriver } from '../helpers/db.ts'
import { saveEpisodes } from '../../aggregator/src/timeline/store.ts'
import { matchEvents, type Episode } from '../../aggregator/src/timeline/detect.ts'
import { createWebhook, type NewWebhook } from '../../aggregator/src/store/webhooks.ts'
import { eventChanges } from '../../aggregator/src/webhooks/changes.ts'

const H = 3600_000
const T0 = Date.parse('2025-01-10T00:00:00Z')

function episode(over: Partial<Episode> = {}): Episode {
  return {
    kind: 'blocking',
    start: T0 + 10 * H,
    end: null,
    last: T0 + 12 * H,
    asns: ['AS1'],
    regions: [],
    blocking_type: 'dns',
    measurement_count: 40,
    anomaly_count: 20,
    confirmed_count: 0,
    probe_count: 4,
    source_count: 3,
    sample_uids: ['0190-sample'],
    confidence: 0.8,
    rule: 'networks',
    outlier: false,
    outlier_reason: null,
    ...over
  }
}

const hook = (id: string, over: Partial<NewWebhook> = {}): NewWebhook => ({
  webhook_id: id,
  url: 'http://127.0.0.1:9/',
  secret: 'x'.repeat(16),
  probe_cc: [],
  probe_asn: [],
  domain: [],
  types: [],
  description: '',
  ...over
})

t.test('eventChanges: each kind of change, and growth alone is none', async t => {
  const s = (id: string, end: number | null, asns: string[]) => ({ event_id: id, end, asns })
  t.same(eventChanges([], [s('a', null, ['AS1'])]), [{ event_id: 'a', type: 'started' }])
  t.same(
    eventChanges([], [s('a', 5, ['AS1'])]),
    [
      { event_id: 'a', type: 'started' },
      { event_id: 'a', type: 'ended' }
    ],
    'new and already over'
  )
  t.same(eventChanges([s('a', null, ['AS1'])], [s('a', null, ['AS1'])]), [], 'unchanged')
  t.same(eventChanges([s('a', null, ['AS2', 'AS1'])], [s('a', null, ['AS1', 'AS2'])]), [], 'same networks in another order')
  t.same(eventChanges([s('a', null, ['AS1'])], [s('a', 9, ['AS1', 'AS2'])]), [
    { event_id: 'a', type: 'networks_changed', previous_asns: ['AS1'] },
    { event_id: 'a', type: 'ended' }
  ])
  t.same(eventChanges([s('a', 9, ['AS1'])], [s('a', null, ['AS1'])]), [{ event_id: 'a', type: 'reopened' }])
  t.same(eventChanges([s('a', 9, ['AS1'])], [s('a', 12, ['AS1'])]), [], 'an end that moved is no change')
})

t.test(`saving events enqueues their changes for the webhooks that want them (${testDriver()})`, async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  await createWebhook(db, hook('wh_all'))
  await createWebhook(db, hook('wh_cn', { probe_cc: ['CN'] }))
  await createWebhook(db, hook('wh_as2', { probe_asn: ['AS2'] }))
  await createWebhook(db, hook('wh_twitter', { domain: ['twitter.com'] }))
  await createWebhook(db, hook('wh_ends', { types: ['ended'] }))
  await createWebhook(db, hook('wh_ir_fb', { probe_cc: ['IR'], domain: ['www.facebook.com'] }))

  const save = async (eps: Episode[], kind: 'blocking' | 'outage' = 'blocking', domain = 'www.facebook.com'): Promise<void> => {
    await db.transaction(async tx => {
      await saveEpisodes(tx, kind, 'IR', domain, kind === 'outage' ? '' : 'web_connectivity', eps, matchEvents)
    })
  }
  let seen = 0
  /** The deliveries enqueued since the last call, as "webhook type". */
  const fresh = async (): Promise<string[]> => {
    const r = await db.query<{ seq: string; webhook_id: string; type: string }>('SELECT seq::text AS seq, webhook_id, type FROM webhook_deliveries d WHERE d.seq > $1 ORDER BY d.seq', [seen])
    if (r.rows.length > 0) seen = Number(r.rows[r.rows.length - 1].seq)
    return r.rows.map(x => `${x.webhook_id} ${x.type}`)
  }

  await save([episode()])
  t.same(await fresh(), ['wh_all started', 'wh_ir_fb started'], 'started: to the unfiltered and the matching webhooks')
  const id = (await db.query<{ event_id: string }>('SELECT event_id FROM tl_events')).rows[0].event_id

  await save([episode({ measurement_count: 80, anomaly_count: 50, last: T0 + 14 * H })])
  t.same(await fresh(), [], 'an event that only grew enqueues nothing')

  await save([episode({ asns: ['AS1', 'AS2'] })])
  t.same(await fresh(), ['wh_all networks_changed', 'wh_as2 networks_changed', 'wh_ir_fb networks_changed'], 'a network joined')
  const nc = (
    await db.query<{ previous_asns: string[]; event: { probe_asns: string[]; event_id: string } }>(
      "SELECT previous_asns, event FROM webhook_deliveries WHERE type = 'networks_changed' AND webhook_id = 'wh_all'"
    )
  ).rows[0]
  t.same(nc.previous_asns, ['AS1'])
  t.same(nc.event.probe_asns, ['AS1', 'AS2'])
  t.equal(nc.event.event_id, id, 'the same event')

  await save([episode({ asns: ['AS1'] })])
  t.same(await fresh(), ['wh_all networks_changed', 'wh_as2 networks_changed', 'wh_ir_fb networks_changed'], 'a network left: its subscribers hear of it')

  await save([episode({ end: T0 + 20 * H })])
  t.same(await fresh(), ['wh_all ended', 'wh_ends ended', 'wh_ir_fb ended'], 'ended')
  const ended = (await db.query<{ event: Record<string, unknown> }>("SELECT event FROM webhook_deliveries WHERE type = 'ended' AND webhook_id = 'wh_all'")).rows[0].event
  t.equal(ended.end_time, new Date(T0 + 20 * H).toISOString())
  t.equal(ended.ongoing, false)
  t.equal(ended.probe_cc, 'IR')
  t.notMatch(JSON.stringify(ended), /sample|0190-sample/, 'no sample measurements in the payload')

  await save([episode({ end: null, last: T0 + 22 * H })])
  t.same(await fresh(), ['wh_all reopened', 'wh_ir_fb reopened'], 'a late upload reopened it')

  await save([])
  t.same(await fresh(), ['wh_all retracted', 'wh_ir_fb retracted'], 'a rescore retracted it')
  t.equal((await db.query('SELECT 1 FROM tl_events')).rows.length, 0, 'and it is gone')
  const retracted = (await db.query<{ event: Record<string, unknown>; event_id: string }>("SELECT event, event_id FROM webhook_deliveries WHERE type = 'retracted' AND webhook_id = 'wh_all'")).rows[0]
  t.equal(retracted.event_id, id)
  t.equal(retracted.event.start_time, new Date(T0 + 10 * H).toISOString(), 'the retracted event as it stood')

  await save([episode({ start: T0 + 30 * H, end: T0 + 40 * H, asns: ['AS2'] })], 'blocking', 'twitter.com')
  t.same(
    await fresh(),
    ['wh_all started', 'wh_as2 started', 'wh_twitter started', 'wh_all ended', 'wh_as2 ended', 'wh_ends ended', 'wh_twitter ended'],
    'an event found already over: started then ended, each to its webhooks'
  )

  await save([episode({ kind: 'outage', asns: ['AS2'], blocking_type: null, rule: 'outage' })], 'outage', '')
  t.same(await fresh(), ['wh_all started', 'wh_as2 started'], 'an outage has no domain: domain filters leave it out')

  // The outbox is transactional: a save that rolls back enqueues nothing.
  await t.rejects(
    db.transaction(async tx => {
      await saveEpisodes(tx, 'blocking', 'IR', 'signal.org', 'web_connectivity', [episode()], matchEvents)
      throw new Error('rolled back')
    })
  )
  t.same(await fresh(), [], 'nothing enqueued by a rolled-back save')
  t.equal((await db.query("SELECT 1 FROM tl_events WHERE domain = 'signal.org'")).rows.length, 0)
})
