/**
 * The event job: under its advisory lock (jobs.ts), it takes the series the
 * rollup trigger queued in tl_dirty and recomputes their events, so that a
 * measurement shows in its event within seconds of ingest, late uploads
 * included.
 *
 * - Series that may start an event go first, then those that may end one,
 *   then the other series with anomalies, then a few of the rest, in every
 *   round (processDirty).
 * - A series is recomputed from its dirty point onwards (less a look-back,
 *   and from the start of any stored event still open near it), not from
 *   its first measurement.
 * - It loops without sleeping while work is queued.
 * - The queue is append-only (migration 0103): a claim deletes only the rows
 *   it can see, so the rows of an ingest that has not committed yet stay
 *   queued and are taken on the next round.
 */
import type { Database } from '../store/db.ts'
import type { Job } from '../jobs.ts'
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { DETECT, detectBlocking, detectOutages, matchEvents } from './detect.ts'
import { claimDirty, claimDirtyNear, loadCountryRows, loadProbes, loadSeriesRows, requeueDirty, saveEpisodes, seriesEventSpans, type DirtyRow } from '../store/timeline.ts'

/** The advisory lock of the event job ("blk" + 0x70). */
export const EVENTS_JOB_LOCK = 0x626c6b70

/** What the job needs besides the database. */
export interface JobContext {
  /** The fingerprint list scoring uses, to name the fingerprints that confirmed an event. */
  fingerprints?: () => Promise<FingerprintDb>
}

/**
 * How much history before its dirty point a recomputation reads, so that
 * the detector's score has warmed up by the time it reaches the new rows:
 * four times the gap that merges phases into one episode.
 */
export const LOOKBACK_MS = 4 * DETECT.MERGE_GAP_MS

/**
 * Where a recomputation starts: LOOKBACK_MS before the dirty point, moved
 * back to LOOKBACK_MS before the start of every stored event that new rows
 * could still change (open, or ended less than MERGE_GAP_MS before the
 * dirty point) and of every event that then overlaps the window, so that
 * each event in the window is recomputed whole. Events that ended before
 * the window are left as they are.
 */
export function windowStart(since: number, events: Array<{ start: number; end: number | null }>, lookbackMs = LOOKBACK_MS): number {
  let from = since - lookbackMs
  let cutoff = since - DETECT.MERGE_GAP_MS
  for (let moved = true; moved; ) {
    moved = false
    for (const e of events) {
      if ((e.end === null || e.end >= cutoff) && e.start - lookbackMs < from) {
        from = e.start - lookbackMs
        cutoff = Math.min(cutoff, from)
        moved = true
      }
    }
    cutoff = Math.min(cutoff, from)
  }
  return from
}

/**
 * Recomputes one series' events (kind 'blocking') or one country's outages
 * (kind 'outage') from `since` (epoch ms; -Infinity for its whole history).
 */
export async function recomputeSeries(db: Database, kind: 'blocking' | 'outage', cc: string, domain: string, testName: string, ctx: JobContext = {}, since = -Infinity): Promise<void> {
  const spans = await seriesEventSpans(db, kind, cc, domain, testName)
  const from = Number.isFinite(since) ? windowStart(since, spans) : -Infinity
  const fromDate = new Date(Number.isFinite(from) ? Math.max(0, from) : 0)
  const rows = kind === 'blocking' ? await loadSeriesRows(db, cc, domain, testName, fromDate) : await loadCountryRows(db, cc, fromDate)
  const probes = await loadProbes(db, [...new Set(rows.map(r => r.probe))])
  const episodes = kind === 'blocking' ? detectBlocking(rows, probes) : detectOutages(rows, probes)
  const fp = episodes.some(e => e.confirmed_count > 0) ? await ctx.fingerprints?.() : undefined
  await db.transaction(async tx => {
    await saveEpisodes(tx, kind, cc, domain, testName, episodes, matchEvents, fp, fromDate)
  })
}

/**
 * Claims up to `limit` queued series with anomalies (those that may start
 * an event first) and a fifth as many others (those that may end one
 * first), and recomputes each from its earliest dirty point, `concurrency` series at a time. A series whose
 * recomputation fails is queued again. Resolves to the number recomputed.
 */
