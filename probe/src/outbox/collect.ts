/**
 * From the engine's stream of measurements into the outbox: each measurement
 * gets its uid (if the engine gave none), its clock correction (recorded in
 * annotations), its probe identity, and is scrubbed of the probe's public
 * address; then it is committed to disk. A measurement that cannot be
 * scrubbed is counted and dropped here: it never reaches the outbox.
 */
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../../../shared/src/software.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { parseOoniTime } from '../../../shared/src/time.ts'
import { uuidv7 } from '../../../shared/src/uid.ts'
import { scrubMeasurement } from '../privacy/scrub.ts'
import type { Outbox } from './outbox.ts'

/** The logger subset used here (pino fits). */
export interface CollectLogger {
  warn: (obj: object, msg?: string) => void
  debug?: (obj: object, msg?: string) => void
}

/** What the collector adds to each measurement. */
export interface CollectContext {
  /** The probe's public addresses to scrub (learned at check-in, plus configured ones). */
  addresses: readonly string[]
  /** server time − local time, ms, which the engine applied to the measurement's times; recorded in annotations. */
  clockOffsetMs: number
  /** Whether these measurements come from the priority list (kept longest when the outbox is full). */
  priority: boolean
  probeId: string | null
  logger?: CollectLogger
}

/** Counts of one collection. */
export interface CollectResult {
  written: number
  unscrubbable: number
  replayed: number
}

/** Prepares one measurement for the outbox (pure except for the uid's randomness). */
export function prepareForOutbox(m: Measurement, ctx: CollectContext): Measurement {
  const doc: Measurement = { ...m }
  const annotations: Record<string, unknown> = { ...(doc.annotations ?? {}) }
  // A Raspberry Pi has no real-time clock: the engine corrected the times by
  // the offset measured at check-in; say so, so that researchers can tell.
  annotations.clock_offset_ms = ctx.clockOffsetMs
  annotations.clock_corrected = ctx.clockOffsetMs !== 0
  annotations.probe_kind = 'volunteer'
  doc.annotations = annotations
  if (typeof doc.measurement_uid !== 'string' || doc.measurement_uid === '') {
    const start = parseOoniTime(doc.measurement_start_time)
    doc.measurement_uid = uuidv7(start?.getTime() ?? Date.now())
  }
  if (ctx.probeId !== null) doc.probe_id = ctx.probeId
  doc.software_name ??= SOFTWARE_NAME
  doc.software_version ??= SOFTWARE_VERSION
  return doc
}

/** Writes a stream of measurements to the outbox; resolves when the stream ends. */
export async function collect(stream: AsyncIterable<Measurement>, outbox: Outbox, ctx: CollectContext): Promise<CollectResult> {
  const res: CollectResult = { written: 0, unscrubbable: 0, replayed: 0 }
  for await (const m of stream) {
    const doc = prepareForOutbox(m, ctx)
    const scrubbed = scrubMeasurement(doc, ctx.addresses)
    if (!scrubbed.ok) {
      outbox.countUnscrubbable()
      res.unscrubbable++
      ctx.logger?.warn({ test_name: doc.test_name, reason: scrubbed.reason }, 'a measurement could not be scrubbed of the probe address; it is not stored or uploaded')
      continue
    }
    if (outbox.add(scrubbed.doc, ctx.priority)) res.written++
    else res.replayed++
  }
  return res
}
