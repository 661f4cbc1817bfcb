/**
 * The registry of test kinds: one module per kind, looked up by test name.
 * Add a test kind by writing its module and listing it here.
 */
import type { TestModule } from './types.ts'
import dnsConsistency from './dns-consistency.ts'
import smsGateway from './sms-gateway.ts'
import tcpConnect from './tcp-connect.ts'
import tlsHandshake from './tls-handshake.ts'
import webConnectivity from './web-connectivity.ts'

const TESTS: ReadonlyMap<string, TestModule> = new Map([webConnectivity, dnsConsistency, tcpConnect, tlsHandshake, smsGateway].map(m => [m.testName, m]))

/** The module that runs a test, or undefined for a test name we do not run. */
export function testFor (testName: string): TestModule | undefined {
  return TESTS.get(testName)
}

/** The test names the probe runs. */
export const TEST_NAMES: readonly string[] = [...TESTS.keys()]
