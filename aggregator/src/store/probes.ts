/**
 * The probes table: registration, check-in, revocation, tokens (stored only
 * hashed) and the status an operator sees. Every statement about probes is
 * here, so that the route and the dashboard page read the same columns.
 */
import { type Queryable, reader } from './db.ts'

/** What a probe's registration stores. */
export interface NewProbe {
  probe_id: string
  token_hash: string
  software_name: string
  software_version: string
  platform: string | null
  /** The network the registration came from (the address itself is never stored). */
  registered_asn: string | null
  /** SHA-256 of the registration_id the probe chose, or null when it sent none. */
  registration_hash: string | null
}

/** A probe's status as the admin list and the operators' page show it (times as ISO strings). */
export interface ProbeStatus {
  probe_id: string
  software_name: string
  software_version: string
  platform: string | null
  created_at: string
  revoked_at: string | null
  last_check_in_at: string | null
  last_probe_cc: string | null
  last_probe_asn: string | null
  pending_measurements: number | null
  pending_bytes: number | null
  check_ins: number
  last_upload_at: string | null
}

/** The one column list of a probe's status (pending_bytes is a bigint, read as text). */
const STATUS_COLUMNS = `probe_id, software_name, software_version, platform, created_at, revoked_at, last_check_in_at,
  last_probe_cc, last_probe_asn, pending_measurements, pending_bytes::text AS pending_bytes, check_ins, last_upload_at`

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string | Date).toISOString())

/** A status row with its times as ISO strings and its counts as numbers (the drivers decode them differently). */
function statusOf(r: Record<string, unknown>): ProbeStatus {
  return {
    probe_id: String(r.probe_id),
    software_name: String(r.software_name),
    software_version: String(r.software_version),
    platform: (r.platform as string | null) ?? null,
    created_at: iso(r.created_at) ?? '',
    revoked_at: iso(r.revoked_at),
    last_check_in_at: iso(r.last_check_in_at),
    last_probe_cc: (r.last_probe_cc as string | null) ?? null,
    last_probe_asn: (r.last_probe_asn as string | null) ?? null,
    pending_measurements: r.pending_measurements === null || r.pending_measurements === undefined ? null : Number(r.pending_measurements),
    pending_bytes: r.pending_bytes === null || r.pending_bytes === undefined ? null : Number(r.pending_bytes),
    check_ins: Number(r.check_ins ?? 0),
    last_upload_at: iso(r.last_upload_at)
  }
}

/** Stores a new probe; false when its probe_id, or its registration, is taken. */
export async function insertProbe(q: Queryable, p: NewProbe): Promise<boolean> {
  const r = await q.query(
    `/* bw:probes.insertProbe */ INSERT INTO probes (probe_id, token_hash, software_name, software_version, platform, registered_asn, registration_hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING probe_id`,
    [p.probe_id, p.token_hash, p.software_name, p.software_version, p.platform, p.registered_asn, p.registration_hash]
  )
  return r.rows.length > 0
}

/**
 * A registration tried again (its answer was lost): the probe stored under
 * that registration, with a new token, while the probe has not used a token
 * yet (no check-in, no upload, not revoked); else `used` when the
 * registration is known but its probe is in use, or null when it is unknown.
 */
export async function registerAgain(q: Queryable, registrationHash: string, tokenHash: string): Promise<{ probe_id: string } | 'used' | null> {
  const r = await q.query<{ probe_id: string; fresh: boolean }>(
    // The conditions are in the UPDATE itself, so that a check-in committed meanwhile is seen.
    `/* bw:probes.registerAgain */ WITH u AS (
      UPDATE probes SET token_hash = $2
      WHERE registration_hash = $1 AND revoked_at IS NULL AND last_check_in_at IS NULL AND last_upload_at IS NULL RETURNING probe_id)
    SELECT probe_id, true AS fresh FROM u
    UNION ALL SELECT probe_id, false AS fresh FROM probes WHERE registration_hash = $1 AND NOT EXISTS (SELECT 1 FROM u)`,
    [registrationHash, tokenHash]
  )
  if (r.rows.length === 0) return null
  return r.rows[0].fresh ? { probe_id: r.rows[0].probe_id } : 'used'
}

/** What a check-in records: where the probe is, its outbox, and its software when it says. */
export interface CheckIn {
  probe_cc: string
  probe_asn: string
  pending_measurements: number | null
  pending_bytes: number | null
  software_name: string | null
  software_version: string | null
  platform: string | null
}

