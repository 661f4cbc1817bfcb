/**
 * `blockwatch probe start`: the long-running scheduler (probe/src/schedule.ts)
 * with pino logs, resource limits (heap limit, niceness, bandwidth) and a
 * clean stop on SIGTERM or SIGINT. A kill -9 loses nothing committed: the
 * outbox is on disk and the next start uploads what is left.
 *
 * One process, and light while it waits (docs/benchmarks.md, "Probe
 * footprint"): the engine, with undici, TypeBox's schemas and the nettests,
 * is loaded by the first run, not at start, and the heap limit is watched
 * in this process (heap-limit.ts) rather than by re-running Node with
 * --max-old-space-size.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setPriority } from 'node:os'
import pino from 'pino'
import { logFormat, prettyStream, terminalDefault } from '../../../shared/src/log-format.ts'
import { UsageError } from '../../../shared/src/args.ts'
import { LANG_FLAG, intFlagSaid, parseProbeFlags, probeCommand } from '../i18n/command.ts'
import { logLanguage, translatingDestination } from '../i18n/log.ts'
import { LOCATION_FLAGS, aggregatorRoutes, loadLocated, locate, plainHttpWarning, saveConfig, type ProbeConfig } from '../config.ts'
import { Outbox } from '../outbox/outbox.ts'
import { register } from '../checkin.ts'
import { startScheduler, runList, type MeasureFn, type ProbeRuntime, type ListKind } from '../schedule.ts'
import { flush } from '../upload/uploader.ts'
import { MESSAGING_LIST } from '../lists/index.ts'
import type { HttpOptions } from '../upload/http.ts'
import { syncFingerprints } from '../fingerprint-sync.ts'
import { watchHeap } from '../heap-limit.ts'

/**
 * The probe engine's measure() (probe/src/engine.ts), loaded when the first
 * run starts: a probe waiting for its schedule does not hold the engine's
 * modules, and status/upload/export never load them.
 */
export const measureLazily: MeasureFn = async function* (targets, opts) {
  const { measure } = await import('../engine.ts')
  yield* measure(targets, opts)
}

/** The HTTP options for check-in and upload. */
export function httpOptionsFor(cfg: Readonly<ProbeConfig>): HttpOptions {
  return {
    proxy: cfg.upload.proxy,
    caPem: cfg.caFile !== null ? readFileSync(cfg.caFile, 'utf8') : null,
    bandwidthKbps: cfg.limits.bandwidthKbps
  }
}

