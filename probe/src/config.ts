/**
 * The volunteer probe's configuration: where it lives (XDG base directories),
 * its defaults (units in the names and comments), and its validation. An
 * invalid value is reported with its key and what is allowed
 * ("limits.nice: must be a whole number from 0 to 19, got 42").
 *
 * The config is read once at the edge (the command that runs), frozen and
 * passed down; nothing below reads process.env. See docs/volunteers.md.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { validate as validateCron } from 'node-cron'
import { isRegionCode } from '../../shared/src/region.ts'
import { inCidr, parseCidr, type Cidr } from '../../shared/src/verdict/ip.ts'
import { inEnglish, type MessageKey, type Said, type Translate, type Values } from './i18n/index.ts'

/** The version of the consent text (probe/src/commands/init.ts) a volunteer agreed to. */
export const CONSENT_TEXT_VERSION = 1

/** What a volunteer agreed to, and when. */
export interface Consent {
  /** True only after an explicit yes on a terminal or --accept-risks. */
  given: boolean
  /** The consent text version agreed to. */
  textVersion: number
  /** ISO 8601 time of the answer, or null. */
  at: string | null
}

/** The probe's configuration file (JSON). */
export interface ProbeConfig {
  /** Base URL of the aggregator, e.g. https://blockwatch.example.org. */
  aggregatorUrl: string
  /**
   * Other URLs of the same aggregator (fronts, mirrors: one database behind
   * them), tried in order after aggregatorUrl when it cannot be reached.
   * Default none.
   */
  aggregatorMirrors: string[]
  /** Declared ISO 3166-2 region (IR-07), or null. */
  region: string | null
  /** DNS resolver as IP[:PORT], or null for the system resolver. */
  resolver: string | null
  /** Control vantage base URL; null uses the aggregator's. */
  controlUrl: string | null
  /** Extra CA certificates (PEM file) for the control and the aggregator, or null. */
  caFile: string | null
  consent: Consent
  /** Token and probe id from registration (POST /api/v1/probes/register). */
  probeId: string | null
  token: string | null
  /**
   * The id of a registration sent but not answered (the answer lost), kept so
   * that the next attempt registers the same probe instead of a second one;
   * null once registered. Default null.
   */
  registrationId: string | null
  /** Where the outbox, the cached target lists and the state live. */
  dataDir: string
  schedules: {
    /** Cron expression for the priority list. Default hourly. */
    priority: string
    /** Cron expression for the full list. Default daily at 03:30. */
    full: string
    /** Random delay before each scheduled run, seconds. Default 600 (10 min). */
    jitterS: number
  }
  limits: {
    /** Heap limit, MiB: `probe start` stops when the V8 heap it keeps after a full collection passes it (heap-limit.ts). Default 256. 0: none. */
    maxMemoryMb: number
    /** CPU niceness, 0 (normal) to 19 (lowest). Default 10. */
    nice: number
    /** Upload and download bandwidth cap, KiB/s. Default 0 (no cap). */
    bandwidthKbps: number
    /** Targets measured at once. Default 4. */
    concurrency: number
    /** Outbox size bound, MiB of stored measurements. Default 200. */
    outboxMaxMb: number
  }
  upload: {
    /** socks5://host:port (Tor: socks5://127.0.0.1:9050; names are resolved by the proxy) or http(s)://host:port for registration, check-in and upload, or null. */
    proxy: string | null
    /** Measurements per upload request. Default 200. */
    batchSize: number
    /** Longest wait between retries, seconds. Default 3600. */
    maxBackoffS: number
  }
  /** Addresses to scrub besides the one learned at check-in (e.g. a known static address). */
  scrubAddresses: string[]
}

/** Where the config lives: $XDG_CONFIG_HOME/blockwatch/probe.json, else ~/.config/blockwatch/probe.json. */
export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config')
  return join(base, 'blockwatch', 'probe.json')
}

/** Where the outbox lives: $XDG_STATE_HOME/blockwatch, else ~/.local/state/blockwatch. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(env.HOME ?? homedir(), '.local', 'state')
  return join(base, 'blockwatch')
}

/** The defaults, filled in for every key a config file leaves out. */
export function defaultConfig(dataDir: string): ProbeConfig {
  return {
    aggregatorUrl: 'http://127.0.0.1:8080',
    aggregatorMirrors: [],
    region: null,
    resolver: null,
    controlUrl: null,
    caFile: null,
    consent: { given: false, textVersion: CONSENT_TEXT_VERSION, at: null },
    probeId: null,
    token: null,
    registrationId: null,
    dataDir,
    schedules: { priority: '0 * * * *', full: '30 3 * * *', jitterS: 600 },
    limits: { maxMemoryMb: 256, nice: 10, bandwidthKbps: 0, concurrency: 4, outboxMaxMb: 200 },
    upload: { proxy: null, batchSize: 200, maxBackoffS: 3600 },
    scrubAddresses: []
  }
}

