/**
 * Fetching OONI's blockpage fingerprints: a folder holding
 * fingerprints_dns.csv and fingerprints_http.csv, or, when online, the
 * current files of github.com/ooni/blocking-fingerprints. The probe loads
 * them for its verdicts; the aggregator's `dev` command stores them once.
 */
import { request } from 'undici'
import { readFileSync } from 'node:fs'
import { parseFingerprints, type FingerprintDb } from '../fingerprints.ts'

/** The published list, fetched when online. */
/**
 * Loads fingerprints_dns.csv and fingerprints_http.csv from a folder. Here,
 * beside the fetching, rather than in ../fingerprints.ts: that module is
 * verdict code (the matchers), which reads no file.
 */
export async function loadFingerprintsDir(dir: string, version = 'ooni-blocking-fingerprints'): Promise<FingerprintDb> {
  return await parseFingerprints(readFileSync(`${dir}/fingerprints_dns.csv`, 'utf8'), readFileSync(`${dir}/fingerprints_http.csv`, 'utf8'), version)
}

export const FINGERPRINTS_URL = 'https://raw.githubusercontent.com/ooni/blocking-fingerprints/main/'

/** The two CSV files of a fingerprint list, as text. */
export interface FingerprintCsvs {
  dns: string
  http: string
}

/**
 * Fetches fingerprints_dns.csv and fingerprints_http.csv from `baseUrl`
 * (a folder URL ending in "/"), each under `timeoutMs`. Rejects when either
 * fails, naming the file.
 */
export async function fetchFingerprintCsvs(baseUrl: string = FINGERPRINTS_URL, timeoutMs = 10_000): Promise<FingerprintCsvs> {
  const get = async (name: string): Promise<string> => {
    const res = await request(new URL(name, baseUrl).href, { signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`${name}: HTTP ${res.statusCode}`)
    return text
  }
  const [dns, http] = await Promise.all([get('fingerprints_dns.csv'), get('fingerprints_http.csv')])
  return { dns, http }
}

/** Fetches and parses the list at `baseUrl`. Rejects when either file fails. */
export async function fetchFingerprints(baseUrl: string = FINGERPRINTS_URL, timeoutMs = 10_000): Promise<FingerprintDb> {
  const { dns, http } = await fetchFingerprintCsvs(baseUrl, timeoutMs)
  return await parseFingerprints(dns, http, `url:${baseUrl}`)
}

/**
 * Loads fingerprints from a folder, an http(s) URL, or "none". Rejects with
 * a message naming the source when it cannot be read.
 */
export async function loadFingerprints(source: string): Promise<FingerprintDb | undefined> {
  if (source === 'none') return undefined
  if (/^https?:\/\//.test(source)) return await fetchFingerprints(source.endsWith('/') ? source : source + '/')
  return await loadFingerprintsDir(source, `dir:${source}`)
}
