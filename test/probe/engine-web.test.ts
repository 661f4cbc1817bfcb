/**
 * The engine end to end on loopback: web_connectivity against real servers
 * that reproduce what a censor's effects look like (NXDOMAIN, bogon,
 * silence, forged answer, refused, reset, black hole, blockpage, blockpage
 * behind a redirect, wrong and untrusted certificates), each judged against
 * a canned control (test/fixtures/servers/fake-control.ts).
 */
import t from 'tap'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import type { Measurement } from '../../shared/src/measurement.ts'
import { validateMeasurement } from '../../shared/src/measurement.ts'
import { validateTestKeys } from '../../shared/src/nettests/index.ts'
import { measure } from '../../probe/src/engine.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'
import { makeCerts } from '../fixtures/servers/certs.ts'
import { startDns } from '../fixtures/servers/dns.ts'
import { startFakeControl, type ControlView } from '../fixtures/servers/fake-control.ts'
import { HEALTHY_PAGE, PLAIN_BLOCKPAGE, blackHole, healthy, resetOnData, startHttp } from '../fixtures/servers/web.ts'
import { targetOf } from '../fixtures/targets.ts'
import { clientHelloSni } from '../../scripts/lab/tls-hello.ts'

const fp = await loadFingerprintsDir(FINGERPRINTS)
const certs = makeCerts(['healthy.test', 'wrong.test', 'self.test', 'tlsreset.test', 'sniblocked.test', 'snirefused.test', '127.0.0.1'])

// Servers: the healthy site on 127.0.0.1; every censor on its own loopback address, same port.
const site = await startHttp(healthy)
t.teardown(site.close)
const P = site.port
const siteTls = await startHttp(healthy, { cert: certs.cert, key: certs.key })
t.teardown(siteTls.close)
const PS = siteTls.port

async function on(ip: string, port: number, make: () => import('node:http').Server | import('node:net').Server): Promise<void> {
  const server = make()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, ip, resolve)
  })
  t.teardown(() => {
    server.close()
    ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
  })
}
const { createServer: httpServer } = await import('node:http')
const { createServer: httpsServer } = await import('node:https')
const { createServer: netServer, connect: netConnect } = await import('node:net')
await on('127.0.0.5', P, () => netServer(blackHole))
await on('127.0.0.6', P, () =>
  netServer(s => {
    s.on('error', () => {})
    resetOnData(s)
  })
)
await on('127.0.0.7', P, () =>
  httpServer((_q, r) => {
    r.writeHead(200, { 'content-type': 'text/html' })
    r.end(PLAIN_BLOCKPAGE)
  })
)
await on('127.0.0.8', P, () =>
  httpServer((_q, r) => {
    r.writeHead(302, { location: `http://lamanlabuh.aduankonten.id:${P}/` })
    r.end()
  })
)
await on('127.0.0.9', PS, () => httpsServer({ cert: certs.wrongNameCert, key: certs.wrongNameKey }, healthy))
await on('127.0.0.10', PS, () => httpsServer({ cert: certs.selfSignedCert, key: certs.selfSignedKey }, healthy))
await on('127.0.0.11', PS, () =>
  netServer(s => {
    s.on('error', () => {})
    resetOnData(s)
  })
)
// An SNI filter in front of the healthy TLS site: a ClientHello naming
// sniblocked.test is reset, any other is passed through.
await on('127.0.0.13', PS, () =>
  netServer(s => {
    s.on('error', () => {})
    s.once('data', (hello: Buffer) => {
      if (hello.includes('sniblocked.test')) {
        s.resetAndDestroy()
        return
      }
      const up = netConnect(PS, '127.0.0.1', () => {
        up.write(hello)
        s.pipe(up)
        up.pipe(s)
      })
      up.on('error', () => s.destroy())
      s.on('close', () => up.destroy())
    })
  })
)
// The same SNI filter, in front of a server that itself resets a ClientHello
// without SNI (as many real servers do): the follow-up without SNI is cut
// here too, and only another name tells.
await on('127.0.0.14', PS, () =>
  netServer(s => {
    s.on('error', () => {})
    s.once('data', (hello: Buffer) => {
      if (hello.includes('snirefused.test') || clientHelloSni(hello) === null) {
        s.resetAndDestroy()
        return
      }
      const up = netConnect(PS, '127.0.0.1', () => {
        up.write(hello)
        s.pipe(up)
        up.pipe(s)
      })
      up.on('error', () => s.destroy())
      s.on('close', () => up.destroy())
    })
  })
)
await on('127.0.0.12', P, () =>
  httpServer((_q, r) => {
    // Throttled: 64 KiB in 16 slow chunks.
    r.writeHead(200, { 'content-type': 'text/html', 'x-site': 'example' })
    let n = 0
    const tick = setInterval(() => {
      r.write('x'.repeat(4096))
      if (++n === 16) {
        clearInterval(tick)
        r.end()
      }
    }, 40)
  })
)

