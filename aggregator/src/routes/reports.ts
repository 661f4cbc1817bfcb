/**
 * Routes: block reports for monitors.
 * - GET /api/v1/reports/{cc}?since&until&format=md|html|json
 * - GET /api/v1/reports/{cc}/chart.svg?domain&test_name&since&until
 * - GET /api/v1/reports/methodology.md (docs/methodology.md as served text)
 * Links are built on PUBLIC_URL (app.appOptions.publicUrl).
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import type { Queryable } from '../store/db.ts'
import { queryEvents, queryTimeline } from '../store/timeline.ts'
import { renderTimelineSvg, type ChartCell } from '../timeline/chart.ts'
import { CAVEATS, METHODOLOGY_TEXT, REPORT_CSS, reportHtml, reportMarkdown, summaryText, type Report, type ReportTarget } from '../timeline/report.ts'
import {
  CHART_QUERY, DOMAIN_RE, ParamError, REPORT_PARAMS, REPORT_QUERY, TEST_NAME_RE, ccParam, enumParam, patternParam, sendParamError, timeParam, type Query
} from './timeline-params.ts'
import { toSeries } from './timelines.ts'
import { cspWithStyles } from '../dashboard/layout.ts'
import { eventJson } from './events.ts'
import { countryLabel, countryName, networkLabel, networkNames } from '../names.ts'

const DAY = 86400_000
const METHODOLOGY_FILE = fileURLToPath(new URL('../../../docs/methodology.md', import.meta.url))

/** The dashboard's policy, plus the report's own inline stylesheet by hash. */
const REPORT_CSP = cspWithStyles([REPORT_CSS])

interface Window { since: Date, until: Date, grain: 'hour' | 'day', grainMs: number }

function windowOf (q: Query): Window {
  const until = timeParam(q, 'until') ?? new Date(Math.ceil(Date.now() / 3600_000) * 3600_000)
  const since = timeParam(q, 'since') ?? new Date(until.getTime() - 30 * DAY)
  if (since.getTime() >= until.getTime()) throw new ParamError('since', 'since must be before until')
  if (until.getTime() - since.getTime() > 366 * DAY) throw new ParamError('since', 'a report spans at most 366 days')
  const grain = until.getTime() - since.getTime() <= 14 * DAY ? 'hour' : 'day'
  return { since, until, grain, grainMs: grain === 'hour' ? 3600_000 : DAY }
}

/** The chart of one series: a row for the country, then one per network. */
async function chartSvg (db: Queryable, cc: string, domain: string, testName: string, w: Window): Promise<string> {
  const base = { probe_cc: cc, domain, test_name: testName, since: w.since, until: w.until, time_grain: w.grain }
  const cells: ChartCell[] = []
  for (const s of toSeries(cc, await queryTimeline(db, { ...base, by: 'cc' }))) {
    for (const b of s.buckets) cells.push({ row: `${countryLabel(cc)}, all networks`, time: b.time, state: b.state, measurements: b.measurement_count })
  }
  for (const s of toSeries(cc, await queryTimeline(db, { ...base, by: 'asn' }))) {
    for (const b of s.buckets) cells.push({ row: s.probe_asn === null ? '?' : networkLabel(s.probe_asn), time: b.time, state: b.state, measurements: b.measurement_count })
  }
  return await renderTimelineSvg(cells, { title: `${domain} in ${countryLabel(cc)} (${testName})`, since: w.since, until: w.until, grainMs: w.grainMs })
}

function chartUrl (publicUrl: string, cc: string, domain: string, testName: string, w: Window): string {
  const u = new URL(`${publicUrl}/api/v1/reports/${cc}/chart.svg`)
  u.searchParams.set('domain', domain)
  u.searchParams.set('test_name', testName)
  u.searchParams.set('since', w.since.toISOString())
  u.searchParams.set('until', w.until.toISOString())
  return u.toString()
}

