/**
 * The sms_gateway verdict. SMPP: DNS, TCP, (TLS), then the bind: any bind
 * reply, even one with an error status, proves the gateway answered. HTTP
 * SMS API: DNS, TCP, TLS, then the request: an answer with the control's
 * status code (often a 401) proves the gateway itself replied.
 */
import { confirmsCensorship, matchHttpResponse, type FingerprintDb } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import { arr, failureOf, headersOf, isObj, maybeBinary, num, obj } from './read.ts'
import { dnsFingerprints, dnsStep, stepControl, tcpStep, tlsStep, type DnsStepReason, type TcpStepReason, type TlsStepReason } from './steps.ts'
import { CONTROL_MISSING, verdict, type Verdict } from './types.ts'

/** Every reason the sms_gateway verdict gives (words: shared/src/nettests/sms-gateway.ts). */
export type SmsGatewayReason =
  | DnsStepReason
  | TcpStepReason
  | TlsStepReason
  | 'ok'
  | 'control_failed'
  | 'down'
  | 'smpp_reset'
  | 'smpp_no_reply'
  | 'http_blockpage_fingerprint'
  | 'http_failure'
  | 'http_status_differs'

export function judgeSmsGateway(doc: Measurement, fp: FingerprintDb): Verdict<SmsGatewayReason> | null {
  const tk = doc.test_keys
  if (!isObj(tk)) return null
  const ctl = stepControl(tk)
  const fps = dnsFingerprints(tk, fp)
  const decided = dnsStep(tk, ctl, doc.probe_cc, fps) ?? tcpStep(tk, ctl, fps) ?? tlsStep(tk, ctl, fps)
  if (decided !== null) return decided

  if (tk.kind === 'smpp') {
    const smpp = obj(tk.smpp)
    const answered = smpp.bind_replied === true
    if (answered) return verdict(false, true, 'ok', fps)
    const failure = failureOf(smpp.failure)
    if (!ctl.ok) return verdict(null, null, 'control_failed', fps, ctl.failure ?? CONTROL_MISSING)
    const controlAnswered = obj(ctl.raw.smpp).bind_replied === true
    if (!controlAnswered) return verdict(false, false, 'down', fps, failure)
    // The TCP connection opened but the gateway never answered the bind:
    // something on the path cut the stream.
    return verdict('tcp_ip', false, failure === 'connection_reset' ? 'smpp_reset' : 'smpp_no_reply', fps, failure)
  }

  // HTTP SMS API.
  const requests = arr(tk.requests).map(obj)
  const final = requests[0]
  const response = final === undefined ? null : obj(final.response)
  const code = response === null ? null : num(response.code)
  for (const r of requests) {
    const res = obj(r.response)
    for (const m of matchHttpResponse(fp, { body: maybeBinary(res.body), headers: headersOf(res) })) fps.push(m)
  }
  if (fps.some(m => m.location_found !== 'dns' && confirmsCensorship(m, doc.probe_cc))) return verdict('http-diff', false, 'http_blockpage_fingerprint', fps)
  const failure = failureOf(tk.http_experiment_failure) ?? (final === undefined ? null : failureOf(final.failure))
  if (!ctl.ok) return verdict(null, code !== null && code > 0 ? true : null, 'control_failed', fps, ctl.failure ?? CONTROL_MISSING)
  const ctlHttp = obj(ctl.raw.http_request)
  const ctlCode = num(ctlHttp.status_code) ?? 0
  const controlOk = failureOf(ctlHttp.failure) === null && ctlCode > 0
  if (code === null || code <= 0 || failure !== null) {
    if (!controlOk) return verdict(false, false, 'down', fps, failure)
    return verdict('http-failure', false, 'http_failure', fps, failure)
  }
  if (!controlOk || code === ctlCode) return verdict(false, true, 'ok', fps)
  return verdict('http-diff', false, 'http_status_differs', fps)
}
