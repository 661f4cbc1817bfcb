/**
 * The dashboard reads its data through the aggregator's own public API
 * (app.inject, no network), so that it shows exactly what researchers get and
 * never duplicates the API's SQL. A route that is missing or fails yields an
 * {@link ApiResult} with ok false and a message, which the pages show in
 * words instead of failing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { query } from './html.ts'

/**
 * The app's API as one viewer of the dashboard reaches it: requests are
 * injected with the viewer's address, so that the researcher API's rate
 * limits count each viewer's page views against that viewer, not all of
 * them against one shared loopback address.
 */
export interface Api {
  get: (url: string, headers: Record<string, string>) => Promise<{ statusCode: number, body: string }>
}

/** The API as seen by the viewer of request `req`. */
export function viewerApi (app: FastifyInstance, req: FastifyRequest): Api {
  return {
    async get (url, headers) {
      const res = await app.inject({ method: 'GET', url, headers, remoteAddress: req.ip })
      return { statusCode: res.statusCode, body: res.body }
    }
  }
}

/** One API answer. */
export type ApiResult<T> =
  | { ok: true, status: number, body: T }
  | { ok: false, status: number, error: string }

/** GETs a JSON route of this app. Parameters that are undefined or empty are left out. */
export async function getJson<T = unknown> (
  api: Api,
  path: string,
  params: Record<string, string | number | undefined | null> = {},
  headers: Record<string, string> = {}
): Promise<ApiResult<T>> {
  const url = path + query(params)
  let res
  try {
    res = await api.get(url, { accept: 'application/json', ...headers })
  } catch (err) {
    return { ok: false, status: 500, error: `${path} failed: ${(err as Error).message}` }
  }
  let body: unknown
  try { body = JSON.parse(res.body) } catch { body = undefined }
  if (res.statusCode >= 200 && res.statusCode < 300 && body !== undefined) return { ok: true, status: res.statusCode, body: body as T }
  const msg = typeof body === 'object' && body !== null && 'message' in body
    ? String((body as { message: unknown }).message)
    : typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error) : `HTTP ${res.statusCode}`
  const missingRoute = res.statusCode === 404 && (body === undefined || /^Route \w+:/.test(msg))
  return { ok: false, status: res.statusCode, error: missingRoute ? `${path} is not available on this aggregator` : msg }
}

/** The list answer shape the researcher API uses ({metadata, results}); a bare array is accepted too. */
export function resultsOf (body: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(body)) return body as Array<Record<string, unknown>>
  if (typeof body === 'object' && body !== null) {
    const b = body as Record<string, unknown>
    for (const k of ['results', 'result', 'events', 'series', 'timelines', 'probes']) {
      if (Array.isArray(b[k])) return b[k] as Array<Record<string, unknown>>
    }
  }
  return []
}

/** Reads a string field, trying several names (the APIs' field names as they land). */
export function str (row: Record<string, unknown> | undefined, ...names: string[]): string | undefined {
  if (row === undefined) return undefined
  for (const n of names) {
    const v = row[n]
    if (typeof v === 'string' && v !== '') return v
    if (typeof v === 'number') return String(v)
  }
  return undefined
}

/** Reads a numeric field, trying several names. */
export function num (row: Record<string, unknown> | undefined, ...names: string[]): number | undefined {
  if (row === undefined) return undefined
  for (const n of names) {
    const v = row[n]
    if (typeof v === 'number' && Number.isFinite(v)) return v
    if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) return Number(v)
  }
  return undefined
}

/** Reads an array-of-strings field (ASNs, regions, fingerprints), trying several names. */
export function strList (row: Record<string, unknown> | undefined, ...names: string[]): string[] {
  if (row === undefined) return []
  for (const n of names) {
    const v = row[n]
    if (Array.isArray(v)) {
      return v.map(x => typeof x === 'string' || typeof x === 'number'
        ? String(x)
        : (typeof x === 'object' && x !== null ? String((x as Record<string, unknown>).name ?? (x as Record<string, unknown>).asn ?? JSON.stringify(x)) : String(x)))
    }
  }
  return []
}
