/**
 * The words for the verdict reasons several kinds share (the steps of
 * shared/src/verdict/steps.ts and the outcomes every kind has), typed by
 * the steps' reason unions, for the kinds' modules to spread into their
 * own `reasons`.
 */
import type { DnsStepReason, TcpReason, TcpStepReason, TlsReason, TlsStepReason } from '../verdict/steps.ts'

/** Outcomes every kind can reach. */
export const OUTCOME_WORDS = {
  ok: 'every step worked as it did for the control',
  down: 'the step failed at the control too: the target is down, not blocked',
  control_failed: 'the control failed, so nothing could be compared'
} as const

export const DNS_STEP_WORDS: Record<DnsStepReason, string> = {
  down: OUTCOME_WORDS.down,
  dns_blockpage_fingerprint: 'the DNS answer is a known blockpage address',
  dns_bogon: "the DNS answer is a private (bogon) address while the control's is public",
  dns_nxdomain: 'the resolver said the name does not exist while the control resolved it',
  dns_no_answer: 'the resolver gave no address while the control resolved it',
  dns_failure: "the DNS lookup failed while the control's worked"
}

export const TCP_WORDS: Record<TcpReason, string> = {
  tcp_refused: 'the TCP connection was refused while the control connected',
  tcp_reset: 'the TCP connection was reset while the control connected',
  tcp_timeout: 'the TCP connection timed out while the control connected',
  tcp_failure: 'the TCP connection failed while the control connected',
  tcp_host_unreachable: 'a router answered that the host is unreachable (ICMP) while the control connected'
}

export const TCP_STEP_WORDS: Record<TcpStepReason, string> = {
  ...TCP_WORDS,
  down: OUTCOME_WORDS.down,
  control_failed: OUTCOME_WORDS.control_failed,
  probe_network_unreachable: "the probe's own network could reach no address at all (no route): nothing was measured"
}

export const TLS_WORDS: Record<TlsReason, string> = {
  tls_mitm: "the TLS certificate was not the site's (interception)",
  tls_reset: "the TLS handshake was reset while the control's succeeded",
  tls_timeout: "the TLS handshake timed out while the control's succeeded",
  tls_failure: "the TLS handshake failed while the control's succeeded",
  tls_sni_filtering: "the TLS handshake naming the site was cut, while one to the same address without a name, or with another name from the probe's list, got through: filtering by server name (SNI)",
  tls_address_filtering: "every TLS handshake to the site's address was cut, with its name, without one, and (when the probe had one) with another name from its list: filtering by address"
}

export const TLS_STEP_WORDS: Record<TlsStepReason, string> = {
  ...TLS_WORDS,
  down: OUTCOME_WORDS.down,
  control_failed: OUTCOME_WORDS.control_failed
}
