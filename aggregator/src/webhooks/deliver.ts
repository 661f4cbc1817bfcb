/**
 * The webhook delivery worker (issue 17; docs/api.md, "Webhooks"). It runs
 * apart from the event job, from the queue in PostgreSQL
 * (webhook_deliveries): a receiver that is down or slow delays only its own
 * deliveries, never an event. Each round claims the due deliveries (leased,
 * so that a delivery whose instance died is posted again), posts them
 * signed, and records each outcome: delivered on a 2xx, else retried with
 * capped exponential backoff and jitter until `maxAttempts`, then failed.
 * At least once: a receiver deduplicates by delivery id.
 */
import { Agent, request, type Dispatcher } from 'undici'
import type { Database } from '../store/db.ts'
import { startJobs } from '../jobs.ts'
import { claimDeliveries, pruneDeliveries, recordAttempt, type AttemptOutcome, type ClaimedDelivery } from '../store/webhooks.ts'
import { HEADERS, signature } from './sign.ts'

/** How the worker posts and retries. */
export interface DeliveryOptions {
  /** Base of the event links in payloads (PUBLIC_URL). */
  publicUrl: string
  /** The clock (ms since the epoch): due times, backoff and signatures' timestamps. */
  clock: () => number
  /** The whole post, connection to last response byte. Default 10 s. */
  timeoutMs: number
  /** Attempts before a delivery is marked failed. Default 20 (about 5 to 10 hours with the delays below). */
  maxAttempts: number
  /** The delay after the first failed attempt; it doubles after each. Default 5 s. */
  baseDelayMs: number
  /** The longest delay between two attempts. Default 1 hour. */
  maxDelayMs: number
  /** Deliveries claimed per round. Default 50. */
  batch: number
  /** Of which at most this many for one webhook, so that one slow receiver cannot fill a round. Default 5. */
  perWebhook: number
  /** Posts in flight at once. Default 16. */
  concurrency: number
  /** How long a claimed delivery is held before another round may post it again. Default 60 s (more than timeoutMs). */
  leaseMs: number
  /** The bytes of a receiver's answer read (kept, shortened, as last_error when it is not a 2xx). Default 4 KiB. */
  responseBytes: number
  /** Delivered deliveries older than this are deleted. Default 30 days. */
  keepDeliveredMs: number
  /** Jitter source in [0, 1). Default Math.random. */
  random: () => number
}

/** The defaults of {@link DeliveryOptions}, but publicUrl and clock. */
export const DELIVERY_DEFAULTS: Readonly<Omit<DeliveryOptions, 'publicUrl' | 'clock'>> = Object.freeze({
  timeoutMs: 10_000,
  maxAttempts: 20,
  baseDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  batch: 50,
  perWebhook: 5,
  concurrency: 16,
  leaseMs: 60_000,
  responseBytes: 4096,
  keepDeliveredMs: 30 * 86_400_000,
  random: Math.random
})

/**
 * The wait after the `attempts`-th failed attempt: baseDelayMs doubled
 * after each attempt, capped at maxDelayMs, then drawn uniformly from its
 * upper half ("equal jitter"), so that deliveries that failed together do
 * not all come back together.
 */
export function retryDelayMs(attempts: number, o: Pick<DeliveryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.max(0, Math.min(attempts - 1, 40)))
  return Math.round(ceiling / 2 + (o.random() * ceiling) / 2)
}

/**
 * The body of a delivery: the same bytes at every attempt. The event's
 * links use the forms the rest of the aggregator writes: its page (the
 * dashboard's share link, /event/{id}) and its JSON (/api/v1/events/{id}).
 */
export function deliveryBody(d: Pick<ClaimedDelivery, 'delivery_id' | 'type' | 'created_at' | 'event' | 'previous_asns'>, publicUrl: string): string {
  const base = publicUrl.replace(/\/+$/, '')
  const id = String(d.event.event_id)
  return JSON.stringify({
    delivery_id: d.delivery_id,
    type: d.type,
    created_at: d.created_at,
    event: {
      ...d.event,
      url: `${base}/event/${encodeURIComponent(id)}`,
      api_url: `${base}/api/v1/events/${id}`
    },
    ...(d.type === 'networks_changed' ? { previous_probe_asns: d.previous_asns ?? [] } : {})
  })
}

/** Reads at most `max` bytes of a response body as text, then drops the rest. */
async function readSome(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const chunk of body) {
    const b = chunk as Buffer
    chunks.push(b.subarray(0, max - n))
    n += Math.min(b.length, max - n)
    if (n >= max) break
  }
  body.destroy()
  return Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim()
}

/** A short description of a failed post, from undici's error codes. */
function describe(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; message?: unknown }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : 'Error'
  return `${code}: ${typeof e?.message === 'string' ? e.message : String(err)}`
}

/**
 * Posts one delivery and says what to record. Redirects are not followed
 * (a 3xx is a failed attempt), the whole post is bounded by timeoutMs, and
 * at most responseBytes of the answer are read.
 */
