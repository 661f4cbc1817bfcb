/**
 * The measurement page, /measurement/:uid: the full document, with the
 * verdict explained in words (which step failed, what the control saw, which
 * fingerprint matched). And the list page, /measurements?…, which shows the
 * measurements behind a bar of a country's timeline.
 */
import type { FastifyInstance } from 'fastify'
import type { FingerprintDb } from '../../../../shared/src/fingerprints.ts'
import { getJson, viewerApi, type Api, resultsOf, str } from '../api.ts'
import { explainMeasurement, type Explanation, type Flags } from '../explain.ts'
import { fmtTime, isCountryCode, notice, outcomeBadge, outcomeOf } from '../format.ts'
import { html, query, type SafeHtml } from '../html.ts'
import { errorPage, page, sendPage } from '../layout.ts'
import { countryLabel, networkName } from '../../names.ts'

/** Fields a public page never shows, whatever the API returns. */
const PRIVATE_FIELDS = ['probe_id', 'probe_ip']

/** A copy of the document without the fields public pages never show. */
export function publicDocument (doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc }
  for (const f of PRIVATE_FIELDS) delete out[f]
  return out
}

function explanationHtml (e: Explanation): SafeHtml {
  return html`<section class="explain ${e.outcome}" id="verdict">
<h2>Verdict ${outcomeBadge(e.outcome)}</h2>
<p class="headline">${e.headline}</p>
<dl class="facts">
  <dt>Step that failed</dt><dd id="failed-step">${e.failedStep ?? 'none: no step failed'}</dd>
  <dt>What the control saw</dt><dd id="control-saw">${e.control.map(c => html`<div>${c}</div>`)}</dd>
  <dt>Fingerprint matched</dt><dd id="fingerprint">${e.fingerprints.length === 0
    ? 'none'
    : e.fingerprints.map(f => html`<div><code>${f.name}</code> (scope ${f.scope}) on the ${f.where}: ${f.confirms ? 'a known blockpage, which confirms censorship here' : 'matched, but it does not confirm censorship in this country'}</div>`)}</dd>
</dl>
${e.steps.length === 0
  ? null
  : html`<h3>Steps</h3><table class="steps"><thead><tr><th>step</th><th>the probe</th><th>the control</th></tr></thead><tbody>
${e.steps.map(st => html`<tr class="${st.failed ? 'failed' : ''}"><td>${st.step}</td><td>${st.probe}</td><td>${st.control ?? '—'}</td></tr>\n`)}
</tbody></table>`}
${e.notes.map(n => html`<p>${n}</p>`)}
</section>`
}

/**
 * The network of a document in words: its ASN and the name the ASN database
 * gives it, else the name the probe reported (probe_network_name), else the
 * ASN alone.
 */
