/**
 * Group commit of probe uploads (issue 18): the uploads that arrive at one
 * aggregator instance within a few milliseconds of each other, or while
 * the previous batches are still being written, are stored together in one
 * transaction (store/measurements.ts insertUploads) instead of one each.
 * OONI's probes send one measurement a request; each request used to pay a
 * whole transaction (lock, staging table, COPY, the rollup trigger, commit,
 * the probe's last-upload update), about 21 ms of the primary's CPU, where
 * the bulk path pays about 0.4 ms a document (docs/benchmarks.md, 2 and 9).
 *
 * Each request still gets its own answer: its accepted and duplicate
 * counts, its refusals, its 403 when its probe was revoked. A document
 * repeated across the requests of one batch is stored once, for the request
 * that came first, and counted a duplicate for the others, as two requests
 * one after the other would be. When the batch's transaction fails, nothing
 * of it is stored and every request in it is answered with the error (503
 * when the database does not answer), so the probes keep their measurements
 * and upload them again; when the error is about the data (SQLSTATE classes
 * 22 and 23) the requests are written again one by one, so that one bad
 * request cannot fail the others.
 */
import type { Database } from '../store/db.ts'
import { insertUploads } from '../store/measurements.ts'
import { forbidden, unauthorized } from '../errors.ts'
import type { Metrics } from '../metrics.ts'
import { type IngestResult, type PreparedBatch, refuseArchived } from './ingest.ts'

/** How uploads are grouped. */
export interface GroupCommitOptions {
  /** How long the first upload of a batch waits for others. Default 5 ms. */
  windowMs?: number
  /** The most documents in one batch; a batch this full goes at once. Default 500. */
  maxRows?: number
  /**
   * Batches written at once by this instance; more uploads wait and join the
   * next. Default 1: while a batch is written the next one grows, so the
   * busier the database the larger (and cheaper per upload) the batches.
   */
  maxInFlight?: number
}

/** The defaults of {@link GroupCommitOptions}. */
export const GROUP_COMMIT_DEFAULTS: Readonly<Required<GroupCommitOptions>> = Object.freeze({
  windowMs: 5,
  maxRows: 500,
  maxInFlight: 1
})

/** One waiting upload. */
interface Pending {
  probeId: string
  batch: PreparedBatch
  resolve: (r: IngestResult) => void
  reject: (err: unknown) => void
}

/** An error about the data itself (SQLSTATE class 22 or 23), after which each request is written on its own. */
const isDataError = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)
}

/** Gathers one instance's uploads into batches; see the file's comment. */
export class UploadGroups {
  readonly #db: Database
  readonly #metrics: Metrics | undefined
  readonly #opts: Required<GroupCommitOptions>
  #pending: Pending[] = []
  #pendingRows = 0
  #timer: NodeJS.Timeout | undefined
  #inFlight = 0
  readonly #running = new Set<Promise<void>>()

  constructor(db: Database, opts: GroupCommitOptions = {}, metrics?: Metrics) {
    this.#db = db
    this.#metrics = metrics
    this.#opts = { ...GROUP_COMMIT_DEFAULTS, ...opts }
    for (const k of ['windowMs', 'maxRows', 'maxInFlight'] as const) {
      const v = this.#opts[k]
      const min = k === 'windowMs' ? 0 : 1
      if (!Number.isInteger(v) || v < min) throw new RangeError(`group commit: ${k} must be an integer of at least ${min}, got ${v}`)
    }
  }

  /** The most documents a batch holds: a larger upload is stored on its own (the bulk path). */
  get maxRows(): number {
    return this.#opts.maxRows
  }

  /**
   * Stores an authenticated probe's prepared upload with the others that
   * arrive meanwhile; resolves to its own reply, rejects with its own error
   * (403 when the probe was revoked since its token was looked up).
   */
  async submit(probeId: string, batch: PreparedBatch): Promise<IngestResult> {
    return await new Promise<IngestResult>((resolve, reject) => {
      this.#pending.push({ probeId, batch, resolve, reject })
      this.#pendingRows += batch.rows.length
      if (this.#pendingRows >= this.#opts.maxRows) this.#flush()
      else this.#timer ??= setTimeout(() => this.#flush(), this.#opts.windowMs)
    })
  }

  /** Writes what waits and resolves when every batch is done (the app's onClose). */
  async close(): Promise<void> {
    while (this.#pending.length > 0 || this.#running.size > 0) {
      this.#flush()
      await Promise.allSettled([...this.#running])
    }
  }

  /** Starts a batch of what waits, unless maxInFlight batches already run (the first to end starts the next). */
  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#pending.length === 0 || this.#inFlight >= this.#opts.maxInFlight) return
    const group: Pending[] = []
    let rows = 0
    while (this.#pending.length > 0 && (group.length === 0 || rows + this.#pending[0]!.batch.rows.length <= this.#opts.maxRows)) {
      const p = this.#pending.shift()!
      rows += p.batch.rows.length
      group.push(p)
    }
    this.#pendingRows -= rows
    this.#inFlight++
    const run = this.#write(group).finally(() => {
      this.#inFlight--
      this.#running.delete(run)
      // What arrived meanwhile has waited a batch already: it goes at once.
      if (this.#pending.length > 0) this.#flush()
    })
    this.#running.add(run)
  }

  /** Writes one group and answers each of its requests. Never rejects. */
  async #write(group: Pending[]): Promise<void> {
    try {
      const results = await this.#store(group)
      group.forEach((p, i) => {
        const r = results[i]!
        if (r instanceof Error) p.reject(r)
        else p.resolve(r)
      })
    } catch (err) {
      if (group.length > 1 && isDataError(err)) {
        // Written again one by one: only the request at fault fails.
        await Promise.all(group.map(async p => await this.#write([p])))
        return
      }
      for (const p of group) p.reject(err)
    }
  }

  /** One transaction for the group; per request, its reply or its error. */
  async #store(group: Pending[]): Promise<Array<IngestResult | Error>> {
    const batches = group.map(p => p.batch)
    await refuseArchived(this.#db, batches, this.#metrics, 'api')
    const rows = batches.flatMap(b => b.rows)
    const end = rows.length > 0 ? this.#metrics?.batchSeconds.startTimer({ source: 'api' }) : undefined
    const r = await insertUploads(
      this.#db,
      rows,
      group.map(p => p.probeId)
    )
    end?.()
    this.#metrics?.uploadGroup.observe(group.length)
    let at = 0
    return group.map(p => {
      const n = p.batch.rows.length
      const stored = r.stored.slice(at, at + n)
      at += n
      if (r.revoked.has(p.probeId)) return forbidden(`probe ${p.probeId} was revoked; its token is refused`)
      if (!r.active.has(p.probeId)) return unauthorized('unknown probe token; register again with POST /api/v1/probes/register')
      const accepted = stored.filter(Boolean).length
      this.#metrics?.ingested.inc({ source: 'api' }, accepted)
      this.#metrics?.duplicates.inc({ source: 'api' }, n - accepted)
      return { accepted, duplicates: n - accepted, rejected: p.batch.rejected }
    })
  }
}
