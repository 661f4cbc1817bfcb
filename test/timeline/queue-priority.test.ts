/**
 * The event job's priorities (issue 18, timeline/job.ts processDirty): when
 * more series are queued than one round takes, a series that may start an
 * event goes before the updates of events already listed, and an event's
 * end (its series' new rows all fine) is taken in every round, not only
 * once no anomaly is queued. Under the load test's steady uploads some
 * anomaly was always queued, and ends waited past a minute.
 */
import t from 'tap'
import { freshDb, testDriver } from '../helpers/db.ts'
import { insertRows, type Row } from './rows.ts'
import { drainDirty, processDirty } from '../../aggregator/src/timeline/job.ts'
import { queryEvents } from '../../aggregator/src/timeline/store.ts'

const H = 3600_000
const T0 = Date.parse('2026-06-10T08:00:00Z')

/** Three confirmed blockpages minutes apart: one event (the confirmed rule). */
const block = (domain: string, probe: string, fromMs: number): Row[] =>
  [0, 5, 10].map(m => ({ t: new Date(fromMs + m * 60_000), probe, domain, anomaly: true, confirmed: true, blocking_type: 'http-diff' }))

/** Queued series, by domain. */
const queued = async (db: Parameters<typeof insertRows>[0]): Promise<string[]> =>
  (await db.query<{ domain: string }>("SELECT DISTINCT domain FROM tl_dirty WHERE kind = 'blocking' ORDER BY 1")).rows.map(r => r.domain)

t.test(`new events and ends are not held back by other anomalies (${testDriver()})`, async t => {
  const { db, close } = await freshDb()
  t.teardown(close)
  // Two events, listed.
  await insertRows(db, block('listed.example', 'p1', T0))
  await insertRows(db, block('ending.example', 'p2', T0))
  await drainDirty(db)
  t.same(
    (await queryEvents(db, { probe_cc: 'IR', limit: 10 })).map(e => [e.domain, e.end_time]).sort(),
    [
      ['ending.example', null],
      ['listed.example', null]
    ],
    'two ongoing events'
  )
  // Queued in this order: an update of the listed event (one more anomaly),
  // twelve lone anomalies elsewhere, then a new block, then eight hourly ok
  // measurements after the ending event.
  await insertRows(db, [{ t: new Date(T0 + 20 * 60_000), probe: 'p1', domain: 'listed.example', anomaly: true, blocking_type: 'dns' }])
  for (let i = 0; i < 12; i++) await insertRows(db, [{ t: new Date(T0 + i * 60_000), probe: `n${i}`, domain: `noise-${i}.example`, anomaly: true, blocking_type: 'dns' }])
  await insertRows(db, block('new.example', 'p3', T0 + H))
  await insertRows(
    db,
    [1, 2, 3, 4, 5, 6, 7, 8].map(h => ({ t: new Date(T0 + h * H), probe: 'p2', domain: 'ending.example' }))
  )

  // One round of at most 13 series with anomalies and 3 others.
  await processDirty(db, {}, 13, 0)
  const events = new Map((await queryEvents(db, { probe_cc: 'IR', limit: 10 })).map(e => [e.domain, e]))
  t.ok(events.has('new.example'), 'the new block is listed after one round, although twelve other anomalies and an update were queued before it')
  t.not(events.get('ending.example')?.end_time ?? null, null, 'the ending event has its end after the same round')
  t.same(await queued(db), ['listed.example'], 'the update of an event already listed is what waits')
  await drainDirty(db)
  t.same(await queued(db), [], 'and the next round takes it')
})
