/**
 * Bringing the lab up and down: namespaces `<prefix>client`, `<prefix>isp`,
 * `<prefix>world` joined by veth pairs, isp's rules, and the lab's processes
 * (each started with `ip netns exec` and tracked by a PID file in the state
 * dir). `up` is idempotent: it rebuilds what differs and restarts the
 * daemons. `down` stops what the PID files name and deletes the namespaces
 * (with them every rule, route and address the lab made).
 *
 * Used by the CLI (scripts/lab/cli.ts) and the test helper (test/helpers/lab.ts).
 * User docs: docs/lab.md.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../../shared/src/args.ts'
import { ensureCerts } from './certs.ts'
import { ADDR, ADDR6, CONTROL_PORT, LAB_RANGE, LAB_RANGE6, LAB_ZONE, buildTargets, type LabTarget, type Scenario } from './plan.ts'
import { CONTROL_URL, ISP_CLIENT_IF, ISP_WORLD_IF, ispConfig, ispRuleset, ispRuleset6, relaysFor, tcCommands, worldConfig } from './rules.ts'
import { have, run } from './sh.ts'
import { REPO_ROOT } from '../repo-root.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
/** True when this module runs as tsc compiled it (.build/scripts/lab/), not through tsx. */
const COMPILED = import.meta.url.endsWith('.js')
/** The repository root (daemons run with it as their working directory), from the sources or from .build/. */
export const REPO = REPO_ROOT

/** The default namespace prefix. */
export const DEFAULT_PREFIX = 'bwlab-'
const PREFIX_RE = /^[a-z][a-z0-9-]{0,11}$/

/** Lab namespaces, by role. */
export type Role = 'client' | 'isp' | 'world'
export const ROLES: readonly Role[] = ['client', 'isp', 'world']

/** Where and how to run a lab. */
export interface LabOptions {
  /** Namespace prefix; default "bwlab-". Two labs with different prefixes never collide. */
  prefix?: string
  /** State dir (CA, configs, PID files, logs); default $TMPDIR/blockwatch-lab-<prefix>. */
  stateDir?: string
}

/** What `up` built: everything a client of the lab needs. Also saved as state.json in the state dir. */
export interface LabInfo {
  prefix: string
  stateDir: string
  /** Namespace names, for `ip netns exec`. */
  namespaces: Record<Role, string>
  /** The lab's only address range. */
  range: string
  zone: string
  /** The address plan (see docs/lab.md). */
  addresses: typeof ADDR
  /** The IPv6 plan. */
  addresses6: typeof ADDR6
  /** The resolver the client is configured with (/etc/netns/<prefix>client/resolv.conf). */
  resolver: string
  /** The lab CA (PEM): pass as `--ca`. */
  caFile: string
  /** The CA of the tls-mitm middlebox's certificate (trust it only to check that a probe notices). */
  censorCaFile: string
  targets: LabTarget[]
  /** A Citizen Lab CSV of every http(s) target URL (notes: `lab:<technique>`), for `probe run --targets`. */
  targetsCsv: string
  /** The control vantage's base URL, when it was asked for; else null. */
  controlUrl: string | null
  scenario: Scenario
  outage: boolean
  /** How long `up` took. */
  upMs: number
}

/** Resolved names and paths of one lab. */
export interface LabPaths {
  prefix: string
  stateDir: string
  ns: Record<Role, string>
  pids: string
  logs: string
  state: string
}

/** Names and paths for the given options; validates the prefix. */
export function labPaths(opts: LabOptions = {}): LabPaths {
  const prefix = opts.prefix ?? DEFAULT_PREFIX
  if (!PREFIX_RE.test(prefix)) throw new UsageError(`--prefix must be 1 to 12 characters of a-z, 0-9 and '-', starting with a letter; got ${JSON.stringify(prefix)}`)
  const stateDir = resolve(opts.stateDir ?? process.env.BLOCKWATCH_LAB_DIR ?? join(tmpdir(), `blockwatch-lab-${prefix.replace(/-+$/, '')}`))
  return {
    prefix,
    stateDir,
    ns: { client: `${prefix}client`, isp: `${prefix}isp`, world: `${prefix}world` },
    pids: join(stateDir, 'pids'),
    logs: join(stateDir, 'logs'),
    state: join(stateDir, 'state.json')
  }
}

