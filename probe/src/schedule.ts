/**
 * The volunteer probe's scheduler (`blockwatch probe start`): each target
 * list runs on its own cron schedule (priority hourly, full daily by
 * default; ./cron.ts, expressions read by node-cron) with a random start
 * delay, so probes do not stampede. Runs are
 * serialised: a run never overlaps itself nor another list's run. Each run
 * checks in, measures, commits every measurement to the outbox, then wakes
 * the uploader, which retries with backoff until the outbox is empty.
 */
import type { Target } from '../../shared/src/target-list.ts'
import type { Measurement } from '../../shared/src/measurement.ts'
import type { EngineOptions } from './engine.ts'
import { CONSENT_TEXT_VERSION, type ProbeConfig } from './config.ts'
import type { Outbox } from './outbox/outbox.ts'
import { collect, type CollectResult } from './outbox/collect.ts'
import { checkIn, type CheckInState } from './checkin.ts'
import { flush, type UploadLogger } from './upload/uploader.ts'
import { publicInterfaceAddresses } from './privacy/scrub.ts'
import { scheduleCron, type CronTask } from './cron.ts'
import type { HttpOptions } from './upload/http.ts'

/** The engine's entry point (probe/src/engine.ts measure()): targets in, measurements out, streaming. */
export type MeasureFn = (targets: AsyncIterable<Target>, opts: EngineOptions) => AsyncIterable<Measurement>

/** The logger the scheduler writes to (pino fits). */
export interface ScheduleLogger extends UploadLogger {
  error: (obj: object, msg?: string) => void
  debug: (obj: object, msg?: string) => void
}

/** A small, neutral list for probes run without consent: sites nobody is at risk for visiting. */
export const NEUTRAL_LIST_CSV = `url,category_code,category_description,date_added,source,notes
https://example.com/,CTRL,Control content,2024-01-01,blockwatch,neutral
https://www.iana.org/,CTRL,Control content,2024-01-01,blockwatch,neutral
https://www.wikipedia.org/,CTRL,Control content,2024-01-01,blockwatch,neutral
`

/** Everything a run needs. */
export interface ProbeRuntime {
  cfg: Readonly<ProbeConfig>
  outbox: Outbox
  logger: ScheduleLogger
  http: HttpOptions
  measure: MeasureFn
  caPem?: string
  /** Blockpage fingerprints for the probe's own verdicts (the aggregator's scoring is canonical). */
  fingerprints?: EngineOptions['fingerprints']
  /** Fetches the aggregator's fingerprint list before each run (falling back to the last good one); `probe start` sets it. */
  syncFingerprints?: () => Promise<EngineOptions['fingerprints']>
  /** Lists shipped with the probe, measured after the aggregator's once the volunteer consented (`probe start`: the messaging list). */
  builtinLists?: Array<{ name: string; file: string }>
  /** Extra targets appended to the neutral list (npm start adds the local aggregator). */
  neutralExtraCsvRows?: string[]
  signal: AbortSignal
}

export type ListKind = 'priority' | 'full'

/**
 * The targets of one run. Without consent (or under an older consent text),
 * the neutral list only. With it, the aggregator's lists (the priority ones
 * for a priority run, all for a full run), then the built-in lists
 * (`probe start` passes the messaging list: WhatsApp, Telegram, Signal…),
 * each URL once.
 */
