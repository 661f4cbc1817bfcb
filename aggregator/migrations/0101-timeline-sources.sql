-- Brings databases migrated with an early 0100-timeline-rollups.sql (before
-- probe sources) to the current tables. On a fresh database it changes
-- nothing.
ALTER TABLE tl_probes ADD COLUMN IF NOT EXISTS source text;
UPDATE tl_probes SET source = probe_key WHERE source IS NULL;
ALTER TABLE tl_probes ALTER COLUMN source SET NOT NULL;
CREATE INDEX IF NOT EXISTS tl_probes_source ON tl_probes (source);

-- This file also replaced tl_apply_stage() with a copy of 0100's. The copy
-- was taken out on 2026-12-02: 0103, which runs in the same `migrate`,
-- drops the function, and nothing stages rows in between.
