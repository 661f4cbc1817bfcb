/**
 * The country page, /country/:cc: ongoing and past events, and one timeline
 * chart per target (stacked ok / anomaly / confirmed / failure bars per
 * bucket, shaded by the bucket's state), with filters for ASN, subdivision,
 * test, category and period. The charts are drawn by static/country.js with
 * uPlot; a click on a bar opens /measurements for that bucket.
 */
import type { FastifyInstance } from 'fastify'
import type { Queryable } from '../../store/db.ts'
import { aggregate, type AggregationAxis } from '../../store/aggregation.ts'
import { PATTERNS, SCHEMAS, TRACKING_PARAMETERS, checkTimelineWindow, normalAsn } from '../../query/filters.ts'
import { chartPalette } from '../../present/palette.ts'
import { earliest, fitStart } from '../../present/chart-window.ts'
import { loadEvents, loadSeries, type BwEvent, type Series } from '../data.ts'
import { fmtDuration, fmtTime, isCountryCode, notice } from '../format.ts'
import { html, jsonForScript, query, type SafeHtml } from '../html.ts'
import { errorPage, page, sendPage, withQuery, type PageRoute } from '../layout.ts'
import { localeOf, translator, type MessageKey, type Translate } from '../i18n/index.ts'
import { countryLabel, networkLabel } from '../../names.ts'

/** The periods the filter offers: label, and length in hours. */
export const PERIODS: ReadonlyArray<[string, string, number]> = [
  ['1d', 'last day', 24],
  ['7d', 'last 7 days', 24 * 7],
  ['30d', 'last 30 days', 24 * 30],
  ['90d', 'last 90 days', 24 * 90],
  ['365d', 'last year', 24 * 365]
]

/** At most this many timeline charts on one page. */
export const MAX_CHARTS = 40

/** The country page's filters, as they arrive in the query string. */
export interface CountryFilters {
  probe_asn?: string
  probe_region?: string
  test_name?: string
  category_code?: string
  period?: string
  /** Explicit window, overriding period (ISO dates or times). */
  since?: string
  until?: string
}

/** The window a period selects, ending now (hour grain up to a week, day grain beyond). */
export function windowOf(f: CountryFilters, now = new Date()): { since: string; until: string; grain: 'hour' | 'day'; label: string } {
  if (f.since !== undefined && f.since !== '') {
    const since = new Date(f.since)
    const until = f.until !== undefined && f.until !== '' ? new Date(f.until) : now
    if (!Number.isNaN(since.getTime()) && !Number.isNaN(until.getTime())) {
      const hours = (until.getTime() - since.getTime()) / 3_600_000
      return { since: since.toISOString(), until: until.toISOString(), grain: hours <= 24 * 7 ? 'hour' : 'day', label: `${fmtTime(since.toISOString())} to ${fmtTime(until.toISOString())}` }
    }
  }
  const p = PERIODS.find(x => x[0] === f.period) ?? PERIODS[1]
  const end = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000)
  const start = new Date(end.getTime() - p[2] * 3_600_000)
  return { since: start.toISOString(), until: end.toISOString(), grain: p[2] <= 24 * 7 ? 'hour' : 'day', label: p[1] }
}

/**
 * Networks named beside their ASNs, separated by semicolons: a name can
 * carry commas ("CU*Answers, Inc."), so commas would not say where one ends.
 */
export function networksCell(asns: readonly string[]): SafeHtml {
  return html`${asns.map((a, i) => html`${i > 0 ? '; ' : null}<span class="network">${networkLabel(a)}</span>`)}`
}

/** An events table (ongoing or past), its headings in the locale's language. */
export function eventsTable(events: BwEvent[], id: string, t: Translate = translator('en')): SafeHtml {
  return html`<table class="list events" id="${id}"><thead><tr><th>${t('country.target')}</th><th>${t('event.test')}</th><th>${t('country.kind')}</th><th>${t('country.type')}</th><th>${t('country.since')}</th><th>${t('country.until')}</th><th>${t('country.duration')}</th><th>${t('country.networks')}</th></tr></thead><tbody>
${events.map(e => html`<tr><td class="target"><a href="/event/${encodeURIComponent(e.event_id)}">${e.domain === '' ? t('country.allTargets') : e.domain}</a></td><td>${e.test_name}</td><td>${e.kind}</td><td>${e.blocking_type}</td><td>${fmtTime(e.start_time)}</td><td>${e.end_time === null ? t('country.ongoing') : fmtTime(e.end_time)}</td><td>${fmtDuration(e.start_time, e.end_time)}</td><td>${networksCell(e.asns)}${e.regions.length > 0 ? html` · ${e.regions.join(', ')}` : null}</td></tr>\n`)}
</tbody></table>`
}

/**
 * The chart legend: a swatch before each outcome's and each state's word.
 * The catalogue gives the words in one string each, separated by " · ", in
 * the order of the swatches.
 */