const dns = await startDns({
  'healthy.test': { a: ['127.0.0.1'] },
  'nx.test': { nxdomain: true },
  'bogon.test': { a: ['127.0.0.1'] },
  'silent.test': { silent: true },
  'forged.test': { a: ['10.10.34.36'] },
  'refused.test': { a: ['127.0.0.4'] },
  'hole.test': { a: ['127.0.0.5'] },
  'reset.test': { a: ['127.0.0.6'] },
  'blockpage.test': { a: ['127.0.0.7'] },
  'redirect.test': { a: ['127.0.0.8'] },
  'lamanlabuh.aduankonten.id': { a: ['127.0.0.7'] },
  'wrong.test': { a: ['127.0.0.9'] },
  'self.test': { a: ['127.0.0.10'] },
  'tlsreset.test': { a: ['127.0.0.11'] },
  'sniblocked.test': { a: ['127.0.0.13'] },
  'snirefused.test': { a: ['127.0.0.14'] },
  'down.test': { a: ['127.0.0.4'] },
  'throttle.test': { a: ['127.0.0.12'] }
})
t.teardown(dns.close)

const page = { status: 200, bodyLength: Buffer.byteLength(HEALTHY_PAGE), title: 'Example Domain Healthy', headers: { 'content-type': 'text/html', 'x-site': 'example' } }
const genuine = (ip: string): ControlView => ({ addrs: [ip], http: page })
const control = await startFakeControl({
  'healthy.test': genuine('127.0.0.1'),
  'nx.test': genuine('127.0.0.1'),
  'bogon.test': genuine('93.184.215.14'),
  'silent.test': genuine('127.0.0.1'),
  'forged.test': genuine('127.0.0.1'),
  'refused.test': genuine('127.0.0.4'),
  'hole.test': genuine('127.0.0.5'),
  'reset.test': genuine('127.0.0.6'),
  'blockpage.test': genuine('127.0.0.7'),
  'redirect.test': genuine('127.0.0.8'),
  'wrong.test': genuine('127.0.0.9'),
  'self.test': genuine('127.0.0.10'),
  'tlsreset.test': genuine('127.0.0.11'),
  'sniblocked.test': genuine('127.0.0.13'),
  'snirefused.test': genuine('127.0.0.14'),
  'down.test': { addrs: ['127.0.0.4'], tcp: false, http: null },
  'throttle.test': { addrs: ['127.0.0.12'], http: { ...page, bodyLength: 65536 } }
})
t.teardown(control.close)

const opts = {
  resolver: dns.address,
  controlUrl: control.url,
  caPem: certs.caPem,
  fingerprints: fp,
  concurrency: 16,
  // Short, so that the timeout cases end soon, but not so short that a busy machine makes a healthy answer late: at
  // dnsMs 1500, under a load average of 8, throttle.test's answer from this process's own DNS server took longer once.
  timeouts: { dnsMs: 3000, connectMs: 3000, tlsMs: 3000, firstByteMs: 2000, bodyMs: 6000 }
}

