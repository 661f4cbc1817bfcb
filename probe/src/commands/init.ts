/**
 * `blockwatch probe init`: explains what running a probe reveals and the
 * risks it may carry, asks for explicit consent (on a terminal, or
 * --accept-risks for headless installs), writes the config at the XDG path,
 * and registers with the aggregator to get a probe token.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import { UsageError } from '../../../shared/src/args.ts'
import {
  aggregatorRoutes,
  CONSENT_TEXT_VERSION,
  ConfigError,
  LOCATION_FLAGS,
  configExists,
  defaultConfig,
  loadConfig,
  locate,
  parseConfig,
  plainHttpWarning,
  saveConfig,
  type ProbeConfig
} from '../config.ts'
import { register } from '../checkin.ts'
import { en } from '../i18n/en.ts'
import { sayError, type Translate } from '../i18n/index.ts'
import { LANG_FLAG, intFlagSaid, parseProbeFlags, probeCommand } from '../i18n/command.ts'

/**
 * What a volunteer is told before consenting, in English; the translations
 * are in probe/src/i18n/ (the same text version). Bump CONSENT_TEXT_VERSION
 * when it changes, and have every translation follow.
 */
export const CONSENT_TEXT = en.consent.text

async function askConsent(t: Translate): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    process.stdout.write(t('consent.text') + '\n')
    return isYes(await rl.question(t('consent.question', { yes: t('consent.yes') })), t)
  } finally {
    rl.close()
  }
}

/** True for the language's word for yes, or English "yes" (any case, spaces around). */
export function isYes(answer: string, t: Translate): boolean {
  const a = answer.trim().toLocaleLowerCase()
  return a === 'yes' || a === t('consent.yes').toLocaleLowerCase()
}

/** Runs `blockwatch probe init`. */
export async function main(argv: string[]): Promise<number> {
  return await probeCommand(argv, async s => {
    const { t } = s
    const intFlag = (name: string, value: string | undefined, def: number, min: number, max: number): number => intFlagSaid(t, name, value, def, min, max)
    const { values: f } = parseProbeFlags(s, argv, {
      ...LOCATION_FLAGS,
      aggregator: { type: 'string' },
      mirror: { type: 'string', multiple: true },
      region: { type: 'string' },
      resolver: { type: 'string' },
      control: { type: 'string' },
      ca: { type: 'string' },
      'priority-schedule': { type: 'string' },
      'full-schedule': { type: 'string' },
      jitter: { type: 'string' },
      'max-memory': { type: 'string' },
      nice: { type: 'string' },
      bandwidth: { type: 'string' },
      concurrency: { type: 'string' },
      'outbox-max': { type: 'string' },
      'upload-proxy': { type: 'string' },
      'accept-risks': { type: 'boolean' },
      decline: { type: 'boolean' },
      'show-consent': { type: 'boolean' },
      ...LANG_FLAG,
      'no-register': { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    })
    if (f.help === true) {
      process.stdout.write(t('help.init'))
      return 0
    }
    if (f['show-consent'] === true) {
      process.stdout.write(t('consent.text'))
      return 0
    }
    if (f['accept-risks'] === true && f.decline === true) throw new UsageError(t('init.acceptAndDecline'))
    const { configFile, dataDir } = locate(f, process.env)
    let base: ProbeConfig = defaultConfig(dataDir)
    if (configExists(configFile)) {
      if (f.force !== true) throw new UsageError(t('init.configExists', { file: configFile }))
      try {
        base = { ...loadConfig(configFile, dataDir) }
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
      }
    }
    const cfg: ProbeConfig = structuredClone(base)
    if (f['data-dir'] !== undefined) cfg.dataDir = f['data-dir']
    if (f.aggregator !== undefined) cfg.aggregatorUrl = f.aggregator.replace(/\/+$/, '')
    if (f.mirror !== undefined) cfg.aggregatorMirrors = f.mirror.filter(u => u !== '').map(u => u.replace(/\/+$/, ''))
    if (f.region !== undefined) cfg.region = f.region === '' ? null : f.region.toUpperCase()
    if (f.resolver !== undefined) cfg.resolver = f.resolver === '' ? null : f.resolver
    if (f.control !== undefined) cfg.controlUrl = f.control === '' ? null : f.control
    if (f.ca !== undefined) cfg.caFile = f.ca
    if (f['priority-schedule'] !== undefined) cfg.schedules.priority = f['priority-schedule']
    if (f['full-schedule'] !== undefined) cfg.schedules.full = f['full-schedule']
    cfg.schedules.jitterS = intFlag('jitter', f.jitter, cfg.schedules.jitterS, 0, 86400)
    cfg.limits.maxMemoryMb = intFlag('max-memory', f['max-memory'], cfg.limits.maxMemoryMb, 0, 65536)
    cfg.limits.nice = intFlag('nice', f.nice, cfg.limits.nice, 0, 19)
    cfg.limits.bandwidthKbps = intFlag('bandwidth', f.bandwidth, cfg.limits.bandwidthKbps, 0, 10_000_000)
    cfg.limits.concurrency = intFlag('concurrency', f.concurrency, cfg.limits.concurrency, 1, 256)
    cfg.limits.outboxMaxMb = intFlag('outbox-max', f['outbox-max'], cfg.limits.outboxMaxMb, 1, 1_000_000)
    if (f['upload-proxy'] !== undefined) cfg.upload.proxy = f['upload-proxy'] === '' ? null : f['upload-proxy']

    let consent: boolean
    if (f['accept-risks'] === true) consent = true
    else if (f.decline === true) consent = false
    else if (process.stdin.isTTY === true) consent = await askConsent(t)
    else throw new UsageError(t('consent.noTerminal'))
    cfg.consent = { given: consent, textVersion: CONSENT_TEXT_VERSION, at: new Date().toISOString() }

    // Validate before anything touches the network; errors name the key.
    parseConfig(cfg, cfg.dataDir, configFile)
    const warn = plainHttpWarning(cfg.aggregatorUrl, t)
    if (warn !== null) process.stderr.write(warn + '\n')

    let status = 0
    if (f['no-register'] !== true && cfg.token !== null && cfg.probeId !== null) {
      process.stdout.write(t('init.alreadyRegistered', { probeId: cfg.probeId }) + '\n')
    } else if (f['no-register'] !== true) {
      const caPem = cfg.caFile !== null ? readFileSync(cfg.caFile, 'utf8') : null
      // Kept in the config until an answer arrives: `probe start` (or init again) then registers the same probe.
      cfg.registrationId ??= randomUUID()
      try {
        const r = await register(aggregatorRoutes(cfg), null, { proxy: cfg.upload.proxy, caPem, timeoutMs: 30_000 }, cfg.registrationId)
        cfg.probeId = r.probeId
        cfg.token = r.token
        cfg.registrationId = null
        process.stdout.write(t('init.registered', { url: r.via, probeId: r.probeId }) + '\n')
      } catch (err) {
        process.stderr.write(`blockwatch: ${sayError(t, err)}\n${t('init.notRegistered')}\n`)
        status = 1
      }
    }
    saveConfig(configFile, cfg)
    process.stdout.write(t('init.wrote', { file: configFile, consent: t(consent ? 'init.consentGiven' : 'init.consentDeclined'), dataDir: cfg.dataDir }) + '\n' + t('init.next') + '\n')
    return status
  })
}
