/**
 * Probe pseudonyms: the public API never shows a probe_id. Where probes must
 * be told apart it shows HMAC-SHA256(secret, probe_id | month), cut short,
 * so a probe cannot be followed from one month to the next. The secret is
 * shared by every instance through server_secrets (or PSEUDONYM_SECRET).
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { Queryable } from './store/db.ts'
import { sharedSecret } from './store/secrets.ts'

/** The pseudonym of a probe in the month of `at` (UTC). Null for a measurement without probe_id. */
export function probePseudonym(secret: string, probeId: string | null, at: Date): string | null {
  if (probeId === null || probeId === '') return null
  const month = at.toISOString().slice(0, 7)
  return 'p-' + createHmac('sha256', secret).update(`${probeId}|${month}`).digest('hex').slice(0, 16)
}

/** Reads the shared pseudonym secret, creating it on first use. */
export async function loadPseudonymSecret(db: Queryable): Promise<string> {
  return await sharedSecret(db, 'probe_pseudonym', () => randomBytes(32).toString('hex'))
}