function legend(t: Translate): SafeHtml {
  const outcomes = t('country.legendOutcomes').split(' · ')
  const states = t('country.legendStates').split(' · ')
  const sw = ['ok', 'anomaly', 'confirmed', 'failure'].map((k, i) => html`<span class="sw ${k}"></span> ${outcomes[i] ?? k} `)
  const bg = ['blocked', 'likely_blocked', 'impaired', 'insufficient', 'down'].map((k, i) => html`<span class="bg ${k}"></span> ${states[i] ?? k} `)
  return html`${sw}· ${t('country.legendBackground')} ${bg}· ${t('country.legendClick')}`
}

/** A schema piece that also takes the empty value a form's "all" option sends. */
function orEmpty(pattern: string, description: string): Record<string, unknown> {
  return { type: 'string', pattern: `^(?:${pattern.replace(/^\^|\$$/g, '')})?$`, description }
}

/** The country page's query string: its filters, as the form sends them (empty means all). */
export const COUNTRY_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    probe_asn: orEmpty(PATTERNS.asn, 'network: AS197207 or 197207'),
    probe_region: orEmpty(PATTERNS.region, 'ISO 3166-2 subdivision, e.g. IR-23'),
    test_name: orEmpty(PATTERNS.testName, 'e.g. web_connectivity'),
    category_code: orEmpty(PATTERNS.categoryCode, 'Citizen Lab category, e.g. NEWS'),
    period: SCHEMAS.enum(['', ...PERIODS.map(p => p[0])], 'the window, ending at the next whole hour'),
    since: orEmpty(PATTERNS.time, 'start of an explicit window, inclusive'),
    until: orEmpty(PATTERNS.time, 'end of an explicit window, exclusive')
  },
  patternProperties: TRACKING_PARAMETERS
} as const

/**
 * The values of one axis in a country, for a filter: the aggregation
 * GET /api/v1/aggregation?probe_cc=…&axis_x=… answers, with ASNs as stored (`AS197207`).
 */
async function options(db: Queryable, cc: string, axis: AggregationAxis): Promise<string[]> {
  const { rows } = await aggregate(db, { probe_cc: [cc] }, [axis], 'day')
  const values = rows.map(row => row[axis]).filter((v): v is string => typeof v === 'string' && v !== '')
  return [...new Set(values)].sort()
}

/** The domains measured in a category of a country (the timelines have no category). */
async function domainsIn(db: Queryable, cc: string, category: string): Promise<Set<string>> {
  const { rows } = await aggregate(db, { probe_cc: [cc], category_code: [category] }, ['domain'], 'day')
  return new Set(rows.map(r => r.domain).filter((d): d is string => typeof d === 'string'))
}

function select(name: string, label: string, allLabel: string, values: string[], current: string | undefined, text: (v: string) => string = v => v): SafeHtml {
  const all = current !== undefined && current !== '' && !values.includes(current) ? [current, ...values] : values
  return html`<label>${label} <select name="${name}" dir="ltr"><option value="">${allLabel}</option>${all.map(v => html`<option value="${v}"${v === current ? html` selected` : null}>${text(v)}</option>`)}</select></label>`
}

