/** Small formatting helpers the dashboard pages share. */
import { html, type SafeHtml } from './html.ts'

/** An ISO time (or OONI's "YYYY-MM-DD HH:MM:SS") shown as "YYYY-MM-DD HH:MM UTC". */
export function fmtTime(t: string | null | undefined): string {
  if (t === null || t === undefined || t === '') return '—'
  const d = new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(t) ? t.replace(' ', 'T') + 'Z' : t)
  if (Number.isNaN(d.getTime())) return t
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

/** A duration between two times, in days and hours ("2 d 5 h"). */
export function fmtDuration(start: string | undefined, end: string | null | undefined, now = new Date()): string {
  if (start === undefined) return '—'
  const a = new Date(start).getTime()
  const b = end === null || end === undefined ? now.getTime() : new Date(end).getTime()
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '—'
  const hours = Math.max(0, Math.round((b - a) / 3_600_000))
  return hours < 24 ? `${hours} h` : `${Math.floor(hours / 24)} d ${hours % 24} h`
}

/** A number with thousands separators. */
export function fmtCount(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US')
}

/** The label of a measurement outcome as a coloured badge. */
export function outcomeBadge(outcome: 'ok' | 'anomaly' | 'confirmed' | 'failure'): SafeHtml {
  return html`<span class="badge ${outcome}">${outcome}</span>`
}

/** The outcome of a measurement row by OONI's mutually exclusive rule. */
export function outcomeOf(row: { anomaly?: unknown; confirmed?: unknown; failure?: unknown }): 'ok' | 'anomaly' | 'confirmed' | 'failure' {
  if (row.failure === true) return 'failure'
  if (row.confirmed === true) return 'confirmed'
  if (row.anomaly === true) return 'anomaly'
  return 'ok'
}

/** A country code is two capital letters; anything else is refused before it reaches an API. */
export function isCountryCode(cc: string): boolean {
  return /^[A-Z]{2}$/.test(cc)
}

/** An error or absence, shown in words. */
export function notice(text: string): SafeHtml {
  return html`<p class="notice">${text}</p>`
}
