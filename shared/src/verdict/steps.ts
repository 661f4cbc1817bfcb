/**
 * The step-by-step verdict shared by tcp_connect, tls_handshake and
 * sms_gateway: the first step (DNS, TCP, TLS) that failed at the probe while
 * the control's same step succeeded names the technique; a step that failed
 * at both means the target is down.
 */
import { confirmsCensorship, matchDnsAnswer, type FingerprintDb, type FingerprintMatch } from '../fingerprints.ts'
import { isBogon, isIPAddress } from './ip.ts'
import { answersOf, arr, failureOf, ipsOnly, isObj, num, obj, queriesFailure, str, type Obj } from './read.ts'
import { CONTROL_MISSING, verdict, type Verdict } from './types.ts'

/** The control's answer for the step-by-step tests. */
export interface StepControl {
  ok: boolean
  failure: string | null
  addrs: string[]
  dnsFailure: string | null
  tcp: Map<string, boolean>
  tls: Map<string, boolean>
  raw: Obj
}

export function stepControl(tk: Obj): StepControl {
  const control = obj(tk.control)
  const failure = failureOf(tk.control_failure)
  const dns = obj(control.dns)
  const tcp = new Map<string, boolean>()
  for (const [k, v] of Object.entries(obj(control.tcp_connect))) tcp.set(k, obj(v).status === true)
  const tls = new Map<string, boolean>()
  for (const [k, v] of Object.entries(obj(control.tls_handshake))) tls.set(k, obj(v).status === true)
  return {
    ok: failure === null && isObj(tk.control) && Object.keys(control).length > 0,
    failure,
    addrs: ipsOnly(dns.addrs),
    dnsFailure: failureOf(dns.failure),
    tcp,
    tls,
    raw: control
  }
}

/** The DNS fingerprints matched by the document's answers. */
export function dnsFingerprints(tk: Obj, fp: FingerprintDb): FingerprintMatch[] {
  const out: FingerprintMatch[] = []
  for (const a of answersOf(tk.queries)) {
    const m = matchDnsAnswer(fp, a.ip)
    if (m !== null) out.push(m)
  }
  return out
}

/** A step's verdict when it decides, or null when the step passed and the next one must be judged. */
export type StepResult<R extends string = string> = Verdict<R> | null

/** The reasons the DNS step can give. */
export type DnsStepReason = 'dns_blockpage_fingerprint' | 'down' | 'dns_nxdomain' | 'dns_no_answer' | 'dns_failure' | 'dns_bogon'
/** The reason labels of a failed TCP connect. */
export type TcpReason = 'tcp_refused' | 'tcp_reset' | 'tcp_timeout' | 'tcp_host_unreachable' | 'tcp_failure'
/** The reasons the TCP step can give. */
export type TcpStepReason = TcpReason | 'probe_network_unreachable' | 'control_failed' | 'down'
/** The reason labels of a failed TLS handshake. */
export type TlsReason = 'tls_sni_filtering' | 'tls_address_filtering' | 'tls_mitm' | 'tls_reset' | 'tls_timeout' | 'tls_failure'
/** The reasons the TLS step can give. */
export type TlsStepReason = TlsReason | 'control_failed' | 'down'

/**
 * The DNS step. A literal IP target has no DNS step. Fingerprints win;
 * otherwise the probe's failure or bogon answer counts only against a
 * control that resolved (and, for bogons, holds no bogon itself).
 */
export function dnsStep(tk: Obj, ctl: StepControl, cc: string, fingerprints: FingerprintMatch[]): StepResult<DnsStepReason> {
  if (arr(tk.queries).length === 0) return null
  const claim = fingerprints.find(m => confirmsCensorship(m, cc))
  if (claim !== undefined) return verdict('dns', false, 'dns_blockpage_fingerprint', fingerprints)
  if (!ctl.ok) return null
  const answers = answersOf(tk.queries).map(a => a.ip)
  const failure = failureOf(tk.dns_experiment_failure) ?? queriesFailure(tk.queries)
  if (answers.length === 0) {
    if (ctl.addrs.length === 0) return verdict(false, false, 'down', fingerprints, failure ?? ctl.dnsFailure)
    return verdict('dns', false, failure === 'dns_nxdomain_error' ? 'dns_nxdomain' : failure === null ? 'dns_no_answer' : 'dns_failure', fingerprints, failure ?? 'dns_no_answer')
  }
  if (answers.some(isBogon) && ctl.addrs.length > 0 && !ctl.addrs.some(isBogon)) {
    return verdict('dns', false, 'dns_bogon', fingerprints, 'dns_bogon_error')
  }
  return null
}

/** One TCP connect attempt as recorded. */
export interface Connect {
  key: string
  ok: boolean
  failure: string | null
}

export function connectsOf(tk: Obj): Connect[] {
  return arr(tk.tcp_connect).map(c => {
    const o = obj(c)
    const ip = str(o.ip) ?? ''
    const key = ip.includes(':') ? `[${ip}]:${num(o.port)}` : `${ip}:${num(o.port)}`
    const status = obj(o.status)
    return { key, ok: status.success === true, failure: failureOf(status.failure) }
  })
}

