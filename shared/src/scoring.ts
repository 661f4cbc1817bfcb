/**
 * Scoring: the anomaly, confirmed and failure flags of a measurement, set as
 * OONI's pipeline sets them (ooni/backend, fastpath/fastpath/core.py,
 * score_measurement), so that our rows and OONI's can be counted together.
 *
 * - anomaly: blocking was detected (OONI: blocking_general > 0.5, where a
 *   confirmed fingerprint adds to it);
 * - confirmed: a blockpage fingerprint matched, and either probe_cc is among
 *   its expected countries or its scope is nat or isp; scope `fp` never
 *   confirms;
 * - failure: the measurement or its control failed, or test_keys is missing,
 *   so it tells us nothing (OONI: accuracy < 0.5).
 *
 * Judged once: ingest calls scoreMeasurement() once per document and stores
 * everything it returns as columns (anomaly, confirmed, failure,
 * blocking_type, down, unreachable, verdict_reason, fingerprints); rollups,
 * events, the API and the dashboard read those columns and never re-derive
 * them. Every document of a registered nettest kind (shared/src/nettests: web_connectivity,
 * dns_consistency, tcp_connect, tls_handshake, sms_gateway) is judged by it,
 * whichever software made it: the verdict keys a probe wrote (blocking,
 * accessible) stay in the stored document as sent and are never counted.
 * For the kinds we have no verdict code for (telegram, signal, stun and
 * OONI's other nettests, and OONI's legacy dns_consistency and tcp_connect
 * shapes), OONI's scoring rules over test_keys are our judgement.
 *
 * Pure: no I/O, no clock.
 */
import type { Measurement } from './measurement.ts'
import { confirmsCensorship, matchDnsAnswer, matchHttpResponse, type FingerprintDb, type FingerprintMatch } from './fingerprints.ts'
import { isJudged, verdictFor } from './verdict/index.ts'

/** Bump whenever a rule below changes: stored with every row, so `rescore` can find stale ones. */
export const SCORING_VERSION = 3

/** Everything stored about a measurement's verdict, one column each. */
export interface Score {
  anomaly: boolean
  confirmed: boolean
  failure: boolean
  /** OONI's blocking type ("dns", "tcp_ip", "tls", "http-failure", "http-diff") when one was seen. */
  blocking_type: string | null
  /** Every fingerprint that matched, confirming or not. */
  fingerprints: FingerprintMatch[]
  /** The target is down: the probe and the control both failed to reach it (blocking false, accessible false). */
  down: boolean
  /** The probe reached neither its target nor the control (its first step and the control both failed). */
  unreachable: boolean
  /** The verdict code's reason label (docs/methodology.md); null for kinds judged by OONI's rules. */
  reason: string | null
}

/** What the shared verdict code answers (shared/src/verdict/index.ts). */
export interface VerdictLike {
  blocking: unknown
  accessible?: unknown
  fingerprints?: FingerprintMatch[]
  failure?: string | null
  reason?: string
}

/** Re-judges a document; null when it cannot. */
export type VerdictFn = (doc: Measurement, fp: FingerprintDb) => VerdictLike | null

const defaultVerdict: VerdictFn = verdictFor

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

/** OONI's raw-score shape, plus our verdict's down and reason: flags are derived from it at the end. */
interface Raw {
  blocking: number
  accuracy: number
  confirmed: boolean
  blockingType: string | null
  fingerprints: FingerprintMatch[]
  down: boolean
  reason: string | null
}
const raw = (): Raw => ({ blocking: 0, accuracy: 1, confirmed: false, blockingType: null, fingerprints: [], down: false, reason: null })
const failed = (r: Raw = raw()): Raw => {
  r.accuracy = 0
  return r
}

const BLOCKING_TYPES = new Set(['dns', 'tcp_ip', 'tls', 'http-diff', 'http-failure'])

/**
 * Scores one measurement. Never throws: a document whose shape is too odd to
 * read scores as a failure, like OONI's scorer on "probe bugs".
 */
