/**
 * Where a connection comes from, offline: the country from
 * @ip-location-db/geo-whois-asn-country-mmdb (read with maxmind) and the
 * network (ASN and name) from @ip-location-db/asn's CSV ranges, loaded on
 * first use into sorted arrays. The address is looked up and forgotten:
 * nothing here stores or logs it.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { Reader, type CountryResponse } from 'maxmind'

/** What the lookup found; fields are null when unknown (private or unlisted addresses). */
export interface GeoAnswer {
  probe_cc: string | null
  probe_asn: string | null
  network_name: string | null
}

/** Looks an address up. */
export type GeoLookup = (address: string) => GeoAnswer

const require = createRequire(import.meta.url)

let countryReader: Reader<CountryResponse> | null | undefined
function country(ip: string): string | null {
  if (countryReader === undefined) {
    try {
      const file = require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb')
      countryReader = new Reader<CountryResponse>(readFileSync(file))
    } catch {
      countryReader = null
    }
  }
  const r = countryReader?.get(ip) as (CountryResponse & { country_code?: string }) | null | undefined
  const cc = r?.country_code ?? r?.country?.iso_code
  return typeof cc === 'string' && /^[A-Z]{2}$/.test(cc) ? cc : null
}

interface AsnTable {
  starts: bigint[] | Float64Array
  ends: bigint[] | Float64Array
  asns: Uint32Array
  names: string[]
}
const tables: { v4?: AsnTable | null; v6?: AsnTable | null } = {}

function loadAsn(family: 'v4' | 'v6'): AsnTable | null {
  try {
    const file = require.resolve(`@ip-location-db/asn/asn-ip${family}-num.csv`)
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(l => l !== '')
    const n = lines.length
    const starts = family === 'v4' ? new Float64Array(n) : new Array<bigint>(n)
    const ends = family === 'v4' ? new Float64Array(n) : new Array<bigint>(n)
    const asns = new Uint32Array(n)
    const names = new Array<string>(n)
    lines.forEach((line, i) => {
      const a = line.indexOf(',')
      const b = line.indexOf(',', a + 1)
      const c = line.indexOf(',', b + 1)
      const s = line.slice(0, a)
      const e = line.slice(a + 1, b)
      if (family === 'v4') {
        ;(starts as Float64Array)[i] = Number(s)
        ;(ends as Float64Array)[i] = Number(e)
      } else {
        ;(starts as bigint[])[i] = BigInt(s)
        ;(ends as bigint[])[i] = BigInt(e)
      }
      asns[i] = Number(line.slice(b + 1, c === -1 ? undefined : c))
      names[i] =
        c === -1
          ? ''
          : line
              .slice(c + 1)
              .replace(/^"|"$/g, '')
              .replace(/""/g, '"')
    })
    return { starts, ends, asns, names }
  } catch {
    return null
  }
}

function ipToNumber(ip: string): { family: 'v4' | 'v6'; n: bigint } | null {
  const kind = isIP(ip)
  if (kind === 4) return { family: 'v4', n: BigInt(ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0)) }
  if (kind !== 6) return null
  const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined as unknown as string]
  const h = head === '' ? [] : head.split(':')
  const t = tail === '' || tail === undefined ? [] : tail.split(':')
  const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t]
  if (groups.length !== 8) return null
  return { family: 'v6', n: groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16) || 0), 0n) }
}

function asn(ip: string): { asn: number; name: string } | null {
  const p = ipToNumber(ip)
  if (p === null) return null
  if (tables[p.family] === undefined) tables[p.family] = loadAsn(p.family)
  const t = tables[p.family]
  if (t == null) return null
  const key = p.family === 'v4' ? Number(p.n) : p.n
  let lo = 0
  let hi = t.asns.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (t.starts[mid] <= key) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  if (found === -1 || t.ends[found] < key) return null
  return { asn: t.asns[found], name: t.names[found] }
}

/** The default lookup, over the npm databases. An IPv4-mapped IPv6 address is read as IPv4. */
export const offlineGeoLookup: GeoLookup = address => {
  const ip = address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1')
  const a = asn(ip)
  return { probe_cc: country(ip), probe_asn: a === null ? null : `AS${a.asn}`, network_name: a?.name ?? null }
}

let names: Map<number, string> | undefined
/**
 * Every network's name by ASN, from the same database as the lookup: read
 * once on first use, keeping only ASN and name (about 80 k entries, a few
 * MB), not the address ranges.
 */
export function asnNames(): Map<number, string> {
  if (names !== undefined) return names
  names = new Map()
  for (const family of ['v4', 'v6'] as const) {
    let text: string
    try {
      text = readFileSync(require.resolve(`@ip-location-db/asn/asn-ip${family}-num.csv`), 'utf8')
    } catch {
      continue
    }
    let at = 0
    while (at < text.length) {
      let end = text.indexOf('\n', at)
      if (end === -1) end = text.length
      const b = text.indexOf(',', text.indexOf(',', at) + 1)
      const c = text.indexOf(',', b + 1)
      if (b !== -1 && c !== -1 && c < end) {
        const asn = Number(text.slice(b + 1, c))
        if (!names.has(asn))
          names.set(
            asn,
            text
              .slice(c + 1, end)
              .replace(/^"|"$/g, '')
              .replace(/""/g, '"')
          )
      }
      at = end + 1
    }
  }
  return names
}
