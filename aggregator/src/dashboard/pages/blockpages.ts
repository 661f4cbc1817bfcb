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
import { localeOf, type Locale, type Translate } from '../i18n/index.ts'
import { sameSecret, withMarkup } from './probes.ts'

/** The token form, in the viewer's language. */
const form = (loc: Locale): SafeHtml => tokenForm(loc.lang === 'en' ? '/blockpages' : `/blockpages?lang=${loc.lang}`, loc.t('blockpages.tokenLabel'), loc.t('blockpages.show'), loc)

function candidateSection(c: CandidateRow, t: Translate): SafeHtml {
  return html`<section class="candidate" id="${c.id}">
<h2>${c.title === '' ? t('blockpages.noTitle') : c.title} <code>${c.id}</code></h2>
<p>${t('blockpages.summary', { measurements: c.measurements, domains: c.domains.length, first: fmtTime(c.first_seen), last: fmtTime(c.last_seen), status: String(c.status_code ?? '—') })}</p>
<table class="list"><thead><tr><th>${t('blockpages.network')}</th><th>${t('blockpages.measurements')}</th><th>${t('blockpages.domains')}</th></tr></thead><tbody>
${c.networks.map(n => html`<tr><td>${n.probe_cc} ${n.probe_asn}</td><td>${String(n.measurements)}</td><td>${n.domains.join(', ')}</td></tr>\n`)}
</tbody></table>
<p>${t('blockpages.pattern')} ${c.pattern === null ? html`<em>${t('blockpages.noPattern')}</em>` : html`<code>${c.pattern}</code>`} ${t('blockpages.patternWhere')}</p>
<details><summary>${t('blockpages.excerpt')}</summary><pre>${c.excerpt}</pre></details>
<p>${t('blockpages.samples')} ${c.sample_uids.map((u, i) => html`${i > 0 ? ', ' : ''}<a href="/measurement/${encodeURIComponent(u)}">${u}</a>`)}</p>
<p class="notice">${withMarkup(t, 'blockpages.promote', 'request', html`<code>POST /api/v1/admin/blockpage-candidates/${c.id}/promote</code>`)}</p>
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
    if (token === '') return await send(reply, html`<h1>${loc.t('blockpages.title')}</h1>${notice(loc.t('blockpages.enterToken'))}${FORM}`, 400)
    // As the admin routes answer (auth.ts, requireAdmin): 403 when admin routes are off or the token is another.
    const refused = opts.adminToken === undefined || opts.adminToken === '' ? loc.t('blockpages.disabled') : sameSecret(token, opts.adminToken) ? undefined : loc.t('blockpages.notAdmin')
    if (refused !== undefined) return await send(reply, html`<h1>${loc.t('blockpages.title')}</h1>${notice(refused)}${FORM}`, 403)
    const list = await listCandidates(app.db)
    return await send(
      reply,
      html`<h1>${loc.t('blockpages.title')}</h1>
<p>${loc.t('blockpages.signedIn', { count: list.length })}</p>
${list.length === 0 ? notice(loc.t('blockpages.none')) : list.map(c => candidateSection(c, loc.t))}
${FORM}`
    )
  })
}
