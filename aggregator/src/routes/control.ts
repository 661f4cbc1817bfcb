/**
 * POST /api/v1/control: the control vantage. The aggregator runs the
 * probe's DNS, TCP, TLS, HTTP and SMPP steps from its own network and
 * answers in the shape of OONI's test-helper response. No token; rate
 * limited per client; SSRF-guarded (control/guard.ts); answers cached for a
 * short time; concurrency bounded. See docs/methodology.md.
 */
import type { FastifyInstance } from 'fastify'
import { rootCertificates } from 'node:tls'
import { canonicalJson } from '../../../shared/src/uid.ts'
import { systemResolver, type ResolverAddress } from '../../../probe/src/netx/dns.ts'
import type { AppOptions, RateLimitRule } from '../app.ts'
import { makeGuard } from '../control/guard.ts'
import { AnswerCache, Limiter, QueueFull } from '../control/limits.ts'
import { controlMeasure, ControlRefused, type ControlQuery } from '../control/measure.ts'

/** Defaults, with units. */
export const CONTROL_DEFAULTS = Object.freeze({
  cacheTtlMs: 60_000, // 1 minute: long enough for a probe run's retries, short enough to follow changes
  cacheEntries: 2000,
  concurrency: 32,
  maxQueued: 512,
  rateLimit: { max: 600, timeWindow: '1 minute' } as RateLimitRule,
  timeouts: { dnsMs: 4000, connectMs: 5000, tlsMs: 5000, firstByteMs: 10_000, bodyMs: 15_000, smppMs: 5000 }
})

const QuerySchema = {
  type: 'object',
  properties: {
    http_request: { type: 'string', maxLength: 2048 },
    http_request_headers: { type: 'object' },
    tcp_connect: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 64 },
    x_input: { type: 'string', maxLength: 2048 }
  },
  additionalProperties: true
} as const

export default async function controlRoutes (app: FastifyInstance, opts: AppOptions): Promise<void> {
  const guard = makeGuard(opts.controlAllow ?? [])
  const ca = opts.caPem !== undefined && opts.caPem !== '' ? [...rootCertificates, opts.caPem] : undefined
  let resolver: ResolverAddress | null | undefined
  const cache = new AnswerCache<Record<string, unknown>>(CONTROL_DEFAULTS.cacheTtlMs, CONTROL_DEFAULTS.cacheEntries)
  const limiter = new Limiter(CONTROL_DEFAULTS.concurrency, CONTROL_DEFAULTS.maxQueued)
  // The aggregator's options may carry a `control` rule beside the others.
  const rule = (opts.rateLimits as { control?: RateLimitRule } | undefined)?.control ?? CONTROL_DEFAULTS.rateLimit

  app.post('/api/v1/control', {
    bodyLimit: 64 * 1024,
    schema: { body: QuerySchema },
    config: { rateLimit: rule }
  }, async (req, reply) => {
    const query = req.body as ControlQuery
    resolver ??= systemResolver()
    if (resolver === null) {
      return await reply.code(503).send({ error: 'no_resolver', message: 'the control has no resolver: /etc/resolv.conf lists no nameserver' })
    }
    const r = resolver
    const key = canonicalJson({ http_request: query.http_request, x_input: query.x_input, tcp_connect: [...(query.tcp_connect ?? [])].sort() })
    try {
      const { value, hit } = await cache.get(key, async () => await limiter.run(async () => await controlMeasure(query, { resolver: r, guard, ca, timeouts: CONTROL_DEFAULTS.timeouts })))
      void reply.header('x-cache', hit ? 'hit' : 'miss')
      return value
    } catch (err) {
      if (err instanceof ControlRefused) {
        return await reply.code(err.code === 'forbidden_address' ? 403 : 400).send({ error: err.code, message: err.message })
      }
      if (err instanceof QueueFull) return await reply.code(503).header('retry-after', '5').send({ error: 'busy', message: err.message })
      throw err
    }
  })
}
