/** The target_lists table: Citizen Lab CSVs by name (`global` or a country code), with a version. */
import type { Queryable } from './db.ts'

/** A stored list's summary, as check-in tells it. */
export interface TargetListInfo {
  name: string
  rows: number
  version: string
  updated_at: string
}

/** Stores (or replaces) a list. */
export async function putTargetList(q: Queryable, name: string, csv: string, rows: number, version: string): Promise<void> {
  await q.query(
    `/* bw:target-lists.putTargetList */ INSERT INTO target_lists (name, csv, rows, version) VALUES ($1, $2, $3, $4)
    ON CONFLICT (name) DO UPDATE SET csv = EXCLUDED.csv, rows = EXCLUDED.rows, version = EXCLUDED.version, updated_at = now()`,
    [name, csv, rows, version]
  )
}

/** A list's CSV and version, or undefined. */
export async function getTargetList(q: Queryable, name: string): Promise<{ csv: string; version: string } | undefined> {
  const r = await q.query<{ csv: string; version: string }>('/* bw:target-lists.getTargetList */ SELECT csv, version FROM target_lists WHERE name = $1', [name])
  return r.rows[0]
}

/** Deletes a list; false when there was none. */
export async function deleteTargetList(q: Queryable, name: string): Promise<boolean> {
  return (await q.query('/* bw:target-lists.deleteTargetList */ DELETE FROM target_lists WHERE name = $1', [name])).rowCount > 0
}

/** The summaries of the lists among `names`, by name. */
export async function targetListsNamed(q: Queryable, names: string[]): Promise<TargetListInfo[]> {
  const r = await q.query<{ name: string; rows: number; version: string; updated_at: Date }>(
    '/* bw:target-lists.targetListsNamed */ SELECT name, rows, version, updated_at FROM target_lists WHERE name = ANY($1::text[]) ORDER BY name',
    [names]
  )
  return r.rows.map(l => ({ name: l.name, rows: Number(l.rows), version: l.version, updated_at: new Date(l.updated_at).toISOString() }))
}
