/** The tcp_connect verdict: DNS, then TCP, against the control's same steps. */
import type { FingerprintDb } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import { arr, isObj, type Obj } from './read.ts'
import { dnsFingerprints, dnsStep, stepControl, tcpStep, type DnsStepReason, type TcpStepReason } from './steps.ts'
import { CONTROL_MISSING, verdict, type Verdict } from './types.ts'

/** True when test_keys have the shape our tcp_connect writes (OONI's legacy test does not). */
export const isOurTcpShape = (tk: unknown): tk is Obj => isObj(tk) && Array.isArray(tk.tcp_connect)

/** Every reason the tcp_connect verdict gives (words: shared/src/nettests/tcp-connect.ts). */
export type TcpConnectReason = DnsStepReason | TcpStepReason | 'no_connect' | 'control_failed' | 'ok'

export function judgeTcpConnect(doc: Measurement, fp: FingerprintDb): Verdict<TcpConnectReason> | null {
  const tk = doc.test_keys
  if (!isOurTcpShape(tk)) return null
  const ctl = stepControl(tk)
  const fps = dnsFingerprints(tk, fp)
  const decided = dnsStep(tk, ctl, doc.probe_cc, fps) ?? tcpStep(tk, ctl, fps)
  if (decided !== null) return decided
  if (arr(tk.tcp_connect).length === 0) return verdict(null, null, 'no_connect', fps, 'unknown_failure: nothing was measured')
  if (!ctl.ok) return verdict(null, true, 'control_failed', fps, ctl.failure ?? CONTROL_MISSING)
  return verdict(false, true, 'ok', fps)
}
