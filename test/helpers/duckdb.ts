/**
 * DuckDB for the tests that read exported and archived files back (a dev
 * dependency): one in-memory database per query, values as JSON (BIGINT as
 * text).
 */
import { DuckDBInstance } from '@duckdb/node-api'

/** Runs one query in a fresh in-memory DuckDB and returns its rows. */
export async function duck(sql: string): Promise<Array<Record<string, unknown>>> {
  const inst = await DuckDBInstance.create(':memory:')
  const conn = await inst.connect()
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>
  } finally {
    conn.closeSync()
    inst.closeSync()
  }
}
