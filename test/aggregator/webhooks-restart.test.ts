/**
 * Webhook alerts across an aggregator restart (issue 17, "Test the alerts
 * against a local receiver, with a restart in the middle"): a real HTTP
 * receiver on loopback that checks every signature and deduplicates by
 * delivery id; an event starts while the receiver holds the post, the
 * aggregator stops during it, and a second aggregator on the same database
 * posts it again and then the event's end. Every delivery id enqueued must
 * arrive; duplicates are counted apart.
 */
import t from 'tap'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { freshDb, testDriver } from '../helpers/db.ts'
import { testApp } from '../helpers/aggregator-app.ts'
import { insertRows, type Row } from '../timeline/rows.ts'

const H = 3600_000
const T0 = Date.parse('2024-03-01T00:00:00Z')
const NETS = [
  { asn: 'AS197207', probes: ['a1', 'a2'] },
  { asn: 'AS44244', probes: ['b1', 'b2'] },
  { asn: 'AS58224', probes: ['c1'] }
]

/** Two measurements an hour per probe of www.facebook.com, from `fromH` to `toH`, blocked (DNS) from hour 30 to hour 60. */
function rows(fromH: number, toH: number): Row[] {
  const out: Row[] = []
  for (const n of NETS) {
    for (const p of n.probes) {
      for (let m = fromH * 60; m < toH * 60; m += 30) {
        const tMs = T0 + m * 60_000 + ((p.charCodeAt(1) * 7) % 20) * 60_000
        const blocked = tMs >= T0 + 30 * H && tMs < T0 + 60 * H
        out.push({ t: new Date(tMs), asn: n.asn, probe: p, domain: 'www.facebook.com', anomaly: blocked })
      }
    }
  }
  return out
}

/** What the receiver saw. */
interface Seen {
  id: string
  type: string
  body: Record<string, unknown>
}

/**
 * The receiver: checks the signature (HMAC-SHA256 of timestamp "." body,
 * computed here with node:crypto, not with the aggregator's code), handles
 * each delivery id once and counts the rest as duplicates. `hold` makes it
 * record a post and never answer it, as a receiver that dies after doing
 * its work would.
 */
function receiver(secret: string) {
  const handled = new Map<string, Seen>()
  const state = { duplicates: 0, badSignatures: 0, posts: 0, hold: false }
  const held: ServerResponse[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      state.posts++
      const body = Buffer.concat(chunks).toString('utf8')
      const ts = String(req.headers['blockwatch-timestamp'])
      const expected =
        'sha256=' +
        createHmac('sha256', secret)
          .update(ts + '.' + body)
          .digest('hex')
      if (req.headers['blockwatch-signature'] !== expected) {
        state.badSignatures++
        res.writeHead(401).end()
        return
      }
      const id = String(req.headers['blockwatch-delivery'])
      const parsed = JSON.parse(body) as Record<string, unknown>
      if (parsed.delivery_id !== id) {
        state.badSignatures++
        res.writeHead(400).end()
        return
      }
      if (handled.has(id)) state.duplicates++
      else handled.set(id, { id, type: String(req.headers['blockwatch-event']), body: parsed })
      if (state.hold) {
        held.push(res)
        return
      }
      res.writeHead(204).end()
    })
  })
  return { server, handled, state, held }
}

/** Waits until `cond` holds, checking every 100 ms; fails after `limitMs` (a bound against hanging, not a timing assertion). */
async function until(cond: () => Promise<boolean> | boolean, what: string, limitMs = 120_000): Promise<void> {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > limitMs) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

