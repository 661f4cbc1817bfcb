/**
 * Verdicts of dns_consistency, tcp_connect, tls_handshake and sms_gateway,
 * table-driven on recorded test_keys: the first step that failed while the
 * control's same step succeeded names the technique; a step failed at both
 * means down; no control means null.
 */
import t from 'tap'
import { loadFingerprintsDir } from '../../../shared/src/netx/fingerprints.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { verdictFor } from '../../../shared/src/verdict/index.ts'
import { FINGERPRINTS } from '../../helpers/paths.ts'

const fp = await loadFingerprintsDir(FINGERPRINTS)
const doc = (test_name: string, input: string, test_keys: Record<string, unknown> | null): Measurement => ({
  data_format_version: '0.2.0',
  measurement_start_time: '2026-11-25 00:00:00',
  probe_cc: 'ZZ',
  probe_asn: 'AS0',
  input,
  test_name,
  test_keys
})
const q = (ips: string[] | null, failure: string | null = null, engine = 'system', dup?: string[][]): Record<string, unknown> => ({
  engine,
  query_type: 'A',
  failure,
  answers: ips === null ? null : ips.map(ip => ({ answer_type: 'A', ipv4: ip })),
  ...(dup !== undefined ? { x_duplicate_replies: dup.map(d => ({ answers: d.map(ip => ({ answer_type: 'A', ipv4: ip })), failure: null })) } : {})
})
const ctlDns = (addrs: string[], failure: string | null = null): Record<string, unknown> => ({ dns: { addrs, failure } })
const conn = (ip: string, port: number, failure: string | null): Record<string, unknown> => ({ ip, port, status: { success: failure === null, failure } })

