/**
 * The probe's fingerprint list, from its aggregator (issue 15): fetched over
 * the upload channel (same URL, proxy and CA), with the probe's token,
 * GET /api/v1/fingerprints/{dns,http}.csv with If-None-Match, and cached on
 * disk in `<dataDir>/fingerprints/` for when the aggregator is out of reach.
 *
 * A new list replaces the last good one only when both files parse
 * completely and pass every check of {@link checkFingerprintFiles}: a censor
 * in the path who cuts or alters the list (an `fp`-scoped entry clears a
 * real blockpage) gets it refused, with one log line, and the probe keeps
 * measuring with the last good list. docs/volunteers.md states the rule.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { readCsv } from '../../shared/src/csv.ts'
import { parseFingerprints, type FingerprintDb } from '../../shared/src/fingerprints.ts'
import { writeFileAtomic } from './config.ts'
import type { Catalogue } from './i18n/en.ts'
import { inEnglish, sayError, type Said, type Translate, type Values } from './i18n/index.ts'
import { NetworkError, request, type HttpOptions, type HttpResponse } from './upload/http.ts'

/** Scopes OONI's list uses (injb: injected by a middlebox; prov: a provider's); any other is refused. */
const SCOPES = new Set(['nat', 'isp', 'prod', 'inst', 'vbw', 'injb', 'prov', 'fp'])
const PATTERN_TYPES = new Set(['full', 'prefix', 'contains', 'regexp'])
const REQUIRED = ['name', 'scope', 'location_found', 'pattern_type', 'pattern', 'expected_countries']
/** A new file may shrink to no less than this share of the last good one's rows. */
export const MIN_ROW_SHARE = 0.9

/** A fault of a list, by its key in the catalogues' fingerprintList section. */
type ListFault = Exclude<keyof Catalogue['fingerprintList'], 'refused' | 'unreachable'>

/** A list refused, naming the file, line and field at fault: `message` in English, `say(t)` in the volunteer's language. */
export class FingerprintListError extends Error implements Said {
  readonly code = 'PROBE_ERR_FINGERPRINT_LIST'
  readonly say: (t: Translate) => string
  constructor(fault: ListFault, values: Values = {}) {
    super(inEnglish(`fingerprintList.${fault}`, values))
    this.name = 'FingerprintListError'
    this.say = t => t(`fingerprintList.${fault}`, values)
  }
}

/** The two files of a list, with the version the aggregator gave it. */
export interface FingerprintFiles {
  version: string
  dnsCsv: string
  httpCsv: string
  etag: string | null
}