t.test(`an event's start and end reach a webhook across a restart, no delivery lost (${testDriver()})`, async t => {
  const secret = 'test-secret-0123456789abcdef'
  const rx = receiver(secret)
  await new Promise<void>(resolve => rx.server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const r of rx.held) r.destroy()
    rx.server.closeAllConnections()
    await new Promise(resolve => rx.server.close(resolve))
  })
  const url = `http://127.0.0.1:${(rx.server.address() as AddressInfo).port}/hook`
  const tdb = await freshDb()
  t.teardown(tdb.close)
  const auth = { authorization: 'Bearer admin-secret' }

  // First aggregator, with its jobs (event job and delivery worker) running.
  const first = await testApp({ jobs: true }, tdb)
  const created = await first.app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: auth, payload: { url, secret, probe_cc: ['ir'], domain: ['www.facebook.com'] } })
  t.equal(created.statusCode, 201, created.body)
  const hookId = created.json().webhook_id as string
  const other = await first.app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: auth, payload: { url, probe_cc: ['CN'] } })
  t.equal(other.statusCode, 201, other.body)

  // The block starts; the receiver does its work but never answers.
  rx.state.hold = true
  await insertRows(tdb.db, rows(0, 45))
  await until(() => [...rx.handled.values()].some(s => s.type === 'started'), 'the started delivery')
  const started = [...rx.handled.values()].find(s => s.type === 'started')!
  const eventId = (started.body.event as Record<string, unknown>).event_id as string
  t.equal((started.body.event as Record<string, unknown>).ongoing, true, 'the event is ongoing when it starts')

  // Restart in the middle of that post.
  await first.close()
  const pending = await tdb.db.query<{ status: string }>('SELECT status FROM webhook_deliveries WHERE delivery_id = $1', [started.id])
  t.equal(pending.rows[0]?.status, 'pending', 'the post cut by the restart is still queued')

  rx.state.hold = false
  const second = await testApp({ jobs: true }, tdb)
  t.teardown(second.close)
  await insertRows(tdb.db, rows(45, 96))
  await until(() => [...rx.handled.values()].some(s => s.type === 'ended'), 'the ended delivery')
  await until(async () => (await tdb.db.query("SELECT 1 FROM webhook_deliveries WHERE status <> 'delivered'")).rows.length === 0, 'every delivery delivered')

  const enqueued = (
    await tdb.db.query<{ delivery_id: string; webhook_id: string; type: string; event_id: string }>('SELECT delivery_id, webhook_id, type, event_id FROM webhook_deliveries ORDER BY seq')
  ).rows
  const ids = new Set(enqueued.map(d => d.delivery_id))
  t.same(
    [...ids].filter(id => !rx.handled.has(id)),
    [],
    'every delivery id enqueued arrived'
  )
  t.same(
    [...rx.handled.keys()].filter(id => !ids.has(id)),
    [],
    'the receiver saw no id that was never enqueued'
  )
  t.equal(rx.handled.size, ids.size, 'each delivery id handled once')
  t.ok(rx.state.duplicates >= 1, `the post cut by the restart came again and was counted as a duplicate (${rx.state.duplicates})`)
  t.equal(rx.state.badSignatures, 0, 'every signature verified')
  t.same(
    enqueued.filter(d => d.webhook_id !== hookId),
    [],
    'the webhook for CN got nothing'
  )

  const mine = enqueued.filter(d => d.event_id === eventId).map(d => d.type)
  t.same(mine, ['started', 'ended'], 'the event started, then ended')
  const ended = [...rx.handled.values()].find(s => s.type === 'ended')!
  const ev = ended.body.event as Record<string, unknown>
  t.equal(ev.event_id, eventId, 'the end is the same event')
  t.equal(ev.ongoing, false)
  t.ok(Math.abs(Date.parse(String(ev.end_time)) - (T0 + 60 * H)) <= 2 * H, `it ended near hour 60 (${String(ev.end_time)})`)
  t.same(ev.probe_asns, ['AS197207', 'AS44244', 'AS58224'])
  t.equal(ev.url, `https://bw.example.org/event/${eventId}`, "the link is the event's page")
  const text = JSON.stringify([...rx.handled.values()].map(s => s.body))
  t.notMatch(text, /probe_id|"a1"|"b2"|sample_measurement|127\.0\.0\.1|203\.0\.113/, 'payloads carry no probe ids, measurements or addresses')

  const list = await second.app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${hookId}/deliveries`, headers: auth })
  t.equal(list.statusCode, 200)
  t.same(
    list.json().results.map((d: { status: string }) => d.status),
    enqueued.map(() => 'delivered'),
    'the admin list shows them delivered'
  )
})
