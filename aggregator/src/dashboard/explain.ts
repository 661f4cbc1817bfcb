/**
 * The verdict of one measurement, explained in words for the measurement
 * page (issue 8): which step failed, what the control saw, and which
 * blockpage fingerprint matched. Pure: document (+ fingerprints) in, plain
 * sentences out, in the page's language (the dashboard's catalogues:
 * sections explain, failures, blocking and reasons; English by default);
 * the page escapes them. Failure strings, reason labels, addresses and URLs
 * are put in as they are.
 *
 * It reads OONI's web_connectivity test_keys shape (queries, tcp_connect,
 * tls_handshakes, requests, control), which blockwatch's own tests share,
 * and falls back to listing every recorded step failure for other tests.
 */
import { confirmsCensorship, fingerprintsByName, matchDnsAnswer, matchHttpResponse, type FingerprintDb, type FingerprintMatch } from '../../../shared/src/fingerprints.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { verdictFor } from '../../../shared/src/verdict/index.ts'
import { reasonWords } from '../../../shared/src/nettests/index.ts'
import { en } from './i18n/en.ts'
import { translator, type MessageKey, type Translate } from './i18n/index.ts'

const ENGLISH = translator('en')

/**
 * A verdict reason label in words, or the label itself when unknown. The
 * words are the union of every nettest kind's (shared/src/nettests), each
 * kind's typed by its closed list of reasons.
 */
export function reasonInWords(reason: string, t?: Translate): string {
  if (t !== undefined && Object.hasOwn(en.reasons, reason)) return t(`reasons.${reason}` as MessageKey)
  return reasonWords().get(reason) ?? reason.replace(/_/g, ' ')
}

/** A failure string in words ("the connection was reset (connection_reset)"); the words are the catalogues' `failures` (OONI's ooni/spec df-007-errors). */
export function failureInWords(failure: string, t: Translate = ENGLISH): string {
  if (Object.hasOwn(en.failures, failure)) return t('explain.failureNamed', { words: t(`failures.${failure}` as MessageKey), failure })
  if (failure.startsWith('unknown_failure')) return t('explain.unexpected', { failure })
  return failure
}

