-- Measurements, partitioned by month (native declarative partitioning).
-- A unique index on a partitioned table must include the partition key, so
-- deduplication by measurement_uid goes through measurement_uids, a plain
-- table keyed by uid alone: ingest inserts there first (ON CONFLICT DO
-- NOTHING) and writes to measurements only the uids that were new, in the
-- same transaction.
CREATE TABLE measurement_uids (
  measurement_uid text PRIMARY KEY,
  measurement_start_time timestamptz NOT NULL
);

CREATE TABLE measurements (
  measurement_uid text NOT NULL,
  measurement_start_time timestamptz NOT NULL,
  report_id text,
  probe_cc char(2) NOT NULL,
  probe_asn text NOT NULL,
  probe_region text,
  probe_id text,
  test_name text NOT NULL,
  input text,
  domain text,
  category_code text,
  blocking_type text,
  anomaly boolean NOT NULL,
  confirmed boolean NOT NULL,
  failure boolean NOT NULL,
  scoring_version int NOT NULL,
  fingerprints_version text NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  doc jsonb NOT NULL,
  PRIMARY KEY (measurement_start_time, measurement_uid)
) PARTITION BY RANGE (measurement_start_time);

CREATE INDEX measurements_cc_time ON measurements (probe_cc, measurement_start_time);
CREATE INDEX measurements_domain_time ON measurements (domain, measurement_start_time);
CREATE INDEX measurements_uid ON measurements (measurement_uid);

-- Creates the month partition holding ts, if it does not exist yet.
CREATE FUNCTION ensure_measurement_partition(ts timestamptz) RETURNS text AS $$
DECLARE
  start_month date := date_trunc('month', ts AT TIME ZONE 'UTC')::date;
  part text := 'measurements_' || to_char(start_month, 'YYYY_MM');
BEGIN
  IF to_regclass(part) IS NULL THEN
    EXECUTE format(
      'CREATE TABLE IF NOT EXISTS %I PARTITION OF measurements FOR VALUES FROM (%L) TO (%L)',
      part, start_month::timestamp AT TIME ZONE 'UTC', (start_month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
  END IF;
  RETURN part;
END
$$ LANGUAGE plpgsql;
