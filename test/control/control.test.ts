/**
 * The control vantage (POST /api/v1/control): its answer on a healthy
 * loopback site, and the SSRF guard against every form: a literal address,
 * decimal, short and hex loopback, IPv6 loopback, cloud metadata, a name
 * that resolves to a private address, and a redirect. Plus caching, the
 * per-client rate limit and --control-allow.
 */
import t from 'tap'
import Fastify from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { registerControl } from '../../aggregator/src/control/plugin.ts'
import { makeGuard, normalizeHost } from '../../aggregator/src/control/guard.ts'
import { AnswerCache, Limiter, QueueFull } from '../../aggregator/src/control/limits.ts'
import { parseResolver } from '../../shared/src/netx/dns.ts'
import { startDns } from '../fixtures/servers/dns.ts'
import { HEALTHY_PAGE, healthy, startHttp } from '../fixtures/servers/web.ts'

const site = await startHttp(healthy)
t.teardown(site.close)
const P = site.port
const redirector = await startHttp((req, res) => {
  const to: Record<string, string> = { '/to-private': `http://127.0.0.2:${P}/`, '/to-decimal': `http://2130706434:${P}/`, '/to-name': `http://private.test:${P}/`, '/to-ok': `http://127.0.0.1:${P}/` }
  res.writeHead(302, { location: to[req.url ?? ''] ?? '/' })
  res.end()
})
t.teardown(redirector.close)
const dns = await startDns({ 'site.test': { a: ['127.0.0.1'] }, 'private.test': { a: ['10.0.0.5'] }, 'meta.test': { a: ['169.254.169.254'] } })
t.teardown(dns.close)

async function app(allow: string[], rule = { max: 1000, timeWindow: '1 minute' }): Promise<ReturnType<typeof Fastify>> {
  const a = Fastify()
  await a.register(rateLimit, { global: false })
  await a.register(async inst => {
    await registerControl(inst, { controlAllow: allow, resolver: parseResolver(dns.address)!, ownAddresses: [], rateLimit: rule, timeouts: { connectMs: 2000, firstByteMs: 3000 } })
  })
  t.teardown(() => a.close())
  return a
}
const post = async (a: Awaited<ReturnType<typeof app>>, body: unknown, ip = '192.0.2.1'): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> => {
  const r = await a.inject({ method: 'POST', url: '/api/v1/control', payload: body as object, remoteAddress: ip })
  return { status: r.statusCode, json: r.json() as Record<string, unknown>, headers: r.headers }
}

t.test("answers in the shape of OONI's test helper (loopback allowed)", async t => {
  const a = await app(['127.0.0.1/32'])
  const r = await post(a, { http_request: `http://site.test:${P}/`, http_request_headers: {}, tcp_connect: [`127.0.0.1:${P}`] })
  t.equal(r.status, 200)
  t.same(r.json.dns, { failure: null, addrs: ['127.0.0.1'] })
  t.same(r.json.tcp_connect, { [`127.0.0.1:${P}`]: { status: true, failure: null } })
  const http = r.json.http_request as Record<string, unknown>
  t.equal(http.status_code, 200)
  t.equal(http.body_length, Buffer.byteLength(HEALTHY_PAGE))
  t.equal(http.title, 'Example Domain Healthy')
  t.equal(http.failure, null)
  t.equal(r.headers['x-cache'], 'miss')
  const again = await post(a, { http_request: `http://site.test:${P}/`, tcp_connect: [`127.0.0.1:${P}`] })
  t.equal(again.headers['x-cache'], 'hit', 'a repeated question is answered from the cache')
  const tcp = await post(a, { x_input: `tcp://site.test:${P}` })
  t.same(tcp.json.tcp_connect, { [`127.0.0.1:${P}`]: { status: true, failure: null } })
  const dnsOnly = await post(a, { x_input: 'dns://site.test' })
  t.same(dnsOnly.json.dns, { failure: null, addrs: ['127.0.0.1'] })
  const nx = await post(a, { x_input: 'dns://nothing.test' })
  t.same(nx.json.dns, { failure: 'dns_nxdomain_error', addrs: [] })
})

t.test('refuses every SSRF form', async t => {
  const a = await app([])
  const forms = [
    `http://127.0.0.1:${P}/`,
    `http://2130706433:${P}/`,
    `http://127.1:${P}/`,
    `http://0x7f.1:${P}/`,
    `http://0177.0.0.1:${P}/`,
    `http://[::1]:${P}/`,
    `http://[::ffff:127.0.0.1]:${P}/`,
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://192.168.1.1/',
    `http://private.test:${P}/`,
    'http://meta.test/',
    `tcp://127.1:${P}`,
    `tcp://2130706433:${P}`,
    'tls://0x7f000001:443',
    'smpp://127.0.0.1:2775',
    'smsapi+http://127.1/api'
  ]
  for (const input of forms) {
    const key = input.startsWith('http://') ? 'http_request' : 'x_input'
    const r = await post(a, { [key]: input })
    t.equal(r.status, 403, `${input}: refused`)
    t.equal(r.json.error, 'forbidden_address', `${input}: forbidden_address`)
  }
  const sneaky = await post(a, { x_input: `tcp://127.0.0.1:${P}`, tcp_connect: [`127.0.0.1:${P}`] })
  t.equal(sneaky.status, 403, "the probe's endpoints cannot open the door either")
})