export function networkOfDoc (doc: Record<string, unknown>): string {
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
export async function measurementPages (app: FastifyInstance, opts: MeasurementPageOptions = {}): Promise<void> {
  app.get<{ Params: { uid: string } }>('/measurement/:uid', async (req, reply) => {
    const api = viewerApi(app, req)
    const uid = req.params.uid
    const r = await getJson<Record<string, unknown>>(api, `/api/v1/measurements/${encodeURIComponent(uid)}`)
    if (!r.ok) {
      return await sendPage(reply, errorPage('Measurement not found', r.status === 404 ? `There is no measurement ${uid}.` : r.error), r.status === 404 ? 404 : 502)
    }
    // The API may wrap the document ({measurement, …}) or return it bare.
    const raw = r.body
    const doc = (typeof raw.measurement === 'object' && raw.measurement !== null ? raw.measurement : typeof raw.doc === 'object' && raw.doc !== null ? raw.doc : raw) as Record<string, unknown>
    const meta = raw === doc ? {} : raw
    const flags: Flags = {}
    for (const k of ['anomaly', 'confirmed', 'failure'] as const) {
      const v = meta[k] ?? (doc.scores as Record<string, unknown> | undefined)?.[k]
      if (typeof v === 'boolean') flags[k] = v
    }
    const bt = meta.blocking_type
    if (typeof bt === 'string') flags.blocking_type = bt
    // The judgement stored at ingest (issue 13): the explanation reads it rather than judging again.
    const verdict = meta.verdict as { reason?: unknown, down?: unknown, fingerprints?: unknown } | undefined
    if (verdict !== undefined && verdict !== null) {
      flags.verdict_reason = typeof verdict.reason === 'string' ? verdict.reason : null
      flags.down = verdict.down === true
      flags.fingerprints = Array.isArray(verdict.fingerprints) ? verdict.fingerprints.filter((x): x is string => typeof x === 'string') : null
    }
    const fps = opts.fingerprints !== undefined ? await opts.fingerprints() : undefined
    const explanation = explainMeasurement(doc, flags, fps)
    const cc = str(doc, 'probe_cc') ?? ''
    const target = str(doc, 'input') ?? str(doc, 'domain') ?? '(no input)'
    const shown = publicDocument(doc)
    const body = html`<h1>Measurement</h1>
<p class="target" id="target">${target}</p>
<dl class="facts">
  <dt>Test</dt><dd>${str(doc, 'test_name') ?? '—'} ${str(doc, 'test_version') ?? ''}</dd>
  <dt>Started</dt><dd>${fmtTime(str(doc, 'measurement_start_time'))}</dd>
  <dt>Network</dt><dd id="network">${countryLabel(cc)} · ${networkOfDoc(doc)}${str(doc, 'probe_region') !== undefined ? ` · ${str(doc, 'probe_region')!}` : ''}</dd>
  <dt>Measurement id</dt><dd><code>${uid}</code></dd>
  <dt>Software</dt><dd>${str(doc, 'software_name') ?? '—'} ${str(doc, 'software_version') ?? ''}</dd>
</dl>
${explanationHtml(explanation)}
<section>
<h2>Full document</h2>
<p><a href="/api/v1/measurements/${encodeURIComponent(uid)}">Raw JSON</a> (the researcher API). The probe's identity is never shown.</p>
<pre class="doc" id="document">${JSON.stringify(shown, null, 2)}</pre>
</section>`
    const crumbs: Array<[string, string]> = [['Overview', '/']]
    if (isCountryCode(cc)) crumbs.push([countryLabel(cc), `/country/${cc}`])
    crumbs.push([uid, ''])
    return await sendPage(reply, page({ title: `Measurement ${uid}`, body, crumbs }))
  })

  app.get<{ Querystring: Record<string, string | undefined> }>('/measurements', async (req, reply) => {
    const api = viewerApi(app, req)
    const q = req.query
    const filters = {
      probe_cc: q.probe_cc, probe_asn: q.probe_asn, probe_region: q.probe_region, domain: q.domain, input: q.input,
      test_name: q.test_name, category_code: q.category_code, since: q.since, until: q.until,
      anomaly: q.anomaly, confirmed: q.confirmed, failure: q.failure
    }
    const limit = 100
    const r = await getJson(api, '/api/v1/measurements', { ...filters, limit, cursor: q.cursor, order: q.order })
    const rows = r.ok ? resultsOf(r.body) : []
    const meta = r.ok && typeof r.body === 'object' && r.body !== null ? (r.body as { metadata?: Record<string, unknown> }).metadata : undefined
    const next = typeof meta?.next_url === 'string' ? meta.next_url : undefined
    let nextHref: string | undefined
    if (next !== undefined) {
      const cursor = new URL(next, 'http://x').searchParams.get('cursor')
      if (cursor !== null) nextHref = '/measurements' + query({ ...filters, cursor })
    }
    const described = Object.entries(filters).filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => k === 'since' || k === 'until' ? `${k} ${fmtTime(v)}` : `${k} ${v!}`).join(', ')
    const body = html`<h1>Measurements</h1>
<p>${described === '' ? 'All measurements' : described}${typeof meta?.count === 'number' ? ` · ${meta.count} in all` : ''}</p>
${r.ok ? null : notice(r.error)}
${!r.ok ? null : rows.length === 0
  ? notice('No measurements match.')
  : html`<table class="list" id="measurements"><thead><tr><th>time</th><th>target</th><th>test</th><th>network</th><th>outcome</th><th>blocking</th></tr></thead><tbody>
${rows.map(m => {
  const uid = str(m, 'measurement_uid') ?? ''
  return html`<tr><td><a href="/measurement/${encodeURIComponent(uid)}">${fmtTime(str(m, 'measurement_start_time'))}</a></td><td class="target">${str(m, 'input', 'domain') ?? '—'}</td><td>${str(m, 'test_name') ?? ''}</td><td>${str(m, 'probe_cc') ?? ''} ${networkOfDoc(m)} ${str(m, 'probe_region') ?? ''}</td><td>${outcomeBadge(outcomeOf(m))}</td><td>${str(m, 'blocking_type') ?? ''}</td></tr>\n`
})}
</tbody></table>`}
${nextHref === undefined ? null : html`<p><a href="${nextHref}" rel="next">Next ${limit}</a></p>`}
<p><a href="/api/v1/measurements${query({ ...filters, format: 'csv' })}">Download as CSV</a></p>`
    const crumbs: Array<[string, string]> = [['Overview', '/']]
    if (q.probe_cc !== undefined && isCountryCode(q.probe_cc)) crumbs.push([q.probe_cc, `/country/${q.probe_cc}`])
    crumbs.push(['Measurements', ''])
    return await sendPage(reply, page({ title: 'Measurements', body, crumbs }))
  })
}
