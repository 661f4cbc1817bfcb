/**
 * The one classifier: maps an error to an OONI failure string
 * (ooni/spec, data-formats/df-007-errors.md) by its `code`, never by its
 * message text. An unknown error becomes `unknown_failure: <message>` with
 * IP addresses scrubbed, so a volunteer's address never leaks into an upload.
 * See docs/failures.md for the table.
 */
import { Failure } from '../failures.ts'

/** The step a failure happened in. */
export type Operation = 'resolve' | 'connect' | 'tls_handshake' | 'http_request' | 'http_headers' | 'http_body' | 'smpp' | 'control'

/** A classified failure: what went wrong, and in which step. */
export interface Classified {
  failure: string
  operation: Operation
}

/** An error of our own making, carrying a code the classifier knows. */
export class NetError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NetError'
    this.code = code
  }
}

/** Codes our own steps raise (see netx/*.ts). */
export const NetCode = Object.freeze({
  timeout: 'BW_NET_TIMEOUT',
  nxdomain: 'BW_DNS_NXDOMAIN',
  noAnswer: 'BW_DNS_NO_ANSWER',
  refused: 'BW_DNS_REFUSED',
  servfail: 'BW_DNS_SERVFAIL',
  dnsOther: 'BW_DNS_NON_RECOVERABLE',
  tooManyRedirects: 'BW_HTTP_TOO_MANY_REDIRECTS',
  badRedirect: 'BW_HTTP_INVALID_REDIRECT',
  eof: 'BW_NET_EOF',
  forbidden: 'BW_NET_FORBIDDEN_ADDRESS'
})

const BY_CODE: Readonly<Record<string, string>> = Object.freeze({
  [NetCode.timeout]: Failure.genericTimeout,
  [NetCode.nxdomain]: Failure.dnsNxdomain,
  [NetCode.noAnswer]: Failure.dnsNoAnswer,
  [NetCode.refused]: Failure.dnsRefused,
  [NetCode.servfail]: Failure.dnsServerFailure,
  [NetCode.dnsOther]: Failure.dnsNonRecoverable,
  [NetCode.tooManyRedirects]: Failure.httpTooManyRedirects,
  [NetCode.badRedirect]: Failure.httpInvalidRedirect,
  [NetCode.eof]: Failure.eof,
  [NetCode.forbidden]: Failure.forbiddenAddress,
  ECONNREFUSED: Failure.connectionRefused,
  ECONNRESET: Failure.connectionReset,
  EPIPE: Failure.connectionReset,
  ECONNABORTED: Failure.connectionAborted,
  ETIMEDOUT: Failure.genericTimeout,
  EHOSTUNREACH: Failure.hostUnreachable,
  EHOSTDOWN: Failure.hostUnreachable,
  ENETUNREACH: Failure.networkUnreachable,
  EADDRNOTAVAIL: Failure.networkUnreachable,
  ENOTFOUND: Failure.dnsNxdomain,
  EAI_AGAIN: Failure.genericTimeout,
  UND_ERR_CONNECT_TIMEOUT: Failure.genericTimeout,
  UND_ERR_HEADERS_TIMEOUT: Failure.genericTimeout,
  UND_ERR_BODY_TIMEOUT: Failure.genericTimeout,
  UND_ERR_SOCKET: Failure.eof,
  UND_ERR_CLOSED: Failure.eof,
  HPE_INVALID_CONSTANT: Failure.httpInvalidResponse,
  HPE_INVALID_VERSION: Failure.httpInvalidResponse,
  HPE_INVALID_STATUS: Failure.httpInvalidResponse,
  HPE_INVALID_HEADER_TOKEN: Failure.httpInvalidResponse,
  HPE_INVALID_CHUNK_SIZE: Failure.httpInvalidResponse,
  HPE_UNEXPECTED_CONTENT_LENGTH: Failure.httpInvalidResponse,
  ERR_TLS_CERT_ALTNAME_INVALID: Failure.sslInvalidHostname,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: Failure.sslUnknownAuthority,
  SELF_SIGNED_CERT_IN_CHAIN: Failure.sslUnknownAuthority,
  DEPTH_ZERO_SELF_SIGNED_CERT: Failure.sslUnknownAuthority,
  UNABLE_TO_GET_ISSUER_CERT: Failure.sslUnknownAuthority,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: Failure.sslUnknownAuthority,
  CERT_UNTRUSTED: Failure.sslUnknownAuthority,
  CERT_HAS_EXPIRED: Failure.sslInvalidCertificate,
  CERT_NOT_YET_VALID: Failure.sslInvalidCertificate,
  CERT_REVOKED: Failure.sslInvalidCertificate,
  CERT_SIGNATURE_FAILURE: Failure.sslInvalidCertificate,
  CERT_REJECTED: Failure.sslInvalidCertificate,
  INVALID_CA: Failure.sslInvalidCertificate,
  ERR_TLS_HANDSHAKE_TIMEOUT: Failure.genericTimeout,
  ERR_SSL_WRONG_VERSION_NUMBER: Failure.sslFailedHandshake,
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: Failure.sslFailedHandshake,
  ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: Failure.sslFailedHandshake,
  ERR_SSL_TLSV1_UNRECOGNIZED_NAME: Failure.sslFailedHandshake,
  ERR_SSL_UNSUPPORTED_PROTOCOL: Failure.sslFailedHandshake,
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: Failure.sslFailedHandshake,
  ERR_SSL_PACKET_LENGTH_TOO_LONG: Failure.sslFailedHandshake
})

const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g
const IPV6 = /\[?\b(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\b\]?/gi

/** Replaces IPv4 and IPv6 addresses in a text with "[scrubbed]". */
export function scrub(text: string): string {
  return text.replace(IPV6, m => (/[0-9a-f]/i.test(m) && m.split(':').length > 2 ? '[scrubbed]' : m)).replace(IPV4, '[scrubbed]')
}

function codeOf(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/**
 * Classifies an error into an OONI failure string. Looks at the error's
 * code, then its cause's (undici wraps socket errors), then, for an
 * AggregateError, its first inner error's. ERR_SSL_* codes that are not
 * listed map to ssl_failed_handshake.
 */
export function classifyError(err: unknown): string {
  const seen = new Set<unknown>()
  let e: unknown = err
  while (e !== null && typeof e === 'object' && !seen.has(e)) {
    seen.add(e)
    const code = codeOf(e)
    if (code !== undefined) {
      // A socket error's cause says more than undici's wrapper.
      const cause = (e as { cause?: unknown }).cause
      const causeCode = codeOf(cause)
      if ((code === 'UND_ERR_SOCKET' || code === 'UND_ERR_ABORTED') && causeCode !== undefined && BY_CODE[causeCode] !== undefined) return BY_CODE[causeCode]
      const mapped = BY_CODE[code]
      if (mapped !== undefined) return mapped
      if (code.startsWith('ERR_SSL_')) return Failure.sslFailedHandshake
      if (code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') return Failure.interrupted
    }
    if (e instanceof AggregateError && e.errors.length > 0) {
      e = e.errors[0]
      continue
    }
    e = (e as { cause?: unknown }).cause
  }
  const message = err instanceof Error ? err.message : String(err)
  return `${Failure.unknown}: ${scrub(message).slice(0, 200)}`
}

/** Classifies an error that happened during an operation. */
export function classify(err: unknown, operation: Operation): Classified {
  return { failure: classifyError(err), operation }
}
