/**
 * Where the probe gets OONI's blockpage fingerprints: a folder holding
 * fingerprints_dns.csv and fingerprints_http.csv, or, when online, the
 * current files of github.com/ooni/blocking-fingerprints.
 */
import { request } from 'undici'
import { loadFingerprintsDir, parseFingerprints, type FingerprintDb } from '../../shared/src/fingerprints.ts'

/** The published list, fetched when online. */
export const FINGERPRINTS_URL = 'https://raw.githubusercontent.com/ooni/blocking-fingerprints/main/'

/** Fetches fingerprints_dns.csv and fingerprints_http.csv from `baseUrl`. Rejects when either fails. */
export async function fetchFingerprints (baseUrl: string = FINGERPRINTS_URL, timeoutMs = 10_000): Promise<FingerprintDb> {
  const get = async (name: string): Promise<string> => {
    const res = await request(new URL(name, baseUrl).href, { signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`${name}: HTTP ${res.statusCode}`)
    return text
  }
  const [dns, http] = await Promise.all([get('fingerprints_dns.csv'), get('fingerprints_http.csv')])
  return await parseFingerprints(dns, http, `url:${baseUrl}`)
}

/**
 * Loads fingerprints from a folder, an http(s) URL, or "none". Rejects with
 * a message naming the source when it cannot be read.
 */
export async function loadFingerprints (source: string): Promise<FingerprintDb | undefined> {
  if (source === 'none') return undefined
  if (/^https?:\/\//.test(source)) return await fetchFingerprints(source.endsWith('/') ? source : source + '/')
  return await loadFingerprintsDir(source, `dir:${source}`)
}
