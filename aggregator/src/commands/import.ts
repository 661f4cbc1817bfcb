/**
 * `blockwatch aggregator import FILE`: loads a file written by
 * `blockwatch probe export` (NDJSON, or a JSON array; gzip when it ends in
 * .gz or starts with gzip's magic bytes), carried out of a network where the
 * aggregator is blocked. It goes through the same validation, scoring and
 * deduplication by measurement_uid as upload (ingest/ingest.ts), so importing
 * a file twice, or a file whose measurements were also uploaded, stores
 * nothing twice.
 */
import { createReadStream, openSync, readSync, closeSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { createGunzip } from 'node:zlib'
import type { Readable } from 'node:stream'
import { parseFlags, runCommand, UsageError } from '../../../shared/src/args.ts'
import { openDatabase, type Database } from '../store/db.ts'
import { migrate } from '../store/migrate.ts'
import { ingestBatch, type IngestResult } from '../ingest/ingest.ts'
import type { BatchItem } from '../ingest/body.ts'
import { fingerprintSource } from '../fingerprint-source.ts'

const HELP = `blockwatch aggregator import — import a file written by \`blockwatch probe export\`

Usage: blockwatch aggregator import FILE[.gz] [--data-dir DIR]

Deduplicates by measurement_uid, as upload does: importing twice stores nothing twice.
Environment: DATABASE_URL (unset or empty: PGlite under --data-dir, default ./data/pglite).

Example:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/blockwatch blockwatch aggregator import measurements.jsonl.gz
`

/** Documents per ingest batch. */
const BATCH = 1000

function isGzip (file: string): boolean {
  const fd = openSync(file, 'r')
  try {
    const b = Buffer.alloc(2)
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b
  } finally { closeSync(fd) }
}

/** The totals of an import. */
export interface ImportResult { accepted: number, duplicates: number, rejected: Array<{ line: number, measurement_uid: string | null, error: string }> }

/** Imports a probe export into the database. Streams: the file is never held in memory. */
export async function importFile (db: Database, file: string, nowMs: () => number = Date.now): Promise<ImportResult> {
  const fingerprints = fingerprintSource(db)
  let input: Readable = createReadStream(file)
  if (isGzip(file)) input = input.pipe(createGunzip())
  const total: ImportResult = { accepted: 0, duplicates: 0, rejected: [] }
  let items: BatchItem[] = []
  let lines: number[] = []
  const flush = async (): Promise<void> => {
    if (items.length === 0) return
    const r: IngestResult = await ingestBatch(db, items, { fingerprints: await fingerprints.get(), nowMs: nowMs() }, undefined, 'import')
    total.accepted += r.accepted
    total.duplicates += r.duplicates
    for (const x of r.rejected) total.rejected.push({ line: lines[x.index], measurement_uid: x.measurement_uid, error: x.error })
    items = []
    lines = []
  }
  let n = 0
  let arrayMode = false
  let arrayText = ''
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    n++
    const s = raw.trim()
    if (n === 1 && s.startsWith('[')) arrayMode = true
    if (arrayMode) { arrayText += raw + '\n'; continue }
    if (s === '') continue
    try { items.push({ doc: JSON.parse(s) }) } catch (err) { items.push({ parseError: `line ${n}: not valid JSON (${(err as Error).message})` }) }
    lines.push(n)
    if (items.length >= BATCH) await flush()
  }
  if (arrayMode) {
    // A JSON array (an export written by hand, or by other tools): held whole.
    let docs: unknown
    try { docs = JSON.parse(arrayText) } catch (err) { throw new UsageError(`${file}: not NDJSON and not a valid JSON array (${(err as Error).message})`) }
    if (!Array.isArray(docs)) throw new UsageError(`${file}: a JSON array or NDJSON was expected`)
    for (const [i, doc] of docs.entries()) {
      items.push({ doc })
      lines.push(i + 1)
      if (items.length >= BATCH) await flush()
    }
  }
  await flush()
  return total
}

/** Runs `blockwatch aggregator import`. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const { values: f, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true)
    if (f.help === true) { process.stdout.write(HELP); return 0 }
    if (positionals.length !== 1) throw new UsageError('give one FILE to import, as in `blockwatch aggregator import measurements.jsonl.gz`')
    const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: f['data-dir'] ?? process.env.BLOCKWATCH_DATA_DIR ?? './data/pglite' })
    try {
      await migrate(db)
      const r = await importFile(db, positionals[0])
      process.stdout.write(`imported ${positionals[0]}: ${r.accepted} stored, ${r.duplicates} already there, ${r.rejected.length} rejected\n`)
      for (const x of r.rejected.slice(0, 20)) process.stdout.write(`  line ${x.line}${x.measurement_uid !== null ? ` (${x.measurement_uid})` : ''}: ${x.error}\n`)
      return r.rejected.length > 0 ? 1 : 0
    } finally { await db.close() }
  })
}
