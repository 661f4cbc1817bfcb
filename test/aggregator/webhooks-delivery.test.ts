/**
 * The webhook delivery worker (issue 17) against real receivers on
 * loopback: a 2xx delivers; a 5xx, a redirect (never followed) and a
 * receiver that never answers (timed out) are retried with backoff until
 * the attempts run out, then marked failed, which the admin list shows;
 * an admin's retry queues one again. The clock is the worker's injected one.
 */
import t from 'tap'
import { createHmac } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent } from 'undici'
import { testDriver } from '../helpers/db.ts'
import { testApp } from '../helpers/aggregator-app.ts'
import { saveEpisodes } from '../../aggregator/src/timeline/store.ts'
import { matchEvents, type Episode } from '../../aggregator/src/timeline/detect.ts'
import { DELIVERY_DEFAULTS, deliverDue, retryDelayMs, type DeliveryOptions } from '../../aggregator/src/webhooks/deliver.ts'

const H = 3600_000
const T0 = Date.parse('2025-01-10T00:00:00Z')

const episode: Episode = {
  kind: 'blocking',
  start: T0,
  end: null,
  last: T0 + H,
  asns: ['AS1'],
  regions: [],
  blocking_type: 'dns',
  measurement_count: 40,
  anomaly_count: 20,
  confirmed_count: 0,
  probe_count: 4,
  source_count: 3,
  sample_uids: [],
  confidence: 0.8,
  rule: 'networks',
  outlier: false,
  outlier_reason: null
}

t.test('retryDelayMs: doubles from the base, capped, jittered in the upper half', async t => {
  const o = { baseDelayMs: 5000, maxDelayMs: 3_600_000 }
  for (let n = 1; n <= 25; n++) {
    const ceiling = Math.min(3_600_000, 5000 * 2 ** (n - 1))
    t.equal(retryDelayMs(n, { ...o, random: () => 0 }), ceiling / 2, `attempt ${n}: lowest`)
    t.ok(retryDelayMs(n, { ...o, random: () => 0.999999 }) <= ceiling, `attempt ${n}: at most ${ceiling}`)
  }
  t.equal(retryDelayMs(1000, { ...o, random: () => 0.5 }), 2_700_000, 'no overflow after many attempts')
})

