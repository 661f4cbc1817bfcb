/**
 * tls_handshake (tls://host:port targets): resolve, connect to every
 * address, and handshake TLS with SNI on each, validating the certificate
 * (when every handshake is cut, the SNI follow-ups: ./sni-followup.ts);
 * the control does the same from its network.
 */
import { formatResolver } from '../../../shared/src/netx/dns.ts'
import { connectAll, closeAll, hostOf, resolveHost } from './steps.ts'
import tlsHandshake from '../../../shared/src/nettests/tls-handshake.ts'
import { followupKeys, sniFollowup } from './sni-followup.ts'
import type { NettestRunner, TestContext } from './types.ts'

export async function run(ctx: TestContext): Promise<Record<string, unknown>> {
  const url = new URL(ctx.target.url)
  const host = hostOf(url)
  const port = Number(url.port)
  const controlPromise = ctx.control({ x_input: ctx.target.url })
  const dns = await resolveHost(ctx, host)
  const { tcp, tls, open } = await connectAll(ctx, dns.addrs, port, host)
  closeAll(open)
  const sni = await sniFollowup(ctx, tls)
  const control = await controlPromise
  return {
    host,
    port,
    server_name: host,
    client_resolver: formatResolver(ctx.resolver),
    queries: dns.queries,
    dns_experiment_failure: dns.failure,
    tcp_connect: tcp,
    tls_handshakes: tls,
    ...followupKeys(sni),
    control: control.control ?? {},
    control_failure: control.failure
  }
}

/** The runner of tlsHandshake's kind (shared/src/nettests/tls-handshake.ts). */
const runner: NettestRunner = { kind: tlsHandshake, run }
export default runner