/** Why the lab cannot run here (not root, no `ip netns`), or null when it can. */
export async function labUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return 'the lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces)'
  if (!(await have('ip'))) return null // installed on first use
  const r = await run(['ip', 'netns', 'list'], { allowFail: true })
  if (r.code !== 0) return `ip netns does not work here: ${r.stderr.trim()}`
  return null
}

/** Installs the Debian packages the lab needs when a command is missing (first use). */
export async function ensurePackages(): Promise<void> {
  const need = new Set<string>()
  for (const [cmd, pkg] of [
    ['ip', 'iproute2'],
    ['tc', 'iproute2'],
    ['iptables', 'iptables'],
    ['iptables-restore', 'iptables'],
    ['ip6tables-restore', 'iptables'],
    ['openssl', 'openssl'],
    ['sysctl', 'procps']
  ] as const) {
    if (!(await have(cmd))) need.add(pkg)
  }
  if (need.size === 0) return
  process.stderr.write(`lab: installing ${[...need].join(' ')} with apt-get\n`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  await run(['apt-get', 'update', '-qq'], { env })
  await run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...need], { env })
}

// ---- namespaces ----------------------------------------------------------

async function nsList(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { allowFail: true })
  return r.stdout
    .split('\n')
    .map(l => l.split(' ')[0]!)
    .filter(Boolean)
}

async function linkExists(ns: string, dev: string): Promise<boolean> {
  return (await run(['ip', '-n', ns, 'link', 'show', dev], { allowFail: true })).code === 0
}

async function ipBatch(ns: string, lines: string[]): Promise<void> {
  if (lines.length > 0) await run(['ip', '-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' })
}

function netnsEtc(ns: string): string {
  return join('/etc/netns', ns)
}

async function buildTopology(p: LabPaths, targets: LabTarget[]): Promise<void> {
  const existing = new Set(await nsList())
  for (const role of ROLES) if (!existing.has(p.ns[role])) await run(['ip', 'netns', 'add', p.ns[role]])
  // veth pairs are created inside the namespaces, never in the host's.
  if (!(await linkExists(p.ns.isp, ISP_CLIENT_IF))) await run(['ip', '-n', p.ns.isp, 'link', 'add', ISP_CLIENT_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns.client])
  if (!(await linkExists(p.ns.isp, ISP_WORLD_IF))) await run(['ip', '-n', p.ns.isp, 'link', 'add', ISP_WORLD_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.ns.world])
  await Promise.all([
    ipBatch(p.ns.client, [
      'link set lo up',
      'link set eth0 up',
      `addr replace ${ADDR.client}/24 dev eth0`,
      `route replace default via ${ADDR.ispClientSide} dev eth0`,
      `addr replace ${ADDR6.client}/64 dev eth0 nodad`,
      `route replace ::/0 via ${ADDR6.ispClientSide} dev eth0`
    ]),
    ipBatch(p.ns.isp, [
      'link set lo up',
      `link set ${ISP_CLIENT_IF} up`,
      `link set ${ISP_WORLD_IF} up`,
      `addr replace ${ADDR.ispClientSide}/24 dev ${ISP_CLIENT_IF}`,
      `addr replace ${ADDR.ispWorldSide}/24 dev ${ISP_WORLD_IF}`,
      `addr replace ${ADDR.blockpage}/32 dev lo`,
      `addr replace ${ADDR.plainBlockpage}/32 dev lo`,
      `route replace ${LAB_RANGE} via ${ADDR.world} dev ${ISP_WORLD_IF}`,
      `addr replace ${ADDR6.ispClientSide}/64 dev ${ISP_CLIENT_IF} nodad`,
      `addr replace ${ADDR6.ispWorldSide}/64 dev ${ISP_WORLD_IF} nodad`,
      `addr replace ${ADDR6.plainBlockpage}/128 dev lo nodad`,
      `route replace ${LAB_RANGE6} via ${ADDR6.world} dev ${ISP_WORLD_IF}`
    ]),
    (async () => {
      // world's service addresses live on its loopback; flush the old set first (127.0.0.1 has scope host and stays).
      await run(['ip', '-n', p.ns.world, 'addr', 'flush', 'dev', 'lo', 'scope', 'global'], { allowFail: true })
      await ipBatch(p.ns.world, [
        'link set lo up',
        'link set eth0 up',
        `addr replace ${ADDR.world}/24 dev eth0`,
        `route replace ${LAB_RANGE} via ${ADDR.ispWorldSide} dev eth0`,
        `addr replace ${ADDR6.world}/64 dev eth0 nodad`,
        `route replace ${LAB_RANGE6} via ${ADDR6.ispWorldSide} dev eth0`,
        // Names sharing an address list it once.
        ...new Set([ADDR.resolver, ADDR.publicResolver, ADDR.control, ...targets.map(t => t.ip)].map(ip => `addr add ${ip}/32 dev lo`)),
        ...new Set(targets.flatMap(t => (t.ip6 === undefined ? [] : [`addr add ${t.ip6}/128 dev lo nodad`])))
      ])
    })()
  ])
  // IPv6 on every link (issue 15), addresses without duplicate address detection (nodad) so they work at once.
  await run([
    'ip',
    'netns',
    'exec',
    p.ns.isp,
    'sysctl',
    '-qw',
    'net.ipv4.ip_forward=1',
    'net.ipv6.conf.all.forwarding=1',
    `net.ipv6.conf.${ISP_CLIENT_IF}.disable_ipv6=0`,
    `net.ipv6.conf.${ISP_WORLD_IF}.disable_ipv6=0`
  ])
  await run(['ip', 'netns', 'exec', p.ns.client, 'sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=0'])
  await run(['ip', 'netns', 'exec', p.ns.world, 'sysctl', '-qw', 'net.ipv6.conf.eth0.disable_ipv6=0'])
  // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf: the client and world resolve through the lab's resolver.
  for (const role of ROLES) {
    mkdirSync(netnsEtc(p.ns[role]), { recursive: true })
    writeFileSync(join(netnsEtc(p.ns[role]), 'resolv.conf'), `# blockwatch lab ${p.prefix}\nnameserver ${ADDR.resolver}\noptions timeout:1 attempts:1\n`)
  }
}

