/**
 * `blockwatch aggregator rescore`: judges every stored measurement again
 * with the current verdict code and fingerprint list, updating every
 * verdict column in place (same measurement_uid), so that the rollup
 * trigger moves the counts and sets they feed.
 */
import { parseFlags, runCommand } from '../../../shared/src/args.ts'
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { SCORING_VERSION, scoreMeasurement } from '../../../shared/src/scoring.ts'
import { serverConfig } from '../config.ts'
import type { Database } from '../store/db.ts'
import { archivedMonths } from '../store/archive.ts'
import { countForRescore, docsForRescore, updateScores, type RescoredRow, type RescoreScope } from '../store/measurements.ts'
import { openForCommand, ProgressBar } from './common.ts'
import { judgementColumns } from '../ingest/prepare.ts'

const HELP = `blockwatch aggregator rescore — re-score every stored measurement

Usage: blockwatch aggregator rescore [--stale] [--quiet]

Runs the shared verdict code with the current fingerprint list (the one an
admin uploaded, else FINGERPRINTS_DIR) over every stored measurement and
updates its judgement (anomaly, confirmed, failure, blocking_type, down,
unreachable, the reason and the matched fingerprints) where it changed,
and the rollups and events it feeds. Run it after the fingerprint list or
the scoring code changes. It reports how many judgements changed, and how
many rows were only stamped with the new versions.

  --stale   only rows scored with another scoring version or fingerprint list

Example:
  FINGERPRINTS_DIR=./blocking-fingerprints blockwatch aggregator rescore
`

/**
 * What a rescore did: rows read, judgements changed, rows only stamped with
 * the new versions, and the archived months it could not reach (frozen:
 * their measurements are in Parquet files, `blockwatch aggregator archive`).
 */
export interface RescoreTotals {
  scanned: number
  changed: number
  restamped: number
  archivedMonths: string[]
}

/** Re-scores stored rows in chunks of `chunk`, by keyset; `onProgress` sees the running totals. */
export async function rescoreAll(
  db: Database,
  fp: FingerprintDb,
  opts: { staleOnly?: boolean; chunk?: number; rollups?: boolean; onProgress?: (t: RescoreTotals, total: number) => void } = {}
): Promise<RescoreTotals> {
  const chunk = opts.chunk ?? 1000
  const scope: RescoreScope = opts.staleOnly === true ? { stale: { scoringVersion: SCORING_VERSION, fingerprintsVersion: fp.version } } : {}
  const total = await countForRescore(db, scope)
  const totals: RescoreTotals = { scanned: 0, changed: 0, restamped: 0, archivedMonths: (await archivedMonths(db)).map(m => m.month) }
  let after: [string, string] = ['-infinity', '']
  for (;;) {
    const read = await docsForRescore(db, scope, after, chunk)
    if (read.length === 0) break
    const rows: RescoredRow[] = read.map(row => {
      const doc = (typeof row.doc === 'string' ? JSON.parse(row.doc) : row.doc) as Measurement
      return {
        measurement_uid: row.measurement_uid,
        measurement_start_time: new Date(row.measurement_start_time),
        ...judgementColumns(scoreMeasurement(doc, fp)),
        scoring_version: SCORING_VERSION,
        fingerprints_version: fp.version
      }
    })
    const done = await updateScores(db, rows, { rollups: opts.rollups })
    totals.changed += done.changed
    totals.restamped += done.restamped
    totals.scanned += rows.length
    opts.onProgress?.(totals, total)
    const last = read[read.length - 1]
    after = [new Date(last.measurement_start_time).toISOString(), last.measurement_uid]
    if (read.length < chunk) break
  }
  return totals
}

/** Runs the rescore. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP)
      return 0
    }
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, stale: { type: 'boolean' }, quiet: { type: 'boolean' } })
    const { db, fingerprints } = await openForCommand(serverConfig(values, process.env))
    const bar = new ProgressBar()
    try {
      const t = await rescoreAll(db, fingerprints, {
        staleOnly: values.stale === true,
        onProgress: (t, total) => {
          if (values.quiet !== true) bar.update(t.scanned / Math.max(1, total), `${t.scanned}/${total} scanned, ${t.changed} changed`)
        }
      })
      if (values.quiet !== true) bar.done()
      process.stdout.write(`rescore: ${t.scanned} measurements scanned, ${t.changed} verdicts changed, ${t.restamped} restamped (scoring ${SCORING_VERSION}, fingerprints ${fingerprints.version})\n`)
      if (t.archivedMonths.length > 0) process.stdout.write(`rescore: ${t.archivedMonths.length} archived months skipped, frozen as their Parquet files hold them: ${t.archivedMonths.join(', ')}\n`)
    } finally {
      await db.close()
    }
    return 0
  })
}
