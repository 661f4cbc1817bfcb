/**
 * The censorship lab for tests (issue 3; docs/lab.md). One call brings a lab
 * up for a test file and tears it down at the end:
 *
 * ```ts
 * import t from 'tap'
 * import { startLab } from '../helpers/lab.ts'
 *
 * const lab = await startLab(t, { prefix: 'bwprobe-', scenario: 'all-techniques' })
 * if (lab !== null) {
 *   const r = await lab.exec('client', ['node', 'scripts/blockwatch.js', 'probe', 'run', '--ca', lab.caFile, …])
 *   t.equal(r.code, 0)
 * }
 * ```
 *
 * Where the lab cannot run (not root, no `ip netns`) startLab skips the test
 * with a one-line reason (t.plan(0, reason)) and resolves to null.
 * tap runs test files in parallel: give every test file its own `prefix`.
 *
 * **One lab per run** (`shared: true`): the files that only use the lab, and
 * put back what they change, share one lab (prefix `bwshared-`) and one
 * control vantage on the host's PostgreSQL. A file takes the lab under a lock
 * (one file at a time: they stop sites, cut the network, apply scenarios),
 * makes it match its scenario (a running lab is re-applied in 1–4 s, and the
 * control vantage keeps running), and at its end turns the outage off and
 * starts the sites it stopped. The lab stays up for the next file;
 * test/helpers/after-run.ts (tap's `after`) brings it down when the run that
 * used it last ends (another run beside it, on the same machine, leaves it).
 * A file run alone, outside tap's runner, brings it down itself.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { down, labUnavailable, setOutage, setSite, status, up, type LabInfo, type Role } from '../../scripts/lab/lab.ts'
import { loadScenario, validateScenario, type LabTarget, type Scenario } from '../../scripts/lab/plan.ts'
import { run, type RunResult } from '../../scripts/lab/sh.ts'
import { REPO_ROOT } from './paths.ts'

export type { LabInfo, LabTarget, Role, Scenario }

/** The smallest part of a tap Test that startLab needs. */
export interface LabTest {
  teardown: (fn: () => unknown) => void
  plan: (n: number, comment?: string) => void
}

/** Options of startLab(). */
export interface StartLabOptions {
  /** Namespace prefix, unique per test file (e.g. "bwprobe-"): 1–12 of a-z 0-9 '-', starting with a letter. Ignored with `shared`. */
  prefix: string
  /**
   * Use the run's one shared lab (see above) instead of a lab of this file's
   * own. The file must put back what it changes through the Lab's own
   * methods (stopSite/startSite, setOutage, apply are tracked and undone).
   * `controlDatabaseUrl` is then the shared lab's: a database on the host's
   * PostgreSQL when it has one, else PGlite.
   */
  shared?: boolean
  /**
   * A built-in scenario name (a file in scripts/lab/scenarios/: "all-techniques",
   * "healthy", "benchmark"), a path to a scenario file, or a scenario object.
   * Default "all-techniques".
   */
  scenario?: string | Scenario
  /** Extra healthy sites site-001.lab.test … (overrides the scenario's `sites`). */
  sites?: number
  /** Start the aggregator's control vantage in world (overrides the scenario's `control`). */
  control?: boolean
  /** Added round-trip time in ms for every healthy web target (overrides the scenario's `rttMs`). */
  rttMs?: number
  /**
   * The control vantage's DATABASE_URL (default: embedded PGlite, slow to
   * start). From world, a host PostgreSQL is reachable only over its Unix
   * socket: `postgres://postgres@localhost/DB?host=/var/run/postgresql`.
   */
  controlDatabaseUrl?: string
}

/** Options of Lab.exec(). */
export interface ExecOptions {
  /** Added to (or overriding) this process's environment; set a variable to '' to blank it. */
  env?: NodeJS.ProcessEnv
  input?: string
  /** Kill the command after this many ms (default: none). */
  timeoutMs?: number
}

