/**
 * The country page, /country/:cc: ongoing and past events, and one timeline
 * chart per target (stacked ok / anomaly / confirmed / failure bars per
 * bucket, shaded by the bucket's state), with filters for ASN, subdivision,
 * test, category and period. The charts are drawn by static/country.js with
 * uPlot; a click on a bar opens /measurements for that bucket.
 */
import type { FastifyInstance } from 'fastify'
import { getJson, viewerApi, type Api, resultsOf, str } from '../api.ts'
import { fetchEvents, seriesOf, type BwEvent, type Series } from '../data.ts'
import { fmtDuration, fmtTime, isCountryCode, notice } from '../format.ts'
import { html, jsonForScript, query, type SafeHtml } from '../html.ts'
import { errorPage, page, sendPage } from '../layout.ts'
import { countryLabel, networkLabel } from '../../names.ts'

/** The periods the filter offers: label, and length in hours. */
export const PERIODS: ReadonlyArray<[string, string, number]> = [
  ['1d', 'last day', 24], ['7d', 'last 7 days', 24 * 7], ['30d', 'last 30 days', 24 * 30],
  ['90d', 'last 90 days', 24 * 90], ['365d', 'last year', 24 * 365]
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
export function windowOf (f: CountryFilters, now = new Date()): { since: string, until: string, grain: 'hour' | 'day', label: string } {
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
export function networksCell (asns: readonly string[]): SafeHtml {
  return html`${asns.map((a, i) => html`${i > 0 ? '; ' : null}<span class="network">${networkLabel(a)}</span>`)}`
}

/** An events table (ongoing or past). */
export function eventsTable (events: BwEvent[], id: string): SafeHtml {
  return html`<table class="list events" id="${id}"><thead><tr><th>target</th><th>test</th><th>kind</th><th>type</th><th>since</th><th>until</th><th>duration</th><th>networks</th></tr></thead><tbody>
${events.map(e => html`<tr><td class="target"><a href="/event/${encodeURIComponent(e.event_id)}">${e.domain === '' ? '(all targets)' : e.domain}</a></td><td>${e.test_name}</td><td>${e.kind}</td><td>${e.blocking_type}</td><td>${fmtTime(e.start_time)}</td><td>${e.end_time === null ? 'ongoing' : fmtTime(e.end_time)}</td><td>${fmtDuration(e.start_time, e.end_time)}</td><td>${networksCell(e.asns)}${e.regions.length > 0 ? html` · ${e.regions.join(', ')}` : null}</td></tr>\n`)}
</tbody></table>`
}

/**
 * The values of one axis in a country, for a filter. OONI's aggregation
 * writes probe_asn as a number (197207); the timelines take `AS197207`.
 */
async function options (api: Api, cc: string, axis: string): Promise<string[] | undefined> {
  const r = await getJson(api, '/api/v1/aggregation', { probe_cc: cc, axis_x: axis })
  if (!r.ok) return undefined
  const values = resultsOf(r.body).map(row => str(row, axis)).filter((x): x is string => x !== undefined)
  return [...new Set(axis === 'probe_asn' ? values.map(v => /^\d+$/.test(v) ? `AS${v}` : v) : values)].sort()
}

function select (name: string, label: string, values: string[] | undefined, current: string | undefined, text: (v: string) => string = v => v): SafeHtml {
  if (values === undefined) {
    return html`<label>${label} <input name="${name}" value="${current ?? ''}" size="10"></label>`
  }
  const all = current !== undefined && current !== '' && !values.includes(current) ? [current, ...values] : values
  return html`<label>${label} <select name="${name}"><option value="">all</option>${all.map(v => html`<option value="${v}"${v === current ? html` selected` : null}>${text(v)}</option>`)}</select></label>`
}

/** Registers /country/:cc. */
export async function countryPage (app: FastifyInstance): Promise<void> {
  app.get<{ Params: { cc: string }, Querystring: CountryFilters }>('/country/:cc', async (req, reply) => {
    const api = viewerApi(app, req)
    const cc = req.params.cc.toUpperCase()
    if (!isCountryCode(cc)) return await sendPage(reply, errorPage('No such country', 'A country is a two-letter ISO 3166 code, such as IR.'), 404)
    const f = req.query
    const w = windowOf(f, new Date(app.clock()))
    const [events, timelines, asns, regions, tests, categories, catDomains] = await Promise.all([
      fetchEvents(api, { probe_cc: cc, since: w.since, until: w.until, test_name: f.test_name }),
      getJson(api, '/api/v1/timelines', { probe_cc: cc, probe_asn: f.probe_asn, probe_region: f.probe_region, test_name: f.test_name, since: w.since, until: w.until, time_grain: w.grain }),
      options(api, cc, 'probe_asn'),
      options(api, cc, 'probe_region'),
      options(api, cc, 'test_name'),
      options(api, cc, 'category_code'),
      // The timelines have no category: the category filter keeps the domains measured in it.
      f.category_code !== undefined && f.category_code !== ''
        ? getJson(api, '/api/v1/aggregation', { probe_cc: cc, category_code: f.category_code, axis_x: 'domain' })
        : Promise.resolve(undefined)
    ])
    let series: Series[] = timelines.ok ? seriesOf(timelines.body) : []
    if (catDomains?.ok === true) {
      const keep = new Set(resultsOf(catDomains.body).map(r => str(r, 'domain')))
      series = series.filter(s => keep.has(s.domain))
    }
    // Only targets with something to show: a series of empty buckets is noise.
    series = series.filter(s => s.buckets.some(b => b.ok + b.anomaly + b.confirmed + b.failure > 0))
    // The most anomalous targets first; a country with hundreds of targets shows the first MAX_CHARTS.
    const weight = (s: Series): number => s.buckets.reduce((a, b) => a + b.anomaly + b.confirmed, 0)
    series.sort((a, b) => weight(b) - weight(a) || a.domain.localeCompare(b.domain) || a.test_name.localeCompare(b.test_name))
    const hidden = Math.max(0, series.length - MAX_CHARTS)
    series = series.slice(0, MAX_CHARTS)
    let evs = events.ok ? events.body : []
    if (f.probe_asn !== undefined && f.probe_asn !== '') evs = evs.filter(e => e.asns.length === 0 || e.asns.includes(f.probe_asn!))
    if (f.probe_region !== undefined && f.probe_region !== '') evs = evs.filter(e => e.regions.length === 0 || e.regions.includes(f.probe_region!))
    const ongoing = evs.filter(e => e.end_time === null)
    const past = evs.filter(e => e.end_time !== null)
    const grainMs = w.grain === 'hour' ? 3_600_000 : 86_400_000
    const chartData = {
      probe_cc: cc,
      probe_asn: f.probe_asn ?? '',
      probe_region: f.probe_region ?? '',
      grain_ms: grainMs,
      since: Date.parse(w.since),
      until: Date.parse(w.until),
      series: series.map((s, i) => ({ id: `chart-${i}`, domain: s.domain, test_name: s.test_name, buckets: s.buckets.map(b => [b.t, b.ok, b.anomaly, b.confirmed, b.failure, b.state]) }))
    }
    const body = html`<h1>${countryLabel(cc)}</h1>
<form class="filters" method="get" action="/country/${cc}">
${select('probe_asn', 'Network', asns, f.probe_asn, networkLabel)}
${select('probe_region', 'Subdivision', regions, f.probe_region)}
${select('test_name', 'Test', tests, f.test_name)}
${select('category_code', 'Category', categories, f.category_code)}
<label>Period <select name="period">${PERIODS.map(([v, label]) => html`<option value="${v}"${v === (f.period ?? '7d') ? html` selected` : null}>${label}</option>`)}</select></label>
<button type="submit">Apply</button>
</form>
<p class="window">Showing ${w.label}, by ${w.grain}. <a href="/api/v1/reports/${cc}${query({ since: w.since, until: w.until, format: 'html' })}">Block report</a> · <a href="/api/v1/feeds/events.atom?probe_cc=${cc}">Atom feed of events</a></p>
<section>
<h2>Ongoing events</h2>
${!events.ok ? notice(events.error) : ongoing.length === 0 ? notice('No ongoing events.') : eventsTable(ongoing, 'ongoing-events')}
<h2>Past events</h2>
${!events.ok ? null : past.length === 0 ? notice('No past events in this period.') : eventsTable(past, 'past-events')}
</section>
<section>
<h2>Timelines</h2>
<p class="legend"><span class="sw ok"></span> ok <span class="sw anomaly"></span> anomaly <span class="sw confirmed"></span> confirmed <span class="sw failure"></span> failure · background: <span class="bg blocked"></span> blocked <span class="bg likely_blocked"></span> likely blocked <span class="bg impaired"></span> impaired <span class="bg insufficient"></span> insufficient <span class="bg down"></span> down. Click a bar to see its measurements.</p>
${!timelines.ok ? notice(timelines.error) : series.length === 0 ? notice('No measurements in this period.') : null}
${hidden > 0 ? notice(`${hidden} more targets, with fewer anomalies, are not shown: narrow the filters (test, category, ASN) to see them.`) : null}
${series.map((s, i) => html`<figure class="timeline" id="chart-${i}" data-domain="${s.domain}" data-test="${s.test_name}">
<figcaption><span class="target">${s.domain}</span> · ${s.test_name} · <a href="/measurements${query({ probe_cc: cc, domain: s.domain === '(all)' ? undefined : s.domain, test_name: s.test_name, probe_asn: f.probe_asn, probe_region: f.probe_region, since: w.since, until: w.until })}">measurements</a></figcaption>
<div class="chart"></div>
<noscript>${s.buckets.length} buckets; the chart needs JavaScript.</noscript>
</figure>`)}
</section>
<script type="application/json" id="chart-data">${jsonForScript(chartData)}</script>`
    return await sendPage(reply, page({
      title: `${countryLabel(cc)}: blocking`,
      body,
      crumbs: [['Overview', '/'], [countryLabel(cc), '']],
      styles: ['uPlot.min.css'],
      scripts: ['uPlot.iife.min.js', 'country.js']
    }))
  })
}