/** Checks one file completely; returns its row count. Throws FingerprintListError at the first fault. */
async function checkFile(kind: 'dns' | 'http', text: string): Promise<number> {
  const file = `fingerprints_${kind}.csv`
  if (!text.endsWith('\n')) throw new FingerprintListError('noLineBreak', { file })
  let header: string[] | undefined
  let rows = 0
  for await (const rec of readCsv(text, { multiline: true })) {
    if (rec.error !== undefined) throw new FingerprintListError('badCsv', { file, line: rec.line, error: rec.error })
    if (header === undefined) {
      header = rec.fields
      const missing = REQUIRED.filter(c => !header!.includes(c))
      if (missing.length > 0) throw new FingerprintListError('headerLacks', { file, columns: missing.join(', ') })
      continue
    }
    if (rec.fields.length === 1 && rec.fields[0] === '') continue
    if (rec.fields.length !== header.length) throw new FingerprintListError('fieldCount', { file, line: rec.line, fields: rec.fields.length, expected: header.length })
    const row: Record<string, string> = {}
    header.forEach((h, i) => {
      row[h] = rec.fields[i]
    })
    const at = { file, line: rec.line, name: row.name }
    if (row.name === '') throw new FingerprintListError('nameEmpty', { file, line: rec.line })
    if (!SCOPES.has(row.scope)) throw new FingerprintListError('scope', { ...at, choices: [...SCOPES].join(', '), value: JSON.stringify(row.scope) })
    if (!PATTERN_TYPES.has(row.pattern_type)) throw new FingerprintListError('patternType', { ...at, choices: [...PATTERN_TYPES].join(', '), value: JSON.stringify(row.pattern_type) })
    if (row.pattern === '') throw new FingerprintListError('patternEmpty', at)
    const loc = row.location_found.toLowerCase()
    if (kind === 'dns') {
      if (loc !== 'dns') throw new FingerprintListError('dnsLocation', { ...at, value: JSON.stringify(row.location_found) })
      // An answer's address, or the name of a CNAME answer.
      if (isIP(row.pattern) === 0 && !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i.test(row.pattern)) throw new FingerprintListError('dnsPattern', { ...at, value: JSON.stringify(row.pattern) })
    } else if (loc !== 'body' && !/^header\.[!-~]+$/.test(loc)) {
      throw new FingerprintListError('httpLocation', { ...at, value: JSON.stringify(row.location_found) })
    }
    if (row.pattern_type === 'regexp') {
      try {
        new RegExp(row.pattern)
      } catch {
        throw new FingerprintListError('badRegexp', at)
      } // eslint-disable-line no-new
    }
    if (row.expected_countries.split(',').some(c => c.trim() !== '' && !/^[A-Za-z]{2}$/.test(c.trim()))) {
      throw new FingerprintListError('countries', { ...at, value: JSON.stringify(row.expected_countries) })
    }
    rows++
  }
  if (header === undefined) throw new FingerprintListError('empty', { file })
  return rows
}

/** Row counts of a good list's files. */
export interface ListSize {
  dns: number
  http: number
}

/**
 * Checks a new list completely before it may replace `last` (the last good
 * list's sizes, or null for the first): both files parse, every row has the
 * header's fields, a known scope, pattern type and location, a DNS pattern
 * is an IP address or a name, a regexp compiles; and neither file has fewer than
 * {@link MIN_ROW_SHARE} of the rows of the last good one (a list cut at a
 * line break parses, but is short). Throws FingerprintListError.
 */
export async function checkFingerprintFiles(f: FingerprintFiles, last: ListSize | null): Promise<ListSize> {
  const size = { dns: await checkFile('dns', f.dnsCsv), http: await checkFile('http', f.httpCsv) }
  if (last !== null) {
    for (const kind of ['dns', 'http'] as const) {
      if (size[kind] < Math.floor(last[kind] * MIN_ROW_SHARE)) {
        throw new FingerprintListError('shrunk', { file: `fingerprints_${kind}.csv`, rows: size[kind], last: last[kind], share: Math.round(MIN_ROW_SHARE * 100) })
      }
    }
  }
  return size
}

interface Cached {
  files: FingerprintFiles
  size: ListSize
}

const dirOf = (dataDir: string): string => join(dataDir, 'fingerprints')

/** The last good list cached under `dataDir`, or null. */
export function readCachedFingerprints(dataDir: string): Cached | null {
  const dir = dirOf(dataDir)
  if (!existsSync(join(dir, 'meta.json'))) return null
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { version: string; etag: string | null; size: ListSize }
    return {
      files: { version: meta.version, etag: meta.etag, dnsCsv: readFileSync(join(dir, 'fingerprints_dns.csv'), 'utf8'), httpCsv: readFileSync(join(dir, 'fingerprints_http.csv'), 'utf8') },
      size: meta.size
    }
  } catch {
    return null
  }
}

