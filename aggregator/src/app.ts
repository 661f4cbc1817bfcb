/**
 * build(opts): the aggregator's fastify application. It never listens:
 * server.ts does, and tests use inject() or listen on port 0.
 *
 * Each group of routes is a plugin of its own under routes/; this file only
 * assembles them.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import pino from 'pino'
import { prettyStream } from '../../shared/src/log-format.ts'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import type { Database } from './store/db.ts'
import { fingerprintSource, type FingerprintSource } from './fingerprint-source.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { installErrorHandler } from './http-errors.ts'
import { bearerToken, hashToken } from './auth.ts'
import { DASHBOARD_CSP, DOCS_CSP } from './dashboard/layout.ts'
import type { GeoLookup } from './geoip.ts'
import admin from './routes/admin.ts'
import ops from './routes/ops.ts'
import ingest from './routes/ingest.ts'
import type { GroupCommitOptions } from './ingest/group-commit.ts'
import measurements from './routes/measurements.ts'
import exportRoutes from './routes/export.ts'
import probes from './routes/probes.ts'
import control from './routes/control.ts'
import timelines from './routes/timelines.ts'
import dashboard from './routes/dashboard.ts'
import blockpages from './routes/blockpages.ts'
import webhooks from './routes/webhooks.ts'
import jobs from './jobs-plugin.ts'

/** What build() needs. Parsed and validated at the edge (server.ts). */
export interface AppOptions {
  db: Database
  /** Base of the links the aggregator writes (next_url, reports). */
  publicUrl: string
  /** Log requests and errors (without client addresses): true or 'json' for pino JSON lines on stdout; 'pretty' for short readable lines on stderr, without a line per request (`npm start`). Default false. */
  logger?: boolean | 'json' | 'pretty'
  /** CIDR ranges the control vantage may reach despite the SSRF guard (the lab's). Default none. */
  controlAllow?: string[]
  /** Extra CA certificates (PEM) the control vantage trusts. */
  caPem?: string
  /** The admin token (guards target lists and fingerprints). Unset: admin routes refuse everyone. */
  adminToken?: string
  /** Run scheduled jobs (rollups, events) in this instance. Default true. */
  jobs?: boolean
  /** The fingerprint list scoring uses until an admin uploads one. Default: empty. */
  fingerprints?: FingerprintDb
  /** Country/ASN of a connection's address. Default: the offline npm databases (geoip.ts). */
  geoLookup?: GeoLookup
  /**
   * Rate limits per client; `researcher` covers the public read routes,
   * `dashboard` the dashboard's pages (else `default`, else 120 a minute), and
   * `default` (else `researcher`, else 600 a minute) every route without its own.
   */
  rateLimits?: { researcher?: RateLimitRule; ingest?: RateLimitRule; probes?: RateLimitRule; dashboard?: RateLimitRule; default?: RateLimitRule }
  /** The secret behind probe pseudonyms. Default: one shared through the database. */
  pseudonymSecret?: string
  /** Exports (GET /api/v1/measurements/export) streaming at once; more are answered 429. Default 3. */
  maxExports?: number
  /** Slow-client limits. Default {@link DEFAULT_SERVER_LIMITS}. */
  limits?: Partial<ServerLimits>
  /** The clock (ms since the epoch). Default Date.now. */
  now?: () => number
  /** How concurrent uploads are grouped into one transaction (ingest/group-commit.ts). Default GROUP_COMMIT_DEFAULTS. */
  groupCommit?: GroupCommitOptions
}

/** How long and how much a client may take before the server closes its connection. */
export interface ServerLimits {
  /** Idle socket: no byte in either direction for this long. */
  connectionTimeoutMs: number
  /** From connection (or the previous request) to the end of the request headers. */
  headersTimeoutMs: number
  /** The whole request, body included. */
  requestTimeoutMs: number
  /** An idle keep-alive connection between requests. */
  keepAliveTimeoutMs: number
  /** All request headers together; more is answered 431. */
  maxHeaderBytes: number
  /** How often Node checks the header and request timeouts. */
  checkIntervalMs: number
}

