/**
 * The control vantage as a fastify plugin with its dependencies passed in
 * (resolver, guard ranges, CA, limits), so tests can point it at a loopback
 * resolver. routes/control.ts registers it with the aggregator's options.
 */
import type { FastifyInstance } from 'fastify'
import { rootCertificates } from 'node:tls'
import { canonicalJson } from '../../../shared/src/uid.ts'
import { systemResolver, type ResolverAddress } from '../../../shared/src/netx/dns.ts'
import { DEFAULT_STEP_TIMEOUTS } from '../../../shared/src/netx/timeouts.ts'
import { makeGuard } from './guard.ts'
import { AnswerCache, Limiter, QueueFull } from './limits.ts'
import { controlMeasure, ControlRefused, type ControlContext, type ControlQuery } from './measure.ts'

/** A per-client rate limit (@fastify/rate-limit's route config). */
export interface ControlRateLimit {
  max: number
  timeWindow: string | number
}

/** Options of the control plugin. Every field has a default. */
export interface ControlOptions {
  /** CIDR ranges the control may reach despite the SSRF guard. Default none. */
  controlAllow?: string[]
  /** Extra CA certificates (PEM) to trust beside the system roots. */
  caPem?: string
  /** The resolver. Default: the first nameserver of /etc/resolv.conf, read on first use. */
  resolver?: ResolverAddress
  /** The aggregator's own addresses (refused). Default: every interface's. */
  ownAddresses?: string[]
  /** Default 600 per minute per client. */
  rateLimit?: ControlRateLimit
  /** How long an answer is reused, ms. Default 60000. */
  cacheTtlMs?: number
  /** Measurements at once. Default 32; at most 16 times as many wait, then 503. */
  concurrency?: number
  /** Per-phase timeouts, ms. */
  timeouts?: Partial<ControlContext['timeouts']>
}

/** Defaults, with units. */
export const CONTROL_DEFAULTS = Object.freeze({
  cacheTtlMs: 60_000, // 1 minute: long enough for a run's retries, short enough to follow changes
  cacheEntries: 2000,
  concurrency: 32,
  rateLimit: { max: 600, timeWindow: '1 minute' } as ControlRateLimit,
  timeouts: DEFAULT_STEP_TIMEOUTS // the probe's own (shared/src/netx/timeouts.ts)
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

/** Registers POST /api/v1/control on `app`. */
export async function registerControl(app: FastifyInstance, opts: ControlOptions = {}): Promise<void> {
  const guard = makeGuard(opts.controlAllow ?? [], opts.ownAddresses)
  const ca = opts.caPem !== undefined && opts.caPem !== '' ? [...rootCertificates, opts.caPem] : undefined
  const timeouts = { ...CONTROL_DEFAULTS.timeouts, ...opts.timeouts }
  let resolver: ResolverAddress | null | undefined = opts.resolver
  const cache = new AnswerCache<Record<string, unknown>>(opts.cacheTtlMs ?? CONTROL_DEFAULTS.cacheTtlMs, CONTROL_DEFAULTS.cacheEntries)
  const concurrency = opts.concurrency ?? CONTROL_DEFAULTS.concurrency
  const limiter = new Limiter(concurrency, concurrency * 16)

  app.post(
    '/api/v1/control',
    {
      bodyLimit: 64 * 1024,
      schema: { body: QuerySchema },
      config: { rateLimit: opts.rateLimit ?? CONTROL_DEFAULTS.rateLimit }
    },
    async (req, reply) => {
      const query = req.body as ControlQuery
      resolver ??= systemResolver()
      if (resolver === null) {
        return await reply.code(503).send({ error: 'no_resolver', message: 'the control has no resolver: /etc/resolv.conf lists no nameserver' })
      }
      const ctx: ControlContext = { resolver, guard, ca, timeouts }
      const key = canonicalJson({ http_request: query.http_request ?? null, x_input: query.x_input ?? null, tcp_connect: [...(query.tcp_connect ?? [])].sort() })
      try {
        const { value, hit } = await cache.get(key, async () => await limiter.run(async () => await controlMeasure(query, ctx)))
        void reply.header('x-cache', hit ? 'hit' : 'miss')
        return value
      } catch (err) {
        if (err instanceof ControlRefused) {
          return await reply.code(err.code === 'forbidden_address' ? 403 : 400).send({ error: err.code, message: err.message })
        }
        if (err instanceof QueueFull) return await reply.code(503).header('retry-after', '5').send({ error: 'busy', message: err.message })
        throw err
      }
    }
  )
}