function writeCache(dataDir: string, c: Cached): void {
  const dir = dirOf(dataDir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileAtomic(join(dir, 'fingerprints_dns.csv'), c.files.dnsCsv)
  writeFileAtomic(join(dir, 'fingerprints_http.csv'), c.files.httpCsv)
  // meta.json last: a crash before it leaves the previous meta, whose sizes the files then fail to match only if cut.
  writeFileAtomic(join(dir, 'meta.json'), JSON.stringify({ version: c.files.version, etag: c.files.etag, size: c.size }))
}

/** Where and how to fetch. */
export interface SyncOptions {
  aggregatorUrl: string
  /** Other addresses of the same aggregator, tried in order when aggregatorUrl cannot be reached. */
  mirrors?: readonly string[]
  token: string | null
  http: HttpOptions
  dataDir: string
  /** One line per outcome; never the probe's address. */
  log: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void
  /** The language of the lines that carry a value (a refusal's reason): the volunteer's at a terminal; English (the default) for JSON logs. */
  t?: Translate
}

/** GETs the two CSVs from the first of the aggregator's addresses that can be reached. */
async function fetchBoth(opts: SyncOptions, headers: Record<string, string>): Promise<HttpResponse[]> {
  const routes = [...new Set([opts.aggregatorUrl, ...(opts.mirrors ?? [])])].map(u => u.replace(/\/+$/, ''))
  for (const [i, base] of routes.entries()) {
    try {
      return await Promise.all(['dns', 'http'].map(async k => await request('GET', `${base}/api/v1/fingerprints/${k}.csv`, headers, null, { ...opts.http, timeoutMs: opts.http.timeoutMs ?? 30_000 })))
    } catch (err) {
      if (!(err instanceof NetworkError) || i === routes.length - 1) throw err
    }
  }
  throw new Error('no aggregator address to try')
}

/** The list the probe measures with, and where it came from. */
export interface SyncResult {
  fingerprints: FingerprintDb | undefined
  source: 'aggregator' | 'unchanged' | 'cache' | 'none'
}

/**
 * Fetches the aggregator's list, checks it, and caches it; falls back to
 * the cached last good list when the aggregator is out of reach or its list
 * is refused. Never throws.
 */
export async function syncFingerprints(opts: SyncOptions): Promise<SyncResult> {
  const cached = readCachedFingerprints(opts.dataDir)
  const fallback = async (source: 'cache' | 'unchanged'): Promise<SyncResult> => {
    if (cached === null) return { fingerprints: undefined, source: 'none' }
    return { fingerprints: await parseFingerprints(cached.files.dnsCsv, cached.files.httpCsv, cached.files.version), source }
  }
  if (opts.token === null) return await fallback('cache')
  const headers: Record<string, string> = { authorization: `Bearer ${opts.token}`, accept: 'text/csv' }
  if (cached?.files.etag != null) headers['if-none-match'] = cached.files.etag
  try {
    const [dns, http] = await fetchBoth(opts, headers)
    if (dns.status === 304 && http.status === 304 && cached !== null) return await fallback('unchanged')
    for (const [k, r] of [
      ['dns', dns],
      ['http', http]
    ] as const) {
      if (r.status !== 200) throw new Error(`GET fingerprints/${k}.csv: HTTP ${r.status}`)
    }
    const version = String(dns.headers['x-fingerprints-version'] ?? '')
    const etag = typeof dns.headers.etag === 'string' ? dns.headers.etag : null
    if (version === '' || version !== String(http.headers['x-fingerprints-version'] ?? '') || etag !== (http.headers.etag ?? null)) {
      throw new FingerprintListError('versions')
    }
    const files: FingerprintFiles = { version, etag, dnsCsv: dns.text, httpCsv: http.text }
    const size = await checkFingerprintFiles(files, cached?.size ?? null)
    const parsed = await parseFingerprints(files.dnsCsv, files.httpCsv, version)
    writeCache(opts.dataDir, { files, size })
    opts.log('info', 'fingerprint list updated from the aggregator', { version, dns: size.dns, http: size.http })
    return { fingerprints: parsed, source: 'aggregator' }
  } catch (err) {
    const t = opts.t ?? inEnglish
    const reason = sayError(t, err)
    opts.log('warn', err instanceof FingerprintListError ? t('fingerprintList.refused', { reason }) : t('fingerprintList.unreachable', { error: reason }), {
      kept: cached?.files.version ?? 'none'
    })
    return await fallback('cache')
  }
}
