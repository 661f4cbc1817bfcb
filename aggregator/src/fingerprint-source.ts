/**
 * The fingerprint list scoring uses. An admin's upload (stored in
 * fingerprint_lists) wins; otherwise the list given at start-up
 * (FINGERPRINTS_DIR), otherwise an empty list. Every instance re-reads the
 * stored version at most once a `refreshMs`, so an upload reaches them all.
 */
import { createHash } from 'node:crypto'
import { parseFingerprints, type Fingerprint, type FingerprintDb } from '../../shared/src/fingerprints.ts'
import { csvCell } from '../../shared/src/csv.ts'
import type { Queryable } from './store/db.ts'
import { loadStoredFingerprints, saveFingerprints, storedFingerprintsVersion } from './store/fingerprints.ts'

/** A source of the current fingerprint list. */
export interface FingerprintSource {
  /** The current list (cached). */
  get: () => Promise<FingerprintDb>
  /** Stores a new list for every instance; returns its version. */
  put: (dnsCsv: string, httpCsv: string) => Promise<FingerprintDb>
  /** The current list as OONI's two CSV files, as probes fetch it (GET /api/v1/fingerprints/{dns,http}.csv). */
  files: () => Promise<FingerprintFiles>
}

/** A list as its two files, with the version scoring stamps and a hash of the bytes (the ETag). */
export interface FingerprintFiles {
  version: string
  dnsCsv: string
  httpCsv: string
  etag: string
}

/** OONI's columns (github.com/ooni/blocking-fingerprints), in order. */
export const FINGERPRINT_COLUMNS = ['name', 'scope', 'other_names', 'location_found', 'pattern_type', 'pattern', 'confidence_no_fp', 'expected_countries', 'source', 'exp_url', 'notes'] as const

/** Writes parsed fingerprints back as an OONI CSV file (columns the parser drops are left empty). */
export function fingerprintsCsv(list: Iterable<Fingerprint>): string {
  const lines = [FINGERPRINT_COLUMNS.join(',')]
  for (const fp of list) {
    lines.push([fp.name, fp.scope, '', fp.location_found, fp.pattern_type, fp.pattern, String(fp.confidence_no_fp), fp.expected_countries.join(','), '', '', ''].map(csvCell).join(','))
  }
  return lines.join('\n') + '\n'
}

/** The empty list: nothing ever matches. */
export const NO_FINGERPRINTS: FingerprintDb = { version: 'none', dns: new Map(), http: [] }

/** The version of a list: a hash of its two files. */
export function fingerprintsVersion(dnsCsv: string, httpCsv: string): string {
  return 'sha256:' + createHash('sha256').update(dnsCsv).update('\0').update(httpCsv).digest('hex').slice(0, 16)
}

/** Creates a source over the database, with `fallback` when nothing was uploaded. */
export function fingerprintSource(db: Queryable, fallback: FingerprintDb = NO_FINGERPRINTS, refreshMs = 60_000): FingerprintSource {
  let current: FingerprintDb = fallback
  let checkedAt = -Infinity
  let loading: Promise<FingerprintDb> | undefined
  const refresh = async (): Promise<FingerprintDb> => {
    const version = await storedFingerprintsVersion(db)
    if (version === undefined) current = fallback
    else if (version !== current.version) {
      const r = await loadStoredFingerprints(db)
      if (r !== undefined) current = await parseFingerprints(r.dns_csv, r.http_csv, r.version)
    }
    checkedAt = Date.now()
    return current
  }
  let filesOf: { version: string; files: Promise<FingerprintFiles> } | undefined
  const files = async (fp: FingerprintDb): Promise<FingerprintFiles> => {
    const r = await loadStoredFingerprints(db, fp.version)
    const [dnsCsv, httpCsv] = r !== undefined ? [r.dns_csv, r.http_csv] : [fingerprintsCsv(fp.dns.values()), fingerprintsCsv(fp.http)]
    return { version: fp.version, dnsCsv, httpCsv, etag: '"' + fingerprintsVersion(dnsCsv, httpCsv) + '"' }
  }
  return {
    async files() {
      const fp = await this.get()
      if (filesOf?.version !== fp.version) filesOf = { version: fp.version, files: files(fp) }
      return await filesOf.files
    },
    async get() {
      if (Date.now() - checkedAt < refreshMs) return current
      loading ??= refresh().finally(() => {
        loading = undefined
      })
      return await loading
    },
    async put(dnsCsv, httpCsv) {
      const version = fingerprintsVersion(dnsCsv, httpCsv)
      const parsed = await parseFingerprints(dnsCsv, httpCsv, version)
      await saveFingerprints(db, dnsCsv, httpCsv, version)
      current = parsed
      checkedAt = Date.now()
      return parsed
    }
  }
}
