/**
 * The measurement engine: streams targets through the test kinds under a
 * global and a per-host concurrency limit, and yields each measurement as
 * soon as it completes, with its verdict (shared/src/verdict) in test_keys.
 * A 100,000-target list is never held in memory: targets are pulled from the
 * iterable only as slots free up.
 *
 * `probe run`, the scheduler (`probe start`) and the benchmark all call
 * measure(); nothing here reads argv or the environment.
 */
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { DATA_FORMAT_VERSION, SCRUBBED_PROBE_IP, type Measurement } from '../../shared/src/measurement.ts'
import type { FingerprintDb } from '../../shared/src/fingerprints.ts'
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../../shared/src/software.ts'
import type { Target } from '../../shared/src/target-list.ts'
import { formatOoniTime } from '../../shared/src/time.ts'
import { uuidv7 } from '../../shared/src/uid.ts'
import { judgeWebConnectivity, verdictFor } from '../../shared/src/verdict/index.ts'
import { queryControl, type ControlRequest, type ControlResult } from './control-client.ts'
import { classifyError } from '../../shared/src/netx/classify.ts'
import { formatResolver, parseResolver, systemResolver, type ResolverAddress } from '../../shared/src/netx/dns.ts'
import { trustedCa } from '../../shared/src/netx/tls.ts'
import { testFor } from './nettests/index.ts'
import { ListedNames } from './nettests/sni-followup.ts'
import { DEFAULT_TIMEOUTS, type ResolverSpec, type TestContext, type Timeouts } from './nettests/types.ts'
import { saidError } from './i18n/index.ts'

export type { Timeouts, ResolverSpec } from './nettests/types.ts'
export { DEFAULT_TIMEOUTS } from './nettests/types.ts'

/** What measure() needs. Every field but the ones marked required has a default. */
export interface EngineOptions {
  /** The resolver, "IP[:PORT]". Default: the first nameserver of /etc/resolv.conf. */
  resolver?: string
  /** The control vantage's base URL (http://10.0.0.2:8080). Unset: no control, so verdicts are null. */
  controlUrl?: string | null
  /** Extra CA certificates (PEM) to trust beside the system roots (the lab's CA). */
  caPem?: string
  /** Targets measured at once. Default 8. */
  concurrency?: number
  /** Targets of one host measured at once. Default 2. */
  perHostConcurrency?: number
  /** ISO 3166-1 alpha-2. Default "ZZ" (unknown). */
  probeCc?: string
  /** "AS123". Default "AS0" (unknown). */
  probeAsn?: string
  /** ISO 3166-2 subdivision ("IR-23"), declared by the volunteer. */
  probeRegion?: string | null
  /** The install's random id. */
  probeId?: string | null
  /** The network's name, when known. */
  probeNetworkName?: string | null
  /** The clock, in ms since the epoch. Default Date.now. */
  now?: () => number
  /** Added to now(): the volunteer developer's clock correction, in ms. Default 0. */
  clockOffsetMs?: number
  /** Blockpage fingerprints. Default: none (fingerprints then never match). */
  fingerprints?: FingerprintDb
  /** Stops pulling targets; tests in flight stop their steps. */
  signal?: AbortSignal
  /** Per-phase timeouts (ms); missing fields take DEFAULT_TIMEOUTS. */
  timeouts?: Partial<Timeouts>
  /** Extra resolvers for dns_consistency (UDP, TCP, DoH). Default: the system resolver over TCP. */
  dnsResolvers?: ResolverSpec[]
  /** How long a UDP DNS socket keeps listening after the first reply (injection), ms. Default 500. */
  duplicateWindowMs?: number
  /** Called when a target starts (for progress displays). */
  onStart?: (target: Target) => void
}

const EMPTY_FP: FingerprintDb = { version: 'none', dns: new Map(), http: [] }

/** The resolver the options select. Throws an Error naming the fix when there is none. */
export function resolveResolver(text: string | undefined, resolvConf?: string): ResolverAddress {
  if (text !== undefined) {
    const r = parseResolver(text)
    if (r === null) throw saidError(m => new Error(m), 'resolver.bad', { value: JSON.stringify(text) })
    return r
  }
  const sys = systemResolver(resolvConf)
  if (sys === null) throw saidError(m => new Error(m), 'resolver.none')
  return sys
}

