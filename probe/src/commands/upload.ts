/**
 * `blockwatch probe upload`: flushes the outbox now. Without --retry it stops
 * at the first failure (exit 1, the measurements stay in the outbox); with
 * --retry it keeps trying with backoff until the outbox is empty.
 */
import pino from 'pino'
import { logFormat, prettyStream, terminalDefault } from '../../../shared/src/log-format.ts'
import { LANG_FLAG, parseProbeFlags, probeCommand } from '../i18n/command.ts'
import { translatingDestination } from '../i18n/log.ts'
import { LOCATION_FLAGS, loadLocated, plainHttpWarning } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'
import { flush } from '../upload/uploader.ts'
import { httpOptionsFor } from './start.ts'

/** Runs `blockwatch probe upload`. */
export async function main(argv: string[]): Promise<number> {
  return await probeCommand(argv, async s => {
    const { t } = s
    const { values: f } = parseProbeFlags(s, argv, { ...LOCATION_FLAGS, ...LANG_FLAG, retry: { type: 'boolean' }, 'upload-proxy': { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    if (f.help === true) {
      process.stdout.write(t('help.upload'))
      return 0
    }
    let cfg = loadLocated(f, process.env)
    if (f['upload-proxy'] !== undefined) cfg = { ...cfg, upload: { ...cfg.upload, proxy: f['upload-proxy'] } }
    if (cfg.token === null) {
      process.stderr.write(`blockwatch: ${t('upload.noToken')}\n`)
      return 1
    }
    const warn = plainHttpWarning(cfg.aggregatorUrl, t)
    if (warn !== null) process.stderr.write(warn + '\n')
    const outbox = Outbox.open(cfg.dataDir, { maxBytes: cfg.limits.outboxMaxMb * 1024 * 1024 })
    const abort = new AbortController()
    process.once('SIGINT', () => abort.abort())
    process.once('SIGTERM', () => abort.abort())
    try {
      const logger = pino(
        { level: 'warn' },
        logFormat(undefined, process.env, terminalDefault(process.stderr)) === 'json' ? pino.destination(2) : translatingDestination(t, prettyStream(2, process.stderr.isTTY === true))
      )
      const r = await flush(
        outbox,
        {
          aggregatorUrl: cfg.aggregatorUrl,
          mirrors: cfg.aggregatorMirrors,
          token: cfg.token,
          probeId: cfg.probeId,
          http: httpOptionsFor(cfg),
          batchSize: cfg.upload.batchSize,
          maxBackoffMs: cfg.upload.maxBackoffS * 1000,
          logger,
          signal: abort.signal
        },
        f.retry === true
      )
      const st = outbox.stats()
      process.stdout.write(t('upload.result', { uploaded: r.uploaded, duplicates: r.duplicates, rejected: r.quarantined, pending: st.pending }) + '\n')
      if (!r.empty) {
        process.stderr.write(`blockwatch: ${t('upload.stopped', { error: r.error ?? t('upload.interrupted') })}\n`)
        return 1
      }
      return 0
    } finally {
      outbox.close()
    }
  })
}
