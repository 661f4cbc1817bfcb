/**
 * The lab's plan: the address plan, the scenario file format and the targets
 * built from a scenario. Pure: no I/O besides reading a scenario file, so the
 * rules and configs derived from it can be tested without root.
 *
 * Spec: issue 3 ("A censorship lab on one machine"); user docs in docs/lab.md.
 */
import { readFileSync } from 'node:fs'
import { UsageError } from '../../shared/src/args.ts'

/** The lab's only address range. It is used inside the lab's namespaces only; no packet ever leaves them. */
export const LAB_RANGE = '10.10.0.0/16'
/** The lab's IPv6 range (unique local addresses, RFC 4193), inside its namespaces only as well. */
export const LAB_RANGE6 = 'fd10:10::/32'
/** The DNS zone every lab target lives in. */
export const LAB_ZONE = 'lab.test'

/** The fixed address plan (identical in every lab: each lab has namespaces of its own). */
export const ADDR = Object.freeze({
  /** client's address on its link to isp (10.10.1.0/24). */
  client: '10.10.1.2',
  /** isp's address on the client link: the client's default gateway, and where isp's middleboxes listen. */
  ispClientSide: '10.10.1.1',
  /** isp's address on the world link (10.10.2.0/24). */
  ispWorldSide: '10.10.2.1',
  /** world's address on the isp link. */
  world: '10.10.2.2',
  /** The resolver the client is given (world, recursive and authoritative for lab.test). */
  resolver: '10.10.53.53',
  /** A second, "public" resolver in world (the same server). isp intercepts the client's DNS to both. */
  publicResolver: '10.10.53.54',
  /** The control vantage (aggregator) in world. */
  control: '10.10.3.10',
  /**
   * isp's blockpage server. 10.10.34.36 is the Iranian national blockpage
   * (OONI DNS fingerprint ooni.ir_10dot10_ipv4_1): forged DNS answers point here.
   */
  blockpage: '10.10.34.36',
  /**
   * isp's second blockpage server: a page no fingerprint knows (no OONI
   * fingerprint names 10.10.35.35), served with common headers only, for
   * every host. `dns-forge-plain` answers point here; `http-blockpage-plain`
   * is DNATed here (issue 15).
   */
  plainBlockpage: '10.10.35.35',
  /** The bogon a `dns-bogon` forgery answers with (the client's own loopback). */
  bogon: '127.0.0.1'
})

/**
 * The IPv6 plan (issue 15): each link gets a /64 beside its IPv4 /24. Only
 * targets whose scenario entry asks for IPv6 get an address here, and an
 * AAAA record.
 */
export const ADDR6 = Object.freeze({
  /** client's address on its link to isp (fd10:10:1::/64). */
  client: 'fd10:10:1::2',
  /** isp's address on the client link: the client's IPv6 default gateway. */
  ispClientSide: 'fd10:10:1::1',
  /** isp's address on the world link (fd10:10:2::/64). */
  ispWorldSide: 'fd10:10:2::1',
  /** world's address on the isp link. */
  world: 'fd10:10:2::2',
  /** isp's unknown blockpage (as 10.10.35.35): http-blockpage-plain over IPv6 is DNATed here. */
  plainBlockpage: 'fd10:10:35::35'
})

/** The control vantage's TCP port. */
export const CONTROL_PORT = 8080
/** The SMPP port. */
export const SMPP_PORT = 2775
/** isp ports of the DNS middlebox, one per intercepted resolver. */
export const DNS_MIDDLEBOX_PORTS = Object.freeze({ [ADDR.resolver]: 5353, [ADDR.publicResolver]: 5354 })
/** First isp port of the delay relay; one port per relayed (target, port). */
export const RELAY_BASE_PORT = 20000
/** isp port of the TLS middlebox with an untrusted certificate. */
export const MITM_PORT = 8443
/** isp port of the DNS-over-TCP middlebox (dns-inject-tcp), standing in for both resolvers. */
export const DNS_TCP_MIDDLEBOX_PORT = 5355

/** Every technique isp can apply to a target. See docs/lab.md for what a client sees. */
export const TECHNIQUES = [
  'dns-forge',
  'dns-bogon',
  'dns-nxdomain',
  'dns-timeout',
  'dns-inject',
  'dns-forge-plain',
  'dns-inject-tcp',
  'tcp-drop',
  'tcp-reset',
  'tcp-icmp',
  'http-blockpage-200',
  'http-blockpage-403',
  'http-blockpage-plain',
  'http-reset',
  'tls-reset',
  'tls-ip-reset',
  'tls-mitm',
  'throttle'
] as const
export type Technique = (typeof TECHNIQUES)[number]

