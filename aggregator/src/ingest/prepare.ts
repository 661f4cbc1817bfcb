/**
 * From one uploaded document to a row ready to store, or to the reason it is
 * refused. Each document is judged on its own, so that a bad one never
 * blocks the good ones beside it.
 */
import { isKnownTestName } from '../../../shared/src/nettests/index.ts'
import { SCRUBBED_PROBE_IP, validateMeasurement, type Measurement } from '../../../shared/src/measurement.ts'
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { SCORING_VERSION, scoreMeasurement, type Score } from '../../../shared/src/scoring.ts'
import { domainOf } from '../../../shared/src/target.ts'
import { parseOoniTime } from '../../../shared/src/time.ts'
import { contentUid } from '../../../shared/src/uid.ts'
import type { MeasurementRow } from '../store/measurements.ts'

/** How far ahead of the server's clock a measurement may be dated. */
export const MAX_FUTURE_MS = 24 * 3600 * 1000 // one day

/** The earliest measurement_start_time accepted (2000-01-01). */
export const MIN_START_MS = Date.UTC(2000, 0, 1)

/** What a measurement_uid may hold: visible ASCII (OONI's uids, UUIDs and content uids all fit). */
const UID_PATTERN = /^[\x21-\x7e]{1,128}$/

const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(0000|d[89a-f][0-9a-f]{2})/

/** How deep a document's objects and arrays may nest. OONI's deepest documents nest about 8 levels. */
export const MAX_NESTING_DEPTH = 64

/** The nesting depth of a JSON value, computed without recursion; stops counting past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (d + 1 > max) max = d + 1
    if (max > limit) return max
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1])
  }
  return max
}

/** Why a document was refused: the reason names the field, and a short kind counts it in /metrics. */
export interface Refusal {
  error: string
  reason: string
  measurement_uid: string | null
}

/** What prepare() needs besides the document. */
export interface PrepareContext {
  fingerprints: FingerprintDb
  /** The server's clock reading (ms). */
  nowMs: number
  /** Set when a probe's token uploads: documents must carry this probe_id. */
  probeId?: string
}

/**
 * Validates, scrubs, identifies and judges one document: one call of the
 * shared verdict code (scoreMeasurement) gives every verdict column stored. Documents without a
 * measurement_uid get one derived from their content, so that importing the
 * same file twice stores nothing twice.
 */
