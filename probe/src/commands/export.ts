/**
 * `blockwatch probe export FILE`: writes the pending measurements to a file
 * (NDJSON, gzip when FILE ends in .gz) that someone can carry out when the
 * aggregator is blocked; `blockwatch aggregator import FILE` loads it with
 * the same deduplication as upload. The measurements stay pending (they go
 * up too when the network returns, harmlessly: the aggregator deduplicates)
 * unless --mark-delivered says the file reached the aggregator.
 */
import { createWriteStream, openSync, fsyncSync, closeSync, renameSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { parseFlags, runCommand, UsageError } from '../../../shared/src/args.ts'
import { LOCATION_FLAGS, loadLocated } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'

const HELP = `blockwatch probe export — write the pending measurements to a file someone can carry out

Usage: blockwatch probe export FILE[.gz] [--mark-delivered] [--config FILE] [--data-dir DIR]

  --mark-delivered   count the exported measurements as uploaded (only once the file has reached the aggregator)

Then, on the aggregator: blockwatch aggregator import FILE

Example:
  blockwatch probe export /media/usb/measurements.jsonl.gz
`

/** Runs `blockwatch probe export`. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const { values: f, positionals } = parseFlags(argv, { ...LOCATION_FLAGS, 'mark-delivered': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true)
    if (f.help === true) { process.stdout.write(HELP); return 0 }
    if (positionals.length !== 1) throw new UsageError('give one FILE to write, as in `blockwatch probe export out.jsonl.gz`')
    const file = positionals[0]
    const cfg = loadLocated(f, process.env)
    const outbox = Outbox.open(cfg.dataDir)
    try {
      const uids: string[] = []
      const lines = Readable.from((function * () {
        for (const item of outbox.pending()) { uids.push(item.uid); yield item.doc + '\n' }
      })())
      const tmp = `${file}.tmp-${process.pid}`
      const out = createWriteStream(tmp, { mode: 0o600 })
      if (file.endsWith('.gz')) await pipeline(lines, createGzip(), out)
      else await pipeline(lines, out)
      const fd = openSync(tmp, 'r'); try { fsyncSync(fd) } finally { closeSync(fd) }
      renameSync(tmp, file)
      if (f['mark-delivered'] === true) outbox.markExported(uids)
      process.stdout.write(`wrote ${uids.length} measurements to ${file}${f['mark-delivered'] === true ? ' (marked delivered)' : ' (they stay pending until uploaded)'}\nOn the aggregator: blockwatch aggregator import ${file}\n`)
      return 0
    } finally { outbox.close() }
  })
}