/** The techniques that act on the target's address (not its name): every name sharing that address is treated alike. */
export const ADDRESS_TECHNIQUES: readonly Technique[] = [
  'tcp-drop',
  'tcp-reset',
  'tcp-icmp',
  'http-blockpage-200',
  'http-blockpage-403',
  'http-blockpage-plain',
  'tls-ip-reset',
  'tls-mitm',
  'throttle'
]

/** The techniques with an IPv6 twin (ip6tables), allowed on a target with `ipv6`. */
export const IPV6_TECHNIQUES: readonly Technique[] = ['tcp-drop', 'tcp-reset', 'tcp-icmp', 'http-blockpage-plain', 'http-reset', 'tls-reset', 'tls-ip-reset']

/** What a target serves in world. */
export type TargetKind = 'web' | 'smpp' | 'sms-api'

/** One target as written in a scenario file. */
export interface ScenarioTarget {
  /** DNS label: the target is `<name>.lab.test`. Lower-case letters, digits and '-'. */
  name: string
  /** Default "web" (HTTP on 80, HTTPS on 443). "smpp": an SMPP gateway on 2775. "sms-api": a web site with an HTTP SMS API. */
  kind?: TargetKind
  /** What isp does to it; absent: healthy. */
  technique?: Technique
  /** dns-forge / dns-inject / dns-inject-tcp: the forged A record (default the blockpage, 10.10.34.36; dns-forge-plain: 10.10.35.35). */
  answer?: string
  /** tcp-*: only these destination ports (default: all). */
  ports?: number[]
  /** throttle: added round-trip time in ms (default 400). */
  rttMs?: number
  /** throttle: bandwidth cap in kbit/s (default 256). */
  rateKbit?: number
  /** Start with its server stopped ("site down"). */
  down?: boolean
  /**
   * Serve this name on the address of an earlier target (several names on
   * one address: SNI versus address filtering, issue 15). It takes that
   * target's IPv6 setting too.
   */
  sameAddressAs?: string
  /** The HTTPS server on this target's address resets a ClientHello without SNI, as many real servers do. */
  requireSni?: boolean
  /** true: dual-stack (A and AAAA records, served on both); "only": IPv6 only (an AAAA record, no A). */
  ipv6?: true | 'only'
}

/** A scenario file (JSON). */
export interface Scenario {
  name?: string
  description?: string
  targets: ScenarioTarget[]
  /** Extra healthy web sites site-001.lab.test … (for the benchmark). Default 0. */
  sites?: number
  /** Added round-trip time in ms for every healthy web target (the delay relay). Default 0. */
  rttMs?: number
  /** Start the aggregator's control vantage in world. Default false. */
  control?: boolean
  /** Start with the whole network down. Default false. */
  outage?: boolean
}

/** A target as built into the lab: the scenario entry plus its name, address and URLs. */
export interface LabTarget {
  name: string
  host: string
  ip: string
  kind: TargetKind
  technique: Technique | null
  answer?: string
  ports?: number[]
  rttMs?: number
  rateKbit?: number
  down: boolean
  /** What to fetch: http:// and https:// for web and sms-api, smpp:// for smpp. */
  urls: string[]
  /** Its IPv6 address, when it has one (`ipv6` in the scenario). */
  ip6?: string
  /** true: dual-stack; "only": no A record (`ip` is still allocated, and served, but never answered). */
  ipv6?: true | 'only'
  /** The target whose address it shares (`sameAddressAs`). */
  sameAddressAs?: string
  /** Its address's HTTPS server resets a ClientHello without SNI. */
  requireSni?: boolean
}

/** Upper bound of `sites`. */
export const MAX_SITES = 2000

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/

