-- Blockpage discovery (issue 15, Deliver 2; docs/methodology.md, "Blockpage
-- discovery"). The discovery job replaces this table's rows on each run from
-- the stored documents of recent anomalous measurements: one row per
-- candidate blockpage, with its evidence. Nothing here is a verdict: the
-- verdict columns of measurements change only when an admin promotes a
-- candidate to a fingerprint and history is rescored.
CREATE TABLE blockpage_candidates (
  id text PRIMARY KEY,
  title text NOT NULL,
  excerpt text NOT NULL,
  status_code int,
  -- A body substring in every member page and in no page seen as the site's
  -- own; null when none was found (the admin then supplies one).
  pattern text,
  countries text[] NOT NULL,
  -- [{probe_cc, probe_asn, measurements, domains}]
  networks jsonb NOT NULL,
  domains text[] NOT NULL,
  measurements int NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  sample_uids text[] NOT NULL,
  -- The members the pattern is checked against at promotion (at most 500).
  member_uids text[] NOT NULL,
  computed_at timestamptz NOT NULL
);