/** Runs `blockwatch probe start`. */
export async function main(argv: string[]): Promise<number> {
  return await probeCommand(argv, async s => {
    const { t } = s
    const { values: f } = parseProbeFlags(s, argv, {
      ...LANG_FLAG,
      ...LOCATION_FLAGS,
      once: { type: 'string' },
      'first-run-within': { type: 'string' },
      'upload-proxy': { type: 'string' },
      'log-level': { type: 'string' },
      'also-measure': { type: 'string', multiple: true },
      'no-messaging-list': { type: 'boolean' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    })
    if (f.help === true) {
      process.stdout.write(t('help.start'))
      return 0
    }
    if (f.once !== undefined && f.once !== 'priority' && f.once !== 'full') throw new UsageError(t('start.once', { value: JSON.stringify(f.once) }))
    const level = f['log-level'] ?? 'info'
    if (!['trace', 'debug', 'info', 'warn', 'error', 'silent'].includes(level)) throw new UsageError(t('start.logLevel', { value: JSON.stringify(level) }))
    const firstWithinS = f['first-run-within'] !== undefined ? intFlagSaid(t, 'first-run-within', f['first-run-within'], 30, 0, 86400) : undefined
    let cfg = loadLocated(f, process.env)
    if (f['upload-proxy'] !== undefined) cfg = Object.freeze({ ...cfg, upload: Object.freeze({ ...cfg.upload, proxy: f['upload-proxy'] === '' ? null : f['upload-proxy'] }) })

    const format = logFormat(f['log-format'], process.env, terminalDefault(process.stdout))
    // JSON lines stay English (collectors, bug reports); the readable lines are in the volunteer's language.
    const logger = format === 'json' ? pino({ level, base: { probe: 'blockwatch' } }) : pino({ level }, translatingDestination(t, prettyStream(1, process.stdout.isTTY === true)))
    // Lines with a value inside cannot be translated by the destination: said in the log's language here.
    const say = logLanguage(format, t)
    const warn = plainHttpWarning(cfg.aggregatorUrl, say)
    if (warn !== null) logger.warn({ aggregator: cfg.aggregatorUrl }, warn)
    if (cfg.limits.nice > 0) {
      try {
        setPriority(0, cfg.limits.nice)
      } catch (err) {
        logger.warn({ err }, 'could not lower the CPU priority')
      }
    }
    const http = httpOptionsFor(cfg)
    // No token yet (init could not reach the aggregator): register now if possible.
    if (cfg.token === null) {
      // The same registration id as the attempt whose answer was lost, if any (kept in the config): the same probe.
      const registrationId = cfg.registrationId ?? randomUUID()
      try {
        const r = await register(aggregatorRoutes(cfg), null, http, registrationId)
        cfg = Object.freeze({ ...cfg, probeId: r.probeId, token: r.token, registrationId: null })
        saveConfig(locate(f, process.env).configFile, cfg as ProbeConfig)
        logger.info({ probe_id: r.probeId }, 'registered')
      } catch (err) {
        if (cfg.registrationId === null) {
          cfg = Object.freeze({ ...cfg, registrationId })
          saveConfig(locate(f, process.env).configFile, cfg as ProbeConfig)
        }
        logger.warn({ error: (err as Error).message }, 'not registered yet; measurements wait in the outbox until registration succeeds at the next start')
      }
    }
    const outbox = Outbox.open(cfg.dataDir, {
      maxBytes: cfg.limits.outboxMaxMb * 1024 * 1024,
      onDrop: (uid, reason, priority) => logger.warn({ measurement_uid: uid, reason, priority }, 'outbox full: dropped a measurement (counted in `probe status`)')
    })
    const abort = new AbortController()
    const rt: ProbeRuntime = {
      cfg,
      outbox,
      logger,
      http,
      measure: measureLazily,
      signal: abort.signal,
      neutralExtraCsvRows: (f['also-measure'] ?? []).map(u => `${u},CTRL,Control content,,blockwatch,local`),
      builtinLists: f['no-messaging-list'] === true ? [] : [{ name: 'messaging', file: MESSAGING_LIST }],
      ...(http.caPem != null ? { caPem: http.caPem } : {}),
      // The aggregator's fingerprint list before each run, the last good one when it is out of reach.
      syncFingerprints: async () =>
        (
          await syncFingerprints({
            aggregatorUrl: cfg.aggregatorUrl,
            mirrors: cfg.aggregatorMirrors,
            token: cfg.token,
            http: { ...http, signal: abort.signal },
            dataDir: cfg.dataDir,
            log: (lvl, msg, fields) => logger[lvl](fields ?? {}, msg),
            t: say
          })
        ).fingerprints
    }
    // limits.maxMemoryMb: past it, the run stops and the command ends with status 1 (heap-limit.ts).
    let overLimit = false
    let onOverLimit = (): void => abort.abort()
    const heap = watchHeap(cfg.limits.maxMemoryMb, ({ usedMb, limitMb }) => {
      overLimit = true
      logger.error({ signal: 'heap-limit', heap_mb: usedMb, limit_mb: limitMb }, 'stopping')
      onOverLimit()
    })
    try {
      if (f.once !== undefined) {
        const r = await runList(rt, f.once as ListKind)
        logger.info({ kind: f.once, written: r.written, unscrubbable: r.unscrubbable }, 'run finished')
        if (overLimit) return 1
        if (cfg.token !== null) {
          const up = await flush(
            outbox,
            { aggregatorUrl: cfg.aggregatorUrl, mirrors: cfg.aggregatorMirrors, token: cfg.token, probeId: cfg.probeId, http, batchSize: cfg.upload.batchSize, logger },
            false
          )
          if (!up.empty) {
            logger.warn({ error: up.error }, 'upload incomplete; the measurements stay in the outbox')
            return 1
          }
        }
        return 0
      }
      const scheduler = startScheduler(rt, abort, firstWithinS !== undefined ? { firstRunWithinMs: firstWithinS * 1000 } : {})
      const n = scheduler.nextRuns()
      logger.info({ next_priority: n.priority, next_full: n.full, jitter_s: cfg.schedules.jitterS, consent: cfg.consent.given }, 'scheduler started')
      await new Promise<void>(resolve => {
        let stopping = false
        const stop = (): void => {
          if (stopping) return
          stopping = true
          scheduler.stop().then(resolve, resolve)
        }
        const onSignal = (sig: string): void => {
          logger.info({ signal: sig }, 'stopping')
          stop()
        }
        process.once('SIGTERM', () => onSignal('SIGTERM'))
        process.once('SIGINT', () => onSignal('SIGINT'))
        onOverLimit = stop
      })
      logger.info({}, 'stopped')
      return overLimit ? 1 : 0
    } finally {
      heap.stop()
      outbox.close()
    }
  })
}
