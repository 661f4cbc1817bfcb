/**
 * The body of `import` and `import-ooni`: read each file in batches (any of
 * OONI's layouts, see ingest/read-file.ts) and write them through the same
 * preparation, scoring and deduplication as POST /api/v1/measurements. Each
 * file gets its own summary line; every part that could not be read, and
 * the first refused documents, are named with their file and line or entry.
 */
import { parseFlags, runCommand, UsageError } from '../../../shared/src/args.ts'
import { serverConfig } from '../config.ts'
import { ingestBatch } from '../ingest/ingest.ts'
import { readMeasurementFile, type ReadProgress } from '../ingest/read-file.ts'
import { openForCommand, ProgressBar } from './common.ts'

/** What became of one file's documents. */
export interface FileTotals {
  read: number
  accepted: number
  duplicates: number
  rejected: number
  /** Parts that could not be read at all (a damaged gzip member or LZ4 frame, a cut-short archive). */
  unreadable: number
}

/** Refused documents named on stderr per file; the rest are counted. */
const REJECTIONS_SHOWN = 20

/** Runs an import subcommand with its help text. */
export async function runImport(argv: string[], help: string, source: 'import' | 'import-ooni'): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(help)
      return 0
    }
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, quiet: { type: 'boolean' } }, true)
    if (positionals.length === 0) throw new UsageError(`${source} needs a file: blockwatch aggregator ${source} FILE… (see --help for the layouts it reads)`)
    const cfg = serverConfig(values, process.env)
    const { db, fingerprints } = await openForCommand(cfg)
    const bar = values.quiet === true ? null : new ProgressBar()
    const all: FileTotals = { read: 0, accepted: 0, duplicates: 0, rejected: 0, unreadable: 0 }
    try {
      for (const file of positionals) {
        const t: FileTotals = { read: 0, accepted: 0, duplicates: 0, rejected: 0, unreadable: 0 }
        const progress: ReadProgress = { bytesRead: 0, totalBytes: 0 }
        const status = (): string => `${file}: ${t.read} read, ${t.accepted} new, ${t.duplicates} duplicates, ${t.rejected} rejected`
        const problem = (text: string): void => {
          bar !== null ? bar.note(text) : process.stderr.write(text + '\n')
        }
        try {
          for await (const batch of readMeasurementFile(file, 1000, progress)) {
            for (const f of batch.faults) problem(`unreadable: ${file}: ${f}`)
            t.unreadable += batch.faults.length
            if (batch.items.length === 0) continue
            const r = await ingestBatch(db, batch.items, { fingerprints, nowMs: Date.now() }, undefined, source)
            for (const rej of r.rejected.slice(0, Math.max(0, REJECTIONS_SHOWN - t.rejected))) {
              problem(`rejected: ${file} ${batch.where[rej.index]}${rej.measurement_uid !== null ? ` (${rej.measurement_uid})` : ''}: ${rej.error}`)
            }
            t.read += batch.items.length
            t.accepted += r.accepted
            t.duplicates += r.duplicates
            t.rejected += r.rejected.length
            bar?.update(progress.bytesRead / Math.max(1, progress.totalBytes), status())
          }
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EACCES') throw err
          problem(`unreadable: ${file}: ${(err as Error).message}`)
          t.unreadable++
        }
        bar?.update(1, status(), true)
        bar?.done()
        if (t.rejected > REJECTIONS_SHOWN) problem(`rejected: ${file}: ${t.rejected - REJECTIONS_SHOWN} more not shown`)
        process.stdout.write(
          `${file} (${progress.format ?? 'unread'}): ${t.accepted} accepted, ${t.duplicates} duplicates, ${t.rejected} rejected` +
            (t.unreadable > 0 ? `, ${t.unreadable} unreadable part${t.unreadable === 1 ? '' : 's'}` : '') +
            '\n'
        )
        for (const k of Object.keys(all) as Array<keyof FileTotals>) all[k] += t[k]
      }
    } finally {
      await db.close()
    }
    process.stdout.write(
      `${source}: ${all.accepted} imported, ${all.duplicates} duplicates, ${all.rejected} rejected` +
        (all.unreadable > 0 ? `, ${all.unreadable} unreadable parts` : '') +
        ` from ${positionals.length} file${positionals.length === 1 ? '' : 's'} (fingerprints ${fingerprints.version})\n`
    )
    // Unreadable data, or nothing usable at all, is a failure a script must see; refused documents alone are not.
    return all.unreadable > 0 || (all.rejected > 0 && all.accepted + all.duplicates === 0) ? 1 : 0
  })
}
