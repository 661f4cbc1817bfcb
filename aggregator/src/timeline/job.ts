/**
 * The event job: every second, under its advisory lock (jobs.ts), it takes
 * the series the rollup triggers marked dirty and recomputes their events,
 * so that a measurement shows in its event within seconds of ingest, late
 * uploads included.
 */
import type { Database } from '../store/db.ts'
import type { Job } from '../jobs.ts'
import type { FingerprintDb } from '../../../shared/src/fingerprints.ts'
import { detectBlocking, detectOutages, matchEvents } from './detect.ts'
import { loadCountryRows, loadProbes, loadSeriesRows, saveEpisodes } from './store.ts'

/** The advisory lock of the event job ("blk" + 0x70). */
export const EVENTS_JOB_LOCK = 0x626c6b70

/** What the job needs besides the database. */
export interface JobContext {
  /** The fingerprint list scoring uses, to name the fingerprints that confirmed an event. */
  fingerprints?: () => Promise<FingerprintDb>
}

/** Recomputes one series' events (kind 'blocking') or one country's outages (kind 'outage'). */
export async function recomputeSeries (db: Database, kind: 'blocking' | 'outage', cc: string, domain: string, testName: string, ctx: JobContext = {}): Promise<void> {
  const rows = kind === 'blocking' ? await loadSeriesRows(db, cc, domain, testName) : await loadCountryRows(db, cc)
  const probes = await loadProbes(db, [...new Set(rows.map(r => r.probe))])
  const episodes = kind === 'blocking' ? detectBlocking(rows, probes) : detectOutages(rows, probes)
  const fp = episodes.some(e => e.confirmed_count > 0) ? await ctx.fingerprints?.() : undefined
  await db.transaction(async tx => { await saveEpisodes(tx, kind, cc, domain, testName, episodes, matchEvents, fp) })
}

/**
 * Claims up to `limit` dirty series, oldest first, and recomputes them.
 * A series marked again while it is being recomputed is queued again by
 * the trigger; a series whose recomputation fails is put back.
 * Resolves to the number of series recomputed.
 */
export async function processDirty (db: Database, ctx: JobContext = {}, limit = 100): Promise<number> {
  const claimed = (await db.query<{ kind: 'blocking' | 'outage', probe_cc: string, domain: string, test_name: string, since: string }>(
    `DELETE FROM tl_dirty WHERE (kind, probe_cc, domain, test_name) IN
       (SELECT kind, probe_cc, domain, test_name FROM tl_dirty ORDER BY marked_at LIMIT $1)
     RETURNING kind, probe_cc, domain, test_name, since::text AS since`, [limit])).rows
  for (let i = 0; i < claimed.length; i++) {
    const d = claimed[i]
    try {
      await recomputeSeries(db, d.kind, d.probe_cc, d.domain, d.test_name, ctx)
    } catch (err) {
      for (const back of claimed.slice(i)) {
        await db.query(`INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since) VALUES ($1, $2, $3, $4, $5::timestamptz)
          ON CONFLICT (kind, probe_cc, domain, test_name) DO NOTHING`, [back.kind, back.probe_cc, back.domain, back.test_name, back.since])
      }
      throw err
    }
  }
  return claimed.length
}

/** Runs processDirty until nothing is dirty (tests, and the simulator's final flush). */
export async function drainDirty (db: Database, ctx: JobContext = {}): Promise<void> {
  while (await processDirty(db, ctx) > 0) { /* again */ }
}

/** The timeline jobs, for startJobs(). */
export function timelineJobs (ctx: JobContext = {}, intervalMs = 1000): Job[] {
  return [{
    name: 'timeline-events',
    intervalMs,
    lockKey: EVENTS_JOB_LOCK,
    run: async (_conn, db) => { await processDirty(db, ctx) }
  }]
}