t.test('refuses a redirect to a forbidden address, hop by hop', async t => {
  const a = await app(['127.0.0.1/32'])
  for (const path of ['/to-private', '/to-decimal', '/to-name']) {
    const r = await post(a, { http_request: `http://127.0.0.1:${redirector.port}${path}` })
    t.equal(r.status, 200, `${path}: answered`)
    t.equal((r.json.http_request as Record<string, unknown>).failure, 'forbidden_address', `${path}: the forbidden hop is not fetched`)
  }
  const ok = await post(a, { http_request: `http://127.0.0.1:${redirector.port}/to-ok` })
  t.equal((ok.json.http_request as Record<string, unknown>).status_code, 200, 'an allowed redirect is followed')
  const probeEndpoint = await post(a, { http_request: `http://127.0.0.1:${P}/`, tcp_connect: [`127.0.0.2:${P}`, `10.0.0.1:80`] })
  t.same(
    (probeEndpoint.json.tcp_connect as Record<string, unknown>)[`127.0.0.2:${P}`],
    { status: false, failure: 'forbidden_address' },
    'a probe endpoint outside the allowed ranges is not connected to'
  )
})

t.test('rate limited per client, no token needed', async t => {
  const a = await app(['127.0.0.1/32'], { max: 2, timeWindow: '1 minute' })
  const body = { x_input: 'dns://site.test' }
  t.equal((await post(a, body, '192.0.2.7')).status, 200)
  t.equal((await post(a, body, '192.0.2.7')).status, 200)
  t.equal((await post(a, body, '192.0.2.7')).status, 429, 'the third request of one client within the window')
  t.equal((await post(a, body, '192.0.2.8')).status, 200, 'another client is not affected')
})

t.test('bad input is a 400 that says what to send', async t => {
  const a = await app([])
  const r = await post(a, { x_input: 'gopher://x/' })
  t.equal(r.status, 400)
  t.match(r.json.message, /scheme/)
  const none = await post(a, {})
  t.equal(none.status, 400)
})

t.test('guard', async t => {
  const g = makeGuard(['10.10.0.0/16'], ['203.0.113.9'])
  t.ok(g.allows('93.184.215.14'))
  t.ok(g.allows('10.10.64.10'), 'an allowed range')
  t.notOk(g.allows('10.11.0.1'))
  t.notOk(g.allows('127.0.0.1'))
  t.notOk(g.allows('169.254.169.254'))
  t.notOk(g.allows('100.64.0.1'))
  t.notOk(g.allows('::1'))
  t.notOk(g.allows('fd00::1'))
  t.notOk(g.allows('fe80::1'))
  t.notOk(g.allows('::ffff:127.0.0.1'))
  t.notOk(g.allows('64:ff9b::7f00:1'), 'NAT64 of loopback')
  t.ok(g.allows('2606:4700::1111'))
  t.notOk(makeGuard([], ['93.184.215.14']).allows('93.184.215.14'), "the aggregator's own address")
  t.throws(() => makeGuard(['10.0.0.0/33']), /not a CIDR/)
  t.equal(normalizeHost('2130706433'), '127.0.0.1')
  t.equal(normalizeHost('127.1'), '127.0.0.1')
  t.equal(normalizeHost('0x7f.0.0.1'), '127.0.0.1')
  t.equal(normalizeHost('Example.ORG.'), 'example.org')
})

t.test('cache and limiter', async t => {
  let now = 0
  const cache = new AnswerCache<number>(1000, 2, () => now)
  let calls = 0
  const compute = async (): Promise<number> => ++calls
  t.same(await cache.get('a', compute), { value: 1, hit: false })
  t.same(await cache.get('a', compute), { value: 1, hit: true })
  now = 1500
  t.same(await cache.get('a', compute), { value: 2, hit: false }, 'expires after the TTL')
  await t.rejects(
    cache.get('b', async () => {
      throw new Error('x')
    })
  )
  t.same(await cache.get('b', compute), { value: 3, hit: false }, 'a failure is not cached')
  const lim = new Limiter(1, 1)
  let release!: () => void
  const first = lim.run(
    async () =>
      await new Promise<void>(resolve => {
        release = resolve
      })
  )
  const second = lim.run(async () => 'second')
  await t.rejects(
    lim.run(async () => 'third'),
    QueueFull
  )
  release()
  await first
  t.equal(await second, 'second')
})
