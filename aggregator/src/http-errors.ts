/**
 * One error handler for the whole app: every error becomes the one JSON
 * reply shape
 *   {"error": "<message naming the field>", "code": CODE, "message": "<the same>",
 *    "field": "probe_cc", "statusCode": 400, "v": 0}
 * (OONI's `{"error", "v": 0}` plus a stable code), with a 4xx status when the
 * client is to blame, 503 with Retry-After when the database is down, and
 * 500 only for our own bugs. See the code table in docs/api.md.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { AggError, DB_RETRY_AFTER_S, OONI_UNSUPPORTED_PARAMS, isDatabaseDown, unknownParam, unsupportedParam } from './errors.ts'

/** The body of every error reply. */
export interface ErrorBody {
  error: string
  code: string
  message: string
  field?: string
  statusCode: number
  v: 0
}

/** What ajv (with `verbose`) tells about one failed check. */
interface AjvIssue {
  keyword: string
  instancePath?: string
  params?: Record<string, unknown>
  message?: string
  data?: unknown
  parentSchema?: { description?: string; enum?: unknown[]; pattern?: string; minimum?: number; maximum?: number; properties?: Record<string, unknown> }
}

const shown = (v: unknown): string => JSON.stringify(typeof v === 'string' ? v.slice(0, 80) : v)

/** The accepted parameters of the route that failed, for "unknown parameter" messages. */
function acceptedParams(req: FastifyRequest | undefined): string[] {
  const schema = req?.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined
  return Object.keys(schema?.properties ?? {}).sort()
}

/** Turns a schema validation failure into an AggError naming the parameter and what it accepts. */
function validationError(err: FastifyError, req: FastifyRequest | undefined): AggError {
  const v = (err.validation?.[0] ?? { keyword: '' }) as AjvIssue
  const ctx = err.validationContext ?? 'body'
  const isParam = ctx === 'querystring' || ctx === 'params'
  const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.')
  const missing = v.params?.missingProperty as string | undefined
  const extra = v.params?.additionalProperty as string | undefined
  const name = extra ?? missing ?? (path !== '' ? path : undefined)
  const field = isParam ? (name ?? 'query') : name === undefined ? 'body' : `body.${name}`
  const code = isParam ? 'AGG_ERR_BAD_PARAM' : 'AGG_ERR_BAD_REQUEST'
  const ps = v.parentSchema ?? {}
  const hint = ps.description !== undefined ? ` (${ps.description})` : ''
  let what: string
  if (v.keyword === 'additionalProperties' && extra !== undefined) {
    if (isParam && OONI_UNSUPPORTED_PARAMS[extra] !== undefined) {
      return new AggError('AGG_ERR_UNSUPPORTED_PARAM', 400, `${extra}: not supported: ${OONI_UNSUPPORTED_PARAMS[extra]}`, { field: extra })
    }
    const accepted = isParam ? acceptedParams(req) : Object.keys(ps.properties ?? {}).sort()
    return new AggError(
      isParam ? 'AGG_ERR_UNKNOWN_PARAM' : 'AGG_ERR_BAD_REQUEST',
      400,
      `${field}: unknown ${isParam ? 'parameter' : 'field'}; ${accepted.length === 0 ? 'none are accepted here' : `accepted: ${accepted.join(', ')}`}`,
      { field }
    )
  } else if (v.keyword === 'required') {
    what = `is required${hint}`
  } else if (v.keyword === 'enum') {
    what = `must be one of ${(ps.enum ?? []).join(', ')}; got ${shown(v.data)}`
  } else if (v.keyword === 'type' && Array.isArray(v.data)) {
    what = `give it once (it came ${v.data.length} times); lists are comma-separated where the parameter allows them`
  } else if (v.keyword === 'type' && (v.params?.type === 'integer' || v.params?.type === 'number')) {
    what = `must be a whole number${ps.minimum !== undefined ? ` from ${ps.minimum}` : ''}${ps.maximum !== undefined ? ` to ${ps.maximum}` : ''}; got ${shown(v.data)}`
  } else if (v.keyword === 'minimum' || v.keyword === 'maximum') {
    what = `must be from ${ps.minimum ?? '…'} to ${ps.maximum ?? '…'}; got ${shown(v.data)}`
  } else if (v.keyword === 'pattern') {
    what = `${shown(v.data)} is not accepted${ps.description !== undefined ? `; expected ${ps.description}` : ''} (pattern ${ps.pattern ?? ''})`
  } else {
    what = `${v.message ?? err.message}${v.data !== undefined && typeof v.data !== 'object' ? `; got ${shown(v.data)}` : ''}${hint}`
  }
  return new AggError(code, 400, `${field}: ${what}`, { field })
}

