/**
 * verdictFor(doc, fp): the one verdict function. Pure: no I/O, no clock.
 * The probe calls it to show the user, the aggregator on ingest and on
 * rescore, so both reach the same answer from the stored document alone.
 *
 * See docs/methodology.md for the rules, step by step.
 */
import type { FingerprintDb } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import { judgeDnsConsistency } from './dns-consistency.ts'
import { judgeSmsGateway } from './sms-gateway.ts'
import { judgeTcpConnect } from './tcp-connect.ts'
import { judgeTlsHandshake } from './tls-handshake.ts'
import { judgeWebConnectivity } from './web-connectivity.ts'
import type { Verdict } from './types.ts'

export type { Verdict } from './types.ts'
export { judgeWebConnectivity, type WebAnalysis, type WebResult } from './web-connectivity.ts'

/** The tests verdictFor can judge. */
export const JUDGED_TESTS: ReadonlySet<string> = new Set(['web_connectivity', 'dns_consistency', 'tcp_connect', 'tls_handshake', 'sms_gateway'])

/**
 * Judges a stored measurement. Returns null when the test cannot be
 * re-judged: a test name we do not know, or an OONI test of the same name
 * whose test_keys have another shape (the legacy dns_consistency and
 * tcp_connect). A document of a known test with null test_keys gets a
 * verdict of blocking null with a failure.
 */
export function verdictFor (doc: Measurement, fp: FingerprintDb): Verdict | null {
  switch (doc.test_name) {
    case 'web_connectivity': return judgeWebConnectivity(doc, fp).verdict
    case 'dns_consistency': return judgeDnsConsistency(doc, fp)
    case 'tcp_connect': return judgeTcpConnect(doc, fp)
    case 'tls_handshake': return judgeTlsHandshake(doc, fp)
    case 'sms_gateway': return judgeSmsGateway(doc, fp)
    default: return null
  }
}
