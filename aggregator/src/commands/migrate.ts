/**
 * `blockwatch aggregator migrate`: applies pending migrations, then brings
 * the stored data up to date: rows judged by an older scoring version get
 * every verdict column from the current verdict code (with the rollups
 * off), and the rollups are rebuilt from them once, and every series is
 * queued for its events.
 */
import { parseFlags, runCommand } from '../../../shared/src/args.ts'
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { SCORING_VERSION } from '../../../shared/src/scoring.ts'
import { serverConfig } from '../config.ts'
import type { Database } from '../store/db.ts'
import { rebuildRollups, staleRows } from '../store/measurements.ts'
import { openForCommand, ProgressBar } from './common.ts'
import { rescoreAll, type RescoreTotals } from './rescore.ts'

const HELP = `blockwatch aggregator migrate — upgrade the database in place

Usage: blockwatch aggregator migrate [--data-dir DIR] [--quiet]

Applies the pending database migrations, then judges again every stored
measurement that an older scoring version judged (filling the verdict
columns a migration added) and rebuilds the timeline rollups from them.
Stop the aggregator first: ingest waits while the rollups are rebuilt.

  --data-dir DIR   the PGlite folder (default ./data/pglite); DATABASE_URL selects PostgreSQL
  --quiet          no progress bar

Example:
  DATABASE_URL=postgres://postgres@127.0.0.1/blockwatch blockwatch aggregator migrate
`

/**
 * Judges again the rows of older scoring versions and rebuilds the rollups.
 * Resolves to what the rescore did (nothing when no row was stale).
 */
export async function upgradeData(db: Database, fp: FingerprintDb, onProgress?: (t: RescoreTotals, total: number) => void): Promise<RescoreTotals | null> {
  if ((await staleRows(db, SCORING_VERSION)) === 0) return null
  const totals = await rescoreAll(db, fp, { staleOnly: true, rollups: false, onProgress })
  await rebuildRollups(db)
  return totals
}

/** Applies the pending migrations and upgrades the data. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP)
      return 0
    }
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, quiet: { type: 'boolean' } })
    const { db, fingerprints, applied } = await openForCommand(serverConfig(values, process.env))
    const bar = new ProgressBar()
    try {
      process.stdout.write(applied.length === 0 ? 'migrations: up to date\n' : `migrations applied: ${applied.join(', ')}\n`)
      const t = await upgradeData(db, fingerprints, (t, total) => {
        if (values.quiet !== true) bar.update(t.scanned / Math.max(1, total), `${t.scanned}/${total} judged again`)
      })
      if (values.quiet !== true && t !== null) bar.done()
      process.stdout.write(
        t === null
          ? `data: up to date (scoring ${SCORING_VERSION})\n`
          : `data: ${t.scanned} measurements judged again (${t.changed} verdicts changed), rollups rebuilt (scoring ${SCORING_VERSION}, fingerprints ${fingerprints.version})\n`
      )
    } finally {
      await db.close()
    }
    return 0
  })
}
