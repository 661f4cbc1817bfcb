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
  'dns-forge', 'dns-bogon', 'dns-nxdomain', 'dns-timeout', 'dns-inject',
  'dns-forge-plain', 'dns-inject-tcp',
  'tcp-drop', 'tcp-reset', 'tcp-icmp',
  'http-blockpage-200', 'http-blockpage-403', 'http-blockpage-plain', 'http-reset',
  'tls-reset', 'tls-ip-reset', 'tls-mitm',
  'throttle'
] as const
export type Technique = typeof TECHNIQUES[number]

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
}

/** Upper bound of `sites`. */
export const MAX_SITES = 2000

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/

/** Validates a parsed scenario; throws a UsageError naming the bad field. */
export function validateScenario (raw: unknown, source = 'scenario'): Scenario {
  const fail = (msg: string): never => { throw new UsageError(`${source}: ${msg}`) }
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
  const tknown = ['name', 'kind', 'technique', 'answer', 'ports', 'rttMs', 'rateKbit', 'down']
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
    if (o.technique !== undefined && !(TECHNIQUES as readonly string[]).includes(o.technique as string)) fail(`${at}.technique must be one of ${TECHNIQUES.join(', ')}; got ${JSON.stringify(o.technique)}`)
    if (o.answer !== undefined && (typeof o.answer !== 'string' || !IPV4_RE.test(o.answer))) fail(`${at}.answer must be an IPv4 address, got ${JSON.stringify(o.answer)}`)
    if (o.ports !== undefined && (!Array.isArray(o.ports) || o.ports.length === 0 || !o.ports.every(p => Number.isInteger(p) && p > 0 && p < 65536))) fail(`${at}.ports must be a non-empty array of port numbers`)
    intIn(o.rttMs, `${at}.rttMs`, 0, 10000)
    intIn(o.rateKbit, `${at}.rateKbit`, 8, 10_000_000)
    if (o.down !== undefined && typeof o.down !== 'boolean') fail(`${at}.down must be true or false`)
  })
  return s as unknown as Scenario
}

/** Reads and validates a scenario file. */
export function loadScenario (file: string): Scenario {
  let text: string
  try { text = readFileSync(file, 'utf8') } catch (err) { throw new UsageError(`--scenario: cannot read ${file}: ${(err as Error).message}`) }
  let raw: unknown
  try { raw = JSON.parse(text) } catch (err) { throw new UsageError(`--scenario: ${file} is not JSON: ${(err as Error).message}`) }
  return validateScenario(raw, file)
}

/** The address of the i-th named target (0-based): 10.10.64.10 onwards. */
export function targetIp (i: number): string {
  const n = 64 * 256 + 10 + i
  return `10.10.${Math.floor(n / 256)}.${n % 256}`
}

/** The address of the i-th extra healthy site (1-based): 10.10.96.1 onwards, 250 per /24. */
export function siteIp (i: number): string {
  const k = i - 1
  return `10.10.${96 + Math.floor(k / 250)}.${(k % 250) + 1}`
}

/** The name of the i-th extra site (1-based): site-001 … */
export function siteName (i: number): string {
  return `site-${String(i).padStart(3, '0')}`
}

function urlsFor (host: string, kind: TargetKind): string[] {
  if (kind === 'smpp') return [`smpp://${host}:${SMPP_PORT}`]
  const path = kind === 'sms-api' ? '/api/v1/sms' : '/'
  return [`http://${host}${path}`, `https://${host}${path}`]
}

/** Builds the lab's targets from a scenario: named targets first, then `sites` healthy sites. */
export function buildTargets (scenario: Scenario): LabTarget[] {
  const out: LabTarget[] = scenario.targets.map((t, i) => {
    const kind = t.kind ?? 'web'
    const host = `${t.name}.${LAB_ZONE}`
    const target: LabTarget = { name: t.name, host, ip: targetIp(i), kind, technique: t.technique ?? null, down: t.down ?? false, urls: urlsFor(host, kind) }
    if (t.technique === 'dns-forge' || t.technique === 'dns-inject' || t.technique === 'dns-inject-tcp') target.answer = t.answer ?? ADDR.blockpage
    if (t.technique === 'dns-forge-plain') target.answer = t.answer ?? ADDR.plainBlockpage
    if (t.technique === 'dns-bogon') target.answer = t.answer ?? ADDR.bogon
    if (t.ports !== undefined) target.ports = t.ports
    if (t.technique === 'throttle') { target.rttMs = t.rttMs ?? 400; target.rateKbit = t.rateKbit ?? 256 }
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
export function serverPorts (t: LabTarget): number[] {
  return t.kind === 'smpp' ? [SMPP_PORT] : [80, 443]
}
