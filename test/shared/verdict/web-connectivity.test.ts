/**
 * web_connectivity verdicts, table-driven, on recorded inputs with no
 * network: the real OONI samples first (../shared/data/ooni-measurements),
 * then one named case per rule and per known false positive or negative.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadFingerprintsDir } from '../../../shared/src/netx/fingerprints.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { judgeWebConnectivity, verdictFor } from '../../../shared/src/verdict/index.ts'
import { headersMatch, titleMatch } from '../../../shared/src/verdict/http-compare.ts'
import { bodySketch, sketchSimilarity } from '../../../shared/src/verdict/similarity.ts'
import { FINGERPRINTS, OONI_SAMPLES } from '../../helpers/paths.ts'

const fp = await loadFingerprintsDir(FINGERPRINTS)
const sample = (name: string): Measurement => JSON.parse(readFileSync(OONI_SAMPLES + name, 'utf8')) as Measurement

interface Expect {
  blocking: unknown
  accessible: boolean | null
  fingerprint?: string
  location?: string
  failure?: string | null
  reason?: string
}

t.test('real OONI samples', async t => {
  const cases: Array<[string, Expect | null]> = [
    // OONI's probe called it ok (one uncommon header matched); the blockpage shows only in a Location header.
    [
      '20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json',
      { blocking: 'http-diff', accessible: false, fingerprint: 'ooni.id_lamanlabuh_kominfo', location: 'header.location', reason: 'http_blockpage_fingerprint' }
    ],
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
    if (want === null) {
      t.equal(v, null, `${file}: not re-judged`)
      continue
    }
    t.ok(v !== null, `${file}: judged`)
    if (v === null) continue
    t.equal(v.blocking, want.blocking, `${file}: blocking ${String(want.blocking)} (reason ${v.reason})`)
    t.equal(v.accessible, want.accessible, `${file}: accessible`)
    if (want.reason !== undefined) t.equal(v.reason, want.reason, `${file}: reason`)
    if (want.failure !== undefined) t.equal(v.failure, want.failure, `${file}: failure`)
    if (want.fingerprint !== undefined) {
      t.ok(
        v.fingerprints.some(m => m.name === want.fingerprint && m.location_found === want.location),
        `${file}: ${want.fingerprint} in ${want.location}`
      )
    }
  }
})

t.test("the Indonesian sample: OONI's comparisons said ok, the fingerprint wins", async t => {
  const { verdict, analysis } = judgeWebConnectivity(sample('20250527233111.802678_ID_webconnectivity_5a37ec909dbf14e3.json'), fp)
  t.equal(analysis.status_code_match, true, 'the status matches (the blockpage answers 200)')
  t.equal(analysis.headers_match, false, "the only header in common off OONI's list is Connection, which says nothing about the server (issue 15); the site's own (Onion-Location…) are missing")
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
  requests?: Array<{ url?: string; code?: number; body?: string; headers?: Record<string, string>; failure?: string | null; op?: string }>
  httpFailure?: string | null
  control?: Record<string, unknown> | null
  controlFailure?: string | null
  /** No DNS step at all (the probe skips it for a URL whose host is an address). */
  noQueries?: boolean
  /** More test_keys (x_sni_followup …). */
  extra?: Record<string, unknown>
}

function doc(d: Doc): Measurement {
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
      queries:
        d.noQueries === true
          ? []
          : [
              {
                engine: 'system',
                hostname: new URL(input).hostname,
                query_type: 'A',
                failure: d.dnsFailure ?? null,
                answers: d.dnsFailure != null ? null : answers.map(ip => ({ answer_type: 'A', ipv4: ip }))
              }
            ],
      dns_experiment_failure: d.dnsFailure ?? null,
      tcp_connect: (d.tcp ?? answers.map(ip => [ip, 80, null] as [string, number, string | null])).map(([ip, port, failure]) => ({
        ip,
        port,
        status: { success: failure === null, failure, blocked: null }
      })),
      tls_handshakes: (d.tls ?? []).map(([address, failure]) => ({ address, server_name: 'example.org', failure })),
      requests: (d.requests ?? [{ code: 200, body: PAGE, headers: { 'Content-Type': 'text/html', 'X-Site': 'example' } }]).map(r => ({
        request: { url: r.url ?? input, method: 'GET' },
        response: r.code === undefined ? null : { code: r.code, body: r.body ?? '', headers: r.headers ?? {} },
        failure: r.failure ?? null,
        x_failed_operation: r.op ?? null
      })),
      http_experiment_failure: d.httpFailure ?? null,
      control:
        d.control === undefined
          ? { dns: { failure: null, addrs: ['93.184.215.14'] }, tcp_connect: { '93.184.215.14:80': { status: true, failure: null } }, http_request: CONTROL_HTTP }
          : (d.control ?? {}),
      control_failure: d.controlFailure ?? null,
      ...d.extra
    }
  }
}

