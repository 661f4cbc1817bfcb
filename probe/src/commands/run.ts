/**
 * `blockwatch probe run`: measures a target list once, streaming. Each
 * measurement is written to the JSONL output as it completes; a progress bar
 * on a terminal, one line per target on a pipe; a summary table at the end.
 * The exit status is 0 whatever the verdicts, and non-zero only when the
 * run itself could not happen (a bad flag, an unreadable list).
 */
import { accessSync, constants, createReadStream, createWriteStream, readFileSync, type WriteStream } from 'node:fs'
import { request } from 'undici'
import { UsageError } from '../../../shared/src/args.ts'
import { inEnglish, sayError, type Translate } from '../i18n/index.ts'
import { LANG_FLAG, intFlagSaid, parseProbeFlags, probeCommand } from '../i18n/command.ts'
import { sayLogMessage } from '../i18n/log.ts'
import type { Measurement } from '../../../shared/src/measurement.ts'
import { isRegionCode } from '../../../shared/src/region.ts'
import { formatTargetListError, readTargetList, readTargetListFile, type Target, type TargetListItem } from '../../../shared/src/target-list.ts'
import { measure, resolveResolver, type EngineOptions, type ResolverSpec } from '../engine.ts'
import { parseResolver, type ResolverAddress } from '../../../shared/src/netx/dns.ts'
import { fetchFingerprints, loadFingerprints } from '../../../shared/src/netx/fingerprints.ts'
import { syncFingerprints } from '../fingerprint-sync.ts'
import { Progress, Summary, verdictLabel } from '../progress.ts'
import { publicInterfaceAddresses, scrubMeasurement } from '../privacy/scrub.ts'
import { rememberedAddresses } from '../checkin.ts'
import { configExists, LOCATION_FLAGS, loadLocated, locate, type ProbeConfig } from '../config.ts'
import { MESSAGING_LIST } from '../lists/index.ts'

/** The resolvers dns_consistency compares with, besides the system resolver over UDP. */
export const DEFAULT_DNS_RESOLVERS = 'tcp:system,udp:1.1.1.1,doh:https://cloudflare-dns.com/dns-query,doh:https://dns.google/dns-query'