interface Case {
  name: string
  url: string
  blocking: unknown
  accessible: boolean | null
  failure?: string | null
  reason?: string
}
const cases: Case[] = [
  { name: 'healthySite', url: `http://healthy.test:${P}/`, blocking: false, accessible: true, reason: 'ok' },
  { name: 'healthyHttps', url: `https://healthy.test:${PS}/`, blocking: false, accessible: true, reason: 'ok' },
  { name: 'dnsNxdomainWithHealthyControl', url: `http://nx.test:${P}/`, blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error', reason: 'dns_nxdomain' },
  { name: 'dnsBogonWhereControlHasNone', url: `http://bogon.test:${P}/`, blocking: 'dns', accessible: false, reason: 'dns_bogon' },
  { name: 'dnsTimeout', url: `http://silent.test:${P}/`, blocking: 'dns', accessible: false, failure: 'generic_timeout_error' },
  { name: 'dnsForgedToBlockpageIp', url: `http://forged.test:${P}/`, blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' },
  { name: 'tcpRefused', url: `http://refused.test:${P}/`, blocking: 'tcp_ip', accessible: false, failure: 'connection_refused' },
  { name: 'httpBlackHole', url: `http://hole.test:${P}/`, blocking: 'http-failure', accessible: false, failure: 'generic_timeout_error' },
  { name: 'httpResetAfterHost', url: `http://reset.test:${P}/`, blocking: 'http-failure', accessible: false, failure: 'connection_reset' },
  { name: 'plainBlockpage', url: `http://blockpage.test:${P}/`, blocking: 'http-diff', accessible: false, reason: 'http_diff' },
  { name: 'blockpageOnlyInLocationHeader', url: `http://redirect.test:${P}/`, blocking: 'http-diff', accessible: false, reason: 'http_blockpage_fingerprint' },
  { name: 'tlsWrongName', url: `https://wrong.test:${PS}/`, blocking: 'tls', accessible: false, failure: 'ssl_invalid_hostname' },
  { name: 'tlsUntrusted', url: `https://self.test:${PS}/`, blocking: 'tls', accessible: false, failure: 'ssl_unknown_authority' },
  // Every ClientHello to the address is reset, with or without SNI: filtering by address.
  { name: 'tlsResetAfterSni', url: `https://tlsreset.test:${PS}/`, blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' },
  // Only the ClientHello naming the site is reset; the follow-up without SNI gets through.
  { name: 'tlsSniFiltering', url: `https://sniblocked.test:${PS}/`, blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_sni_filtering' },
  { name: 'siteDownForEveryone', url: `http://down.test:${P}/`, blocking: false, accessible: false, reason: 'down' },
  { name: 'throttledIsNotBlocked', url: `http://throttle.test:${P}/`, blocking: false, accessible: true }
]

const results = new Map<string, Measurement>()
for await (const m of measure(
  cases.map(c => targetOf(c.url)),
  opts
))
  results.set(m.input!, m)

t.equal(results.size, cases.length, 'one measurement per target')
for (const c of cases) {
  t.test(c.name, async t => {
    const m = results.get(c.url)!
    t.same(validateMeasurement(m), [], 'the envelope validates')
    t.same(validateTestKeys('web_connectivity', m.test_keys), [], 'test_keys validate against the schema')
    const tk = m.test_keys as Record<string, unknown>
    if (tk.blocking !== c.blocking) t.comment(JSON.stringify({ requests: tk.requests, tcp: tk.tcp_connect, q: tk.queries }).slice(0, 1500))
    t.equal(tk.blocking, c.blocking, `blocking ${String(c.blocking)} (reason ${String(tk.verdict_reason)}, failure ${String(tk.verdict_failure)})`)
    t.equal(tk.accessible, c.accessible, 'accessible')
    if (c.failure !== undefined) t.equal(tk.verdict_failure, c.failure, 'failure string')
    if (c.reason !== undefined) t.equal(tk.verdict_reason, c.reason, 'reason')
  })
}

t.test('the measurement envelope', async t => {
  const m = results.get(`http://healthy.test:${P}/`)!
  t.equal(m.test_name, 'web_connectivity')
  t.equal(m.probe_cc, 'ZZ')
  t.equal(m.probe_asn, 'AS0')
  t.equal(m.probe_ip, '127.0.0.1')
  t.match(m.measurement_uid, /^[0-9a-f]{8}-[0-9a-f]{4}-7/)
  const tk = m.test_keys as { requests: Array<{ response: { code: number } }>; tcp_connect: unknown[]; queries: unknown[] }
  t.equal(tk.requests[0]!.response.code, 200)
  t.equal(tk.tcp_connect.length, 1)
  t.ok(tk.queries.length >= 1)
})

t.test('the redirect chain is recorded, latest first', async t => {
  const tk = results.get(`http://redirect.test:${P}/`)!.test_keys as { requests: Array<{ request: { url: string }; response: { code: number } }>; fingerprints: Array<{ name: string }> }
  t.equal(tk.requests.length, 2)
  t.equal(tk.requests[1]!.response.code, 302)
  t.match(tk.requests[0]!.request.url, /lamanlabuh/)
  t.ok(tk.fingerprints.some(f => f.name === 'ooni.id_lamanlabuh_kominfo'))
})

t.test('throughput is recorded', async t => {
  const tk = results.get(`http://throttle.test:${P}/`)!.test_keys as { requests: Array<{ x_throughput_bps: number }> }
  t.ok(tk.requests[0]!.x_throughput_bps > 0)
})

t.test('the SNI follow-up is recorded: no SNI, same address', async t => {
  const sni = results.get(`https://sniblocked.test:${PS}/`)!.test_keys as { x_sni_followup: Record<string, unknown>; tls_filtering: string }
  t.match(sni.x_sni_followup, { address: `127.0.0.13:${PS}`, server_name: null, operation: 'tls_handshake', failure: null })
  t.equal(sni.tls_filtering, 'sni')
  const addr = results.get(`https://tlsreset.test:${PS}/`)!.test_keys as { x_sni_followup: Record<string, unknown>; tls_filtering: string }
  t.match(addr.x_sni_followup, { address: `127.0.0.11:${PS}`, server_name: null, failure: 'connection_reset' })
  t.equal(addr.tls_filtering, 'address')
  const mitm = results.get(`https://wrong.test:${PS}/`)!.test_keys as Record<string, unknown>
  t.equal(mitm.x_sni_followup, undefined, 'a certificate failure is not followed up')
  const ok = results.get(`https://healthy.test:${PS}/`)!.test_keys as Record<string, unknown>
  t.equal(ok.x_sni_followup, undefined, 'nor a handshake that worked')
})

t.test("the second SNI follow-up: another name from the run's own list", async t => {
  // One at a time, so that healthy.test's handshake has passed before the others are followed up.
  const urls = [`https://healthy.test:${PS}/`, `https://snirefused.test:${PS}/`, `https://tlsreset.test:${PS}/`, `https://sniblocked.test:${PS}/`]
  const got = new Map<string, Record<string, unknown>>()
  for await (const m of measure(
    urls.map(u => targetOf(u)),
    { ...opts, concurrency: 1 }
  ))
    got.set(m.input!, m.test_keys as Record<string, unknown>)
  const refused = got.get(urls[1]!)!
  t.match(refused.x_sni_followup, { address: `127.0.0.14:${PS}`, server_name: null, failure: 'connection_reset' }, 'the server refuses a handshake without SNI')
  t.match(
    refused.x_sni_followup_name,
    { address: `127.0.0.14:${PS}`, server_name: 'healthy.test', name_source: 'tls_ok', operation: 'tls_handshake', failure: null },
    'a name that passed earlier in the run gets through'
  )
  t.equal(refused.verdict_reason, 'tls_sni_filtering')
  t.equal(refused.tls_filtering, 'sni')
  const addr = got.get(urls[2]!)!
  t.match(addr.x_sni_followup_name, { server_name: 'healthy.test', name_source: 'tls_ok', failure: 'connection_reset' }, 'the address cuts the other name too')
  t.equal(addr.verdict_reason, 'tls_address_filtering')
  t.equal(got.get(urls[3]!)!.x_sni_followup_name, undefined, 'no second follow-up when the first got through')
  t.equal(got.get(urls[0]!)!.x_sni_followup_name, undefined, 'nor for a handshake that worked')
})