interface Expect {
  blocking: unknown
  accessible: boolean | null
  reason?: string
  failure?: string | null
}
const table: Array<[string, Measurement, Expect | null]> = [
  // dns_consistency
  [
    'dnsConsistent',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['93.184.215.14'])], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: false, accessible: true, reason: 'ok' }
  ],
  [
    'dnsNxdomainInjection',
    doc('dns_consistency', 'dns://example.org', { queries: [q(null, 'dns_nxdomain_error')], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: 'dns', accessible: false, reason: 'dns_nxdomain', failure: 'dns_nxdomain_error' }
  ],
  [
    'dnsEmptyAnswer',
    doc('dns_consistency', 'dns://example.org', { queries: [q(null, 'dns_no_answer')], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: 'dns', accessible: false, reason: 'dns_no_answer' }
  ],
  [
    'dnsBogon',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['127.0.0.1'])], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: 'dns', accessible: false, reason: 'dns_bogon', failure: 'dns_bogon_error' }
  ],
  [
    'dnsInjectedDuplicate',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['93.184.215.99'], null, 'system', [['93.184.215.14']])], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: 'dns', accessible: false, reason: 'dns_injection' }
  ],
  [
    'dnsFingerprint',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['10.10.34.36'])], control: ctlDns(['10.10.64.10']), control_failure: null }),
    { blocking: 'dns', accessible: false, reason: 'dns_blockpage_fingerprint' }
  ],
  [
    'dnsCdnConfirmedByDoh',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['151.101.1.1']), q(['151.101.1.1'], null, 'doh')], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: false, accessible: true, reason: 'ok_cdn' }
  ],
  [
    'dnsDifferentEverywhere',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['151.101.1.1']), q(['93.184.215.14'], null, 'doh')], control: ctlDns(['93.184.215.14']), control_failure: null }),
    { blocking: 'dns', accessible: false, reason: 'dns_different_addresses' }
  ],
  [
    'dnsNxdomainEverywhereIsDown',
    doc('dns_consistency', 'dns://gone.example', { queries: [q(null, 'dns_nxdomain_error')], control: ctlDns([], 'dns_nxdomain_error'), control_failure: null }),
    { blocking: false, accessible: false, reason: 'down' }
  ],
  [
    'dnsControlUnreachable',
    doc('dns_consistency', 'dns://example.org', { queries: [q(['93.184.215.14'])], control: {}, control_failure: 'connection_refused' }),
    { blocking: null, accessible: true, failure: 'connection_refused' }
  ],
  // tcp_connect
  [
    'tcpOk',
    doc('tcp_connect', 'tcp://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true, failure: null } } },
      control_failure: null
    }),
    { blocking: false, accessible: true }
  ],
  [
    'tcpRefused',
    doc('tcp_connect', 'tcp://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, 'connection_refused')],
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true, failure: null } } },
      control_failure: null
    }),
    { blocking: 'tcp_ip', accessible: false, reason: 'tcp_refused', failure: 'connection_refused' }
  ],
  [
    'tcpDownForEveryone',
    doc('tcp_connect', 'tcp://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, 'connection_refused')],
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: false, failure: 'connection_refused' } } },
      control_failure: null
    }),
    { blocking: false, accessible: false, reason: 'down' }
  ],
  [
    'tcpLiteralAddress',
    doc('tcp_connect', 'tcp://149.154.175.50:443', {
      queries: [],
      tcp_connect: [conn('149.154.175.50', 443, 'generic_timeout_error')],
      control: { dns: { addrs: ['149.154.175.50'], failure: null }, tcp_connect: { '149.154.175.50:443': { status: true, failure: null } } },
      control_failure: null
    }),
    { blocking: 'tcp_ip', accessible: false, reason: 'tcp_timeout' }
  ],
  [
    'tcpDnsFirst',
    doc('tcp_connect', 'tcp://example.org:443', {
      queries: [q(null, 'dns_nxdomain_error')],
      dns_experiment_failure: 'dns_nxdomain_error',
      tcp_connect: [],
      control: ctlDns(['93.184.215.14']),
      control_failure: null
    }),
    { blocking: 'dns', accessible: false, failure: 'dns_nxdomain_error' }
  ],
  ['tcpOoniLegacyShapeIsNotRejudged', doc('tcp_connect', '1.2.3.4:443', { connection: 'success' }), null],
  // tls_handshake
  [
    'tlsOk',
    doc('tls_handshake', 'tls://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ address: '93.184.215.14:443', failure: null }],
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true } }, tls_handshake: { '93.184.215.14:443': { status: true } } },
      control_failure: null
    }),
    { blocking: false, accessible: true }
  ],
  [
    'tlsSniReset',
    doc('tls_handshake', 'tls://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ address: '93.184.215.14:443', failure: 'connection_reset' }],
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true } }, tls_handshake: { '93.184.215.14:443': { status: true } } },
      control_failure: null
    }),
    { blocking: 'tls', accessible: false, reason: 'tls_reset', failure: 'connection_reset' }
  ],
  [
    'tlsSniFilteringNamed',
    doc('tls_handshake', 'tls://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ address: '93.184.215.14:443', failure: 'connection_reset' }],
      x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: null },
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true } }, tls_handshake: { '93.184.215.14:443': { status: true } } },
      control_failure: null
    }),
    { blocking: 'tls', accessible: false, reason: 'tls_sni_filtering', failure: 'connection_reset' }
  ],
  [
    'tlsSniFilteringNamedByAnotherName',
    doc('tls_handshake', 'tls://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ address: '93.184.215.14:443', failure: 'connection_reset' }],
      x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'connection_reset' },
      x_sni_followup_name: { address: '93.184.215.14:443', server_name: 'www.example.com', name_source: 'tls_ok', operation: 'tls_handshake', failure: null },
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true } }, tls_handshake: { '93.184.215.14:443': { status: true } } },
      control_failure: null
    }),
    { blocking: 'tls', accessible: false, reason: 'tls_sni_filtering', failure: 'connection_reset' }
  ],
  [
    'tlsAddressFilteringNamed',
    doc('tls_handshake', 'tls://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ address: '93.184.215.14:443', failure: 'generic_timeout_error' }],
      x_sni_followup: { address: '93.184.215.14:443', server_name: null, operation: 'tls_handshake', failure: 'generic_timeout_error' },
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:443': { status: true } }, tls_handshake: { '93.184.215.14:443': { status: true } } },
      control_failure: null
    }),
    { blocking: 'tls', accessible: false, reason: 'tls_address_filtering', failure: 'generic_timeout_error' }
  ],
  [
    'tlsMitm',
    doc('tls_handshake', 'tls://example.org:443', {
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ address: '93.184.215.14:443', failure: 'ssl_unknown_authority' }],
      control: { ...ctlDns(['93.184.215.14']), tls_handshake: { '93.184.215.14:443': { status: true } } },
      control_failure: null
    }),
    { blocking: 'tls', accessible: false, reason: 'tls_mitm' }
  ],
  // sms_gateway
  [
    'smppBound',
    doc('sms_gateway', 'smpp://smsc.example:2775', {
      kind: 'smpp',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 2775, null)],
      smpp: { bind_replied: true, failure: null },
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:2775': { status: true } }, smpp: { bind_replied: true } },
      control_failure: null
    }),
    { blocking: false, accessible: true }
  ],
  [
    'smppBindErrorStillAnswered',
    doc('sms_gateway', 'smpp://smsc.example:2775', {
      kind: 'smpp',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 2775, null)],
      smpp: { bind_replied: true, failure: null, steps: [{ command: 'bind_transceiver', command_status: 14 }] },
      control: { ...ctlDns(['93.184.215.14']), smpp: { bind_replied: true } },
      control_failure: null
    }),
    { blocking: false, accessible: true }
  ],
  [
    'smppPortDropped',
    doc('sms_gateway', 'smpp://smsc.example:2775', {
      kind: 'smpp',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 2775, 'generic_timeout_error')],
      smpp: { bind_replied: false, failure: 'generic_timeout_error' },
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:2775': { status: true } }, smpp: { bind_replied: true } },
      control_failure: null
    }),
    { blocking: 'tcp_ip', accessible: false, reason: 'tcp_timeout' }
  ],
  [
    'smppBindCut',
    doc('sms_gateway', 'smpp://smsc.example:2775', {
      kind: 'smpp',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 2775, null)],
      smpp: { bind_replied: false, failure: 'connection_reset' },
      control: { ...ctlDns(['93.184.215.14']), tcp_connect: { '93.184.215.14:2775': { status: true } }, smpp: { bind_replied: true } },
      control_failure: null
    }),
    { blocking: 'tcp_ip', accessible: false, reason: 'smpp_reset' }
  ],
  [
    'smsApiSameStatusAsControl',
    doc('sms_gateway', 'smsapi+https://api.example/v1/sms', {
      kind: 'http_api',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 443, null)],
      tls_handshakes: [{ failure: null }],
      requests: [{ response: { code: 401, body: '{}' }, failure: null }],
      control: { ...ctlDns(['93.184.215.14']), http_request: { status_code: 401, failure: null } },
      control_failure: null
    }),
    { blocking: false, accessible: true }
  ],
  [
    'smsApiReset',
    doc('sms_gateway', 'smsapi+http://api.example/v1/sms', {
      kind: 'http_api',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 80, null)],
      tls_handshakes: [],
      requests: [{ response: null, failure: 'connection_reset' }],
      http_experiment_failure: 'connection_reset',
      control: { ...ctlDns(['93.184.215.14']), http_request: { status_code: 401, failure: null } },
      control_failure: null
    }),
    { blocking: 'http-failure', accessible: false, failure: 'connection_reset' }
  ],
  [
    'smsApiBlockpage',
    doc('sms_gateway', 'smsapi+http://api.example/v1/sms', {
      kind: 'http_api',
      queries: [q(['93.184.215.14'])],
      tcp_connect: [conn('93.184.215.14', 80, null)],
      requests: [{ response: { code: 200, body: '<html>blocked</html>' }, failure: null }],
      control: { ...ctlDns(['93.184.215.14']), http_request: { status_code: 401, failure: null } },
      control_failure: null
    }),
    { blocking: 'http-diff', accessible: false }
  ],
  // unknown
  ['unknownTest', doc('ndt', 'x', {}), null]
]

for (const [name, d, want] of table) {
  const v = verdictFor(d, fp)
  if (want === null) {
    t.equal(v, null, `${name}: not judged`)
    continue
  }
  t.equal(v?.blocking, want.blocking, `${name}: blocking ${String(want.blocking)} (reason ${v?.reason})`)
  t.equal(v?.accessible, want.accessible, `${name}: accessible`)
  if (want.reason !== undefined) t.equal(v?.reason, want.reason, `${name}: reason`)
  if (want.failure !== undefined) t.equal(v?.failure, want.failure, `${name}: failure`)
}
