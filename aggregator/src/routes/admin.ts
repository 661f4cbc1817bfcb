/**
 * Target lists and fingerprints. Writing needs the admin token; reading a
 * target list needs a probe's or the admin token. See docs/api.md.
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { loadTargetList, formatTargetListError } from '../../../shared/src/target-list.ts'
import type { AppOptions } from '../app.ts'
import { authenticateProbe, bearerToken, hashToken, requireAdmin } from '../auth.ts'
import { badRequest, notFound } from '../errors.ts'
import { deleteTargetList, getTargetList, putTargetList } from '../store/target-lists.ts'

const NAME = { type: 'object', properties: { name: { type: 'string', pattern: '^(global|[A-Z]{2})$' } } }

export default async function adminRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => {
    done(null, body)
  })

  const probeOrAdmin = async (req: FastifyRequest): Promise<void> => {
    const token = bearerToken(req)
    if (token !== null && opts.adminToken !== undefined && opts.adminToken !== '' && hashToken(token) === hashToken(opts.adminToken)) return
    await authenticateProbe(app.db, req)
  }

  app.put(
    '/api/v1/target-lists/:name',
    {
      schema: { summary: 'Replace a target list (admin token; Citizen Lab CSV body)', tags: ['admin'], params: NAME }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { name } = req.params as { name: string }
      if (typeof req.body !== 'string') throw badRequest('body', 'send the list as text/csv')
      const { targets, errors } = await loadTargetList(req.body, `${name}.csv`)
      if (targets.length === 0) throw badRequest('body', `no usable rows${errors.length > 0 ? ': ' + errors.slice(0, 3).map(formatTargetListError).join('; ') : ''}`)
      const version = 'sha256:' + createHash('sha256').update(req.body).digest('hex').slice(0, 16)
      await putTargetList(app.db, name, req.body, targets.length, version)
      return { name, rows: targets.length, version, errors: errors.map(formatTargetListError) }
    }
  )

  app.get(
    '/api/v1/target-lists/:name',
    {
      schema: { summary: 'A target list as CSV (probe or admin token)', tags: ['probes'], params: NAME }
    },
    async (req, reply) => {
      await probeOrAdmin(req)
      const { name } = req.params as { name: string }
      const list = await getTargetList(app.db, name)
      if (list === undefined) throw notFound(`name: no target list ${JSON.stringify(name)}`)
      return await reply.type('text/csv; charset=utf-8').header('etag', `"${list.version}"`).send(list.csv)
    }
  )

  app.delete(
    '/api/v1/target-lists/:name',
    {
      schema: { summary: 'Delete a target list (admin token)', tags: ['admin'], params: NAME }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { name } = req.params as { name: string }
      if (!(await deleteTargetList(app.db, name))) throw notFound(`name: no target list ${JSON.stringify(name)}`)
      return { name, deleted: true }
    }
  )

  app.put(
    '/api/v1/fingerprints',
    {
      schema: {
        summary: 'Replace the blockpage fingerprint list (admin token); run `blockwatch aggregator rescore` afterwards',
        tags: ['admin'],
        body: { type: 'object', required: ['dns_csv', 'http_csv'], properties: { dns_csv: { type: 'string' }, http_csv: { type: 'string' } } }
      }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const body = req.body as { dns_csv: string; http_csv: string }
      const fp = await app.fingerprints.put(body.dns_csv, body.http_csv)
      return { version: fp.version, dns: fp.dns.size, http: fp.http.length }
    }
  )

  app.get(
    '/api/v1/fingerprints/:file',
    {
      schema: {
        summary: 'The fingerprint list for probes (probe token): fingerprints_dns.csv (dns.csv) or fingerprints_http.csv (http.csv), with an ETag',
        tags: ['probes'],
        params: { type: 'object', properties: { file: { type: 'string', enum: ['dns.csv', 'http.csv'] } }, required: ['file'] }
      }
    },
    async (req, reply) => {
      await authenticateProbe(app.db, req)
      const { file } = req.params as { file: 'dns.csv' | 'http.csv' }
      const list = await app.fingerprints.files()
      reply.header('etag', list.etag).header('x-fingerprints-version', list.version).header('cache-control', 'private, no-cache')
      const inm = req.headers['if-none-match']
      if (
        typeof inm === 'string' &&
        inm
          .split(',')
          .map(s => s.trim())
          .includes(list.etag)
      )
        return await reply.code(304).send()
      return await reply.type('text/csv; charset=utf-8').send(file === 'dns.csv' ? list.dnsCsv : list.httpCsv)
    }
  )

  app.get(
    '/api/v1/fingerprints',
    {
      schema: { summary: 'The fingerprint list in use (admin token)', tags: ['admin'] }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const fp = await app.fingerprints.get()
      return { version: fp.version, dns: fp.dns.size, http: fp.http.length }
    }
  )
}