/** One problem with a config: a message of the catalogues (probe/src/i18n) and its values, the key among them. */
export interface ConfigIssue {
  msg: MessageKey
  values?: Values
}

/**
 * A config value that is not allowed: names the key and what is allowed.
 * `issues` are the problems in English; a probe command says them in the
 * volunteer's language (`say`).
 */
export class ConfigError extends Error implements Said {
  readonly code = 'PROBE_ERR_CONFIG'
  readonly issues: string[]
  readonly say: (t: Translate) => string
  constructor(found: ConfigIssue[], file?: string) {
    const text = (t: Translate): string => `${file !== undefined ? t('config.invalid', { file }) : t('config.invalidNoFile')}\n  ${found.map(i => t(i.msg, i.values)).join('\n  ')}`
    super(text(inEnglish))
    this.name = 'ConfigError'
    this.issues = found.map(i => inEnglish(i.msg, i.values))
    this.say = text
  }
}

type Check = (key: string, v: unknown) => ConfigIssue | null

const got = (v: unknown): string => JSON.stringify(v)?.slice(0, 80) ?? String(v)
const issue = (msg: MessageKey, key: string, v: unknown, more: Values = {}): ConfigIssue => ({ msg, values: { key, got: got(v), ...more } })
const int =
  (min: number, max: number): Check =>
  (key, v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : issue('config.wholeNumber', key, v, { min, max })
const nullable =
  (c: Check): Check =>
  (key, v) =>
    v === null ? null : c(key, v)
const str: Check = (key, v) => (typeof v === 'string' ? null : issue('config.string', key, v))
const httpUrl: Check = (key, v) => {
  if (typeof v !== 'string') return issue('config.url', key, v)
  try {
    const u = new URL(v)
    if (u.protocol === 'http:' || u.protocol === 'https:') return null
  } catch {}
  return issue('config.urlExample', key, v)
}
const proxyUrl: Check = (key, v) => {
  if (typeof v === 'string') {
    try {
      const u = new URL(v)
      if (['socks5:', 'socks5h:', 'socks4:', 'socks4a:', 'http:', 'https:'].includes(u.protocol) && u.hostname !== '' && u.port !== '') return null
    } catch {}
  }
  return issue('config.proxy', key, v)
}
const region: Check = (key, v) => (typeof v === 'string' && isRegionCode(v) ? null : issue('config.region', key, v))
const resolver: Check = (key, v) => (typeof v === 'string' && /^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:]+\](:\d{1,5})?|[0-9a-fA-F:]+)$/.test(v) ? null : issue('config.resolver', key, v))
const cron: Check = (key, v) => (typeof v === 'string' && validateCron(v) ? null : issue('config.cron', key, v))
const bool: Check = (key, v) => (typeof v === 'boolean' ? null : issue('config.bool', key, v))

const SCHEMA: Record<string, Check | Record<string, Check>> = {
  aggregatorUrl: httpUrl,
  aggregatorMirrors: (key, v) => {
    if (!Array.isArray(v)) return issue('config.urlList', key, v)
    for (const [i, u] of v.entries()) {
      const e = httpUrl(`${key}[${i}]`, u)
      if (e !== null) return e
    }
    return null
  },
  region: nullable(region),
  resolver: nullable(resolver),
  controlUrl: nullable(httpUrl),
  caFile: nullable(str),
  consent: { given: bool, textVersion: int(0, 1000), at: nullable(str) },
  probeId: nullable(str),
  token: nullable(str),
  registrationId: nullable(str),
  dataDir: str,
  schedules: { priority: cron, full: cron, jitterS: int(0, 86400) },
  limits: { maxMemoryMb: int(0, 65536), nice: int(0, 19), bandwidthKbps: int(0, 10_000_000), concurrency: int(1, 256), outboxMaxMb: int(1, 1_000_000) },
  upload: { proxy: nullable(proxyUrl), batchSize: int(1, 5000), maxBackoffS: int(1, 86400) },
  scrubAddresses: (key, v) => (Array.isArray(v) && v.every(a => typeof a === 'string') ? null : issue('config.addresses', key, v))
}

/**
 * Merges a parsed config file over the defaults and validates it.
 * Unknown keys are errors (a typo must not silently fall back to a default).
 */
