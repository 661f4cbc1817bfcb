/**
 * dns_consistency (dns://name targets): the same name through the system
 * resolver (UDP, listening for a short window after the first reply so
 * that an injected duplicate is caught) and through a list of resolvers
 * (UDP, TCP, DoH), compared with the control's answer.
 */
import { lookup, queryDoh, queryTcp, queryUdp, formatResolver, type DnsQuery } from '../../../shared/src/netx/dns.ts'
import { hostOf } from './steps.ts'
import dnsConsistency from '../../../shared/src/nettests/dns-consistency.ts'
import type { NettestRunner, TestContext } from './types.ts'

export async function run(ctx: TestContext): Promise<Record<string, unknown>> {
  const name = hostOf(new URL(ctx.target.url))
  const opts = { timeoutMs: ctx.timeouts.dnsMs, startedAt: ctx.startedAt, signal: ctx.signal }
  const controlPromise = ctx.control({ x_input: ctx.target.url })
  const [system, ...others] = await Promise.all([
    lookup(name, ctx.resolver, { ...opts, engine: 'system', duplicateWindowMs: ctx.duplicateWindowMs }),
    ...ctx.resolvers.map(async (r): Promise<DnsQuery> => {
      if (r.kind === 'doh') return await queryDoh(name, 'A', r.url, { ...opts, ca: ctx.ca })
      if (r.kind === 'tcp') return await queryTcp(name, 'A', r.address, opts)
      return await queryUdp(name, 'A', r.address, opts)
    })
  ])
  const control = await controlPromise
  const queries = [...system.queries, ...(others as DnsQuery[])]
  return {
    hostname: name,
    client_resolver: formatResolver(ctx.resolver),
    queries,
    dns_experiment_failure: system.failure,
    injection_detected: system.queries.some(q => (q.x_duplicate_replies?.length ?? 0) > 0),
    control: control.control ?? {},
    control_failure: control.failure
  }
}

/** The runner of dnsConsistency's kind (shared/src/nettests/dns-consistency.ts). */
const runner: NettestRunner = { kind: dnsConsistency, run }
export default runner
