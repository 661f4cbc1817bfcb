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

/** What a volunteer is told before consenting. Bump CONSENT_TEXT_VERSION when it changes. */
export const CONSENT_TEXT = `Before you run a blockwatch probe, please read this.

What the probe does
  It visits websites and network services from your connection (news, human
  rights, social media, messaging apps, SMS gateways and others in the
  target lists) and records whether they could be reached, and how they
  failed. It sends these measurements to the aggregator you choose, which
  publishes them.

What it reveals
  - The published measurements carry your country, your network (ASN) and
    the region you declare, but not your IP address: the probe removes it
    from every measurement before storing it, and the aggregator never
    stores it.
  - Anyone watching your connection (your provider, your employer, your
    government) can see that your connection visits the sites in the lists,
    some of which may be illegal or politically sensitive where you live,
    and may be able to tell that you run a censorship probe.
  - The aggregator sees your IP address when the probe talks to it. Use
    --upload-proxy socks5://127.0.0.1:9050 (Tor) to hide it from the
    aggregator and from the path.

Risks
  In some countries, accessing blocked content or taking part in
  censorship measurement can have legal or other consequences. We cannot
  judge the risk for you. If you are unsure, do not consent: the probe will
  then only test a small list of neutral sites.

You can stop at any time: stop the service and delete the config and
outbox (see docs/privacy.md and docs/volunteers.md).
`

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
  --no-register            write the config without registering
  --force                  overwrite an existing config (keeps its probe id)
  --config FILE            config path (default $XDG_CONFIG_HOME/blockwatch/probe.json)
  --data-dir DIR           outbox and state (default $XDG_STATE_HOME/blockwatch)

Example:
  blockwatch probe init --aggregator https://blockwatch.example.org --region IR-07 --accept-risks
`

async function askConsent (): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    process.stdout.write(CONSENT_TEXT + '\n')
    const a = (await rl.question('Do you consent to run a probe with these risks? Type "yes" to consent, anything else to decline: ')).trim().toLowerCase()
    return a === 'yes'
  } finally { rl.close() }
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
      'no-register': { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    })
    if (f.help === true) { process.stdout.write(HELP); return 0 }
    if (f['show-consent'] === true) { process.stdout.write(CONSENT_TEXT); return 0 }
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
    else if (process.stdin.isTTY === true) consent = await askConsent()
    else throw new UsageError('no terminal to ask for consent: read `blockwatch probe init --show-consent`, then pass --accept-risks to consent or --decline to test only a neutral list')
    cfg.consent = { given: consent, textVersion: CONSENT_TEXT_VERSION, at: new Date().toISOString() }

    // Validate before anything touches the network; errors name the key.
    parseConfig(cfg, cfg.dataDir, configFile)
    const warn = plainHttpWarning(cfg.aggregatorUrl)
    if (warn !== null) process.stderr.write(warn + '\n')

    let status = 0
    if (f['no-register'] !== true && cfg.token !== null && cfg.probeId !== null) {
      process.stdout.write(`already registered as probe ${cfg.probeId}; keeping its token\n`)
    } else if (f['no-register'] !== true) {
      const caPem = cfg.caFile !== null ? readFileSync(cfg.caFile, 'utf8') : null
      try {
        const r = await register(aggregatorRoutes(cfg), null, { proxy: cfg.upload.proxy, caPem, timeoutMs: 30_000 })
        cfg.probeId = r.probeId
        cfg.token = r.token
        process.stdout.write(`registered with ${r.via} as probe ${r.probeId}\n`)
      } catch (err) {
        process.stderr.write(`blockwatch: ${(err as Error).message}\nThe config is written without a token; \`blockwatch probe start\` registers when it can.\n`)
        status = 1
      }
    }
    saveConfig(configFile, cfg)
    process.stdout.write(`wrote ${configFile} (consent: ${consent ? 'given' : 'declined, neutral list only'}); outbox in ${cfg.dataDir}\nNext: blockwatch probe start   (see docs/volunteers.md for a systemd unit)\n`)
    return status
  })
}
