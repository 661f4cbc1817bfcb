/**
 * The installed probe's footprint (issue 17, item 2; docs/benchmarks.md,
 * "Probe footprint"): measures a probe that `npm install -g` put in a prefix,
 * not the repository's code.
 *
 *   node --import tsx scripts/bench/footprint.ts --prefix /tmp/p [--targets 1000] [--no-lab]
 *
 * - disk: every file of lib/node_modules/blockwatch-probe, in bytes (apparent
 *   size) and in disk blocks (du), split into what runs and what a native
 *   build leaves behind (better-sqlite3's build/ intermediates except the
 *   .node module it loads, and the C, C++ and gyp sources it compiled);
 * - --help: wall time of `blockwatch-probe --help`, 10 runs;
 * - at rest: `blockwatch-probe start` with a config made by init
 *   --no-register, once its scheduler has started, summed over the process
 *   and its child (start re-runs itself with the heap cap of --max-memory);
 * - peak: `blockwatch-probe run` over N lab targets (the benchmark scenario:
 *   64 sites, 50 ms round trip, the control vantage) at concurrency 32, its
 *   high-water mark (VmHWM) from /proc. Needs root (the lab).
 * Prints one JSON object. Numbers vary with the machine's load: it is
 * printed too.
 */
import { spawn, spawnSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { down, labUnavailable, up } from '../lab/lab.ts'
import { loadScenario } from '../lab/plan.ts'
import { median, nowMs, procMemory, RssSampler, sleep } from './util.ts'

const { values: f } = parseArgs({ options: { prefix: { type: 'string' }, targets: { type: 'string', default: '1000' }, 'no-lab': { type: 'boolean' } } })
if (f.prefix === undefined) {
  process.stderr.write('footprint: --prefix DIR is required: the prefix `npm install -g --prefix DIR blockwatch-probe-*.tgz` installed into\n')
  process.exit(2)
}
const prefix = f.prefix
const bin = join(prefix, 'bin/blockwatch-probe')
const pkg = join(prefix, 'lib/node_modules/blockwatch-probe')
const env = { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'bw-footprint-home-')), BLOCKWATCH_LANG: 'en', NODE_OPTIONS: '' }
const result: Record<string, unknown> = { load_before: loadavg().map(x => Number(x.toFixed(1))) }

// ---- disk -------------------------------------------------------------------
/** better-sqlite3's files that only its build read: intermediates and sources. */
const buildOnly = (rel: string): boolean => {
  const m = /(?:^|\/)node_modules\/better-sqlite3\/(.*)$/.exec(rel)
  if (m === null) return false
  const inner = m[1]
  if (inner.startsWith('build/')) return inner !== 'build/Release/better_sqlite3.node'
  return inner.startsWith('deps/') || inner.startsWith('src/') || inner === 'binding.gyp'
}
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
result.disk = { ...disk, du_k: Number(spawnSync('du', ['-sk', pkg], { encoding: 'utf8' }).stdout.split('\t')[0]) * 1024 }

// ---- --help -----------------------------------------------------------------
const helpMs: number[] = []
for (let i = 0; i < 10; i++) {
  const t0 = nowMs()
  const r = spawnSync(bin, ['--help'], { env, stdio: 'ignore' })
  helpMs.push(nowMs() - t0)
  if (r.status !== 0) throw new Error(`blockwatch-probe --help exited ${r.status}`)
}
result.help_ms = { median: Math.round(median(helpMs)), min: Math.round(Math.min(...helpMs)), max: Math.round(Math.max(...helpMs)) }

// ---- at rest ------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'bw-footprint-'))
const loc = ['--config', join(work, 'probe.json'), '--data-dir', join(work, 'state')]
const init = spawnSync(bin, ['init', ...loc, '--aggregator', 'http://127.0.0.1:9', '--accept-risks', '--no-register'], { env, encoding: 'utf8' })
if (init.status !== 0) throw new Error(`blockwatch-probe init: ${init.stderr}`)
const cfg = JSON.parse(readFileSync(join(work, 'probe.json'), 'utf8'))
result.rest_config = { maxMemoryMb: cfg.limits?.maxMemoryMb ?? null }
const start = spawn(bin, ['start', ...loc, '--log-level', 'info', '--no-messaging-list'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
let log = ''
start.stdout.on('data', (b: Buffer) => {
  log += b.toString()
})
start.stderr.resume()
const until = Date.now() + 60_000
while (!log.includes('scheduler started') && Date.now() < until && start.exitCode === null) await sleep(200)
await sleep(5000)
const tree = (pid: number): number[] => {
  let kids: number[] = []
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {}
  return [pid, ...kids.flatMap(tree)]
}
const restSamples: number[] = []
for (let i = 0; i < 10; i++) {
  const pids = tree(start.pid!)
  restSamples.push(pids.reduce((s, p) => s + (procMemory(p)?.rss ?? 0), 0))
  if (i === 0) result.rest_processes = pids.length
  await sleep(1000)
}
result.rest_rss_bytes = { median: median(restSamples), max: Math.max(...restSamples), started: log.includes('scheduler started') }
start.kill('SIGTERM')
await new Promise(resolve => start.once('exit', resolve))

// ---- peak over lab targets ---------------------------------------------------------
const why = f['no-lab'] === true ? '--no-lab' : await labUnavailable()
if (why !== null) {
  result.peak = { skipped: why }
} else {
  const n = Number(f.targets)
  const scenario = loadScenario(new URL('../lab/scenarios/benchmark.json', import.meta.url).pathname)
  const labPrefix = 'bwfoot-'
  const info = await up({ prefix: labPrefix, scenario: { ...scenario, sites: 64, rttMs: 50, control: true } })
  try {
    const csv = join(work, 'targets.csv')
    const rows = Array.from({ length: n }, (_, k) => `https://site-${String((k % 64) + 1).padStart(3, '0')}.lab.test/?n=${k},NEWS,News,2024-01-01,footprint,`)
    writeFileSync(csv, `url,category_code,category_description,date_added,source,notes\n${rows.join('\n')}\n`)
    const out = join(work, 'out.jsonl')
    const argv = ['ip', 'netns', 'exec', info.namespaces.client, bin, 'run', '--targets', csv, '--concurrency', '32', '--resolver', info.resolver, '--ca', info.caFile, '--output', out]
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
    result.peak = { targets: n, measured: lines, exit: code, seconds: Number(((nowMs() - t0) / 1000).toFixed(1)), peak_rss_bytes: s.peak, control: info.controlUrl !== null, stderr: err.slice(-500) }
  } finally {
    await down({ prefix: labPrefix })
  }
}
result.load_after = loadavg().map(x => Number(x.toFixed(1)))
rmSync(work, { recursive: true, force: true })
rmSync(env.HOME, { recursive: true, force: true })
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
