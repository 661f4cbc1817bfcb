/**
 * The control vantage's SSRF guard. The control fetches what anyone asks,
 * from the aggregator's own network, so it must never reach loopback,
 * private, link-local (cloud metadata at 169.254.169.254), carrier-grade
 * NAT, multicast or reserved addresses, nor the aggregator's own addresses,
 * whether a target names them literally, in a legacy form (2130706433,
 * 127.1, 0x7f.1), through a name that resolves to them, or through a
 * redirect. `--control-allow CIDR,…` opens ranges (the lab's).
 *
 * Every address is checked right before it is connected to, and the
 * connection is pinned to the checked address, so a name that resolves
 * differently the second time (DNS rebinding) cannot slip through.
 */
import { networkInterfaces } from 'node:os'
import { inCidr, intToIPv4, isBogon, parseCidr, parseIPv4, parseIPv6, parseLooseIPv4, type Cidr } from '../../../shared/src/verdict/ip.ts'

/** Decides whether the control may connect to an address. */
export interface Guard {
  /** True when the control may connect to `ip`. */
  allows: (ip: string) => boolean
  /** Why an address is refused, for the error message. */
  reason: (ip: string) => string
}

/** The aggregator's own addresses (every interface). */
export function ownAddresses(): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.push(a.address.replace(/%.*$/, ''))
  return out
}

/** The IPv4 address an IPv6 address embeds (IPv4-mapped, IPv4-compatible, NAT64), if any. */
function embeddedV4(ip: string): string | null {
  const g = parseIPv6(ip)
  if (g === null) return null
  const v4 = (): string => intToIPv4(g[6] * 65536 + g[7])
  if (g.slice(0, 5).every(x => x === 0) && (g[5] === 0xffff || g[5] === 0)) return v4()
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every(x => x === 0)) return v4()
  return null
}

/**
 * Builds the guard. `allow` is the list of CIDR ranges from --control-allow;
 * `own` the aggregator's addresses (default: every interface's).
 * Throws when a range is malformed.
 */
export function makeGuard(allow: readonly string[] = [], own: readonly string[] = ownAddresses()): Guard {
  const ranges: Cidr[] = allow.map(text => {
    const c = parseCidr(text)
    if (c === null) throw new Error(`control-allow: ${JSON.stringify(text)} is not a CIDR range such as 10.10.0.0/16`)
    return c
  })
  const ownSet = new Set(own)
  const allowed = (ip: string): boolean => ranges.some(r => inCidr(ip, r))
  const refusedWhy = (ip: string): string | null => {
    if (allowed(ip)) return null
    const v4 = embeddedV4(ip)
    if (v4 !== null && !allowed(v4) && (isBogon(v4) || ownSet.has(v4))) return `${ip} embeds the special-purpose address ${v4}`
    if (parseIPv4(ip) === null && parseIPv6(ip) === null) return `${JSON.stringify(ip)} is not an address`
    if (isBogon(ip)) return `${ip} is a loopback, private, link-local or reserved address`
    if (ownSet.has(ip)) return `${ip} is one of the aggregator's own addresses`
    return null
  }
  return {
    allows: ip => refusedWhy(ip) === null,
    reason: ip => refusedWhy(ip) ?? 'allowed'
  }
}

/**
 * Normalizes a target host: a legacy IPv4 form (2130706433, 127.1, 0x7f.1,
 * 0177.0.0.1) becomes its dotted form, brackets come off IPv6, and names are
 * lower-cased without the trailing dot. WHATWG URL parsing already does this
 * for http(s) URLs; dns://, tcp://, tls:// and smpp:// hosts are not
 * normalized by it, and a resolver could read them as addresses.
 */
export function normalizeHost(host: string): string {
  const h = host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase()
  const loose = parseLooseIPv4(h)
  return loose ?? h
}
