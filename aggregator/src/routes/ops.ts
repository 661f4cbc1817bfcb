/**
 * Operations: /healthz (the process answers), /readyz (the database
 * answers), /metrics (Prometheus) and /openapi.json (the API description;
 * the docs page is /docs).
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { ping } from '../store/db.ts'
import { AggError } from '../errors.ts'

/** Retry-After of a 503 from /readyz: a load balancer asks again this soon. */
const READYZ_RETRY_AFTER_S = 5

export default async function ops(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))
  // Ready: 200 {status, database}. Not ready: 503 with Retry-After, in the
  // one error body (http-errors.ts) like every other error.
  app.get('/readyz', { schema: { hide: true } }, async () => {
    try {
      await ping(opts.db)
    } catch (err) {
      throw new AggError('AGG_ERR_DB_UNAVAILABLE', 503, 'the database does not answer; retry later', { retryAfterS: READYZ_RETRY_AFTER_S, cause: err })
    }
    return { status: 'ok', database: opts.db.kind }
  })
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const text = await app.metrics.registry.metrics()
    return await reply.type(app.metrics.registry.contentType).send(text)
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
