/**
 * The probe operators' page, /probes: a probe's status (last seen, pending
 * uploads as reported at check-in). Only that probe's token holder sees it,
 * and the admin sees every probe. The token is posted in a form body (never
 * in a URL, where it would land in logs and history) and the answer is never
 * cached. Public pages never show probe ids; this page is not public.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { hashToken } from '../../auth.ts'
import type { Queryable } from '../../store/db.ts'
import { activeProbeStatus, listProbes, outlierFlags, OUTLIER_RULE, type OutlierFlag, type ProbeStatus } from '../../store/probes.ts'
import { fmtTime, notice } from '../format.ts'
import { html, type SafeHtml } from '../html.ts'
import { sendPrivatePage, tokenForm, type PageRoute } from '../layout.ts'
import { localeOf, type Locale, type MessageKey, type Translate } from '../i18n/index.ts'

/** A probe's status, as the store reads it for the admin list and this page alike. */
export type ProbeRow = ProbeStatus

/** Where the page reads probe statuses. */
export interface ProbeDirectory {
  /** The probe this token belongs to, or undefined when the token is unknown or revoked. */
  byToken: (token: string) => Promise<ProbeRow | undefined>
  /** Every probe (the admin token was checked by the page). */
  all: () => Promise<ProbeRow[]>
}

/**
 * The default directory: the probes table, through the store functions
 * GET /api/v1/admin/probes calls. A probe's own status is found by its
 * token's hash (auth.ts stores tokens only hashed; there is no probe-facing
 * status route).
 */
export function defaultProbeDirectory(db: Queryable): ProbeDirectory {
  return {
    async byToken(token) {
      return await activeProbeStatus(db, hashToken(token))
    },
    async all() {
      return await listProbes(db)
    }
  }
}

/** Whether two secrets are equal, in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(hashToken(a), 'hex')
  const y = Buffer.from(hashToken(b), 'hex')
  return timingSafeEqual(x, y)
}

/** Pending uploads as reported at check-in: a count, with their size when the probe sent it. */
function pendingOf(p: ProbeRow): string {
  if (p.pending_measurements === null) return '—'
  return p.pending_bytes === null ? String(p.pending_measurements) : `${p.pending_measurements} (${Math.round(p.pending_bytes / 1024)} KiB)`
}

function probeTable(probes: ProbeRow[], t: Translate): SafeHtml {
  return html`<table class="list" id="probes"><thead><tr><th>${t('probes.probeId')}</th><th>${t('probes.software')}</th><th>${t('probes.network')}</th><th>${t('probes.lastCheckIn')}</th><th>${t('probes.pendingThen')}</th><th>${t('probes.checkIns')}</th><th>${t('probes.lastUpload')}</th><th>${t('probes.status')}</th></tr></thead><tbody>
${probes.map(p => html`<tr><td><code>${p.probe_id}</code></td><td>${p.software_name} ${p.software_version} ${p.platform ?? ''}</td><td>${p.last_probe_cc ?? ''} ${p.last_probe_asn ?? ''}</td><td class="last-seen">${fmtTime(p.last_check_in_at)}</td><td class="pending">${pendingOf(p)}</td><td>${p.check_ins}</td><td>${fmtTime(p.last_upload_at)}</td><td>${p.revoked_at !== null ? t('probes.revoked') : t('probes.active')}</td></tr>\n`)}
</tbody></table>`
}

/** A translated message with one value set in markup: the text around `{{name}}` escaped, the value as `markup` gives it. */
export function withMarkup(t: Translate, key: MessageKey, name: string, markup: SafeHtml, values: Record<string, string | number> = {}): SafeHtml {
  const MARK = '\u0000'
  const [before, after = ''] = t(key, { ...values, [name]: MARK }).split(MARK)
  return html`${before}${markup}${after}`
}

function outlierSection(flags: OutlierFlag[], showProbe: boolean, t: Translate): SafeHtml {
  if (flags.length === 0) return html``
  return html`<section class="outliers" id="outliers"><h2>${t('probes.outliersHeading')}</h2>
<p class="notice">${t('probes.outliersNotice')}</p>
<ul>${flags.map(
    f =>
      html`<li class="outlier">${showProbe ? html`<code>${f.probe_id}</code>: ` : html``}${withMarkup(t, 'probes.outlierFor', 'domain', html`<strong>${f.domain}</strong>`)} (${f.test_name}, ${f.probe_cc}): ${t(
        'probes.outlierCounts',
        {
          anomalies: f.anomalies,
          usable: f.usable,
          days: OUTLIER_RULE.days,
          others: f.others,
          othersAnomalies: f.othersAnomalies,
          othersUsable: f.othersUsable
        }
      )}</li>\n`
  )}</ul></section>`
}

/** The token form, in the viewer's language. */
const form = (loc: Locale): SafeHtml => tokenForm(loc.lang === 'en' ? '/probes' : `/probes?lang=${loc.lang}`, loc.t('probes.tokenLabel'), loc.t('probes.show'), loc)

const send = async (reply: FastifyReply, loc: Locale, body: SafeHtml, status = 200): Promise<FastifyReply> => await sendPrivatePage(reply, loc.t('probes.title'), body, status, loc)

/** Registers GET and POST /probes. */
export async function probesPage(app: FastifyInstance, route: PageRoute, opts: { adminToken?: string; directory?: ProbeDirectory }): Promise<void> {
  const dir = opts.directory ?? defaultProbeDirectory(app.db)
  // Form posts: parsed here only (this plugin's scope), as URL-encoded text.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  app.get('/probes', route, async (req, reply) => {
    const loc = localeOf(req)
    return await send(
      reply,
      loc,
      html`<h1>${loc.t('probes.title')}</h1>
<p>${loc.t('probes.intro')}</p>
${form(loc)}`
    )
  })

  app.post<{ Body: Record<string, string> | undefined }>('/probes', route, async (req, reply) => {
    const loc = localeOf(req)
    const FORM = form(loc)
    const send = async (reply: FastifyReply, body: SafeHtml, status = 200): Promise<FastifyReply> => await sendPrivatePage(reply, loc.t('probes.title'), body, status, loc)
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : ''
    if (token === '') return await send(reply, html`<h1>${loc.t('probes.title')}</h1>${notice(loc.t('probes.enterToken'))}${FORM}`, 400)
    if (opts.adminToken !== undefined && opts.adminToken !== '' && sameSecret(token, opts.adminToken)) {
      const all = await dir.all()
      return await send(
        reply,
        html`<h1>${loc.t('probes.allTitle')}</h1>
<p>${loc.t('probes.signedInAdmin')}</p>
${all.length === 0 ? notice(loc.t('probes.noProbes')) : probeTable(all, loc.t)}
${outlierSection(
  await outlierFlags(
    app.db,
    all.map(p => p.probe_id),
    app.clock()
  ),
  true,
  loc.t
)}
${FORM}`
      )
    }
    const probe = await dir.byToken(token)
    if (probe === undefined) {
      return await send(reply, html`<h1>${loc.t('probes.title')}</h1>${notice(loc.t('probes.unknownToken'))}${FORM}`, 401)
    }
    const flags = await outlierFlags(app.db, [probe.probe_id], app.clock())
    return await send(reply, html`<h1>${loc.t('probes.yourProbe')}</h1>${probeTable([probe], loc.t)}${outlierSection(flags, false, loc.t)}${FORM}`)
  })
}
