/**
 * Safe HTML for the dashboard (issue 8). Every page is built with the
 * `html` tagged template, which escapes every interpolated value unless it is
 * already {@link SafeHtml}. Attacker-controlled strings (targets, inputs,
 * headers, bodies, titles, probe names) therefore become text by default;
 * markup has to be asked for explicitly, and only this module makes it.
 */

/** A string of HTML that is known to be safe to emit as it is. */
export class SafeHtml {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  toString(): string {
    return this.value
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;'
}

/** Escapes text for use in an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, c => ESCAPES[c])
}

/** A value the `html` template accepts: nested SafeHtml, arrays of them, or anything printed as text. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[]

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

/**
 * Builds SafeHtml from a template: the literal parts are trusted, every
 * `${value}` is escaped (arrays are joined, null/undefined/false print nothing).
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return new SafeHtml(out)
}

/**
 * Serialises data for a `<script type="application/json">` block. JSON.stringify
 * does not escape `<`, so a string holding `</script>` would end the block:
 * escape `<`, `>`, `&` and the two JavaScript line separators as \uXXXX.
 */
export function jsonForScript(data: unknown): SafeHtml {
  const text = JSON.stringify(data) ?? 'null'
  return new SafeHtml(text.replace(/[<>&\u2028\u2029]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')))
}

/**
 * A URL safe for an href: relative paths and http(s) only. Anything else
 * (javascript:, data:) becomes "#". The result still goes through escaping.
 */
export function safeHref(url: string): string {
  if (url.startsWith('/') && !url.startsWith('//')) return url
  try {
    const u = new URL(url)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : '#'
  } catch {
    return '#'
  }
}

/** Builds a query string from the defined, non-empty values (for links). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s === '' ? '' : '?' + s
}
