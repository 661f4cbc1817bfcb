-- Brings databases migrated with an early 0100-timeline-rollups.sql (before
-- probe sources and the DO NOTHING queue) to the current definitions. On a
-- fresh database it changes nothing.
ALTER TABLE tl_probes ADD COLUMN IF NOT EXISTS source text;
UPDATE tl_probes SET source = probe_key WHERE source IS NULL;
ALTER TABLE tl_probes ALTER COLUMN source SET NOT NULL;
CREATE INDEX IF NOT EXISTS tl_probes_source ON tl_probes (source);

-- Applies the rows staged in tl_stage (sign +1 for new rows, -1 for old
-- ones) to the rollups, then empties the stage. Rows are applied in key
-- order so that concurrent batches lock rollup rows in the same order.
CREATE OR REPLACE FUNCTION tl_apply_stage() RETURNS void AS $$
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

