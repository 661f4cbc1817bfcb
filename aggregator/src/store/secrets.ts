/** The server_secrets table: secrets every instance shares through the database (the probe pseudonym's). */
import type { Queryable } from './db.ts'

/** The secret `name`, stored as `fresh()` by the first instance that asks. */
export async function sharedSecret (q: Queryable, name: string, fresh: () => string): Promise<string> {
  await q.query('/* bw:secrets.sharedSecret */ INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, fresh()])
  const r = await q.query<{ value: string }>('/* bw:secrets.sharedSecret */ SELECT value FROM server_secrets WHERE name = $1', [name])
  return r.rows[0].value
}
