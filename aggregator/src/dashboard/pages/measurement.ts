/**
 * The measurement page, /measurement/:uid: the full document, with the
 * verdict explained in words (which step failed, what the control saw, which
 * fingerprint matched). And the list page, /measurements?…, which shows the
 * measurements behind a bar of a country's timeline.
 */
import type { FastifyInstance } from 'fastify'
import type { FingerprintDb } from '../../../../shared/src/fingerprints.ts'
import { FILTER_PROPERTIES, SCHEMAS, TRACKING_PARAMETERS, parseFilters, type Filters } from '../../query/filters.ts'
import { listMeasurements, measurementByUid } from '../../store/measurements.ts'
import { decodeCursor, encodeCursor } from '../../present/cursor.ts'
import { explainMeasurement, type Explanation, type Flags } from '../explain.ts'
import { fmtTime, isCountryCode, notice, outcomeBadge, outcomeOf } from '../format.ts'
import { html, query, type SafeHtml } from '../html.ts'
import { errorPage, page, sendPage, withQuery, type PageRoute } from '../layout.ts'
import { localeOf, type Translate } from '../i18n/index.ts'
import { countryLabel, networkLabel, networkName } from '../../names.ts'

/** One text field of a measurement document (an OONI document is JSON of any shape). */
function str(doc: Record<string, unknown>, name: string): string | undefined {
  const v = doc[name]
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined
}

/** The list page's query string: the API's filters, its cursor and order (and tracking parameters, ignored). */
export const MEASUREMENTS_PAGE_QUERY = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...FILTER_PROPERTIES,
    cursor: { type: 'string', minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$', description: 'from the Next link' },
    order: SCHEMAS.enum(['desc', 'asc'], 'by time; default desc (newest first)')
  },
  patternProperties: TRACKING_PARAMETERS
} as const

/** Rows on one page of the list. */
const PAGE_ROWS = 100

/** Fields a public page never shows, whatever the API returns. */
const PRIVATE_FIELDS = ['probe_id', 'probe_ip']

/** A copy of the document without the fields public pages never show. */
export function publicDocument(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc }
  for (const f of PRIVATE_FIELDS) delete out[f]
  return out
}

function explanationHtml(e: Explanation, t: Translate): SafeHtml {
  return html`<section class="explain ${e.outcome}" id="verdict">
<h2>${t('measurement.verdict')} ${outcomeBadge(e.outcome)}</h2>
<p class="headline">${e.headline}</p>
<dl class="facts">
  <dt>${t('measurement.failedStep')}</dt><dd id="failed-step">${e.failedStep ?? t('measurement.noStep')}</dd>
  <dt>${t('measurement.controlSaw')}</dt><dd id="control-saw">${e.control.map(c => html`<div>${c}</div>`)}</dd>
  <dt>${t('measurement.fingerprint')}</dt><dd id="fingerprint">${
    e.fingerprints.length === 0
      ? t('event.none')
      : e.fingerprints.map(
          f =>
            html`<div><code>${f.name}</code> ${t('explain.fingerprintAt', { scope: f.scope, where: f.where })}: ${f.confirms ? t('explain.fingerprintConfirms') : t('explain.fingerprintElsewhere')}</div>`
        )
  }</dd>
</dl>
${
  e.steps.length === 0
    ? null
    : html`<h3>${t('measurement.steps')}</h3><table class="steps"><thead><tr><th>${t('measurement.step')}</th><th>${t('measurement.probe')}</th><th>${t('measurement.control')}</th></tr></thead><tbody>
${e.steps.map(st => html`<tr class="${st.failed ? 'failed' : ''}"><td>${st.step}</td><td>${st.probe}</td><td>${st.control ?? '—'}</td></tr>\n`)}
</tbody></table>`
}
${e.notes.map(n => html`<p>${n}</p>`)}
</section>`
}

/**
 * The network of a document in words: its ASN and the name the ASN database
 * gives it, else the name the probe reported (probe_network_name), else the
 * ASN alone.
 */
export function networkOfDoc(doc: Record<string, unknown>): string {
  const asn = str(doc, 'probe_asn')
  if (asn === undefined) return '—'
  const name = networkName(asn) ?? str(doc, 'probe_network_name')
  return name === undefined ? asn : `${asn} ${name}`
}

/** Options for the measurement pages. */
export interface MeasurementPageOptions {
  /** Fingerprints to match against the document, when the aggregator has them loaded. */
  fingerprints?: () => Promise<FingerprintDb | undefined>
}

