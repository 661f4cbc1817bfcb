/**
 * The verdict of one measurement, explained in words for the measurement
 * page (issue 8): which step failed, what the control saw, and which
 * blockpage fingerprint matched. Pure: document (+ fingerprints) in, plain
 * sentences out; the page escapes them.
 *
 * It reads OONI's web_connectivity test_keys shape (queries, tcp_connect,
 * tls_handshakes, requests, control), which blockwatch's own tests share,
 * and falls back to listing every recorded step failure for other tests.
 */
import { confirmsCensorship, fingerprintsByName, matchDnsAnswer, matchHttpResponse, type FingerprintDb, type FingerprintMatch } from '../../../shared/src/fingerprints.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { verdictFor } from '../../../shared/src/verdict/index.ts'
import { reasonWords } from '../../../shared/src/nettests/index.ts'

/**
 * A verdict reason label in words, or the label itself when unknown. The
 * words are the union of every nettest kind's (shared/src/nettests), each
 * kind's typed by its closed list of reasons.
 */
export function reasonInWords(reason: string): string {
  return reasonWords().get(reason) ?? reason.replace(/_/g, ' ')
}

/** Words for OONI's failure strings (ooni/spec df-007-errors). */
const FAILURE_WORDS: Record<string, string> = {
  dns_nxdomain_error: 'the name does not exist (NXDOMAIN)',
  dns_no_answer: 'the resolver answered with no address',
  dns_refused_error: 'the resolver refused the query',
  dns_server_failure: 'the resolver failed (SERVFAIL)',
  dns_bogon_error: 'the resolver answered with a private (bogon) address',
  dns_non_recoverable_failure: 'the resolver gave a non-recoverable failure',
  generic_timeout_error: 'it timed out',
  connection_refused: 'the connection was refused',
  connection_reset: 'the connection was reset',
  connection_aborted: 'the connection was aborted',
  eof_error: 'the connection was closed unexpectedly (EOF)',
  host_unreachable: 'the host was unreachable',
  network_unreachable: 'the network was unreachable',
  ssl_invalid_hostname: 'the TLS certificate is for another name',
  ssl_unknown_authority: 'the TLS certificate was issued by an unknown authority',
  ssl_invalid_certificate: 'the TLS certificate is invalid',
  ssl_failed_handshake: 'the TLS handshake failed',
  http_too_many_redirects: 'there were too many HTTP redirects',
  http_body_too_large: 'the HTTP body was too large',
  connect_error: 'the connection failed'
}

/** A failure string in words ("the connection was reset (connection_reset)"). */
export function failureInWords(failure: string): string {
  const words = FAILURE_WORDS[failure]
  if (words !== undefined) return `${words} (${failure})`
  if (failure.startsWith('unknown_failure')) return `an unexpected error: ${failure}`
  return failure
}

/** One step the probe took, with what the probe and the control saw. */
export interface ExplainedStep {
  /** "DNS", "TCP connect", "TLS handshake", "HTTP", or a test_keys path for other tests. */
  step: string
  failed: boolean
  /** What the probe saw, in words. */
  probe: string
  /** What the control saw at the same step, when it took it. */
  control?: string
}

/** A fingerprint that matched, and whether it confirms censorship in this country. */
export interface ExplainedFingerprint extends FingerprintMatch {
  /** Where it matched: "DNS answer 10.10.34.36", "header.location of http://…". */
  where: string
  confirms: boolean
}

/** The explanation of a measurement's verdict. */
export interface Explanation {
  outcome: 'ok' | 'anomaly' | 'confirmed' | 'failure'
  /** One sentence: the verdict. */
  headline: string
  /** The first step that failed, in words, or null when none did. */
  failedStep: string | null
  steps: ExplainedStep[]
  /** What the control (the same steps from outside) saw, in words, or why there is none. */
  control: string[]
  fingerprints: ExplainedFingerprint[]
  /** Other remarks (control failure, comparisons). */
  notes: string[]
  /** The verdict code's reason label (shared/src/verdict), when it can judge this test. */
  reason?: string
}

/**
 * The judgement as stored at ingest (or as the API returns it). When
 * `verdict_reason` is given (null included), the explanation takes the
 * reason and the matched fingerprints from these columns and does not judge
 * the document again.
 */
export interface Flags {
  anomaly?: boolean
  confirmed?: boolean
  failure?: boolean
  blocking_type?: string | null
  down?: boolean
  verdict_reason?: string | null
  fingerprints?: string[] | null
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const asArray = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : [])
const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

