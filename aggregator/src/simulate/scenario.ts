/**
 * The scenario format of `blockwatch simulate`: JSON naming countries,
 * networks (ASNs) and their probes, targets, blocking episodes (technique,
 * networks, flapping), a background false-positive rate, outages and
 * upload delays. See docs/methodology.md ("Simulated scenarios") and the
 * shipped demo, scenarios/demo.json.
 *
 * Times are hours from the scenario's start; `start` is an ISO timestamp
 * or "-7d" / "-36h" (relative to now, rounded down to the hour).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../../../shared/src/args.ts'
import { testNameFor, domainOf } from '../../../shared/src/target.ts'
import { isRegionCode } from '../../../shared/src/region.ts'
import { SIM_TECHNIQUES, type SimTechnique } from '../../../shared/src/nettests/kind.ts'

/** How an episode blocks its targets, as the probe would see it. */
export const TECHNIQUES = SIM_TECHNIQUES
export type Technique = SimTechnique

export interface ScenarioNetwork {
  asn: string
  name?: string
  /** Probes in this network. */
  probes: number
  /** Subdivisions the probes declare, assigned round-robin. */
  regions?: string[]
}

export interface ScenarioCountry {
  cc: string
  networks: ScenarioNetwork[]
}

/** A target, with its Citizen Lab category (carried into each document's annotations). */
export interface ScenarioTarget {
  input: string
  category_code?: string
}

/** Citizen Lab's category codes (citizenlab/test-lists, lists/00-LEGEND-new_category_codes.csv). */
export const CITIZEN_LAB_CATEGORIES: ReadonlySet<string> = new Set([
  'ALDR',
  'REL',
  'PORN',
  'PROV',
  'POLR',
  'HUMR',
  'ENV',
  'MILX',
  'HATE',
  'NEWS',
  'XED',
  'PUBH',
  'GMB',
  'ANON',
  'DATE',
  'GRP',
  'LGBT',
  'FILE',
  'HACK',
  'COMT',
  'MMED',
  'HOST',
  'SRCH',
  'GAME',
  'CULTR',
  'ECON',
  'GOVT',
  'COMM',
  'CTRL',
  'IGO',
  'MISC'
])

export interface Episode {
  name?: string
  cc: string
  /** Networks affected: ASNs, or "all" (the default). */
  asns?: string[] | 'all'
  /** Targets (inputs) affected. */
  targets: string[]
  technique: Technique
  start_hour: number
  end_hour: number
  /** On/off cycles inside the episode, starting on. */
  flapping?: { on_minutes: number; off_minutes: number }
  /** Share of the networks' probes that see it (default 1); 0 < share ≤ 1. At least one probe. */
  probe_share?: number
  /** Blockpage IP for dns_blockpage (default: the country's national one, if known). */
  blockpage_ip?: string
}

export interface Outage {
  cc: string
  asns?: string[] | 'all'
  start_hour: number
  end_hour: number
  /** Hours after the outage ends at which the probes' outboxes upload (default 0.5). */
  upload_after_hours?: number
}

export interface UploadDelay {
  cc: string
  asns?: string[] | 'all'
  /** Measurements made in [from_hour, to_hour) are uploaded `delay_hours` late. */
  from_hour: number
  to_hour: number
  delay_hours: number
  probe_share?: number
}

export interface Scenario {
  name: string
  description?: string
  start: string
  duration_hours: number
  /** Minutes between two measurements of one target by one probe (default 30). */
  interval_minutes?: number
  /** Share of measurements of unblocked targets that come out anomalous anyway (default 0.02). */
  background_fp_rate?: number
  seed?: number
  countries: ScenarioCountry[]
  targets: ScenarioTarget[]
  episodes?: Episode[]
  outages?: Outage[]
  upload_delays?: UploadDelay[]
}