/** Parses --dns-resolvers. `system` stands for the resolver in use. Errors are said by `t` (English by default). */
export function parseDnsResolvers(text: string, system: ResolverAddress, t: Translate = inEnglish): ResolverSpec[] {
  return text
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')
    .map(item => {
      const m = /^(udp|tcp|doh):(.+)$/.exec(item)
      if (m === null) throw new UsageError(t('run.dnsResolversForm', { item: JSON.stringify(item) }))
      if (m[1] === 'doh') {
        if (!/^https:\/\//.test(m[2])) throw new UsageError(t('run.dnsResolversDoh', { item: JSON.stringify(item) }))
        return { kind: 'doh', url: m[2] }
      }
      const address = m[2] === 'system' ? system : parseResolver(m[2])
      if (address === null) throw new UsageError(t('run.dnsResolversAddress', { item: JSON.stringify(item) }))
      return { kind: m[1] as 'udp' | 'tcp', address }
    })
}

const CITIZENLAB_URL = 'https://raw.githubusercontent.com/citizenlab/test-lists/master/lists/'

/** Streams a remote CSV list (citizenlab:CC). */
async function* remoteList(url: string, name: string): AsyncGenerator<TargetListItem> {
  const res = await request(url, { headersTimeout: 20_000, bodyTimeout: 60_000 })
  if (res.statusCode !== 200) {
    await res.body.dump()
    throw new Error(`${url}: HTTP ${res.statusCode}`)
  }
  res.body.setEncoding('utf8')
  yield* readTargetList(res.body as AsyncIterable<string>, name)
}

/** The targets of a --targets value, with bad rows reported on stderr and skipped. */
function targetsOf(t: Translate, src: string, citizenlabUrl: string = CITIZENLAB_URL): { targets: AsyncGenerator<Target>; total: Promise<number | null> } {
  let items: () => AsyncGenerator<TargetListItem>
  let total: Promise<number | null> = Promise.resolve(null)
  const cl = /^citizenlab:([a-z]{2}|global)$/i.exec(src)
  if (cl !== null) {
    const cc = cl[1].toLowerCase()
    items = async function* () {
      yield* remoteList(`${citizenlabUrl}${cc}.csv`, `citizenlab:${cc}`)
      if (cc !== 'global') yield* remoteList(`${citizenlabUrl}global.csv`, 'citizenlab:global')
    }
  } else {
    const file = src === 'messaging' ? MESSAGING_LIST : src
    try {
      accessSync(file, constants.R_OK)
    } catch (err) {
      throw new Error(t('run.targetsUnreadable', { file, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }))
    }
    items = () => readTargetListFile(file)
    total = countRows(file)
  }
  const targets = async function* (): AsyncGenerator<Target> {
    // A list may name a URL twice (a country list and the global list): measure it once.
    const seen = new Set<string>()
    for await (const item of items()) {
      if (item.error !== undefined) {
        process.stderr.write(`blockwatch: ${t('run.skipped', { row: formatTargetListError(item.error) })}\n`)
        continue
      }
      if (seen.has(item.target.url)) continue
      if (seen.size < 500_000) seen.add(item.target.url)
      yield item.target
    }
  }
  return { targets: targets(), total }
}

/** Counts a CSV file's data rows without holding it in memory. */
async function countRows(file: string): Promise<number | null> {
  let lines = 0
  let last = 10
  try {
    for await (const chunk of createReadStream(file)) {
      const buf = chunk as Buffer
      for (let i = 0; i < buf.length; i++) if (buf[i] === 10) lines++
      if (buf.length > 0) last = buf[buf.length - 1]
    }
  } catch {
    return null
  }
  if (last !== 10) lines++
  return Math.max(0, lines - 1)
}

function validCc(t: Translate, v: string | undefined): string | undefined {
  if (v === undefined) return undefined
  if (!/^[A-Za-z]{2}$/.test(v)) throw new UsageError(t('run.cc', { value: JSON.stringify(v) }))
  return v.toUpperCase()
}
function validAsn(t: Translate, v: string | undefined): string | undefined {
  if (v === undefined) return undefined
  const m = /^(?:AS)?(\d{1,10})$/i.exec(v)
  if (m === null) throw new UsageError(t('run.asn', { value: JSON.stringify(v) }))
  return `AS${m[1]}`
}

/** The probe configured on this machine, as `probe run` uses it. */
interface LocalProbe {
  cfg: Readonly<ProbeConfig>
  /** The last check-in's country and AS, if any. */
  network: { cc: string; asn: string } | null
  /** Public addresses to scrub: the config's list and those the probe learned at check-in. */
  addresses: string[]
}

/**
 * Loads the probe config that --config names, else the default one when it
 * exists. Null when there is none; a UsageError when --config names a file
 * that cannot be used.
 */
async function localProbe(t: Translate, flags: { config?: string; 'data-dir'?: string }): Promise<LocalProbe | null> {
  const { configFile } = locate(flags, process.env)
  if (!configExists(configFile)) {
    if (flags.config !== undefined) throw new UsageError(t('run.configMissing', { file: configFile }))
    return null
  }
  let cfg: Readonly<ProbeConfig>
  try {
    cfg = loadLocated(flags, process.env)
  } catch (err) {
    const error = sayError(t, err)
    if (flags.config !== undefined) throw new UsageError(`--config: ${error}`)
    process.stderr.write(`blockwatch: ${t('run.configIgnored', { error })}\n`)
    return null
  }
  let network: LocalProbe['network'] = null
  try {
    const { Outbox } = await import('../outbox/outbox.ts')
    const { lastCheckIn } = await import('../checkin.ts')
    const outbox = Outbox.open(cfg.dataDir, { maxBytes: cfg.limits.outboxMaxMb * 1024 * 1024 })
    try {
      const s = lastCheckIn(outbox)
      if (s !== null) network = { cc: s.probeCc, asn: s.probeAsn }
    } finally {
      outbox.close()
    }
  } catch {}
  return { cfg, network, addresses: [...cfg.scrubAddresses, ...rememberedAddresses(cfg.dataDir)] }
}

/** Runs `blockwatch probe run`. */
export async function main(argv: string[]): Promise<number> {
  return await probeCommand(argv, async s => {
    const { t } = s
    const { values: f } = parseProbeFlags(s, argv, {
      targets: { type: 'string' },
      resolver: { type: 'string' },
      control: { type: 'string' },
      ca: { type: 'string' },
      concurrency: { type: 'string' },
      output: { type: 'string' },
      cc: { type: 'string' },
      asn: { type: 'string' },
      region: { type: 'string' },
      fingerprints: { type: 'string' },
      'dns-resolvers': { type: 'string' },
      // Where citizenlab:CC lists come from (a mirror); not in --help.
      'citizenlab-url': { type: 'string' },
      upload: { type: 'boolean' },
      'no-upload': { type: 'boolean' },
      ...LOCATION_FLAGS,
      ...LANG_FLAG,
      help: { type: 'boolean', short: 'h' }
    })
    if (f.help === true) {
      process.stdout.write(t('help.run', { dnsResolvers: DEFAULT_DNS_RESOLVERS }))
      return 0
    }
    const concurrency = intFlagSaid(t, 'concurrency', f.concurrency, 8, 1, 1024)
    const local = await localProbe(t, f)
    if (f.control !== undefined) {
      try {
        if (!/^https?:$/.test(new URL(f.control).protocol)) throw new Error('scheme')
      } catch {
        throw new UsageError(t('run.control', { value: JSON.stringify(f.control) }))
      }
    }
    const caFile = f.ca ?? local?.cfg.caFile ?? undefined
    if (f.region !== undefined && !isRegionCode(f.region)) throw new UsageError(t('run.region', { value: JSON.stringify(f.region) }))
    let caPem: string | undefined
    if (caFile !== undefined) {
      try {
        caPem = readFileSync(caFile, 'utf8')
      } catch (err) {
        throw new UsageError(t('run.ca', { file: caFile, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }))
      }
    }
    const upload = f.upload === true && f['no-upload'] !== true
    const { targets, total } = targetsOf(t, f.targets ?? 'messaging', f['citizenlab-url'] === undefined ? undefined : f['citizenlab-url'].replace(/\/?$/, '/'))

    let fingerprints: EngineOptions['fingerprints']
    if (f.fingerprints !== undefined) {
      try {
        fingerprints = await loadFingerprints(f.fingerprints)
      } catch (err) {
        throw new UsageError(t('run.fingerprints', { source: f.fingerprints, error: (err as Error).message }))
      }
    } else if (local !== null) {
      // A configured probe takes its aggregator's list over the upload channel, else the last good
      // copy on disk, else (neither) OONI's published list.
      fingerprints = (
        await syncFingerprints({
          aggregatorUrl: local.cfg.aggregatorUrl,
          mirrors: local.cfg.aggregatorMirrors,
          token: local.cfg.token,
          http: { ...(await import('./start.ts')).httpOptionsFor(local.cfg), timeoutMs: 10_000 },
          dataDir: local.cfg.dataDir,
          log: (_lvl, msg) => process.stderr.write(`blockwatch: ${sayLogMessage(t, msg)}\n`),
          t
        })
      ).fingerprints
    }
    if (fingerprints === undefined && f.fingerprints === undefined) {
      try {
        fingerprints = await fetchFingerprints(undefined, 5000)
      } catch {
        process.stderr.write(`blockwatch: ${t('run.noFingerprints')}\n`)
      }
    }

    const last = local?.network ?? null
    const resolver = f.resolver ?? local?.cfg.resolver ?? undefined
    const opts: EngineOptions = {
      ...(resolver !== undefined ? { resolver } : {}),
      // Without --control, the configured probe's control vantage (its aggregator's by default).
      controlUrl: f.control ?? local?.cfg.controlUrl ?? local?.cfg.aggregatorUrl ?? null,
      ...(caPem !== undefined ? { caPem } : {}),
      concurrency,
      probeCc: validCc(t, f.cc) ?? last?.cc ?? 'ZZ',
      probeAsn: validAsn(t, f.asn) ?? last?.asn ?? 'AS0',
      probeRegion: f.region ?? local?.cfg.region ?? null,
      ...(fingerprints !== undefined ? { fingerprints } : {})
    }
    let system: ResolverAddress
    try {
      system = resolveResolver(opts.resolver)
    } catch (err) {
      throw new UsageError(sayError(t, err))
    }
    opts.dnsResolvers = parseDnsResolvers(f['dns-resolvers'] ?? DEFAULT_DNS_RESOLVERS, system, t)

    let out: NodeJS.WritableStream | null = null
    if (f.output === '-') out = process.stdout
    else if (f.output !== undefined) {
      out = createWriteStream(f.output, { flags: 'w' })
      await new Promise<void>((resolve, reject) => {
        ;(out as WriteStream).once('open', () => resolve())
        ;(out as WriteStream).once('error', reject)
      }).catch(err => {
        throw new UsageError(t('run.output', { file: f.output ?? '', error: (err as NodeJS.ErrnoException).code ?? (err as Error).message }))
      })
    }
    const display = f.output === '-' ? process.stderr : process.stdout
    const progress = new Progress(display, display.isTTY === true, t)
    void total.then(n => progress.setTotal(n))
    const summary = new Summary(t)

    const abort = new AbortController()
    const onSignal = (): void => abort.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    opts.signal = abort.signal

    // The file is as shareable as the outbox: scrub it the same way.
    const scrubAddresses = [...(local?.addresses ?? []), ...publicInterfaceAddresses()]
    const stream = measure(targets, opts)
    const tee = async function* (): AsyncGenerator<Measurement> {
      for await (const m of stream) {
        const scrubbed = out === null ? null : scrubMeasurement(m, scrubAddresses)
        if (scrubbed !== null && !scrubbed.ok) process.stderr.write(`blockwatch: ${t('run.notWritten', { target: m.input ?? m.test_name, reason: scrubbed.reason })}\n`)
        if (out !== null && scrubbed?.ok === true && !out.write(JSON.stringify(scrubbed.doc) + '\n'))
          await new Promise<void>(resolve => {
            out!.once('drain', () => resolve())
          })
        summary.add(m)
        progress.done(m, verdictLabel(m))
        yield m
      }
    }
    try {
      if (upload) await uploadStream(t, tee(), opts, f)
      else
        for await (const _ of tee()) {
          /* written by tee */
        }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      progress.finish()
      if (out !== null && out !== process.stdout) await new Promise<void>(resolve => (out as WriteStream).end(() => resolve()))
    }
    display.write(summary.table())
    return 0
  })
}

/** Queues measurements in the configured probe's outbox and uploads them (the volunteer probe's machinery). */
async function uploadStream(t: Translate, stream: AsyncIterable<Measurement>, opts: EngineOptions, flags: { config?: string; 'data-dir'?: string }): Promise<void> {
  const { Outbox } = await import('../outbox/outbox.ts')
  const { collect } = await import('../outbox/collect.ts')
  const { flush } = await import('../upload/uploader.ts')
  const { httpOptionsFor } = await import('./start.ts')
  let cfg
  try {
    cfg = loadLocated(flags, process.env)
  } catch (err) {
    throw new UsageError(t('run.uploadNeedsConfig', { error: sayError(t, err) }))
  }
  if (cfg.token === null) throw new UsageError(t('run.uploadNoToken'))
  const outbox = Outbox.open(cfg.dataDir, { maxBytes: cfg.limits.outboxMaxMb * 1024 * 1024 })
  try {
    await collect(stream, outbox, { addresses: cfg.scrubAddresses, clockOffsetMs: opts.clockOffsetMs ?? 0, priority: false, probeId: cfg.probeId })
    const r = await flush(
      outbox,
      {
        aggregatorUrl: cfg.aggregatorUrl,
        mirrors: cfg.aggregatorMirrors,
        token: cfg.token,
        probeId: cfg.probeId,
        http: httpOptionsFor(cfg),
        batchSize: cfg.upload.batchSize,
        maxBackoffMs: cfg.upload.maxBackoffS * 1000
      },
      false
    )
    const counts = { uploaded: r.uploaded, duplicates: r.duplicates, rejected: r.quarantined }
    process.stderr.write(t(r.empty ? 'run.uploaded' : 'run.uploadedRest', { ...counts, error: r.error ?? t('upload.interrupted') }) + '\n')
  } finally {
    outbox.close()
  }
}
