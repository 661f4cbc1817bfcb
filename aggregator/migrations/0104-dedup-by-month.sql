-- Deduplication that does not grow without bound (issue 18).
--
-- measurement_uids (uid → time: one row for every measurement ever stored,
-- in one unpartitioned table) is gone. A measurement is a duplicate when its
-- (measurement_start_time, measurement_uid) is already stored: the primary
-- key of the month partition it falls in. Deduplication is thus partitioned
-- by month like the measurements, costs no table of its own, and a month
-- that is archived (detached, written out and dropped) takes its share of
-- the keys with it. A resent measurement carries the time it was measured
-- at, whatever the day it is resent on, so it meets its first copy in the
-- same partition. docs/scale.md explains the choice.
--
-- Lookups by uid alone (/api/v1/measurements/{uid}, raw_measurement, an
-- event's samples, blockpage candidates) use a per-partition index on uid.
CREATE INDEX IF NOT EXISTS measurements_uid ON measurements (measurement_uid);
DROP TABLE measurement_uids;
