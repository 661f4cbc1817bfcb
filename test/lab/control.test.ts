/**
 * The aggregator's control vantage in world: `control: true` starts
 * `aggregator serve` there with a PID file, the client reaches it through
 * isp, world itself sees no censorship, and down stops it. It is the run's
 * shared lab (test/helpers/lab.ts): its control vantage uses a database on
 * the local PostgreSQL (over its Unix socket, which world can reach) when
 * there is one, else the embedded PGlite (slower).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { alive } from '../../scripts/lab/lab.ts'
import { startLab } from '../helpers/lab.ts'
import type { Check, CheckResult } from '../helpers/lab-client.ts'

const lab = await startLab(t, { prefix: 'bwctl-', scenario: 'all-techniques', control: true, shared: true })

if (lab !== null) {
  const run = async (role: 'client' | 'world', checks: Check[]): Promise<CheckResult[]> => {
    const r = await lab.exec(role, [process.execPath, '--import', 'tsx', 'test/helpers/lab-client.ts'], { input: JSON.stringify(checks), timeoutMs: 30_000 })
    if (r.code !== 0) throw new Error(`lab-client: ${r.stderr}`)
    return JSON.parse(r.stdout) as CheckResult[]
  }

  t.test('the control vantage runs in world and answers the client', async t => {
    t.comment(`up with the control vantage took ${lab.upMs} ms`)
    t.equal(lab.controlUrl, 'http://10.10.3.10:8080')
    const pidFile = join(lab.stateDir, 'pids', 'aggregator.pid')
    t.ok(existsSync(pidFile), 'a PID file')
    const pid = Number(readFileSync(pidFile, 'utf8'))
    t.ok(existsSync(`/proc/${pid}`), 'the aggregator runs')
    const [health] = await run('client', [{ op: 'fetch', url: `${lab.controlUrl!}/api/v1/control`, timeoutMs: 5000 }])
    t.ok(health!.status !== undefined, `the client gets an HTTP answer from the control vantage (status ${health!.status ?? health!.code})`)
  })

  t.test('world sees no censorship', async t => {
    const web = lab.targets.filter(x => x.kind !== 'smpp' && !x.down)
    const checks: Check[] = web.flatMap(x =>
      x.urls.map(url => ({ op: 'fetch' as const, url, ca: lab.caFile, timeoutMs: 3000, method: x.kind === 'sms-api' ? 'POST' : undefined, ...(x.ipv6 === 'only' ? { family: 6 as const } : {}) }))
    )
    const results = await run('world', checks)
    results.forEach((r, i) => {
      t.ok(r.ok && r.status! < 300, `${(checks[i] as { url: string }).url} from world: ${r.status ?? r.code}`)
    })
  })

  t.test('down stops the control vantage', async t => {
    const pid = Number(readFileSync(join(lab.stateDir, 'pids', 'aggregator.pid'), 'utf8'))
    await lab.down()
    // alive() counts a zombie as gone: in the shared lab the control vantage's parent may be
    // another file's ended process, and nothing reaps it where PID 1 does not.
    t.notOk(alive(pid), 'the aggregator is gone')
  })
}
