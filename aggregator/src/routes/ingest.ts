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
import { authenticateProbe, bearerToken, hashToken } from '../auth.ts'
import { AggError } from '../errors.ts'
import { parseBatch } from '../ingest/body.ts'
import { UploadGroups } from '../ingest/group-commit.ts'
import { ingestBatch, prepareBatch } from '../ingest/ingest.ts'
import { recordUpload } from '../store/probes.ts'

/** The largest body accepted, as sent (compressed or not). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024 // 10 MiB
/** The largest body once decompressed. */
export const MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024 // 100 MiB

const tooLarge = (): AggError => new AggError('AGG_ERR_BODY_TOO_LARGE', 413, `body: larger than ${MAX_UPLOAD_BYTES} bytes; split the upload into several requests`, { field: 'body' })

/** Tokens remembered per instance (their hashes, and the probe each belongs to). */
export const TOKEN_CACHE_SIZE = 10_000

export default async function ingestRoutes(app: FastifyInstance, opts: AppOptions): Promise<void> {
  const groups = new UploadGroups(app.db, opts.groupCommit, app.metrics)
  app.addHook('onClose', async () => {
    await groups.close()
  })
  // A token's hash never changes probe (tokens are minted once, never
  // reassigned); only revocation changes what a token may do, and the
  // batch's transaction checks that under a lock (store/probes.ts recordUploads).
  const tokens = new Map<string, string>()
  const remember = (hash: string, probeId: string): void => {
    if (tokens.size >= TOKEN_CACHE_SIZE) tokens.delete(tokens.keys().next().value!)
    tokens.set(hash, probeId)
  }
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
      const token = bearerToken(req)
      const hash = token === null ? null : hashToken(token)
      const cached = hash === null ? undefined : tokens.get(hash)
      // A cached token is checked again inside the batch's transaction
      // (revoked or not), so only a token not seen before costs a lookup here.
      const probeId = cached ?? (await authenticateProbe(app.db, req))
      if (hash !== null && cached === undefined) remember(hash, probeId)
      let items: ReturnType<typeof parseBatch>
      try {
        items = parseBatch(typeof req.body === 'string' ? req.body : '')
      } catch (err) {
        // As without the cache: a revoked token is refused before its body is.
        if (cached !== undefined) await authenticate()
        throw err
      }
      const ctx = { fingerprints: await app.fingerprints.get(), nowMs: app.clock(), probeId }
      if (items.length > groups.maxRows) {
        // A large upload is a batch already: stored on its own, in chunks.
        if (cached !== undefined) await authenticate()
        const result = await ingestBatch(app.db, items, ctx, app.metrics, 'api')
        await recordUpload(app.db, probeId)
        return result
      }
      try {
        return await groups.submit(probeId, prepareBatch(items, ctx, app.metrics, 'api'))
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode
        if (hash !== null && (status === 401 || status === 403)) tokens.delete(hash)
        throw err
      }

      /** The token looked up in the database (401 or 403 when refused), forgotten when refused. */
      async function authenticate(): Promise<void> {
        try {
          await authenticateProbe(app.db, req)
        } catch (err) {
          if (hash !== null) tokens.delete(hash)
          throw err
        }
      }
    }
  )
}
