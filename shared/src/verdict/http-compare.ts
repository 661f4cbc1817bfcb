/**
 * OONI's classic HTTP comparisons (ooni/spec, nettests/ts-017-web-connectivity.md):
 * body-length proportion, status code, uncommon headers and title words,
 * each comparing the probe's final response with the control's.
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
  'date', 'content-type', 'server', 'cache-control', 'vary', 'set-cookie', 'location',
  'expires', 'x-powered-by', 'content-encoding', 'last-modified', 'accept-ranges',
  'pragma', 'x-frame-options', 'etag', 'x-content-type-options', 'age', 'via', 'p3p',
  'x-xss-protection', 'content-language', 'cf-ray', 'strict-transport-security', 'link',
  'x-varnish'
])

/**
 * body_proportion: shorter / longer. When the probe's body was cut at the
 * cap, a control body at least as long counts as the same length (both
 * sides cap at the same size).
 */
export function bodyProportion (probeLength: number, controlLength: number, probeTruncated = false): number {
  if (probeTruncated && controlLength >= probeLength) return 1
  const max = Math.max(probeLength, controlLength)
  if (max === 0) return 1
  return Math.min(probeLength, controlLength) / max
}

/**
 * status_code_match: equal codes; a 5xx at the control matches anything,
 * because a server error at the control says nothing about the probe's page.
 */
export function statusCodeMatch (probeCode: number, controlCode: number): boolean {
  if (Math.floor(controlCode / 100) === 5) return true
  return probeCode === controlCode
}

/**
 * headers_match: the same header names, or at least one uncommon header
 * name in common.
 */
export function headersMatch (probe: Iterable<string>, control: Iterable<string>): boolean {
  const p = new Set([...probe].map(h => h.toLowerCase()))
  const c = new Set([...control].map(h => h.toLowerCase()))
  if (p.size === c.size && [...p].every(h => c.has(h))) return true
  for (const h of p) if (!COMMON_HEADERS.has(h) && c.has(h)) return true
  return false
}

/**
 * title_match: OONI compares the titles word by word, for words of five or
 * more characters, and stops at the shorter title. Null when either title
 * is empty (nothing to compare).
 */
export function titleMatch (probeTitle: string, controlTitle: string): boolean | null {
  const pw = probeTitle.trim().split(/\s+/).filter(Boolean)
  const cw = controlTitle.trim().split(/\s+/).filter(Boolean)
  if (pw.length === 0 || cw.length === 0) return null
  let compared = 0
  for (let i = 0; i < Math.min(pw.length, cw.length); i++) {
    if (pw[i].length < 5) continue
    compared++
    if (pw[i].toLowerCase() !== cw[i].toLowerCase()) return false
  }
  return compared > 0 ? true : pw.join(' ').toLowerCase() === cw.join(' ').toLowerCase()
}
