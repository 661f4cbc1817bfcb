// The packages (issue 17, items 1 and 3, and item 6's upgrade): `npm pack`
// the probe and the aggregator (their prepack compiles them), install each
// tarball into an empty prefix with `npm install -g --offline --omit=dev`
// (from the npm cache `npm ci` filled; the packages bundle their
// dependencies), then run a measurement from the installed probe into the
// installed aggregator on loopback and find it in the aggregator's API.
// Also: the probe's install holds none of the aggregator's dependencies and
// no TypeScript; installing the tarball again keeps the probe's config and
// outbox; and systemd-analyze verifies the unit in packaging/systemd/ with
// ExecStart pointing at the installed blockwatch-probe.
//
// Slow (two installs of the probe compile better-sqlite3 from source when
// no prebuilt binary can be downloaded, as here), hence in test/faults.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { REPO_ROOT } from '../helpers/paths.ts'
import { healthy, startHttp } from '../fixtures/servers/web.ts'

type Child = import('node:child_process').ChildProcess

// Two packs and three installs, two of them compiling SQLite: 13 minutes at a
// load of 10 on two cores, beyond npm run test:faults' 900 s per file.
t.setTimeout(40 * 60_000)

const work = mkdtempSync(join(tmpdir(), 'bw-packages-'))
t.teardown(() => {
  rmSync(work, { recursive: true, force: true })
})
const children = new Set<Child>()
t.teardown(() => {
  for (const c of children) c.kill('SIGKILL')
})

/** Runs a command to its end; returns its exit code and output. */
async function run(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string; err: string }> {
  const c = spawn(argv[0], argv.slice(1), { cwd: opts.cwd ?? work, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  c.stdout.on('data', (b: Buffer) => {
    out += b.toString()
  })
  c.stderr.on('data', (b: Buffer) => {
    err += b.toString()
  })
  const code = await new Promise<number>(resolve => c.on('exit', code => resolve(code ?? 1)))
  return { code, out, err }
}

/** Every file under dir (relative paths). */
function files(dir: string, base = dir): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...files(p, base))
    else out.push(p.slice(base.length + 1))
  }
  return out
}

// The environment of the installed commands: no tsx, no tap, nothing of the repository's.
const cleanEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: join(work, 'home'), LANG: 'C.UTF-8', BLOCKWATCH_LANG: 'en', NODE_OPTIONS: '' }

const npmInstall = async (prefix: string, tarball: string): Promise<{ code: number; out: string; err: string }> =>
  await run(['npm', 'install', '-g', '--prefix', prefix, '--offline', '--omit=dev', '--no-audit', '--no-fund', tarball], { env: { NODE_OPTIONS: '' } })