/** Builds a country's report over a window. */
export async function buildReport (db: Queryable, publicUrl: string, cc: string, w: Window, inlineCharts: boolean): Promise<Report> {
  const events = await queryEvents(db, { probe_cc: cc, since: w.since, until: w.until, limit: 1000 })
  const series = toSeries(cc, await queryTimeline(db, { probe_cc: cc, since: w.since, until: w.until, time_grain: w.grain, by: 'cc' }))
  // Networks whose own buckets say blocked or likely_blocked, even where the
  // country's do not (a block confined to one network, a lone probe).
  const flagged = new Map<string, Set<string>>()
  for (const s of toSeries(cc, await queryTimeline(db, { probe_cc: cc, since: w.since, until: w.until, time_grain: w.grain, by: 'asn' }))) {
    if (!s.buckets.some(b => b.state === 'blocked' || b.state === 'likely_blocked')) continue
    const key = `${s.domain ?? ''}\0${s.test_name}`
    if (!flagged.has(key)) flagged.set(key, new Set())
    flagged.get(key)!.add(s.probe_asn ?? '?')
  }
  let measurements = 0
  const targets: ReportTarget[] = []
  for (const s of series) {
    const counts: Record<string, number> = {}
    for (const b of s.buckets) { counts[b.state] = (counts[b.state] ?? 0) + 1; measurements += b.measurement_count }
    const evs = events.filter(e => e.kind === 'blocking' && e.domain === s.domain && e.test_name === s.test_name)
    const networks = [...(flagged.get(`${s.domain ?? ''}\0${s.test_name}`) ?? [])].sort()
    if (evs.length === 0 && (counts.blocked ?? 0) + (counts.likely_blocked ?? 0) === 0 && networks.length === 0) continue
    const domain = s.domain ?? ''
    const t: ReportTarget = {
      domain: s.domain,
      test_name: s.test_name,
      state_counts: counts,
      flagged_networks: networks,
      flagged_network_names: networkNames(networks),
      event_ids: evs.map(e => e.event_id),
      chart_url: chartUrl(publicUrl, cc, domain, s.test_name, w)
    }
    if (inlineCharts) t.chart_svg = await chartSvg(db, cc, domain, s.test_name, w)
    targets.push(t)
  }
  const u = new URL(`${publicUrl}/api/v1/reports/${cc}`)
  u.searchParams.set('since', w.since.toISOString())
  u.searchParams.set('until', w.until.toISOString())
  return {
    probe_cc: cc,
    probe_cc_name: countryName(cc),
    since: w.since.toISOString(),
    until: w.until.toISOString(),
    time_grain: w.grain,
    generated_at: new Date().toISOString(),
    url: u.toString(),
    summary: {
      text: summaryText(cc, w.since.toISOString(), w.until.toISOString(), targets, events, measurements),
      measurement_count: measurements,
      blocked_target_count: targets.length,
      event_count: events.length,
      ongoing_event_count: events.filter(e => e.end_time === null).length,
      outage_count: events.filter(e => e.kind === 'outage').length
    },
    targets,
    events: events.map(e => eventJson(e, publicUrl)),
    methodology: { url: `${publicUrl}/api/v1/reports/methodology.md`, text: METHODOLOGY_TEXT, caveats: [...CAVEATS] }
  }
}

export default async function reportsRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/api/v1/reports/methodology.md', { schema: { summary: 'The methodology (docs/methodology.md)', tags: ['reports'] } }, async (_req, reply) => {
    const text = await readFile(METHODOLOGY_FILE, 'utf8').catch(() => `# Methodology\n\n${METHODOLOGY_TEXT}\n`)
    return await reply.type('text/markdown; charset=utf-8').send(text)
  })

  app.get<{ Params: { cc: string } }>('/api/v1/reports/:cc', {
    schema: {
      summary: 'A block report for monitors: summary, SVG charts, events with evidence, methodology',
      tags: ['reports'],
      params: REPORT_PARAMS,
      querystring: REPORT_QUERY
    }
  }, async (req, reply) => {
    try {
      const q = req.query as Query
      const cc = ccParam({ cc: req.params.cc }, 'cc', true)!
      const format = enumParam(q, 'format', ['md', 'html', 'json'] as const, 'json')!
      const report = await buildReport(opts.db, opts.publicUrl, cc, windowOf(q), format !== 'md')
      if (format === 'md') return await reply.type('text/markdown; charset=utf-8').send(reportMarkdown(report))
      if (format === 'html') {
        return await reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP)
          .header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').send(reportHtml(report))
      }
      return report
    } catch (err) {
      return await sendParamError(reply, err)
    }
  })

  app.get<{ Params: { cc: string } }>('/api/v1/reports/:cc/chart.svg', {
    schema: {
      summary: 'The state chart of one target, as SVG',
      tags: ['reports'],
      params: REPORT_PARAMS,
      querystring: CHART_QUERY
    }
  }, async (req, reply) => {
    try {
      const q = req.query as Query
      const cc = ccParam({ cc: req.params.cc }, 'cc', true)!
      const domain = patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase()
      if (domain === undefined) throw new ParamError('domain', 'domain is required, such as www.facebook.com')
      const testName = patternParam(q, 'test_name', TEST_NAME_RE, 'web_connectivity') ?? 'web_connectivity'
      const svg = await chartSvg(opts.db, cc, domain, testName, windowOf(q))
      return await reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'public, max-age=60').send(svg)
    } catch (err) {
      return await sendParamError(reply, err)
    }
  })
}
