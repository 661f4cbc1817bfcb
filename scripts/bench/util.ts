/**
 * Small tools the benchmarks share: statistics over repeated runs, an RSS
 * sampler that reads /proc (so it can watch any process, including one in a
 * lab namespace), timers, child processes that speak one JSON line, and
 * number formatting for docs/benchmarks.md.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** The median of a list (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The p-th percentile (0–100), nearest-rank; NaN when empty. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * s.length))
  return s[Math.min(rank, s.length) - 1]!
}

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

/** Runs fn and resolves to its value and how long it took (ms). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = nowMs()
  const value = await fn()
  return { value, ms: nowMs() - t0 }
}

export const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** A process's resident set and its high-water mark, in bytes, from /proc; null once it is gone. */
export function procMemory(pid: number): { rss: number; hwm: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
  } catch {
    return null
  }
}

/** One RSS reading: seconds since sampling started, bytes. */
export interface RssSample {
  t: number
  rss: number
}

/** Samples a process's RSS every `everyMs` until stopped; `peak` is the kernel's high-water mark (VmHWM). */
export class RssSampler {
  readonly samples: RssSample[] = []
  peak = 0
  readonly #timer: NodeJS.Timeout
  readonly #t0 = nowMs()
  readonly #pid: number

  constructor(pid: number, everyMs = 250) {
    this.#pid = pid
    this.#timer = setInterval(() => {
      this.sample()
    }, everyMs)
    this.#timer.unref()
    this.sample()
  }

  /** Takes one reading now. */
  sample(): void {
    const m = procMemory(this.#pid)
    if (m === null) return
    this.samples.push({ t: (nowMs() - this.#t0) / 1000, rss: m.rss })
    this.peak = Math.max(this.peak, m.hwm, m.rss)
  }

  /** Stops sampling (takes a last reading first). */
  stop(): { peak: number; samples: RssSample[] } {
    this.sample()
    clearInterval(this.#timer)
    return { peak: this.peak, samples: this.samples }
  }
}

/** Reduces RSS samples to `n` evenly spaced ones (for a table). */
export function thin(samples: RssSample[], n: number): RssSample[] {
  if (samples.length <= n) return samples
  const out: RssSample[] = []
  for (let i = 0; i < n; i++) out.push(samples[Math.round((i * (samples.length - 1)) / (n - 1))]!)
  return out
}

/**
 * A child that prints JSON lines on stdout: resolves each line to a message.
 * stderr is passed through, prefixed, so a failure is visible.
 */
export class JsonChild {
  readonly proc: ChildProcess
  readonly #queue: unknown[] = []
  #waiters: Array<(v: unknown) => void> = []
  #exit: Promise<number>

  constructor(argv: string[], opts: SpawnOptions & { label: string }) {
    const { label, ...spawnOpts } = opts
    this.proc = spawn(argv[0]!, argv.slice(1), { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], ...spawnOpts })
    createInterface({ input: this.proc.stdout! }).on('line', line => {
      let msg: unknown
      try {
        msg = JSON.parse(line)
      } catch {
        process.stderr.write(`[${label}] ${line}\n`)
        return
      }
      const w = this.#waiters.shift()
      if (w !== undefined) w(msg)
      else this.#queue.push(msg)
    })
    createInterface({ input: this.proc.stderr! }).on('line', line => {
      process.stderr.write(`[${label}] ${line}\n`)
    })
    this.#exit = new Promise(resolve => {
      this.proc.on('exit', code => {
        resolve(code ?? 1)
        for (const w of this.#waiters) w({ exited: code })
        this.#waiters = []
      })
    })
  }

  get pid(): number {
    return this.proc.pid!
  }

  /** The next JSON line from the child. */
  async next<T = Record<string, unknown>>(): Promise<T> {
    if (this.#queue.length > 0) return this.#queue.shift() as T
    if (this.proc.exitCode !== null) throw new Error(`child exited with ${this.proc.exitCode}`)
    return (await new Promise<unknown>(resolve => {
      this.#waiters.push(resolve)
    })) as T
  }

  /** Sends one JSON line to the child's stdin. */
  send(msg: unknown): void {
    this.proc.stdin!.write(JSON.stringify(msg) + '\n')
  }

  /** Resolves to the exit code. */
  async exited(): Promise<number> {
    return await this.#exit
  }

  /** Asks the child to stop (SIGTERM) and waits. */
  async stop(): Promise<number> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM')
    return await this.#exit
  }
}

/** argv that runs a TypeScript file of this repository with Node and tsx. */
export function tsNode(file: string, args: string[] = [], nodeArgs: string[] = []): string[] {
  return [process.execPath, '--import=tsx', ...nodeArgs, fileURLToPath(new URL(file, import.meta.url)), ...args]
}

/** Formats a number with thousands separators and `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a'
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** Bytes as MB (10^6), one decimal. */
export const mb = (bytes: number): string => fmt(bytes / 1e6, 1)

/** A tiny seeded PRNG (mulberry32), so generated data is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
