/**
 * The one classifier: error codes (never message text) to OONI failure
 * strings; unknown errors scrubbed of IP addresses.
 */
import t from 'tap'
import { classify, classifyError, NetCode, NetError, scrub } from '../../shared/src/netx/classify.ts'

const withCode = (code: string, message = 'whatever the message says'): Error => Object.assign(new Error(message), { code })

const table: Array<[string, unknown, string]> = [
  ['refused', withCode('ECONNREFUSED'), 'connection_refused'],
  ['reset', withCode('ECONNRESET'), 'connection_reset'],
  ['broken pipe', withCode('EPIPE'), 'connection_reset'],
  ['kernel timeout', withCode('ETIMEDOUT'), 'generic_timeout_error'],
  ['our timer', new NetError(NetCode.timeout, 'x'), 'generic_timeout_error'],
  ['undici connect timeout', withCode('UND_ERR_CONNECT_TIMEOUT'), 'generic_timeout_error'],
  ['undici headers timeout', withCode('UND_ERR_HEADERS_TIMEOUT'), 'generic_timeout_error'],
  ['undici body timeout', withCode('UND_ERR_BODY_TIMEOUT'), 'generic_timeout_error'],
  ['undici socket with a reset cause', Object.assign(withCode('UND_ERR_SOCKET'), { cause: withCode('ECONNRESET') }), 'connection_reset'],
  ['undici socket closed', withCode('UND_ERR_SOCKET'), 'eof_error'],
  ['icmp', withCode('EHOSTUNREACH'), 'host_unreachable'],
  ['no route', withCode('ENETUNREACH'), 'network_unreachable'],
  ['nxdomain', new NetError(NetCode.nxdomain, 'x'), 'dns_nxdomain_error'],
  ['getaddrinfo nxdomain', withCode('ENOTFOUND'), 'dns_nxdomain_error'],
  ['no answer', new NetError(NetCode.noAnswer, 'x'), 'dns_no_answer'],
  ['refused by resolver', new NetError(NetCode.refused, 'x'), 'dns_refused_error'],
  ['servfail', new NetError(NetCode.servfail, 'x'), 'dns_server_failure'],
  ['wrong name', withCode('ERR_TLS_CERT_ALTNAME_INVALID'), 'ssl_invalid_hostname'],
  ['untrusted leaf', withCode('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'ssl_unknown_authority'],
  ['self-signed', withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), 'ssl_unknown_authority'],
  ['expired', withCode('CERT_HAS_EXPIRED'), 'ssl_invalid_certificate'],
  ['tls alert', withCode('ERR_SSL_TLSV1_ALERT_ACCESS_DENIED'), 'ssl_failed_handshake'],
  ['not http', withCode('HPE_INVALID_CONSTANT'), 'http_invalid_response'],
  ['redirects', new NetError(NetCode.tooManyRedirects, 'x'), 'http_too_many_redirects'],
  ['aborted', withCode('ABORT_ERR'), 'interrupted'],
  ['ssrf', new NetError(NetCode.forbidden, 'x'), 'forbidden_address'],
  ['aggregate', new AggregateError([withCode('ECONNREFUSED')], 'all failed'), 'connection_refused'],
  ['message text is never read', new Error('ECONNREFUSED connection refused'), 'unknown_failure: ECONNREFUSED connection refused']
]

for (const [name, err, want] of table) t.equal(classifyError(err), want, name)

t.test('unknown errors are scrubbed of addresses', async t => {
  const f = classifyError(new Error('cannot reach 203.0.113.7:443 or [2001:db8::1]:443 from 192.168.1.20'))
  t.match(f, /^unknown_failure: /)
  t.notMatch(f, /203\.0\.113\.7|2001:db8|192\.168/)
  t.equal(scrub('no address here 12:30'), 'no address here 12:30', 'a time is not an address')
  t.equal(classifyError('a string'), 'unknown_failure: a string')
  t.equal(classifyError(null), 'unknown_failure: null')
})

t.test('the operation travels with the failure', async t => {
  t.same(classify(withCode('ECONNRESET'), 'tls_handshake'), { failure: 'connection_reset', operation: 'tls_handshake' })
})
