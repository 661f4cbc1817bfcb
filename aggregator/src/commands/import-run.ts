/**
 * The body of `import` and `import-ooni`: read a file in batches and write
 * them through the same preparation, scoring and deduplication as
 * POST /api/v1/measurements.
 */
import { parseFlags, runCommand, UsageError } from '../../../shared/src/args.ts'
import { serverConfig } from '../server.ts'
import { ingestBatch, type Rejection } from '../ingest/ingest.ts'
import { readMeasurementFile, type ReadProgress } from '../ingest/read-file.ts'
import { openForCommand, ProgressBar } from './common.ts'

/** Totals of one import. */
export interface ImportTotals { read: number, accepted: number, duplicates: number, rejected: number }

/** Runs an import subcommand with its help text. */
export async function runImport (argv: string[], help: string, source: 'import' | 'import-ooni'): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(help); return 0 }
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, quiet: { type: 'boolean' } }, true)
    if (positionals.length === 0) throw new UsageError(`${source} needs a file: blockwatch aggregator ${source} FILE.jsonl[.gz]`)
    const cfg = serverConfig(values, process.env)
    const { db, fingerprints } = await openForCommand(cfg)
    const bar = new ProgressBar()
    const totals: ImportTotals = { read: 0, accepted: 0, duplicates: 0, rejected: 0 }
    const firstErrors: string[] = []
    try {
      for (const file of positionals) {
        const progress: ReadProgress = { bytesRead: 0, totalBytes: 0 }
        for await (const batch of readMeasurementFile(file, 1000, progress)) {
          const r = await ingestBatch(db, batch, { fingerprints, nowMs: Date.now() }, undefined, source)
          totals.read += batch.length
          totals.accepted += r.accepted
          totals.duplicates += r.duplicates
          totals.rejected += r.rejected.length
          for (const rej of r.rejected) if (firstErrors.length < 10) firstErrors.push(describe(file, totals.read - batch.length, rej))
          if (values.quiet !== true) bar.update(progress.bytesRead / Math.max(1, progress.totalBytes), `${file}: ${totals.read} read, ${totals.accepted} new, ${totals.duplicates} duplicates, ${totals.rejected} rejected`)
        }
        if (values.quiet !== true) bar.update(1, `${file}: ${totals.read} read, ${totals.accepted} new, ${totals.duplicates} duplicates, ${totals.rejected} rejected`, true)
      }
    } finally {
      if (values.quiet !== true) bar.done()
      await db.close()
    }
    for (const e of firstErrors) process.stderr.write(`rejected: ${e}\n`)
    process.stdout.write(`${source}: ${totals.accepted} imported, ${totals.duplicates} duplicates, ${totals.rejected} rejected (fingerprints ${fingerprints.version})\n`)
    return totals.rejected > 0 && totals.accepted + totals.duplicates === 0 ? 1 : 0
  })
}

function describe (file: string, offset: number, r: Rejection): string {
  return `${file} #${offset + r.index + 1}${r.measurement_uid !== null ? ` (${r.measurement_uid})` : ''}: ${r.error}`
}
