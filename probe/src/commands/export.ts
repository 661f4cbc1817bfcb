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
import { UsageError } from '../../../shared/src/args.ts'
import { LANG_FLAG, parseProbeFlags, probeCommand } from '../i18n/command.ts'
import { LOCATION_FLAGS, loadLocated } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'

/** Runs `blockwatch probe export`. */
export async function main(argv: string[]): Promise<number> {
  return await probeCommand(argv, async s => {
    const { t } = s
    const { values: f, positionals } = parseProbeFlags(s, argv, { ...LOCATION_FLAGS, ...LANG_FLAG, 'mark-delivered': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true)
    if (f.help === true) {
      process.stdout.write(t('help.export'))
      return 0
    }
    if (positionals.length !== 1) throw new UsageError(t('export.oneFile'))
    const file = positionals[0]
    const cfg = loadLocated(f, process.env)
    const outbox = Outbox.open(cfg.dataDir)
    try {
      const uids: string[] = []
      const lines = Readable.from(
        (function* () {
          for (const item of outbox.pending()) {
            uids.push(item.uid)
            yield item.doc + '\n'
          }
        })()
      )
      const tmp = `${file}.tmp-${process.pid}`
      const out = createWriteStream(tmp, { mode: 0o600 })
      if (file.endsWith('.gz')) await pipeline(lines, createGzip(), out)
      else await pipeline(lines, out)
      const fd = openSync(tmp, 'r')
      try {
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, file)
      if (f['mark-delivered'] === true) outbox.markExported(uids)
      const wrote = t(f['mark-delivered'] === true ? 'export.wroteDelivered' : 'export.wrotePending', { count: uids.length, file })
      process.stdout.write(`${wrote}\n${t('export.next', { file })}\n`)
      return 0
    } finally {
      outbox.close()
    }
  })
}
