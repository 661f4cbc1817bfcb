/**
 * Routes: the dashboard for researchers and monitors (issue 8), served at `/`.
 * Server-rendered HTML over the aggregator's own public API; the pages live
 * in ../dashboard/pages/, escaping in ../dashboard/html.ts.
 *
 *   /                    overview: countries with ongoing events, last day's counts
 *   /country/:cc         events and one timeline chart per target, with filters
 *   /event/:id           one event: share link, evidence, block-report exports
 *   /measurements        the measurements behind a chart bar (filters as the API's)
 *   /measurement/:uid    one measurement: the document and its verdict in words
 *   /probes              probe operators' page (token holder or admin only)
 *   /blockpages          candidate blockpages (admin only)
 *   /dashboard/static/*  CSS, scripts, uPlot (from node_modules)
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { staticRoutes } from '../dashboard/static.ts'
import { overviewPage } from '../dashboard/pages/overview.ts'
import { countryPage } from '../dashboard/pages/country.ts'
import { eventPage } from '../dashboard/pages/event.ts'
import { measurementPages } from '../dashboard/pages/measurement.ts'
import { probesPage } from '../dashboard/pages/probes.ts'
import { blockpagesPage } from '../dashboard/pages/blockpages.ts'

export default async function dashboardRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  await staticRoutes(app)
  await overviewPage(app)
  await countryPage(app)
  await eventPage(app, opts.publicUrl.replace(/\/+$/, ''))
  await measurementPages(app, { fingerprints: async () => await app.fingerprints.get() })
  await probesPage(app, { adminToken: opts.adminToken })
  await blockpagesPage(app)
}