export async function processDirty(db: Database, ctx: JobContext = {}, limit = 50, settleMs = 0, concurrency = 1): Promise<number> {
  // In each round, oldest first within each:
  //  1. series with anomalies and no stored event near them: a new event
  //     starts so (and one that does not is cheap to rule out);
  //  2. a few series without anomalies near a stored event: an event ends so;
  //  3. the other series with anomalies (a listed event's counts and
  //     networks), up to `limit` in all;
  //  4. a few other series without anomalies (a new row rarely changes
  //     anything there).
  // Those without anomalies wait settleMs first (a series that ingest
  // touches every second is then recomputed once for several batches), and
  // are taken a few at a time, so that a new anomaly never waits behind many
  // of them; but in every round, since under steady uploads some anomaly is
  // nearly always queued and an event's end waited behind them (issue 18,
  // the load test). When the job cannot keep up, the updates of events
  // already listed (3) lag, not new events and ends.
  const few = Math.max(1, Math.ceil(limit / 5))
  const gap = DETECT.MERGE_GAP_MS
  const starts = await claimDirtyNear(db, true, false, limit, 0, gap)
  const ends = await claimDirtyNear(db, false, true, few, settleMs, gap)
  const updates = starts.length < limit ? await claimDirty(db, true, limit - starts.length, 0) : []
  const rest = ends.length < few ? await claimDirty(db, false, few - ends.length, settleMs) : []
  const rows = [...starts, ...ends, ...updates, ...rest]
  const series = new Map<string, DirtyRow & { at: number }>()
  for (const r of rows) {
    const key = JSON.stringify([r.kind, r.probe_cc, r.domain, r.test_name])
    const at = r.since.startsWith('-infinity') ? -Infinity : Date.parse(r.since)
    const cur = series.get(key)
    if (cur === undefined) series.set(key, { ...r, at })
    else {
      cur.at = Math.min(cur.at, at)
      cur.anomalous ||= r.anomalous
    }
  }
  // In the order claimed: the priorities above.
  const work = [...series.values()]
  // `concurrency` series at a time: each is a few round trips to the
  // database, distinct series share no rows (saveEpisodes locks its own),
  // and on a busy machine the job is bound by waiting, not by its CPU.
  let next = 0
  const failed: Array<(typeof work)[number]> = []
  let firstError: unknown
  const worker = async (): Promise<void> => {
    while (next < work.length && firstError === undefined) {
      const d = work[next++]!
      try {
        await recomputeSeries(db, d.kind, d.probe_cc, d.domain, d.test_name, ctx, d.at)
      } catch (err) {
        failed.push(d)
        firstError ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, work.length)) }, worker))
  if (firstError !== undefined) {
    // The series that failed and those not started are queued again.
    for (const back of [...failed, ...work.slice(next)]) await requeueDirty(db, back, back.at)
    throw firstError
  }
  return work.length
}

/**
 * Runs processDirty until nothing is queued (nothing settled, with
 * settleMs), or until `budgetMs` has passed.
 */
export async function drainDirty(db: Database, ctx: JobContext = {}, budgetMs = Infinity, settleMs = 0, concurrency = 1): Promise<void> {
  const t0 = Date.now()
  while ((await processDirty(db, ctx, 50, settleMs, concurrency)) > 0 && Date.now() - t0 < budgetMs) {
    /* again */
  }
}

/** How long a series without anomalies waits in the queue before the job takes it (see processDirty). */
export const SETTLE_MS = 2000

/** Series the scheduled job recomputes at once (see processDirty); 4 of the pool's 10 connections. */
export const JOB_CONCURRENCY = 4

/**
 * The timeline jobs, for startJobs(): every `intervalMs` the event job
 * drains the queue, looping without sleep while work is queued (series
 * without anomalies once settled, JOB_CONCURRENCY series at a time), and lets go of its lock after 10 s so
 * that a stopping instance hands over.
 */
export function timelineJobs(ctx: JobContext = {}, intervalMs = 250): Job[] {
  return [
    {
      name: 'timeline-events',
      intervalMs,
      lockKey: EVENTS_JOB_LOCK,
      run: async (_conn, db) => {
        await drainDirty(db, ctx, 10_000, SETTLE_MS, JOB_CONCURRENCY)
      }
    }
  ]
}
