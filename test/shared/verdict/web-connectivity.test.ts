/**
 * web_connectivity verdicts, table-driven, on recorded inputs with no
 * network: the real OONI samples first (../shared/data/ooni-measurements),
 * then one named case per rule and per known false positive or negative.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadFingerprintsDir } from '../../../shared/src/fingerprints.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { judgeWebConnectivity, verdictFor } from '../../../shared/src/verdict/index.ts'
import { FINGERPRINTS, OONI_SAMPLES } from '../../helpers/paths.ts'

const fp = await loadFingerprintsDir(FINGERPRINTS)
const sample = (name: string): Measurement => JSON.parse(readFileSync(OONI_SAMPLES + name, 'utf8')) as Measurement

interface Expect { blocking: unknown, accessible: boolean | null, fingerprint?: string, location?: string, failure?: string | null, reason?: string }

t.test('real OONI samples', async t => {
  const cases: Array<[string, Expect | null]> = [
    // OONI's probe called it ok (one uncommon header matched); the blockpage shows only in a Location header.
    ['20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json', { blocking: 'http-diff', accessible: false, fingerprint: 'ooni.id_lamanlabuh_kominfo', location: 'header.location', reason: 'http_blockpage_fingerprint' }],
    ['bug_352.json', { blocking: 'dns', accessible: false, fingerprint: 'ooni.ir_10dot10_ipv4_1', location: 'dns' }],
    ['web_connectivity_ir_fp.json', { blocking: 'dns', accessible: false, fingerprint: 'ooni.ir_10dot10_ipv4_1', location: 'dns' }],
    // The probe's own decoding bug, not the network: no claim (OONI: failure, accuracy 0).
    ['bug_351.json', { blocking: null, accessible: null, reason: 'probe_failure' }],
    // NXDOMAIN at the probe; the control found only a CNAME and its HTTP failed to resolve too: down, not blocked.
    ['requests_none.json', { blocking: false, accessible: false, reason: 'down', failure: 'dns_nxdomain_error' }],
    ['test_keys_none.json', { blocking: null, accessible: null, reason: 'no_test_keys' }],
    ['report1.json', { blocking: false, accessible: true, reason: 'ok' }],
    ['report1blocked.json', { blocking: false, accessible: true, reason: 'ok' }],
    ['report2.json', { blocking: false, accessible: true, reason: 'ok' }],
    ['report2blocked.json', { blocking: false, accessible: true, reason: 'ok' }],
    // A base64 Location to a Checkpoint URL filter (scope prod, no expected country): recorded, no claim.
    ['web_connectivity_b64_hdr.json', { blocking: 'http-failure', accessible: false, fingerprint: 'cl.prod_checkpoint_urlfilter_forward', location: 'header.location' }],
    // Not ours to re-judge: null, and no crash.
    ['telegram_nourl.json', null],
    ['signal_022.json', null],
    ['dnscheck_example_spec_20201202.json', null],
    ['stunreachability_example_spec.json', null]
  ]
  for (const [file, want] of cases) {
    const v = verdictFor(sample(file), fp)
    if (want === null) { t.equal(v, null, `${file}: not re-judged`); continue }
    t.ok(v !== null, `${file}: judged`)
    if (v === null) continue
    t.equal(v.blocking, want.blocking, `${file}: blocking ${String(want.blocking)} (reason ${v.reason})`)
    t.equal(v.accessible, want.accessible, `${file}: accessible`)
    if (want.reason !== undefined) t.equal(v.reason, want.reason, `${file}: reason`)
    if (want.failure !== undefined) t.equal(v.failure, want.failure, `${file}: failure`)
    if (want.fingerprint !== undefined) {
      t.ok(v.fingerprints.some(m => m.name === want.fingerprint && m.location_found === want.location), `${file}: ${want.fingerprint} in ${want.location}`)
    }
  }
})

t.test('the Indonesian sample: OONI\'s comparisons say ok, the fingerprint wins', async t => {
  const { verdict, analysis } = judgeWebConnectivity(sample('20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json'), fp)
  t.equal(analysis.status_code_match, true, 'the status matches (the blockpage answers 200)')
  t.equal(analysis.headers_match, true, 'an uncommon header matches')
  t.equal(verdict.blocking, 'http-diff')
})

// ---- synthetic cases: one per rule ----------------------------------------

const PAGE = '<html><head><title>Example Domain Healthy Page</title></head><body>' + 'x'.repeat(5000) + '</body></html>'
const CONTROL_HTTP = { body_length: PAGE.length, failure: null, title: 'Example Domain Healthy Page', headers: { 'Content-Type': 'text/html', 'X-Site': 'example' }, status_code: 200 }

interface Doc {
  input?: string
  cc?: string
  answers?: string[]
  dnsFailure?: string | null
  tcp?: Array<[string, number, string | null]>
  tls?: Array<[string, string | null]>
  requests?: Array<{ url?: string, code?: number, body?: string, headers?: Record<string, string>, failure?: string | null, op?: string }>
  httpFailure?: string | null
  control?: Record<string, unknown> | null
  controlFailure?: string | null
  /** No DNS step at all (the probe skips it for a URL whose host is an address). */
  noQueries?: boolean
}