const body = (code: string, statusCode: number, message: string, field?: string): ErrorBody => ({ error: message, code, message, ...(field !== undefined ? { field } : {}), statusCode, v: 0 })

/** Maps any error to a reply. Exported for tests. */
export function toErrorBody(err: unknown, req?: FastifyRequest): { body: ErrorBody; retryAfterS?: number } {
  const e0 = err as FastifyError
  if (e0?.validation !== undefined) err = validationError(e0, req)
  if (err instanceof AggError) {
    return { body: body(err.code, err.statusCode, err.message, err.field), retryAfterS: err.retryAfterS }
  }
  const e = err as FastifyError & { code?: string }
  if (isDatabaseDown(err)) {
    return { body: body('AGG_ERR_DB_UNAVAILABLE', 503, 'the database does not answer; retry later'), retryAfterS: DB_RETRY_AFTER_S }
  }
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return { body: body('AGG_ERR_BAD_REQUEST', 400, 'body: not valid gzip data', 'body') }
  }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { body: body('AGG_ERR_BODY_TOO_LARGE', 413, `body: ${e.message}; split the upload into several requests`, 'body') }
  }
  if (e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e?.name === 'SyntaxError') {
    return { body: body('AGG_ERR_BAD_REQUEST', 400, `body: not valid JSON (${e.message})`, 'body') }
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500
  if (status >= 400 && status < 500) {
    const code = status === 429 ? 'AGG_ERR_RATE_LIMITED' : typeof e.code === 'string' ? e.code : 'AGG_ERR_BAD_REQUEST'
    const field = (e as { field?: unknown }).field
    return { body: body(code, status, e.message, typeof field === 'string' ? field : undefined) }
  }
  // A database error about the data itself (SQLSTATE class 22: a value out of
  // range, an invalid text representation) comes from a request's value.
  if (typeof e?.code === 'string' && /^22/.test(e.code)) {
    return { body: body('AGG_ERR_BAD_REQUEST', 400, `a value in the request cannot be used: ${e.message}`) }
  }
  return { body: body('AGG_ERR_INTERNAL', 500, 'internal error; it has been logged') }
}

/**
 * Refuses unknown query parameters before any other check, so that a
 * request with a bad body and an unknown parameter is told about the
 * parameter (fastify validates the body before the query string).
 */
function checkUnknownParams(req: FastifyRequest): void {
  const schema = req.routeOptions.schema?.querystring as { additionalProperties?: unknown; properties?: Record<string, unknown>; patternProperties?: Record<string, unknown> } | undefined
  if (schema?.additionalProperties !== false || req.query === null || typeof req.query !== 'object') return
  const patterns = Object.keys(schema.patternProperties ?? {}).map(p => new RegExp(p))
  for (const name of Object.keys(req.query)) {
    if (schema.properties?.[name] !== undefined || patterns.some(re => re.test(name))) continue
    if (OONI_UNSUPPORTED_PARAMS[name] !== undefined) throw unsupportedParam(name, OONI_UNSUPPORTED_PARAMS[name])
    throw unknownParam(name, acceptedParams(req))
  }
}

/** Installs the error and not-found handlers, the unknown-parameter check, and the request-latency histogram. */
export function installErrorHandler(app: FastifyInstance): void {
  app.addHook('preValidation', async req => {
    checkUnknownParams(req)
  })
  app.setErrorHandler(async (err, req, reply) => {
    const { body, retryAfterS } = toErrorBody(err, req)
    if (body.statusCode >= 500 && body.statusCode !== 503) req.log.error({ err }, 'request failed')
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS))
    // An error replaces whatever a route had set up (a CSV type, a download's Content-Disposition).
    reply.removeHeader('content-disposition')
    return await reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
  })
  app.setNotFoundHandler(async (req, reply) => {
    return await reply.code(404).send(body('AGG_ERR_NOT_FOUND', 404, `no route ${req.method} ${req.url.split('?')[0]}; see /openapi.json`))
  })
  app.addHook('onResponse', async (req, reply) => {
    app.metrics.requestSeconds.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
}
