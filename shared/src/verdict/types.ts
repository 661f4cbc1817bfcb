/** The verdict every test reaches: OONI's vocabulary plus the evidence behind it. */
import type { FingerprintMatch } from '../fingerprints.ts'
import type { BlockingValue } from '../measurement.ts'

/**
 * A verdict on one measurement.
 * - `blocking`: false, the technique seen ("dns", "tcp_ip", "tls",
 *   "http-failure", "http-diff"), or null when the measurement cannot tell.
 * - `accessible`: whether the target worked from the probe's network.
 * - `fingerprints`: every fingerprint that matched, censorship claims and
 *   known false positives (scope `fp`) alike.
 * - `failure`: the failure string of the step that decided, if one failed.
 * - `reason`: a label for what was seen (`dns_nxdomain`, `tcp_reset`,
 *   `http_blockpage`, `down`, `control_failed` …), see docs/methodology.md.
 */
export interface Verdict<R extends string = string> {
  blocking: BlockingValue
  accessible: boolean | null
  fingerprints: FingerprintMatch[]
  failure?: string | null
  /** One of the kind's closed list of reasons (its module in shared/src/nettests). */
  reason?: R
}

/** Builds a verdict; `failure` defaults to null. The reason's literal type is kept. */
export function verdict<R extends string>(blocking: BlockingValue, accessible: boolean | null, reason: R, fingerprints: FingerprintMatch[], failure: string | null = null): Verdict<R> {
  return { blocking, accessible, fingerprints, failure, reason }
}

/** The failure string used when a document has no control answer at all. */
export const CONTROL_MISSING = 'control_missing'
