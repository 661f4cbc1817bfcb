/**
 * POST /api/v1/control: the control vantage. The aggregator runs the
 * probe's DNS, TCP, TLS, HTTP and SMPP steps from its own network and
 * answers in the shape of OONI's test-helper response. No token; rate
 * limited per client; SSRF-guarded (control/guard.ts); answers cached for a
 * short time; concurrency bounded. The plugin lives in control/plugin.ts.
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions, RateLimitRule } from '../app.ts'
import { registerControl } from '../control/plugin.ts'

export default async function controlRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  // The aggregator's rate-limit options may carry a `control` rule beside the others.
  const rateLimit = (opts.rateLimits as { control?: RateLimitRule } | undefined)?.control
  await registerControl(app, {
    controlAllow: opts.controlAllow,
    caPem: opts.caPem,
    ...(rateLimit !== undefined ? { rateLimit } : {})
  })
}
