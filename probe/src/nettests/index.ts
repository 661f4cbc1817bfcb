/**
 * The probe's registry of nettest runners: one module per kind
 * (./<kind>.ts, the probe's half; the declaration is
 * shared/src/nettests/<kind>.ts), looked up by test name. Add a kind by
 * writing both halves and listing each in its registry (CONTRIBUTING.md).
 */
import type { NettestRunner } from './types.ts'
import dnsConsistency from './dns-consistency.ts'
import smsGateway from './sms-gateway.ts'
import tcpConnect from './tcp-connect.ts'
import tlsHandshake from './tls-handshake.ts'
import webConnectivity from './web-connectivity.ts'

const RUNNERS = new Map<string, NettestRunner>()

/** Adds a runner. Throws when its kind's name has one already. */
export function registerRunner(runner: NettestRunner): void {
  if (RUNNERS.has(runner.kind.name)) throw new Error(`a runner for ${runner.kind.name} is registered already`)
  RUNNERS.set(runner.kind.name, runner)
}

for (const r of [webConnectivity, dnsConsistency, tcpConnect, tlsHandshake, smsGateway]) registerRunner(r)

/** The runner of a test, or undefined for a test name we do not run. */
export function testFor(testName: string): NettestRunner | undefined {
  return RUNNERS.get(testName)
}

/** The test names the probe runs. */
export function testNames(): string[] {
  return [...RUNNERS.keys()]
}