async function applyIspRules(p: LabPaths, targets: LabTarget[], scenario: Scenario, outage: boolean): Promise<void> {
  const relays = relaysFor(targets, scenario.rttMs ?? 0)
  await run(['ip', 'netns', 'exec', p.ns.isp, 'iptables-restore', '-w', '10'], { input: ispRuleset(targets, relays, outage) })
  await run(['ip', 'netns', 'exec', p.ns.isp, 'ip6tables-restore', '-w', '10'], { input: ispRuleset6(targets, outage) })
  const tc = tcCommands(targets)
  const batch = (cmds: string[][]): string => cmds.map(c => c.join(' ')).join('\n') + '\n'
  // -force: go on past "no qdisc to delete".
  await run(['ip', 'netns', 'exec', p.ns.isp, 'tc', '-force', '-batch', '-'], { input: batch(tc.reset), allowFail: true })
  if (tc.add.length > 0) await run(['ip', 'netns', 'exec', p.ns.isp, 'tc', '-batch', '-'], { input: batch(tc.add) })
}

// ---- processes -----------------------------------------------------------

function pidFile(p: LabPaths, name: string): string {
  return join(p.pids, `${name}.pid`)
}

/** True while `pid` runs; a zombie (killed, not yet reaped by its parent) counts as gone. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The PIDs the lab's PID files name, by process name, with whether each is alive. */
export function labProcesses(p: LabPaths): Array<{ name: string; pid: number; alive: boolean }> {
  if (!existsSync(p.pids)) return []
  return readdirSync(p.pids)
    .filter(f => f.endsWith('.pid'))
    .map(f => {
      const pid = Number(readFileSync(join(p.pids, f), 'utf8').trim())
      return { name: f.slice(0, -4), pid, alive: Number.isInteger(pid) && pid > 0 && alive(pid) }
    })
}

/** Stops one lab process: SIGTERM (SIGKILL after 3 s), or SIGKILL at once for the stateless daemons. */
async function stopProcess(p: LabPaths, name: string, signal: 'SIGTERM' | 'SIGKILL' = name === 'aggregator' ? 'SIGTERM' : 'SIGKILL'): Promise<void> {
  const file = pidFile(p, name)
  if (!existsSync(file)) return
  const pid = Number(readFileSync(file, 'utf8').trim())
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    // Only signal the process if it is still ours (a PID can be reused): its environment names this lab's state dir.
    let environ = ''
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8')
    } catch {}
    if (environ.split('\0').includes(`BLOCKWATCH_LAB_STATE=${p.stateDir}`)) {
      process.kill(pid, signal)
      const deadline = Date.now() + 3000
      while (alive(pid) && Date.now() < deadline) await sleep(25)
      if (alive(pid)) process.kill(pid, 'SIGKILL')
      while (alive(pid)) await sleep(10)
    }
  }
  rmSync(file, { force: true })
}