export function scoreMeasurement(doc: Measurement, fp: FingerprintDb, verdict: VerdictFn = defaultVerdict): Score {
  let r: Raw
  try {
    r = scoreRaw(doc, fp, verdict)
  } catch {
    r = failed()
  }
  const confirmed = r.confirmed
  return {
    anomaly: r.blocking + (confirmed ? 1 : 0) > 0.5,
    confirmed,
    failure: r.accuracy < 0.5,
    blocking_type: r.blockingType,
    fingerprints: r.fingerprints,
    down: r.down,
    unreachable: isObj(doc.test_keys) && unreachableOf(doc.test_keys),
    reason: r.reason
  }
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v !== ''

/**
 * Whether test_keys say the probe reached neither its target nor the
 * control: the control failed, and so did the probe's own first step.
 */
export function unreachableOf(tk: Obj): boolean {
  return nonEmpty(tk.control_failure) && (nonEmpty(tk.dns_experiment_failure) || nonEmpty(tk.http_experiment_failure) || nonEmpty(tk.failure))
}

function scoreRaw(doc: Measurement, fp: FingerprintDb, verdict: VerdictFn): Raw {
  const tk = doc.test_keys
  if (!isObj(tk)) return failed()
  if (isJudged(doc.test_name)) {
    const v = verdict(doc, fp)
    if (v !== null) return scoreVerdict(doc, tk, fp, v, doc.test_name === 'tcp_connect' ? [] : matchFingerprints(tk, fp))
  }
  switch (doc.test_name) {
    // Our verdict code could not read these: OONI's legacy shapes of the same names.
    case 'dns_consistency':
      return raw() // OONI's legacy dns_consistency has no scoring
    case 'tcp_connect':
      return scoreOoniTcpConnect(tk)
    case 'http_requests':
      return scoreHttpRequests(doc, tk, fp)
    case 'telegram':
      return scoreTelegram(tk)
    case 'signal':
      return scoreSignal(doc, tk)
    case 'whatsapp':
      return scoreWhatsapp(tk)
    case 'facebook_messenger':
      return scoreFacebookMessenger(tk)
    case 'stunreachability':
    case 'stun_reachability':
      return scoreStunReachability(tk)
    case 'torsf':
      return scoreTorsf(doc, tk)
    case 'tor':
      return scoreTor(tk)
    case 'vanilla_tor':
      return scoreVanillaTor(tk)
    case 'psiphon': {
      const r = raw()
      if (tk.failure !== null && tk.failure !== undefined) r.blocking = 1
      else if (!(typeof tk.bootstrap_time === 'number' && tk.bootstrap_time > 0)) r.accuracy = 0
      return r
    }
    case 'openvpn': {
      const r = raw()
      if (tk.success === false) r.blocking = 1
      else if (tk.success !== true) r.accuracy = 0
      return r
    }
    case 'browser_web': {
      const r = raw()
      if (tk.result === 'error') r.blocking = 1
      else if (tk.result !== 'ok') r.accuracy = 0
      return r
    }
    // Performance tests and disabled scorers: OONI stores them as ok.
    case 'ndt':
    case 'dash':
    case 'riseupvpn':
    case 'dnscheck':
      return raw()
    default:
      // OONI: "Unsupported test name" scores accuracy 0.
      return failed()
  }
}

/**
 * The kinds our verdict code judges: its blocking and accessible, never the
 * ones the probe wrote, turned into flags by OONI's score_web_connectivity
 * rules (fingerprints confirm; a verdict that cannot tell is a failure
 * unless a fingerprint matched).
 */
function scoreVerdict(doc: Measurement, tk: Obj, _fp: FingerprintDb, v: VerdictLike, ownMatches: FingerprintMatch[]): Raw {
  const r = raw()
  const blocking: unknown = v.blocking
  const accessible: unknown = v.accessible
  const matches = [...ownMatches]
  for (const m of v.fingerprints ?? []) if (!matches.some(x => x.name === m.name)) matches.push(m)
  r.fingerprints = matches
  r.reason = typeof v.reason === 'string' ? v.reason : null
  r.down = blocking === false && accessible === false
  const cc = typeof doc.probe_cc === 'string' ? doc.probe_cc.toUpperCase() : 'ZZ'
  r.confirmed = cc !== 'ZZ' && matches.some(m => confirmsCensorship(m, cc))
  const tm = tk.title_match
  if (tm !== undefined && tm !== null && typeof tm !== 'boolean') return failed(r)
  if (typeof blocking === 'string' && BLOCKING_TYPES.has(blocking)) {
    r.blocking = 1
    r.blockingType = blocking
  } else if (blocking === false) {
    // ok
  } else if (blocking === null || blocking === undefined) {
    // somewhat-broken measurement (ooni/backend#610): good only when a fingerprint matched
    if (matches.length === 0) r.accuracy = 0
  } else {
    r.accuracy = 0
  }
  if (hasUnknownFailure(tk)) r.accuracy = 0
  if (accessible === null && matches.length === 0) r.accuracy = 0
  if (r.confirmed && r.blockingType === null) r.blockingType = matches.some(m => m.location_found === 'dns') ? 'dns' : 'http-diff'
  return r
}

/** OONI: any `*_failure` key holding "unknown_failure …" means the probe itself broke. */
function hasUnknownFailure(tk: Obj): boolean {
  for (const [k, v] of Object.entries(tk)) {
    if (k.endsWith('_failure') && typeof v === 'string' && v.startsWith('unknown_failure')) return true
  }
  return false
}

/** A header or body value as text: plain strings, or OONI's `{format: "base64", data}`. */
function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (isObj(v) && v.format === 'base64' && typeof v.data === 'string') return Buffer.from(v.data, 'base64').toString('latin1')
  return null
}

