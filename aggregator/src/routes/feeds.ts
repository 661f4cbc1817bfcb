/**
 * Routes: GET /api/v1/feeds/events.atom, an Atom feed (RFC 4287) of events
 * with one entry when an event starts and one when it ends. Titles and
 * summaries name countries and networks beside their codes ("Iran (IR)",
 * "AS197207 Mobile Communication Company of Iran PLC"): a feed reader shows
 * them to people, not scripts.
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { queryEvents } from '../store/timeline.ts'
import { atomFeed, feedId } from '../present/feed.ts'
import { DOMAIN_RE, FEED_QUERY, ccParam, enumParam, patternParam, type Query } from '../query/filters.ts'
import { countryLabel } from '../names.ts'

export default async function feedsRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  app.get(
    '/api/v1/feeds/events.atom',
    {
      schema: {
        summary: 'Atom feed: one entry when an event starts, one when it ends',
        tags: ['timelines'],
        querystring: FEED_QUERY
      }
    },
    async (req, reply) => {
      const q = req.query as Query
      const probeCc = ccParam(q)
      const kind = enumParam(q, 'kind', ['blocking', 'outage'] as const)
      const domain = patternParam(q, 'domain', DOMAIN_RE, 'www.facebook.com')?.toLowerCase()
      const events = await queryEvents(opts.db, { probe_cc: probeCc, kind, domain, limit: 100 })
      const self = new URL(opts.publicUrl + '/api/v1/feeds/events.atom')
      if (probeCc !== undefined) self.searchParams.set('probe_cc', probeCc)
      if (kind !== undefined) self.searchParams.set('kind', kind)
      if (domain !== undefined) self.searchParams.set('domain', domain)
      const title = `blockwatch: ${kind ?? 'blocking and outage'} events${domain !== undefined ? ` for ${domain}` : ''}${probeCc !== undefined ? ` in ${countryLabel(probeCc)}` : ''}`
      const id = feedId({ probe_cc: probeCc, kind, domain })
      return await reply.type('application/atom+xml; charset=utf-8').send(atomFeed(events, opts.publicUrl, self.toString(), title, id))
    }
  )
}
