/**
 * The installed probe's footprint (issue 17, item 2; docs/benchmarks.md,
 * "Probe footprint"): measures probes that `npm install -g` put in
 * prefixes, not the repository's code. With several --prefix (a before and
 * an after), every measurement alternates between them, so they share the
 * machine's load. `--prefix 'DIR|OPTIONS'` runs that install as the systemd
 * unit does, `node OPTIONS DIR/bin/blockwatch-probe …` (V8 flags such as
 * --max-semi-space-size=1, which Node takes only when it starts; some, such
 * as --liftoff-only, are refused in NODE_OPTIONS).
 *
 *   node --import tsx scripts/bench/footprint.ts --prefix /tmp/before --prefix /tmp/after [--prefix '/tmp/after|--max-semi-space-size=1'] [--targets 1000] [--rounds 2] [--no-lab]
 *
 * - disk: every file of lib/node_modules/blockwatch-probe, in bytes (apparent
 *   size) and in disk blocks (du), split into what runs and what a native
 *   build leaves behind (better-sqlite3's build/ intermediates except the
 *   .node module it loads, and the C, C++ and gyp sources it compiled);
 * - --help: wall and CPU time of `blockwatch-probe --help`, 10 runs each,
 *   beside `node -e 0`; as root, also under SCHED_FIFO (chrt -f 10), where
 *   the process has a core whenever it can run, as on an unshared machine;
 * - at rest: `blockwatch-probe start` with a config made by init
 *   --no-register, once its scheduler has started, summed over the process
 *   and any child, 10 samples a round;
 * - peak: `blockwatch-probe run` over N lab targets (the benchmark scenario:
 *   64 sites, 50 ms round trip, the control vantage) at concurrency 32, its
 *   high-water mark (VmHWM) from /proc, once a round. Needs root (the lab).
 * Prints one JSON object: per prefix, in the order given. Numbers vary with
 * the machine's load: it is printed too.
 */
import { spawn, spawnSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { down, labUnavailable, up } from '../lab/lab.ts'
import { loadScenario } from '../lab/plan.ts'
import { median, nowMs, procMemory, RssSampler, sleep } from './util.ts'

const { values: f } = parseArgs({
  options: { prefix: { type: 'string', multiple: true }, targets: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '1' }, 'no-lab': { type: 'boolean' } }
})
if (f.prefix === undefined || f.prefix.length === 0) {
  process.stderr.write('footprint: --prefix DIR is required (once per install to compare): the prefix `npm install -g --prefix DIR blockwatch-probe-*.tgz` installed into\n')
  process.exit(2)
}
const rounds = Number(f.rounds)
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10) {
  process.stderr.write(`footprint: --rounds must be a whole number from 1 to 10, got ${JSON.stringify(f.rounds)}\n`)
  process.exit(2)
}
const prefixes = f.prefix
/** An install's directory and its NODE_OPTIONS, from `DIR` or `DIR|OPTIONS`. */
const dirOf = (spec: string): string => spec.split('|')[0]
const binOf = (spec: string): string => join(dirOf(spec), 'bin/blockwatch-probe')
const env = { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'bw-footprint-home-')), BLOCKWATCH_LANG: 'en', NODE_OPTIONS: '' }
/** The command line of an install: its bin, after `node OPTIONS` when the spec gives options. */
const cmdOf = (spec: string): string[] => {
  const opts = (spec.split('|')[1] ?? '').split(/\s+/).filter(Boolean)
  return opts.length === 0 ? [binOf(spec)] : [process.execPath, ...opts, binOf(spec)]
}
const result: Record<string, unknown> = { load_before: loadavg().map(x => Number(x.toFixed(1))), rounds }
const per: Record<string, Record<string, unknown>> = Object.fromEntries(prefixes.map(p => [p, {}]))
result.installs = per

