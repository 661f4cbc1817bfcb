-- Probe sources (independence keys) from the network the aggregator saw, not
-- the one the probe claims (issue 9, test/security/poisoning.test.ts).
-- 0100/0101 key a source by the measurement's probe_asn and the registration
-- minute; probe_asn is declared by the probe, so one actor registering three
-- probes at once and claiming three networks counted as three sources in
-- three networks and made an event. Registration now records the network of
-- the connection (looked up offline; the address itself is never stored),
-- and when it is known it replaces the claimed one in the source key.
ALTER TABLE probes ADD COLUMN IF NOT EXISTS registered_asn text;

CREATE OR REPLACE FUNCTION tl_probes_source_by_observed_network() RETURNS trigger AS $$
DECLARE
  observed text;
  minute text;
BEGIN
  IF NEW.source LIKE 'reg:%' THEN
    SELECT registered_asn INTO observed FROM probes WHERE probe_id = NEW.probe_key;
    minute := substring(NEW.source from '(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})$');
    IF observed IS NOT NULL AND minute IS NOT NULL THEN
      NEW.source := 'reg:' || observed || ':' || minute;
    END IF;
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS tl_probes_source_by_observed_network ON tl_probes;
CREATE TRIGGER tl_probes_source_by_observed_network BEFORE INSERT ON tl_probes
  FOR EACH ROW EXECUTE FUNCTION tl_probes_source_by_observed_network();