/**
 * Matches fingerprints as OONI's fastpath does: every DNS answer of every
 * query, and the body and headers of every HTTP response (the whole
 * redirect chain).
 */
export function matchFingerprints(tk: Obj, fp: FingerprintDb): FingerprintMatch[] {
  const out: FingerprintMatch[] = []
  const add = (m: FingerprintMatch): void => {
    if (!out.some(x => x.name === m.name)) out.push(m)
  }
  for (const q of arr(tk.queries)) {
    if (!isObj(q)) continue
    for (const a of arr(q.answers)) {
      if (!isObj(a)) continue
      const addr = typeof a.ipv4 === 'string' ? a.ipv4 : typeof a.hostname === 'string' ? a.hostname : typeof a.ipv6 === 'string' ? a.ipv6 : null
      if (addr === null) continue
      const m = matchDnsAnswer(fp, addr)
      if (m !== null) add(m)
    }
  }
  for (const req of arr(tk.requests)) {
    if (!isObj(req) || !isObj(req.response)) continue
    const resp = req.response
    const headers: Record<string, string> = {}
    if (isObj(resp.headers)) {
      for (const [k, v] of Object.entries(resp.headers)) {
        const t = textOf(Array.isArray(v) ? v[0] : v)
        if (t !== null) headers[k] = t
      }
    }
    for (const m of matchHttpResponse(fp, { body: textOf(resp.body), headers })) add(m)
  }
  return out
}

function tcpCounts(tk: Obj): { ok: number; bad: number } {
  let ok = 0
  let bad = 0
  for (const e of arr(tk.tcp_connect)) {
    const s = isObj(e) && isObj(e.status) ? e.status.success : undefined
    if (s === true) ok++
    else if (s === false) bad++
  }
  return { ok, bad }
}

function scoreOoniTcpConnect(tk: Obj): Raw {
  const r = raw()
  const c = tk.connection
  if (c === 'success') return r
  r.blocking = typeof c === 'string' && ['generic_timeout_error', 'connection_refused_error', 'connect_error', 'tcp_timed_out_error'].includes(c) ? 0.8 : 1
  return r
}

function scoreHttpRequests(doc: Measurement, tk: Obj, fp: FingerprintDb): Raw {
  const r = raw()
  if (tk.control_failure != null || tk.experiment_failure != null || tk.body_length_match == null || tk.headers_match == null) return failed(r)
  if (!(tk.body_length_match === true && tk.headers_match === true)) r.blocking = 1
  const nonTor = arr(tk.requests).filter(q => !(isObj(q) && isObj(q.request) && isObj(q.request.tor) && q.request.tor.is_tor === true))
  r.fingerprints = matchFingerprints({ requests: nonTor }, fp)
  r.confirmed = r.fingerprints.some(m => confirmsCensorship(m, doc.probe_cc))
  return r
}

function scoreTelegram(tk: Obj): Raw {
  const r = raw()
  const webBlocking = tk.telegram_web_status === 'blocked'
  const { ok, bad } = tcpCounts(tk)
  let httpOk = 0
  let httpBad = 0
  for (const q of arr(tk.requests)) {
    // OONI: a request without its URL is a client bug, scored as a failure.
    if (!isObj(q) || !isObj(q.request) || typeof q.request.url !== 'string' || !('failure' in q)) return failed(r)
    if (q.request.url === 'https://web.telegram.org/' || q.request.url === 'http://web.telegram.org/') continue
    if (q.failure === null) httpOk++
    else httpBad++
  }
  let s = ok + bad > 0 ? bad / (ok + bad) : 0.5
  s += httpOk + httpBad > 0 ? httpBad / (httpOk + httpBad) : 0.5
  if (webBlocking) s += 1
  r.blocking = s
  return r
}

