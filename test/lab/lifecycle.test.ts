/**
 * The lab's life cycle: `up` under 30 s, `up` twice leaves the same state,
 * many sites and the benchmark's added round trip, and `down` leaves no
 * namespace, iptables rule, file or process behind.
 */
import { existsSync } from 'node:fs'
import t from 'tap'
import { down, labPaths, labProcesses, labUnavailable, up, type LabInfo } from '../../scripts/lab/lab.ts'
import { loadScenario } from '../../scripts/lab/plan.ts'
import { run } from '../../scripts/lab/sh.ts'
import { REPO_ROOT } from '../helpers/paths.ts'
import type { Check, CheckResult } from '../helpers/lab-client.ts'

const PREFIX = 'bwlife-'
const why = await labUnavailable()
if (why !== null) {
  t.plan(0, `skip: ${why}`)
} else {
  const opts = { prefix: PREFIX }
  const p = labPaths(opts)
  t.teardown(async () => {
    await down(opts)
  })
  const scenario = (name: string): ReturnType<typeof loadScenario> => loadScenario(`${REPO_ROOT}scripts/lab/scenarios/${name}.json`)

  const sh = async (argv: string[]): Promise<string> => (await run(argv, { allowFail: true })).stdout
  const normalize = (text: string): string =>
    text
      .split('\n')
      .filter(l => !l.startsWith('#'))
      .map(l => l.replace(/\[\d+:\d+\]/g, ''))
      .join('\n')
  const ours = async (): Promise<string[]> =>
    (await sh(['ip', 'netns', 'list']))
      .split('\n')
      .map(l => l.split(' ')[0]!)
      .filter(n => n.startsWith(PREFIX))
      .sort()

  /** Everything `up` builds, as text. PIDs are left out: `up` restarts the daemons. */
  async function snapshot(): Promise<Record<string, string>> {
    const s: Record<string, string> = { namespaces: (await ours()).join(',') }
    for (const role of ['client', 'isp', 'world'] as const) {
      const ns = p.ns[role]
      s[`${role} addr`] = await sh(['ip', '-n', ns, '-br', 'addr'])
      s[`${role} route`] = await sh(['ip', '-n', ns, 'route'])
      s[`${role} iptables`] = normalize(await sh(['ip', 'netns', 'exec', ns, 'iptables-save']))
    }
    s['isp tc'] = ((await sh(['ip', 'netns', 'exec', p.ns.isp, 'tc', 'qdisc', 'show'])) + (await sh(['ip', 'netns', 'exec', p.ns.isp, 'tc', 'class', 'show', 'dev', 'cl0']))).replace(
      /direct_packets_stat \d+/g,
      ''
    )
    s.processes = labProcesses(p)
      .map(x => `${x.name}:${x.alive}`)
      .sort()
      .join(',')
    return s
  }

  async function client(info: LabInfo, checks: Check[]): Promise<CheckResult[]> {
    const r = await run(['ip', 'netns', 'exec', info.namespaces.client, process.execPath, '--import', 'tsx', 'test/helpers/lab-client.ts'], {
      input: JSON.stringify(checks),
      cwd: REPO_ROOT,
      allowFail: true
    })
    t.equal(r.code, 0, 'the client ran', { stderr: r.stderr })
    return JSON.parse(r.stdout) as CheckResult[]
  }

  const hostRules = normalize(await sh(['iptables-save']))
  const hostLinks = await sh(['ip', '-br', 'link'])

  t.test('up is fast and idempotent; 64 sites; the benchmark round trip', async t => {
    const first = await up({ ...opts, scenario: scenario('all-techniques'), sites: 64 })
    t.ok(first.upMs < 30_000, `up took ${first.upMs} ms`)
    t.equal(first.targets.length, 33 + 64)
    const a = await snapshot()
    t.equal(a.processes, 'isp:true,world:true', 'two daemons, each with a PID file')
    t.match(a['isp iptables'], `--hex-string "|000012${Buffer.from('tls-reset.lab.test').toString('hex')}|"`, 'isp has its rules (the SNI of tls-reset.lab.test)')
    const second = await up({ ...opts, scenario: scenario('all-techniques'), sites: 64 })
    t.ok(second.upMs < 30_000, `up again took ${second.upMs} ms`)
    t.same(await snapshot(), a, 'up twice leaves the same state')
    t.equal(normalize(await sh(['iptables-save'])), hostRules, "the host's iptables are untouched")
    t.equal(await sh(['ip', '-br', 'link']), hostLinks, "no interface appears in the host's namespace")

    const bench = await up({ ...opts, scenario: scenario('benchmark') })
    t.equal(bench.targets.length, 64)
    const [last, firstSite] = await client(bench, [
      { op: 'fetch', url: 'http://site-064.lab.test/', timeoutMs: 5000 },
      { op: 'fetch', url: 'https://site-001.lab.test/', ca: bench.caFile, timeoutMs: 5000 }
    ])
    t.equal(last!.status, 200, 'site-064 answers')
    t.equal(firstSite!.status, 200, 'site-001 answers over HTTPS')
    t.ok(last!.ms >= 50, `a request behind the 50 ms round trip takes at least 50 ms (${last!.ms} ms)`)
  })

  t.test('down leaves nothing behind', async t => {
    const pids = labProcesses(p).map(x => x.pid)
    t.ok(pids.length >= 2)
    const started = Date.now()
    await down(opts)
    t.comment(`down took ${Date.now() - started} ms`)
    t.same(await ours(), [], 'no namespace')
    for (const pid of pids) t.notOk(existsSync(`/proc/${pid}`), `process ${pid} is gone`)
    t.notOk(existsSync(p.stateDir), 'no state dir')
    for (const role of ['client', 'isp', 'world']) t.notOk(existsSync(`/etc/netns/${PREFIX}${role}`), `no /etc/netns/${PREFIX}${role}`)
    t.equal(normalize(await sh(['iptables-save'])), hostRules, 'no iptables rule in the host')
    await down(opts)
    t.pass('down on a lab that is not up is fine')
  })
}
