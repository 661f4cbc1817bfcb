/**
 * Routes: the dashboard for researchers and monitors (issue 8), served at `/`.
 * Server-rendered HTML from the same store queries and presenters the API
 * routes call (dashboard/data.ts); the pages live in ../dashboard/pages/,
 * escaping in ../dashboard/html.ts.
 *
 *   /                    overview: countries with ongoing events, last day's counts
 *   /country/:cc         events and one timeline chart per target, with filters
 *   /event/:id           one event: share link, evidence, block-report exports
 *   /measurements        the measurements behind a chart bar (filters as the API's)
 *   /measurement/:uid    one measurement: the document and its verdict in words
 *   /probes              probe operators' page (token holder or admin only)
 *   /blockpages          candidate blockpages (admin only)
 *   /dashboard/static/*  CSS, scripts, uPlot (from node_modules)
 *
 * Rate limits: the pages share one limit per viewer address
 * (`rateLimits.dashboard`, else `rateLimits.default`, else
 * {@link DEFAULT_DASHBOARD_LIMIT}). A page view costs one request however
 * many queries it makes, and no longer draws on the researcher API's limit.
 * Static files keep the app's default limit only: a page loads up to four.
 *
 * Errors on these routes (a bad parameter, the limit reached, the database
 * down) are the app's one error (http-errors.ts, toErrorBody) with its
 * status, Retry-After and code, rendered as an HTML page: a viewer is a
 * browser. docs/api.md, "The dashboard", says so.
 *
 * Languages: every page takes `?lang=` (en, fa, ru, zh-CN), else follows
 * Accept-Language (dashboard/i18n/).
 */
import type { FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { AppOptions, RateLimitRule } from '../app.ts'
import { toErrorBody } from '../http-errors.ts'
import { staticRoutes } from '../dashboard/static.ts'
import { errorPage, sendPage, type PageRoute } from '../dashboard/layout.ts'
import { LANG_PARAM, localeOf, type MessageKey, type Translate } from '../dashboard/i18n/index.ts'
import { TRACKING_PARAMETERS } from '../query/filters.ts'
import { overviewPage } from '../dashboard/pages/overview.ts'
import { countryPage } from '../dashboard/pages/country.ts'
import { eventPage } from '../dashboard/pages/event.ts'
import { measurementPages } from '../dashboard/pages/measurement.ts'
import { probesPage } from '../dashboard/pages/probes.ts'
import { blockpagesPage } from '../dashboard/pages/blockpages.ts'

/** The query string of a page without filters: its language, and tracking parameters (ignored). */
const PAGE_QUERY = { type: 'object', additionalProperties: false, properties: { lang: LANG_PARAM }, patternProperties: TRACKING_PARAMETERS }

/** Page views per viewer address, unless rateLimits.dashboard or rateLimits.default says otherwise. */
export const DEFAULT_DASHBOARD_LIMIT: Readonly<RateLimitRule> = Object.freeze({ max: 120, timeWindow: '1 minute' })

/** Titles of the error pages, by status. */
const ERROR_TITLES: Record<number, MessageKey> = {
  400: 'errors.badRequest',
  401: 'errors.tokenNeeded',
  403: 'errors.notAllowed',
  404: 'errors.notFound',
  413: 'errors.tooLarge',
  429: 'errors.tooMany',
  503: 'errors.unavailable'
}

/** What went wrong, in the viewer's words, from the one error's code and status. */
export function errorText(t: Translate, code: string, status: number, field: string | undefined, retryAfterS: number | undefined): string {
  const seconds = retryAfterS ?? 60
  if (code === 'AGG_ERR_BAD_PARAM' || code === 'AGG_ERR_UNKNOWN_PARAM' || code === 'AGG_ERR_UNSUPPORTED_PARAM') return t('errors.badParamText', { field: field ?? 'query' })
  if (code === 'AGG_ERR_DB_UNAVAILABLE') return t('errors.unavailableText', { seconds })
  if (status === 429) return t('errors.tooManyText', { seconds })
  if (status === 401) return t('errors.tokenNeededText')
  if (status === 403) return t('errors.notAllowedText')
  if (status === 404) return t('errors.notFoundText')
  if (status === 413) return t('errors.tooLargeText')
  if (status >= 500) return t('errors.failedText')
  return t('errors.badRequestText')
}

export default async function dashboardRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  await staticRoutes(app)
  // The pages in a context of their own, with their own limiter: one counter
  // per viewer address across every page (a limit in each route's config
  // would count each page apart). The app's limiters (per client, per probe
  // token) apply here too, with their own numbers.
  await app.register(async pages => {
    const rule = opts.rateLimits?.dashboard ?? opts.rateLimits?.default ?? DEFAULT_DASHBOARD_LIMIT
    await pages.register(rateLimit, { global: true, ...rule })
    // The pages are HTML for people: not in /openapi.json, which describes the API.
    const route: PageRoute = { schema: { hide: true, querystring: PAGE_QUERY } }

    pages.setErrorHandler(async (err, req, reply) => {
      const { body, retryAfterS } = toErrorBody(err, req)
      if (body.statusCode >= 500 && body.statusCode !== 503) req.log.error({ err }, 'dashboard page failed')
      if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
      // The title and what went wrong in the viewer's language; the one error's message (English, as
      // the API says it, naming the parameter and the value) below it as the details.
      const locale = localeOf(req)
      const title = locale.t(ERROR_TITLES[body.statusCode] ?? (body.statusCode >= 500 ? 'errors.failed' : 'errors.badRequest'))
      return await sendPage(reply, errorPage(title, errorText(locale.t, body.code, body.statusCode, body.field, retryAfterS), body.code, locale, body.message), body.statusCode)
    })

    await overviewPage(pages, route)
    await countryPage(pages, route)
    await eventPage(pages, route, opts.publicUrl.replace(/\/+$/, ''))
    await measurementPages(pages, route, { fingerprints: async () => await app.fingerprints.get() })
    await probesPage(pages, route, { adminToken: opts.adminToken })
    await blockpagesPage(pages, route, { adminToken: opts.adminToken })
  })
}
