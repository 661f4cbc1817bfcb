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
      const r = await db.query(`SELECT probe_id, software_name, software_version, platform, created_at, last_check_in_at,
          last_probe_cc, last_probe_asn, pending_measurements, pending_bytes::text AS pending_bytes, check_ins, last_upload_at
        FROM probes WHERE token_hash = $1 AND revoked_at IS NULL`, [hashToken(token)])
      const row = r.rows[0]
      if (row === undefined) return undefined
      // Times come back as Date objects from pg and PGlite alike.
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]))
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

/** One target for which a probe reports blocking that the other probes of its country do not see. */
export interface OutlierFlag { probe_id: string, probe_cc: string, domain: string, test_name: string, usable: number, anomalies: number, others: number, othersUsable: number, othersAnomalies: number }

/** The window and thresholds of the outlier flag. */
export const OUTLIER_RULE = Object.freeze({ days: 7, minUsable: 10, minShare: 0.8, minOthers: 2, maxOthersShare: 0.2 })

/**
 * Poisoning (issue 9): the targets for which a probe's measurements of the
 * last week were mostly anomalous while at least two other probes of the
 * same country measured them mostly fine. Read from the week's measurements
 * of those probes and targets, with the verdicts stored at ingest.
 */
export async function outlierFlags (db: Queryable, probeIds: string[], nowMs: number): Promise<OutlierFlag[]> {
  if (probeIds.length === 0) return []
  const r = await db.query<{ probe_key: string, probe_cc: string, domain: string, test_name: string, usable: number, bad: number, probes: number, o_usable: number, o_bad: number }>(
    `WITH mine AS (
       SELECT probe_id AS probe_key, trim(probe_cc) AS probe_cc, coalesce(domain, '') AS domain, test_name,
         (count(*) FILTER (WHERE NOT failure AND NOT down))::int AS usable, (count(*) FILTER (WHERE NOT failure AND anomaly AND NOT confirmed))::int AS bad
       FROM measurements WHERE probe_id = ANY($1::text[]) AND measurement_start_time >= $2::timestamptz
       GROUP BY 1, 2, 3, 4)
     SELECT m.probe_key, m.probe_cc, m.domain, m.test_name, m.usable, m.bad, o.probes, o.usable AS o_usable, o.bad AS o_bad
     FROM mine m CROSS JOIN LATERAL (
       SELECT count(DISTINCT coalesce(h.probe_id, 'r:' || coalesce(h.report_id, h.measurement_uid)))::int AS probes,
         (count(*) FILTER (WHERE NOT h.failure AND NOT h.down))::int AS usable,
         (count(*) FILTER (WHERE NOT h.failure AND (h.anomaly OR h.confirmed)))::int AS bad
       FROM measurements h
       WHERE h.probe_cc = m.probe_cc::bpchar AND coalesce(h.domain, '') = m.domain AND h.test_name = m.test_name
         AND h.probe_id IS DISTINCT FROM m.probe_key AND h.measurement_start_time >= $2::timestamptz) o
     WHERE m.usable >= $3::int AND m.bad >= $4::float8 * m.usable AND o.probes >= $5::int AND o.usable >= $3::int AND o.bad <= $6::float8 * o.usable
     ORDER BY m.bad DESC LIMIT 200`,
    [probeIds, new Date(nowMs - OUTLIER_RULE.days * 86_400_000).toISOString(), OUTLIER_RULE.minUsable, OUTLIER_RULE.minShare, OUTLIER_RULE.minOthers, OUTLIER_RULE.maxOthersShare])
  return r.rows.map(x => ({ probe_id: x.probe_key, probe_cc: x.probe_cc, domain: x.domain, test_name: x.test_name, usable: Number(x.usable), anomalies: Number(x.bad), others: Number(x.probes), othersUsable: Number(x.o_usable), othersAnomalies: Number(x.o_bad) }))
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
