/**
 * Where a benchmark database's bytes are: measurements' heap (with TOAST)
 * and each of its indexes summed over the month partitions, then every other
 * table with its indexes, so that bytes per measurement can be explained
 * table by table (issue 13: ≤ 1,000 bytes a small measurement).
 */
import pg from 'pg'

/** One line of the breakdown. */
export interface SizeRow {
  what: string
  bytes: number
  rows: number | null
}

/** The breakdown, largest first, with the database's total as the last row. */
export async function sizeBreakdown(url: string): Promise<SizeRow[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const out: SizeRow[] = []
    const heap = await c.query<{ b: string }>(`SELECT coalesce(sum(pg_table_size(relid)), 0)::text AS b FROM pg_partition_tree('measurements') WHERE isleaf`)
    const n = await c.query<{ n: string }>('SELECT count(*)::text AS n FROM measurements')
    out.push({ what: 'measurements: heap and TOAST (all partitions)', bytes: Number(heap.rows[0]!.b), rows: Number(n.rows[0]!.n) })
    // Each partitioned index, summed over its partitions' indexes.
    const idx = await c.query<{ idx: string; b: string }>(`SELECT coalesce(pg_partition_root(i.indexrelid), i.indexrelid)::regclass::text AS idx,
        sum(pg_relation_size(i.indexrelid))::text AS b
      FROM pg_index i JOIN pg_partition_tree('measurements') p ON p.relid = i.indrelid AND p.isleaf
      GROUP BY 1 ORDER BY 2 DESC`)
    for (const r of idx.rows) out.push({ what: `measurements: index ${r.idx}`, bytes: Number(r.b), rows: null })
    // The other tables of the schema, with their indexes and TOAST.
    const other = await c.query<{ t: string; b: string; heap: string; n: string }>(`SELECT c.relname AS t, pg_total_relation_size(c.oid)::text AS b,
        pg_table_size(c.oid)::text AS heap, c.reltuples::bigint::text AS n
      FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition
      ORDER BY pg_total_relation_size(c.oid) DESC`)
    for (const r of other.rows) {
      if (Number(r.b) < 100_000) continue
      const idxBytes = Number(r.b) - Number(r.heap)
      out.push({ what: `${r.t} (indexes ${(idxBytes / 1e6).toFixed(1)} MB)`, bytes: Number(r.b), rows: Number(r.n) })
    }
    const total = Number((await c.query<{ b: string }>('SELECT pg_database_size(current_database())::text AS b')).rows[0]!.b)
    const listed = out.reduce((a, r) => a + r.bytes, 0)
    out.push({ what: 'everything else (catalogs, small tables, free space map)', bytes: total - listed, rows: null })
    out.push({ what: 'database', bytes: total, rows: null })
    return out
  } finally {
    await c.end()
  }
}
