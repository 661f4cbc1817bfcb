/**
 * sms_gateway: the stand-in for SMS, which cannot be tested across the
 * internet, through the gateways that carry it.
 *
 * - smpp://[system_id:password@]host:port: TCP connect, bind_transceiver,
 *   enquire_link, unbind. Any bind reply, even one with an error status,
 *   proves the gateway answered. No submit_sm is ever sent: no SMS leaves.
 * - smsapi+https://host/path (or smsapi+http://): a GET with no credentials
 *   and no message, whose answer (a 401, say) proves the gateway replied.
 */
import { formatResolver, lookup } from '../../../shared/src/netx/dns.ts'
import { httpGet } from '../../../shared/src/netx/http.ts'
import { bindRequest, smppAccount, smppExchange, smppOpen, SMPP_DEFAULT_PORT, type SmppStep } from '../../../shared/src/netx/smpp.ts'
import { connectAll, closeAll, hostOf, resolveHost } from './steps.ts'
import smsGateway from '../../../shared/src/nettests/sms-gateway.ts'
import type { NettestRunner, TestContext } from './types.ts'

export { DEFAULT_SMPP_ACCOUNT } from '../../../shared/src/netx/smpp.ts'

async function runSmpp(ctx: TestContext, url: URL): Promise<Record<string, unknown>> {
  const host = hostOf(url)
  const port = url.port !== '' ? Number(url.port) : SMPP_DEFAULT_PORT
  const account = smppAccount(url)
  const controlPromise = ctx.control({ x_input: ctx.target.url })
  const dns = await resolveHost(ctx, host)
  const { tcp, open } = await connectAll(ctx, dns.addrs, port)
  const steps: Array<SmppStep & { address: string }> = []
  let bindReplied = false
  let failure: string | null = null
  const first = open[0]
  if (first !== undefined) {
    const conn = smppOpen(first.socket)
    const address = `${first.ip}:${port}`
    const bind = await smppExchange(conn, 'bind_transceiver', bindRequest(account), ctx.timeouts.smppMs, ctx.startedAt)
    steps.push({ ...bind, address })
    bindReplied = bind.failure === null
    failure = bind.failure
    if (bindReplied) {
      const enquire = await smppExchange(conn, 'enquire_link', {}, ctx.timeouts.smppMs, ctx.startedAt)
      steps.push({ ...enquire, address })
      if (bind.command_status === 0) steps.push({ ...(await smppExchange(conn, 'unbind', {}, ctx.timeouts.smppMs, ctx.startedAt)), address })
    }
    conn.session.destroy()
  } else if (dns.addrs.length > 0) {
    failure = tcp.find(c => c.status.failure !== null)?.status.failure ?? null
  }
  closeAll(open)
  const control = await controlPromise
  return {
    kind: 'smpp',
    host,
    port,
    client_resolver: formatResolver(ctx.resolver),
    queries: dns.queries,
    dns_experiment_failure: dns.failure,
    tcp_connect: tcp,
    smpp: { system_id: account.system_id, bind_replied: bindReplied, failure, steps },
    control: control.control ?? {},
    control_failure: control.failure
  }
}

async function runHttpApi(ctx: TestContext, _url: URL): Promise<Record<string, unknown>> {
  const httpUrl = ctx.target.url.replace(/^smsapi\+/, '')
  const u = new URL(httpUrl)
  const host = hostOf(u)
  const https = u.protocol === 'https:'
  const port = u.port !== '' ? Number(u.port) : https ? 443 : 80
  const controlPromise = ctx.control({ x_input: ctx.target.url, http_request: httpUrl })
  const dns = await resolveHost(ctx, host)
  const { tcp, tls, open } = await connectAll(ctx, dns.addrs, port, https ? host : undefined)
  closeAll(open)
  let requests: unknown[] = []
  let httpFailure: string | null = null
  const ip = open[0]?.ip
  if (ip !== undefined) {
    const r = await httpGet(httpUrl, {
      connectTimeoutMs: ctx.timeouts.connectMs,
      tlsTimeoutMs: ctx.timeouts.tlsMs,
      headersTimeoutMs: ctx.timeouts.firstByteMs,
      bodyTimeoutMs: ctx.timeouts.bodyMs,
      bodyLimitBytes: 64 * 1024,
      maxRedirects: 0,
      ca: ctx.ca,
      signal: ctx.signal,
      startedAt: ctx.startedAt,
      pinned: new Map([[host, ip]]),
      resolve: async name => await lookup(name, ctx.resolver, { timeoutMs: ctx.timeouts.dnsMs, startedAt: ctx.startedAt, signal: ctx.signal }),
      headers: { accept: 'application/json, */*' }
    })
    requests = r.requests
    // A redirect is an answer too: the gateway replied.
    httpFailure = r.failure === 'http_too_many_redirects' ? null : r.failure
  } else if (dns.addrs.length > 0) {
    httpFailure = tls.find(h => h.failure !== null)?.failure ?? tcp.find(c => c.status.failure !== null)?.status.failure ?? null
  }
  const control = await controlPromise
  return {
    kind: 'http_api',
    host,
    port,
    client_resolver: formatResolver(ctx.resolver),
    queries: dns.queries,
    dns_experiment_failure: dns.failure,
    tcp_connect: tcp,
    tls_handshakes: tls,
    requests,
    http_experiment_failure: httpFailure,
    control: control.control ?? {},
    control_failure: control.failure
  }
}

export async function run(ctx: TestContext): Promise<Record<string, unknown>> {
  const url = new URL(ctx.target.url)
  return url.protocol === 'smpp:' ? await runSmpp(ctx, url) : await runHttpApi(ctx, url)
}

/** The runner of smsGateway's kind (shared/src/nettests/sms-gateway.ts). */
const runner: NettestRunner = { kind: smsGateway, run }
export default runner
