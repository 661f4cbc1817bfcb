/**
 * `blockwatch simulate`: posts a scripted scenario of measurements to an
 * aggregator through its real API (register, then upload), for demos,
 * tests and benchmarks. The only simulator file that reads argv or writes
 * to the terminal.
 */
import { UsageError, intFlag, parseFlags, runCommand } from '../../../shared/src/args.ts'
import { formatOoniTime } from '../../../shared/src/time.ts'
import { generate } from './generate.ts'
import { buildDoc } from './docs.ts'
import { postPlan, registerProbes } from './post.ts'
import { loadScenario, scenarioStartMs } from './scenario.ts'

const HELP = `blockwatch simulate — post a scripted scenario of measurements to an aggregator

Usage: blockwatch simulate --scenario NAME|FILE [--aggregator URL] [options]

A scenario (JSON) names countries, networks (ASNs) and probes, targets,
blocking episodes (technique, networks, flapping), a background
false-positive rate, outages and upload delays. Every simulated probe
registers and uploads its own measurements, in upload order.

Options:
  --scenario NAME|FILE      a shipped scenario (demo) or a JSON file
  --aggregator URL          the aggregator (default http://localhost:8080)
  --probes-per-network N    override every network's probe count
  --start WHEN              override the scenario's start (ISO, or -7d / -36h)
  --seed N                  override the scenario's seed
  --batch N                 measurements per upload (default 500)
  --dry-run                 print the documents as NDJSON instead of posting
  --truth                   print the scripted episodes (JSON) and exit
  -h, --help                this help

Examples:
  npm start &   # then, to populate the dashboard:
  blockwatch simulate --scenario demo --aggregator http://localhost:8080
  blockwatch simulate --scenario my.json --probes-per-network 50 --dry-run > out.ndjson
`

/**
 * Writes lines to stdout with backpressure, and stops quietly when the
 * reader has gone (`simulate --dry-run | head`: EPIPE), as other Unix tools do.
 */
async function writeLines(lines: Array<() => string>): Promise<void> {
  let gone = false
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err
    gone = true
  }
  process.stdout.on('error', onError)
  try {
    for (const line of lines) {
      if (gone) return
      if (!process.stdout.write(line() + '\n')) {
        await new Promise<void>(resolve => {
          const done = (): void => {
            process.stdout.off('drain', done)
            process.stdout.off('error', done)
            resolve()
          }
          process.stdout.once('drain', done)
          process.stdout.once('error', done)
        })
      }
    }
    // Let a late EPIPE surface here, not as an uncaught error.
    await new Promise<void>(resolve => setImmediate(resolve))
  } finally {
    if (!gone) process.stdout.off('error', onError)
  }
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const { values } = parseFlags(argv, {
      scenario: { type: 'string' },
      aggregator: { type: 'string' },
      'probes-per-network': { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      'dry-run': { type: 'boolean' },
      truth: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    })
    if (values.help === true) {
      process.stdout.write(HELP)
      return 0
    }
    if (values.scenario === undefined) throw new UsageError('--scenario is required: a shipped scenario (demo) or a JSON file; see `blockwatch simulate --help`')
    const scenario = loadScenario(values.scenario)
    if (values.start !== undefined) scenario.start = values.start
    if (values.seed !== undefined) scenario.seed = intFlag('seed', values.seed, 1, 0, 2 ** 31)
    const ppn = values['probes-per-network'] === undefined ? undefined : intFlag('probes-per-network', values['probes-per-network'], 1, 1, 10000)
    const batch = intFlag('batch', values.batch, 500, 1, 10000)
    const startMs = scenarioStartMs(scenario, Date.now())
    if (Number.isNaN(startMs)) throw new UsageError(`--start must be an ISO timestamp or -7d / -36h, got ${JSON.stringify(scenario.start)}`)
    const plan = generate(scenario, startMs, { probesPerNetwork: ppn })
    if (values.truth === true) {
      process.stdout.write(
        JSON.stringify(
          plan.truth.map(t => ({ ...t, start: new Date(t.start).toISOString(), end: new Date(t.end).toISOString() })),
          null,
          2
        ) + '\n'
      )
      return 0
    }
    if (values['dry-run'] === true) {
      await writeLines(plan.items.map(it => () => JSON.stringify(buildDoc(scenario, plan.probes[it.probe], `sim-${it.probe}`, it))))
      return 0
    }
    const aggregator = (values.aggregator ?? 'http://localhost:8080').replace(/\/+$/, '')
    try {
      new URL(aggregator)
    } catch {
      throw new UsageError(`--aggregator must be a URL such as http://localhost:8080, got ${JSON.stringify(aggregator)}`)
    }
    process.stderr.write(
      `simulate: scenario ${scenario.name}, ${plan.probes.length} probes, ${plan.items.length} measurements from ${formatOoniTime(plan.startMs)} to ${formatOoniTime(plan.endMs)} UTC → ${aggregator}\n`
    )
    const creds = await registerProbes(aggregator, plan)
    let last = 0
    const r = await postPlan(aggregator, scenario, plan, creds, plan.items, {
      batchSize: batch,
      onProgress: (p, total) => {
        const pct = Math.floor((100 * p.posted) / total)
        if (pct >= last + 5 || p.posted === total) {
          last = pct
          process.stderr.write(`\rsimulate: ${p.posted}/${total} posted (${pct}%)`)
        }
      }
    })
    process.stderr.write(`\nsimulate: ${r.accepted} accepted, ${r.duplicates} duplicates, ${r.rejected} rejected\n`)
    for (const e of r.firstErrors) process.stderr.write(`simulate: rejected: ${e}\n`)
    process.stdout.write(`${aggregator}/api/v1/events?probe_cc=${scenario.countries[0].cc}\n`)
    return r.rejected > 0 ? 1 : 0
  })
}
