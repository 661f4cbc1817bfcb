/**
 * Simulated measurement documents: web_connectivity measurements in OONI's
 * data format (df-000-base, test_keys as OONI's Web Connectivity writes
 * them: queries, tcp_connect, requests, control, and the verdict keys
 * `blocking` / `accessible` in OONI's vocabulary).
 *
 * They carry software_name "blockwatch-simulate": scoring keeps the verdict
 * a document carries for software other than our probe (as OONI's pipeline
 * does) and matches DNS answers and bodies against the blockpage
 * fingerprints, so a national blockpage answer scores as confirmed.
 */
import { createHash } from 'node:crypto'
import { domainOf } from '../../../shared/src/target.ts'
import { DATA_FORMAT_VERSION, SCRUBBED_PROBE_IP, type Measurement } from '../../../shared/src/measurement.ts'
import { formatOoniTime } from '../../../shared/src/time.ts'
import { SOFTWARE_VERSION } from '../../../shared/src/software.ts'
import type { PlanItem, SimProbe } from './generate.ts'
import type { Scenario } from './scenario.ts'

/** The software name of simulated documents. */
export const SIM_SOFTWARE_NAME = 'blockwatch-simulate'

/** A deterministic UUIDv7-shaped uid: the measurement time, then hash bits. */
export function simUid (scenario: string, seed: number, item: PlanItem): string {
  const h = createHash('sha256').update(`${scenario}\0${seed}\0${item.probe}\0${item.target}\0${item.t}`).digest()
  const ms = BigInt(item.t)
  for (let i = 0; i < 6; i++) h[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  h[6] = (h[6] & 0x0f) | 0x70
  h[8] = (h[8] & 0x3f) | 0x80
  const x = h.subarray(0, 16).toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}

/** A stable fake address for a host (documentation range 203.0.113.0/24 is avoided: fingerprints never list it). */
function siteIp (host: string): string {
  const h = createHash('sha256').update(host).digest()
  return `93.184.${h[0]}.${(h[1] % 250) + 2}`
}

const PAGE = (host: string): string => `<!doctype html><html><head><title>${host}</title></head><body><h1>${host}</h1><p>Welcome.</p></body></html>`
const IR_BLOCKPAGE = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256"><title>M1-6</title></head><body><iframe src="http://10.10.34.34?type=Invalid Site&policy=MainPolicy " style="width: 100%; height: 100%" scrolling="no" marginwidth="0" marginheight="0" frameborder="0" vspace="0" hspace="0"></iframe></body></html>'
const GENERIC_BLOCKPAGE = '<html><head><title>Access denied</title></head><body>This site has been blocked by order of the authorities.</body></html>'

function control (host: string, ip: string, port: number, siteUp: boolean): Record<string, unknown> {
  return {
    dns: { failure: null, addrs: [ip] },
    tcp_connect: { [`${ip}:${port}`]: { status: siteUp, failure: siteUp ? null : 'connection_refused' } },
    http_request: siteUp
      ? { body_length: PAGE(host).length, failure: null, title: host, headers: { 'Content-Type': 'text/html' }, status_code: 200 }
      : { body_length: -1, failure: 'connection_refused', title: '', headers: {}, status_code: -1 }
  }
}

/** The test_keys of one planned measurement. */
export function testKeys (input: string, item: PlanItem): Record<string, unknown> {
  const host = domainOf(input) ?? 'example.org'
  const https = input.startsWith('https:')
  const port = https ? 443 : 80
  const ip = siteIp(host)
  const page = PAGE(host)
  const query = (answers: string[], failure: string | null): Record<string, unknown> => ({
    hostname: host, query_type: 'A', engine: 'system', resolver_hostname: null, failure,
    answers: answers.map(a => ({ answer_type: 'A', ipv4: a, ttl: null }))
  })
  const ok = {
    client_resolver: '91.99.101.12',
    queries: [query([ip], null)],
    dns_experiment_failure: null,
    dns_consistency: 'consistent',
    tcp_connect: [{ ip, port, status: { success: true, failure: null, blocked: false } }],
    requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: { code: 200, headers: { 'Content-Type': 'text/html' }, body: page }, failure: null }],
    http_experiment_failure: null,
    control: control(host, ip, port, true),
    control_failure: null,
    body_length_match: true,
    body_proportion: 1,
    status_code_match: true,
    headers_match: true,
    title_match: true,
    blocking: false as string | false | null,
    accessible: true as boolean | null
  }
  const o = item.outcome
  if (o.kind === 'ok') return ok
  if (o.kind === 'outage') {
    return {
      ...ok,
      queries: [query([], 'generic_timeout_error')],
      dns_experiment_failure: 'generic_timeout_error',
      dns_consistency: null,
      tcp_connect: [],
      requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: null, failure: 'generic_timeout_error' }],
      http_experiment_failure: 'generic_timeout_error',
      control: {},
      control_failure: 'generic_timeout_error',
      body_length_match: null, body_proportion: null, status_code_match: null, headers_match: null, title_match: null,
      blocking: null,
      accessible: null
    }
  }
  const failedHttp = (failure: string, blocking: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...ok,
    requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: null, failure }],
    http_experiment_failure: failure,
    body_length_match: null, body_proportion: null, status_code_match: null, headers_match: null, title_match: null,
    blocking,
    accessible: false,
    ...extra
  })
  if (o.kind === 'fp') return failedHttp('generic_timeout_error', 'http-failure')
  switch (o.technique) {
    case 'dns':
      return {
        ...failedHttp('dns_nxdomain_error', 'dns'),
        queries: [query([], 'dns_nxdomain_error')],
        dns_experiment_failure: 'dns_nxdomain_error',
        dns_consistency: 'inconsistent',
        tcp_connect: []
      }
    case 'dns_blockpage': {
      const bp = o.blockpage_ip ?? '10.10.34.36'
      const body = host.endsWith('.ir') ? page : IR_BLOCKPAGE
      return {
        ...ok,
        queries: [query([bp], null)],
        dns_consistency: 'inconsistent',
        tcp_connect: [{ ip: bp, port, status: { success: true, failure: null, blocked: false } }],
        requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: { code: 200, headers: { 'Content-Type': 'text/html' }, body }, failure: null }],
        body_length_match: false, body_proportion: body.length / page.length, title_match: false,
        blocking: 'dns',
        accessible: false
      }
    }
    case 'tcp_ip':
      return failedHttp('generic_timeout_error', 'tcp_ip', { tcp_connect: [{ ip, port, status: { success: false, failure: 'generic_timeout_error', blocked: true } }] })
    case 'tls':
      // A reset after the ClientHello: the handshake step fails, as our probe records it.
      return failedHttp('connection_reset', https ? 'tls' : 'http-failure',
        https ? { tls_handshakes: [{ address: `${ip}:${port}`, server_name: host, failure: 'connection_reset' }] } : {})
    case 'http-failure':
      return failedHttp('connection_reset', 'http-failure')
    case 'http_blockpage': {
      const body = IR_BLOCKPAGE.includes('10.10.34.34') ? IR_BLOCKPAGE : GENERIC_BLOCKPAGE
      return {
        ...ok,
        requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: { code: 200, headers: { 'Content-Type': 'text/html' }, body }, failure: null }],
        body_length_match: false, body_proportion: body.length / page.length, status_code_match: true, headers_match: true, title_match: false,
        blocking: 'http-diff',
        accessible: false
      }
    }
    case 'down':
      return {
        ...failedHttp('connection_refused', 'false'),
        tcp_connect: [{ ip, port, status: { success: false, failure: 'connection_refused', blocked: false } }],
        control: control(host, ip, port, false),
        blocking: false,
        accessible: false
      }
  }
}

