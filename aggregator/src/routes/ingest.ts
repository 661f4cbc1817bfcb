/** Routes: ingest (placeholder until its issue lands). */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'

export default async function ingestRoutes (_app: FastifyInstance, _opts: AppOptions): Promise<void> {}
