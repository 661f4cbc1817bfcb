/**
 * The HTTP comparisons, each comparing the probe's final response with the
 * control's: OONI's classic ones (ooni/spec, nettests/ts-017-web-connectivity.md),
 * body-length proportion, status code, uncommon headers and title words,
 * corrected so that each carries evidence only where there is some (issue
 * 15), plus body similarity by content (./similarity.ts).
 */

/** A body is "the same page" when the shorter is at least this share of the longer. */
export const BODY_PROPORTION_THRESHOLD = 0.7

/**
 * Headers every server sends: they say nothing about which server answered.
 * OONI's list, verbatim (probe-cli, webconnectivity); hop-by-hop headers
 * such as Connection are not on it, which is how the Indonesian blockpage
 * "matched" archive.org. The fingerprint rule corrects that case.
 */
export const COMMON_HEADERS: ReadonlySet<string> = new Set([
  'date',
  'content-type',
  'server',
  'cache-control',
  'vary',
  'set-cookie',
  'location',
  'expires',
  'x-powered-by',
  'content-encoding',
  'last-modified',
  'accept-ranges',
  'pragma',
  'x-frame-options',
  'etag',
  'x-content-type-options',
  'age',
  'via',
  'p3p',
  'x-xss-protection',
  'content-language',
  'cf-ray',
  'strict-transport-security',
  'link',
  'x-varnish'
])

/**
 * Headers about the connection and the message's framing, not the server:
 * hop-by-hop headers (RFC 9110 §7.6.1) and Content-Length. Any HTTP stack
 * sends them, a blockpage's as much as the site's, so they are no evidence
 * either way; OONI's list lacks them, which is how the Indonesian
 * blockpage's Connection header "matched" archive.org (issue 15).
 */
export const CONNECTION_HEADERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length'])

/**
 * body_proportion: shorter / longer. When the probe's body was cut at the
 * cap, a control body at least as long counts as the same length (both
 * sides cap at the same size).
 */
export function bodyProportion(probeLength: number, controlLength: number, probeTruncated = false): number {
  if (probeTruncated && controlLength >= probeLength) return 1
  const max = Math.max(probeLength, controlLength)
  if (max === 0) return 1
  return Math.min(probeLength, controlLength) / max
}

/**
 * status_code_match: equal codes; a 5xx at the control matches anything,
 * because a server error at the control says nothing about the probe's page.
 */
export function statusCodeMatch(probeCode: number, controlCode: number): boolean {
  if (Math.floor(controlCode / 100) === 5) return true
  return probeCode === controlCode
}

/**
 * headers_match: at least one uncommon header name in common (neither on
 * OONI's common list nor a connection header). Null when neither side has an
 * uncommon header: two empty sets say nothing about which server answered
 * (a blockpage served with common headers only "matched" every site that
 * sends common headers only, issue 15). False when only one side has some,
 * or they share none.
 */
export function headersMatch(probe: Iterable<string>, control: Iterable<string>): boolean | null {
  const uncommon = (names: Iterable<string>): Set<string> => new Set([...names].map(h => h.toLowerCase()).filter(h => !COMMON_HEADERS.has(h) && !CONNECTION_HEADERS.has(h)))
  const p = uncommon(probe)
  const c = uncommon(control)
  if (p.size === 0 && c.size === 0) return null
  for (const h of p) if (c.has(h)) return true
  return false
}

/**
 * title_match: OONI compares the titles word by word, for words of five or
 * more characters, and stops at the shorter title. When only one side has a
 * title the pages differ (false); null when neither has one.
 */
export function titleMatch(probeTitle: string, controlTitle: string): boolean | null {
  const pw = probeTitle.trim().split(/\s+/).filter(Boolean)
  const cw = controlTitle.trim().split(/\s+/).filter(Boolean)
  if (pw.length === 0 && cw.length === 0) return null
  if (pw.length === 0 || cw.length === 0) return false
  let compared = 0
  for (let i = 0; i < Math.min(pw.length, cw.length); i++) {
    if (pw[i].length < 5) continue
    compared++
    if (pw[i].toLowerCase() !== cw[i].toLowerCase()) return false
  }
  return compared > 0 ? true : pw.join(' ').toLowerCase() === cw.join(' ').toLowerCase()
}

/**
 * Two bodies are the same page by content when their estimated shingle
 * similarity reaches this. Two fetches of one page (ads, dates, tokens
 * change) stay far above it; a blockpage and a site share almost no
 * four-word shingle and come out near 0.
 */
export const BODY_SIMILARITY_THRESHOLD = 0.2
