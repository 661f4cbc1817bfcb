/**
 * The web_connectivity verdict (ooni/spec, nettests/ts-017-web-connectivity.md),
 * computed from a stored document alone: ours, or OONI's as far as it allows.
 *
 * OONI's classic rules, in order, with the corrections of issue 4 (see
 * docs/methodology.md for the reasons):
 *  1. a blockpage fingerprint wins: DNS answers, and every response of the
 *     redirect chain, headers included (the Indonesian sample's blockpage
 *     shows only in a Location header);
 *  2. a fingerprint of scope `fp` is never a censorship claim;
 *  3. no usable control answer → blocking null, with the failure recorded;
 *  4. DNS consistency by IP, ASN and TLS validity; a bogon counts only when
 *     the control's answer holds none;
 *  5. a step that failed at the probe and at the control means the site is
 *     down: accessible false, blocking false;
 *  6. status code, then body (by content when the control sent a sketch,
 *     else proportion 0.7), uncommon headers, title; a comparison with
 *     nothing to compare is null, never a match (issue 15).
 */
import { confirmsCensorship, matchDnsAnswer, matchHttpResponse, type FingerprintDb, type FingerprintMatch } from '../fingerprints.ts'
import type { BlockingValue, Measurement } from '../measurement.ts'
import { bodyProportion, BODY_PROPORTION_THRESHOLD, BODY_SIMILARITY_THRESHOLD, headersMatch, statusCodeMatch, titleMatch } from './http-compare.ts'
import { bodySketch, sketchSimilarity } from './similarity.ts'
import { isBogon, isIPAddress } from './ip.ts'
import { answersOf, arr, failureOf, headersOf, ipsOnly, isObj, maybeBinary, num, obj, queriesFailure, str, titleOf, type Obj } from './read.ts'
import { tcpReason, tlsFiltering, tlsReason, type TcpReason, type TlsReason } from './steps.ts'
import { CONTROL_MISSING, verdict, type Verdict } from './types.ts'

/** How the probe's DNS answer compares with the control's. */
export type DnsConsistency = 'consistent' | 'inconsistent' | 'both_failed' | null

/** The intermediate findings, written into our test_keys beside the verdict. */
export interface WebAnalysis {
  dns_consistency: 'consistent' | 'inconsistent' | null
  /** Why DNS is inconsistent: strong evidence stands whatever HTTP shows. */
  dns_evidence: 'nxdomain' | 'no_answer' | 'failure' | 'bogon' | 'fingerprint' | 'different_addresses' | null
  body_length_match: boolean | null
  body_proportion: number | null
  /** Estimated shingle similarity of the bodies (./similarity.ts), when the control sent a sketch of its page. */
  body_similarity: number | null
  status_code_match: boolean | null
  headers_match: boolean | null
  title_match: boolean | null
  /** When every TLS handshake was cut: what the follow-up without SNI showed ("sni" or "address" filtering). */
  tls_filtering: 'sni' | 'address' | null
}

/** Every reason the web_connectivity verdict gives (words: shared/src/nettests/web-connectivity.ts). */
export type WebConnectivityReason =
  | TcpReason
  | TlsReason
  | 'no_test_keys'
  | 'dns_blockpage_fingerprint'
  | 'http_blockpage_fingerprint'
  | 'control_failed'
  | 'control_http_failed'
  | 'down'
  | 'dns_bogon'
  | 'dns_nxdomain'
  | 'dns_no_answer'
  | 'dns_failure'
  | 'dns_different_addresses'
  | 'probe_network_unreachable'
  | 'throttled'
  | 'probe_failure'
  | 'http_reset'
  | 'http_timeout'
  | 'http_failure'
  | 'ok'
  | 'known_false_positive'
  | 'http_diff'

export interface WebResult {
  verdict: Verdict<WebConnectivityReason>
  analysis: WebAnalysis
}

const TLS_FAILURES = /^ssl_/
const isProbeBug = (f: string): boolean => f.startsWith('unknown_failure')

