/**
 * Routes: GET /api/v1/timelines, per-region blocking timelines read from the
 * rollups (migration 0103: hourly and daily, per country, network and
 * subdivision), in JSON or CSV. This plugin also
 * registers the events, feeds and reports routes (the event job is in
 * jobs-plugin.ts; see docs/api.md, "Timelines, events, feeds, reports", and
 * docs/methodology.md, "Timelines, states and events").
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { TIMELINE_CSV_COLUMNS, timelineSeries } from '../present/series.ts'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import { countryName } from '../names.ts'
import { ASN_RE, DOMAIN_RE, REGION_RE, TEST_NAME_RE, ccParam, enumParam, patternParam, timeParam, wantsCsv, TIMELINES_QUERY, checkTimelineWindow, type Query } from '../query/filters.ts'
import eventsRoutes from './events.ts'
import feedsRoutes from './feeds.ts'
import reportsRoutes from './reports.ts'

/** @deprecated Presenters live in present/series.ts; these names stay for the tests and benchmarks written before. */
export { toSeries, type TimelineBucket, type TimelineSeries } from '../present/series.ts'

const DAY = 86400_000

/** The period a timeline covers when `since` is not given, per grain. */
const DEFAULT_DAYS = { hour: 7, day: 90, week: 365, month: 730 } as const

/** @deprecated The jobs live in jobs-plugin.ts; this name stays for the tests written before. */
export { jobRunner as timelineJobRunner } from '../jobs-plugin.ts'

export default async function timelinesRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get(
    '/api/v1/timelines',
    {
      schema: {
        summary: 'Per-region blocking timelines (hour or day buckets with counts and a state), JSON or CSV',
        tags: ['timelines'],
        querystring: TIMELINES_QUERY
      }
    },
    async (req, reply) => {
      const q = req.query as Query
      const probeCc = ccParam(q, 'probe_cc', true)!
      const timeGrain = enumParam(q, 'time_grain', ['hour', 'day', 'week', 'month'] as const, 'hour')!
      const by = enumParam(q, 'by', ['cc', 'asn', 'region'] as const, 'cc')!
      const until = timeParam(q, 'until') ?? new Date(Math.ceil(app.clock() / 3600_000) * 3600_000)
      const since = timeParam(q, 'since') ?? new Date(until.getTime() - DEFAULT_DAYS[timeGrain] * DAY)
      checkTimelineWindow(since, until, timeGrain)
      const filters = {
        probe_asn: patternParam(q, 'probe_asn', ASN_RE, 'AS197207'),
        probe_region: patternParam(q, 'probe_region', REGION_RE, 'IR-23'),
        domain: patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase(),
        test_name: patternParam(q, 'test_name', TEST_NAME_RE, 'web_connectivity')
      }
      const csv = wantsCsv(q, req.headers.accept)
      const series = await timelineSeries(opts.db, { probe_cc: probeCc, since, until, time_grain: timeGrain, by, ...filters })
      if (csv) {
        const lines = [TIMELINE_CSV_COLUMNS.join(',')]
        for (const s of series) {
          for (const b of s.buckets) {
            const rec: Record<string, unknown> = { ...s, ...b }
            lines.push(TIMELINE_CSV_COLUMNS.map(c => csvSafeCell(rec[c])).join(','))
          }
        }
        return await reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="timelines-${probeCc}.csv"`)
          .send(lines.join('\r\n') + '\r\n')
      }
      return {
        metadata: {
          probe_cc: probeCc,
          probe_cc_name: countryName(probeCc),
          by,
          time_grain: timeGrain,
          since: since.toISOString(),
          until: until.toISOString(),
          ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
          series_count: series.length,
          bucket_count: series.reduce((n, s) => n + s.buckets.length, 0),
          note: 'Buckets without measurements are absent: a gap is unknown, not ok. States are defined in docs/methodology.md.'
        },
        results: series
      }
    }
  )

  await app.register(eventsRoutes, opts)
  await app.register(feedsRoutes, opts)
  await app.register(reportsRoutes, opts)
}
