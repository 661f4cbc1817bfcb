/**
 * POST /api/v1/measurements: a probe uploads a batch (JSON array or NDJSON,
 * gzip accepted, at most 10 MiB as sent). Each measurement is judged on its
 * own; the reply is {accepted, duplicates, rejected: [{index, measurement_uid, error}]}.
 * See docs/api.md.
 */
import { Transform } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../app.ts'
import { authenticateProbe } from '../auth.ts'
import { AggError } from '../errors.ts'
import { parseBatch } from '../ingest/body.ts'
import { ingestBatch } from '../ingest/ingest.ts'
import { recordUpload } from '../store/probes.ts'

/** The largest body accepted, as sent (compressed or not). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024 // 10 MiB
/** The largest body once decompressed. */
export const MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024 // 100 MiB

const tooLarge = (): AggError => new AggError('AGG_ERR_BODY_TOO_LARGE', 413, `body: larger than ${MAX_UPLOAD_BYTES} bytes; split the upload into several requests`, { field: 'body' })

export default async function ingestRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  // This plugin reads its own bodies: JSON arrays and NDJSON alike, as text.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    done(null, body)
  })

  app.post(
    '/api/v1/measurements',
    {
      bodyLimit: MAX_DECOMPRESSED_BYTES,
      config: { rateLimit: opts.rateLimits?.ingest ?? { max: 600, timeWindow: '1 minute' } },
      schema: {
        summary: 'Upload measurements (probe token)',
        tags: ['probes'],
        description: 'A JSON array of measurements or NDJSON, optionally gzip-compressed (Content-Encoding: gzip), at most 10 MiB as sent. Needs a probe token.',
        response: {
          200: {
            type: 'object',
            properties: {
              accepted: { type: 'integer' },
              duplicates: { type: 'integer' },
              rejected: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, measurement_uid: { type: ['string', 'null'] }, error: { type: 'string' } } } }
            }
          }
        }
      },
      preParsing: async (req, _reply, payload) => {
        const declared = Number(req.headers['content-length'])
        if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) throw tooLarge()
        // Count the bytes as sent, whatever the decompressed size.
        let sent = 0
        const counter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sent += chunk.length
            if (sent > MAX_UPLOAD_BYTES) {
              cb(tooLarge())
              return
            }
            cb(null, chunk)
          }
        })
        payload.on('error', err => counter.destroy(err))
        const counted = payload.pipe(counter)
        const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase()
        if (encoding === 'identity') {
          Object.defineProperty(counted, 'receivedEncodedLength', { get: () => sent })
          return counted
        }
        if (encoding !== 'gzip' && encoding !== 'x-gzip') {
          throw new AggError('AGG_ERR_UNSUPPORTED_ENCODING', 415, `content-encoding: ${JSON.stringify(encoding)} is not supported; send gzip or nothing`, { field: 'content-encoding' })
        }
        const gunzip = createGunzip()
        counted.on('error', err => gunzip.destroy(err))
        const out = counted.pipe(gunzip)
        out.on('error', () => {})
        Object.defineProperty(out, 'receivedEncodedLength', { get: () => sent })
        return out
      }
    },
    async req => {
      const probeId = await authenticateProbe(app.db, req)
      const text = typeof req.body === 'string' ? req.body : ''
      const items = parseBatch(text)
      const result = await ingestBatch(
        app.db,
        items,
        {
          fingerprints: await app.fingerprints.get(),
          nowMs: app.clock(),
          probeId
        },
        app.metrics,
        'api'
      )
      await recordUpload(app.db, probeId)
      return result
    }
  )
}
