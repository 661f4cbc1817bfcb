/**
 * Storing a batch of uploaded or imported documents: each is prepared on its
 * own (validated, scrubbed, scored), the good ones are written in chunks
 * through the fast path, and the reply says what became of each.
 */
import type { Database } from '../store/db.ts'
import { archivedAmong } from '../store/archive.ts'
import { insertMeasurements, type MeasurementRow } from '../store/measurements.ts'
import type { Metrics } from '../metrics.ts'
import type { BatchItem } from './body.ts'
import { prepareMeasurement, type PrepareContext } from './prepare.ts'

/** One refused document: its position in the batch, its uid when it had one, and why. */
export interface Rejection {
  index: number
  measurement_uid: string | null
  error: string
}

/** The reply to an upload. */
export interface IngestResult {
  accepted: number
  duplicates: number
  rejected: Rejection[]
}

/** Rows written per INSERT. */
export const CHUNK_ROWS = 1000

/** A batch once prepared: the rows to store, each with its index in the batch, and the documents refused so far. */
export interface PreparedBatch {
  rows: MeasurementRow[]
  indices: number[]
  rejected: Rejection[]
}

/** Validates, scrubs and judges each document of a batch (no I/O). */
export function prepareBatch(items: BatchItem[], ctx: PrepareContext, metrics?: Metrics, source = 'api'): PreparedBatch {
  const out: PreparedBatch = { rows: [], indices: [], rejected: [] }
  items.forEach((item, index) => {
    if ('parseError' in item) {
      out.rejected.push({ index, measurement_uid: null, error: item.parseError })
      metrics?.rejected.inc({ source, reason: 'invalid_json' })
      return
    }
    const p = prepareMeasurement(item.doc, ctx)
    if ('refusal' in p) {
      out.rejected.push({ index, measurement_uid: p.refusal.measurement_uid, error: p.refusal.error })
      metrics?.rejected.inc({ source, reason: p.refusal.reason })
    } else {
      out.rows.push(p.row)
      out.indices.push(index)
    }
  })
  return out
}

/**
 * Takes out the rows that fall in a month archived to Parquet (blockwatch
 * aggregator archive): such a month is frozen, nothing more is stored in
 * it, and the reply says why. One query for all the batches given.
 */
export async function refuseArchived(db: Database, batches: PreparedBatch[], metrics?: Metrics, source = 'api'): Promise<void> {
  const times = batches.flatMap(b => b.rows.map(r => r.measurement_start_time))
  if (times.length === 0) return
  const archived = await archivedAmong(db, times)
  if (archived.size === 0) return
  for (const b of batches) {
    const rows: MeasurementRow[] = []
    const indices: number[] = []
    b.rows.forEach((r, i) => {
      const month = r.measurement_start_time.toISOString().slice(0, 7)
      if (!archived.has(month)) {
        rows.push(r)
        indices.push(b.indices[i]!)
        return
      }
      b.rejected.push({
        index: b.indices[i]!,
        measurement_uid: r.measurement_uid,
        error: `measurement_start_time: the month ${month} is archived (moved to Parquet by \`blockwatch aggregator archive\`); nothing more is stored in it`
      })
      metrics?.rejected.inc({ source, reason: 'archived_month' })
    })
    b.rows = rows
    b.indices = indices
    b.rejected.sort((x, y) => x.index - y.index)
  }
}

/** Prepares and stores a batch. `source` labels the metrics ("api", "import", "import-ooni"). */
export async function ingestBatch(db: Database, items: BatchItem[], ctx: PrepareContext, metrics?: Metrics, source = 'api'): Promise<IngestResult> {
  const batch = prepareBatch(items, ctx, metrics, source)
  await refuseArchived(db, [batch], metrics, source)
  const { rows, rejected } = batch
  let accepted = 0
  let duplicates = 0
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const end = metrics?.batchSeconds.startTimer({ source })
    const r = await insertMeasurements(db, rows.slice(i, i + CHUNK_ROWS))
    end?.()
    accepted += r.inserted.length
    duplicates += r.duplicates.length
  }
  metrics?.ingested.inc({ source }, accepted)
  metrics?.duplicates.inc({ source }, duplicates)
  return { accepted, duplicates, rejected }
}
