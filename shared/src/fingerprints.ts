/**
 * OONI's blockpage fingerprints (github.com/ooni/blocking-fingerprints):
 * fingerprints_dns.csv (exact IP answers) and fingerprints_http.csv
 * (`location_found` body or header.NAME; `pattern_type` full, prefix,
 * contains or regexp). Scope `fp` marks a known false positive (a CDN's
 * CAPTCHA page, say): it is matched and reported, but never claims censorship.
 */
import { readCsv } from './csv.ts'

export type FingerprintScope = 'nat' | 'isp' | 'prod' | 'inst' | 'vbw' | 'fp' | string

/** One fingerprint. */
export interface Fingerprint {
  name: string
  scope: FingerprintScope
  location_found: string
  pattern_type: 'full' | 'prefix' | 'contains' | 'regexp'
  pattern: string
  expected_countries: string[]
  confidence_no_fp: number
}

/** A fingerprint that matched: which one, and where. */
export interface FingerprintMatch {
  name: string
  scope: FingerprintScope
  location_found: string
  expected_countries: string[]
}

/** A loaded fingerprint list, indexed for matching. */
export interface FingerprintDb {
  /** Identifies the list: stored with every scored measurement. */
  version: string
  dns: Map<string, Fingerprint>
  http: Fingerprint[]
}

async function parse(text: string): Promise<Fingerprint[]> {
  const out: Fingerprint[] = []
  let header: string[] | undefined
  for await (const rec of readCsv(text)) {
    if (header === undefined) {
      header = rec.fields
      continue
    }
    if (rec.fields.length < 6) continue
    const row: Record<string, string> = {}
    header.forEach((h, i) => {
      row[h] = rec.fields[i] ?? ''
    })
    const type = row.pattern_type as Fingerprint['pattern_type']
    if (!['full', 'prefix', 'contains', 'regexp'].includes(type) || row.pattern === '') continue
    out.push({
      name: row.name,
      scope: row.scope,
      location_found: row.location_found.toLowerCase(),
      pattern_type: type,
      pattern: row.pattern,
      expected_countries: row.expected_countries
        .split(',')
        .map(s => s.trim())
        .filter(Boolean),
      confidence_no_fp: Number(row.confidence_no_fp) || 0
    })
  }
  return out
}

/** Builds a fingerprint db from the two CSV texts. */
export async function parseFingerprints(dnsCsv: string, httpCsv: string, version: string): Promise<FingerprintDb> {
  const dns = new Map<string, Fingerprint>()
  for (const fp of await parse(dnsCsv)) dns.set(fp.pattern, fp)
  const http = await parse(httpCsv)
  for (const fp of http) if (fp.pattern_type === 'regexp') compiledRegexp(fp)
  return { version, dns, http }
}

const regexps = new WeakMap<Fingerprint, RegExp | null>()
function compiledRegexp(fp: Fingerprint): RegExp | null {
  let re = regexps.get(fp)
  if (re === undefined) {
    try {
      re = new RegExp(fp.pattern)
    } catch {
      re = null
    }
    regexps.set(fp, re)
  }
  return re
}

function matches(fp: Fingerprint, value: string): boolean {
  switch (fp.pattern_type) {
    case 'full':
      return value === fp.pattern
    case 'prefix':
      return value.startsWith(fp.pattern)
    case 'contains':
      return value.includes(fp.pattern)
    case 'regexp':
      return compiledRegexp(fp)?.test(value) ?? false
  }
}

function toMatch(fp: Fingerprint): FingerprintMatch {
  return { name: fp.name, scope: fp.scope, location_found: fp.location_found, expected_countries: fp.expected_countries }
}

/** Matches one DNS answer (an IP address) against the DNS fingerprints. */
export function matchDnsAnswer(db: FingerprintDb, ip: string): FingerprintMatch | null {
  const fp = db.dns.get(ip)
  return fp === undefined ? null : toMatch(fp)
}

/**
 * The HTTP fingerprints indexed for matching, built on first use per list:
 * - the body fingerprints of pattern type `contains` (about 1,300 in OONI's
 *   list) as one Aho-Corasick automaton over UTF-16 code units, so that a
 *   body is scanned once rather than once per pattern;
 * - the other body fingerprints (regexp, full) in a short list;
 * - the header fingerprints by header name, so that a response is compared
 *   only with the fingerprints of the headers it has.
 */
interface HttpIndex {
  /** Transitions of the root state, by code unit (0: none). */
  root: Int32Array
  next: Array<Map<number, number>>
  fail: Int32Array
  /** Indexes into db.http of the patterns that end at each state (own and inherited through fail links). */
  out: number[][]
  otherBody: number[]
  byHeader: Map<string, number[]>
}

