// `probe start` holds limits.maxMemoryMb in one process (issue 17, item 2;
// probe/src/heap-limit.ts): no child process while it waits, and with a limit
// below what it keeps live it stops after V8's next full collection, logging
// why, with exit status 1 (what a service manager restarts). Slow for the main
// suite: V8's memory reducer runs that first full collection about 8 s after
// start-up. The watch itself, with forced allocations: test/probe-volunteer/heap-limit.test.ts.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { REPO_ROOT } from '../helpers/paths.ts'

const env = { ...process.env, BLOCKWATCH_LANG: 'en' }

/** The process ids `pid` started (its direct children). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

t.test('probe start: one process; past limits.maxMemoryMb it stops with status 1', async t => {
  const dir = t.testdir()
  const loc = ['--config', join(dir, 'probe.json'), '--data-dir', join(dir, 'state')]
  const init = spawnSync(
    process.execPath,
    ['scripts/blockwatch.js', 'probe', 'init', ...loc, '--decline', '--no-register', '--aggregator', 'http://127.0.0.1:9', '--resolver', '127.0.0.1:1', '--max-memory', '1'],
    { cwd: REPO_ROOT, env, encoding: 'utf8' }
  )
  t.equal(init.status, 0, init.stderr)
  t.equal(JSON.parse(readFileSync(join(dir, 'probe.json'), 'utf8')).limits.maxMemoryMb, 1)

  const probe = spawn(process.execPath, ['scripts/blockwatch.js', 'probe', 'start', ...loc, '--log-format', 'json'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    probe.kill('SIGKILL')
  })
  let stderr = ''
  probe.stderr.on('data', (b: Buffer) => {
    stderr += b.toString()
  })
  const lines: Array<Record<string, unknown>> = []
  let kids: number[] | null = null
  createInterface({ input: probe.stdout }).on('line', line => {
    const o = JSON.parse(line) as Record<string, unknown>
    lines.push(o)
    if (o.msg === 'scheduler started') kids = children(probe.pid!)
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`probe start did not stop within 90 s; log: ${JSON.stringify(lines)} ${stderr}`)), 90_000)
    probe.on('exit', c => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  t.same(kids, [], 'one process: started, and waiting for its schedule, it has no child')
  t.equal(code, 1, 'exit status 1')
  const why = lines.find(l => l.signal === 'heap-limit')
  t.match(why, { level: 50, msg: 'stopping', limit_mb: 1, heap_mb: Number }, 'the log says why, with the figures')
  t.ok((why?.heap_mb as number) > 1, `live heap ${String(why?.heap_mb)} MiB, above the limit`)
  t.equal(lines.at(-1)?.msg, 'stopped', 'a clean stop')
})
