/**
 * GET /api/v1/measurements/export: every measurement the filters of
 * /api/v1/measurements select, as whole documents, streamed as JSONL,
 * JSONL.gz or Parquet (export/). Only a few exports run at once (each holds
 * a database connection for its length); past that the answer is 429 with
 * Retry-After. See docs/api.md ("Exports").
 */
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { AggError } from '../errors.ts'
import { EXPORT_FORMATS, openExport, type ExportFormat } from '../export/export.ts'
import { loadPseudonymSecret } from '../pseudonym.ts'
import { FILTER_PROPERTIES, parseFilters, type Filters } from '../query/filters.ts'

/** Exports streaming at once, by default (AppOptions.maxExports). */
export const DEFAULT_MAX_EXPORTS = 3

/** What a client that finds every slot taken is told to wait, seconds. */
export const EXPORT_RETRY_AFTER_S = 30

export default async function exportRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const limit = opts.rateLimits?.researcher ?? { max: 300, timeWindow: '1 minute' }
  const slots = opts.maxExports ?? DEFAULT_MAX_EXPORTS
  let running = 0
  let secret: Promise<string> | undefined
  const pseudonymSecret = async (): Promise<string> => {
    if (opts.pseudonymSecret !== undefined) return opts.pseudonymSecret
    secret ??= loadPseudonymSecret(app.db).catch(err => {
      secret = undefined
      throw err
    })
    return await secret
  }

  app.get(
    '/api/v1/measurements/export',
    {
      config: { rateLimit: limit },
      schema: {
        summary: 'Export whole measurement documents (JSONL, JSONL.gz or Parquet)',
        tags: ['researchers'],
        description: `Every measurement the filters select, oldest first, as whole OONI documents (probe_id replaced by its monthly pseudonym, probe_ip 127.0.0.1), streamed. Parquet has typed columns for the envelope and the verdict and the document as JSON. At most ${DEFAULT_MAX_EXPORTS} exports run at once by default; past that, 429 with Retry-After.`,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...FILTER_PROPERTIES,
            format: { type: 'string', enum: Object.keys(EXPORT_FORMATS), description: 'default jsonl' },
            limit: { type: 'integer', minimum: 1, maximum: 100_000_000, description: 'at most this many rows; default all' }
          }
        }
      }
    },
    async (req, reply) => {
      const { format: f, limit: rows, ...filters } = req.query as Filters & { format?: ExportFormat; limit?: number }
      const format = f ?? 'jsonl'
      if (running >= slots) {
        throw new AggError('AGG_ERR_EXPORT_BUSY', 429, `${slots} exports are already running, the most at once; retry in ${EXPORT_RETRY_AFTER_S} s`, { retryAfterS: EXPORT_RETRY_AFTER_S })
      }
      running++
      let held = true
      const release = (): void => {
        if (held) {
          held = false
          running--
        }
      }
      try {
        const stream = await openExport(app.db, { format, filters: parseFilters(filters), limit: rows, secret: await pseudonymSecret() })
        // 'close' follows the end, an error and a client that goes away alike.
        stream.once('close', release)
        stream.on('error', err => {
          req.log.error({ err }, 'export stream failed')
        })
        const { type, filename } = EXPORT_FORMATS[format]
        return await reply.type(type).header('content-disposition', `attachment; filename="${filename}"`).send(stream)
      } catch (err) {
        release()
        throw err
      }
    }
  )
}
