/**
 * web_connectivity (ooni/spec, nettests/ts-017-web-connectivity.md) for
 * http:// and https:// targets: DNS through the system resolver (or
 * --resolver), TCP connect to every address, a TLS handshake with SNI as a
 * step of its own (when every handshake is cut, one more without SNI, then
 * one with another listed name, tell SNI filtering from address
 * filtering: ./sni-followup.ts), then a GET pinned to a measured address following up to
 * 10 redirects, while the control vantage measures the same URL.
 */
import { isIP } from 'node:net'
import { lookup, formatResolver, type DnsQuery } from '../../../shared/src/netx/dns.ts'
import { httpGet, type HttpRequestEntry } from '../../../shared/src/netx/http.ts'
import { endpoint, tcpConnect, type TcpConnectEntry } from '../../../shared/src/netx/tcp.ts'
import { tlsHandshake, type TlsHandshakeEntry } from '../../../shared/src/netx/tls.ts'
import webConnectivity from '../../../shared/src/nettests/web-connectivity.ts'
import { followupKeys, sniFollowup } from './sni-followup.ts'
import type { NettestRunner, TestContext } from './types.ts'

export async function run(ctx: TestContext): Promise<Record<string, unknown>> {
  const url = new URL(ctx.target.url)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const https = url.protocol === 'https:'
  const port = url.port !== '' ? Number(url.port) : https ? 443 : 80
  const { startedAt, timeouts, signal } = ctx

  // DNS.
  let queries: DnsQuery[] = []
  let addrs: string[] = []
  let dnsFailure: string | null = null
  if (isIP(host) !== 0) {
    addrs = [host]
  } else {
    const r = await lookup(host, ctx.resolver, { timeoutMs: timeouts.dnsMs, startedAt, signal, engine: 'system', duplicateWindowMs: 0 })
    queries = r.queries
    addrs = r.addrs
    dnsFailure = r.failure
  }

  // The control measures the same URL from its own network, meanwhile.
  const controlPromise = ctx.control({
    http_request: ctx.target.url,
    http_request_headers: {},
    tcp_connect: addrs.map(a => endpoint(a, port))
  })

  // TCP to every address, then TLS on each connection.
  const tcp: TcpConnectEntry[] = []
  const tls: TlsHandshakeEntry[] = []
  const working: string[] = []
  await Promise.all(
    addrs.map(async ip => {
      const { entry, socket } = await tcpConnect(ip, port, timeouts.connectMs, startedAt, signal)
      tcp.push(entry)
      if (socket === null) return
      if (!https) {
        socket.destroy()
        working.push(ip)
        return
      }
      const hs = await tlsHandshake(socket, endpoint(ip, port), host, timeouts.tlsMs, startedAt, { ca: ctx.ca, signal })
      tls.push(hs.entry)
      hs.tls?.destroy()
      socket.destroy()
      if (hs.tls !== null) working.push(ip)
    })
  )
  const order = (ip: string): number => addrs.indexOf(ip)
  tcp.sort((a, b) => order(a.ip) - order(b.ip))
  working.sort((a, b) => order(a) - order(b))
  // Every handshake cut: was it the name or the address? (./sni-followup.ts)
  const sni = https ? await sniFollowup(ctx, tls) : null

  // HTTP, pinned to an address that worked (IPv4 first).
  let requests: HttpRequestEntry[] = []
  let httpFailure: string | null = null
  let failedOperation: string | null = null
  const ip = working.find(a => isIP(a) === 4) ?? working[0]
  if (ip !== undefined) {
    const r = await httpGet(ctx.target.url, {
      connectTimeoutMs: timeouts.connectMs,
      tlsTimeoutMs: timeouts.tlsMs,
      headersTimeoutMs: timeouts.firstByteMs,
      bodyTimeoutMs: timeouts.bodyMs,
      ca: ctx.ca,
      signal,
      startedAt,
      pinned: new Map([[host, ip]]),
      resolve: async name => await lookup(name, ctx.resolver, { timeoutMs: timeouts.dnsMs, startedAt, signal })
    })
    requests = r.requests
    httpFailure = r.failure
    failedOperation = r.failedOperation
  } else if (addrs.length > 0) {
    // Nothing to send the request over: record the step that failed.
    httpFailure = tls.find(h => h.failure !== null)?.failure ?? tcp.find(c => c.status.failure !== null)?.status.failure ?? null
    failedOperation = tls.length > 0 ? 'tls_handshake' : 'connect'
  }

  const control = await controlPromise
  return {
    client_resolver: formatResolver(ctx.resolver),
    queries,
    dns_experiment_failure: dnsFailure,
    tcp_connect: tcp,
    tls_handshakes: tls,
    ...followupKeys(sni),
    requests,
    http_experiment_failure: httpFailure,
    x_failed_operation: failedOperation,
    control: control.control ?? {},
    control_failure: control.failure
  }
}

/** The runner of webConnectivity's kind (shared/src/nettests/web-connectivity.ts). */
const runner: NettestRunner = { kind: webConnectivity, run }
export default runner
