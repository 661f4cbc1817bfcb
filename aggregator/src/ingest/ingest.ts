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

/** Prepares and stores a batch. `source` labels the metrics ("api", "import", "import-ooni"). */
export async function ingestBatch(db: Database, items: BatchItem[], ctx: PrepareContext, metrics?: Metrics, source = 'api'): Promise<IngestResult> {
  const rejected: Rejection[] = []
  let rows: MeasurementRow[] = []
  const indexOf = new Map<MeasurementRow, number>()
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
      indexOf.set(p.row, index)
    }
  })
  // A month archived to Parquet is frozen (blockwatch aggregator archive):
  // what falls in it is not stored, and the reply says why.
  const archived =
    rows.length === 0
      ? new Set<string>()
      : await archivedAmong(
          db,
          rows.map(r => r.measurement_start_time)
        )
  if (archived.size > 0) {
    rows = rows.filter(r => {
      const month = r.measurement_start_time.toISOString().slice(0, 7)
      if (!archived.has(month)) return true
      rejected.push({
        index: indexOf.get(r) ?? -1,
        measurement_uid: r.measurement_uid,
        error: `measurement_start_time: the month ${month} is archived (moved to Parquet by \`blockwatch aggregator archive\`); nothing more is stored in it`
      })
      metrics?.rejected.inc({ source, reason: 'archived_month' })
      return false
    })
    rejected.sort((a, b) => a.index - b.index)
  }
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
