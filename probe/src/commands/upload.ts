/**
 * `blockwatch probe upload`: flushes the outbox now. Without --retry it stops
 * at the first failure (exit 1, the measurements stay in the outbox); with
 * --retry it keeps trying with backoff until the outbox is empty.
 */
import pino from 'pino'
import { logFormat, prettyStream, terminalDefault } from '../../../shared/src/log-format.ts'
import { parseFlags, runCommand } from '../../../shared/src/args.ts'
import { LOCATION_FLAGS, loadLocated, plainHttpWarning } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'
import { flush } from '../upload/uploader.ts'
import { httpOptionsFor } from './start.ts'

const HELP = `blockwatch probe upload — upload the pending measurements now

Usage: blockwatch probe upload [--retry] [--upload-proxy URL] [--config FILE] [--data-dir DIR]

  --retry              keep retrying (backoff with jitter) until the outbox is empty
  --upload-proxy URL   socks5://HOST:PORT, overriding the config

Example:
  blockwatch probe upload --upload-proxy socks5://127.0.0.1:9050
`

/** Runs `blockwatch probe upload`. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const { values: f } = parseFlags(argv, { ...LOCATION_FLAGS, retry: { type: 'boolean' }, 'upload-proxy': { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    if (f.help === true) { process.stdout.write(HELP); return 0 }
    let cfg = loadLocated(f, process.env)
    if (f['upload-proxy'] !== undefined) cfg = { ...cfg, upload: { ...cfg.upload, proxy: f['upload-proxy'] } }
    if (cfg.token === null) { process.stderr.write('blockwatch: this probe has no token; run `blockwatch probe init` to register\n'); return 1 }
    const warn = plainHttpWarning(cfg.aggregatorUrl)
    if (warn !== null) process.stderr.write(warn + '\n')
    const outbox = Outbox.open(cfg.dataDir, { maxBytes: cfg.limits.outboxMaxMb * 1024 * 1024 })
    const abort = new AbortController()
    process.once('SIGINT', () => abort.abort())
    process.once('SIGTERM', () => abort.abort())
    try {
      const logger = pino({ level: 'warn' }, logFormat(undefined, process.env, terminalDefault(process.stderr)) === 'json' ? pino.destination(2) : prettyStream(2, process.stderr.isTTY === true))
      const r = await flush(outbox, { aggregatorUrl: cfg.aggregatorUrl, mirrors: cfg.aggregatorMirrors, token: cfg.token, probeId: cfg.probeId, http: httpOptionsFor(cfg), batchSize: cfg.upload.batchSize, maxBackoffMs: cfg.upload.maxBackoffS * 1000, logger, signal: abort.signal }, f.retry === true)
      const s = outbox.stats()
      process.stdout.write(`uploaded ${r.uploaded}, already there ${r.duplicates}, rejected ${r.quarantined}; pending ${s.pending}\n`)
      if (!r.empty) { process.stderr.write(`blockwatch: upload stopped: ${r.error ?? 'interrupted'}; the measurements stay in the outbox (try --retry, --upload-proxy, or \`blockwatch probe export\`)\n`); return 1 }
      return 0
    } finally { outbox.close() }
  })
}
