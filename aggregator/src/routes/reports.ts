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
import { METHODOLOGY_TEXT, REPORT_CSS, reportHtml, reportMarkdown } from '../timeline/report.ts'
import { buildReport, chartSvg, reportWindow, type ReportWindow } from '../present/report.ts'
import { CHART_QUERY, DOMAIN_RE, ParamError, REPORT_PARAMS, REPORT_QUERY, TEST_NAME_RE, ccParam, enumParam, patternParam, timeParam, type Query } from '../query/filters.ts'
import { cspWithStyles } from '../dashboard/layout.ts'

const DAY = 86400_000
const METHODOLOGY_FILE = fileURLToPath(new URL('../../../docs/methodology.md', import.meta.url))

/** The dashboard's policy, plus the report's own inline stylesheet by hash. */
const REPORT_CSP = cspWithStyles([REPORT_CSS])

/** The report's window from since/until (default: the 30 days to the next whole hour of `nowMs`). */
function windowOf(q: Query, nowMs: number): ReportWindow {
  const until = timeParam(q, 'until') ?? new Date(Math.ceil(nowMs / 3600_000) * 3600_000)
  const since = timeParam(q, 'since') ?? new Date(until.getTime() - 30 * DAY)
  if (since.getTime() >= until.getTime()) throw new ParamError('since', 'since must be before until')
  if (until.getTime() - since.getTime() > 366 * DAY) throw new ParamError('since', 'a report spans at most 366 days')
  return reportWindow(since, until)
}

export default async function reportsRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/api/v1/reports/methodology.md', { schema: { summary: 'The methodology (docs/methodology.md)', tags: ['reports'] } }, async (_req, reply) => {
    const text = await readFile(METHODOLOGY_FILE, 'utf8').catch(() => `# Methodology\n\n${METHODOLOGY_TEXT}\n`)
    return await reply.type('text/markdown; charset=utf-8').send(text)
  })

  app.get<{ Params: { cc: string } }>(
    '/api/v1/reports/:cc',
    {
      schema: {
        summary: 'A block report for monitors: summary, SVG charts, events with evidence, methodology',
        tags: ['reports'],
        params: REPORT_PARAMS,
        querystring: REPORT_QUERY
      }
    },
    async (req, reply) => {
      const q = req.query as Query
      const cc = ccParam({ cc: req.params.cc }, 'cc', true)!
      const format = enumParam(q, 'format', ['md', 'html', 'json'] as const, 'json')!
      const report = await buildReport(opts.db, opts.publicUrl, cc, windowOf(q, app.clock()), format !== 'md', app.clock())
      if (format === 'md') return await reply.type('text/markdown; charset=utf-8').send(reportMarkdown(report))
      if (format === 'html') {
        return await reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', REPORT_CSP)
          .header('x-content-type-options', 'nosniff')
          .header('referrer-policy', 'no-referrer')
          .send(reportHtml(report))
      }
      return report
    }
  )

  app.get<{ Params: { cc: string } }>(
    '/api/v1/reports/:cc/chart.svg',
    {
      schema: {
        summary: 'The state chart of one target, as SVG',
        tags: ['reports'],
        params: REPORT_PARAMS,
        querystring: CHART_QUERY
      }
    },
    async (req, reply) => {
      const q = req.query as Query
      const cc = ccParam({ cc: req.params.cc }, 'cc', true)!
      const domain = patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase()
      if (domain === undefined) throw new ParamError('domain', 'domain is required, such as www.facebook.com')
      const testName = patternParam(q, 'test_name', TEST_NAME_RE, 'web_connectivity') ?? 'web_connectivity'
      const svg = await chartSvg(opts.db, cc, domain, testName, windowOf(q, app.clock()))
      return await reply.type('image/svg+xml; charset=utf-8').header('cache-control', 'public, max-age=60').send(svg)
    }
  )
}