/** Validates a parsed scenario; throws a UsageError naming the bad field. */
export function validateScenario(raw: unknown, source = 'scenario'): Scenario {
  const fail = (msg: string): never => {
    throw new UsageError(`${source}: ${msg}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be a JSON object with a "targets" array')
  const s = raw as Record<string, unknown>
  const known = ['name', 'description', 'targets', 'sites', 'rttMs', 'control', 'outage']
  for (const k of Object.keys(s)) if (!known.includes(k)) fail(`unknown field ${JSON.stringify(k)}; fields: ${known.join(', ')}`)
  if (!Array.isArray(s.targets)) fail('"targets" must be an array')
  const intIn = (v: unknown, what: string, min: number, max: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > max)) fail(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`)
  }
  intIn(s.sites, '"sites"', 0, MAX_SITES)
  intIn(s.rttMs, '"rttMs"', 0, 10000)
  for (const k of ['control', 'outage']) if (s[k] !== undefined && typeof s[k] !== 'boolean') fail(`"${k}" must be true or false`)
  const seen = new Set<string>()
  const tknown = ['name', 'kind', 'technique', 'answer', 'ports', 'rttMs', 'rateKbit', 'down', 'sameAddressAs', 'requireSni', 'ipv6']
  const earlier = new Map<string, Record<string, unknown>>()
  ;(s.targets as unknown[]).forEach((t, i) => {
    const at = `targets[${i}]`
    if (typeof t !== 'object' || t === null) fail(`${at} must be an object`)
    const o = t as Record<string, unknown>
    for (const k of Object.keys(o)) if (!tknown.includes(k)) fail(`${at}: unknown field ${JSON.stringify(k)}; fields: ${tknown.join(', ')}`)
    if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) fail(`${at}.name must be a DNS label (a-z, 0-9, '-'), got ${JSON.stringify(o.name)}`)
    const name = o.name as string
    if (/^site-\d+$/.test(name)) fail(`${at}.name ${JSON.stringify(name)} is reserved for the "sites" option`)
    if (seen.has(name)) fail(`${at}.name ${JSON.stringify(name)} appears twice`)
    seen.add(name)
    if (o.kind !== undefined && !['web', 'smpp', 'sms-api'].includes(o.kind as string)) fail(`${at}.kind must be web, smpp or sms-api, got ${JSON.stringify(o.kind)}`)
    if (o.technique !== undefined && !(TECHNIQUES as readonly string[]).includes(o.technique as string))
      fail(`${at}.technique must be one of ${TECHNIQUES.join(', ')}; got ${JSON.stringify(o.technique)}`)
    if (o.answer !== undefined && (typeof o.answer !== 'string' || !IPV4_RE.test(o.answer))) fail(`${at}.answer must be an IPv4 address, got ${JSON.stringify(o.answer)}`)
    if (o.ports !== undefined && (!Array.isArray(o.ports) || o.ports.length === 0 || !o.ports.every(p => Number.isInteger(p) && p > 0 && p < 65536)))
      fail(`${at}.ports must be a non-empty array of port numbers`)
    intIn(o.rttMs, `${at}.rttMs`, 0, 10000)
    intIn(o.rateKbit, `${at}.rateKbit`, 8, 10_000_000)
    if (o.down !== undefined && typeof o.down !== 'boolean') fail(`${at}.down must be true or false`)
    if (o.requireSni !== undefined && typeof o.requireSni !== 'boolean') fail(`${at}.requireSni must be true or false`)
    if (o.ipv6 !== undefined && o.ipv6 !== true && o.ipv6 !== 'only') fail(`${at}.ipv6 must be true (dual-stack) or "only" (IPv6 only), got ${JSON.stringify(o.ipv6)}`)
    const technique = o.technique as Technique | undefined
    if (o.ipv6 !== undefined && technique !== undefined && !IPV6_TECHNIQUES.includes(technique))
      fail(`${at}.technique ${technique} has no IPv6 twin; with "ipv6" use one of ${IPV6_TECHNIQUES.join(', ')}`)
    if (o.sameAddressAs !== undefined) checkShared(o, at, earlier.get(o.sameAddressAs as string), fail)
    earlier.set(name, o)
  })
  return s as unknown as Scenario
}

/**
 * A target that shares an earlier one's address: both web or sms-api, never
 * down (a site's server is the address's), no ipv6 of its own, and no
 * technique acting on the address unless both have the same one (so that
 * each name's technique says what the client meets).
 */
