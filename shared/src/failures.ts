/**
 * OONI's failure strings (ooni/spec, data-formats/df-007-errors.md): the
 * closed vocabulary a failed step is recorded with. The probe's classifier
 * maps error codes to these; the verdict code reads them.
 */
export const Failure = Object.freeze({
  dnsNxdomain: 'dns_nxdomain_error',
  dnsNoAnswer: 'dns_no_answer',
  dnsRefused: 'dns_refused_error',
  dnsServerFailure: 'dns_server_failure',
  dnsBogon: 'dns_bogon_error',
  dnsNonRecoverable: 'dns_non_recoverable_failure',
  genericTimeout: 'generic_timeout_error',
  connectionRefused: 'connection_refused',
  connectionReset: 'connection_reset',
  connectionAborted: 'connection_aborted',
  eof: 'eof_error',
  hostUnreachable: 'host_unreachable',
  networkUnreachable: 'network_unreachable',
  sslInvalidHostname: 'ssl_invalid_hostname',
  sslUnknownAuthority: 'ssl_unknown_authority',
  sslInvalidCertificate: 'ssl_invalid_certificate',
  sslFailedHandshake: 'ssl_failed_handshake',
  httpTooManyRedirects: 'http_too_many_redirects',
  httpBodyTooLarge: 'http_body_too_large',
  httpInvalidRedirect: 'http_invalid_redirect_url',
  httpInvalidResponse: 'http_invalid_response',
  /** The probe stopped the step itself (the run was cancelled). */
  interrupted: 'interrupted',
  /** The control vantage refused a target: it resolves to an address it must not reach (SSRF guard). */
  forbiddenAddress: 'forbidden_address',
  /** The control vantage could not be reached or did not answer in time. */
  controlUnreachable: 'control_unreachable',
  unknown: 'unknown_failure'
} as const)

export type FailureString = (typeof Failure)[keyof typeof Failure] | `unknown_failure: ${string}`

/** True when a failure string names a timeout. */
export function isTimeout(failure: string | null | undefined): boolean {
  return failure === Failure.genericTimeout
}
