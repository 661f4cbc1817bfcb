/**
 * Scheduled jobs (rollups, events, rescoring). Every instance schedules every
 * job, but a run first takes the job's PostgreSQL advisory lock: only one
 * instance runs a job at a time, and a job whose instance died is simply run
 * by the next instance whose timer fires (the lock dies with the session).
 */
import type { Database, Queryable } from './store/db.ts'

/** One scheduled job. */
export interface Job {
  name: string
  /** Milliseconds between runs. */
  intervalMs: number
  /** The advisory lock key; unique per job. */
  lockKey: number
  /** The work, on the connection that holds the lock. */
  run: (conn: Queryable, db: Database) => Promise<void>
}

/** A handle on running jobs. */
export interface JobRunner {
  /** Runs one job now (under its lock); resolves to false when another instance holds it. */
  runNow: (name: string) => Promise<boolean>
  stop: () => Promise<void>
}

/** Starts the timers of the given jobs. Errors are reported to onError and the job runs again next time. */
export function startJobs(db: Database, jobs: Job[], onError: (job: Job, err: unknown) => void = () => {}): JobRunner {
  const timers: NodeJS.Timeout[] = []
  const running = new Map<string, Promise<boolean>>()
  const runOne = async (job: Job): Promise<boolean> => {
    const inFlight = running.get(job.name)
    if (inFlight !== undefined) return await inFlight
    const p = (async () => {
      try {
        const r = await db.withAdvisoryLock(job.lockKey, async conn => {
          await job.run(conn, db)
        })
        return r.ran
      } catch (err) {
        onError(job, err)
        return false
      } finally {
        running.delete(job.name)
      }
    })()
    running.set(job.name, p)
    return await p
  }
  for (const job of jobs) {
    const t = setInterval(() => {
      void runOne(job)
    }, job.intervalMs)
    t.unref()
    timers.push(t)
  }
  return {
    runNow: async name => {
      const job = jobs.find(j => j.name === name)
      if (job === undefined) throw new Error(`no job named ${JSON.stringify(name)}; jobs: ${jobs.map(j => j.name).join(', ')}`)
      return await runOne(job)
    },
    async stop() {
      for (const t of timers) clearInterval(t)
      await Promise.allSettled([...running.values()])
    }
  }
}