export async function* targetsFor(rt: Pick<ProbeRuntime, 'cfg' | 'logger' | 'neutralExtraCsvRows' | 'builtinLists'>, kind: ListKind, state: Pick<CheckInState, 'lists'>): AsyncGenerator<Target> {
  // Loaded by the first run: the lists' reader knows the nettests' schemes, whose declarations bring TypeBox.
  const { readTargetList, readTargetListFile } = await import('../../shared/src/target-list.ts')
  const neutral = async function* (): AsyncGenerator<Target> {
    const csv = NEUTRAL_LIST_CSV + (rt.neutralExtraCsvRows ?? []).map(r => r + '\n').join('')
    for await (const item of readTargetList(csv, 'neutral')) if (item.target !== undefined) yield item.target
  }
  if (!rt.cfg.consent.given) {
    yield* neutral()
    return
  }
  if (rt.cfg.consent.textVersion < CONSENT_TEXT_VERSION) {
    // The consent text changed since the volunteer agreed: ask again before testing anything sensitive.
    rt.logger.warn(
      { agreed: rt.cfg.consent.textVersion, current: CONSENT_TEXT_VERSION },
      'the consent text changed; run `blockwatch probe init --force` to read and consent again; measuring the neutral list until then'
    )
    yield* neutral()
    return
  }
  const lists = state.lists.filter(l => kind === 'full' || l.priority).map(l => ({ name: l.name, file: l.file }))
  if (lists.length === 0) {
    rt.logger.warn({ kind }, 'no target list from the aggregator yet; measuring the neutral list and the built-in lists')
    yield* neutral()
  }
  lists.push(...(rt.builtinLists ?? []))
  const seen = new Set<string>()
  for (const l of lists) {
    for await (const item of readTargetListFile(l.file)) {
      if (item.error !== undefined) {
        rt.logger.debug({ list: l.name, error: item.error }, 'skipped a bad row')
        continue
      }
      if (seen.has(item.target.url)) continue
      if (seen.size < 200_000) seen.add(item.target.url)
      yield item.target
    }
  }
}

/** Result of one run. */
export interface RunResult extends CollectResult {
  kind: ListKind
  checkIn: CheckInState
}

/** Runs one list once: check-in, measure, commit to the outbox. Never uploads (the caller wakes the uploader). */
export async function runList(rt: ProbeRuntime, kind: ListKind): Promise<RunResult> {
  const cfg = rt.cfg
  const state = await checkIn(rt.outbox, rt.outbox.stats(), {
    aggregatorUrl: cfg.aggregatorUrl,
    mirrors: cfg.aggregatorMirrors,
    token: cfg.token ?? '',
    probeId: cfg.probeId,
    http: { ...rt.http, signal: rt.signal },
    dataDir: cfg.dataDir
  })
  if (!state.fresh) rt.logger.warn({ error: state.error }, 'check-in failed; running with the last lists received')
  if (rt.syncFingerprints !== undefined) rt.fingerprints = (await rt.syncFingerprints()) ?? rt.fingerprints
  const addresses = [...state.addresses, ...cfg.scrubAddresses, ...publicInterfaceAddresses()]
  const stream = rt.measure(targetsFor(rt, kind, state), {
    ...(cfg.resolver !== null ? { resolver: cfg.resolver } : {}),
    controlUrl: cfg.controlUrl ?? cfg.aggregatorUrl,
    ...(rt.caPem !== undefined ? { caPem: rt.caPem } : {}),
    concurrency: cfg.limits.concurrency,
    probeCc: state.probeCc,
    probeAsn: state.probeAsn,
    probeRegion: cfg.region,
    probeId: cfg.probeId,
    // The engine stamps corrected times; collect() records the correction in annotations.
    clockOffsetMs: state.clockOffsetMs,
    ...(rt.fingerprints !== undefined ? { fingerprints: rt.fingerprints } : {}),
    signal: rt.signal
  })
  const res = await collect(stream, rt.outbox, { addresses, clockOffsetMs: state.clockOffsetMs, priority: kind === 'priority', probeId: cfg.probeId, logger: rt.logger })
  return { ...res, kind, checkIn: state }
}

/** A background uploader: wake() starts a flush that retries until the outbox is empty. */
export class UploadWorker {
  #running: Promise<void> | null = null
  #again = false
  constructor(readonly rt: ProbeRuntime) {}

  /** Starts a flush now, or another one after the current flush ends. */
  wake(): void {
    if (this.#running !== null) {
      this.#again = true
      return
    }
    this.#running = (async () => {
      do {
        this.#again = false
        const cfg = this.rt.cfg
        if (cfg.token === null) {
          this.rt.logger.warn({}, 'no probe token; run `blockwatch probe init` to register, then uploads start')
          break
        }
        try {
          const r = await flush(
            this.rt.outbox,
            {
              aggregatorUrl: cfg.aggregatorUrl,
              mirrors: cfg.aggregatorMirrors,
              token: cfg.token,
              probeId: cfg.probeId,
              http: this.rt.http,
              batchSize: cfg.upload.batchSize,
              maxBackoffMs: cfg.upload.maxBackoffS * 1000,
              logger: this.rt.logger,
              signal: this.rt.signal
            },
            true
          )
          if (r.empty) this.rt.logger.info({ uploaded: r.uploaded, duplicates: r.duplicates, quarantined: r.quarantined }, 'outbox empty')
        } catch (err) {
          this.rt.logger.error({ err }, 'upload failed unexpectedly')
        }
      } while (this.#again && !this.rt.signal.aborted)
      this.#running = null
    })()
  }

  /** Resolves when the current flush has stopped (after abort). */
  async idle(): Promise<void> {
    await this.#running
  }
}