/** Python's truth value, which OONI's rules test (`if failure:`): null, false, 0, "" and empty containers are false. */
function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (isObj(v)) return Object.keys(v).length > 0
  return true
}

/** A key's value, or `fallback` when it is missing or null (OONI's `g_or`). */
const gOr = (o: Obj, k: string, fallback: unknown): unknown => o[k] ?? fallback

/** UTC milliseconds of an OONI `measurement_start_time` ("YYYY-MM-DD hh:mm:ss"); throws on any other form, as strptime does. */
function ooniStartMs(v: unknown): number {
  const m = typeof v === 'string' ? /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(v) : null
  if (m === null) throw new Error('measurement_start_time must be "YYYY-MM-DD hh:mm:ss"')
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const ms = Date.UTC(y, mo - 1, d, h, mi, se)
  const back = new Date(ms)
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) throw new Error('measurement_start_time is not a date')
  return ms
}

const PRE_RANK: Record<string, number> = { a: -3, alpha: -3, b: -2, beta: -2, c: -1, rc: -1, pre: -1, preview: -1 }
const VERSION_RE = /^v?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|beta|preview|pre|rc|a|b|c)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$/i

/**
 * The sort key of a version as Python's `packaging.version.Version` orders
 * it (PEP 440: release, then dev < pre-release < release < post-release),
 * which OONI's rules compare test and engine versions with. Throws on what
 * Version() refuses.
 */
function versionKey(v: unknown): number[] {
  const m = typeof v === 'string' ? VERSION_RE.exec(v.trim()) : null
  if (m === null) throw new Error(`not a version: ${String(v)}`)
  const release = (m[1] as string).split('.').map(Number)
  while (release.length < 8) release.push(0)
  const pre = m[2] !== undefined ? (PRE_RANK[m[2].toLowerCase()] as number) : null
  const postText = m[4] ?? m[5]
  const devText = m[6]
  // A dev release with nothing else sorts before the release's pre-releases.
  const phase = pre ?? (devText !== undefined && postText === undefined ? -4 : 0)
  return [...release, phase, Number(m[3] ?? 0) || 0, postText !== undefined ? Number(postText) || 0 : -1, devText !== undefined ? Number(devText) || 0 : Number.MAX_SAFE_INTEGER]
}

/** -1, 0 or 1 as version a sorts before, with or after b (`versionKey`). */
function compareVersions(a: unknown, b: unknown): number {
  const ka = versionKey(a)
  const kb = versionKey(b)
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as number) < (kb[i] as number) ? -1 : 1
  return 0
}

const SIGNAL_CA_ROTATED_MS = Date.UTC(2022, 9, 19) // ooni/probe#2344: test versions before 0.2.2 distrust Signal's new certificate
const ENGINE_DNS_BUG_MS = Date.UTC(2023, 4, 2) // ooni/backend#679: engines before 3.17.2
const SIGNAL_023_BROKEN_MS = Date.UTC(2023, 10, 7) // ooni/probe#2627: test versions up to 0.2.3

/**
 * Signal, as OONI's score_signal: a top-level `failure` or
 * `failed_operation` that is set, or missing, makes the measurement a
 * failure, and so do the probe versions OONI knows gave false blocking after
 * a date: test version 0.2.4; up to 0.2.3 from 2023-11-07; before 0.2.2
 * from 2022-10-19 (Signal's new certificate: ssl_unknown_authority); an
 * engine before 3.17.2 from 2023-05-02 (android_dns_cache_no_data). Then
 * `signal_backend_status` "blocked" is blocking, "ok" is not, anything else
 * is a failure.
 */
function scoreSignal(doc: Measurement, tk: Obj): Raw {
  const r = raw()
  const orTrue = (k: string): unknown => (k in tk ? tk[k] : true)
  if (pyTruthy(orTrue('failed_operation')) || pyTruthy(orTrue('failure'))) r.accuracy = 0
  try {
    const d = doc as unknown as Obj
    const tv = gOr(d, 'test_version', '0.0.0')
    if (d.measurement_start_time === null || d.measurement_start_time === undefined) return failed(r)
    const start = ooniStartMs(d.measurement_start_time)
    if (tv === '0.2.4') return failed(r)
    if (compareVersions(tv, '0.2.3') <= 0 && start >= SIGNAL_023_BROKEN_MS) return failed(r)
    if (compareVersions(tv, '0.2.2') < 0 && start >= SIGNAL_CA_ROTATED_MS) return failed(r)
    const annotations = gOr(d, 'annotations', {})
    if (!isObj(annotations)) return failed(r)
    if (compareVersions(gOr(annotations, 'engine_version', '0.0.0'), '3.17.2') < 0 && start >= ENGINE_DNS_BUG_MS) return failed(r)
  } catch {
    return failed(r)
  }
  const st = tk.signal_backend_status
  if (st === 'blocked') r.blocking = 1
  else if (st !== 'ok') r.accuracy = 0
  return r
}

