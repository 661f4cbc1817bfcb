/**
 * `blockwatch probe init`: explains what running a probe reveals and the
 * risks it may carry, asks for explicit consent (on a terminal, or
 * --accept-risks for headless installs), writes the config at the XDG path,
 * and registers with the aggregator to get a probe token.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import { parseFlags, runCommand, UsageError, intFlag } from '../../../shared/src/args.ts'
import {
  aggregatorRoutes,
  CONSENT_TEXT_VERSION, ConfigError, LOCATION_FLAGS, configExists, defaultConfig, loadConfig, locate, parseConfig,
  plainHttpWarning, saveConfig, type ProbeConfig
} from '../config.ts'
import { register } from '../checkin.ts'
import { en } from '../i18n/en.ts'
import { chooseLanguage, translator, type Translate } from '../i18n/index.ts'

/**
 * What a volunteer is told before consenting, in English; the translations
 * are in probe/src/i18n/ (the same text version). Bump CONSENT_TEXT_VERSION
 * when it changes, and have every translation follow.
 */
export const CONSENT_TEXT = en.consent.text

const HELP = `blockwatch probe init — write a probe config after explaining the risks and asking consent

Usage: blockwatch probe init [options]

  --aggregator URL         the aggregator (default http://127.0.0.1:8080)
  --mirror URL             another address of the same aggregator (a front, a mirror),
                           tried in order when the first is blocked; repeatable;
                           --mirror '' forgets them
  --region CODE            declared ISO 3166-2 region, e.g. IR-07
  --resolver IP[:PORT]     DNS resolver (default: the system's)
  --control URL            control vantage (default: the aggregator)
  --ca FILE                extra CA certificates (PEM)
  --priority-schedule CRON priority list schedule (default "0 * * * *", hourly)
  --full-schedule CRON     full list schedule (default "30 3 * * *", daily)
  --jitter S               random start delay, seconds (default 600)
  --max-memory MB          V8 heap cap (default 256; 0: node's default)
  --nice N                 CPU niceness 0-19 (default 10)
  --bandwidth KBPS         bandwidth cap, KiB/s (default 0: none)
  --concurrency N          targets measured at once (default 4)
  --outbox-max MB          outbox bound (default 200)
  --upload-proxy URL       socks5://HOST:PORT (Tor: socks5://127.0.0.1:9050) or http(s)://HOST:PORT
                           for registration, check-in and upload
  --accept-risks           headless install: I have read the text (\`--show-consent\`) and consent
  --decline                headless install without consent: only a small neutral list is tested
  --show-consent           print the consent text and exit
  --lang LANG              en, fa, ru or zh-CN (default: BLOCKWATCH_LANG, else the locale)
  --no-register            write the config without registering
  --force                  overwrite an existing config (keeps its probe id)
  --config FILE            config path (default $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           outbox and state (default $XDG_STATE_HOME/blockwatch)

Example:
  blockwatch probe init --aggregator https://blockwatch.example.org --region IR-07 --accept-risks
`

async function askConsent (t: Translate): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    process.stdout.write(t('consent.text') + '\n')
    return isYes(await rl.question(t('consent.question', { yes: t('consent.yes') })), t)
  } finally { rl.close() }
}

/** True for the language's word for yes, or English "yes" (any case, spaces around). */
export function isYes (answer: string, t: Translate): boolean {
  const a = answer.trim().toLocaleLowerCase()
  return a === 'yes' || a === t('consent.yes').toLocaleLowerCase()
}

/** Runs `blockwatch probe init`. */
export async function main (argv: string[]): Promise<number> {
  return await runCommand(async () => {
    const { values: f } = parseFlags(argv, {
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
      lang: { type: 'string' },
      'no-register': { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    })
    if (f.help === true) { process.stdout.write(HELP); return 0 }
    const t = translator(chooseLanguage(f.lang, process.env))
    if (f['show-consent'] === true) { process.stdout.write(t('consent.text')); return 0 }
    if (f['accept-risks'] === true && f.decline === true) throw new UsageError('--accept-risks and --decline contradict each other; pass one')
    const { configFile, dataDir } = locate(f, process.env)
    let base: ProbeConfig = defaultConfig(dataDir)
    if (configExists(configFile)) {
      if (f.force !== true) throw new UsageError(`${configFile} exists; pass --force to overwrite it (its probe id is kept), or --config FILE for another`)
      try { base = { ...loadConfig(configFile, dataDir) } } catch (err) { if (!(err instanceof ConfigError)) throw err }
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
    const warn = plainHttpWarning(cfg.aggregatorUrl)
    if (warn !== null) process.stderr.write(warn + '\n')

    let status = 0
    if (f['no-register'] !== true && cfg.token !== null && cfg.probeId !== null) {
      process.stdout.write(t('init.alreadyRegistered', { probeId: cfg.probeId }) + '\n')
    } else if (f['no-register'] !== true) {
      const caPem = cfg.caFile !== null ? readFileSync(cfg.caFile, 'utf8') : null
      try {
        const r = await register(aggregatorRoutes(cfg), null, { proxy: cfg.upload.proxy, caPem, timeoutMs: 30_000 })
        cfg.probeId = r.probeId
        cfg.token = r.token
        process.stdout.write(t('init.registered', { url: r.via, probeId: r.probeId }) + '\n')
      } catch (err) {
        process.stderr.write(`blockwatch: ${(err as Error).message}\n${t('init.notRegistered')}\n`)
        status = 1
      }
    }
    saveConfig(configFile, cfg)
    process.stdout.write(t('init.wrote', { file: configFile, consent: t(consent ? 'init.consentGiven' : 'init.consentDeclined'), dataDir: cfg.dataDir }) + '\n' + t('init.next') + '\n')
    return status
  })
}