// ---- disk -------------------------------------------------------------------
/** better-sqlite3's files that only its build read: intermediates and sources. */
const buildOnly = (rel: string): boolean => {
  const m = /(?:^|\/)node_modules\/better-sqlite3\/(.*)$/.exec(rel)
  if (m === null) return false
  const inner = m[1]
  if (inner.startsWith('build/')) return inner !== 'build/Release/better_sqlite3.node'
  return inner.startsWith('deps/') || inner.startsWith('src/') || inner === 'binding.gyp'
}
const diskOf = (pkg: string): Record<string, number> => {
  const disk = { files: 0, bytes: 0, blocks: 0, runtime_files: 0, runtime_bytes: 0, runtime_blocks: 0 }
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      const r = rel === '' ? e.name : `${rel}/${e.name}`
      const st = lstatSync(p)
      if (e.isDirectory()) {
        walk(p, r)
        continue
      }
      disk.files++
      disk.bytes += st.size
      disk.blocks += st.blocks * 512
      if (!buildOnly(r)) {
        disk.runtime_files++
        disk.runtime_bytes += st.size
        disk.runtime_blocks += st.blocks * 512
      }
    }
  }
  walk(pkg, '')
  return { ...disk, du_k: Number(spawnSync('du', ['-sk', pkg], { encoding: 'utf8' }).stdout.split('\t')[0]) * 1024 }
}
for (const p of prefixes) per[p].disk = diskOf(join(dirOf(p), 'lib/node_modules/blockwatch-probe'))