/** A running lab: its description (LabInfo: addresses, resolver, caFile, targets, controlUrl …) and its controls. */
export interface Lab extends LabInfo {
  /** The target named `name` (throws if there is none). */
  target: (name: string) => LabTarget
  /** The target's first URL with the given scheme ("http", "https", "smpp"). */
  url: (name: string, scheme?: 'http' | 'https' | 'smpp') => string
  /** `['ip', 'netns', 'exec', <ns>, ...argv]`: to spawn a command in a namespace yourself. */
  nsArgv: (role: Role, argv: string[]) => string[]
  /** Runs argv in a namespace (cwd: the repository root) and resolves when it exits; never rejects on a non-zero exit. */
  exec: (role: Role, argv: string[], opts?: ExecOptions) => Promise<RunResult>
  /** Spawns argv in a namespace (a long-running process); kill it yourself. */
  spawn: (role: Role, argv: string[], opts?: SpawnOptions) => ChildProcess
  /** Stops a target's server in world: "site down" for everyone (connections are refused). */
  stopSite: (name: string) => Promise<void>
  /** Starts a stopped target's server again. */
  startSite: (name: string) => Promise<void>
  /** Whole-network outage: isp drops everything from and to the client (on), or stops doing so (off). */
  setOutage: (on: boolean) => Promise<void>
  /**
   * Re-applies the lab with another scenario: isp's rules and the two daemons
   * are rebuilt (a few seconds); stopped sites and the outage are reset; the
   * control vantage keeps running (unless `extra.control` is false).
   */
  apply: (scenario: string | Scenario, extra?: { sites?: number; control?: boolean }) => Promise<void>
  /** Brings the lab down now (it is also done at teardown). */
  down: () => Promise<void>
}

function resolveScenario(s: string | Scenario | undefined): Scenario {
  if (s === undefined) s = 'all-techniques'
  if (typeof s !== 'string') return validateScenario(structuredClone(s), 'scenario')
  const file = /^[a-z0-9-]+$/.test(s) ? join(REPO_ROOT, `scripts/lab/scenarios/${s}.json`) : s
  return loadScenario(file)
}

/**
 * Brings a lab up for the test `t` and registers its teardown. Resolves to
 * null (the test is skipped, with the reason) where namespaces are not available.
 */
export async function startLab(t: LabTest, opts: StartLabOptions): Promise<Lab | null> {
  const why = await labUnavailable()
  if (why !== null) {
    t.plan(0, `skip: ${why}`)
    return null
  }
  if (opts.shared === true) return await startSharedLab(t, opts)
  const base = { prefix: opts.prefix }
  t.teardown(async () => {
    await down(base)
  })
  const scenario = resolveScenario(opts.scenario)
  if (opts.rttMs !== undefined) scenario.rttMs = opts.rttMs
  const info = await up({ ...base, scenario, sites: opts.sites, control: opts.control, controlDatabaseUrl: opts.controlDatabaseUrl })
  return labOf(info, base, opts)
}

/** The Lab object over a lab that is up. */
function labOf(first: LabInfo, base: { prefix: string }, opts: StartLabOptions): Lab {
  let info = first
  const ns = (role: Role): string => info.namespaces[role]
  const lab: Lab = {
    ...info,
    target(name) {
      const found = lab.targets.find(x => x.name === name)
      if (found === undefined) throw new Error(`lab: no target ${JSON.stringify(name)}; targets: ${lab.targets.map(x => x.name).join(', ')}`)
      return found
    },
    url(name, scheme = 'http') {
      const u = lab.target(name).urls.find(x => x.startsWith(scheme + '://'))
      if (u === undefined) throw new Error(`lab: target ${name} has no ${scheme} URL`)
      return u
    },
    nsArgv: (role, argv) => ['ip', 'netns', 'exec', ns(role), ...argv],
    exec: async (role, argv, o = {}) => await run(['ip', 'netns', 'exec', ns(role), ...argv], { ...o, env: { ...process.env, ...o.env }, allowFail: true, cwd: REPO_ROOT }),
    spawn: (role, argv, o = {}) => spawn('ip', ['netns', 'exec', ns(role), ...argv], { cwd: REPO_ROOT, ...o }),
    stopSite: async name => {
      await setSite(name, false, base)
    },
    startSite: async name => {
      await setSite(name, true, base)
    },
    setOutage: async on => {
      await setOutage(on, base)
      lab.outage = on
    },
    apply: async (scenario, extra = {}) => {
      // The control vantage keeps running unless asked otherwise.
      info = await up({ ...base, scenario: resolveScenario(scenario), control: opts.control, controlDatabaseUrl: opts.controlDatabaseUrl, ...extra })
      Object.assign(lab, info)
    },
    down: async () => {
      await down(base)
    }
  }
  return lab
}

/** The shared lab's namespace prefix, lock and record of what it runs now. */
export const SHARED_PREFIX = 'bwshared-'
const SHARED_LOCK = '\0blockwatch-shared-lab'
export const SHARED_STATE = join(tmpdir(), 'blockwatch-shared-lab.json')
/** The control vantage's database on the host's PostgreSQL (dropped by after-run.ts). */
export const SHARED_CONTROL_DB = 'bw_lab_shared_control'