function doc (d: Doc): Measurement {
  const input = d.input ?? 'http://example.org/'
  const answers = d.answers ?? ['93.184.215.14']
  return {
    data_format_version: '0.2.0',
    measurement_start_time: '2026-11-25 00:00:00',
    probe_cc: d.cc ?? 'ZZ',
    probe_asn: 'AS0',
    input,
    test_name: 'web_connectivity',
    software_name: 'blockwatch',
    test_keys: {
      queries: d.noQueries === true ? [] : [{ engine: 'system', hostname: new URL(input).hostname, query_type: 'A', failure: d.dnsFailure ?? null, answers: d.dnsFailure != null ? null : answers.map(ip => ({ answer_type: 'A', ipv4: ip })) }],
      dns_experiment_failure: d.dnsFailure ?? null,
      tcp_connect: (d.tcp ?? answers.map(ip => [ip, 80, null] as [string, number, string | null])).map(([ip, port, failure]) => ({ ip, port, status: { success: failure === null, failure, blocked: null } })),
      tls_handshakes: (d.tls ?? []).map(([address, failure]) => ({ address, server_name: 'example.org', failure })),
      requests: (d.requests ?? [{ code: 200, body: PAGE, headers: { 'Content-Type': 'text/html', 'X-Site': 'example' } }]).map(r => ({
        request: { url: r.url ?? input, method: 'GET' },
        response: r.code === undefined ? null : { code: r.code, body: r.body ?? '', headers: r.headers ?? {} },
        failure: r.failure ?? null,
        x_failed_operation: r.op ?? null
      })),
      http_experiment_failure: d.httpFailure ?? null,
      control: d.control === undefined ? { dns: { failure: null, addrs: ['93.184.215.14'] }, tcp_connect: { '93.184.215.14:80': { status: true, failure: null } }, http_request: CONTROL_HTTP } : (d.control ?? {}),
      control_failure: d.controlFailure ?? null
    }
  }
}

const ctlWith = (over: Record<string, unknown>): Record<string, unknown> => ({ dns: { failure: null, addrs: ['93.184.215.14'] }, tcp_connect: { '93.184.215.14:80': { status: true, failure: null } }, http_request: CONTROL_HTTP, ...over })
const refused = { body_length: -1, failure: 'connection_refused', title: '', headers: {}, status_code: -1 }

