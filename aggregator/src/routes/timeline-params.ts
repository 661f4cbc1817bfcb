/**
 * Query-string parsing shared by the timeline, event, feed and report
 * routes: every bad value gets a 400 whose message names the parameter.
 */
import type { FastifyReply } from 'fastify'
import { parseTimeParam } from '../../../shared/src/time.ts'

/** A bad query parameter; the routes answer 400 with its message. */
export class ParamError extends Error {
  readonly code = 'AGG_ERR_BAD_PARAM'
  readonly statusCode = 400
  constructor (readonly field: string, message: string) {
    super(message)
    this.name = 'ParamError'
  }
}

/** The query string, as fastify hands it over. */
export type Query = Record<string, string | string[] | undefined>

/** One string parameter (the last, when repeated), or undefined. */
export function param (q: Query, name: string): string | undefined {
  const v = q[name]
  const s = Array.isArray(v) ? v[v.length - 1] : v
  return s === undefined || s === '' ? undefined : s
}

/** A country code: two letters, upper-cased. */
export function ccParam (q: Query, name = 'probe_cc', required = false): string | undefined {
  const v = param(q, name)
  if (v === undefined) {
    if (required) throw new ParamError(name, `${name} is required: a two-letter country code such as IR`)
    return undefined
  }
  if (!/^[A-Za-z]{2}$/.test(v)) throw new ParamError(name, `${name} must be a two-letter country code such as IR, got ${JSON.stringify(v.slice(0, 40))}`)
  return v.toUpperCase()
}

/** A parameter matched against a pattern. */
export function patternParam (q: Query, name: string, re: RegExp, example: string): string | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (!re.test(v)) throw new ParamError(name, `${name} must look like ${example}, got ${JSON.stringify(v.slice(0, 60))}`)
  return v
}

/** One of the given values. */
export function enumParam<T extends string> (q: Query, name: string, values: readonly T[], def?: T): T | undefined {
  const v = param(q, name)
  if (v === undefined) return def
  if (!(values as readonly string[]).includes(v)) throw new ParamError(name, `${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`)
  return v as T
}

/** A date or timestamp (2009-05-23, "2009-05-23 10:00:00", ISO 8601). */
export function timeParam (q: Query, name: string): Date | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  const d = parseTimeParam(v)
  if (d === null) throw new ParamError(name, `${name} must be a date (2009-05-23) or a timestamp (2009-05-23T10:00:00Z), got ${JSON.stringify(v.slice(0, 40))}`)
  return d
}

/** A boolean: true or false. */
export function boolParam (q: Query, name: string): boolean | undefined {
  const v = param(q, name)
  if (v === undefined) return undefined
  if (v !== 'true' && v !== 'false') throw new ParamError(name, `${name} must be true or false, got ${JSON.stringify(v.slice(0, 40))}`)
  return v === 'true'
}

/** A whole number within [min, max]. */
export function intParam (q: Query, name: string, def: number, min: number, max: number): number {
  const v = param(q, name)
  if (v === undefined) return def
  const n = Number(v)
  if (!/^\d+$/.test(v) || n < min || n > max) throw new ParamError(name, `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v.slice(0, 40))}`)
  return n
}

/** Domain names as the rollups store them (lower case). */
export const DOMAIN_RE = /^[A-Za-z0-9._:-]{1,253}$/
/** Test names. */
export const TEST_NAME_RE = /^[a-z0-9_]{1,64}$/
/** ASNs ("AS197207"). */
export const ASN_RE = /^AS\d{1,10}$/
/** ISO 3166-2 subdivisions ("IR-23"). */
export const REGION_RE = /^[A-Z]{2}-[A-Z0-9]{1,3}$/

/** Sends a ParamError as 400, or rethrows anything else. */
export async function sendParamError (reply: FastifyReply, err: unknown): Promise<FastifyReply> {
  if (err instanceof ParamError) {
    return await reply.code(400).send({ statusCode: 400, code: err.code, error: 'Bad Request', field: err.field, message: err.message })
  }
  throw err
}

/** Whether the client asked for CSV (format=csv, or an Accept of text/csv without format). */
export function wantsCsv (q: Query, accept: string | undefined): boolean {
  const f = enumParam(q, 'format', ['json', 'csv'] as const)
  if (f !== undefined) return f === 'csv'
  return accept !== undefined && /\btext\/csv\b/.test(accept) && !/application\/json/.test(accept)
}
