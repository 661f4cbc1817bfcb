-- Issue 17: registration is idempotent. A probe sends a registration_id it
-- chose (a random UUID, kept until an answer arrives) with each attempt; when
-- an answer is lost (the connection dropped after the aggregator stored the
-- probe), the retry with the same id gets the same probe_id back, with a new
-- token, instead of a second, orphan probe row. Stored hashed (SHA-256, like
-- tokens): a copy of the table does not let anyone claim a probe. A probe
-- that has checked in or uploaded no longer answers to it (docs/api.md,
-- "Registering").
ALTER TABLE probes ADD COLUMN IF NOT EXISTS registration_hash text;
CREATE UNIQUE INDEX IF NOT EXISTS probes_registration_hash ON probes (registration_hash);
