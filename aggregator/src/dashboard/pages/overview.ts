/**
 * The overview, `/`: the countries with ongoing events, and probe and
 * measurement counts for the last day.
 */
import type { FastifyInstance } from 'fastify'
import { countsSince, probesSince } from '../../store/measurements.ts'
import { loadEvents, type BwEvent } from '../data.ts'
import { fmtCount, fmtTime, isCountryCode, notice } from '../format.ts'
import { html } from '../html.ts'
import { page, sendPage, withQuery, type PageRoute } from '../layout.ts'
import { localeOf } from '../i18n/index.ts'
import { TRACKING_PARAMETERS } from '../../query/filters.ts'

/** The query string of /go: the country typed in the form (anything: a wrong one goes back to the overview). */
const GO_QUERY = { type: 'object', additionalProperties: false, properties: { cc: { type: 'string', maxLength: 10 } }, patternProperties: TRACKING_PARAMETERS }
import { countryLabel } from '../../names.ts'

/** Registers `/`. */
export async function overviewPage(app: FastifyInstance, route: PageRoute): Promise<void> {
  app.get('/', route, async (req, reply) => {
    const loc = localeOf(req)
    const t = loc.t
    const now = new Date(app.clock())
    const dayAgo = new Date(now.getTime() - 24 * 3_600_000)
    const [events, counts, probes] = await Promise.all([loadEvents(app.db, { ongoing: true, limit: 1000 }), countsSince(app.db, dayAgo), probesSince(app.db, dayAgo)])
    const ongoing = events.filter(e => e.end_time === null)
    const byCc = new Map<string, BwEvent[]>()
    for (const e of ongoing) byCc.set(e.probe_cc, [...(byCc.get(e.probe_cc) ?? []), e])
    const countOf = new Map(counts.map(c => [c.probe_cc, c]))
    const totalMeasurements = counts.reduce((a, c) => a + c.measurements, 0)
    const ccs = [...new Set([...byCc.keys(), ...counts.map(c => c.probe_cc)])].filter(isCountryCode).sort((a, b) => (byCc.get(b)?.length ?? 0) - (byCc.get(a)?.length ?? 0) || a.localeCompare(b))
    const body = html`<h1>${t('overview.title')}</h1>
<div class="cards">
  <div class="card"><div class="n" id="count-countries">${byCc.size}</div><div class="l">${t('overview.countriesWithEvents')}</div></div>
  <div class="card"><div class="n" id="count-measurements">${fmtCount(totalMeasurements)}</div><div class="l">${t('overview.measurementsLastDay')}</div></div>
  <div class="card"><div class="n" id="count-probes">${fmtCount(probes)}</div><div class="l">${t('overview.probesLastDay')}</div></div>
</div>
<h2>${t('overview.ongoingHeading')}</h2>
${
  byCc.size === 0
    ? notice(t('overview.noOngoing'))
    : html`<table class="list" id="ongoing-countries"><thead><tr><th>${t('overview.country')}</th><th>${t('overview.ongoingEvents')}</th><th>${t('overview.targets')}</th><th>${t('overview.since')}</th></tr></thead><tbody>
${[...byCc.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0])).map(([cc, evs]) => html`<tr><td><a href="/country/${cc}">${countryLabel(cc)}</a></td><td>${evs.length}</td><td class="target">${[...new Set(evs.map(e => e.domain || '(network)'))].slice(0, 8).join(', ')}${evs.length > 8 ? ' …' : ''}</td><td>${fmtTime(evs.map(e => e.start_time).sort()[0])}</td></tr>\n`)}
</tbody></table>`
}
<h2>${t('overview.allHeading')}</h2>
${
  ccs.length === 0
    ? notice(t('overview.noMeasurements'))
    : html`<table class="list" id="countries"><thead><tr><th>${t('overview.country')}</th><th>${t('overview.measurements')}</th><th>${t('overview.probes')}</th><th>${t('overview.ongoingEvents')}</th></tr></thead><tbody>
${ccs.map(cc => html`<tr><td><a href="/country/${cc}">${countryLabel(cc)}</a></td><td>${fmtCount(countOf.get(cc)?.measurements ?? 0)}</td><td>${fmtCount(countOf.get(cc)?.probes ?? 0)}</td><td>${byCc.get(cc)?.length ?? 0}</td></tr>\n`)}
</tbody></table>`
}
<form method="get" action="/go" class="filters"><label>${t('overview.goTo')} <input name="cc" size="4" maxlength="2" placeholder="IR" dir="ltr"></label>${loc.lang === 'en' ? null : html`<input type="hidden" name="lang" value="${loc.lang}">`}<button type="submit">${t('overview.open')}</button></form>
<p class="notice">${t('overview.updated', { time: fmtTime(now.toISOString()) })}</p>`
    return await sendPage(reply, page({ title: t('overview.title'), body, locale: loc }))
  })

  app.get<{ Querystring: { cc?: string; lang?: string } }>('/go', withQuery(route, GO_QUERY), async (req, reply) => {
    const cc = (req.query.cc ?? '').trim().toUpperCase()
    const lang = req.query.lang === undefined ? '' : `?lang=${encodeURIComponent(req.query.lang)}`
    return await reply.redirect((isCountryCode(cc) ? `/country/${cc}` : '/') + lang, 303)
  })
}
