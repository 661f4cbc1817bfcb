/**
 * What `probe run` shows while it runs: a progress bar on a terminal, one
 * line per target on a pipe; and the summary table of counts per verdict.
 * The words are the volunteer's language; the verdict labels, test names,
 * inputs and OONI failure strings are values and stay as they are.
 */
import type { Measurement } from '../../shared/src/measurement.ts'
import { displayWidth, inEnglish, type Translate } from './i18n/index.ts'

/** A short label for a measurement's verdict: "ok", "down", "blocked:dns", "unknown". */
export function verdictLabel(m: Measurement): string {
  const tk = (m.test_keys ?? {}) as Record<string, unknown>
  const b = tk.blocking
  if (b === false) return tk.accessible === false ? 'down' : 'ok'
  if (typeof b === 'string') return `blocked:${b}`
  return 'unknown'
}

const ORDER = ['ok', 'down', 'blocked:dns', 'blocked:tcp_ip', 'blocked:tls', 'blocked:http-failure', 'blocked:http-diff', 'unknown']

/** Counts per verdict and per test. */
export class Summary {
  readonly #counts = new Map<string, number>()
  readonly #t: Translate
  #total = 0

  /** `t` says the table's headings (English by default). */
  constructor(t: Translate = inEnglish) {
    this.#t = t
  }

  add(m: Measurement): void {
    const label = verdictLabel(m)
    this.#counts.set(label, (this.#counts.get(label) ?? 0) + 1)
    this.#total++
  }

  get total(): number {
    return this.#total
  }
  count(label: string): number {
    return this.#counts.get(label) ?? 0
  }

  /** The table, one row per verdict seen. */
  table(): string {
    const labels = [...ORDER.filter(l => this.#counts.has(l)), ...[...this.#counts.keys()].filter(l => !ORDER.includes(l))]
    const rows = labels.map(l => [l, String(this.#counts.get(l))])
    const t = this.#t
    rows.push([t('progress.total'), String(this.#total)])
    const [verdict, count] = [t('progress.verdict'), t('progress.count')]
    const w = Math.max(displayWidth(verdict), ...rows.map(r => displayWidth(r[0])))
    const n = Math.max(displayWidth(count), ...rows.map(r => r[1].length))
    const pad = (s: string, width: number): string => ' '.repeat(Math.max(0, width - displayWidth(s)))
    const line = (a: string, b: string): string => `${a}${pad(a, w)}  ${pad(b, n)}${b}\n`
    return '\n' + line(verdict, count) + line('-'.repeat(w), '-'.repeat(n)) + rows.map(([a, b]) => line(a, b)).join('')
  }
}

/** Progress output: a redrawn bar on a TTY, one line per finished target otherwise. */
export class Progress {
  readonly #out: NodeJS.WritableStream
  readonly #tty: boolean
  readonly #t: Translate
  #total: number | null = null
  #done = 0
  #blocked = 0
  #lastDraw = 0

  /** `t` says the bar's words (English by default). */
  constructor(out: NodeJS.WritableStream, tty: boolean, t: Translate = inEnglish) {
    this.#out = out
    this.#tty = tty
    this.#t = t
  }

  setTotal(n: number | null): void {
    this.#total = n
  }

  done(m: Measurement, label: string): void {
    this.#done++
    if (label.startsWith('blocked')) this.#blocked++
    if (!this.#tty) {
      const tk = (m.test_keys ?? {}) as Record<string, unknown>
      const failure = typeof tk.verdict_failure === 'string' ? ` (${tk.verdict_failure})` : ''
      this.#out.write(`${label.padEnd(20)} ${m.test_name.padEnd(16)} ${m.input ?? ''}${failure}\n`)
      return
    }
    const now = Date.now()
    if (now - this.#lastDraw < 100 && this.#done !== this.#total) return
    this.#lastDraw = now
    this.#draw()
  }

  #draw(): void {
    const width = 30
    const total = this.#total
    const bar = total === null || total === 0 ? '' : '[' + '#'.repeat(Math.min(width, Math.round((width * this.#done) / total))).padEnd(width, '.') + '] '
    const done = `${this.#done}${total !== null ? `/${total}` : ''}`
    this.#out.write(`\r${bar}${this.#t('progress.measured', { done, blocked: this.#blocked })}\x1b[K`)
  }

  finish(): void {
    if (this.#tty && this.#done > 0) {
      this.#draw()
      this.#out.write('\n')
    }
  }
}
