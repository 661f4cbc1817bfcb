/**
 * The SQL of webhook alerts (issue 17; migrations/0120-webhooks.sql;
 * docs/api.md, "Webhooks"): the webhooks an admin registered, the outbox of
 * deliveries the event job fills in its own transaction, and the worker's
 * claims and outcomes (../webhooks/deliver.ts).
 *
 * Enqueueing is one INSERT … SELECT per saved series, and only when an event
 * changed: the event job's path pays nothing when no event started, ended,
 * reopened, changed its networks or was retracted.
 */
import type { Queryable } from './db.ts'
import type { ChangeType, EventChange } from '../webhooks/changes.ts'

/** A registered webhook, as the admin list shows it (never its secret). */
export interface Webhook {
  webhook_id: string
  url: string
  probe_cc: string[]
  probe_asn: string[]
  domain: string[]
  types: ChangeType[]
  description: string
  created_at: string
  pending: number
  failed: number
}

/** What creating a webhook needs; the filters' empty lists match everything. */
export interface NewWebhook {
  webhook_id: string
  url: string
  secret: string
  probe_cc: string[]
  probe_asn: string[]
  domain: string[]
  types: ChangeType[]
  description: string
}

/** The states of a delivery. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

/** One delivery, as the admin list shows it. */
export interface DeliveryRecord {
  delivery_id: string
  webhook_id: string
  type: ChangeType
  event_id: string
  status: DeliveryStatus
  attempts: number
  created_at: string
  next_attempt_at: string | null
  last_attempt_at: string | null
  last_status: number | null
  last_error: string | null
  delivered_at: string | null
}

/** A delivery the worker claimed, with what it needs to post it. */
export interface ClaimedDelivery {
  delivery_id: string
  webhook_id: string
  type: ChangeType
  event_id: string
  event: Record<string, unknown>
  previous_asns: string[] | null
  created_at: string
  attempts: number
  url: string
  secret: string
}

