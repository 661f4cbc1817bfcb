/**
 * The contract of a nettest runner, the probe's half of a kind (the
 * other half, its declaration, is shared/src/nettests/<kind>.ts). A runner
 * runs the network, records observations in its test_keys, and stops: the
 * verdict is computed afterwards by the kind's judge from the stored document.
 *
 * run() resolves whether the target was reachable or not: a blocked target
 * is data, not an exception. It rejects only when it could not run at all
 * (bad input), and then the engine records an `unknown_failure`.
 */
import type { NettestKind } from '../../../shared/src/nettests/kind.ts'
import type { Target } from '../../../shared/src/target-list.ts'
import type { ControlRequest, ControlResult } from '../control-client.ts'
import type { ResolverAddress } from '../../../shared/src/netx/dns.ts'
import { DEFAULT_STEP_TIMEOUTS, type StepTimeouts } from '../../../shared/src/netx/timeouts.ts'

/** Per-phase timeouts, in ms: the steps' (shared with the control) and the control's answer. */
export interface Timeouts extends StepTimeouts {
  /** The control's answer. Default 60000. */
  controlMs: number
}

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({ ...DEFAULT_STEP_TIMEOUTS, controlMs: 60_000 })

/** An extra resolver for dns_consistency. */
export type ResolverSpec = { kind: 'udp' | 'tcp'; address: ResolverAddress } | { kind: 'doh'; url: string }

/** What a test gets from the engine. */
export interface TestContext {
  target: Target
  /** Date.now() when the test started (for the `t` fields). */
  startedAt: number
  /** The resolver used for every lookup ("system": /etc/resolv.conf or --resolver). */
  resolver: ResolverAddress
  /** Extra resolvers for dns_consistency. */
  resolvers: ResolverSpec[]
  /** Trusted CAs (system roots + extra), or undefined for the system's. */
  ca: string[] | undefined
  timeouts: Readonly<Timeouts>
  /** How long a UDP DNS socket keeps listening after the first reply, in ms. */
  duplicateWindowMs: number
  signal: AbortSignal
  /** Asks the control; resolves with its failure when there is no control. */
  control: (req: ControlRequest) => Promise<ControlResult>
  /**
   * Another host name from the run's own list for a handshake to `host`'s
   * address (the second SNI follow-up, ./sni-followup.ts), or null when the
   * list gave none. Absent: no second follow-up.
   */
  otherName?: (host: string) => { name: string; source: 'tls_ok' | 'list' } | null
}

/** The probe's runner of a nettest kind. */
export interface NettestRunner {
  /** The kind's declaration (name, version, schemes, schema, verdict). */
  kind: NettestKind
  /** Runs the test; resolves with the test_keys (without the verdict keys). */
  run: (ctx: TestContext) => Promise<Record<string, unknown>>
}