t.test(`posts, retries with backoff, never follows redirects, times out, fails at the last attempt (${testDriver()})`, async t => {
  const hits = { ok: 0, flaky: 0, redirect: 0, target: 0, hang: 0 }
  const bodies: Array<{ headers: Record<string, unknown>; body: string }> = []
  let flakyFails = true
  const hanging: ServerResponse[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '').slice(1) as keyof typeof hits
      hits[path]++
      if (path === 'ok') {
        bodies.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(200).end('thanks')
        return
      }
      if (path === 'flaky') {
        if (flakyFails) res.writeHead(503).end('down for maintenance ' + 'x'.repeat(200_000))
        else res.writeHead(204).end()
        return
      }
      if (path === 'redirect') {
        res.writeHead(302, { location: '/target' }).end()
        return
      }
      if (path === 'target') {
        res.writeHead(200).end()
        return
      }
      hanging.push(res) // 'hang': never answers
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const r of hanging) r.destroy()
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  let nowMs = Date.parse('2030-01-01T00:00:00Z')
  const { app, tdb, close } = await testApp({ now: () => nowMs })
  t.teardown(close)
  const db = tdb.db
  const auth = { authorization: 'Bearer admin-secret' }
  const hooks: Record<string, { webhook_id: string; secret: string }> = {}
  for (const name of ['ok', 'flaky', 'redirect', 'hang']) {
    const r = await app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: auth, payload: { url: `${base}/${name}` } })
    t.equal(r.statusCode, 201)
    hooks[name] = r.json()
  }
  t.match(hooks.ok.secret, /^whsec_[A-Za-z0-9_-]{43}$/, 'a generated secret')
  // Enqueue (deliveries are due at the database's now(), before the test's clock).
  await db.transaction(async tx => {
    await saveEpisodes(tx, 'blocking', 'IR', 'www.facebook.com', 'web_connectivity', [episode], matchEvents)
  })

  const agent = new Agent()
  t.teardown(async () => {
    await agent.close()
  })
  const o: DeliveryOptions = { ...DELIVERY_DEFAULTS, publicUrl: 'https://bw.example.org/', clock: () => nowMs, timeoutMs: 500, maxAttempts: 3, baseDelayMs: 10_000, random: () => 0.5 }
  const never = new AbortController().signal
  const status = async (name: string): Promise<{ status: string; attempts: number; last_status: number | null; last_error: string | null; next_attempt_at: string }> =>
    (await db.query<any>('SELECT status, attempts, last_status, last_error, next_attempt_at FROM webhook_deliveries WHERE webhook_id = $1', [hooks[name].webhook_id])).rows[0]

  t.equal(await deliverDue(db, o, agent, never), 4, 'one round claims the four')
  t.equal((await status('ok')).status, 'delivered')
  const flaky = await status('flaky')
  t.match(flaky, { status: 'pending', attempts: 1, last_status: 503 })
  t.match(flaky.last_error, /^HTTP 503: down for maintenance x+$/)
  t.ok(flaky.last_error!.length <= 500, 'the kept answer is short')
  t.equal(new Date(flaky.next_attempt_at).getTime(), nowMs + 7500, 'retried after 10 s × 0.75 (jitter 0.5 in the upper half)')
  t.match(await status('redirect'), { status: 'pending', last_status: 302, last_error: /redirects are not followed/ })
  t.equal(hits.target, 0, 'the redirect was not followed')
  t.match(await status('hang'), { status: 'pending', last_status: null, last_error: /timeout|aborted/i })

  // The signed post, as a receiver checks it.
  const got = bodies[0]
  const ts = String(got.headers['blockwatch-timestamp'])
  t.equal(ts, String(Math.floor(nowMs / 1000)), 'the timestamp is the clock in seconds')
  t.equal(
    got.headers['blockwatch-signature'],
    'sha256=' +
      createHmac('sha256', hooks.ok.secret)
        .update(ts + '.' + got.body)
        .digest('hex')
  )
  const payload = JSON.parse(got.body)
  t.equal(payload.delivery_id, got.headers['blockwatch-delivery'])
  t.equal(payload.type, 'started')
  t.equal(got.headers['blockwatch-event'], 'started')
  t.equal(payload.event.url, `https://bw.example.org/event/${String(payload.event.event_id)}`)
  t.equal(payload.event.api_url, `https://bw.example.org/api/v1/events/${String(payload.event.event_id)}`)

  t.equal(await deliverDue(db, o, agent, never), 0, 'nothing is due before its backoff')
  nowMs += 20_000
  t.equal(await deliverDue(db, o, agent, never), 3, 'the three are due again')
  t.equal(new Date((await status('flaky')).next_attempt_at).getTime(), nowMs + 15_000, 'the delay doubled')
  nowMs += 40_000
  t.equal(await deliverDue(db, o, agent, never), 3)
  for (const name of ['flaky', 'redirect', 'hang']) {
    t.match(await status(name), { status: 'failed', attempts: 3, last_error: /no more/ }, `${name}: failed after 3 attempts`)
  }
  nowMs += 10 * H
  t.equal(await deliverDue(db, o, agent, never), 0, 'a failed delivery is not tried again')
  t.equal(hits.flaky, 3)
  t.equal(hits.ok, 1, 'a delivered one is posted once')

  const failed = await app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${hooks.flaky.webhook_id}/deliveries?status=failed`, headers: auth })
  t.equal(failed.statusCode, 200)
  const row = failed.json().results[0]
  t.match(row, { status: 'failed', attempts: 3, last_status: 503, type: 'started', next_attempt_at: null })
  const listed = await app.inject({ method: 'GET', url: '/api/v1/admin/webhooks', headers: auth })
  t.match(
    listed.json().results.find((w: { webhook_id: string }) => w.webhook_id === hooks.flaky.webhook_id),
    { failed: 1, pending: 0 }
  )

  // The receiver is back; an admin queues the failed delivery again.
  flakyFails = false
  const retry = await app.inject({ method: 'POST', url: `/api/v1/admin/webhooks/${hooks.flaky.webhook_id}/deliveries/${String(row.delivery_id)}/retry`, headers: auth })
  t.equal(retry.statusCode, 200, retry.body)
  t.equal(await deliverDue(db, o, agent, never), 1)
  t.match(await status('flaky'), { status: 'delivered', attempts: 1, last_status: 204 })
  const nope = await app.inject({ method: 'POST', url: `/api/v1/admin/webhooks/${hooks.ok.webhook_id}/deliveries/${String(row.delivery_id)}/retry`, headers: auth })
  t.equal(nope.statusCode, 404, "another webhook's delivery is not found")

  // Stopping during a post: the delivery is due again at once and the attempt is not counted.
  const stop = new AbortController()
  await db.query("UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE webhook_id = $1", [hooks.hang.webhook_id])
  const round = deliverDue(db, { ...o, timeoutMs: 60_000 }, agent, stop.signal)
  while (hits.hang < 4) await new Promise(resolve => setTimeout(resolve, 20))
  stop.abort()
  await round
  const cut = await status('hang')
  t.match(cut, { status: 'pending', attempts: 0, last_error: /stopped/ })
  t.equal(new Date(cut.next_attempt_at).getTime(), nowMs, 'due again at once')
})
