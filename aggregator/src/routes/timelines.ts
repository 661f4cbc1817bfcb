/**
 * Routes: GET /api/v1/timelines, per-region blocking timelines read from the
 * rollups (migration 0103: hourly and daily, per country, network and
 * subdivision), in JSON or CSV. This plugin also
 * registers the events, feeds and reports routes and starts the event job
 * (see docs/api.md, "Timelines, events, feeds, reports", and
 * docs/methodology.md, "Timelines, states and events").
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { startJobs, type JobRunner } from '../jobs.ts'
import type { Database } from '../store/db.ts'
import { timelineJobs } from '../timeline/job.ts'
import { bucketState, type BucketCounts, type BucketState } from '../timeline/states.ts'
import { queryTimeline, type TimelineRow } from '../timeline/store.ts'
import { csvSafeCell } from '../../../shared/src/csv.ts'
import { countryName, networkName } from '../names.ts'
import {
  ASN_RE, DOMAIN_RE, REGION_RE, TEST_NAME_RE, ccParam, enumParam, patternParam, sendParamError, timeParam, wantsCsv,
  ParamError, TIMELINES_QUERY, type Query
} from './timeline-params.ts'
import eventsRoutes from './events.ts'
import feedsRoutes from './feeds.ts'
import reportsRoutes from './reports.ts'

/** One bucket of a series in the API: its counts (every one present), time and state. */
export interface TimelineBucket extends Required<BucketCounts> {
  time: string
  state: BucketState
}

/**
 * One series: a region × domain × test_name, with its buckets in time order.
 * Names sit beside the codes (null when unknown), so that a reader needs no
 * lookup table: the country's from ISO 3166, the network's from the offline
 * ASN database (names.ts).
 */
export interface TimelineSeries {
  probe_cc: string
  probe_cc_name: string | null
  probe_asn: string | null
  probe_network_name: string | null
  probe_region: string | null
  domain: string | null
  test_name: string
  buckets: TimelineBucket[]
}

const DAY = 86400_000

/** The period a timeline covers when `since` is not given, per grain. */
const DEFAULT_DAYS = { hour: 7, day: 90, week: 365, month: 730 } as const

/** Groups bucket rows (ordered by series then time) into series with states and names. */
export function toSeries (cc: string, rows: TimelineRow[]): TimelineSeries[] {
  const out: TimelineSeries[] = []
  const ccName = countryName(cc)
  let cur: TimelineSeries | undefined
  for (const r of rows) {
    if (cur === undefined || cur.probe_asn !== r.probe_asn || cur.probe_region !== r.probe_region || cur.domain !== r.domain || cur.test_name !== r.test_name) {
      cur = {
        probe_cc: cc,
        probe_cc_name: ccName,
        probe_asn: r.probe_asn,
        probe_network_name: r.probe_asn === null ? null : networkName(r.probe_asn),
        probe_region: r.probe_region,
        domain: r.domain,
        test_name: r.test_name,
        buckets: []
      }
      out.push(cur)
    }
    const { probe_asn: _a, probe_region: _r, domain: _d, test_name: _t, time, ...counts } = r
    cur.buckets.push({ time, state: bucketState(r), ...counts, anomalous_source_count: r.anomalous_source_count ?? r.anomalous_probe_count })
  }
  return out
}

export const TIMELINE_CSV_COLUMNS = ['probe_cc', 'probe_asn', 'probe_region', 'domain', 'test_name', 'time', 'state',
  'measurement_count', 'ok_count', 'anomaly_count', 'confirmed_count', 'failure_count', 'down_count',
  'unreachable_count', 'probe_count', 'anomalous_probe_count', 'anomalous_source_count'] as const

const runners = new WeakMap<Database, JobRunner>()

/**
 * The timeline job runner an app started on this database, if any: tests
 * use its runNow('timeline-events') to wait for the job to catch up.
 */
export function timelineJobRunner (db: Database): JobRunner | undefined {
  return runners.get(db)
}

export default async function timelinesRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/api/v1/timelines', {
    schema: {
      summary: 'Per-region blocking timelines (hour or day buckets with counts and a state), JSON or CSV',
      tags: ['timelines'],
      querystring: TIMELINES_QUERY
    }
  }, async (req, reply) => {
    try {
      const q = req.query as Query
      const probeCc = ccParam(q, 'probe_cc', true)!
      const timeGrain = enumParam(q, 'time_grain', ['hour', 'day', 'week', 'month'] as const, 'hour')!
      const by = enumParam(q, 'by', ['cc', 'asn', 'region'] as const, 'cc')!
      const until = timeParam(q, 'until') ?? new Date(Math.ceil(Date.now() / 3600_000) * 3600_000)
      const since = timeParam(q, 'since') ?? new Date(until.getTime() - DEFAULT_DAYS[timeGrain] * DAY)
      if (since.getTime() >= until.getTime()) throw new ParamError('since', 'since must be before until')
      const maxSpan = (timeGrain === 'hour' ? 92 : 3660) * DAY
      if (until.getTime() - since.getTime() > maxSpan) {
        throw new ParamError('since', `a ${timeGrain} timeline spans at most ${maxSpan / DAY} days; narrow since/until or use time_grain=day`)
      }
      const filters = {
        probe_asn: patternParam(q, 'probe_asn', ASN_RE, 'AS197207'),
        probe_region: patternParam(q, 'probe_region', REGION_RE, 'IR-23'),
        domain: patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase(),
        test_name: patternParam(q, 'test_name', TEST_NAME_RE, 'web_connectivity')
      }
      const csv = wantsCsv(q, req.headers.accept)
      const rows = await queryTimeline(opts.db, { probe_cc: probeCc, since, until, time_grain: timeGrain, by, ...filters })
      const series = toSeries(probeCc, rows)
      if (csv) {
        const lines = [TIMELINE_CSV_COLUMNS.join(',')]
        for (const s of series) {
          for (const b of s.buckets) {
            const rec: Record<string, unknown> = { ...s, ...b }
            lines.push(TIMELINE_CSV_COLUMNS.map(c => csvSafeCell(rec[c])).join(','))
          }
        }
        return await reply.type('text/csv; charset=utf-8')
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
          bucket_count: rows.length,
          note: 'Buckets without measurements are absent: a gap is unknown, not ok. States are defined in docs/methodology.md.'
        },
        results: series
      }
    } catch (err) {
      return await sendParamError(reply, err)
    }
  })

  await app.register(eventsRoutes, opts)
  await app.register(feedsRoutes, opts)
  await app.register(reportsRoutes, opts)

  if (opts.jobs !== false) {
    const runner = startJobs(opts.db, timelineJobs({ fingerprints: async () => await app.fingerprints.get() }), (job, err) => { app.log.error({ err, job: job.name }, 'timeline job failed') })
    runners.set(opts.db, runner)
    app.addHook('onClose', async () => { runners.delete(opts.db); await runner.stop() })
  }
}
