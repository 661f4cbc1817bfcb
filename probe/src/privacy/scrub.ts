/**
 * Privacy scrubbing (docs/privacy.md): before a measurement is stored, every
 * occurrence of the probe's public address, learned at check-in, is replaced
 * with "[scrubbed]" everywhere in the document (bodies, headers, failure
 * strings, keys), including bodies kept as base64 ({format: "base64", data}),
 * and probe_ip becomes "127.0.0.1". Then the result is checked: when the
 * address can still be found (plain, or base64-encoded at any alignment), the
 * measurement cannot be scrubbed, and it is not stored nor uploaded.
 *
 * Loopback, unspecified and private addresses are never scrubbed: they are
 * evidence (a censor's DNS answering 10.10.34.34 or 127.0.0.1), not the
 * volunteer's identity. Only public addresses are.
 */
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { SCRUBBED_PROBE_IP } from '../../../shared/src/measurement-constants.ts'
import { inCidr, parseCidr, parseIPv6 } from '../../../shared/src/verdict/ip.ts'

export const SCRUBBED = '[scrubbed]'

/** Why a measurement could not be scrubbed. */
export interface Unscrubbable {
  ok: false
  reason: string
}
export type ScrubResult = { ok: true; doc: Measurement } | Unscrubbable

/**
 * Ranges whose addresses identify nobody: unspecified, loopback, private
 * and link-local. Not shared/src/verdict/ip.ts's bogons: carrier-grade NAT
 * (100.64.0.0/10) can point at a subscriber, and the documentation ranges
 * stand in for public addresses in the tests and the lab, so both are
 * scrubbed. Parsing and matching are ip.ts's.
 */
const NON_IDENTIFYING = ['0.0.0.0/8', '10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '::/128', '::1/128', 'fc00::/7', 'fe80::/10'].map(c => parseCidr(c)!)

/** True for addresses that identify nobody (NON_IDENTIFYING), and for text that is not an address. */
export function isNonIdentifying(addr: string): boolean {
  return isIP(addr) === 0 || NON_IDENTIFYING.some(r => inCidr(addr, r))
}

/** The full eight-group form of an IPv6 address, lower case, or null. */
export function expandIpv6(addr: string): string | null {
  if (isIP(addr) !== 6) return null
  const groups = parseIPv6(addr)
  return groups === null ? null : groups.map(g => g.toString(16).padStart(4, '0')).join(':')
}

/** The spellings of an address that may appear in a document. */
function spellings(addr: string): string[] {
  const out = new Set<string>([addr])
  const full = expandIpv6(addr)
  if (full !== null) {
    const groups = full.split(':')
    const short = groups.map(g => g.replace(/^0+(?=.)/, ''))
    out.add(short.join(':'))
    out.add(full)
    // Longest run of zero groups compressed (RFC 5952), and every other single run.
    for (let i = 0; i < 8; i++) {
      for (let j = i + 1; j <= 8; j++) {
        if (short.slice(i, j).every(g => g === '0')) out.add(short.slice(0, i).join(':') + '::' + short.slice(j).join(':'))
      }
    }
  }
  return [...out].filter(s => s.length >= 3)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * A matcher for the addresses: IPv4 only where it is not part of a longer
 * number (1.2.3.45 does not hide 1.2.3.4), IPv6 case-insensitively.
 */
function matcher(addrs: string[]): RegExp | null {
  const alts: string[] = []
  for (const a of addrs) {
    for (const s of spellings(a)) alts.push(isIP(a) === 4 ? `(?<![0-9.])${escapeRegExp(s)}(?![0-9])` : `(?<![0-9a-f:])${escapeRegExp(s)}(?![0-9a-f])`)
  }
  if (alts.length === 0) return null
  // Longest first, so that a full IPv6 spelling wins over a prefix of it.
  alts.sort((x, y) => y.length - x.length)
  return new RegExp(alts.join('|'), 'gi')
}

/** Base64 renderings of `s` at the three byte alignments, without the edge characters that depend on neighbours. */
function base64Needles(s: string): string[] {
  const out: string[] = []
  for (let pad = 0; pad < 3; pad++) {
    const b = Buffer.concat([Buffer.alloc(pad), Buffer.from(s)]).toString('base64')
    const start = Math.ceil((pad * 4) / 3) + (pad > 0 ? 1 : 0)
    const end = b.replace(/=+$/, '').length - 2
    if (end - start >= 4) out.push(b.slice(start, end))
  }
  return out
}

/** Scrubs one string. */
function scrubString(s: string, re: RegExp): string {
  re.lastIndex = 0
  return s.replace(re, SCRUBBED)
}

function walk(v: unknown, re: RegExp): unknown {
  if (typeof v === 'string') return scrubString(v, re)
  if (Array.isArray(v)) return v.map(x => walk(x, re))
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    // OONI keeps non-UTF-8 bodies as {format: "base64", data}: scrub the bytes.
    if (o.format === 'base64' && typeof o.data === 'string' && Object.keys(o).length <= 3) {
      const decoded = Buffer.from(o.data, 'base64').toString('latin1')
      re.lastIndex = 0
      const scrubbed = decoded.replace(re, SCRUBBED)
      return { ...o, data: Buffer.from(scrubbed, 'latin1').toString('base64') }
    }
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(o)) out[scrubString(k, re)] = walk(x, re)
    return out
  }
  return v
}

/**
 * Scrubs a measurement of the given addresses (the probe's public ones).
 * Non-identifying addresses in the list are ignored.
 */
export function scrubMeasurement(doc: Measurement, addresses: readonly string[]): ScrubResult {
  const addrs = [...new Set(addresses.filter(a => isIP(a) !== 0 && !isNonIdentifying(a)))]
  const re = matcher(addrs)
  let out: Measurement
  try {
    out = (re === null ? structuredClone(doc) : walk(doc, re)) as Measurement
  } catch (err) {
    return { ok: false, reason: `could not walk the document: ${(err as Error).message}` }
  }
  out.probe_ip = SCRUBBED_PROBE_IP
  if (re === null) return { ok: true, doc: out }
  // Verify: the address must be nowhere, in any spelling, nor base64-encoded.
  const text = JSON.stringify(out)
  re.lastIndex = 0
  if (re.test(text)) return { ok: false, reason: 'the probe address is still present after scrubbing' }
  for (const a of addrs) {
    for (const s of spellings(a)) {
      for (const n of base64Needles(s)) {
        if (text.includes(n)) return { ok: false, reason: 'the probe address appears base64-encoded where it cannot be scrubbed' }
      }
    }
  }
  return { ok: true, doc: out }
}

/** This machine's own public interface addresses (a server with a public IP): scrubbed too. */
export function publicInterfaceAddresses(): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && !isNonIdentifying(a.address)) out.push(a.address)
  }
  return out
}
