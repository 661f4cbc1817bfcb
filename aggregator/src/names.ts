/**
 * Names beside codes: a country's name for its ISO 3166-1 alpha-2 code, and
 * a network's name for its ASN.
 *
 * - Which codes are countries comes from i18n-iso-countries (the assigned
 *   ISO 3166-1 codes, kept up to date by its maintainers). OONI's `ZZ`
 *   (unknown) and any unassigned code get no name.
 * - The name itself is CLDR's short name, from Node's own ICU
 *   (Intl.DisplayNames): "Iran", "Russia", "United Kingdom", where the
 *   package's first name is the formal one ("Islamic Republic of Iran").
 *   CLDR has every language, which the probe's and the dashboard's
 *   translations use with the same function.
 * - Network names come from the offline ASN database that geoip.ts already
 *   reads (@ip-location-db/asn), loaded on the first call.
 */
import { createRequire } from 'node:module'
import { asnNames } from './geoip.ts'

const require = createRequire(import.meta.url)
const countries = require('i18n-iso-countries') as { isValid: (code: string) => boolean }

const displayNames = new Map<string, Intl.DisplayNames>()

/** The country's name in `lang` (default English), or null for ZZ and unassigned codes. */
export function countryName(cc: string | null | undefined, lang = 'en'): string | null {
  if (typeof cc !== 'string' || !/^[A-Za-z]{2}$/.test(cc)) return null
  const code = cc.toUpperCase()
  if (code === 'ZZ' || !countries.isValid(code)) return null
  let names = displayNames.get(lang)
  if (names === undefined) {
    names = new Intl.DisplayNames([lang, 'en'], { type: 'region', fallback: 'none' })
    displayNames.set(lang, names)
  }
  return names.of(code) ?? null
}

/** The network's name for `AS197207`, `as197207` or `197207`, or null when the database does not know it (and for AS0). */
export function networkName(asn: string | number | null | undefined): string | null {
  if (asn === null || asn === undefined) return null
  const m = /^(?:AS)?(\d{1,10})$/i.exec(String(asn))
  if (m === null) return null
  const n = Number(m[1])
  if (n === 0) return null
  const name = asnNames().get(n)
  return name === undefined || name === '' ? null : name
}

/** "Iran (IR)" for titles and pages; the bare code when it has no name (ZZ, unassigned). */
export function countryLabel(cc: string): string {
  const name = countryName(cc)
  return name === null ? cc : `${name} (${cc})`
}

/** "AS197207 Mobile Communication Company of Iran PLC"; the bare ASN when the database does not know it. */
export function networkLabel(asn: string): string {
  const name = networkName(asn)
  return name === null ? asn : `${asn} ${name}`
}

/**
 * Names for a list of ASNs, keyed by ASN (null when unknown): the shape the
 * API puts beside a list of codes (an event's probe_asns), where a parallel
 * array would be easy to misalign.
 */
export function networkNames(asns: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(asns.map(a => [a, networkName(a)]))
}