t.test('pack, install offline into empty prefixes, measure from the installed probe into the installed aggregator', async t => {
  const packDir = join(work, 'tarballs')
  mkdirSync(packDir)
  const pack = await run(['npm', 'pack', '-w', 'probe', '-w', 'aggregator', '--pack-destination', packDir, '--json'], { cwd: REPO_ROOT, env: { NODE_OPTIONS: '' } })
  if (!t.equal(pack.code, 0, 'npm pack of both workspaces')) {
    t.comment(pack.err.slice(-3000))
    return
  }
  const tarballs = readdirSync(packDir)
  const probeTgz = join(packDir, tarballs.find(f => f.startsWith('blockwatch-probe-'))!)
  const aggTgz = join(packDir, tarballs.find(f => f.startsWith('blockwatch-aggregator-'))!)
  t.ok(!existsSync(join(REPO_ROOT, 'probe/dist')) && !existsSync(join(REPO_ROOT, 'probe/node_modules')), 'postpack removed what prepack made')

  const probePrefix = join(work, 'probe-prefix')
  const aggPrefix = join(work, 'aggregator-prefix')
  const [pi, ai] = await Promise.all([npmInstall(probePrefix, probeTgz), npmInstall(aggPrefix, aggTgz)])
  if (!t.equal(pi.code, 0, 'the probe installs offline') || !t.equal(ai.code, 0, 'the aggregator installs offline')) {
    t.comment(pi.err.slice(-3000) + '\n' + ai.err.slice(-3000))
    return
  }
  const probeBin = join(probePrefix, 'bin/blockwatch-probe')
  const aggBin = join(aggPrefix, 'bin/blockwatch-aggregator')
  t.ok(existsSync(probeBin) && existsSync(aggBin), 'both commands are installed')

  // What the probe's install holds.
  const probePkg = join(probePrefix, 'lib/node_modules/blockwatch-probe')
  const installed = readdirSync(join(probePkg, 'node_modules')).flatMap(n => (n.startsWith('@') ? readdirSync(join(probePkg, 'node_modules', n)).map(m => `${n}/${m}`) : [n]))
  for (const name of ['fastify', '@electric-sql', 'pg', 'vega', 'vega-lite', '@duckdb', 'tsx', 'typescript', 'hyparquet']) {
    t.notOk(
      installed.some(n => n === name || n.startsWith(`${name}/`)),
      `the probe's install has no ${name}`
    )
  }
  const shipped = files(join(probePkg, 'dist'))
  t.notOk(
    shipped.some(f => f.endsWith('.ts')),
    'the probe ships no TypeScript'
  )
  t.notOk(
    shipped.some(f => f.startsWith('aggregator/')),
    'the probe carries nothing of aggregator/'
  )
  t.ok(statSync(join(probePkg, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')).isFile(), "better-sqlite3's binary was built or fetched at install")

  const version = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version
  t.equal((await run([probeBin, '--version'], { env: cleanEnv })).out.trim(), version, 'blockwatch-probe --version')
  const help = await run([probeBin, '--help'], { env: cleanEnv })
  t.equal(help.code, 0, 'blockwatch-probe --help')
  t.match(help.out, /init/, 'the help names init')
  t.match(help.out, /Usage: blockwatch-probe <subcommand>/, "and the command as it is installed, not the repository's `blockwatch probe`")
  t.equal((await run([aggBin, '--help'], { env: cleanEnv })).code, 0, 'blockwatch-aggregator --help')

  // The aggregator on PGlite in its own folder, on loopback.
  const port = 21_000 + Math.floor(Math.random() * 2000)
  const agg = spawn(aggBin, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: work,
    env: { ...cleanEnv, DATABASE_URL: '', LOG_LEVEL: 'silent', CONTROL_ALLOW: '127.0.0.0/8' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  children.add(agg)
  let aggErr = ''
  agg.stderr.on('data', (b: Buffer) => {
    aggErr += b.toString()
  })
  const base = `http://127.0.0.1:${port}`
  const until = Date.now() + 180_000
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      r => r.ok,
      () => false
    )
    if (ok) break
    if (agg.exitCode !== null || Date.now() > until) {
      t.fail(`the installed aggregator did not come up: ${aggErr.slice(-2000)}`)
      return
    }
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  t.pass('the installed aggregator serves')

  // A site on loopback and a one-row target list.
  const site = await startHttp(healthy)
  t.teardown(site.close)
  const target = `http://127.0.0.1:${site.port}/packaged`
  const csv = join(work, 'targets.csv')
  writeFileSync(csv, `url,category_code,category_description,date_added,source,notes\n${target},NEWS,News,2024-01-01,test,\n`)

  // The installed probe: init (registers), run with --upload, start --once.
  const cfg = join(work, 'probe.json')
  const data = join(work, 'probe-state')
  const loc = ['--config', cfg, '--data-dir', data]
  const init = await run([probeBin, 'init', ...loc, '--aggregator', base, '--control', base, '--accept-risks', '--resolver', '127.0.0.1:1'], { env: cleanEnv })
  if (!t.equal(init.code, 0, 'blockwatch-probe init registered')) t.comment(init.err)
  const measured = await run([probeBin, 'run', ...loc, '--targets', csv, '--control', base, '--upload', '--output', join(work, 'out.jsonl')], { env: cleanEnv })
  if (!t.equal(measured.code, 0, 'blockwatch-probe run --upload')) t.comment(measured.err)
  const start = await run([probeBin, 'start', ...loc, '--once', 'priority', '--no-messaging-list', '--log-level', 'info'], { env: cleanEnv })
  if (!t.equal(start.code, 0, 'blockwatch-probe start --once priority')) t.comment(start.err + start.out.slice(-2000))

  const res = await fetch(`${base}/api/v1/measurements?limit=100`)
  t.equal(res.status, 200, 'the API answers')
  const body = (await res.json()) as { results?: Array<{ input?: string }> }
  t.ok(
    (body.results ?? []).some(m => m.input === target),
    'the measurement from the installed probe is in the installed aggregator'
  )

  // Item 6: installing the package again (an upgrade) keeps config and outbox.
  const before = { cfg: readFileSync(cfg, 'utf8'), outbox: files(data).sort() }
  const again = await npmInstall(probePrefix, probeTgz)
  t.equal(again.code, 0, 'the tarball installs again over itself')
  t.equal(readFileSync(cfg, 'utf8'), before.cfg, 'the config is unchanged')
  t.same(files(data).sort(), before.outbox, 'the outbox and state files are all there')
  const status = await run([probeBin, 'status', '--json', ...loc], { env: cleanEnv })
  t.equal(status.code, 0, 'blockwatch-probe status after the upgrade')
  t.match(status.out, /"uploaded":\s*[1-9]/, 'the outbox still counts the uploaded measurement')

  // Item 3: the systemd unit, verified against the installed command.
  const unitSrc = join(REPO_ROOT, 'packaging/systemd/blockwatch-probe.service')
  const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).stdout.trim()
  await t.test('systemd-analyze verify passes the unit', { skip: analyze === '' ? 'systemd-analyze is not installed (Debian package systemd; .ci/system-deps installs it)' : false }, async t => {
    const unitDir = join(work, 'units')
    mkdirSync(unitDir)
    const unit = readFileSync(unitSrc, 'utf8').replaceAll('/usr/local/bin/blockwatch-probe', probeBin)
    t.not(unit, readFileSync(unitSrc, 'utf8'), 'the unit runs /usr/local/bin/blockwatch-probe (replaced here by the installed one)')
    writeFileSync(join(unitDir, 'blockwatch-probe.service'), unit)
    const verify = await run([analyze, 'verify', join(unitDir, 'blockwatch-probe.service')], { env: { SYSTEMD_LOG_LEVEL: 'warning' } })
    t.equal(verify.code, 0, `systemd-analyze verify: ${(verify.out + verify.err).trim() || 'no complaint'}`)
    t.notMatch(verify.out + verify.err, /blockwatch-probe\.service/, 'no warning about the unit itself')
  })

  agg.kill('SIGTERM')
})
