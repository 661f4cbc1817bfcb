/**
 * Registration is idempotent (issue 17): when the aggregator stores a probe
 * but its answer is lost (the connection drops after the request was
 * forwarded), the probe's next attempt, with the registration_id it kept,
 * gets the same probe back instead of a second, orphan probe row. The
 * answer is dropped for real: a loopback TCP proxy forwards the request,
 * waits for the aggregator's answer to start, and closes the probe's
 * connection without passing it on.
 */
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createConnection, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { register } from '../../probe/src/checkin.ts'
import { main as initMain } from '../../probe/src/commands/init.ts'
import { testApp } from '../helpers/aggregator-app.ts'
import { testDriver } from '../helpers/db.ts'

/** A proxy to `target` that swallows the answers of the first `drops` connections and closes them once the answer starts. */
async function droppingProxy(t: { teardown: (fn: () => Promise<void>) => void }, target: number, drops: number): Promise<{ url: string; dropped: () => number }> {
  let seen = 0
  let dropped = 0
  const sockets = new Set<Socket>()
  const server = createServer(client => {
    const drop = seen++ < drops
    sockets.add(client)
    const upstream = createConnection(target)
    sockets.add(upstream)
    client.pipe(upstream)
    upstream.on('data', chunk => {
      if (!drop) {
        client.write(chunk)
        return
      }
      // The aggregator has answered: the request was forwarded and handled. Lose the answer.
      dropped++
      client.destroy()
      upstream.destroy()
    })
    upstream.on('end', () => client.end())
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.on('close', () => upstream.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise(resolve => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, dropped: () => dropped }
}

const count = async (db: { query: (sql: string) => Promise<{ rows: Array<{ n: number }> }> }): Promise<number> => Number((await db.query('SELECT count(*)::int AS n FROM probes')).rows[0].n)

t.test(`a registration whose answer is lost, tried again, is one probe (${testDriver()})`, async t => {
  const agg = await testApp()
  t.teardown(agg.close)
  await agg.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (agg.app.server.address() as { port: number }).port
  const direct = `http://127.0.0.1:${port}`
  const db = agg.tdb.db as unknown as Parameters<typeof count>[0]

  // One address: the first attempt stores the probe, its answer is lost; the retry gets it back.
  const proxy = await droppingProxy(t, port, 1)
  const id = '2f1c7a4e-8d0b-4c6e-9a53-0b1d2e3f4a5b'
  await t.rejects(register([proxy.url], null, { timeoutMs: 60_000 }, id), { name: 'RegistrationError' }, 'the first attempt sees the connection drop')
  t.equal(proxy.dropped(), 1, 'after the aggregator answered')
  t.equal(await count(db), 1, 'the aggregator stored the probe')
  const again = await register([proxy.url], null, { timeoutMs: 60_000 }, id)
  t.equal(await count(db), 1, 'the retry stored no second probe')
  const row = await agg.tdb.db.query<{ probe_id: string }>('SELECT probe_id FROM probes')
  t.equal(again.probeId, row.rows[0].probe_id, 'it is the probe the first attempt stored')
  const checkIn = await agg.app.inject({ method: 'POST', url: '/api/v1/check-in', headers: { authorization: `Bearer ${again.token}` }, payload: { probe_cc: 'IR', probe_asn: 'AS197207' } })
  t.equal(checkIn.statusCode, 200, 'and the token the retry got works')

  // Once its token is used, the registration id no longer gives the probe out.
  const late = await agg.app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: { registration_id: id, software_name: 'blockwatch', software_version: '0.1.0' } })
  t.equal(late.statusCode, 409, 'a used probe cannot be claimed again by its registration id')
  t.match(late.json(), { code: 'AGG_ERR_PROBE_EXISTS', field: 'registration_id' })
  t.equal(await count(db), 1)

  // Two addresses of one aggregator: the answer lost on the first, the second gives the same probe.
  const mirrorProxy = await droppingProxy(t, port, 1)
  const viaMirror = await register([mirrorProxy.url, direct], null, { timeoutMs: 60_000 })
  t.equal(mirrorProxy.dropped(), 1)
  t.equal(viaMirror.via, direct, 'answered by the second address')
  t.equal(await count(db), 2, 'one more probe, not two')

  // Without a registration id (an older probe), a retry is a new probe, as before.
  const plain = { software_name: 'blockwatch', software_version: '0.1.0' }
  const a = await agg.app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: plain })
  const b = await agg.app.inject({ method: 'POST', url: '/api/v1/probes/register', payload: plain })
  t.not(a.json().probe_id, b.json().probe_id)
})