function checkShared(o: Record<string, unknown>, at: string, base: Record<string, unknown> | undefined, fail: (msg: string) => never): void {
  if (base === undefined) fail(`${at}.sameAddressAs must name an earlier target, got ${JSON.stringify(o.sameAddressAs)}`)
  const b = base as Record<string, unknown>
  if (b.sameAddressAs !== undefined) fail(`${at}.sameAddressAs must name a target with an address of its own (${String(b.name)} shares ${String(b.sameAddressAs)}'s)`)
  if ((o.kind ?? 'web') === 'smpp' || (b.kind ?? 'web') === 'smpp') fail(`${at}.sameAddressAs: only web and sms-api targets share an address`)
  if (o.down === true || b.down === true) fail(`${at}.sameAddressAs: a target sharing an address cannot start down (its server is the address's)`)
  if (o.ipv6 !== undefined) fail(`${at}.ipv6: a target sharing an address takes ${String(b.name)}'s IPv6 setting`)
  const onAddress = (t: unknown): boolean => t !== undefined && ADDRESS_TECHNIQUES.includes(t as Technique)
  if ((onAddress(o.technique) || onAddress(b.technique)) && o.technique !== b.technique)
    fail(`${at}.technique must be ${String(b.technique ?? 'absent')} like ${String(b.name)}'s: a technique acting on the address treats every name on it alike`)
  if (o.technique === 'throttle') fail(`${at}.technique: throttled targets cannot share an address`)
}

/** Reads and validates a scenario file. */
export function loadScenario(file: string): Scenario {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`--scenario: cannot read ${file}: ${(err as Error).message}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--scenario: ${file} is not JSON: ${(err as Error).message}`)
  }
  return validateScenario(raw, file)
}

/** The address of the i-th named target (0-based): 10.10.64.10 onwards. */
export function targetIp(i: number): string {
  const n = 64 * 256 + 10 + i
  return `10.10.${Math.floor(n / 256)}.${n % 256}`
}

/** The IPv6 address of the i-th named target (0-based), when it has one: fd10:10:64::a onwards. */
export function targetIp6(i: number): string {
  return `fd10:10:64::${(10 + i).toString(16)}`
}

/** The address of the i-th extra healthy site (1-based): 10.10.96.1 onwards, 250 per /24. */
export function siteIp(i: number): string {
  const k = i - 1
  return `10.10.${96 + Math.floor(k / 250)}.${(k % 250) + 1}`
}

/** The name of the i-th extra site (1-based): site-001 … */
export function siteName(i: number): string {
  return `site-${String(i).padStart(3, '0')}`
}

function urlsFor(host: string, kind: TargetKind): string[] {
  if (kind === 'smpp') return [`smpp://${host}:${SMPP_PORT}`]
  const path = kind === 'sms-api' ? '/api/v1/sms' : '/'
  return [`http://${host}${path}`, `https://${host}${path}`]
}

/** Builds the lab's targets from a scenario: named targets first, then `sites` healthy sites. */
export function buildTargets(scenario: Scenario): LabTarget[] {
  const byName = new Map<string, LabTarget>()
  const out: LabTarget[] = scenario.targets.map((t, i) => {
    const kind = t.kind ?? 'web'
    const host = `${t.name}.${LAB_ZONE}`
    const base = t.sameAddressAs === undefined ? undefined : byName.get(t.sameAddressAs)
    const target: LabTarget = { name: t.name, host, ip: base?.ip ?? targetIp(i), kind, technique: t.technique ?? null, down: t.down ?? false, urls: urlsFor(host, kind) }
    const ipv6 = base !== undefined ? base.ipv6 : t.ipv6
    if (ipv6 !== undefined) {
      target.ipv6 = ipv6
      target.ip6 = base?.ip6 ?? targetIp6(i)
    }
    if (base !== undefined) target.sameAddressAs = base.name
    if (t.requireSni === true) target.requireSni = true
    byName.set(t.name, target)
    if (t.technique === 'dns-forge' || t.technique === 'dns-inject' || t.technique === 'dns-inject-tcp') target.answer = t.answer ?? ADDR.blockpage
    if (t.technique === 'dns-forge-plain') target.answer = t.answer ?? ADDR.plainBlockpage
    if (t.technique === 'dns-bogon') target.answer = t.answer ?? ADDR.bogon
    if (t.ports !== undefined) target.ports = t.ports
    if (t.technique === 'throttle') {
      target.rttMs = t.rttMs ?? 400
      target.rateKbit = t.rateKbit ?? 256
    }
    return target
  })
  for (let i = 1; i <= (scenario.sites ?? 0); i++) {
    const name = siteName(i)
    const host = `${name}.${LAB_ZONE}`
    out.push({ name, host, ip: siteIp(i), kind: 'web', technique: null, down: false, urls: urlsFor(host, 'web') })
  }
  return out
}

/** The ports a target's server listens on in world. */
export function serverPorts(t: LabTarget): number[] {
  return t.kind === 'smpp' ? [SMPP_PORT] : [80, 443]
}
