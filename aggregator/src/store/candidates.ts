/**
 * The SQL of blockpage discovery (issue 15, Deliver 2): the stored documents
 * it reads (judged at ingest; nothing is judged here), the candidates table
 * it rewrites (migrations/0110-blockpage-candidates.sql), and the stored
 * fingerprint CSVs a promotion appends to. The rule itself is pure
 * (shared/src/blockpage-discovery.ts); the job is ../blockpages/discover.ts.
 */
import type { Candidate } from '../../../shared/src/blockpage-discovery.ts'
import type { Queryable } from './db.ts'

/** One stored measurement with its document. */
export interface StoredDoc {
  measurement_uid: string
  time_ms: number
  probe_cc: string
  probe_asn: string
  domain: string
  doc: unknown
}

const parseDoc = (d: unknown): unknown => (typeof d === 'string' ? JSON.parse(d) : d)

/**
 * The newest `limit` web_connectivity measurements since `since` that the
 * verdict stored as anomalous and unconfirmed with one of `reasons` (a page
 * unlike the control's). A scan of the window in primary-key order.
 */
export async function loadAnomalousDocs(db: Queryable, since: Date, reasons: readonly string[], limit: number): Promise<StoredDoc[]> {
  const r = await db.query<{ measurement_uid: string; measurement_start_time: Date | string; probe_cc: string; probe_asn: string; domain: string | null; doc: unknown }>(
    `/* bw:candidates.loadAnomalousDocs */ SELECT measurement_uid, measurement_start_time, trim(probe_cc) AS probe_cc, probe_asn, domain, doc FROM measurements
     WHERE measurement_start_time >= $1::timestamptz AND test_name = 'web_connectivity' AND anomaly AND NOT confirmed
       AND verdict_reason = ANY($2::text[]) AND domain IS NOT NULL
     ORDER BY measurement_start_time DESC LIMIT $3::int`,
    [since.toISOString(), [...reasons], limit]
  )
  return r.rows.map(x => ({
    measurement_uid: x.measurement_uid,
    time_ms: new Date(x.measurement_start_time).getTime(),
    probe_cc: x.probe_cc,
    probe_asn: x.probe_asn,
    domain: x.domain ?? '',
    doc: parseDoc(x.doc)
  }))
}

/**
 * What the control saw for the newest `limit` web_connectivity measurements
 * of one network since `since`: its page's sketch and title, read from the
 * stored documents (measurements_cc_time).
 */
export async function loadControlViews(db: Queryable, probeCc: string, probeAsn: string, since: Date, limit: number): Promise<Array<{ sketch: string | null; title: string }>> {
  const r = await db.query<{ sketch: string | null; title: string | null }>(
    `/* bw:candidates.loadControlViews */ SELECT doc->'test_keys'->'control'->'http_request'->>'x_body_sketch' AS sketch,
            doc->'test_keys'->'control'->'http_request'->>'title' AS title
     FROM measurements
     WHERE probe_cc = $1::bpchar AND measurement_start_time >= $3::timestamptz AND probe_asn = $2 AND test_name = 'web_connectivity'
     ORDER BY measurement_start_time DESC LIMIT $4::int`,
    [probeCc, probeAsn, since.toISOString(), limit]
  )
  return r.rows.map(x => ({ sketch: x.sketch, title: (x.title ?? '').trim() }))
}

/**
 * The documents of the newest `limit` web_connectivity measurements of
 * these domains since `since` that were judged ok (no anomaly, no failure,
 * not down): pages the probes saw as the sites' own (measurements_domain_time).
 */
export async function loadOkDocs(db: Queryable, domains: string[], since: Date, limit: number): Promise<unknown[]> {
  if (domains.length === 0) return []
  const r = await db.query<{ doc: unknown }>(
    `/* bw:candidates.loadOkDocs */ SELECT doc FROM measurements
     WHERE domain = ANY($1::text[]) AND measurement_start_time >= $2::timestamptz AND test_name = 'web_connectivity'
       AND NOT anomaly AND NOT failure AND NOT down
     ORDER BY measurement_start_time DESC LIMIT $3::int`,
    [domains, since.toISOString(), limit]
  )
  return r.rows.map(x => parseDoc(x.doc))
}

