/**
 * Storing a batch of uploaded or imported documents: each is prepared on its
 * own (validated, scrubbed, scored), the good ones are written in chunks
 * through the fast path, and the reply says what became of each.
 */
import type { Database } from '../store/db.ts'
import { insertMeasurements, type MeasurementRow } from '../store/measurements.ts'
import type { Metrics } from '../metrics.ts'
import type { BatchItem } from './body.ts'
import { prepareMeasurement, type PrepareContext } from './prepare.ts'

/** One refused document: its position in the batch, its uid when it had one, and why. */
export interface Rejection { index: number, measurement_uid: string | null, error: string }

/** The reply to an upload. */
export interface IngestResult { accepted: number, duplicates: number, rejected: Rejection[] }

/** Rows written per INSERT. */
export const CHUNK_ROWS = 1000

/** Prepares and stores a batch. `source` labels the metrics ("api", "import", "import-ooni"). */
export async function ingestBatch (db: Database, items: BatchItem[], ctx: PrepareContext, metrics?: Metrics, source = 'api'): Promise<IngestResult> {
  const rejected: Rejection[] = []
  const rows: MeasurementRow[] = []
  items.forEach((item, index) => {
    if ('parseError' in item) {
      rejected.push({ index, measurement_uid: null, error: item.parseError })
      metrics?.rejected.inc({ source, reason: 'invalid_json' })
      return
    }
    const p = prepareMeasurement(item.doc, ctx)
    if ('refusal' in p) {
      rejected.push({ index, measurement_uid: p.refusal.measurement_uid, error: p.refusal.error })
      metrics?.rejected.inc({ source, reason: p.refusal.reason })
    } else {
      rows.push(p.row)
    }
  })
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