/** Builds the document of one planned measurement. */
export function buildDoc (s: Scenario, probe: SimProbe, probeId: string, item: PlanItem): Measurement {
  const { input, category_code: category } = s.targets[item.target]
  const start = formatOoniTime(item.t)
  const day = start.slice(0, 10).replace(/-/g, '')
  const doc: Measurement = {
    data_format_version: DATA_FORMAT_VERSION,
    measurement_uid: simUid(s.name, s.seed ?? 1, item),
    measurement_start_time: start,
    test_start_time: start,
    probe_cc: probe.cc,
    probe_asn: probe.asn,
    probe_network_name: probe.network_name,
    probe_ip: SCRUBBED_PROBE_IP,
    probe_id: probeId,
    report_id: `${day}T000000Z_webconnectivity_${probe.cc}_${probe.asn.slice(2)}_n1_sim${probe.index}`,
    input,
    test_name: 'web_connectivity',
    test_version: '0.5.0',
    test_runtime: 1.2,
    resolver_ip: '91.99.101.12',
    resolver_asn: probe.asn,
    resolver_network_name: probe.network_name,
    software_name: SIM_SOFTWARE_NAME,
    software_version: SOFTWARE_VERSION,
    annotations: { simulated: 'true', scenario: s.name, ...(category !== undefined ? { category_code: category } : {}) },
    test_keys: testKeys(input, item)
  }
  if (probe.region !== null) doc.probe_region = probe.region
  return doc
}
