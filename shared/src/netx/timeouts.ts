/**
 * The per-phase timeouts of the network steps, one set for both vantages:
 * the probe's nettests and the aggregator's control take the same steps
 * under the same limits, so that a step timing out at one and not at the
 * other says something about the network, not about our settings.
 */

/** Per-phase timeouts, in ms. */
export interface StepTimeouts {
  /** One DNS query. Default 4000. */
  dnsMs: number
  /** One TCP connect. Default 5000. */
  connectMs: number
  /** One TLS handshake. Default 5000. */
  tlsMs: number
  /** From request sent to the response headers. Default 10000. */
  firstByteMs: number
  /** The whole body, after the headers. Default 15000. */
  bodyMs: number
  /** One SMPP request/response. Default 5000. */
  smppMs: number
}

/** The defaults of both vantages. */
export const DEFAULT_STEP_TIMEOUTS: Readonly<StepTimeouts> = Object.freeze({
  dnsMs: 4000,
  connectMs: 5000,
  tlsMs: 5000,
  firstByteMs: 10_000,
  bodyMs: 15_000,
  smppMs: 5000
})
