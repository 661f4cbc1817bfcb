/**
 * The control vantage's two small guards against overload: an answer cache
 * (a short TTL, bounded size, in-flight requests shared) and a concurrency
 * limit with a bounded queue.
 */

/** Caches answers for `ttlMs`; concurrent identical requests share one measurement. */
export class AnswerCache<T> {
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #now: () => number
  readonly #entries = new Map<string, { at: number; value: Promise<T> }>()

  constructor(ttlMs: number, maxEntries: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs
    this.#maxEntries = maxEntries
    this.#now = now
  }

  /** The cached answer for `key`, or the one `compute` produces (a failed computation is not cached). */
  async get(key: string, compute: () => Promise<T>): Promise<{ value: T; hit: boolean }> {
    const now = this.#now()
    const hit = this.#entries.get(key)
    if (hit !== undefined && now - hit.at < this.#ttlMs) return { value: await hit.value, hit: true }
    const value = compute()
    this.#entries.set(key, { at: now, value })
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
    try {
      return { value: await value, hit: false }
    } catch (err) {
      if (this.#entries.get(key)?.value === value) this.#entries.delete(key)
      throw err
    }
  }

  get size(): number {
    return this.#entries.size
  }
}

/** Thrown when the queue is full: the caller answers 503. */
export class QueueFull extends Error {
  readonly code = 'AGG_ERR_CONTROL_BUSY'
  constructor() {
    super('the control vantage is busy; retry later')
    this.name = 'QueueFull'
  }
}

/** Runs at most `max` tasks at once; at most `maxQueued` wait. */
export class Limiter {
  readonly #max: number
  readonly #maxQueued: number
  #running = 0
  readonly #queue: Array<() => void> = []

  constructor(max: number, maxQueued: number) {
    this.#max = max
    this.#maxQueued = maxQueued
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) {
      if (this.#queue.length >= this.#maxQueued) throw new QueueFull()
      await new Promise<void>(resolve => this.#queue.push(resolve))
    } else {
      this.#running++
    }
    try {
      return await task()
    } finally {
      const next = this.#queue.shift()
      if (next !== undefined) next()
      else this.#running--
    }
  }

  get running(): number {
    return this.#running
  }
}
