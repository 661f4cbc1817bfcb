/**
 * OONI's blockpage fingerprints (github.com/ooni/blocking-fingerprints):
 * fingerprints_dns.csv (exact IP answers) and fingerprints_http.csv
 * (`location_found` body or header.NAME; `pattern_type` full, prefix,
 * contains or regexp). Scope `fp` marks a known false positive (a CDN's
 * CAPTCHA page, say): it is matched and reported, but never claims censorship.
 */
import { readFileSync } from 'node:fs'
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

async function parse (text: string): Promise<Fingerprint[]> {
  const out: Fingerprint[] = []
  let header: string[] | undefined
  for await (const rec of readCsv(text)) {
    if (header === undefined) { header = rec.fields; continue }
    if (rec.fields.length < 6) continue
    const row: Record<string, string> = {}
    header.forEach((h, i) => { row[h] = rec.fields[i] ?? '' })
    const type = row.pattern_type as Fingerprint['pattern_type']
    if (!['full', 'prefix', 'contains', 'regexp'].includes(type) || row.pattern === '') continue
    out.push({
      name: row.name,
      scope: row.scope,
      location_found: row.location_found.toLowerCase(),
      pattern_type: type,
      pattern: row.pattern,
      expected_countries: row.expected_countries.split(',').map(s => s.trim()).filter(Boolean),
      confidence_no_fp: Number(row.confidence_no_fp) || 0
    })
  }
  return out
}

/** Builds a fingerprint db from the two CSV texts. */
export async function parseFingerprints (dnsCsv: string, httpCsv: string, version: string): Promise<FingerprintDb> {
  const dns = new Map<string, Fingerprint>()
  for (const fp of await parse(dnsCsv)) dns.set(fp.pattern, fp)
  const http = await parse(httpCsv)
  for (const fp of http) if (fp.pattern_type === 'regexp') compiledRegexp(fp)
  return { version, dns, http }
}

/** Loads fingerprints_dns.csv and fingerprints_http.csv from a folder. */
export async function loadFingerprintsDir (dir: string, version = 'ooni-blocking-fingerprints'): Promise<FingerprintDb> {
  return await parseFingerprints(
    readFileSync(`${dir}/fingerprints_dns.csv`, 'utf8'),
    readFileSync(`${dir}/fingerprints_http.csv`, 'utf8'),
    version
  )
}

const regexps = new WeakMap<Fingerprint, RegExp | null>()
function compiledRegexp (fp: Fingerprint): RegExp | null {
  let re = regexps.get(fp)
  if (re === undefined) {
    try { re = new RegExp(fp.pattern) } catch { re = null }
    regexps.set(fp, re)
  }
  return re
}

function matches (fp: Fingerprint, value: string): boolean {
  switch (fp.pattern_type) {
    case 'full': return value === fp.pattern
    case 'prefix': return value.startsWith(fp.pattern)
    case 'contains': return value.includes(fp.pattern)
    case 'regexp': return compiledRegexp(fp)?.test(value) ?? false
  }
}

function toMatch (fp: Fingerprint): FingerprintMatch {
  return { name: fp.name, scope: fp.scope, location_found: fp.location_found, expected_countries: fp.expected_countries }
}

/** Matches one DNS answer (an IP address) against the DNS fingerprints. */
export function matchDnsAnswer (db: FingerprintDb, ip: string): FingerprintMatch | null {
  const fp = db.dns.get(ip)
  return fp === undefined ? null : toMatch(fp)
}

/**
 * Matches one HTTP response against the HTTP fingerprints: its body (text)
 * and its headers (names compared case-insensitively). Returns every match.
 */
export function matchHttpResponse (db: FingerprintDb, response: { body?: string | null, headers?: Record<string, string | string[] | undefined> | null }): FingerprintMatch[] {
  const headers = new Map<string, string[]>()
  for (const [k, v] of Object.entries(response.headers ?? {})) {
    if (v === undefined) continue
    const key = 'header.' + k.toLowerCase()
    const list = headers.get(key) ?? []
    list.push(...(Array.isArray(v) ? v : [v]))
    headers.set(key, list)
  }
  const out: FingerprintMatch[] = []
  for (const fp of db.http) {
    if (fp.location_found === 'body') {
      if (typeof response.body === 'string' && response.body !== '' && matches(fp, response.body)) out.push(toMatch(fp))
    } else {
      const values = headers.get(fp.location_found)
      if (values?.some(v => matches(fp, v)) === true) out.push(toMatch(fp))
    }
  }
  return out
}

/**
 * True when a match is a censorship claim for a measurement from `probeCc`:
 * never for scope `fp`; for nat and isp scopes always; otherwise only where
 * the probe's country is among the fingerprint's expected countries.
 */
export function confirmsCensorship (m: FingerprintMatch, probeCc: string): boolean {
  if (m.scope === 'fp') return false
  if (m.scope === 'nat' || m.scope === 'isp') return true
  return m.expected_countries.includes(probeCc)
}
