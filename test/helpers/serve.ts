/**
 * `blockwatch aggregator serve` as a process of its own on a free loopback
 * port, for the tests that stop, kill or run several instances. Resolves
 * once it says it listens; its output (stdout and stderr) is kept for the
 * test to read.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './pg-cluster.ts'
import { REPO_ROOT as ROOT } from './paths.ts'

/** A running `aggregator serve`: kill `child` yourself (or at teardown). */
export interface ServedAggregator {
  child: ChildProcess
  url: string
  output: () => string
}

/** Starts `aggregator serve` with `env` added to this process's environment and `args` after the port and host. */
export async function serveAggregator(env: Record<string, string>, args: string[] = []): Promise<ServedAggregator> {
  const port = await freePort()
  let out = ''
  const child = spawn(process.execPath, ['scripts/blockwatch.js', 'aggregator', 'serve', '--port', String(port), '--host', '127.0.0.1', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PUBLIC_URL: `http://127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const t0 = Date.now()
  while (!/listening on/.test(out) && child.exitCode === null && Date.now() - t0 < 120_000) await sleep(100)
  if (!/listening on/.test(out)) throw new Error(`the aggregator did not start: ${out.slice(-2000)}`)
  return { child, url: `http://127.0.0.1:${port}`, output: () => out }
}