const BLOCKING_WORDS: Record<string, string> = {
  dns: 'DNS tampering: the probe was given a different answer from the control',
  tcp_ip: 'TCP/IP blocking: the probe could not connect to an address the control reached',
  tls: "TLS interference: the TLS handshake failed where the control's succeeded",
  'http-failure': "HTTP failure: the HTTP request failed where the control's succeeded",
  'http-diff': "HTTP difference: the page the probe got differs from the control's"
}

/**
 * Explains a measurement document. `flags` are the stored scoring flags
 * (they win over test_keys); `fingerprints`, when given, are matched against
 * the DNS answers and HTTP responses recorded in the document.
 */
export function explainMeasurement(doc: Obj, flags: Flags = {}, fingerprints?: FingerprintDb): Explanation {
  const tk = isObj(doc.test_keys) ? doc.test_keys : null
  const probeCc = s(doc.probe_cc) ?? ''
  const steps: ExplainedStep[] = []
  const control: string[] = []
  const notes: string[] = []
  const fps: ExplainedFingerprint[] = []

  if (tk === null) {
    return {
      outcome: 'failure',
      headline: 'The measurement carries no test results (test_keys is missing), so it tells us nothing: it counts as a failure.',
      failedStep: null,
      steps,
      control: ['No control was recorded.'],
      fingerprints: fps,
      notes
    }
  }

  const ctl = isObj(tk.control) ? tk.control : null

  // DNS
  const queries = asArray(tk.queries)
  // An IPv4-only site answers AAAA with no answer: that query failing is not the DNS step failing.
  const answered = queries.some(q => s(q.failure) === undefined && asArray(q.answers).length > 0)
  const dnsFailure =
    s(tk.dns_experiment_failure) ??
    queries
      .filter(q => !(answered && s(q.failure) === 'dns_no_answer'))
      .map(q => s(q.failure))
      .find(f => f !== undefined)
  const answers = queries
    .flatMap(q => asArray(q.answers))
    .map(a => s(a.ipv4) ?? s(a.ipv6) ?? s(a.hostname))
    .filter((a): a is string => a !== undefined)
  const ctlDns = ctl !== null && isObj(ctl.dns) ? ctl.dns : null
  const ctlAddrs = ctlDns !== null && Array.isArray(ctlDns.addrs) ? ctlDns.addrs.map(String) : []
  const ctlDnsText =
    ctlDns === null ? undefined : s(ctlDns.failure) !== undefined ? `the control's lookup failed: ${failureInWords(s(ctlDns.failure)!)}` : `the control resolved ${ctlAddrs.join(', ') || 'no address'}`
  if (queries.length > 0 || dnsFailure !== undefined) {
    const consistency = s(tk.dns_consistency)
    steps.push({
      step: 'DNS',
      failed: dnsFailure !== undefined || consistency === 'inconsistent',
      probe:
        dnsFailure !== undefined
          ? `the lookup failed: ${failureInWords(dnsFailure)}`
          : `the probe resolved ${answers.join(', ') || 'no address'}${consistency === 'inconsistent' ? ', which is inconsistent with the control' : consistency === 'consistent' ? ', consistent with the control' : ''}`,
      control: ctlDnsText
    })
  }
  // The stored judgement, when the caller has it: its reason and fingerprints.
  const stored = flags.verdict_reason !== undefined
  let judged: { reason?: string } | null = stored ? (flags.verdict_reason === null ? null : { reason: flags.verdict_reason }) : null
  if (stored) {
    const byName = fingerprints === undefined ? undefined : fingerprintsByName(fingerprints)
    for (const name of flags.fingerprints ?? []) {
      const m = byName?.get(name)
      fps.push(
        m === undefined
          ? { name, scope: 'prod', location_found: '', expected_countries: [], where: 'a list no longer loaded', confirms: flags.confirmed === true }
          : {
              ...m,
              where: m.location_found === 'dns' || m.location_found === '' ? 'DNS answer' : m.location_found === 'body' ? 'page body' : m.location_found,
              confirms: confirmsCensorship(m, probeCc)
            }
      )
    }
  } else if (fingerprints !== undefined) {
    // A document without its stored judgement (shown alone): the verdict code reads it.
    let v: ReturnType<typeof verdictFor> = null
    try {
      v = verdictFor(doc as Measurement, fingerprints)
    } catch {
      v = null
    }
    judged = v
    for (const m of v?.fingerprints ?? []) {
      fps.push({
        ...m,
        where: m.location_found === 'dns' || m.location_found === '' ? 'DNS answer' : m.location_found === 'body' ? 'page body' : m.location_found,
        confirms: confirmsCensorship(m, probeCc)
      })
    }
  }
  if (!stored && fingerprints !== undefined && judged === null) {
    for (const ip of answers) {
      const m = matchDnsAnswer(fingerprints, ip)
      if (m !== null) fps.push({ ...m, where: `DNS answer ${ip}`, confirms: confirmsCensorship(m, probeCc) })
    }
  }

  // TCP
  const ctlTcp = ctl !== null && isObj(ctl.tcp_connect) ? ctl.tcp_connect : {}
  for (const c of asArray(tk.tcp_connect)) {
    const addr = `${s(c.ip) ?? '?'}:${String(c.port ?? '?')}`
    const st = isObj(c.status) ? c.status : {}
    const failure = s(st.failure) ?? s(c.failure)
    const ctlEntry = isObj(ctlTcp[addr]) ? (ctlTcp[addr] as Obj) : undefined
    steps.push({
      step: 'TCP connect',
      failed: failure !== undefined,
      probe: failure !== undefined ? `connecting to ${addr} failed: ${failureInWords(failure)}` : `connected to ${addr}`,
      control: ctlEntry === undefined ? undefined : s(ctlEntry.failure) !== undefined ? `the control could not connect either: ${failureInWords(s(ctlEntry.failure)!)}` : 'the control connected'
    })
  }

  // TLS
  const ctlTls = ctl !== null && isObj(ctl.tls_handshake) ? ctl.tls_handshake : {}
  for (const h of asArray(tk.tls_handshakes)) {
    const addr = s(h.address) ?? '?'
    const failure = s(h.failure)
    const ctlEntry = isObj(ctlTls[addr]) ? (ctlTls[addr] as Obj) : undefined
    steps.push({
      step: 'TLS handshake',
      failed: failure !== undefined,
      probe:
        failure !== undefined
          ? `the handshake with ${addr}${s(h.server_name) !== undefined ? ` (SNI ${s(h.server_name)!})` : ''} failed: ${failureInWords(failure)}`
          : `completed the handshake with ${addr}`,
      control:
        ctlEntry === undefined ? undefined : s(ctlEntry.failure) !== undefined ? `the control's handshake failed too: ${failureInWords(s(ctlEntry.failure)!)}` : 'the control completed its handshake'
    })
  }

  // HTTP
  const ctlHttp = ctl !== null && isObj(ctl.http_request) ? ctl.http_request : null
  const ctlHttpText =
    ctlHttp === null
      ? undefined
      : s(ctlHttp.failure) !== undefined
        ? `the control's request failed: ${failureInWords(s(ctlHttp.failure)!)}`
        : `the control got HTTP ${String(ctlHttp.status_code ?? '?')}${typeof ctlHttp.body_length === 'number' ? `, ${ctlHttp.body_length} bytes` : ''}${s(ctlHttp.title) !== undefined && s(ctlHttp.title)!.trim() !== '' ? `, titled "${s(ctlHttp.title)!.trim()}"` : ''}`
  const requests = asArray(tk.requests)
  const httpFailure = s(tk.http_experiment_failure)
  if (requests.length > 0 || httpFailure !== undefined) {
    // OONI lists the redirect chain last-first: show it in the order it happened.
    const chain = [...requests].reverse()
    const parts: string[] = []
    for (const r of chain) {
      const req = isObj(r.request) ? r.request : {}
      const res = isObj(r.response) ? r.response : null
      const url = s(req.url) ?? '?'
      const f = s(r.failure)
      if (f !== undefined) parts.push(`${url} failed: ${failureInWords(f)}`)
      else if (res !== null) {
        const headers = isObj(res.headers) ? res.headers : {}
        const loc = Object.entries(headers).find(([k]) => k.toLowerCase() === 'location')?.[1]
        parts.push(`${url} answered HTTP ${String(res.code ?? '?')}${typeof loc === 'string' ? ` redirecting to ${loc}` : ''}`)
        if (!stored && fingerprints !== undefined && judged === null) {
          const body = typeof res.body === 'string' ? res.body : null
          const hdrs: Record<string, string> = {}
          for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') hdrs[k] = v
          for (const m of matchHttpResponse(fingerprints, { body, headers: hdrs })) {
            if (!fps.some(x => x.name === m.name)) fps.push({ ...m, where: `${m.location_found} of ${url}`, confirms: confirmsCensorship(m, probeCc) })
          }
        }
      }
    }
    if (parts.length === 0 && httpFailure !== undefined) parts.push(`the request failed: ${failureInWords(httpFailure)}`)
    steps.push({ step: 'HTTP', failed: httpFailure !== undefined, probe: parts.join('; then '), control: ctlHttpText })
    const cmp: string[] = []
    for (const [key, label] of [
      ['status_code_match', 'status code'],
      ['body_length_match', 'body length'],
      ['headers_match', 'headers'],
      ['title_match', 'title']
    ] as const) {
      if (tk[key] === false) cmp.push(`the ${label} differs`)
    }
    if (cmp.length > 0) notes.push(`Compared with the control's page: ${cmp.join(', ')}.`)
  }

  // Other tests: every recorded step failure, by where it is in test_keys.
  if (steps.length === 0) {
    for (const [path, failure] of failuresIn(tk, 'test_keys', 0)) {
      steps.push({ step: path, failed: true, probe: failureInWords(failure) })
    }
  }

  // The control, as a whole.
  const controlFailure = s(tk.control_failure)
  if (controlFailure !== undefined)
    control.push(`The control itself failed: ${failureInWords(controlFailure)}. Without it, nothing can be compared, so the measurement counts as a failure, not as blocking.`)
  if (ctlDnsText !== undefined) control.push(capitalise(ctlDnsText) + '.')
  const ctlTcpEntries = Object.entries(ctlTcp).filter(([, v]) => isObj(v))
  if (ctlTcpEntries.length > 0) {
    control.push('TCP from the control: ' + ctlTcpEntries.map(([a, v]) => (s((v as Obj).failure) !== undefined ? `${a} failed (${s((v as Obj).failure)!})` : `${a} connected`)).join(', ') + '.')
  }
  if (ctlHttpText !== undefined) control.push(capitalise(ctlHttpText) + '.')
  if (control.length === 0) control.push(ctl === null ? 'This test records no control measurement.' : 'The control recorded nothing for these steps.')

  if (judged?.reason !== undefined) notes.unshift(`The verdict code's reading: ${reasonInWords(judged.reason)} (${judged.reason}).`)
  const failedStep = steps.find(x => x.failed)
  const blocking = flags.blocking_type ?? (typeof tk.blocking === 'string' ? tk.blocking : null)
  const outcome: Explanation['outcome'] =
    flags.failure === true ? 'failure' : flags.confirmed === true ? 'confirmed' : flags.anomaly === true || (flags.anomaly === undefined && typeof tk.blocking === 'string') ? 'anomaly' : 'ok'
  let headline: string
  const confirming = fps.find(f => f.confirms)
  switch (outcome) {
    case 'confirmed':
      headline = `Confirmed blocking${confirming !== undefined ? `: the blockpage fingerprint ${confirming.name} matched the ${confirming.where}` : ': a known blockpage fingerprint matched'}.`
      break
    case 'anomaly':
      headline =
        judged?.reason !== undefined && judged.reason !== 'ok' && blocking !== null && blocking !== undefined
          ? `Anomaly, ${blocking} blocking: ${reasonInWords(judged.reason)}.`
          : `Anomaly: ${blocking !== null && blocking !== undefined ? (BLOCKING_WORDS[blocking] ?? `blocking of type ${blocking}`) : 'blocking was detected'}${failedStep !== undefined ? ` (the ${failedStep.step} step)` : ''}.`
      break
    case 'failure':
      headline = `Failure: the measurement ${controlFailure !== undefined ? 'could not be compared with its control' : 'did not complete'}, so it tells us nothing about blocking.`
      break
    default:
      headline =
        flags.down === true
          ? 'The target is down: neither the probe nor the control reached it, so this says nothing about blocking.'
          : failedStep === undefined
            ? 'No blocking: every step succeeded.'
            : `No blocking was concluded, although the ${failedStep.step} step failed.`
  }
  return { outcome, headline, failedStep: failedStep === undefined ? null : `${failedStep.step}: ${failedStep.probe}`, steps, control, fingerprints: fps, notes, reason: judged?.reason }
}

function capitalise(t: string): string {
  return t.charAt(0).toUpperCase() + t.slice(1)
}

/** Every non-null `failure` string under test_keys (but not under control), with its path. */
function failuresIn(v: unknown, path: string, depth: number): Array<[string, string]> {
  if (depth > 6) return []
  const out: Array<[string, string]> = []
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push(...failuresIn(x, `${path}[${i}]`, depth + 1))
    })
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'control') continue
      if ((k === 'failure' || k.endsWith('_failure')) && typeof x === 'string' && x !== '') out.push([`${path}.${k}`, x])
      else out.push(...failuresIn(x, `${path}.${k}`, depth + 1))
    }
  }
  return out.slice(0, 20)
}
