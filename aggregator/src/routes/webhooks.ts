/**
 * Webhook alerts' admin routes (issue 17; docs/api.md, "Webhooks"): register
 * a receiver with its filters (the secret is shown once), list, delete, and
 * see a webhook's recent deliveries with their status. Every route needs
 * the admin token. The delivery worker is a job (jobs-plugin.ts).
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { requireAdmin } from '../auth.ts'
import { badRequest, notFound } from '../errors.ts'
import { createWebhook, deleteWebhook, getWebhook, listDeliveries, listWebhooks, requeueDelivery, type DeliveryStatus } from '../store/webhooks.ts'
import { CHANGE_TYPES, type ChangeType } from '../webhooks/changes.ts'
import { mintSecret } from '../webhooks/sign.ts'
import { ASN_RE, DOMAIN_RE, normalAsn } from '../query/filters.ts'

const ID = { type: 'object', properties: { id: { type: 'string', pattern: '^wh_[0-9a-f]{16}$' } } }
const LIST = { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 253 } }

/** The body of POST /api/v1/admin/webhooks. */
interface CreateBody {
  url: string
  secret?: string
  probe_cc?: string[]
  probe_asn?: string[]
  domain?: string[]
  types?: ChangeType[]
  description?: string
}

/**
 * A receiver's URL, checked: http or https, a host, no user name or
 * password (they would show in the admin list and in logs; receivers check
 * the signature instead), no fragment.
 */
export function checkWebhookUrl(raw: string): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw badRequest('body.url', `not an absolute URL: ${JSON.stringify(raw.slice(0, 100))}; give one such as https://alerts.example.org/blockwatch`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest('body.url', `scheme ${JSON.stringify(u.protocol.slice(0, 20))} is not allowed; use http: or https:`)
  if (u.username !== '' || u.password !== '')
    throw badRequest('body.url', 'carries a user name or password; remove them (they would show in lists and logs): receivers check the Blockwatch-Signature header instead')
  if (u.hash !== '') throw badRequest('body.url', 'has a #fragment, which is never sent; remove it')
  if (u.hostname === '') throw badRequest('body.url', 'has no host')
  return u.toString()
}

/** Each value of a filter list checked against a pattern, deduplicated; `fix` maps it to its stored form. */
function filterList(name: string, values: string[] | undefined, re: RegExp, example: string, fix: (v: string) => string): string[] {
  const out = new Set<string>()
  for (const v of values ?? []) {
    if (!re.test(v)) throw badRequest(`body.${name}`, `${JSON.stringify(v.slice(0, 60))} is not valid; give values such as ${example}`)
    out.add(fix(v))
  }
  return [...out]
}

export default async function webhookRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.post(
    '/api/v1/admin/webhooks',
    {
      schema: {
        summary: 'Register a webhook for event alerts (admin token); the reply holds its secret, shown only this once',
        tags: ['admin'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: { type: 'string', minLength: 1, maxLength: 2048 },
            secret: { type: 'string', minLength: 16, maxLength: 256, description: 'default: a new random one' },
            probe_cc: { ...LIST, description: 'countries, e.g. ["IR"]; empty: all' },
            probe_asn: { ...LIST, description: 'networks, e.g. ["AS197207"]; empty: all' },
            domain: { ...LIST, description: 'domains, e.g. ["www.facebook.com"]; empty: all (outages have none)' },
            types: { type: 'array', items: { type: 'string', enum: [...CHANGE_TYPES] }, description: 'changes to post; empty: all' },
            description: { type: 'string', maxLength: 500 }
          }
        }
      }
    },
    async (req, reply) => {
      requireAdmin(opts.adminToken, req)
      const b = req.body as CreateBody
      const secret = b.secret ?? mintSecret()
      const hook = await createWebhook(app.db, {
        webhook_id: 'wh_' + randomBytes(8).toString('hex'),
        url: checkWebhookUrl(b.url),
        secret,
        probe_cc: filterList('probe_cc', b.probe_cc, /^[A-Za-z]{2}$/, '"IR"', v => v.toUpperCase()),
        probe_asn: filterList('probe_asn', b.probe_asn, ASN_RE, '"AS197207" or "197207"', normalAsn),
        domain: filterList('domain', b.domain, DOMAIN_RE, '"www.facebook.com"', v => v.toLowerCase()),
        types: [...new Set(b.types ?? [])],
        description: b.description ?? ''
      })
      return await reply.code(201).send({ ...hook, secret })
    }
  )

  app.get(
    '/api/v1/admin/webhooks',
    {
      schema: { summary: 'The registered webhooks, without their secrets (admin token)', tags: ['admin'] }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const results = await listWebhooks(app.db)
      return { metadata: { count: results.length }, results }
    }
  )

  app.get(
    '/api/v1/admin/webhooks/:id',
    {
      schema: { summary: 'One webhook (admin token)', tags: ['admin'], params: ID }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { id } = req.params as { id: string }
      const hook = await getWebhook(app.db, id)
      if (hook === null) throw notFound(`id: no webhook ${id}`)
      return hook
    }
  )

  app.delete(
    '/api/v1/admin/webhooks/:id',
    {
      schema: { summary: 'Delete a webhook and its queued deliveries (admin token)', tags: ['admin'], params: ID }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { id } = req.params as { id: string }
      if (!(await deleteWebhook(app.db, id))) throw notFound(`id: no webhook ${id}`)
      return { webhook_id: id, deleted: true }
    }
  )

  app.get(
    '/api/v1/admin/webhooks/:id/deliveries',
    {
      schema: {
        summary: "A webhook's recent deliveries, newest first, with their status (admin token)",
        tags: ['admin'],
        params: ID,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }
          }
        }
      }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { id } = req.params as { id: string }
      const q = req.query as { status?: DeliveryStatus; limit: number }
      if ((await getWebhook(app.db, id)) === null) throw notFound(`id: no webhook ${id}`)
      const results = await listDeliveries(app.db, id, q.limit, q.status)
      return { metadata: { webhook_id: id, count: results.length, limit: q.limit, ...(q.status !== undefined ? { status: q.status } : {}) }, results }
    }
  )

  app.post(
    '/api/v1/admin/webhooks/:id/deliveries/:delivery_id/retry',
    {
      schema: {
        summary: 'Queue a delivery again now, with its attempts reset (admin token)',
        tags: ['admin'],
        params: { type: 'object', properties: { ...ID.properties, delivery_id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } } }
      }
    },
    async req => {
      requireAdmin(opts.adminToken, req)
      const { id, delivery_id: deliveryId } = req.params as { id: string; delivery_id: string }
      if (!(await requeueDelivery(app.db, id, deliveryId, new Date(app.clock())))) throw notFound(`delivery_id: webhook ${id} has no delivery ${deliveryId}`)
      return { webhook_id: id, delivery_id: deliveryId, status: 'pending' }
    }
  )
}
