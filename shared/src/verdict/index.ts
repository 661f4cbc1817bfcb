/**
 * verdictFor(doc, fp): the one verdict function. Pure: no I/O, no clock.
 * The probe calls it to show the user, the aggregator on ingest and on
 * rescore, so both reach the same answer from the stored document alone.
 *
 * See docs/methodology.md for the rules, step by step.
 */
import type { FingerprintDb } from '../fingerprints.ts'
import type { Measurement } from '../measurement.ts'
import { nettestFor } from '../nettests/index.ts'
import type { Verdict } from './types.ts'

export type { Verdict } from './types.ts'
export { judgeWebConnectivity, type WebAnalysis, type WebResult } from './web-connectivity.ts'

/** Whether verdictFor can judge a test: it is a registered nettest kind (shared/src/nettests). */
export function isJudged(testName: string): boolean {
  return nettestFor(testName) !== undefined
}

/**
 * Judges a stored measurement. Returns null when the test cannot be
 * re-judged: a test name we do not know, or an OONI test of the same name
 * whose test_keys have another shape (the legacy dns_consistency and
 * tcp_connect). A document of a known test with null test_keys gets a
 * verdict of blocking null with a failure.
 */
export function verdictFor(doc: Measurement, fp: FingerprintDb): Verdict | null {
  return nettestFor(doc.test_name)?.judge(doc, fp) ?? null
}
