/**
 * Deterministic measurement documents for the benchmarks.
 *
 * - realisticDoc(): a web_connectivity document as blockwatch's probe
 *   uploads it (DNS queries, TCP connects, TLS handshakes, the HTTP request
 *   with a truncated body, the control's answer, the verdict keys), about
 *   3 KB. Ingest re-judges these (software_name "blockwatch"), as it would a
 *   real upload. `blockwatch simulate` makes the same shape; this copy keeps
 *   the benchmark independent of the simulator's scenario format.
 * - smallDoc(): an OONI-format document (software_name "ooniprobe-cli") of
 *   about 400 bytes with the verdict keys OONI's scorer reads, for the
 *   10-million-row timeline benchmark.
 *
 * The population: countries of Zipf-like weight, 1–12 networks each, probes
 * per country by weight, a test list of domains, a 5% background anomaly
 * rate, and blocking episodes (country × domain × weeks) in which most
 * measurements are anomalous and some confirmed by a blockpage fingerprint.
 */
import { formatOoniTime } from '../../shared/src/time.ts'
import { prng } from './util.ts'

const CCS = [
  'US',
  'IR',
  'RU',
  'IN',
  'BR',
  'DE',
  'ID',
  'CN',
  'TR',
  'MM',
  'IT',
  'FR',
  'GB',
  'UA',
  'MX',
  'PK',
  'EG',
  'VN',
  'TH',
  'KZ',
  'BY',
  'VE',
  'ET',
  'NG',
  'KE',
  'PH',
  'CU',
  'SA',
  'AE',
  'BD',
  'AR',
  'CO',
  'ZA',
  'JP',
  'KR',
  'ES',
  'PL',
  'NL',
  'CA',
  'AU'
]
const CATEGORIES = ['NEWS', 'GRP', 'HUMR', 'POLR', 'COMT', 'SRCH', 'ANON', 'CULTR', 'HOST', 'MMED']

/** One probe of the population. */
export interface Probe {
  id: string
  cc: string
  asn: string
  region: string
}

/** One blocking episode: a country blocks a domain between two times. */
export interface Episode {
  cc: string
  domain: string
  startMs: number
  endMs: number
  confirmed: boolean
}

/** The population measurements are drawn from. */
export interface Population {
  ccs: string[]
  /** Cumulative weights over probes, for weighted draws. */
  probes: Probe[]
  cumulative: Float64Array
  domains: string[]
  episodes: Episode[]
  sinceMs: number
  untilMs: number
}

/** Options of population(). */
export interface PopulationOptions {
  probes?: number
  domains?: number
  countries?: number
  /** The time span measurements fall in. */
  sinceMs: number
  untilMs: number
  seed?: number
}

/** Builds the population (deterministic for a seed). */
export function population(o: PopulationOptions): Population {
  const rnd = prng(o.seed ?? 42)
  const ccs = CCS.slice(0, Math.min(CCS.length, o.countries ?? 40))
  const weights = ccs.map((_, i) => 1 / (i + 1) ** 0.9)
  const wsum = weights.reduce((a, b) => a + b, 0)
  const nProbes = o.probes ?? 2000
  const probes: Probe[] = []
  const cumulative = new Float64Array(nProbes)
  let acc = 0
  ccs.forEach((cc, ci) => {
    const n = Math.max(3, Math.round((nProbes * weights[ci]!) / wsum))
    const asns = 1 + Math.floor(rnd() * 12)
    for (let k = 0; k < n && probes.length < nProbes; k++) {
      const a = Math.floor(rnd() * asns)
      probes.push({ id: `bench-${cc.toLowerCase()}-${k}`, cc, asn: `AS${64500 + ci * 20 + a}`, region: `${cc}-${1 + (a % 5)}` })
    }
  })
  // Each probe uploads about as often as any other: weight 1 each, the country weight is in the counts.
  for (let i = 0; i < probes.length; i++) {
    acc += 1
    cumulative[i] = acc
  }
  const domains = Array.from({ length: o.domains ?? 60 }, (_, i) => `www.site${String(i).padStart(3, '0')}.example`)
  const episodes: Episode[] = []
  const span = o.untilMs - o.sinceMs
  for (const cc of ccs.slice(0, 12)) {
    for (let e = 0; e < 3; e++) {
      const start = o.sinceMs + Math.floor(rnd() * span * 0.9)
      const len = (2 + Math.floor(rnd() * 40)) * 86400_000
      episodes.push({ cc, domain: domains[Math.floor(rnd() * domains.length)]!, startMs: start, endMs: Math.min(o.untilMs, start + len), confirmed: rnd() < 0.4 })
    }
  }
  return { ccs, probes: probes.slice(0, probes.length), cumulative: cumulative.slice(0, probes.length), domains, episodes, sinceMs: o.sinceMs, untilMs: o.untilMs }
}

