/**
 * The registry of nettest kinds: one module per kind (./<kind>.ts), listed
 * here. Everything that depends on the kinds reads it: the target schemes
 * (shared/src/target.ts), the test_keys schemas checked at ingest, the
 * verdict (shared/src/verdict), scoring, the control vantage's plan, the
 * simulator's documents and the explainer's words. CONTRIBUTING.md tells
 * how to add a kind.
 */
import type { TSchema } from '@sinclair/typebox'
import type { TypeCheck } from '@sinclair/typebox/compiler'
import { TypeCompiler } from '../typebox.ts'
import { OONI_TEST_NAMES } from '../measurement.ts'
import dnsConsistency from './dns-consistency.ts'
import type { ControlPlan, NettestKind } from './kind.ts'
import smsGateway from './sms-gateway.ts'
import tcpConnect from './tcp-connect.ts'
import tlsHandshake from './tls-handshake.ts'
import webConnectivity from './web-connectivity.ts'

export { WebConnectivityKeys } from './web-connectivity.ts'
export { DnsConsistencyKeys } from './dns-consistency.ts'
export { TcpConnectKeys } from './tcp-connect.ts'
export { TlsHandshakeKeys } from './tls-handshake.ts'
export { SmsGatewayKeys } from './sms-gateway.ts'
export type { NettestKind, ControlPlan } from './kind.ts'

const KINDS = new Map<string, NettestKind>()
const SCHEMES = new Map<string, NettestKind>()
const checkers = new Map<string, TypeCheck<TSchema>>()

/**
 * Adds a kind to the registry. Throws when its name or one of its schemes
 * is taken already. The built-in kinds are registered below; a test may
 * register a throw-away one.
 */
export function registerNettest(kind: NettestKind): void {
  if (KINDS.has(kind.name)) throw new Error(`nettest ${kind.name} is registered already`)
  for (const s of Object.keys(kind.schemes)) {
    const other = SCHEMES.get(s)
    if (other !== undefined) throw new Error(`scheme ${s} of ${kind.name} is measured by ${other.name} already`)
  }
  KINDS.set(kind.name, kind)
  for (const s of Object.keys(kind.schemes)) SCHEMES.set(s, kind)
}

for (const kind of [webConnectivity, dnsConsistency, tcpConnect, tlsHandshake, smsGateway]) registerNettest(kind as NettestKind)

/** The kind of a test name, or undefined for one we do not run. */
export function nettestFor(testName: string): NettestKind | undefined {
  return KINDS.get(testName)
}

/** Every registered kind, in registration order. */
export function nettests(): NettestKind[] {
  return [...KINDS.values()]
}

/** The kind that measures a target-list scheme ("https:"), and what the control does for it. */
export function nettestForScheme(scheme: string): { kind: NettestKind; plan: ControlPlan } | undefined {
  const kind = SCHEMES.get(scheme.toLowerCase())
  return kind === undefined ? undefined : { kind, plan: kind.schemes[scheme.toLowerCase()] }
}

/** Every scheme a target list may use. */
export function knownSchemes(): string[] {
  return [...SCHEMES.keys()]
}

/** Whether ingest accepts a test name: one of our kinds, or one of OONI's nettests. */
export function isKnownTestName(testName: string): boolean {
  return KINDS.has(testName) || (OONI_TEST_NAMES as readonly string[]).includes(testName)
}

/** Every kind's reasons in words: what the dashboard's explainer shows. */
export function reasonWords(): Map<string, string> {
  const out = new Map<string, string>()
  for (const kind of KINDS.values()) for (const [r, w] of Object.entries<string>(kind.reasons)) if (!out.has(r)) out.set(r, w)
  return out
}

/**
 * Validates the test_keys of one of our kinds. Returns the problems (at
 * most five, "field: message"), or an empty array; null for a test name we
 * have no kind for.
 */
export function validateTestKeys(testName: string, testKeys: unknown): string[] | null {
  const kind = KINDS.get(testName)
  if (kind === undefined) return null
  let c = checkers.get(testName)
  if (c === undefined) {
    c = TypeCompiler.Compile(kind.testKeysSchema)
    checkers.set(testName, c)
  }
  if (c.Check(testKeys)) return []
  const out: string[] = []
  for (const e of c.Errors(testKeys)) {
    out.push(`${e.path.replace(/^\//, '') || 'test_keys'}: ${e.message}`)
    if (out.length >= 5) break
  }
  return out
}
