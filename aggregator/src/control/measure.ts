/**
 * The control vantage's measurements: the probe's own steps (shared/src/netx:
 * DNS, TCP, TLS, HTTP, SMPP), run from the aggregator's network under the
 * SSRF guard, answered in the shape of OONI's test-helper response
 * (ooni/spec, backends/th-001-ooni.md):
 *
 *   { dns: {failure, addrs}, tcp_connect: {"ip:port": {status, failure}},
 *     tls_handshake: {"ip:port": {server_name, status, failure}},
 *     http_request: {body_length, failure, title, headers, status_code, x_body_sketch},
 *     ip_info: {ip: {asn, flags}}, smpp?: {bind_replied, failure} }
 */
import { isIP, type Socket } from 'node:net'
import { lookup, type ResolverAddress } from '../../../shared/src/netx/dns.ts'
import { httpGet, type HttpRequestEntry } from '../../../shared/src/netx/http.ts'
import { endpoint, tcpConnect } from '../../../shared/src/netx/tcp.ts'
import { tlsHandshake } from '../../../shared/src/netx/tls.ts'
import { bindRequest, smppAccount, smppExchange, smppOpen } from '../../../shared/src/netx/smpp.ts'
import type { StepTimeouts } from '../../../shared/src/netx/timeouts.ts'
import { isBogon } from '../../../shared/src/verdict/ip.ts'
import { maybeBinary, titleOf } from '../../../shared/src/verdict/read.ts'
import { bodySketch } from '../../../shared/src/verdict/similarity.ts'
import { nettestForScheme, type ControlPlan } from '../../../shared/src/nettests/index.ts'
import { normalizeHost, type Guard } from './guard.ts'

/** What the probe may ask (the OONI test-helper request plus x_input). */
export interface ControlQuery {
  http_request?: string
  http_request_headers?: Record<string, string[]>
  tcp_connect?: string[]
  x_input?: string
}

/** What the measurement needs. Timeouts in ms. */
export interface ControlContext {
  resolver: ResolverAddress
  guard: Guard
  ca: string[] | undefined
  timeouts: StepTimeouts
  signal?: AbortSignal
}

/** A request the control refuses to run (the SSRF guard, or a malformed input). */
export class ControlRefused extends Error {
  readonly code: string
  constructor(code: 'forbidden_address' | 'bad_input', message: string) {
    super(message)
    this.name = 'ControlRefused'
    this.code = code
  }
}

const MAX_ENDPOINTS = 16

interface Parsed {
  plan: ControlPlan
  host: string
  port: number
  url: URL
  httpUrl: string | null
}

function parseQuery(q: ControlQuery): Parsed {
  const input = q.x_input ?? q.http_request
  if (typeof input !== 'string' || input === '') throw new ControlRefused('bad_input', 'give http_request (a URL) or x_input (a target URL)')
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new ControlRefused('bad_input', `${JSON.stringify(input.slice(0, 100))} is not a URL`)
  }
  const host = normalizeHost(url.hostname)
  if (host === '') throw new ControlRefused('bad_input', 'the target has no host')
  // What to measure is the plan the scheme's nettest kind declares (shared/src/nettests).
  const plan = nettestForScheme(url.protocol)?.plan
  if (plan === undefined) throw new ControlRefused('bad_input', `scheme ${url.protocol} is not one the control measures`)
  if (plan.defaultPort === null && url.port === '') throw new ControlRefused('bad_input', `${url.protocol}// targets need a port`)
  const port = url.port !== '' && plan.tcp ? Number(url.port) : (plan.defaultPort ?? 0)
  return { plan, host, port, url, httpUrl: plan.http?.url(input) ?? null }
}

/**
 * Runs the control measurement for a query. Rejects with ControlRefused when
 * the target is a forbidden address or resolves only to forbidden addresses.
 */