/** ISO 8601 in UTC with milliseconds, as the API writes times. */
const isoSql = (expr: string): string => `to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

/**
 * The event row `e` (tl_events) as a delivery carries it: the API's fields
 * (docs/api.md, GET /api/v1/events) without sample measurements, so that a
 * payload holds only aggregates: no probe id, no measurement, no address.
 */
const EVENT_JSON = `jsonb_build_object(
    'event_id', e.event_id, 'kind', e.kind, 'probe_cc', btrim(e.probe_cc),
    'domain', nullif(e.domain, ''), 'test_name', nullif(e.test_name, ''),
    'start_time', ${isoSql('e.start_time')}, 'end_time', ${isoSql('e.end_time')}, 'ongoing', e.end_time IS NULL,
    'last_anomaly_time', ${isoSql('e.last_anomaly')}, 'blocking_type', e.blocking_type,
    'probe_asns', to_jsonb(e.asns), 'probe_regions', to_jsonb(e.regions),
    'evidence', jsonb_build_object('measurement_count', e.measurement_count, 'anomaly_count', e.anomaly_count,
      'confirmed_count', e.confirmed_count, 'probe_count', e.probe_count, 'source_count', e.source_count,
      'fingerprints', to_jsonb(e.fingerprints)),
    'confidence', e.confidence, 'rule', e.rule, 'outlier', e.outlier)`

/**
 * Whether webhook `w` wants change `c` of event `e`: each filter is empty
 * or names the event's country, domain, change type, or one of its networks
 * (before or after a networks_changed).
 */
const MATCHES = `(cardinality(w.types) = 0 OR c.type = ANY(w.types))
    AND (cardinality(w.probe_ccs) = 0 OR btrim(e.probe_cc) = ANY(w.probe_ccs))
    AND (cardinality(w.domains) = 0 OR e.domain = ANY(w.domains))
    AND (cardinality(w.probe_asns) = 0 OR e.asns && w.probe_asns OR coalesce(c.previous_asns, '{}'::text[]) && w.probe_asns)`

/**
 * Enqueues a delivery of each change to every webhook that wants it, in
 * the caller's transaction (the one that saved the events, so that a change
 * and its deliveries commit together). One statement; none when nothing
 * changed.
 */
export async function enqueueEventChanges(tx: Queryable, changes: EventChange[]): Promise<number> {
  if (changes.length === 0) return 0
  // The sort is inside a subquery so that the queue's seq (an identity,
  // given where the rows are projected) follows it.
  const r = await tx.query(
    `/* bw:webhooks.enqueueEventChanges */ INSERT INTO webhook_deliveries (webhook_id, type, event_id, event, previous_asns)
    SELECT webhook_id, type, event_id, event, previous_asns FROM (
      SELECT w.webhook_id, c.type, e.event_id, ${EVENT_JSON} AS event, c.previous_asns
      FROM jsonb_to_recordset($1::jsonb) AS c(ord int, event_id text, type text, previous_asns text[])
        JOIN tl_events e ON e.event_id = c.event_id
        JOIN webhooks w ON ${MATCHES}
      ORDER BY c.ord, w.webhook_id OFFSET 0) s`,
    [JSON.stringify(changes.map((c, ord) => ({ ord, ...c })))]
  )
  return r.rowCount
}

/**
 * Deletes the given events and, in the same statement, enqueues a
 * `retracted` delivery of each to every webhook that wants it (the event as
 * it stood before the delete).
 */
export async function retractEvents(tx: Queryable, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return
  await tx.query(
    `/* bw:webhooks.retractEvents */ WITH e AS (DELETE FROM tl_events WHERE event_id = ANY($1::text[]) RETURNING *),
      c AS (SELECT 'retracted'::text AS type, NULL::text[] AS previous_asns)
    INSERT INTO webhook_deliveries (webhook_id, type, event_id, event)
    SELECT webhook_id, type, event_id, event FROM (
      SELECT w.webhook_id, c.type, e.event_id, ${EVENT_JSON} AS event
      FROM e CROSS JOIN c JOIN webhooks w ON ${MATCHES}
      ORDER BY e.start_time, e.event_id, w.webhook_id OFFSET 0) s`,
    [eventIds]
  )
}

interface RawWebhook {
  webhook_id: string
  url: string
  probe_ccs: string[]
  probe_asns: string[]
  domains: string[]
  types: ChangeType[]
  description: string
  created_at: string
  pending: number
  failed: number
}

const iso = (v: unknown): string => new Date(v as string).toISOString()
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v))

function toWebhook(r: RawWebhook): Webhook {
  return {
    webhook_id: r.webhook_id,
    url: r.url,
    probe_cc: r.probe_ccs,
    probe_asn: r.probe_asns,
    domain: r.domains,
    types: r.types,
    description: r.description,
    created_at: iso(r.created_at),
    pending: Number(r.pending ?? 0),
    failed: Number(r.failed ?? 0)
  }
}

const WEBHOOK_SELECT = `SELECT w.webhook_id, w.url, w.probe_ccs, w.probe_asns, w.domains, w.types, w.description, w.created_at,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.webhook_id AND d.status = 'pending')::int AS pending,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.webhook_id AND d.status = 'failed')::int AS failed
  FROM webhooks w`

/** Stores a new webhook. */
export async function createWebhook(q: Queryable, w: NewWebhook): Promise<Webhook> {
  await q.query(
    `/* bw:webhooks.createWebhook */ INSERT INTO webhooks (webhook_id, url, secret, probe_ccs, probe_asns, domains, types, description)
    VALUES ($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::text[], $8)`,
    [w.webhook_id, w.url, w.secret, w.probe_cc, w.probe_asn, w.domain, w.types, w.description]
  )
  return (await getWebhook(q, w.webhook_id))!
}

/** Every webhook, oldest first, with its count of pending and failed deliveries. */
export async function listWebhooks(q: Queryable): Promise<Webhook[]> {
  return (await q.query<RawWebhook>(`/* bw:webhooks.listWebhooks */ ${WEBHOOK_SELECT} ORDER BY w.created_at, w.webhook_id`)).rows.map(toWebhook)
}

/** One webhook, or null. */
export async function getWebhook(q: Queryable, id: string): Promise<Webhook | null> {
  const r = await q.query<RawWebhook>(`/* bw:webhooks.getWebhook */ ${WEBHOOK_SELECT} WHERE w.webhook_id = $1`, [id])
  return r.rows.length === 0 ? null : toWebhook(r.rows[0])
}

/** Deletes a webhook and its deliveries, pending ones included; false when there was none. */
export async function deleteWebhook(q: Queryable, id: string): Promise<boolean> {
  return (await q.query('/* bw:webhooks.deleteWebhook */ DELETE FROM webhooks WHERE webhook_id = $1', [id])).rowCount > 0
}

/** A webhook's most recent deliveries, newest first, optionally of one status. */
export async function listDeliveries(q: Queryable, webhookId: string, limit: number, status?: DeliveryStatus): Promise<DeliveryRecord[]> {
  const r = await q.query<Record<string, unknown>>(
    `/* bw:webhooks.listDeliveries */ SELECT delivery_id, webhook_id, type, event_id, status, attempts, created_at,
      next_attempt_at, last_attempt_at, last_status, last_error, delivered_at
    FROM webhook_deliveries WHERE webhook_id = $1 AND ($3::text IS NULL OR status = $3)
    ORDER BY seq DESC LIMIT $2::int`,
    [webhookId, limit, status ?? null]
  )
  return r.rows.map(x => ({
    delivery_id: String(x.delivery_id),
    webhook_id: String(x.webhook_id),
    type: x.type as ChangeType,
    event_id: String(x.event_id),
    status: x.status as DeliveryStatus,
    attempts: Number(x.attempts),
    created_at: iso(x.created_at),
    next_attempt_at: x.status === 'pending' ? isoOrNull(x.next_attempt_at) : null,
    last_attempt_at: isoOrNull(x.last_attempt_at),
    last_status: x.last_status === null ? null : Number(x.last_status),
    last_error: x.last_error === null ? null : String(x.last_error),
    delivered_at: isoOrNull(x.delivered_at)
  }))
}

/** Queues a delivery again (any status) with its attempts reset; false when the webhook has no such delivery. */
export async function requeueDelivery(q: Queryable, webhookId: string, deliveryId: string, now: Date): Promise<boolean> {
  const r = await q.query(
    `/* bw:webhooks.requeueDelivery */ UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, delivered_at = NULL
    WHERE webhook_id = $1 AND delivery_id = $2`,
    [webhookId, deliveryId, now.toISOString()]
  )
  return r.rowCount > 0
}

/**
 * Claims up to `limit` due deliveries, oldest first and at most `perWebhook`
 * of any one webhook (so that one slow receiver cannot fill a round): each
 * counts an attempt and is leased until `leaseUntil`, so that if this
 * instance dies while posting it, the delivery is due again when the lease
 * ends (at least once). SKIP LOCKED lets two workers claim apart.
 */
export async function claimDeliveries(q: Queryable, now: Date, leaseUntil: Date, limit: number, perWebhook: number): Promise<ClaimedDelivery[]> {
  const r = await q.query<Record<string, unknown>>(
    `/* bw:webhooks.claimDeliveries */ WITH due AS (
      SELECT seq FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1::timestamptz
      ORDER BY next_attempt_at, seq LIMIT $3::int * 4 FOR UPDATE SKIP LOCKED),
    ranked AS (
      SELECT d.seq, row_number() OVER (PARTITION BY d.webhook_id ORDER BY d.seq) AS n
      FROM webhook_deliveries d JOIN due USING (seq)),
    picked AS (SELECT seq FROM ranked WHERE n <= $4::int ORDER BY seq LIMIT $3::int)
    UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = $1::timestamptz, next_attempt_at = $2::timestamptz
    FROM picked p, webhooks w
    WHERE d.seq = p.seq AND w.webhook_id = d.webhook_id
    RETURNING d.seq, d.delivery_id, d.webhook_id, d.type, d.event_id, d.event, d.previous_asns, d.created_at, d.attempts, w.url, w.secret`,
    [now.toISOString(), leaseUntil.toISOString(), limit, perWebhook]
  )
  return r.rows
    .sort((a, b) => Number(a.seq) - Number(b.seq))
    .map(x => ({
      delivery_id: String(x.delivery_id),
      webhook_id: String(x.webhook_id),
      type: x.type as ChangeType,
      event_id: String(x.event_id),
      event: (typeof x.event === 'string' ? JSON.parse(x.event) : x.event) as Record<string, unknown>,
      previous_asns: (x.previous_asns as string[] | null) ?? null,
      created_at: iso(x.created_at),
      attempts: Number(x.attempts),
      url: String(x.url),
      secret: String(x.secret)
    }))
}

/** The outcome of one attempt. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; at: Date }
  | { kind: 'failed'; status: number | null; error: string }
  /** The worker stopped during the post: due again at once, the attempt not counted. */
  | { kind: 'interrupted'; error: string; at: Date }

/** Records the outcome of an attempt on a claimed delivery. */
export async function recordAttempt(q: Queryable, deliveryId: string, outcome: AttemptOutcome, now: Date): Promise<void> {
  const error = (s: string): string => s.slice(0, 500)
  switch (outcome.kind) {
    case 'delivered':
      await q.query(
        `/* bw:webhooks.recordAttempt */ UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, last_status = $3, last_error = NULL
        WHERE delivery_id = $1`,
        [deliveryId, now.toISOString(), outcome.status]
      )
      return
    case 'retry':
      await q.query(`/* bw:webhooks.recordAttempt */ UPDATE webhook_deliveries SET next_attempt_at = $2, last_status = $3, last_error = $4 WHERE delivery_id = $1 AND status = 'pending'`, [
        deliveryId,
        outcome.at.toISOString(),
        outcome.status,
        error(outcome.error)
      ])
      return
    case 'failed':
      await q.query(`/* bw:webhooks.recordAttempt */ UPDATE webhook_deliveries SET status = 'failed', last_status = $2, last_error = $3 WHERE delivery_id = $1 AND status = 'pending'`, [
        deliveryId,
        outcome.status,
        error(outcome.error)
      ])
      return
    case 'interrupted':
      await q.query(
        `/* bw:webhooks.recordAttempt */ UPDATE webhook_deliveries SET next_attempt_at = $2, attempts = greatest(attempts - 1, 0), last_error = $3
        WHERE delivery_id = $1 AND status = 'pending'`,
        [deliveryId, outcome.at.toISOString(), error(outcome.error)]
      )
  }
}

/** Deletes delivered deliveries older than `before` (the admin list keeps recent history, not all of it). */
export async function pruneDeliveries(q: Queryable, before: Date): Promise<number> {
  return (await q.query("/* bw:webhooks.pruneDeliveries */ DELETE FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < $1", [before.toISOString()])).rowCount
}