/**
 * Takes the shared lab's lock, waiting while another file holds it. The lock
 * is a Unix socket in Linux's abstract namespace: binding it is atomic, and
 * the kernel frees it when its process ends, however it ends, so a file
 * that crashes never leaves the lab locked.
 */
async function lockSharedLab(): Promise<() => void> {
  for (;;) {
    const server = createServer()
    const bound = await new Promise<boolean>((resolve, reject) => {
      server.once('error', err => {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') resolve(false)
        else reject(err)
      })
      server.listen({ path: SHARED_LOCK }, () => {
        resolve(true)
      })
    })
    if (bound) {
      server.unref()
      return () => {
        server.close()
      }
    }
    await sleep(250)
  }
}

/** A connection to the host's PostgreSQL to create and drop the shared lab's database with: DATABASE_URL, else the default server. */
export function hostAdminUrl(): string {
  const url = process.env.DATABASE_URL
  return url !== undefined && url !== '' ? url : 'postgres://postgres@127.0.0.1:5432/postgres'
}

/**
 * A database for the shared control vantage on the host's PostgreSQL, as a
 * Unix-socket URL (world reaches the host only that way), or undefined
 * (the control vantage then runs on PGlite, slower to start).
 */
async function sharedControlDatabase(): Promise<string | undefined> {
  if (!existsSync('/var/run/postgresql/.s.PGSQL.5432')) return undefined
  const admin = new pg.Client({ connectionString: hostAdminUrl() })
  try {
    await admin.connect()
  } catch {
    return undefined
  }
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [SHARED_CONTROL_DB])
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${SHARED_CONTROL_DB}`)
  } catch {
    return undefined
  } finally {
    await admin.end()
  }
  return `postgres://postgres@localhost/${SHARED_CONTROL_DB}?host=/var/run/postgresql`
}

async function startSharedLab(t: LabTest, opts: StartLabOptions): Promise<Lab> {
  const base = { prefix: SHARED_PREFIX }
  // Registered first, so that it runs last: the lock goes after the lab is put back.
  const unlock = await lockSharedLab()
  t.teardown(unlock)
  const scenario = resolveScenario(opts.scenario)
  if (opts.rttMs !== undefined) scenario.rttMs = opts.rttMs
  // The control vantage, once started, serves every file that shares the lab.
  const want = JSON.stringify({ scenario, sites: opts.sites ?? null })
  let running: { want?: string } = {}
  try {
    running = JSON.parse(readFileSync(SHARED_STATE, 'utf8')) as { want?: string }
  } catch {}
  // The run that used the lab last owns it: its tap runner (this process's
  // parent) brings it down at its end (after-run.ts), and no other run does.
  const own = (want: string): void => {
    writeFileSync(SHARED_STATE, JSON.stringify({ want, owner: process.ppid }))
  }
  const now = await status(base)
  // A control vantage that runs stays (the next file may want it); one is started when this file wants it.
  const control = opts.control === true || (now.up && now.info !== null && now.info.controlUrl !== null)
  const controlDatabaseUrl = control ? await sharedControlDatabase() : undefined
  let info: LabInfo
  if (now.up && now.info !== null && running.want === want && (opts.control !== true || now.info.controlUrl !== null)) {
    info = now.info
  } else {
    info = await up({ ...base, scenario, sites: opts.sites, control: control ? true : undefined, controlDatabaseUrl })
  }
  own(want)
  const lab = labOf(info, base, { ...opts, control: control ? true : undefined, controlDatabaseUrl })
  // What this file changes, to put back at its end.
  const stopped = new Set<string>()
  let outage = false
  let downed = false
  const { stopSite, startSite, setOutage: outageOf, apply, down: bringDown } = lab
  lab.stopSite = async name => {
    await stopSite(name)
    stopped.add(name)
  }
  lab.startSite = async name => {
    await startSite(name)
    stopped.delete(name)
  }
  lab.setOutage = async on => {
    await outageOf(on)
    outage = on
  }
  lab.apply = async (s, extra = {}) => {
    await apply(s, extra)
    stopped.clear()
    outage = false
    own('applied')
  }
  lab.down = async () => {
    downed = true
    rmSync(SHARED_STATE, { force: true })
    await bringDown()
  }
  t.teardown(async () => {
    // Outside tap's runner nobody runs after-run.ts: bring the lab down.
    if (process.env.TAP_CHILD_ID === undefined) {
      if (!downed) await bringDown()
      rmSync(SHARED_STATE, { force: true })
      return
    }
    if (downed) return
    if (outage) await outageOf(false)
    for (const name of stopped) await startSite(name)
  })
  return lab
}
