-- Retention to Parquet (issue 18): `blockwatch aggregator archive` moves
-- whole months out of PostgreSQL. Each archived month has a row here that
-- records how far it got, so that a run killed between two steps resumes
-- where it stopped:
--   detached  the partition is out of `measurements` (a table of its own);
--   written   its Parquet file is complete and its row count verified;
--   done      the table is dropped.
-- Rollups and events are kept. An archived month is frozen: ingest stores
-- nothing in it any more (it reports why), and no partition is made for it.
CREATE TABLE archived_months (
  month date PRIMARY KEY CHECK (month = date_trunc('month', month)),
  state text NOT NULL CHECK (state IN ('detached', 'written', 'done')),
  rows bigint,
  file text,
  bytes bigint,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

-- The partition function (0002's, with its per-partition lock) now refuses
-- an archived month, so that no process (one that missed the archive, or a
-- late batch) makes it again.
CREATE OR REPLACE FUNCTION ensure_measurement_partition(ts timestamptz) RETURNS text AS $$
DECLARE
  start_month date := date_trunc('month', ts AT TIME ZONE 'UTC')::date;
  part text := 'measurements_' || to_char(start_month, 'YYYY_MM');
BEGIN
  IF EXISTS (SELECT 1 FROM archived_months WHERE month = start_month) THEN
    RAISE EXCEPTION 'the month % is archived: nothing more is stored in it', to_char(start_month, 'YYYY-MM') USING ERRCODE = 'BW001';
  END IF;
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

-- Rebuilding the rollups from measurements (migrate's upgrade) keeps the
-- archived months' rows: their measurements are in Parquet files now, and
-- their rollups are all that is left of them in the database.
CREATE OR REPLACE FUNCTION tl_rebuild() RETURNS void AS $$
BEGIN
  LOCK TABLE tl_hour, tl_day IN EXCLUSIVE MODE;
  IF EXISTS (SELECT 1 FROM archived_months) THEN
    DELETE FROM tl_hour r WHERE NOT EXISTS (SELECT 1 FROM archived_months a WHERE a.month = date_trunc('month', r.bucket AT TIME ZONE 'UTC')::date);
    DELETE FROM tl_day r WHERE NOT EXISTS (SELECT 1 FROM archived_months a WHERE a.month = date_trunc('month', r.bucket AT TIME ZONE 'UTC')::date);
  ELSE
    TRUNCATE tl_hour, tl_day;
  END IF;
  PERFORM tl_batch_open();
  DELETE FROM tl_batch;
  EXECUTE tl_batch_sql('measurements', 1);
  PERFORM tl_apply_batch();
END
$$ LANGUAGE plpgsql;
