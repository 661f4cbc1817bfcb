-- Timelines: hourly rollups of `measurements`, kept by statement-level
-- triggers, a queue of series whose events must be recomputed, and the
-- events themselves. See docs/methodology.md, "Timelines, states and events".
--
-- The triggers decouple the rollups from the ingest code: whatever inserts,
-- rescores (UPDATE) or deletes measurements keeps the rollups exact.
-- Queries read these tables, never `measurements`.

-- One row per probe, series (cc × domain × test_name), network and hour.
-- Summing rows gives a bucket at any level (country, ASN, subdivision) and
-- any grain; count(*) of rows gives its distinct probes.
CREATE TABLE tl_probe_hour (
  probe_cc text NOT NULL,
  domain text NOT NULL,          -- '' when the measurement has none
  test_name text NOT NULL,
  hour timestamptz NOT NULL,
  probe_asn text NOT NULL,
  probe_region text NOT NULL,    -- '' when the probe declared none
  probe_key text NOT NULL,       -- probe_id, or 'r:' || report_id for documents without one
  n int NOT NULL DEFAULT 0,
  ok int NOT NULL DEFAULT 0,          -- OONI's ok_count: not failed, not anomaly
  anomaly int NOT NULL DEFAULT 0,     -- anomaly, not confirmed, not failed
  confirmed int NOT NULL DEFAULT 0,   -- confirmed, not failed
  failure int NOT NULL DEFAULT 0,
  down int NOT NULL DEFAULT 0,        -- counted in ok too: probe and control both failed to reach the target
  unreachable int NOT NULL DEFAULT 0, -- counted in failure too: probe reached neither its target nor the control
  first_anomaly timestamptz,          -- first and last anomalous (anomaly or confirmed) measurement
  last_anomaly timestamptz,
  first_unreachable timestamptz,
  last_unreachable timestamptz,
  sample_uid text,                    -- one anomalous measurement (a confirmed one when there is one)
  blocking_type text,                 -- of the last anomalous measurement seen
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (probe_cc, domain, test_name, hour, probe_asn, probe_region, probe_key)
);
CREATE INDEX tl_probe_hour_cc_hour ON tl_probe_hour (probe_cc, hour);
CREATE INDEX tl_probe_hour_probe ON tl_probe_hour (probe_key);

-- Every probe's first and last measurement time (its history) and its
-- source: probes that registered in the same minute and measure from the
-- same network count as one source ("reg:<asn>:<minute>"), a first defence
-- against one actor flooding with many probes. Probes unknown to the
-- registry (imported documents) are their own source.
CREATE TABLE tl_probes (
  probe_key text PRIMARY KEY,
  probe_cc text NOT NULL,
  probe_asn text NOT NULL,
  source text NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  first_ingest timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tl_probes_source ON tl_probes (source);

-- Series whose events must be recomputed: kind 'blocking' per
-- cc × domain × test_name, kind 'outage' per cc (domain = test_name = '').
-- The event job claims rows by deleting them, and puts them back if the
-- recomputation fails.
CREATE TABLE tl_dirty (
  kind text NOT NULL,
  probe_cc text NOT NULL,
  domain text NOT NULL,
  test_name text NOT NULL,
  since timestamptz NOT NULL,
  marked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, probe_cc, domain, test_name)
);

-- Blocking and outage events.
CREATE TABLE tl_events (
  event_id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('blocking', 'outage')),
  probe_cc text NOT NULL,
  domain text NOT NULL,           -- '' for outages
  test_name text NOT NULL,        -- '' for outages
  start_time timestamptz NOT NULL,
  end_time timestamptz,           -- null while ongoing
  last_anomaly timestamptz NOT NULL,
  blocking_type text,
  asns text[] NOT NULL,
  regions text[] NOT NULL,
  measurement_count int NOT NULL,
  anomaly_count int NOT NULL,
  confirmed_count int NOT NULL,
  probe_count int NOT NULL,
  source_count int NOT NULL,
  fingerprints text[] NOT NULL,
  sample_uids text[] NOT NULL,
  confidence real NOT NULL,
  rule text NOT NULL,              -- why it is an event: confirmed, networks, history or outage
  outlier boolean NOT NULL DEFAULT false,
  outlier_reason text,
  detected_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,           -- when the detector saw the end (feed entries)
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tl_events_cc_time ON tl_events (probe_cc, start_time);
CREATE INDEX tl_events_series ON tl_events (kind, probe_cc, domain, test_name);

-- Whether a document says the probe reached neither its target nor the
-- control: the control failed and so did the probe's own first step.
CREATE FUNCTION tl_unreachable(doc jsonb) RETURNS boolean AS $$
  SELECT coalesce(doc->'test_keys'->>'control_failure', '') <> ''
     AND (coalesce(doc->'test_keys'->>'dns_experiment_failure', '') <> ''
       OR coalesce(doc->'test_keys'->>'http_experiment_failure', '') <> ''
       OR coalesce(doc->'test_keys'->>'failure', '') <> '')