t.test(`probe init keeps the registration id when the answer is lost; the next registration is the same probe (${testDriver()})`, async t => {
  const agg = await testApp()
  t.teardown(agg.close)
  await agg.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (agg.app.server.address() as { port: number }).port
  const proxy = await droppingProxy(t, port, 1)
  const dir = t.testdir()
  const loc = ['--config', join(dir, 'probe.json'), '--data-dir', join(dir, 'state')]
  // init prints to the terminal: keep it out of the test's own output.
  const quietly = async (fn: () => Promise<number>): Promise<number> => {
    const [ow, ew] = [process.stdout.write, process.stderr.write]
    process.stdout.write = (() => true) as typeof process.stdout.write
    process.stderr.write = (() => true) as typeof process.stderr.write
    try {
      return await fn()
    } finally {
      process.stdout.write = ow
      process.stderr.write = ew
    }
  }
  const first = await quietly(async () => await initMain([...loc, '--decline', '--aggregator', proxy.url, '--lang', 'en']))
  const kept = JSON.parse(readFileSync(join(dir, 'probe.json'), 'utf8')) as { token: string | null; registrationId: string | null }
  t.equal(kept.token, null, 'no token: the answer was lost')
  t.match(kept.registrationId, /^[0-9a-f-]{36}$/, 'the registration id is kept in the config')
  const second = await quietly(async () => await initMain([...loc, '--decline', '--aggregator', proxy.url, '--force', '--lang', 'en']))
  t.equal(first, 1, 'the first init reports that it could not register')
  t.equal(second, 0, 'the second registers')
  const cfg = JSON.parse(readFileSync(join(dir, 'probe.json'), 'utf8')) as { token: string | null; probeId: string; registrationId: string | null }
  t.equal(cfg.registrationId, null, 'done with the registration id')
  const rows = await agg.tdb.db.query<{ probe_id: string }>('SELECT probe_id FROM probes')
  t.same(
    rows.rows.map(r => r.probe_id),
    [cfg.probeId],
    'one probe row, the one the config names'
  )
})

t.test('an aggregator older than registration ids: the probe registers without one', async t => {
  // What such an aggregator answers (its register body had additionalProperties: false), then the registration.
  const bodies: Array<Record<string, unknown>> = []
  const old = createHttpServer((req, res) => {
    let text = ''
    req.on('data', (c: Buffer) => {
      text += c.toString()
    })
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>
      bodies.push(body)
      if ('registration_id' in body) {
        const message = 'body.registration_id: unknown field; accepted: platform, probe_id, software_name, software_version'
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: message, code: 'AGG_ERR_BAD_REQUEST', message, field: 'body.registration_id', statusCode: 400, v: 0 }))
        return
      }
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ probe_id: 'p-old', token: 'bwp_old' }))
    })
  })
  old.listen(0, '127.0.0.1')
  await once(old, 'listening')
  t.teardown(() => {
    old.close()
  })
  const r = await register(`http://127.0.0.1:${(old.address() as { port: number }).port}`, null, { timeoutMs: 60_000 })
  t.same([r.probeId, r.token], ['p-old', 'bwp_old'])
  t.same(
    bodies.map(b => 'registration_id' in b),
    [true, false],
    'refused with the id, registered without it'
  )
})