/** One response of the redirect chain, as the verdict needs it. */
interface Resp {
  code: number | null
  headers: Record<string, string[]>
  body: string | null
  bodyLength: number
  /** False when the length is only the stored body's: OONI's documents may keep a cut or redacted body. */
  lengthRecorded: boolean
  truncated: boolean
}

function responsesOf(tk: Obj): Array<{ failure: string | null; operation: string | null; response: Resp | null; throughput: number | null }> {
  return arr(tk.requests).map(r => {
    const req = obj(r)
    const res = isObj(req.response) ? req.response : null
    let response: Resp | null = null
    if (res !== null && (num(res.code) ?? 0) > 0) {
      const body = maybeBinary(res.body)
      const recorded = num(res.x_body_length) ?? num(res.body_length)
      response = {
        code: num(res.code),
        headers: headersOf(res),
        body,
        bodyLength: recorded ?? (body === null ? 0 : Buffer.byteLength(body, 'latin1')),
        lengthRecorded: recorded !== null,
        truncated: res.body_is_truncated === true
      }
    }
    return { failure: failureOf(req.failure), operation: str(req.x_failed_operation), response, throughput: num(req.x_throughput_bps) }
  })
}

/** The control's own view, read defensively (OONI's and ours share a shape). */
function controlOf(tk: Obj): {
  ok: boolean
  failure: string | null
  dnsFailure: string | null
  addrs: string[]
  asns: Map<string, number>
  tcp: Map<string, boolean>
  tls: Map<string, boolean>
  http: Obj | null
  httpFailure: string | null
} {
  const control = obj(tk.control)
  const failure = failureOf(tk.control_failure)
  const dns = isObj(control.dns) ? control.dns : null
  const http = isObj(control.http_request) ? control.http_request : null
  const tcp = new Map<string, boolean>()
  for (const [k, v] of Object.entries(obj(control.tcp_connect))) tcp.set(k, obj(v).status === true)
  const tls = new Map<string, boolean>()
  for (const [k, v] of Object.entries(obj(control.tls_handshake))) tls.set(k, obj(v).status === true)
  const asns = new Map<string, number>()
  for (const [ip, info] of Object.entries(obj(control.ip_info))) {
    const asn = num(obj(info).asn)
    if (asn !== null && asn > 0) asns.set(ip, asn)
  }
  return {
    ok: failure === null && (dns !== null || http !== null),
    failure,
    dnsFailure: dns === null ? null : failureOf(dns.failure),
    addrs: dns === null ? [] : ipsOnly(dns.addrs),
    asns,
    tcp,
    tls,
    http,
    httpFailure: http === null ? null : failureOf(http.failure)
  }
}

const emptyAnalysis = (): WebAnalysis => ({
  dns_consistency: null,
  dns_evidence: null,
  body_length_match: null,
  body_proportion: null,
  body_similarity: null,
  status_code_match: null,
  headers_match: null,
  title_match: null,
  tls_filtering: null
})

