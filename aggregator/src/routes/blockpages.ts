/**
 * Blockpage discovery's admin routes (issue 15, Deliver 2; docs/api.md,
 * "Blockpage candidates"): the candidates with their evidence, a discovery
 * run on demand, and the promotion of a candidate to a fingerprint. Every
 * route needs the admin token. The job runs hourly in instances with jobs.
 */
import type { FastifyInstance } from 'fastify'
import { DISCOVERY_RULE } from '../../../shared/src/blockpage-discovery.ts'
import type { AppOptions } from '../app.ts'
import { requireAdmin } from '../auth.ts'
import { discoverBlockpages, promoteCandidate, PROMOTE_SCOPES, type PromoteRequest } from '../blockpages/discover.ts'
import { listCandidates } from '../store/candidates.ts'

const ID = { type: 'object', properties: { id: { type: 'string', pattern: '^bp-[0-9a-f]{12}$' } } }

export default async function blockpageRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get(
    '/api/v1/admin/blockpage-candidates',
    {
      schema: { summary: 'Candidate blockpages found by discovery, with their evidence (admin token)', tags: ['admin'] }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const rows = await listCandidates(app.db)
      return {
        metadata: { count: rows.length, computed_at: rows[0]?.computed_at ?? null, rule: DISCOVERY_RULE },
        results: rows.map(({ member_uids: _m, ...r }) => r)
      }
    }
  )

  app.post(
    '/api/v1/admin/blockpage-candidates/discover',
    {
      schema: { summary: 'Run blockpage discovery now (admin token)', tags: ['admin'] }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const found = await discoverBlockpages(app.db, app.clock())
      return { candidates: found.length }
    }
  )

  app.post(
    '/api/v1/admin/blockpage-candidates/:id/promote',
    {
      schema: {
        summary: 'Promote a candidate blockpage to a fingerprint and rescore history (admin token)',
        tags: ['admin'],
        params: ID,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            scope: { type: 'string', enum: [...PROMOTE_SCOPES] },
            pattern: { type: 'string', minLength: 4, maxLength: 500 },
            name: { type: 'string' },
            rescore: { type: 'boolean' }
          }
        }
      }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { id } = req.params as { id: string }
      return await promoteCandidate(app.db, app.fingerprints, id, (req.body ?? {}) as PromoteRequest, app.clock())
    }
  )
}