/** STUN reachability, as OONI's score_stunreachability: a top-level failure is blocking (ooni/backend#551). */
function scoreStunReachability(tk: Obj): Raw {
  const r = raw()
  if (pyTruthy(tk.failure)) r.blocking = 1
  return r
}

/** Tor Snowflake, as OONI's score_torsf: ooniprobe-android 3.8.3's runs are failures; otherwise a top-level failure is blocking. */
function scoreTorsf(doc: Measurement, tk: Obj): Raw {
  const r = raw()
  const name = doc.software_name ?? 'unknown'
  if (doc.software_version === '3.8.3' && typeof name === 'string' && name.startsWith('ooniprobe-android')) return failed(r)
  if (pyTruthy(tk.failure)) r.blocking = 1
  return r
}

function scoreWhatsapp(tk: Obj): Raw {
  const r = raw()
  if (hasUnknownFailure(tk)) r.accuracy = 0
  // OONI: a web failure of this form is a probe bug, judged no further.
  const wf = tk.whatsapp_web_failure
  if (typeof wf === 'string' && wf.includes("unknown_failure 'ascii' co")) return failed(r)
  const requests = arr(tk.requests)
  if (requests.length === 0) return failed(r)
  let web: boolean | null = null
  let registration: boolean | null = null
  for (const q of requests) {
    if (!isObj(q)) continue
    const url = isObj(q.request) ? q.request.url : undefined
    if (url === 'https://web.whatsapp.com/') web = q.failure === null || q.failure === '' || q.failure === false
    else if (url === 'https://v.whatsapp.net/v2/register') registration = (q.failure ?? null) === null
  }
  if (web === null || registration === null) return failed(r)
  if (!web || !registration) {
    r.blocking = 1
    return r
  }
  const { ok, bad } = tcpCounts(tk)
  if (ok === 0 && bad === 0) r.accuracy = 0
  else if (ok === 0) r.blocking = 1
  return r
}

function scoreFacebookMessenger(tk: Obj): Raw {
  const r = raw()
  const consistency = [
    'b_api_dns_consistent',
    'b_api_reachable',
    'b_graph_dns_consistent',
    'b_graph_reachable',
    'edge_dns_consistent',
    'edge_reachable',
    'external_cdn_dns_consistent',
    'external_cdn_reachable',
    'scontent_cdn_dns_consistent',
    'scontent_cdn_reachable',
    'star_dns_consistent',
    'star_reachable',
    'stun_dns_consistent'
  ]
  let s = 0
  for (const k of consistency) if (tk['facebook_' + k] === false) s += 0.5
  for (const k of ['facebook_tcp_blocking', 'facebook_dns_blocking']) if (tk[k] === true) s += 0.5
  r.blocking = s
  return r
}

function scoreTor(tk: Obj): Raw {
  const r = raw()
  const targets = tk.targets
  if (!isObj(targets) || Object.keys(targets).length === 0) return failed(r)
  let blocked = 0
  let ok = 0
  for (const d of Object.values(targets)) {
    if (!isObj(d) || !('failure' in d)) return failed(r)
    if (d.failure === null) ok++
    else if (d.failure !== false) blocked++
  }
  if (blocked + ok > 0) r.blocking = blocked / (blocked + ok)
  else r.accuracy = 0
  return r
}

function scoreVanillaTor(tk: Obj): Raw {
  const r = raw()
  const logs = tk.tor_logs ?? tk.tor_log
  if (logs === null || logs === undefined) return failed(r)
  const text = typeof logs === 'string' ? logs : JSON.stringify(logs)
  if (text.includes('Bootstrapped 100%: Done') || text.includes('Bootstrapped 100% (done): Done')) return r
  const progress = Math.min(100, Math.max(0, Number(tk.tor_progress ?? 0) || 0))
  if (progress < 100) r.blocking = 1 - progress * 0.004
  return r
}
