/**
 * Posting a plan to an aggregator through its real API: every simulated
 * probe registers (POST /api/v1/probes/register) and uploads its own
 * measurements (POST /api/v1/measurements, Bearer token), in the order of
 * their upload times, in batches.
 */
import { generate, type Plan, type PlanItem } from './generate.ts'
import { scenarioStartMs, type Scenario } from './scenario.ts'
import { SIM_SOFTWARE_NAME, buildDoc } from './docs.ts'
import { SOFTWARE_VERSION } from '../../../shared/src/software.ts'

/** A registered probe. */
export interface ProbeCredentials {
  probe_id: string
  token: string
}

/** Totals of what the aggregator answered. */
export interface PostResult {
  posted: number
  accepted: number
  duplicates: number
  rejected: number
  firstErrors: string[]
}

/** Options of {@link postPlan}. */
export interface PostOptions {
  /** Measurements per request (default 500). */
  batchSize?: number
  /** Requests in flight (default 4). */
  concurrency?: number
  /** Called after each window of batches with the running totals. */
  onProgress?: (r: PostResult, total: number) => void
}

/** Network errors worth a retry: uploads are idempotent by measurement_uid. */
function transient(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ECONNREFUSED' || code === 'EPIPE'
}

/**
 * fetch() rejects with a bare "fetch failed"; the reason is in its cause.
 * Name the aggregator, the reason and the fix.
 */
function unreachable(url: string, err: unknown): Error {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  const why = cause?.code ?? cause?.message ?? (err as Error).message
  const origin = new URL(url).origin
  const hint = cause?.code === 'ECONNREFUSED' ? 'nothing listens there; is the aggregator running (`npm start`), or is --aggregator wrong?' : 'check --aggregator and that the aggregator is running'
  return new Error(`cannot reach the aggregator at ${origin} (${why}): ${hint}`, { cause: err })
}

async function call(url: string, init: RequestInit): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    let res: Response
    try {
      res = await fetch(url, init)
    } catch (err) {
      if (attempt < 5 && transient(err)) {
        await new Promise(resolve => setTimeout(resolve, 200 * (attempt + 1)))
        continue
      }
      throw unreachable(url, err)
    }
    if (res.status === 429 && attempt < 20) {
      const wait = Number(res.headers.get('retry-after') ?? '1')
      await new Promise(resolve => setTimeout(resolve, Math.min(30, Number.isFinite(wait) ? wait : 1) * 1000))
      continue
    }
    const text = await res.text()
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`)
    return JSON.parse(text)
  }
}

/** Registers every probe of the plan; resolves to their credentials, by probe index. */
export async function registerProbes(aggregator: string, plan: Plan, concurrency = 8): Promise<ProbeCredentials[]> {
  const out: ProbeCredentials[] = new Array(plan.probes.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < plan.probes.length) {
      const i = next++
      out[i] = (await call(`${aggregator}/api/v1/probes/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ software_name: SIM_SOFTWARE_NAME, software_version: SOFTWARE_VERSION, platform: 'simulator' })
      })) as ProbeCredentials
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.probes.length) }, worker))
  return out
}

/**
 * Uploads the given plan items (already in upload order) as their probes
 * would: batches per probe, windows of `batchSize × concurrency` items at a
 * time, so that uploads keep roughly the plan's order.
 */
export async function postPlan(aggregator: string, s: Scenario, plan: Plan, creds: ProbeCredentials[], items: PlanItem[], opts: PostOptions = {}): Promise<PostResult> {
  const batchSize = opts.batchSize ?? 500
  const concurrency = opts.concurrency ?? 4
  const result: PostResult = { posted: 0, accepted: 0, duplicates: 0, rejected: 0, firstErrors: [] }
  const windowSize = batchSize * concurrency
  for (let w = 0; w < items.length; w += windowSize) {
    const byProbe = new Map<number, PlanItem[]>()
    for (const it of items.slice(w, w + windowSize)) {
      const list = byProbe.get(it.probe)
      if (list === undefined) byProbe.set(it.probe, [it])
      else list.push(it)
    }
    const batches: Array<{ probe: number; items: PlanItem[] }> = []
    for (const [probe, list] of byProbe) for (let i = 0; i < list.length; i += batchSize) batches.push({ probe, items: list.slice(i, i + batchSize) })
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const b = batches[next++]
        const c = creds[b.probe]
        const body = b.items.map(it => JSON.stringify(buildDoc(s, plan.probes[b.probe], c.probe_id, it))).join('\n') + '\n'
        const r = (await call(`${aggregator}/api/v1/measurements`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${c.token}` },
          body
        })) as { accepted: number; duplicates: number; rejected: Array<{ error: string }> }
        result.posted += b.items.length
        result.accepted += r.accepted
        result.duplicates += r.duplicates
        result.rejected += r.rejected.length
        for (const x of r.rejected) if (result.firstErrors.length < 5) result.firstErrors.push(x.error)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker))
    opts.onProgress?.(result, items.length)
  }
  return result
}

/**
 * Registers a scenario's probes and posts all of its measurements: what
 * `blockwatch simulate` does, for callers in-process (for example
 * `npm start` populating its own dashboard with the demo:
 * `await simulateScenario(server.url, loadScenario('demo'), Date.now())`).
 */
export async function simulateScenario(aggregator: string, s: Scenario, nowMs: number, opts: PostOptions & { probesPerNetwork?: number } = {}): Promise<PostResult & { plan: Plan }> {
  const plan = generate(s, scenarioStartMs(s, nowMs), { probesPerNetwork: opts.probesPerNetwork })
  const creds = await registerProbes(aggregator, plan)
  return { ...(await postPlan(aggregator, s, plan, creds, plan.items, opts)), plan }
}