export function parseConfig(raw: unknown, dataDir: string, file?: string): Readonly<ProbeConfig> {
  const issues: ConfigIssue[] = []
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError([{ msg: 'config.notObject' }], file)
  const def = defaultConfig(dataDir) as unknown as Record<string, unknown>
  const out: Record<string, unknown> = {}
  const obj = raw as Record<string, unknown>
  for (const k of Object.keys(obj)) if (!(k in SCHEMA)) issues.push({ msg: 'config.unknownKey', values: { key: k, allowed: Object.keys(SCHEMA).join(', ') } })
  for (const [k, check] of Object.entries(SCHEMA)) {
    if (typeof check === 'function') {
      const v = k in obj ? obj[k] : def[k]
      const e = check(k, v)
      if (e !== null) issues.push(e)
      out[k] = v
    } else {
      const sub = k in obj ? obj[k] : {}
      if (sub === null || typeof sub !== 'object' || Array.isArray(sub)) {
        issues.push(issue('config.notSection', k, sub, { allowed: Object.keys(check).join(', ') }))
        continue
      }
      const subObj = sub as Record<string, unknown>
      const subDef = def[k] as Record<string, unknown>
      const o: Record<string, unknown> = {}
      for (const sk of Object.keys(subObj)) if (!(sk in check)) issues.push({ msg: 'config.unknownKey', values: { key: `${k}.${sk}`, allowed: Object.keys(check).join(', ') } })
      for (const [sk, c] of Object.entries(check)) {
        const v = sk in subObj ? subObj[sk] : subDef[sk]
        const e = c(`${k}.${sk}`, v)
        if (e !== null) issues.push(e)
        o[sk] = v
      }
      out[k] = Object.freeze(o)
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, file)
  return Object.freeze(out) as unknown as Readonly<ProbeConfig>
}

/** Reads and validates a config file. Throws ConfigError naming the file and the keys. */
export function loadConfig(file: string, dataDir: string): Readonly<ProbeConfig> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError([{ msg: 'config.noFile' }], file)
    throw err
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new ConfigError([{ msg: 'config.notJson', values: { error: (err as Error).message } }], file)
  }
  return parseConfig(raw, dataDir, file)
}

/** Writes a file atomically: temp file, fsync, rename, fsync of the folder. Mode 0600 (the token is a secret). */
export function writeFileAtomic(file: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.tmp-${process.pid}`
  writeFileSync(tmp, text, { mode })
  const fd = openSync(tmp, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  try {
    const dfd = openSync(dirname(file), 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch {}
}

/** Saves a config (validated first). */
export function saveConfig(file: string, cfg: ProbeConfig): void {
  parseConfig(cfg, cfg.dataDir, file)
  writeFileAtomic(file, JSON.stringify(cfg, null, 2) + '\n')
}

/** True when a config file exists at that path. */
export function configExists(file: string): boolean {
  return existsSync(file)
}

/** This machine's addresses: loopback, the unspecified addresses, and 127/8 mapped into IPv6 (the URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1). */
const THIS_MACHINE = ['127.0.0.0/8', '0.0.0.0/32', '::1/128', '::/128', '::ffff:127.0.0.0/104'].map(c => parseCidr(c) as Cidr)

/** True for loopback hosts, where plain http:// exposes nothing on the path. */
export function isLoopbackUrl(url: string): boolean {
  const h = new URL(url).hostname.replace(/^\[|\]$/g, '')
  return h === 'localhost' || THIS_MACHINE.some(range => inCidr(h, range))
}

/** Every address of the aggregator, in the order they are tried: aggregatorUrl, then the mirrors. */
export function aggregatorRoutes(cfg: Pick<ProbeConfig, 'aggregatorUrl' | 'aggregatorMirrors'>): string[] {
  return [...new Set([cfg.aggregatorUrl, ...cfg.aggregatorMirrors].map(u => u.replace(/\/+$/, '')))]
}

/** The warning printed for plain http:// to an aggregator that is not on loopback (in English unless `t` says otherwise), or null. */
export function plainHttpWarning(url: string, t: Translate = inEnglish): string | null {
  const u = new URL(url)
  if (u.protocol !== 'http:' || isLoopbackUrl(url)) return null
  return t('config.plainHttp', { origin: u.origin })
}

/** The flags every probe subcommand takes to find its files. */
export const LOCATION_FLAGS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' }
} as const

/** Where the config and the data live, from --config/--data-dir, else the XDG defaults. */
export function locate(flags: { config?: string; 'data-dir'?: string }, env: NodeJS.ProcessEnv): { configFile: string; dataDir: string } {
  const configFile = flags.config ?? env.BLOCKWATCH_PROBE_CONFIG ?? defaultConfigPath(env)
  return { configFile, dataDir: flags['data-dir'] ?? defaultDataDir(env) }
}

/** Loads the config found by {@link locate}; --data-dir overrides the file's dataDir. */
export function loadLocated(flags: { config?: string; 'data-dir'?: string }, env: NodeJS.ProcessEnv): Readonly<ProbeConfig> {
  const { configFile, dataDir } = locate(flags, env)
  const cfg = loadConfig(configFile, dataDir)
  return flags['data-dir'] !== undefined ? Object.freeze({ ...cfg, dataDir: flags['data-dir'] }) : cfg
}