export function prepareMeasurement(input: unknown, ctx: PrepareContext): { row: MeasurementRow } | { refusal: Refusal } {
  const uidOf = (v: unknown): string | null => {
    if (v === null || typeof v !== 'object') return null
    const u = (v as { measurement_uid?: unknown }).measurement_uid
    return typeof u === 'string' ? u : null
  }
  const refuse = (reason: string, error: string): { refusal: Refusal } => ({ refusal: { error, reason, measurement_uid: uidOf(input) } })
  // Before anything recursive (validation, scoring, JSON.stringify) walks it:
  // a document nested 100,000 deep overflows the stack (issue 9, ingest fuzzing).
  if (nestingDepth(input, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH) {
    return refuse('too_deep', `document: nested more than ${MAX_NESTING_DEPTH} levels deep`)
  }
  const issues = validateMeasurement(input)
  if (issues.length > 0) return refuse(issues[0].field === '' ? 'not_an_object' : 'invalid_field', issues.map(i => i.message).join('; '))
  const doc = input as Measurement
  if (!isKnownTestName(doc.test_name)) {
    return refuse('unknown_test_name', `test_name: ${JSON.stringify(doc.test_name.slice(0, 64))} is neither one of blockwatch's tests nor one of OONI's nettests`)
  }
  if (typeof doc.measurement_uid === 'string' && doc.measurement_uid !== '' && !UID_PATTERN.test(doc.measurement_uid)) {
    // The uid is the idempotency key, compared byte for byte across drivers and
    // put in URLs: a BOM or a space in it was silently lost (issue 9, ingest fuzzing).
    return refuse('invalid_field', `measurement_uid: only visible ASCII characters, at most 128 (got ${JSON.stringify(doc.measurement_uid.slice(0, 64))})`)
  }
  const start = parseOoniTime(doc.measurement_start_time)
  if (start === null) return refuse('invalid_field', `measurement_start_time: not a date (got ${JSON.stringify(doc.measurement_start_time)})`)
  if (start.getTime() < MIN_START_MS) {
    // Each month stored is a partition: dates from centuries ago would let one
    // token create thousands of tables (and year 0 is not a date PostgreSQL takes).
    return refuse('too_old', `measurement_start_time: ${doc.measurement_start_time} is before ${new Date(MIN_START_MS).toISOString().slice(0, 10)}, earlier than any network measurement`)
  }
  if (start.getTime() > ctx.nowMs + MAX_FUTURE_MS) {
    return refuse('future_date', `measurement_start_time: ${doc.measurement_start_time} is more than a day ahead of the server's clock (${new Date(ctx.nowMs).toISOString()}); fix the probe's clock`)
  }
  if (ctx.probeId !== undefined && doc.probe_id !== ctx.probeId) {
    return refuse('wrong_probe', `probe_id: this token uploads only probe ${ctx.probeId}'s measurements (got ${JSON.stringify(doc.probe_id ?? null)})`)
  }
  // The probe's address is never kept, whatever the document says.
  const scrubbed: Record<string, unknown> = { ...doc, probe_ip: SCRUBBED_PROBE_IP }
  const uid = typeof doc.measurement_uid === 'string' && doc.measurement_uid !== '' ? doc.measurement_uid : contentUid(scrubbed)
  scrubbed.measurement_uid = uid
  const docJson = JSON.stringify(scrubbed)
  // jsonb cannot hold U+0000 nor a lone UTF-16 surrogate; refusing the one
  // document keeps the batch alive. JSON.stringify writes both as \\u escapes;
  // an escape counts only after an even number of backslashes, so that a
  // page's text "\\u0000" (escaped again as \\\\u0000) is kept.
  const bad = UNSTORABLE_ESCAPE.exec(docJson)
  if (bad !== null) {
    return bad[1] === '0000'
      ? refuse('nul_character', 'document: contains a NUL character (\\u0000), which the database cannot store')
      : refuse('lone_surrogate', `document: contains a lone UTF-16 surrogate (\\u${bad[1]}), which is not valid Unicode`)
  }
  const score = scoreMeasurement(scrubbed as Measurement, ctx.fingerprints)
  const annotations = (doc.annotations ?? {}) as Record<string, unknown>
  const category =
    typeof (doc as Record<string, unknown>).category_code === 'string'
      ? ((doc as Record<string, unknown>).category_code as string)
      : typeof annotations.category_code === 'string'
        ? annotations.category_code
        : null
  return {
    row: {
      measurement_uid: uid,
      measurement_start_time: start,
      report_id: doc.report_id ?? null,
      probe_cc: doc.probe_cc,
      probe_asn: doc.probe_asn,
      probe_region: doc.probe_region ?? null,
      probe_id: doc.probe_id ?? null,
      test_name: doc.test_name,
      input: doc.input ?? null,
      domain: domainOf(doc.input) ?? domainFromTestKeys(doc),
      category_code: category,
      ...judgementColumns(score),
      scoring_version: SCORING_VERSION,
      fingerprints_version: ctx.fingerprints.version,
      doc_json: docJson
    }
  }
}

/** The stored columns of a judgement (shared by ingest and rescore). */
export function judgementColumns(s: Score): Pick<MeasurementRow, 'blocking_type' | 'anomaly' | 'confirmed' | 'failure' | 'down' | 'unreachable' | 'verdict_reason' | 'fingerprints'> {
  return {
    blocking_type: s.blocking_type,
    anomaly: s.anomaly,
    confirmed: s.confirmed,
    failure: s.failure,
    down: s.down,
    unreachable: s.unreachable,
    verdict_reason: s.reason,
    fingerprints: s.fingerprints.length === 0 ? null : s.fingerprints.map(m => m.name)
  }
}

/** Some of OONI's tests name their target in test_keys (dnscheck's domain) rather than in input. */
function domainFromTestKeys(doc: Measurement): string | null {
  const tk = doc.test_keys
  if (tk !== null && typeof tk === 'object' && typeof (tk as Record<string, unknown>).domain === 'string') {
    return ((tk as Record<string, unknown>).domain as string).toLowerCase()
  }
  return null
}
