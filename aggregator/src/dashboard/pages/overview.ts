/**
 * The overview, `/`: the countries with ongoing events, and probe and
 * measurement counts for the last day.
 */
import type { FastifyInstance } from 'fastify'
import { countsSince, probesSince } from '../../store/measurements.ts'
import { loadEvents, type BwEvent } from '../data.ts'
import { fmtCount, fmtTime, isCountryCode, notice } from '../format.ts'
import { html } from '../html.ts'
import { page, sendPage, type PageRoute } from '../layout.ts'
import { countryLabel } from '../../names.ts'

/** Registers `/`. */
export async function overviewPage (app: FastifyInstance, route: PageRoute): Promise<void> {
  app.get('/', route, async (_req, reply) => {
    const now = new Date(app.clock())
    const dayAgo = new Date(now.getTime() - 24 * 3_600_000)
    const [events, counts, probes] = await Promise.all([
      loadEvents(app.db, { ongoing: true, limit: 1000 }),
      countsSince(app.db, dayAgo),
      probesSince(app.db, dayAgo)
    ])
    const ongoing = events.filter(e => e.end_time === null)
    const byCc = new Map<string, BwEvent[]>()
    for (const e of ongoing) byCc.set(e.probe_cc, [...(byCc.get(e.probe_cc) ?? []), e])
    const countOf = new Map(counts.map(c => [c.probe_cc, c]))
    const totalMeasurements = counts.reduce((a, c) => a + c.measurements, 0)
    const ccs = [...new Set([...byCc.keys(), ...counts.map(c => c.probe_cc)])].filter(isCountryCode).sort((a, b) =>
      (byCc.get(b)?.length ?? 0) - (byCc.get(a)?.length ?? 0) || a.localeCompare(b))
    const body = html`<h1>Overview</h1>
<div class="cards">
  <div class="card"><div class="n" id="count-countries">${byCc.size}</div><div class="l">countries with ongoing events</div></div>
  <div class="card"><div class="n" id="count-measurements">${fmtCount(totalMeasurements)}</div><div class="l">measurements in the last day</div></div>
  <div class="card"><div class="n" id="count-probes">${fmtCount(probes)}</div><div class="l">probes that measured in the last day</div></div>
</div>
<h2>Countries with ongoing events</h2>
${byCc.size === 0 ? notice('No ongoing events.') : html`<table class="list" id="ongoing-countries"><thead><tr><th>country</th><th>ongoing events</th><th>targets</th><th>since</th></tr></thead><tbody>
${[...byCc.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0])).map(([cc, evs]) => html`<tr><td><a href="/country/${cc}">${countryLabel(cc)}</a></td><td>${evs.length}</td><td class="target">${[...new Set(evs.map(e => e.domain || '(network)'))].slice(0, 8).join(', ')}${evs.length > 8 ? ' …' : ''}</td><td>${fmtTime(evs.map(e => e.start_time).sort()[0])}</td></tr>\n`)}
</tbody></table>`}
<h2>All countries, last day</h2>
${ccs.length === 0 ? notice('No measurements in the last day.') : html`<table class="list" id="countries"><thead><tr><th>country</th><th>measurements</th><th>probes</th><th>ongoing events</th></tr></thead><tbody>
${ccs.map(cc => html`<tr><td><a href="/country/${cc}">${countryLabel(cc)}</a></td><td>${fmtCount(countOf.get(cc)?.measurements ?? 0)}</td><td>${fmtCount(countOf.get(cc)?.probes ?? 0)}</td><td>${byCc.get(cc)?.length ?? 0}</td></tr>\n`)}
</tbody></table>`}
<form method="get" action="/go" class="filters"><label>Go to a country <input name="cc" size="4" maxlength="2" placeholder="IR"></label><button type="submit">Open</button></form>
<p class="notice">Updated ${fmtTime(now.toISOString())}.</p>`
    return await sendPage(reply, page({ title: 'Overview', body }))
  })

  app.get<{ Querystring: { cc?: string } }>('/go', route, async (req, reply) => {
    const cc = (req.query.cc ?? '').trim().toUpperCase()
    return await reply.redirect(isCountryCode(cc) ? `/country/${cc}` : '/', 303)
  })
}
