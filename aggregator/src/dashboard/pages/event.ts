/**
 * The event page, /event/:id: a shareable link, the evidence (networks,
 * counts, fingerprints, sample measurements, the timeline around it) and the
 * block-report exports (Markdown, HTML, JSON) for the event's window.
 */
import type { FastifyInstance } from 'fastify'
import { PATTERNS } from '../../query/filters.ts'
import { listMeasurements } from '../../store/measurements.ts'
import { chartPalette } from '../../present/palette.ts'
import { earliest, fitStart } from '../../present/chart-window.ts'
import { loadEvent, loadSeries } from '../data.ts'
import { fmtCount, fmtDuration, fmtTime, isCountryCode, notice, outcomeBadge, outcomeOf } from '../format.ts'
import { html, jsonForScript, query, type SafeHtml } from '../html.ts'
import { errorPage, page, sendPage, type PageRoute } from '../layout.ts'
import { localeOf, type MessageKey } from '../i18n/index.ts'
import { countryLabel, networkLabel } from '../../names.ts'
import { networksCell } from './country.ts'

/** What the measurement list takes as a domain filter. */
const DOMAIN_FILTER = new RegExp(PATTERNS.domain)

const HOUR = 3_600_000

/** The event rules of issue 7, in words (catalogue keys). */
const RULE_WORDS: Record<string, MessageKey> = {
  confirmed: 'event.ruleConfirmed',
  networks: 'event.ruleNetworks',
  history: 'event.ruleHistory',
  outage: 'event.ruleOutage'
}

/** A translated sentence with one value as markup: the sentence is split where the value goes. */
function sentenceWith(text: (mark: string) => string, value: SafeHtml): SafeHtml {
  const mark = '\u0000'
  const parts = text(mark).split(mark)
  return html`${parts.map((p, i) => (i === 0 ? html`${p}` : html`${value}${p}`))}`
}

