/**
 * Pure IP-address helpers for the verdict code and the control vantage's
 * SSRF guard: parsing (including the legacy inet_aton forms a URL or a
 * resolver may accept, such as 2130706433 or 127.1), and bogon detection
 * (RFC 6890 special-purpose ranges).
 */

/** One IPv4 byte as a strict address writes it: 0 to 255, no leading zero. */
const BYTE = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)'
const STRICT_IPV4 = new RegExp(`^${BYTE}(?:\\.${BYTE}){3}$`)
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

/**
 * True when the text is an IPv6 address in a form an address may be written
 * (RFC 4291 section 2.2: eight groups, one "::", an IPv4 tail; a zone after
 * "%"). Ours rather than node:net's isIP, so that the verdict code imports
 * no network module; test/shared/verdict/ip-version.test.ts holds it to isIP.
 */
function isIPv6Text(s: string): boolean {
  let text = s
  const zone = s.indexOf('%')
  if (zone !== -1) {
    if (!/^[0-9a-zA-Z.:-]+$/.test(s.slice(zone + 1))) return false
    text = s.slice(0, zone)
  }
  const lastColon = text.lastIndexOf(':')
  if (lastColon === -1) return false
  const tail = text.slice(lastColon + 1)
  if (tail.includes('.')) {
    if (!STRICT_IPV4.test(tail)) return false
    text = text.slice(0, lastColon + 1) + '0:0'
  }
  const halves = text.split('::')
  if (halves.length > 2) return false
  const groups = halves.map(h => (h === '' ? [] : h.split(':')))
  if (!groups.every(g => g.every(x => HEX_GROUP.test(x)))) return false
  const count = groups.reduce((n, g) => n + g.length, 0)
  return halves.length === 2 ? count <= 7 : count === 8
}

/** 4 or 6 when the text is an IPv4 (strict dotted form) or IPv6 address, 0 otherwise: node:net's isIP, without the import. */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (STRICT_IPV4.test(s)) return 4
  return isIPv6Text(s) ? 6 : 0
}

/** Parses a dotted IPv4 address in strict form ("10.0.0.1"); null otherwise. */
export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (m === null) return null
  let n = 0
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i])
    if (part > 255) return null
    n = n * 256 + part
  }
  return n
}

/**
 * Parses an IPv4 address in any form inet_aton(3) accepts: "127.0.0.1",
 * "127.1", "2130706433", "0x7f.1", "0177.0.0.1". These are how an SSRF
 * slips past a naive check; returns the dotted form, or null when the text
 * is not an address at all.
 */
export function parseLooseIPv4(s: string): string | null {
  const parts = s.split('.')
  if (parts.length === 0 || parts.length > 4 || parts.some(p => p === '')) return null
  const nums: number[] = []
  for (const p of parts) {
    let n: number
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16)
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p, 8)
    else if (/^\d+$/.test(p)) n = Number(p)
    else return null
    if (!Number.isFinite(n)) return null
    nums.push(n)
  }
  const last = nums.pop()!
  if (nums.some(n => n > 255)) return null
  const lastMax = 2 ** (8 * (4 - nums.length))
  if (last >= lastMax) return null
  let value = 0
  for (const n of nums) value = value * 256 + n
  value = value * lastMax + last
  return intToIPv4(value)
}

/** Formats a 32-bit number as a dotted IPv4 address. */
export function intToIPv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/** Expands an IPv6 address to eight 16-bit groups; null when it is not one. */
export function parseIPv6(s: string): number[] | null {
  const text = s.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (ipVersion(text) !== 6) return null
  let head = text
  let tail4: number[] = []
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4 !== null) {
    const n = parseIPv4(v4[1])
    if (n === null) return null
    tail4 = [n >>> 16, n & 0xffff]
    head = text.slice(0, -v4[1].length) + (text.endsWith('::' + v4[1]) ? '' : '0')
    if (head.endsWith(':0') && !text.endsWith('::' + v4[1])) head = head.slice(0, -2)
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined]
  const l = left === '' ? [] : left.split(':').map(g => parseInt(g, 16))
  const r = right === undefined || right === '' ? [] : right.split(':').map(g => parseInt(g, 16))
  const missing = 8 - tail4.length - l.length - r.length
  if (right === undefined && missing !== 0) return null
  return [...l, ...new Array(Math.max(0, missing)).fill(0), ...r, ...tail4]
}

/** True when the text is an IPv4 or IPv6 address (strict forms). */
export function isIPAddress(s: string): boolean {
  return ipVersion(s.replace(/^\[|\]$/g, '')) !== 0
}

interface Range4 {
  base: number
  bits: number
}
const range4 = (cidr: string): Range4 => {
  const [ip, bits] = cidr.split('/')
  return { base: parseIPv4(ip)!, bits: Number(bits) }
}
const inRange4 = (n: number, r: Range4): boolean => r.bits === 0 || n >>> (32 - r.bits) === r.base >>> (32 - r.bits)

/** RFC 6890 special-purpose IPv4 ranges: nothing on the public internet answers there. */
const BOGONS_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4'
].map(range4)

/**
 * True when an address is a bogon: private, loopback, link-local,
 * carrier-grade NAT, documentation, multicast or reserved (IPv4), or
 * loopback, unspecified, unique-local, link-local, multicast or
 * documentation (IPv6, including IPv4-mapped bogons).
 */
export function isBogon(ip: string): boolean {
  const v4 = parseIPv4(ip)
  if (v4 !== null) return BOGONS_V4.some(r => inRange4(v4, r))
  const g = parseIPv6(ip)
  if (g === null) return false
  if (g.slice(0, 5).every(x => x === 0) && g[5] === 0xffff) return isBogon(intToIPv4(g[6] * 65536 + g[7]))
  if (g.slice(0, 7).every(x => x === 0) && (g[7] === 0 || g[7] === 1)) return true
  if ((g[0] & 0xfe00) === 0xfc00) return true // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true // fe80::/10 link local
  if ((g[0] & 0xff00) === 0xff00) return true // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true // documentation
  if (g[0] === 0x0064 && g[1] === 0xff9b) return false // NAT64: public
  return false
}

/** A parsed CIDR range, IPv4 or IPv6. */
export interface Cidr {
  family: 4 | 6
  bits: number
  words: number[]
}

/** Parses "10.0.0.0/8" or "fd00::/8" (a bare address is a /32 or /128); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const [ip, bitsText, extra] = text.trim().split('/')
  if (extra !== undefined) return null
  const v4 = parseIPv4(ip)
  if (v4 !== null) {
    const bits = bitsText === undefined ? 32 : Number(bitsText)
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) return null
    return { family: 4, bits, words: [v4 >>> 16, v4 & 0xffff] }
  }
  const v6 = parseIPv6(ip)
  if (v6 === null) return null
  const bits = bitsText === undefined ? 128 : Number(bitsText)
  if (!Number.isInteger(bits) || bits < 0 || bits > 128) return null
  return { family: 6, bits, words: v6 }
}

/** True when an address lies in a CIDR range. */
export function inCidr(ip: string, cidr: Cidr): boolean {
  let words: number[]
  const v4 = parseIPv4(ip)
  if (v4 !== null) {
    if (cidr.family !== 4) return false
    words = [v4 >>> 16, v4 & 0xffff]
  } else {
    const v6 = parseIPv6(ip)
    if (v6 === null || cidr.family !== 6) return false
    words = v6
  }
  let bits = cidr.bits
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const take = Math.min(16, bits)
    const mask = (0xffff << (16 - take)) & 0xffff
    if ((words[i] & mask) !== (cidr.words[i] & mask)) return false
  }
  return true
}
