/**
 * The background jobs as one fastify plugin (registered in app.ts): the
 * event job, blockpage discovery and the webhook delivery worker start when
 * the app is ready and stop in onClose, in instances with jobs
 * (AppOptions.jobs, default true). Routes own none of them. Each job runs
 * under its advisory lock (jobs.ts), so several instances may all start them.
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from './app.ts'
import { discoveryJob } from './blockpages/discover.ts'
import { startJobs, type Job, type JobRunner } from './jobs.ts'
import type { Database } from './store/db.ts'
import { timelineJobs } from './timeline/job.ts'
import { startWebhookWorker, type WebhookWorker } from './webhooks/deliver.ts'

const runners = new WeakMap<Database, JobRunner>()

/**
 * The job runner an app started on this database, if any: tests use its
 * runNow('timeline-events') to wait for the event job to catch up.
 */
export function jobRunner(db: Database): JobRunner | undefined {
  return runners.get(db)
}

/** What the log says when a job's run fails. */
const FAILED: Record<string, string> = { 'timeline-events': 'timeline job failed', 'blockpage-discovery': 'blockpage discovery failed' }

/** Starts the jobs on ready and stops them on close. */
export default async function jobsPlugin(app: FastifyInstance, opts: AppOptions): Promise<void> {
  if (opts.jobs === false) return
  let runner: JobRunner | undefined
  let worker: WebhookWorker | undefined
  app.addHook('onReady', async () => {
    const jobs: Job[] = [...timelineJobs({ fingerprints: async () => await app.fingerprints.get() }), discoveryJob(app.clock)]
    runner = startJobs(opts.db, jobs, (job, err) => {
      app.log.error({ err, job: job.name }, FAILED[job.name] ?? 'job failed')
    })
    runners.set(opts.db, runner)
    worker = startWebhookWorker(opts.db, { publicUrl: opts.publicUrl, clock: app.clock }, err => {
      app.log.error({ err }, 'webhook delivery failed')
    })
  })
  app.addHook('onClose', async () => {
    if (runners.get(opts.db) === runner) runners.delete(opts.db)
    await Promise.all([runner?.stop(), worker?.stop()])
  })
}
