/**
 * Test helper: inserts measurement rows straight into `measurements`, as
 * ingest would after scoring, so that rollup and event tests do not depend
 * on the ingest code.
 */
import type { Queryable } from '../../aggregator/src/store/db.ts'
import { unreachableOf } from '../../shared/src/scoring.ts'
import { uuidv7 } from '../../shared/src/uid.ts'

/** One row to insert; the flags are the scored ones. */
export interface Row {
  t: string | Date
  cc?: string
  asn?: string
  region?: string | null
  probe?: string | null
  domain?: string
  test_name?: string
  anomaly?: boolean
  confirmed?: boolean
  failure?: boolean
  blocking_type?: string | null
  /** Default: the test keys read as a verdict of down (blocking false, accessible false). */
  down?: boolean
  /** Default: the test keys say the probe reached neither the target nor the control. */
  unreachable?: boolean
  uid?: string
  test_keys?: Record<string, unknown> | null
}

/** Inserts rows in one statement (so one trigger run), creating partitions first. */
export async function insertRows(db: Queryable, rows: Row[]): Promise<string[]> {
  const uids: string[] = []
  const months = new Set(rows.map(r => new Date(r.t).toISOString().slice(0, 7)))
  for (const m of months) await db.query('SELECT ensure_measurement_partition($1)', [m + '-01T00:00:00Z'])
  const values: string[] = []
  const params: unknown[] = []
  for (const r of rows) {
    const uid = r.uid ?? uuidv7(new Date(r.t).getTime())
    uids.push(uid)
    const domain = r.domain ?? 'www.facebook.com'
    const doc = {
      measurement_uid: uid,
      probe_cc: r.cc ?? 'IR',
      probe_asn: r.asn ?? 'AS197207',
      test_name: r.test_name ?? 'web_connectivity',
      input: `https://${domain}/`,
      test_keys: r.test_keys === undefined ? { blocking: r.anomaly === true ? 'dns' : false, accessible: r.anomaly !== true } : r.test_keys
    }
    const tk = doc.test_keys
    const base = params.length
    params.push(
      uid,
      new Date(r.t).toISOString(),
      r.cc ?? 'IR',
      r.asn ?? 'AS197207',
      r.region ?? null,
      r.probe === undefined ? 'p1' : r.probe,
      r.test_name ?? 'web_connectivity',
      `https://${domain}/`,
      domain,
      r.blocking_type ?? (r.anomaly === true ? 'dns' : null),
      r.anomaly ?? false,
      r.confirmed ?? false,
      r.failure ?? false,
      JSON.stringify(doc),
      r.down ?? (tk !== null && tk.blocking === false && tk.accessible === false),
      r.unreachable ?? (tk !== null && unreachableOf(tk))
    )
    values.push(`(${Array.from({ length: 16 }, (_, i) => `$${base + i + 1}`).join(', ')}, 1, 'test')`)
  }
  await db.query(
    `INSERT INTO measurements (measurement_uid, measurement_start_time, probe_cc, probe_asn, probe_region, probe_id,
    test_name, input, domain, blocking_type, anomaly, confirmed, failure, doc, down, unreachable, scoring_version, fingerprints_version)
    VALUES ${values.join(', ')}`,
    params
  )
  return uids
}