/** The documents of these measurements (by the uid index of each month partition). */
export async function loadDocsByUid(db: Queryable, uids: string[]): Promise<unknown[]> {
  if (uids.length === 0) return []
  const r = await db.query<{ doc: unknown }>('/* bw:candidates.loadDocsByUid */ SELECT doc FROM measurements WHERE measurement_uid = ANY($1::text[])', [uids])
  return r.rows.map(x => parseDoc(x.doc))
}

/** A stored candidate, as the admin route returns it: times as ISO strings, with the run's time. */
export type CandidateRow = Omit<Candidate, 'first_seen_ms' | 'last_seen_ms'> & { first_seen: string; last_seen: string; computed_at: string }

/** Replaces every stored candidate with these, in one transaction. */
export async function replaceCandidates(db: { transaction: <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> }, candidates: Candidate[], computedAt: Date): Promise<void> {
  await db.transaction(async tx => {
    await tx.query('/* bw:candidates.replaceCandidates */ DELETE FROM blockpage_candidates')
    for (const c of candidates) {
      await tx.query(
        `/* bw:candidates.replaceCandidates */ INSERT INTO blockpage_candidates (id, title, excerpt, status_code, pattern, countries, networks, domains, measurements,
          first_seen, last_seen, sample_uids, member_uids, computed_at)
        VALUES ($1, $2, $3, $4, $5, $6::text[], $7::jsonb, $8::text[], $9, $10::timestamptz, $11::timestamptz, $12::text[], $13::text[], $14::timestamptz)
        ON CONFLICT (id) DO NOTHING`,
        [
          c.id,
          c.title,
          c.excerpt,
          c.status_code,
          c.pattern,
          c.countries,
          JSON.stringify(c.networks),
          c.domains,
          c.measurements,
          new Date(c.first_seen_ms).toISOString(),
          new Date(c.last_seen_ms).toISOString(),
          c.sample_uids,
          c.member_uids,
          computedAt.toISOString()
        ]
      )
    }
  })
}

const iso = (v: unknown): string => new Date(v as string).toISOString()

function candidateRow(x: Record<string, unknown>): CandidateRow {
  return {
    id: x.id as string,
    title: x.title as string,
    excerpt: x.excerpt as string,
    status_code: x.status_code === null ? null : Number(x.status_code),
    pattern: x.pattern as string | null,
    countries: x.countries as string[],
    networks: (typeof x.networks === 'string' ? JSON.parse(x.networks) : x.networks) as Candidate['networks'],
    domains: x.domains as string[],
    measurements: Number(x.measurements),
    first_seen: iso(x.first_seen),
    last_seen: iso(x.last_seen),
    sample_uids: x.sample_uids as string[],
    member_uids: x.member_uids as string[],
    computed_at: iso(x.computed_at)
  }
}

/** Every stored candidate, the most measured first. */
export async function listCandidates(db: Queryable): Promise<CandidateRow[]> {
  const r = await db.query('/* bw:candidates.listCandidates */ SELECT * FROM blockpage_candidates ORDER BY measurements DESC, id')
  return r.rows.map(candidateRow)
}

/** One stored candidate, or undefined. */
export async function getCandidate(db: Queryable, id: string): Promise<CandidateRow | undefined> {
  const r = await db.query('/* bw:candidates.getCandidate */ SELECT * FROM blockpage_candidates WHERE id = $1', [id])
  return r.rows.length === 0 ? undefined : candidateRow(r.rows[0])
}

/** Removes a candidate (once promoted). */
export async function deleteCandidate(db: Queryable, id: string): Promise<void> {
  await db.query('/* bw:candidates.deleteCandidate */ DELETE FROM blockpage_candidates WHERE id = $1', [id])
}

/** The fingerprint CSVs an admin stored (fingerprint_lists), or undefined when none was. */
export async function storedFingerprintCsv(db: Queryable): Promise<{ dns_csv: string; http_csv: string } | undefined> {
  const r = await db.query<{ dns_csv: string; http_csv: string }>('/* bw:candidates.storedFingerprintCsv */ SELECT dns_csv, http_csv FROM fingerprint_lists WHERE id = 1')
  return r.rows[0]
}
