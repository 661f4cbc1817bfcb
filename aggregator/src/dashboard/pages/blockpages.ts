/**
 * The admin's page of candidate blockpages, /blockpages (issue 15, Deliver
 * 2): each page blockpage discovery proposes, with its evidence (networks,
 * domains, counts, first and last seen, sample measurements) and how to
 * promote it. The admin token is posted in a form body, as on /probes; the
 * list is what GET /api/v1/admin/blockpage-candidates answers, from the same
 * store function. Nothing here is public.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { listCandidates, type CandidateRow } from '../../store/candidates.ts'
import { fmtTime, notice } from '../format.ts'
import { html, type SafeHtml } from '../html.ts'
import { sendPrivatePage, tokenForm, type PageRoute } from '../layout.ts'
import { localeOf, type Locale } from '../i18n/index.ts'
import { sameSecret } from './probes.ts'

/** The token form, in the viewer's language. */
const form = (loc: Locale): SafeHtml => tokenForm(loc.lang === 'en' ? '/blockpages' : `/blockpages?lang=${loc.lang}`, loc.t('blockpages.tokenLabel'), loc.t('blockpages.show'), loc)

function candidateSection(c: CandidateRow): SafeHtml {
  return html`<section class="candidate" id="${c.id}">
<h2>${c.title === '' ? '(no title)' : c.title} <code>${c.id}</code></h2>
<p>${String(c.measurements)} measurements of ${String(c.domains.length)} domains, first seen ${fmtTime(c.first_seen)}, last seen ${fmtTime(c.last_seen)}; HTTP status ${String(c.status_code ?? '—')}.</p>
<table class="list"><thead><tr><th>network</th><th>measurements</th><th>domains</th></tr></thead><tbody>
${c.networks.map(n => html`<tr><td>${n.probe_cc} ${n.probe_asn}</td><td>${String(n.measurements)}</td><td>${n.domains.join(', ')}</td></tr>\n`)}
</tbody></table>
<p>Pattern: ${c.pattern === null ? html`<em>none found: give one when promoting</em>` : html`<code>${c.pattern}</code>`} (in every member page, in no page judged ok)</p>
<details><summary>The page (first 400 characters)</summary><pre>${c.excerpt}</pre></details>
<p>Samples: ${c.sample_uids.map((u, i) => html`${i > 0 ? ', ' : ''}<a href="/measurement/${encodeURIComponent(u)}">${u}</a>`)}</p>
<p class="notice">To promote: <code>POST /api/v1/admin/blockpage-candidates/${c.id}/promote</code> with the admin token (docs/api.md).</p>
</section>`
}

/** Registers GET and POST /blockpages. */
export async function blockpagesPage(app: FastifyInstance, route: PageRoute, opts: { adminToken?: string }): Promise<void> {
  app.get('/blockpages', route, async (req, reply) => {
    const loc = localeOf(req)
    return await sendPrivatePage(
      reply,
      loc.t('blockpages.title'),
      html`<h1>${loc.t('blockpages.title')}</h1>
<p>${loc.t('blockpages.intro')}</p>
${form(loc)}`,
      200,
      loc
    )
  })

  app.post<{ Body: Record<string, string> | undefined }>('/blockpages', route, async (req, reply) => {
    const loc = localeOf(req)
    const FORM = form(loc)
    const send = async (reply: FastifyReply, body: SafeHtml, status = 200): Promise<FastifyReply> => await sendPrivatePage(reply, loc.t('blockpages.title'), body, status, loc)
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : ''
    if (token === '') return await send(reply, html`<h1>${loc.t('blockpages.title')}</h1>${notice('Enter the admin token.')}${FORM}`, 400)
    // As the admin routes answer (auth.ts, requireAdmin): 403 when admin routes are off or the token is another.
    const refused =
      opts.adminToken === undefined || opts.adminToken === ''
        ? 'Admin routes are disabled: the server was started without ADMIN_TOKEN.'
        : sameSecret(token, opts.adminToken)
          ? undefined
          : 'This token is not the admin token.'
    if (refused !== undefined) return await send(reply, html`<h1>${loc.t('blockpages.title')}</h1>${notice(refused)}${FORM}`, 403)
    const list = await listCandidates(app.db)
    return await send(
      reply,
      html`<h1>${loc.t('blockpages.title')}</h1>
<p>Signed in with the admin token. ${String(list.length)} candidates.</p>
${list.length === 0 ? notice('No candidate: no page is served for many domains in one network without the control seeing it.') : list.map(candidateSection)}
${FORM}`
    )
  })
}
