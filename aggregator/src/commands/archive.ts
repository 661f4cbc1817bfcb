/**
 * `blockwatch aggregator archive --before 2025-01`: moves whole months out
 * of PostgreSQL into Parquet files with the export's schema (docs/api.md,
 * "Exports"), for DuckDB to query. For each month before the given one:
 *   1. detach its partition (recorded: detached);
 *   2. write the file (FILE.partial, fsync, rename), read it back and check
 *      its row count against the table's (recorded: written);
 *   3. drop the table (recorded: done).
 * Every step can run again, and each starts from what is recorded, so a run
 * killed anywhere finishes on the next one. Rollups and events are kept;
 * ingest refuses archived months from then on (store/archive.ts).
 */
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseFlags, runCommand, UsageError } from '../../../shared/src/args.ts'
import { parquetBytes } from '../export/parquet.ts'
import { loadPseudonymSecret } from '../pseudonym.ts'
import { serverConfig } from '../config.ts'
import { archivedMonths, attachedMonthsBefore, detachedRowCount, detachMonth, dropMonth, markWritten, readDetachedChunk, type ArchivedMonth } from '../store/archive.ts'
import type { Database } from '../store/db.ts'
import type { ExportRow } from '../store/export.ts'
import { openForCommand } from './common.ts'

const HELP = `blockwatch aggregator archive — move whole months of measurements to Parquet files

Usage: blockwatch aggregator archive --before YYYY-MM [--dir DIR] [--dry-run]

Every month before --before is detached from the measurements table, written
to DIR/measurements-YYYY-MM.parquet (the export's columns: docs/api.md,
"Exports"), checked by reading the file back, and dropped from the database.
Rollups and events stay, so timelines still cover the month; the documents
are in the files (query them with DuckDB: docs/api.md, "Archived months").
An archived month is frozen: uploads and imports into it are refused with
the reason, and rescore and blockpage promotion cannot change it.

A run that is interrupted (killed, a full disk) resumes where it stopped
when started again.

  --before YYYY-MM   archive the months before this one
  --dir DIR          where the files go (default ./archive)
  --dry-run          list what would be archived, change nothing

Environment: DATABASE_URL (unset: PGlite under --data-dir), PSEUDONYM_SECRET
(as the server's, for the same pseudonyms).

Example:
  blockwatch aggregator archive --before 2025-01 --dir /srv/blockwatch/archive
`

/** Rows read per query while writing a month. */
const CHUNK_ROWS = 5000

/** Where a month's file goes. */
const fileOf = (dir: string, month: string): string => join(dir, `measurements-${month}.parquet`)

/** A test seam: BLOCKWATCH_ARCHIVE_PAUSE=written stops (waits) right after a month's file is recorded, before its table is dropped. */
async function pauseAt(step: string): Promise<void> {
  if (process.env.BLOCKWATCH_ARCHIVE_PAUSE !== step) return
  process.stderr.write(`archive: paused after ${step}\n`)
  await new Promise(() => {})
}

/** The rows of a detached month, chunk by chunk in key order. */
async function* chunksOf(db: Database, month: string): AsyncGenerator<ExportRow[]> {
  let after: [string, string] | null = null
  for (;;) {
    const rows = await readDetachedChunk(db, month, after, CHUNK_ROWS)
    if (rows.length === 0) return
    yield rows
    const last = rows[rows.length - 1]
    after = [last.start_key, last.measurement_uid]
    if (rows.length < CHUNK_ROWS) return
  }
}

/** The number of rows a Parquet file says it holds, read from its footer. */
async function parquetRowCount(file: string): Promise<number> {
  const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet')
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(file))
  return Number(meta.num_rows)
}

/** Writes a detached month's file and checks it; returns its rows and bytes. */
async function writeMonth(db: Database, month: string, file: string, secret: string): Promise<{ rows: number; bytes: number }> {
  const expected = await detachedRowCount(db, month)
  if (expected === null) throw new Error(`${month}: its table is gone but no verified file is recorded; restore it from a backup`)
  const partial = `${file}.partial`
  await pipeline(Readable.from(parquetBytes(chunksOf(db, month), secret)), createWriteStream(partial))
  const fd = await open(partial, 'r')
  try {
    await fd.sync()
  } finally {
    await fd.close()
  }
  await rename(partial, file)
  const rows = await parquetRowCount(file)
  if (rows !== expected) throw new Error(`${month}: ${file} holds ${rows} rows, the table ${expected}; the table is kept, run again`)
  return { rows, bytes: (await stat(file)).size }
}

/** Runs the archive. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(HELP)
      return 0
    }
    const { values } = parseFlags(argv, { before: { type: 'string' }, dir: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'data-dir': { type: 'string' } })
    const before = values.before
    if (before === undefined || !/^\d{4}-(0[1-9]|1[0-2])$/.test(before)) {
      throw new UsageError(`--before must be a month as YYYY-MM (the first month kept), e.g. --before 2025-01${before === undefined ? '' : `, got ${JSON.stringify(before)}`}`)
    }
    const dir = resolve(values.dir ?? './archive')
    const cfg = serverConfig({ 'data-dir': values['data-dir'] }, process.env)
    const { db } = await openForCommand(cfg)
    try {
      const recorded = await archivedMonths(db)
      const unfinished = recorded.filter(m => m.state !== 'done')
      const fresh = (await attachedMonthsBefore(db, before)).filter(m => !recorded.some(r => r.month === m))
      const todo = [...new Set([...unfinished.map(m => m.month), ...fresh])].sort()
      if (values['dry-run'] === true) {
        process.stdout.write(todo.length === 0 ? 'archive: nothing to do\n' : todo.map(m => `archive: would archive ${m}${unfinished.some(u => u.month === m) ? ' (resuming)' : ''}\n`).join(''))
        return 0
      }
      if (todo.length === 0) {
        process.stdout.write(`archive: nothing before ${before} to archive (${recorded.length} months archived already)\n`)
        return 0
      }
      await mkdir(dir, { recursive: true })
      const secret = cfg.pseudonymSecret !== '' ? cfg.pseudonymSecret : await loadPseudonymSecret(db)
      for (const month of todo) {
        const file = fileOf(dir, month)
        await detachMonth(db, month)
        let state: ArchivedMonth | undefined = (await archivedMonths(db)).find(m => m.month === month)
        if (state?.state === 'detached') {
          const { rows, bytes } = await writeMonth(db, month, file, secret)
          await markWritten(db, month, file, rows, bytes)
          state = { ...state, state: 'written', rows, file, bytes }
          await pauseAt('written')
        }
        if (state?.state === 'written') {
          // Dropping only what a file still holds: check it again if this run did not just write it.
          const onFile = await parquetRowCount(state.file ?? file).catch(() => -1)
          if (onFile !== state.rows)
            throw new Error(
              `${month}: ${state.file ?? file} is missing or changed (${onFile} rows, ${state.rows} recorded); the table is kept. Remove the month's row from archived_months' file or restore the file, then run again`
            )
          await dropMonth(db, month)
        }
        await rm(`${file}.partial`, { force: true })
        const done = (await archivedMonths(db)).find(m => m.month === month)
        process.stdout.write(`archive: ${month}: ${done?.rows ?? 0} measurements → ${done?.file ?? file} (${((done?.bytes ?? 0) / 1e6).toFixed(1)} MB)\n`)
      }
      return 0
    } finally {
      await db.close()
    }
  })
}
