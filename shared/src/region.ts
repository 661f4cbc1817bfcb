/**
 * The one pattern of a subdivision code (ISO 3166-2), for the measurement
 * schema, the probe's flag and config, the simulator's scenarios and the
 * researcher API: the country's two capitals, a hyphen, one to three
 * capitals or digits ("IR-23", "US-CA"). Its own module so that the probe's
 * config check does not load the measurement schema (TypeBox).
 */
export const REGION_PATTERN = '^[A-Z]{2}-[A-Z0-9]{1,3}$'

const REGION_RE = new RegExp(REGION_PATTERN)

/** True when the text is a subdivision code as blockwatch stores it (capitals only). */
export function isRegionCode(text: string): boolean {
  return REGION_RE.test(text)
}