$$ LANGUAGE sql IMMUTABLE;

-- Whether a document says the target is down: the probe and the control
-- both failed to reach it, and the control answered (OONI: blocking false,
-- accessible false).
CREATE FUNCTION tl_down(doc jsonb) RETURNS boolean AS $$
  SELECT (doc->'test_keys'->'blocking') = 'false'::jsonb
     AND (doc->'test_keys'->'accessible') = 'false'::jsonb
$$ LANGUAGE sql IMMUTABLE;

-- Applies the rows staged in tl_stage (sign +1 for new rows, -1 for old
-- ones) to the rollups, then empties the stage. Rows are applied in key
-- order so that concurrent batches lock rollup rows in the same order.
CREATE FUNCTION tl_apply_stage() RETURNS void AS $$
BEGIN
  INSERT INTO tl_probe_hour AS r (probe_cc, domain, test_name, hour, probe_asn, probe_region, probe_key,
      n, ok, anomaly, confirmed, failure, down, unreachable,
      first_anomaly, last_anomaly, first_unreachable, last_unreachable, sample_uid, blocking_type, updated_at)
  SELECT probe_cc, domain, test_name, date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', probe_asn, probe_region, probe_key,
      sum(sign),
      coalesce(sum(sign) FILTER (WHERE NOT failure AND NOT anomaly AND NOT confirmed), 0),
      coalesce(sum(sign) FILTER (WHERE NOT failure AND anomaly AND NOT confirmed), 0),
      coalesce(sum(sign) FILTER (WHERE NOT failure AND confirmed), 0),
      coalesce(sum(sign) FILTER (WHERE failure), 0),
      coalesce(sum(sign) FILTER (WHERE NOT failure AND down), 0),
      coalesce(sum(sign) FILTER (WHERE failure AND unreachable), 0),
      min(t) FILTER (WHERE sign > 0 AND NOT failure AND (anomaly OR confirmed)),
      max(t) FILTER (WHERE sign > 0 AND NOT failure AND (anomaly OR confirmed)),
      min(t) FILTER (WHERE sign > 0 AND failure AND unreachable),
      max(t) FILTER (WHERE sign > 0 AND failure AND unreachable),
      max(CASE WHEN confirmed THEN '1' ELSE '0' END || uid) FILTER (WHERE sign > 0 AND NOT failure AND (anomaly OR confirmed)),
      max(blocking_type) FILTER (WHERE sign > 0 AND NOT failure AND (anomaly OR confirmed)),
      now()
  FROM tl_stage
  GROUP BY 1, 2, 3, 4, 5, 6, 7
  ORDER BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (probe_cc, domain, test_name, hour, probe_asn, probe_region, probe_key) DO UPDATE SET
    n = r.n + EXCLUDED.n,
    ok = r.ok + coalesce(EXCLUDED.ok, 0),
    anomaly = r.anomaly + coalesce(EXCLUDED.anomaly, 0),
    confirmed = r.confirmed + coalesce(EXCLUDED.confirmed, 0),
    failure = r.failure + coalesce(EXCLUDED.failure, 0),
    down = r.down + coalesce(EXCLUDED.down, 0),
    unreachable = r.unreachable + coalesce(EXCLUDED.unreachable, 0),
    first_anomaly = least(r.first_anomaly, EXCLUDED.first_anomaly),
    last_anomaly = greatest(r.last_anomaly, EXCLUDED.last_anomaly),
    first_unreachable = least(r.first_unreachable, EXCLUDED.first_unreachable),
    last_unreachable = greatest(r.last_unreachable, EXCLUDED.last_unreachable),
    sample_uid = greatest(r.sample_uid, EXCLUDED.sample_uid),
    blocking_type = coalesce(EXCLUDED.blocking_type, r.blocking_type),
    updated_at = now();

  -- Rows whose anomalies a rescore removed forget their times; empty rows go.
  UPDATE tl_probe_hour r SET first_anomaly = NULL, last_anomaly = NULL, sample_uid = NULL
  FROM (SELECT DISTINCT probe_cc, domain, test_name, date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, probe_asn, probe_region, probe_key FROM tl_stage WHERE sign < 0) s
  WHERE r.probe_cc = s.probe_cc AND r.domain = s.domain AND r.test_name = s.test_name AND r.hour = s.hour
    AND r.probe_asn = s.probe_asn AND r.probe_region = s.probe_region AND r.probe_key = s.probe_key
    AND r.anomaly + r.confirmed = 0 AND r.first_anomaly IS NOT NULL;
  UPDATE tl_probe_hour r SET first_unreachable = NULL, last_unreachable = NULL
  FROM (SELECT DISTINCT probe_cc, domain, test_name, date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, probe_asn, probe_region, probe_key FROM tl_stage WHERE sign < 0) s
  WHERE r.probe_cc = s.probe_cc AND r.domain = s.domain AND r.test_name = s.test_name AND r.hour = s.hour
    AND r.probe_asn = s.probe_asn AND r.probe_region = s.probe_region AND r.probe_key = s.probe_key
    AND r.unreachable = 0 AND r.first_unreachable IS NOT NULL;
  DELETE FROM tl_probe_hour r
  USING (SELECT DISTINCT probe_cc, domain, test_name, date_trunc('hour', t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, probe_asn, probe_region, probe_key FROM tl_stage WHERE sign < 0) s
  WHERE r.probe_cc = s.probe_cc AND r.domain = s.domain AND r.test_name = s.test_name AND r.hour = s.hour
    AND r.probe_asn = s.probe_asn AND r.probe_region = s.probe_region AND r.probe_key = s.probe_key
    AND r.n <= 0;

  INSERT INTO tl_probes AS p (probe_key, probe_cc, probe_asn, source, first_seen, last_seen)
  SELECT s.probe_key, s.probe_cc, s.probe_asn,
    coalesce((SELECT 'reg:' || s.probe_asn || ':' || to_char(date_trunc('minute', r.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI')
      FROM probes r WHERE r.probe_id = s.probe_key), s.probe_key),
    s.first_seen, s.last_seen
  FROM (SELECT probe_key, max(probe_cc) AS probe_cc, max(probe_asn) AS probe_asn, min(t) AS first_seen, max(t) AS last_seen
    FROM tl_stage WHERE sign > 0 GROUP BY probe_key) s
  ORDER BY s.probe_key
  ON CONFLICT (probe_key) DO UPDATE SET
    first_seen = least(p.first_seen, EXCLUDED.first_seen),
    last_seen = greatest(p.last_seen, EXCLUDED.last_seen);

  INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since)
  SELECT 'blocking', probe_cc, domain, test_name, min(t) FROM tl_stage GROUP BY 1, 2, 3, 4
  UNION ALL
  SELECT 'outage', probe_cc, '', '', min(t) FROM tl_stage GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4
  -- DO NOTHING, not DO UPDATE: a row already queued needs no change, and
  -- DO UPDATE would lock it, serialising every ingest of a country.
  ON CONFLICT (kind, probe_cc, domain, test_name) DO NOTHING;

  DELETE FROM tl_stage;
END
$$ LANGUAGE plpgsql;

-- Makes sure this session has its tl_stage (a temporary table).
CREATE FUNCTION tl_stage_open() RETURNS void AS $$
BEGIN
  IF to_regclass('pg_temp.tl_stage') IS NULL THEN
    CREATE TEMP TABLE tl_stage (
      probe_cc text, domain text, test_name text, t timestamptz, probe_asn text, probe_region text,
      probe_key text, anomaly boolean, confirmed boolean, failure boolean, down boolean,
      unreachable boolean, uid text, blocking_type text, sign int
    );
  END IF;
END
$$ LANGUAGE plpgsql;

-- Stages the rows a statement wrote (tl_new, sign +1) or replaced or
-- removed (tl_old, sign -1), then applies them to the rollups. The
-- transition tables are read through EXECUTE, so one function serves the
-- three triggers.
CREATE FUNCTION tl_on_write() RETURNS trigger AS $$
DECLARE
  src text;
BEGIN
  PERFORM tl_stage_open();
  FOREACH src IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY['tl_new'] WHEN 'DELETE' THEN ARRAY['tl_old'] ELSE ARRAY['tl_old', 'tl_new'] END LOOP
    EXECUTE format('INSERT INTO tl_stage SELECT trim(probe_cc), coalesce(domain, %L), test_name, measurement_start_time, probe_asn, coalesce(probe_region, %L),
      coalesce(probe_id, %L || coalesce(report_id, measurement_uid)), anomaly, confirmed, failure,
      tl_down(doc), tl_unreachable(doc), measurement_uid, blocking_type, %s FROM %I', '', '', 'r:', CASE src WHEN 'tl_old' THEN -1 ELSE 1 END, src);
  END LOOP;
  PERFORM tl_apply_stage();
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER tl_measurements_insert AFTER INSERT ON measurements
  REFERENCING NEW TABLE AS tl_new FOR EACH STATEMENT EXECUTE FUNCTION tl_on_write();
CREATE TRIGGER tl_measurements_update AFTER UPDATE ON measurements
  REFERENCING OLD TABLE AS tl_old NEW TABLE AS tl_new FOR EACH STATEMENT EXECUTE FUNCTION tl_on_write();
CREATE TRIGGER tl_measurements_delete AFTER DELETE ON measurements
  REFERENCING OLD TABLE AS tl_old FOR EACH STATEMENT EXECUTE FUNCTION tl_on_write();

-- Measurements stored before this migration.
SELECT tl_stage_open();
INSERT INTO tl_stage
SELECT trim(probe_cc), coalesce(domain, ''), test_name, measurement_start_time, probe_asn, coalesce(probe_region, ''),
  coalesce(probe_id, 'r:' || coalesce(report_id, measurement_uid)), anomaly, confirmed, failure,
  tl_down(doc), tl_unreachable(doc), measurement_uid, blocking_type, 1
FROM measurements;
SELECT tl_apply_stage();
