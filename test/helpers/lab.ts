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
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { down, labUnavailable, setOutage, setSite, up, type LabInfo, type Role } from '../../scripts/lab/lab.ts'
import { loadScenario, validateScenario, type LabTarget, type Scenario } from '../../scripts/lab/plan.ts'
import { run, type RunResult } from '../../scripts/lab/sh.ts'

export type { LabInfo, LabTarget, Role, Scenario }

/** The repository root: the working directory of every command run by exec(). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The smallest part of a tap Test that startLab needs. */
export interface LabTest {
  teardown: (fn: () => unknown) => void
  plan: (n: number, comment?: string) => void
}

/** Options of startLab(). */
export interface StartLabOptions {
  /** Namespace prefix, unique per test file (e.g. "bwprobe-"): 1–12 of a-z 0-9 '-', starting with a letter. */
  prefix: string
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
  apply: (scenario: string | Scenario, extra?: { sites?: number, control?: boolean }) => Promise<void>
  /** Brings the lab down now (it is also done at teardown). */
  down: () => Promise<void>
}

function resolveScenario (s: string | Scenario | undefined): Scenario {
  if (s === undefined) s = 'all-techniques'
  if (typeof s !== 'string') return validateScenario(structuredClone(s), 'scenario')
  const file = /^[a-z0-9-]+$/.test(s) ? fileURLToPath(new URL(`../../scripts/lab/scenarios/${s}.json`, import.meta.url)) : s
  return loadScenario(file)
}

/**
 * Brings a lab up for the test `t` and registers its teardown. Resolves to
 * null (the test is skipped, with the reason) where namespaces are not available.
 */
export async function startLab (t: LabTest, opts: StartLabOptions): Promise<Lab | null> {
  const why = await labUnavailable()
  if (why !== null) { t.plan(0, `skip: ${why}`); return null }
  const base = { prefix: opts.prefix }
  t.teardown(async () => { await down(base) })
  const scenario = resolveScenario(opts.scenario)
  if (opts.rttMs !== undefined) scenario.rttMs = opts.rttMs
  let info = await up({ ...base, scenario, sites: opts.sites, control: opts.control, controlDatabaseUrl: opts.controlDatabaseUrl })
  const ns = (role: Role): string => info.namespaces[role]
  const lab: Lab = {
    ...info,
    target (name) {
      const found = lab.targets.find(x => x.name === name)
      if (found === undefined) throw new Error(`lab: no target ${JSON.stringify(name)}; targets: ${lab.targets.map(x => x.name).join(', ')}`)
      return found
    },
    url (name, scheme = 'http') {
      const u = lab.target(name).urls.find(x => x.startsWith(scheme + '://'))
      if (u === undefined) throw new Error(`lab: target ${name} has no ${scheme} URL`)
      return u
    },
    nsArgv: (role, argv) => ['ip', 'netns', 'exec', ns(role), ...argv],
    exec: async (role, argv, o = {}) => await run(['ip', 'netns', 'exec', ns(role), ...argv], { ...o, env: { ...process.env, ...o.env }, allowFail: true, cwd: REPO_ROOT }),
    spawn: (role, argv, o = {}) => spawn('ip', ['netns', 'exec', ns(role), ...argv], { cwd: REPO_ROOT, ...o }),
    stopSite: async (name) => { await setSite(name, false, base) },
    startSite: async (name) => { await setSite(name, true, base) },
    setOutage: async (on) => { await setOutage(on, base); lab.outage = on },
    apply: async (scenario, extra = {}) => {
      // The control vantage keeps running unless asked otherwise.
      info = await up({ ...base, scenario: resolveScenario(scenario), control: opts.control, controlDatabaseUrl: opts.controlDatabaseUrl, ...extra })
      Object.assign(lab, info)
    },
    down: async () => { await down(base) }
  }
  return lab
}
