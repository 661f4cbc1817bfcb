/** The tls_handshake verdict: DNS, TCP, then TLS, against the control's same steps. */
import type { FingerprintDb } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import { arr, isObj } from './read.ts'
import { dnsFingerprints, dnsStep, stepControl, tcpStep, tlsStep, type DnsStepReason, type TcpStepReason, type TlsStepReason } from './steps.ts'
import { CONTROL_MISSING, verdict, type Verdict } from './types.ts'

/** Every reason the tls_handshake verdict gives (words: shared/src/nettests/tls-handshake.ts). */
export type TlsHandshakeReason = DnsStepReason | TcpStepReason | TlsStepReason | 'no_handshake' | 'control_failed' | 'ok'

export function judgeTlsHandshake(doc: Measurement, fp: FingerprintDb): Verdict<TlsHandshakeReason> | null {
  const tk = doc.test_keys
  if (!isObj(tk) || !Array.isArray(tk.tls_handshakes)) return null
  const ctl = stepControl(tk)
  const fps = dnsFingerprints(tk, fp)
  const decided = dnsStep(tk, ctl, doc.probe_cc, fps) ?? tcpStep(tk, ctl, fps) ?? tlsStep(tk, ctl, fps)
  if (decided !== null) return decided
  if (arr(tk.tls_handshakes).length === 0) return verdict(null, null, 'no_handshake', fps, 'unknown_failure: nothing was measured')
  if (!ctl.ok) return verdict(null, true, 'control_failed', fps, ctl.failure ?? CONTROL_MISSING)
  return verdict(false, true, 'ok', fps)
}