/** The TCP step: every connect failed → tcp_ip when the control connected, down when it did not. */
export function tcpStep(tk: Obj, ctl: StepControl, fingerprints: FingerprintMatch[]): StepResult<TcpStepReason> {
  const connects = connectsOf(tk)
  if (connects.length === 0 || connects.some(c => c.ok)) return null
  const failure = connects[0].failure
  if (connects.every(c => c.failure === 'network_unreachable')) return verdict(null, null, 'probe_network_unreachable', fingerprints, failure)
  if (!ctl.ok) return verdict(null, false, 'control_failed', fingerprints, ctl.failure ?? CONTROL_MISSING)
  const controlConnected = [...ctl.tcp.values()].some(Boolean)
  if (!controlConnected) return verdict(false, false, 'down', fingerprints, failure)
  return verdict('tcp_ip', false, tcpReason(failure), fingerprints, failure)
}

/**
 * The reason label of a TCP connect failure. Only a timeout is called one:
 * an ICMP host-unreachable (a router's answer) is not silence.
 */
export function tcpReason(failure: string | null): TcpReason {
  switch (failure) {
    case 'connection_refused':
      return 'tcp_refused'
    case 'connection_reset':
      return 'tcp_reset'
    case 'generic_timeout_error':
      return 'tcp_timeout'
    case 'host_unreachable':
      return 'tcp_host_unreachable'
    default:
      return 'tcp_failure'
  }
}

/** The failures that mean a TLS handshake was cut on the path, not refused by a certificate or an alert. */
export const CUT_TLS_FAILURES: ReadonlySet<string> = new Set(['connection_reset', 'generic_timeout_error', 'eof_error', 'connection_aborted'])

/** How one follow-up handshake went: through to the server, cut on the path, or nothing learned. */
function followupOutcome(f: Obj): 'through' | 'cut' | null {
  if (f.operation !== 'tls_handshake') return null
  const failure = failureOf(f.failure)
  if (failure === null || failure.startsWith('ssl_')) return 'through'
  if (CUT_TLS_FAILURES.has(failure)) return 'cut'
  return null
}

/**
 * What the probe's follow-up handshakes to the address of a cut handshake
 * (probe/src/nettests/sni-followup.ts) say about it. A follow-up got
 * "through" when it completed or the server itself answered it with a TLS
 * alert (ssl_*: the ClientHello reached the server); it was "cut" when it
 * was reset, timed out or closed like the first.
 * 1. test_keys.x_sni_followup, no SNI at all: through → "sni" (TLS
 *    reaches the address, so the name was filtered).
 * 2. It was cut: many servers refuse a ClientHello without SNI themselves,
 *    so the probe tried another name from its own list
 *    (test_keys.x_sni_followup_name): through → "sni"; cut → "address".
 * 3. Cut, and no second follow-up (no other name, or an older probe):
 *    "address", the reading of the first follow-up alone.
 * null: no follow-up, or its TCP connect failed (nothing learned).
 */
export function tlsFiltering(tk: Obj): 'sni' | 'address' | null {
  if (!isObj(tk.x_sni_followup)) return null
  const first = followupOutcome(tk.x_sni_followup)
  if (first !== 'cut') return first === 'through' ? 'sni' : null
  const second = isObj(tk.x_sni_followup_name) ? followupOutcome(tk.x_sni_followup_name) : null
  return second === 'through' ? 'sni' : 'address'
}

/**
 * The reason label of a TLS handshake failure: a certificate that is not
 * the site's is interception; a handshake cut on the path is named by what
 * the follow-ups (without SNI, then with another listed name) showed.
 */
export function tlsReason(failure: string | null, filtering: 'sni' | 'address' | null = null): TlsReason {
  if (filtering === 'sni') return 'tls_sni_filtering'
  if (filtering === 'address') return 'tls_address_filtering'
  switch (failure) {
    case 'ssl_invalid_hostname':
    case 'ssl_unknown_authority':
    case 'ssl_invalid_certificate':
      return 'tls_mitm'
    case 'connection_reset':
      return 'tls_reset'
    case 'generic_timeout_error':
      return 'tls_timeout'
    default:
      return 'tls_failure'
  }
}

/** The TLS step: every handshake failed → tls when the control's succeeded, down when it did not. */
export function tlsStep(tk: Obj, ctl: StepControl, fingerprints: FingerprintMatch[]): StepResult<TlsStepReason> {
  const handshakes = arr(tk.tls_handshakes).map(h => failureOf(obj(h).failure))
  if (handshakes.length === 0 || handshakes.some(f => f === null)) return null
  const failure = handshakes[0]
  if (!ctl.ok) return verdict(null, false, 'control_failed', fingerprints, ctl.failure ?? CONTROL_MISSING)
  if (![...ctl.tls.values()].some(Boolean)) return verdict(false, false, 'down', fingerprints, failure)
  return verdict('tls', false, tlsReason(failure, tlsFiltering(tk)), fingerprints, failure)
}

/** True when a target host is a literal address (no DNS step). */
export const isLiteral = (host: string): boolean => isIPAddress(host)