async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Starts `argv` in a namespace, detached, logging to logs/<name>.log; writes pids/<name>.pid. */
function startProcess(p: LabPaths, ns: string, name: string, argv: string[], env: NodeJS.ProcessEnv): number {
  const log = openSync(join(p.logs, `${name}.log`), 'a')
  // `ip netns exec` execs the command itself, so the PID is the command's.
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { cwd: REPO, env, detached: true, stdio: ['ignore', log, log] })
  closeSync(log)
  child.unref()
  writeFileSync(pidFile(p, name), `${child.pid!}\n`)
  return child.pid!
}

async function waitFor(what: string, p: LabPaths, name: string, pid: number, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (!alive(pid)) throw new Error(`lab: ${what} exited while starting; its log (${join(p.logs, name + '.log')}) ends:\n${tail(join(p.logs, name + '.log'))}`)
    if (Date.now() > deadline) throw new Error(`lab: ${what} did not start within ${timeoutMs} ms; see ${join(p.logs, name + '.log')}`)
    await sleep(30)
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return '(no log)'
  }
}

/** The environment of lab processes: the lab CA instead of this machine's preset NODE_EXTRA_CA_CERTS. */
function daemonEnv(p: LabPaths, caFile: string): NodeJS.ProcessEnv {
  return { ...process.env, NODE_EXTRA_CA_CERTS: caFile, NODE_OPTIONS: '', BLOCKWATCH_LAB_STATE: p.stateDir }
}

async function startDaemon(p: LabPaths, role: 'isp' | 'world', configFile: string, readyFile: string, caFile: string): Promise<void> {
  rmSync(readyFile, { force: true })
  const pid = startProcess(
    p,
    p.ns[role],
    role,
    [process.execPath, ...(COMPILED ? [join(HERE, `${role}-daemon.js`)] : ['--import', 'tsx', join(HERE, `${role}-daemon.ts`)]), configFile],
    daemonEnv(p, caFile)
  )
  await waitFor(`the ${role} daemon`, p, role, pid, () => existsSync(readyFile), 20_000)
}

/** The aggregator's `serve` flags that exist today (the control flags are being added by issue 4). */
async function aggregatorFlags(): Promise<Set<string>> {
  const r = await run([process.execPath, 'scripts/blockwatch.js', 'aggregator', 'serve', '--help'], { cwd: REPO, allowFail: true, timeoutMs: 20_000 })
  return new Set((r.stdout + r.stderr).match(/--[a-z][a-z-]+/g) ?? [])
}

/** The ranges the control vantage may fetch despite its SSRF guard: the lab's, both families. */
const CONTROL_ALLOW = `${LAB_RANGE},${LAB_RANGE6}`

async function startControl(p: LabPaths, caFile: string, flagsPromise: Promise<Set<string>>, databaseUrl: string | undefined): Promise<void> {
  const flags = await flagsPromise
  const dataDir = join(p.stateDir, 'aggregator')
  mkdirSync(dataDir, { recursive: true })
  const argv = [process.execPath, 'scripts/blockwatch.js', 'aggregator', 'serve', '--host', ADDR.control, '--port', String(CONTROL_PORT)]
  if (flags.has('--data-dir')) argv.push('--data-dir', dataDir)
  if (flags.has('--control-allow')) argv.push('--control-allow', CONTROL_ALLOW) // what the control vantage may fetch despite its SSRF guard: the lab's sites
  if (flags.has('--ca')) argv.push('--ca', join(p.stateDir, 'ca.pem'))
  const logFile = join(p.logs, 'aggregator.log')
  rmSync(logFile, { force: true })
  const env = { ...daemonEnv(p, caFile), DATABASE_URL: databaseUrl ?? '', BLOCKWATCH_DATA_DIR: dataDir, PORT: String(CONTROL_PORT), HOST: ADDR.control, CONTROL_ALLOW }
  const pid = startProcess(p, p.ns.world, 'aggregator', argv, env)
  await waitFor('the aggregator (control vantage)', p, 'aggregator', pid, () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('listening on'), 120_000)
}