function reportId(startMs: number, testName: string, cc: string, asn: string): string {
  const t = new Date(startMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
  return `${t}_${testName.replace(/_/g, '')}_${cc}_${asn.replace(/^AS/, '')}_n1_${randomBytes(8).toString('hex')}`
}

/**
 * Measures targets, yielding each measurement as it completes (not in input
 * order). Never throws for a target: a test that could not run yields a
 * measurement with an `unknown_failure`. Rejects only when the options are
 * unusable (no resolver).
 */
export async function* measure(targets: AsyncIterable<Target> | Iterable<Target>, opts: EngineOptions = {}): AsyncGenerator<Measurement> {
  const concurrency = Math.max(1, opts.concurrency ?? 8)
  const perHost = Math.max(1, opts.perHostConcurrency ?? 2)
  const resolver = resolveResolver(opts.resolver)
  const now = (): number => (opts.now ?? Date.now)() + (opts.clockOffsetMs ?? 0)
  const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts }
  const ca = trustedCa(opts.caPem)
  const fp = opts.fingerprints ?? EMPTY_FP
  const cc = opts.probeCc ?? 'ZZ'
  const asn = opts.probeAsn ?? 'AS0'
  const runStart = now()
  const reportIds = new Map<string, string>()
  const controller = new AbortController()
  const signal = opts.signal === undefined ? controller.signal : AbortSignal.any([opts.signal, controller.signal])
  // Every step in flight (a connect per address, a query, a request) listens
  // on the run's signal and stops listening when it ends: their number grows
  // with concurrency × addresses, which is not a leak, so no warning at 10.
  setMaxListeners(0, signal)
  const resolvers = opts.dnsResolvers ?? [{ kind: 'tcp', address: resolver }]
  // The list's own names, for the second SNI follow-up (./tests/sni-followup.ts).
  const names = new ListedNames()
  const otherName = (host: string): ReturnType<ListedNames['pick']> => names.pick(host)

  const control = async (req: ControlRequest): Promise<ControlResult> => {
    if (opts.controlUrl == null || opts.controlUrl === '') return { control: null, failure: 'control_unreachable: no control vantage configured' }
    return await queryControl(opts.controlUrl, req, { timeoutMs: timeouts.controlMs, signal, ca })
  }

  const runOne = async (target: Target): Promise<Measurement> => {
    opts.onStart?.(target)
    names.noteListed(target.domain)
    const startedAt = Date.now()
    const startMs = now()
    const mod = testFor(target.test_name)
    const testName = mod?.kind.name ?? target.test_name
    let rid = reportIds.get(testName)
    if (rid === undefined) {
      rid = reportId(runStart, testName, cc, asn)
      reportIds.set(testName, rid)
    }
    let testKeys: Record<string, unknown>
    if (mod === undefined) {
      testKeys = { failure: `unknown_failure: no test for ${target.test_name}` }
    } else {
      const ctx: TestContext = {
        target,
        startedAt,
        resolver,
        resolvers,
        ca,
        timeouts,
        signal,
        control,
        otherName,
        duplicateWindowMs: opts.duplicateWindowMs ?? 500
      }
      try {
        testKeys = await mod.run(ctx)
        names.noteHandshakes(testKeys.tls_handshakes)
      } catch (err) {
        testKeys = { failure: classifyError(err) }
      }
    }
    const doc: Measurement = {
      data_format_version: DATA_FORMAT_VERSION,
      measurement_uid: uuidv7(startMs),
      measurement_start_time: formatOoniTime(startMs),
      test_start_time: formatOoniTime(runStart),
      probe_cc: cc,
      probe_asn: asn,
      probe_network_name: opts.probeNetworkName ?? null,
      probe_ip: SCRUBBED_PROBE_IP,
      probe_id: opts.probeId ?? null,
      probe_region: opts.probeRegion ?? null,
      report_id: rid,
      input: target.url,
      test_name: testName,
      test_version: mod?.kind.version ?? '0.0.0',
      test_runtime: (Date.now() - startedAt) / 1000,
      resolver_ip: resolver.host,
      resolver_asn: 'AS0',
      resolver_network_name: null,
      software_name: SOFTWARE_NAME,
      software_version: SOFTWARE_VERSION,
      annotations: { engine_name: 'blockwatch', category_code: target.category_code, resolver: formatResolver(resolver), fingerprints_version: opts.fingerprints?.version ?? 'none' },
      test_keys: testKeys
    }
    applyVerdict(doc, fp)
    return doc
  }

  // The pump: pull targets while there is a free slot; park a target whose
  // host is busy (a bounded queue, so a list sorted by host cannot stall).
  const iterator =
    Symbol.asyncIterator in targets
      ? (targets as AsyncIterable<Target>)[Symbol.asyncIterator]()
      : (async function* () {
          yield* targets as Iterable<Target>
        })()
  const parked: Target[] = []
  const maxParked = concurrency * 16
  const hostCount = new Map<string, number>()
  const results: Measurement[] = []
  let running = 0
  let exhausted = false
  let pulling = false
  let wake: (() => void) | null = null
  let failure: unknown = null
  const notify = (): void => {
    const w = wake
    wake = null
    w?.()
  }

  const start = (t: Target): void => {
    running++
    hostCount.set(t.domain, (hostCount.get(t.domain) ?? 0) + 1)
    runOne(t)
      .then(
        m => {
          results.push(m)
        },
        err => {
          failure = err
        }
      )
      .finally(() => {
        running--
        const n = (hostCount.get(t.domain) ?? 1) - 1
        if (n === 0) hostCount.delete(t.domain)
        else hostCount.set(t.domain, n)
        void pump()
        notify()
      })
  }
  const hostFree = (t: Target): boolean => (hostCount.get(t.domain) ?? 0) < perHost

  const pump = async (): Promise<void> => {
    if (pulling) return
    pulling = true
    try {
      while (running < concurrency && results.length < concurrency * 2) {
        const i = parked.findIndex(hostFree)
        if (i >= 0) {
          start(parked.splice(i, 1)[0])
          continue
        }
        if (exhausted || signal.aborted || parked.length >= maxParked) break
        const next = await iterator.next()
        if (next.done === true) {
          exhausted = true
          break
        }
        if (hostFree(next.value)) start(next.value)
        else parked.push(next.value)
      }
    } catch (err) {
      failure = err
      exhausted = true
    } finally {
      pulling = false
      notify()
    }
  }

  try {
    void pump()
    for (;;) {
      if (results.length > 0) {
        yield results.shift()!
        void pump()
        continue
      }
      if (failure !== null) throw failure
      // Done when nothing runs, nothing more will be pulled, and nothing is parked
      // (parked targets are dropped once the run is aborted).
      if (running === 0 && !pulling && (exhausted || signal.aborted) && (parked.length === 0 || signal.aborted)) return
      await new Promise<void>(resolve => {
        wake = resolve
      })
    }
  } finally {
    controller.abort()
    await iterator.return?.()
  }
}

/**
 * Computes the verdict of a finished measurement and writes it into its
 * test_keys: blocking, accessible, and the evidence (fingerprints, the
 * failure that decided, a reason label; for web_connectivity also OONI's
 * dns_consistency, body_proportion and the other comparisons).
 */
export function applyVerdict(doc: Measurement, fp: FingerprintDb): void {
  const tk = doc.test_keys ?? {}
  doc.test_keys = tk
  if (doc.test_name === 'web_connectivity') {
    const { verdict, analysis } = judgeWebConnectivity(doc, fp)
    Object.assign(tk, analysis, verdictKeys(verdict))
    return
  }
  const v = verdictFor(doc, fp)
  Object.assign(tk, v === null ? { blocking: null, accessible: null } : verdictKeys(v))
}

function verdictKeys(v: NonNullable<ReturnType<typeof verdictFor>>): Record<string, unknown> {
  return { blocking: v.blocking, accessible: v.accessible, fingerprints: v.fingerprints, verdict_reason: v.reason ?? null, verdict_failure: v.failure ?? null }
}