function fail(path: string, msg: string): never {
  throw new UsageError(`scenario ${path}: ${msg}`)
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function checkAsns(v: unknown, path: string, known: Set<string>): void {
  if (v === undefined || v === 'all') return
  if (!Array.isArray(v) || v.length === 0) fail(path, 'must be "all" or a non-empty list of ASNs')
  for (const a of v) if (!known.has(a)) fail(path, `${JSON.stringify(a)} is not one of the country's networks (${[...known].join(', ')})`)
}

/** Validates a parsed scenario; throws UsageError naming the bad field. */
export function validateScenario(s: unknown): Scenario {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) fail('', 'must be a JSON object')
  const sc = s as Scenario
  if (typeof sc.name !== 'string' || sc.name === '') fail('name', 'must be a non-empty string')
  if (typeof sc.start !== 'string' || (!/^-\d+(\.\d+)?[dh]$/.test(sc.start) && Number.isNaN(Date.parse(sc.start)))) fail('start', 'must be an ISO timestamp or a relative "-7d" / "-36h"')
  if (!isNum(sc.duration_hours) || sc.duration_hours <= 0 || sc.duration_hours > 24 * 400) fail('duration_hours', 'must be a number of hours from 0 to 9600')
  if (sc.interval_minutes !== undefined && (!isNum(sc.interval_minutes) || sc.interval_minutes < 1)) fail('interval_minutes', 'must be a number of minutes ≥ 1')
  if (sc.background_fp_rate !== undefined && (!isNum(sc.background_fp_rate) || sc.background_fp_rate < 0 || sc.background_fp_rate > 1)) fail('background_fp_rate', 'must be between 0 and 1')
  if (!Array.isArray(sc.countries) || sc.countries.length === 0) fail('countries', 'must be a non-empty list')
  const nets = new Map<string, Set<string>>()
  sc.countries.forEach((c, i) => {
    if (typeof c?.cc !== 'string' || !/^[A-Z]{2}$/.test(c.cc)) fail(`countries[${i}].cc`, 'must be a two-letter upper-case country code')
    if (!Array.isArray(c.networks) || c.networks.length === 0) fail(`countries[${i}].networks`, 'must be a non-empty list')
    const set = new Set<string>()
    c.networks.forEach((n, j) => {
      if (typeof n?.asn !== 'string' || !/^AS\d{1,10}$/.test(n.asn)) fail(`countries[${i}].networks[${j}].asn`, 'must look like AS197207')
      if (!Number.isInteger(n.probes) || n.probes < 1 || n.probes > 10000) fail(`countries[${i}].networks[${j}].probes`, 'must be a whole number from 1 to 10000')
      for (const r of n.regions ?? []) if (!isRegionCode(r)) fail(`countries[${i}].networks[${j}].regions`, `${JSON.stringify(r)} is not an ISO 3166-2 code such as IR-23`)
      set.add(n.asn)
    })
    nets.set(c.cc, set)
  })
  if (!Array.isArray(sc.targets) || sc.targets.length === 0) fail('targets', 'must be a non-empty list')
  const inputs = new Set<string>()
  sc.targets.forEach((t, i) => {
    if (typeof t?.input !== 'string' || testNameFor(t.input) !== 'web_connectivity' || domainOf(t.input) === null)
      fail(`targets[${i}].input`, 'must be an http:// or https:// URL (the simulator writes web_connectivity measurements)')
    if (t.category_code !== undefined && !CITIZEN_LAB_CATEGORIES.has(t.category_code))
      fail(`targets[${i}].category_code`, `${JSON.stringify(t.category_code)} is not a Citizen Lab category code (such as NEWS, GRP, COMT)`)
    inputs.add(t.input)
  })
  const span = (x: { start_hour: unknown; end_hour: unknown }, path: string): void => {
    if (!isNum(x.start_hour) || !isNum(x.end_hour) || x.start_hour < 0 || x.end_hour <= x.start_hour || x.end_hour > sc.duration_hours) {
      fail(path, `start_hour and end_hour must satisfy 0 ≤ start_hour < end_hour ≤ duration_hours (${sc.duration_hours})`)
    }
  }
  ;(sc.episodes ?? []).forEach((e, i) => {
    const p = `episodes[${i}]`
    if (!nets.has(e?.cc)) fail(`${p}.cc`, `${JSON.stringify(e?.cc)} is not one of the scenario's countries`)
    checkAsns(e.asns, `${p}.asns`, nets.get(e.cc)!)
    if (!Array.isArray(e.targets) || e.targets.length === 0) fail(`${p}.targets`, 'must be a non-empty list of target inputs')
    for (const t of e.targets) if (!inputs.has(t)) fail(`${p}.targets`, `${JSON.stringify(t)} is not one of the scenario's targets`)
    if (!(TECHNIQUES as readonly string[]).includes(e.technique)) fail(`${p}.technique`, `must be one of ${TECHNIQUES.join(', ')}`)
    span(e, p)
    if (e.flapping !== undefined && (!isNum(e.flapping.on_minutes) || !isNum(e.flapping.off_minutes) || e.flapping.on_minutes <= 0 || e.flapping.off_minutes <= 0))
      fail(`${p}.flapping`, 'needs positive on_minutes and off_minutes')
    if (e.probe_share !== undefined && (!isNum(e.probe_share) || e.probe_share <= 0 || e.probe_share > 1)) fail(`${p}.probe_share`, 'must be in (0, 1]')
  })
  ;(sc.outages ?? []).forEach((o, i) => {
    if (!nets.has(o?.cc)) fail(`outages[${i}].cc`, `${JSON.stringify(o?.cc)} is not one of the scenario's countries`)
    checkAsns(o.asns, `outages[${i}].asns`, nets.get(o.cc)!)
    span(o, `outages[${i}]`)
  })
  ;(sc.upload_delays ?? []).forEach((d, i) => {
    if (!nets.has(d?.cc)) fail(`upload_delays[${i}].cc`, `${JSON.stringify(d?.cc)} is not one of the scenario's countries`)
    checkAsns(d.asns, `upload_delays[${i}].asns`, nets.get(d.cc)!)
    span({ start_hour: d.from_hour, end_hour: d.to_hour }, `upload_delays[${i}]`)
    if (!isNum(d.delay_hours) || d.delay_hours < 0) fail(`upload_delays[${i}].delay_hours`, 'must be a number of hours ≥ 0')
  })
  return sc
}

/** The folder of shipped scenarios. */
export const SCENARIOS_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url))

/** Loads a scenario: a shipped one by name ("demo") or a JSON file. */
export function loadScenario(nameOrFile: string): Scenario {
  const file = /^[a-z0-9-]+$/.test(nameOrFile) ? `${SCENARIOS_DIR}${nameOrFile}.json` : nameOrFile
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`--scenario: cannot read ${file}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`--scenario: ${file} is not JSON: ${(err as Error).message}`)
  }
  return validateScenario(parsed)
}

/** The scenario's start in epoch milliseconds, given the clock. */
export function scenarioStartMs(s: Scenario, nowMs: number): number {
  const m = /^-(\d+(?:\.\d+)?)([dh])$/.exec(s.start)
  if (m === null) return Date.parse(s.start)
  const hours = Number(m[1]) * (m[2] === 'd' ? 24 : 1)
  return Math.floor(nowMs / 3600_000) * 3600_000 - hours * 3600_000
}
