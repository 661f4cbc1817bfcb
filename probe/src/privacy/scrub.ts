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
import { SCRUBBED_PROBE_IP, type Measurement } from '../../../shared/src/measurement.ts'

export const SCRUBBED = '[scrubbed]'

/** Why a measurement could not be scrubbed. */
export interface Unscrubbable { ok: false, reason: string }
export type ScrubResult = { ok: true, doc: Measurement } | Unscrubbable

/** True for addresses that identify nobody (loopback, private, link-local, unspecified, documentation-free CGNAT is kept as identifying). */
export function isNonIdentifying (addr: string): boolean {
  const v = isIP(addr)
  if (v === 4) {
    const [a, b] = addr.split('.').map(Number)
    return a === 0 || a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)
  }
  if (v === 6) {
    const x = expandIpv6(addr)
    if (x === null) return false
    return x === '0000:0000:0000:0000:0000:0000:0000:0000' || x === '0000:0000:0000:0000:0000:0000:0000:0001' || /^f[cd]/.test(x) || /^fe[89ab]/.test(x)
  }
  return true
}

/** The full eight-group form of an IPv6 address, lower case, or null. */
export function expandIpv6 (addr: string): string | null {
  if (isIP(addr) !== 6) return null
  let a = addr.toLowerCase().replace(/%.*$/, '')
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (v4 !== null) {
    const p = v4[1].split('.').map(Number)
    a = a.slice(0, -v4[1].length) + ((p[0] << 8) | p[1]).toString(16) + ':' + ((p[2] << 8) | p[3]).toString(16)
  }
  const [head, tail] = a.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0')
  const groups = [...h, ...fill, ...t]
  if (groups.length !== 8) return null
  return groups.map(g => g.padStart(4, '0')).join(':')
}

/** The spellings of an address that may appear in a document. */
function spellings (addr: string): string[] {
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

function escapeRegExp (s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') }

/**
 * A matcher for the addresses: IPv4 only where it is not part of a longer
 * number (1.2.3.45 does not hide 1.2.3.4), IPv6 case-insensitively.
 */
function matcher (addrs: string[]): RegExp | null {
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
function base64Needles (s: string): string[] {
  const out: string[] = []
  for (let pad = 0; pad < 3; pad++) {
    const b = Buffer.concat([Buffer.alloc(pad), Buffer.from(s)]).toString('base64')
    const start = Math.ceil(pad * 4 / 3) + (pad > 0 ? 1 : 0)
    const end = b.replace(/=+$/, '').length - 2
    if (end - start >= 4) out.push(b.slice(start, end))
  }
  return out
}

/** Scrubs one string. */
function scrubString (s: string, re: RegExp): string {
  re.lastIndex = 0
  return s.replace(re, SCRUBBED)
}

function walk (v: unknown, re: RegExp): unknown {
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
export function scrubMeasurement (doc: Measurement, addresses: readonly string[]): ScrubResult {
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
export function publicInterfaceAddresses (): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && !isNonIdentifying(a.address)) out.push(a.address)
  }
  return out
}
