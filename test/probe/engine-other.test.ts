/**
 * dns_consistency, tcp_connect, tls_handshake and sms_gateway end to end on
 * loopback, against a canned control; every measurement's test_keys
 * validates against its schema (shared/src/nettests).
 */
import t from 'tap'
import type { Measurement } from '../../shared/src/measurement.ts'
import { validateTestKeys } from '../../shared/src/nettests/index.ts'
import { measure } from '../../probe/src/engine.ts'
import { parseResolver } from '../../shared/src/netx/dns.ts'
import { makeCerts } from '../fixtures/servers/certs.ts'
import { startDns } from '../fixtures/servers/dns.ts'
import { startFakeControl } from '../fixtures/servers/fake-control.ts'
import { startSmpp } from '../fixtures/servers/smpp.ts'
import { blackHole, healthy, startHttp, startRaw } from '../fixtures/servers/web.ts'
import { targetOf } from '../fixtures/targets.ts'

const certs = makeCerts(['healthy.test'])
const site = await startHttp(healthy)
t.teardown(site.close)
const siteTls = await startHttp(healthy, { cert: certs.cert, key: certs.key })
t.teardown(siteTls.close)
const P = site.port
const PS = siteTls.port
const smppOk = await startSmpp(0)
t.teardown(smppOk.close)
const smppRefusing = await startSmpp(14)
t.teardown(smppRefusing.close)
const hole = await startRaw(blackHole)
t.teardown(hole.close)
const dns = await startDns({
  'healthy.test': { a: ['127.0.0.1'] },
  'inject.test': { inject: '10.9.9.9', a: ['127.0.0.1'] },
  'trunc.test': { truncate: true, a: ['127.0.0.1'] },
  'refused.test': { a: ['127.0.0.4'] },
  'wrong.test': { a: ['127.0.0.1'] },
  'smsc.test': { a: ['127.0.0.1'] }
})
t.teardown(dns.close)
const page = { status: 200, bodyLength: 100, title: 'Example Domain Healthy', headers: {} }
const control = await startFakeControl({
  'healthy.test': { addrs: ['127.0.0.1'], http: page },
  'inject.test': { addrs: ['127.0.0.1'], http: page },
  'trunc.test': { addrs: ['127.0.0.1'], http: page },
  'nx.test': { addrs: ['127.0.0.1'], http: page },
  'refused.test': { addrs: ['127.0.0.4'], http: page },
  'wrong.test': { addrs: ['127.0.0.1'], http: page },
  'smsc.test': { addrs: ['127.0.0.1'], http: page, smpp: true }
})
t.teardown(control.close)

interface Case {
  url: string
  test: string
  blocking: unknown
  accessible: boolean | null
  reason?: string
  failure?: string | null
}
const cases: Case[] = [
  { url: 'dns://healthy.test', test: 'dns_consistency', blocking: false, accessible: true, reason: 'ok' },
  { url: 'dns://inject.test', test: 'dns_consistency', blocking: 'dns', accessible: false, reason: 'dns_injection' },
  { url: 'dns://trunc.test', test: 'dns_consistency', blocking: false, accessible: true },
  { url: 'dns://nx.test', test: 'dns_consistency', blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error' },
  { url: `tcp://healthy.test:${P}`, test: 'tcp_connect', blocking: false, accessible: true },
  { url: `tcp://refused.test:${P}`, test: 'tcp_connect', blocking: 'tcp_ip', accessible: false, failure: 'connection_refused' },
  { url: `tcp://127.0.0.1:${P}`, test: 'tcp_connect', blocking: null, accessible: true, reason: 'control_failed' },
  { url: `tls://healthy.test:${PS}`, test: 'tls_handshake', blocking: false, accessible: true },
  { url: `tls://wrong.test:${PS}`, test: 'tls_handshake', blocking: 'tls', accessible: false, failure: 'ssl_invalid_hostname' },
  { url: `smpp://smsc.test:${smppOk.port}`, test: 'sms_gateway', blocking: false, accessible: true },
  { url: `smpp://user:secret@smsc.test:${smppRefusing.port}`, test: 'sms_gateway', blocking: false, accessible: true },
  { url: `smpp://smsc.test:${hole.port}`, test: 'sms_gateway', blocking: 'tcp_ip', accessible: false, reason: 'smpp_no_reply' },
  { url: `smsapi+http://healthy.test:${P}/api/v1/sms`, test: 'sms_gateway', blocking: false, accessible: true }
]

const results = new Map<string, Measurement>()
for await (const m of measure(
  cases.map(c => targetOf(c.url)),
  {
    resolver: dns.address,
    controlUrl: control.url,
    caPem: certs.caPem,
    dnsResolvers: [{ kind: 'tcp', address: parseResolver(dns.address)! }],
    duplicateWindowMs: 300,
    timeouts: { dnsMs: 3000, connectMs: 3000, tlsMs: 3000, firstByteMs: 3000, smppMs: 1500 }
  }
))
  results.set(m.input!, m)

for (const c of cases) {
  t.test(c.url, async t => {
    const m = results.get(c.url)!
    t.equal(m.test_name, c.test)
    const tk = m.test_keys as Record<string, unknown>
    if (tk.blocking !== c.blocking) t.comment(JSON.stringify(tk.queries))
    t.equal(tk.blocking, c.blocking, `blocking (reason ${String(tk.verdict_reason)}, failure ${String(tk.verdict_failure)})`)
    t.equal(tk.accessible, c.accessible, 'accessible')
    if (c.reason !== undefined) t.equal(tk.verdict_reason, c.reason)
    if (c.failure !== undefined) t.equal(tk.verdict_failure, c.failure)
    t.same(validateTestKeys(m.test_name, tk), [], 'test_keys validate against the schema')
  })
}

t.test('details', async t => {
  const inject = results.get('dns://inject.test')!.test_keys as { injection_detected: boolean; queries: Array<{ x_duplicate_replies?: unknown[] }> }
  t.equal(inject.injection_detected, true, 'the second reply was caught')
  const trunc = results.get('dns://trunc.test')!.test_keys as { queries: Array<{ x_tcp_fallback?: boolean; engine: string }> }
  t.ok(
    trunc.queries.some(q => q.x_tcp_fallback === true),
    'a truncated UDP reply is retried over TCP'
  )
  t.ok(
    trunc.queries.some(q => q.engine === 'tcp'),
    'the extra TCP resolver is asked too'
  )
  t.same(smppOk.commands, ['bind_transceiver', 'enquire_link', 'unbind'], 'bind, enquire_link, unbind; never submit_sm')
  t.notOk(smppRefusing.commands.includes('submit_sm'))
  const refused = results.get(`smpp://user:secret@smsc.test:${smppRefusing.port}`)!.test_keys as { smpp: { system_id: string; steps: Array<{ command_status: number }> } }
  t.equal(refused.smpp.system_id, 'user', 'credentials from the target row')
  t.equal(refused.smpp.steps[0]!.command_status, 14, 'an error status is still a reply')
})