/** Draws a probe (uniformly over probes, so big countries send more). */
export function drawProbe(pop: Population, rnd: () => number): Probe {
  const total = pop.cumulative[pop.cumulative.length - 1]!
  const x = rnd() * total
  let lo = 0
  let hi = pop.cumulative.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (pop.cumulative[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return pop.probes[lo]!
}

/** What a generated measurement says. */
export type Outcome = 'ok' | 'anomaly' | 'confirmed' | 'failure'

/** The outcome of a measurement by `probe` of `domain` at `t`: blocked during an episode, else 5% background anomalies and 2% failures. */
export function outcomeOf(pop: Population, probe: Probe, domain: string, t: number, rnd: () => number): Outcome {
  for (const e of pop.episodes) {
    if (e.cc === probe.cc && e.domain === domain && t >= e.startMs && t < e.endMs) {
      const x = rnd()
      if (x < 0.85) return e.confirmed && rnd() < 0.5 ? 'confirmed' : 'anomaly'
      return x < 0.97 ? 'ok' : 'failure'
    }
  }
  const x = rnd()
  return x < 0.05 ? 'anomaly' : x < 0.07 ? 'failure' : 'ok'
}

const hex = (rnd: () => number, n: number): string => {
  let s = ''
  for (let i = 0; i < n; i++) s += Math.floor(rnd() * 16).toString(16)
  return s
}

/** A uid that sorts by time, like the probe's UUIDv7, from the PRNG (no syscalls: 10 million of them). */
export function benchUid(t: number, rnd: () => number): string {
  const h = Math.floor(t).toString(16).padStart(12, '0') + '7' + hex(rnd, 3) + '8' + hex(rnd, 15)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

const addrOf = (domain: string): string => {
  let h = 0
  for (const c of domain) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return `203.0.${(h >> 8) & 255}.${h & 255}`
}

/** The Iranian national blockpage address (OONI DNS fingerprint), so confirmed documents match a fingerprint. */
const BLOCKPAGE_IP = '10.10.34.36'

/** A small OONI-format web_connectivity document (~400 bytes). */
export function smallDoc(probe: Probe, domain: string, t: number, outcome: Outcome, rnd: () => number): Record<string, unknown> {
  const tk: Record<string, unknown> =
    outcome === 'ok'
      ? { blocking: false, accessible: true }
      : outcome === 'anomaly'
        ? { blocking: 'dns', accessible: false, dns_experiment_failure: null }
        : outcome === 'confirmed'
          ? { blocking: 'dns', accessible: false, queries: [{ answers: [{ answer_type: 'A', ipv4: BLOCKPAGE_IP }] }] }
          : { blocking: null, accessible: null, control_failure: 'generic_timeout_error' }
  return {
    data_format_version: '0.2.0',
    measurement_uid: benchUid(t, rnd),
    measurement_start_time: formatOoniTime(t),
    probe_cc: probe.cc,
    probe_asn: probe.asn,
    probe_region: probe.region,
    probe_id: probe.id,
    report_id: `r-${probe.id}-${Math.floor(t / 3600_000)}`,
    test_name: 'web_connectivity',
    input: `https://${domain}/`,
    software_name: 'ooniprobe-cli',
    software_version: '3.22.0',
    category_code: CATEGORIES[domain.length % CATEGORIES.length],
    test_keys: tk
  }
}

const BODY_WORDS = ['the', 'news', 'report', 'about', 'freedom', 'network', 'today', 'world', 'local', 'sports', 'weather', 'opinion', 'video', 'live', 'update']

function body(rnd: () => number, bytes: number): string {
  let s = '<!doctype html><html><head><title>Site</title></head><body><p>'
  while (s.length < bytes) s += BODY_WORDS[Math.floor(rnd() * BODY_WORDS.length)]! + ' '
  return s + '</p></body></html>'
}

/**
 * A web_connectivity document as blockwatch's probe uploads it (~3 KB),
 * with verdict keys consistent with its observations.
 */
export function realisticDoc(probe: Probe, domain: string, t: number, outcome: Outcome, rnd: () => number): Record<string, unknown> {
  const ip = addrOf(domain)
  const url = `https://${domain}/`
  const blocked = outcome === 'anomaly' || outcome === 'confirmed'
  const answer = outcome === 'confirmed' ? BLOCKPAGE_IP : outcome === 'anomaly' ? '10.66.0.1' : ip
  const page = body(rnd, 400)
  const tsec = (x: number): number => Math.round(x * 1000) / 1000
  const headers = { 'Content-Type': 'text/html; charset=utf-8', Server: 'nginx', 'Cache-Control': 'max-age=600', Date: new Date(t).toUTCString(), 'Content-Length': String(page.length) }
  const failed = outcome === 'failure'
  return {
    data_format_version: '0.2.0',
    measurement_uid: benchUid(t, rnd),
    measurement_start_time: formatOoniTime(t),
    test_start_time: formatOoniTime(t - 60_000),
    probe_cc: probe.cc,
    probe_asn: probe.asn,
    probe_network_name: `Network ${probe.asn}`,
    probe_ip: '127.0.0.1',
    probe_id: probe.id,
    probe_region: probe.region,
    report_id: `${formatOoniTime(t - 60_000).replace(/[-: ]/g, '')}_webconnectivity_${probe.cc}_${probe.asn.slice(2)}_n1_${hex(rnd, 16)}`,
    input: url,
    test_name: 'web_connectivity',
    test_version: '0.5.0',
    test_runtime: tsec(0.3 + rnd()),
    resolver_ip: '10.0.0.53',
    resolver_asn: 'AS0',
    resolver_network_name: null,
    software_name: 'blockwatch',
    software_version: '0.1.0',
    annotations: { engine_name: 'blockwatch', category_code: CATEGORIES[domain.length % CATEGORIES.length], resolver: '10.0.0.53:53' },
    test_keys: {
      client_resolver: '10.0.0.53:53',
      queries: [
        { engine: 'system', resolver_address: '10.0.0.53:53', hostname: domain, query_type: 'A', answers: [{ answer_type: 'A', ipv4: answer, ttl: 300 }], failure: null, t: tsec(0.02 + rnd() * 0.05) },
        { engine: 'system', resolver_address: '10.0.0.53:53', hostname: domain, query_type: 'AAAA', answers: [], failure: null, t: tsec(0.02 + rnd() * 0.05) }
      ],
      dns_experiment_failure: null,
      tcp_connect: [{ ip: answer, port: 443, status: { success: !failed, failure: failed ? 'generic_timeout_error' : null, blocked: false }, t: tsec(0.1 + rnd() * 0.1) }],
      tls_handshakes: failed
        ? []
        : [
            {
              address: `${answer}:443`,
              server_name: domain,
              failure: null,
              tls_version: 'TLSv1.3',
              cipher_suite: 'TLS_AES_256_GCM_SHA384',
              negotiated_protocol: 'http/1.1',
              no_tls_verify: false,
              x_peer_certificate: { subject: domain, issuer: 'R11', valid_to: 'Jan 10 00:00:00 2027 GMT' },
              t: tsec(0.2 + rnd() * 0.1)
            }
          ],
      requests: failed
        ? []
        : [
            {
              request: {
                url,
                method: 'GET',
                headers: {
                  'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
                  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
                  'Accept-Language': 'en-US;q=0.8,en;q=0.5'
                },
                x_address: answer
              },
              response: { code: 200, headers, headers_list: Object.entries(headers), body: page, body_is_truncated: false, x_body_length: page.length },
              failure: null,
              x_failed_operation: null,
              x_throughput_bps: Math.round(200_000 + rnd() * 1e6),
              t: tsec(0.3 + rnd() * 0.2)
            }
          ],
      http_experiment_failure: failed ? 'generic_timeout_error' : null,
      x_failed_operation: failed ? 'connect' : null,
      control: {
        dns: { addrs: [ip], failure: null },
        tcp_connect: { [`${ip}:443`]: { status: true, failure: null } },
        http_request: { body_length: page.length, failure: null, title: 'Site', headers, status_code: 200 }
      },
      control_failure: null,
      blocking: blocked ? 'dns' : failed ? null : false,
      accessible: blocked ? false : failed ? null : true,
      fingerprints: [],
      verdict_reason: blocked ? 'dns_inconsistent' : null,
      verdict_failure: null
    }
  }
}

/** Options of makeDocs(). */
export interface DocStream {
  /** The next `n` documents, time-uniform over the population's span. */
  take: (n: number) => Array<Record<string, unknown>>
}

/** A stream of documents of the given kind, deterministic for the seed. */
export function docStream(pop: Population, kind: 'small' | 'realistic', seed = 7): DocStream {
  const rnd = prng(seed)
  const make = kind === 'small' ? smallDoc : realisticDoc
  const span = pop.untilMs - pop.sinceMs
  return {
    take(n) {
      const out: Array<Record<string, unknown>> = new Array(n)
      for (let i = 0; i < n; i++) {
        const probe = drawProbe(pop, rnd)
        const domain = pop.domains[Math.floor(rnd() * pop.domains.length)]!
        const t = pop.sinceMs + Math.floor(rnd() * span)
        out[i] = make(probe, domain, t, outcomeOf(pop, probe, domain, t, rnd), rnd)
      }
      return out
    }
  }
}

/** `n` documents from one probe (a probe uploading its backlog), time-uniform over the span. */
export function docsForProbe(pop: Population, probe: Probe, n: number, kind: 'small' | 'realistic', rnd: () => number): Array<Record<string, unknown>> {
  const make = kind === 'small' ? smallDoc : realisticDoc
  const span = pop.untilMs - pop.sinceMs
  const out: Array<Record<string, unknown>> = new Array(n)
  for (let i = 0; i < n; i++) {
    const domain = pop.domains[Math.floor(rnd() * pop.domains.length)]!
    const t = pop.sinceMs + Math.floor(rnd() * span)
    out[i] = make(probe, domain, t, outcomeOf(pop, probe, domain, t, rnd), rnd)
  }
  return out
}