/** Registers /event/:id. */
export async function eventPage(app: FastifyInstance, route: PageRoute, publicUrl: string): Promise<void> {
  app.get<{ Params: { id: string } }>('/event/:id', route, async (req, reply) => {
    const loc = localeOf(req)
    const t = loc.t
    const e = await loadEvent(app.db, req.params.id)
    if (e === undefined) return await sendPage(reply, errorPage(t('errors.noEvent'), t('errors.noEventText', { id: req.params.id.slice(0, 60) }), 'AGG_ERR_NOT_FOUND', loc), 404)
    const cc = isCountryCode(e.probe_cc) ? e.probe_cc : ''
    const startMs = Date.parse(e.start_time)
    const endMs = e.end_time === null ? app.clock() : Date.parse(e.end_time)
    // The window shown and exported: the event with a margin of a day each side.
    const since = new Date((Number.isFinite(startMs) ? startMs : app.clock()) - 24 * HOUR)
    since.setUTCMinutes(0, 0, 0)
    const until = new Date(Math.ceil(((Number.isFinite(endMs) ? endMs : app.clock()) + 24 * HOUR) / HOUR) * HOUR)
    const grain = until.getTime() - since.getTime() <= 10 * 24 * HOUR ? 'hour' : 'day'
    const domainFilter = e.domain === '' ? undefined : e.domain
    // The store takes the target as it was stored, whatever it looks like
    // (a probe's odd input that is no host name included).
    const [samples, timeline] = await Promise.all([
      cc === ''
        ? Promise.resolve([])
        : listMeasurements(
            app.db,
            {
              probe_cc: [cc],
              ...(domainFilter !== undefined ? { domain: [domainFilter] } : {}),
              ...(e.test_name !== '' ? { test_name: [e.test_name] } : {}),
              since: new Date(e.start_time),
              ...(e.end_time !== null ? { until: new Date(e.end_time) } : {}),
              ...(e.kind === 'outage' ? {} : { anomaly: true })
            },
            { desc: true, after: null, limit: 20, offset: 0 }
          ),
      cc === '' ? Promise.resolve([]) : loadSeries(app.db, { probe_cc: cc, domain: domainFilter, test_name: e.test_name === '' ? undefined : e.test_name, since, until, time_grain: grain, by: 'cc' })
    ])
    // A blocking event has one series; an outage (no target) shows its country's most failed targets.
    const series = timeline.sort((a, b) => b.buckets.reduce((n, x) => n + x.failure + x.anomaly, 0) - a.buckets.reduce((n, x) => n + x.failure + x.anomaly, 0)).slice(0, 12)
    const sampleRows = samples
    const shareUrl = `${publicUrl}/event/${encodeURIComponent(e.event_id)}`
    const reportQuery = (format: string): string => query({ since: since.toISOString(), until: until.toISOString(), format })
    const what = e.kind === 'outage' ? 'event.outage' : 'event.blocking'
    const where = countryLabel(e.probe_cc)
    const targetName = e.domain === '' ? t('event.theNetwork') : e.domain
    const title = t(what, { target: targetName, country: where })
    const chartData = {
      probe_cc: cc,
      probe_asn: '',
      probe_region: '',
      grain_ms: grain === 'hour' ? HOUR : 24 * HOUR,
      since: fitStart(since.getTime(), until.getTime(), earliest(series.flatMap(s => s.buckets.map(b => b.t))), grain === 'hour' ? HOUR : 24 * HOUR),
      until: until.getTime(),
      palette: chartPalette(),
      series: series.map((s, i) => ({ id: `chart-${i}`, domain: s.domain, test_name: s.test_name, buckets: s.buckets.map(b => [b.t, b.ok, b.anomaly, b.confirmed, b.failure, b.state]) }))
    }
    const body = html`<h1>${sentenceWith(mark => t(what, { target: mark, country: where }), html`<span class="target" id="event-target">${targetName}</span>`)}</h1>
<p class="status">${e.end_time === null ? t('event.ongoingSince', { start: fmtTime(e.start_time), duration: fmtDuration(e.start_time, null) }) : t('event.fromTo', { start: fmtTime(e.start_time), end: fmtTime(e.end_time), duration: fmtDuration(e.start_time, e.end_time) })}</p>
<p class="share"><label>${t('event.link')}<br><input readonly id="share-link" value="${shareUrl}" dir="ltr"></label> <a href="${shareUrl}">${t('event.open')}</a></p>
<section id="evidence">
<h2>${t('event.evidence')}</h2>
<dl class="facts">
  <dt>${t('event.test')}</dt><dd>${e.test_name}</dd>
  <dt>${t('event.kind')}</dt><dd>${e.kind}</dd>
  <dt>${t('event.blockingType')}</dt><dd>${e.blocking_type === '' ? '—' : e.blocking_type}</dd>
  <dt>${t('event.networks')}</dt><dd id="event-asns">${e.asns.length === 0 ? '—' : networksCell(e.asns)}</dd>
  <dt>${t('event.subdivisions')}</dt><dd>${e.regions.length === 0 ? '—' : e.regions.join(', ')}</dd>
  <dt>${t('event.measurements')}</dt><dd id="event-measurements">${fmtCount(e.measurement_count)}</dd>
  <dt>${t('event.probes')}</dt><dd>${fmtCount(e.probe_count)}</dd>
  <dt>${t('event.fingerprints')}</dt><dd>${e.fingerprints.length === 0 ? t('event.none') : e.fingerprints.map((f, i) => html`${i > 0 ? ', ' : ''}<code>${f}</code>`)}</dd>
  <dt>${t('event.why')}</dt><dd>${e.rule === undefined ? '—' : RULE_WORDS[e.rule] !== undefined ? t(RULE_WORDS[e.rule]) : e.rule}</dd>
  <dt>${t('event.confidence')}</dt><dd>${e.confidence === undefined ? '—' : typeof e.confidence === 'number' && e.confidence <= 1 ? `${Math.round(e.confidence * 100)} %` : String(e.confidence)}</dd>
${e.outlier === undefined ? null : html`<dt>${t('event.outlier')}</dt><dd>${e.outlier}</dd>`}
  <dt>${t('event.id')}</dt><dd><code>${e.event_id}</code></dd>
</dl>
${series.map((s, i) => html`<figure class="timeline" id="chart-${i}"><figcaption><span class="target">${s.domain}</span> · ${s.test_name}, ${t('event.dayEitherSide')}</figcaption><div class="chart"></div></figure>`)}
${e.sample_uids.length === 0 ? null : html`<h3>${t('event.detectorSamples')}</h3><ul id="sample-uids">${e.sample_uids.map(u => html`<li><a href="/measurement/${encodeURIComponent(u)}">${u}</a></li>`)}</ul>`}
<h3>${t('event.samples')}</h3>
${
  sampleRows.length === 0
    ? notice(t('event.noSamples'))
    : html`<table class="list" id="samples"><thead><tr><th>${t('event.time')}</th><th>${t('event.target')}</th><th>${t('event.network')}</th><th>${t('event.outcome')}</th><th>${t('event.blockingColumn')}</th></tr></thead><tbody>
${sampleRows.map(m => html`<tr><td><a href="/measurement/${encodeURIComponent(m.measurement_uid)}">${fmtTime(new Date(m.measurement_start_time).toISOString())}</a></td><td class="target">${m.input ?? m.domain ?? ''}</td><td>${networkLabel(m.probe_asn)} ${m.probe_region ?? ''}</td><td>${outcomeBadge(outcomeOf(m))}</td><td>${m.blocking_type ?? ''}</td></tr>\n`)}
</tbody></table>`
}
${
  domainFilter !== undefined && !DOMAIN_FILTER.test(domainFilter)
    ? // The list's domain filter takes host names only: a target that is none is matched by its input.
      html`<p><a href="/measurements${query({ probe_cc: cc, input: domainFilter, test_name: e.test_name, since: e.start_time, until: e.end_time ?? undefined })}">${t('event.allMeasurements')}</a></p>`
    : html`<p><a href="/measurements${query({ probe_cc: cc, domain: domainFilter, test_name: e.test_name, since: e.start_time, until: e.end_time ?? undefined })}">${t('event.allMeasurements')}</a></p>`
}
</section>
<section class="exports" id="exports">
<h2>${t('event.report')}</h2>
<p>${t('event.reportText', { country: where, since: fmtTime(since.toISOString()), until: fmtTime(until.toISOString()) })}
<a href="/api/v1/reports/${cc}${reportQuery('md')}">Markdown</a>
<a href="/api/v1/reports/${cc}${reportQuery('html')}">HTML</a>
<a href="/api/v1/reports/${cc}${reportQuery('json')}">JSON</a></p>
</section>
<script type="application/json" id="chart-data">${jsonForScript(chartData)}</script>`
    return await sendPage(
      reply,
      page({
        title,
        body,
        locale: loc,
        crumbs: [
          [t('layout.overview'), '/'],
          [where, cc === '' ? '/' : `/country/${cc}`],
          [e.event_id, '']
        ],
        styles: ['uPlot.min.css'],
        scripts: ['uPlot.iife.min.js', 'country.js']
      })
    )
  })
}
