/**
 * docs/benchmarks.md, written from the last result of each benchmark
 * (scripts/bench/results.json), so that running one benchmark again keeps
 * the others' sections.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import type { BenchResult } from './context.ts'
import { REPO } from './util.ts'
import { MISSES } from './misses.ts'

export const RESULTS_FILE = join(REPO, 'scripts/bench/results.json')
export const DOC_FILE = join(REPO, 'docs/benchmarks.md')

/** The machine a result was measured on. */
export interface Machine {
  cpus: number
  cpu_model: string
  mem_gib: number
  node: string
  loadavg_at_start: number[]
}

export function machine(): Machine {
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    mem_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavg_at_start: loadavg().map(x => Math.round(x * 10) / 10)
  }
}

interface Stored {
  machine: Machine
  results: Record<string, BenchResult & { machine: Machine }>
}

export function loadResults(): Stored {
  if (!existsSync(RESULTS_FILE)) return { machine: machine(), results: {} }
  return JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Stored
}

export function saveResult(r: BenchResult, m: Machine): void {
  const s = loadResults()
  s.results[r.name] = { ...r, machine: m }
  s.machine = m
  writeFileSync(RESULTS_FILE, JSON.stringify(s, null, 1) + '\n')
}

const SECTIONS: Array<{ name: string; title: string }> = [
  { name: 'probe', title: '1. Probe throughput in the lab' },
  { name: 'ingest', title: '2. Ingest throughput' },
  { name: 'timelines', title: '3. Timelines at scale' },
  { name: 'events', title: '4. Event detection' },
  { name: 'edges', title: '6. Event edges' },
  { name: 'export', title: '7. Exports of whole documents' },
  { name: 'load', title: "9. Load test at OONI's rate (issue 18)" },
  { name: 'startup', title: '10. Command start-up (issue 16)' }
]

/** The heading line under which a result's section is written: when and on what it was measured. */
function measuredLine(r: BenchResult & { machine: Machine }): string {
  const m = r.machine
  return `_Measured ${r.at.slice(0, 16).replace('T', ' ')} UTC at BENCH_SCALE=${r.scale}, in ${Math.round(r.seconds)} s, on ${m.cpus} × ${m.cpu_model}, ${m.mem_gib} GiB, Node ${m.node}; load average at start ${m.loadavg_at_start.join(' / ')}._`
}

/**
 * Rewrites one benchmark's section of docs/benchmarks.md in place (or adds
 * it before "## Targets"), leaving every other section as it is: the
 * hand-written ones (deduplication, the test suite) are not in results.json,
 * and writeDoc() would drop them. A section's hand-written "**What this
 * says**" part is kept (the load test's analysis).
 */
export function writeSection(name: string): void {
  const sec = SECTIONS.find(x => x.name === name)
  const r = loadResults().results[name]
  if (sec === undefined || r === undefined) throw new Error(`no section or result named ${name}`)
  const doc = existsSync(DOC_FILE) ? readFileSync(DOC_FILE, 'utf8') : ''
  const start = doc.indexOf(`## ${sec.title}\n`)
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + 3)
    // A hand-written analysis ("**What this says**", up to "Reproduce:") stays, above the new figures' Reproduce line.
    const note = /\n(\*\*What this says\*\*[\s\S]*?\n)\n?(?=Reproduce:|$)/.exec(doc.slice(start, next >= 0 ? next : doc.length))?.[1]
    const markdown = note === undefined ? r.markdown : r.markdown.includes('\nReproduce:') ? r.markdown.replace('\nReproduce:', `\n${note}\nReproduce:`) : `${r.markdown}\n\n${note}`
    writeFileSync(DOC_FILE, doc.slice(0, start) + `## ${sec.title}\n\n${measuredLine(r)}\n\n${markdown}\n\n` + (next >= 0 ? doc.slice(next + 1) : ''))
    return
  }
  const body = `## ${sec.title}\n\n${measuredLine(r)}\n\n${r.markdown}\n\n`
  const targets = doc.indexOf('\n## Targets\n')
  writeFileSync(DOC_FILE, targets >= 0 ? doc.slice(0, targets + 1) + body + doc.slice(targets + 1) : doc + '\n' + body)
}

/** Writes docs/benchmarks.md from results.json and the hand-written notes passed in. */
export function writeDoc(intro: string, closing: string): void {
  const s = loadResults()
  const out: string[] = [intro, '']
  for (const sec of SECTIONS) {
    out.push(`## ${sec.title}`, '')
    const r = s.results[sec.name]
    if (r === undefined) {
      out.push('Not measured yet: run `npm run bench -- ' + sec.name + '`.', '')
      continue
    }
    out.push(measuredLine(r), '')
    // {{miss:name}}: why a target is missed and the next fix (misses.ts), kept apart from the figures so that it can be revised.
    out.push(
      r.markdown.replace(/\{\{miss:(\w+)\}\}/g, (_m, k: string) => MISSES[k] ?? `(no note for ${k})`),
      ''
    )
  }
  out.push(closing, '')
  writeFileSync(DOC_FILE, out.join('\n'))
}
