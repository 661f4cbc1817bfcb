/**
 * One error handler for the whole app: every error becomes a JSON reply
 * `{error: CODE, message, field?}` with a 4xx status when the client is to
 * blame, 503 with Retry-After when the database is down, and 500 only for
 * our own bugs. See the code table in docs/api.md.
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import { AggError, DB_RETRY_AFTER_S, isDatabaseDown } from './errors.ts'

/** The body of every error reply (sent with `code` equal to `error`). */
export interface ErrorBody { error: string, message: string, field?: string, statusCode: number }

function fieldOfValidation (err: FastifyError): string | undefined {
  const v = err.validation?.[0]
  if (v === undefined) return undefined
  const ctx = (err.validationContext ?? 'body').replace('querystring', 'query')
  const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty
  const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.')
  const name = missing ?? (path !== '' ? path : undefined)
  return name === undefined ? ctx : `${ctx}.${name}`
}

/** Maps any error to a reply. Exported for tests. */
export function toErrorBody (err: unknown): { body: ErrorBody, retryAfterS?: number } {
  if (err instanceof AggError) {
    return { body: { error: err.code, message: err.message, statusCode: err.statusCode, ...(err.field !== undefined ? { field: err.field } : {}) }, retryAfterS: err.retryAfterS }
  }
  const e = err as FastifyError & { code?: string }
  if (e?.validation !== undefined) {
    const field = fieldOfValidation(e)
    const msg = `${field ?? 'request'}: ${e.validation[0]?.message ?? e.message}`
    return { body: { error: 'AGG_ERR_BAD_REQUEST', message: msg, statusCode: 400, ...(field !== undefined ? { field } : {}) } }
  }
  if (isDatabaseDown(err)) {
    return { body: { error: 'AGG_ERR_DB_UNAVAILABLE', message: 'the database does not answer; retry later', statusCode: 503 }, retryAfterS: DB_RETRY_AFTER_S }
  }
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return { body: { error: 'AGG_ERR_BAD_REQUEST', message: 'body: not valid gzip data', field: 'body', statusCode: 400 } }
  }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { body: { error: 'AGG_ERR_BODY_TOO_LARGE', message: `body: ${e.message}; split the upload into several requests`, field: 'body', statusCode: 413 } }
  }
  if (e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e?.name === 'SyntaxError') {
    return { body: { error: 'AGG_ERR_BAD_REQUEST', message: `body: not valid JSON (${e.message})`, field: 'body', statusCode: 400 } }
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500
  if (status >= 400 && status < 500) {
    const code = status === 429 ? 'AGG_ERR_RATE_LIMITED' : typeof e.code === 'string' ? e.code : 'AGG_ERR_BAD_REQUEST'
    const field = (e as { field?: unknown }).field
    return { body: { error: code, message: e.message, statusCode: status, ...(typeof field === 'string' ? { field } : {}) } }
  }
  // A database error about the data itself (SQLSTATE class 22: a value out of
  // range, an invalid text representation) comes from a request's value.
  if (typeof e?.code === 'string' && /^22/.test(e.code)) {
    return { body: { error: 'AGG_ERR_BAD_REQUEST', message: `a value in the request cannot be used: ${e.message}`, statusCode: 400 } }
  }
  return { body: { error: 'AGG_ERR_INTERNAL', message: 'internal error; it has been logged', statusCode: 500 } }
}

/** Installs the error and not-found handlers, and the request-latency histogram. */
export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler(async (err, req, reply) => {
    const { body, retryAfterS } = toErrorBody(err)
    // `code` repeats `error`, as the timeline routes' own replies carry it.
    const withCode = { ...body, code: body.error }
    if (body.statusCode >= 500 && body.statusCode !== 503) req.log.error({ err }, 'request failed')
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
    return await reply.code(body.statusCode).type('application/json; charset=utf-8').send(withCode)
  })
  app.setNotFoundHandler(async (req, reply) => {
    return await reply.code(404).send({ error: 'AGG_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json`, statusCode: 404 })
  })
  app.addHook('onResponse', async (req, reply) => {
    app.metrics.requestSeconds.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
}
