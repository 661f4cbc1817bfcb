/**
 * The probe in the censorship lab (docs/lab.md): `blockwatch probe run`
 * inside the client namespace, against every technique the lab offers, with
 * the aggregator's real control vantage in world. The verdict must name the
 * technique (blocking and failure string), every unblocked target must come
 * out accessible: true, blocking: false, and a site that is down for
 * everyone must come out down, not blocked.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLab } from '../helpers/lab.ts'
import { FINGERPRINTS } from '../helpers/paths.ts'

const lab = await startLab(t, { prefix: 'bwprobe-', scenario: 'all-techniques', control: true, shared: true })

interface Want {
  blocking: unknown
  accessible: boolean | null
  failure?: string | null
  reason?: string
}

if (lab !== null) {
  const dir = mkdtempSync(join(tmpdir(), 'bw-lab-probe-'))
  chmodSync(dir, 0o755)
  const h = (name: string): string => lab.target(name).host
  const rows: Array<[string, Want]> = [
    // web_connectivity, one per technique
    [`http://${h('dns-forge')}/`, { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' }],
    [`http://${h('dns-bogon')}/`, { blocking: 'dns', accessible: false }],
    [`http://${h('dns-nxdomain')}/`, { blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error' }],
    [`http://${h('dns-timeout')}/`, { blocking: 'dns', accessible: false, failure: 'generic_timeout_error' }],
    [`http://${h('dns-inject')}/`, { blocking: 'dns', accessible: false }],
    [`http://${h('tcp-drop')}/`, { blocking: 'tcp_ip', accessible: false, failure: 'generic_timeout_error' }],
    [`http://${h('tcp-reset')}/`, { blocking: 'tcp_ip', accessible: false, failure: 'connection_refused' }],
    [`http://${h('tcp-icmp')}/`, { blocking: 'tcp_ip', accessible: false, failure: 'host_unreachable' }],
    [`http://${h('http-blockpage-200')}/`, { blocking: 'http-diff', accessible: false, reason: 'http_blockpage_fingerprint' }],
    [`http://${h('http-blockpage-403')}/`, { blocking: 'http-diff', accessible: false, reason: 'http_blockpage_fingerprint' }],
    [`http://${h('http-reset')}/`, { blocking: 'http-failure', accessible: false, failure: 'connection_reset' }],
    [`https://${h('tls-reset')}/`, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_sni_filtering' }],
    [`https://${h('tls-ip-reset')}/`, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' }],
    // Issue 15: a blockpage no fingerprint knows, common headers only, in-path and by DNS
    [`http://${h('http-blockpage-plain')}/`, { blocking: 'http-diff', accessible: false, reason: 'http_diff' }],
    [`http://${h('dns-forge-plain')}/`, { blocking: 'dns', accessible: false, reason: 'dns_different_addresses' }],
    [`https://${h('dns-forge-plain')}/`, { blocking: 'dns', accessible: false, reason: 'dns_different_addresses' }],
    [`https://${h('tls-mitm')}/`, { blocking: 'tls', accessible: false, failure: 'ssl_unknown_authority' }],
    [`http://${h('throttle')}/`, { blocking: false, accessible: true }],
    [`https://${h('throttle')}/`, { blocking: false, accessible: true }],
    [`http://${h('site-down')}/`, { blocking: false, accessible: false, reason: 'down' }],
    [`https://${h('site-down')}/`, { blocking: false, accessible: false, reason: 'down' }],
    // a technique leaves the other scheme alone
    [`https://${h('http-blockpage-200')}/`, { blocking: false, accessible: true }],
    [`https://${h('http-reset')}/`, { blocking: false, accessible: true }],
    [`http://${h('tls-reset')}/`, { blocking: false, accessible: true }],
    [`http://${h('tls-ip-reset')}/`, { blocking: false, accessible: true }],
    [`https://${h('http-blockpage-plain')}/`, { blocking: false, accessible: true }],
    // Issue 15: two names on each of two addresses whose servers refuse a handshake without SNI.
    // Which other listed name the second follow-up sends depends on what finished first in this
    // concurrent run, so the SNI pair's reason is checked by the ordered run below; a filtered
    // address cuts every name, so its reason is certain.
    [`https://${h('sni-filtered')}/`, { blocking: 'tls', accessible: false, failure: 'connection_reset' }],
    [`https://${h('ip-filtered')}/`, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' }],
    [`https://${h('ip-neighbour')}/`, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' }],
    [`http://${h('ip-neighbour')}/`, { blocking: false, accessible: true }],
    [`http://${h('sni-filtered')}/`, { blocking: false, accessible: true }],
    // IPv6 (issue 15): an IPv6-only site reset over IPv6, an unknown blockpage DNATed over IPv6
    [`http://${h('v6-tcp-reset')}/`, { blocking: 'tcp_ip', accessible: false, failure: 'connection_refused', reason: 'tcp_refused' }],
    [`tcp://${h('v6-tcp-reset')}:443`, { blocking: 'tcp_ip', accessible: false, failure: 'connection_refused' }],
    [`http://${h('v6-blockpage')}/`, { blocking: 'http-diff', accessible: false, reason: 'http_diff' }],
    [`https://${h('v6-blockpage')}/`, { blocking: false, accessible: true }],
    // DNS injected over TCP only: the probe's own (UDP) lookups are clean
    [`http://${h('dns-inject-tcp')}/`, { blocking: false, accessible: true }],
    // dns_consistency
    [`dns://${h('dns-forge')}`, { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' }],
    [`dns://${h('dns-bogon')}`, { blocking: 'dns', accessible: false }],
    [`dns://${h('dns-nxdomain')}`, { blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error' }],
    [`dns://${h('dns-timeout')}`, { blocking: 'dns', accessible: false, failure: 'generic_timeout_error' }],
    [`dns://${h('dns-inject')}`, { blocking: 'dns', accessible: false, reason: 'dns_injection' }],
    // ... but dns_consistency also asks over TCP (--dns-resolvers tcp:system), and that answer is the national blockpage
    [`dns://${h('dns-inject-tcp')}`, { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' }],
    // tcp_connect and tls_handshake
    [`tcp://${h('tcp-drop')}:80`, { blocking: 'tcp_ip', accessible: false, failure: 'generic_timeout_error' }],
    [`tcp://${h('tcp-reset')}:443`, { blocking: 'tcp_ip', accessible: false, failure: 'connection_refused' }],
    [`tcp://${h('tcp-icmp')}:443`, { blocking: 'tcp_ip', accessible: false, failure: 'host_unreachable' }],
    [`tls://${h('tls-reset')}:443`, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_sni_filtering' }],
    [`tls://${h('tls-ip-reset')}:443`, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' }],
    [`tls://${h('tls-mitm')}:443`, { blocking: 'tls', accessible: false, failure: 'ssl_unknown_authority' }],
    [`tcp://${h('site-down')}:80`, { blocking: false, accessible: false, reason: 'down' }],
    // sms_gateway
    [`smpp://${h('smpp')}:2775`, { blocking: false, accessible: true }],
    [`smpp://${h('smpp-blocked')}:2775`, { blocking: 'tcp_ip', accessible: false, failure: 'generic_timeout_error' }],
    [`smsapi+http://${h('sms-api')}/api/v1/sms`, { blocking: false, accessible: true }],
    [`smsapi+https://${h('sms-api')}/api/v1/sms`, { blocking: false, accessible: true }],
    [`smsapi+http://${h('sms-api-host-blocked')}/api/v1/sms`, { blocking: 'http-failure', accessible: false, failure: 'connection_reset' }],
    [`smsapi+https://${h('sms-api-sni-blocked')}/api/v1/sms`, { blocking: 'tls', accessible: false, failure: 'connection_reset' }]
  ]
  // Every healthy target, by every test that applies.
  for (const target of lab.targets.filter(x => x.technique === null && !x.down)) {
    const healthy: Want = { blocking: false, accessible: true }
    if (target.kind === 'web') {
      rows.push(
        [`http://${target.host}/`, healthy],
        [`https://${target.host}/`, healthy],
        [`dns://${target.host}`, healthy],
        [`tcp://${target.host}:80`, healthy],
        [`tls://${target.host}:443`, healthy]
      )
    }
  }
  const list = join(dir, 'lab.csv')
  writeFileSync(list, 'url,category_code,category_description,date_added,source,notes\n' + rows.map(([u]) => `${u},MISC,,,,`).join('\n') + '\n')
  const out = join(dir, 'out.jsonl')

  t.test('probe run names every technique, and healthy targets are healthy', async t => {
    const r = await lab.exec(
      'client',
      [
        process.execPath,
        'scripts/blockwatch.js',
        'probe',
        'run',
        '--targets',
        list,
        '--resolver',
        lab.resolver,
        '--control',
        lab.controlUrl!,
        '--ca',
        lab.caFile,
        '--fingerprints',
        FINGERPRINTS,
        '--dns-resolvers',
        'tcp:system',
        '--concurrency',
        '48',
        '--output',
        out
      ],
      { timeoutMs: 120_000 }
    )
    t.equal(r.code, 0, `probe run exits 0 ${r.stderr.slice(0, 500)}`)
    const docs = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map(l => JSON.parse(l) as { input: string; test_name: string; test_keys: Record<string, unknown> })
    t.equal(docs.length, rows.length, 'one measurement per target')
    const by = new Map(docs.map(d => [d.input, d]))
    for (const [url, want] of rows) {
      const d = by.get(url)
      if (d === undefined) {
        t.fail(`${url}: no measurement`)
        continue
      }
      const tk = d.test_keys
      const got = `blocking ${String(tk.blocking)}, accessible ${String(tk.accessible)}, reason ${String(tk.verdict_reason)}, failure ${String(tk.verdict_failure)}`
      if (tk.blocking !== want.blocking || (want.failure !== undefined && tk.verdict_failure !== want.failure)) {
        t.comment(
          JSON.stringify({
            url,
            tcp: tk.tcp_connect,
            requests: (tk.requests as Array<Record<string, unknown>> | undefined)?.map(r => ({
              failure: r.failure,
              op: r.x_failed_operation,
              t: r.t,
              code: (r.response as { code?: number } | null)?.code
            })),
            control: tk.control
          }).slice(0, 2000)
        )
      }
      t.equal(tk.blocking, want.blocking, `${url} (${d.test_name}): ${got}`)
      t.equal(tk.accessible, want.accessible, `${url}: accessible`)
      if (want.failure !== undefined) t.equal(tk.verdict_failure, want.failure, `${url}: failure string`)
      if (want.reason !== undefined) t.equal(tk.verdict_reason, want.reason, `${url}: reason`)
    }
    t.match(r.stdout, /total\s+\d+/, 'the summary table')
  })
}

if (lab !== null) {
  t.test('SNI versus address on one address: the follow-ups name each (issue 15)', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-lab-sni-'))
    chmodSync(dir, 0o755)
    const h = (name: string): string => lab.target(name).host
    // One at a time, in this order: http://healthy is listed (no handshake), https://healthy passes, then the pairs.
    const urls = [
      `http://${h('healthy')}/`,
      `https://${h('sni-filtered')}/`,
      `https://${h('healthy')}/`,
      `https://${h('ip-filtered')}/`,
      `https://${h('sni-neighbour')}/`,
      `tls://${h('sni-filtered')}:443`,
      `tls://${h('ip-neighbour')}:443`
    ]
    const list = join(dir, 'sni.csv')
    writeFileSync(list, 'url,category_code,category_description,date_added,source,notes\n' + urls.map(u => `${u},MISC,,,,`).join('\n') + '\n')
    const out = join(dir, 'sni.jsonl')
    const r = await lab.exec(
      'client',
      [
        process.execPath,
        'scripts/blockwatch.js',
        'probe',
        'run',
        '--targets',
        list,
        '--resolver',
        lab.resolver,
        '--control',
        lab.controlUrl!,
        '--ca',
        lab.caFile,
        '--fingerprints',
        'none',
        '--concurrency',
        '1',
        '--output',
        out
      ],
      { timeoutMs: 90_000 }
    )
    t.equal(r.code, 0, r.stderr.slice(0, 300))
    const by = new Map(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as { input: string; test_keys: Record<string, unknown> })
        .map(d => [d.input, d.test_keys])
    )
    const sniAddr = `${lab.target('sni-filtered').ip}:443`
    const ipAddr = `${lab.target('ip-filtered').ip}:443`
    // The latest name whose handshake passed before: healthy, or sni-neighbour once it has been measured.
    const passed = new RegExp(`^(${h('healthy')}|${h('sni-neighbour')})$`.replace(/\./g, '\\.'))
    // The server refuses a ClientHello without SNI, so the first follow-up is cut even where only the name is filtered.
    const sniByList = by.get(urls[1]!)!
    t.match(sniByList.x_sni_followup, { address: sniAddr, server_name: null, failure: 'connection_reset' }, 'no SNI: cut (the server itself)')
    t.match(sniByList.x_sni_followup_name, { address: sniAddr, server_name: h('healthy'), name_source: 'list', failure: null }, 'another listed name gets through')
    t.equal(sniByList.verdict_reason, 'tls_sni_filtering')
    for (const u of [urls[5]!]) {
      t.match(by.get(u)!.x_sni_followup_name, { address: sniAddr, server_name: passed, name_source: 'tls_ok', failure: null }, `${u}: a name that passed gets through`)
      t.equal(by.get(u)!.verdict_reason, 'tls_sni_filtering', `${u}: SNI filtering`)
    }
    for (const u of [urls[3]!, urls[6]!]) {
      t.match(by.get(u)!.x_sni_followup_name, { address: ipAddr, server_name: passed, name_source: 'tls_ok', failure: 'connection_reset' }, `${u}: the address cuts a name that passed elsewhere`)
      t.equal(by.get(u)!.verdict_reason, 'tls_address_filtering', `${u}: address filtering`)
      t.equal(by.get(u)!.blocking, 'tls')
    }
    const neighbour = by.get(urls[4]!)!
    t.equal(neighbour.blocking, false, 'the other name on the SNI-filtered address passes')
    t.equal(neighbour.accessible, true)
    t.equal(neighbour.x_sni_followup, undefined)
  })

  t.test('a whole-network outage is no censorship claim', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-lab-outage-'))
    chmodSync(dir, 0o755)
    const list = join(dir, 'outage.csv')
    writeFileSync(list, `url,category_code,category_description,date_added,source,notes\nhttp://${lab.target('healthy').host}/,MISC,,,,\n`)
    await lab.setOutage(true)
    t.teardown(async () => {
      await lab.setOutage(false)
    })
    const r = await lab.exec(
      'client',
      [process.execPath, 'scripts/blockwatch.js', 'probe', 'run', '--targets', list, '--resolver', lab.resolver, '--control', lab.controlUrl!, '--fingerprints', 'none', '--output', '-'],
      { timeoutMs: 90_000 }
    )
    t.equal(r.code, 0)
    const doc = JSON.parse(r.stdout.split('\n').find(l => l.startsWith('{'))!) as { test_keys: Record<string, unknown> }
    t.equal(doc.test_keys.blocking, null, `blocking null (reason ${String(doc.test_keys.verdict_reason)})`)
    t.equal(doc.test_keys.verdict_reason, 'control_failed')
    t.ok(typeof doc.test_keys.control_failure === 'string', 'the control failure is recorded')
  })
}
