/**
 * What a nettest kind declares, in one module per kind
 * (shared/src/nettests/<kind>.ts, listed in ./index.ts): everything about it
 * that both sides read, pure (no I/O). The probe's runner of the kind sits in
 * probe/src/nettests/<kind>.ts. CONTRIBUTING.md walks through adding one.
 */
import type { TSchema } from '@sinclair/typebox'
import type { FingerprintDb } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import type { Verdict } from '../verdict/types.ts'

/**
 * What the control vantage measures for a target of one scheme
 * (aggregator/src/control/measure.ts): DNS always, then TCP to every
 * address, TLS with SNI when `tls`, then an HTTP GET or an SMPP bind.
 */
export interface ControlPlan {
  /** The port when the URL names none; null: the URL must carry one. */
  defaultPort: number | null
  /** False: DNS only. */
  tcp: boolean
  tls: boolean
  /** A GET of the URL `url(input)` gives, following up to `maxRedirects`; a redirect past them counts as an answer when `redirectIsAnswer`. */
  http?: { maxRedirects: number; redirectIsAnswer: boolean; url: (input: string) => string }
  /** An SMPP bind_transceiver (shared/src/netx/smpp.ts). */
  smpp?: boolean
}

/** How a simulated probe's measurement went (aggregator/src/simulate). */
export type SimOutcome = { kind: 'ok' } | { kind: 'fp' } | { kind: 'blocked'; technique: SimTechnique; blockpage_ip?: string } | { kind: 'outage' }

/** How a simulated episode blocks its targets, as the probe would see it. */
export const SIM_TECHNIQUES = ['dns', 'dns_blockpage', 'tcp_ip', 'tls', 'http-failure', 'http_blockpage', 'down'] as const
export type SimTechnique = (typeof SIM_TECHNIQUES)[number]

/** The simulator's document of a kind: the version it claims and its test_keys. */
export interface SimDoc {
  testVersion: string
  testKeys: (input: string, outcome: SimOutcome) => Record<string, unknown>
}

/**
 * One nettest kind. `R` is its closed union of verdict reasons: `judge`
 * may give no other, and `reasons` must put each in words (the dashboard's
 * explainer shows them; docs/methodology.md lists them), or tsc fails.
 */
export interface NettestKind<R extends string = string> {
  /** test_name, snake_case. */
  name: string
  /** test_version; bump it whenever what is measured changes. */
  version: string
  /** The target-list schemes it measures ("https:"), each with what the control does for it. */
  schemes: Readonly<Record<string, ControlPlan>>
  /** The JSON Schema of its test_keys, checked at ingest for documents of our probe: a getter building it on first read (`lazy`, ../typebox.ts), so the probe, which never validates, does not load TypeBox. */
  testKeysSchema: TSchema
  /** The verdict: pure, from the stored document alone; null when it cannot judge the document's shape. */
  judge: (doc: Measurement, fp: FingerprintDb) => Verdict<R> | null
  /** Every reason `judge` gives, in words. */
  reasons: Readonly<Record<R, string>>
  /** The simulator's document, for kinds the simulator makes. */
  simulate?: SimDoc
}

/** Declares a kind; the identity, there to infer `R` from `judge` and check `reasons` against it. */
export function defineNettest<R extends string>(kind: NettestKind<R>): NettestKind<R> {
  return Object.freeze(kind)
}
