/** The fingerprint_lists table: the one blockpage fingerprint list an admin uploaded (row id 1), as its two CSVs. */
import type { Queryable } from './db.ts'

/** The stored list's two files and version. */
export interface StoredFingerprints {
  dns_csv: string
  http_csv: string
  version: string
}

/** The stored list's version, or undefined when none was uploaded. */
export async function storedFingerprintsVersion(q: Queryable): Promise<string | undefined> {
  return (await q.query<{ version: string }>('/* bw:fingerprints.storedFingerprintsVersion */ SELECT version FROM fingerprint_lists WHERE id = 1')).rows[0]?.version
}

/** The stored list (only when it has `version`, if given), or undefined. */
export async function loadStoredFingerprints(q: Queryable, version?: string): Promise<StoredFingerprints | undefined> {
  const r =
    version === undefined
      ? await q.query<StoredFingerprints>('/* bw:fingerprints.loadStoredFingerprints */ SELECT dns_csv, http_csv, version FROM fingerprint_lists WHERE id = 1')
      : await q.query<StoredFingerprints>('/* bw:fingerprints.loadStoredFingerprints */ SELECT dns_csv, http_csv, version FROM fingerprint_lists WHERE id = 1 AND version = $1', [version])
  return r.rows[0]
}

/** Stores (or replaces) the list. */
export async function saveFingerprints(q: Queryable, dnsCsv: string, httpCsv: string, version: string): Promise<void> {
  await q.query(
    `/* bw:fingerprints.saveFingerprints */ INSERT INTO fingerprint_lists (id, dns_csv, http_csv, version) VALUES (1, $1, $2, $3)
    ON CONFLICT (id) DO UPDATE SET dns_csv = EXCLUDED.dns_csv, http_csv = EXCLUDED.http_csv, version = EXCLUDED.version, updated_at = now()`,
    [dnsCsv, httpCsv, version]
  )
}