/** One step the probe took, with what the probe and the control saw. */
export interface ExplainedStep {
  /** "DNS", "TCP connect", "TLS handshake", "HTTP" (in the page's language), or a test_keys path for other tests. */
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

/**
 * Explains a measurement document. `flags` are the stored scoring flags
 * (they win over test_keys); `fingerprints`, when given, are matched against
 * the DNS answers and HTTP responses recorded in the document.
 */
export function explainMeasurement(doc: Obj, flags: Flags = {}, fingerprints?: FingerprintDb, t: Translate = ENGLISH): Explanation {
  const inWords = (f: string): string => failureInWords(f, t)
  const tk = isObj(doc.test_keys) ? doc.test_keys : null
  const probeCc = s(doc.probe_cc) ?? ''
  const steps: ExplainedStep[] = []
  const control: string[] = []
  const notes: string[] = []
  const fps: ExplainedFingerprint[] = []

  if (tk === null) {
    return {
      outcome: 'failure',
      headline: t('explain.noTestKeys'),
      failedStep: null,
      steps,
      control: [t('explain.noControlRecorded')],
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
  const list = (xs: string[]): string => (xs.length === 0 ? t('explain.noAddress') : xs.join(', '))
  const ctlDnsText =
    ctlDns === null ? undefined : s(ctlDns.failure) !== undefined ? t('explain.ctlLookupFailed', { failure: inWords(s(ctlDns.failure)!) }) : t('explain.ctlResolved', { addresses: list(ctlAddrs) })
  if (queries.length > 0 || dnsFailure !== undefined) {
    const consistency = s(tk.dns_consistency)
    steps.push({
      step: t('explain.stepDns'),
      failed: dnsFailure !== undefined || consistency === 'inconsistent',
      probe:
        dnsFailure !== undefined
          ? t('explain.lookupFailed', { failure: inWords(dnsFailure) })
          : t(consistency === 'inconsistent' ? 'explain.probeResolvedInconsistent' : consistency === 'consistent' ? 'explain.probeResolvedConsistent' : 'explain.probeResolved', {
              addresses: list(answers)
            }),
      control: ctlDnsText
    })
  }
  // The stored judgement, when the caller has it: its reason and fingerprints.
  const where = (loc: string): string => (loc === 'dns' || loc === '' ? t('explain.dnsAnswer') : loc === 'body' ? t('explain.pageBody') : loc)
  const stored = flags.verdict_reason !== undefined
  let judged: { reason?: string } | null = stored ? (flags.verdict_reason === null ? null : { reason: flags.verdict_reason }) : null
  if (stored) {
    const byName = fingerprints === undefined ? undefined : fingerprintsByName(fingerprints)
    for (const name of flags.fingerprints ?? []) {
      const m = byName?.get(name)
      fps.push(
        m === undefined
          ? { name, scope: 'prod', location_found: '', expected_countries: [], where: t('explain.listGone'), confirms: flags.confirmed === true }
          : {
              ...m,
              where: where(m.location_found),
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
        where: where(m.location_found),
        confirms: confirmsCensorship(m, probeCc)
      })
    }
  }
  if (!stored && fingerprints !== undefined && judged === null) {
    for (const ip of answers) {
      const m = matchDnsAnswer(fingerprints, ip)
      if (m !== null) fps.push({ ...m, where: t('explain.dnsAnswerOf', { address: ip }), confirms: confirmsCensorship(m, probeCc) })
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
      step: t('explain.stepTcp'),
      failed: failure !== undefined,
      probe: failure !== undefined ? t('explain.connectFailed', { address: addr, failure: inWords(failure) }) : t('explain.connected', { address: addr }),
      control: ctlEntry === undefined ? undefined : s(ctlEntry.failure) !== undefined ? t('explain.ctlConnectFailed', { failure: inWords(s(ctlEntry.failure)!) }) : t('explain.ctlConnected')
    })
  }

  // TLS
  const ctlTls = ctl !== null && isObj(ctl.tls_handshake) ? ctl.tls_handshake : {}
  for (const h of asArray(tk.tls_handshakes)) {
    const addr = s(h.address) ?? '?'
    const failure = s(h.failure)
    const ctlEntry = isObj(ctlTls[addr]) ? (ctlTls[addr] as Obj) : undefined
    steps.push({
      step: t('explain.stepTls'),
      failed: failure !== undefined,
      probe:
        failure !== undefined
          ? s(h.server_name) !== undefined
            ? t('explain.handshakeFailedSni', { address: addr, sni: s(h.server_name)!, failure: inWords(failure) })
            : t('explain.handshakeFailed', { address: addr, failure: inWords(failure) })
          : t('explain.handshakeDone', { address: addr }),
      control: ctlEntry === undefined ? undefined : s(ctlEntry.failure) !== undefined ? t('explain.ctlHandshakeFailed', { failure: inWords(s(ctlEntry.failure)!) }) : t('explain.ctlHandshakeDone')
    })
  }

  // HTTP
  const ctlHttp = ctl !== null && isObj(ctl.http_request) ? ctl.http_request : null
  const ctlHttpText =
    ctlHttp === null
      ? undefined
      : s(ctlHttp.failure) !== undefined
        ? t('explain.ctlRequestFailed', { failure: inWords(s(ctlHttp.failure)!) })
        : [
            t('explain.ctlGot', { status: String(ctlHttp.status_code ?? '?') }),
            ...(typeof ctlHttp.body_length === 'number' ? [t('explain.bytes', { count: ctlHttp.body_length })] : []),
            ...(s(ctlHttp.title) !== undefined && s(ctlHttp.title)!.trim() !== '' ? [t('explain.titled', { title: s(ctlHttp.title)!.trim() })] : [])
          ].join(t('explain.listSep'))
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
      if (f !== undefined) parts.push(t('explain.urlFailed', { url, failure: inWords(f) }))
      else if (res !== null) {
        const headers = isObj(res.headers) ? res.headers : {}
        const loc = Object.entries(headers).find(([k]) => k.toLowerCase() === 'location')?.[1]
        const status = String(res.code ?? '?')
        parts.push(typeof loc === 'string' ? t('explain.urlRedirected', { url, status, location: loc }) : t('explain.urlAnswered', { url, status }))
        if (!stored && fingerprints !== undefined && judged === null) {
          const body = typeof res.body === 'string' ? res.body : null
          const hdrs: Record<string, string> = {}
          for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') hdrs[k] = v
          for (const m of matchHttpResponse(fingerprints, { body, headers: hdrs })) {
            if (!fps.some(x => x.name === m.name)) fps.push({ ...m, where: t('explain.partOf', { part: m.location_found, url }), confirms: confirmsCensorship(m, probeCc) })
          }
        }
      }
    }
    if (parts.length === 0 && httpFailure !== undefined) parts.push(t('explain.requestFailed', { failure: inWords(httpFailure) }))
    steps.push({ step: t('explain.stepHttp'), failed: httpFailure !== undefined, probe: parts.join(t('explain.thenSep')), control: ctlHttpText })
    const cmp: string[] = []
    for (const [key, words] of [
      ['status_code_match', 'explain.statusDiffers'],
      ['body_length_match', 'explain.bodyLengthDiffers'],
      ['headers_match', 'explain.headersDiffer'],
      ['title_match', 'explain.titleDiffers']
    ] as const) {
      if (tk[key] === false) cmp.push(t(words))
    }
    if (cmp.length > 0) notes.push(t('explain.compared', { differences: cmp.join(t('explain.listSep')) }))
  }

