/**
 * tcp_connect (tcp://host:port targets): resolve, then connect to every
 * address, while the control does the same from its network.
 */
import { formatResolver } from '../../../shared/src/netx/dns.ts'
import { connectAll, closeAll, hostOf, resolveHost } from './steps.ts'
import tcpConnect from '../../../shared/src/nettests/tcp-connect.ts'
import type { NettestRunner, TestContext } from './types.ts'

export async function run(ctx: TestContext): Promise<Record<string, unknown>> {
  const url = new URL(ctx.target.url)
  const host = hostOf(url)
  const port = Number(url.port)
  const controlPromise = ctx.control({ x_input: ctx.target.url })
  const dns = await resolveHost(ctx, host)
  const { tcp, open } = await connectAll(ctx, dns.addrs, port)
  closeAll(open)
  const control = await controlPromise
  return {
    host,
    port,
    client_resolver: formatResolver(ctx.resolver),
    queries: dns.queries,
    dns_experiment_failure: dns.failure,
    tcp_connect: tcp,
    control: control.control ?? {},
    control_failure: control.failure
  }
}

/** The runner of tcpConnect's kind (shared/src/nettests/tcp-connect.ts). */
const runner: NettestRunner = { kind: tcpConnect, run }
export default runner