/** The targets as a Citizen Lab test list (url,category_code,category_description,date_added,source,notes). */
export function targetListCsv(targets: LabTarget[]): string {
  const rows = ['url,category_code,category_description,date_added,source,notes']
  for (const t of targets) {
    for (const url of t.urls.filter(u => u.startsWith('http'))) rows.push(`${url},MISC,Miscellaneous content,2026-01-01,blockwatch-lab,lab:${t.down ? 'site-down' : (t.technique ?? 'healthy')}`)
  }
  return rows.join('\n') + '\n'
}

// ---- up / down / status --------------------------------------------------

/** Options of up(). */
export interface UpOptions extends LabOptions {
  scenario: Scenario
  /** Overrides the scenario's `sites`. */
  sites?: number
  /** Overrides the scenario's `control`. */
  control?: boolean
  /**
   * The control vantage's DATABASE_URL; default empty (embedded PGlite in the
   * state dir, which takes 5–30 s to initialise). It runs in world, so a
   * PostgreSQL on the host must be reached over its Unix socket, e.g.
   * `postgres://postgres@localhost/DB?host=/var/run/postgresql`.
   */
  controlDatabaseUrl?: string
}

/**
 * Brings the lab up (or makes a running lab match the scenario). Idempotent:
 * running it twice leaves the same namespaces, rules and processes.
 */
export async function up(opts: UpOptions): Promise<LabInfo> {
  const started = Date.now()
  const phase = (name: string): void => {
    if (process.env.BLOCKWATCH_LAB_DEBUG === '1') process.stderr.write(`lab: ${name} at ${Date.now() - started} ms\n`)
  }
  const why = await labUnavailable()
  if (why !== null) throw new Error(`lab: ${why}`)
  await ensurePackages()
  phase('packages')
  const p = labPaths(opts)
  const scenario: Scenario = { ...opts.scenario }
  if (opts.sites !== undefined) scenario.sites = opts.sites
  if (opts.control !== undefined) scenario.control = opts.control
  const targets = buildTargets(scenario)
  mkdirSync(p.pids, { recursive: true })
  mkdirSync(p.logs, { recursive: true })
  const certs = await ensureCerts(p.stateDir)
  phase('certificates')
  const controlRunning = labProcesses(p).find(x => x.name === 'aggregator')?.alive === true
  // Asking the aggregator for its flags takes a second: do it while the rest comes up.
  const flags = scenario.control === true && !controlRunning ? aggregatorFlags().catch(() => new Set<string>()) : null

  await Promise.all([stopProcess(p, 'isp'), stopProcess(p, 'world')])
  phase('old daemons stopped')
  await buildTopology(p, targets)
  phase('topology')
  const outage = scenario.outage ?? false
  await applyIspRules(p, targets, scenario, outage)
  phase('isp rules')

  const relays = relaysFor(targets, scenario.rttMs ?? 0)
  const ispFile = join(p.stateDir, 'isp.json')
  const worldFile = join(p.stateDir, 'world.json')
  const isp = ispConfig(targets, relays, scenario.rttMs ?? 0, { mitmCert: certs.mitmCert, mitmKey: certs.mitmKey, readyFile: join(p.stateDir, 'isp.ready') })
  const world = worldConfig(targets, { cert: certs.siteCert, key: certs.siteKey, controlSocket: join(p.stateDir, 'world.sock'), readyFile: join(p.stateDir, 'world.ready') })
  writeFileSync(ispFile, JSON.stringify(isp, null, 2))
  writeFileSync(worldFile, JSON.stringify(world, null, 2))
  let controlUrl: string | null = null
  if (scenario.control === true) controlUrl = CONTROL_URL
  else await stopProcess(p, 'aggregator')
  await Promise.all([
    startDaemon(p, 'isp', ispFile, isp.readyFile, certs.ca),
    startDaemon(p, 'world', worldFile, world.readyFile, certs.ca),
    // The control vantage needs only world's addresses: it starts alongside the daemons.
    flags !== null ? startControl(p, certs.ca, flags, opts.controlDatabaseUrl) : Promise.resolve()
  ])
  phase('daemons ready')
  const targetsCsv = join(p.stateDir, 'targets.csv')
  writeFileSync(targetsCsv, targetListCsv(targets))
  const info: LabInfo = {
    prefix: p.prefix,
    stateDir: p.stateDir,
    namespaces: p.ns,
    range: LAB_RANGE,
    zone: LAB_ZONE,
    addresses: ADDR,
    addresses6: ADDR6,
    resolver: ADDR.resolver,
    caFile: certs.ca,
    censorCaFile: certs.censorCa,
    targets,
    targetsCsv,
    controlUrl,
    scenario,
    outage,
    upMs: Date.now() - started
  }
  writeFileSync(p.state, JSON.stringify(info, null, 2) + '\n')
  return info
}