export async function postDelivery(d: ClaimedDelivery, o: DeliveryOptions, dispatcher: Dispatcher, stop: AbortSignal): Promise<AttemptOutcome> {
  const body = deliveryBody(d, o.publicUrl)
  const timestamp = String(Math.floor(o.clock() / 1000))
  const retryOrFail = (status: number | null, error: string): AttemptOutcome =>
    d.attempts >= o.maxAttempts
      ? { kind: 'failed', status, error: `${error} (attempt ${d.attempts} of ${o.maxAttempts}; no more)` }
      : { kind: 'retry', status, error, at: new Date(o.clock() + retryDelayMs(d.attempts, o)) }
  try {
    const res = await request(d.url, {
      method: 'POST',
      dispatcher,
      signal: AbortSignal.any([stop, AbortSignal.timeout(o.timeoutMs)]),
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'blockwatch-webhooks/1',
        [HEADERS.delivery]: d.delivery_id,
        [HEADERS.event]: d.type,
        [HEADERS.timestamp]: timestamp,
        [HEADERS.signature]: signature(d.secret, timestamp, body)
      },
      body
    })
    const text = await readSome(res.body, o.responseBytes)
    if (res.statusCode >= 200 && res.statusCode < 300) return { kind: 'delivered', status: res.statusCode }
    if (res.statusCode >= 300 && res.statusCode < 400) {
      return retryOrFail(res.statusCode, `HTTP ${res.statusCode}: redirects are not followed; set the webhook's url to the address that answers`)
    }
    return retryOrFail(res.statusCode, `HTTP ${res.statusCode}${text !== '' ? ': ' + text.slice(0, 200) : ''}`)
  } catch (err) {
    if (stop.aborted) return { kind: 'interrupted', error: 'the aggregator stopped during the post', at: new Date(o.clock()) }
    return retryOrFail(null, describe(err))
  }
}

/**
 * One round: claims the due deliveries, posts them (concurrency at a time)
 * and records each outcome. Resolves to the number claimed.
 */
export async function deliverDue(db: Database, o: DeliveryOptions, dispatcher: Dispatcher, stop: AbortSignal): Promise<number> {
  const now = o.clock()
  const claimed = await claimDeliveries(db, new Date(now), new Date(now + o.leaseMs), o.batch, o.perWebhook)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < claimed.length) {
      const d = claimed[next++]
      const outcome = await postDelivery(d, o, dispatcher, stop)
      await recordAttempt(db, d.delivery_id, outcome, new Date(o.clock()))
    }
  }
  await Promise.all(Array.from({ length: Math.min(o.concurrency, claimed.length) }, lane))
  return claimed.length
}

/** The advisory lock of the delivery job ("blk" + 0x77). */
export const WEBHOOKS_JOB_LOCK = 0x626c6b77

/** A running worker. */
export interface WebhookWorker {
  /** Runs rounds now until nothing is due; false when another instance holds the job. */
  runNow: () => Promise<boolean>
  /** Stops the timer and aborts posts in flight (they are due again at once), then waits for the round to end. */
  stop: () => Promise<void>
}

/**
 * Starts the delivery job: every `intervalMs` (1 s), under its advisory lock (one
 * instance delivers at a time), rounds run until nothing is due or 10 s
 * have passed; delivered rows older than keepDeliveredMs are pruned hourly.
 */
export function startWebhookWorker(
  db: Database,
  opts: Pick<DeliveryOptions, 'publicUrl' | 'clock'> & Partial<DeliveryOptions>,
  onError: (err: unknown) => void = () => {},
  intervalMs = 1000
): WebhookWorker {
  const o: DeliveryOptions = { ...DELIVERY_DEFAULTS, ...opts }
  const stopping = new AbortController()
  // Our own pool: no redirects (undici's request follows none), connections
  // to receivers kept apart from any other client in the process.
  const dispatcher = new Agent({ connectTimeout: o.timeoutMs, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs, keepAliveTimeout: 10_000 })
  let prunedAt = -Infinity
  const runner = startJobs(
    db,
    [
      {
        name: 'webhook-deliveries',
        intervalMs,
        lockKey: WEBHOOKS_JOB_LOCK,
        run: async () => {
          const t0 = Date.now()
          while (!stopping.signal.aborted && (await deliverDue(db, o, dispatcher, stopping.signal)) > 0 && Date.now() - t0 < 10_000) {
            /* again */
          }
          if (o.clock() - prunedAt > 3_600_000) {
            prunedAt = o.clock()
            await pruneDeliveries(db, new Date(prunedAt - o.keepDeliveredMs))
          }
        }
      }
    ],
    (_job, err) => {
      onError(err)
    }
  )
  return {
    runNow: async () => await runner.runNow('webhook-deliveries'),
    async stop() {
      stopping.abort()
      await runner.stop()
      await dispatcher.close()
    }
  }
}
