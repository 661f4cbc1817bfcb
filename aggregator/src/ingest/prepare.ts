/**
 * From one uploaded document to a row ready to store, or to the reason it is
 * refused. Each document is judged on its own, so that a bad one never
 * blocks the good ones beside it.
 */
import { KNOWN_TEST_NAMES, SCRUBBED_PROBE_IP, validateMeasurement, type Measurement } from '../../../shared/src/measurement.ts'
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { SCORING_VERSION, scoreMeasurement } from '../../../shared/src/scoring.ts'
import { domainOf } from '../../../shared/src/target.ts'
import { parseOoniTime } from '../../../shared/src/time.ts'
import { contentUid } from '../../../shared/src/uid.ts'
import type { MeasurementRow } from '../store/measurements.ts'

/** How far ahead of the server's clock a measurement may be dated. */
export const MAX_FUTURE_MS = 24 * 3600 * 1000 // one day

/** Why a document was refused: the reason names the field, and a short kind counts it in /metrics. */
export interface Refusal { error: string, reason: string, measurement_uid: string | null }

/** What prepare() needs besides the document. */
export interface PrepareContext {
  fingerprints: FingerprintDb
  /** The server's clock reading (ms). */
  nowMs: number
  /** Set when a probe's token uploads: documents must carry this probe_id. */
  probeId?: string
}

/**
 * Validates, scrubs, identifies and scores one document. Documents without a
 * measurement_uid get one derived from their content, so that importing the
 * same file twice stores nothing twice.
 */
export function prepareMeasurement (input: unknown, ctx: PrepareContext): { row: MeasurementRow } | { refusal: Refusal } {
  const uidOf = (v: unknown): string | null => {
    if (v === null || typeof v !== 'object') return null
    const u = (v as { measurement_uid?: unknown }).measurement_uid
    return typeof u === 'string' ? u : null
  }
  const refuse = (reason: string, error: string): { refusal: Refusal } => ({ refusal: { error, reason, measurement_uid: uidOf(input) } })
  const issues = validateMeasurement(input)
  if (issues.length > 0) return refuse(issues[0].field === '' ? 'not_an_object' : 'invalid_field', issues.map(i => i.message).join('; '))
  const doc = input as Measurement
  if (!KNOWN_TEST_NAMES.has(doc.test_name)) {
    return refuse('unknown_test_name', `test_name: ${JSON.stringify(doc.test_name.slice(0, 64))} is neither one of blockwatch's tests nor one of OONI's nettests`)
  }
  const start = parseOoniTime(doc.measurement_start_time)
  if (start === null) return refuse('invalid_field', `measurement_start_time: not a date (got ${JSON.stringify(doc.measurement_start_time)})`)
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
  // jsonb cannot hold U+0000; refusing the one document keeps the batch alive.
  if (docJson.includes('\\u0000')) return refuse('nul_character', 'document: contains a NUL character (\\u0000), which the database cannot store')
  const score = scoreMeasurement(scrubbed as Measurement, ctx.fingerprints)
  const annotations = (doc.annotations ?? {}) as Record<string, unknown>
  const category = typeof (doc as Record<string, unknown>).category_code === 'string'
    ? (doc as Record<string, unknown>).category_code as string
    : typeof annotations.category_code === 'string' ? annotations.category_code : null
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
      blocking_type: score.blocking_type,
      anomaly: score.anomaly,
      confirmed: score.confirmed,
      failure: score.failure,
      scoring_version: SCORING_VERSION,
      fingerprints_version: ctx.fingerprints.version,
      doc_json: docJson
    }
  }
}

/** Some of OONI's tests name their target in test_keys (dnscheck's domain) rather than in input. */
function domainFromTestKeys (doc: Measurement): string | null {
  const tk = doc.test_keys
  if (tk !== null && typeof tk === 'object' && typeof (tk as Record<string, unknown>).domain === 'string') {
    return ((tk as Record<string, unknown>).domain as string).toLowerCase()
  }
  return null
}
