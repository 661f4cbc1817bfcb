/**
 * The simulator's web_connectivity documents (aggregator/src/simulate):
 * test_keys as OONI's Web Connectivity writes them (queries, tcp_connect,
 * requests, control, and the verdict keys `blocking` / `accessible` in
 * OONI's vocabulary), for each way a simulated probe's measurement went.
 * Pure: the same input and outcome give the same test_keys.
 */
import { createHash } from 'node:crypto'
import type { SimOutcome } from './kind.ts'

/** The host of a URL, lower-cased, or null. */
function hostOf(input: string): string | null {
  try {
    return (
      new URL(input).hostname
        .replace(/^\[|\]$/g, '')
        .replace(/\.$/, '')
        .toLowerCase() || null
    )
  } catch {
    return null
  }
}

/** A stable fake address for a host (documentation range 203.0.113.0/24 is avoided: fingerprints never list it). */
function siteIp(host: string): string {
  const h = createHash('sha256').update(host).digest()
  return `93.184.${h[0]}.${(h[1] % 250) + 2}`
}

const PAGE = (host: string): string => `<!doctype html><html><head><title>${host}</title></head><body><h1>${host}</h1><p>Welcome.</p></body></html>`
const IR_BLOCKPAGE =
  '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256"><title>M1-6</title></head><body><iframe src="http://10.10.34.34?type=Invalid Site&policy=MainPolicy " style="width: 100%; height: 100%" scrolling="no" marginwidth="0" marginheight="0" frameborder="0" vspace="0" hspace="0"></iframe></body></html>'
const GENERIC_BLOCKPAGE = '<html><head><title>Access denied</title></head><body>This site has been blocked by order of the authorities.</body></html>'

function control(host: string, ip: string, port: number, siteUp: boolean): Record<string, unknown> {
  return {
    dns: { failure: null, addrs: [ip] },
    tcp_connect: { [`${ip}:${port}`]: { status: siteUp, failure: siteUp ? null : 'connection_refused' } },
    http_request: siteUp
      ? { body_length: PAGE(host).length, failure: null, title: host, headers: { 'Content-Type': 'text/html' }, status_code: 200 }
      : { body_length: -1, failure: 'connection_refused', title: '', headers: {}, status_code: -1 }
  }
}

/** The test_keys of one simulated measurement of `input`. */
export function simulatedTestKeys(input: string, outcome: SimOutcome): Record<string, unknown> {
  const host = hostOf(input) ?? 'example.org'
  const https = input.startsWith('https:')
  const port = https ? 443 : 80
  const ip = siteIp(host)
  const page = PAGE(host)
  const query = (answers: string[], failure: string | null): Record<string, unknown> => ({
    hostname: host,
    query_type: 'A',
    engine: 'system',
    resolver_hostname: null,
    failure,
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
  const o = outcome
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
      body_length_match: null,
      body_proportion: null,
      status_code_match: null,
      headers_match: null,
      title_match: null,
      blocking: null,
      accessible: null
    }
  }
  const failedHttp = (failure: string, blocking: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...ok,
    requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: null, failure }],
    http_experiment_failure: failure,
    body_length_match: null,
    body_proportion: null,
    status_code_match: null,
    headers_match: null,
    title_match: null,
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
        body_length_match: false,
        body_proportion: body.length / page.length,
        title_match: false,
        blocking: 'dns',
        accessible: false
      }
    }
    case 'tcp_ip':
      return failedHttp('generic_timeout_error', 'tcp_ip', { tcp_connect: [{ ip, port, status: { success: false, failure: 'generic_timeout_error', blocked: true } }] })
    case 'tls':
      // A reset after the ClientHello: the handshake step fails, as our probe records it.
      return failedHttp('connection_reset', https ? 'tls' : 'http-failure', https ? { tls_handshakes: [{ address: `${ip}:${port}`, server_name: host, failure: 'connection_reset' }] } : {})
    case 'http-failure':
      return failedHttp('connection_reset', 'http-failure')
    case 'http_blockpage': {
      const body = IR_BLOCKPAGE.includes('10.10.34.34') ? IR_BLOCKPAGE : GENERIC_BLOCKPAGE
      return {
        ...ok,
        requests: [{ request: { url: input, method: 'GET', headers: {}, body: '' }, response: { code: 200, headers: { 'Content-Type': 'text/html' }, body }, failure: null }],
        body_length_match: false,
        body_proportion: body.length / page.length,
        status_code_match: true,
        headers_match: true,
        title_match: false,
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
