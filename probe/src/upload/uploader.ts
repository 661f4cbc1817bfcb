/**
 * Upload: sends the outbox to POST /api/v1/measurements in batches (NDJSON,
 * gzip), settles each batch by the aggregator's answer
 * `{accepted, duplicates, rejected: [{index, measurement_uid, error}]}`, and
 * retries failures with exponential backoff and jitter for as long as it
 * takes. A measurement rejected as invalid is quarantined and reported, never
 * retried. A batch is only marked uploaded after the answer arrived, so a
 * lost answer means the batch is sent again; the aggregator deduplicates by
 * measurement_uid, which makes that harmless.
 *
 * An aggregator can have several addresses (fronts, mirrors: one database
 * behind them). A batch goes to the first that answers as the aggregator;
 * one that cannot be reached, or answers with something else (a blockpage,
 * a front whose backend is gone), passes the batch to the next. The address
 * that delivered is kept for the rest of the flush and shown by
 * `probe status`, on the volunteer's machine only.
 */
import { gzipSync } from 'node:zlib'
import type { Outbox, OutboxItem } from '../outbox/outbox.ts'
import { request, NetworkError, type HttpOptions } from './http.ts'

/** The logger subset the uploader writes to (pino fits). */
export interface UploadLogger {
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

/** Where and how to upload. */
export interface UploaderOptions {
  aggregatorUrl: string
  /** Other addresses of the same aggregator, tried in order after aggregatorUrl. */
  mirrors?: readonly string[]
  token: string
  /** The token's probe id: measurements collected before registration get it at upload. */
  probeId?: string | null
  http: HttpOptions
  /** Measurements per request. Default 200. */
  batchSize?: number
  /** Raw bytes per request before gzip. Default 8 MiB (the aggregator takes 10 MB). */
  batchBytes?: number
  /** First retry delay, ms. Default 2000. */
  baseBackoffMs?: number
  /** Longest retry delay, ms. Default 3600000 (1 h). */
  maxBackoffMs?: number
  logger?: UploadLogger
  /** Stops the retry loop. */
  signal?: AbortSignal
  /** Random source in [0, 1) for the jitter. */
  random?: () => number
}

/** What one batch came to. */
export type BatchOutcome =
  | { kind: 'settled'; accepted: number; duplicates: number; rejected: Array<{ uid: string; error: string }> }
  | { kind: 'retry'; error: string; retryAfterMs: number | null /** The aggregator itself answered (its JSON error, or 429): another address would answer the same. */; byAggregator: boolean }
  | { kind: 'too_big'; error: string }

/** Sends one batch to `base` (default: opts.aggregatorUrl) and interprets the answer; never throws for network or HTTP failures. */
export async function sendBatch(items: OutboxItem[], opts: UploaderOptions, base = opts.aggregatorUrl): Promise<BatchOutcome> {
  const withId = (doc: string): string => {
    const id = opts.probeId
    if (id === undefined || id === null || doc.includes(`"probe_id":${JSON.stringify(id)}`)) return doc
    return JSON.stringify({ ...JSON.parse(doc), probe_id: id })
  }
  const body = gzipSync(Buffer.from(items.map(i => withId(i.doc)).join('\n') + '\n'))
  let res
  try {
    res = await request(
      'POST',
      new URL('/api/v1/measurements', base).toString(),
      {
        'content-type': 'application/x-ndjson',
        'content-encoding': 'gzip',
        accept: 'application/json',
        authorization: `Bearer ${opts.token}`
      },
      body,
      opts.signal !== undefined ? { ...opts.http, signal: opts.signal } : opts.http
    )
  } catch (err) {
    if (err instanceof NetworkError) return { kind: 'retry', error: err.message, retryAfterMs: null, byAggregator: false }
    throw err
  }
  if (res.status === 413 || (res.status === 400 && items.length > 1)) return { kind: 'too_big', error: `HTTP ${res.status}: ${res.text.slice(0, 200)}` }
  if (res.status >= 200 && res.status < 300) {
    let json: { accepted?: unknown; duplicates?: unknown; rejected?: unknown }
    try {
      json = JSON.parse(res.text)
    } catch {
      return { kind: 'retry', error: `HTTP ${res.status} with a body that is not JSON (not the aggregator's answer)`, retryAfterMs: null, byAggregator: false }
    }
    if (typeof json.accepted !== 'number' || !Array.isArray(json.rejected))
      return { kind: 'retry', error: `HTTP ${res.status} without {accepted, duplicates, rejected} (not the aggregator's answer)`, retryAfterMs: null, byAggregator: false }
    const rejected: Array<{ uid: string; error: string }> = []
    for (const r of json.rejected as Array<{ index?: unknown; measurement_uid?: unknown; error?: unknown }>) {
      const item = typeof r.index === 'number' ? items[r.index] : items.find(i => i.uid === r.measurement_uid)
      if (item !== undefined) rejected.push({ uid: item.uid, error: typeof r.error === 'string' ? r.error : JSON.stringify(r.error) })
    }
    return { kind: 'settled', accepted: json.accepted, duplicates: typeof json.duplicates === 'number' ? json.duplicates : 0, rejected }
  }
  if (res.status === 400 && items.length === 1) {
    // The one measurement in the batch is what the aggregator refused.
    return { kind: 'settled', accepted: 0, duplicates: 0, rejected: [{ uid: items[0].uid, error: `HTTP 400: ${res.text.slice(0, 500)}` }] }
  }
  const ra = res.headers['retry-after']
  let retryAfterMs: number | null = null
  if (typeof ra === 'string') {
    const s = Number(ra)
    retryAfterMs = Number.isFinite(s) ? s * 1000 : Math.max(0, new Date(ra).getTime() - Date.now())
    if (!Number.isFinite(retryAfterMs)) retryAfterMs = null
  }
  const hint = res.status === 401 || res.status === 403 ? ' (the probe token was refused; run `blockwatch probe init` again if this lasts)' : ''
  return { kind: 'retry', error: `HTTP ${res.status}${hint}: ${res.text.slice(0, 200)}`, retryAfterMs, byAggregator: res.status === 429 || isAggregatorError(res.text) }
}

/** True for the aggregator's own error body ({"code": "AGG_ERR_…", …}; older ones put the code in "error"), as opposed to a front's or a censor's page. */
function isAggregatorError(text: string): boolean {
  try {
    const j = JSON.parse(text) as { error?: unknown; code?: unknown }
    return [j.code, j.error].some(c => typeof c === 'string' && c.startsWith('AGG_ERR_'))
  } catch {
    return false
  }
}

/**
 * Sends a batch through the aggregator's addresses, `first` first and then
 * the others in their order, until one answers as the aggregator. Resolves
 * to the outcome and the address it came from (the last one tried when none
 * answered).
 */
export async function sendThroughRoutes(items: OutboxItem[], opts: UploaderOptions, routes: readonly string[], first: number): Promise<{ outcome: BatchOutcome; route: number }> {
  const order = [first, ...routes.keys()].filter((r, i, all) => all.indexOf(r) === i)
  const errors: string[] = []
  for (const r of order) {
    const outcome = await sendBatch(items, opts, routes[r])
    if (outcome.kind !== 'retry' || outcome.byAggregator || opts.signal?.aborted === true) return { outcome, route: r }
    errors.push(routes.length > 1 ? `${new URL(routes[r]).host}: ${outcome.error}` : outcome.error)
    if (r === order[order.length - 1]) return { outcome: { ...outcome, error: errors.join('; ') }, route: r }
    opts.logger?.warn({ route: routes[r], error: outcome.error }, 'the aggregator is not reachable at this address; trying the next')
  }
  throw new Error('no aggregator address to try')
}

/** The delay before retry number `attempt` (0-based): exponential, capped, with jitter in [d/2, d]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30))
  return Math.round(d / 2 + (random() * d) / 2)
}

/** What a flush did. */
export interface FlushResult {
  /** True when the outbox has nothing pending left. */
  empty: boolean
  uploaded: number
  duplicates: number
  quarantined: number
  /** The last error, when the flush stopped on one. */
  error: string | null
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Uploads everything pending. With `retryForever`, a failure waits (backoff
 * with jitter, at least Retry-After) and tries again until the outbox is empty
 * or the signal aborts; without it, the flush stops at the first failure.
 */
export async function flush(outbox: Outbox, opts: UploaderOptions, retryForever: boolean): Promise<FlushResult> {
  const result: FlushResult = { empty: false, uploaded: 0, duplicates: 0, quarantined: 0, error: null }
  const routes = [...new Set([opts.aggregatorUrl, ...(opts.mirrors ?? [])])]
  let route = 0
  let batchSize = opts.batchSize ?? 200
  let attempt = 0
  while (opts.signal?.aborted !== true) {
    const items = outbox.nextBatch(batchSize, opts.batchBytes ?? 8 * 1024 * 1024)
    if (items.length === 0) {
      // Drained: an earlier upload error no longer holds (`probe status`).
      outbox.clearUploadError()
      result.empty = true
      result.error = null
      return result
    }
    const sent = await sendThroughRoutes(items, opts, routes, route)
    const outcome = sent.outcome
    route = sent.route
    if (outcome.kind === 'settled') {
      outbox.recordRoute(routes[route], opts.http.proxy ?? null)
      const rejectedUids = new Set(outcome.rejected.map(r => r.uid))
      const stored = items.filter(i => !rejectedUids.has(i.uid)).map(i => i.uid)
      outbox.settle(stored, outcome.rejected, outcome.duplicates)
      result.uploaded += outcome.accepted
      result.duplicates += outcome.duplicates
      result.quarantined += outcome.rejected.length
      for (const r of outcome.rejected) opts.logger?.warn({ measurement_uid: r.uid, error: r.error }, 'the aggregator rejected a measurement as invalid; quarantined, not retried')
      opts.logger?.info({ accepted: outcome.accepted, duplicates: outcome.duplicates, rejected: outcome.rejected.length }, 'uploaded a batch')
      attempt = 0
      continue
    }
    if (outcome.kind === 'too_big' && batchSize > 1) {
      batchSize = Math.max(1, Math.floor(items.length / 2))
      continue
    }
    const error = outcome.error
    result.error = error
    outbox.recordError(error)
    if (!retryForever) return result
    const wait = Math.max(backoffMs(attempt, opts.baseBackoffMs ?? 2000, opts.maxBackoffMs ?? 3_600_000, opts.random), outcome.kind === 'retry' ? (outcome.retryAfterMs ?? 0) : 0)
    attempt++
    opts.logger?.warn({ error, retry_in_ms: wait, attempt }, 'upload failed; will retry')
    await sleep(wait, opts.signal)
  }
  return result
}
