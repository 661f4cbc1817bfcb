/**
 * Drives a plain client (test/helpers/lab-client.ts, not the probe) through
 * every technique of the all-techniques scenario and checks the low-level
 * symptom docs/lab.md promises; the same client sees every healthy target
 * work; then the "site down" case and a whole-network outage.
 */
import t from 'tap'
import { matchDnsAnswer, matchHttpResponse } from '../../shared/src/fingerprints.ts'
import { loadFingerprintsDir } from '../../shared/src/netx/fingerprints.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'
import { startLab, type Lab } from '../helpers/lab.ts'
import type { Check, CheckResult } from '../helpers/lab-client.ts'

const lab = await startLab(t, { prefix: 'bwtech-', scenario: 'all-techniques', shared: true })

/** Runs a batch of checks in the client namespace, all at once. */
async function client(l: Lab, checks: Check[]): Promise<CheckResult[]> {
  const r = await l.exec('client', [process.execPath, '--import', 'tsx', 'test/helpers/lab-client.ts'], { input: JSON.stringify(checks), timeoutMs: 30_000 })
  if (r.code !== 0) throw new Error(`lab-client exited with ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as CheckResult[]
}

if (lab !== null) {
  const ca = lab.caFile
  const fetchOf = (url: string, timeoutMs = 1500, method?: string, family?: 4 | 6): Check => ({
    op: 'fetch',
    url,
    ca,
    timeoutMs,
    ...(method !== undefined ? { method } : {}),
    ...(family !== undefined ? { family } : {})
  })
  const fps = await loadFingerprintsDir(FINGERPRINTS)

  t.test('every technique shows its symptom, every healthy target works', async t => {
    const named: Array<[string, Check]> = [
      ['dns-forge lookup', { op: 'lookup', host: 'dns-forge.lab.test' }],
      ['dns-forge http', fetchOf(lab.url('dns-forge'))],
      ['dns-bogon lookup', { op: 'lookup', host: 'dns-bogon.lab.test' }],
      ['dns-nxdomain lookup', { op: 'lookup', host: 'dns-nxdomain.lab.test' }],
      ['dns-timeout lookup', { op: 'lookup', host: 'dns-timeout.lab.test' }],
      ['dns-timeout raw', { op: 'dns', host: 'dns-timeout.lab.test', server: lab.resolver, windowMs: 2000 }],
      ['dns-inject raw', { op: 'dns', host: 'dns-inject.lab.test', server: lab.resolver, windowMs: 2000 }],
      ['dns-inject raw public', { op: 'dns', host: 'dns-inject.lab.test', server: lab.addresses.publicResolver, windowMs: 2000 }],
      ['healthy raw', { op: 'dns', host: 'healthy.lab.test', server: lab.resolver, windowMs: 2000 }],
      ['tcp-drop', fetchOf(lab.url('tcp-drop'), 1000)],
      ['tcp-reset', fetchOf(lab.url('tcp-reset'))],
      ['tcp-icmp', fetchOf(lab.url('tcp-icmp'))],
      ['http-blockpage-200', fetchOf(lab.url('http-blockpage-200'))],
      ['http-blockpage-403', fetchOf(lab.url('http-blockpage-403'))],
      ['http-blockpage-200 https', fetchOf(lab.url('http-blockpage-200', 'https'))],
      ['http-reset', fetchOf(lab.url('http-reset'))],
      ['http-reset https', fetchOf(lab.url('http-reset', 'https'))],
      ['tls-reset', fetchOf(lab.url('tls-reset', 'https'))],
      ['tls-reset http', fetchOf(lab.url('tls-reset'))],
      ['tls-mitm', fetchOf(lab.url('tls-mitm', 'https'))],
      ['throttle', fetchOf('http://throttle.lab.test/bytes/65536', 10_000)],
      ['healthy download', fetchOf('http://healthy.lab.test/bytes/65536', 10_000)],
      ['site-down', fetchOf(lab.url('site-down'))],
      ['smpp-blocked', { op: 'smpp', host: 'smpp-blocked.lab.test', timeoutMs: 1000 }],
      ['sms-api-host-blocked', fetchOf(lab.url('sms-api-host-blocked'), 1500, 'POST')],
      ['sms-api-sni-blocked', fetchOf(lab.url('sms-api-sni-blocked', 'https'), 1500, 'POST')],
      // Issue 15
      ['http-blockpage-plain', fetchOf(lab.url('http-blockpage-plain'))],
      ['http-blockpage-plain https', fetchOf(lab.url('http-blockpage-plain', 'https'))],
      ['dns-forge-plain lookup', { op: 'lookup', host: 'dns-forge-plain.lab.test' }],
      ['dns-forge-plain http', fetchOf(lab.url('dns-forge-plain'))],
      ['tls-ip-reset', fetchOf(lab.url('tls-ip-reset', 'https'))],
      ['tls-ip-reset no sni', { op: 'tls', ip: lab.target('tls-ip-reset').ip, port: 443, servername: null, timeoutMs: 1500 }],
      ['tls-ip-reset http', fetchOf(lab.url('tls-ip-reset'))],
      ['tls-reset no sni', { op: 'tls', ip: lab.target('tls-reset').ip, port: 443, servername: null, timeoutMs: 1500 }],
      ['tls-reset other name', { op: 'tls', ip: lab.target('tls-reset').ip, port: 443, servername: 'healthy.lab.test', timeoutMs: 1500 }],
      ['dns-inject-tcp raw udp', { op: 'dns', host: 'dns-inject-tcp.lab.test', server: lab.resolver, windowMs: 1500 }],
      ['dns-inject-tcp raw tcp', { op: 'dns', host: 'dns-inject-tcp.lab.test', server: lab.resolver, windowMs: 1500, tcp: true }],
      ['healthy raw tcp', { op: 'dns', host: 'healthy.lab.test', server: lab.resolver, windowMs: 1500, tcp: true }],
      // Two names on one address, whose server refuses a ClientHello without SNI
      ['sni-filtered', fetchOf(lab.url('sni-filtered', 'https'))],
      ['sni-filtered no sni', { op: 'tls', ip: lab.target('sni-filtered').ip, port: 443, servername: null, timeoutMs: 1500 }],
      ['sni-filtered other name', { op: 'tls', ip: lab.target('sni-filtered').ip, port: 443, servername: 'healthy.lab.test', timeoutMs: 1500 }],
      ['ip-filtered other name', { op: 'tls', ip: lab.target('ip-filtered').ip, port: 443, servername: 'healthy.lab.test', timeoutMs: 1500 }],
      ['ip-neighbour', fetchOf(lab.url('ip-neighbour', 'https'))],
      ['ip-neighbour http', fetchOf(lab.url('ip-neighbour'))],
      // IPv6
      ['dual-stack over ipv6', { op: 'tls', ip: lab.target('dual-stack').ip6!, port: 443, servername: 'dual-stack.lab.test', timeoutMs: 1500 }],
      ['v6-tcp-reset', { op: 'tls', ip: lab.target('v6-tcp-reset').ip6!, port: 443, servername: 'v6-tcp-reset.lab.test', timeoutMs: 1500 }],
      ['v6-tcp-reset lookup', { op: 'lookup', host: 'v6-tcp-reset.lab.test' }],
      ['v6-blockpage', fetchOf(lab.url('v6-blockpage'), 1500, undefined, 6)],
      ['v6-blockpage https', fetchOf(lab.url('v6-blockpage', 'https'), 1500, undefined, 6)],
      ['dual-stack https over ipv6', fetchOf(lab.url('dual-stack', 'https'), 1500, undefined, 6)]
    ]
    const healthy = lab.targets.filter(x => x.technique === null && !x.down)
    for (const h of healthy) {
      if (h.kind === 'smpp') named.push([`healthy ${h.name}`, { op: 'smpp', host: h.host, timeoutMs: 1500 }])
      else for (const u of h.urls) named.push([`healthy ${u}`, fetchOf(u, 1500, h.kind === 'sms-api' ? 'POST' : undefined)])
    }
    const results = await client(
      lab,
      named.map(([, c]) => c)
    )
    const r = Object.fromEntries(named.map(([name], i) => [name, results[i]!]))

    // DNS
    t.equal(r['dns-forge lookup']!.address, lab.addresses.blockpage, 'dns-forge: the forged address (the blockpage)')
    t.equal(matchDnsAnswer(fps, r['dns-forge lookup']!.address!)?.name, 'ooni.ir_10dot10_ipv4_1', 'dns-forge: the address matches an OONI DNS fingerprint')
    t.equal(r['dns-forge http']!.status, 200, 'dns-forge: http reaches the blockpage')
    t.equal(r['dns-bogon lookup']!.address, '127.0.0.1', 'dns-bogon: a bogon')
    t.equal(r['dns-nxdomain lookup']!.code, 'ENOTFOUND', 'dns-nxdomain: ENOTFOUND')
    t.equal(r['dns-timeout lookup']!.code, 'EAI_AGAIN', 'dns-timeout: getaddrinfo gives up with EAI_AGAIN')
    t.equal(r['dns-timeout raw']!.code, 'ETIMEDOUT', 'dns-timeout: no reply at all')
    for (const k of ['dns-inject raw', 'dns-inject raw public']) {
      t.same(r[k]!.replies, [[lab.addresses.blockpage], [lab.target('dns-inject').ip]], `${k}: two replies to one query, the forgery first`)
    }
    t.same(r['healthy raw']!.replies, [[lab.target('healthy').ip]], 'healthy: one genuine reply')
    // TCP/IP
    t.equal(r['tcp-drop']!.code, 'ETIMEDOUT', "tcp-drop: the client's own timer fires")
    t.equal(r['tcp-reset']!.code, 'ECONNREFUSED', 'tcp-reset: a RST answers the SYN')
    t.equal(r['tcp-icmp']!.code, 'EHOSTUNREACH', 'tcp-icmp: ICMP admin-prohibited')
    // HTTP
    const bp200 = r['http-blockpage-200']!
    t.equal(bp200.status, 200)
    t.ok(
      matchHttpResponse(fps, { body: bp200.body }).some(m => m.name === 'ooni.ir_0'),
      'blockpage 200 matches ooni.ir_0'
    )
    const bp403 = r['http-blockpage-403']!
    t.equal(bp403.status, 403)
    t.ok(
      matchHttpResponse(fps, { body: bp403.body }).some(m => m.name === 'ooni.be_0'),
      'blockpage 403 matches ooni.be_0'
    )
    t.equal(r['http-blockpage-200 https']!.status, 200, 'the transparent HTTP middlebox leaves HTTPS alone')
    t.notOk(matchHttpResponse(fps, { body: r['http-blockpage-200 https']!.body }).length, 'HTTPS gets the genuine page')
    t.equal(r['http-reset']!.code, 'ECONNRESET', 'http-reset: RST after the Host header')
    t.equal(r['http-reset https']!.status, 200, 'http-reset leaves HTTPS alone')
    // TLS
    t.equal(r['tls-reset']!.code, 'ECONNRESET', 'tls-reset: RST after the SNI')
    t.equal(r['tls-reset http']!.status, 200, 'tls-reset leaves HTTP alone')
    t.equal(r['tls-mitm']!.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls-mitm: a certificate error')
    // Issue 15: an unknown blockpage with common headers only, in-path and by DNS
    const common = new Set(['content-type', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length'])
    const plain = r['http-blockpage-plain']!
    t.equal(plain.status, 200, 'http-blockpage-plain: status 200')
    t.match(plain.body, 'This page is not available', 'the unknown blockpage')
    t.same(matchHttpResponse(fps, { body: plain.body }), [], 'no fingerprint knows it')
    t.same(
      plain.headers!.filter(h => !common.has(h)),
      [],
      `common headers only (${plain.headers!.join(', ')})`
    )
    const plainSite = r['http-blockpage-plain https']!
    t.equal(plainSite.status, 200, 'HTTPS untouched')
    t.same(
      plainSite.headers!.filter(h => !common.has(h)),
      [],
      'the genuine site sends common headers only too'
    )
    t.equal(r['dns-forge-plain lookup']!.address, lab.addresses.plainBlockpage, "dns-forge-plain: the unknown blockpage's address")
    t.equal(matchDnsAnswer(fps, r['dns-forge-plain lookup']!.address!), null, 'which no DNS fingerprint names')
    t.match(r['dns-forge-plain http']!.body, 'This page is not available', 'and which serves the unknown blockpage')
    // SNI or address
    t.equal(r['tls-ip-reset']!.code, 'ECONNRESET', 'tls-ip-reset: RST on the ClientHello')
    t.equal(r['tls-ip-reset no sni']!.code, 'ECONNRESET', 'tls-ip-reset: without SNI too (filtering by address)')
    t.equal(r['tls-ip-reset http']!.status, 200, 'tls-ip-reset leaves HTTP alone')
    t.ok(r['tls-reset no sni']!.ok, `tls-reset: a handshake without SNI gets through (filtering by name) ${r['tls-reset no sni']!.code ?? ''}`)
    t.ok(r['tls-reset other name']!.ok, 'tls-reset: and one with another name')
    // Issue 15: SNI versus address on one address
    t.equal(r['sni-filtered']!.code, 'ECONNRESET', 'sni-filtered: RST after the SNI')
    t.equal(r['sni-filtered no sni']!.code, 'ECONNRESET', 'sni-filtered: its server itself resets a ClientHello without SNI')
    t.ok(r['sni-filtered other name']!.ok, 'sni-filtered: another name on the same address gets through')
    t.equal(r['ip-filtered other name']!.code, 'ECONNRESET', 'ip-filtered: another name is reset too (filtering by address)')
    t.equal(r['ip-neighbour']!.code, 'ECONNRESET', 'ip-neighbour: the other name on the filtered address is reset')
    t.equal(r['ip-neighbour http']!.status, 200, 'ip-neighbour: HTTP untouched')
    // Issue 15: IPv6
    t.ok(r['dual-stack over ipv6']!.ok, `dual-stack: TLS over IPv6 works ${r['dual-stack over ipv6']!.code ?? ''}`)
    t.equal(r['dual-stack https over ipv6']!.status, 200, 'dual-stack: HTTPS over IPv6, by name (AAAA)')
    t.equal(r['v6-tcp-reset']!.code, 'ECONNREFUSED', 'v6-tcp-reset: a RST answers the SYN over IPv6')
    t.equal(r['v6-tcp-reset lookup']!.code, 'ENOTFOUND', 'v6-tcp-reset: IPv6 only, no A record')
    t.match(r['v6-blockpage']!.body, 'This page is not available', 'v6-blockpage: the unknown blockpage, over IPv6')
    t.equal(r['v6-blockpage https']!.status, 200, 'v6-blockpage: HTTPS over IPv6 untouched')
    t.notMatch(r['v6-blockpage https']!.body, 'This page is not available')
    // DNS injected over TCP
    t.same(r['dns-inject-tcp raw tcp']!.replies, [[lab.addresses.blockpage]], 'dns-inject-tcp: the forgery over TCP')
    t.same(r['dns-inject-tcp raw udp']!.replies, [[lab.target('dns-inject-tcp').ip]], 'dns-inject-tcp: UDP untouched')
    t.same(r['healthy raw tcp']!.replies, [[lab.target('healthy').ip]], 'other names over TCP: the genuine answer (relayed)')
    // Throttling
    t.equal(r.throttle!.bytes, 65536)
    t.ok(r.throttle!.ms > 1500, `throttle: 64 KiB at 256 kbit/s is slow (${r.throttle!.ms} ms)`)
    // 64 KiB at 256 kbit/s cannot take less than ~2 s; the healthy site is far faster, even on a busy machine.
    t.ok(r['healthy download']!.ms * 2 < r.throttle!.ms, `healthy: 64 KiB is fast (${r['healthy download']!.ms} ms)`)
    // Site down, SMS
    t.equal(r['site-down']!.code, 'ECONNREFUSED', 'site-down: refused (for everyone)')
    t.equal(r['smpp-blocked']!.code, 'ETIMEDOUT', 'smpp-blocked: the SMPP port is dropped')
    t.equal(r['sms-api-host-blocked']!.code, 'ECONNRESET', 'sms-api-host-blocked: RST on the Host')
    t.equal(r['sms-api-sni-blocked']!.code, 'ECONNRESET', 'sms-api-sni-blocked: RST on the SNI')
    // Healthy
    for (const [name] of named.filter(([n]) => n.startsWith('healthy '))) {
      const x = r[name]!
      t.ok(x.ok, `${name} works${x.ok ? '' : `: ${x.code ?? ''} ${x.message ?? ''}`}`)
      if (x.status !== undefined && !name.includes('smpp')) t.ok(x.status >= 200 && x.status < 300, `${name}: status ${x.status}`)
      t.same(matchHttpResponse(fps, { body: x.body }), [], `${name}: no fingerprint matches`)
    }
  })

  t.test('site down and back, for everyone', async t => {
    await lab.startSite('site-down')
    await lab.stopSite('healthy-2')
    const [a, b] = await client(lab, [fetchOf(lab.url('site-down')), fetchOf(lab.url('healthy-2', 'https'))])
    t.equal(a!.status, 200, 'a started site answers')
    t.equal(b!.code, 'ECONNREFUSED', 'a stopped site refuses')
    await lab.startSite('healthy-2')
    await lab.stopSite('site-down')
    const [c] = await client(lab, [fetchOf(lab.url('healthy-2', 'https'))])
    t.equal(c!.status, 200, 'and answers again when restarted')
  })

  t.test('whole-network outage', async t => {
    await lab.setOutage(true)
    t.teardown(async () => {
      await lab.setOutage(false)
    })
    const during = await client(lab, [fetchOf(lab.url('healthy'), 800), { op: 'lookup', host: 'healthy.lab.test' }])
    t.equal(during[0]!.code, 'ETIMEDOUT', 'outage: everything is dropped')
    t.equal(during[1]!.code, 'EAI_AGAIN', 'outage: DNS too')
    await lab.setOutage(false)
    const after = await client(lab, [fetchOf(lab.url('healthy'))])
    t.equal(after[0]!.status, 200, 'after the outage the site works again')
  })

  t.test('apply: another scenario while up', async t => {
    await lab.apply({ targets: [{ name: 'healthy', technique: 'tcp-reset' }, { name: 'healthy-2' }] })
    t.same(
      lab.targets.map(x => x.name),
      ['healthy', 'healthy-2'],
      'the lab describes the new targets'
    )
    const [a, b] = await client(lab, [fetchOf(lab.url('healthy')), fetchOf(lab.url('healthy-2'))])
    t.equal(a!.code, 'ECONNREFUSED', 'healthy is now reset')
    t.equal(b!.status, 200, 'healthy-2 still works')
  })
}