export async function controlMeasure(q: ControlQuery, ctx: ControlContext): Promise<Record<string, unknown>> {
  const p = parseQuery(q)
  const startedAt = Date.now()
  const answer: Record<string, unknown> = {}

  // DNS (the system resolver; a literal address resolves to itself).
  let addrs: string[]
  if (isIP(p.host) !== 0) {
    addrs = [p.host]
    answer.dns = { failure: null, addrs }
  } else {
    const r = await lookup(p.host, ctx.resolver, { timeoutMs: ctx.timeouts.dnsMs, signal: ctx.signal, startedAt })
    addrs = r.addrs
    answer.dns = { failure: r.failure, addrs: r.addrs }
  }
  answer.ip_info = Object.fromEntries(addrs.map(ip => [ip, { asn: 0, flags: isBogon(ip) ? 1 : 0 }]))
  if (!p.plan.tcp) return answer

  const allowed = addrs.filter(a => ctx.guard.allows(a))
  if (addrs.length > 0 && allowed.length === 0) {
    throw new ControlRefused('forbidden_address', `the target resolves only to addresses the control must not reach (${ctx.guard.reason(addrs[0])})`)
  }

  // TCP to our own addresses and the probe's (when allowed).
  const probeEndpoints = (q.tcp_connect ?? []).slice(0, MAX_ENDPOINTS)
  const endpoints = new Map<string, { ip: string; port: number }>()
  for (const ip of allowed) endpoints.set(endpoint(ip, p.port), { ip, port: p.port })
  for (const e of probeEndpoints) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(e)
    if (m === null) continue
    const ip = normalizeHost(m[1])
    if (isIP(ip) === 0) continue
    endpoints.set(endpoint(ip, Number(m[2])), { ip, port: Number(m[2]) })
  }
  const tcp: Record<string, { status: boolean; failure: string | null }> = {}
  const tls: Record<string, { server_name: string; status: boolean; failure: string | null }> = {}
  const wantTls = p.plan.tls
  const open: Array<{ ip: string; socket: Socket }> = []
  await Promise.all(
    [...endpoints].map(async ([key, { ip, port }]) => {
      if (!ctx.guard.allows(ip)) {
        tcp[key] = { status: false, failure: 'forbidden_address' }
        return
      }
      const { entry, socket } = await tcpConnect(ip, port, ctx.timeouts.connectMs, startedAt, ctx.signal)
      tcp[key] = { status: entry.status.success, failure: entry.status.failure }
      if (socket === null) return
      if (wantTls && port === p.port) {
        const hs = await tlsHandshake(socket, key, p.host, ctx.timeouts.tlsMs, startedAt, { ca: ctx.ca, signal: ctx.signal, alpn: [] })
        tls[key] = { server_name: p.host, status: hs.tls !== null, failure: hs.entry.failure }
        hs.tls?.destroy()
      }
      if (p.plan.smpp === true && port === p.port && allowed.includes(ip)) open.push({ ip, socket })
      else socket.destroy()
    })
  )
  answer.tcp_connect = tcp
  if (wantTls) answer.tls_handshake = tls

  if (p.plan.smpp === true) {
    const first = open.find(o => o.ip === allowed.find(a => open.some(x => x.ip === a)))
    answer.smpp = first === undefined ? { bind_replied: false, failure: Object.values(tcp)[0]?.failure ?? 'dns_no_answer' } : await smppBind(first.socket, p.url, ctx.timeouts.smppMs)
    for (const o of open) o.socket.destroy()
    return answer
  }
  if (p.plan.http === undefined || p.httpUrl === null) return answer

  // HTTP, pinned to a checked address; every redirect hop is checked too.
  const ip = allowed.find(a => tcp[endpoint(a, p.port)]?.status === true && (!wantTls || tls[endpoint(a, p.port)]?.status === true)) ?? allowed[0]
  if (ip === undefined) {
    answer.http_request = { body_length: -1, failure: (answer.dns as { failure: string | null }).failure ?? 'dns_no_answer', title: '', headers: {}, status_code: -1 }
    return answer
  }
  const r = await httpGet(p.httpUrl, {
    connectTimeoutMs: ctx.timeouts.connectMs,
    tlsTimeoutMs: ctx.timeouts.tlsMs,
    headersTimeoutMs: ctx.timeouts.firstByteMs,
    bodyTimeoutMs: ctx.timeouts.bodyMs,
    maxRedirects: p.plan.http.maxRedirects,
    ca: ctx.ca,
    signal: ctx.signal,
    startedAt,
    pinned: new Map([[p.host, ip]]),
    resolve: async name => await lookup(name, ctx.resolver, { timeoutMs: ctx.timeouts.dnsMs, signal: ctx.signal, startedAt }),
    allowAddress: a => ctx.guard.allows(a)
  })
  const failure = p.plan.http.redirectIsAnswer && r.failure === 'http_too_many_redirects' ? null : r.failure
  answer.http_request = httpSummary(r.requests[0], failure)
  return answer
}

function httpSummary(entry: HttpRequestEntry | undefined, failure: string | null): Record<string, unknown> {
  const res = entry?.response ?? null
  if (res === null || failure !== null) {
    return { body_length: -1, failure: failure ?? entry?.failure ?? 'unknown_failure: no response', title: '', headers: {}, status_code: -1, discovered_h3_endpoint: '' }
  }
  const body = maybeBinary(res.body)
  const sketch = body === null ? null : bodySketch(body)
  return {
    body_length: res.x_body_length,
    failure: null,
    title: titleOf(body),
    headers: res.headers,
    status_code: res.code,
    discovered_h3_endpoint: '',
    // The page's content in a few hundred characters, so that the probe's
    // verdict compares bodies by content, not only by length (issue 15).
    ...(sketch !== null ? { x_body_sketch: sketch } : {})
  }
}

/**
 * Binds to the gateway (the probe's first SMPP step, shared/src/netx/smpp.ts):
 * any reply, even an error status, proves it answered. A successful bind is
 * unbound politely; the session is destroyed shortly after.
 */
async function smppBind(socket: Socket, url: URL, timeoutMs: number): Promise<{ bind_replied: boolean; command_status: number | null; failure: string | null }> {
  const conn = smppOpen(socket)
  try {
    const bind = await smppExchange(conn, 'bind_transceiver', bindRequest(smppAccount(url)), timeoutMs, Date.now())
    if (bind.failure !== null) return { bind_replied: false, command_status: null, failure: bind.failure }
    if (bind.command_status === 0) conn.session.unbind(() => {})
    return { bind_replied: true, command_status: bind.command_status, failure: null }
  } finally {
    setTimeout(() => conn.session.destroy(), 200).unref()
  }
}