/** Records a check-in. */
export async function recordCheckIn(q: Queryable, probeId: string, c: CheckIn): Promise<void> {
  await q.query(
    `/* bw:probes.recordCheckIn */ UPDATE probes SET last_check_in_at = now(), last_probe_cc = $2, last_probe_asn = $3,
      pending_measurements = $4, pending_bytes = $5, check_ins = check_ins + 1,
      software_name = COALESCE($6, software_name), software_version = COALESCE($7, software_version), platform = COALESCE($8, platform)
    WHERE probe_id = $1`,
    [probeId, c.probe_cc, c.probe_asn, c.pending_measurements, c.pending_bytes, c.software_name, c.software_version, c.platform]
  )
}

/** Records an upload's time. */
export async function recordUpload(q: Queryable, probeId: string): Promise<void> {
  await q.query('/* bw:probes.recordUpload */ UPDATE probes SET last_upload_at = now() WHERE probe_id = $1', [probeId])
}

/**
 * Records an upload's time for several probes at once, inside the caller's
 * transaction (group commit: store/measurements.ts insertUploads): locks
 * their rows in probe_id order (two batches never wait on each other in a
 * cycle; a revocation waits for the commit), sets last_upload_at on those
 * not revoked, and says which are active and which revoked. A probe in
 * neither set is not registered.
 */
export async function recordUploads(tx: Queryable, probeIds: string[]): Promise<{ active: Set<string>; revoked: Set<string> }> {
  const active = new Set<string>()
  const revoked = new Set<string>()
  if (probeIds.length === 0) return { active, revoked }
  const r = await tx.query<{ probe_id: string; revoked: boolean }>(
    `/* bw:probes.recordUploads */ WITH p AS (
       SELECT probe_id, revoked_at FROM probes WHERE probe_id = ANY($1::text[]) ORDER BY probe_id FOR UPDATE),
     u AS (
       UPDATE probes SET last_upload_at = now() FROM p WHERE probes.probe_id = p.probe_id AND p.revoked_at IS NULL RETURNING probes.probe_id)
     SELECT p.probe_id, p.revoked_at IS NOT NULL AS revoked FROM p`,
    [[...new Set(probeIds)]]
  )
  for (const x of r.rows) (x.revoked ? revoked : active).add(x.probe_id)
  return { active, revoked }
}

/** Revokes a probe (kept revoked at its first revocation's time); null when there is no such probe. */
export async function revokeProbe(q: Queryable, probeId: string): Promise<Date | null> {
  const r = await q.query<{ revoked_at: Date }>('/* bw:probes.revokeProbe */ UPDATE probes SET revoked_at = COALESCE(revoked_at, now()) WHERE probe_id = $1 RETURNING revoked_at', [probeId])
  return r.rows.length === 0 ? null : new Date(r.rows[0].revoked_at)
}

/** The probe a token's hash belongs to, revoked or not, or undefined. */
export async function probeByTokenHash(q: Queryable, tokenHash: string): Promise<{ probe_id: string; revoked: boolean } | undefined> {
  const r = await q.query<{ probe_id: string; revoked_at: Date | null }>('/* bw:probes.probeByTokenHash */ SELECT probe_id, revoked_at FROM probes WHERE token_hash = $1', [tokenHash])
  return r.rows.length === 0 ? undefined : { probe_id: r.rows[0].probe_id, revoked: r.rows[0].revoked_at !== null }
}

/** Whether a probe is registered. */
export async function probeExists(q: Queryable, probeId: string): Promise<boolean> {
  return (await q.query('/* bw:probes.probeExists */ SELECT 1 FROM probes WHERE probe_id = $1', [probeId])).rows.length > 0
}

/** Every probe's status, oldest registration first. */
export async function listProbes(q: Queryable): Promise<ProbeStatus[]> {
  return (await q.query(`/* bw:probes.listProbes */ SELECT ${STATUS_COLUMNS} FROM probes ORDER BY created_at`)).rows.map(statusOf)
}

/** The status of the active (not revoked) probe a token's hash belongs to, or undefined. */
export async function activeProbeStatus(q: Queryable, tokenHash: string): Promise<ProbeStatus | undefined> {
  const r = await q.query(`/* bw:probes.activeProbeStatus */ SELECT ${STATUS_COLUMNS} FROM probes WHERE token_hash = $1 AND revoked_at IS NULL`, [tokenHash])
  return r.rows.length === 0 ? undefined : statusOf(r.rows[0])
}

