-- Issue 18, item 4: the three statements of the rollup functions that Citus
-- would refuse once measurements, the rollups, tl_dirty and tl_events are
-- distributed by probe_cc (docs/scale.md, "Every statement, classified").
-- Both functions are replaced with statements that Citus can plan and that
-- give the same rows on plain PostgreSQL (and PGlite):
--
-- - tl_reset_sets: the touched buckets' sets were read with array_agg
--   (DISTINCT …) over measurements LEFT JOINed from the stage, grouped by
--   the stage's country, which Citus cannot push down to the shards. Now
--   the sets are read with an inner join grouped by m.probe_cc as well
--   (every shard aggregates whole groups), and the buckets with nothing
--   left are matched to them by a LEFT JOIN of two intermediate results
--   (the stage's buckets and those sets), which the UPDATE reads.
-- - tl_apply_batch's outage check: an EXISTS on tl_events correlated with
--   the stage's countries (not with a distributed table's probe_cc). Now
--   the stage's countries filter tl_events (IN, planned apart and sent to
--   the shards), each country's latest outage end is grouped by probe_cc,
--   and the stage is LEFT JOINed to that. "An outage open, or ended at or
--   after since - 6 h" is "the latest end, open counted as infinity, at or
--   after since - 6 h".
CREATE OR REPLACE FUNCTION tl_reset_sets(tbl text, grain text, span interval) RETURNS void AS $$
BEGIN
  EXECUTE format($q$
    WITH touched AS (
      SELECT DISTINCT l.lvl, st.cc, CASE l.lvl WHEN 'a' THEN st.asn WHEN 'r' THEN st.region ELSE '' END AS lkey, st.domain, st.test_name,
        date_trunc(%L, st.t AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket
      FROM tl_batch st CROSS JOIN (VALUES ('c'::"char"), ('a'::"char"), ('r'::"char")) AS l(lvl) WHERE st.sign < 0),
    kept AS (
      SELECT k.lvl, k.cc, m.probe_cc, k.lkey, k.domain, k.test_name, k.bucket,
        array_agg(DISTINCT p.id ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL) AS probes,
        array_agg(DISTINCT p.id ORDER BY p.id) FILTER (WHERE NOT m.failure AND (m.anomaly OR m.confirmed)) AS anomalous_probes,
        array_agg(DISTINCT p.source_id ORDER BY p.source_id) FILTER (WHERE NOT m.failure AND (m.anomaly OR m.confirmed)) AS anomalous_sources
      FROM touched k
      JOIN measurements m ON m.probe_cc = k.cc::bpchar AND coalesce(m.domain, '') = k.domain AND m.test_name = k.test_name
        AND m.measurement_start_time >= k.bucket AND m.measurement_start_time < k.bucket + %L::interval
        AND (k.lvl = 'c' OR (k.lvl = 'a' AND m.probe_asn = k.lkey) OR (k.lvl = 'r' AND coalesce(m.probe_region, '') = k.lkey))
      LEFT JOIN tl_probes p ON p.probe_key = coalesce(m.probe_id, 'r:' || coalesce(m.report_id, m.measurement_uid))
      GROUP BY k.lvl, k.cc, m.probe_cc, k.lkey, k.domain, k.test_name, k.bucket),
    fresh AS (
      SELECT k.lvl, k.cc, k.lkey, k.domain, k.test_name, k.bucket,
        coalesce(f.probes, '{}') AS probes, f.anomalous_probes, f.anomalous_sources
      FROM touched k
      LEFT JOIN kept f ON f.lvl = k.lvl AND f.cc = k.cc AND f.lkey = k.lkey AND f.domain = k.domain AND f.test_name = k.test_name AND f.bucket = k.bucket)
    UPDATE %I r SET probes = f.probes, anomalous_probes = f.anomalous_probes, anomalous_sources = f.anomalous_sources
    FROM fresh f
    WHERE r.lvl = f.lvl AND r.probe_cc = f.cc AND r.lkey = f.lkey AND r.domain = f.domain AND r.test_name = f.test_name AND r.bucket = f.bucket$q$,
    grain, span, tbl);
  EXECUTE format('DELETE FROM %I WHERE n <= 0', tbl);
END
$$ LANGUAGE plpgsql;

-- As in 0103, but for the outage check (above).
CREATE OR REPLACE FUNCTION tl_apply_batch() RETURNS void AS $$
DECLARE
  removed boolean;
BEGIN
  SELECT EXISTS (SELECT 1 FROM tl_batch WHERE sign < 0) INTO removed;
  IF removed THEN
    -- Sets read back from measurements must see every committed write and
    -- miss none in flight: wait for the ingests that already wrote rollup
    -- rows, and hold off new ones until this transaction ends. Ingests that
    -- have not reached the rollups yet add their rows afterwards, on top of
    -- sets that do not include them. Only rescore and delete take it.
    LOCK TABLE tl_hour, tl_day IN SHARE ROW EXCLUSIVE MODE;
  END IF;

  INSERT INTO tl_probes AS p (probe_key, probe_cc, probe_asn, source, first_seen, last_seen)
  SELECT s.probe_key, s.cc, s.asn,
    coalesce((SELECT 'reg:' || s.asn || ':' || to_char(date_trunc('minute', r.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI')
      FROM probes r WHERE r.probe_id = s.probe_key), s.probe_key),
    s.first_seen, s.last_seen
  FROM (SELECT probe_key, max(cc) AS cc, max(asn) AS asn, min(t) AS first_seen, max(t) AS last_seen
    FROM tl_batch WHERE sign > 0 GROUP BY probe_key) s
  ORDER BY s.probe_key
  ON CONFLICT (probe_key) DO UPDATE SET
    first_seen = least(p.first_seen, EXCLUDED.first_seen),
    last_seen = greatest(p.last_seen, EXCLUDED.last_seen)
  WHERE EXCLUDED.first_seen < p.first_seen OR EXCLUDED.last_seen > p.last_seen;

  PERFORM tl_roll('tl_hour', 'hour');
  PERFORM tl_roll('tl_day', 'day');
  IF removed THEN
    PERFORM tl_reset_sets('tl_hour', 'hour', interval '1 hour');
    PERFORM tl_reset_sets('tl_day', 'day', interval '1 day');
  END IF;

  -- A country's outages change only with unreachable measurements, or with
  -- any measurement near an outage it already has (which may end it).
  INSERT INTO tl_dirty (kind, probe_cc, domain, test_name, since, anomalous)
  WITH b AS (SELECT cc, min(t) AS since, bool_or(failure AND unreachable) AS unreachable FROM tl_batch GROUP BY cc),
    o AS (SELECT e.probe_cc, max(coalesce(e.end_time, 'infinity')) AS last_end FROM tl_events e
      WHERE e.kind = 'outage' AND e.domain = '' AND e.test_name = '' AND e.probe_cc IN (SELECT cc FROM b) GROUP BY e.probe_cc)
  SELECT 'blocking', cc, domain, test_name, min(t), bool_or(NOT failure AND (anomaly OR confirmed)) FROM tl_batch GROUP BY 2, 3, 4
  UNION ALL
  SELECT 'outage', b.cc, '', '', b.since, b.unreachable
  FROM b LEFT JOIN o ON o.probe_cc = b.cc
  WHERE b.unreachable OR o.last_end >= b.since - interval '6 hours';

  DELETE FROM tl_batch;
END
$$ LANGUAGE plpgsql;
