/** Operations: /healthz (the process answers) and /readyz (the database answers). */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'

export default async function ops (app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    try {
      await opts.db.query('SELECT 1')
      return { status: 'ok', database: opts.db.kind }
    } catch {
      return await reply.code(503).header('retry-after', '5').send({ status: 'unavailable', error: 'the database does not answer' })
    }
  })
}