/**
 * The defaults. requestTimeoutMs leaves room for a 10 MiB upload at about
 * 40 KiB/s (a probe's bandwidth cap, or Tor); headers have no such excuse.
 */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  connectionTimeoutMs: 120_000,
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 10_000,
  maxHeaderBytes: 16 * 1024,
  checkIntervalMs: 1000
})

/** One rate limit: at most `max` requests per `timeWindow` ("1 minute", or milliseconds). */
export interface RateLimitRule {
  max: number
  timeWindow: string | number
}

/** Builds the application. The database is opened and migrated by the caller. */
export async function build(opts: AppOptions): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...opts.limits }
  // Request logs never hold a client's address (docs/privacy.md).
  const serializers = { req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }) }
  const logging =
    opts.logger === 'pretty'
      ? { loggerInstance: pino({ serializers }, prettyStream(2, process.stderr.isTTY === true)) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) }
      : { logger: opts.logger === true || opts.logger === 'json' ? { serializers } : false }
  const app = Fastify({
    ...logging,
    bodyLimit: 10 * 1024 * 1024, // 10 MiB: one ingest batch
    // Strict parameters (issue 14): an unknown parameter or body field is
    // refused, never silently stripped (fastify's default removeAdditional),
    // and `verbose` lets the error handler name what a parameter accepts.
    // A repeated parameter fails its `string` type instead of being joined.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, verbose: true } },
    trustProxy: false,
    // Slow clients (slowloris, trickled bodies) are cut off within these
    // limits and never hold the server (issue 9, test/faults/slow-clients.test.ts).
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: limits.checkIntervalMs
    }
  })
  app.decorate('db', opts.db)
  app.decorate('appOptions', Object.freeze({ ...opts }))
  app.decorate('fingerprints', fingerprintSource(opts.db, opts.fingerprints))
  app.decorate('metrics', createMetrics(opts.logger !== undefined && opts.logger !== false, opts.db.replica))
  app.decorate('clock', opts.now ?? Date.now)
  installErrorHandler(app)
  // Strict parameters: an API route that declares no query string takes
  // none, so that `?anything` is refused there too (HTML pages, static files
  // and /docs keep theirs: pages ignore tracking parameters).
  app.addHook('onRoute', route => {
    if (!/^\/(api\/|healthz$|readyz$|metrics$|openapi\.json$)/.test(route.url)) return
    const schema = (route.schema ??= {})
    schema.querystring ??= { type: 'object', additionalProperties: false, properties: {} }
  })
  // Every HTML response carries a Content-Security-Policy: the dashboard's,
  // unless its route set its own (the block report, swagger-ui at /docs).
  // Added before any route, so that every plugin's routes inherit it.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (/^text\/html/i.test(String(reply.getHeader('content-type') ?? '')) && !reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', DASHBOARD_CSP)
    }
    return payload
  })
  // Every route is limited per client address; routes that set
  // config.rateLimit (researcher, ingest, probes, control) use their own
  // numbers. A second limiter counts requests that carry a probe token per
  // probe, wherever they come from (issue 9, test/security/rate-limits.test.ts).
  const perClient = opts.rateLimits?.default ?? opts.rateLimits?.researcher ?? { max: 600, timeWindow: '1 minute' }
  await app.register(rateLimit, { global: true, ...perClient })
  await app.register(rateLimit, {
    global: true,
    ...perClient,
    keyGenerator: req => {
      const token = bearerToken(req)
      return token === null ? req.ip : 'probe:' + hashToken(token)
    }
  })
  await app.register(swagger, {
    openapi: {
      info: { title: 'blockwatch aggregator', description: 'Ingest, probe accounts and the researcher API. See docs/api.md.', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP })
  await app.register(ops, opts)
  await app.register(admin, opts)
  await app.register(ingest, opts)
  await app.register(measurements, opts)
  await app.register(exportRoutes, opts)
  await app.register(probes, opts)
  await app.register(control, opts)
  await app.register(timelines, opts)
  await app.register(dashboard, opts)
  await app.register(blockpages, opts)
  await app.register(webhooks, opts)
  await app.register(jobs, opts)
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    appOptions: Readonly<AppOptions>
    fingerprints: FingerprintSource
    metrics: Metrics
    clock: () => number
  }
}