/** The running scheduler. */
export interface Scheduler {
  /** Stops the schedules, aborts the current run and upload, waits for them to end. */
  stop: () => Promise<void>
  /** Runs a list now (queued behind any current run). */
  runNow: (kind: ListKind) => Promise<void>
  nextRuns: () => Record<ListKind, Date | null>
}

/** Starts the schedules. `firstRunWithinMs` (npm start) also runs the priority list once after a random delay below it. */
export function startScheduler(rt: ProbeRuntime, abort: AbortController, opts: { firstRunWithinMs?: number } = {}): Scheduler {
  const uploader = new UploadWorker(rt)
  let chain: Promise<void> = Promise.resolve()
  const queued = new Set<ListKind>()
  const runNow = async (kind: ListKind): Promise<void> => {
    // A list already waiting or running is not queued twice: a run never overlaps itself.
    if (queued.has(kind)) {
      rt.logger.warn({ kind }, 'previous run of this list still going; skipped')
      return
    }
    queued.add(kind)
    const mine = chain.then(async () => {
      if (rt.signal.aborted) return
      const started = Date.now()
      rt.logger.info({ kind }, 'run started')
      try {
        const r = await runList(rt, kind)
        rt.logger.info(
          { kind, written: r.written, unscrubbable: r.unscrubbable, probe_cc: r.checkIn.probeCc, probe_asn: r.checkIn.probeAsn, clock_offset_ms: r.checkIn.clockOffsetMs, ms: Date.now() - started },
          'run finished'
        )
      } catch (err) {
        rt.logger.error({ kind, err }, 'run failed')
        rt.outbox.recordError(`run ${kind}: ${(err as Error).message}`, Date.now(), 'run')
      } finally {
        queued.delete(kind)
      }
      uploader.wake()
    })
    chain = mine.catch(() => {})
    await mine
  }
  const task = (kind: ListKind): CronTask =>
    scheduleCron(
      rt.cfg.schedules[kind],
      async () => {
        await runNow(kind)
      },
      {
        maxRandomDelayMs: rt.cfg.schedules.jitterS * 1000,
        onSkipped: (slot, why) =>
          why === 'overlap'
            ? rt.logger.warn({ kind }, 'previous run of this list still going; skipped')
            : rt.logger.warn({ kind, slot: slot.toISOString() }, 'missed a scheduled run (the machine was asleep or busy); waiting for the next')
      }
    )
  const tasks: Record<ListKind, CronTask> = { priority: task('priority'), full: task('full') }
  const nextRuns = (): Record<ListKind, Date | null> => ({ priority: tasks.priority.nextRun(), full: tasks.full.nextRun() })
  const saveNext = (): void => {
    const n = nextRuns()
    rt.outbox.setMeta('next_runs', JSON.stringify({ priority: n.priority?.toISOString() ?? null, full: n.full?.toISOString() ?? null, jitter_s: rt.cfg.schedules.jitterS }))
  }
  saveNext()
  const saver = setInterval(saveNext, 60_000)
  let first: NodeJS.Timeout | undefined
  if (opts.firstRunWithinMs !== undefined) {
    const delay = Math.floor(Math.random() * opts.firstRunWithinMs)
    rt.logger.info({ in_ms: delay }, 'first run scheduled')
    first = setTimeout(() => {
      void runNow('priority')
    }, delay)
  }
  // Whatever an earlier process left in the outbox goes up now.
  uploader.wake()
  return {
    runNow,
    nextRuns,
    async stop() {
      clearInterval(saver)
      if (first !== undefined) clearTimeout(first)
      for (const t of Object.values(tasks)) t.stop()
      abort.abort()
      await chain
      await uploader.idle()
    }
  }
}