/** One target for which a probe reports blocking that the other probes of its country do not see. */
export interface OutlierFlag {
  probe_id: string
  probe_cc: string
  domain: string
  test_name: string
  usable: number
  anomalies: number
  others: number
  othersUsable: number
  othersAnomalies: number
}

/** The window and thresholds of the outlier flag. */
export const OUTLIER_RULE = Object.freeze({ days: 7, minUsable: 10, minShare: 0.8, minOthers: 2, maxOthersShare: 0.2 })

/**
 * Poisoning (issue 9): the targets for which a probe's measurements of the
 * last week were mostly anomalous while at least two other probes of the
 * same country measured them mostly fine. Read from the week's measurements
 * of those probes and targets, with the verdicts stored at ingest: each
 * series' totals grouped by probe_cc, less the probe's own rows, so that on
 * Citus every part is grouped by or joined on probe_cc (docs/scale.md).
 */
export async function outlierFlags(q: Queryable, probeIds: string[], nowMs: number): Promise<OutlierFlag[]> {
  if (probeIds.length === 0) return []
  const r = await reader(q).query<{ probe_key: string; probe_cc: string; domain: string; test_name: string; usable: number; bad: number; probes: number; o_usable: number; o_bad: number }>(
    `/* bw:probes.outlierFlags */ WITH mine AS (
       SELECT probe_id AS probe_key, probe_cc, coalesce(domain, '') AS domain, test_name,
         (count(*) FILTER (WHERE NOT failure AND NOT down))::int AS usable, (count(*) FILTER (WHERE NOT failure AND anomaly AND NOT confirmed))::int AS bad,
         (count(*) FILTER (WHERE NOT failure AND (anomaly OR confirmed)))::int AS bad_any
       FROM measurements WHERE probe_id = ANY($1::text[]) AND measurement_start_time >= $2::timestamptz
       GROUP BY 1, 2, 3, 4),
     series AS (
       SELECT h.probe_cc, coalesce(h.domain, '') AS domain, h.test_name,
         count(DISTINCT coalesce(h.probe_id, 'r:' || coalesce(h.report_id, h.measurement_uid)))::int AS probes,
         (count(*) FILTER (WHERE NOT h.failure AND NOT h.down))::int AS usable,
         (count(*) FILTER (WHERE NOT h.failure AND (h.anomaly OR h.confirmed)))::int AS bad
       FROM measurements h
       WHERE h.measurement_start_time >= $2::timestamptz AND (h.probe_cc, coalesce(h.domain, ''), h.test_name) IN (SELECT probe_cc, domain, test_name FROM mine)
       GROUP BY 1, 2, 3)
     SELECT m.probe_key, trim(m.probe_cc) AS probe_cc, m.domain, m.test_name, m.usable, m.bad, o.probes, o.usable AS o_usable, o.bad AS o_bad
     FROM mine m JOIN LATERAL (
       -- The series' other probes: the series' totals less the probe's own
       -- rows (its key is its probe_id, counted once among the distinct keys).
       SELECT s.probes - 1 AS probes, s.usable - m.usable AS usable, s.bad - m.bad_any AS bad
       FROM series s WHERE s.probe_cc = m.probe_cc AND s.domain = m.domain AND s.test_name = m.test_name) o ON TRUE
     WHERE m.usable >= $3::int AND m.bad >= $4::float8 * m.usable AND o.probes >= $5::int AND o.usable >= $3::int AND o.bad <= $6::float8 * o.usable
     ORDER BY m.bad DESC LIMIT 200`,
    [probeIds, new Date(nowMs - OUTLIER_RULE.days * 86_400_000).toISOString(), OUTLIER_RULE.minUsable, OUTLIER_RULE.minShare, OUTLIER_RULE.minOthers, OUTLIER_RULE.maxOthersShare]
  )
  return r.rows.map(x => ({
    probe_id: x.probe_key,
    probe_cc: x.probe_cc,
    domain: x.domain,
    test_name: x.test_name,
    usable: Number(x.usable),
    anomalies: Number(x.bad),
    others: Number(x.probes),
    othersUsable: Number(x.o_usable),
    othersAnomalies: Number(x.o_bad)
  }))
}
