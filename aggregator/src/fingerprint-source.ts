/**
 * The fingerprint list scoring uses. An admin's upload (stored in
 * fingerprint_lists) wins; otherwise the list given at start-up
 * (FINGERPRINTS_DIR), otherwise an empty list. Every instance re-reads the
 * stored version at most once a `refreshMs`, so an upload reaches them all.
 */
import { createHash } from 'node:crypto'
import { parseFingerprints, type FingerprintDb } from '../../shared/src/fingerprints.ts'
import type { Queryable } from './store/db.ts'

/** A source of the current fingerprint list. */
export interface FingerprintSource {
  /** The current list (cached). */
  get: () => Promise<FingerprintDb>
  /** Stores a new list for every instance; returns its version. */
  put: (dnsCsv: string, httpCsv: string) => Promise<FingerprintDb>
}

/** The empty list: nothing ever matches. */
export const NO_FINGERPRINTS: FingerprintDb = { version: 'none', dns: new Map(), http: [] }

/** The version of a list: a hash of its two files. */
export function fingerprintsVersion (dnsCsv: string, httpCsv: string): string {
  return 'sha256:' + createHash('sha256').update(dnsCsv).update('\0').update(httpCsv).digest('hex').slice(0, 16)
}

/** Creates a source over the database, with `fallback` when nothing was uploaded. */
export function fingerprintSource (db: Queryable, fallback: FingerprintDb = NO_FINGERPRINTS, refreshMs = 60_000): FingerprintSource {
  let current: FingerprintDb = fallback
  let checkedAt = -Infinity
  let loading: Promise<FingerprintDb> | undefined
  const refresh = async (): Promise<FingerprintDb> => {
    const v = await db.query<{ version: string }>('SELECT version FROM fingerprint_lists WHERE id = 1')
    if (v.rows.length === 0) current = fallback
    else if (v.rows[0].version !== current.version) {
      const r = await db.query<{ dns_csv: string, http_csv: string, version: string }>('SELECT dns_csv, http_csv, version FROM fingerprint_lists WHERE id = 1')
      if (r.rows.length > 0) current = await parseFingerprints(r.rows[0].dns_csv, r.rows[0].http_csv, r.rows[0].version)
    }
    checkedAt = Date.now()
    return current
  }
  return {
    async get () {
      if (Date.now() - checkedAt < refreshMs) return current
      loading ??= refresh().finally(() => { loading = undefined })
      return await loading
    },
    async put (dnsCsv, httpCsv) {
      const version = fingerprintsVersion(dnsCsv, httpCsv)
      const parsed = await parseFingerprints(dnsCsv, httpCsv, version)
      await db.query(`INSERT INTO fingerprint_lists (id, dns_csv, http_csv, version) VALUES (1, $1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET dns_csv = EXCLUDED.dns_csv, http_csv = EXCLUDED.http_csv, version = EXCLUDED.version, updated_at = now()`,
      [dnsCsv, httpCsv, version])
      current = parsed
      checkedAt = Date.now()
      return parsed
    }
  }
}