/** Registers /measurement/:uid and /measurements. */
export async function measurementPages(app: FastifyInstance, route: PageRoute, opts: MeasurementPageOptions = {}): Promise<void> {
  app.get<{ Params: { uid: string } }>('/measurement/:uid', route, async (req, reply) => {
    const loc = localeOf(req)
    const t = loc.t
    const uid = req.params.uid
    const row = uid.length > 128 ? undefined : await measurementByUid(app.db, uid)
    if (row === undefined) return await sendPage(reply, errorPage(t('errors.noMeasurement'), t('errors.noMeasurementText', { uid: uid.slice(0, 128) }), 'AGG_ERR_NOT_FOUND', loc), 404)
    const doc = typeof row.doc === 'string' ? (JSON.parse(row.doc) as Record<string, unknown>) : row.doc
    // The judgement stored at ingest (issue 13): the explanation reads it rather than judging again.
    const flags: Flags = {
      anomaly: row.anomaly,
      confirmed: row.confirmed,
      failure: row.failure,
      ...(row.blocking_type !== null ? { blocking_type: row.blocking_type } : {}),
      verdict_reason: row.verdict_reason,
      down: row.down,
      fingerprints: row.fingerprints
    }
    const fps = opts.fingerprints !== undefined ? await opts.fingerprints() : undefined
    const explanation = explainMeasurement(doc, flags, fps, t)
    const cc = str(doc, 'probe_cc') ?? ''
    const target = str(doc, 'input') ?? str(doc, 'domain') ?? '(no input)'
    const shown = publicDocument(doc)
    const body = html`<h1>${t('measurement.title')}</h1>
<p class="target" id="target">${target}</p>
<dl class="facts">
  <dt>${t('measurement.test')}</dt><dd>${str(doc, 'test_name') ?? '—'} ${str(doc, 'test_version') ?? ''}</dd>
  <dt>${t('measurement.started')}</dt><dd>${fmtTime(str(doc, 'measurement_start_time'))}</dd>
  <dt>${t('measurement.network')}</dt><dd id="network">${countryLabel(cc)} · ${networkOfDoc(doc)}${str(doc, 'probe_region') !== undefined ? ` · ${str(doc, 'probe_region')!}` : ''}</dd>
  <dt>${t('measurement.id')}</dt><dd><code>${uid}</code></dd>
  <dt>${t('measurement.software')}</dt><dd>${str(doc, 'software_name') ?? '—'} ${str(doc, 'software_version') ?? ''}</dd>
</dl>
${explanationHtml(explanation, t)}
<section>
<h2>${t('measurement.document')}</h2>
<p><a href="/api/v1/measurements/${encodeURIComponent(uid)}">${t('measurement.raw')}</a> ${t('measurement.rawText')}</p>
<pre class="doc" id="document">${JSON.stringify(shown, null, 2)}</pre>
</section>`
    const crumbs: Array<[string, string]> = [[t('layout.overview'), '/']]
    if (isCountryCode(cc)) crumbs.push([countryLabel(cc), `/country/${cc}`])
    crumbs.push([uid, ''])
    return await sendPage(reply, page({ title: `${t('measurement.title')} ${uid}`, body, crumbs, locale: loc }))
  })

  app.get<{ Querystring: Filters & { cursor?: string; order?: 'asc' | 'desc'; lang?: string } }>('/measurements', withQuery(route, MEASUREMENTS_PAGE_QUERY), async (req, reply) => {
    const loc = localeOf(req)
    const t = loc.t
    const { cursor, order, lang, ...filters } = req.query
    for (const k of Object.keys(filters) as Array<keyof Filters>) if (!(k in FILTER_PROPERTIES)) delete filters[k]
    const desc = order !== 'asc'
    // One row past the page says whether there is a next one.
    const read = await listMeasurements(app.db, parseFilters(filters), { desc, after: cursor === undefined ? null : decodeCursor(cursor), limit: PAGE_ROWS + 1, offset: 0 })
    const rows = read.slice(0, PAGE_ROWS)
    const nextHref = read.length > PAGE_ROWS ? '/measurements' + query({ ...filters, order, lang, cursor: encodeCursor(rows[rows.length - 1]) }) : undefined
    const described = Object.entries(filters)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => (k === 'since' || k === 'until' ? `${k} ${fmtTime(v)}` : `${k} ${v!}`))
      .join(', ')
    const body = html`<h1>${t('measurement.list')}</h1>
<p class="filters-shown">${described === '' ? t('measurement.all') : described}</p>
${
  rows.length === 0
    ? notice(t('measurement.none'))
    : html`<table class="list" id="measurements"><thead><tr><th>${t('measurement.time')}</th><th>${t('measurement.target')}</th><th>${t('measurement.test')}</th><th>${t('measurement.networkColumn')}</th><th>${t('measurement.outcome')}</th><th>${t('measurement.blocking')}</th></tr></thead><tbody>
${rows.map(m => html`<tr><td><a href="/measurement/${encodeURIComponent(m.measurement_uid)}">${fmtTime(new Date(m.measurement_start_time).toISOString())}</a></td><td class="target">${m.input ?? m.domain ?? '—'}</td><td>${m.test_name}</td><td>${m.probe_cc} ${networkLabel(m.probe_asn)} ${m.probe_region ?? ''}</td><td>${outcomeBadge(outcomeOf(m))}</td><td>${m.blocking_type ?? ''}</td></tr>\n`)}
</tbody></table>`
}
${nextHref === undefined ? null : html`<p><a href="${nextHref}" rel="next">${t('measurement.next', { count: PAGE_ROWS })}</a></p>`}
<p><a href="/api/v1/measurements${query({ ...filters, format: 'csv' })}">${t('measurement.csv')}</a></p>`
    const crumbs: Array<[string, string]> = [[t('layout.overview'), '/']]
    const cc = filters.probe_cc?.toUpperCase()
    if (cc !== undefined && isCountryCode(cc)) crumbs.push([countryLabel(cc), `/country/${cc}`])
    crumbs.push([t('measurement.list'), ''])
    return await sendPage(reply, page({ title: t('measurement.list'), body, crumbs, locale: loc }))
  })
}
