/**
 * build(opts): the aggregator's fastify application. It never listens:
 * server.ts does, and tests use inject() or listen on port 0.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Database } from './store/db.ts'

/** What build() needs. Parsed and validated at the edge (server.ts). */
export interface AppOptions {
  db: Database
  /** Base of the links the aggregator writes (next_url, reports). */
  publicUrl: string
  /** Log requests (without client addresses). Default false. */
  logger?: boolean
}

/** Builds the application. The database is opened and migrated by the caller. */
export async function build (opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === true
      ? {
          // Request logs never hold a client's address (docs/privacy.md).
          serializers: { req: (req) => ({ method: req.method, url: req.url }) }
        }
      : false,
    bodyLimit: 10 * 1024 * 1024, // 10 MiB: one ingest batch
    trustProxy: false
  })
  app.decorate('db', opts.db)

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    try {
      await opts.db.query('SELECT 1')
      return { status: 'ok', database: opts.db.kind }
    } catch {
      return await reply.code(503).header('retry-after', '5').send({ status: 'unavailable', error: 'the database does not answer' })
    }
  })
  return app
}

declare module 'fastify' {
  interface FastifyInstance { db: Database }
}