const ctlWith = (over: Record<string, unknown>): Record<string, unknown> => ({
  dns: { failure: null, addrs: ['93.184.215.14'] },
  tcp_connect: { '93.184.215.14:80': { status: true, failure: null } },
  http_request: CONTROL_HTTP,
  ...over
})
const refused = { body_length: -1, failure: 'connection_refused', title: '', headers: {}, status_code: -1 }

const table: Array<[string, Doc, Expect]> = [
  ['healthySameAsControl', {}, { blocking: false, accessible: true, reason: 'ok' }],
  ['dnsNxdomainWithHealthyControl', { dnsFailure: 'dns_nxdomain_error', requests: [] }, { blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error', reason: 'dns_nxdomain' }],
  [
    'dnsNxdomainAtBothIsDown',
    { dnsFailure: 'dns_nxdomain_error', requests: [], control: { dns: { failure: 'dns_nxdomain_error', addrs: [] }, http_request: { ...refused, failure: 'dns_lookup_error' } } },
    { blocking: false, accessible: false, reason: 'down' }
  ],
  ['dnsBogonWhereControlHasNone', { answers: ['10.0.0.1'] }, { blocking: 'dns', accessible: false, reason: 'dns_bogon' }],
  [
    'dnsBogonWhereControlHasBogonsToo (the lab)',
    { answers: ['10.10.64.10'], control: ctlWith({ dns: { failure: null, addrs: ['10.10.64.10'] }, tcp_connect: { '10.10.64.10:80': { status: true, failure: null } } }) },
    { blocking: false, accessible: true, reason: 'ok' }
  ],
  [
    'dnsOtherPrivateAddressThanControlThenBlockpage',
    { answers: ['10.10.99.9'], requests: [{ code: 200, body: '<html>nope</html>' }], control: ctlWith({ dns: { failure: null, addrs: ['10.10.64.10'] } }) },
    { blocking: 'dns', accessible: false, reason: 'dns_different_addresses' }
  ],
  [
    'dnsFingerprintBeatsAMatchingPage (ooni/probe#1975)',
    { answers: ['10.10.34.36'] },
    { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint', fingerprint: 'ooni.ir_10dot10_ipv4_1', location: 'dns' }
  ],
  ['cdnOtherAddressSamePage', { answers: ['151.101.1.1'] }, { blocking: false, accessible: true, reason: 'ok' }],
  [
    'cdnOtherAddressValidTls',
    { input: 'https://example.org/', answers: ['151.101.1.1'], tcp: [['151.101.1.1', 443, null]], tls: [['151.101.1.1:443', null]], requests: [{ code: 200, body: '<html>other edge</html>' }] },
    { blocking: 'http-diff', accessible: false, reason: 'http_diff' }
  ],
  [
    'tcpRefusedWithHealthyControl',
    { tcp: [['93.184.215.14', 80, 'connection_refused']], requests: [] },
    { blocking: 'tcp_ip', accessible: false, failure: 'connection_refused', reason: 'tcp_refused' }
  ],
  [
    'tcpHostUnreachableIsNotATimeout',
    { tcp: [['93.184.215.14', 80, 'host_unreachable']], requests: [] },
    { blocking: 'tcp_ip', accessible: false, failure: 'host_unreachable', reason: 'tcp_host_unreachable' }
  ],
  [
    'tcpOtherFailureIsNotATimeout',
    { tcp: [['93.184.215.14', 80, 'connection_aborted']], requests: [] },
    { blocking: 'tcp_ip', accessible: false, failure: 'connection_aborted', reason: 'tcp_failure' }
  ],
  ['ipLiteralHostHealthy (no DNS step)', { input: 'http://93.184.215.14/', noQueries: true }, { blocking: false, accessible: true, reason: 'ok' }],
  [
    'ipLiteralHostBlockedByTcp',
    { input: 'http://93.184.215.14/', noQueries: true, tcp: [['93.184.215.14', 80, 'connection_reset']], requests: [] },
    { blocking: 'tcp_ip', accessible: false, reason: 'tcp_reset' }
  ],
  [
    'tcpTimeoutWithHealthyControl',
    { tcp: [['93.184.215.14', 80, 'generic_timeout_error']], requests: [] },
    { blocking: 'tcp_ip', accessible: false, failure: 'generic_timeout_error', reason: 'tcp_timeout' }
  ],
  [
    'ipv6OnlySiteOnAnIpv4OnlyNetwork',
    {
      answers: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
      tcp: [['2606:2800:21f:cb07:6820:80da:af6b:8b2c', 80, 'network_unreachable']],
      requests: [],
      control: ctlWith({ dns: { failure: null, addrs: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'] } })
    },
    { blocking: null, accessible: null, reason: 'probe_network_unreachable' }
  ],
  [
    'tcpFailedAtBothIsDown',
    {
      tcp: [['93.184.215.14', 80, 'connection_refused']],
      requests: [],
      control: ctlWith({ tcp_connect: { '93.184.215.14:80': { status: false, failure: 'connection_refused' } }, http_request: refused })
    },
    { blocking: false, accessible: false, reason: 'down' }
  ],
  [
    'tlsResetWithHealthyControl',
    {
      input: 'https://example.org/',
      tcp: [['93.184.215.14', 443, null]],
      tls: [['93.184.215.14:443', 'connection_reset']],
      requests: [],
      control: ctlWith({ tls_handshake: { '93.184.215.14:443': { status: true, failure: null } } })
    },
    { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_reset' }
  ],
  [
    'tlsWrongCertificate',
    { input: 'https://example.org/', tcp: [['93.184.215.14', 443, null]], tls: [['93.184.215.14:443', 'ssl_invalid_hostname']], requests: [] },
    { blocking: 'tls', accessible: false, failure: 'ssl_invalid_hostname', reason: 'tls_mitm' }
  ],
  ['httpResetWithHealthyControl', { requests: [{ failure: 'connection_reset' }], httpFailure: 'connection_reset' }, { blocking: 'http-failure', accessible: false, failure: 'connection_reset' }],
  [
    'httpFailedAtBothIsDown',
    { requests: [{ failure: 'generic_timeout_error' }], httpFailure: 'generic_timeout_error', control: ctlWith({ http_request: { ...refused, failure: 'generic_timeout_error' } }) },
    { blocking: false, accessible: false, reason: 'down' }
  ],
  [
    'throttledBodyIsNotBlocking',
    { requests: [{ code: 200, body: 'x'.repeat(100), failure: 'generic_timeout_error', op: 'http_body' }], httpFailure: 'generic_timeout_error' },
    { blocking: false, accessible: true, reason: 'throttled' }
  ],
  ['plainBlockpageDiffers', { requests: [{ code: 403, body: '<html><title>Denied</title>Blocked</html>' }] }, { blocking: 'http-diff', accessible: false, reason: 'http_diff' }],
  [
    'blockpageFingerprintInBody',
    { requests: [{ code: 200, body: '<html><iframe src="http://10.10.34.34"></html>' }], cc: 'IR' },
    { blocking: 'http-diff', accessible: false, fingerprint: 'ooni.ir_0', location: 'body' }
  ],
  [
    'blockpageFingerprintInEarlierRedirect',
    {
      requests: [
        { code: 200, body: PAGE, headers: { 'Content-Type': 'text/html', 'X-Site': 'example' } },
        { code: 302, headers: { Location: 'http://lamanlabuh.aduankonten.id/' } }
      ]
    },
    { blocking: 'http-diff', accessible: false, fingerprint: 'ooni.id_lamanlabuh_kominfo', location: 'header.location' }
  ],
  [
    'captchaFalsePositiveScopeFp (ooni/probe#2661)',
    { requests: [{ code: 403, body: '<html><title>Just a moment</title>Checking your browser before accessing example.org</html>' }] },
    { blocking: false, accessible: true, reason: 'known_false_positive', fingerprint: 'cp.fp_x_cloudflare_check', location: 'body' }
  ],
  ['controlUnreachable', { control: null, controlFailure: 'connection_refused' }, { blocking: null, accessible: true, failure: 'connection_refused', reason: 'control_failed' }],
  ['controlMissing', { control: null }, { blocking: null, accessible: true, failure: 'control_missing', reason: 'control_failed' }],
  [
    'controlUnreachableButFingerprint',
    { answers: ['10.10.34.36'], control: null, controlFailure: 'generic_timeout_error' },
    { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' }
  ],
  ['probeBugIsNoClaim', { requests: [{ failure: 'unknown_failure: decode error' }], httpFailure: 'unknown_failure: decode error' }, { blocking: null, accessible: null, reason: 'probe_failure' }]
]

// Issue 15: comparisons that carry evidence only where there is some.
const ARTICLE = (stamp: string): string =>
  '<!doctype html><html><head><title>Daily Courier: front page</title></head><body><nav>Home World Politics Sport Culture</nav>' +
  Array.from(
    { length: 40 },
    (_, i) => `<article><h2>Story number ${i} about the city council and the river bridge</h2><p>Reporters followed the vote on item ${i} late into the evening.</p></article>`
  ).join('') +
  `<footer>Updated ${stamp}</footer></body></html>`
const SITE = ARTICLE('2026-11-25 10:00')
// A blockpage no fingerprint knows, padded to the site's length: length says "same page", content does not.
const SAME_LENGTH_BLOCKPAGE = (() => {
  const head =
    '<html><head><title>Notice</title></head><body><h1>Access to this resource has been restricted</h1><p>By decision of the regulator the requested page cannot be shown on this network.</p>'
  return head + '<!--' + ' '.repeat(Math.max(0, SITE.length - head.length - 21)) + '--></body></html>'
})()
const COMMON_ONLY = { 'Content-Type': 'text/html', Server: 'nginx', Date: 'Wed, 25 Nov 2026 10:00:00 GMT' }
const siteControl = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ctlWith({ http_request: { body_length: SITE.length, failure: null, title: 'Daily Courier: front page', headers: COMMON_ONLY, status_code: 200, ...extra } })
// The lab's unknown blockpage (common headers only, about half the site's length: body_proportion 0.47 in the issue).
const HALF_BLOCKPAGE = '<html><head><title>Notice</title></head><body>' + 'This page is not available on this network. '.repeat(Math.floor((SITE.length * 0.47) / 45)) + '</body></html>'

t.test('HTTP comparisons carry evidence only where there is some (issue 15)', async t => {
  t.equal(headersMatch(['Content-Type', 'Date'], ['content-type', 'server']), null, 'no uncommon header on either side: null, not true')
  t.equal(headersMatch(['Content-Type', 'Date'], ['Content-Type', 'Date']), null, 'the same common headers: still nothing to compare')
  t.equal(headersMatch(['Content-Type', 'X-Site'], ['content-type']), false, 'an uncommon header on one side only')
  t.equal(headersMatch(['X-Cache', 'Date'], ['x-cache']), true, 'an uncommon header in common')
  t.equal(headersMatch(['Connection', 'Transfer-Encoding', 'Content-Length', 'Date'], ['connection', 'keep-alive', 'content-length']), null, 'connection and framing headers are no evidence')
  t.equal(titleMatch('', ''), null, 'no title on either side')
  t.equal(titleMatch('Access denied', ''), false, "a title on the probe's side only")
  t.equal(titleMatch('', 'Daily Courier'), false, "a title on the control's side only")
  const same = sketchSimilarity(bodySketch(ARTICLE('2026-11-25 10:00')), bodySketch(ARTICLE('2026-11-25 10:05')))
  t.ok(same !== null && same > 0.8, `two fetches of one page are similar (${same})`)
  const other = sketchSimilarity(bodySketch(SAME_LENGTH_BLOCKPAGE), bodySketch(SITE))
  t.ok(other !== null && other < 0.1, `a blockpage and the site are not (${other})`)
  t.equal(bodySketch('<html>OK</html>'), null, 'a body of a few words has no sketch (length decides)')
  t.equal(sketchSimilarity(bodySketch(SITE), 'simhash:0011'), null, 'another method is never compared')
})

const tlsCut: Doc = {
  input: 'https://example.org/',
  tcp: [['93.184.215.14', 443, null]],
  tls: [['93.184.215.14:443', 'connection_reset']],
  requests: [],
  control: ctlWith({ tls_handshake: { '93.184.215.14:443': { status: true, failure: null } } })
}
const issue15: Array<[string, Doc, Expect]> = [
  [
    'commonHeadersOnlyBlockpageInPath (was ok: two empty header sets matched)',
    { requests: [{ code: 200, body: HALF_BLOCKPAGE, headers: COMMON_ONLY }], control: siteControl() },
    { blocking: 'http-diff', accessible: false, reason: 'http_diff' }
  ],
  [
    'commonHeadersOnlyBlockpageByDns (was ok)',
    { answers: ['45.33.2.1'], requests: [{ code: 200, body: HALF_BLOCKPAGE, headers: COMMON_ONLY }], control: siteControl({ x_body_sketch: bodySketch(SITE) }) },
    { blocking: 'dns', accessible: false, reason: 'dns_different_addresses' }
  ],
  [
    'sameLengthBlockpageCaughtByContent',
    { requests: [{ code: 200, body: SAME_LENGTH_BLOCKPAGE, headers: COMMON_ONLY }], control: siteControl({ x_body_sketch: bodySketch(SITE) }) },
    { blocking: 'http-diff', accessible: false, reason: 'http_diff' }
  ],
  [
    'sameLengthBlockpageWithoutSketchStillLooksSame (OONI documents, old controls)',
    { requests: [{ code: 200, body: SAME_LENGTH_BLOCKPAGE.replace('Notice', 'Daily Courier: front page'), headers: COMMON_ONLY }], control: siteControl() },
    { blocking: false, accessible: true, reason: 'ok' }
  ],
  ['healthyCommonHeadersOnlyByLength', { requests: [{ code: 200, body: SITE, headers: COMMON_ONLY }], control: siteControl() }, { blocking: false, accessible: true, reason: 'ok' }],
  [
    'healthyDynamicPageByContent',
    {
      requests: [{ code: 200, body: ARTICLE('2026-11-25 10:07') + '<script>var ad = "' + 'a'.repeat(9000) + '"</script>', headers: COMMON_ONLY }],
      control: siteControl({ x_body_sketch: bodySketch(SITE) })
    },
    { blocking: false, accessible: true, reason: 'ok' }
  ],
  [
    'otherAddressSamePageByContentIsACdn',
    { answers: ['151.101.1.1'], requests: [{ code: 200, body: ARTICLE('2026-11-25 10:01'), headers: COMMON_ONLY }], control: siteControl({ x_body_sketch: bodySketch(SITE) }) },
    { blocking: false, accessible: true, reason: 'ok' }
  ],
  [
    'tlsSniFiltering (the follow-up without SNI completed)',
    { ...tlsCut, extra: { x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: null } } },
    { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_sni_filtering' }
  ],
  [
    'tlsSniFilteringServerAlert (the server itself answered)',
    { ...tlsCut, extra: { x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'ssl_failed_handshake' } } },
    { blocking: 'tls', accessible: false, reason: 'tls_sni_filtering' }
  ],
  [
    'tlsAddressFiltering (the follow-up was cut too)',
    { ...tlsCut, extra: { x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'connection_reset' } } },
    { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' }
  ],
  // The server refuses a ClientHello without SNI itself (reset): the second follow-up, with another listed name, decides.
  [
    'tlsSniFilteringByAnotherName (no SNI cut, another listed name through)',
    {
      ...tlsCut,
      extra: {
        x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'connection_reset' },
        x_sni_followup_name: { address: '93.184.215.14:443', server_name: 'www.example.com', name_source: 'tls_ok', operation: 'tls_handshake', failure: null }
      }
    },
    { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_sni_filtering' }
  ],
  [
    'tlsSniFilteringByAnotherNameAlert (the server answered the other name with an alert)',
    {
      ...tlsCut,
      extra: {
        x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'eof_error' },
        x_sni_followup_name: { address: '93.184.215.14:443', server_name: 'www.example.com', name_source: 'list', operation: 'tls_handshake', failure: 'ssl_failed_handshake' }
      }
    },
    { blocking: 'tls', accessible: false, reason: 'tls_sni_filtering' }
  ],
  [
    'tlsAddressFilteringBothFollowupsCut',
    {
      ...tlsCut,
      extra: {
        x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'connection_reset' },
        x_sni_followup_name: { address: '93.184.215.14:443', server_name: 'www.example.com', name_source: 'tls_ok', operation: 'tls_handshake', failure: 'connection_reset' }
      }
    },
    { blocking: 'tls', accessible: false, failure: 'connection_reset', reason: 'tls_address_filtering' }
  ],
  [
    'tlsSecondFollowupConnectFailedKeepsTheFirstReading',
    {
      ...tlsCut,
      extra: {
        x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'connection_reset' },
        x_sni_followup_name: { address: '93.184.215.14:443', server_name: 'www.example.com', name_source: 'tls_ok', operation: 'connect', failure: 'generic_timeout_error' }
      }
    },
    { blocking: 'tls', accessible: false, reason: 'tls_address_filtering' }
  ],
  // A second follow-up is read only after a cut first one: the first's "through" decides.
  [
    'tlsFirstFollowupThroughWins',
    {
      ...tlsCut,
      extra: {
        x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: null },
        x_sni_followup_name: { address: '93.184.215.14:443', server_name: 'www.example.com', name_source: 'list', operation: 'tls_handshake', failure: 'connection_reset' }
      }
    },
    { blocking: 'tls', accessible: false, reason: 'tls_sni_filtering' }
  ],
  [
    'tlsFollowupConnectFailedTellsNothing',
    { ...tlsCut, extra: { x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'connect', failure: 'generic_timeout_error' } } },
    { blocking: 'tls', accessible: false, reason: 'tls_reset' }
  ],
  [
    'tlsCutAtBothIsDownWhateverTheFollowup',
    {
      ...tlsCut,
      control: ctlWith({ tls_handshake: { '93.184.215.14:443': { status: false, failure: 'connection_reset' } }, http_request: refused }),
      extra: { x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: null } }
    },
    { blocking: false, accessible: false, reason: 'down' }
  ],
  [
    'challengePageFpScopeStillClears',
    {
      requests: [{ code: 403, body: '<html><title>Just a moment</title>Checking your browser before accessing example.org</html>', headers: COMMON_ONLY }],
      control: siteControl({ x_body_sketch: bodySketch(SITE) })
    },
    { blocking: false, accessible: true, reason: 'known_false_positive', fingerprint: 'cp.fp_x_cloudflare_check', location: 'body' }
  ]
]

t.test('one case per rule', async t => {
  for (const [name, d, want] of [...table, ...issue15]) {
    const v = verdictFor(doc(d), fp)!
    t.equal(v.blocking, want.blocking, `${name}: blocking ${String(want.blocking)} (got reason ${v.reason})`)
    t.equal(v.accessible, want.accessible, `${name}: accessible`)
    if (want.reason !== undefined) t.equal(v.reason, want.reason, `${name}: reason`)
    if (want.failure !== undefined) t.equal(v.failure, want.failure, `${name}: failure`)
    if (want.fingerprint !== undefined)
      t.ok(
        v.fingerprints.some(m => m.name === want.fingerprint && m.location_found === want.location),
        `${name}: fingerprint ${want.fingerprint}`
      )
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
