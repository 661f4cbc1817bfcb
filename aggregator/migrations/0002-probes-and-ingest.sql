-- Probe accounts, the server's secrets, admin-managed target lists and
-- fingerprints, and the indexes the researcher API filters on.

-- ensure_measurement_partition, again: two instances ingesting the first
-- measurement of a month at once would both try to create its partition, so
-- creation now waits on a transaction-level advisory lock per partition.
CREATE OR REPLACE FUNCTION ensure_measurement_partition(ts timestamptz) RETURNS text AS $$
DECLARE
  start_month date := date_trunc('month', ts AT TIME ZONE 'UTC')::date;
  part text := 'measurements_' || to_char(start_month, 'YYYY_MM');
BEGIN
  IF to_regclass(part) IS NULL THEN
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(part) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF measurements FOR VALUES FROM (%L) TO (%L)',
        part, start_month::timestamp AT TIME ZONE 'UTC', (start_month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END IF;
  END IF;
  RETURN part;
END
$$ LANGUAGE plpgsql;

-- Registered probes. The token is kept only as its SHA-256; revoked_at set
-- means the token is refused. The last check-in's country and network are
-- derived from the connection's address, which itself is never stored.
CREATE TABLE probes (
  probe_id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  software_name text NOT NULL,
  software_version text NOT NULL,
  platform text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_check_in_at timestamptz,
  last_probe_cc text,
  last_probe_asn text,
  pending_measurements int,
  pending_bytes bigint,
  check_ins int NOT NULL DEFAULT 0,
  last_upload_at timestamptz
);

-- Secrets every instance must share (the probe-pseudonym key), created once.
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Target lists (Citizen Lab CSV, kept verbatim) by name: "global" or a country code.
CREATE TABLE target_lists (
  name text PRIMARY KEY,
  csv text NOT NULL,
  rows int NOT NULL,
  version text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The blockpage fingerprint list scoring uses, when an admin uploaded one.
CREATE TABLE fingerprint_lists (
  id int PRIMARY KEY CHECK (id = 1),
  dns_csv text NOT NULL,
  http_csv text NOT NULL,
  version text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX measurements_asn_time ON measurements (probe_asn, measurement_start_time);
CREATE INDEX measurements_test_time ON measurements (test_name, measurement_start_time);
CREATE INDEX measurements_scoring ON measurements (scoring_version, fingerprints_version);
