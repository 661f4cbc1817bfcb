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
import { activeProbeStatus, outlierFlags, OUTLIER_RULE, type OutlierFlag } from '../../store/probes.ts'
import { getJson, num, resultsOf, str, type Api } from '../api.ts'
import { fmtTime, notice } from '../format.ts'
import { html, type SafeHtml } from '../html.ts'
import { sendPrivatePage, tokenForm } from '../layout.ts'

/** A probe's status, as the probes API reports it. */
export type ProbeRow = Record<string, unknown>

/** Where the page reads probe statuses. */
export interface ProbeDirectory {
  /** The probe this token belongs to, or undefined when the token is unknown or revoked. */
  byToken: (token: string) => Promise<ProbeRow | undefined>
  /** Every probe, through the admin API (the token is checked there too). */
  all: (adminToken: string) => Promise<ProbeRow[] | undefined>
}

/**
 * The default directory. A probe's own status is read from the probes table
 * by its token's hash (auth.ts stores tokens only hashed; there is no
 * probe-facing status route); the admin's list comes from
 * GET /api/v1/admin/probes.
 */
export function defaultProbeDirectory (app: FastifyInstance, db: Queryable): ProbeDirectory {
  return {
    async byToken (token) {
      const row = await activeProbeStatus(db, hashToken(token))
      return row === undefined ? undefined : { ...row }
    },
    async all (adminToken) {
      const api: Api = { get: async (url, headers) => await app.inject({ method: 'GET', url, headers }) }
      const r = await getJson(api, '/api/v1/admin/probes', {}, { authorization: `Bearer ${adminToken}` })
      return r.ok ? resultsOf(r.body) : undefined
    }
  }
}

function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a); const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Pending uploads as reported at check-in: a number, or counts by state. */
function pendingOf (p: ProbeRow): string {
  const n = num(p, 'pending_measurements', 'pending', 'pending_uploads', 'pending_count', 'outbox_pending')
  const bytes = num(p, 'pending_bytes')
  if (n !== undefined) return bytes === undefined ? String(n) : `${n} (${Math.round(bytes / 1024)} KiB)`
  for (const k of ['pending', 'pending_uploads', 'outbox']) {
    const v = p[k]
    if (typeof v === 'object' && v !== null) {
      return Object.entries(v as Record<string, unknown>).map(([a, b]) => `${a}: ${String(b)}`).join(', ')
    }
  }
  return '—'
}

function probeTable (probes: ProbeRow[]): SafeHtml {
  return html`<table class="list" id="probes"><thead><tr><th>probe id</th><th>name / software</th><th>network</th><th>last check-in</th><th>pending uploads then</th><th>check-ins</th><th>last upload</th><th>status</th></tr></thead><tbody>
${probes.map(p => html`<tr><td><code>${str(p, 'probe_id', 'id') ?? '—'}</code></td><td>${str(p, 'name', 'probe_name') ?? ''} ${str(p, 'software_name') ?? ''} ${str(p, 'software_version') ?? ''} ${str(p, 'platform') ?? ''}</td><td>${str(p, 'last_probe_cc', 'probe_cc') ?? ''} ${str(p, 'last_probe_asn', 'probe_asn') ?? ''}</td><td class="last-seen">${fmtTime(str(p, 'last_check_in_at', 'last_seen', 'last_seen_at', 'last_check_in'))}</td><td class="pending">${pendingOf(p)}</td><td>${str(p, 'check_ins') ?? '—'}</td><td>${fmtTime(str(p, 'last_upload_at'))}</td><td>${p.revoked === true || str(p, 'revoked_at') !== undefined ? 'revoked' : 'active'}</td></tr>\n`)}
</tbody></table>`
}

function outlierSection (flags: OutlierFlag[], showProbe: boolean): SafeHtml {
  if (flags.length === 0) return html``
  return html`<section class="outliers" id="outliers"><h2>Flagged as an outlier</h2>
<p class="notice">These results disagree with every other probe in the same country. They do not count towards events on their own; if the block is real, other probes will see it too.</p>
<ul>${flags.map(f => html`<li class="outlier">${showProbe ? html`<code>${f.probe_id}</code>: ` : html``}outlier for <strong>${f.domain}</strong> (${f.test_name}, ${f.probe_cc}): ${String(f.anomalies)} of ${String(f.usable)} measurements anomalous in the last ${String(OUTLIER_RULE.days)} days, while ${String(f.others)} other probes saw ${String(f.othersAnomalies)} anomalies in ${String(f.othersUsable)}</li>\n`)}</ul></section>`
}

const FORM = tokenForm('/probes', 'Probe token (or the admin token)', 'Show status')

const send = async (reply: FastifyReply, body: SafeHtml, status = 200): Promise<FastifyReply> => await sendPrivatePage(reply, 'Probe operators', body, status)

/** Registers GET and POST /probes. */
export async function probesPage (app: FastifyInstance, opts: { adminToken?: string, directory?: ProbeDirectory }): Promise<void> {
  const dir = opts.directory ?? defaultProbeDirectory(app, app.db)
  // Form posts: parsed here only (this plugin's scope), as URL-encoded text.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  app.get('/probes', async (_req, reply) => await send(reply, html`<h1>Probe operators</h1>
<p>A probe's status: when it last checked in, and how many measurements were waiting in its outbox then. Enter the probe's token to see it.</p>
${FORM}`))

  app.post<{ Body: Record<string, string> | undefined }>('/probes', async (req, reply) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : ''
    if (token === '') return await send(reply, html`<h1>Probe operators</h1>${notice('Enter a token.')}${FORM}`, 400)
    if (opts.adminToken !== undefined && opts.adminToken !== '' && sameSecret(token, opts.adminToken)) {
      const all = await dir.all(token)
      return await send(reply, html`<h1>Probe operators: all probes</h1>
<p>Signed in with the admin token.</p>
${all === undefined ? notice('The probes API is not available.') : all.length === 0 ? notice('No probes have registered.') : probeTable(all)}
${outlierSection(await outlierFlags(app.db, (all ?? []).map(p => str(p, 'probe_id') ?? '').filter(x => x !== ''), app.clock()), true)}
${FORM}`)
    }
    const probe = await dir.byToken(token)
    if (probe === undefined) {
      return await send(reply, html`<h1>Probe operators</h1>${notice('This token does not belong to any active probe.')}${FORM}`, 401)
    }
    const flags = await outlierFlags(app.db, [str(probe, 'probe_id') ?? ''], app.clock())
    return await send(reply, html`<h1>Your probe</h1>${probeTable([probe])}${outlierSection(flags, false)}${FORM}`)
  })
}