const indexes = new WeakMap<FingerprintDb, HttpIndex>()

function httpIndex(db: FingerprintDb): HttpIndex {
  let x = indexes.get(db)
  if (x !== undefined) return x
  const next: Array<Map<number, number>> = [new Map()]
  const own: number[][] = [[]]
  const otherBody: number[] = []
  const byHeader = new Map<string, number[]>()
  db.http.forEach((fp, i) => {
    if (fp.location_found !== 'body') {
      const list = byHeader.get(fp.location_found) ?? []
      list.push(i)
      byHeader.set(fp.location_found, list)
      return
    }
    if (fp.pattern_type !== 'contains') {
      otherBody.push(i)
      return
    }
    let s = 0
    for (let k = 0; k < fp.pattern.length; k++) {
      const c = fp.pattern.charCodeAt(k)
      let t = next[s]!.get(c)
      if (t === undefined) {
        t = next.length
        next.push(new Map())
        own.push([])
        next[s]!.set(c, t)
      }
      s = t
    }
    own[s]!.push(i)
  })
  const fail = new Int32Array(next.length)
  const out: number[][] = own.map(o => o)
  const queue: number[] = [...next[0]!.values()]
  for (let h = 0; h < queue.length; h++) {
    const s = queue[h]!
    for (const [c, t] of next[s]!) {
      if (s !== 0) {
        let f = fail[s]!
        while (f !== 0 && !next[f]!.has(c)) f = fail[f]!
        fail[t] = next[f]!.get(c) ?? 0
      }
      if (out[fail[t]!]!.length > 0) out[t] = [...own[t]!, ...out[fail[t]!]!]
      queue.push(t)
    }
  }
  const root = new Int32Array(65536)
  for (const [c, t] of next[0]!) root[c] = t
  x = { root, next, fail, out, otherBody, byHeader }
  indexes.set(db, x)
  return x
}

/** Adds to `found` the indexes of the `contains` body fingerprints that occur in `body`. */
function scanBody(x: HttpIndex, body: string, found: Set<number>): void {
  const { root, next, fail, out } = x
  let s = 0
  for (let k = 0; k < body.length; k++) {
    const c = body.charCodeAt(k)
    if (s === 0) {
      s = root[c]!
      if (s === 0) continue
    } else {
      let t = next[s]!.get(c)
      while (t === undefined && s !== 0) {
        s = fail[s]!
        t = s === 0 ? root[c]! || undefined : next[s]!.get(c)
      }
      s = t ?? 0
    }
    const o = out[s]!
    for (let j = 0; j < o.length; j++) found.add(o[j]!)
  }
}

/**
 * Matches one HTTP response against the HTTP fingerprints: its body (text)
 * and its headers (names compared case-insensitively). Returns every match,
 * in the list's order.
 */
export function matchHttpResponse(db: FingerprintDb, response: { body?: string | null; headers?: Record<string, string | string[] | undefined> | null }): FingerprintMatch[] {
  const x = httpIndex(db)
  const found = new Set<number>()
  for (const [k, v] of Object.entries(response.headers ?? {})) {
    if (v === undefined) continue
    const fps = x.byHeader.get('header.' + k.toLowerCase())
    if (fps === undefined) continue
    const values = Array.isArray(v) ? v : [v]
    for (const i of fps) if (values.some(value => matches(db.http[i]!, value))) found.add(i)
  }
  const body = response.body
  if (typeof body === 'string' && body !== '') {
    scanBody(x, body, found)
    for (const i of x.otherBody) if (matches(db.http[i]!, body)) found.add(i)
  }
  return [...found].sort((a, b) => a - b).map(i => toMatch(db.http[i]!))
}

/**
 * True when a match is a censorship claim for a measurement from `probeCc`:
 * never for scope `fp`; for nat and isp scopes always; otherwise only where
 * the probe's country is among the fingerprint's expected countries.
 */
export function confirmsCensorship(m: FingerprintMatch, probeCc: string): boolean {
  if (m.scope === 'fp') return false
  if (m.scope === 'nat' || m.scope === 'isp') return true
  return m.expected_countries.includes(probeCc)
}

const byNameCache = new WeakMap<FingerprintDb, Map<string, Fingerprint>>()

/** The list's fingerprints by name (for names stored with a measurement), built once per list. */
export function fingerprintsByName(fp: FingerprintDb): Map<string, Fingerprint> {
  let m = byNameCache.get(fp)
  if (m === undefined) {
    m = new Map([...fp.dns.values(), ...fp.http].map(f => [f.name, f]))
    byNameCache.set(fp, m)
  }
  return m
}