  // Other tests: every recorded step failure, by where it is in test_keys.
  if (steps.length === 0) {
    for (const [path, failure] of failuresIn(tk, 'test_keys', 0)) {
      steps.push({ step: path, failed: true, probe: inWords(failure) })
    }
  }

  // The control, as a whole.
  const controlFailure = s(tk.control_failure)
  if (controlFailure !== undefined) control.push(t('explain.controlFailed', { failure: inWords(controlFailure) }))
  if (ctlDnsText !== undefined) control.push(t('explain.sentence', { text: capitalise(ctlDnsText) }))
  const ctlTcpEntries = Object.entries(ctlTcp).filter(([, v]) => isObj(v))
  if (ctlTcpEntries.length > 0) {
    const items = ctlTcpEntries.map(([a, v]) =>
      s((v as Obj).failure) !== undefined ? t('explain.tcpItemFailed', { address: a, failure: s((v as Obj).failure)! }) : t('explain.tcpItemConnected', { address: a })
    )
    control.push(t('explain.tcpFromControl', { list: items.join(t('explain.listSep')) }))
  }
  if (ctlHttpText !== undefined) control.push(t('explain.sentence', { text: capitalise(ctlHttpText) }))
  if (control.length === 0) control.push(ctl === null ? t('explain.noControlTest') : t('explain.controlNothing'))

  if (judged?.reason !== undefined) notes.unshift(t('explain.reading', { words: reasonInWords(judged.reason, t), reason: judged.reason }))
  const failedStep = steps.find(x => x.failed)
  const blocking = flags.blocking_type ?? (typeof tk.blocking === 'string' ? tk.blocking : null)
  const outcome: Explanation['outcome'] =
    flags.failure === true ? 'failure' : flags.confirmed === true ? 'confirmed' : flags.anomaly === true || (flags.anomaly === undefined && typeof tk.blocking === 'string') ? 'anomaly' : 'ok'
  let headline: string
  const confirming = fps.find(f => f.confirms)
  switch (outcome) {
    case 'confirmed':
      headline = confirming !== undefined ? t('explain.confirmedBy', { name: confirming.name, where: confirming.where }) : t('explain.confirmed')
      break
    case 'anomaly':
      if (judged?.reason !== undefined && judged.reason !== 'ok' && blocking !== null && blocking !== undefined) {
        headline = t('explain.anomalyReason', { blocking, words: reasonInWords(judged.reason, t) })
      } else {
        const words =
          blocking !== null && blocking !== undefined
            ? Object.hasOwn(en.blocking, blocking)
              ? t(`blocking.${blocking}` as MessageKey)
              : t('explain.blockingOfType', { type: blocking })
            : t('explain.blockingDetected')
        headline = failedStep !== undefined ? t('explain.anomalyAt', { words, step: failedStep.step }) : t('explain.anomaly', { words })
      }
      break
    case 'failure':
      headline = controlFailure !== undefined ? t('explain.failureNoControl') : t('explain.failureIncomplete')
      break
    default:
      headline = flags.down === true ? t('explain.down') : failedStep === undefined ? t('explain.noBlocking') : t('explain.noBlockingAlthough', { step: failedStep.step })
  }
  return {
    outcome,
    headline,
    failedStep: failedStep === undefined ? null : t('explain.failedStep', { step: failedStep.step, probe: failedStep.probe }),
    steps,
    control,
    fingerprints: fps,
    notes,
    reason: judged?.reason
  }
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