/** Judges a web_connectivity document. */
export function judgeWebConnectivity(doc: Measurement, fp: FingerprintDb): WebResult {
  const analysis = emptyAnalysis()
  if (!isObj(doc.test_keys)) {
    return { verdict: verdict(null, null, 'no_test_keys', [], 'unknown_failure: the document has no test_keys'), analysis }
  }
  const tk = doc.test_keys
  const cc = doc.probe_cc
  const answers = answersOf(tk.queries)
  const responses = responsesOf(tk)

  // 1 and 2: fingerprints, on every DNS answer and every response of the chain.
  const dnsMatches: FingerprintMatch[] = []
  for (const a of answers) {
    const m = matchDnsAnswer(fp, a.ip)
    if (m !== null) dnsMatches.push(m)
  }
  const httpMatches: FingerprintMatch[] = []
  for (const r of responses) {
    if (r.response === null) continue
    for (const m of matchHttpResponse(fp, { body: r.response.body, headers: r.response.headers })) {
      if (!httpMatches.some(x => x.name === m.name && x.location_found === m.location_found)) httpMatches.push(m)
    }
  }
  const fingerprints = [...dnsMatches, ...httpMatches]
  const dnsClaim = dnsMatches.find(m => confirmsCensorship(m, cc))
  const httpClaim = httpMatches.find(m => confirmsCensorship(m, cc))
  const knownFalsePositive = httpMatches.some(m => m.scope === 'fp')

  const ctl = controlOf(tk)
  const probeDnsFailure = failureOf(tk.dns_experiment_failure) ?? queriesFailure(tk.queries)
  const probeAddrs = answers.map(a => a.ip)

  // OONI's HTTP comparisons, computed whenever both sides have a page, so
  // that they are recorded even when an earlier rule decides.
  const finalResponse = responses[0]?.response ?? null
  const controlHttpOk = ctl.http !== null && ctl.httpFailure === null && (num(ctl.http.status_code) ?? 0) > 0
  if (finalResponse !== null && ctl.http !== null && controlHttpOk) compareHttp(finalResponse, ctl.http, analysis, num(tk.body_proportion))

  // DNS consistency (rule 4).
  let consistency: DnsConsistency = null
  if (literalHost(doc.input) && arr(tk.queries).length === 0) {
    // A URL whose host is an address has no DNS step: nothing to compare.
    consistency = null
  } else if (dnsClaim !== undefined) {
    consistency = 'inconsistent'
    analysis.dns_evidence = 'fingerprint'
  } else if (ctl.ok) {
    const controlResolved = ctl.addrs.length > 0
    if (probeDnsFailure !== null || probeAddrs.length === 0) {
      if (controlResolved) {
        consistency = 'inconsistent'
        analysis.dns_evidence = probeDnsFailure === 'dns_nxdomain_error' ? 'nxdomain' : probeDnsFailure === null || probeDnsFailure === 'dns_no_answer' ? 'no_answer' : 'failure'
      } else {
        consistency = 'both_failed'
      }
    } else if (!controlResolved) {
      // The control could not resolve what the probe could: nothing to compare.
      consistency = 'consistent'
    } else if (probeAddrs.some(isBogon) && !ctl.addrs.some(isBogon)) {
      consistency = 'inconsistent'
      analysis.dns_evidence = 'bogon'
    } else if (probeAddrs.some(a => ctl.addrs.includes(a))) {
      consistency = 'consistent'
    } else if (sharesAsn(answers, ctl.asns)) {
      consistency = 'consistent'
    } else if (tlsValidated(tk, probeAddrs)) {
      // A certificate valid for the name, served from the probe's address,
      // proves the address belongs to the site (a CDN's other edge).
      consistency = 'consistent'
    } else {
      consistency = 'inconsistent'
      analysis.dns_evidence = 'different_addresses'
    }
  }
  analysis.dns_consistency = consistency === 'both_failed' ? 'consistent' : consistency
  const dnsStrong = consistency === 'inconsistent' && analysis.dns_evidence !== 'different_addresses'
  const dnsWeak = consistency === 'inconsistent' && analysis.dns_evidence === 'different_addresses'

  if (dnsClaim !== undefined) return { verdict: verdict('dns', false, 'dns_blockpage_fingerprint', fingerprints), analysis }
  if (httpClaim !== undefined) {
    return { verdict: verdict(consistency === 'inconsistent' ? 'dns' : 'http-diff', false, 'http_blockpage_fingerprint', fingerprints), analysis }
  }

  // Rule 3: no control, no verdict (but keep what the probe saw).
  if (!ctl.ok) {
    const final = responses[0]
    const accessible = final?.response != null && final.failure === null ? true : null
    return { verdict: verdict(null, accessible, 'control_failed', fingerprints, ctl.failure ?? CONTROL_MISSING), analysis }
  }

  // DNS.
  if (consistency === 'both_failed') {
    return { verdict: verdict(false, false, 'down', fingerprints, probeDnsFailure), analysis }
  }
  if (dnsStrong) {
    const reason = analysis.dns_evidence === 'bogon' ? 'dns_bogon' : analysis.dns_evidence === 'nxdomain' ? 'dns_nxdomain' : analysis.dns_evidence === 'no_answer' ? 'dns_no_answer' : 'dns_failure'
    return { verdict: verdict('dns', false, reason, fingerprints, probeDnsFailure), analysis }
  }

  // TCP: every connect failed.
  const connects = arr(tk.tcp_connect).map(c => {
    const o = obj(c)
    const status = obj(o.status)
    const ip = str(o.ip) ?? ''
    const port = num(o.port)
    const key = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
    return { key, ok: status.success === true, failure: failureOf(status.failure) }
  })
  if (connects.length > 0 && connects.every(c => !c.ok)) {
    const failure = connects[0].failure
    // No route at all (IPv6 addresses on an IPv4-only network): the probe's
    // own network cannot tell, whatever the control saw.
    if (connects.every(c => c.failure === 'network_unreachable')) return { verdict: verdict(null, null, 'probe_network_unreachable', fingerprints, failure), analysis }
    const controlConnected = connects.some(c => ctl.tcp.get(c.key) === true) || [...ctl.tcp.values()].some(Boolean) || controlHttpOk
    if (!controlConnected) return { verdict: verdict(false, false, 'down', fingerprints, failure), analysis }
    if (dnsWeak) return { verdict: verdict('dns', false, 'dns_different_addresses', fingerprints, failure), analysis }
    return { verdict: verdict('tcp_ip', false, tcpReason(failure), fingerprints, failure), analysis }
  }

  // TLS: a handshake step of its own (ours; OONI's newer probes too).
  const handshakes = arr(tk.tls_handshakes).map(h => ({ failure: failureOf(obj(h).failure), address: str(obj(h).address) ?? '' }))
  const firstTarget = responses.length > 0 ? responses[responses.length - 1] : undefined
  const https = (doc.input ?? '').toLowerCase().startsWith('https:')
  if (https && handshakes.length > 0 && handshakes.every(h => h.failure !== null) && (firstTarget === undefined || firstTarget.response === null)) {
    const failure = handshakes[0].failure
    const controlTls = [...ctl.tls.values()].some(Boolean) || controlHttpOk
    if (!controlTls) return { verdict: verdict(false, false, 'down', fingerprints, failure), analysis }
    if (dnsWeak) return { verdict: verdict('dns', false, 'dns_different_addresses', fingerprints, failure), analysis }
    analysis.tls_filtering = tlsFiltering(tk)
    return { verdict: verdict('tls', false, tlsReason(failure, analysis.tls_filtering), fingerprints, failure), analysis }
  }

  // HTTP.
  const final = responses[0]
  const httpFailure = failureOf(tk.http_experiment_failure) ?? final?.failure ?? null
  if (final === undefined || final.response === null || httpFailure !== null) {
    const failure = httpFailure ?? final?.failure ?? null
    // Throttling is not blocking: the page arrived, only slowly.
    if (final?.response != null && final.operation === 'http_body' && failure === 'generic_timeout_error') {
      return { verdict: verdict(false, true, 'throttled', fingerprints, failure), analysis }
    }
    if (!controlHttpOk) return { verdict: verdict(false, false, 'down', fingerprints, failure ?? ctl.httpFailure), analysis }
    if (failure !== null && isProbeBug(failure)) return { verdict: verdict(null, null, 'probe_failure', fingerprints, failure), analysis }
    if (dnsWeak) return { verdict: verdict('dns', false, 'dns_different_addresses', fingerprints, failure), analysis }
    if (failure !== null && TLS_FAILURES.test(failure)) return { verdict: verdict('tls', false, tlsReason(failure), fingerprints, failure), analysis }
    return {
      verdict: verdict('http-failure', false, failure === 'connection_reset' ? 'http_reset' : failure === 'generic_timeout_error' ? 'http_timeout' : 'http_failure', fingerprints, failure),
      analysis
    }
  }

  // The probe got a page. Compare it with the control's (rule 6).
  if (ctl.http === null || !controlHttpOk) {
    // The control got no page where the probe got one: the probe's page may
    // be the site or a blockpage no fingerprint knows; nothing to compare.
    return { verdict: verdict(null, null, 'control_http_failed', fingerprints, ctl.httpFailure ?? CONTROL_MISSING), analysis }
  }
  // The bodies compare by content when the control sent a sketch of its
  // page, else by length (OONI's documents, an older control).
  const bodyMatch = analysis.body_similarity !== null ? analysis.body_similarity >= BODY_SIMILARITY_THRESHOLD : analysis.body_length_match === true
  const samePage = analysis.status_code_match === true && (bodyMatch || analysis.headers_match === true || analysis.title_match === true)
  if (samePage) return { verdict: verdict(false, true, 'ok', fingerprints, null), analysis }
  if (knownFalsePositive) return { verdict: verdict(false, true, 'known_false_positive', fingerprints, null), analysis }
  if (dnsWeak) return { verdict: verdict('dns', false, 'dns_different_addresses', fingerprints, null), analysis }
  return { verdict: verdict('http-diff', false, 'http_diff', fingerprints, null), analysis }
}