/** Removes every namespace, rule and process of the lab, and its state dir. Safe to run on a lab that is not up. */
export async function down(opts: LabOptions = {}): Promise<void> {
  const p = labPaths(opts)
  for (const proc of labProcesses(p)) await stopProcess(p, proc.name)
  const existing = new Set(await nsList())
  for (const role of ROLES) {
    const ns = p.ns[role]
    if (!existing.has(ns)) continue
    // A lab process whose PID file was lost would keep the namespace alive: every process in our own namespace is the lab's.
    const pids = (await run(['ip', 'netns', 'pids', ns], { allowFail: true })).stdout
      .split('\n')
      .map(Number)
      .filter(n => n > 0)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
    await run(['ip', 'netns', 'del', ns], { allowFail: true })
  }
  for (const role of ROLES) rmSync(netnsEtc(p.ns[role]), { recursive: true, force: true })
  rmSync(p.stateDir, { recursive: true, force: true })
}

/** What is up: the saved LabInfo, the namespaces that exist, and the processes. */
export async function status(opts: LabOptions = {}): Promise<{ up: boolean; info: LabInfo | null; namespaces: string[]; processes: ReturnType<typeof labProcesses> }> {
  const p = labPaths(opts)
  const all = new Set(await nsList())
  const namespaces = ROLES.map(r => p.ns[r]).filter(ns => all.has(ns))
  let info: LabInfo | null = null
  try {
    info = JSON.parse(readFileSync(p.state, 'utf8')) as LabInfo
  } catch {}
  const processes = labProcesses(p)
  const up = info !== null && namespaces.length === 3 && processes.filter(x => x.name !== 'aggregator').every(x => x.alive) && processes.length >= 2
  return { up, info, namespaces, processes }
}

/** Turns the whole-network outage on (isp drops everything from and to the client) or off. */
export async function setOutage(on: boolean, opts: LabOptions = {}): Promise<void> {
  const p = labPaths(opts)
  for (const cmd of ['iptables', 'ip6tables']) {
    await run(['ip', 'netns', 'exec', p.ns.isp, cmd, '-w', '10', '-F', 'BW_OUTAGE'])
    if (on) await run(['ip', 'netns', 'exec', p.ns.isp, cmd, '-w', '10', '-A', 'BW_OUTAGE', '-j', 'DROP'])
  }
  try {
    const info = JSON.parse(readFileSync(p.state, 'utf8')) as LabInfo
    info.outage = on
    writeFileSync(p.state, JSON.stringify(info, null, 2) + '\n')
  } catch {}
}

/** Stops ("site down": connections are refused for everyone) or restarts one target's server in world. */
export async function setSite(name: string, running: boolean, opts: LabOptions = {}): Promise<void> {
  const p = labPaths(opts)
  const socketPath = join(p.stateDir, 'world.sock')
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ socketPath, method: 'POST', path: `/sites/${encodeURIComponent(name)}/${running ? 'start' : 'stop'}` }, res => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d
      })
      res.on('end', () => {
        res.statusCode === 200 ? resolve() : reject(new UsageError(`lab: no such site ${JSON.stringify(name)} (${text})`))
      })
    })
    req.on('error', err => reject(new Error(`lab: the world daemon does not answer on ${socketPath} (is the lab up?): ${err.message}`)))
    req.end()
  })
}

/** Runs argv inside one of the lab's namespaces. */
export async function execIn(
  role: Role,
  argv: string[],
  opts: LabOptions & { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = labPaths(opts)
  return await run(['ip', 'netns', 'exec', p.ns[role], ...argv], { allowFail: true, env: opts.env, input: opts.input, timeoutMs: opts.timeoutMs, cwd: REPO })
}
