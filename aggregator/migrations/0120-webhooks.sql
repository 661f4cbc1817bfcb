-- Webhook alerts (issue 17, item 6; docs/api.md, "Webhooks"). An admin
-- registers a URL with filters; the event job's transaction that changes an
-- event (timeline/store.ts, saveEpisodes) also inserts one delivery per
-- matching webhook into webhook_deliveries (a transactional outbox), and a
-- worker apart from the job posts them, with retries, until the receiver
-- answers 2xx or the attempts run out. Rows survive a restart, so nothing
-- enqueued is lost; a delivery may arrive more than once (receivers
-- deduplicate by delivery_id).
CREATE TABLE webhooks (
  webhook_id text PRIMARY KEY,
  url text NOT NULL,
  -- The HMAC key: kept as given, since signing needs it; never shown after creation.
  secret text NOT NULL,
  -- Filters: an empty array matches everything.
  probe_ccs text[] NOT NULL DEFAULT '{}',
  probe_asns text[] NOT NULL DEFAULT '{}',
  domains text[] NOT NULL DEFAULT '{}',
  types text[] NOT NULL DEFAULT '{}',
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  -- Queue order (oldest first); the public id is delivery_id.
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id text NOT NULL UNIQUE DEFAULT gen_random_uuid()::text,
  webhook_id text NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN ('started', 'networks_changed', 'ended', 'reopened', 'retracted')),
  event_id text NOT NULL,
  -- The event as it stood when it changed (no probe ids, no addresses).
  event jsonb NOT NULL,
  -- The networks before a networks_changed; null otherwise.
  previous_asns text[],
  created_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  -- When the worker may (next) post it; while a post is in flight, the end of its lease.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  -- The receiver's HTTP status of the last attempt, or null when it did not answer.
  last_status int,
  last_error text,
  delivered_at timestamptz
);
-- The worker's claim: pending deliveries that are due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, seq) WHERE status = 'pending';
-- The admin's list of a webhook's recent deliveries.
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, seq DESC);
