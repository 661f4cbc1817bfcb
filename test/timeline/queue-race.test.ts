/**
 * The lost update of the old dirty queue (issue 13): an ingest that finds
 * its series already queued adds nothing; if the event job claims and
 * recomputes the series after that ingest wrote but before it committed,
 * the event never sees the ingest's rows and the series is never queued
 * again. Two probes' confirmed anomalies in two networks: the second
 * transaction commits while the job runs. With the append-only queue the
 * event ends up naming both networks.
 */
import t from 'tap'
import pg from 'pg'
import { freshDb, testDriver } from '../helpers/db.ts'
import { insertRows } from './rows.ts'
import { drainDirty, processDirty } from '../../aggregator/src/timeline/job.ts'
import { queryEvents } from '../../aggregator/src/timeline/store.ts'

const H = 3600_000
const T0 = Date.parse('2026-06-10T08:00:00Z')

t.test(`an ingest that commits while the job recomputes its series is not lost (${testDriver()})`, { skip: testDriver() === 'pg' ? false : 'needs two connections: PGlite has one' }, async t => {
  const { db, url, close } = await freshDb()
  t.teardown(close)
  const confirmed = (asn: string, probe: string, minutes: number[]) =>
    minutes.map(m => ({ t: new Date(T0 + m * 60_000), asn, probe, domain: 'www.bbc.com', anomaly: true, confirmed: true, blocking_type: 'dns' }))
  // The first network's anomalies are stored and queued; the job has not run yet.
  await insertRows(db, confirmed('AS197207', 'a1', [0, 20, 40]))

  // A second ingest writes the other network's anomalies for the same series, and holds its transaction open.
  const slow = new pg.Client({ connectionString: url })
  await slow.connect()
  t.teardown(async () => {
    await slow.end().catch(() => {})
  })
  await slow.query('BEGIN')
  await insertRows(
    {
      query: async (sql, params) => {
        const r = await slow.query(sql, params as unknown[])
        return { rows: r.rows, rowCount: r.rowCount ?? 0 }
      },
      copyIn: async () => {
        throw new Error('unused')
      }
    },
    confirmed('AS44244', 'b1', [5, 25, 45])
  )

  // The job runs meanwhile: it sees only the first network.
  await processDirty(db)
  let events = await queryEvents(db, { probe_cc: 'IR', limit: 10 })
  t.equal(events.length, 1)
  t.same(events[0].probe_asns, ['AS197207'], 'before the commit, the event has the first network only')

  // The second ingest commits 3 s after its INSERT; the job drains again.
  await new Promise(resolve => setTimeout(resolve, 3000))
  await slow.query('COMMIT')
  await drainDirty(db)
  events = await queryEvents(db, { probe_cc: 'IR', limit: 10 })
  t.equal(events.length, 1, 'still one event')
  t.same(events[0].probe_asns, ['AS197207', 'AS44244'], 'after the commit, the event names both networks')
  t.equal(events[0].evidence.confirmed_count, 6)
  t.ok(Math.abs(Date.parse(events[0].start_time) - T0) < H)
})

t.test(
  `two probes of one source first seen by concurrent ingests count as one source (${testDriver()})`,
  { skip: testDriver() === 'pg' ? false : 'needs two connections: PGlite has one' },
  async t => {
    const { db, url, close } = await freshDb()
    t.teardown(close)
    // Registered in the same minute from the same network: one source (docs/methodology.md, Poisoning).
    for (const id of ['twin-a', 'twin-b']) {
      await db.query(
        `INSERT INTO probes (probe_id, token_hash, software_name, software_version, created_at, registered_asn)
      VALUES ($1, $2, 'blockwatch', '0.1.0', '2026-06-10T07:00:05Z', 'AS197207')`,
        [id, `hash-${id}`]
      )
    }
    const clients = await Promise.all(
      [0, 1].map(async () => {
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        return c
      })
    )
    t.teardown(async () => {
      for (const c of clients) await c.end().catch(() => {})
    })
    const on = (c: pg.Client) => ({
      query: async (sql: string, params?: unknown[]) => {
        const r = await c.query(sql, params as unknown[])
        return { rows: r.rows, rowCount: r.rowCount ?? 0 }
      },
      copyIn: async () => {
        throw new Error('unused')
      }
    })
    const row = (probe: string) => [{ t: new Date(T0 + 10 * 60_000), asn: 'AS197207', probe, domain: 'www.bbc.com', anomaly: true, blocking_type: 'dns' }]
    await clients[0].query('BEGIN')
    await clients[1].query('BEGIN')
    await insertRows(on(clients[0]), row('twin-a'))
    // The second probe's first rows, in a transaction of their own, while the first has not committed.
    const second = insertRows(on(clients[1]), row('twin-b'))
    await new Promise(resolve => setTimeout(resolve, 500))
    await clients[0].query('COMMIT')
    await second
    await clients[1].query('COMMIT')
    const ids = await db.query<{ n: number }>("SELECT count(DISTINCT source_id)::int AS n FROM tl_probes WHERE probe_key IN ('twin-a', 'twin-b')")
    t.equal(ids.rows[0].n, 1, 'one source number')
    const day = await db.query<{ probes: number; sources: number }>(
      "SELECT probe_count AS probes, anomalous_source_count AS sources FROM tl_day WHERE lvl = 'c' AND probe_cc = 'IR' AND domain = 'www.bbc.com'"
    )
    t.same(day.rows, [{ probes: 2, sources: 1 }], 'two probes, one independent source')
  }
)