// ---- --help -----------------------------------------------------------------
/** Wall and CPU (user + system, from /proc's rusage of the child) of one run of argv, optionally under SCHED_FIFO. */
const timeOne = (argv: string[], fifo: boolean, runEnv: typeof env): { wall: number; cpu: number } => {
  const full = fifo ? ['chrt', '-f', '10', ...argv] : argv
  const t0 = nowMs()
  const timeFile = join(env.HOME, 'time.txt')
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, ...full], { env: runEnv, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
  const wall = nowMs() - t0
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`)
  const [u, sys] = readFileSync(timeFile, 'utf8').trim().split(' ').map(Number)
  return { wall, cpu: (u + sys) * 1000 }
}
const fifoOk = process.getuid?.() === 0 && spawnSync('chrt', ['-f', '10', 'true']).status === 0
const helpRuns: Record<string, Record<'plain' | 'fifo', Array<{ wall: number; cpu: number }>>> = {}
for (const name of ['node -e 0', ...prefixes]) helpRuns[name] = { plain: [], fifo: [] }
for (const mode of fifoOk ? (['plain', 'fifo'] as const) : (['plain'] as const)) {
  for (let i = 0; i < 10; i++) {
    for (const name of ['node -e 0', ...prefixes]) helpRuns[name][mode].push(timeOne(name === 'node -e 0' ? [process.execPath, '-e', '0'] : [...cmdOf(name), '--help'], mode === 'fifo', env))
  }
}
const summary = (xs: Array<{ wall: number; cpu: number }>): Record<string, number> | null =>
  xs.length === 0
    ? null
    : {
        wall_median: Math.round(median(xs.map(x => x.wall))),
        wall_min: Math.round(Math.min(...xs.map(x => x.wall))),
        wall_max: Math.round(Math.max(...xs.map(x => x.wall))),
        cpu_median: Math.round(median(xs.map(x => x.cpu)))
      }
result.node_e0_ms = { plain: summary(helpRuns['node -e 0'].plain), fifo: summary(helpRuns['node -e 0'].fifo) }
for (const p of prefixes) per[p].help_ms = { plain: summary(helpRuns[p].plain), fifo: summary(helpRuns[p].fifo) }

// ---- at rest ------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'bw-footprint-'))
const tree = (pid: number): number[] => {
  let kids: number[] = []
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {}
  return [pid, ...kids.flatMap(tree)]
}
/** One `start` of the install at `prefix`: its config, then 10 samples of the RSS summed over its process tree once the scheduler has started. */
const restOnce = async (prefix: string, k: number): Promise<{ samples: number[]; processes: number; started: boolean; maxMemoryMb: number | null }> => {
  const [bin, ...pre] = cmdOf(prefix)
  const loc = ['--config', join(work, `probe-${k}.json`), '--data-dir', join(work, `state-${k}`)]
  const init = spawnSync(bin, [...pre, 'init', ...loc, '--aggregator', 'http://127.0.0.1:9', '--accept-risks', '--no-register'], { env, encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`blockwatch-probe init: ${init.stderr}`)
  const cfg = JSON.parse(readFileSync(join(work, `probe-${k}.json`), 'utf8'))
  const start = spawn(bin, [...pre, 'start', ...loc, '--log-level', 'info', '--no-messaging-list'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  start.stdout.on('data', (b: Buffer) => {
    log += b.toString()
  })
  start.stderr.resume()
  const until = Date.now() + 60_000
  while (!log.includes('scheduler started') && Date.now() < until && start.exitCode === null) await sleep(200)
  await sleep(5000)
  const samples: number[] = []
  let processes = 0
  for (let i = 0; i < 10; i++) {
    const pids = tree(start.pid!)
    samples.push(pids.reduce((s, p) => s + (procMemory(p)?.rss ?? 0), 0))
    if (i === 0) processes = pids.length
    await sleep(1000)
  }
  start.kill('SIGTERM')
  await new Promise(resolve => start.once('exit', resolve))
  return { samples, processes, started: log.includes('scheduler started'), maxMemoryMb: cfg.limits?.maxMemoryMb ?? null }
}
const restRuns: Record<string, Array<Awaited<ReturnType<typeof restOnce>>>> = Object.fromEntries(prefixes.map(p => [p, []]))
for (let r = 0; r < rounds; r++) for (const [k, p] of prefixes.entries()) restRuns[p].push(await restOnce(p, r * prefixes.length + k))
for (const p of prefixes) {
  const all = restRuns[p].flatMap(x => x.samples)
  per[p].rest = {
    rss_median: median(all),
    rss_max: Math.max(...all),
    rss_median_by_round: restRuns[p].map(x => median(x.samples)),
    processes: restRuns[p].map(x => x.processes),
    started: restRuns[p].every(x => x.started),
    max_memory_mb: restRuns[p][0].maxMemoryMb
  }
}

// ---- peak over lab targets ---------------------------------------------------------
const why = f['no-lab'] === true ? '--no-lab' : await labUnavailable()
if (why !== null) {
  result.peak_skipped = why
} else {
  const n = Number(f.targets)
  const scenario = loadScenario(new URL('../lab/scenarios/benchmark.json', import.meta.url).pathname)
  const labPrefix = 'bwfoot-'
  const info = await up({ prefix: labPrefix, scenario: { ...scenario, sites: 64, rttMs: 50, control: true } })
  try {
    const csv = join(work, 'targets.csv')
    const rows = Array.from({ length: n }, (_, k) => `https://site-${String((k % 64) + 1).padStart(3, '0')}.lab.test/?n=${k},NEWS,News,2024-01-01,footprint,`)
    writeFileSync(csv, `url,category_code,category_description,date_added,source,notes\n${rows.join('\n')}\n`)
    const peaks: Record<string, Array<Record<string, unknown>>> = Object.fromEntries(prefixes.map(p => [p, []]))
    for (let r = 0; r < rounds; r++) {
      for (const p of prefixes) {
        const out = join(work, 'out.jsonl')
        const argv = ['ip', 'netns', 'exec', info.namespaces.client, ...cmdOf(p), 'run', '--targets', csv, '--concurrency', '32', '--resolver', info.resolver, '--ca', info.caFile, '--output', out]
        if (info.controlUrl !== null) argv.push('--control', info.controlUrl)
        const t0 = nowMs()
        const c = spawn(argv[0], argv.slice(1), { env: { ...env, NODE_EXTRA_CA_CERTS: info.caFile }, stdio: ['ignore', 'ignore', 'pipe'] })
        let err = ''
        c.stderr.on('data', (b: Buffer) => {
          err += b.toString()
        })
        // `ip netns exec` execs the command, and the bin runs in that same process.
        const rss = new RssSampler(c.pid!, 100)
        const code = await new Promise<number>(resolve => c.on('exit', code => resolve(code ?? 1)))
        const s = rss.stop()
        const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).length
        peaks[p].push({
          targets: n,
          measured: lines,
          exit: code,
          seconds: Number(((nowMs() - t0) / 1000).toFixed(1)),
          peak_rss_bytes: s.peak,
          load: Number(loadavg()[0].toFixed(1)),
          stderr: err.slice(-300)
        })
      }
    }
    for (const p of prefixes) per[p].peak = { control: info.controlUrl !== null, runs: peaks[p], peak_rss_median: median(peaks[p].map(x => x.peak_rss_bytes as number)) }
  } finally {
    await down({ prefix: labPrefix })
  }
}
result.load_after = loadavg().map(x => Number(x.toFixed(1)))
rmSync(work, { recursive: true, force: true })
rmSync(env.HOME, { recursive: true, force: true })
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
