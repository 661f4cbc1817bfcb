/**
 * Operations: /healthz (the process answers), /readyz (the database
 * answers), /metrics (Prometheus) and /openapi.json (the API description;
 * the docs page is /docs).
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { ping } from '../store/db.ts'

export default async function ops (app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await ping(opts.db)
      return { status: 'ok', database: opts.db.kind }
    } catch {
      return await reply.code(503).header('retry-after', '5').send({ status: 'unavailable', error: 'the database does not answer' })
    }
  })
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const text = await app.metrics.registry.metrics()
    return await reply.type(app.metrics.registry.contentType).send(text)
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