/**
 * OONI's comparisons of the final response with the control's page.
 * `probeProportion` is the body_proportion the probe itself recorded: when
 * the document does not record the body's length (OONI's), the probe saw
 * the whole body and the stored one may be cut or redacted, so the
 * probe's own proportion is the better evidence.
 */
function compareHttp(res: Resp, ctlHttp: Obj, analysis: WebAnalysis, probeProportion: number | null): void {
  const ctlLength = num(ctlHttp.body_length) ?? 0
  const ctlCode = num(ctlHttp.status_code) ?? 0
  analysis.body_proportion =
    !res.lengthRecorded && probeProportion !== null && probeProportion >= 0 && probeProportion <= 1 ? probeProportion : bodyProportion(res.bodyLength, Math.max(ctlLength, 0), res.truncated)
  analysis.body_length_match = ctlLength >= 0 ? analysis.body_proportion > BODY_PROPORTION_THRESHOLD : null
  analysis.status_code_match = res.code === null ? null : statusCodeMatch(res.code, ctlCode)
  analysis.headers_match = headersMatch(Object.keys(res.headers), Object.keys(obj(ctlHttp.headers)))
  analysis.title_match = titleMatch(titleOf(res.body), str(ctlHttp.title) ?? '')
  const ctlSketch = str(ctlHttp.x_body_sketch)
  analysis.body_similarity = ctlSketch === null || res.body === null ? null : sketchSimilarity(bodySketch(res.body), ctlSketch)
}

function sharesAsn(answers: Array<{ ip: string; asn: number | null }>, controlAsns: Map<string, number>): boolean {
  const probe = new Set(answers.map(a => a.asn).filter((n): n is number => n !== null && n > 0))
  for (const asn of controlAsns.values()) if (probe.has(asn)) return true
  return false
}

/** True when the input URL's host is an IP address (the probe then skips DNS). */
function literalHost(input: string | null | undefined): boolean {
  if (typeof input !== 'string') return false
  try {
    return isIPAddress(new URL(input).hostname)
  } catch {
    return false
  }
}

/** True when a TLS handshake with certificate validation succeeded on one of the probe's addresses. */
function tlsValidated(tk: Obj, probeAddrs: string[]): boolean {
  for (const h of arr(tk.tls_handshakes)) {
    const o = obj(h)
    if (failureOf(o.failure) !== null) continue
    if (o.no_tls_verify === true) continue
    const address = str(o.address) ?? ''
    const ip = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
    if (probeAddrs.includes(ip)) return true
  }
  return false
}

/** Maps a verdict to a BlockingValue-typed constant (helps callers narrow). */
export const isBlocked = (b: BlockingValue): boolean => b !== false && b !== null