const table: Array<[string, Doc, Expect]> = [
  ['healthySameAsControl', {}, { blocking: false, accessible: true, reason: 'ok' }],
  ['dnsNxdomainWithHealthyControl', { dnsFailure: 'dns_nxdomain_error', requests: [] }, { blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error', reason: 'dns_nxdomain' }],
  ['dnsNxdomainAtBothIsDown', { dnsFailure: 'dns_nxdomain_error', requests: [], control: { dns: { failure: 'dns_nxdomain_error', addrs: [] }, http_request: { ...refused, failure: 'dns_lookup_error' } } }, { blocking: false, accessible: false, reason: 'down' }],
  ['dnsBogonWhereControlHasNone', { answers: ['10.0.0.1'] }, { blocking: 'dns', accessible: false, reason: 'dns_bogon' }],
  ['dnsBogonWhereControlHasBogonsToo (the lab)', { answers: ['10.10.64.10'], control: ctlWith({ dns: { failure: null, addrs: ['10.10.64.10'] }, tcp_connect: { '10.10.64.10:80': { status: true, failure: null } } }) }, { blocking: false, accessible: true, reason: 'ok' }],
  ['dnsOtherPrivateAddressThanControlThenBlockpage', { answers: ['10.10.99.9'], requests: [{ code: 200, body: '<html>nope</html>' }], control: ctlWith({ dns: { failure: null, addrs: ['10.10.64.10'] } }) }, { blocking: 'dns', accessible: false, reason: 'dns_different_addresses' }],
  ['dnsFingerprintBeatsAMatchingPage (ooni/probe#1975)', { answers: ['10.10.34.36'] }, { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint', fingerprint: 'ooni.ir_10dot10_ipv4_1', location: 'dns' }],
  ['cdnOtherAddressSamePage', { answers: ['151.101.1.1'] }, { blocking: false, accessible: true, reason: 'ok' }],
  ['cdnOtherAddressValidTls', { input: 'https://example.org/', answers: ['151.101.1.1'], tcp: [['151.101.1.1', 443, null]], tls: [['151.101.1.1:443', null]], requests: [{ code: 200, body: '<html>other edge</html>' }] }, { blocking: 'http-diff', accessible: false, reason: 'http_diff' }],
  ['tcpRefusedWithHealthyControl', { tcp: [['93.184.215.14', 80, 'connection_refused']], requests: [] }, { blocking: 'tcp_ip', accessible: false, failure: 'connection_refused', reason: 'tcp_refused' }],
  ['tcpHostUnreachableIsNotATimeout', { tcp: [['93.184.215.14', 80, 'host_unreachable']], requests: [] }, { blocking: 'tcp_ip', accessible: false, failure: 'host_unreachable', reason: 'tcp_host_unreachable' }],
  ['tcpOtherFailureIsNotATimeout', { tcp: [['93.184.215.14', 80, 'connection_aborted']], requests: [] }, { blocking: 'tcp_ip', accessible: false, failure: 'connection_aborted', reason: 'tcp_failure' }],
  ['ipLiteralHostHealthy (no DNS step)', { input: 'http://93.184.215.14/', noQueries: true }, { blocking: false, accessible: true, reason: 'ok' }],
  ['ipLiteralHostBlockedByTcp', { input: 'http://93.184.215.14/', noQueries: true, tcp: [['93.184.215.14', 80, 'connection_reset']], requests: [] }, { blocking: 'tcp_ip', accessible: false, reason: 'tcp_reset' }],
  ['tcpTimeoutWithHealthyControl', { tcp: [['93.184.215.14', 80, 'generic_timeout_error']], requests: [] }, { blocking: 'tcp_ip', accessible: false, failure: 'generic_timeout_error', reason: 'tcp_timeout' }],
  ['ipv6OnlySiteOnAnIpv4OnlyNetwork', { answers: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'], tcp: [['2606:2800:21f:cb07:6820:80da:af6b:8b2c', 80, 'network_unreachable']], requests: [], control: ctlWith({ dns: { failure: null, addrs: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'] } }) }, { blocking: null, accessible: null, reason: 'probe_network_unreachable' }],
  ['tcpFailedAtBothIsDown', { tcp: [['93.184.215.14', 80, 'connection_refused']], requests: [], control: ctlWith({ tcp_connect: { '93.184.215.14:80': { status: false, failure: 'connection_refused' } }, http_request: refused }) }, { blocking: false, accessible: false, reason: 'down' }],
  ['tlsResetWithHealthyControl', { input: 'https://example.org/', tcp: [['93.184.215.14', 443, null]], tls: [['93.184.215.14:443', 'connection_reset']], requests: [], control: ctlWith({ tls_handshake: { '93.184.215.14:443': { status: true, failure: null } } }) }, { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_reset' }],
  ['tlsWrongCertificate', { input: 'https://example.org/', tcp: [['93.184.215.14', 443, null]], tls: [['93.184.215.14:443', 'ssl_invalid_hostname']], requests: [] }, { blocking: 'tls', accessible: false, failure: 'ssl_invalid_hostname', reason: 'tls_mitm' }],
  ['httpResetWithHealthyControl', { requests: [{ failure: 'connection_reset' }], httpFailure: 'connection_reset' }, { blocking: 'http-failure', accessible: false, failure: 'connection_reset' }],
  ['httpFailedAtBothIsDown', { requests: [{ failure: 'generic_timeout_error' }], httpFailure: 'generic_timeout_error', control: ctlWith({ http_request: { ...refused, failure: 'generic_timeout_error' } }) }, { blocking: false, accessible: false, reason: 'down' }],
  ['throttledBodyIsNotBlocking', { requests: [{ code: 200, body: 'x'.repeat(100), failure: 'generic_timeout_error', op: 'http_body' }], httpFailure: 'generic_timeout_error' }, { blocking: false, accessible: true, reason: 'throttled' }],
  ['plainBlockpageDiffers', { requests: [{ code: 403, body: '<html><title>Denied</title>Blocked</html>' }] }, { blocking: 'http-diff', accessible: false, reason: 'http_diff' }],
  ['blockpageFingerprintInBody', { requests: [{ code: 200, body: '<html><iframe src="http://10.10.34.34"></html>' }], cc: 'IR' }, { blocking: 'http-diff', accessible: false, fingerprint: 'ooni.ir_0', location: 'body' }],
  ['blockpageFingerprintInEarlierRedirect', { requests: [{ code: 200, body: PAGE, headers: { 'Content-Type': 'text/html', 'X-Site': 'example' } }, { code: 302, headers: { Location: 'http://lamanlabuh.aduankonten.id/' } }] }, { blocking: 'http-diff', accessible: false, fingerprint: 'ooni.id_lamanlabuh_kominfo', location: 'header.location' }],
  ['captchaFalsePositiveScopeFp (ooni/probe#2661)', { requests: [{ code: 403, body: '<html><title>Just a moment</title>Checking your browser before accessing example.org</html>' }] }, { blocking: false, accessible: true, reason: 'known_false_positive', fingerprint: 'cp.fp_x_cloudflare_check', location: 'body' }],
  ['controlUnreachable', { control: null, controlFailure: 'connection_refused' }, { blocking: null, accessible: true, failure: 'connection_refused', reason: 'control_failed' }],
  ['controlMissing', { control: null }, { blocking: null, accessible: true, failure: 'control_missing', reason: 'control_failed' }],
  ['controlUnreachableButFingerprint', { answers: ['10.10.34.36'], control: null, controlFailure: 'generic_timeout_error' }, { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' }],
  ['probeBugIsNoClaim', { requests: [{ failure: 'unknown_failure: decode error' }], httpFailure: 'unknown_failure: decode error' }, { blocking: null, accessible: null, reason: 'probe_failure' }]
]

t.test('one case per rule', async t => {
  for (const [name, d, want] of table) {
    const v = verdictFor(doc(d), fp)!
    t.equal(v.blocking, want.blocking, `${name}: blocking ${String(want.blocking)} (got reason ${v.reason})`)
    t.equal(v.accessible, want.accessible, `${name}: accessible`)
    if (want.reason !== undefined) t.equal(v.reason, want.reason, `${name}: reason`)
    if (want.failure !== undefined) t.equal(v.failure, want.failure, `${name}: failure`)
    if (want.fingerprint !== undefined) t.ok(v.fingerprints.some(m => m.name === want.fingerprint && m.location_found === want.location), `${name}: fingerprint ${want.fingerprint}`)
  }
})

t.test('scope fp is recorded but never claims; a prod fingerprint claims only where expected', async t => {
  const v = verdictFor(doc({ requests: [{ code: 200, body: PAGE.replace('</body>', 'Ray ID: 123</body>'), headers: { 'Content-Type': 'text/html', 'X-Site': 'example' } }] }), fp)!
  t.equal(v.blocking, false)
  t.ok(v.fingerprints.some(m => m.scope === 'fp'))
})

t.test('the verdict is a pure function of the document', async t => {
  const d = sample('bug_352.json')
  t.same(verdictFor(d, fp), verdictFor(structuredClone(d), fp))
})
