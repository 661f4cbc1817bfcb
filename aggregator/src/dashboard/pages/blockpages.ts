/**
 * The admin's page of candidate blockpages, /blockpages (issue 15, Deliver
 * 2): each page blockpage discovery proposes, with its evidence (networks,
 * domains, counts, first and last seen, sample measurements) and how to
 * promote it. The admin token is posted in a form body, as on /probes, and
 * the list comes from GET /api/v1/admin/blockpage-candidates, which checks
 * the token again. Nothing here is public.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { getJson, num, resultsOf, str, strList, viewerApi } from '../api.ts'
import { fmtTime, notice } from '../format.ts'
import { html, type SafeHtml } from '../html.ts'
import { sendPrivatePage, tokenForm } from '../layout.ts'

const FORM = tokenForm('/blockpages', 'Admin token', 'Show candidates')

const send = async (reply: FastifyReply, body: SafeHtml, status = 200): Promise<FastifyReply> => await sendPrivatePage(reply, 'Candidate blockpages', body, status)

function candidateSection (c: Record<string, unknown>): SafeHtml {
  const id = str(c, 'id') ?? ''
  const networks = Array.isArray(c.networks) ? c.networks as Array<Record<string, unknown>> : []
  const pattern = str(c, 'pattern')
  return html`<section class="candidate" id="${id}">
<h2>${str(c, 'title') === '' ? '(no title)' : str(c, 'title') ?? ''} <code>${id}</code></h2>
<p>${String(num(c, 'measurements') ?? 0)} measurements of ${String(strList(c, 'domains').length)} domains, first seen ${fmtTime(str(c, 'first_seen'))}, last seen ${fmtTime(str(c, 'last_seen'))}; HTTP status ${String(num(c, 'status_code') ?? '—')}.</p>
<table class="list"><thead><tr><th>network</th><th>measurements</th><th>domains</th></tr></thead><tbody>
${networks.map(n => html`<tr><td>${str(n, 'probe_cc') ?? ''} ${str(n, 'probe_asn') ?? ''}</td><td>${String(num(n, 'measurements') ?? 0)}</td><td>${strList(n, 'domains').join(', ')}</td></tr>\n`)}
</tbody></table>
<p>Pattern: ${pattern === undefined ? html`<em>none found: give one when promoting</em>` : html`<code>${pattern}</code>`} (in every member page, in no page judged ok)</p>
<details><summary>The page (first 400 characters)</summary><pre>${str(c, 'excerpt') ?? ''}</pre></details>
<p>Samples: ${strList(c, 'sample_uids').map((u, i) => html`${i > 0 ? ', ' : ''}<a href="/measurement/${encodeURIComponent(u)}">${u}</a>`)}</p>
<p class="notice">To promote: <code>POST /api/v1/admin/blockpage-candidates/${id}/promote</code> with the admin token (docs/api.md).</p>
</section>`
}

/** Registers GET and POST /blockpages. */
export async function blockpagesPage (app: FastifyInstance): Promise<void> {
  app.get('/blockpages', async (_req, reply) => await send(reply, html`<h1>Candidate blockpages</h1>
<p>Pages that one network serves for many unrelated domains and that the control never sees there: blockpages no fingerprint knows yet. For the admin.</p>
${FORM}`))

  app.post<{ Body: Record<string, string> | undefined }>('/blockpages', async (req, reply) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : ''
    if (token === '') return await send(reply, html`<h1>Candidate blockpages</h1>${notice('Enter the admin token.')}${FORM}`, 400)
    const r = await getJson(viewerApi(app, req), '/api/v1/admin/blockpage-candidates', {}, { authorization: `Bearer ${token}` })
    if (!r.ok) return await send(reply, html`<h1>Candidate blockpages</h1>${notice(r.error)}${FORM}`, r.status === 401 || r.status === 403 ? r.status : 502)
    const list = resultsOf(r.body)
    return await send(reply, html`<h1>Candidate blockpages</h1>
<p>Signed in with the admin token. ${String(list.length)} candidates.</p>
${list.length === 0 ? notice('No candidate: no page is served for many domains in one network without the control seeing it.') : list.map(candidateSection)}
${FORM}`)
  })
}
