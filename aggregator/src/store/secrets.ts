/** The server_secrets table: secrets every instance shares through the database (the probe pseudonym's). */
import type { Queryable } from './db.ts'

/**
 * The secret `name`, stored as `fresh()` by the first instance that asks.
 * Writes only when it is missing; `q` must be the primary (a replica refuses
 * the INSERT), so the server loads it once at start-up (server.ts).
 */
export async function sharedSecret(q: Queryable, name: string, fresh: () => string): Promise<string> {
  const have = await q.query<{ value: string }>('/* bw:secrets.sharedSecret */ SELECT value FROM server_secrets WHERE name = $1', [name])
  if (have.rows.length > 0) return have.rows[0].value
  await q.query('/* bw:secrets.sharedSecret */ INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, fresh()])
  const r = await q.query<{ value: string }>('/* bw:secrets.sharedSecret */ SELECT value FROM server_secrets WHERE name = $1', [name])
  return r.rows[0].value
}
