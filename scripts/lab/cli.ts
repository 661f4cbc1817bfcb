/**
 * `blockwatch lab`: the censorship lab in network namespaces (issue 3).
 * This file only parses flags and prints; the work is in lab.ts. Docs: docs/lab.md.
 */
import { join } from 'node:path'
import { intFlag, parseFlags, runCommand, UsageError } from '../../shared/src/args.ts'
import { spawnSync } from 'node:child_process'
import { down, labPaths, REPO, ROLES, setOutage, setSite, status, up, type LabInfo, type Role } from './lab.ts'
import { loadScenario, MAX_SITES } from './plan.ts'

const HELP = `blockwatch lab — a censorship lab of network namespaces on this machine (root)

Usage:
  blockwatch lab up [--scenario FILE] [--sites N] [--rtt-ms MS] [--control] [--json]
  blockwatch lab down
  blockwatch lab status [--json]
  blockwatch lab exec client|isp|world -- CMD [ARG…]
  blockwatch lab outage on|off
  blockwatch lab stop-site NAME | start-site NAME

Options (all commands):
  --prefix P       namespace prefix, default "bwlab-" (namespaces P+client, P+isp, P+world)
  --state-dir DIR  CA, configs, PID files, logs; default $TMPDIR/blockwatch-lab-<prefix>
                   (or BLOCKWATCH_LAB_DIR)
up:
  --scenario FILE  what isp does to each target (JSON; see docs/lab.md), default
                   scripts/lab/scenarios/all-techniques.json
  --sites N        add N healthy sites site-001.lab.test … (0 to ${MAX_SITES})
  --rtt-ms MS      added round-trip time for every healthy web target (0 to 10000)
  --control        start the aggregator's control vantage in world
  --control-database-url URL
                   its DATABASE_URL (default: embedded PGlite); from world a host
                   PostgreSQL is reached over its Unix socket (?host=/var/run/postgresql)
  --json           print the lab's description (targets, addresses, CA) as JSON

Example:
  npm run lab -- up --scenario scripts/lab/scenarios/all-techniques.json
  npm run lab -- exec client -- curl --cacert /tmp/blockwatch-lab-bwlab/ca.pem https://healthy.lab.test/
`

const COMMON = { prefix: { type: 'string' }, 'state-dir': { type: 'string' } } as const

function summary(info: LabInfo): string {
  const lines = [
    `lab ${info.prefix} is up in ${info.upMs} ms (namespaces ${Object.values(info.namespaces).join(', ')})`,
    `  resolver ${info.resolver}, CA ${info.caFile}${info.controlUrl !== null ? `, control ${info.controlUrl}` : ''}${info.outage ? ', OUTAGE on' : ''}`
  ]
  const named = info.targets.filter(t => !/^site-\d+$/.test(t.name))
  for (const t of named) {
    const addr = t.ipv6 === 'only' ? t.ip6! : t.ipv6 === true ? `${t.ip} ${t.ip6!}` : t.ip
    lines.push(`  ${t.host.padEnd(30)} ${addr.padEnd(13)} ${(t.technique ?? 'healthy').padEnd(20)} ${t.urls.join(' ')}${t.down ? ' (down)' : ''}`)
  }
  const sites = info.targets.length - named.length
  if (sites > 0) lines.push(`  + ${sites} healthy sites site-001.${info.zone} …`)
  return lines.join('\n') + '\n'
}

/** Runs `blockwatch lab …`; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const [cmd, ...rest] = argv
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP)
      return cmd === undefined ? 2 : 0
    }
    switch (cmd) {
      case 'up': {
        const { values } = parseFlags(rest, {
          ...COMMON,
          scenario: { type: 'string' },
          sites: { type: 'string' },
          'rtt-ms': { type: 'string' },
          'control-database-url': { type: 'string' },
          control: { type: 'boolean' },
          json: { type: 'boolean' }
        })
        const scenario = loadScenario(values.scenario ?? join(REPO, 'scripts/lab/scenarios/all-techniques.json'))
        const sites = values.sites === undefined ? undefined : intFlag('sites', values.sites, 0, 0, MAX_SITES)
        if (values['rtt-ms'] !== undefined) scenario.rttMs = intFlag('rtt-ms', values['rtt-ms'], 0, 0, 10000)
        const info = await up({
          prefix: values.prefix,
          stateDir: values['state-dir'],
          scenario,
          sites,
          control: values.control === true ? true : undefined,
          controlDatabaseUrl: values['control-database-url']
        })
        process.stdout.write(values.json === true ? JSON.stringify(info, null, 2) + '\n' : summary(info))
        return 0
      }
      case 'down': {
        const { values } = parseFlags(rest, COMMON)
        await down({ prefix: values.prefix, stateDir: values['state-dir'] })
        return 0
      }
      case 'status': {
        const { values } = parseFlags(rest, { ...COMMON, json: { type: 'boolean' } })
        const s = await status({ prefix: values.prefix, stateDir: values['state-dir'] })
        if (values.json === true) {
          process.stdout.write(JSON.stringify(s, null, 2) + '\n')
          return s.up ? 0 : 3
        }
        if (s.info !== null && s.up) process.stdout.write(summary(s.info))
        else process.stdout.write(`lab is not up (namespaces: ${s.namespaces.join(', ') || 'none'})\n`)
        for (const pr of s.processes) process.stdout.write(`  process ${pr.name} pid ${pr.pid} ${pr.alive ? 'running' : 'DEAD'}\n`)
        return s.up ? 0 : 3
      }
      case 'exec': {
        const sep = rest.indexOf('--')
        const before = sep === -1 ? rest.slice(0, 1) : rest.slice(0, sep)
        const command = sep === -1 ? rest.slice(1) : rest.slice(sep + 1)
        const { values, positionals } = parseFlags(before, COMMON, true)
        const role = positionals[0] as Role
        if (!ROLES.includes(role)) throw new UsageError(`lab exec: say where to run: client, isp or world; got ${JSON.stringify(positionals[0])}`)
        if (command.length === 0) throw new UsageError('lab exec: give the command after --, e.g. `lab exec client -- ip addr`')
        const r = spawnSync('ip', ['netns', 'exec', labPaths({ prefix: values.prefix }).ns[role], ...command], { stdio: 'inherit' })
        return r.status ?? 1
      }
      case 'outage': {
        const { values, positionals } = parseFlags(rest, COMMON, true)
        if (positionals[0] !== 'on' && positionals[0] !== 'off') throw new UsageError('lab outage: say on or off')
        await setOutage(positionals[0] === 'on', { prefix: values.prefix, stateDir: values['state-dir'] })
        return 0
      }
      case 'stop-site':
      case 'start-site': {
        const { values, positionals } = parseFlags(rest, COMMON, true)
        if (positionals.length !== 1) throw new UsageError(`lab ${cmd}: give one target name, e.g. \`lab ${cmd} healthy\``)
        await setSite(positionals[0]!, cmd === 'start-site', { prefix: values.prefix, stateDir: values['state-dir'] })
        return 0
      }
      default:
        throw new UsageError(`lab: unknown command ${JSON.stringify(cmd)}; commands: up, down, status, exec, outage, stop-site, start-site`)
    }
  })
}
