/**
 * The aggregator's own errors: each has a stable `code`, an HTTP status and,
 * when a field is to blame, its name. app.ts maps every error to a reply in
 * one setErrorHandler, so a client's mistake is never a 500.
 * The codes are listed in docs/api.md.
 */

/** An error a client caused or must know about. */
export class AggError extends Error {
  readonly code: string
  readonly statusCode: number
  /** The request field to blame ("probe_cc", "query.since", "body"), when there is one. */
  readonly field: string | undefined
  /** Seconds before retrying, for 429 and 503. */
  readonly retryAfterS: number | undefined
  constructor(code: string, statusCode: number, message: string, opts: { field?: string; retryAfterS?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'AggError'
    this.code = code
    this.statusCode = statusCode
    this.field = opts.field
    this.retryAfterS = opts.retryAfterS
  }
}

/** A bad body field, or a request that makes no sense as a whole (400). */
export const badRequest = (field: string, message: string): AggError => new AggError('AGG_ERR_BAD_REQUEST', 400, `${field}: ${message}`, { field })

/** A query or path parameter with a malformed value (400); the message names it and what it accepts. */
export const badParam = (param: string, message: string): AggError => new AggError('AGG_ERR_BAD_PARAM', 400, `${param}: ${message}`, { field: param })

/** A query parameter this route does not have (400). */
export const unknownParam = (param: string, accepted: readonly string[]): AggError =>
  new AggError('AGG_ERR_UNKNOWN_PARAM', 400, `${param}: unknown parameter; this route accepts ${accepted.length === 0 ? 'none' : accepted.join(', ')}`, { field: param })

/**
 * Parameters of OONI's API that we do not implement, with what to do
 * instead: refused as "not supported" rather than "unknown", so that a
 * client ported from OONI learns why.
 */
export const OONI_UNSUPPORTED_PARAMS: Readonly<Record<string, string>> = Object.freeze({
  software_version: 'filtering by software version is not supported here',
  test_version: 'filtering by test version is not supported here',
  engine_version: 'filtering by engine version is not supported here',
  ooni_run_link_id: 'OONI Run links are not supported here'
})

/** An OONI parameter that we do not implement (400). */
export const unsupportedParam = (param: string, why: string): AggError => new AggError('AGG_ERR_UNSUPPORTED_PARAM', 400, `${param}: not supported: ${why}`, { field: param })

/** No or an unknown token (401). */
export const unauthorized = (message: string): AggError => new AggError('AGG_ERR_UNAUTHORIZED', 401, message)

/** A token that may not do this (403). */
export const forbidden = (message: string): AggError => new AggError('AGG_ERR_FORBIDDEN', 403, message)

/** Nothing there (404). */
export const notFound = (message: string): AggError => new AggError('AGG_ERR_NOT_FOUND', 404, message)

/**
 * Seconds a client is told to wait when the database does not answer. Short,
 * because a restart takes seconds; the probe's own backoff grows from there.
 */
export const DB_RETRY_AFTER_S = 5

/** The database does not answer (503, retry later). */
export const unavailable = (cause: unknown): AggError => new AggError('AGG_ERR_DB_UNAVAILABLE', 503, 'the database does not answer; retry later', { retryAfterS: DB_RETRY_AFTER_S, cause })

// SQLSTATE classes that mean the database is unreachable or shutting down,
// and node error codes for a refused or dropped connection.
const DB_DOWN_SQLSTATE = /^(08|57P0|53|3D000)/
const DB_DOWN_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'])

/** True when an error from the database driver means the database is down, not that the query is wrong. */
export function isDatabaseDown(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false
  const e = err as { code?: unknown; message?: unknown }
  if (typeof e.code === 'string' && (DB_DOWN_SQLSTATE.test(e.code) || DB_DOWN_ERRNO.has(e.code))) return true
  const msg = typeof e.message === 'string' ? e.message : ''
  return /Connection terminated|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end|PGlite is closed/i.test(msg)
}