/** Registers /country/:cc. */
export async function countryPage(app: FastifyInstance, route: PageRoute): Promise<void> {
  app.get<{ Params: { cc: string }; Querystring: CountryFilters }>('/country/:cc', withQuery(route, COUNTRY_QUERY), async (req, reply) => {
    const loc = localeOf(req)
    const t = loc.t
    const cc = req.params.cc.toUpperCase()
    if (!isCountryCode(cc)) return await sendPage(reply, errorPage(t('errors.noCountry'), t('errors.noCountryText'), 'AGG_ERR_NOT_FOUND', loc), 404)
    const f = req.query
    const w = windowOf(f, new Date(app.clock()))
    const since = new Date(w.since)
    const until = new Date(w.until)
    checkTimelineWindow(since, until, w.grain)
    const asn = f.probe_asn === undefined || f.probe_asn === '' ? undefined : normalAsn(f.probe_asn)
    const region = f.probe_region === undefined || f.probe_region === '' ? undefined : f.probe_region
    const testName = f.test_name === undefined || f.test_name === '' ? undefined : f.test_name
    const category = f.category_code === undefined || f.category_code === '' ? undefined : f.category_code
    const [events, timelines, asns, regions, tests, categories, catDomains] = await Promise.all([
      loadEvents(app.db, { probe_cc: cc, since, until, test_name: testName, limit: 1000 }),
      loadSeries(app.db, { probe_cc: cc, probe_asn: asn, probe_region: region, test_name: testName, since, until, time_grain: w.grain, by: 'cc' }),
      options(app.db, cc, 'probe_asn'),
      options(app.db, cc, 'probe_region'),
      options(app.db, cc, 'test_name'),
      options(app.db, cc, 'category_code'),
      category === undefined ? Promise.resolve(undefined) : domainsIn(app.db, cc, category)
    ])
    let series: Series[] = timelines
    if (catDomains !== undefined) series = series.filter(s => catDomains.has(s.domain))
    // Only targets with something to show: a series of empty buckets is noise.
    series = series.filter(s => s.buckets.some(b => b.ok + b.anomaly + b.confirmed + b.failure > 0))
    // The most anomalous targets first; a country with hundreds of targets shows the first MAX_CHARTS.
    const weight = (s: Series): number => s.buckets.reduce((a, b) => a + b.anomaly + b.confirmed, 0)
    series.sort((a, b) => weight(b) - weight(a) || a.domain.localeCompare(b.domain) || a.test_name.localeCompare(b.test_name))
    const hidden = Math.max(0, series.length - MAX_CHARTS)
    series = series.slice(0, MAX_CHARTS)
    let evs: BwEvent[] = events
    if (asn !== undefined) evs = evs.filter(e => e.asns.length === 0 || e.asns.includes(asn))
    if (region !== undefined) evs = evs.filter(e => e.regions.length === 0 || e.regions.includes(region))
    const ongoing = evs.filter(e => e.end_time === null)
    const past = evs.filter(e => e.end_time !== null)
    const grainMs = w.grain === 'hour' ? 3_600_000 : 86_400_000
    const chartData = {
      probe_cc: cc,
      probe_asn: asn ?? '',
      probe_region: region ?? '',
      grain_ms: grainMs,
      // The charts start at the first data shown when it comes later than the window.
      since: fitStart(Date.parse(w.since), Date.parse(w.until), earliest(series.flatMap(s => s.buckets.map(b => b.t))), grainMs),
      until: Date.parse(w.until),
      palette: chartPalette(),
      series: series.map((s, i) => ({ id: `chart-${i}`, domain: s.domain, test_name: s.test_name, buckets: s.buckets.map(b => [b.t, b.ok, b.anomaly, b.confirmed, b.failure, b.state]) }))
    }
    const period = PERIODS.find(p => p[1] === w.label)
    const windowLabel = period !== undefined ? t(`country.period${period[0]}` as MessageKey) : t('country.periodCustom', { since: fmtTime(w.since), until: fmtTime(w.until) })
    const body = html`<h1>${countryLabel(cc)}</h1>
<form class="filters" method="get" action="/country/${cc}">
${select('probe_asn', t('country.network'), t('country.all'), asns, asn, networkLabel)}
${select('probe_region', t('country.subdivision'), t('country.all'), regions, f.probe_region)}
${select('test_name', t('country.test'), t('country.all'), tests, f.test_name)}
${select('category_code', t('country.category'), t('country.all'), categories, f.category_code)}
<label>${t('country.period')} <select name="period">${PERIODS.map(([v]) => html`<option value="${v}"${v === (f.period ?? '7d') ? html` selected` : null}>${t(`country.period${v}` as MessageKey)}</option>`)}</select></label>
${loc.lang === 'en' ? null : html`<input type="hidden" name="lang" value="${loc.lang}">`}
<button type="submit">${t('country.apply')}</button>
</form>
<p class="window">${t('country.showing', { window: windowLabel, grain: t(w.grain === 'hour' ? 'country.byHour' : 'country.byDay') })} <a href="/api/v1/reports/${cc}${query({ since: w.since, until: w.until, format: 'html' })}">${t('country.report')}</a> · <a href="/api/v1/feeds/events.atom?probe_cc=${cc}">${t('country.feed')}</a></p>
<section>
<h2>${t('country.ongoingHeading')}</h2>
${ongoing.length === 0 ? notice(t('country.noOngoing')) : eventsTable(ongoing, 'ongoing-events', t)}
<h2>${t('country.pastHeading')}</h2>
${past.length === 0 ? notice(t('country.noPast')) : eventsTable(past, 'past-events', t)}
</section>
<section>
<h2>${t('country.timelines')}</h2>
<p class="legend">${legend(t)}</p>
${series.length === 0 ? notice(t('country.noData')) : null}
${hidden > 0 ? notice(t('country.hidden', { count: hidden })) : null}
${series.map(
  (s, i) => html`<figure class="timeline" id="chart-${i}" data-domain="${s.domain}" data-test="${s.test_name}">
<figcaption><span class="target">${s.domain}</span> · ${s.test_name} · <a href="/measurements${query({ probe_cc: cc, domain: s.domain === '(all)' ? undefined : s.domain, test_name: s.test_name, probe_asn: asn, probe_region: region, since: w.since, until: w.until })}">${t('country.measurementsLink')}</a></figcaption>
<div class="chart"></div>
<noscript>${t('country.noScript', { count: s.buckets.length })}</noscript>
</figure>`
)}
</section>
<script type="application/json" id="chart-data">${jsonForScript(chartData)}</script>`
    return await sendPage(
      reply,
      page({
        title: t('country.title', { country: countryLabel(cc) }),
        body,
        locale: loc,
        crumbs: [
          [t('layout.overview'), '/'],
          [countryLabel(cc), '']
        ],
        styles: ['uPlot.min.css'],
        scripts: ['uPlot.iife.min.js', 'country.js']
      })
    )
  })
}
