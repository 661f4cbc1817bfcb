/**
 * Webhooks' admin routes (issue 17; docs/api.md, "Webhooks"): the admin
 * token, a clear 400 naming the field for every bad value, the secret shown
 * once, listing, deleting (with the queue), and 404s.
 */
import t from 'tap'
import { testDriver } from '../helpers/db.ts'
import { testApp } from '../helpers/aggregator-app.ts'

t.test(`webhook admin routes (${testDriver()})`, async t => {
  const { app, tdb, close } = await testApp()
  t.teardown(close)
  const auth = { authorization: 'Bearer admin-secret' }
  const post = async (payload: unknown, headers: Record<string, string> = auth) =>
    await app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers, payload: payload as Record<string, unknown> })

  t.equal((await post({ url: 'https://a.example/' }, {})).statusCode, 401, 'no token')
  t.equal((await post({ url: 'https://a.example/' }, { authorization: 'Bearer nope' })).statusCode, 403, 'not the admin token')
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/webhooks' })).statusCode, 401)

  const bad: Array<[unknown, string, RegExp]> = [
    [{}, 'body.url', /url/],
    [{ url: 'not a url' }, 'body.url', /not an absolute URL/],
    [{ url: 'ftp://a.example/' }, 'body.url', /use http: or https:/],
    [{ url: 'file:///etc/passwd' }, 'body.url', /use http: or https:/],
    [{ url: 'https://user:pw@a.example/' }, 'body.url', /user name or password/],
    [{ url: 'https://a.example/#x' }, 'body.url', /fragment/],
    [{ url: 'https://a.example/', secret: 'short' }, 'body.secret', /16/],
    [{ url: 'https://a.example/', probe_cc: ['Iran'] }, 'body.probe_cc', /"Iran" is not valid.*"IR"/],
    [{ url: 'https://a.example/', probe_asn: ['ASX'] }, 'body.probe_asn', /"ASX" is not valid.*"AS197207"/],
    [{ url: 'https://a.example/', domain: ['bad domain'] }, 'body.domain', /not valid/],
    [{ url: 'https://a.example/', types: ['deleted'] }, 'body.types', /must be one of started, networks_changed/],
    [{ url: 'https://a.example/', colour: 'red' }, 'body', /additional|colour/]
  ]
  for (const [payload, field, message] of bad) {
    const r = await post(payload)
    t.equal(r.statusCode, 400, `${JSON.stringify(payload)}: 400`)
    t.match(r.json(), { code: 'AGG_ERR_BAD_REQUEST', message }, `${JSON.stringify(payload)}: ${r.json().message}`)
    t.ok(String(r.json().field ?? '').startsWith(field), `names ${field} (${String(r.json().field)})`)
  }

  const given = await post({
    url: 'https://alerts.example.org/hook?k=1',
    secret: 'my-own-secret-0123',
    probe_cc: ['ir', 'IR'],
    probe_asn: ['AS197207', '44244'],
    domain: ['WWW.Facebook.com'],
    types: ['started', 'ended'],
    description: 'IR desk'
  })
  t.equal(given.statusCode, 201, given.body)
  t.match(given.json(), {
    webhook_id: /^wh_[0-9a-f]{16}$/,
    url: 'https://alerts.example.org/hook?k=1',
    secret: 'my-own-secret-0123',
    probe_cc: ['IR'],
    probe_asn: ['AS197207', 'AS44244'],
    domain: ['www.facebook.com'],
    types: ['started', 'ended'],
    description: 'IR desk',
    pending: 0,
    failed: 0
  })
  const id = given.json().webhook_id as string
  const minted = await post({ url: 'http://127.0.0.1:8081/' })
  t.equal(minted.statusCode, 201)
  t.match(minted.json().secret, /^whsec_/)
  t.not(minted.json().secret, given.json().secret)

  const list = await app.inject({ method: 'GET', url: '/api/v1/admin/webhooks', headers: auth })
  t.equal(list.statusCode, 200)
  t.equal(list.json().metadata.count, 2)
  t.notMatch(list.body, /secret|my-own-secret|whsec_/, 'the list never shows a secret')
  const one = await app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${id}`, headers: auth })
  t.equal(one.json().url, 'https://alerts.example.org/hook?k=1')
  t.notOk('secret' in one.json(), 'nor does one webhook')

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/webhooks/wh_0000000000000000', headers: auth })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/admin/webhooks/nope', headers: auth })).statusCode, 400, 'a malformed id')
  const q = await app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${id}/deliveries?status=lost`, headers: auth })
  t.equal(q.statusCode, 400)
  t.match(q.json().field, /status/)
  const empty = await app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${id}/deliveries`, headers: auth })
  t.same(empty.json().results, [])

  // Deleting a webhook drops its queue.
  await tdb.db.query(`INSERT INTO webhook_deliveries (webhook_id, type, event_id, event) VALUES ($1, 'started', 'e1', '{}')`, [id])
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${id}/deliveries`, headers: auth })).json().results.length, 1)
  const del = await app.inject({ method: 'DELETE', url: `/api/v1/admin/webhooks/${id}`, headers: auth })
  t.same(del.json(), { webhook_id: id, deleted: true })
  t.equal((await tdb.db.query('SELECT 1 FROM webhook_deliveries')).rows.length, 0, 'its deliveries went with it')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/admin/webhooks/${id}`, headers: auth })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/admin/webhooks/${id}/deliveries`, headers: auth })).statusCode, 404)
})
