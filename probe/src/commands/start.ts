/**
 * `blockwatch probe start`: the long-running scheduler (probe/src/schedule.ts)
 * with pino logs, resource limits (heap cap, niceness, bandwidth) and a clean
 * stop on SIGTERM or SIGINT. A kill -9 loses nothing committed: the outbox is
 * on disk and the next start uploads what is left.
 */
import { spawn } from 'node:child_process'
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

/** Loads the probe engine (probe/src/engine.ts). Kept behind a function so status/upload/export never load it. */
export async function loadEngine(): Promise<MeasureFn> {
  const mod = await import('../engine.ts')
  return mod.measure
}

/** The HTTP options for check-in and upload. */
export function httpOptionsFor(cfg: Readonly<ProbeConfig>): HttpOptions {
  return {
    proxy: cfg.upload.proxy,
    caPem: cfg.caFile !== null ? readFileSync(cfg.caFile, 'utf8') : null,
    bandwidthKbps: cfg.limits.bandwidthKbps
  }
}

/** Re-runs this process with a V8 heap cap, when one is configured and not yet applied. Returns the child's exit code, or null to go on here. */
async function reexecWithHeapCap(maxMemoryMb: number): Promise<number | null> {
  if (maxMemoryMb <= 0 || process.env.BLOCKWATCH_HEAP_CAPPED === '1' || process.execArgv.some(a => a.startsWith('--max-old-space-size'))) return null
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${maxMemoryMb}`, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BLOCKWATCH_HEAP_CAPPED: '1', BLOCKWATCH_PARENT_PID: String(process.pid) }
  })
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig)
  }
  process.on('SIGTERM', forward)
  process.on('SIGINT', forward)
  return await new Promise(resolve => child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 1 : 0))))
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

    const capped = await reexecWithHeapCap(cfg.limits.maxMemoryMb)
    if (capped !== null) return capped

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
      try {
        const r = await register(aggregatorRoutes(cfg), null, http)
        cfg = Object.freeze({ ...cfg, probeId: r.probeId, token: r.token })
        saveConfig(locate(f, process.env).configFile, cfg as ProbeConfig)
        logger.info({ probe_id: r.probeId }, 'registered')
      } catch (err) {
        logger.warn({ error: (err as Error).message }, 'not registered yet; measurements wait in the outbox until registration succeeds at the next start')
      }
    }
    const outbox = Outbox.open(cfg.dataDir, {
      maxBytes: cfg.limits.outboxMaxMb * 1024 * 1024,
      onDrop: (uid, reason, priority) => logger.warn({ measurement_uid: uid, reason, priority }, 'outbox full: dropped a measurement (counted in `probe status`)')
    })
    const measure = await loadEngine()
    const abort = new AbortController()
    const rt: ProbeRuntime = {
      cfg,
      outbox,
      logger,
      http,
      measure,
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
    try {
      if (f.once !== undefined) {
        const r = await runList(rt, f.once as ListKind)
        logger.info({ kind: f.once, written: r.written, unscrubbable: r.unscrubbable }, 'run finished')
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
        const stop = (sig: string): void => {
          logger.info({ signal: sig }, 'stopping')
          scheduler.stop().then(resolve, resolve)
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
        // Under a heap-capping parent: stop when the parent is gone.
        const parent = Number(process.env.BLOCKWATCH_PARENT_PID ?? 0)
        if (parent > 0) {
          setInterval(() => {
            if (process.ppid !== parent) stop('parent-exit')
          }, 5000).unref()
        }
      })
      logger.info({}, 'stopped')
      return 0
    } finally {
      outbox.close()
    }
  })
}
