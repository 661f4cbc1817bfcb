/**
 * Targets: the URL schemes a target list may use, and how a target's
 * `domain` is derived from its `input`.
 */

/** The schemes a target-list row may use, and the test that measures each. */
export const SCHEME_TESTS: Readonly<Record<string, string>> = Object.freeze({
  'http:': 'web_connectivity',
  'https:': 'web_connectivity',
  'dns:': 'dns_consistency',
  'tcp:': 'tcp_connect',
  'tls:': 'tls_handshake',
  'smpp:': 'sms_gateway',
  'smsapi+https:': 'sms_gateway',
  'smsapi+http:': 'sms_gateway'
})

/** Schemes whose URL must carry a port. */
export const SCHEMES_NEEDING_PORT: ReadonlySet<string> = new Set(['tcp:', 'tls:'])

/**
 * The host name of a target, whatever its scheme (https://, dns://, smpp://…),
 * lower-cased and without IPv6 brackets. Returns null when the input has no host.
 */
export function domainOf (input: string | null | undefined): string | null {
  if (typeof input !== 'string' || input === '') return null
  let url: URL
  try { url = new URL(input) } catch { return null }
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
  return host === '' ? null : host
}

/** The test that measures a target URL, or null when its scheme is not one of ours. */
export function testNameFor (input: string): string | null {
  try { return SCHEME_TESTS[new URL(input).protocol] ?? null } catch { return null }
}
