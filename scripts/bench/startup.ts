/**
 * How long a `blockwatch` command takes to start (issue 16, item 6; issue
 * 17's `--help` target): each command's `--help` (or a usage error, which
 * loads the command but touches no database), run from the compiled build
 * (.build/, what scripts/blockwatch.js runs while the build is fresh) and
 * through tsx (BLOCKWATCH_TSX=1, what it ran before), alternating, in one
 * run. The suite starts a few hundred of these processes, so their CPU is
 * much of its time.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchContext, BenchResult } from './context.ts'
import { REPO } from './util.ts'

const COMMANDS: string[][] = [
  ['--help'],
  ['probe', '--help'],
  ['probe', 'run', '--help'],
  ['probe', 'start', '--help'],
  ['aggregator', 'serve', '--help'],
  ['aggregator', 'import', '--help'],
  ['aggregator', 'archive', '--before', '2024-13']
]

interface Sample {
  wallMs: number
  cpuMs: number
}

/** Runs the command under /usr/bin/time (GNU time: the child's user + system CPU). */
function once(args: string[], tsx: boolean): Sample {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', process.execPath, join(REPO, 'scripts/blockwatch.js'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, BLOCKWATCH_TSX: tsx ? '1' : '', LOG_LEVEL: 'silent' }
  })
  const line = r.stderr.trim().split('\n').at(-1) ?? ''
  const [wall, user, sys] = line.split(' ').map(Number)
  if (![wall, user, sys].every(Number.isFinite)) throw new Error(`startup: no timing for ${args.join(' ')}: ${r.stderr.slice(-400)}`)
  return { wallMs: wall! * 1000, cpuMs: (user! + sys!) * 1000 }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

export async function runStartup(ctx: BenchContext): Promise<BenchResult> {
  const started = Date.now()
  if (!existsSync('/usr/bin/time')) throw new Error('startup: needs GNU time (/usr/bin/time; Debian package "time")')
  ctx.log('startup: npm run build (the benchmark compares the build with tsx)')
  const build = spawnSync(process.execPath, [join(REPO, 'scripts/build.js')], { cwd: REPO, stdio: 'inherit' })
  if (build.status !== 0) throw new Error('startup: the build failed')
  const runs = Math.max(ctx.runs, 5)
  const rows: Array<{ command: string; compiled: Sample; tsx: Sample }> = []
  for (const args of COMMANDS) {
    const compiled: Sample[] = []
    const viaTsx: Sample[] = []
    // One warm-up of each (tsx's transform cache, the page cache), then alternate.
    once(args, false)
    once(args, true)
    for (let i = 0; i < runs; i++) {
      compiled.push(once(args, false))
      viaTsx.push(once(args, true))
    }
    const med = (s: Sample[]): Sample => ({ wallMs: median(s.map(x => x.wallMs)), cpuMs: median(s.map(x => x.cpuMs)) })
    rows.push({ command: `blockwatch ${args.join(' ')}`, compiled: med(compiled), tsx: med(viaTsx) })
    ctx.log(`startup: ${args.join(' ')}: compiled ${Math.round(med(compiled).wallMs)} ms, tsx ${Math.round(med(viaTsx).wallMs)} ms`)
  }
  const ms = (x: number): string => `${Math.round(x)}`
  const markdown = [
    `Each command ${runs} times from the compiled build and ${runs} times through tsx, alternating, after one warm-up of each; medians. CPU is the process's user + system time (GNU time). \`--help\` loads the command's modules; the archive line is a usage error (\`--before 2024-13\`), which loads the command and stops before the database.`,
    '',
    '| command | compiled: wall ms | compiled: CPU ms | tsx: wall ms | tsx: CPU ms | CPU, compiled ÷ tsx |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(r => `| \`${r.command}\` | ${ms(r.compiled.wallMs)} | ${ms(r.compiled.cpuMs)} | ${ms(r.tsx.wallMs)} | ${ms(r.tsx.cpuMs)} | ${(r.compiled.cpuMs / r.tsx.cpuMs).toFixed(2)} |`)
  ].join('\n')
  return { name: 'startup', at: new Date(started).toISOString(), scale: ctx.scale, seconds: (Date.now() - started) / 1000, data: { runs, rows }, markdown }
}
