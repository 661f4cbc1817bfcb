/**
 * Readers for the loosely shaped parts of a stored document. Real OONI
 * documents vary across probe versions (bodies and header values may be
 * `{format: "base64", data}` objects, control answers may hold CNAMEs among
 * the addresses, lists may be null), so the verdict code reads them through
 * these helpers and never trusts a shape.
 */
import { isIPAddress } from './ip.ts'

export type Obj = Record<string, unknown>

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
export const obj = (v: unknown): Obj => (isObj(v) ? v : {})
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** A failure string, or null (empty strings count as no failure). */
export const failureOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** Decodes an OONI "maybe binary" value: a string, or `{format: "base64", data}`. */
export function maybeBinary(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (isObj(v) && v.format === 'base64' && typeof v.data === 'string') {
    return Buffer.from(v.data, 'base64').toString('latin1')
  }
  return null
}

/** A response's headers as name → values, from `headers` or OONI's `headers_list`. */
export function headersOf(response: Obj): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const add = (k: string, v: unknown): void => {
    const value = maybeBinary(v)
    if (value === null) return
    ;(out[k] ??= []).push(value)
  }
  const list = arr(response.headers_list)
  if (list.length > 0) {
    for (const pair of list) {
      if (Array.isArray(pair) && typeof pair[0] === 'string') add(pair[0], pair[1])
    }
    return out
  }
  for (const [k, v] of Object.entries(obj(response.headers))) {
    if (Array.isArray(v))
      v.forEach(x => {
        add(k, x)
      })
    else add(k, v)
  }
  return out
}

/** The IP addresses in a list that may also hold host names (control.dns.addrs). */
export const ipsOnly = (list: unknown): string[] => arr(list).filter((a): a is string => typeof a === 'string' && isIPAddress(a))

/** One DNS answer of a `queries` entry. */
export interface Answer {
  ip: string
  asn: number | null
}

/** Every A/AAAA answer of a `queries` list, with the ASN when the document carries one. */
export function answersOf(queries: unknown): Answer[] {
  const out: Answer[] = []
  for (const q of arr(queries)) {
    for (const a of arr(obj(q).answers)) {
      const ans = obj(a)
      const ip = str(ans.ipv4) ?? str(ans.ipv6)
      if (ip !== null && ip !== '' && !out.some(x => x.ip === ip)) out.push({ ip, asn: num(ans.asn) })
    }
  }
  return out
}

/** The first failure among a `queries` list when none of its queries answered an address. */
export function queriesFailure(queries: unknown): string | null {
  const list = arr(queries)
  if (answersOf(list).length > 0) return null
  for (const q of list) {
    const f = failureOf(obj(q).failure)
    if (f !== null) return f
  }
  return null
}

/** Extracts the text of an HTML document's <title>. */
export function titleOf(body: string | null): string {
  if (body === null) return ''
  const m = /<title[^>]*>([\s\S]{0,1024}?)<\/title>/i.exec(body)
  return m === null ? '' : m[1].trim()
}
